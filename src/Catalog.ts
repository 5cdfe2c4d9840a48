/**
 * The `Catalog` service: the broker's offerings and plans, validated once when the layer is built (VAL-1..VAL-6),
 * with lookups, effective per-plan values and the pre-serialised `GET /v2/catalog` body.
 *
 * @since 0.1.0
 * @module
 */
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as ParseResult from "effect/ParseResult"
import * as Schema from "effect/Schema"
import { createHash } from "node:crypto"
import type { Operation, ParametersOptions, PlanValidators, SchemaCompiler } from "./internal/parameters.js"
import { makeCompiler } from "./internal/parameters.js"
import { formatPath } from "./internal/paths.js"
import type { BindingResponseBody, FetchBindingBody, ServiceOffering, ServicePlan } from "./Model.js"
import { CatalogBody } from "./Model.js"

/**
 * How serious a catalog problem is: an `error` breaks a rule of the spec and the catalog is refused; a `warning` is
 * a recommendation of the spec (CLI-friendly names) or a suggestion of effect-osb (no plan id equal to an offering
 * id, unknown `format`s), reported but never refusing the catalog.
 *
 * @since 0.2.0
 * @category models
 */
export type CatalogSeverity = "error" | "warning"

/**
 * One problem found in a catalog, with the path of the offending value (e.g. `services[0].plans[1].id`) and its
 * severity (`error` when not given).
 *
 * @since 0.1.0
 * @category models
 */
export class CatalogProblem extends Schema.Class<CatalogProblem>("effect-osb/CatalogProblem")({
  /** Where the offending value is, e.g. `services[0].plans[1].id`. */
  path: Schema.String,
  /** What is wrong with it and, where it helps, the rule it breaks. */
  message: Schema.String,
  /** `error` (the catalog is refused) or `warning` (reported only). Default `error`. */
  severity: Schema.optionalWith(Schema.Literal("error", "warning"), { default: () => "error" as const })
}) {}

const warning = (path: string, message: string): CatalogProblem =>
  new CatalogProblem({ path, message, severity: "warning" })

/**
 * The catalog is invalid. Lists every problem found, each with its path.
 *
 * @since 0.1.0
 * @category errors
 */
export class CatalogError extends Schema.TaggedError<CatalogError>("effect-osb/CatalogError")("CatalogError", {
  /** Every problem found, in catalog order; never empty. */
  problems: Schema.Array(CatalogProblem)
}) {
  /** Every problem, one line each with its path, under a line that counts them. */
  override get message(): string {
    return `The catalog is invalid (${this.problems.length} problem${this.problems.length === 1 ? "" : "s"}):\n` +
      this.problems.map((p) => `  - ${p.path}: ${p.message}`).join("\n")
  }
}

/**
 * The values of a plan after applying the offering's defaults (VAL-6).
 *
 * @since 0.1.0
 * @category models
 */
export interface EffectivePlan {
  /** Whether instances of the plan can be bound: the plan's `bindable`, else the offering's. */
  readonly bindable: boolean
  /** Whether instances may move to another plan: the plan's `plan_updateable`, else the offering's, else `false`. */
  readonly planUpdateable: boolean
  /** Whether the plan is free: the plan's `free`, else `true`. */
  readonly free: boolean
  /** Whether bindings may be rotated with `predecessor_binding_id`: the plan's `binding_rotatable`, else `false`. */
  readonly bindingRotatable: boolean
}

/**
 * A plan together with its offering and its effective values.
 *
 * @since 0.1.0
 * @category models
 */
export interface ResolvedPlan {
  /** The offering the plan belongs to. */
  readonly offering: ServiceOffering
  /** The plan, as the catalog declares it. */
  readonly plan: ServicePlan
  /** The plan's values after the offering's defaults (VAL-6). */
  readonly effective: EffectivePlan
}

/**
 * Computes the effective per-plan values (VAL-6).
 *
 * @since 0.1.0
 * @category utils
 */
