/**
 * The in-memory store, and applying changes to a snapshot (which every store uses to keep its semantics identical).
 * `BrokerStore.ts` exports both.
 *
 * @internal
 */
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Option from "effect/Option"
import type {
  BindingRecord,
  BrokerStoreService,
  Change,
  InstanceSnapshot,
  OperationRecord,
  OperationRef,
  Tombstone
} from "../BrokerStore.js"
import { makeKeyedLock } from "./keyedLock.js"
import { PartlyReadableMap } from "./partlyReadable.js"
import type { TransactNow } from "./storeNow.js"
import { withStoreNow } from "./storeNow.js"

/**
 * Applies changes to a snapshot (pure).
 *
 * @internal
 */
export const applyChanges = (snapshot: InstanceSnapshot, changes: ReadonlyArray<Change>): InstanceSnapshot => {
  if (changes.length === 0) return snapshot
  let instance = snapshot.instance
  let tombstone = snapshot.tombstone
  let bindings = snapshot.bindings
  let bindingTombstones = snapshot.bindingTombstones
  let operations = snapshot.operations
  // copy-on-write: each map is copied at most once per call, then changed in place
  let ownBindings: Map<string, BindingRecord> | undefined
  let ownBindingTombstones: Map<string, Tombstone> | undefined
  let ownOperations: Map<string, OperationRecord> | undefined
  const mutableBindings = () => (ownBindings ??= copyMap(bindings))
  const mutableBindingTombstones = () => (ownBindingTombstones ??= new Map(bindingTombstones))
  for (const change of changes) {
    switch (change._tag) {
      case "PutInstance":
        instance = Option.some(change.record)
        tombstone = Option.none()
        break
      case "DeleteInstance":
        instance = Option.none()
        tombstone = Option.some(change.tombstone)
        break
      case "ForgetInstance":
        instance = Option.none()
        tombstone = Option.none()
        ownBindings = new Map()
        bindings = ownBindings
        ownBindingTombstones = new Map()
        bindingTombstones = ownBindingTombstones
        ownOperations = new Map()
        operations = ownOperations
        break
      case "PutBinding": {
        bindings = mutableBindings().set(change.record.bindingId, change.record)
        if (bindingTombstones.has(change.record.bindingId)) {
          const tombstones = mutableBindingTombstones()
          tombstones.delete(change.record.bindingId)
          bindingTombstones = tombstones
        }
        break
      }
      case "DeleteBinding": {
        if (bindings.has(change.bindingId)) {
          const next = mutableBindings()
          next.delete(change.bindingId)
          bindings = next
        }
        if (Option.isSome(change.tombstone)) {
          bindingTombstones = mutableBindingTombstones().set(change.bindingId, change.tombstone.value)
        } else if (bindingTombstones.has(change.bindingId)) {
          const tombstones = mutableBindingTombstones()
          tombstones.delete(change.bindingId)
          bindingTombstones = tombstones
        }
        break
      }
      case "PutOperation":
        operations = (ownOperations ??= copyMap(operations)).set(change.record.id, change.record)
        break
    }
  }
  return { instanceId: snapshot.instanceId, instance, tombstone, bindings, bindingTombstones, operations }
}

/** A copy of a snapshot's map (keeping which records a SQL store could not read). */
const copyMap = <V>(map: ReadonlyMap<string, V>): Map<string, V> =>
  map instanceof PartlyReadableMap ? map.clone() : new Map(map)

const isEmpty = (snapshot: InstanceSnapshot): boolean =>
  Option.isNone(snapshot.instance) && Option.isNone(snapshot.tombstone) && snapshot.operations.size === 0

/**
 * A new in-memory store: transactions on different instances run in parallel, transactions on one instance are
 * serialised (a lock per instance).
 *
 * @internal
 */
export const makeMemoryStore = (): BrokerStoreService => {
  const snapshots = new Map<string, InstanceSnapshot>()
  const { release, tryTake, withLock } = makeKeyedLock()
  // an unknown id shares these (applyChanges copies before it changes a map)
  const none = new Map<string, never>()
  const get = (instanceId: string): InstanceSnapshot =>
    snapshots.get(instanceId) ?? {
      instanceId,
      instance: Option.none(),
      tombstone: Option.none(),
      bindings: none,
      bindingTombstones: none,
      operations: none
    }
  const operationsWhere = (predicate: (operation: OperationRecord) => boolean) =>
    Effect.sync(() =>
      [...snapshots.values()].flatMap((snapshot) =>
        [...snapshot.operations.values()].filter(predicate).map((o) => ({
          instanceId: snapshot.instanceId,
          operationId: o.id
        }))
      )
    )
  const apply = (instanceId: string, changes: ReadonlyArray<Change>): void => {
    if (changes.length === 0) return
    // read again: renewLeases may have changed the snapshot (it takes no lock)
    const next = applyChanges(get(instanceId), changes)
    if (isEmpty(next)) snapshots.delete(instanceId)
    else snapshots.set(instanceId, next)
  }
  // a free instance's transaction, run at once (the managed engine answers a request known at once without a fiber)
  const transactNow: TransactNow = (instanceId, f) => {
    if (!tryTake(instanceId)) return undefined
    try {
      const out = f(get(instanceId))
      if (out === undefined) return undefined
      if (Exit.isFailure(out)) return Exit.failCause(out.cause)
      apply(instanceId, out.value[1])
      return Exit.succeed(out.value[0])
    } finally {
      release(instanceId)
    }
  }
  const service: BrokerStoreService = {
    persistent: false,
    read: (instanceId) => Effect.sync(() => get(instanceId)),
    transact: (instanceId, f) =>
      withLock(
        instanceId,
        Effect.suspend(() =>
          Effect.flatMap(f(get(instanceId)), ([result, changes]) =>
            Effect.sync(() => {
              apply(instanceId, changes)
              return result
            }))
        )
      ),
    expiredOperations: (now) =>
      operationsWhere((o) => o.state === "in progress" && o.leaseExpiresAt !== undefined && o.leaseExpiresAt < now),
    renewLeases: (owner, refs, until) =>
      Effect.sync(() => {
        const renewed: Array<OperationRef> = []
        for (const ref of refs) {
          const snapshot = snapshots.get(ref.instanceId)
          const o = snapshot?.operations.get(ref.operationId)
          if (snapshot === undefined || o === undefined || o.owner !== owner || o.state !== "in progress") continue
          const operations = new Map(snapshot.operations).set(o.id, { ...o, leaseExpiresAt: until })
          snapshots.set(ref.instanceId, { ...snapshot, operations })
          renewed.push({ instanceId: ref.instanceId, operationId: ref.operationId })
        }
        return renewed
      }),
    runningOperations: (owner) => operationsWhere((o) => o.owner === owner && o.state === "in progress")
  }
  return withStoreNow(service, { transact: transactNow, read: get })
}
