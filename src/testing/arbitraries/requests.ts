/**
 * Valid requests against a catalog: ids, contexts, the plans to target, and provision, update and bind requests.
 *
 * @since 0.2.0
 */
import * as FastCheck from "effect/FastCheck"
import { effectivePlan } from "../../Catalog.js"
import type {
  BindRequestBody,
  JsonObject,
  ProvisionRequestBody,
  RequestContext,
  ServiceOffering,
  ServicePlan,
  UpdateRequestBody
} from "../../Model.js"
import { isObject, jsonObject } from "./json.js"
import type { JsonSchemaOptions } from "./jsonSchema.js"
import { fromJsonSchema } from "./jsonSchema.js"

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

/** @internal */
export const label = FastCheck.stringMatching(/^[a-z][a-z0-9-]{0,19}$/)

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
 * An offering as the arbitraries read it: a `ServiceOffering`, or the same object written as a plain literal
 * (`plans` an ordinary array, `requires` plain strings).
 *
 * @since 0.2.0
 * @category models
 */
export type OfferingInput = Omit<ServiceOffering, "plans" | "requires"> & {
  /** The offering's `requires`, as any strings (a literal's type need not be narrowed to `Model.Requirement`). */
  readonly requires?: ReadonlyArray<string>
  /** The offering's plans. */
  readonly plans: ReadonlyArray<ServicePlan>
}

/**
 * A catalog as the arbitraries read it: a `Model.CatalogBody`, or a plain catalog literal that needs no
 * `Model.CatalogBody` annotation (the arbitraries only read ids, names and plan settings).
 *
 * @since 0.2.0
 * @category models
 */
export interface CatalogInput {
  /** The catalog's offerings. */
  readonly services: ReadonlyArray<OfferingInput>
}

/**
 * An offering and one of its plans.
 *
 * @since 0.1.0
 * @category models
 */
export interface PlanTarget {
  /** The offering. */
  readonly offering: OfferingInput
  /** One of its plans. */
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
export const planTargets = (catalog: CatalogInput): ReadonlyArray<PlanTarget> =>
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

/** @internal */
export const isRotatable = (target: PlanTarget): boolean => effectivePlan(target.offering, target.plan).bindingRotatable

/** @internal */
export const selectTargets = (
  catalog: CatalogInput,
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

/** @internal */
export const oneOf = <A>(arbitraries: ReadonlyArray<FastCheck.Arbitrary<A>>): FastCheck.Arbitrary<A> =>
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
  /** The `instance_id` to provision (a random {@link identifier} unless `instanceId` was given). */
  readonly instanceId: string
  /** A valid provision body for the chosen plan. */
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
  catalog: CatalogInput,
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
  /** The `instance_id` to update. */
  readonly instanceId: string
  /** A valid update body for an instance of the chosen plan. */
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
  catalog: CatalogInput,
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
  /** The `instance_id` to bind to. */
  readonly instanceId: string
  /** The new `binding_id` (a random {@link identifier} unless `bindingId` was given). */
  readonly bindingId: string
  /** A valid bind body for the chosen bindable plan. */
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
  catalog: CatalogInput,
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
