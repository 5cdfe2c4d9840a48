/**
 * Path matching and query parsing for the OSB handler, derived from the route templates of `Protocol.routes`.
 *
 * @internal
 */
import * as Either from "effect/Either"
import { BadRequest } from "../OsbError.js"
import type { Method, RouteName } from "../Protocol.js"
import { routeMethods, routes } from "../Protocol.js"
import type { Query } from "./request.js"

/** @internal */
export interface RouteMatch {
  readonly name: RouteName
  /** Raw (still percent-encoded) instance and binding ids. */
  readonly ids: ReadonlyArray<string>
}

interface CompiledRoute {
  readonly name: RouteName
  /** The template's segments after the leading slash; `undefined` marks a parameter. */
  readonly segments: ReadonlyArray<string | undefined>
}

/** The templates grouped by their number of segments, so a path is compared with at most two of them. */
const bySegmentCount: ReadonlyMap<number, ReadonlyArray<CompiledRoute>> = (() => {
  const grouped = new Map<number, Array<CompiledRoute>>()
  for (const name of Object.keys(routes) as ReadonlyArray<RouteName>) {
    const segments = routes[name].split("/").slice(1).map((s) => (s.startsWith(":") ? undefined : s))
    const list = grouped.get(segments.length) ?? []
    list.push({ name, segments })
    grouped.set(segments.length, list)
  }
  return grouped
})()

const matchCompiled = (route: CompiledRoute, segments: ReadonlyArray<string>): RouteMatch | undefined => {
  const ids: Array<string> = []
  for (let i = 0; i < route.segments.length; i++) {
    const expected = route.segments[i]
    const actual = segments[i + 1]!
    if (expected === undefined) ids.push(actual)
    else if (expected !== actual) return undefined
  }
  return { name: route.name, ids }
}

/** Matches a path (without query) against the OSB routes. @internal */
export const matchPath = (pathname: string): RouteMatch | undefined => {
  const segments = pathname.split("/")
  if (segments[0] !== "") return undefined
  for (let i = 1; i < segments.length; i++) {
    if (segments[i]!.length === 0) return undefined
  }
  const candidates = bySegmentCount.get(segments.length - 1)
  if (candidates === undefined) return undefined
  for (const route of candidates) {
    const match = matchCompiled(route, segments)
    if (match !== undefined) return match
  }
  return undefined
}

/**
 * Classifies a path (without query) as one of the OSB routes, for 405 answers and log lines.
 *
 * @since 0.1.0
 * @category utils
 */
export const classifyPath = (
  pathname: string
): {
  /** The route's path template, e.g. `/v2/service_instances/:instance_id`. */
  readonly path: string
  /** The methods the route answers (the `Allow` header of a 405). */
  readonly methods: ReadonlyArray<Method>
} | undefined => {
  const match = matchPath(pathname)
  return match === undefined ? undefined : { path: routes[match.name], methods: routeMethods[match.name] }
}

/** @internal */
export const emptyQuery: Query = Object.freeze(Object.create(null) as Record<string, string>)

/** Parses a query string; repeated names give arrays. The record has no prototype. @internal */
export const parseQuery = (search: string): Query => {
  if (search.length === 0) return emptyQuery
  const query: Record<string, string | Array<string>> = Object.create(null)
  for (const [name, value] of new URLSearchParams(search)) {
    const known = query[name]
    query[name] = known === undefined ? value : typeof known === "string" ? [known, value] : [...known, value]
  }
  return query
}

/** The query of a request URL (everything after `?`). @internal */
export const queryOf = (url: string): Query => {
  const queryAt = url.indexOf("?")
  return queryAt < 0 ? emptyQuery : parseQuery(url.slice(queryAt + 1))
}

const maxIdLength = 10_000
const idNames = ["instance_id", "binding_id"] as const

/**
 * Percent-decodes the path ids (unless a router did): 400 for broken encodings and ids over 10,000 characters.
 *
 * @internal
 */
export const decodeIds = (
  raw: ReadonlyArray<string>,
  encoded: boolean
): Either.Either<ReadonlyArray<string>, BadRequest> => {
  const ids: Array<string> = []
  for (let i = 0; i < raw.length; i++) {
    let id = raw[i]!
    try {
      if (encoded && id.includes("%")) id = decodeURIComponent(id)
    } catch {
      return Either.left(
        new BadRequest({ description: `The ${idNames[i]} in the path is not valid percent-encoding.` })
      )
    }
    if (id.length > maxIdLength) {
      return Either.left(
        new BadRequest({ description: `The ${idNames[i]} in the path is longer than ${maxIdLength} characters.` })
      )
    }
    ids.push(id)
  }
  return Either.right(ids)
}
