/**
 * The OSB request handler, independent of any HTTP server: a request (method, URL, headers, body text) in, a
 * response (status, headers, body text) out. `Router` adapts it to `@effect/platform` (`HttpApp`, `HttpRouter`);
 * `Server` adapts it to `node:http` directly. Steps whose outcome is known at once return `Exit`s, so a catalog
 * request or a refused credential is answered without starting a fiber.
 *
 * @internal
 */
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Exit from "effect/Exit"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import type { BrokerAuthService } from "../BrokerAuth.js"
import { BrokerAuth } from "../BrokerAuth.js"
import type { BrokerLifecycleService } from "../BrokerLifecycle.js"
import { BrokerLifecycle } from "../BrokerLifecycle.js"
import { refused, unavailableIn } from "../BrokerStore.js"
import type { CatalogService } from "../Catalog.js"
import { Catalog } from "../Catalog.js"
import type { BindingResponseBody, FetchBindingBody, ServiceOffering } from "../Model.js"
import {
  BindingResponseBody as BindingResponseBodySchema,
  BindRequestBody,
  FetchBindingBody as FetchBindingBodySchema,
  FetchInstanceBody as FetchInstanceBodySchema,
  ProvisionRequestBody,
  UpdateRequestBody
} from "../Model.js"
import type { OsbError } from "../OsbError.js"
import {
  BadRequest,
  Gone,
  internalErrorResponse,
  isOsbError,
  MaintenanceInfoConflict,
  MethodNotAllowed,
  NotFound,
  PreconditionFailed,
  ServiceUnavailable,
  toErrorResponse,
  UpdateNotSupported
} from "../OsbError.js"
import type { ApiVersion, RequestInfo } from "../RequestInfo.js"
import {
  compareApiVersion,
  formatApiVersion,
  latestApiVersion,
  parseApiVersion,
  parseOriginatingIdentity
} from "../RequestInfo.js"
import type { RequestLogEntry } from "../RequestLog.js"
import { RequestLogSink } from "../RequestLog.js"
import type {
  BindingOperationState,
  BindResult,
  DeleteResult,
  InstanceAnswer,
  InstanceOperationState,
  ProvisionResult,
  ResolvedTarget,
  ServiceBrokerService,
  UpdateResult
} from "../ServiceBroker.js"
import { ServiceBroker } from "../ServiceBroker.js"
import * as Fast from "./fast.js"
import type { ValidateParameters } from "./parameters.js"
import { makeEdgeCheck } from "./parameters.js"
import type { OsbHttpRequest, Query } from "./request.js"
import {
  acceptsIncomplete as parseAcceptsIncomplete,
  bodyDecoder,
  queryValue,
  readJsonObject,
  requiredQueryValue
} from "./request.js"

// -----------------------------------------------------------------------------
// options and errors
// -----------------------------------------------------------------------------

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
   * Default false (decision 5).
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

/**
 * A broker answered something the protocol forbids (e.g. 202 without `accepts_incomplete=true`). A defect.
 *
 * @since 0.1.0
 * @category errors
 */
export class BrokerContractViolation extends Schema.TaggedError<BrokerContractViolation>(
  "effect-osb/BrokerContractViolation"
)("BrokerContractViolation", { operation: Schema.String, reason: Schema.String }) {
  override get message(): string {
    return `${this.operation}: ${this.reason}`
  }
}

// -----------------------------------------------------------------------------
// paths
// -----------------------------------------------------------------------------

/** @internal */
export const routes = {
  catalog: { path: "/v2/catalog", methods: ["GET"] },
  instance: { path: "/v2/service_instances/:instance_id", methods: ["PUT", "GET", "PATCH", "DELETE"] },
  instanceLastOperation: { path: "/v2/service_instances/:instance_id/last_operation", methods: ["GET"] },
  binding: {
    path: "/v2/service_instances/:instance_id/service_bindings/:binding_id",
    methods: ["PUT", "GET", "DELETE"]
  },
  bindingLastOperation: {
    path: "/v2/service_instances/:instance_id/service_bindings/:binding_id/last_operation",
    methods: ["GET"]
  }
} as const

/** @internal */
export type RouteName = keyof typeof routes

/** @internal */
export interface RouteMatch {
  readonly name: RouteName
  /** Raw (still percent-encoded) instance and binding ids. */
  readonly ids: ReadonlyArray<string>
}

