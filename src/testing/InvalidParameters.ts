/**
 * Arbitraries of parameters that violate a plan's parameters schema: a value of the schema (from
 * `fromJsonSchema`) with one change that breaks one keyword at one location, together with the path a validator
 * must name for it (`parameters.size`). Re-exported by `Arbitraries`.
 *
 * Only keywords that certainly apply at their location are broken: the schema's root object, then `properties`
 * down from it; never through `$ref`, `anyOf`, `oneOf`, `allOf`, `not` or `if`, whose effect on a location
 * depends on the value. So every generated value is invalid, whatever else the schema says.
 *
 * @since 0.1.0
 * @module
 */
import * as FastCheck from "effect/FastCheck"
import type { JsonObject, ServicePlan } from "../Model.js"
import type { JsonSchemaOptions } from "./arbitraries/jsonSchema.js"
import { fromJsonSchema } from "./arbitraries/jsonSchema.js"

/**
 * Parameters that violate a schema, and where.
 *
 * @since 0.1.0
 * @category models
 */
export interface InvalidParameters {
  /** The parameters: an object, invalid for the schema. */
  readonly parameters: JsonObject
  /**
   * The location a validator must name, as a path under `parameters` (`parameters.size`, `parameters.tags[0]`,
   * `parameters["odd key"]`); for a missing required property, the property's own path.
   */
  readonly path: string
  /** The keyword broken: `type`, `enum`, `const`, `maximum`, `minLength`, `required`, `additionalProperties`, ... */
  readonly keyword: string
}

type Schema = Readonly<Record<string, unknown>>

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value)

const identifierKey = /^[A-Za-z_$][A-Za-z0-9_$]*$/

const showPath = (keys: ReadonlyArray<string>): string =>
  keys.reduce((out, key) => identifierKey.test(key) ? `${out}.${key}` : `${out}[${JSON.stringify(key)}]`, "parameters")

/** One way to break the schema: set (or delete) the value at `keys`. */
interface Mutation {
  readonly keys: ReadonlyArray<string>
  readonly keyword: string
  /** The value to put there; `undefined` deletes the property. */
  readonly value: unknown
}

/** Values of every JSON type, by type name; the first whose type the schema does not allow breaks `type`. */
const samples: ReadonlyArray<readonly [ReadonlyArray<string>, unknown]> = [
  [["string"], "not of the declared type"],
  [["number"], 1.5],
  [["integer", "number"], 7],
  [["boolean"], true],
  [["object"], { unexpected: true }],
  [["array"], ["unexpected"]]
]

const typesOf = (type: unknown): ReadonlyArray<string> | undefined =>
  typeof type === "string" ? [type] : Array.isArray(type) ? type.filter((t) => typeof t === "string") : undefined

const canonical = (value: unknown): string =>
  JSON.stringify(
    value,
    (_key, v: unknown) =>
      isObject(v) ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) : v
  )

const isInteger = (value: unknown): value is number => typeof value === "number" && Number.isInteger(value)

/** The ways to break the keywords of the schema applied at `keys` (a property's value, not the root). */
const valueMutations = (schema: Schema, keys: ReadonlyArray<string>): Array<Mutation> => {
  const out: Array<Mutation> = []
  const add = (keyword: string, value: unknown) => out.push({ keys, keyword, value })
  const types = typesOf(schema.type)
  if (types !== undefined) {
    const other = samples.find(([kinds]) => !kinds.some((kind) => types.includes(kind)))
    if (other !== undefined) add("type", other[1])
  }
  if (Array.isArray(schema.enum)) {
    const members = new Set(schema.enum.map(canonical))
    const outside = ["not one of the allowed values", 987654321, false, { unexpected: true }].find(
      (candidate) => !members.has(canonical(candidate))
    )
    if (outside !== undefined) add("enum", outside)
  }
  if ("const" in schema) {
    add("const", canonical(schema.const) === canonical("not the constant") ? 987654321 : "not the constant")
  }
  const whole = types !== undefined && types.includes("integer") && !types.includes("number")
  if (typeof schema.maximum === "number") add("maximum", whole ? Math.floor(schema.maximum) + 1 : schema.maximum + 1)
  if (typeof schema.exclusiveMaximum === "number") {
    add("exclusiveMaximum", whole ? Math.ceil(schema.exclusiveMaximum) : schema.exclusiveMaximum)
  }
  if (typeof schema.minimum === "number") add("minimum", whole ? Math.ceil(schema.minimum) - 1 : schema.minimum - 1)
  if (typeof schema.exclusiveMinimum === "number") {
    add("exclusiveMinimum", whole ? Math.floor(schema.exclusiveMinimum) : schema.exclusiveMinimum)
  }
  if (isInteger(schema.maxLength) && schema.maxLength < 1000) add("maxLength", "x".repeat(schema.maxLength + 1))
  if (isInteger(schema.minLength) && schema.minLength > 0) add("minLength", "")
  if (isInteger(schema.maxItems) && schema.maxItems < 100) {
    add("maxItems", Array.from({ length: schema.maxItems + 1 }, () => null))
  }
  if (isInteger(schema.minItems) && schema.minItems > 0) add("minItems", [])
  return out
}

