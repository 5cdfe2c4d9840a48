#!/usr/bin/env node
// `npm run docs:check` (CI): runs TypeDoc's validation (typedoc.json: every module, namespace, enum, variable,
// function, class, interface, type, property, method and accessor must have a comment; links must resolve) and
// fails on any TypeDoc warning or error, an undocumented member first among them. No baseline: every public member
// is documented, and a new one without a comment fails CI. The plugin scripts/typedoc-contextual-docs.mjs lets a
// data table's entries show the comments of the interface they satisfy (it never invents a comment) and warns about
// comments with tags but no text, which TypeDoc alone would count as documentation.
import { spawnSync } from "node:child_process"
import { closeSync, mkdtempSync, openSync, readFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"

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
console.log(`${undocumented.length} undocumented, ${other.length} other warnings/errors`)
for (const line of undocumented.slice(0, 50)) console.error(line)
if (undocumented.length > 50) console.error(`... and ${undocumented.length - 50} more`)
for (const line of other) console.error(line)
if (undocumented.length > 0) console.error("document every public member (TSDoc comment, or a comment on the schema field)")
if (undocumented.length > 0 || other.length > 0 || result.status !== 0) process.exit(1)
