/**
 * Validation of request `parameters` against the JSON schemas a plan declares (`schemas.service_instance.create`,
 * `.update`, `schemas.service_binding.create`), with Ajv. Schemas are compiled once, when the catalog is built;
 * Ajv is loaded only when the catalog declares a schema.
 *
 * Two validators are compiled per schema: a fast one that stops at the first problem (every request runs it) and
 * one that collects every problem (run only for a request that failed, and only when its parameters are small
 * enough: collecting every problem of 1 MiB of wrong values takes ~140 ms and ~75 MB on this machine).
 *
 * @internal
 */
import type { Ajv } from "ajv"
import type { ErrorObject, ValidateFunction } from "ajv"
import * as Either from "effect/Either"
import * as Option from "effect/Option"
import { createRequire } from "node:module"
import type { CatalogService, ResolvedPlan } from "../Catalog.js"
import type { JsonObject } from "../Model.js"
import { BadRequest } from "../OsbError.js"

// -----------------------------------------------------------------------------
// options and results
// -----------------------------------------------------------------------------

/**
 * How parameter schemas are compiled and reported. Every field has a documented default.
 *
 * @since 0.1.0
 * @category models
 */
export interface ParametersOptions {
  /**
   * Fill in the schema's `default` values before the broker sees the parameters (provision and bind; never
   * update, whose parameters are a change and whose defaults would overwrite current values). Default false.
   */
  readonly injectDefaults?: boolean
  /**
   * A `format` the validator does not know (e.g. `iri`, or a typo): `"warn"` (default) logs a catalog warning at
   * start-up and accepts any value for it, as JSON Schema says of unknown formats; `"error"` makes it a catalog
   * error.
   */
  readonly unknownFormats?: "warn" | "error"
  /** Most problems named in one 400 answer. Default 10. */
  readonly maxProblems?: number
}

/** The request operation a schema is for. @internal */
export type Operation = "provision" | "update" | "bind"

/** The JSON Schema dialects validated. @internal */
export type Dialect = "draft-04" | "draft-06" | "draft-07" | "2019-09" | "2020-12"

/** A problem found in a schema, with a path relative to the schema (e.g. `properties.size.minimum`). @internal */
export interface SchemaProblem {
  readonly path: string
  readonly message: string
  readonly severity: "error" | "warning"
}

/** A compiled parameters schema. @internal */
export interface ParametersValidator {
  readonly dialect: Dialect
  /**
   * Validates a request's parameters. Right: the parameters to hand to the broker (the same value, or a copy with
   * defaults filled in); left: the `description` of a 400.
   */
  readonly check: (parameters: JsonObject | undefined) => Either.Either<JsonObject | undefined, string>
}

/** The compiled schemas of one plan, by operation. @internal */
export type PlanValidators = { readonly [K in Operation]?: ParametersValidator }

// -----------------------------------------------------------------------------
// dialects and Ajv instances
// -----------------------------------------------------------------------------

interface DialectSpec {
  readonly module: string
  readonly canonical: string
  readonly extraMeta?: string
}

const dialectSpecs: Readonly<Record<Dialect, DialectSpec>> = {
  "draft-04": { module: "ajv-draft-04", canonical: "http://json-schema.org/draft-04/schema#" },
  "draft-06": {
    module: "ajv",
    canonical: "http://json-schema.org/draft-06/schema#",
    extraMeta: "ajv/dist/refs/json-schema-draft-06.json"
  },
  "draft-07": { module: "ajv", canonical: "http://json-schema.org/draft-07/schema#" },
  "2019-09": { module: "ajv/dist/2019", canonical: "https://json-schema.org/draft/2019-09/schema" },
  "2020-12": { module: "ajv/dist/2020", canonical: "https://json-schema.org/draft/2020-12/schema" }
}

/** The dialects, in the order they are listed in messages. @internal */
export const dialects: ReadonlyArray<Dialect> = ["draft-04", "draft-06", "draft-07", "2019-09", "2020-12"]