export const effectivePlan = (
  offering: Pick<ServiceOffering, "bindable" | "plan_updateable">,
  plan: ServicePlan
): EffectivePlan => ({
  bindable: plan.bindable ?? offering.bindable,
  planUpdateable: plan.plan_updateable ?? offering.plan_updateable ?? false,
  free: plan.free ?? true,
  bindingRotatable: plan.binding_rotatable ?? false
})

/**
 * The binding fields an offering must declare in `requires` before a broker may return them (VAL-5), and the
 * requirement each needs.
 *
 * @since 0.1.0
 * @category utils
 */
export const bindingRequirements = {
  /** A binding may return `syslog_drain_url` only if the offering `requires` `syslog_drain`. */
  syslog_drain_url: "syslog_drain",
  /** A binding may return `route_service_url` only if the offering `requires` `route_forwarding`. */
  route_service_url: "route_forwarding",
  /** A binding may return `volume_mounts` only if the offering `requires` `volume_mount`. */
  volume_mounts: "volume_mount"
} as const satisfies { readonly [K in keyof BindingResponseBody & keyof FetchBindingBody]?: string }

/**
 * The first binding field the offering does not declare in `requires` (VAL-5), if any: `syslog_drain_url` needs
 * `syslog_drain`, `route_service_url` needs `route_forwarding`, `volume_mounts` needs `volume_mount`.
 *
 * @since 0.1.0
 * @category utils
 */
export const undeclaredRequirement = (
  offering: ServiceOffering,
  binding: BindingResponseBody | FetchBindingBody
): {
  /** The binding field the offering may not return. */
  readonly field: keyof typeof bindingRequirements
  /** The `requires` value the offering would need to declare for it. */
  readonly requirement: string
} | undefined => {
  const requires: ReadonlyArray<string> = offering.requires ?? []
  for (const field of Object.keys(bindingRequirements) as ReadonlyArray<keyof typeof bindingRequirements>) {
    const requirement = bindingRequirements[field]
    if (binding[field] !== undefined && !requires.includes(requirement)) return { field, requirement }
  }
  return undefined
}

/**
 * The catalog service.
 *
 * @since 0.1.0
 * @category models
 */
export interface CatalogService {
  /** The validated offerings. */
  readonly services: ReadonlyArray<ServiceOffering>
  /** The `GET /v2/catalog` body, serialised once. */
  readonly body: string
  /** A strong ETag of {@link body}. */
  readonly etag: string
  /**
   * Problems of severity `warning`, which do not fail the catalog: names that are not CLI-friendly (VAL-3), a plan id
   * that is also an offering id, unknown `format`s.
   */
  readonly warnings: ReadonlyArray<CatalogProblem>
  /** The offering with this id. */
  readonly offering: (serviceId: string) => Option.Option<ServiceOffering>
  /** The plan with this id (plan ids are unique across the catalog). */
  readonly plan: (planId: string) => Option.Option<ResolvedPlan>
  /**
   * The compiled parameter schemas of a plan, by operation (`provision`, `update`, `bind`); undefined when the
   * plan declares none.
   */
  readonly parameterValidators: (planId: string) => PlanValidators | undefined
}

/**
 * The catalog service tag.
 *
 * @since 0.1.0
 * @category tags
 */
export class Catalog extends Context.Tag("effect-osb/Catalog")<Catalog, CatalogService>() {}

// -----------------------------------------------------------------------------
// validation
// -----------------------------------------------------------------------------

const semverPattern =
  /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$/
const cliFriendly = /^[A-Za-z0-9.-]+$/
const meaningful = /[A-Za-z0-9]/
const maxSchemaBytes = 64 * 1024

type Raw = Readonly<Record<string, unknown>>
const isRecord = (u: unknown): u is Raw => typeof u === "object" && u !== null && !Array.isArray(u)
const asArray = (u: unknown): ReadonlyArray<unknown> => (Array.isArray(u) ? u : [])
const asString = (u: unknown): string | undefined => (typeof u === "string" ? u : undefined)

