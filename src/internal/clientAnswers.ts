/**
 * The client's reading of an answer with the endpoint's entry of `Protocol.endpoints`: a success status decodes
 * and validates its body with the entry's schema, an error answer is the `OsbError` it stands for
 * (`clientErrors.ts`), and anything else is the reason the protocol does not allow it.
 *
 * @internal
 */
import * as Either from "effect/Either"
import * as Option from "effect/Option"
import * as ParseResult from "effect/ParseResult"
import * as Schema from "effect/Schema"
import type { Answer, RawResponse } from "../OsbClient.js"
import type { OsbError } from "../OsbError.js"
import * as Protocol from "../Protocol.js"
import { errorFromResponse, unmappedReason } from "./clientErrors.js"
import { formatPath } from "./paths.js"

/** The success decoders built so far, by body schema. */
const successDecoders = new Map<
  Schema.Schema.AnyNoContext,
  (u: unknown) => Either.Either<unknown, ParseResult.ParseError>
>()

/** A success body's decoder, built once per schema (unknown fields ignored). */
const decodeSuccess = (schema: Schema.Schema.AnyNoContext) => {
  let decode = successDecoders.get(schema)
  if (decode === undefined) {
    decode = Schema.decodeUnknownEither(schema, { onExcessProperty: "ignore" })
    successDecoders.set(schema, decode)
  }
  return decode
}

/** A parse error in one line: each issue's path and message. */
const describe = (error: ParseResult.ParseError): string =>
  ParseResult.ArrayFormatter.formatErrorSync(error).map((i) => `${formatPath(i.path)}: ${i.message}`).join("; ")

/**
 * An answer of `name` read with its table entry: the success it is (its answer tag, status, decoded body and
 * headers), or the `OsbError` it stands for, or, as a string, why the protocol does not allow it (a status the
 * endpoint cannot answer, a body that is not a JSON object or breaks the success's schema).
 *
 * @internal
 */
export const readAnswer = (
  name: Protocol.EndpointName,
  response: RawResponse
): Either.Either<Answer<string, unknown>, OsbError | string> => {
  const success: Protocol.SuccessSpec | undefined =
    (Protocol.endpoints[name].successes as Protocol.EndpointSpec["successes"])[response.status]
  if (success !== undefined) {
    if (success.body === Protocol.NoBody) {
      return Either.right({ _tag: success.answer, status: response.status, body: undefined, headers: response.headers })
    }
    if (typeof response.json !== "object" || response.json === null || Array.isArray(response.json)) {
      return Either.left("the body is not a JSON object")
    }
    return Either.match(decodeSuccess(success.body)(response.json), {
      onLeft: (error) => Either.left(`the body is invalid: ${describe(error)}`),
      onRight: (body) =>
        Either.right({ _tag: success.answer, status: response.status, body, headers: response.headers })
    })
  }
  return Option.match(
    errorFromResponse(response.status, response.json, { headers: response.headers, endpoint: name }),
    {
      onNone: () => Either.left(unmappedReason(response.status, response.json)),
      onSome: (error) => Either.left(error)
    }
  )
}
