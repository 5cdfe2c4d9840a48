/**
 * Resolving what a request names against the catalog: the offering and plan of a body or of the query (required
 * on DELETE, optional hints on GETs, LIB-6), and the `maintenance_info` comparison (PRV-7, LIB-9). Pure decisions:
 * an `Either` per request. The query values come decoded (internal/query.ts).
 *
 * @internal
 */
import * as Either from "effect/Either"
import * as Option from "effect/Option"
import type { CatalogService, ResolvedPlan } from "../Catalog.js"
import type { MaintenanceInfo, ServiceOffering } from "../Model.js"
import { BadRequest, MaintenanceInfoConflict } from "../OsbError.js"

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
  /** The optional `service_id`/`plan_id` query hints of a GET: valid when present. */
  readonly hints: (
    serviceId: Option.Option<string>,
    planId: Option.Option<string>
  ) => Either.Either<Hints, BadRequest>
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

  const hints = (s: Option.Option<string>, p: Option.Option<string>): Either.Either<Hints, BadRequest> => {
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

  return { resolve, offering, hints }
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
