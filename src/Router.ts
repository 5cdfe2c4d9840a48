/**
 * The HTTP edge: an `HttpRouter` with the ten OSB endpoints, built from the `Catalog`, `ServiceBroker` and
 * `BrokerAuth` services. It authenticates, checks the version header, decodes and checks every request, calls
 * the broker and renders its typed answer or error through the one error table.
 *
 * @since 0.1.0
 */
import * as HttpApp from "@effect/platform/HttpApp"
import * as HttpRouter from "@effect/platform/HttpRouter"
import * as HttpServer from "@effect/platform/HttpServer"
import * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import * as Cause from "effect/Cause"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import { BrokerAuth } from "./BrokerAuth.js"
import { BrokerLifecycle } from "./BrokerLifecycle.js"
import { Catalog } from "./Catalog.js"
import type { CatalogService } from "./Catalog.js"
import {
  acceptsIncomplete as parseAcceptsIncomplete,
  bodyDecoder,
  type Query,
  queryValue,
  readJsonObject,
  requiredQueryValue
} from "./internal/request.js"
import type { BindingResponseBody, ErrorBody, FetchBindingBody, ServiceOffering } from "./Model.js"
import {
  BindingResponseBody as BindingResponseBodySchema,
  BindRequestBody,
  FetchBindingBody as FetchBindingBodySchema,
  FetchInstanceBody as FetchInstanceBodySchema,
  ProvisionRequestBody,
  UpdateRequestBody
} from "./Model.js"
import type { OsbError } from "./OsbError.js"
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
} from "./OsbError.js"
import type { ApiVersion, RequestInfo } from "./RequestInfo.js"
import {
  compareApiVersion,
  formatApiVersion,
  latestApiVersion,
  parseApiVersion,
  parseOriginatingIdentity
} from "./RequestInfo.js"
import { RequestLogSink } from "./RequestLog.js"
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
} from "./ServiceBroker.js"
import { ServiceBroker } from "./ServiceBroker.js"

// -----------------------------------------------------------------------------
// options
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
 * The built router.
 *
 * @since 0.1.0
 * @category models
 */
export interface OsbRouter {
  /** The ten endpoints, each wrapped with auth, version and identity handling: mount it in your own app. */
  readonly router: HttpRouter.HttpRouter<never, never>
  /** A complete app: the router plus JSON 404/405 answers for other paths and methods. */
  readonly app: HttpApp.Default<never, never>
}

// -----------------------------------------------------------------------------
// paths
// -----------------------------------------------------------------------------

