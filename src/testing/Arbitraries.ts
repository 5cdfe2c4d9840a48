/**
 * fast-check arbitraries for testing a broker against its own catalog: valid provision, update and bind requests
 * (right ids, parameters generated from the plan's JSON schema where there is one, the plan's maintenance_info),
 * and malformed variants of bodies, headers and query strings, each with the status a conforming broker answers.
 *
 * Ids are random, non-empty strings of RFC 3986 unreserved characters, generated without fast-check's bias so
 * runs against one stateful broker do not collide.
 *
 * @since 0.1.0
 */
import * as FastCheck from "effect/FastCheck"
import { effectivePlan } from "../Catalog.js"
import type {
  BindRequestBody,
  CatalogBody,
  JsonObject,
  ProvisionRequestBody,
  RequestContext,
  ServiceOffering,
  ServicePlan,
  UpdateRequestBody
} from "../Model.js"

// -----------------------------------------------------------------------------
// JSON helpers
// -----------------------------------------------------------------------------

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value)

const dropProto = (key: string, value: unknown): unknown => (key === "__proto__" ? undefined : value)

/** A JSON round trip: no `-0`, no `undefined`, no null prototypes, no `__proto__` keys. */
const clean = <A>(value: A): A => JSON.parse(JSON.stringify(value) ?? "null", dropProto)

const safeKey = FastCheck.string({ maxLength: 12 }).filter((key) => key !== "__proto__")

const anyJson: FastCheck.Arbitrary<unknown> = FastCheck.jsonValue({ maxDepth: 2 }).map(clean)

/**
 * A small JSON object (at most four keys, values nested at most two levels, no `__proto__` keys): the parameters
 * of a plan without a parameters schema.
 *
 * @since 0.1.0
 * @category arbitraries
 */
export const jsonObject: FastCheck.Arbitrary<JsonObject> = FastCheck.dictionary(
  safeKey,
  FastCheck.jsonValue({ maxDepth: 2 }),
  { maxKeys: 4 }
).map((value) => clean(value) as JsonObject)

// -----------------------------------------------------------------------------
// JSON schema
// -----------------------------------------------------------------------------

/**
 * Options of `fromJsonSchema`.
 *
 * @since 0.1.0
 * @category models
 */
export interface JsonSchemaOptions {
  /** Throw on assertion keywords outside the supported subset (else they are ignored). Default `true`. */
  readonly strict?: boolean
  /** Largest array when the schema gives no `maxItems`. Default 4. */
  readonly maxItems?: number
  /** Longest string when the schema gives no `maxLength`. Default 16. */
  readonly maxLength?: number
  /** How many `$ref`s deep a value may go (recursive schemas are not supported). Default 16. */
  readonly maxRefDepth?: number
}

const annotationKeywords = new Set([
  "$schema",
  "$id",
  "id",
  "$comment",
  "title",
  "description",
  "default",
  "examples",
  "readOnly",
  "writeOnly",
  "deprecated",
  "definitions",
  "$defs",
  "contentMediaType",
  "contentEncoding",
  "nullable",
  "additionalItems"
])

const supportedKeywords = new Set([
  "type",
  "enum",
  "const",
  "properties",
  "required",
  "additionalProperties",
  "minProperties",
  "maxProperties",
  "items",
  "prefixItems",
  "minItems",
  "maxItems",
  "uniqueItems",
  "minLength",
  "maxLength",
  "pattern",
  "format",
  "minimum",
  "maximum",
  "exclusiveMinimum",
  "exclusiveMaximum",
  "multipleOf",
  "anyOf",
  "oneOf",
  "allOf",
  "$ref"
])

const jsonTypes = ["object", "array", "string", "integer", "number", "boolean", "null"] as const
type JsonType = typeof jsonTypes[number]

const numberOr = (value: unknown, fallback: number): number =>
  typeof value === "number" && Number.isFinite(value) ? value : fallback
const optionalNumber = (value: unknown): number | undefined =>
  typeof value === "number" && Number.isFinite(value) ? value : undefined

/** Deep equality key for `uniqueItems`: JSON with sorted object keys. */
const canonical = (value: unknown): string =>
  Array.isArray(value)
    ? `[${value.map(canonical).join(",")}]`
    : isObject(value)
    ? `{${Object.keys(value).sort().map((key) => `${JSON.stringify(key)}:${canonical(value[key])}`).join(",")}}`
    : JSON.stringify(value)

const codePoints = (value: string): number => [...value].length

const integerBetween = (min: number, max: number): FastCheck.Arbitrary<number> =>
  min >= -0x80000000 && max <= 0x7fffffff
    ? FastCheck.integer({ min, max }).map((n) => n + 0)
    : FastCheck.bigInt({ min: BigInt(min), max: BigInt(max) }).map((n) => Number(n) + 0)

const minOf = (a: number | undefined, b: number | undefined) =>
  a === undefined ? b : b === undefined ? a : Math.min(a, b)
const maxOf = (a: number | undefined, b: number | undefined) =>
  a === undefined ? b : b === undefined ? a : Math.max(a, b)

/** Merges two schemas that must both hold (`allOf`): properties and required united, bounds tightened. */
const mergeSchemas = (a: Record<string, unknown>, b: Record<string, unknown>): Record<string, unknown> => {
  const out: Record<string, unknown> = { ...a, ...b }
  if (isObject(a.properties) && isObject(b.properties)) {
    const properties: Record<string, unknown> = { ...a.properties }
    for (const [key, schema] of Object.entries(b.properties)) {
      const existing = properties[key]
      properties[key] = isObject(existing) && isObject(schema) ? mergeSchemas(existing, schema) : schema
    }
    out.properties = properties
  }
  if (Array.isArray(a.required) && Array.isArray(b.required)) {
    out.required = [...new Set([...a.required, ...b.required])]
  }
  for (const key of ["minimum", "minLength", "minItems", "minProperties", "exclusiveMinimum"]) {
    const v = maxOf(optionalNumber(a[key]), optionalNumber(b[key]))
    if (v !== undefined) out[key] = v
  }
  for (const key of ["maximum", "maxLength", "maxItems", "maxProperties", "exclusiveMaximum"]) {
    const v = minOf(optionalNumber(a[key]), optionalNumber(b[key]))
    if (v !== undefined) out[key] = v
  }
  if (Array.isArray(a.enum) && Array.isArray(b.enum)) {
    const keys = new Set(b.enum.map(canonical))
    out.enum = a.enum.filter((value) => keys.has(canonical(value)))
  }
  if (a.type !== undefined && b.type !== undefined) {
    const left = Array.isArray(a.type) ? a.type : [a.type]
    const right = new Set(Array.isArray(b.type) ? b.type : [b.type])
    const both = left.filter((t) =>
      right.has(t) || (t === "integer" && right.has("number")) || (t === "number" && right.has("integer"))
    ).map((t) => (t === "number" && right.has("integer") ? "integer" : t))
    out.type = both.length === 1 ? both[0] : both
  }
  return out
}

