/**
 * The OSB request handler, independent of any HTTP server: a request (method, URL, headers, body text) in, a
 * response (status, headers, body text) out. `Router` adapts it to `@effect/platform` (`HttpApp`, `HttpRouter`);
 * `Server` adapts it to `node:http` directly. Steps whose outcome is known at once return `Exit`s, so a catalog
 * request or a refused credential is answered without starting a fiber.
 *
 * The handler is assembled here from its parts: path matching (`routing.ts`), the envelope of every request
 * (`envelope.ts`), the ten endpoints (`endpoints.ts`), catalog lookups (`targets.ts`) and rendering
 * (`render.ts`). Which endpoint answers which method and path comes from `Protocol.endpoints`.
 *
 * @internal
 */
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Exit from "effect/Exit"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import type { BrokerAuthService } from "../BrokerAuth.js"
import { BrokerAuth } from "../BrokerAuth.js"
import type { BrokerLifecycleService } from "../BrokerLifecycle.js"
import { BrokerLifecycle } from "../BrokerLifecycle.js"
import type { CatalogService } from "../Catalog.js"
import { Catalog, effectivePlan } from "../Catalog.js"
import type { OsbError } from "../OsbError.js"
import { isOsbError, MethodNotAllowed, NotFound } from "../OsbError.js"
import type { RouteName } from "../Protocol.js"
import { endpointNames, endpoints, routeMethods, routes } from "../Protocol.js"
import type { RequestLogEntry } from "../RequestLog.js"
import { RequestLogSink } from "../RequestLog.js"
import type { ServiceBrokerService } from "../ServiceBroker.js"
import { ServiceBroker } from "../ServiceBroker.js"
import { eagerOf } from "./eager.js"
import type { EndpointContext, Route } from "./endpoints.js"
import { endpointRoute } from "./endpoints.js"
import type { Envelope, Gate } from "./envelope.js"
import { makeEnvelope, makeGate, minimumVersion } from "./envelope.js"
import * as Fast from "./fast.js"
import { TracingObserver } from "./observe.js"
import type { ValidateParameters } from "./parameters.js"
import { makeEdgeCheck } from "./parameters.js"
import type { OsbHttpResponse } from "./render.js"
import { violation } from "./render.js"
import type { OsbHttpRequest } from "./request.js"
import { decodeIds, matchPath, queryOf } from "./routing.js"
import { makeTargets } from "./targets.js"

export type { RouteName } from "../Protocol.js"
export type { OsbHttpResponse } from "./render.js"
export { BrokerContractViolation, internalError, json, renderError } from "./render.js"
export { classifyPath, matchPath, parseQuery } from "./routing.js"

/**
 * Router options. Every field has a documented default.
 *
 * @since 0.1.0
 * @category models
 */
export interface RouterOptions {
  /** Oldest `X-Broker-API-Version` accepted (412 below it); `"none"` accepts any 2.x. Default `"2.13"`. */
  readonly minimumApiVersion?: string | "none"
  /** Largest accepted request body in bytes (413 above it). Default 1 MiB. */
  readonly maxBodyBytes?: number
  /** `Retry-After` seconds on an `in progress` last_operation. Default 2. */
  readonly retryAfterSeconds?: number
  /** Answer 400 to a malformed `X-Broker-API-Originating-Identity` instead of passing it on. Default false. */
  readonly strictOriginatingIdentity?: boolean
  /**
   * Require `organization_guid`/`space_guid` on provision even when `context.platform` is not `cloudfoundry`.
   * Default false (LIB-5).
   */
  readonly strictDeprecatedFields?: boolean
  /** One log line per request (method, route, status, ms, request identity). Default true. */
  readonly requestLog?: boolean
  /**
   * Validate request `parameters` against the JSON schema the plan declares for the operation (provision, update:
   * the target plan, bind) before the broker runs; a violation is a 400 naming each failing path. `false` turns it
   * off, a predicate turns it on for the plans it accepts. Default true.
   */
  readonly validateParameters?: ValidateParameters
}

/**
 * The router could not be built: the catalog promises an endpoint the broker does not implement.
 *
 * @since 0.1.0
 * @category errors
 */
