/**
 * The API reference's `@example` blocks are real code: each is a file of examples/doc/ (which `npm run typecheck`
 * compiles under the project's strict settings), and the main entry points have one.
 * `EFFECT_OSB_WRITE_DOCS=1 npx vitest run test/doc-examples.test.ts` rewrites examples/doc/ from the comments.
 */
import { readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { describe, expect, it } from "vitest"
import { examples, expectedFiles } from "./support/docExamples.js"

const dir = new URL("../examples/doc/", import.meta.url)
const generated = () => readdirSync(dir).filter((name) => name !== "fixtures.ts")

describe("the @example blocks of the API reference", () => {
  it("are the files of examples/doc/, which the type check compiles", () => {
    const expected = expectedFiles()
    if (process.env["EFFECT_OSB_WRITE_DOCS"] === "1") {
      for (const name of generated()) rmSync(new URL(name, dir))
      for (const [name, text] of expected) writeFileSync(new URL(name, dir), text)
    }
    expect(generated().sort()).toEqual([...expected.keys()].sort())
    for (const [name, text] of expected) expect(readFileSync(new URL(name, dir), "utf8"), name).toBe(text)
  })

  it("cover the main entry points", () => {
    const documented = new Set(examples().map((example) => example.name))
    for (
      const entry of [
        "ManagedBroker.make",
        "ManagedBroker.layer",
        "Router.make",
        "Router.toWebHandler",
        "Server.layer",
        "Server.layerConfig",
        "OsbClient.make",
        "OsbClient.layer",
        "OsbClient.pollUntilDone",
        "Checker.run",
        "ServiceBroker.make",
        "Catalog.layer",
        "testing/InProcess.layerClient",
        "testing/Conformance.suite",
        "testing/Arbitraries.module",
        "testing/StoreContract.suite"
      ]
    ) expect(documented.has(entry), entry).toBe(true)
  })
})
