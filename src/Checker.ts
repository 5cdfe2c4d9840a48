/**
 * The conformance checker: runs the OSB v2.17 checks over any `OsbClient` (a broker in any language over HTTP,
 * or one in process) and reports one result per check, named in the table of checks (`checks`) with its
 * requirement IDs and level, what was sent, what was expected and what came back. A missed MUST / MUST NOT is a
 * failure; a missed SHOULD, MAY or library choice is a warning (a failure with `strict`); what cannot be checked
 * is reported as skipped, with the reason. It creates resources only with fresh random ids and deletes what it
 * created, also when a check fails or the run is interrupted.
 *
 * The checks live in `src/checker/`, one file per endpoint group.
 *
 * @since 0.1.0
 * @module
 */
import * as Effect from "effect/Effect"
import { requiresAppUndeclared } from "./checker/bind.js"
import * as CatalogChecks from "./checker/catalog.js"
import { cleanUp } from "./checker/cleanup.js"
import * as Context from "./checker/context.js"
import { lifecycle } from "./checker/lifecycle.js"
import type { CheckOptions, CheckResult, Endpoint, Summary } from "./checker/model.js"
import { E } from "./checker/model.js"
import { targets } from "./checker/plans.js"
import { probes, unknownOperations } from "./checker/probes.js"
import { maintenanceUndeclared } from "./checker/update.js"
import type { CatalogBody } from "./Model.js"
import type { OsbClientService } from "./OsbClient.js"

export {
  /**
   * The API versions the checker knows, in order.
   *
   * @since 0.2.0
   * @category constants
   */
  apiVersions,
  /**
   * Whether a check applies to an API version.
   *
   * @since 0.2.0
   * @category utils
   */
  appliesTo,
  /**
   * The check names in table order.
   *
   * @since 0.2.0
   * @category constants
   */
  checkIds,
  /**
   * The table of checks: requirement IDs, level, the version that introduced the rule, the spec section and the
   * rule in our words.
   *
   * @since 0.2.0
   * @category constants
   */
  checks
} from "./checker/checks.js"
export type { ApiVersion, CheckId, CheckSpec, Level, Requirement } from "./checker/checks.js"
export type { CheckOptions, CheckResult, Endpoint, Outcome, PlanMode, Summary } from "./checker/model.js"

/**
 * The endpoints in report order.
 *
 * @since 0.1.0
 * @category constants
 */
export const endpoints: ReadonlyArray<Endpoint> = Object.values(E)

/**
 * Counts results by outcome.
 *
 * @since 0.1.0
 * @category utils
 */
export const summarize = (results: ReadonlyArray<CheckResult>): Summary => ({
  passed: results.filter((r) => r.outcome === "pass").length,
  failed: results.filter((r) => r.outcome === "fail").length,
  warned: results.filter((r) => r.outcome === "warn").length,
  skipped: results.filter((r) => r.outcome === "skip").length
})

/**
 * The reasons of the skipped checks, each with how many checks it skipped, most frequent first.
 *
 * @since 0.2.0
 * @category utils
 */
export const skipReasons = (
  results: ReadonlyArray<CheckResult>
): ReadonlyArray<{
  /** Why the checks were skipped (their `note`). */
  readonly reason: string
  /** How many checks that reason skipped. */
  readonly count: number
}> => {
  const counts = new Map<string, number>()
  for (const r of results) {
    if (r.outcome === "skip") counts.set(r.note ?? "", (counts.get(r.note ?? "") ?? 0) + 1)
  }
  return [...counts].map(([reason, count]) => ({ reason, count })).sort((a, b) => b.count - a.count)
}

/**
 * Runs every check against the broker behind `client`. Never fails: problems are results.
 *
 * @example
 * ```ts
 * import { FetchHttpClient } from "@effect/platform"
 * import { Effect } from "effect"
 * import { Checker, OsbClient } from "effect-osb"
 *
 * // what `effect-osb check` does, from a program: every check against a broker, then the counts
 * export const check = Effect.gen(function*() {
 *   const client = yield* OsbClient.make({ url: "http://127.0.0.1:8080", username: "admin", password: "admin" })
 *   const results = yield* Checker.run(client, { plans: ["small"], authenticated: true })
 *   const summary = Checker.summarize(results)
 *   yield* Effect.log(`${summary.passed} passed, ${summary.failed} failed, ${summary.warned} warned`)
 *   return summary.failed === 0
 * }).pipe(Effect.provide(FetchHttpClient.layer))
 * ```
 *
 * @since 0.1.0
 * @category running
 */
export const run = (client: OsbClientService, options: CheckOptions = {}): Effect.Effect<ReadonlyArray<CheckResult>> =>
  Effect.suspend(() => {
    const created: Context.Created = { instances: new Map(), bindings: new Map() }
    const ctx = Context.make(client, options, created)
    return checks(ctx).pipe(
      Effect.ensuring(cleanUp(client, created)),
      Effect.as(ctx.results)
    )
  })

const checks = (ctx: Context.Context): Effect.Effect<void> =>
  Effect.gen(function*() {
    const catalog = yield* CatalogChecks.catalog(ctx)
    yield* CatalogChecks.headers(ctx)
    if (catalog._tag === "None") return yield* ctx.passCrossCutting(endpoints)
    yield* plans(ctx, catalog.value)
    yield* ctx.passCrossCutting(endpoints)
  })

const plans = (ctx: Context.Context, catalog: CatalogBody): Effect.Effect<void> =>
  Effect.gen(function*() {
    const selected = yield* targets(ctx, catalog)
    const first = selected[0]
    if (first === undefined) return
    yield* probes(ctx, catalog, first)
    let malformedSent = false
    for (const target of selected) {
      const provisioned: boolean = yield* lifecycle(ctx, target, !malformedSent)
      malformedSent = malformedSent || provisioned
    }
    yield* requiresAppUndeclared(ctx, selected)
    yield* maintenanceUndeclared(ctx, selected)
    yield* unknownOperations(ctx, first)
  })
