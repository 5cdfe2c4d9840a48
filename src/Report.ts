/**
 * Rendering checker results: a human report grouped by endpoint, or JSON.
 *
 * @since 0.1.0
 */
import type { CheckResult, Summary } from "./Checker.js"
import { endpoints, summarize } from "./Checker.js"

const marks: Record<CheckResult["outcome"], string> = { pass: "PASS", fail: "FAIL", warn: "WARN", skip: "SKIP" }

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
 * A human report: results grouped by endpoint with their requirement IDs; failures and warnings show what was
 * sent, what was expected and what came back; passes are one line each (or left out with `failuresOnly`).
 *
 * @since 0.1.0
 * @category rendering
 */
export const text = (
  results: ReadonlyArray<CheckResult>,
  options: { readonly failuresOnly?: boolean } = {}
): string => {
  const lines: Array<string> = []
  const groups = [...endpoints, ...new Set(results.map((r) => r.endpoint).filter((e) => !endpoints.includes(e)))]
  for (const endpoint of groups) {
    const group = results.filter((r) => r.endpoint === endpoint)
    if (group.length === 0) continue
    const shown = options.failuresOnly === true
      ? group.filter((r) => r.outcome === "fail" || r.outcome === "warn")
      : group
    if (shown.length === 0) continue
    lines.push("", endpoint)
    for (const result of shown) {
      lines.push(`  ${marks[result.outcome]}  [${result.id}] ${result.title}`)
      if (result.outcome === "fail" || result.outcome === "warn") {
        if (result.sent !== undefined) lines.push(`        sent:     ${result.sent}`)
        if (result.expected !== undefined) lines.push(`        expected: ${result.expected}`)
        if (result.got !== undefined) lines.push(`        got:      ${result.got}`)
      }
      if (result.note !== undefined) lines.push(`        note:     ${result.note}`)
    }
  }
  lines.push("", summaryLine(summarize(results)))
  return lines.join("\n")
}

/**
 * A machine-readable report.
 *
 * @since 0.1.0
 * @category rendering
 */
export const json = (broker: string, results: ReadonlyArray<CheckResult>): string =>
  JSON.stringify({ broker, summary: summarize(results), results }, null, 2)
