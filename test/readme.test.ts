/**
 * The README's code is real: its broker example is examples/minimal-broker.ts (type-checked by `npm test`),
 * and its quick start names the scripts that exist.
 */
import { readFileSync } from "node:fs"
import { describe, expect, it } from "vitest"

const readme = readFileSync(new URL("../README.md", import.meta.url), "utf8")

describe("README", () => {
  it("the 'Writing a broker' example is examples/minimal-broker.ts", () => {
    const block = /## Writing a broker by hand[\s\S]*?```ts\n([\s\S]*?)```/.exec(readme)?.[1]
    expect(block).toBeDefined()
    const example = readFileSync(new URL("../examples/minimal-broker.ts", import.meta.url), "utf8")
      .split("\n").slice(1).join("\n")
    expect(example).toBe(block!.replace("from \"effect-osb\"", "from \"../src/index.js\""))
  })

  it("the managed-model example is examples/managed-minimal.ts", () => {
    const block = /A complete managed broker[\s\S]*?```ts\n([\s\S]*?)```/.exec(readme)?.[1]
    expect(block).toBeDefined()
    const example = readFileSync(new URL("../examples/managed-minimal.ts", import.meta.url), "utf8")
      .split("\n").slice(1).join("\n")
    expect(example).toBe(block!.replace("from \"effect-osb\"", "from \"../src/index.js\""))
    expect(example.split("\n").length).toBeLessThan(60)
  })

  it("the client example is examples/client.ts", () => {
    const block = /## The client[\s\S]*?```ts\n([\s\S]*?)```/.exec(readme)?.[1]
    expect(block).toBeDefined()
    const example = readFileSync(new URL("../examples/client.ts", import.meta.url), "utf8")
      .split("\n").slice(1).join("\n")
    expect(example).toBe(block!.replace("from \"effect-osb\"", "from \"../src/index.js\""))
  })

  it("the test-kit example is test/kit-example.test.ts", () => {
    const block = /## Testing your broker[\s\S]*?```ts\n([\s\S]*?)```/.exec(readme)?.[1]
    expect(block).toBeDefined()
    const example = readFileSync(new URL("./kit-example.test.ts", import.meta.url), "utf8")
      .split("\n").slice(1).join("\n")
    expect(example).toBe(
      block!
        .replace("from \"effect-osb\"", "from \"../src/index.js\"")
        .replace("from \"effect-osb/testing\"", "from \"../src/testing/index.js\"")
        .replace("from \"./my-broker.js\"", "from \"../examples/managed-broker.js\"")
    )
  })

  it("the store-kit example is test/store-kit-example.test.ts", () => {
    const block = /\*\*Your own store\.\*\*[\s\S]*?```ts\n([\s\S]*?)```/.exec(readme)?.[1]
    expect(block).toBeDefined()
    const example = readFileSync(new URL("./store-kit-example.test.ts", import.meta.url), "utf8")
      .split("\n").slice(1).join("\n")
    expect(example).toBe(
      block!
        .replace("from \"effect-osb\"", "from \"../src/index.js\"")
        .replace("from \"effect-osb/testing\"", "from \"../src/testing/index.js\"")
    )
  })

  it("the quick start commands exist as npm scripts", () => {
    const pkg = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8"))
    expect(readme).toContain("npm install && npm start")
    expect(readme).toContain("npm test")
    for (const script of ["start", "test", "build", "typecheck", "lint"]) expect(pkg.scripts[script]).toBeDefined()
  })
})
