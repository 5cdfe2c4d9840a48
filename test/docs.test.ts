/**
 * docs/ is what code and tests cite: every `decision N` names a row of docs/decisions.md, every requirement ID
 * (`PRV-4`, `LO-7`, ...) one of docs/requirements.md, and the README's LIB table has the same rows as
 * docs/decisions.md. Nothing cites a file outside the repository.
 */
import { readdirSync, readFileSync, statSync } from "node:fs"
import { join } from "node:path"
import { describe, expect, it } from "vitest"

const root = new URL("..", import.meta.url).pathname
const read = (path: string): string => readFileSync(join(root, path), "utf8")

const walk = (dir: string): ReadonlyArray<string> =>
  readdirSync(join(root, dir)).flatMap((name) => {
    const path = join(dir, name)
    if (name === "node_modules" || name === "dist" || name === "data") return []
    return statSync(join(root, path)).isDirectory() ? walk(path) : /\.(ts|md)$/.test(name) ? [path] : []
  })

const sources = [...walk("src"), ...walk("test"), ...walk("examples"), ...walk("bench"), "README.md"]

/** `| n | situation | answer | ...` rows of a markdown table, by number. */
const decisionRows = (text: string): ReadonlyMap<number, readonly [string, string]> =>
  new Map(
    text.split("\n").flatMap((line) => {
      const cells = /^\| (\d+) \| (.+?) \| (.+?) \|/.exec(line)
      return cells === null ? [] : [[Number(cells[1]), [cells[2]!, cells[3]!] as const] as const]
    })
  )

const decisions = decisionRows(read("docs/decisions.md"))
const requirements = read("docs/requirements.md")

/** Every number a `decision N` / `decisions N and M` / `decisions N-M` / `decisions N, M` citation names. */
const citedDecisions = (text: string): ReadonlyArray<number> =>
  Array.from(text.matchAll(/\bdecisions? (\d+(?:(?: and |, |-| \/ )\d+)*)/g)).flatMap((match) => {
    const range = /^(\d+)-(\d+)$/.exec(match[1]!)
    if (range !== null) {
      const from = Number(range[1])
      return Array.from({ length: Number(range[2]) - from + 1 }, (_, i) => from + i)
    }
    return Array.from(match[1]!.matchAll(/\d+/g), (n) => Number(n[0]))
  })

const areas = "AUTH|VER|OID|RID|CT|URL|EXT|IDS|ST|ERR|CAT|SCH|VAL|PRV|GI|UPD|DEP|BND|ROT|GB|UNB|LO|ASY|OM|CTX"

/** Every requirement ID (`PRV-4`) a text names. */
const requirementIds = (text: string): ReadonlyArray<string> =>
  Array.from(text.matchAll(new RegExp(`\\b(?:${areas})-\\d+\\b`, "g")), (m) => m[0])

const defined = new Set(requirementIds(requirements))

describe("docs/", () => {
  it("docs/decisions.md numbers its rows 1..n without gaps", () => {
    expect(decisions.size).toBeGreaterThanOrEqual(40)
    expect([...decisions.keys()]).toEqual(Array.from({ length: decisions.size }, (_, i) => i + 1))
  })

  it("the README's LIB table has the rows of docs/decisions.md, number for number", () => {
    const readme = read("README.md")
    const section = readme.slice(readme.indexOf("## Library choices"), readme.indexOf("## Performance"))
    expect(section.length).toBeGreaterThan(0)
    expect(decisionRows(section)).toEqual(decisions)
  })

  it("every `decision N` cited in src, test, examples, bench, README and the checklist is a row of decisions.md", () => {
    const missing = [...sources, "docs/requirements.md"].flatMap((path) =>
      citedDecisions(read(path)).filter((n) => !decisions.has(n)).map((n) => `${path}: decision ${n}`)
    )
    expect(missing).toEqual([])
  })

  it("every requirement ID cited in src, test, examples, bench and README is defined in docs/requirements.md", () => {
    const missing = sources.flatMap((path) =>
      requirementIds(read(path)).filter((id) => !defined.has(id)).map((id) => `${path}: ${id}`)
    )
    expect(missing).toEqual([])
  })

  it("the requirement IDs of decisions.md are defined in the checklist", () => {
    const cited = requirementIds(read("docs/decisions.md"))
    expect(cited.length).toBeGreaterThan(40)
    expect(cited.filter((id) => !defined.has(id))).toEqual([])
  })

  it("nothing cites a file outside the repository", () => {
    const outside = sources.filter((path) => /\/work\/shared|shared\/(osb|design)\//.test(read(path)))
    expect(outside).toEqual([])
  })
})
