#!/usr/bin/env node
// The package's "exports": one entry per public module (src/*.ts, src/testing/*.ts), each with `types`, `import`
// and `default` (Node >= 20.19 can require() an ES module). `node scripts/exports.mjs` rewrites package.json;
// `--check` fails when package.json is out of date (CI, test/package.test.ts).
import { readdirSync, readFileSync, writeFileSync } from "node:fs"

const root = new URL("..", import.meta.url)
const modules = (dir) =>
  readdirSync(new URL(dir, root)).filter((f) => f.endsWith(".ts") && !f.endsWith(".d.ts")).map((f) => f.slice(0, -3))

const entry = (path) => ({ types: `./dist/${path}.d.ts`, import: `./dist/${path}.js`, default: `./dist/${path}.js` })

export const exportsMap = () => {
  const map = { ".": entry("src/index") }
  for (const name of modules("src/").filter((n) => n !== "index").sort()) map[`./${name}`] = entry(`src/${name}`)
  map["./testing"] = entry("src/testing/index")
  for (const name of modules("src/testing/").filter((n) => n !== "index").sort()) {
    map[`./testing/${name}`] = entry(`src/testing/${name}`)
  }
  map["./package.json"] = "./package.json"
  return map
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const file = new URL("package.json", root)
  const text = readFileSync(file, "utf8")
  const pkg = JSON.parse(text)
  const wanted = exportsMap()
  if (process.argv.includes("--check")) {
    if (JSON.stringify(pkg.exports) !== JSON.stringify(wanted)) {
      console.error("package.json \"exports\" is out of date: run node scripts/exports.mjs")
      process.exit(1)
    }
  } else {
    pkg.exports = wanted
    writeFileSync(file, `${JSON.stringify(pkg, null, 2)}\n`)
  }
}