/** Matches a path (without query) against the OSB routes. @internal */
export const matchPath = (pathname: string): RouteMatch | undefined => {
  const segments = pathname.split("/")
  // ["", "v2", ...]
  if (segments[0] !== "" || segments[1] !== "v2") return undefined
  for (let i = 2; i < segments.length; i++) {
    if (segments[i]!.length === 0) return undefined
  }
  const count = segments.length - 2
  if (count === 1) return segments[2] === "catalog" ? { name: "catalog", ids: [] } : undefined
  if (segments[2] !== "service_instances") return undefined
  switch (count) {
    case 2:
      return { name: "instance", ids: [segments[3]!] }
    case 3:
      return segments[4] === "last_operation" ? { name: "instanceLastOperation", ids: [segments[3]!] } : undefined
    case 4:
      return segments[4] === "service_bindings" ? { name: "binding", ids: [segments[3]!, segments[5]!] } : undefined
    case 5:
      return segments[4] === "service_bindings" && segments[6] === "last_operation"
        ? { name: "bindingLastOperation", ids: [segments[3]!, segments[5]!] }
        : undefined
    default:
      return undefined
  }
}

/**
 * Classifies a path (without query) as one of the OSB routes, for 405 answers and log lines.
 *
 * @since 0.1.0
 * @category utils
 */
export const classifyPath = (
  pathname: string
): { readonly path: string; readonly methods: ReadonlyArray<string> } | undefined => {
  const match = matchPath(pathname)
  return match === undefined ? undefined : routes[match.name]
}

const emptyQuery: Query = Object.freeze(Object.create(null) as Record<string, string>)

/** Parses a query string; repeated names give arrays. The record has no prototype. @internal */
export const parseQuery = (search: string): Query => {
  if (search.length === 0) return emptyQuery
  const query: Record<string, string | Array<string>> = Object.create(null)
  for (const [name, value] of new URLSearchParams(search)) {
    const known = query[name]
    query[name] = known === undefined ? value : typeof known === "string" ? [known, value] : [...known, value]
  }
  return query
}

const maxIdLength = 10_000
const idNames = ["instance_id", "binding_id"] as const

/**
 * Percent-decodes the path ids (unless a router did): 400 for broken encodings and ids over 10,000 characters.
 */
const decodeIds = (raw: ReadonlyArray<string>, encoded: boolean): Either.Either<ReadonlyArray<string>, BadRequest> => {
  const ids: Array<string> = []
  for (let i = 0; i < raw.length; i++) {
    let id = raw[i]!
    try {
      if (encoded && id.includes("%")) id = decodeURIComponent(id)
    } catch {
      return Either.left(
        new BadRequest({ description: `The ${idNames[i]} in the path is not valid percent-encoding.` })
      )
    }
    if (id.length > maxIdLength) {
      return Either.left(
        new BadRequest({ description: `The ${idNames[i]} in the path is longer than ${maxIdLength} characters.` })
      )
    }
    ids.push(id)
  }
  return Either.right(ids)
}

// -----------------------------------------------------------------------------
// responses
// -----------------------------------------------------------------------------

/**
 * A response as the handler produces it: status, headers (lower-case names) and the body text.
 *
 * @internal
 */
export interface OsbHttpResponse {
  readonly status: number
  readonly headers: Readonly<Record<string, string>>
  readonly body: string | undefined
}

const jsonHeaders: Readonly<Record<string, string>> = Object.freeze({ "content-type": "application/json" })

/** @internal */
export const json = (status: number, body: unknown, headers?: Readonly<Record<string, string>>): OsbHttpResponse => ({
  status,
  // (spreads after a literal key: V8 adds keys to a spread copy slowly)
  headers: headers === undefined ? jsonHeaders : { "content-type": "application/json", ...headers },
  body: JSON.stringify(body)
})

const emptyObject = json(200, {})

/** @internal */
export const renderError = (error: OsbError): OsbHttpResponse => {
  const rendered = toErrorResponse(error)
  return json(rendered.status, rendered.body, rendered.headers)
}

/** @internal */
export const internalError: OsbHttpResponse = json(internalErrorResponse.status, internalErrorResponse.body)

const violation = (operation: string, reason: string) => Exit.die(new BrokerContractViolation({ operation, reason }))

const validOperation = (operation: string | undefined): boolean =>
  operation === undefined || (operation.length > 0 && operation.length <= 10_000)

const instanceBody = (answer: InstanceAnswer, operation?: string): Record<string, unknown> => {
  const body: Record<string, unknown> = {}
  if (answer.dashboardUrl !== undefined) body.dashboard_url = answer.dashboardUrl
  if (operation !== undefined) body.operation = operation
  if (answer.metadata !== undefined) body.metadata = answer.metadata
  return body
}

const accepted = (
  name: string,
  acceptsIncomplete: boolean,
  operation: string | undefined,
  response: OsbHttpResponse
): Exit.Exit<OsbHttpResponse> =>
  !acceptsIncomplete
    ? violation(name, "answered 202 although the request did not have accepts_incomplete=true")
    : validOperation(operation)
    ? Exit.succeed(response)
    : violation(name, "operation must be a non-empty string of at most 10,000 characters")

