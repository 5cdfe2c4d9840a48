/**
 * What every group of checks shares: the recorded results, one exchange with the cross-cutting checks every
 * answer gets (request-identity echo, error bodies), status and body expectations, and polling.
 *
 * @since 0.2.0
 */
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import { LastOperationBody } from "../Model.js"
import type { OsbClientService, RawResponse } from "../OsbClient.js"
import type { ErrorCode } from "../Protocol.js"
import * as Protocol from "../Protocol.js"
import type { ApiVersion, CheckId, CheckSpec } from "./checks.js"
import { appliesTo, checks } from "./checks.js"
import type { CheckOptions, CheckResult, Endpoint, Outcome } from "./model.js"
import { E } from "./model.js"
import * as Transport from "./transport.js"

/** Resources the checks created and have not deleted yet (the clean-up deletes them). */
export interface Created {
  readonly instances: Map<string, { readonly serviceId: string; readonly planId: string }>
  readonly bindings: Map<string, { readonly instanceId: string; readonly serviceId: string; readonly planId: string }>
}

/** What a result may carry besides its check, endpoint and title. */
export type Extra = Partial<Pick<CheckResult, "sent" | "expected" | "got" | "note">>

/** How a polled operation ended. */
export type PollEnd = "succeeded" | "failed" | "gone" | "broken" | "timeout"

/** The request options of one exchange. */
export type SendInit = Parameters<OsbClientService["raw"]>[2]

/** @internal */
export const isObject = (u: unknown): u is Record<string, unknown> =>
  typeof u === "object" && u !== null && !Array.isArray(u)

/** @internal */
export const field = (response: RawResponse, name: string): unknown =>
  isObject(response.json) ? response.json[name] : undefined

const oneLine = (text: string): string => text.replace(/\s+/g, " ").trim()

/** An answer in one line: status and body (cut at 300 characters). */
export const show = (r: RawResponse): string => {
  const text = oneLine(r.text)
  const body = text.length === 0 ? "(empty body)" : text.length > 300 ? `${text.slice(0, 300)}...` : text
  return `${r.status} ${body}`
}

/** A request in one line. */
export const sentOf = (r: RawResponse, body?: unknown): string =>
  `${r.method} ${r.path}${body === undefined ? "" : ` ${JSON.stringify(body).slice(0, 300)}`}`

/** Decodes a body against a schema (extra fields allowed); the first line of the problem on failure. */
export const validBody = <A, I>(schema: Schema.Schema<A, I>, json: unknown): Either.Either<A, string> =>
  Either.mapLeft(
    Schema.decodeUnknownEither(schema, { onExcessProperty: "ignore" })(json),
    (e) => e.message.split("\n")[0] ?? ""
  )

const isErrorCode = Schema.is(Protocol.ErrorCode)

/** The query of a last_operation poll: the ids, and the `operation` of the 202 when it had one. */
export const withOperation = (ids: Record<string, string>, operation: unknown): Record<string, string> =>
  typeof operation === "string" ? { ...ids, operation } : ids

/** A fresh id for anything the checker creates. */
export const newId = (): string => `effect-osb-check-${crypto.randomUUID()}`

/** The path of an instance (from the protocol table). */
export const instancePath = (id: string): string => Protocol.buildPath("provision", [id])

/** The path of a binding. */
export const bindingPath = (id: string, bindingId: string): string => Protocol.buildPath("bind", [id, bindingId])

/** The last_operation path of an instance. */
export const instanceOperationPath = (id: string): string => Protocol.buildPath("lastOperation", [id])

/** The last_operation path of a binding. */
export const bindingOperationPath = (id: string, bindingId: string): string =>
  Protocol.buildPath("lastBindingOperation", [id, bindingId])

