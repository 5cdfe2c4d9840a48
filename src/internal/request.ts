/**
 * Decoding of query values and JSON bodies for the router: strict, bounded, with errors naming the field.
 *
 * @internal
 */
import * as HttpIncomingMessage from "@effect/platform/HttpIncomingMessage"
import type * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Option from "effect/Option"
import * as ParseResult from "effect/ParseResult"
import * as Schema from "effect/Schema"
import { BadRequest, PayloadTooLarge } from "../OsbError.js"
import { formatPath } from "./paths.js"

/** @internal */
export type Query = Readonly<Record<string, string | ReadonlyArray<string>>>

/** @internal */
export const queryValue = (query: Query, name: string): Either.Either<Option.Option<string>, BadRequest> => {
  const value = query[name]
  if (value === undefined) return Either.right(Option.none())
  if (typeof value !== "string") {
    return Either.left(new BadRequest({ description: `The query parameter ${name} must be given at most once.` }))
  }
  if (value.length === 0) {
    return Either.left(new BadRequest({ description: `The query parameter ${name} must not be empty.` }))
  }
  return Either.right(Option.some(value))
}

/** @internal */
export const requiredQueryValue = (query: Query, name: string): Either.Either<string, BadRequest> =>
  Either.flatMap(queryValue(query, name), (value) =>
    Option.isSome(value)
      ? Either.right(value.value)
      : Either.left(new BadRequest({ description: `The query parameter ${name} is required.` })))

/** `accepts_incomplete`: absent means false; only `true` and `false` are accepted. @internal */
export const acceptsIncomplete = (query: Query): Either.Either<boolean, BadRequest> => {
  const value = query["accepts_incomplete"]
  if (value === undefined || value === "false") return Either.right(false)
  if (value === "true") return Either.right(true)
  return Either.left(
    new BadRequest({ description: "The query parameter accepts_incomplete must be either true or false." })
  )
}

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

const jsonContentType = /^application\/(?:[\w.+-]+\+)?json\s*(?:;.*)?$/i

/**
 * Reads the request body as a JSON object: checks the content type (missing means JSON, decision 19), the size
 * limit (413), JSON syntax, object shape and nesting depth (400).
 *
 * @internal
 */
export const readJsonObject = (
  request: HttpServerRequest.HttpServerRequest,
  maxBytes: number
): Effect.Effect<unknown, BadRequest | PayloadTooLarge> => {
  const contentType = request.headers["content-type"]
  if (contentType !== undefined && !jsonContentType.test(contentType)) {
    return Effect.fail(
      new BadRequest({ description: `The Content-Type must be application/json, not "${contentType.slice(0, 100)}".` })
    )
  }
  const declared = request.headers["content-length"]
  if (declared !== undefined && Number(declared) > maxBytes) {
    return Effect.fail(new PayloadTooLarge({ limit: maxBytes }))
  }
  return request.text.pipe(
    HttpIncomingMessage.withMaxBodySize(Option.some(maxBytes)),
    Effect.catchAll((error): Effect.Effect<never, BadRequest | PayloadTooLarge> =>
      error.cause instanceof Error && error.cause.message.includes("maxBytes")
        ? Effect.fail(new PayloadTooLarge({ limit: maxBytes }))
        : Effect.fail(new BadRequest({ description: "The request body could not be read." }))
    ),
    Effect.flatMap((text): Effect.Effect<unknown, BadRequest | PayloadTooLarge> => {
      if (Buffer.byteLength(text, "utf8") > maxBytes) {
        return Effect.fail(new PayloadTooLarge({ limit: maxBytes }))
      }
      if (text.trim().length === 0) {
        return Effect.fail(new BadRequest({ description: "The request body must be a JSON object; it is empty." }))
      }
      let value: unknown
      try {
        value = JSON.parse(text)
      } catch (error) {
        const detail = error instanceof SyntaxError ? `: ${error.message.slice(0, 200)}` : ""
        return Effect.fail(new BadRequest({ description: `The request body is not valid JSON${detail}.` }))
      }
      if (typeof value !== "object" || value === null || Array.isArray(value)) {
        return Effect.fail(new BadRequest({ description: "The request body must be a JSON object." }))
      }
      if (exceedsDepth(value)) {
        return Effect.fail(
          new BadRequest({ description: `The request body is nested deeper than ${maxDepth} levels.` })
        )
      }
      return Effect.succeed(value)
    })
  )
}

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
