/**
 * The envelope (Encryption.seal / open) and the rows the SQL store writes with it: any JSON round-trips at its own
 * place and fails to open anywhere else (another table, id, instance or column: the associated data), under a key
 * that is not configured, or altered by one character; an unreadable row's error names the record and the key
 * id, never the key or the contents.
 */
import { Either } from "effect"
import * as Arbitrary from "effect/Arbitrary"
import * as FastCheck from "effect/FastCheck"
import { randomBytes } from "node:crypto"
import { describe, expect, it } from "vitest"
import { Encryption } from "../../src/index.js"
import type { RowPlace } from "../../src/internal/sealedRows.js"
import { openRow, sealRow, UnreadableRow } from "../../src/internal/sealedRows.js"
import { JsonValue } from "../../src/Model.js"

const key = randomBytes(32).toString("base64")
const k1 = Either.getOrThrow(Encryption.make([`k1:${key}`]))
const k2Only = Either.getOrThrow(Encryption.make([`k2:${randomBytes(32).toString("base64")}`]))

const place = FastCheck.record({
  table: FastCheck.constantFrom("osb_instances" as const, "osb_bindings" as const, "osb_operations" as const),
  instanceId: FastCheck.string({ minLength: 1, maxLength: 8 }),
  id: FastCheck.option(FastCheck.string({ minLength: 1, maxLength: 8 }), { nil: undefined }),
  column: FastCheck.constant("record" as const)
})
const json = Arbitrary.make(JsonValue)

const samePlace = (a: RowPlace, b: RowPlace) =>
  a.table === b.table && a.instanceId === b.instanceId && a.id === b.id && a.column === b.column

const unreadable = (f: () => unknown): UnreadableRow => {
  try {
    f()
  } catch (error) {
    if (error instanceof UnreadableRow) return error
    throw error
  }
  throw new Error("expected the row to be unreadable")
}

describe("envelopes bound to their place", () => {
  it("round-trip at their place; fail to open at any other place", () => {
    FastCheck.assert(
      FastCheck.property(json, place, place, (value, here, there) => {
        const text = sealRow(k1, here, JSON.stringify(value))
        expect(text.startsWith("enc1.k1.")).toBe(true)
        expect(openRow(k1, here, text)).toEqual(JSON.parse(JSON.stringify(value)))
        if (!samePlace(here, there)) {
          expect(unreadable(() => openRow(k1, there, text)).message).toContain("does not authenticate")
        }
      }),
      { numRuns: 200 }
    )
  })

  it("one altered character of the ciphertext or tag does not authenticate", () => {
    const at: RowPlace = { table: "osb_bindings", instanceId: "i", id: "b", column: "record" }
    const text = sealRow(k1, at, JSON.stringify({ credentials: { password: "p" } }))
    for (let i = "enc1.k1.".length; i < text.length; i++) {
      if (text[i] === ".") continue
      const altered = text.slice(0, i) + (text[i] === "A" ? "B" : "A") + text.slice(i + 1)
      if (altered === text) continue
      expect(() => openRow(k1, at, altered)).toThrow(UnreadableRow)
    }
  })

  it("an unreadable row names the record and the key id, never the key or the contents", () => {
    const at: RowPlace = { table: "osb_bindings", instanceId: "inst", id: "bind", column: "record" }
    const text = sealRow(k1, at, JSON.stringify({ secret: "top-secret" }))
    for (const error of [unreadable(() => openRow(k2Only, at, text)), unreadable(() => openRow(undefined, at, text))]) {
      expect(error.message).toContain("binding \"bind\" of instance \"inst\"")
      expect(error.message).toContain("key id \"k1\"")
      expect(error.message).not.toContain(key)
      expect(error.message).not.toContain("top-secret")
    }
    expect(unreadable(() => openRow(k2Only, at, text)).message).toContain("not in BROKER_ENCRYPTION_KEYS")
  })

  it("JSON is data whatever it contains: written without keys and read with them, it is never decrypted", () => {
    const at: RowPlace = { table: "osb_instances", instanceId: "i", column: "record" }
    const lookalike = { parameters: { $encrypted: sealRow(k1, at, "{}") } }
    const plain = sealRow(undefined, at, JSON.stringify(lookalike))
    expect(openRow(k1, at, plain)).toEqual(lookalike)
    expect(openRow(undefined, at, plain)).toEqual(lookalike)
  })
})
