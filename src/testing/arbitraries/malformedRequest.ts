/**
 * Malformed headers and query strings, one defect each, with the status a conforming broker answers.
 *
 * @since 0.2.0
 */
import * as FastCheck from "effect/FastCheck"
import type { CatalogInput, PlanTarget, RequestOptions } from "./requests.js"
import { guid, isBindable, label, planTargets, selectTargets } from "./requests.js"

// -----------------------------------------------------------------------------
// malformed headers
// -----------------------------------------------------------------------------

/**
 * What is wrong with the headers.
 *
 * @since 0.1.0
 * @category models
 */
export type MalformedHeadersKind =
  | "missing-version"
  | "garbage-version"
  | "unsupported-version"
  | "missing-authorization"
  | "wrong-credentials"
  | "garbage-authorization"
  | "garbage-originating-identity"

/**
 * Header overrides for one request (lower-case names): a string replaces the default header, `undefined` removes
 * it (the shape of `OsbClient.raw`'s `headers` option), with the status a conforming broker with Basic auth
 * answers. `strictOnly` variants are rejected only by brokers that check the originating identity strictly;
 * the default is to accept them (OID-5).
 *
 * @since 0.1.0
 * @category models
 */
export interface MalformedHeaders {
  /** Which defect the headers have. */
  readonly kind: MalformedHeadersKind
  /** What is wrong, for failure messages. */
  readonly description: string
  /** The header overrides: a string replaces the default header, `undefined` removes it. */
  readonly headers: Readonly<Record<string, string | undefined>>
  /**
   * What a conforming broker with Basic authentication answers: 400 (missing or garbage version, or a malformed
   * identity under strict checking), 401 (credentials) or 412 (unsupported version).
   */
  readonly expectedStatus: 400 | 401 | 412
  /**
   * Whether only a broker that checks the originating identity strictly rejects it; by default such a request is
   * accepted (OID-5).
   */
  readonly strictOnly: boolean
}

const printable = FastCheck.string({ minLength: 1, maxLength: 20 })

const base64 = (text: string) => Buffer.from(text, "utf8").toString("base64")

const basic = (user: string, password: string) => `Basic ${base64(`${user}:${password}`)}`

/**
 * Malformed headers: `X-Broker-API-Version` missing (400), garbage (400) or of another major version (412);
 * `Authorization` missing, with wrong credentials or garbage (401); a garbage
 * `X-Broker-API-Originating-Identity` (400 in strict mode only). `username` is the broker's user name, used for
 * the wrong-password variant.
 *
 * @since 0.1.0
 * @category arbitraries
 */
