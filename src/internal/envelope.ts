/**
 * The envelope around every OSB request: authentication, then the `X-Broker-API-Version` check, then refusal
 * while the broker drains, then the originating identity; around the step it runs: errors rendered through the
 * error table, defects logged as a generic 500, the request identity echoed and the request log line written.
 * Steps known at once stay `Exit`s (see `fast.ts`), so a refused credential is answered without a fiber.
 *
 * @internal
 */
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Exit from "effect/Exit"
import * as Option from "effect/Option"
import type * as Tracer from "effect/Tracer"
import type { BrokerAuthService } from "../BrokerAuth.js"
import type { BrokerLifecycleService } from "../BrokerLifecycle.js"
import { refused, unavailableIn } from "../BrokerStore.js"
import type { OsbError } from "../OsbError.js"
import { BadRequest, isOsbError, PreconditionFailed, ServiceUnavailable } from "../OsbError.js"
import type { ApiVersion, RequestInfo } from "../RequestInfo.js"
import {
  compareApiVersion,
  formatApiVersion,
  latestApiVersion,
  parseApiVersion,
  parseOriginatingIdentity
} from "../RequestInfo.js"
import type { RequestLogEntry } from "../RequestLog.js"
import { safeValue } from "../RequestLog.js"
import * as Fast from "./fast.js"
import type { OsbHttpResponse } from "./render.js"
import { internalError, renderError } from "./render.js"
import type { OsbHttpRequest } from "./request.js"

/** What the envelope needs. @internal */
export interface EnvelopeOptions {
  readonly auth: BrokerAuthService
  readonly lifecycle: Option.Option<BrokerLifecycleService>
  readonly sink: Option.Option<(entry: RequestLogEntry) => void>
  /** Oldest accepted version; none accepts any 2.x. */
  readonly minimum: Option.Option<ApiVersion>
  readonly strictIdentity: boolean
  readonly requestLog: boolean
  /** `Retry-After` seconds of a 503 while the store is unavailable. */
  readonly retryAfter: number
  /** Tracing is on: the request log line carries the current span's trace and span ids. */
  readonly traced: boolean
}

/** Runs a step that needs the decoded request info inside the envelope. @internal */
export type Envelope = (
  request: OsbHttpRequest,
  route: string,
  inner: (info: RequestInfo) => Effect.Effect<OsbHttpResponse, OsbError>
) => Effect.Effect<OsbHttpResponse>

/** Parses `minimumApiVersion` (`"none"`: any 2.x); throws on a malformed value, a programming error. @internal */
export const minimumVersion = (option: string | undefined): Option.Option<ApiVersion> =>
  option === "none" ? Option.none() : Option.some(
    Option.getOrThrowWith(
      parseApiVersion(option ?? "2.13"),
      () => new Error(`minimumApiVersion must look like 2.13, not ${option}`)
    )
  )

const isMutating = (method: string): boolean => method !== "GET" && method !== "HEAD"

const shuttingDown = new ServiceUnavailable({
  description: "The broker is shutting down; retry the request shortly.",
  retryAfterSeconds: 5
})

