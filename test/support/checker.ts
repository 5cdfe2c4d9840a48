/**
 * Test support for the conformance checker's tests against the toy broker (test/support/toyBroker.ts): a checker
 * run, the filters its results are judged with, what it left behind, and the toy broker's defects with what the
 * checker must report for each.
 */
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import { Effect } from "effect"
import { Checker, OsbClient } from "../../src/index.js"
import * as Toy from "./toyBroker.js"

/** One result of a checker run. */
export type CheckResult = Checker.CheckResult

/** Runs the checker against a toy broker (its credentials; its async plan declared to require an app). */
export const checkerRun = (url: string, options: Checker.CheckOptions = {}) =>
  Effect.flatMap(
    OsbClient.make({ url, username: Toy.USERNAME, password: Toy.PASSWORD }),
    // the toy's async plan requires an app to bind (the catalog cannot say it)
    (client) => Checker.run(client, { operationTimeout: "20 seconds", requiresApp: ["async"], ...options })
  ).pipe(Effect.provide(NodeHttpClient.layerUndici))

/** The requirement ids of a result. */
export const idsOf = (r: CheckResult): ReadonlyArray<string> => r.requirements
/** `E5 DELETE /v2/...` -> `E5`. */
export const endpointOf = (r: CheckResult) => r.endpoint.split(" ")[0]
/** The failed results. */
export const failures = (results: ReadonlyArray<CheckResult>) => results.filter((r) => r.outcome === "fail")
/** The failed and warned results. */
export const failuresAndWarnings = (results: ReadonlyArray<CheckResult>) =>
  results.filter((r) => r.outcome === "fail" || r.outcome === "warn")

/** What the checker left behind on the toy broker (empty when it cleaned up). */
export const leftovers = (broker: Toy.ToyBroker) => ({
  instances: [...broker.instances].map(([id, i]) => `${id} (${i.state})`),
  bindings: [...broker.bindings].map(([id, b]) => `${id} on ${b.instanceId}`)
})
/** What {@link leftovers} says when the checker cleaned up. */
export const nothingLeft = { instances: [], bindings: [] }

/** Starts a toy broker with these options, runs `f` against it, and closes it. */
export const withBroker = async <A>(options: Toy.ToyBrokerOptions, f: (broker: Toy.ToyBroker) => Promise<A>) => {
  const broker = await Toy.start(options)
  try {
    return await f(broker)
  } finally {
    await broker.close()
  }
}

/** A defect of the toy broker and what the checker must report for it. */
export interface DefectCase {
  readonly defect: Toy.Defect
  /** The requirement every failure (or, for a deviation, every warning) names. */
  readonly requirement: Checker.Requirement
  /** The endpoints that get failures (or warnings) (exactly these). */
  readonly endpoints: ReadonlyArray<string>
  /** What a failure shows (its title and what came back). */
  readonly shows: RegExp
}

