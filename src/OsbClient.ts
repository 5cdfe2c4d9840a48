/**
 * A typed OSB client for the ten endpoints, on `@effect/platform`'s `HttpClient`: requests built from the
 * Schemas, responses decoded and validated, every status mapped to a typed result or a typed `OsbError`, helpers
 * for the originating and request identity headers, and a poller that follows `last_operation` to the end.
 *
 * It knows no server code: a platform can use it against any broker.
 *
 * @since 0.1.0
 */
import * as HttpClient from "@effect/platform/HttpClient"
import type * as HttpClientError from "@effect/platform/HttpClientError"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as ParseResult from "effect/ParseResult"
import * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"
import { formatPath } from "./internal/paths.js"
import type { OriginatingIdentity } from "./Model.js"
import {
  AsyncOperationBody,
  BindingResponseBody,
  BindRequestBody,
  CatalogBody,
  ErrorBody,
  FetchBindingBody,
  FetchInstanceBody,
  LastOperationBody,
  ProvisionRequestBody,
  ProvisionResponseBody,
  UpdateRequestBody,
  UpdateResponseBody
} from "./Model.js"
import type { OsbError } from "./OsbError.js"
import {
  AsyncRequired,
  BadRequest,
  BrokerFailure,
  ConcurrencyError,
  Conflict,
  Gone,
  MaintenanceInfoConflict,
  MethodNotAllowed,
  NotFound,
  PayloadTooLarge,
  PreconditionFailed,
  RequiresApp,
  ServiceUnavailable,
  Unauthorized,
  UpdateFailure,
  UpdateNotSupported
} from "./OsbError.js"
import { formatOriginatingIdentity } from "./RequestInfo.js"

/**
 * Where the broker is and how to talk to it.
 *
 * @since 0.1.0
 * @category models
 */
export interface OsbClientConfig {
  /** The broker's base URL, e.g. `http://127.0.0.1:8080` (paths start with `/v2`). */
  readonly url: string
  readonly username?: string
  readonly password?: Redacted.Redacted<string> | string
  /** `X-Broker-API-Version`. Default `2.17`. */
  readonly apiVersion?: string
  /** Headers sent with every request. */
  readonly headers?: Readonly<Record<string, string>>
}

/**
 * Per-request options.
 *
 * @since 0.1.0
 * @category models
 */
export interface CallOptions {
  readonly acceptsIncomplete?: boolean
  readonly originatingIdentity?: OriginatingIdentity
  /** `X-Broker-API-Request-Identity`; a random UUID when not given. */
  readonly requestIdentity?: string
  readonly headers?: Readonly<Record<string, string>>
}

/**
 * A raw exchange: what was sent and what came back.
 *
 * @since 0.1.0
 * @category models
 */
export interface RawResponse {
  readonly method: string
  readonly path: string
  readonly status: number
  readonly headers: Readonly<Record<string, string>>
  readonly text: string
  /** The body parsed as JSON, or `undefined` when it is not JSON. */
  readonly json: unknown
}

/**
 * The broker answered something the protocol does not allow for this request.
 *
 * @since 0.1.0
 * @category errors
 */
export class UnexpectedResponse extends Schema.TaggedError<UnexpectedResponse>("effect-osb/UnexpectedResponse")(
  "UnexpectedResponse",
  {
    method: Schema.String,
    path: Schema.String,
    status: Schema.Number,
    body: Schema.String,
    reason: Schema.String
  }
) {
  override get message(): string {
    return `${this.method} ${this.path}: ${this.reason} (status ${this.status}, body ${this.body.slice(0, 200)})`
  }
}

/**
 * Every failure of a client call: an OSB error answer, an unexpected answer, or a transport error.
 *
 * @since 0.1.0
 * @category errors
 */
export type ClientError = OsbError | UnexpectedResponse | HttpClientError.HttpClientError

/**
 * A successful answer and its status.
 *
 * @since 0.1.0
 * @category models
 */
export interface Answer<Tag extends string, A> {
  readonly _tag: Tag
  readonly status: number
  readonly body: A
  readonly headers: Readonly<Record<string, string>>
}

/**
 * A `last_operation` answer with its `Retry-After` (seconds), if any.
 *
 * @since 0.1.0
 * @category models
 */
