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

/** What a file imports at load time (`import type` and `import()` excepted): package names and relative files. */
const staticImports = (file: string): { readonly packages: Array<string>; readonly files: Array<string> } => {
  const text = readFileSync(new URL(file, root), "utf8")
  const specifiers = [...text.matchAll(/^(?:import|export) (?!type )[^;]*? from "([^"]+)"/gm)].map((m) => m[1]!)
  return {
    packages: specifiers.filter((s) => !s.startsWith(".") && !s.startsWith("node:"))
      .map((s) => s.match(/^(@[^/]+\/[^/]+|[^/]+)/)![1]!),
    files: specifiers.filter((s) => s.startsWith(".")).map((s) =>
      new URL(s.replace(/\.js$/, ".ts"), new URL(file, root)).pathname.slice(new URL(".", root).pathname.length)
    )
  }
}

/** The packages loaded when `entry` is imported: its static imports and theirs, through relative files. */
const loadedPackages = (entry: string): Map<string, string> => {
  const seen = new Set<string>()
  const packages = new Map<string, string>()
  const visit = (file: string) => {
    if (seen.has(file)) return
    seen.add(file)
    const imports = staticImports(file)
    for (const name of imports.packages) if (!packages.has(name)) packages.set(name, file)
    imports.files.forEach(visit)
  }
  visit(entry)
  return packages
}

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
    const vitestParts = ["./testing", "./testing/Conformance", "./testing/StoreContract"]
    for (const [path, target] of Object.entries<{ readonly import: string } | string>(pkg.exports)) {
      if (typeof target === "string") continue
      const entry = target.import.replace("./dist/", "").replace(/\.js$/, ".ts")
      const allowed = vitestParts.includes(path) ? new Set([...required, "vitest"]) : required
      for (const [name, file] of loadedPackages(entry)) {
        expect(allowed.has(name), `${path} loads ${name} (imported by ${file})`).toBe(true)
      }
    }
    for (const [name, file] of loadedPackages("src/bin/effect-osb.ts")) {
      expect(required.has(name) || pkg.dependencies[name] !== undefined, `the CLI loads ${name} (${file})`).toBe(true)
    }
  })

  it("vitest is an optional peer, used only by the test kit's Conformance and StoreContract", () => {
    expect(pkg.peerDependenciesMeta.vitest).toEqual({ optional: true })
    const users = walk("src/").filter((f) => staticImports(f).packages.includes("vitest"))
    expect(users.sort()).toEqual(["src/testing/Conformance.ts", "src/testing/StoreContract.ts"])
  })
})
