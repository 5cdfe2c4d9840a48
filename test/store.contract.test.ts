/**
 * ONE store contract, run on the memory, SQLite and PostgreSQL stores.
 */
import { Context, Effect, Either, Exit, Layer, Option, Scope } from "effect"
import { mkdtempSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, describe, expect, it } from "vitest"
import { BrokerStore, Encryption, SqlStore } from "../src/index.js"
import { freshDatabase, query } from "./support/pg.js"

type Store = BrokerStore.BrokerStoreService
type Factory = { readonly name: string; readonly open: () => Promise<Layer.Layer<BrokerStore.BrokerStore, unknown>> }

const dir = mkdtempSync(join(tmpdir(), "osb-store-"))
let n = 0

const factories: ReadonlyArray<Factory> = [
  { name: "memory", open: async () => BrokerStore.layerMemory },
  { name: "sqlite", open: async () => SqlStore.layerSqlite(join(dir, `contract-${++n}.sqlite`)) },
  { name: "postgres", open: async () => SqlStore.layerPg(await freshDatabase()) }
]

const instance = (id: string, overrides: Partial<BrokerStore.InstanceRecord> = {}): BrokerStore.InstanceRecord => ({
  instanceId: id,
  serviceId: "svc",
  planId: "plan",
  state: "ready",
  fingerprint: "{}",
  parameters: { size: 1, nested: { a: [1, 2] } },
  operationId: "op-1",
  createdAt: 1,
  updatedAt: 1,
  ...overrides
})

const binding = (instanceId: string, id: string): BrokerStore.BindingRecord => ({
  instanceId,
  bindingId: id,
  serviceId: "svc",
  planId: "plan",
  state: "ready",
  fingerprint: "{}",
  parameters: {},
  response: { credentials: { password: "secret-password" } },
  operationId: `op-${id}`,
  createdAt: 2,
  updatedAt: 2
})

const operation = (
  instanceId: string,
  id: string,
  overrides: Partial<BrokerStore.OperationRecord> = {}
): BrokerStore.OperationRecord => ({
  id,
  instanceId,
  kind: "provision",
  async: true,
  state: "in progress",
  startedAt: 1,
  ...overrides
})

const { Change } = BrokerStore