export interface LastOperation extends LastOperationBody {
  readonly retryAfter: Option.Option<Duration.Duration>
}

/**
 * The client.
 *
 * @since 0.1.0
 * @category models
 */
export interface OsbClientService {
  /** Any request, unchecked: for conformance checks and debugging. */
  readonly raw: (
    method: string,
    path: string,
    options?: {
      readonly query?: Readonly<Record<string, string | undefined>>
      readonly body?: unknown
      readonly rawBody?: string
      readonly headers?: Readonly<Record<string, string | undefined>>
    }
  ) => Effect.Effect<RawResponse, HttpClientError.HttpClientError>
  readonly catalog: (options?: CallOptions) => Effect.Effect<CatalogBody, ClientError>
  readonly provision: (
    instanceId: string,
    body: ProvisionRequestBody,
    options?: CallOptions
  ) => Effect.Effect<
    Answer<"Created" | "AlreadyExists" | "Accepted", ProvisionResponseBody>,
    ClientError
  >
  readonly getInstance: (
    instanceId: string,
    options?: CallOptions & { readonly serviceId?: string; readonly planId?: string }
  ) => Effect.Effect<FetchInstanceBody, ClientError>
  readonly update: (
    instanceId: string,
    body: UpdateRequestBody,
    options?: CallOptions
  ) => Effect.Effect<Answer<"Updated" | "Accepted", UpdateResponseBody>, ClientError>
  readonly deprovision: (
    instanceId: string,
    ids: { readonly serviceId: string; readonly planId: string },
    options?: CallOptions
  ) => Effect.Effect<Answer<"Deleted" | "Accepted", AsyncOperationBody>, ClientError>
  readonly lastOperation: (
    instanceId: string,
    options?: CallOptions & { readonly operation?: string; readonly serviceId?: string; readonly planId?: string }
  ) => Effect.Effect<LastOperation, ClientError>
  readonly bind: (
    instanceId: string,
    bindingId: string,
    body: BindRequestBody,
    options?: CallOptions
  ) => Effect.Effect<
    Answer<"Created" | "AlreadyExists", BindingResponseBody> | Answer<"Accepted", AsyncOperationBody>,
    ClientError
  >
  readonly getBinding: (
    instanceId: string,
    bindingId: string,
    options?: CallOptions & { readonly serviceId?: string; readonly planId?: string }
  ) => Effect.Effect<FetchBindingBody, ClientError>
  readonly unbind: (
    instanceId: string,
    bindingId: string,
    ids: { readonly serviceId: string; readonly planId: string },
    options?: CallOptions
  ) => Effect.Effect<Answer<"Deleted" | "Accepted", AsyncOperationBody>, ClientError>
  readonly lastBindingOperation: (
    instanceId: string,
    bindingId: string,
    options?: CallOptions & { readonly operation?: string; readonly serviceId?: string; readonly planId?: string }
  ) => Effect.Effect<LastOperation, ClientError>
}

/**
 * The client tag.
 *
 * @since 0.1.0
 * @category tags
 */
export class OsbClient extends Context.Tag("effect-osb/OsbClient")<OsbClient, OsbClientService>() {}

// -----------------------------------------------------------------------------
// decoding
// -----------------------------------------------------------------------------

const decodeErrorBody = Schema.decodeUnknownEither(ErrorBody, { onExcessProperty: "ignore" })

/**
 * Maps an error answer to the OSB error it stands for (the inverse of the router's error table).
 *
 * @since 0.1.0
 * @category decoding
 */
