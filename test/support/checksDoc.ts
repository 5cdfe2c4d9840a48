/**
 * Renders docs/checks.md from the checker's table of checks (src/checker/checks.ts); test/checks-doc.test.ts
 * keeps the file in sync (`EFFECT_OSB_WRITE_DOCS=1` rewrites it).
 */
import { Checker } from "../../src/index.js"

const cell = (text: string) => text.replaceAll("|", "\\|")

export const render = (): string => {
  const levels: ReadonlyArray<Checker.Level> = ["MUST", "SHOULD", "MAY", "LIB"]
  const count = (level: Checker.Level) => Checker.checkIds.filter((id) => Checker.checks[id].level === level).length
  const rows = Checker.checkIds.map((id) => {
    const spec: Checker.CheckSpec = Checker.checks[id]
    return `| \`${id}\` | ${spec.requirements.join(", ")} | ${spec.level} | ${spec.since ?? ""} | ${
      cell(spec.section)
    } | ${cell(spec.rule)} |`
  })
  return [
    "# The checks of `effect-osb check`",
    "",
    "Generated from `src/checker/checks.ts` by `test/support/checksDoc.ts`; `test/checks-doc.test.ts` fails when",
    "this file and the table differ (`EFFECT_OSB_WRITE_DOCS=1 npx vitest run test/checks-doc.test.ts` rewrites it).",
    "",
    "Each check names the requirement IDs of the OSB v2.17 checklist it covers, the level of its rule (from the",
    "spec's keyword), the API version that introduced the rule, the section of the spec (spec.md of",
    "openservicebrokerapi/servicebroker, v2.17) and the rule in our words. A missed **MUST** is a failure (exit",
    "code 1); a missed **SHOULD**, **MAY** or **LIB** (a choice the spec leaves to the broker, which effect-osb",
    "makes as shown) is a warning, a failure only with `--strict`. With `--api-version` below a check's `since`, the",
    "check is skipped with that reason.",
    "",
    `${Checker.checkIds.length} checks: ${levels.map((level) => `${count(level)} ${level}`).join(", ")}.`,
    "",
    "| check | requirements | level | since | spec section | rule |",
    "|---|---|---|---|---|---|",
    ...rows,
    ""
  ].join("\n")
}
