#!/usr/bin/env node
// `npm run docs:check` (CI): runs TypeDoc's validation (typedoc.json: every module, function, class, interface,
// type, property and method must have a comment) and fails when there are more undocumented members than
// scripts/docs-baseline.json records, or any other TypeDoc warning or error. The baseline only goes down: lower it
// (node scripts/docs-check.mjs --update) as members get documented.
import { spawnSync } from "node:child_process"
import { closeSync, mkdtempSync, openSync, readFileSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"

const baselineFile = new URL("docs-baseline.json", import.meta.url)
// TypeDoc's output goes to a file: read through a pipe, the end of a long run of warnings can be lost
const logFile = join(mkdtempSync(join(tmpdir(), "docs-check-")), "typedoc.log")
const log = openSync(logFile, "w")
const result = spawnSync(process.execPath, ["node_modules/typedoc/bin/typedoc", "--emit", "none"], {
  cwd: new URL("..", import.meta.url),
  stdio: ["ignore", log, log],
  env: { ...process.env, NO_COLOR: "1", FORCE_COLOR: "0" }
})
closeSync(log)
const lines = readFileSync(logFile, "utf8").split("\n")
const undocumented = lines.filter((l) => l.includes("does not have any documentation"))
const other = lines.filter((l) => /\[(warning|error)\]/.test(l) && !l.includes("does not have any documentation"))
  .filter((l) => !/^\S*\[warning\] Found \d+ errors and \d+ warnings/.test(l.trim()))
const baseline = JSON.parse(readFileSync(baselineFile, "utf8")).undocumented
if (process.argv.includes("--update")) {
  writeFileSync(baselineFile, `${JSON.stringify({ undocumented: undocumented.length }, null, 2)}\n`)
  console.log(`baseline: ${undocumented.length} undocumented`)
  process.exit(0)
}
console.log(`${undocumented.length} undocumented (baseline ${baseline}), ${other.length} other warnings/errors`)
for (const line of other) console.error(line)
if (undocumented.length > baseline) {
  for (const line of undocumented.slice(0, 50)) console.error(line)
  console.error(`more undocumented members than the baseline (${undocumented.length} > ${baseline}): document them`)
  process.exit(1)
}
if (other.length > 0 || result.status !== 0) process.exit(1)