/**
 * The dialect a `$schema` names: `http` or `https`, with or without the trailing `#`.
 *
 * @internal
 */
export const dialectOf = (uri: string): Dialect | undefined => {
  const match = /^https?:\/\/json-schema\.org\/(draft-0[467]\/schema|draft\/2019-09\/schema|draft\/2020-12\/schema)#?$/
    .exec(uri.trim())
  if (match === null) return undefined
  const name = match[1]!
  return name.startsWith("draft/") ? name.slice(6, 13) as Dialect : name.slice(0, 8) as Dialect
}

type AjvInstance = Ajv
type AjvConstructor = new(options: Record<string, unknown>) => AjvInstance

const requireModule = createRequire(import.meta.url)

const loadDefault = <A>(name: string): A => {
  const loaded = requireModule(name) as { readonly default?: A }
  return loaded.default ?? (loaded as A)
}

/** Where Ajv's warnings go while a schema compiles (compilation is synchronous). */
let warningSink: Array<string> | undefined

const logger = {
  log: () => {},
  warn: (...args: ReadonlyArray<unknown>) => {
    warningSink?.push(args.map(String).join(" "))
  },
  error: (...args: ReadonlyArray<unknown>) => {
    warningSink?.push(args.map(String).join(" "))
  }
}

const newAjv = (dialect: Dialect, options: Record<string, unknown>): AjvInstance => {
  const spec = dialectSpecs[dialect]
  const AjvClass = loadDefault<AjvConstructor>(spec.module)
  const addFormats = loadDefault<(ajv: AjvInstance) => AjvInstance>("ajv-formats")
  // strict: false: unknown keywords are ignored (JSON Schema's rule); unknown formats reach `logger.warn`
  const ajv = new AjvClass({ strict: false, logger, validateSchema: false, ...options })
  addFormats(ajv)
  if (spec.extraMeta !== undefined) ajv.addMetaSchema(requireModule(spec.extraMeta) as object)
  return ajv
}

/**
 * The Ajv instances of one catalog build for one dialect: `all` collects every problem (and checks schemas
 * against the meta-schema), `first` stops at the first, `filling` is `first` filling in `default` values.
 */
interface Instances {
  readonly all: AjvInstance
  readonly first: AjvInstance
  readonly filling: () => AjvInstance
}

/** Made on first use of each dialect; draft-06 shares draft-07's (Ajv's draft-07 class with its meta-schema). */
const makeInstances = (): (dialect: Dialect) => Instances => {
  const made = new Map<Dialect, Instances>()
  return (dialect) => {
    const key = dialect === "draft-06" ? "draft-07" : dialect
    const spec = key === "draft-07" ? "draft-06" : key
    let instances = made.get(key)
    if (instances === undefined) {
      let filling: AjvInstance | undefined
      instances = {
        all: newAjv(spec, { allErrors: true }),
        first: newAjv(spec, { allErrors: false }),
        filling: () => (filling ??= newAjv(spec, { allErrors: false, useDefaults: true }))
      }
      made.set(key, instances)
    }
    return instances
  }
}

// -----------------------------------------------------------------------------
// paths
// -----------------------------------------------------------------------------

const identifier = /^[A-Za-z_$][A-Za-z0-9_$]*$/

const unescapePointer = (segment: string): string => segment.replace(/~1/g, "/").replace(/~0/g, "~")

/**
 * Renders a JSON pointer into `value` as a path under `root` (`/tags/0/name` -> `parameters.tags[0].name`):
 * array elements as `[i]`, keys that are not identifiers quoted (`parameters["a b"]`).
 *
 * @internal
 */
export const pointerPath = (root: string, pointer: string, value: unknown): string => {
  if (pointer === "") return root
  let out = root
  let current = value
  for (const raw of pointer.slice(1).split("/")) {
    const key = unescapePointer(raw)
    if (Array.isArray(current)) {
      out += `[${key}]`
      current = current[Number(key)]
    } else {
      out += identifier.test(key) ? (out.length === 0 ? key : `.${key}`) : `[${JSON.stringify(key)}]`
      current = typeof current === "object" && current !== null
        ? (current as Record<string, unknown>)[key]
        : undefined
    }
  }
  return out
}

