/**
 * Resolving what a request names against the catalog: the offering and plan of a body or of the query (required
 * on DELETE, optional hints on GETs, LIB-6), the `operation` query value (LIB-22), and the `maintenance_info`
 * comparison (PRV-7, LIB-9). Pure decisions: an `Either` per request.
 *
 * @internal
 */
import * as Either from "effect/Either"
import * as Option from "effect/Option"
import type { CatalogService, ResolvedPlan } from "../Catalog.js"
import type { MaintenanceInfo, ServiceOffering } from "../Model.js"
import { BadRequest, MaintenanceInfoConflict } from "../OsbError.js"
import type { Query } from "./request.js"
import { queryValue, requiredQueryValue } from "./request.js"

/** The optional `service_id`/`plan_id` hints of a GET, resolved. @internal */
export interface Hints {
  readonly offering: Option.Option<ServiceOffering>
  readonly plan: Option.Option<ResolvedPlan>
}

const noHints: Hints = { offering: Option.none(), plan: Option.none() }

const unknownService = (serviceId: string) =>
  new BadRequest({ description: `service_id "${serviceId}" is not in the catalog.` })
const unknownPlan = (planId: string) => new BadRequest({ description: `plan_id "${planId}" is not in the catalog.` })

/** The lookups of one catalog. @internal */
export interface Targets {
  /** The plan of these ids, which must belong to the offering (PRV-3). */
  readonly resolve: (serviceId: string, planId: string) => Either.Either<ResolvedPlan, BadRequest>
  /** The offering of this id. */
  readonly offering: (serviceId: string) => Either.Either<ServiceOffering, BadRequest>
  /** The optional query hints of a GET: valid when present. */
  readonly hints: (query: Query) => Either.Either<Hints, BadRequest>
  /** The required `service_id` and `plan_id` query values of a DELETE. */
  readonly required: (query: Query) => Either.Either<ResolvedPlan, BadRequest>
}

/** @internal */
export const makeTargets = (catalog: CatalogService): Targets => {
  const resolve = (serviceId: string, planId: string): Either.Either<ResolvedPlan, BadRequest> => {
    const offering = catalog.offering(serviceId)
    if (Option.isNone(offering)) return Either.left(unknownService(serviceId))
    const plan = catalog.plan(planId)
    if (Option.isNone(plan)) return Either.left(unknownPlan(planId))
    if (plan.value.offering.id !== serviceId) {
      return Either.left(
        new BadRequest({ description: `plan_id "${planId}" does not belong to service_id "${serviceId}".` })
      )
    }
    return Either.right(plan.value)
  }

  const offering = (serviceId: string): Either.Either<ServiceOffering, BadRequest> =>
    Option.match(catalog.offering(serviceId), {
      onNone: () => Either.left(unknownService(serviceId)),
      onSome: Either.right
    })

  const hints = (query: Query): Either.Either<Hints, BadRequest> => {
    const serviceId = queryValue(query, "service_id")
    if (Either.isLeft(serviceId)) return Either.left(serviceId.left)
    const planId = queryValue(query, "plan_id")
    if (Either.isLeft(planId)) return Either.left(planId.left)
    const s = serviceId.right
    const p = planId.right
    if (Option.isSome(s) && Option.isSome(p)) {
      return Either.map(resolve(s.value, p.value), (target) => ({
        offering: Option.some(target.offering),
        plan: Option.some(target)
      }))
    }
    if (Option.isSome(s)) {
      return Either.map(offering(s.value), (o) => ({ offering: Option.some(o), plan: Option.none() }))
    }
    if (Option.isSome(p)) {
      const plan = catalog.plan(p.value)
      return Option.isNone(plan)
        ? Either.left(unknownPlan(p.value))
        : Either.right({ offering: Option.some(plan.value.offering), plan })
    }
    return Either.right(noHints)
  }

  const required = (query: Query): Either.Either<ResolvedPlan, BadRequest> => {
    const serviceId = requiredQueryValue(query, "service_id")
    if (Either.isLeft(serviceId)) return Either.left(serviceId.left)
    const planId = requiredQueryValue(query, "plan_id")
    if (Either.isLeft(planId)) return Either.left(planId.left)
    return resolve(serviceId.right, planId.right)
  }

  return { resolve, offering, hints, required }
}

/**
 * The conflict of a request's `maintenance_info` with its target plan: a different version, or any version when
 * the plan has none (LIB-9). Absent (or `{}`) is no conflict.
 *
 * @internal
 */
export const maintenanceConflict = (
  requested: MaintenanceInfo | undefined,
  target: ResolvedPlan
): MaintenanceInfoConflict | undefined => {
  if (requested === undefined) return undefined
  const current = target.plan.maintenance_info
  if (current === undefined) {
    return new MaintenanceInfoConflict({
      description:
        `The plan ${target.plan.name} has no maintenance_info, but the request carries version ${requested.version}.`
    })
  }
  return current.version === requested.version ? undefined : new MaintenanceInfoConflict({
    description:
      `The requested maintenance_info.version ${requested.version} does not match the plan's version ${current.version}.`
  })
}

/** The `operation` query value; empty counts as absent (LIB-22). @internal */
export const operationQuery = (query: Query): Either.Either<Option.Option<string>, BadRequest> => {
  const value = query["operation"]
  if (value === undefined || value === "") return Either.right(Option.none())
  if (typeof value !== "string") {
    return Either.left(new BadRequest({ description: "The query parameter operation must be given at most once." }))
  }
  return Either.right(Option.some(value))
}