const formatArbitrary = (format: unknown): FastCheck.Arbitrary<string> | undefined => {
  switch (format) {
    case "uuid":
      return FastCheck.uuid()
    case "email":
      return FastCheck.emailAddress()
    case "uri":
    case "uri-reference":
    case "iri":
      return FastCheck.webUrl()
    case "url":
      // the router's validator (ajv-formats) refuses host labels with "--" (punycode too) in a `url`
      return FastCheck.webUrl().filter((url) => !/^[a-z]+:\/\/[^/?#]*--/i.test(url))
    case "hostname":
      return FastCheck.domain()
    case "ipv4":
      return FastCheck.ipV4()
    case "date-time":
    case "date": {
      const dates = FastCheck.date({
        min: new Date("1970-01-01T00:00:00.000Z"),
        max: new Date("2200-01-01T00:00:00.000Z"),
        noInvalidDate: true
      }).map((date) => date.toISOString())
      return format === "date" ? dates.map((iso) => iso.slice(0, 10)) : dates
    }
    default:
      return undefined
  }
}

/**
 * An arbitrary of values valid against a JSON schema, for the subset of JSON schema that plan parameter schemas
 * commonly use (draft-04 to 2020-12):
 *
 * - `type`: `object`, `array`, `string`, `integer`, `number`, `boolean`, `null`, or an array of them; when
 *   absent it is inferred from the keywords (`properties` -> object, `items` -> array, `minLength` -> string,
 *   `minimum` -> number); a schema without any of them (`{}`, `true`) gives small JSON values.
 * - `enum`, `const`.
 * - objects: `properties`, `required` (other properties are present or absent at random),
 *   `additionalProperties` (`false` or `true`: no extra keys are generated; a schema: up to three extra keys
 *   valid against it), `minProperties`, `maxProperties`.
 * - arrays: `items` (one schema, or a tuple as in draft-04), `prefixItems`, `minItems`, `maxItems`,
 *   `uniqueItems`.
 * - strings: `minLength`, `maxLength`, `pattern` (through `fc.stringMatching`), `format` for `uuid`, `email`,
 *   `uri`/`url`/`uri-reference`/`iri`, `hostname`, `ipv4`, `date-time` and `date` (other formats are treated
 *   as plain strings, as validators do for unknown formats). Lengths count code points; generated characters are
 *   printable ASCII unless a pattern says otherwise.
 * - numbers: `minimum`, `maximum`, `exclusiveMinimum`, `exclusiveMaximum` (the draft-04 boolean form and the
 *   later numeric form), integer `multipleOf`. Without bounds integers stay within +-1,000,000 and numbers
 *   within +-1e9; no `NaN`, no infinities, no `-0`.
 * - `anyOf` and `oneOf`: one branch, merged with the keywords next to it (for `oneOf` the branches are assumed to
 *   exclude each other); `allOf`: the branches merged (properties and `required` united, bounds tightened).
 * - `$ref` to the same document (`#/definitions/...`, `#/$defs/...`, any `#/...` pointer); not remote references
 *   (SCH-2 forbids them) and not recursive schemas.
 *
 * Annotations (`$schema`, `title`, `description`, `default`, `examples`, ...) are ignored. Any other keyword
 * (`not`, `if`, `patternProperties`, `dependencies`, non-integer `multipleOf`, ...) throws an `Error` when the
 * arbitrary is built, unless `strict: false`, in which case it is ignored and values may violate it.
 *
 * Generated values are JSON-clean (they survive `JSON.stringify`/`JSON.parse` unchanged).
 *
 * @since 0.1.0
 * @category arbitraries
 */
export const fromJsonSchema = (schema: unknown, options: JsonSchemaOptions = {}): FastCheck.Arbitrary<unknown> => {
  const strict = options.strict ?? true
  const defaultMaxItems = options.maxItems ?? 4
  const defaultMaxLength = options.maxLength ?? 16
  const maxRefDepth = options.maxRefDepth ?? 16
  const root = schema

  const fail = (path: string, message: string): never => {
    throw new Error(`fromJsonSchema: ${path === "" ? "(root)" : path}: ${message}`)
  }

  const resolveRef = (ref: unknown, path: string): unknown => {
    if (typeof ref !== "string" || !ref.startsWith("#")) {
      return fail(path, `only references inside the schema ("#/...") are supported, not ${JSON.stringify(ref)}`)
    }
    const pointer = ref.slice(1)
    if (pointer === "") return root
    if (!pointer.startsWith("/")) return fail(path, `unsupported reference ${ref}`)
    let current: unknown = root
    for (const raw of pointer.slice(1).split("/")) {
      const token = decodeURIComponent(raw).replace(/~1/g, "/").replace(/~0/g, "~")
      if (Array.isArray(current)) current = current[Number(token)]
      else if (isObject(current) && Object.hasOwn(current, token)) current = current[token]
      else return fail(path, `the reference ${ref} points to nothing`)
    }
    return current
  }

  /** Inlines `$ref` and `allOf` at the top of a schema. */
  const flatten = (node: unknown, path: string, refs: number): unknown => {
    if (!isObject(node)) return node
    let current: Record<string, unknown> = node
    if (current.$ref !== undefined) {
      if (refs >= maxRefDepth) fail(path, `more than ${maxRefDepth} nested $ref (recursive schemas are not supported)`)
      const { $ref, ...rest } = current
      const target = flatten(resolveRef($ref, path), path, refs + 1)
      if (target === false) return false
      current = isObject(target) ? mergeSchemas(target, rest) : rest
    }
    if (Array.isArray(current.allOf)) {
      const { allOf, ...rest } = current
      let merged: Record<string, unknown> = rest
      for (const [i, branch] of allOf.entries()) {
        const flat = flatten(branch, `${path}/allOf/${i}`, refs)
        if (flat === false) return false
        if (isObject(flat)) merged = mergeSchemas(merged, flat)
      }
      current = merged
    }
    return current
  }

  const walk = (input: unknown, path: string, refs: number): FastCheck.Arbitrary<unknown> => {
    const node = flatten(input, path, refs)
    if (node === true) return anyJson
    if (node === false) return fail(path, "the schema false accepts no value")
    if (!isObject(node)) return fail(path, "a schema must be an object or a boolean")
    if (strict) {
      const unknown = Object.keys(node).filter((key) => !supportedKeywords.has(key) && !annotationKeywords.has(key))
      if (unknown.length > 0) fail(path, `unsupported keywords: ${unknown.join(", ")} (pass strict: false to ignore)`)
      if (node.multipleOf !== undefined && !Number.isInteger(node.multipleOf)) {
        fail(path, "only integer multipleOf is supported (pass strict: false to ignore)")
      }
    }
    for (const combinator of ["anyOf", "oneOf"] as const) {
      const branches = node[combinator]
      if (Array.isArray(branches)) {
        if (branches.length === 0) return fail(path, `${combinator} needs at least one branch`)
        const { [combinator]: _, ...rest } = node
        return FastCheck.oneof(
          ...branches.map((branch, i) => {
            const flat = flatten(branch, `${path}/${combinator}/${i}`, refs)
            return walk(
              isObject(flat) ? mergeSchemas(rest, flat) : flat,
              `${path}/${combinator}/${i}`,
              refs
            )
          })
        )
      }
    }
    if (Object.hasOwn(node, "const")) return FastCheck.constant(clean(node.const))
    if (Array.isArray(node.enum)) {
      if (node.enum.length === 0) return fail(path, "enum needs at least one value")
      return FastCheck.constantFrom(...node.enum.map(clean))
    }
    const types = typesOf(node, path)
    if (types === undefined) return anyJson
    const arbitraries = types.map((type) => byType(type, node, path, refs))
    return arbitraries.length === 1 ? arbitraries[0]! : FastCheck.oneof(...arbitraries)
  }

  const typesOf = (node: Record<string, unknown>, path: string): ReadonlyArray<JsonType> | undefined => {
    const declared = node.type
    if (declared !== undefined) {
      const list = Array.isArray(declared) ? declared : [declared]
      if (list.length === 0) return fail(path, "type must not be an empty array")
      for (const type of list) {
        if (!jsonTypes.includes(type)) fail(path, `unknown type ${JSON.stringify(type)}`)
      }
      return list as ReadonlyArray<JsonType>
    }
    const has = (...keys: Array<string>) => keys.some((key) => node[key] !== undefined)
    if (has("properties", "required", "additionalProperties", "minProperties", "maxProperties")) return ["object"]
    if (has("items", "prefixItems", "minItems", "maxItems", "uniqueItems")) return ["array"]
    if (has("minLength", "maxLength", "pattern", "format")) return ["string"]
    if (has("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf")) return ["number"]
    return undefined
  }

  const integerBounds = (node: Record<string, unknown>, path: string) => {
    let low: number | undefined = undefined
    let high: number | undefined = undefined
    const minimum = optionalNumber(node.minimum)
    const maximum = optionalNumber(node.maximum)
    const exclusiveMinimum = optionalNumber(node.exclusiveMinimum)
    const exclusiveMaximum = optionalNumber(node.exclusiveMaximum)
    if (minimum !== undefined) low = node.exclusiveMinimum === true ? Math.floor(minimum) + 1 : Math.ceil(minimum)
    if (exclusiveMinimum !== undefined) low = Math.max(low ?? -Infinity, Math.floor(exclusiveMinimum) + 1)
    if (maximum !== undefined) high = node.exclusiveMaximum === true ? Math.ceil(maximum) - 1 : Math.floor(maximum)
    if (exclusiveMaximum !== undefined) high = Math.min(high ?? Infinity, Math.ceil(exclusiveMaximum) - 1)
    const min = Math.max(Number.MIN_SAFE_INTEGER, low ?? (high === undefined ? -1_000_000 : high - 2_000_000))
    const max = Math.min(Number.MAX_SAFE_INTEGER, high ?? (low === undefined ? 1_000_000 : low + 2_000_000))
    if (min > max) fail(path, "no integer lies within the bounds")
    return { min, max }
  }

  const byType = (
    type: JsonType,
    node: Record<string, unknown>,
    path: string,
    refs: number
  ): FastCheck.Arbitrary<unknown> => {
    switch (type) {
      case "null":
        return FastCheck.constant(null)
      case "boolean":
        return FastCheck.boolean()
      case "integer":
      case "number": {
        const multipleOf = optionalNumber(node.multipleOf)
        if (type === "integer" || (multipleOf !== undefined && Number.isInteger(multipleOf))) {
          const { max, min } = integerBounds(node, path)
          if (multipleOf !== undefined && Number.isInteger(multipleOf) && multipleOf > 0) {
            const low = Math.ceil(min / multipleOf)
            const high = Math.floor(max / multipleOf)
            if (low > high) return fail(path, "no multiple of multipleOf lies within the bounds")
            return integerBetween(low, high).map((k) => k * multipleOf + 0)
          }
          return integerBetween(min, max)
        }
        const exclusiveMinimum = optionalNumber(node.exclusiveMinimum)
        const exclusiveMaximum = optionalNumber(node.exclusiveMaximum)
        const minimum = optionalNumber(node.minimum)
        const maximum = optionalNumber(node.maximum)
        const min = exclusiveMinimum !== undefined && (minimum === undefined || exclusiveMinimum >= minimum)
          ? { value: exclusiveMinimum, excluded: true }
          : { value: minimum ?? Math.min(-1e9, (maximum ?? 0) - 1e9), excluded: node.exclusiveMinimum === true }
        const max = exclusiveMaximum !== undefined && (maximum === undefined || exclusiveMaximum <= maximum)
          ? { value: exclusiveMaximum, excluded: true }
          : { value: maximum ?? Math.max(1e9, (minimum ?? 0) + 1e9), excluded: node.exclusiveMaximum === true }
        if (min.value > max.value || (min.value === max.value && (min.excluded || max.excluded))) {
          return fail(path, "no number lies within the bounds")
        }
        return FastCheck.double({
          min: min.value,
          max: max.value,
          minExcluded: min.excluded,
          maxExcluded: max.excluded,
          noNaN: true,
          noDefaultInfinity: true
        }).map((n) => n + 0)
      }
      case "string": {
        const minLength = Math.max(0, Math.ceil(numberOr(node.minLength, 0)))
        const maxLength = optionalNumber(node.maxLength)
        if (maxLength !== undefined && maxLength < minLength) return fail(path, "maxLength is below minLength")
        const special = typeof node.pattern === "string"
          ? FastCheck.stringMatching(new RegExp(node.pattern))
          : formatArbitrary(node.format)
        if (special === undefined) {
          return FastCheck.string({ minLength, maxLength: maxLength ?? Math.max(minLength, defaultMaxLength) })
        }
        return special.filter((s) =>
          codePoints(s) >= minLength && (maxLength === undefined || codePoints(s) <= maxLength)
        )
      }
      case "array": {
        const minItems = Math.max(0, Math.ceil(numberOr(node.minItems, 0)))
        const maxItems = Math.floor(numberOr(node.maxItems, Math.max(minItems, defaultMaxItems)))
        if (maxItems < minItems) return fail(path, "maxItems is below minItems")
        const tuple = Array.isArray(node.prefixItems) ? node.prefixItems : Array.isArray(node.items) ? node.items : []
        if (tuple.length > 0) {
          const rest = Array.isArray(node.items) || node.items === undefined ? undefined : node.items
          const head = FastCheck.tuple(...tuple.map((item, i) => walk(item, `${path}/items/${i}`, refs)))
          if (rest === undefined || rest === false) return head
          const tail = FastCheck.array(walk(rest, `${path}/items`, refs), {
            minLength: Math.max(0, minItems - tuple.length),
            maxLength: Math.max(0, maxItems - tuple.length)
          })
          return FastCheck.tuple(head, tail).map(([h, t]) => [...h, ...t])
        }
        const items = node.items === undefined ? anyJson : walk(node.items, `${path}/items`, refs)
        return node.uniqueItems === true
          ? FastCheck.uniqueArray(items, { minLength: minItems, maxLength: maxItems, selector: canonical })
          : FastCheck.array(items, { minLength: minItems, maxLength: maxItems })
      }
      case "object": {
        const properties = isObject(node.properties) ? node.properties : {}
        const required = Array.isArray(node.required)
          ? node.required.filter((key): key is string => typeof key === "string")
          : []
        const model: Record<string, FastCheck.Arbitrary<unknown>> = {}
        for (const [key, sub] of Object.entries(properties)) {
          model[key] = walk(sub, `${path}/properties/${key}`, refs)
        }
        for (const key of required) {
          if (!Object.hasOwn(model, key)) {
            model[key] = node.additionalProperties === undefined || typeof node.additionalProperties === "boolean"
              ? anyJson
              : walk(node.additionalProperties, `${path}/additionalProperties`, refs)
          }
        }
        let objects: FastCheck.Arbitrary<Record<string, unknown>> = FastCheck.record(model, { requiredKeys: required })
        if (isObject(node.additionalProperties)) {
          const extra = FastCheck.dictionary(
            safeKey.filter((key) => !Object.hasOwn(model, key)),
            walk(node.additionalProperties, `${path}/additionalProperties`, refs),
            { maxKeys: 3 }
          )
          objects = FastCheck.tuple(objects, extra).map(([declared, more]) => ({ ...more, ...declared }))
        }
        const minProperties = optionalNumber(node.minProperties)
        const maxProperties = optionalNumber(node.maxProperties)
        if (minProperties !== undefined || maxProperties !== undefined) {
          objects = objects.filter((value) => {
            const n = Object.keys(value).length
            return n >= (minProperties ?? 0) && n <= (maxProperties ?? Infinity)
          })
        }
        return objects
      }
    }
  }

  return walk(schema, "", 0).map(clean)
}

// -----------------------------------------------------------------------------
// ids and context
// -----------------------------------------------------------------------------

const UNRESERVED = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~"

/**
 * A random instance or binding id: a UUID or 16 to 40 RFC 3986 unreserved characters. Generated without bias,
 * so ids drawn in one run practically never repeat.
 *
 * @since 0.1.0
 * @category arbitraries
 */
export const identifier: FastCheck.Arbitrary<string> = FastCheck.noBias(
  FastCheck.oneof(
    FastCheck.uuid(),
    FastCheck.string({ unit: FastCheck.constantFrom(...UNRESERVED), minLength: 16, maxLength: 40 })
  )
)

/**
 * A random GUID (organization, space, app), generated without bias.
 *
 * @since 0.1.0
 * @category arbitraries
 */
export const guid: FastCheck.Arbitrary<string> = FastCheck.noBias(FastCheck.uuid())

const label = FastCheck.stringMatching(/^[a-z][a-z0-9-]{0,19}$/)

/**
 * The platforms a generated request may come from; `none` means no `context`.
 *
 * @since 0.1.0
 * @category models
 */
export type Platform = "cloudfoundry" | "kubernetes" | "none"

interface Placement {
  readonly organizationGuid: string
  readonly spaceGuid: string
  readonly context: RequestContext | undefined
}

/** Organization and space GUIDs, and a context of one of the platforms that agrees with them. */
const placement = (platforms: ReadonlyArray<Platform>): FastCheck.Arbitrary<Placement> => {
  if (platforms.length === 0) throw new Error("Arbitraries: platforms must not be empty")
  return FastCheck.tuple(
    guid,
    guid,
    FastCheck.constantFrom(...platforms),
    FastCheck.record({ organization_name: label, space_name: label, instance_name: label }),
    FastCheck.record({ namespace: label, clusterid: guid, instance_name: label })
  ).map(([organizationGuid, spaceGuid, platform, cloudFoundry, kubernetes]) => ({
    organizationGuid,
    spaceGuid,
    context: platform === "none"
      ? undefined
      : platform === "cloudfoundry"
      ? { platform, organization_guid: organizationGuid, space_guid: spaceGuid, ...cloudFoundry }
      : { platform, ...kubernetes }
  }))
}

// -----------------------------------------------------------------------------
// catalog targets
// -----------------------------------------------------------------------------

/**
 * An offering and one of its plans.
 *
 * @since 0.1.0
 * @category models
 */
export interface PlanTarget {
  readonly offering: ServiceOffering
  readonly plan: ServicePlan
}

/**
 * Which plans a generator may pick, and how requests look.
 *
 * @since 0.1.0
 * @category models
 */
export interface RequestOptions {
  /** Only these plans (ids). Default: every plan that fits the request. */
  readonly planId?: string | ReadonlyArray<string>
  /** Only plans of this offering. */
  readonly serviceId?: string
  /** A fixed instance id instead of a random one. */
  readonly instanceId?: string
  /** Platforms of the `context` (`none`: no context). Default all three. */
  readonly platforms?: ReadonlyArray<Platform>
  /** Options for the parameters generated from the plans' JSON schemas. */
  readonly jsonSchema?: JsonSchemaOptions
}

/**
 * Every offering/plan pair of a catalog.
 *
 * @since 0.1.0
 * @category utils
 */
export const planTargets = (catalog: CatalogBody): ReadonlyArray<PlanTarget> =>
  catalog.services.flatMap((offering) => offering.plans.map((plan) => ({ offering, plan })))

/**
 * Whether a plan is bindable (its effective value, `Catalog.effectivePlan`, VAL-6).
 *
 * @since 0.1.0
 * @category utils
 */
export const isBindable = (target: PlanTarget): boolean => effectivePlan(target.offering, target.plan).bindable

/**
 * Whether a plan can be changed (its effective `plan_updateable`, `Catalog.effectivePlan`, VAL-6).
 *
 * @since 0.1.0
 * @category utils
 */
export const isPlanUpdateable = (target: PlanTarget): boolean =>
  effectivePlan(target.offering, target.plan).planUpdateable

const isRotatable = (target: PlanTarget): boolean => effectivePlan(target.offering, target.plan).bindingRotatable

const selectTargets = (
  catalog: CatalogBody,
  options: RequestOptions,
  what: string,
  keep: (target: PlanTarget) => boolean = () => true
): ReadonlyArray<PlanTarget> => {
  const planIds = options.planId === undefined
    ? undefined
    : typeof options.planId === "string"
    ? [options.planId]
    : options.planId
  const targets = planTargets(catalog).filter((target) =>
    (planIds === undefined || planIds.includes(target.plan.id)) &&
    (options.serviceId === undefined || target.offering.id === options.serviceId) &&
    keep(target)
  )
  if (targets.length === 0) {
    throw new Error(
      `Arbitraries.${what}: no plan of the catalog fits` +
        (planIds === undefined ? "" : ` (plan ids ${planIds.join(", ")})`) +
        (options.serviceId === undefined ? "" : ` (service id ${options.serviceId})`)
    )
  }
  return targets
}

type ParametersFor = "create" | "update" | "bind"

const parametersSchema = (plan: ServicePlan, which: ParametersFor): JsonObject | undefined =>
  which === "bind"
    ? plan.schemas?.service_binding?.create?.parameters
    : plan.schemas?.service_instance?.[which]?.parameters

/**
 * The `parameters` of a request for a plan: values of the plan's parameters schema (`create`, `update` or binding
 * `create`) when it has one, else a small JSON object or none.
 *
 * @since 0.1.0
 * @category arbitraries
 */
export const parameters = (
  plan: ServicePlan,
  which: ParametersFor,
  options: JsonSchemaOptions = {}
): FastCheck.Arbitrary<JsonObject | undefined> => {
  const schema = parametersSchema(plan, which)
  if (schema === undefined) return FastCheck.option(jsonObject, { nil: undefined })
  const type = schema.type
  if (type !== undefined && type !== "object" && !(Array.isArray(type) && type.includes("object"))) {
    throw new Error(`Arbitraries: the ${which} parameters schema of plan ${plan.name} does not describe an object`)
  }
  const objectSchema = type === undefined ? { type: "object", ...schema } : schema
  return fromJsonSchema(objectSchema, options).filter(isObject) as FastCheck.Arbitrary<JsonObject>
}

const maintenanceInfo = (plan: ServicePlan): FastCheck.Arbitrary<{ readonly version: string } | undefined> =>
  plan.maintenance_info === undefined
    ? FastCheck.constant(undefined)
    : FastCheck.option(FastCheck.constant({ version: plan.maintenance_info.version }), { nil: undefined })

const idOr = (fixed: string | undefined) => (fixed === undefined ? identifier : FastCheck.constant(fixed))

const oneOf = <A>(arbitraries: ReadonlyArray<FastCheck.Arbitrary<A>>): FastCheck.Arbitrary<A> =>
  arbitraries.length === 1 ? arbitraries[0]! : FastCheck.oneof(...arbitraries)

const defined = <A extends Record<string, unknown>>(value: A): A => {
  const out: Record<string, unknown> = {}
  for (const [key, v] of Object.entries(value)) if (v !== undefined) out[key] = v
  return out as A
}

// -----------------------------------------------------------------------------
// valid requests
// -----------------------------------------------------------------------------

/**
 * A provision request.
 *
 * @since 0.1.0
 * @category models
 */
export interface ProvisionRequest {
  readonly instanceId: string
  readonly body: ProvisionRequestBody
}

/**
 * Valid provision requests against `catalog`: a service_id/plan_id pair of the catalog, `organization_guid` and
 * `space_guid`, a Cloud Foundry or Kubernetes `context` or none, `parameters` from the plan's
 * `schemas.service_instance.create.parameters` (else a small JSON object or none) and, when the plan has one, its
 * `maintenance_info` or none. Throws when no plan fits the options.
 *
 * @since 0.1.0
 * @category arbitraries
 */
export const provisionRequest = (
  catalog: CatalogBody,
  options: RequestOptions = {}
): FastCheck.Arbitrary<ProvisionRequest> => {
  const targets = selectTargets(catalog, options, "provisionRequest")
  const where = placement(options.platforms ?? ["cloudfoundry", "kubernetes", "none"])
  return oneOf(targets.map((target) =>
    FastCheck.record({
      instanceId: idOr(options.instanceId),
      where,
      parameters: parameters(target.plan, "create", options.jsonSchema),
      maintenance_info: maintenanceInfo(target.plan)
    }).map(({ instanceId, where, ...rest }) => ({
      instanceId,
      body: defined({
        service_id: target.offering.id,
        plan_id: target.plan.id,
        organization_guid: where.organizationGuid,
        space_guid: where.spaceGuid,
        context: where.context,
        ...rest
      }) as ProvisionRequestBody
    }))
  ))
}

/**
 * An update request.
 *
 * @since 0.1.0
 * @category models
 */
export interface UpdateRequest {
  readonly instanceId: string
  readonly body: UpdateRequestBody
}

/**
 * Valid update requests for an instance of one of the selected plans (`planId`: the instance's current plan):
 * no `plan_id`, the same plan, or (with `allowPlanChange`, the default) another plan of the offering when both
 * are `plan_updateable`; `previous_values` with the current ids or none; `parameters` from the target plan's
 * `schemas.service_instance.update.parameters` (else a small JSON object or none); the target plan's
 * `maintenance_info` or none; a `context` or none.
 *
 * @since 0.1.0
 * @category arbitraries
 */
export const updateRequest = (
  catalog: CatalogBody,
  options: RequestOptions & { readonly allowPlanChange?: boolean } = {}
): FastCheck.Arbitrary<UpdateRequest> => {
  const targets = selectTargets(catalog, options, "updateRequest")
  const where = placement(options.platforms ?? ["cloudfoundry", "kubernetes", "none"])
  return oneOf(targets.flatMap((current) => {
    const others = options.allowPlanChange === false || !isPlanUpdateable(current)
      ? []
      : current.offering.plans.filter((plan) =>
        plan.id !== current.plan.id && isPlanUpdateable({ offering: current.offering, plan })
      )
    const choices: Array<ServicePlan | undefined> = [undefined, current.plan, ...others]
    return choices.map((next) => {
      const target = next ?? current.plan
      return FastCheck.record({
        instanceId: idOr(options.instanceId),
        where,
        parameters: parameters(target, "update", options.jsonSchema),
        maintenance_info: maintenanceInfo(target),
        previous: FastCheck.boolean()
      }).map(({ instanceId, previous, where, ...rest }) => ({
        instanceId,
        body: defined({
          service_id: current.offering.id,
          plan_id: next?.id,
          previous_values: previous ? { service_id: current.offering.id, plan_id: current.plan.id } : undefined,
          context: where.context,
          ...rest
        }) as UpdateRequestBody
      }))
    })
  }))
}

/**
 * A bind request.
 *
 * @since 0.1.0
 * @category models
 */
export interface BindRequest {
  readonly instanceId: string
  readonly bindingId: string
  readonly body: BindRequestBody
}

/**
 * Valid bind requests for bindable plans only: the ids, `bind_resource.app_guid` (and sometimes the deprecated
 * top-level `app_guid` with the same value), a `context` or none, and `parameters` from the plan's
 * `schemas.service_binding.create.parameters` (else a small JSON object or none). Throws when no selected plan
 * is bindable.
 *
 * @since 0.1.0
 * @category arbitraries
 */
export const bindRequest = (
  catalog: CatalogBody,
  options: RequestOptions & { readonly bindingId?: string } = {}
): FastCheck.Arbitrary<BindRequest> => {
  const targets = selectTargets(catalog, options, "bindRequest", isBindable)
  const where = placement(options.platforms ?? ["cloudfoundry", "kubernetes", "none"])
  return oneOf(targets.map((target) =>
    FastCheck.record({
      instanceId: idOr(options.instanceId),
      bindingId: idOr(options.bindingId),
      where,
      app: guid,
      parameters: parameters(target.plan, "bind", options.jsonSchema),
      topLevelAppGuid: FastCheck.boolean()
    }).map(({ app, bindingId, instanceId, topLevelAppGuid, where, ...rest }) => ({
      instanceId,
      bindingId,
      body: defined({
        service_id: target.offering.id,
        plan_id: target.plan.id,
        app_guid: topLevelAppGuid ? app : undefined,
        bind_resource: { app_guid: app },
        context: where.context,
        ...rest
      }) as BindRequestBody
    }))
  ))
}

// -----------------------------------------------------------------------------
// malformed bodies
// -----------------------------------------------------------------------------

/**
 * The requests with a body.
 *
 * @since 0.1.0
 * @category models
 */
export type BodyOperation = "provision" | "update" | "bind"

/**
 * What is wrong with a malformed body.
 *
 * - `wrong-type`: a field has the wrong JSON type (or an object field misses its own required field);
 * - `missing-field`: `service_id` or `plan_id` is missing;
 * - `missing-organization`: a provision without context lacks `organization_guid` or `space_guid`;
 * - `empty-string`: an id field is `""`;
 * - `unknown-service`, `unknown-plan`: an id not in the catalog; `foreign-plan`: a plan of another offering;
 * - `non-object`: valid JSON that is not an object; `invalid-json`: not JSON at all (or empty);
 * - `proto-key`: the required fields hidden under `__proto__` or `constructor.prototype` (prototype pollution);
 * - `deep-nesting`: nested deeper than 64 levels;
 * - `content-type`: a valid body sent with a non-JSON `Content-Type`;
 * - `maintenance-info-conflict`: a `maintenance_info.version` that is not the plan's (422);
 * - `not-bindable`, `rotation-not-supported`: bind of a plan that is not bindable / not `binding_rotatable`;
 * - `plan-not-updateable`: a plan change from or to a plan that is not `plan_updateable` (422).
 *
 * @since 0.1.0
 * @category models
 */
export type MalformedBodyKind =
  | "wrong-type"
  | "missing-field"
  | "missing-organization"
  | "empty-string"
  | "unknown-service"
  | "unknown-plan"
  | "foreign-plan"
  | "non-object"
  | "invalid-json"
  | "proto-key"
  | "deep-nesting"
  | "content-type"
  | "maintenance-info-conflict"
  | "not-bindable"
  | "rotation-not-supported"
  | "plan-not-updateable"

/**
 * A malformed request body: the text to send, its content type, and the status a conforming effect-osb router
 * answers (every variant has exactly one defect, so the answer does not depend on the order of the checks).
 *
 * @since 0.1.0
 * @category models
 */
export interface MalformedBody {
  readonly kind: MalformedBodyKind
  /** What is wrong, for failure messages. */
  readonly description: string
  readonly text: string
  readonly contentType: string
  readonly expectedStatus: 400 | 422
}

const stringFields: Record<BodyOperation, ReadonlyArray<string>> = {
  provision: ["service_id", "plan_id", "organization_guid", "space_guid"],
  update: ["service_id", "plan_id"],
  bind: ["service_id", "plan_id", "app_guid", "predecessor_binding_id"]
}

const objectFields: Record<BodyOperation, ReadonlyArray<string>> = {
  provision: ["parameters", "context", "maintenance_info"],
  update: ["parameters", "context", "previous_values", "maintenance_info"],
  bind: ["parameters", "context", "bind_resource"]
}

const invalidObjects: Record<string, ReadonlyArray<unknown>> = {
  context: [{}, { platform: 7 }, { platform: "" }, { platform: null }],
  maintenance_info: [{ description: "no version" }, { version: 1 }, { version: "" }],
  previous_values: [{ plan_id: 5 }, { service_id: "" }, { maintenance_info: "1.0.0" }],
  bind_resource: [{ app_guid: 5 }, { app_guid: "" }, { app_annotations: "x" }]
}

const notAString: FastCheck.Arbitrary<unknown> = FastCheck.oneof(
  FastCheck.integer(),
  FastCheck.boolean(),
  FastCheck.constant(null),
  FastCheck.array(FastCheck.integer(), { maxLength: 3 }),
  FastCheck.constant({ id: "x" })
)

const notAnObject: FastCheck.Arbitrary<unknown> = FastCheck.oneof(
  FastCheck.integer(),
  FastCheck.boolean(),
  FastCheck.constant(null),
  FastCheck.string({ maxLength: 8 }),
  FastCheck.array(FastCheck.jsonValue({ maxDepth: 1 }), { maxLength: 3 }).map(clean)
)

const jsonBody = (
  kind: MalformedBodyKind,
  description: string,
  value: unknown,
  expectedStatus: 400 | 422 = 400
): MalformedBody => ({
  kind,
  description,
  text: JSON.stringify(value),
  contentType: "application/json",
  expectedStatus
})

const without = (body: Record<string, unknown>, ...keys: Array<string>): Record<string, unknown> => {
  const out = { ...body }
  for (const key of keys) delete out[key]
  return out
}

/** `{"<key>":<value>,<the rest of body>}` built as text: a `__proto__` key stays a key. */
const withRawKey = (key: string, value: unknown, body: Record<string, unknown>): string => {
  const rest = JSON.stringify(body).slice(1)
  return `{${JSON.stringify(key)}:${JSON.stringify(value)}${rest === "}" ? "}" : `,${rest}`}`
}

const nested = (depth: number, arrays: boolean): string =>
  arrays ? `{"a":${"[".repeat(depth)}${"]".repeat(depth)}}` : `${"{\"a\":".repeat(depth)}1${"}".repeat(depth)}`

/**
 * Options of `malformedBody`.
 *
 * @since 0.1.0
 * @category models
 */
export interface MalformedBodyOptions extends RequestOptions {
  /** The request the body is for. Default `provision`. */
  readonly operation?: BodyOperation
  /** Only these kinds (those that apply to the catalog). Default all that apply. */
  readonly kinds?: ReadonlyArray<MalformedBodyKind>
}

/**
 * Malformed bodies for provision, update or bind requests against `catalog`, each derived from a valid request
 * with one defect (see `MalformedBodyKind`). Send `text` as is with `contentType`. Kinds that need something the
 * catalog lacks (a second offering, a plan that is not bindable, ...) are left out.
 *
 * @since 0.1.0
 * @category arbitraries
 */
export const malformedBody = (
  catalog: CatalogBody,
  options: MalformedBodyOptions = {}
): FastCheck.Arbitrary<MalformedBody> => {
  const operation = options.operation ?? "provision"
  const all = planTargets(catalog)
  const knownIds = new Set(all.flatMap((t) => [t.offering.id, t.plan.id]))
  const unknownId = guid.filter((id) => !knownIds.has(id))
  const targets = selectTargets(catalog, options, "malformedBody")
  const bindable = targets.filter(isBindable)

  const base: FastCheck.Arbitrary<Record<string, unknown>> = operation === "provision"
    ? provisionRequest(catalog, options).map((r) => ({ ...r.body }))
    : operation === "update"
    ? updateRequest(catalog, options).map((r) => ({ ...r.body }))
    : bindable.length > 0
    ? bindRequest(catalog, options).map((r) => ({ ...r.body }))
    : FastCheck.constantFrom(...targets).map((t) => ({ service_id: t.offering.id, plan_id: t.plan.id }))

  const variants: Array<[MalformedBodyKind, FastCheck.Arbitrary<MalformedBody>]> = []
  const add = (kind: MalformedBodyKind, arbitrary: FastCheck.Arbitrary<MalformedBody>) => {
    variants.push([kind, arbitrary])
  }

  const invalidObject = (field: string) => {
    const specific = invalidObjects[field] ?? []
    return specific.length === 0 ? notAnObject : FastCheck.oneof(notAnObject, FastCheck.constantFrom(...specific))
  }
  const wrongValues = [...stringFields[operation], ...objectFields[operation]].map((field) =>
    (stringFields[operation].includes(field) ? notAString : invalidObject(field)).map((value) =>
      [field, value] as const
    )
  )
  add(
    "wrong-type",
    FastCheck.tuple(base, FastCheck.oneof(...wrongValues)).map(([body, [field, value]]) =>
      jsonBody("wrong-type", `${field} is ${JSON.stringify(value)}`, { ...body, [field]: value })
    )
  )

  const required = operation === "update" ? ["service_id"] : ["service_id", "plan_id"]
  add(
    "missing-field",
    FastCheck.tuple(base, FastCheck.constantFrom(...required)).map(([body, field]) =>
      jsonBody("missing-field", `${field} is missing`, without(body, field))
    )
  )

  if (operation === "provision") {
    add(
      "missing-organization",
      FastCheck.tuple(base, FastCheck.constantFrom("organization_guid", "space_guid")).map(([body, field]) =>
        jsonBody("missing-organization", `${field} is missing and there is no context`, without(body, field, "context"))
      )
    )
  }

  add(
    "empty-string",
    FastCheck.tuple(base, FastCheck.constantFrom(...stringFields[operation])).map(([body, field]) =>
      jsonBody("empty-string", `${field} is ""`, { ...body, [field]: "" })
    )
  )

  add(
    "unknown-service",
    FastCheck.tuple(base, unknownId).map(([body, id]) =>
      jsonBody("unknown-service", `service_id ${id} is not in the catalog`, { ...body, service_id: id })
    )
  )

  add(
    "unknown-plan",
    FastCheck.tuple(base, unknownId).map(([body, id]) =>
      jsonBody("unknown-plan", `plan_id ${id} is not in the catalog`, { ...body, plan_id: id })
    )
  )

  const foreign = (body: Record<string, unknown>) =>
    all.filter((t) => t.offering.id !== body.service_id).map((t) => t.plan.id)
  if (targets.some((t) => all.some((other) => other.offering.id !== t.offering.id))) {
    add(
      "foreign-plan",
      base.filter((body) => foreign(body).length > 0).chain((body) =>
        FastCheck.constantFrom(...foreign(body)).map((planId) =>
          jsonBody("foreign-plan", `plan_id ${planId} belongs to another offering`, { ...body, plan_id: planId })
        )
      )
    )
  }

  add(
    "non-object",
    FastCheck.oneof(
      FastCheck.array(FastCheck.jsonValue({ maxDepth: 1 }), { maxLength: 3 }),
      FastCheck.integer(),
      FastCheck.string({ maxLength: 12 }),
      FastCheck.constantFrom(null, true, false),
      base.map((body) => [body])
    ).map((value) => jsonBody("non-object", `the body is ${Array.isArray(value) ? "an array" : typeof value}`, value))
  )

  const garbage = FastCheck.constantFrom("x", "}", ",", "]", "{}", "null", "/* */", "\u0000")
  add(
    "invalid-json",
    FastCheck.tuple(base, FastCheck.integer({ min: 0, max: 6 }), garbage, FastCheck.nat()).map(
      ([body, shape, junk, cut]): MalformedBody => {
        const text = JSON.stringify(body)
        const variants: ReadonlyArray<readonly [string, string]> = [
          [text.slice(0, cut % text.length), "a truncated object"],
          [`${text}${junk}`, `an object followed by ${JSON.stringify(junk)}`],
          [text.replace(/"/g, "'"), "single quotes"],
          [`${text.slice(0, -1)},}`, "a trailing comma"],
          [text.replace(/"([a-z_]+)":/g, "$1:"), "unquoted keys"],
          [`${text.slice(0, -1)},"x":NaN}`, "NaN"],
          [["", " ", "\n"][cut % 3]!, "an empty body"]
        ]
        const [invalid, description] = variants[shape]!
        return {
          kind: "invalid-json",
          description,
          text: invalid,
          contentType: "application/json",
          expectedStatus: 400
        }
      }
    )
  )

  add(
    "proto-key",
    FastCheck.tuple(base, FastCheck.integer({ min: 0, max: 2 })).map(([body, shape]): MalformedBody => {
      const first = required[0]!
      const text = shape === 0
        ? withRawKey("__proto__", body, {})
        : shape === 1
        ? withRawKey("__proto__", { [first]: body[first] }, without(body, first))
        : withRawKey("constructor", { prototype: body }, {})
      const description = shape === 0
        ? "every field is under __proto__"
        : shape === 1
        ? `${first} is only under __proto__`
        : "every field is under constructor.prototype"
      return { kind: "proto-key", description, text, contentType: "application/json", expectedStatus: 400 }
    })
  )

  add(
    "deep-nesting",
    FastCheck.tuple(
      base,
      FastCheck.integer({ min: 64, max: 2000 }),
      FastCheck.boolean(),
      FastCheck.constantFrom("parameters", "x-vendor-extension")
    ).map(([body, depth, arrays, host]): MalformedBody => ({
      kind: "deep-nesting",
      description: `${host} nests ${depth} ${arrays ? "arrays" : "objects"}`,
      text: `${JSON.stringify(without(body, host)).slice(0, -1)},${JSON.stringify(host)}:${nested(depth, arrays)}}`,
      contentType: "application/json",
      expectedStatus: 400
    }))
  )

  add(
    "content-type",
    FastCheck.tuple(
      base,
      FastCheck.constantFrom(
        "text/plain",
        "application/x-www-form-urlencoded",
        "application/xml",
        "text/json",
        "multipart/form-data; boundary=x"
      )
    ).map(([body, contentType]): MalformedBody => ({
      kind: "content-type",
      description: `Content-Type ${contentType}`,
      text: JSON.stringify(body),
      contentType,
      expectedStatus: 400
    }))
  )

  if (operation !== "bind") {
    const wrongVersion = (plan: ServicePlan) =>
      FastCheck.tuple(FastCheck.nat({ max: 99 }), FastCheck.nat({ max: 99 }), FastCheck.nat({ max: 99 }))
        .map(([a, b, c]) => `${a}.${b}.${c}-conflict`)
        .filter((version) => version !== plan.maintenance_info?.version)
    add(
      "maintenance-info-conflict",
      oneOf(targets.map((target) =>
        FastCheck.tuple(base, wrongVersion(target.plan)).map(([body, version]) =>
          jsonBody(
            "maintenance-info-conflict",
            `maintenance_info.version ${version} is not the version of plan ${target.plan.name}`,
            {
              ...without(body, "previous_values"),
              service_id: target.offering.id,
              plan_id: target.plan.id,
              maintenance_info: { version }
            },
            422
          )
        )
      ))
    )
  }

  if (operation === "bind") {
    const notBindable = targets.filter((t) => !isBindable(t))
    if (notBindable.length > 0) {
      add(
        "not-bindable",
        FastCheck.tuple(base, FastCheck.constantFrom(...notBindable)).map(([body, t]) =>
          jsonBody("not-bindable", `plan ${t.plan.name} is not bindable`, {
            ...body,
            service_id: t.offering.id,
            plan_id: t.plan.id
          })
        )
      )
    }
    const notRotatable = bindable.filter((t) => !isRotatable(t))
    if (notRotatable.length > 0) {
      add(
        "rotation-not-supported",
        FastCheck.tuple(base, FastCheck.constantFrom(...notRotatable), identifier).map(([body, t, predecessor]) =>
          jsonBody("rotation-not-supported", `plan ${t.plan.name} is not binding_rotatable`, {
            ...body,
            service_id: t.offering.id,
            plan_id: t.plan.id,
            predecessor_binding_id: predecessor
          })
        )
      )
    }
  }

  if (operation === "update") {
    const pairs = targets.flatMap((from) =>
      from.offering.plans
        .filter((plan) => plan.id !== from.plan.id)
        .map((plan) => [from, { offering: from.offering, plan }] as const)
        .filter(([a, b]) => !isPlanUpdateable(a) || !isPlanUpdateable(b))
    )
    if (pairs.length > 0) {
      add(
        "plan-not-updateable",
        FastCheck.constantFrom(...pairs).map(([from, to]) =>
          jsonBody(
            "plan-not-updateable",
            `plan change from ${from.plan.name} to ${to.plan.name}, not both plan_updateable`,
            {
              service_id: from.offering.id,
              plan_id: to.plan.id,
              previous_values: { service_id: from.offering.id, plan_id: from.plan.id }
            },
            422
          )
        )
      )
    }
  }

  const chosen = options.kinds === undefined ? variants : variants.filter(([kind]) => options.kinds!.includes(kind))
  if (chosen.length === 0) throw new Error("Arbitraries.malformedBody: none of the requested kinds applies")
  return FastCheck.oneof(...chosen.map(([, arbitrary]) => arbitrary))
}

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
  readonly kind: MalformedHeadersKind
  readonly description: string
  readonly headers: Readonly<Record<string, string | undefined>>
  readonly expectedStatus: 400 | 401 | 412
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
  readonly kind: MalformedQueryKind
  readonly description: string
  readonly search: string
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
  catalog: CatalogBody,
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

// -----------------------------------------------------------------------------
// invalid parameters (src/testing/InvalidParameters.ts)
// -----------------------------------------------------------------------------

export {
  /**
   * Parameters that violate a parameters schema, each with the path a validator must name.
   *
   * @since 0.1.0
   * @category arbitraries
   */
  invalidParameters,
  /**
   * Parameters that violate a plan's parameters schema for `create`, `update` or `bind`.
   *
   * @since 0.1.0
   * @category arbitraries
   */
  invalidParametersFor
} from "./InvalidParameters.js"

/**
 * Parameters that violate a schema, and where.
 *
 * @since 0.1.0
 * @category models
 */
export type { InvalidParameters } from "./InvalidParameters.js"