/** Keywords whose siblings a draft-04..07 validator ignores, or that make a location's rules depend on values. */
const conditional = ["$ref", "$dynamicRef", "$recursiveRef"]

/** Every way to break the schema applied at `keys` (the root when `keys` is empty), and below it. */
const mutations = (schema: unknown, keys: ReadonlyArray<string>, depth: number): Array<Mutation> => {
  if (!isObject(schema) || depth > 8 || conditional.some((keyword) => keyword in schema)) return []
  const out = keys.length === 0 ? [] : valueMutations(schema, keys)
  const properties = isObject(schema.properties) ? schema.properties : {}
  if (Array.isArray(schema.required)) {
    for (const key of schema.required) {
      if (typeof key === "string") out.push({ keys: [...keys, key], keyword: "required", value: undefined })
    }
  }
  if (schema.additionalProperties === false && !isObject(schema.patternProperties)) {
    let extra = "unexpected_parameter"
    while (Object.hasOwn(properties, extra)) extra += "_"
    out.push({ keys: [...keys, extra], keyword: "additionalProperties", value: "not declared" })
  }
  for (const [key, child] of Object.entries(properties)) {
    if (key !== "__proto__") out.push(...mutations(child, [...keys, key], depth + 1))
  }
  return out
}

const apply = (base: JsonObject, mutation: Mutation): JsonObject => {
  const root = structuredClone(base) as Record<string, unknown>
  let parent = root
  const keys = mutation.keys
  for (const key of keys.slice(0, -1)) {
    const next = parent[key]
    parent = isObject(next) ? next : (parent[key] = {})
  }
  const last = keys[keys.length - 1]!
  if (mutation.value === undefined) delete parent[last]
  else parent[last] = structuredClone(mutation.value)
  return root as JsonObject
}

/**
 * Parameters that violate `schema` (a parameters schema: an object schema), each with the path a validator must
 * name. Throws when the schema has no keyword that can be broken this way (e.g. `{}`), or when `fromJsonSchema`
 * cannot generate its values.
 *
 * @since 0.1.0
 * @category arbitraries
 */
export const invalidParameters = (
  schema: JsonObject,
  options: JsonSchemaOptions = {}
): FastCheck.Arbitrary<InvalidParameters> => {
  const ways = mutations(schema, [], 0)
  if (ways.length === 0) {
    throw new Error("Arbitraries.invalidParameters: the schema has no keyword this generator can break")
  }
  const objectSchema = schema.type === undefined ? { type: "object", ...schema } : schema
  const base = fromJsonSchema(objectSchema, options).filter(isObject) as FastCheck.Arbitrary<JsonObject>
  return FastCheck.tuple(base, FastCheck.constantFrom(...ways)).map(([value, mutation]) => ({
    parameters: apply(value, mutation),
    path: showPath(mutation.keys),
    keyword: mutation.keyword
  }))
}

/**
 * Parameters that violate a plan's parameters schema for `create` (provision), `update` or `bind`; undefined when
 * the plan declares none.
 *
 * @since 0.1.0
 * @category arbitraries
 */
export const invalidParametersFor = (
  plan: ServicePlan,
  which: "create" | "update" | "bind",
  options: JsonSchemaOptions = {}
): FastCheck.Arbitrary<InvalidParameters> | undefined => {
  const schema = which === "bind"
    ? plan.schemas?.service_binding?.create?.parameters
    : plan.schemas?.service_instance?.[which]?.parameters
  return schema === undefined ? undefined : invalidParameters(schema, options)
}