const structuralProblems = (input: unknown): Array<CatalogProblem> =>
  Either.match(Schema.decodeUnknownEither(CatalogBody, { errors: "all" })(input), {
    onRight: () => [],
    onLeft: (error) =>
      ParseResult.ArrayFormatter.formatErrorSync(error).map((issue) =>
        new CatalogProblem({ path: formatPath(issue.path), message: issue.message })
      )
  })

const remoteRefs = (value: unknown, path: string, out: Array<CatalogProblem>): void => {
  const stack: Array<readonly [unknown, string]> = [[value, path]]
  while (stack.length > 0) {
    const [current, at] = stack.pop()!
    if (Array.isArray(current)) {
      current.forEach((item, i) => stack.push([item, `${at}[${i}]`]))
    } else if (isRecord(current)) {
      for (const [key, child] of Object.entries(current)) {
        if (key === "$ref" && typeof child === "string" && !child.startsWith("#")) {
          out.push(
            new CatalogProblem({ path: `${at}.$ref`, message: `external reference "${child}" is not allowed (SCH-2)` })
          )
        }
        stack.push([child, `${at}.${key}`])
      }
    }
  }
}

const joinPath = (base: string, relative: string): string =>
  relative === "" ? base : relative.startsWith("[") ? `${base}${relative}` : `${base}.${relative}`

/** What checking a catalog's parameter schemas produced: problems, warnings, and a validator per schema. */
interface SchemaAnalysis {
  readonly problems: Array<CatalogProblem>
  readonly warnings: Array<CatalogProblem>
  readonly compiler: () => SchemaCompiler
  readonly validators: Map<string, { -readonly [K in Operation]?: PlanValidators[K] }>
}

const schemaProblems = (plan: Raw, planPath: string, analysis: SchemaAnalysis): void => {
  const schemas = plan.schemas
  if (!isRecord(schemas)) return
  const out = analysis.problems
  const candidates: Array<readonly [unknown, string, Operation]> = []
  if (isRecord(schemas.service_instance)) {
    candidates.push([schemas.service_instance.create, "service_instance.create", "provision"])
    candidates.push([schemas.service_instance.update, "service_instance.update", "update"])
  }
  if (isRecord(schemas.service_binding)) {
    candidates.push([schemas.service_binding.create, "service_binding.create", "bind"])
  }
  for (const [holder, name, operation] of candidates) {
    if (!isRecord(holder) || !isRecord(holder.parameters)) continue
    const path = `${planPath}.schemas.${name}.parameters`
    const parameters = holder.parameters
    const before = out.length
    if (typeof parameters.$schema !== "string" || parameters.$schema.length === 0) {
      out.push(
        new CatalogProblem({ path: `${path}.$schema`, message: "a JSON schema must name its draft in $schema (SCH-1)" })
      )
    }
    remoteRefs(parameters, path, out)
    const size = Buffer.byteLength(JSON.stringify(parameters), "utf8")
    if (size > maxSchemaBytes) {
      out.push(new CatalogProblem({ path, message: `the schema is ${size} bytes, more than 64 kB (SCH-3)` }))
    }
    if (out.length > before) continue
    compileSchema(parameters, path, operation, plan.id, analysis)
  }
}

const compileSchema = (
  schema: Raw,
  path: string,
  operation: Operation,
  planId: unknown,
  analysis: SchemaAnalysis
): void => {
  const found: Array<{ readonly path: string; readonly message: string; readonly severity: "error" | "warning" }> = []
  const validator = analysis.compiler().compile(schema, operation, found)
  for (const problem of found) {
    const entry = new CatalogProblem({
      path: joinPath(path, problem.path),
      message: problem.message,
      severity: problem.severity
    })
    if (problem.severity === "error") analysis.problems.push(entry)
    else analysis.warnings.push(entry)
  }
  if (validator === undefined || typeof planId !== "string") return
  let forPlan = analysis.validators.get(planId)
  if (forPlan === undefined) {
    forPlan = {}
    analysis.validators.set(planId, forPlan)
  }
  forPlan[operation] = validator
}

