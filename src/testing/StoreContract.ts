/**
 * The store contract inside your own vitest: the checks every `BrokerStore` must pass for the managed engine to be
 * correct on it (snapshots read back exactly, failed transactions change nothing, deletes leave tombstones,
 * transactions on one instance serialised, leases), registered as one vitest test each. The library runs it on
 * its memory, SQLite and PostgreSQL stores; run it on yours:
 *
 * ```ts
 * import { StoreContract } from "effect-osb/testing"
 * StoreContract.suite("my store", () => MyStore.layer({ url: freshDatabaseUrl() }))
 * ```
 *
 * @since 0.1.0
 * @module
 */
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Exit from "effect/Exit"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Scope from "effect/Scope"
import { afterAll, describe, expect, it } from "vitest"
import type { BindingRecord, BrokerStoreService, InstanceRecord, OperationRecord } from "../BrokerStore.js"
import { BrokerStore, Change } from "../BrokerStore.js"

/**
 * Opens a fresh, empty store: called once per test. A layer, or a promise of one (e.g. after creating a database).
 *
 * @since 0.1.0
 * @category models
 */
export type OpenStore = () => Layer.Layer<BrokerStore, unknown> | Promise<Layer.Layer<BrokerStore, unknown>>

/**
 * Suite options.
 *
 * @since 0.1.0
 * @category models
 */
export interface SuiteOptions {
  /** Timeout of each test in milliseconds. Default 30 s. */
  readonly timeout?: number
}

/**
 * An instance record as the engine writes one.
 *
 * @since 0.1.0
 * @category fixtures
 */