/** The statuses the checks expect: success statuses, and the errors' statuses from the protocol's error table. */
export const status = {
  ok: 200,
  created: 201,
  accepted: 202,
  notModified: 304,
  badRequest: Protocol.errors.BadRequest.status,
  unauthorized: Protocol.errors.Unauthorized.status,
  notFound: Protocol.errors.NotFound.status,
  conflict: Protocol.errors.Conflict.status,
  gone: Protocol.errors.Gone.status,
  preconditionFailed: Protocol.errors.PreconditionFailed.status,
  unprocessable: Protocol.errors.AsyncRequired.status
} as const

/** The success statuses of an endpoint, from the protocol table. */
export const successes = (name: Protocol.EndpointName): ReadonlyArray<number> =>
  Object.keys(Protocol.endpoints[name].successes).map(Number)

/** The run's shared state and helpers. */
export interface Context {
  readonly client: OsbClientService
  readonly options: CheckOptions
  readonly apiVersion: ApiVersion
  readonly created: Created
  readonly results: Array<CheckResult>
  /** The endpoints that answered 202 at least once. */
  readonly accepted: ReadonlySet<Endpoint>
  /** Records a pass. */
  readonly pass: (id: CheckId, endpoint: Endpoint, title: string, extra?: Extra) => Effect.Effect<void>
  /** Records a miss: a failure for MUST checks (and everything with `strict`), a warning otherwise. */
  readonly miss: (id: CheckId, endpoint: Endpoint, title: string, extra?: Extra) => Effect.Effect<void>
  /** Records a pass or a miss. */
  readonly verdict: (
    id: CheckId,
    endpoint: Endpoint,
    title: string,
    ok: boolean,
    extra?: Extra
  ) => Effect.Effect<boolean>
  /** Records a skip with its reason. */
  readonly skip: (id: CheckId, endpoint: Endpoint, title: string, reason: string) => Effect.Effect<void>
  /** One exchange, with the cross-cutting checks. */
  readonly send: (
    endpoint: Endpoint,
    method: string,
    path: string,
    init?: SendInit,
    context?: { readonly operation?: "provision" | "other" }
  ) => Effect.Effect<RawResponse>
  /** One exchange with an endpoint of the protocol table: its label, method and path come from the table. */
  readonly call: (
    name: Protocol.EndpointName,
    ids: ReadonlyArray<string>,
    init?: SendInit,
    context?: { readonly operation?: "provision" | "other" }
  ) => Effect.Effect<RawResponse>
  /** Checks a status against the allowed ones. */
  readonly expectStatus: (
    id: CheckId,
    endpoint: Endpoint,
    title: string,
    response: RawResponse,
    allowed: ReadonlyArray<number>,
    sentBody?: unknown
  ) => Effect.Effect<boolean>
  /** Checks a body against a schema. */
  readonly expectSchema: <A, I>(
    id: CheckId,
    endpoint: Endpoint,
    title: string,
    response: RawResponse,
    schema: Schema.Schema<A, I>
  ) => Effect.Effect<Option.Option<A>>
  /** Checks that a 422 answer carries the error code the situation requires. */
  readonly expectCode: (
    id: CheckId,
    endpoint: Endpoint,
    title: string,
    response: RawResponse,
    code: ErrorCode,
    sentBody?: unknown
  ) => Effect.Effect<boolean>
  /** Checks a 200 answer's JSON object body (update, deprovision, unbind). */
  readonly expectJsonObject: (endpoint: Endpoint, title: string, response: RawResponse) => Effect.Effect<void>
  /** Checks the `operation` of a 202 answer. */
  readonly checkOperation: (endpoint: Endpoint, response: RawResponse, label: string) => Effect.Effect<void>
  /**
   * ASY-4: an identical repeat while an operation runs answers 202 with the same operation. A 202 with another
   * operation fails only when the first one still runs afterwards (else it had ended and the repeat may start a
   * new one: skipped, with that reason).
   */
  readonly checkRepeatWhileRunning: (
    endpoint: Endpoint,
    what: string,
    repeat: RawResponse,
    running: {
      readonly operation: unknown
      readonly poll: Endpoint
      readonly path: string
      readonly ids: Record<string, string>
    },
    sentBody: unknown
  ) => Effect.Effect<void>
  /** Polls a last_operation endpoint until done (LO-4, LO-5). */
  readonly poll: (
    endpoint: Endpoint,
    path: string,
    query: Record<string, string | undefined>,
    deleting: boolean,
    label: string
  ) => Effect.Effect<PollEnd>
  /** The cross-cutting checks that only report problems get one pass per endpoint when all was well. */
  readonly passCrossCutting: (endpoints: ReadonlyArray<Endpoint>) => Effect.Effect<void>
  /** Polls an operation started by a 202 (its `operation` sent back) until it ends; true when it succeeded. */
  readonly awaitOperation: (
    endpoint: Endpoint,
    path: string,
    ids: Record<string, string>,
    operation: unknown,
    what: string,
    label: string
  ) => Effect.Effect<boolean>
  /** Records the end of a poll that did not succeed; true when it succeeded. */
  readonly expectSucceeded: (endpoint: Endpoint, what: string, end: PollEnd) => Effect.Effect<boolean>
}

