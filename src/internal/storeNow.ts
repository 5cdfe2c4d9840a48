/**
 * Store calls run synchronously, when the store can run them at once: the in-memory store can (a transaction while
 * nobody holds the instance). The managed engine uses them to answer a request known at once without a fiber (see
 * `engine/runner.ts` and `eager.ts`). A store without them (SQL, or any store wrapped by metrics, traces or a
 * user's copy of the object) always takes its ordinary `transact` and `read`.
 *
 * @internal
 */
import type * as Exit from "effect/Exit"
import type { BrokerStoreService, Change, InstanceSnapshot } from "../BrokerStore.js"

/**
 * The key of the capability on a store's service object.
 *
 * @internal
 */
export const StoreNowKey: unique symbol = Symbol.for("effect-osb/BrokerStore/now")

/**
 * Runs `f` on the instance's snapshot and applies its changes when it succeeds, all before returning. `undefined`
 * when it cannot run now (another transaction holds the instance) or when `f` declines (returns `undefined`):
 * nothing was applied then, and the caller takes the ordinary `transact`.
 *
 * @internal
 */
export type TransactNow = <A, E>(
  instanceId: string,
  f: (snapshot: InstanceSnapshot) => Exit.Exit<readonly [A, ReadonlyArray<Change>], E> | undefined
) => Exit.Exit<A, E> | undefined

/**
 * The synchronous calls of a store.
 *
 * @internal
 */
export interface StoreNow {
  /** A transaction run at once (see `TransactNow`). */
  readonly transact: TransactNow
  /** The instance's snapshot as `read` would give it now. */
  readonly read: (instanceId: string) => InstanceSnapshot
}

/** A store service with the capability. */
interface WithStoreNow {
  readonly [StoreNowKey]: StoreNow
}

/**
 * The store with the capability, as a property a copy of the object (`{ ...store, transact }`) does not take: a
 * wrapper that changes `transact` or `read` must not be bypassed.
 *
 * @internal
 */
export const withStoreNow = (store: BrokerStoreService, now: StoreNow): BrokerStoreService =>
  Object.defineProperty(store, StoreNowKey, { value: now, enumerable: false })

/**
 * The store's synchronous calls, if it has them.
 *
 * @internal
 */
export const storeNowOf = (store: BrokerStoreService): StoreNow | undefined =>
  StoreNowKey in store ? (store as BrokerStoreService & WithStoreNow)[StoreNowKey] : undefined