const child = (pointer: string, key: string): string => `${pointer}/${key.replace(/~/g, "~0").replace(/\//g, "~1")}`

const shortList = (values: ReadonlyArray<unknown>): string => {
  const shown = values.slice(0, 5).map((v) => JSON.stringify(v)).join(", ")
  return values.length > 5 ? `${shown}, ...` : shown
}

/** One Ajv error as `path: rule`. The failing location is the missing or extra property where there is one. */
const describeError = (error: ErrorObject, data: unknown): string => {
  const params = error.params as Record<string, unknown>
  switch (error.keyword) {
    case "required":
      return `${pointerPath("parameters", child(error.instancePath, String(params.missingProperty)), data)}: ` +
        "is required"
    case "additionalProperties":
      return `${pointerPath("parameters", child(error.instancePath, String(params.additionalProperty)), data)}: ` +
        "is not allowed (additionalProperties is false)"
    case "unevaluatedProperties":
      return `${pointerPath("parameters", child(error.instancePath, String(params.unevaluatedProperty)), data)}: ` +
        "is not allowed (unevaluatedProperties is false)"
    case "enum":
      return `${pointerPath("parameters", error.instancePath, data)}: must be one of ${
        shortList(Array.isArray(params.allowedValues) ? params.allowedValues : [])
      }`
    default:
      return `${pointerPath("parameters", error.instancePath, data)}: ${error.message ?? `fails ${error.keyword}`}`
  }
}

// -----------------------------------------------------------------------------
// checking requests
// -----------------------------------------------------------------------------

/** Parameters with more values than this get only their first problem named. */
const maxValuesForAllProblems = 500

const countValuesUpTo = (value: unknown, limit: number): number => {
  let count = 0
  const stack: Array<unknown> = [value]
  while (stack.length > 0 && count <= limit) {
    const current = stack.pop()
    count++
    if (typeof current === "object" && current !== null) {
      for (const item of Array.isArray(current) ? current : Object.values(current)) stack.push(item)
    }
  }
  return count
}

const deepCopy = (value: unknown): unknown => {
  if (typeof value !== "object" || value === null) return value
  if (Array.isArray(value)) return value.map(deepCopy)
  const out: Record<string, unknown> = {}
  for (const key of Object.keys(value)) out[key] = deepCopy((value as Record<string, unknown>)[key])
  return out
}

const describe = (
  errors: ReadonlyArray<ErrorObject>,
  data: unknown,
  maxProblems: number,
  suffix: string
): string => {
  const lines: Array<string> = []
  const seen = new Set<string>()
  for (const error of errors) {
    const line = describeError(error, data)
    if (!seen.has(line)) {
      seen.add(line)
      lines.push(line)
    }
  }
  const shown = lines.slice(0, maxProblems).join("; ")
  return (lines.length > maxProblems ? `${shown}; and ${lines.length - maxProblems} more` : shown) + suffix
}

const emptyParameters: JsonObject = Object.freeze({})

const makeValidator = (
  dialect: Dialect,
  operation: Operation,
  first: ValidateFunction,
  all: ValidateFunction,
  options: ParametersOptions
): ParametersValidator => {
  const maxProblems = Math.max(1, options.maxProblems ?? 10)
  const inject = options.injectDefaults === true && operation !== "update"
  const failure = (data: unknown): Either.Either<never, string> => {
    if (countValuesUpTo(data, maxValuesForAllProblems) > maxValuesForAllProblems) {
      return Either.left(
        describe(
          first.errors ?? [],
          data,
          1,
          ` (only the first problem is named: the parameters hold more than ${maxValuesForAllProblems} values)`
        )
      )
    }
    all(data)
    return Either.left(describe(all.errors ?? first.errors ?? [], data, maxProblems, ""))
  }
  if (inject) {
    return {
      dialect,
      check: (parameters) => {
        const copy = deepCopy(parameters ?? {}) as JsonObject
        return first(copy) ? Either.right(copy) : failure(parameters ?? emptyParameters)
      }
    }
  }
  return {
    dialect,
    check: (parameters) => {
      // an update without parameters changes none: nothing to check
      if (parameters === undefined && operation === "update") return Either.right(parameters)
      const data = parameters ?? emptyParameters
      return first(data) ? Either.right(parameters) : failure(data)
    }
  }
}