const routes = {
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

/**
 * Classifies a path (without query) as one of the OSB routes, for 405 answers and log lines.
 *
 * @since 0.1.0
 * @category utils
 */
export const classifyPath = (
  pathname: string
): { readonly path: string; readonly methods: ReadonlyArray<string> } | undefined => {
  const segments = pathname.split("/")
  // ["", "v2", ...]
  if (segments[0] !== "" || segments[1] !== "v2") return undefined
  const rest = segments.slice(2)
  if (rest.some((segment) => segment.length === 0)) return undefined
  if (rest.length === 1 && rest[0] === "catalog") return routes.catalog
  if (rest[0] !== "service_instances") return undefined
  switch (rest.length) {
    case 2:
      return routes.instance
    case 3:
      return rest[2] === "last_operation" ? routes.instanceLastOperation : undefined
    case 4:
      return rest[2] === "service_bindings" ? routes.binding : undefined
    case 5:
      return rest[2] === "service_bindings" && rest[4] === "last_operation" ? routes.bindingLastOperation : undefined
    default:
      return undefined
  }
}

// -----------------------------------------------------------------------------
// rendering
// -----------------------------------------------------------------------------

const jsonHeaders = { "content-type": "application/json" } as const

const json = (status: number, body: unknown, headers?: Readonly<Record<string, string>>) =>
  HttpServerResponse.text(JSON.stringify(body), {
    status,
    contentType: "application/json",
    ...(headers === undefined ? {} : { headers })
  })

const emptyObject = json(200, {})

const renderError = (error: OsbError): HttpServerResponse.HttpServerResponse => {
  const rendered = toErrorResponse(error)
  return json(rendered.status, rendered.body, rendered.headers)
}

const internalError = json(internalErrorResponse.status, internalErrorResponse.body)

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

const violation = (operation: string, reason: string) => Effect.die(new BrokerContractViolation({ operation, reason }))

const validOperation = (operation: string | undefined): boolean =>
  operation === undefined || (operation.length > 0 && operation.length <= 10_000)

const instanceBody = (answer: InstanceAnswer, operation?: string) => ({
  ...(answer.dashboardUrl === undefined ? {} : { dashboard_url: answer.dashboardUrl }),
  ...(operation === undefined ? {} : { operation }),
  ...(answer.metadata === undefined ? {} : { metadata: answer.metadata })
})

const acceptedOperation = (
  name: string,
  acceptsIncomplete: boolean,
  operation: string | undefined
): Effect.Effect<void> =>
  !acceptsIncomplete
    ? violation(name, "answered 202 although the request did not have accepts_incomplete=true")
    : validOperation(operation)
    ? Effect.void
    : violation(name, "operation must be a non-empty string of at most 10,000 characters")

const renderProvision = (result: ProvisionResult, acceptsIncomplete: boolean) => {
  switch (result._tag) {
    case "Created":
      return Effect.succeed(json(201, instanceBody(result.answer)))
    case "AlreadyExists":
      return Effect.succeed(json(200, instanceBody(result.answer)))
    case "Accepted":
      return Effect.as(
        acceptedOperation("provision", acceptsIncomplete, result.operation),
        json(202, instanceBody(result.answer, result.operation))
      )
  }
}

const renderUpdate = (result: UpdateResult, acceptsIncomplete: boolean) =>
  result._tag === "Updated"
    ? Effect.succeed(json(200, instanceBody(result.answer)))
    : Effect.as(
      acceptedOperation("update", acceptsIncomplete, result.operation),
      json(202, instanceBody(result.answer, result.operation))
    )

const renderDelete = (name: string, result: DeleteResult, acceptsIncomplete: boolean) =>
  result._tag === "Deleted"
    ? Effect.succeed(emptyObject)
    : Effect.as(
      acceptedOperation(name, acceptsIncomplete, result.operation),
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
  validate: (u: A) => Either.Either<unknown, unknown>
): Effect.Effect<void> => {
  if (Either.isLeft(validate(binding))) return violation(name, "the binding does not match the OSB binding schema")
  if (Option.isNone(offering)) return Effect.void
  const problem = requiresViolation(offering.value, binding)
  return problem === undefined ? Effect.void : violation(name, problem)
}

const renderBind = (result: BindResult, acceptsIncomplete: boolean, offering: ServiceOffering) => {
  switch (result._tag) {
    case "Accepted":
      return Effect.as(
        acceptedOperation("bind", acceptsIncomplete, result.operation),
        json(202, result.operation === undefined ? {} : { operation: result.operation })
      )
    case "Created":
    case "AlreadyExists":
      return Effect.as(
        checkBinding("bind", Option.some(offering), result.binding, validateBinding),
        json(result._tag === "Created" ? 201 : 200, result.binding)
      )
  }
}

const renderInstanceState = (state: InstanceOperationState, retryAfter: number) => {
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

const renderBindingState = (state: BindingOperationState, retryAfter: number) =>
  state.state === "in progress"
    ? json(200, withDescription({ state: state.state }, state.description), {
      "retry-after": String(state.retryAfterSeconds ?? retryAfter)
    })
    : json(200, withDescription({ state: state.state }, state.description))

const withDescription = (body: { state: string }, description: string | undefined): Record<string, unknown> =>
  description === undefined || description.length === 0 ? body : { ...body, description }

// -----------------------------------------------------------------------------
// the router
// -----------------------------------------------------------------------------

const decodeProvision = bodyDecoder(ProvisionRequestBody)
const decodeUpdate = bodyDecoder(UpdateRequestBody)
const decodeBind = bodyDecoder(BindRequestBody)

const fromEither = <A, E>(either: Either.Either<A, E>): Effect.Effect<A, E> =>
  Either.isRight(either) ? Effect.succeed(either.right) : Effect.fail(either.left)

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
 * Builds the router from the `Catalog`, `ServiceBroker` and `BrokerAuth` services. Fails with
 * `BrokerIncomplete` when the catalog promises endpoints the broker lacks.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (
  options: RouterOptions = {}
): Effect.Effect<OsbRouter, BrokerIncomplete, Catalog | ServiceBroker | BrokerAuth> =>
  Effect.gen(function*() {
    const catalog = yield* Catalog
    const broker = yield* ServiceBroker
    const auth = yield* BrokerAuth
    const lifecycle = yield* Effect.serviceOption(BrokerLifecycle)
    const sink = yield* Effect.serviceOption(RequestLogSink)
    const missing = missingFeatures(catalog, broker)
    if (missing.length > 0) return yield* new BrokerIncomplete({ missing })

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

    /** The request data the envelope decoded, per request (routes read it without a context lookup). */
    const infos = new WeakMap<HttpServerRequest.HttpServerRequest, RequestInfo>()
    /** A mounted router may hand routes a copy of the request: decode its headers again then. */
    const infoOf = (request: HttpServerRequest.HttpServerRequest): RequestInfo => {
      const known = infos.get(request)
      if (known !== undefined) return known
      const identity = request.headers["x-broker-api-request-identity"]
      return {
        apiVersion: Option.getOrElse(parseApiVersion(request.headers["x-broker-api-version"] ?? ""), () =>
          latestApiVersion),
        originatingIdentity: parseOriginatingIdentity(request.headers["x-broker-api-originating-identity"]),
        requestIdentity: identity === undefined || identity.length === 0 ? Option.none() : Option.some(identity)
      }
    }

    // --- envelope: auth -> version -> identity, request identity echo, defects, log line -------------------

    const checkVersion = (header: string | undefined): Effect.Effect<ApiVersion, BadRequest | PreconditionFailed> => {
      if (header === undefined) {
        return Effect.fail(new BadRequest({ description: "The X-Broker-API-Version header is required." }))
      }
      const version = parseApiVersion(header)
      if (Option.isNone(version)) {
        return Effect.fail(
          new BadRequest({ description: "The X-Broker-API-Version header must look like MAJOR.MINOR, e.g. 2.17." })
        )
      }
      if (
        version.value.major !== 2 ||
        (Option.isSome(minimum) && compareApiVersion(version.value, minimum.value) < 0)
      ) {
        return Effect.fail(
          new PreconditionFailed({
            description: `OSB API version ${
              formatApiVersion(version.value)
            } is not supported; this broker supports ${supported}.`
          })
        )
      }
      return Effect.succeed(version.value)
    }

    const envelope = <E, R>(
      inner: Effect.Effect<HttpServerResponse.HttpServerResponse, E, R>
    ): Effect.Effect<
      HttpServerResponse.HttpServerResponse,
      never,
      R | HttpServerRequest.HttpServerRequest
    > =>
      Effect.flatMap(HttpServerRequest.HttpServerRequest, (request) => {
        const headers = request.headers
        const requestIdentity = headers["x-broker-api-request-identity"]
        const started = requestLog ? performance.now() : 0
        const handled = auth.authenticate({ headers }).pipe(
          Effect.zipRight(checkVersion(headers["x-broker-api-version"])),
          Effect.tap(() =>
            Option.isSome(lifecycle) && request.method !== "GET" && request.method !== "HEAD"
              ? Effect.flatMap(lifecycle.value.draining, (draining) =>
                draining
                  ? Effect.fail(
                    new ServiceUnavailable({
                      description: "The broker is shutting down; retry the request shortly.",
                      retryAfterSeconds: 5
                    })
                  )
                  : Effect.void)
              : Effect.void
          ),
          Effect.flatMap((apiVersion): Effect.Effect<
            HttpServerResponse.HttpServerResponse,
            E | BadRequest,
            R
          > => {
            const originatingIdentity = parseOriginatingIdentity(headers["x-broker-api-originating-identity"])
            if (strictIdentity && originatingIdentity._tag === "Malformed") {
              return Effect.fail(
                new BadRequest({
                  description:
                    `The X-Broker-API-Originating-Identity header is malformed: ${originatingIdentity.reason}.`
                })
              )
            }
            infos.set(request, {
              apiVersion,
              originatingIdentity,
              requestIdentity: requestIdentity === undefined || requestIdentity.length === 0
                ? Option.none()
                : Option.some(requestIdentity)
            })
            return inner
          }),
          Effect.catchAllCause((cause): Effect.Effect<HttpServerResponse.HttpServerResponse> => {
            const failure = Cause.failureOption(cause)
            if (Option.isSome(failure) && isOsbError(failure.value)) return Effect.succeed(renderError(failure.value))
            if (Cause.isInterruptedOnly(cause)) return Effect.failCause(cause as Cause.Cause<never>)
            return Effect.as(
              Effect.logError("unexpected failure while handling an OSB request", cause),
              internalError
            )
          })
        )
        const echoed = requestIdentity === undefined
          ? handled
          : Effect.map(handled, HttpServerResponse.setHeader("x-broker-api-request-identity", requestIdentity))
        if (!requestLog) return echoed as Effect.Effect<HttpServerResponse.HttpServerResponse>
        return Effect.tap(echoed, (response) => {
          const queryAt = request.url.indexOf("?")
          const pathname = queryAt < 0 ? request.url : request.url.slice(0, queryAt)
          const entry = {
            method: request.method,
            route: classifyPath(pathname)?.path ?? "(unknown)",
            status: response.status,
            ms: Math.round((performance.now() - started) * 10) / 10,
            requestIdentity: requestIdentity ?? ""
          }
          if (Option.isSome(sink)) return Effect.sync(() => sink.value(entry))
          return Effect.logInfo("osb request").pipe(
            Effect.annotateLogs({
              method: entry.method,
              route: entry.route,
              status: entry.status,
              ms: entry.ms,
              request_identity: entry.requestIdentity
            })
          )
        }) as Effect.Effect<HttpServerResponse.HttpServerResponse>
      }) as never

    // --- per-route helpers ------------------------------------------------------------------------------------

    type RouteEnv =
      | HttpServerRequest.HttpServerRequest
      | HttpServerRequest.ParsedSearchParams
      | HttpRouter.RouteContext

    interface RouteInput {
      readonly info: RequestInfo
      readonly request: HttpServerRequest.HttpServerRequest
      readonly query: Query
      readonly params: Readonly<Record<string, string | undefined>>
    }

    const route = (
      handler: (input: RouteInput) => Effect.Effect<HttpServerResponse.HttpServerResponse, OsbError>
    ): Effect.Effect<HttpServerResponse.HttpServerResponse, never, RouteEnv> =>
      Effect.flatMap(
        Effect.context<
          HttpServerRequest.HttpServerRequest | HttpServerRequest.ParsedSearchParams | HttpRouter.RouteContext
        >(),
        (context) => {
          const request = Context.unsafeGet(context, HttpServerRequest.HttpServerRequest)
          return Effect.catchAll(
            handler({
              info: infoOf(request),
              request,
              query: Context.unsafeGet(context, HttpServerRequest.ParsedSearchParams),
              params: Context.unsafeGet(context, HttpRouter.RouteContext).params
            }),
            (error) =>
              isOsbError(error)
                ? Effect.succeed(renderError(error))
                : violation("handler", "failed with an error that is not an OSB error")
          )
        }
      )

    const param = (input: RouteInput, name: string): string => input.params[name] ?? ""

    const resolve = (serviceId: string, planId: string): Effect.Effect<ResolvedTarget, BadRequest> => {
      const offering = catalog.offering(serviceId)
      if (Option.isNone(offering)) {
        return Effect.fail(new BadRequest({ description: `service_id "${serviceId}" is not in the catalog.` }))
      }
      const plan = catalog.plan(planId)
      if (Option.isNone(plan)) {
        return Effect.fail(new BadRequest({ description: `plan_id "${planId}" is not in the catalog.` }))
      }
      if (plan.value.offering.id !== serviceId) {
        return Effect.fail(
          new BadRequest({ description: `plan_id "${planId}" does not belong to service_id "${serviceId}".` })
        )
      }
      return Effect.succeed(plan.value)
    }

    const resolveHints = (query: Query): Effect.Effect<
      { readonly offering: Option.Option<ServiceOffering>; readonly plan: Option.Option<ResolvedTarget> },
      BadRequest
    > =>
      Effect.flatMap(
        fromEither(Either.all([queryValue(query, "service_id"), queryValue(query, "plan_id")])),
        ([serviceId, planId]) => {
          if (Option.isSome(serviceId) && Option.isSome(planId)) {
            return Effect.map(resolve(serviceId.value, planId.value), (target) => ({
              offering: Option.some(target.offering),
              plan: Option.some(target)
            }))
          }
          if (Option.isSome(serviceId)) {
            const offering = catalog.offering(serviceId.value)
            return Option.isNone(offering)
              ? Effect.fail(new BadRequest({ description: `service_id "${serviceId.value}" is not in the catalog.` }))
              : Effect.succeed({ offering, plan: Option.none() })
          }
          if (Option.isSome(planId)) {
            const plan = catalog.plan(planId.value)
            return Option.isNone(plan)
              ? Effect.fail(new BadRequest({ description: `plan_id "${planId.value}" is not in the catalog.` }))
              : Effect.succeed({ offering: Option.some(plan.value.offering), plan })
          }
          return Effect.succeed({ offering: Option.none(), plan: Option.none() })
        }
      )

    const checkMaintenanceInfo = (
      requested: { readonly version: string } | undefined,
      target: ResolvedTarget
    ): Effect.Effect<void, MaintenanceInfoConflict> => {
      if (requested === undefined) return Effect.void
      const current = target.plan.maintenance_info
      if (current === undefined) {
        return Effect.fail(
          new MaintenanceInfoConflict({
            description:
              `The plan ${target.plan.name} has no maintenance_info, but the request carries version ${requested.version}.`
          })
        )
      }
      return current.version === requested.version ? Effect.void : Effect.fail(
        new MaintenanceInfoConflict({
          description:
            `The requested maintenance_info.version ${requested.version} does not match the plan's version ${current.version}.`
        })
      )
    }

    const operationQuery = (query: Query): Effect.Effect<Option.Option<string>, BadRequest> => {
      const value = query["operation"]
      if (value === undefined || value === "") return Effect.succeed(Option.none())
      if (typeof value !== "string") {
        return Effect.fail(new BadRequest({ description: "The query parameter operation must be given at most once." }))
      }
      return Effect.succeed(Option.some(value))
    }

    // --- E1 catalog ------------------------------------------------------------------------------------------

    const catalogResponse = HttpServerResponse.text(catalog.body, {
      status: 200,
      contentType: "application/json",
      headers: { etag: catalog.etag }
    })
    const notModified = HttpServerResponse.empty({ status: 304, headers: { etag: catalog.etag } })
    const getCatalog = route(({ request }) => {
      const ifNoneMatch = request.headers["if-none-match"]
      return Effect.succeed(
        ifNoneMatch !== undefined && ifNoneMatch.split(",").some((tag) => {
            const t = tag.trim()
            return t === catalog.etag || t === `W/${catalog.etag}` || t === "*"
          })
          ? notModified
          : catalogResponse
      )
    })

    // --- E2 provision ----------------------------------------------------------------------------------------

    const provision = route((input) =>
      Effect.gen(function*() {
        const accepts = yield* fromEither(parseAcceptsIncomplete(input.query))
        const body = yield* Effect.flatMap(
          readJsonObject(input.request, maxBodyBytes),
          (u) => fromEither(decodeProvision(u))
        )
        const target = yield* resolve(body.service_id, body.plan_id)
        const cloudFoundry = body.context === undefined || body.context.platform === "cloudfoundry"
        if (
          (cloudFoundry || strictDeprecated) && (body.organization_guid === undefined || body.space_guid === undefined)
        ) {
          return yield* new BadRequest({
            description: "organization_guid and space_guid are required" +
              (strictDeprecated ? "." : " when the request has no context or its platform is cloudfoundry.")
          })
        }
        yield* checkMaintenanceInfo(body.maintenance_info, target)
        const result = yield* broker.provision({
          ...input.info,
          ...target,
          instanceId: param(input, "instance_id"),
          acceptsIncomplete: accepts,
          body
        })
        return yield* renderProvision(result, accepts)
      })
    )

    // --- E3 fetch instance -----------------------------------------------------------------------------------

    const getInstance = route((input) =>
      Effect.gen(function*() {
        const hints = yield* resolveHints(input.query)
        if (broker.getInstance === undefined) {
          return yield* new NotFound({ description: "This broker does not support fetching service instances." })
        }
        const body = yield* broker.getInstance({ ...input.info, ...hints, instanceId: param(input, "instance_id") })
        if (Either.isLeft(validateFetchInstance(body))) {
          return yield* violation("getInstance", "the instance does not match the OSB fetch-instance schema")
        }
        return json(200, body)
      })
    )

    // --- E4 update -------------------------------------------------------------------------------------------

    const update = route((input) =>
      Effect.gen(function*() {
        const accepts = yield* fromEither(parseAcceptsIncomplete(input.query))
        const body = yield* Effect.flatMap(
          readJsonObject(input.request, maxBodyBytes),
          (u) => fromEither(decodeUpdate(u))
        )
        const offering = catalog.offering(body.service_id)
        if (Option.isNone(offering)) {
          return yield* new BadRequest({ description: `service_id "${body.service_id}" is not in the catalog.` })
        }
        const plan = body.plan_id === undefined
          ? Option.none<ResolvedTarget>()
          : Option.some(yield* resolve(body.service_id, body.plan_id))
        const previousPlanId = body.previous_values?.plan_id
        const previousPlan = previousPlanId === undefined
          ? Option.none<ResolvedTarget>()
          : Option.filter(catalog.plan(previousPlanId), (p) => p.offering.id === body.service_id)
        if (Option.isSome(plan) && Option.isSome(previousPlan) && plan.value.plan.id !== previousPlan.value.plan.id) {
          const from = previousPlan.value
          const to = plan.value
          if (!from.effective.planUpdateable || !to.effective.planUpdateable) {
            const which = !from.effective.planUpdateable ? from.plan.name : to.plan.name
            return yield* new UpdateNotSupported({
              description: `Plan changes are not supported for plan ${which} (plan_updateable is false).`,
              updateRepeatable: false
            })
          }
        }
        const maintenanceTarget = Option.orElse(plan, () => previousPlan)
        if (Option.isSome(maintenanceTarget)) {
          yield* checkMaintenanceInfo(body.maintenance_info, maintenanceTarget.value)
        }
        if (broker.update === undefined) {
          return yield* new UpdateNotSupported({
            description: "This broker does not support updating service instances."
          })
        }
        const result = yield* broker.update({
          ...input.info,
          instanceId: param(input, "instance_id"),
          acceptsIncomplete: accepts,
          body,
          offering: offering.value,
          plan,
          previousPlan
        })
        return yield* renderUpdate(result, accepts)
      })
    )

    // --- E5 deprovision --------------------------------------------------------------------------------------

    const requiredTarget = (query: Query) =>
      Effect.flatMap(
        fromEither(Either.all([requiredQueryValue(query, "service_id"), requiredQueryValue(query, "plan_id")])),
        ([serviceId, planId]) => resolve(serviceId, planId)
      )

    const deprovision = route((input) =>
      Effect.gen(function*() {
        const accepts = yield* fromEither(parseAcceptsIncomplete(input.query))
        const target = yield* requiredTarget(input.query)
        const result = yield* broker.deprovision({
          ...input.info,
          ...target,
          instanceId: param(input, "instance_id"),
          acceptsIncomplete: accepts
        })
        return yield* renderDelete("deprovision", result, accepts)
      })
    )

    // --- E6 last operation -----------------------------------------------------------------------------------

    const lastOperation = route((input) =>
      Effect.gen(function*() {
        const hints = yield* resolveHints(input.query)
        const operation = yield* operationQuery(input.query)
        if (broker.lastOperation === undefined) {
          return yield* new NotFound({ description: "This broker has no asynchronous instance operations." })
        }
        const state = yield* broker.lastOperation({
          ...input.info,
          ...hints,
          instanceId: param(input, "instance_id"),
          operation
        })
        return renderInstanceState(state, retryAfter)
      })
    )

    // --- E7 bind ---------------------------------------------------------------------------------------------

    const bind = route((input) =>
      Effect.gen(function*() {
        const accepts = yield* fromEither(parseAcceptsIncomplete(input.query))
        const body = yield* Effect.flatMap(
          readJsonObject(input.request, maxBodyBytes),
          (u) => fromEither(decodeBind(u))
        )
        const target = yield* resolve(body.service_id, body.plan_id)
        if (!target.effective.bindable) {
          return yield* new BadRequest({ description: `The plan ${target.plan.name} is not bindable.` })
        }
        if (body.predecessor_binding_id !== undefined && !target.effective.bindingRotatable) {
          return yield* new BadRequest({
            description: `The plan ${target.plan.name} does not support binding rotation (binding_rotatable is false).`
          })
        }
        if (broker.bind === undefined) {
          return yield* new BadRequest({ description: `The plan ${target.plan.name} is not bindable.` })
        }
        const result = yield* broker.bind({
          ...input.info,
          ...target,
          instanceId: param(input, "instance_id"),
          bindingId: param(input, "binding_id"),
          acceptsIncomplete: accepts,
          body
        })
        return yield* renderBind(result, accepts, target.offering)
      })
    )

    // --- E8 fetch binding ------------------------------------------------------------------------------------

    const getBinding = route((input) =>
      Effect.gen(function*() {
        const hints = yield* resolveHints(input.query)
        if (broker.getBinding === undefined) {
          return yield* new NotFound({ description: "This broker does not support fetching service bindings." })
        }
        const body = yield* broker.getBinding({
          ...input.info,
          ...hints,
          instanceId: param(input, "instance_id"),
          bindingId: param(input, "binding_id")
        })
        yield* checkBinding("getBinding", hints.offering, body, validateFetchBinding)
        return json(200, body)
      })
    )

    // --- E9 unbind -------------------------------------------------------------------------------------------

    const unbind = route((input) =>
      Effect.gen(function*() {
        const accepts = yield* fromEither(parseAcceptsIncomplete(input.query))
        const target = yield* requiredTarget(input.query)
        if (broker.unbind === undefined) {
          return yield* new Gone()
        }
        const result = yield* broker.unbind({
          ...input.info,
          ...target,
          instanceId: param(input, "instance_id"),
          bindingId: param(input, "binding_id"),
          acceptsIncomplete: accepts
        })
        return yield* renderDelete("unbind", result, accepts)
      })
    )

    // --- E10 binding last operation --------------------------------------------------------------------------

    const lastBindingOperation = route((input) =>
      Effect.gen(function*() {
        const hints = yield* resolveHints(input.query)
        const operation = yield* operationQuery(input.query)
        if (broker.lastBindingOperation === undefined) {
          return yield* new NotFound({ description: "This broker has no asynchronous binding operations." })
        }
        const state = yield* broker.lastBindingOperation({
          ...input.info,
          ...hints,
          instanceId: param(input, "instance_id"),
          bindingId: param(input, "binding_id"),
          operation
        })
        return renderBindingState(state, retryAfter)
      })
    )

    const mutating = { uninterruptible: true } as const
    const routesOnly = HttpRouter.empty.pipe(
      HttpRouter.get(routes.catalog.path, getCatalog),
      HttpRouter.put(routes.instance.path, provision, mutating),
      HttpRouter.get(routes.instance.path, getInstance),
      HttpRouter.patch(routes.instance.path, update, mutating),
      HttpRouter.del(routes.instance.path, deprovision, mutating),
      HttpRouter.get(routes.instanceLastOperation.path, lastOperation),
      HttpRouter.put(routes.binding.path, bind, mutating),
      HttpRouter.get(routes.binding.path, getBinding),
      HttpRouter.del(routes.binding.path, unbind, mutating),
      HttpRouter.get(routes.bindingLastOperation.path, lastBindingOperation)
    )

    const fallback = Effect.flatMap(HttpServerRequest.HttpServerRequest, (request) => {
      const queryAt = request.url.indexOf("?")
      const known = classifyPath(queryAt < 0 ? request.url : request.url.slice(0, queryAt))
      return Effect.fail<OsbError>(
        known === undefined
          ? new NotFound({ description: `No OSB endpoint at ${request.method} ${request.url.slice(0, 200)}.` })
          : new MethodNotAllowed({ allowed: known.methods })
      )
    })

    // ids may be long (find-my-way's default limit of 100 characters per path parameter would turn them into 405s)
    // the router compiles on its first run, with the config of that moment; later runs reuse the compiled router
    let compiled = false
    const configured = Effect.suspend(() => {
      if (compiled) return routesOnly
      compiled = true
      return HttpRouter.withRouterConfig(routesOnly, { maxParamLength: 10_000 })
    })
    const app = envelope(Effect.catchTag(configured, "RouteNotFound", () => fallback)) as HttpApp.Default<never, never>
    const router = HttpRouter.use(routesOnly, (handler) => envelope(handler)) as HttpRouter.HttpRouter<never, never>
    return { app, router }
  })

/**
 * The router as a layer-built value, for `HttpServer.serve` or `toWebHandler`.
 *
 * @since 0.1.0
 * @category constructors
 */
export const httpApp = (
  options?: RouterOptions
): Effect.Effect<HttpApp.Default<never, never>, BrokerIncomplete, Catalog | ServiceBroker | BrokerAuth> =>
  Effect.map(make(options), (built) => built.app)

/**
 * An in-process web handler (`Request => Promise<Response>`) for a broker given as layers: no socket needed.
 * Call `dispose` when done.
 *
 * @since 0.1.0
 * @category conversions
 */
export const toWebHandler = <E>(
  layer: Layer.Layer<Catalog | ServiceBroker | BrokerAuth, E>,
  options?: RouterOptions
): {
  readonly handler: (request: Request) => Promise<Response>
  readonly dispose: () => Promise<void>
} =>
  HttpApp.toWebHandlerLayerWith(Layer.merge(layer, HttpServer.layerContext), {
    toHandler: (runtime) => Effect.provide(httpApp(options), runtime)
  })

/**
 * JSON headers used on every answer.
 *
 * @since 0.1.0
 * @category constants
 */
export const responseHeaders: Readonly<Record<string, string>> = jsonHeaders

/**
 * Renders an error body the way the router does (for custom endpoints next to the OSB ones).
 *
 * @since 0.1.0
 * @category rendering
 */
export const errorResponse = (error: OsbError): HttpServerResponse.HttpServerResponse => renderError(error)

/**
 * The JSON body the router uses for a defect.
 *
 * @since 0.1.0
 * @category constants
 */
export const internalErrorBody: ErrorBody = internalErrorResponse.body
