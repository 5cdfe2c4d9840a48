/**
 * The README's two error tables (section "Errors") say what src/Protocol.ts says: every error with the status,
 * `error` code, body fields and headers of `Protocol.errors`, and, per operation, exactly the errors of
 * `Protocol.endpoints[name].errors`, in the table's order. A change of the protocol table fails here until the
 * README follows it.
 */
import { readFileSync } from "node:fs"
import { describe, expect, it } from "vitest"
import { Protocol } from "../src/index.js"

const readme = readFileSync(new URL("../README.md", import.meta.url), "utf8")
const section = readme.slice(readme.indexOf("### Errors"), readme.indexOf("### Catalog"))

/** The cells of a table's rows whose first cell matches, header and separator rows left out. */
const rows = (first: RegExp): ReadonlyArray<ReadonlyArray<string>> =>
  section.split("\n").flatMap((line) => {
    if (!line.startsWith("|")) return []
    const cells = line.split("|").slice(1, -1).map((cell) => cell.trim())
    return cells.length > 0 && first.test(cells[0]!) ? [cells] : []
  })

/** `| \`Tag\` | status | body |` rows, by tag. */
const errorRows = new Map(
  rows(/^`[A-Za-z]+`$/).map(([tag, status, body]) => [tag!.slice(1, -1), { status: Number(status), body: body! }])
)

/** `| operation[, operation] | Error, Error |` rows: each operation named with its errors. */
const operationRows = rows(/^[a-z][A-Za-z]*(, [a-z][A-Za-z]*)*$/)
  .filter(([first, second]) => !(first === "error" && second === "status") && first !== "operation")
  .flatMap(([names, errors]) => names!.split(", ").map((name) => [name, errors!.split(", ")] as const))

const headerNames: { readonly [H in Protocol.ErrorHeader]: string } = {
  "www-authenticate": "WWW-Authenticate",
  allow: "Allow",
  "retry-after": "Retry-After"
}

describe("README: the error tables are the protocol table's", () => {
  it("the error table has one row per error tag of Protocol.errors", () => {
    expect(section.length).toBeGreaterThan(0)
    expect([...errorRows.keys()].sort()).toEqual([...Protocol.errorTags].sort())
  })

  for (const tag of Protocol.errorTags) {
    it(`${tag}: the status, code, body fields and headers of Protocol.errors`, () => {
      const spec: Protocol.ErrorSpec = Protocol.errors[tag]
      const row = errorRows.get(tag)
      expect(row, `README row for ${tag}`).toBeDefined()
      expect(row!.status).toBe(spec.status)
      const body = row!.body
      expect(body.includes(`error: "${tag}"`), `${body}: error code`).toBe(spec.code !== undefined)
      expect(/\bdescription\b/.test(body), `${body}: description`).toBe(spec.description)
      for (const flag of ["instance_usable", "update_repeatable"] as const) {
        expect(body.includes(`${flag}?`), `${body}: ${flag}`).toBe(spec.flags.includes(flag))
      }
      for (const header of Object.keys(headerNames) as ReadonlyArray<Protocol.ErrorHeader>) {
        expect(body.includes(`\`${headerNames[header]}`), `${body}: ${header}`).toBe(spec.headers.includes(header))
      }
    })
  }

  it("the \"may fail with\" table names every operation with errors once, with exactly its errors in table order", () => {
    const named = operationRows.map(([name]) => name)
    const withErrors = Protocol.endpointNames.filter((name) => Protocol.endpoints[name].errors.length > 0)
    expect([...named].sort()).toEqual([...withErrors].sort())
    for (const [name, errors] of operationRows) {
      expect(errors, `README errors of ${name}`).toEqual(Protocol.endpoints[name as Protocol.EndpointName].errors)
    }
  })
})