const nameWarnings = (name: unknown, path: string, out: Array<CatalogProblem>): void => {
  if (typeof name !== "string" || name.length === 0) return
  if (!cliFriendly.test(name)) {
    out.push(warning(path, `"${name}" is not CLI-friendly (recommended: ^[A-Za-z0-9.-]+$, VAL-3)`))
  } else if (!meaningful.test(name)) {
    out.push(warning(path, `"${name}" has no letter or digit (VAL-3)`))
  }
}

const duplicates = (
  entries: ReadonlyArray<readonly [string | undefined, string]>,
  what: string,
  out: Array<CatalogProblem>
): void => {
  const seen = new Map<string, string>()
  for (const [value, path] of entries) {
    if (value === undefined || value.length === 0) continue
    const first = seen.get(value)
    if (first === undefined) seen.set(value, path)
    else out.push(new CatalogProblem({ path, message: `${what} "${value}" is already used at ${first} (VAL-2)` }))
  }
}

/**
 * effect-osb's suggestion (a warning, not a rule of the spec): a plan id that is also an offering id is legal, but
 * reads ambiguously in logs and platform tooling.
 */
const planIdsOfOfferings = (
  offeringIds: ReadonlyArray<readonly [string | undefined, string]>,
  planIds: ReadonlyArray<readonly [string | undefined, string]>,
  out: Array<CatalogProblem>
): void => {
  const offeringIdSet = new Set(offeringIds.map(([id]) => id))
  for (const [id, path] of planIds) {
    if (id !== undefined && id.length > 0 && offeringIdSet.has(id)) {
      out.push(warning(path, `plan id "${id}" is also an offering id (a suggestion of effect-osb, VAL-2)`))
    }
  }
}

/**
 * Options of the catalog.
 *
 * @since 0.1.0
 * @category models
 */
export interface CatalogOptions {
  /**
   * How the plans' parameter schemas are compiled and how their violations are reported (defaults: no `default`
   * injection, unknown formats a warning, 10 problems per answer). Turning validation off is a router option
   * (`validateParameters`).
   */
  readonly parameters?: ParametersOptions
}

/**
 * Options of the catalog: how parameter schemas are compiled and reported.
 *
 * @since 0.1.0
 * @category models
 */
export type { ParametersOptions }

const analyse = (input: unknown, options: CatalogOptions): SchemaAnalysis => {
  let compiler: SchemaCompiler | undefined
  const analysis: SchemaAnalysis = {
    problems: structuralProblems(input),
    warnings: [],
    compiler: () => (compiler ??= makeCompiler(options.parameters)),
    validators: new Map()
  }
  const { problems, warnings } = analysis
  const services = isRecord(input) ? asArray(input.services) : []
  const offeringIds: Array<readonly [string | undefined, string]> = []
  const offeringNames: Array<readonly [string | undefined, string]> = []
  const planIds: Array<readonly [string | undefined, string]> = []
  services.forEach((offering, i) => {
    if (!isRecord(offering)) return
    const at = `services[${i}]`
    offeringIds.push([asString(offering.id), `${at}.id`])
    offeringNames.push([asString(offering.name), `${at}.name`])
    nameWarnings(offering.name, `${at}.name`, warnings)
    const planNames: Array<readonly [string | undefined, string]> = []
    asArray(offering.plans).forEach((plan, j) => {
      if (!isRecord(plan)) return
      const planAt = `${at}.plans[${j}]`
      planIds.push([asString(plan.id), `${planAt}.id`])
      planNames.push([asString(plan.name), `${planAt}.name`])
      nameWarnings(plan.name, `${planAt}.name`, warnings)
      const version = isRecord(plan.maintenance_info) ? asString(plan.maintenance_info.version) : undefined
      if (version !== undefined && version.length > 0 && !semverPattern.test(version)) {
        problems.push(
          new CatalogProblem({
            path: `${planAt}.maintenance_info.version`,
            message: `"${version}" is not a SemVer 2.0 version (VAL-4)`
          })
        )
      }
      schemaProblems(plan, planAt, analysis)
    })
    duplicates(planNames, "plan name", problems)
  })
  duplicates(offeringIds, "offering id", problems)
  duplicates(offeringNames, "offering name", problems)
  duplicates(planIds, "plan id", problems)
  planIdsOfOfferings(offeringIds, planIds, warnings)
  return analysis
}