export class BrokerIncomplete extends Schema.TaggedError<BrokerIncomplete>("effect-osb/BrokerIncomplete")(
  "BrokerIncomplete",
  { missing: Schema.Array(Schema.String) }
) {
  override get message(): string {
    return `The broker does not implement what its catalog promises: ${this.missing.join("; ")}`
  }
}

/** What the catalog promises that the broker lacks (LIB-21). */
const missingFeatures = (catalog: CatalogService, broker: ServiceBrokerService): Array<string> => {
  const missing = new Set<string>()
  for (const offering of catalog.services) {
    if (offering.instances_retrievable === true && broker.getInstance === undefined) {
      missing.add(`getInstance (offering ${offering.name} has instances_retrievable: true)`)
    }
    const bindable = offering.plans.some((plan) => effectivePlan(offering, plan).bindable)
    if (bindable && (broker.bind === undefined || broker.unbind === undefined)) {
      missing.add(`bind and unbind (offering ${offering.name} has bindable plans)`)
    }
    if (bindable && offering.bindings_retrievable === true && broker.getBinding === undefined) {
      missing.add(`getBinding (offering ${offering.name} has bindings_retrievable: true)`)
    }
  }
  return [...missing]
}

/**
 * What the handler is built from.
 *
 * @internal
 */
export interface HandlerServices {
  readonly catalog: CatalogService
  readonly broker: ServiceBrokerService
  readonly auth: BrokerAuthService
  readonly lifecycle: Option.Option<BrokerLifecycleService>
  readonly sink: Option.Option<(entry: RequestLogEntry) => void>
  /** Tracing is on (`Tracing` layers): request log lines carry trace and span ids. */
  readonly traced?: boolean
}

/**
 * The built handler. Its effects never fail: every error is rendered. They may be interrupted.
 *
 * @internal
 */
export interface Handler {
  /** The whole app: route by path, JSON 404/405 for anything else. */
  readonly handle: (request: OsbHttpRequest) => Effect.Effect<OsbHttpResponse>
  /** One known route, with its ids as a router that matched the path itself decoded them. */
  readonly handleRoute: (
    name: RouteName,
    ids: ReadonlyArray<string>,
    request: OsbHttpRequest
  ) => Effect.Effect<OsbHttpResponse>
  /**
   * Whether the request's body is worth reading now: `true` when its route and method exist and it passes the
   * gate (auth, version, draining), so `handle` will read it; `false` when `handle` answers without it. An
   * effect that is not an `Exit` (an asynchronous authenticator) says: ask `handle` with a lazy body instead. A
   * server adapter uses it to read a body with plain stream events and still answer in the request callback.
   */
  readonly admit: (request: OsbHttpRequest) => Effect.Effect<boolean>
  readonly maxBodyBytes: number
}

/** The handlers of each route by method, from the endpoint table. */
const dispatchTable = (context: EndpointContext): { readonly [K in RouteName]: Readonly<Record<string, Route>> } => {
  const table: Record<RouteName, Record<string, Route>> = {
    catalog: {},
    instance: {},
    instanceLastOperation: {},
    binding: {},
    bindingLastOperation: {}
  }
  for (const name of endpointNames) {
    table[endpoints[name].route][endpoints[name].method] = endpointRoute(name, context)
  }
  return table
}

/** A handler's failures that are not OSB errors are the broker's bugs: defects. */
const guarded = (effect: Effect.Effect<OsbHttpResponse, OsbError>): Effect.Effect<OsbHttpResponse, OsbError> =>
  Fast.catchAll(effect, (error) =>
    isOsbError(error)
      ? Exit.fail(error)
      : violation("handler", "failed with an error that is not an OSB error"))

/** The path part of a request URL. */
const pathOf = (url: string): string => {
  const queryAt = url.indexOf("?")
  return queryAt < 0 ? url : url.slice(0, queryAt)
}

/** Whether a request reaches a route's step (see `Handler.admit`); its failures are left to `handle` to render. */
const admission = (gate: Gate, table: ReturnType<typeof dispatchTable>) => {
  const no: Effect.Effect<boolean> = Exit.succeed(false)
  const yes: Effect.Effect<boolean> = Exit.succeed(true)
  return (request: OsbHttpRequest): Effect.Effect<boolean> => {
    const match = matchPath(pathOf(request.url))
    if (match === undefined || table[match.name][request.method] === undefined) return no
    const passed = gate(request)
    if (!Exit.isExit(passed)) return Effect.orElseSucceed(Effect.as(passed, true), () => false)
    return Exit.isSuccess(passed as Exit.Exit<unknown, unknown>) ? yes : no
  }
}

