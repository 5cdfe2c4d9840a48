/**
 * The table of the checker's checks: every check has a name, the requirement IDs of the OSB checklist it
 * covers (docs/checks.md), a level taken from the spec's keyword, the API version that introduced the rule, the
 * spec section it comes from and the rule in our words. The level decides what a miss is: MUST / MUST NOT -> a
 * failure; SHOULD, MAY and the library's own choices (LIB) -> a warning (a failure only with `strict`).
 *
 * The entries live in `checks/`, one file per endpoint group, and are joined here in table order.
 *
 * @since 0.2.0
 */
import { bindChecks } from "./checks/bind.js"
import { catalogChecks } from "./checks/catalog.js"
import { deprovisionChecks } from "./checks/deprovision.js"
import { provisionChecks } from "./checks/provision.js"
import { updateChecks } from "./checks/update.js"

/**
 * A requirement ID of the OSB v2.17 checklist (docs/checks.md lists them with the checks that cover them).
 * `--plan` names the checker's own option check.
 *
 * @since 0.2.0
 * @category models
 */
export type Requirement =
  | "CAT-1"
  | "CAT-2"
  | "VAL-1"
  | "VAL-2"
  | "VAL-3"
  | "VAL-4"
  | "AUTH-2"
  | "VER-2"
  | "VER-3"
  | "RID-2"
  | "CT-2"
  | "CT-3"
  | "ERR-1"
  | "ERR-2"
  | "EXT-1"
  | "PRV"
  | "PRV-1"
  | "PRV-3"
  | "PRV-4"
  | "PRV-7"
  | "SCH-1"
  | "SCH-5"
  | "ASY-1"
  | "ASY-3"
  | "ASY-4"
  | "ASY-5"
  | "ASY-6"
  | "GI-1"
  | "UPD"
  | "UPD-1"
  | "UPD-2"
  | "UPD-5"
  | "DEP"
  | "DEP-1"
  | "OM-1"
  | "LO-3"
  | "LO-4"
  | "LO-5"
  | "LO-7"
  | "LO-9"
  | "BND"
  | "BND-1"
  | "BND-2"
  | "GB-1"
  | "UNB"
  | "UNB-1"
  | "--plan"

/**
 * How binding a rule is, from the spec's keyword: `MUST` (MUST / MUST NOT), `SHOULD` (SHOULD / RECOMMENDED),
 * `MAY`, or `LIB` (the spec leaves the choice to the broker; what effect-osb does).
 *
 * @since 0.2.0
 * @category models
 */
export type Level = "MUST" | "SHOULD" | "MAY" | "LIB"

/**
 * An OSB API version the checker knows (`--api-version`); a check whose rule came with a newer version than the
 * one checked is skipped.
 *
 * @since 0.2.0
 * @category models
 */
export type ApiVersion = "2.13" | "2.14" | "2.15" | "2.16" | "2.17"

/**
 * The API versions in order.
 *
 * @since 0.2.0
 * @category constants
 */
export const apiVersions: ReadonlyArray<ApiVersion> = ["2.13", "2.14", "2.15", "2.16", "2.17"]

/**
 * One check of the table.
 *
 * @since 0.2.0
 * @category models
 */
export interface CheckSpec {
  /** The requirement IDs the check covers. */
  readonly requirements: ReadonlyArray<Requirement>
  /** The level of the rule, from the spec's keyword. */
  readonly level: Level
  /** The API version that introduced the rule (none: every version from 2.13). */
  readonly since?: ApiVersion
  /** Where the rule is in the spec (section of spec.md, v2.17). */
  readonly section: string
  /** The rule, in our words, with the spec's keyword. */
  readonly rule: string
}

/** Types a table of checks: every entry a `CheckSpec`, the names kept as keys. */
const spec = <const T extends Record<string, CheckSpec>>(table: T): { readonly [K in keyof T]: CheckSpec } => table

/**
 * Every check, by name.
 *
 * @since 0.2.0
 * @category constants
 */
export const checks = spec({
  ...catalogChecks,
  ...provisionChecks,
  ...updateChecks,
  ...deprovisionChecks,
  ...bindChecks
})

/**
 * The name of a check.
 *
 * @since 0.2.0
 * @category models
 */
export type CheckId = keyof typeof checks

/**
 * The check names in table order.
 *
 * @since 0.2.0
 * @category constants
 */
export const checkIds = Object.keys(checks) as ReadonlyArray<CheckId>

/**
 * Whether a check applies to an API version.
 *
 * @since 0.2.0
 * @category utils
 */
export const appliesTo = (id: CheckId, version: ApiVersion): boolean => {
  const since: ApiVersion | undefined = (checks[id] as CheckSpec).since
  return since === undefined || apiVersions.indexOf(version) >= apiVersions.indexOf(since)
}
