/**
 * A typed OSB client for the ten endpoints, on `@effect/platform`'s `HttpClient`: requests built from the
 * Schemas, responses decoded and validated, every status mapped to a typed result or a typed `OsbError`, helpers
 * for the originating and request identity headers, and a poller that follows `last_operation` to the end.
 *
 * It knows no server code: a platform can use it against any broker.
 *
 * @since 0.1.0
 * @module
 */
import * as HttpClient from "@effect/platform/HttpClient"
import type * as HttpClientError from "@effect/platform/HttpClientError"
import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import type * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"
import { readAnswer } from "./internal/clientAnswers.js"
import { parseRetryAfter } from "./internal/clientErrors.js"
import { makeRaw } from "./internal/clientTransport.js"
import type { OriginatingIdentity } from "./Model.js"
import type {
  AsyncOperationBody,
  BindingResponseBody,
  BindRequestBody,
  CatalogBody,
  FetchBindingBody,
  FetchInstanceBody,
  LastOperationBody,
  ProvisionRequestBody,
  ProvisionResponseBody,
  UpdateRequestBody,
  UpdateResponseBody
} from "./Model.js"
import type { OsbError } from "./OsbError.js"
import { BrokerFailure } from "./OsbError.js"
import * as Protocol from "./Protocol.js"
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
  /** The HTTP Basic user name. No `Authorization` header is sent without it (AUTH-1). */
  readonly username?: string
  /** The HTTP Basic password; a `Redacted` keeps it out of logs. */
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
  /**
   * Sends `accepts_incomplete=true`, allowing the broker to answer 202 (provision, update, deprovision, bind,
   * unbind). Default `false`.
   */
  readonly acceptsIncomplete?: boolean
  /** Sent as `X-Broker-API-Originating-Identity`: the platform and the user who caused the request (OID-1). */
  readonly originatingIdentity?: OriginatingIdentity
  /** `X-Broker-API-Request-Identity`; a random UUID when not given. */
  readonly requestIdentity?: string
  /** Extra headers for this request only, added after the configured ones. */
  readonly headers?: Readonly<Record<string, string>>
}

/**
 * A raw exchange: what was sent and what came back.
 *
 * @since 0.1.0
 * @category models
 */
export interface RawResponse {
  /** The request's HTTP method. */
  readonly method: string
  /** The request's path and query string, as sent. */
  readonly path: string
  /** The HTTP status of the answer. */
  readonly status: number
  /** The answer's headers, with lower-case names. */
  readonly headers: Readonly<Record<string, string>>
  /** The answer's body as text (empty when there is none). */
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
    /** The request's HTTP method. */
    method: Schema.String,
    /** The request's path. */
    path: Schema.String,
    /** The status the broker answered. */
    status: Schema.Number,
    /** The body the broker answered, as text. */
    body: Schema.String,
    /**
     * What the protocol does not allow about it (a status the endpoint cannot answer, a body that breaks its
     * schema...).
     */
    reason: Schema.String
  }
) {
  /** One line: the request, the reason, the status and the first 200 characters of the body. */
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
  /**
   * Which success it is (`Created`, `AlreadyExists`, `Accepted`, `Updated`, `Deleted`, `Ok`), from
   * `Protocol.endpoints`.
   */
  readonly _tag: Tag
  /** The HTTP status (200, 201 or 202). */
  readonly status: number
  /** The decoded and validated body. */
  readonly body: A
  /** The answer's headers, with lower-case names. */
  readonly headers: Readonly<Record<string, string>>
}

/**
 * A `last_operation` answer with its `Retry-After` (seconds), if any.
 *
 * @since 0.1.0
 * @category models
 */