export const errorFromResponse = (status: number, json: unknown): Option.Option<OsbError> => {
  const body = Either.getOrElse(decodeErrorBody(json), () => ({}) as ErrorBody)
  const description = body.description ?? `The broker answered ${status}.`
  const optional = body.description === undefined ? {} : { description: body.description }
  switch (status) {
    case 400:
      return Option.some(new BadRequest({ description }))
    case 401:
      return Option.some(new Unauthorized(optional))
    case 404:
      return Option.some(new NotFound(optional))
    case 405:
      return Option.some(new MethodNotAllowed({ allowed: [] }))
    case 409:
      return Option.some(new Conflict(optional))
    case 410:
      return Option.some(new Gone())
    case 412:
      return Option.some(new PreconditionFailed({ description }))
    case 413:
      return Option.some(new PayloadTooLarge({ limit: 0 }))
    case 422:
      switch (body.error) {
        case "AsyncRequired":
          return Option.some(new AsyncRequired(optional))
        case "ConcurrencyError":
          return Option.some(new ConcurrencyError(optional))
        case "RequiresApp":
          return Option.some(new RequiresApp(optional))
        case "MaintenanceInfoConflict":
          return Option.some(new MaintenanceInfoConflict(optional))
        default:
          return Option.some(
            new UpdateNotSupported({
              description,
              ...(body.instance_usable === undefined ? {} : { instanceUsable: body.instance_usable }),
              ...(body.update_repeatable === undefined ? {} : { updateRepeatable: body.update_repeatable })
            })
          )
      }
    case 503:
      return Option.some(new ServiceUnavailable({ description, retryAfterSeconds: 0 }))
    default:
      if (status >= 500) {
        return Option.some(
          body.instance_usable === undefined && body.update_repeatable === undefined
            ? new BrokerFailure({ description })
            : new UpdateFailure({
              description,
              ...(body.instance_usable === undefined ? {} : { instanceUsable: body.instance_usable }),
              ...(body.update_repeatable === undefined ? {} : { updateRepeatable: body.update_repeatable })
            })
        )
      }
      return Option.none()
  }
}

const describe = (error: ParseResult.ParseError): string =>
  ParseResult.ArrayFormatter.formatErrorSync(error).map((i) => `${formatPath(i.path)}: ${i.message}`).join("; ")

/**
 * Parses a `Retry-After` header (seconds or an HTTP date) into a duration.
 *
 * @since 0.1.0
 * @category decoding
 */
export const parseRetryAfter = (value: string | undefined, now: number): Option.Option<Duration.Duration> => {
  if (value === undefined) return Option.none()
  if (/^\d+$/.test(value.trim())) return Option.some(Duration.seconds(Number(value.trim())))
  const date = Date.parse(value)
  return Number.isNaN(date) ? Option.none() : Option.some(Duration.millis(Math.max(0, date - now)))
}

// -----------------------------------------------------------------------------
// the client
// -----------------------------------------------------------------------------

const encodePath = (...segments: ReadonlyArray<string>) => segments.map(encodeURIComponent).join("/")

