/**
 * The checker's public shapes: results, options, summaries, and the endpoints results are grouped by.
 *
 * @since 0.2.0
 */
import type * as Duration from "effect/Duration"
import type * as Effect from "effect/Effect"
import * as Protocol from "../Protocol.js"
import type { ApiVersion, CheckId, Level, Requirement } from "./checks.js"

/**
 * The outcome of one check.
 *
 * @since 0.1.0
 * @category models
 */
export type Outcome = "pass" | "fail" | "warn" | "skip"

/**
 * One check's result.
 *
 * @since 0.1.0
 * @category models
 */
export interface CheckResult {
  /** The check's name in the table (`Checker.checks`). */
  readonly check: CheckId
  /** Requirement IDs of the checklist, e.g. `PRV-4`, joined with ", " (for display). */
  readonly id: string
  /** The requirement IDs, typed. */
  readonly requirements: ReadonlyArray<Requirement>
  /** The level of the rule behind the check. */
  readonly level: Level
  /** The endpoint, e.g. `E2 PUT /v2/service_instances/:instance_id`. */
  readonly endpoint: string
  /** What was checked, in words. */
  readonly title: string
  /** pass, fail (a MUST missed, or anything missed with `strict`), warn, or skip (see `note` for the reason). */
  readonly outcome: Outcome
  /** The request, when one was sent. */
  readonly sent?: string
  /** What the check expected. */
  readonly expected?: string
  /** What came back. */
  readonly got?: string
  /** The reason of a skip, or a remark. */
  readonly note?: string
}

/**
 * How a plan runs: `sync` plans answer 201 without `accepts_incomplete`; `async` plans ask for it (422
 * AsyncRequired).
 *
 * @since 0.2.0
 * @category models
 */
export type PlanMode = "sync" | "async"

/**
 * Checker options.
 *
 * @since 0.1.0
 * @category models
 */
export interface CheckOptions {
  /** Plans to exercise (names or ids); all plans of all offerings when empty. */
  readonly plans?: ReadonlyArray<string>
  /** How long an asynchronous operation may take before the check gives up. Default 5 minutes. */
  readonly operationTimeout?: Duration.DurationInput
  /** Longest wait between polls, whatever `Retry-After` says. Default 10 seconds. */
  readonly maxPollInterval?: Duration.DurationInput
  /** Whether the broker is expected to require authentication (checks 401s). Default true. */
  readonly authenticated?: boolean
  /**
   * How each plan (by name or id) is expected to run. Plans not listed are learned from their answers; a plan
   * whose mode cannot be learned is reported as skipped, with the reason.
   */
  readonly modes?: Readonly<Record<string, PlanMode>>
  /**
   * Plans (names or ids) whose bindings require an app: a bind without `app_guid` must answer 422 RequiresApp. The
   * catalog cannot say it; when no plan is named, the check is skipped with that reason.
   */
  readonly requiresApp?: ReadonlyArray<string>
  /** The API version the client sends; checks of newer versions are skipped. Default `"2.17"`. */
  readonly apiVersion?: ApiVersion
  /** Report misses of SHOULD, MAY and LIB checks as failures too. Default false. */
  readonly strict?: boolean
  /** Called when a check ends (for progress output). */
  readonly onProgress?: (title: string, done: number) => Effect.Effect<void>
}

/**
 * A summary of results.
 *
 * @since 0.1.0
 * @category models
 */
export interface Summary {
  /** Checks the broker met. */
  readonly passed: number
  /** Checks it missed: MUST rules, plus SHOULD, MAY and LIB rules under `strict`. */
  readonly failed: number
  /** SHOULD, MAY and LIB rules it missed without `strict`. */
  readonly warned: number
  /** Checks that could not run (a mode the broker does not offer, a newer API version...), each with its reason. */
  readonly skipped: number
}

/**
 * The endpoints' labels in reports (`E2 PUT /v2/service_instances/:instance_id`), by endpoint name, from the
 * protocol table.
 *
 * @since 0.2.0
 * @category constants
 */
export const E: { readonly [K in Protocol.EndpointName]: string } = Object.fromEntries(
  Protocol.endpointNames.map((name) => [name, Protocol.label(name)])
) as { readonly [K in Protocol.EndpointName]: string }

/**
 * An endpoint's label in reports.
 *
 * @since 0.2.0
 * @category models
 */
export type Endpoint = string