export interface LastOperation extends LastOperationBody {
  /**
   * How long the broker asks the platform to wait before polling again, from `Retry-After` (seconds or an HTTP date);
   * `None` when absent (LO-5).
   */
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
  /**
   * `GET /v2/catalog` (E1): the decoded catalog. Error answers fail with the matching `OsbError`; an answer the spec
   * does not allow fails with `UnexpectedResponse`.
   */
  readonly catalog: (options?: CallOptions) => Effect.Effect<CatalogBody, ClientError>
  /**
   * `PUT /v2/service_instances/:instance_id` (E2): 201 `Created`, 200 `AlreadyExists` or, with `acceptsIncomplete`,
   * 202 `Accepted` with the operation to poll. Error answers fail with the matching `OsbError`; an answer the spec
   * does not allow fails with `UnexpectedResponse`.
   */
  readonly provision: (
    instanceId: string,
    body: ProvisionRequestBody,
    options?: CallOptions
  ) => Effect.Effect<
    Answer<"Created" | "AlreadyExists" | "Accepted", ProvisionResponseBody>,
    ClientError
  >
  /**
   * `GET /v2/service_instances/:instance_id` (E3), with the optional `service_id`/`plan_id` hints. Error answers fail
   * with the matching `OsbError`; an answer the spec does not allow fails with `UnexpectedResponse`.
   */
  readonly getInstance: (
    instanceId: string,
    options?: CallOptions & { readonly serviceId?: string; readonly planId?: string }
  ) => Effect.Effect<FetchInstanceBody, ClientError>
  /**
   * `PATCH /v2/service_instances/:instance_id` (E4): 200 `Updated` or 202 `Accepted`. Error answers fail with the
   * matching `OsbError`; an answer the spec does not allow fails with `UnexpectedResponse`.
   */
  readonly update: (
    instanceId: string,
    body: UpdateRequestBody,
    options?: CallOptions
  ) => Effect.Effect<Answer<"Updated" | "Accepted", UpdateResponseBody>, ClientError>
  /**
   * `DELETE /v2/service_instances/:instance_id` (E5) with the required `service_id` and `plan_id`: 200 `Deleted` or
   * 202 `Accepted`; an unknown instance fails with `Gone`. Error answers fail with the matching `OsbError`; an answer
   * the spec does not allow fails with `UnexpectedResponse`.
   */
  readonly deprovision: (
    instanceId: string,
    ids: { readonly serviceId: string; readonly planId: string },
    options?: CallOptions
  ) => Effect.Effect<Answer<"Deleted" | "Accepted", AsyncOperationBody>, ClientError>
  /**
   * `GET /v2/service_instances/:instance_id/last_operation` (E6) with the optional `operation` (percent-encoded for
   * you) and hints: the state and `Retry-After`. See {@link pollUntilDone}. Error answers fail with the matching
   * `OsbError`; an answer the spec does not allow fails with `UnexpectedResponse`.
   */
  readonly lastOperation: (
    instanceId: string,
    options?: CallOptions & { readonly operation?: string; readonly serviceId?: string; readonly planId?: string }
  ) => Effect.Effect<LastOperation, ClientError>
  /**
   * `PUT .../service_bindings/:binding_id` (E7): 201 `Created` or 200 `AlreadyExists` with the binding, or 202
   * `Accepted` with the operation to poll. Error answers fail with the matching `OsbError`; an answer the spec does
   * not allow fails with `UnexpectedResponse`.
   */
  readonly bind: (
    instanceId: string,
    bindingId: string,
    body: BindRequestBody,
    options?: CallOptions
  ) => Effect.Effect<
    Answer<"Created" | "AlreadyExists", BindingResponseBody> | Answer<"Accepted", AsyncOperationBody>,
    ClientError
  >
  /**
   * `GET .../service_bindings/:binding_id` (E8): the binding with its parameters. Error answers fail with the
   * matching `OsbError`; an answer the spec does not allow fails with `UnexpectedResponse`.
   */
  readonly getBinding: (
    instanceId: string,
    bindingId: string,
    options?: CallOptions & { readonly serviceId?: string; readonly planId?: string }
  ) => Effect.Effect<FetchBindingBody, ClientError>
  /**
   * `DELETE .../service_bindings/:binding_id` (E9) with the required `service_id` and `plan_id`: 200 `Deleted` or 202
   * `Accepted`; an unknown binding fails with `Gone`. Error answers fail with the matching `OsbError`; an answer the
   * spec does not allow fails with `UnexpectedResponse`.
   */
  readonly unbind: (
    instanceId: string,
    bindingId: string,
    ids: { readonly serviceId: string; readonly planId: string },
    options?: CallOptions
  ) => Effect.Effect<Answer<"Deleted" | "Accepted", AsyncOperationBody>, ClientError>
  /**
   * `GET .../service_bindings/:binding_id/last_operation` (E10): the state of an asynchronous bind or unbind. Error
   * answers fail with the matching `OsbError`; an answer the spec does not allow fails with `UnexpectedResponse`.
   */
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

export {
  /**
   * Maps an error answer to the OSB error it stands for, with the data table `Protocol.errors`: the status and the
   * `error` code pick the error, among those the endpoint may answer (`Protocol.answerableErrors`) when `endpoint`
   * is given; `instance_usable`/`update_repeatable`, the `Retry-After` of a 503, the `Allow` of a 405 and the
   * limit a 413 states are kept. Any other 5xx without a code is a `BrokerFailure` (or the endpoint's failure with
   * flags). An answer no error of the table describes (an unknown `error` code, a status the endpoint may not
   * answer) is `None`.
   *
   * @since 0.1.0
   * @category decoding
   */
  errorFromResponse,
  /**
   * Parses a `Retry-After` header (seconds or an HTTP date) into a duration.
   *
   * @since 0.1.0
   * @category decoding
   */
  parseRetryAfter
} from "./internal/clientErrors.js"

// -----------------------------------------------------------------------------
// the client
// -----------------------------------------------------------------------------

/**
 * The answer of an endpoint: one `Answer` per success status of its table entry, with that entry's answer tag
 * and body type.
 *
 * @since 0.1.0
 * @category models
 */
export type AnswerOf<K extends Protocol.EndpointName> = {
  readonly [S in keyof (typeof Protocol.endpoints)[K]["successes"]]:
    (typeof Protocol.endpoints)[K]["successes"][S] extends {
      /** The success's tag in `Protocol.endpoints`. */
      readonly answer: infer Tag extends string
      /** The success's body schema in `Protocol.endpoints`. */
      readonly body: infer Body extends Schema.Schema.AnyNoContext
    } ? Answer<Tag, Schema.Schema.Type<Body>>
      : never
}[keyof (typeof Protocol.endpoints)[K]["successes"]]

/**
 * Builds the client on the `HttpClient` in context.
 *
 * @example
 * ```ts
 * import { FetchHttpClient } from "@effect/platform"
 * import { Effect } from "effect"
 * import { OsbClient } from "effect-osb"
 *
 * export const program = Effect.gen(function*() {
 *   const client = yield* OsbClient.make({ url: "http://127.0.0.1:8080", username: "admin", password: "admin" })
 *   const catalog = yield* client.catalog()
 *   const offering = catalog.services[0]!
 *   const answer = yield* client.provision(
 *     "instance-1",
 *     { service_id: offering.id, plan_id: offering.plans[0].id },
 *     { acceptsIncomplete: true }
 *   )
 *   yield* Effect.log(`${answer._tag} (${answer.status})`) // Created (201), or Accepted (202) when asynchronous
 * }).pipe(Effect.provide(FetchHttpClient.layer))
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (config: OsbClientConfig): Effect.Effect<OsbClientService, never, HttpClient.HttpClient> =>
  Effect.map(HttpClient.HttpClient, (http) => {
    const raw = makeRaw(http, config)

    const headersFor = (options: CallOptions | undefined): Record<string, string> => ({
      "x-broker-api-request-identity": options?.requestIdentity ?? crypto.randomUUID(),
      ...(options?.originatingIdentity === undefined
        ? {}
        : { "x-broker-api-originating-identity": formatOriginatingIdentity(options.originatingIdentity) }),
      ...options?.headers
    })

    /** Decodes a success body with the endpoint's table entry, or maps an error answer, or reports it. */
    const expect = <K extends Protocol.EndpointName>(
      name: K,
      response: RawResponse
    ): Effect.Effect<AnswerOf<K>, OsbError | UnexpectedResponse> =>
      Either.match(readAnswer(name, response), {
        onLeft: (failure) =>
          Effect.fail(
            typeof failure === "string"
              ? new UnexpectedResponse({
                method: response.method,
                path: response.path,
                status: response.status,
                body: response.text,
                reason: failure
              })
              : failure
          ),
        onRight: (answer) => Effect.succeed(answer as AnswerOf<K>)
      })