/**
 * Builds the client on the `HttpClient` in context.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (config: OsbClientConfig): Effect.Effect<OsbClientService, never, HttpClient.HttpClient> =>
  Effect.map(HttpClient.HttpClient, (http) => {
    const base = config.url.replace(/\/+$/, "")
    const authorization = config.username === undefined
      ? undefined
      : `Basic ${
        Buffer.from(
          `${config.username}:${
            typeof config.password === "string" ? config.password : Redacted.value(config.password ?? Redacted.make(""))
          }`,
          "utf8"
        ).toString("base64")
      }`
    const defaults: Record<string, string> = {
      "x-broker-api-version": config.apiVersion ?? "2.17",
      ...(authorization === undefined ? {} : { authorization }),
      ...config.headers
    }

    const raw: OsbClientService["raw"] = (method, path, options = {}) => {
      const query = Object.entries(options.query ?? {}).filter((e): e is [string, string] => e[1] !== undefined)
      const search = query.length === 0 ? "" : `?${new URLSearchParams(query).toString()}`
      const headers: Record<string, string> = { ...defaults }
      for (const [k, v] of Object.entries(options.headers ?? {})) {
        if (v === undefined) delete headers[k.toLowerCase()]
        else headers[k.toLowerCase()] = v
      }
      const text = options.rawBody ?? (options.body === undefined ? undefined : JSON.stringify(options.body))
      let request = HttpClientRequest.make(method as "GET")(`${base}${path}${search}`).pipe(
        HttpClientRequest.setHeaders(headers)
      )
      if (text !== undefined) {
        request = HttpClientRequest.bodyText(request, text, headers["content-type"] ?? "application/json")
      }
      return Effect.flatMap(http.execute(request), (response) =>
        Effect.map(response.text, (body): RawResponse => {
          let json: unknown = undefined
          try {
            json = body.length === 0 ? undefined : JSON.parse(body)
          } catch {
            json = undefined
          }
          return {
            method,
            path: `${path}${search}`,
            status: response.status,
            headers: response.headers,
            text: body,
            json
          }
        }))
    }

    const headersFor = (options: CallOptions | undefined): Record<string, string> => ({
      "x-broker-api-request-identity": options?.requestIdentity ?? crypto.randomUUID(),
      ...(options?.originatingIdentity === undefined
        ? {}
        : { "x-broker-api-originating-identity": formatOriginatingIdentity(options.originatingIdentity) }),
      ...options?.headers
    })

    /** Decodes a success body, or maps an error answer, or reports an unexpected one. */
    const expect = <Tag extends string, A, I>(
      response: RawResponse,
      successes: Readonly<Record<number, Tag>>,
      schema: Schema.Schema<A, I>
    ): Effect.Effect<Answer<Tag, A>, OsbError | UnexpectedResponse> => {
      const unexpected = (reason: string) =>
        new UnexpectedResponse({
          method: response.method,
          path: response.path,
          status: response.status,
          body: response.text,
          reason
        })
      const tag = successes[response.status]
      if (tag !== undefined) {
        if (typeof response.json !== "object" || response.json === null || Array.isArray(response.json)) {
          return Effect.fail(unexpected("the body is not a JSON object"))
        }
        return Either.match(Schema.decodeUnknownEither(schema, { onExcessProperty: "ignore" })(response.json), {
          onLeft: (error) => Effect.fail(unexpected(`the body is invalid: ${describe(error)}`)),
          onRight: (body) => Effect.succeed({ _tag: tag, status: response.status, body, headers: response.headers })
        })
      }
      return Option.match(errorFromResponse(response.status, response.json), {
        onNone: () => Effect.fail(unexpected("this status is not allowed here")),
        onSome: (error) => Effect.fail(error)
      })
    }

    const query = (options: { readonly acceptsIncomplete?: boolean } | undefined) =>
      options?.acceptsIncomplete === true ? { accepts_incomplete: "true" } : {}

    const hints = (options: { readonly serviceId?: string; readonly planId?: string } | undefined) => ({
      service_id: options?.serviceId,
      plan_id: options?.planId
    })

    const lastOperationOf = (path: string, options: Parameters<OsbClientService["lastOperation"]>[1]) =>
      Effect.gen(function*() {
        const response = yield* raw("GET", path, {
          query: { ...hints(options), operation: options?.operation },
          headers: headersFor(options)
        })
        const answer = yield* expect(response, { 200: "Ok" }, LastOperationBody)
        const now = yield* Clock.currentTimeMillis
        return { ...answer.body, retryAfter: parseRetryAfter(response.headers["retry-after"], now) }
      })

    return {
      raw,
      catalog: (options) =>
        Effect.flatMap(
          raw("GET", "/v2/catalog", { headers: headersFor(options) }),
          (r) => Effect.map(expect(r, { 200: "Ok" }, CatalogBody), (a) => a.body)
        ),
      provision: (instanceId, body, options) =>
        Effect.flatMap(
          raw("PUT", `/v2/service_instances/${encodePath(instanceId)}`, {
            query: query(options),
            body: Schema.encodeSync(ProvisionRequestBody)(body),
            headers: headersFor(options)
          }),
          (r) => expect(r, { 200: "AlreadyExists", 201: "Created", 202: "Accepted" } as const, ProvisionResponseBody)
        ),
      getInstance: (instanceId, options) =>
        Effect.flatMap(
          raw("GET", `/v2/service_instances/${encodePath(instanceId)}`, {
            query: hints(options),
            headers: headersFor(options)
          }),
          (r) => Effect.map(expect(r, { 200: "Ok" }, FetchInstanceBody), (a) => a.body)
        ),
      update: (instanceId, body, options) =>
        Effect.flatMap(
          raw("PATCH", `/v2/service_instances/${encodePath(instanceId)}`, {
            query: query(options),
            body: Schema.encodeSync(UpdateRequestBody)(body),
            headers: headersFor(options)
          }),
          (r) => expect(r, { 200: "Updated", 202: "Accepted" } as const, UpdateResponseBody)
        ),
      deprovision: (instanceId, ids, options) =>
        Effect.flatMap(
          raw("DELETE", `/v2/service_instances/${encodePath(instanceId)}`, {
            query: { ...query(options), service_id: ids.serviceId, plan_id: ids.planId },
            headers: headersFor(options)
          }),
          (r) => expect(r, { 200: "Deleted", 202: "Accepted" } as const, AsyncOperationBody)
        ),
      lastOperation: (instanceId, options) =>
        lastOperationOf(`/v2/service_instances/${encodePath(instanceId)}/last_operation`, options),
      bind: (instanceId, bindingId, body, options) =>
        Effect.flatMap(
          raw("PUT", `/v2/service_instances/${encodePath(instanceId)}/service_bindings/${encodePath(bindingId)}`, {
            query: query(options),
            body: Schema.encodeSync(BindRequestBody)(body),
            headers: headersFor(options)
          }),
          (r): Effect.Effect<
            Answer<"Created" | "AlreadyExists", BindingResponseBody> | Answer<"Accepted", AsyncOperationBody>,
            OsbError | UnexpectedResponse
          > =>
            r.status === 202
              ? expect(r, { 202: "Accepted" } as const, AsyncOperationBody)
              : expect(r, { 200: "AlreadyExists", 201: "Created" } as const, BindingResponseBody)
        ),
      getBinding: (instanceId, bindingId, options) =>
        Effect.flatMap(
          raw("GET", `/v2/service_instances/${encodePath(instanceId)}/service_bindings/${encodePath(bindingId)}`, {
            query: hints(options),
            headers: headersFor(options)
          }),
          (r) => Effect.map(expect(r, { 200: "Ok" }, FetchBindingBody), (a) => a.body)
        ),
      unbind: (instanceId, bindingId, ids, options) =>
        Effect.flatMap(
          raw("DELETE", `/v2/service_instances/${encodePath(instanceId)}/service_bindings/${encodePath(bindingId)}`, {
            query: { ...query(options), service_id: ids.serviceId, plan_id: ids.planId },
            headers: headersFor(options)
          }),
          (r) => expect(r, { 200: "Deleted", 202: "Accepted" } as const, AsyncOperationBody)
        ),
      lastBindingOperation: (instanceId, bindingId, options) =>
        lastOperationOf(
          `/v2/service_instances/${encodePath(instanceId)}/service_bindings/${encodePath(bindingId)}/last_operation`,
          options
        )
    }
  })