/** Routes a request: the route's handler for its method inside the envelope, 405 or 404 otherwise. */
const dispatcher = (envelope: Envelope, table: ReturnType<typeof dispatchTable>) => {
  const runRoute = (
    name: RouteName,
    ids: ReadonlyArray<string>,
    encoded: boolean,
    request: OsbHttpRequest,
    route: Route
  ) =>
    envelope(request, routes[name], (info) => {
      const decoded = decodeIds(ids, encoded)
      if (Either.isLeft(decoded)) return Exit.fail(decoded.left)
      return guarded(route({ info, request, query: queryOf(request.url), ids: decoded.right }))
    })

  const dispatch = (name: RouteName, ids: ReadonlyArray<string>, encoded: boolean, request: OsbHttpRequest) => {
    const route = table[name][request.method]
    return route === undefined
      ? envelope(request, routes[name], () => Exit.fail(new MethodNotAllowed({ allowed: routeMethods[name] })))
      : runRoute(name, ids, encoded, request, route)
  }

  const handle = (request: OsbHttpRequest): Effect.Effect<OsbHttpResponse> => {
    const match = matchPath(pathOf(request.url))
    if (match === undefined) {
      return envelope(
        request,
        "(unknown)",
        () =>
          Exit.fail(new NotFound({ description: `No OSB endpoint at ${request.method} ${request.url.slice(0, 200)}.` }))
      )
    }
    return dispatch(match.name, match.ids, true, request)
  }

  return {
    handle,
    handleRoute: (name: RouteName, ids: ReadonlyArray<string>, request: OsbHttpRequest) =>
      dispatch(name, ids, false, request)
  }
}

/**
 * Builds the handler. Fails with `BrokerIncomplete` when the catalog promises endpoints the broker lacks.
 *
 * @internal
 */
export const make = (
  services: HandlerServices,
  options: RouterOptions = {}
): Either.Either<Handler, BrokerIncomplete> => {
  const { auth, broker, catalog, lifecycle, sink, traced } = services
  const missing = missingFeatures(catalog, broker)
  if (missing.length > 0) return Either.left(new BrokerIncomplete({ missing }))
  const maxBodyBytes = options.maxBodyBytes ?? 1024 * 1024
  const retryAfter = options.retryAfterSeconds ?? 2
  const envelopeOptions = {
    auth,
    lifecycle,
    sink,
    minimum: minimumVersion(options.minimumApiVersion),
    strictIdentity: options.strictOriginatingIdentity ?? false,
    requestLog: options.requestLog ?? true,
    retryAfter,
    traced: traced === true
  }
  const gate = makeGate(envelopeOptions)
  const envelope = makeEnvelope(envelopeOptions, gate)
  const table = dispatchTable({
    catalog,
    // called once per request, its effect run once: the broker's eager variant may answer without a fiber
    broker: eagerOf(broker),
    targets: makeTargets(catalog),
    maxBodyBytes,
    retryAfter,
    strictDeprecated: options.strictDeprecatedFields ?? false,
    checkParameters: makeEdgeCheck(catalog, options.validateParameters)
  })
  return Either.right({ ...dispatcher(envelope, table), admit: admission(gate, table), maxBodyBytes })
}

/**
 * Builds the handler from the services in the context (`BrokerLifecycle`, `RequestLogSink` and the tracing
 * observer when present).
 *
 * @internal
 */
export const makeHandler = (
  options: RouterOptions = {}
): Effect.Effect<Handler, BrokerIncomplete, Catalog | ServiceBroker | BrokerAuth> =>
  Effect.flatMap(
    Effect.all({
      catalog: Catalog,
      broker: ServiceBroker,
      auth: BrokerAuth,
      lifecycle: Effect.serviceOption(BrokerLifecycle),
      sink: Effect.serviceOption(RequestLogSink),
      traced: Effect.map(Effect.serviceOption(TracingObserver), Option.isSome)
    }),
    (services) => Either.match(make(services, options), { onLeft: Effect.fail, onRight: Effect.succeed })
  )
