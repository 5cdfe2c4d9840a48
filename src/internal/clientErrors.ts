/**
 * The client's reading of error answers: the status, the `error` code and the flags of an answer pick the OSB
 * error it stands for in `Protocol.errors` (among those the endpoint may answer), and each error is rebuilt with
 * what the answer carries (description, flags, `Retry-After`, `Allow`, the limit a 413 states). The inverse of
 * `OsbError.errorTable`, total by construction.
 *
 * @internal
 */
import * as Duration from "effect/Duration"
import * as Either from "effect/Either"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import { ErrorBody } from "../Model.js"
import type { OsbError } from "../OsbError.js"
import {
  AsyncRequired,
  BadRequest,
  BrokerFailure,
  ConcurrencyError,
  Conflict,
  DeprovisionFailure,
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
} from "../OsbError.js"
import * as Protocol from "../Protocol.js"

/** An error body, unknown fields ignored. */
const decodeErrorBody = Schema.decodeUnknownEither(ErrorBody, { onExcessProperty: "ignore" })

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

/** An error answer as it came over the wire. */
interface WireError {
  /** The answer's HTTP status. */
  readonly status: number
  /** The answer's body, decoded as an `ErrorBody` (empty when it is not one). */
  readonly body: ErrorBody
  /** The answer's headers, with lower-case names. */
  readonly headers: Readonly<Record<string, string | undefined>>
}

/** The description, or a text naming the status when the answer has none. */
const describedAs = (wire: WireError): string => wire.body.description ?? `The broker answered ${wire.status}.`
/** The description, only when the answer has one. */
const optionalDescription = (wire: WireError): { readonly description?: string } =>
  wire.body.description === undefined ? {} : { description: wire.body.description }
/** `instance_usable` and `update_repeatable`, as far as the answer has them. */
const flagsOf = (wire: WireError): { readonly instanceUsable?: boolean; readonly updateRepeatable?: boolean } => ({
  ...(wire.body.instance_usable === undefined ? {} : { instanceUsable: wire.body.instance_usable }),
  ...(wire.body.update_repeatable === undefined ? {} : { updateRepeatable: wire.body.update_repeatable })
})
/** `Retry-After` in whole seconds (a number of seconds, or an HTTP date counted from now). */
const retryAfterSecondsOf = (wire: WireError): { readonly retryAfterSeconds?: number } =>
  Option.match(parseRetryAfter(wire.headers["retry-after"], Date.now()), {
    onNone: () => ({}),
    onSome: (duration) => ({ retryAfterSeconds: Math.ceil(Duration.toSeconds(duration)) })
  })
/** The byte limit of a 413, when its description states it ("... limit of 1048576 bytes"). */
const limitOf = (wire: WireError): { readonly limit?: number } => {
  const match = /\blimit of (\d{1,15}) bytes\b/.exec(wire.body.description ?? "")
  return match === null ? {} : { limit: Number(match[1]) }
}

/** How each error is read back from an answer: the inverse of `OsbError.errorTable`, total by construction. */
const decoders: { readonly [K in Protocol.ErrorTag]: (wire: WireError) => Extract<OsbError, { readonly _tag: K }> } = {
  BadRequest: (wire) => new BadRequest({ description: describedAs(wire) }),
  Unauthorized: (wire) => new Unauthorized(optionalDescription(wire)),
  NotFound: (wire) => new NotFound(optionalDescription(wire)),
  MethodNotAllowed: (wire) =>
    new MethodNotAllowed({
      allowed: (wire.headers["allow"] ?? "").split(",").map((method) => method.trim()).filter((m) => m.length > 0)
    }),
  Conflict: (wire) => new Conflict(optionalDescription(wire)),
  Gone: () => new Gone(),
  PreconditionFailed: (wire) => new PreconditionFailed({ description: describedAs(wire) }),
  PayloadTooLarge: (wire) => new PayloadTooLarge({ ...optionalDescription(wire), ...limitOf(wire) }),
  AsyncRequired: (wire) => new AsyncRequired(optionalDescription(wire)),
  ConcurrencyError: (wire) => new ConcurrencyError(optionalDescription(wire)),
  RequiresApp: (wire) => new RequiresApp(optionalDescription(wire)),
  MaintenanceInfoConflict: (wire) => new MaintenanceInfoConflict(optionalDescription(wire)),
  UpdateNotSupported: (wire) => new UpdateNotSupported({ description: describedAs(wire), ...flagsOf(wire) }),
  BrokerFailure: (wire) => new BrokerFailure({ description: describedAs(wire) }),
  UpdateFailure: (wire) => new UpdateFailure({ description: describedAs(wire), ...flagsOf(wire) }),
  DeprovisionFailure: (wire) => new DeprovisionFailure({ description: describedAs(wire), ...flagsOf(wire) }),
  ServiceUnavailable: (wire) => new ServiceUnavailable({ description: describedAs(wire), ...retryAfterSecondsOf(wire) })
}

