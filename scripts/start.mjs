#!/usr/bin/env node
// `npm start`: compiles src/ and examples/ only when a source is newer than the last build (tsc, even incremental,
// spends seconds finding out that nothing changed), then runs the quick start in this process.
import { spawnSync } from "node:child_process"
import { existsSync, readdirSync, statSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { fileURLToPath, pathToFileURL } from "node:url"

const root = fileURLToPath(new URL("..", import.meta.url))
const stamp = join(root, "dist", ".start-stamp")
const entry = join(root, "dist", "examples", "quickstart.js")

const newest = (path) => {
  const info = statSync(path)
  if (!info.isDirectory()) return info.mtimeMs
  return readdirSync(path).reduce((latest, name) => Math.max(latest, newest(join(path, name))), info.mtimeMs)
}

const inputs = ["src", "examples", "tsconfig.json", "tsconfig.build.json", "package.json", "package-lock.json"]
const sourcesChanged = () => {
  if (!existsSync(stamp) || !existsSync(entry)) return true
  const built = statSync(stamp).mtimeMs
  return inputs.some((input) => existsSync(join(root, input)) && newest(join(root, input)) > built)
}

if (sourcesChanged()) {
  const startedAt = Date.now()
  const tsc = join(root, "node_modules", "typescript", "bin", "tsc")
  const result = spawnSync(process.execPath, [tsc, "-p", join(root, "tsconfig.build.json")], { stdio: "inherit" })
  if (result.status !== 0) process.exit(result.status ?? 1)
  // the stamp takes the time the build started: a file saved during the build is compiled next time
  writeFileSync(stamp, "")
  const seconds = startedAt / 1000
  const { utimesSync } = await import("node:fs")
  utimesSync(stamp, seconds, seconds)
}

await import(pathToFileURL(entry).href)