export const instance = (id: string, overrides: Partial<InstanceRecord> = {}): InstanceRecord => ({
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

/**
 * A binding record with credentials.
 *
 * @since 0.1.0
 * @category fixtures
 */
export const binding = (instanceId: string, id: string): BindingRecord => ({
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

/**
 * An asynchronous operation in progress.
 *
 * @since 0.1.0
 * @category fixtures
 */
export const operation = (
  instanceId: string,
  id: string,
  overrides: Partial<OperationRecord> = {}
): OperationRecord => ({
  id,
  instanceId,
  kind: "provision",
  async: true,
  state: "in progress",
  startedAt: 1,
  ...overrides
})

const run = <A, E>(effect: Effect.Effect<A, E>): Promise<A> => Effect.runPromise(effect)

/** Writes `changes` in one transaction. */
const write = (store: BrokerStoreService, instanceId: string, changes: ReadonlyArray<Change>) =>
  run(store.transact(instanceId, () => Effect.succeed([undefined, changes] as const)))

/** The checks, each on a fresh store. */
const checks: ReadonlyArray<readonly [title: string, check: (store: BrokerStoreService) => Promise<void>]> = [
  ["an unknown id reads as an empty snapshot", async (store) => {
    const snapshot = await run(store.read("nobody"))
    expect(Option.isNone(snapshot.instance)).toBe(true)
    expect(Option.isNone(snapshot.tombstone)).toBe(true)
    expect(snapshot.bindings.size).toBe(0)
    expect(snapshot.bindingTombstones.size).toBe(0)
    expect(snapshot.operations.size).toBe(0)
  }],
  ["a transaction's changes are read back exactly, and its result returned", async (store) => {
    const result = await run(store.transact("i1", () =>
      Effect.succeed(
        ["done", [
          Change.putInstance(instance("i1")),
          Change.putOperation(operation("i1", "op-1")),
          Change.putBinding(binding("i1", "b1"))
        ]] as const
      )))
    expect(result).toBe("done")
    const snapshot = await run(store.read("i1"))
    expect(Option.getOrThrow(snapshot.instance)).toEqual(instance("i1"))
    expect(snapshot.operations.get("op-1")).toEqual(operation("i1", "op-1"))
    expect(snapshot.bindings.get("b1")).toEqual(binding("i1", "b1"))
  }],
  ["a failing transaction changes nothing and fails with its own error", async (store) => {
    const outcome = await run(Effect.either(store.transact("i2", () => Effect.fail("nope" as const))))
    expect(outcome).toEqual(Either.left("nope"))
    expect(Option.isNone((await run(store.read("i2"))).instance)).toBe(true)
  }],
  [
    "deleting an instance leaves a tombstone and keeps its operations; its bindings go by their own changes",
    async (store) => {
      await write(store, "i3", [
        Change.putInstance(instance("i3")),
        Change.putBinding(binding("i3", "b")),
        Change.putOperation(operation("i3", "op-1"))
      ])
      await write(store, "i3", [Change.deleteInstance({ deletedAt: 9, operationId: "op-2" })])
      // a store applies changes, nothing more: what a delete takes with it is the engine's decision
      expect((await run(store.read("i3"))).bindings.size).toBe(1)
      await write(store, "i3", [Change.deleteBinding("b", Option.some({ deletedAt: 9, operationId: "op-2" }))])
      const snapshot = await run(store.read("i3"))
      expect(Option.isNone(snapshot.instance)).toBe(true)
      expect(Option.getOrThrow(snapshot.tombstone)).toEqual({ deletedAt: 9, operationId: "op-2" })
      expect(snapshot.bindings.size).toBe(0)
      expect(snapshot.bindingTombstones.get("b")).toEqual({ deletedAt: 9, operationId: "op-2" })
      expect(snapshot.operations.has("op-1")).toBe(true)
      // provisioning the id again clears the tombstone
      await write(store, "i3", [Change.putInstance(instance("i3"))])
      expect(Option.isNone((await run(store.read("i3"))).tombstone)).toBe(true)
    }
  ],
  ["forgetting an instance removes every trace", async (store) => {
    await write(store, "i4", [Change.putInstance(instance("i4")), Change.putOperation(operation("i4", "x"))])
    await write(store, "i4", [Change.forgetInstance])
    const snapshot = await run(store.read("i4"))
    expect(Option.isNone(snapshot.instance)).toBe(true)
    expect(Option.isNone(snapshot.tombstone)).toBe(true)
    expect(snapshot.operations.size).toBe(0)
  }],
  ["bindings can be deleted with or without a tombstone", async (store) => {
    await write(store, "i5", [
      Change.putInstance(instance("i5")),
      Change.putBinding(binding("i5", "a")),
      Change.putBinding(binding("i5", "b"))
    ])
    await write(store, "i5", [
      Change.deleteBinding("a", Option.some({ deletedAt: 5 })),
      Change.deleteBinding("b", Option.none())
    ])
    const snapshot = await run(store.read("i5"))
    expect(snapshot.bindings.size).toBe(0)
    expect(snapshot.bindingTombstones.get("a")).toEqual({ deletedAt: 5 })
    expect(snapshot.bindingTombstones.has("b")).toBe(false)
    // without a tombstone, a binding id is forgotten, its old tombstone too (a reused instance id)
    await write(store, "i5", [Change.deleteBinding("a", Option.none())])
    expect((await run(store.read("i5"))).bindingTombstones.has("a")).toBe(false)
  }],
  ["concurrent transactions on one instance are serialised: no lost update", async (store) => {
    await write(store, "i6", [Change.putInstance(instance("i6"))])
    const increment = store.transact("i6", (snapshot) => {
      const current = Option.getOrThrow(snapshot.instance)
      return Effect.succeed(
        [undefined, [Change.putInstance({ ...current, updatedAt: current.updatedAt + 1 })]] as const
      )
    })
    await run(Effect.all(Array.from({ length: 25 }, () => increment), { concurrency: "unbounded" }))
    expect(Option.getOrThrow((await run(store.read("i6"))).instance).updatedAt).toBe(26)
  }],
  ["transactions on different instances do not see each other's changes", async (store) => {
    await write(store, "a", [Change.putInstance(instance("a")), Change.putBinding(binding("a", "b"))])
    await write(store, "z", [Change.putInstance(instance("z", { planId: "other" }))])
    const a = await run(store.read("a"))
    const z = await run(store.read("z"))
    expect(Option.getOrThrow(a.instance).planId).toBe("plan")
    expect(Option.getOrThrow(z.instance).planId).toBe("other")
    expect(z.bindings.size).toBe(0)
  }],
  ["leases: running, renewed and expired operations", async (store) => {
    await write(store, "i7", [
      Change.putOperation(operation("i7", "mine", { owner: "A", leaseExpiresAt: 100 })),
      Change.putOperation(operation("i7", "theirs", { owner: "B", leaseExpiresAt: 50 })),
      Change.putOperation(operation("i7", "done", { owner: "A", leaseExpiresAt: 10, state: "succeeded" }))
    ])
    expect((await run(store.runningOperations("A"))).map((o) => o.operationId)).toEqual(["mine"])
    expect((await run(store.expiredOperations(60))).map((o) => o.operationId)).toEqual(["theirs"])
    // only the operations named, and only those still in progress and held by the owner
    const named = ["mine", "theirs", "done", "unknown"].map((operationId) => ({ instanceId: "i7", operationId }))
    expect(await run(store.renewLeases("B", named, 1000))).toEqual([{ instanceId: "i7", operationId: "theirs" }])
    expect(await run(store.expiredOperations(60))).toEqual([])
    expect((await run(store.read("i7"))).operations.get("theirs")?.leaseExpiresAt).toBe(1000)
    expect((await run(store.expiredOperations(500))).map((o) => o.operationId)).toEqual(["mine"])
    expect(await run(store.renewLeases("A", [], 2000))).toEqual([])
    expect((await run(store.expiredOperations(500))).map((o) => o.operationId)).toEqual(["mine"])
    // a lease set in the past is released: the operation is expired at once
    expect(await run(store.renewLeases("B", [named[1]!], 0))).toEqual([{ instanceId: "i7", operationId: "theirs" }])
    expect((await run(store.expiredOperations(60))).map((o) => o.operationId)).toEqual(["theirs"])
  }]
]

/**
 * The titles of the contract's checks, in order.
 *
 * @since 0.1.0
 * @category constants
 */
export const titles: ReadonlyArray<string> = checks.map(([title]) => title)

/**
 * Registers the store contract for a store: one vitest test per check, each on a fresh store from `open`; the
 * stores are closed (their layers' scopes) after the suite.
 *
 * @example
 * ```ts
 * import { SqlStore } from "effect-osb"
 * import { StoreContract } from "effect-osb/testing"
 *
 * // every check on a fresh, empty database
 * let databases = 0
 * StoreContract.suite("SQLite", () => SqlStore.layerSqlite(`/tmp/contract-${process.pid}-${++databases}.sqlite`))
 * ```
 *
 * @since 0.1.0
 * @category suites
 */
export const suite = (name: string, open: OpenStore, options: SuiteOptions = {}): void => {
  describe(`store contract: ${name}`, () => {
    const scopes: Array<Scope.CloseableScope> = []
    afterAll(() => run(Effect.forEach(scopes, (scope) => Scope.close(scope, Exit.void), { discard: true })))
    const build = async (): Promise<BrokerStoreService> => {
      const layer = await open()
      const scope = await run(Scope.make())
      scopes.push(scope)
      const context = await run(Effect.orDie(Layer.buildWithScope(layer, scope)))
      return Context.get(context, BrokerStore)
    }
    for (const [title, check] of checks) {
      it(title, async () => check(await build()), options.timeout ?? 30_000)
    }
  })
}