describe.each(factories)("store contract: $name", (factory) => {
  const scopes: Array<() => Promise<void>> = []
  afterAll(async () => {
    for (const close of scopes) await close()
  })

  const open = async (): Promise<Store> => {
    const layer = await factory.open()
    const { close, store } = await Effect.runPromise(
      Effect.gen(function*() {
        const scope = yield* Scope.make()
        const context = yield* Layer.buildWithScope(layer, scope)
        return {
          store: Context.get(context, BrokerStore.BrokerStore),
          close: () => Effect.runPromise(Scope.close(scope, Exit.void))
        }
      }) as Effect.Effect<{ store: Store; close: () => Promise<void> }>
    )
    scopes.push(close)
    return store
  }
  const run = <A, E>(effect: Effect.Effect<A, E>) => Effect.runPromise(effect)

  it("an unknown id reads as an empty snapshot", async () => {
    const store = await open()
    const snapshot = await run(store.read("nobody"))
    expect(Option.isNone(snapshot.instance)).toBe(true)
    expect(Option.isNone(snapshot.tombstone)).toBe(true)
    expect(snapshot.bindings.size).toBe(0)
    expect(snapshot.operations.size).toBe(0)
  })

  it("a transaction's changes are read back exactly", async () => {
    const store = await open()
    const result = await run(
      store.transact("i1", () =>
        Effect.succeed(
          ["done", [
            Change.putInstance(instance("i1")),
            Change.putOperation(operation("i1", "op-1")),
            Change.putBinding(binding("i1", "b1"))
          ]] as const
        ))
    )
    expect(result).toBe("done")
    const snapshot = await run(store.read("i1"))
    expect(Option.getOrThrow(snapshot.instance)).toEqual(instance("i1"))
    expect(snapshot.operations.get("op-1")).toEqual(operation("i1", "op-1"))
    expect(snapshot.bindings.get("b1")).toEqual(binding("i1", "b1"))
  })

  it("a failing transaction changes nothing", async () => {
    const store = await open()
    const outcome = await run(
      Effect.either(store.transact("i2", () => Effect.fail("nope" as const)))
    )
    expect(Either.isLeft(outcome)).toBe(true)
    const snapshot = await run(store.read("i2"))
    expect(Option.isNone(snapshot.instance)).toBe(true)
  })

  it("deleting an instance leaves a tombstone and keeps its operations; its bindings go by their own changes", async () => {
    const store = await open()
    await run(store.transact("i3", () =>
      Effect.succeed(
        [undefined, [
          Change.putInstance(instance("i3")),
          Change.putBinding(binding("i3", "b")),
          Change.putOperation(operation("i3", "op-1"))
        ]] as const
      )))
    await run(
      store.transact(
        "i3",
        () => Effect.succeed([undefined, [Change.deleteInstance({ deletedAt: 9, operationId: "op-2" })]] as const)
      )
    )
    // a store applies changes, nothing more: what a delete takes with it is the engine's decision
    expect((await run(store.read("i3"))).bindings.size).toBe(1)
    await run(
      store.transact("i3", () =>
        Effect.succeed(
          [undefined, [Change.deleteBinding("b", Option.some({ deletedAt: 9, operationId: "op-2" }))]] as const
        ))
    )
    const snapshot = await run(store.read("i3"))
    expect(Option.isNone(snapshot.instance)).toBe(true)
    expect(Option.getOrThrow(snapshot.tombstone)).toEqual({ deletedAt: 9, operationId: "op-2" })
    expect(snapshot.bindings.size).toBe(0)
    expect(snapshot.bindingTombstones.get("b")).toEqual({ deletedAt: 9, operationId: "op-2" })
    expect(snapshot.operations.has("op-1")).toBe(true)
    // provisioning the id again clears the tombstone (IDS-1)
    await run(store.transact("i3", () => Effect.succeed([undefined, [Change.putInstance(instance("i3"))]] as const)))
    expect(Option.isNone((await run(store.read("i3"))).tombstone)).toBe(true)
  })

  it("forgetting an instance removes every trace", async () => {
    const store = await open()
    await run(
      store.transact("i4", () =>
        Effect.succeed(
          [undefined, [Change.putInstance(instance("i4")), Change.putOperation(operation("i4", "x"))]] as const
        ))
    )
    await run(store.transact("i4", () => Effect.succeed([undefined, [Change.forgetInstance]] as const)))
    const snapshot = await run(store.read("i4"))
    expect(Option.isNone(snapshot.instance)).toBe(true)
    expect(snapshot.operations.size).toBe(0)
  })

  it("bindings can be deleted with or without a tombstone", async () => {
    const store = await open()
    await run(store.transact("i5", () =>
      Effect.succeed(
        [undefined, [
          Change.putInstance(instance("i5")),
          Change.putBinding(binding("i5", "a")),
          Change.putBinding(binding("i5", "b"))
        ]] as const
      )))
    await run(store.transact("i5", () =>
      Effect.succeed(
        [undefined, [
          Change.deleteBinding("a", Option.some({ deletedAt: 5 })),
          Change.deleteBinding("b", Option.none())
        ]] as const
      )))
    const snapshot = await run(store.read("i5"))
    expect(snapshot.bindings.size).toBe(0)
    expect(snapshot.bindingTombstones.get("a")).toEqual({ deletedAt: 5 })
    expect(snapshot.bindingTombstones.has("b")).toBe(false)
    // without a tombstone, a binding id is forgotten, its old tombstone too (a reused instance id, IDS-1)
    await run(
      store.transact("i5", () => Effect.succeed([undefined, [Change.deleteBinding("a", Option.none())]] as const))
    )
    expect((await run(store.read("i5"))).bindingTombstones.has("a")).toBe(false)
  })

  it("concurrent transactions on one instance are serialised: no lost update", async () => {
    const store = await open()
    await run(store.transact("i6", () => Effect.succeed([undefined, [Change.putInstance(instance("i6"))]] as const)))
    const increment = store.transact("i6", (snapshot) => {
      const current = Option.getOrThrow(snapshot.instance)
      return Effect.succeed(
        [undefined, [Change.putInstance({ ...current, updatedAt: current.updatedAt + 1 })]] as const
      )
    })
    await run(Effect.all(Array.from({ length: 25 }, () => increment), { concurrency: "unbounded" }))
    expect(Option.getOrThrow((await run(store.read("i6"))).instance).updatedAt).toBe(26)
  })

  it("leases: running, renewed and expired operations", async () => {
    const store = await open()
    await run(store.transact("i7", () =>
      Effect.succeed(
        [undefined, [
          Change.putOperation(operation("i7", "mine", { owner: "A", leaseExpiresAt: 100 })),
          Change.putOperation(operation("i7", "theirs", { owner: "B", leaseExpiresAt: 50 })),
          Change.putOperation(operation("i7", "done", { owner: "A", leaseExpiresAt: 10, state: "succeeded" }))
        ]] as const
      )))
    expect((await run(store.runningOperations("A"))).map((o) => o.operationId)).toEqual(["mine"])
    expect((await run(store.expiredOperations(60))).map((o) => o.operationId)).toEqual(["theirs"])
    await run(store.renewLeases("B", 1000))
    expect(await run(store.expiredOperations(60))).toEqual([])
    expect((await run(store.read("i7"))).operations.get("theirs")?.leaseExpiresAt).toBe(1000)
    expect((await run(store.expiredOperations(500))).map((o) => o.operationId)).toEqual(["mine"])
  })
})

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
    expect(raw).toContain("$encrypted")
    // rotation: k2 encrypts, k1 still decrypts
    const rotated = enc([`k2:${k2}`, `k1:${k1}`])
    const old = await readBack(rotated, "old")
    expect(Exit.isSuccess(old) && old.value.bindings.get("b")?.response?.credentials).toEqual({
      password: "secret-password"
    })
    await write(rotated, "new")
    expect(await rawRows()).toContain(".k2.")
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
