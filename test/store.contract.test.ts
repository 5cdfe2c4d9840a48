/**
 * ONE store contract (effect-osb/testing's StoreContract), run on the memory, SQLite and PostgreSQL stores; and
 * the SQL stores' encryption at rest.
 */
import type { Layer } from "effect"
import { Effect, Either, Exit, Option } from "effect"
import { mkdtempSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import { BrokerStore, Encryption, SqlStore } from "../src/index.js"
import { StoreContract } from "../src/testing/index.js"
import { freshDatabase, query } from "./support/pg.js"

const dir = mkdtempSync(join(tmpdir(), "osb-store-"))
let n = 0

StoreContract.suite("memory", () => BrokerStore.layerMemory)
StoreContract.suite("sqlite", () => SqlStore.layerSqlite(join(dir, `contract-${++n}.sqlite`)))
StoreContract.suite("postgres", async () => SqlStore.layerPg(await freshDatabase()))

const { binding, instance } = StoreContract
const { Change } = BrokerStore

describe("SQL stores keep secrets encrypted at rest", () => {
  const k1 = Buffer.alloc(32, 1).toString("base64")
  const k2 = Buffer.alloc(32, 2).toString("base64")
  const enc = (keys: Array<string>) => Either.getOrThrow(Encryption.make(keys))

  const roundTrip = async (
    openLayer: (encryption: Encryption.Encryption) => Layer.Layer<BrokerStore.BrokerStore, unknown>,
    rawRows: () => Promise<string>
  ) => {
    const write = (encryption: Encryption.Encryption, id: string) =>
      Effect.runPromise(Effect.scoped(
        Effect.gen(function*() {
          const store = yield* BrokerStore.BrokerStore
          yield* store.transact(id, () =>
            Effect.succeed(
              [undefined, [Change.putInstance(instance(id)), Change.putBinding(binding(id, "b"))]] as const
            ))
        }).pipe(Effect.provide(openLayer(encryption)))
      ))
    const readBack = (encryption: Encryption.Encryption, id: string) =>
      Effect.runPromiseExit(Effect.scoped(
        Effect.gen(function*() {
          const store = yield* BrokerStore.BrokerStore
          return yield* store.read(id)
        }).pipe(Effect.provide(openLayer(encryption)))
      ))

    await write(enc([`k1:${k1}`]), "old")
    const raw = await rawRows()
    expect(raw).not.toContain("secret-password")
    expect(raw).not.toContain("\"size\"")
    expect(raw).toContain("enc1.k1.")
    // rotation: k2 encrypts, k1 still decrypts
    const rotated = enc([`k2:${k2}`, `k1:${k1}`])
    const old = await readBack(rotated, "old")
    expect(Exit.isSuccess(old) && old.value.bindings.get("b")?.response?.credentials).toEqual({
      password: "secret-password"
    })
    await write(rotated, "new")
    expect(await rawRows()).toContain("enc1.k2.")
    // without k1 the old secrets cannot be read
    expect(Exit.isFailure(await readBack(enc([`k2:${k2}`]), "old"))).toBe(true)
    const fresh = await readBack(enc([`k2:${k2}`]), "new")
    expect(Exit.isSuccess(fresh) && Option.getOrThrow(fresh.value.instance).parameters).toEqual({
      size: 1,
      nested: { a: [1, 2] }
    })
  }

  it("SQLite: AES-256-GCM with key rotation", async () => {
    const file = join(dir, "encrypted.sqlite")
    const Database = (await import("better-sqlite3")).default
    await roundTrip(
      (encryption) => SqlStore.layerSqlite(file, { encryption }),
      async () => {
        const db = new Database(file, { readonly: true })
        try {
          const rows = [
            ...db.prepare("SELECT record FROM osb_instances").all(),
            ...db.prepare("SELECT record FROM osb_bindings").all()
          ]
          return JSON.stringify(rows)
        } finally {
          db.close()
        }
      }
    )
  })

  it("PostgreSQL: AES-256-GCM with key rotation", async () => {
    const url = await freshDatabase()
    await roundTrip(
      (encryption) => SqlStore.layerPg(url, { encryption }),
      async () =>
        JSON.stringify([
          ...(await query(url, "SELECT record FROM osb_instances")),
          ...(await query(url, "SELECT record FROM osb_bindings"))
        ])
    )
  })
})