/** The flags an error body carries. */
const presentFlags = (body: ErrorBody): ReadonlyArray<Protocol.ErrorFlag> => [
  ...(body.instance_usable === undefined ? [] : ["instance_usable" as const]),
  ...(body.update_repeatable === undefined ? [] : ["update_repeatable" as const])
]

/**
 * The error an answer stands for among `candidates`: same status, same `error` code (none for none), and of
 * those the one with the fewest body flags that still covers the answer's flags.
 */
const select = (
  candidates: ReadonlyArray<Protocol.ErrorTag>,
  status: number,
  body: ErrorBody
): Protocol.ErrorTag | undefined => {
  // codes tell errors apart only where the table has coded errors (422); elsewhere a code is informational
  const coded = Protocol.errorTags.some((tag) => {
    const spec: Protocol.ErrorSpec = Protocol.errors[tag]
    return spec.status === status && spec.code !== undefined
  })
  const matching = candidates.filter((tag) => {
    const spec: Protocol.ErrorSpec = Protocol.errors[tag]
    return spec.status === status && (coded ? spec.code === body.error : true)
  }).sort((a, b) => Protocol.errors[a].flags.length - Protocol.errors[b].flags.length)
  const flags = presentFlags(body)
  const covering = matching.find((tag) =>
    flags.every((flag) => (Protocol.errors[tag].flags as ReadonlyArray<Protocol.ErrorFlag>).includes(flag))
  )
  return covering ?? matching[matching.length - 1]
}

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
export const errorFromResponse = (
  status: number,
  json: unknown,
  options: {
    readonly headers?: Readonly<Record<string, string | undefined>>
    readonly endpoint?: Protocol.EndpointName
  } = {}
): Option.Option<OsbError> => {
  const body = Either.getOrElse(decodeErrorBody(json), () => ({}) as ErrorBody)
  const candidates = options.endpoint === undefined ? Protocol.errorTags : Protocol.answerableErrors(options.endpoint)
  const tag = select(candidates, status, body) ??
    (status > 500 && body.error === undefined ? select(candidates, 500, body) : undefined)
  if (tag === undefined) return Option.none()
  const decode = decoders[tag] as (wire: WireError) => OsbError
  return Option.some(decode({ status, body, headers: options.headers ?? {} }))
}

/**
 * Why an answer maps to no OSB error, for `UnexpectedResponse`: an unknown 422 code, or a status (with its code)
 * the endpoint may not answer.
 *
 * @internal
 */
export const unmappedReason = (status: number, json: unknown): string => {
  const code = Either.match(decodeErrorBody(json), { onLeft: () => undefined, onRight: (body) => body.error })
  if (status === 422 && code !== undefined && !(Protocol.errorCodes as ReadonlyArray<string>).includes(code)) {
    return `the error code "${code}" is not an OSB error code`
  }
  return code === undefined
    ? "this status is not allowed here"
    : `this status with error code "${code}" is not allowed here`
}