const renderProvision = (result: ProvisionResult, acceptsIncomplete: boolean): Exit.Exit<OsbHttpResponse> => {
  switch (result._tag) {
    case "Created":
      return Exit.succeed(json(201, instanceBody(result.answer)))
    case "AlreadyExists":
      return Exit.succeed(json(200, instanceBody(result.answer)))
    case "Accepted":
      return accepted(
        "provision",
        acceptsIncomplete,
        result.operation,
        json(202, instanceBody(result.answer, result.operation))
      )
  }
}

const renderUpdate = (result: UpdateResult, acceptsIncomplete: boolean): Exit.Exit<OsbHttpResponse> =>
  result._tag === "Updated"
    ? Exit.succeed(json(200, instanceBody(result.answer)))
    : accepted("update", acceptsIncomplete, result.operation, json(202, instanceBody(result.answer, result.operation)))

const renderDelete = (name: string, result: DeleteResult, acceptsIncomplete: boolean): Exit.Exit<OsbHttpResponse> =>
  result._tag === "Deleted"
    ? Exit.succeed(emptyObject)
    : accepted(
      name,
      acceptsIncomplete,
      result.operation,
      json(202, result.operation === undefined ? {} : { operation: result.operation })
    )

const validateBinding = Schema.validateEither(BindingResponseBodySchema)
const validateFetchBinding = Schema.validateEither(FetchBindingBodySchema)
const validateFetchInstance = Schema.validateEither(FetchInstanceBodySchema)

const requiresViolation = (
  offering: ServiceOffering,
  binding: BindingResponseBody | FetchBindingBody
): string | undefined => {
  const requires = offering.requires ?? []
  if (binding.syslog_drain_url !== undefined && !requires.includes("syslog_drain")) {
    return "syslog_drain_url returned but the offering does not declare requires: syslog_drain (VAL-5)"
  }
  if (binding.route_service_url !== undefined && !requires.includes("route_forwarding")) {
    return "route_service_url returned but the offering does not declare requires: route_forwarding (VAL-5)"
  }
  if (binding.volume_mounts !== undefined && !requires.includes("volume_mount")) {
    return "volume_mounts returned but the offering does not declare requires: volume_mount (VAL-5)"
  }
  return undefined
}

const checkBinding = <A extends BindingResponseBody | FetchBindingBody>(
  name: string,
  offering: Option.Option<ServiceOffering>,
  binding: A,
  validate: (u: A) => Either.Either<unknown, unknown>,
  response: OsbHttpResponse
): Exit.Exit<OsbHttpResponse> => {
  if (Either.isLeft(validate(binding))) return violation(name, "the binding does not match the OSB binding schema")
  if (Option.isNone(offering)) return Exit.succeed(response)
  const problem = requiresViolation(offering.value, binding)
  return problem === undefined ? Exit.succeed(response) : violation(name, problem)
}

const renderBind = (
  result: BindResult,
  acceptsIncomplete: boolean,
  offering: ServiceOffering
): Exit.Exit<OsbHttpResponse> => {
  switch (result._tag) {
    case "Accepted":
      return accepted(
        "bind",
        acceptsIncomplete,
        result.operation,
        json(202, result.operation === undefined ? {} : { operation: result.operation })
      )
    case "Created":
    case "AlreadyExists":
      return checkBinding(
        "bind",
        Option.some(offering),
        result.binding,
        validateBinding,
        json(result._tag === "Created" ? 201 : 200, result.binding)
      )
  }
}

const withDescription = (body: { state: string }, description: string | undefined): Record<string, unknown> =>
  description === undefined || description.length === 0 ? body : { state: body.state, description }

const renderInstanceState = (state: InstanceOperationState, retryAfter: number): OsbHttpResponse => {
  if (state.state === "in progress") {
    return json(200, withDescription({ state: state.state }, state.description), {
      "retry-after": String(state.retryAfterSeconds ?? retryAfter)
    })
  }
  if (state.state === "succeeded" || state.operation === "provision") {
    return json(200, withDescription({ state: state.state }, state.description))
  }
  const body: Record<string, unknown> = withDescription({ state: state.state }, state.description)
  if (state.instanceUsable !== undefined) body.instance_usable = state.instanceUsable
  if (state.operation === "update" && state.updateRepeatable !== undefined) {
    body.update_repeatable = state.updateRepeatable
  }
  return json(200, body)
}

const renderBindingState = (state: BindingOperationState, retryAfter: number): OsbHttpResponse =>
  state.state === "in progress"
    ? json(200, withDescription({ state: state.state }, state.description), {
      "retry-after": String(state.retryAfterSeconds ?? retryAfter)
    })
    : json(200, withDescription({ state: state.state }, state.description))

// -----------------------------------------------------------------------------
// the handler
// -----------------------------------------------------------------------------

const decodeProvision = bodyDecoder(ProvisionRequestBody)
const decodeUpdate = bodyDecoder(UpdateRequestBody)
const decodeBind = bodyDecoder(BindRequestBody)

