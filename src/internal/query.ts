/**
 * The query parameters of a request, decoded as the endpoint table says (`Protocol.endpoints[].query`, with each
 * parameter's kind in `Protocol.queryParameters`): adding a query parameter to an endpoint is a change of the table,
 * and the decoded value appears, typed, in the endpoint's handler.
 *
 * Kinds: `boolean` (`true`/`false`; absent is `false`), `id` (a catalog id: given at most once, never empty) and
 * `operation` (the broker's operation string: given at most once; empty counts as absent, LIB-22). A required
 * parameter that is absent is a 400 naming it; so is any value its kind refuses.
 *
 * @internal
 */
import * as Option from "effect/Option"
import { BadRequest } from "../OsbError.js"
import type { EndpointName, QueryParameter } from "../Protocol.js"
import { endpoints, queryParameters } from "../Protocol.js"
import type { Query } from "./request.js"

/** A query parameter's kind. @internal */
export type QueryKind = (typeof queryParameters)[QueryParameter]

/** What a value of each kind decodes to. */
interface KindValue {
  readonly boolean: boolean
  readonly id: string
  readonly operation: string
}

/** Whether an endpoint requires a parameter. */
type Presence = "required" | "optional"

/** The decoded value of a parameter: the value when required, else `false` (boolean) or an `Option`. */
type Decoded<Kind extends QueryKind, P extends Presence> = P extends "required" ? KindValue[Kind]
  : Kind extends "boolean" ? boolean
  : Option.Option<KindValue[Kind]>

/**
 * The decoded query of an endpoint: one field per parameter the table gives it.
 *
 * @internal
 */
export type QueryOf<K extends EndpointName> = {
  readonly [P in keyof (typeof endpoints)[K]["query"] & QueryParameter]: Decoded<
    (typeof queryParameters)[P],
    (typeof endpoints)[K]["query"][P] & Presence
  >
}

type Raw = string | ReadonlyArray<string> | undefined

/** A value of one kind: `none` when absent, a 400 naming the parameter when the kind refuses it. */
const kinds: {
  readonly [Kind in QueryKind]: (name: string, raw: Raw) => Option.Option<KindValue[Kind]> | BadRequest
} = {
  boolean: (name, raw) => {
    if (raw === undefined) return Option.none()
    if (raw === "true") return Option.some(true)
    if (raw === "false") return Option.some(false)
    return new BadRequest({ description: `The query parameter ${name} must be either true or false.` })
  },
  id: (name, raw) => {
    if (raw === undefined) return Option.none()
    if (typeof raw !== "string") {
      return new BadRequest({ description: `The query parameter ${name} must be given at most once.` })
    }
    if (raw.length === 0) return new BadRequest({ description: `The query parameter ${name} must not be empty.` })
    return Option.some(raw)
  },
  operation: (name, raw) => {
    if (raw === undefined || raw === "") return Option.none()
    if (typeof raw !== "string") {
      return new BadRequest({ description: `The query parameter ${name} must be given at most once.` })
    }
    return Option.some(raw)
  }
}

/** One parameter of an endpoint, ready to decode. */
interface Parameter {
  readonly name: QueryParameter
  readonly decode: (name: string, raw: Raw) => Option.Option<unknown> | BadRequest
  readonly required: boolean
  readonly boolean: boolean
}

const noQuery: QueryOf<"catalog"> = Object.freeze({})

/**
 * The decoder of an endpoint's query, built once from the table: its parameters in table order, the first problem
 * answered (a 400).
 *
 * @internal
 */
export const queryDecoder = <K extends EndpointName>(name: K): (query: Query) => QueryOf<K> | BadRequest => {
  const spec = endpoints[name].query as { readonly [P in QueryParameter]?: Presence }
  const parameters: ReadonlyArray<Parameter> = (Object.keys(spec) as Array<QueryParameter>).map((parameter) => ({
    name: parameter,
    decode: kinds[queryParameters[parameter]],
    required: spec[parameter] === "required",
    boolean: queryParameters[parameter] === "boolean"
  }))
  if (parameters.length === 0) return () => noQuery as QueryOf<K>
  return (query) => {
    const decoded: Record<string, unknown> = {}
    for (const parameter of parameters) {
      const value = parameter.decode(parameter.name, query[parameter.name])
      if (value instanceof BadRequest) return value
      if (parameter.required) {
        if (Option.isNone(value)) {
          return new BadRequest({ description: `The query parameter ${parameter.name} is required.` })
        }
        decoded[parameter.name] = value.value
      } else {
        decoded[parameter.name] = parameter.boolean ? Option.getOrElse(value, () => false) : value
      }
    }
    return decoded as QueryOf<K>
  }
}