/** The `X-Broker-API-Version` check (LIB-2, LIB-3). */
const versionChecker = (minimum: Option.Option<ApiVersion>) => {
  const supported = Option.match(minimum, {
    onNone: () => "2.x",
    onSome: (v) => `${formatApiVersion(v)} to ${formatApiVersion(latestApiVersion)} (and later 2.x)`
  })
  return (header: string | undefined): Either.Either<ApiVersion, BadRequest | PreconditionFailed> => {
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
}

/** The request info of the headers: version, originating identity (LIB-10), request identity. */
const requestInfoReader = (options: EnvelopeOptions) => {
  const checkVersion = versionChecker(options.minimum)
  return (request: OsbHttpRequest): Either.Either<RequestInfo, BadRequest | PreconditionFailed> => {
    const headers = request.headers
    const version = checkVersion(headers["x-broker-api-version"])
    if (Either.isLeft(version)) return Either.left(version.left)
    const originatingIdentity = parseOriginatingIdentity(headers["x-broker-api-originating-identity"])
    if (options.strictIdentity && originatingIdentity._tag === "Malformed") {
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
}

/** Refuses mutating requests with 503 while the broker drains. */
const drainCheck =
  (lifecycle: Option.Option<BrokerLifecycleService>) => (method: string): Effect.Effect<void, ServiceUnavailable> => {
    if (Option.isNone(lifecycle) || !isMutating(method)) return Exit.void
    const isDraining = lifecycle.value.isDraining
    if (isDraining !== undefined) return isDraining() ? Exit.fail(shuttingDown) : Exit.void
    return Fast.flatMap(lifecycle.value.draining, (draining) => (draining ? Exit.fail(shuttingDown) : Exit.void))
  }

/**
 * OSB errors are rendered; interruption stays interruption; an unreachable store is a 503; anything else is a
 * logged defect and a 500.
 */
const recovery = (retryAfter: number) => {
  const storeUnavailable = renderError(
    new ServiceUnavailable({
      description: "The broker's store is unavailable right now; retry the request shortly.",
      retryAfterSeconds: retryAfter
    })
  )
  return (cause: Cause.Cause<OsbError>): Effect.Effect<OsbHttpResponse> => {
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
}

/** Echoes the request identity (LIB-16) and writes the request log line. */
/** The entry with the ids of the span it was written in. */
const withSpanIds = (entry: RequestLogEntry, span: Tracer.Span): RequestLogEntry =>
  Object.assign(entry, { traceId: span.traceId, spanId: span.spanId })

const finisher = (options: EnvelopeOptions) =>
(
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
  if (!options.requestLog) return echoed
  const entryOf = (response: OsbHttpResponse): RequestLogEntry => ({
    method: request.method,
    route,
    status: response.status,
    ms: Math.round((performance.now() - started) * 10) / 10,
    requestIdentity: requestIdentity ?? "",
    address: request.remoteAddress ?? ""
  })
  if (Option.isSome(options.sink)) {
    const write = options.sink.value
    if (options.traced) {
      return Fast.flatMap(echoed, (response) =>
        Effect.map(Effect.option(Effect.currentSpan), (span) => {
          write(Option.isNone(span) ? entryOf(response) : withSpanIds(entryOf(response), span.value))
          return response
        }))
    }
    return Fast.map(echoed, (response) => {
      write(entryOf(response))
      return response
    })
  }
  return Fast.flatMap(echoed, (response) => {
    const entry = entryOf(response)
    return Effect.as(
      Effect.annotateLogs(Effect.logInfo("osb request"), {
        method: safeValue(entry.method),
        route: safeValue(entry.route),
        status: entry.status,
        ms: entry.ms,
        request_identity: safeValue(entry.requestIdentity)
      }),
      response
    )
  })
}

/**
 * The checks every request passes before its step, all from the headers: auth (401) -> version (400/412) ->
 * draining (503) -> identity (400 when strict). The request info on success.
 *
 * @internal
 */
export type Gate = (request: OsbHttpRequest) => Effect.Effect<RequestInfo, OsbError>

/** Builds the gate of `makeEnvelope`; a server adapter uses it to learn whether a body is worth reading. @internal */
export const makeGate = (options: EnvelopeOptions): Gate => {
  const requestInfo = requestInfoReader(options)
  const notDraining = drainCheck(options.lifecycle)
  const { auth } = options
  return (request) =>
    Fast.flatMap(auth.authenticate({ headers: request.headers, socket: request.socket }), (): Effect.Effect<
      RequestInfo,
      OsbError
    > => {
      const info = requestInfo(request)
      if (Either.isLeft(info)) return Exit.fail(info.left)
      return Fast.map(notDraining(request.method), () => info.right)
    })
}

/**
 * Builds the envelope: the gate (see `makeGate`), then the step; errors rendered, the request identity echoed,
 * the log line written.
 *
 * @internal
 */
export const makeEnvelope = (options: EnvelopeOptions, gate: Gate = makeGate(options)): Envelope => {
  const finish = finisher(options)
  const recover = recovery(options.retryAfter)
  const { requestLog } = options
  return (request, route, inner) => {
    const started = requestLog ? performance.now() : 0
    const handled = Fast.catchAllCause(Fast.flatMap(gate(request), inner), recover)
    return finish(request, route, started, handled)
  }
}