const missingFeatures = (catalog: CatalogService, broker: ServiceBrokerService): Array<string> => {
  const missing = new Set<string>()
  for (const offering of catalog.services) {
    if (offering.instances_retrievable === true && broker.getInstance === undefined) {
      missing.add(`getInstance (offering ${offering.name} has instances_retrievable: true)`)
    }
    const bindable = offering.plans.some((plan) => plan.bindable ?? offering.bindable)
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
  readonly maxBodyBytes: number
}

interface RouteInput {
  readonly info: RequestInfo
  readonly request: OsbHttpRequest
  readonly query: Query
  readonly ids: ReadonlyArray<string>
}

type Route = (input: RouteInput) => Effect.Effect<OsbHttpResponse, OsbError>

const isMutating = (method: string): boolean => method !== "GET" && method !== "HEAD"

/**
 * Builds the handler. Fails with `BrokerIncomplete` when the catalog promises endpoints the broker lacks.
 *
 * @internal
 */
export const make = (
  services: HandlerServices,
  options: RouterOptions = {}
): Either.Either<Handler, BrokerIncomplete> => {
  const { auth, broker, catalog, lifecycle, sink } = services
  const missing = missingFeatures(catalog, broker)
  if (missing.length > 0) return Either.left(new BrokerIncomplete({ missing }))

  const minimum: Option.Option<ApiVersion> = options.minimumApiVersion === "none"
    ? Option.none()
    : Option.some(
      Option.getOrThrowWith(
        parseApiVersion(options.minimumApiVersion ?? "2.13"),
        () => new Error(`minimumApiVersion must look like 2.13, not ${options.minimumApiVersion}`)
      )
    )
  const supported = Option.match(minimum, {
    onNone: () => "2.x",
    onSome: (v) => `${formatApiVersion(v)} to ${formatApiVersion(latestApiVersion)} (and later 2.x)`
  })
  const maxBodyBytes = options.maxBodyBytes ?? 1024 * 1024
  const retryAfter = options.retryAfterSeconds ?? 2
  const strictIdentity = options.strictOriginatingIdentity ?? false
  const strictDeprecated = options.strictDeprecatedFields ?? false
  const requestLog = options.requestLog ?? true
  const checkParameters = makeEdgeCheck(catalog, options.validateParameters)

  // --- envelope: auth -> version -> draining -> identity; request identity echo, defects, log line -----------

  const checkVersion = (header: string | undefined): Either.Either<ApiVersion, BadRequest | PreconditionFailed> => {
    if (header === undefined) {
      return Either.left(new BadRequest({ description: "The X-Broker-API-Version header is required." }))
    }
    const version = parseApiVersion(header)
    if (Option.isNone(version)) {
      return Either.left(
        new BadRequest({ description: "The X-Broker-API-Version header must look like MAJOR.MINOR, e.g. 2.17." })
      )
    }
    if (version.value.major !== 2 || (Option.isSome(minimum) && compareApiVersion(version.value, minimum.value) < 0)) {
      return Either.left(
        new PreconditionFailed({
          description: `OSB API version ${
            formatApiVersion(version.value)
          } is not supported; this broker supports ${supported}.`
        })
      )
    }
    return Either.right(version.value)
  }

  const requestInfo = (request: OsbHttpRequest): Either.Either<RequestInfo, BadRequest | PreconditionFailed> => {
    const headers = request.headers
    const version = checkVersion(headers["x-broker-api-version"])
    if (Either.isLeft(version)) return Either.left(version.left)
    const originatingIdentity = parseOriginatingIdentity(headers["x-broker-api-originating-identity"])
    if (strictIdentity && originatingIdentity._tag === "Malformed") {
      return Either.left(
        new BadRequest({
          description: `The X-Broker-API-Originating-Identity header is malformed: ${originatingIdentity.reason}.`
        })
      )
    }
    const requestIdentity = headers["x-broker-api-request-identity"]
    return Either.right({
      apiVersion: version.right,
      originatingIdentity,
      requestIdentity: requestIdentity === undefined || requestIdentity.length === 0
        ? Option.none()
        : Option.some(requestIdentity)
    })
  }

  const shuttingDown = new ServiceUnavailable({
    description: "The broker is shutting down; retry the request shortly.",
    retryAfterSeconds: 5
  })

  const notDraining = (method: string): Effect.Effect<void, ServiceUnavailable> => {
    if (Option.isNone(lifecycle) || !isMutating(method)) return Exit.void
    const isDraining = lifecycle.value.isDraining
    if (isDraining !== undefined) return isDraining() ? Exit.fail(shuttingDown) : Exit.void
    return Fast.flatMap(lifecycle.value.draining, (draining) => (draining ? Exit.fail(shuttingDown) : Exit.void))
  }

  const storeUnavailable = renderError(
    new ServiceUnavailable({
      description: "The broker's store is unavailable right now; retry the request shortly.",
      retryAfterSeconds: retryAfter
    })
  )

  const recover = (cause: Cause.Cause<OsbError>): Effect.Effect<OsbHttpResponse> => {
    const failure = Cause.failureOption(cause)
    if (Option.isSome(failure) && isOsbError(failure.value)) return Exit.succeed(renderError(failure.value))
    if (Cause.isInterruptedOnly(cause)) return Exit.failCause(cause as Cause.Cause<never>)
    // the store cannot be reached (a failure or, from the managed engine, a defect): 503, counted by the store's
    // outage log line instead of a stack trace per request
    const unavailable = unavailableIn(cause)
    if (Option.isSome(unavailable)) {
      refused(unavailable.value)
      return Exit.succeed(storeUnavailable)
    }
    return Effect.as(Effect.logError("unexpected failure while handling an OSB request", cause), internalError)
  }

  const finish = (
    request: OsbHttpRequest,
    route: string,
    started: number,
    handled: Effect.Effect<OsbHttpResponse>
  ): Effect.Effect<OsbHttpResponse> => {
    const requestIdentity = request.headers["x-broker-api-request-identity"]
    const echoed = requestIdentity === undefined
      ? handled
      : Fast.map(handled, (response) => ({
        status: response.status,
        headers: { "x-broker-api-request-identity": requestIdentity, ...response.headers },
        body: response.body
      }))
    if (!requestLog) return echoed
    const entryOf = (response: OsbHttpResponse): RequestLogEntry => ({
      method: request.method,
      route,
      status: response.status,
      ms: Math.round((performance.now() - started) * 10) / 10,
      requestIdentity: requestIdentity ?? "",
      address: request.remoteAddress ?? ""
    })
    if (Option.isSome(sink)) {
      const write = sink.value
      return Fast.map(echoed, (response) => {
        write(entryOf(response))
        return response
      })
    }
    return Fast.flatMap(echoed, (response) => {
      const entry = entryOf(response)
      return Effect.as(
        Effect.annotateLogs(Effect.logInfo("osb request"), {
          method: entry.method,
          route: entry.route,
          status: entry.status,
          ms: entry.ms,
          request_identity: entry.requestIdentity
        }),
        response
      )
    })
  }

  /** Runs the envelope around a step that needs the decoded request info. */
  const envelope = (
    request: OsbHttpRequest,
    route: string,
    inner: (info: RequestInfo) => Effect.Effect<OsbHttpResponse, OsbError>
  ): Effect.Effect<OsbHttpResponse> => {
    const started = requestLog ? performance.now() : 0
    const handled = Fast.catchAllCause(
      Fast.flatMap(auth.authenticate(request), () => {
        const info = requestInfo(request)
        if (Either.isLeft(info)) return Exit.fail(info.left)
        return Fast.flatMap(notDraining(request.method), () => inner(info.right))
      }),
      recover
    )
    return finish(request, route, started, handled)
  }

  // --- per-route helpers ------------------------------------------------------------------------------------

  const resolve = (serviceId: string, planId: string): Either.Either<ResolvedTarget, BadRequest> => {
    const offering = catalog.offering(serviceId)
    if (Option.isNone(offering)) {
      return Either.left(new BadRequest({ description: `service_id "${serviceId}" is not in the catalog.` }))
    }
    const plan = catalog.plan(planId)
    if (Option.isNone(plan)) {
      return Either.left(new BadRequest({ description: `plan_id "${planId}" is not in the catalog.` }))
    }
    if (plan.value.offering.id !== serviceId) {
      return Either.left(
        new BadRequest({ description: `plan_id "${planId}" does not belong to service_id "${serviceId}".` })
      )
    }
    return Either.right(plan.value)
  }

  interface Hints {
    readonly offering: Option.Option<ServiceOffering>
    readonly plan: Option.Option<ResolvedTarget>
  }
  const noHints: Hints = { offering: Option.none(), plan: Option.none() }

  const resolveHints = (query: Query): Either.Either<Hints, BadRequest> => {
    const serviceId = queryValue(query, "service_id")
    if (Either.isLeft(serviceId)) return Either.left(serviceId.left)
    const planId = queryValue(query, "plan_id")
    if (Either.isLeft(planId)) return Either.left(planId.left)
    const s = serviceId.right
    const p = planId.right
    if (Option.isSome(s) && Option.isSome(p)) {
      return Either.map(resolve(s.value, p.value), (target) => ({
        offering: Option.some(target.offering),
        plan: Option.some(target)
      }))
    }
    if (Option.isSome(s)) {
      const offering = catalog.offering(s.value)
      return Option.isNone(offering)
        ? Either.left(new BadRequest({ description: `service_id "${s.value}" is not in the catalog.` }))
        : Either.right({ offering, plan: Option.none() })
    }
    if (Option.isSome(p)) {
      const plan = catalog.plan(p.value)
      return Option.isNone(plan)
        ? Either.left(new BadRequest({ description: `plan_id "${p.value}" is not in the catalog.` }))
        : Either.right({ offering: Option.some(plan.value.offering), plan })
    }
    return Either.right(noHints)
  }

  const requiredTarget = (query: Query): Either.Either<ResolvedTarget, BadRequest> => {
    const serviceId = requiredQueryValue(query, "service_id")
    if (Either.isLeft(serviceId)) return Either.left(serviceId.left)
    const planId = requiredQueryValue(query, "plan_id")
    if (Either.isLeft(planId)) return Either.left(planId.left)
    return resolve(serviceId.right, planId.right)
  }

  const maintenanceConflict = (
    requested: { readonly version: string } | undefined,
    target: ResolvedTarget
  ): MaintenanceInfoConflict | undefined => {
    if (requested === undefined) return undefined
    const current = target.plan.maintenance_info
    if (current === undefined) {
      return new MaintenanceInfoConflict({
        description:
          `The plan ${target.plan.name} has no maintenance_info, but the request carries version ${requested.version}.`
      })
    }
    return current.version === requested.version ? undefined : new MaintenanceInfoConflict({
      description:
        `The requested maintenance_info.version ${requested.version} does not match the plan's version ${current.version}.`
    })
  }

  const operationQuery = (query: Query): Either.Either<Option.Option<string>, BadRequest> => {
    const value = query["operation"]
    if (value === undefined || value === "") return Either.right(Option.none())
    if (typeof value !== "string") {
      return Either.left(new BadRequest({ description: "The query parameter operation must be given at most once." }))
    }
    return Either.right(Option.some(value))
  }

  const readBody = <A>(request: OsbHttpRequest, decode: (u: unknown) => Either.Either<A, BadRequest>) =>
    Fast.flatMap(readJsonObject(request, maxBodyBytes), (u) => Fast.fromEither(decode(u)))

  const id = (input: RouteInput, index: number): string => input.ids[index] ?? ""

  // --- E1 catalog ------------------------------------------------------------------------------------------

  const catalogResponse: OsbHttpResponse = {
    status: 200,
    headers: { "content-type": "application/json", etag: catalog.etag },
    body: catalog.body
  }
  const notModified: OsbHttpResponse = { status: 304, headers: { etag: catalog.etag }, body: undefined }
  const getCatalog: Route = ({ request }) => {
    const ifNoneMatch = request.headers["if-none-match"]
    return Exit.succeed(
      ifNoneMatch !== undefined && ifNoneMatch.split(",").some((tag) => {
          const t = tag.trim()
          return t === catalog.etag || t === `W/${catalog.etag}` || t === "*"
        })
        ? notModified
        : catalogResponse
    )
  }

  // --- E2 provision ----------------------------------------------------------------------------------------

  const provision: Route = (input) => {
    const accepts = parseAcceptsIncomplete(input.query)
    if (Either.isLeft(accepts)) return Exit.fail(accepts.left)
    return Fast.flatMap(readBody(input.request, decodeProvision), (body) => {
      const target = resolve(body.service_id, body.plan_id)
      if (Either.isLeft(target)) return Exit.fail(target.left)
      const cloudFoundry = body.context === undefined || body.context.platform === "cloudfoundry"
      if (
        (cloudFoundry || strictDeprecated) && (body.organization_guid === undefined || body.space_guid === undefined)
      ) {
        return Exit.fail(
          new BadRequest({
            description: "organization_guid and space_guid are required" +
              (strictDeprecated ? "." : " when the request has no context or its platform is cloudfoundry.")
          })
        )
      }
      const conflict = maintenanceConflict(body.maintenance_info, target.right)
      if (conflict !== undefined) return Exit.fail(conflict)
      const checked = checkParameters(body.plan_id, "provision", body)
      if (Either.isLeft(checked)) return Exit.fail(checked.left)
      return Fast.flatMap(
        broker.provision({
          instanceId: id(input, 0),
          acceptsIncomplete: accepts.right,
          body: checked.right,
          ...input.info,
          ...target.right
        }),
        (result) => renderProvision(result, accepts.right)
      )
    })
  }

  // --- E3 fetch instance -----------------------------------------------------------------------------------

  const getInstance: Route = (input) => {
    const hints = resolveHints(input.query)
    if (Either.isLeft(hints)) return Exit.fail(hints.left)
    if (broker.getInstance === undefined) {
      return Exit.fail(new NotFound({ description: "This broker does not support fetching service instances." }))
    }
    return Fast.flatMap(
      broker.getInstance({ instanceId: id(input, 0), ...input.info, ...hints.right }),
      (body) =>
        Either.isLeft(validateFetchInstance(body))
          ? violation("getInstance", "the instance does not match the OSB fetch-instance schema")
          : Exit.succeed(json(200, body))
    )
  }

  // --- E4 update -------------------------------------------------------------------------------------------

  const update: Route = (input) => {
    const accepts = parseAcceptsIncomplete(input.query)
    if (Either.isLeft(accepts)) return Exit.fail(accepts.left)
    return Fast.flatMap(readBody(input.request, decodeUpdate), (body) => {
      const offering = catalog.offering(body.service_id)
      if (Option.isNone(offering)) {
        return Exit.fail(new BadRequest({ description: `service_id "${body.service_id}" is not in the catalog.` }))
      }
      let plan = Option.none<ResolvedTarget>()
      if (body.plan_id !== undefined) {
        const resolved = resolve(body.service_id, body.plan_id)
        if (Either.isLeft(resolved)) return Exit.fail(resolved.left)
        plan = Option.some(resolved.right)
      }
      const previousPlanId = body.previous_values?.plan_id
      const previousPlan = previousPlanId === undefined
        ? Option.none<ResolvedTarget>()
        : Option.filter(catalog.plan(previousPlanId), (p) => p.offering.id === body.service_id)
      if (Option.isSome(plan) && Option.isSome(previousPlan) && plan.value.plan.id !== previousPlan.value.plan.id) {
        const from = previousPlan.value
        const to = plan.value
        if (!from.effective.planUpdateable || !to.effective.planUpdateable) {
          const which = !from.effective.planUpdateable ? from.plan.name : to.plan.name
          return Exit.fail(
            new UpdateNotSupported({
              description: `Plan changes are not supported for plan ${which} (plan_updateable is false).`,
              updateRepeatable: false
            })
          )
        }
      }
      const maintenanceTarget = Option.orElse(plan, () => previousPlan)
      let checked: Either.Either<typeof body, BadRequest> = Either.right(body)
      if (Option.isSome(maintenanceTarget)) {
        const conflict = maintenanceConflict(body.maintenance_info, maintenanceTarget.value)
        if (conflict !== undefined) return Exit.fail(conflict)
        checked = checkParameters(maintenanceTarget.value.plan.id, "update", body)
      }
      if (broker.update === undefined) {
        return Exit.fail(
          new UpdateNotSupported({ description: "This broker does not support updating service instances." })
        )
      }
      if (Either.isLeft(checked)) return Exit.fail(checked.left)
      return Fast.flatMap(
        broker.update({
          instanceId: id(input, 0),
          acceptsIncomplete: accepts.right,
          body: checked.right,
          offering: offering.value,
          plan,
          previousPlan,
          ...input.info
        }),
        (result) => renderUpdate(result, accepts.right)
      )
    })
  }

  // --- E5 deprovision --------------------------------------------------------------------------------------

  const deprovision: Route = (input) => {
    const accepts = parseAcceptsIncomplete(input.query)
    if (Either.isLeft(accepts)) return Exit.fail(accepts.left)
    const target = requiredTarget(input.query)
    if (Either.isLeft(target)) return Exit.fail(target.left)
    return Fast.flatMap(
      broker.deprovision({
        instanceId: id(input, 0),
        acceptsIncomplete: accepts.right,
        ...input.info,
        ...target.right
      }),
      (result) => renderDelete("deprovision", result, accepts.right)
    )
  }

  // --- E6 last operation -----------------------------------------------------------------------------------

  const lastOperation: Route = (input) => {
    const hints = resolveHints(input.query)
    if (Either.isLeft(hints)) return Exit.fail(hints.left)
    const operation = operationQuery(input.query)
    if (Either.isLeft(operation)) return Exit.fail(operation.left)
    if (broker.lastOperation === undefined) {
      return Exit.fail(new NotFound({ description: "This broker has no asynchronous instance operations." }))
    }
    return Fast.map(
      broker.lastOperation({ instanceId: id(input, 0), operation: operation.right, ...input.info, ...hints.right }),
      (state) => renderInstanceState(state, retryAfter)
    )
  }

  // --- E7 bind ---------------------------------------------------------------------------------------------

  const bind: Route = (input) => {
    const accepts = parseAcceptsIncomplete(input.query)
    if (Either.isLeft(accepts)) return Exit.fail(accepts.left)
    return Fast.flatMap(readBody(input.request, decodeBind), (body) => {
      const resolved = resolve(body.service_id, body.plan_id)
      if (Either.isLeft(resolved)) return Exit.fail(resolved.left)
      const target = resolved.right
      const notBindable = () =>
        Exit.fail(new BadRequest({ description: `The plan ${target.plan.name} is not bindable.` }))
      if (!target.effective.bindable) return notBindable()
      if (body.predecessor_binding_id !== undefined && !target.effective.bindingRotatable) {
        return Exit.fail(
          new BadRequest({
            description: `The plan ${target.plan.name} does not support binding rotation (binding_rotatable is false).`
          })
        )
      }
      if (broker.bind === undefined) return notBindable()
      const checked = checkParameters(body.plan_id, "bind", body)
      if (Either.isLeft(checked)) return Exit.fail(checked.left)
      return Fast.flatMap(
        broker.bind({
          instanceId: id(input, 0),
          bindingId: id(input, 1),
          acceptsIncomplete: accepts.right,
          body: checked.right,
          ...input.info,
          ...target
        }),
        (result) => renderBind(result, accepts.right, target.offering)
      )
    })
  }

  // --- E8 fetch binding ------------------------------------------------------------------------------------

  const getBinding: Route = (input) => {
    const hints = resolveHints(input.query)
    if (Either.isLeft(hints)) return Exit.fail(hints.left)
    if (broker.getBinding === undefined) {
      return Exit.fail(new NotFound({ description: "This broker does not support fetching service bindings." }))
    }
    return Fast.flatMap(
      broker.getBinding({ instanceId: id(input, 0), bindingId: id(input, 1), ...input.info, ...hints.right }),
      (body) => checkBinding("getBinding", hints.right.offering, body, validateFetchBinding, json(200, body))
    )
  }

  // --- E9 unbind -------------------------------------------------------------------------------------------

  const unbind: Route = (input) => {
    const accepts = parseAcceptsIncomplete(input.query)
    if (Either.isLeft(accepts)) return Exit.fail(accepts.left)
    const target = requiredTarget(input.query)
    if (Either.isLeft(target)) return Exit.fail(target.left)
    if (broker.unbind === undefined) return Exit.fail(new Gone())
    return Fast.flatMap(
      broker.unbind({
        instanceId: id(input, 0),
        bindingId: id(input, 1),
        acceptsIncomplete: accepts.right,
        ...input.info,
        ...target.right
      }),
      (result) => renderDelete("unbind", result, accepts.right)
    )
  }

  // --- E10 binding last operation --------------------------------------------------------------------------

  const lastBindingOperation: Route = (input) => {
    const hints = resolveHints(input.query)
    if (Either.isLeft(hints)) return Exit.fail(hints.left)
    const operation = operationQuery(input.query)
    if (Either.isLeft(operation)) return Exit.fail(operation.left)
    if (broker.lastBindingOperation === undefined) {
      return Exit.fail(new NotFound({ description: "This broker has no asynchronous binding operations." }))
    }
    return Fast.map(
      broker.lastBindingOperation({
        instanceId: id(input, 0),
        bindingId: id(input, 1),
        operation: operation.right,
        ...input.info,
        ...hints.right
      }),
      (state) => renderBindingState(state, retryAfter)
    )
  }

  // --- dispatch --------------------------------------------------------------------------------------------

  const table: Record<RouteName, Readonly<Record<string, Route>>> = {
    catalog: { GET: getCatalog },
    instance: { PUT: provision, GET: getInstance, PATCH: update, DELETE: deprovision },
    instanceLastOperation: { GET: lastOperation },
    binding: { PUT: bind, GET: getBinding, DELETE: unbind },
    bindingLastOperation: { GET: lastBindingOperation }
  }

  /** A handler's failures that are not OSB errors are the broker's bugs: defects. */
  const guarded = (effect: Effect.Effect<OsbHttpResponse, OsbError>): Effect.Effect<OsbHttpResponse, OsbError> =>
    Fast.catchAll(effect, (error) =>
      isOsbError(error)
        ? Exit.fail(error)
        : violation("handler", "failed with an error that is not an OSB error"))

  const runRoute = (
    name: RouteName,
    ids: ReadonlyArray<string>,
    encoded: boolean,
    request: OsbHttpRequest,
    route: Route
  ) =>
    envelope(request, routes[name].path, (info) => {
      const decoded = decodeIds(ids, encoded)
      if (Either.isLeft(decoded)) return Exit.fail(decoded.left)
      const queryAt = request.url.indexOf("?")
      const query = queryAt < 0 ? emptyQuery : parseQuery(request.url.slice(queryAt + 1))
      return guarded(route({ info, request, query, ids: decoded.right }))
    })

  const dispatch = (name: RouteName, ids: ReadonlyArray<string>, encoded: boolean, request: OsbHttpRequest) => {
    const route = table[name][request.method]
    return route === undefined
      ? envelope(request, routes[name].path, () => Exit.fail(new MethodNotAllowed({ allowed: routes[name].methods })))
      : runRoute(name, ids, encoded, request, route)
  }

  const handle = (request: OsbHttpRequest): Effect.Effect<OsbHttpResponse> => {
    const queryAt = request.url.indexOf("?")
    const match = matchPath(queryAt < 0 ? request.url : request.url.slice(0, queryAt))
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

  return Either.right({
    handle,
    handleRoute: (name, ids, request) => dispatch(name, ids, false, request),
    maxBodyBytes
  })
}

/**
 * Builds the handler from the services in the context (`BrokerLifecycle` and `RequestLogSink` when present).
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
      sink: Effect.serviceOption(RequestLogSink)
    }),
    (services) => Either.match(make(services, options), { onLeft: Effect.fail, onRight: Effect.succeed })
  )