/** MUST violations: each fails its requirement, nothing else fails or warns. */
export const violationCases: ReadonlyArray<DefectCase> = [
  {
    defect: "deprovision-missing-404",
    requirement: "OM-1",
    endpoints: ["E5"],
    shows: /answers 410 \| 404 /
  },
  { defect: "identical-repeat-409", requirement: "PRV-4", endpoints: ["E2"], shows: /identical repeat .*\| 409 / },
  {
    defect: "202-without-accepts-incomplete",
    requirement: "ASY-1",
    endpoints: ["E2"],
    shows: /plan async .*no 202 without accepts_incomplete=true \| 202 /
  },
  {
    defect: "malformed-json-500",
    requirement: "CT-2",
    endpoints: ["E2", "E4", "E7"],
    shows: /malformed JSON answers 400 \| 500 /
  },
  {
    defect: "empty-unbind-body",
    requirement: "CT-3",
    endpoints: ["E9"],
    shows: /the unbind answer is a JSON object \| 200 \(empty body\)/
  },
  {
    defect: "endpoint-without-auth",
    requirement: "AUTH-2",
    endpoints: ["E8"],
    shows: /without credentials answers 401 \| 404 /
  },
  {
    defect: "duplicate-plan-ids",
    requirement: "VAL-2",
    endpoints: ["E1"],
    shows: new RegExp(
      `plans\\[1\\]\\.id: plan id "${Toy.SYNC_PLAN_ID}" is already used at services\\[0\\]\\.plans\\[0\\]`
    )
  },
  {
    defect: "invalid-last-operation-state",
    requirement: "LO-4",
    endpoints: ["E6"],
    shows: /last_operation has a valid state \| 200 \{"state":"done"\}/
  },
  {
    defect: "async-required-without-code-update",
    requirement: "ASY-1",
    endpoints: ["E4"],
    shows: /plan async .*an update without accepts_incomplete answers 422 AsyncRequired.* \| 422 \{"description"/
  },
  {
    defect: "async-required-without-code-deprovision",
    requirement: "ASY-1",
    endpoints: ["E5"],
    shows: /plan async .*a deprovision without accepts_incomplete answers 422 AsyncRequired.* \| 422 \{"description"/
  },
  {
    defect: "concurrency-without-code-update",
    requirement: "ERR-2",
    endpoints: ["E4"],
    shows: /plan async .*an update during the provision is refused with 422 ConcurrencyError.* \| 422 \{"description"/
  },
  {
    defect: "concurrency-without-code-deprovision",
    requirement: "ERR-2",
    endpoints: ["E5"],
    shows: /plan async .*a deprovision during the update answers 422 ConcurrencyError.* \| 422 \{"description"/
  },
  {
    defect: "concurrency-without-code-fetch",
    requirement: "ERR-2",
    endpoints: ["E3"],
    shows: /plan async .*a fetch during the update answers 200 or 422 ConcurrencyError \| 422 \{"description"/
  },
  {
    defect: "malformed-json-update-422",
    requirement: "CT-2",
    endpoints: ["E4"],
    shows: /malformed JSON to an update answers 400 \| 422 /
  },
  {
    defect: "malformed-json-bind-422",
    requirement: "CT-2",
    endpoints: ["E7"],
    shows: /malformed JSON to a bind answers 400 \| 422 /
  },
  {
    defect: "empty-description-last-operation-410",
    requirement: "LO-4",
    endpoints: ["E6"],
    shows: /description in the answer is a non-empty string \| 410 \{"description":""\}/
  },
  {
    defect: "plan-change-400",
    requirement: "UPD-1",
    endpoints: ["E4"],
    shows: /plan sync .*a change to plan async answers 200, 202 or 422 \| 400 /
  },
  {
    defect: "requires-app-without-code",
    requirement: "BND-1",
    endpoints: ["E7"],
    shows: /plan async .*a bind without app_guid answers 422 RequiresApp \| 422 \{"description"/
  },
  {
    defect: "maintenance-conflict-update-ignored",
    requirement: "UPD-2",
    endpoints: ["E4"],
    shows: /plan async .*an update with another maintenance_info.version answers 422 MaintenanceInfoConflict \| 202 /
  }
]

/** SHOULD deviations: each warns under its requirement, nothing fails, nothing else warns. */
export const deviationCases: ReadonlyArray<DefectCase> = [
  {
    defect: "no-request-identity-echo",
    requirement: "RID-2",
    // the unauthenticated probes reach every endpoint, so every endpoint reports the missing echo once
    endpoints: ["E1", "E2", "E3", "E4", "E5", "E6", "E7", "E8", "E9", "E10"],
    shows: /is echoed on the response \| \d{3} with no such header/
  },
  {
    defect: "identical-repeat-201",
    requirement: "PRV-4",
    endpoints: ["E2"],
    shows: /plan sync .*an identical repeat answers 200 \| 201 /
  },
  {
    defect: "no-parameters-validation",
    requirement: "SCH-5",
    endpoints: ["E2"],
    shows: /plan sync .*parameters that break the plan's create schema answer 400 .*\| 201 /
  },
  {
    defect: "plan-change-422-without-description",
    requirement: "UPD",
    endpoints: ["E4"],
    shows: /plan sync .*a refused change to plan async says why \| 422 \{\}/
  }
]

/** A result's title and what came back, as a defect case's `shows` is matched against. */
export const names = (r: CheckResult) => `${r.title} | ${r.got ?? ""}`