export const malformedHeaders = (
  options: { readonly username?: string; readonly kinds?: ReadonlyArray<MalformedHeadersKind> } = {}
): FastCheck.Arbitrary<MalformedHeaders> => {
  const entry = (
    kind: MalformedHeadersKind,
    description: string,
    headers: Record<string, string | undefined>,
    expectedStatus: 400 | 401 | 412,
    strictOnly = false
  ): MalformedHeaders => ({ kind, description, headers, expectedStatus, strictOnly })
  const version = "x-broker-api-version"
  const variants: Array<[MalformedHeadersKind, FastCheck.Arbitrary<MalformedHeaders>]> = [
    [
      "missing-version",
      FastCheck.constant(entry("missing-version", "no version header", { [version]: undefined }, 400))
    ],
    [
      "garbage-version",
      FastCheck.oneof(
        FastCheck.constantFrom("", "abc", "2", "2.", ".17", "2.17.0", "v2.17", "2,17", "2.x", "2.17 beta", "-2.17"),
        FastCheck.constant("2.1234567"),
        printable
      )
        .filter((value) => !/^\s*\d{1,6}\.\d{1,6}\s*$/.test(value))
        .map((value) => entry("garbage-version", `version ${JSON.stringify(value)}`, { [version]: value }, 400))
    ],
    [
      "unsupported-version",
      FastCheck.tuple(
        FastCheck.oneof(FastCheck.constantFrom(0, 1, 3), FastCheck.integer({ min: 3, max: 999_999 })),
        FastCheck.nat({ max: 99 })
      ).map(([major, minor]) =>
        entry("unsupported-version", `version ${major}.${minor}`, { [version]: `${major}.${minor}` }, 412)
      )
    ],
    [
      "missing-authorization",
      FastCheck.constant(entry("missing-authorization", "no Authorization", { authorization: undefined }, 401))
    ],
    [
      "wrong-credentials",
      FastCheck.tuple(FastCheck.option(label, { nil: undefined }), printable).map(([user, password]) =>
        entry(
          "wrong-credentials",
          "wrong user or password",
          { authorization: basic(user ?? options.username ?? "nobody", `wrong-${password}`) },
          401
        )
      )
    ],
    [
      "garbage-authorization",
      FastCheck.oneof(
        FastCheck.constantFrom("Basic", "Basic ", "Basic !!!", `Basic ${base64("no-colon")}`, "Bearer abc.def.ghi"),
        printable.filter((value) => !/^basic /i.test(value))
      ).map((value) =>
        entry("garbage-authorization", `Authorization ${JSON.stringify(value)}`, { authorization: value }, 401)
      )
    ],
    [
      "garbage-originating-identity",
      FastCheck.oneof(
        FastCheck.constantFrom(
          "cloudfoundry",
          "cloudfoundry !!!",
          `cloudfoundry ${base64("not json")}`,
          `cloudfoundry ${base64("[1,2]")}`,
          `cloudfoundry ${base64("{}")}`,
          `kubernetes ${base64(JSON.stringify({ username: 1 }))}`,
          ` ${base64(JSON.stringify({ user_id: "u" }))}`
        ),
        printable.filter((value) => !value.includes(" "))
      ).map((value) =>
        entry(
          "garbage-originating-identity",
          `originating identity ${JSON.stringify(value)}`,
          { "x-broker-api-originating-identity": value },
          400,
          true
        )
      )
    ]
  ]
  const chosen = options.kinds === undefined ? variants : variants.filter(([kind]) => options.kinds!.includes(kind))
  if (chosen.length === 0) throw new Error("Arbitraries.malformedHeaders: no kind selected")
  return FastCheck.oneof(...chosen.map(([, arbitrary]) => arbitrary))
}

// -----------------------------------------------------------------------------
// malformed query strings
// -----------------------------------------------------------------------------

/**
 * The ten OSB endpoints but the catalog.
 *
 * @since 0.1.0
 * @category models
 */
export type Endpoint =
  | "provision"
  | "getInstance"
  | "update"
  | "deprovision"
  | "lastOperation"
  | "bind"
  | "getBinding"
  | "unbind"
  | "lastBindingOperation"

/**
 * What is wrong with the query string.
 *
 * @since 0.1.0
 * @category models
 */
export type MalformedQueryKind = "accepts-incomplete" | "empty-id" | "missing-id" | "unknown-id" | "repeated"

/**
 * A malformed query string (encoded, without the leading `?`): append it to the endpoint's path. A conforming
 * broker answers 400 before looking at the instance or binding, so any ids do.
 *
 * @since 0.1.0
 * @category models
 */
export interface MalformedQuery {
  /** Which defect the query string has. */
  readonly kind: MalformedQueryKind
  /** What is wrong, for failure messages. */
  readonly description: string
  /** The encoded query string, without the leading `?`. */
  readonly search: string
  /** Always 400: a malformed query is refused before the resource is looked up. */
  readonly expectedStatus: 400
}

const query = (pairs: ReadonlyArray<readonly [string, string]>): string =>
  pairs.map(([key, value]) => `${encodeURIComponent(key)}=${encodeURIComponent(value)}`).join("&")

/**
 * Malformed query strings for `endpoint`: `accepts_incomplete` other than `true`/`false` or repeated (mutating
 * endpoints), `service_id`/`plan_id` empty, missing (deprovision, unbind), unknown, of another offering, or
 * repeated, and a repeated `operation` (last_operation). The other parameters are valid for `catalog`.
 *
 * @since 0.1.0
 * @category arbitraries
 */
