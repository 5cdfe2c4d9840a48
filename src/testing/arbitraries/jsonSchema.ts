/**
 * `fromJsonSchema`: a fast-check arbitrary of the values a JSON schema accepts (the parameters schemas of a catalog).
 *
 * @since 0.2.0
 */
import * as FastCheck from "effect/FastCheck"
import { anyJson, clean, isObject, safeKey } from "./json.js"

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
