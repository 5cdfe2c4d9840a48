/**
 * Decoding of query values and JSON bodies for the router: strict, bounded, with errors naming the field.
 *
 * @internal
 */
import type * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Exit from "effect/Exit"
import * as ParseResult from "effect/ParseResult"
import * as Schema from "effect/Schema"
import type { Socket } from "node:net"
import { BadRequest, PayloadTooLarge } from "../OsbError.js"
import type { ServiceUnavailable } from "../OsbError.js"
import * as Fast from "./fast.js"
import { formatPath } from "./paths.js"

/** @internal */
export type Query = Readonly<Record<string, string | ReadonlyArray<string>>>

const maxDepth = 64

/** Iterative depth check, so hostile nesting is refused before anything recurses over it. @internal */
export const exceedsDepth = (value: unknown, limit: number = maxDepth): boolean => {
  const stack: Array<readonly [unknown, number]> = [[value, 1]]
  while (stack.length > 0) {
    const [current, depth] = stack.pop()!
    if (typeof current !== "object" || current === null) continue
    if (depth > limit) return true
    const children = Array.isArray(current) ? current : Object.values(current)
    for (const child of children) {
      if (typeof child === "object" && child !== null) stack.push([child, depth + 1])
    }
  }
  return false
}

/** A number literal that may overflow a double: an exponent of 3+ digits, or 309+ digits. */
const hugeNumberLiteral = /[eE]\+?\d{3}|\d{309}/

/**
 * The path of the first number in parsed JSON that is outside the double range (`1e400` parses to Infinity,
 * which JSON cannot carry: it would be stored as `null`). Only walked when the text has a literal that could
 * overflow. @internal
 */
export const nonFiniteNumberPath = (text: string, value: unknown): ReadonlyArray<PropertyKey> | undefined => {
  if (!hugeNumberLiteral.test(text)) return undefined
  const stack: Array<readonly [unknown, ReadonlyArray<PropertyKey>]> = [[value, []]]
  while (stack.length > 0) {
    const [current, path] = stack.pop()!
    if (typeof current === "number" && !Number.isFinite(current)) return path
    if (typeof current !== "object" || current === null) continue
    const entries: Array<readonly [PropertyKey, unknown]> = Array.isArray(current)
      ? current.map((child, i) => [i, child] as const)
      : Object.entries(current)
    for (let i = entries.length - 1; i >= 0; i--) stack.push([entries[i]![1], [...path, entries[i]![0]]])
  }
  return undefined
}

const jsonContentType = /^application\/(?:[\w.+-]+\+)?json\s*(?:;.*)?$/i

/**
 * A request as the OSB handler sees it, whatever server delivered it: lower-case header names, the URL's path
 * and query, and the body as text with the size limit already applied by the adapter.
 *
 * @internal
 */
export interface OsbHttpRequest {
  readonly method: string
  readonly url: string
  readonly headers: Readonly<Record<string, string | undefined>>
  /** The body; an adapter may read it only when this is run (after authentication). */
  readonly text: BodyText
  /** The client's address, when the adapter knows it (log lines, throttling). */
  readonly remoteAddress?: string
  /** The connection, when served on `node:http`/`node:https` (client certificates are read from it). */
  readonly socket?: Socket | undefined
}

/**
 * A request body as text: too large (413), unreadable (400), or refused because too many bodies are being
 * received at once (503).
 *
 * @internal
 */
export type BodyText = Effect.Effect<string, BadRequest | PayloadTooLarge | ServiceUnavailable>

/** The content type (missing means JSON, decision 11) and declared size checks, before the body is read. @internal */
export const checkBodyHeaders = (
  headers: Readonly<Record<string, string | undefined>>,
  maxBytes: number
): BadRequest | PayloadTooLarge | undefined => {
  const contentType = headers["content-type"]
  if (contentType !== undefined && !jsonContentType.test(contentType)) {
    return new BadRequest({
      description: `The Content-Type must be application/json, not "${contentType.slice(0, 100)}".`
    })
  }
  const declared = headers["content-length"]
  if (declared !== undefined && Number(declared) > maxBytes) return new PayloadTooLarge({ limit: maxBytes })
  return undefined
}

