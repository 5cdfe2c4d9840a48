/**
 * Test support: a fault injector around a real store (the SQLite store on a file). Every call goes to the real
 * store unless a fault is switched on: `down` fails every call with `StoreUnavailable` (PostgreSQL stopped or
 * restarting), `writesDown` fails only transactions (reads and lease queries still answer), and `readDelay` makes
 * `read` wait on the clock before it reads (a slow database, so a round trip can interleave with other requests
 * on the TestClock). The faults are plain mutable flags the test flips between steps.
 */
import { Effect, Layer } from "effect"
import { BrokerStore, SqlStore } from "../../src/index.js"

/** The faults a test switches on and off. */
export interface Faults {
  /** Every store call fails with `StoreUnavailable`. */
  down: boolean
  /** Every transaction fails with `StoreUnavailable`; reads and lease queries answer. */
  writesDown: boolean
  /** Milliseconds (on the clock) a `read` waits before it reads. */
  readDelay: number
}

/** No fault. */
export const makeFaults = (): Faults => ({ down: false, writesDown: false, readDelay: 0 })

const unavailable = () =>
  new BrokerStore.StoreUnavailable({ message: "the store is unavailable: injected fault (test)" })

/** `store` with `faults` injected. */
export const faulty = (store: BrokerStore.BrokerStoreService, faults: Faults): BrokerStore.BrokerStoreService => {
  const gate = <A, E>(effect: Effect.Effect<A, E>, write = false): Effect.Effect<A, E | BrokerStore.StoreUnavailable> =>
    Effect.suspend((): Effect.Effect<A, E | BrokerStore.StoreUnavailable> =>
      faults.down || (write && faults.writesDown) ? Effect.fail(unavailable()) : effect
    )
  return {
    persistent: store.persistent,
    read: (instanceId) =>
      Effect.suspend(() =>
        faults.readDelay > 0
          ? Effect.zipRight(Effect.sleep(faults.readDelay), gate(store.read(instanceId)))
          : gate(store.read(instanceId))
      ),
    transact: (instanceId, f) => gate(store.transact(instanceId, f), true),
    expiredOperations: (now) => gate(store.expiredOperations(now)),
    renewLeases: (...args: Parameters<BrokerStore.BrokerStoreService["renewLeases"]>) =>
      gate(store.renewLeases(...args)),
    runningOperations: (owner) => gate(store.runningOperations(owner))
  } as BrokerStore.BrokerStoreService
}

/** A SQLite store on `file` with `faults` injected, as a layer. */
export const layerFaultySqlite = (file: string, faults: Faults): Layer.Layer<BrokerStore.BrokerStore> =>
  Layer.effect(BrokerStore.BrokerStore, Effect.map(BrokerStore.BrokerStore, (store) => faulty(store, faults))).pipe(
    Layer.provide(SqlStore.layerSqlite(file)),
    Layer.orDie
  )