/**
 * Checks a catalog value and returns every problem (errors) and every warning, each with its path. Parameter
 * schemas are compiled for their dialect (`$schema`): a schema that does not compile is a problem at its path.
 * Works on any input, so a broken catalog still gets all of its problems reported at once.
 *
 * @since 0.1.0
 * @category validation
 */
export const validate = (input: unknown, options: CatalogOptions = {}): {
  /** What makes the catalog invalid; empty when it is valid. */
  readonly problems: ReadonlyArray<CatalogProblem>
  /**
   * What is allowed but discouraged: names that are not CLI-friendly (VAL-3), a plan id that is also an offering id,
   * unknown `format`s.
   */
  readonly warnings: ReadonlyArray<CatalogProblem>
} => {
  const { problems, warnings } = analyse(input, options)
  return { problems, warnings }
}

/**
 * Validates a catalog value and builds the service, with the parameter schemas compiled. Fails with every
 * problem found.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (
  input: CatalogBody | unknown,
  options: CatalogOptions = {}
): Effect.Effect<CatalogService, CatalogError> =>
  Effect.suspend(() => {
    const { problems, validators, warnings } = analyse(input, options)
    if (problems.length > 0) return Effect.fail(new CatalogError({ problems }))
    const decoded = Schema.decodeUnknownSync(CatalogBody)(input)
    return Effect.as(
      Effect.forEach(warnings, (w) => Effect.logWarning(`catalog: ${w.path}: ${w.message}`), { discard: true }),
      fromValidated(decoded, JSON.stringify(input), warnings, validators)
    )
  })

const fromValidated = (
  catalog: CatalogBody,
  body: string,
  warnings: ReadonlyArray<CatalogProblem>,
  validators: ReadonlyMap<string, PlanValidators>
): CatalogService => {
  const offerings = new Map<string, ServiceOffering>()
  const plans = new Map<string, ResolvedPlan>()
  for (const offering of catalog.services) {
    offerings.set(offering.id, offering)
    for (const plan of offering.plans) {
      plans.set(plan.id, { offering, plan, effective: effectivePlan(offering, plan) })
    }
  }
  return {
    services: catalog.services,
    body,
    etag: `"${createHash("sha256").update(body).digest("base64url").slice(0, 32)}"`,
    warnings,
    offering: (id) => Option.fromNullable(offerings.get(id)),
    plan: (id) => Option.fromNullable(plans.get(id)),
    parameterValidators: (planId) => validators.get(planId)
  }
}

/**
 * A layer of the catalog from a plain value, validated when the layer is built.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Catalog } from "effect-osb"
 *
 * // validated once, when the layer is built: an invalid catalog fails with every problem and its path
 * const catalog = Catalog.layer({
 *   services: [{
 *     id: "svc-db",
 *     name: "database",
 *     description: "Databases on demand",
 *     bindable: true,
 *     plans: [{ id: "plan-small", name: "small", description: "1 GB" }]
 *   }]
 * })
 *
 * export const planNames = Effect.gen(function*() {
 *   const service = yield* Catalog.Catalog
 *   return service.services.flatMap((offering) => offering.plans.map((plan) => plan.name)) // ["small"]
 * }).pipe(Effect.provide(catalog))
 * ```
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (input: CatalogBody | unknown, options?: CatalogOptions): Layer.Layer<Catalog, CatalogError> =>
  Layer.effect(Catalog, make(input, options))

/**
 * A layer of the catalog from an effect producing the value (e.g. read from a file or from `Config`).
 *
 * @since 0.1.0
 * @category layers
 */
export const layerEffect = <E, R>(
  input: Effect.Effect<CatalogBody | unknown, E, R>,
  options?: CatalogOptions
): Layer.Layer<Catalog, CatalogError | E, R> =>
  Layer.effect(Catalog, Effect.flatMap(input, (value) => make(value, options)))