/** Parses a body text as a JSON object: size, syntax, object shape and nesting depth. @internal */
export const parseJsonObject = (
  text: string,
  maxBytes: number
): Either.Either<unknown, BadRequest | PayloadTooLarge> => {
  if (text.length > maxBytes / 3 && Buffer.byteLength(text, "utf8") > maxBytes) {
    return Either.left(new PayloadTooLarge({ limit: maxBytes }))
  }
  if (text.trim().length === 0) {
    return Either.left(new BadRequest({ description: "The request body must be a JSON object; it is empty." }))
  }
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch (error) {
    const detail = error instanceof SyntaxError ? `: ${error.message.slice(0, 200)}` : ""
    return Either.left(new BadRequest({ description: `The request body is not valid JSON${detail}.` }))
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    return Either.left(new BadRequest({ description: "The request body must be a JSON object." }))
  }
  if (exceedsDepth(value)) {
    return Either.left(new BadRequest({ description: `The request body is nested deeper than ${maxDepth} levels.` }))
  }
  const huge = nonFiniteNumberPath(text, value)
  if (huge !== undefined) {
    return Either.left(
      new BadRequest({
        description: `Invalid request body: ${
          huge.length === 0 ? "the body" : formatPath(huge)
        }: the number is outside the range of a double.`
      })
    )
  }
  return Either.right(value)
}

/**
 * Reads the request body as a JSON object: checks the content type, the size limit (413), JSON syntax, object
 * shape and nesting depth (400). Synchronous when the adapter has already read the body.
 *
 * @internal
 */
export const readJsonObject = (
  request: OsbHttpRequest,
  maxBytes: number
): Effect.Effect<unknown, BadRequest | PayloadTooLarge | ServiceUnavailable> => {
  const refused = checkBodyHeaders(request.headers, maxBytes)
  if (refused !== undefined) return Exit.fail(refused)
  return Fast.flatMap(request.text, (text) => Fast.fromEither(parseJsonObject(text, maxBytes)))
}

/** The error a body reader reports when the limit was passed or the stream broke. @internal */
export const bodyReadError = (tooLarge: boolean, maxBytes: number): BadRequest | PayloadTooLarge =>
  tooLarge
    ? new PayloadTooLarge({ limit: maxBytes })
    : new BadRequest({ description: "The request body could not be read." })

const issueMessage = (issue: ParseResult.ArrayFormatterIssue): string =>
  issue._tag === "Missing" ? "is required" : issue.message

/**
 * Formats a parse error as `field.path: message; ...`, the first issue per path, at most five.
 *
 * @internal
 */
export const describeParseError = (error: ParseResult.ParseError): string => {
  const seen = new Set<string>()
  const parts: Array<string> = []
  for (const issue of ParseResult.ArrayFormatter.formatErrorSync(error)) {
    const path = formatPath(issue.path)
    if (seen.has(path)) continue
    seen.add(path)
    parts.push(`${path}: ${issueMessage(issue)}`)
  }
  const shown = parts.slice(0, 5).join("; ")
  return parts.length > 5 ? `${shown}; and ${parts.length - 5} more` : shown
}

/** A decoder built once per schema: unknown fields ignored (EXT-1), all errors collected. @internal */
export const bodyDecoder = <A, I>(schema: Schema.Schema<A, I>) => {
  const decode = Schema.decodeUnknownEither(schema, { errors: "all", onExcessProperty: "ignore" })
  return (value: unknown): Either.Either<A, BadRequest> =>
    Either.mapLeft(
      decode(value),
      (error) => new BadRequest({ description: `Invalid request body: ${describeParseError(error)}.` })
    )
}