    /** Sends a request to an endpoint of the table: its method, its path with the ids, the given query. */
    const send = <K extends Protocol.EndpointName>(
      name: K,
      ids: ReadonlyArray<string>,
      options: CallOptions | undefined,
      request: { readonly query?: Readonly<Record<string, string | undefined>>; readonly body?: unknown } = {}
    ) =>
      Effect.flatMap(
        raw(Protocol.endpoints[name].method, Protocol.buildPath(name, ids), {
          ...request,
          headers: headersFor(options)
        }),
        (response) => expect(name, response)
      )

    const query = (options: { readonly acceptsIncomplete?: boolean } | undefined) =>
      options?.acceptsIncomplete === true ? { accepts_incomplete: "true" } : {}

    const hints = (options: { readonly serviceId?: string; readonly planId?: string } | undefined) => ({
      service_id: options?.serviceId,
      plan_id: options?.planId
    })

    const lastOperationOf = (
      name: "lastOperation" | "lastBindingOperation",
      ids: ReadonlyArray<string>,
      options: Parameters<OsbClientService["lastOperation"]>[1]
    ) =>
      Effect.gen(function*() {
        const answer = yield* send(name, ids, options, { query: { ...hints(options), operation: options?.operation } })
        const now = yield* Clock.currentTimeMillis
        return { ...answer.body, retryAfter: parseRetryAfter(answer.headers["retry-after"], now) }
      })