/** Makes the run's context. */
export const make = (client: OsbClientService, options: CheckOptions, created: Created): Context => {
  const results: Array<CheckResult> = []
  const apiVersion = options.apiVersion ?? "2.17"
  const operationTimeout = Duration.decode(options.operationTimeout ?? "5 minutes")
  const maxPoll = Duration.decode(options.maxPollInterval ?? "10 seconds")
  const gatedSkips = new Set<CheckId>()
  const echoFailures = new Set<Endpoint>()
  const errorBodyProblems = new Set<Endpoint>()
  const retryAfterPassed = new Set<Endpoint>()
  /** The endpoints whose operation reached a final state in time (LO-9 passes once per endpoint). */
  const inTimePassed = new Set<Endpoint>()
  const answered = new Set<Endpoint>()
  const accepted = new Set<Endpoint>()
  const errorsSeen = new Set<Endpoint>()

  const push = (id: CheckId, endpoint: Endpoint, title: string, outcome: Outcome, extra: Extra) =>
    Effect.suspend(() => {
      const spec: CheckSpec = checks[id]
      results.push({
        check: id,
        id: spec.requirements.join(", "),
        requirements: spec.requirements,
        level: spec.level,
        endpoint,
        title,
        outcome,
        ...extra
      })
      return options.onProgress === undefined ? Effect.void : options.onProgress(title, results.length)
    })

  /** A check of a newer API version than the one checked is skipped (once, whatever the number of calls). */
  const gated = (id: CheckId, endpoint: Endpoint, title: string): Option.Option<Effect.Effect<void>> => {
    if (appliesTo(id, apiVersion)) return Option.none()
    if (gatedSkips.has(id)) return Option.some(Effect.void)
    gatedSkips.add(id)
    return Option.some(
      push(id, endpoint, title, "skip", {
        note: `the rule came with OSB API ${(checks[id] as CheckSpec).since}; checking ${apiVersion} (--api-version)`
      })
    )
  }

  const pass: Context["pass"] = (id, endpoint, title, extra = {}) =>
    Option.getOrElse(gated(id, endpoint, title), () => push(id, endpoint, title, "pass", extra))

  const miss: Context["miss"] = (id, endpoint, title, extra = {}) =>
    Option.getOrElse(
      gated(id, endpoint, title),
      () =>
        push(
          id,
          endpoint,
          title,
          checks[id].level === "MUST" || options.strict === true ? "fail" : "warn",
          extra
        )
    )

  const verdict: Context["verdict"] = (id, endpoint, title, ok, extra = {}) =>
    Effect.as(ok ? pass(id, endpoint, title, extra) : miss(id, endpoint, title, extra), ok)

  const skip: Context["skip"] = (id, endpoint, title, reason) =>
    Option.getOrElse(gated(id, endpoint, title), () => push(id, endpoint, title, "skip", { note: reason }))

  /** Non-empty `error`/`description` strings (error bodies and last_operation bodies). */
  const emptyStrings = (response: RawResponse): ReadonlyArray<string> =>
    (response.status >= 400 ? ["error", "description"] : ["description"]).filter((name) => {
      const value = field(response, name)
      return value !== undefined && (typeof value !== "string" || value.length === 0)
    })

  const crossCutting = (
    endpoint: Endpoint,
    response: RawResponse,
    identity: string,
    operation: "provision" | "other" | undefined
  ) =>
    Effect.gen(function*() {
      if (response.status === 0) return
      answered.add(endpoint)
      if (response.status === status.accepted) accepted.add(endpoint)
      if (response.status >= 400) errorsSeen.add(endpoint)
      const echoed = response.headers["x-broker-api-request-identity"]
      if (echoed !== identity && !echoFailures.has(endpoint)) {
        echoFailures.add(endpoint)
        yield* miss("identity.echo", endpoint, "X-Broker-API-Request-Identity is echoed on the response", {
          sent: `${response.method} ${response.path} with X-Broker-API-Request-Identity: ${identity}`,
          expected: "the same header and value on the response",
          got: `${response.status} with ${echoed === undefined ? "no such header" : `"${echoed}"`}`
        })
      }
      const isLastOperation = endpoint === E.lastOperation || endpoint === E.lastBindingOperation
      if (response.status >= 400 || (isLastOperation && response.status === status.ok)) {
        const empty = emptyStrings(response)
        if (empty.length > 0) {
          yield* miss(
            "body.non-empty-strings",
            endpoint,
            `${empty.join(" and ")} in the answer is a non-empty string`,
            {
              sent: sentOf(response),
              expected: `no ${empty.map((name) => `"${name}"`).join(" or ")}, or a non-empty string`,
              got: show(response)
            }
          )
        }
      }
      if (response.status < 400) return
      if (!isObject(response.json)) {
        errorBodyProblems.add(endpoint)
        return yield* miss("error.json-object", endpoint, `the ${response.status} answer has a JSON object body`, {
          sent: sentOf(response),
          expected: "a JSON object (at least {})",
          got: show(response)
        })
      }
      const code = response.json["error"]
      if (
        response.status === status.unprocessable && typeof code === "string" && code.length > 0 && !isErrorCode(code)
      ) {
        errorBodyProblems.add(endpoint)
        yield* miss("error.known-code", endpoint, "an error code is one of the spec's codes", {
          sent: sentOf(response),
          expected: Protocol.errorCodes.join(", "),
          got: show(response)
        })
      }
      if (
        operation === "provision" &&
        (response.json["instance_usable"] !== undefined || response.json["update_repeatable"] !== undefined)
      ) {
        yield* miss(
          "error.no-update-flags",
          endpoint,
          "a provision error carries no instance_usable/update_repeatable",
          {
            sent: sentOf(response),
            expected: "neither field (MUST NOT)",
            got: show(response)
          }
        )
      }
    })

  const send: Context["send"] = (endpoint, method, path, init = {}, context = {}) =>
    Effect.gen(function*() {
      const identity = newId()
      const response = yield* client.raw(method, path, {
        ...init,
        headers: { "x-broker-api-request-identity": identity, ...init.headers }
      }).pipe(
        Effect.catchAll((error) =>
          Effect.succeed<RawResponse>({
            method,
            path,
            status: 0,
            headers: {},
            text: `transport error: ${Transport.oneLine(error)}`,
            json: undefined
          })
        )
      )
      yield* crossCutting(endpoint, response, identity, context.operation)
      return response
    })

  const call: Context["call"] = (name, ids, init, context) =>
    send(E[name], Protocol.endpoints[name].method, Protocol.buildPath(name, ids), init, context)

  const expectStatus: Context["expectStatus"] = (id, endpoint, title, response, allowed, sentBody) =>
    verdict(id, endpoint, title, allowed.includes(response.status), {
      sent: sentOf(response, sentBody),
      expected: allowed.join(" or "),
      got: show(response)
    })

  const expectSchema: Context["expectSchema"] = (id, endpoint, title, response, schema) =>
    Either.match(validBody(schema, response.json), {
      onLeft: (problem) =>
        Effect.as(
          miss(id, endpoint, title, {
            sent: sentOf(response),
            expected: "a valid body",
            got: `${show(response)} (${problem})`
          }),
          Option.none()
        ),
      onRight: (value) => Effect.as(pass(id, endpoint, title), Option.some(value))
    })

  const expectCode: Context["expectCode"] = (id, endpoint, title, response, code, sentBody) =>
    verdict(id, endpoint, title, field(response, "error") === code, {
      sent: sentOf(response, sentBody),
      expected: `422 {"error":"${code}"}`,
      got: show(response)
    })

  const expectJsonObject: Context["expectJsonObject"] = (endpoint, title, response) =>
    Effect.asVoid(verdict("response.json-object", endpoint, title, isObject(response.json), {
      sent: sentOf(response),
      expected: "a JSON object body",
      got: show(response)
    }))

  const checkOperation: Context["checkOperation"] = (endpoint, response, label) => {
    const operation = field(response, "operation")
    const ok = operation === undefined ||
      (typeof operation === "string" && operation.length > 0 && operation.length <= 10_000)
    return Effect.asVoid(verdict(
      "operation.valid",
      endpoint,
      `${label}: the 202 operation is a non-empty string of at most 10,000 characters`,
      ok,
      ok ? {} : { got: show(response) }
    ))
  }

  const checkRepeatWhileRunning: Context["checkRepeatWhileRunning"] = (endpoint, what, repeat, running, sentBody) =>
    Effect.gen(function*() {
      if (repeat.status !== status.accepted) {
        return yield* expectStatus(
          "repeat.while-running",
          endpoint,
          `${what} while running answers 202 (200 once finished)`,
          repeat,
          [status.ok, status.accepted],
          sentBody
        )
      }
      const title = `${what} while running answers 202 with the same operation`
      const extra = {
        sent: sentOf(repeat, sentBody),
        expected: `202 {"operation": ${JSON.stringify(running.operation)}}`,
        got: show(repeat)
      }
      if (field(repeat, "operation") === running.operation) {
        return yield* pass("repeat.while-running", endpoint, title, extra)
      }
      const first = yield* send(running.poll, "GET", running.path, {
        query: withOperation(running.ids, running.operation)
      })
      if (first.status === status.ok && field(first, "state") === "in progress") {
        return yield* miss("repeat.while-running", endpoint, title, extra)
      }
      yield* skip(
        "repeat.while-running",
        endpoint,
        title,
        `the repeat answered another operation, and the first one had ended (${
          show(first)
        }): the repeat may start a new one`
      )
    })

  const poll: Context["poll"] = (endpoint, path, query, deleting, label) =>
    Effect.gen(function*() {
      const started = Date.now()
      let checkedBody = false
      while (Date.now() - started < Duration.toMillis(operationTimeout)) {
        const response = yield* send(endpoint, "GET", path, { query })
        if (response.status === status.gone && deleting) {
          yield* pass(
            "lastOperation.gone-after-delete",
            endpoint,
            "a finished async delete answers 410 (or 200 succeeded)",
            {
              got: show(response)
            }
          )
          return "gone"
        }
        if (response.status !== status.ok) {
          yield* miss(
            "lastOperation.state",
            endpoint,
            `${label}: last_operation answers 200 while the operation is known`,
            {
              sent: sentOf(response),
              expected: deleting ? "200 (or 410 once the delete finished)" : "200",
              got: show(response)
            }
          )
          return "broken"
        }
        const body = validBody(LastOperationBody, response.json)
        if (Either.isLeft(body)) {
          yield* miss("lastOperation.state", endpoint, `${label}: last_operation has a valid state`, {
            sent: sentOf(response),
            expected: "{\"state\": \"in progress\" | \"succeeded\" | \"failed\", \"description\"?: string}",
            got: `${show(response)} (${body.left})`
          })
          return "broken"
        }
        if (!checkedBody) {
          checkedBody = true
          yield* pass("lastOperation.state", endpoint, `${label}: last_operation has a valid state`, {
            got: show(response)
          })
        }
        if (body.right.state !== "in progress") {
          if (!inTimePassed.has(endpoint)) {
            inTimePassed.add(endpoint)
            yield* pass("operation.in-time", endpoint, `${label}: the operation finishes within the time limit`)
          }
          return body.right.state
        }
        const retryAfter = response.headers["retry-after"]?.trim()
        const seconds = retryAfter !== undefined && /^\d+$/.test(retryAfter)
        if (seconds && !retryAfterPassed.has(endpoint)) {
          retryAfterPassed.add(endpoint)
          yield* pass("lastOperation.retry-after", endpoint, `${label}: Retry-After is a number of seconds`, {
            got: retryAfter
          })
        }
        if (retryAfter !== undefined && !seconds && Number.isNaN(Date.parse(retryAfter))) {
          yield* miss(
            "lastOperation.retry-after",
            endpoint,
            `${label}: Retry-After is a number of seconds or an HTTP date`,
            {
              got: retryAfter
            }
          )
        }
        const wait = seconds ? Duration.min(Duration.seconds(Number(retryAfter)), maxPoll) : Duration.millis(500)
        yield* Effect.sleep(Duration.max(wait, Duration.millis(100)))
      }
      yield* miss("operation.in-time", endpoint, `${label}: the operation finishes within the checker's time limit`, {
        expected: `a final state within ${Duration.format(operationTimeout)}`
      })
      return "timeout"
    })

  const expectSucceeded: Context["expectSucceeded"] = (endpoint, what, end) =>
    end === "succeeded" || end === "gone"
      ? Effect.succeed(true)
      : end === "broken"
      ? Effect.as(miss("operation.finishes", endpoint, `${what} succeeds`, { got: end }), false)
      : end === "failed"
      ? Effect.as(miss("operation.succeeds", endpoint, `${what} succeeds`, { got: "state: failed" }), false)
      : Effect.succeed(false)

  const passCrossCutting: Context["passCrossCutting"] = (endpoints) =>
    Effect.forEach(endpoints, (endpoint) =>
      Effect.gen(function*() {
        if (answered.has(endpoint) && !echoFailures.has(endpoint)) {
          yield* pass("identity.echo", endpoint, "X-Broker-API-Request-Identity is echoed on every response")
        }
        if (errorsSeen.has(endpoint) && !errorBodyProblems.has(endpoint)) {
          yield* pass("error.json-object", endpoint, "error answers carry JSON object bodies with the spec's codes")
        }
      }), { discard: true })

  const awaitOperation: Context["awaitOperation"] = (endpoint, path, ids, operation, what, label) =>
    Effect.flatMap(
      poll(endpoint, path, withOperation(ids, operation), false, label),
      (end) => expectSucceeded(endpoint, what, end)
    )

  return {
    call,
    awaitOperation,
    accepted,
    passCrossCutting,
    client,
    options,
    apiVersion,
    created,
    results,
    pass,
    miss,
    verdict,
    skip,
    send,
    expectStatus,
    expectSchema,
    expectCode,
    expectJsonObject,
    checkOperation,
    checkRepeatWhileRunning,
    poll,
    expectSucceeded
  }
}