// -----------------------------------------------------------------------------
// compiling catalogs
// -----------------------------------------------------------------------------

/** Paths relative to the schema (`properties.size.minimum`), from Ajv's `#/properties/size` schema paths. */
const schemaPathOf = (schemaPointer: string, schema: unknown): string =>
  pointerPath("", schemaPointer.replace(/^#/, ""), schema)

const unknownFormat = /^unknown format "(.*)" ignored in schema at path "(.*)"$/

/** Largest `maxItems` that makes a quadratic `uniqueItems` check acceptable (1000 objects: ~50 ms at worst). */
const maxItemsForQuadraticUnique = 1000

/** Values that are data, not schemas: not searched for keywords. */
const dataKeywords = new Set(["enum", "const", "default", "examples"])

const isSchemaObject = (u: unknown): u is Readonly<Record<string, unknown>> =>
  typeof u === "object" && u !== null && !Array.isArray(u)

/**
 * `uniqueItems: true` on items that are not all of one scalar type compares every pair of items (Ajv's check for
 * objects and arrays): a 224 KiB array of 20,000 small objects took 22 s on this machine, with the event loop
 * blocked. Such a `uniqueItems` needs a `maxItems` of at most 1000.
 */
const quadraticUniqueItems = (schema: unknown, problems: Array<SchemaProblem>): void => {
  const stack: Array<readonly [unknown, string]> = [[schema, ""]]
  while (stack.length > 0) {
    const [current, at] = stack.pop()!
    if (Array.isArray(current)) {
      current.forEach((item, i) => stack.push([item, `${at}[${i}]`]))
      continue
    }
    if (!isSchemaObject(current)) continue
    if (current.uniqueItems === true) {
      const items = current.items
      const types = isSchemaObject(items)
        ? (typeof items.type === "string" ? [items.type] : Array.isArray(items.type) ? items.type : [])
        : []
      const hashed = types.length > 0 && !types.some((t) => t === "object" || t === "array")
      const bounded = typeof current.maxItems === "number" && current.maxItems <= maxItemsForQuadraticUnique
      if (!hashed && !bounded) {
        problems.push({
          path: at === "" ? "uniqueItems" : `${at}.uniqueItems`,
          message: "uniqueItems on items that are not all strings, numbers or booleans compares every pair of " +
            `items (20,000 objects: 22 s of blocked event loop); give the array a maxItems of at most ${maxItemsForQuadraticUnique}`,
          severity: "error"
        })
      }
    }
    for (const [key, child] of Object.entries(current)) {
      if (!dataKeywords.has(key)) stack.push([child, at === "" ? key : `${at}.${key}`])
    }
  }
}

/** Compiles the parameter schemas of catalogs; one per catalog build. @internal */
export interface SchemaCompiler {
  /**
   * Compiles one schema (its `$schema` already checked to be present). Returns the validator, or undefined when
   * the schema has problems (every one is pushed to `problems`).
   */
  readonly compile: (
    schema: Readonly<Record<string, unknown>>,
    operation: Operation,
    problems: Array<SchemaProblem>
  ) => ParametersValidator | undefined
}

/** @internal */
export const makeCompiler = (options: ParametersOptions = {}): SchemaCompiler => {
  const instancesOf = makeInstances()
  const inject = options.injectDefaults === true
  const formatSeverity = options.unknownFormats === "error" ? "error" : "warning"
  return {
    compile: (schema, operation, problems) => {
      const declared = String(schema.$schema)
      const dialect = dialectOf(declared)
      if (dialect === undefined) {
        problems.push({
          path: "$schema",
          message: `"${declared}" is not a JSON Schema dialect effect-osb validates (${dialects.join(", ")})`,
          severity: "error"
        })
        return undefined
      }
      const instances = instancesOf(dialect)
      const all = instances.all
      // update never gets defaults: its parameters are a change, a default would overwrite a current value
      const first = inject && operation !== "update" ? instances.filling() : instances.first
      // Ajv knows each dialect by one exact URI; the schema may use http/https or omit the trailing `#`
      const normalized = { ...schema, $schema: dialectSpecs[dialect].canonical }
      if (all.validateSchema(normalized) !== true) {
        for (const error of all.errors ?? []) {
          const at = schemaPathOf(error.instancePath, normalized)
          problems.push({ path: at, message: `${error.message ?? error.keyword} (${dialect})`, severity: "error" })
        }
        return undefined
      }
      const before = problems.length
      quadraticUniqueItems(normalized, problems)
      if (problems.length > before) return undefined
      const warnings: Array<string> = []
      try {
        warningSink = warnings
        const validateAll = all.compile(normalized)
        warningSink = undefined
        all.removeSchema(normalized)
        const normalizedFirst = { ...normalized }
        const validateFirst = first.compile(normalizedFirst)
        first.removeSchema(normalizedFirst)
        let failed = false
        for (const warning of new Set(warnings)) {
          const match = unknownFormat.exec(warning)
          if (match === null) continue
          const at = schemaPathOf(match[2]!, normalized)
          problems.push({
            path: at === "" ? "format" : `${at}.format`,
            message: `unknown format "${match[1]}": not checked (formats known: those of ajv-formats)`,
            severity: formatSeverity
          })
          if (formatSeverity === "error") failed = true
        }
        return failed ? undefined : makeValidator(dialect, operation, validateFirst, validateAll, options)
      } catch (error) {
        problems.push({
          path: "",
          message: `cannot be compiled: ${error instanceof Error ? error.message : String(error)}`,
          severity: "error"
        })
        return undefined
      } finally {
        warningSink = undefined
      }
    }
  }
}

// -----------------------------------------------------------------------------
// the edge
// -----------------------------------------------------------------------------

/**
 * The router option `validateParameters`: `true` (default) validates every plan's declared schemas, `false`
 * none, a predicate the plans it returns true for (e.g. `({ plan }) => plan.name !== "legacy"`).
 *
 * @since 0.1.0
 * @category models
 */
export type ValidateParameters = boolean | ((plan: ResolvedPlan) => boolean)

/** A request body that may carry parameters. @internal */
export interface WithParameters {
  readonly parameters?: JsonObject | undefined
}

/** Checks a request body's parameters before the broker runs. @internal */
export type EdgeCheck = <B extends WithParameters>(
  planId: string,
  operation: Operation,
  body: B
) => Either.Either<B, BadRequest>

const unchecked: EdgeCheck = (_planId, _operation, body) => Either.right(body)

/**
 * The edge's check, built once per router: the plans' compiled validators, less those turned off.
 *
 * @internal
 */
export const makeEdgeCheck = (catalog: CatalogService, setting: ValidateParameters = true): EdgeCheck => {
  if (setting === false) return unchecked
  const active = new Map<string, PlanValidators>()
  for (const offering of catalog.services) {
    for (const plan of offering.plans) {
      const validators = catalog.parameterValidators(plan.id)
      if (validators === undefined) continue
      if (typeof setting === "function" && !Option.exists(catalog.plan(plan.id), setting)) continue
      active.set(plan.id, validators)
    }
  }
  if (active.size === 0) return unchecked
  return (planId, operation, body) => {
    const validator = active.get(planId)?.[operation]
    if (validator === undefined) return Either.right(body)
    const checked = validator.check(body.parameters)
    if (Either.isLeft(checked)) return Either.left(new BadRequest({ description: checked.left }))
    return checked.right === body.parameters ? Either.right(body) : Either.right({ ...body, parameters: checked.right })
  }
}
