/**
 * The plans a run exercises: every plan of the catalog, or the ones named in the options, with their effective
 * values and the mode the user declared for them.
 *
 * @since 0.2.0
 */
import * as Effect from "effect/Effect"
import * as CatalogModule from "../Catalog.js"
import type { CatalogBody, ServiceOffering, ServicePlan } from "../Model.js"
import type { Context } from "./context.js"
import type { PlanMode } from "./model.js"
import { E } from "./model.js"

/** A plan to exercise. */
export interface PlanTarget {
  readonly offering: ServiceOffering
  readonly plan: ServicePlan
  readonly bindable: boolean
  readonly updateable: boolean
  /** The mode declared in the options, if any. */
  readonly declared: PlanMode | undefined
  /** Whether the options declare that the plan's bindings require an app (`requiresApp`). */
  readonly requiresApp: boolean
  /** `plan NAME (OFFERING)`, the prefix of the plan's check titles. */
  readonly label: string
  readonly ids: { readonly service_id: string; readonly plan_id: string }
}

const named = (plan: ServicePlan, names: ReadonlyArray<string>) => names.includes(plan.name) || names.includes(plan.id)

/** The plans to exercise; a name in the options that is not in the catalog fails `plans.selected`. */
export const targets = (ctx: Context, catalog: CatalogBody): Effect.Effect<ReadonlyArray<PlanTarget>> =>
  Effect.gen(function*() {
    const wanted = ctx.options.plans ?? []
    const modes = ctx.options.modes ?? {}
    const requiresApp = ctx.options.requiresApp ?? []
    const out: Array<PlanTarget> = []
    for (const offering of catalog.services) {
      for (const plan of offering.plans) {
        if (wanted.length > 0 && !named(plan, wanted)) continue
        const effective = CatalogModule.effectivePlan(offering, plan)
        out.push({
          offering,
          plan,
          bindable: effective.bindable,
          updateable: effective.planUpdateable,
          declared: modes[plan.name] ?? modes[plan.id],
          requiresApp: named(plan, requiresApp),
          label: `plan ${plan.name} (${offering.name})`,
          ids: { service_id: offering.id, plan_id: plan.id }
        })
      }
    }
    for (const name of new Set([...wanted, ...Object.keys(modes), ...requiresApp])) {
      if (!catalog.services.some((o) => o.plans.some((p) => named(p, [name])))) {
        yield* ctx.miss("plans.selected", E.catalog, `plan ${name} is in the catalog`)
      }
    }
    return out
  })