/**
 * The client as a layer over the `HttpClient` in context.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (config: OsbClientConfig): Layer.Layer<OsbClient, never, HttpClient.HttpClient> =>
  Layer.effect(OsbClient, make(config))

/**
 * Polls a `last_operation` until it is no longer `in progress`: waits what `Retry-After` says (bounded by
 * `maxInterval`, default 30 s; `interval` when there is none, default 1 s) and gives up after `maxDuration`
 * (default 10 minutes) with a `BrokerFailure`. A 410 (async delete finished) counts as `succeeded`.
 *
 * @since 0.1.0
 * @category polling
 */
export const pollUntilDone = <E>(
  poll: Effect.Effect<LastOperation, E>,
  options: {
    readonly interval?: Duration.DurationInput
    readonly maxInterval?: Duration.DurationInput
    readonly maxDuration?: Duration.DurationInput
  } = {}
): Effect.Effect<LastOperationBody, E | BrokerFailure> => {
  const interval = Duration.decode(options.interval ?? "1 second")
  const maxInterval = Duration.decode(options.maxInterval ?? "30 seconds")
  const maxDuration = Duration.decode(options.maxDuration ?? "10 minutes")
  const gone = (e: E): e is E => typeof e === "object" && e !== null && (e as { _tag?: unknown })._tag === "Gone"
  const loop: Effect.Effect<LastOperationBody, E> = Effect.flatMap(
    Effect.catchIf(poll, gone, () => Effect.succeed<LastOperation>({ state: "succeeded", retryAfter: Option.none() })),
    (answer) => {
      if (answer.state !== "in progress") {
        const { retryAfter: _retryAfter, ...body } = answer
        return Effect.succeed(body)
      }
      const wait = Option.match(answer.retryAfter, {
        onNone: () => interval,
        onSome: (d) => Duration.min(d, maxInterval)
      })
      return Effect.zipRight(Effect.sleep(wait), loop)
    }
  )
  return Effect.timeoutFail(loop, {
    duration: maxDuration,
    onTimeout: () =>
      new BrokerFailure({ description: `The operation did not finish within ${Duration.format(maxDuration)}.` })
  })
}
