/**
 * Rendering checker results: a human report grouped by endpoint, or JSON.
 *
 * @since 0.1.0
 * @module
 */
import type { CheckResult, CheckSpec, Summary } from "./Checker.js"
import { checks, endpoints, skipReasons, summarize } from "./Checker.js"

const marks: Record<CheckResult["outcome"], string> = { pass: "PASS", fail: "FAIL", warn: "WARN", skip: "SKIP" }

/** ANSI colours of the marks (only with `colour: true`). */
const colours: Record<CheckResult["outcome"], string> = { pass: "32", fail: "31;1", warn: "33", skip: "90" }

const mark = (outcome: CheckResult["outcome"], colour: boolean) =>
  colour ? `\x1b[${colours[outcome]}m${marks[outcome]}\x1b[0m` : marks[outcome]

/**
 * The summary line: `N passed, N failed, N skipped` (and warnings).
 *
 * @since 0.1.0
 * @category rendering
 */
export const summaryLine = (summary: Summary): string =>
  `${summary.passed} passed, ${summary.failed} failed, ${summary.skipped} skipped` +
  (summary.warned > 0 ? ` (${summary.warned} warnings)` : "")

/**
 * The rule behind a check, with its level and spec section (what the report prints under a failure or warning).
 *
 * @since 0.2.0
 * @category rendering
 */
export const ruleOf = (result: CheckResult): string => {
  const spec: CheckSpec = checks[result.check]
  return `${spec.level}: ${spec.rule} (spec: ${spec.section}${spec.since === undefined ? "" : `, since ${spec.since}`})`
}

/**
 * A human report: results grouped by endpoint with their requirement IDs; failures and warnings show the rule
 * behind them, what was sent, what was expected and what came back; passes are one line each (or left out with
 * `failuresOnly`); skips show their reason. Then the skip reasons with their counts and the summary line. With
 * `colour` the marks are coloured (ANSI; for terminals only).
 *
 * @since 0.1.0
 * @category rendering
 */
export const text = (
  results: ReadonlyArray<CheckResult>,
  options: { readonly failuresOnly?: boolean; readonly colour?: boolean } = {}
): string => {
  const lines: Array<string> = []
  const known: ReadonlyArray<string> = endpoints
  const groups = [...known, ...new Set(results.map((r) => r.endpoint).filter((e) => !known.includes(e)))]
  for (const endpoint of groups) {
    const group = results.filter((r) => r.endpoint === endpoint)
    const shown = options.failuresOnly === true
      ? group.filter((r) => r.outcome === "fail" || r.outcome === "warn")
      : group
    if (shown.length === 0) continue
    lines.push("", endpoint)
    for (const result of shown) {
      lines.push(`  ${mark(result.outcome, options.colour === true)}  [${result.id}] ${result.title}`)
      if (result.outcome === "fail" || result.outcome === "warn") {
        lines.push(`        rule:     ${ruleOf(result)}`)
        if (result.sent !== undefined) lines.push(`        sent:     ${result.sent}`)
        if (result.expected !== undefined) lines.push(`        expected: ${result.expected}`)
        if (result.got !== undefined) lines.push(`        got:      ${result.got}`)
      }
      if (result.note !== undefined) {
        lines.push(`        ${result.outcome === "skip" ? "reason" : "note"}:   ${result.note}`)
      }
    }
  }
  const skips = skipReasons(results)
  if (skips.length > 0) {
    lines.push("", "Skipped:")
    for (const { count, reason } of skips) lines.push(`  ${String(count).padStart(3)}  ${reason}`)
  }
  lines.push("", summaryLine(summarize(results)))
  return lines.join("\n")
}

/**
 * The `--json` report's shape, version 1: `{ schema, broker, apiVersion, strict, summary, skips, results }`.
 *
 * @since 0.2.0
 * @category models
 */
export interface JsonReport {
  /** `"effect-osb-check/1"`; a change that removes or renames a field changes the number. */
  readonly schema: "effect-osb-check/1"
  /** The broker's base URL. */
  readonly broker: string
  /** The API version checked. */
  readonly apiVersion: string
  /** Whether warnings counted as failures. */
  readonly strict: boolean
  /** How many checks passed, failed, warned and were skipped. */
  readonly summary: Summary
  /** Why checks were skipped, and how many each reason skipped. */
  readonly skips: ReadonlyArray<{
    /** Why the checks were skipped. */
    readonly reason: string
    /** How many checks it skipped. */
    readonly count: number
  }>
  /** Every result; failures and warnings carry `rule`. */
  readonly results: ReadonlyArray<
    CheckResult & {
      /** The rule the broker broke, in words with the spec's keyword (failures and warnings only). */
      readonly rule?: string
    }
  >
}

/**
 * A machine-readable report (`JsonReport`).
 *
 * @since 0.1.0
 * @category rendering
 */
export const json = (
  broker: string,
  results: ReadonlyArray<CheckResult>,
  options: { readonly apiVersion?: string; readonly strict?: boolean } = {}
): string => {
  const report: JsonReport = {
    schema: "effect-osb-check/1",
    broker,
    apiVersion: options.apiVersion ?? "2.17",
    strict: options.strict ?? false,
    summary: summarize(results),
    skips: skipReasons(results),
    results: results.map((r) => r.outcome === "fail" || r.outcome === "warn" ? { ...r, rule: ruleOf(r) } : r)
  }
  return JSON.stringify(report, null, 2)
}