export const malformedQuery = (
  catalog: CatalogInput,
  endpoint: Endpoint,
  options: RequestOptions & { readonly kinds?: ReadonlyArray<MalformedQueryKind> } = {}
): FastCheck.Arbitrary<MalformedQuery> => {
  const all = planTargets(catalog)
  const knownIds = new Set(all.flatMap((t) => [t.offering.id, t.plan.id]))
  const unknownId = guid.filter((id) => !knownIds.has(id))
  const binding = endpoint === "bind" || endpoint === "unbind" || endpoint === "getBinding" ||
    endpoint === "lastBindingOperation"
  const selected = selectTargets(catalog, options, "malformedQuery")
  const targets = binding && selected.some(isBindable) ? selected.filter(isBindable) : selected
  const target = FastCheck.constantFrom(...targets)
  const entry = (kind: MalformedQueryKind, description: string, pairs: ReadonlyArray<readonly [string, string]>) => ({
    kind,
    description,
    search: query(pairs),
    expectedStatus: 400 as const
  })
  const ids = (t: PlanTarget): Array<readonly [string, string]> => [["service_id", t.offering.id], [
    "plan_id",
    t.plan.id
  ]]
  const mutating = endpoint === "provision" || endpoint === "update" || endpoint === "bind" ||
    endpoint === "deprovision" || endpoint === "unbind"
  const deleting = endpoint === "deprovision" || endpoint === "unbind"
  const withIds = deleting || !mutating
  const variants: Array<[MalformedQueryKind, FastCheck.Arbitrary<MalformedQuery>]> = []

  if (mutating) {
    variants.push([
      "accepts-incomplete",
      FastCheck.tuple(
        target,
        FastCheck.oneof(
          FastCheck.constantFrom("", "yes", "1", "0", "TRUE", "True", "FALSE", "null", "truee", "true "),
          printable
        ).filter((value) => value !== "true" && value !== "false"),
        FastCheck.boolean()
      ).map(([t, value, repeated]) => {
        const pairs: Array<readonly [string, string]> = repeated
          ? [["accepts_incomplete", "true"], ["accepts_incomplete", "true"]]
          : [["accepts_incomplete", value]]
        return entry(
          "accepts-incomplete",
          repeated ? "accepts_incomplete given twice" : `accepts_incomplete=${JSON.stringify(value)}`,
          deleting ? [...ids(t), ...pairs] : pairs
        )
      })
    ])
  }
  if (withIds) {
    const field = FastCheck.constantFrom("service_id", "plan_id")
    const replace = (t: PlanTarget, name: string, value: string) =>
      ids(t).map(([key, v]) => [key, key === name ? value : v] as const)
    variants.push([
      "empty-id",
      FastCheck.tuple(target, field).map(([t, name]) => entry("empty-id", `${name} is empty`, replace(t, name, "")))
    ])
    variants.push([
      "unknown-id",
      FastCheck.tuple(target, field, unknownId, FastCheck.boolean()).map(([t, name, id, foreign]) => {
        const others = all.filter((o) => o.offering.id !== t.offering.id)
        if (foreign && name === "plan_id" && others.length > 0) {
          const other = others[id.charCodeAt(0) % others.length]!
          return entry("unknown-id", `plan_id ${other.plan.id} of another offering`, replace(t, name, other.plan.id))
        }
        return entry("unknown-id", `${name} ${id} is not in the catalog`, replace(t, name, id))
      })
    ])
    variants.push([
      "repeated",
      FastCheck.tuple(target, field).map(([t, name]) => {
        const pairs = ids(t)
        const value = pairs.find(([key]) => key === name)![1]
        const extra: Array<readonly [string, string]> = endpoint === "lastOperation" ||
            endpoint === "lastBindingOperation"
          ? [["operation", "a"], ["operation", "b"]]
          : [[name, value]]
        return entry("repeated", `${extra[0]![0]} given twice`, [...pairs, ...extra])
      })
    ])
  }
  if (deleting) {
    variants.push([
      "missing-id",
      FastCheck.tuple(target, FastCheck.constantFrom("service_id", "plan_id")).map(([t, name]) =>
        entry("missing-id", `${name} is missing`, ids(t).filter(([key]) => key !== name))
      )
    ])
  }
  const chosen = options.kinds === undefined ? variants : variants.filter(([kind]) => options.kinds!.includes(kind))
  if (chosen.length === 0) throw new Error(`Arbitraries.malformedQuery: no kind applies to ${endpoint}`)
  return FastCheck.oneof(...chosen.map(([, arbitrary]) => arbitrary))
}
