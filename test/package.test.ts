/**
 * The manifest: an export (types, import, default) for every public module, nothing published that a consumer
 * must not get (prepare, a self dependency), the CLI's imports declared as dependencies, and no module of the root
 * entry or a subpath importing an optional peer at load time. (scripts/package-smoke.sh installs the packed
 * tarball for real.)
 */
import { readdirSync, readFileSync } from "node:fs"
import { describe, expect, it } from "vitest"

const root = new URL("..", import.meta.url)
const pkg = JSON.parse(readFileSync(new URL("package.json", root), "utf8"))
const sources = (dir: string) =>
  readdirSync(new URL(dir, root)).filter((f) => f.endsWith(".ts")).map((f) => f.slice(0, -3))

/** The packages a file imports at load time (`import type` and `import()` excepted), by package name. */
const staticImports = (file: string): Array<string> =>
  [...readFileSync(new URL(file, root), "utf8").matchAll(/^import (?!type )[^;]*? from "([^".][^"]*)"/gm)]
    .map((m) => m[1]!.match(/^(@[^/]+\/[^/]+|[^/]+)/)![1]!)
    .filter((name) => !name.startsWith("node:"))

const walk = (dir: string): Array<string> =>
  readdirSync(new URL(dir, root), { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? walk(`${dir}${entry.name}/`) : entry.name.endsWith(".ts") ? [`${dir}${entry.name}`] : []
  )

describe("package.json", () => {
  it("exports every public module with types, import and default", () => {
    const wanted = [
      ".",
      ...sources("src/").filter((n) => n !== "index").map((n) => `./${n}`),
      "./testing",
      ...sources("src/testing/").filter((n) => n !== "index").map((n) => `./testing/${n}`)
    ]
    for (const path of wanted) {
      expect(pkg.exports[path], path).toBeDefined()
      expect(Object.keys(pkg.exports[path])).toEqual(["types", "import", "default"])
    }
  })

  it("publishes no prepare script and no dependency on itself; ships LICENSE and the sources the maps name", () => {
    expect(pkg.scripts.prepare).toBeUndefined()
    expect(pkg.devDependencies["effect-osb"]).toBeUndefined()
    expect(pkg.files).toEqual(expect.arrayContaining(["dist/src", "src", "README.md", "LICENSE"]))
    expect(readFileSync(new URL("LICENSE", root), "utf8")).toContain("MIT License")
  })

  it("the library loads with only effect, @effect/platform and @effect/sql; the CLI's imports are dependencies", () => {
    const required = new Set(Object.keys(pkg.peerDependencies).filter((p) => !pkg.peerDependenciesMeta[p]?.optional))
    expect([...required].sort()).toEqual(["@effect/platform", "@effect/sql", "effect"])
    const allowedInTestKit = new Set([...required, "vitest"])
    for (const file of walk("src/").filter((f) => !f.startsWith("src/bin/"))) {
      const allowed = file.startsWith("src/testing/") ? allowedInTestKit : required
      for (const name of staticImports(file)) expect(allowed.has(name), `${file} imports ${name}`).toBe(true)
    }
    const cliImports = walk("src/bin/").flatMap(staticImports)
    for (const name of cliImports) {
      expect(required.has(name) || pkg.dependencies[name] !== undefined, `the CLI imports ${name}`).toBe(true)
    }
  })

  it("vitest is an optional peer, used only by the test kit's Conformance and StoreContract", () => {
    expect(pkg.peerDependenciesMeta.vitest).toEqual({ optional: true })
    const users = walk("src/").filter((f) => staticImports(f).includes("vitest"))
    expect(users.sort()).toEqual(["src/testing/Conformance.ts", "src/testing/StoreContract.ts"])
  })
})
