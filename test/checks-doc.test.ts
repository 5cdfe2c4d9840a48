/**
 * docs/checks.md is the checker's table of checks, rendered: this test fails when they differ.
 */
import { readFileSync, writeFileSync } from "node:fs"
import { describe, expect, it } from "vitest"
import { Checker } from "../src/index.js"
import { render } from "./support/checksDoc.js"

const path = new URL("../docs/checks.md", import.meta.url)

describe("docs/checks.md", () => {
  it("is the table of checks, rendered", () => {
    const rendered = render()
    if (process.env["EFFECT_OSB_WRITE_DOCS"] === "1") writeFileSync(path, rendered)
    expect(readFileSync(path, "utf8")).toBe(rendered)
  })

  it("every check has requirements, a rule naming its keyword, and a section", () => {
    for (const id of Checker.checkIds) {
      const spec: Checker.CheckSpec = Checker.checks[id]
      expect(spec.requirements.length, id).toBeGreaterThan(0)
      expect(spec.section.length, id).toBeGreaterThan(0)
      if (spec.level === "MUST") expect(spec.rule, id).toMatch(/MUST|must/)
    }
  })
})