    const bodyOf = <K extends "provision" | "update" | "bind">(name: K, body: Protocol.RequestBodyOf<K>): unknown =>
      Schema.encodeSync(Protocol.endpoints[name].body as Schema.Schema.AnyNoContext)(body)

    return {
      raw,
      catalog: (options) =>
        Effect.flatMap(
          send("catalog", [], options),
          (answer) =>
            answer._tag === "Ok" ? Effect.succeed(answer.body) : Effect.fail(
              new UnexpectedResponse({
                method: "GET",
                path: Protocol.routes.catalog,
                status: answer.status,
                body: "",
                reason: "304 Not Modified: the request carried If-None-Match, and this client keeps no catalog to reuse"
              })
            )
        ),
      provision: (instanceId, body, options) =>
        send("provision", [instanceId], options, { query: query(options), body: bodyOf("provision", body) }),
      getInstance: (instanceId, options) =>
        Effect.map(send("getInstance", [instanceId], options, { query: hints(options) }), (answer) => answer.body),
      update: (instanceId, body, options) =>
        send("update", [instanceId], options, { query: query(options), body: bodyOf("update", body) }),
      deprovision: (instanceId, ids, options) =>
        send("deprovision", [instanceId], options, {
          query: { ...query(options), service_id: ids.serviceId, plan_id: ids.planId }
        }),
      lastOperation: (instanceId, options) => lastOperationOf("lastOperation", [instanceId], options),
      bind: (instanceId, bindingId, body, options) =>
        send("bind", [instanceId, bindingId], options, { query: query(options), body: bodyOf("bind", body) }),
      getBinding: (instanceId, bindingId, options) =>
        Effect.map(
          send("getBinding", [instanceId, bindingId], options, { query: hints(options) }),
          (answer) => answer.body
        ),
      unbind: (instanceId, bindingId, ids, options) =>
        send("unbind", [instanceId, bindingId], options, {
          query: { ...query(options), service_id: ids.serviceId, plan_id: ids.planId }
        }),
      lastBindingOperation: (instanceId, bindingId, options) =>
        lastOperationOf("lastBindingOperation", [instanceId, bindingId], options)
    }
  })

/**
 * The client as a layer over the `HttpClient` in context.
 *
 * @example
 * ```ts
 * import { FetchHttpClient } from "@effect/platform"
 * import { Effect, Layer } from "effect"
 * import { OsbClient } from "effect-osb"
 *
 * const Broker = OsbClient.layer({ url: "https://broker.example.com", username: "platform", password: "s3cret" })
 *   .pipe(Layer.provide(FetchHttpClient.layer))
 *
 * // deprovision and wait for the end (a 410 while polling counts as done)
 * export const deleteInstance = (instanceId: string, serviceId: string, planId: string) =>
 *   Effect.gen(function*() {
 *     const client = yield* OsbClient.OsbClient
 *     const answer = yield* client.deprovision(instanceId, { serviceId, planId }, { acceptsIncomplete: true })
 *     if (answer._tag === "Accepted") {
 *       const operation = answer.body.operation
 *       yield* OsbClient.pollUntilDone(client.lastOperation(instanceId, operation === undefined ? {} : { operation }))
 *     }
 *   }).pipe(Effect.provide(Broker))
 * ```
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
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { OsbClient } from "effect-osb"
 *
 * // follow an asynchronous provision to its end, for at most 15 minutes
 * export const provisioned = (client: OsbClient.OsbClientService, instanceId: string, operation: string) =>
 *   OsbClient.pollUntilDone(client.lastOperation(instanceId, { operation }), { maxDuration: "15 minutes" }).pipe(
 *     Effect.map((last) => last.state === "succeeded")
 *   )
 * ```
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
