/**
 * The store of a managed broker: instances, bindings, operations and tombstones, grouped per instance.
 *
 * Every change goes through `transact(instanceId, f)`: the store hands `f` a consistent snapshot of the instance
 * (its record, its bindings, its operations, tombstones), `f` decides, and the store applies the changes it
 * returns atomically, with no other transaction on the same instance in between. A memory store does that with a
 * lock; a SQL store with a transaction and a row lock. So idempotency and per-instance concurrency never race.
 *
 * @since 0.1.0
 * @module
 */
import * as Cause from "effect/Cause"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import { applyChanges as applyChangesTo, makeMemoryStore } from "./internal/memoryStore.js"
import {
  BindingResponseBody,
  BindResource,
  InstanceMetadata,
  JsonObject,
  JsonValue,
  MaintenanceInfo,
  OriginatingIdentity,
  RequestContext
} from "./Model.js"

const opt = <S extends Schema.Schema.All>(schema: S) =>
  Schema.optionalWith(schema, {
    /** The key may be absent, but when present its value must match: an explicit `undefined` is rejected. */
    exact: true
  })

/**
 * The lifecycle state of an instance.
 *
 * @since 0.1.0
 * @category models
 */
export const InstanceState = Schema.Literal("provisioning", "ready", "updating", "deprovisioning", "failed")

/**
 * Where an instance is in its lifecycle: `provisioning`, `ready`, `updating`, `deprovisioning` or `failed`.
 *
 * @since 0.1.0
 * @category models
 */
export type InstanceState = typeof InstanceState.Type

/**
 * An update waiting to be applied when its operation succeeds.
 *
 * @since 0.1.0
 * @category models
 */
export const PendingUpdate = Schema.Struct({
  /**
   * The plan the instance moves to when the update succeeds (the current plan when the update does not change it).
   */
  planId: Schema.String,
  /** The instance's parameters after the update: the stored ones merged with the request's. */
  parameters: JsonObject,
  /** The request's `context`, which replaces the stored one when the update succeeds. */
  context: opt(RequestContext),
  /** The maintenance version the instance runs once the update succeeds. */
  maintenanceInfo: opt(MaintenanceInfo),
  /** Canonical JSON of the update request, so that an identical repeat while it runs gets the same 202 (ASY-4). */
  fingerprint: Schema.String,
  /** The parameters the update request carried (before merging), handed to a resumed update. */
  requestedParameters: opt(JsonObject)
})

/**
 * An update waiting for its operation to succeed, as the instance record keeps it.
 *
 * @since 0.1.0
 * @category models
 */
export type PendingUpdate = typeof PendingUpdate.Type

/**
 * A service instance as the store keeps it.
 *
 * @since 0.1.0
 * @category models
 */
export const InstanceRecord = Schema.Struct({
  /** The platform's `instance_id` from the request path. */
  instanceId: Schema.String,
  /** The catalog offering id (`service_id`) the instance was provisioned with. */
  serviceId: Schema.String,
  /** The instance's current plan id; changes only when an update with a new `plan_id` succeeds. */
  planId: Schema.String,
  /**
   * Where the instance is in its lifecycle: `provisioning` until its first operation ends, `ready`, `updating` or
   * `deprovisioning` while such an operation runs, `failed` after a failed provision.
   */
  state: InstanceState,
  /** Canonical JSON of what makes a provision "identical" (decision 23). */
  fingerprint: Schema.String,
  /** The instance's configuration: the provision's `parameters`, then merged with each successful update's. */
  parameters: JsonObject,
  /** The last `context` the platform sent (provision, then updates). */
  context: opt(RequestContext),
  /** The deprecated Cloud Foundry `organization_guid` of the provision request, if it had one. */
  organizationGuid: opt(Schema.String),
  /** The deprecated Cloud Foundry `space_guid` of the provision request, if it had one. */
  spaceGuid: opt(Schema.String),
  /** The maintenance version the instance runs, as the provision or the last successful update set it. */
  maintenanceInfo: opt(MaintenanceInfo),
  /** The dashboard URL returned to the platform, or `null`; what `GET` on the instance answers. */
  dashboardUrl: opt(Schema.NullOr(Schema.String)),
  /** The instance's labels and attributes as the author's work returned them (2.16/2.17). */
  metadata: opt(InstanceMetadata),
  /** The author's own data, returned by their provision/update work. */
  data: opt(JsonValue),
  /** The latest operation on the instance. */
  operationId: Schema.String,
  /**
   * The update in progress, applied to this record only when its operation succeeds (UPD-3: a failed update changes
   * nothing).
   */
  pendingUpdate: opt(PendingUpdate),
  /** When the provision was accepted, in milliseconds since the Unix epoch (the engine's `Clock`). */
  createdAt: Schema.Number,
  /** When the record last changed, in milliseconds since the Unix epoch (the engine's `Clock`). */
  updatedAt: Schema.Number
})

/**
 * A service instance as the store keeps it.
 *
 * @since 0.1.0
 * @category models
 */
export type InstanceRecord = typeof InstanceRecord.Type

/**
 * The lifecycle state of a binding.
 *
 * @since 0.1.0
 * @category models
 */
export const BindingState = Schema.Literal("binding", "ready", "unbinding", "failed")

/**
 * Where a binding is in its lifecycle: `binding`, `ready`, `unbinding` or `failed`.
 *
 * @since 0.1.0
 * @category models
 */
export type BindingState = typeof BindingState.Type

/**
 * A service binding as the store keeps it.
 *
 * @since 0.1.0
 * @category models
 */
export const BindingRecord = Schema.Struct({
  /** The instance the binding belongs to. */
  instanceId: Schema.String,
  /** The platform's `binding_id` from the request path. */
  bindingId: Schema.String,
  /** The `service_id` of the bind request (the instance's offering). */
  serviceId: Schema.String,
  /** The `plan_id` of the bind request (the instance's plan at bind time). */
  planId: Schema.String,
  /**
   * Where the binding is in its lifecycle: `binding` while an asynchronous bind runs, `ready`, `unbinding` while an
   * unbind runs, `failed` after a failed bind.
   */
  state: BindingState,
  /** Canonical JSON of what makes a bind "identical" (decision 24). */
  fingerprint: Schema.String,
  /** The bind request's `parameters`, answered back by `GET` on the binding. */
  parameters: JsonObject,
  /**
   * The bound application: `bind_resource.app_guid`, or the deprecated top-level `app_guid`. Absent for service keys.
   */
  appGuid: opt(Schema.String),
  /** The bound route (`bind_resource.route`) of a route-service binding. */
  route: opt(Schema.String),
  /** The request's whole `bind_resource`, as sent. */
  bindResource: opt(BindResource),
  /** The bind request's `context`. */
  context: opt(RequestContext),
  /** The binding this one rotated (`predecessor_binding_id`, 2.17); both stay valid (ROT-3). */
  predecessorBindingId: opt(Schema.String),
  /** The binding response (credentials, endpoints, ...) once the bind succeeded. */
  response: opt(BindingResponseBody),
  /** The author's own data returned by their bind work, handed back to their unbind; never sent to the platform. */
  data: opt(JsonValue),
  /** The latest operation on the binding (bind or unbind). */
  operationId: Schema.String,
  /** When the bind was accepted, in milliseconds since the Unix epoch (the engine's `Clock`). */
  createdAt: Schema.Number,
  /** When the record last changed, in milliseconds since the Unix epoch (the engine's `Clock`). */
  updatedAt: Schema.Number
})

/**
 * A service binding as the store keeps it.
 *
 * @since 0.1.0
 * @category models
 */
export type BindingRecord = typeof BindingRecord.Type

/**
 * The kinds of operations.
 *
 * @since 0.1.0
 * @category models
 */
export const OperationKind = Schema.Literal("provision", "update", "deprovision", "bind", "unbind")

/**
 * Which OSB operation an operation record is: `provision`, `update`, `deprovision`, `bind` or `unbind`.
 *
 * @since 0.1.0
 * @category models
 */
export type OperationKind = typeof OperationKind.Type

/**
 * An operation (synchronous or asynchronous) and its outcome. Kept after it finished (LO-6).
 *
 * @since 0.1.0
 * @category models
 */
export const OperationRecord = Schema.Struct({
  /** The operation id; for an asynchronous operation, the `operation` string the platform polls with. */
  id: Schema.String,
  /** The instance the operation acts on. */
  instanceId: Schema.String,
  /** The binding, for `bind` and `unbind` operations. */
  bindingId: opt(Schema.String),
  /** Which OSB operation this is. */
  kind: OperationKind,
  /** Whether the broker answered 202 and the platform polls `last_operation` for the outcome. */
  async: Schema.Boolean,
  /** `in progress` until the work ends, then `succeeded` or `failed`: what `last_operation` reports (LO-4). */
  state: Schema.Literal("in progress", "succeeded", "failed"),
  /** The text `last_operation` reports with the state (a failure's description, say). */
  description: opt(Schema.String),
  /**
   * After a failed update or deprovision: whether the instance still works, reported as `instance_usable` (UPD-4,
   * DEP-5).
   */
  instanceUsable: opt(Schema.Boolean),
  /** After a failed update: whether the same update may be tried again, reported as `update_repeatable` (UPD-4). */
  updateRepeatable: opt(Schema.Boolean),
  /** What an identical repeat of the request must match (update, bind). */
  fingerprint: opt(Schema.String),
  /** When the operation was accepted, in milliseconds since the Unix epoch (the engine's `Clock`). */
  startedAt: Schema.Number,
  /**
   * When it succeeded or failed, in milliseconds since the Unix epoch (the engine's `Clock`); absent while in
   * progress.
   */
  finishedAt: opt(Schema.Number),
  /** The replica running an asynchronous operation, and until when its lease holds. */
  owner: opt(Schema.String),
  /**
   * Until when `owner`'s claim holds, in milliseconds since the Unix epoch (the engine's `Clock`). After it another
   * replica may resume the operation. Only kept by persistent stores.
   */
  leaseExpiresAt: opt(Schema.Number),
  /** The state the resource returns to when a delete fails. */
  restoreState: opt(Schema.String),
  /** The originating identity of the request that started the operation (handed to a resumed step). */
  originatingIdentity: opt(OriginatingIdentity),
  /**
   * The W3C `traceparent` of the span that started the operation, recorded only while tracing is on: a takeover on
   * another replica links its spans to it.
   */
  traceparent: opt(Schema.String)
})

/**
 * An operation and its outcome, as the store keeps it.
 *
 * @since 0.1.0
 * @category models
 */
export type OperationRecord = typeof OperationRecord.Type

/**
 * The trace a deleted resource leaves, so `last_operation` can answer 410 rather than 404 (decision 29).
 *
 * @since 0.1.0
 * @category models
 */
export const Tombstone = Schema.Struct({
  /**
   * When the resource was deleted, in milliseconds since the Unix epoch (the engine's `Clock`); tombstones older than
   * the broker's retention are forgotten.
   */
  deletedAt: Schema.Number,
  /** The deprovision or unbind operation that deleted it, so polling that operation answers `succeeded` or 410. */
  operationId: opt(Schema.String)
})

/**
 * The trace of a deleted instance or binding, as the store keeps it.
 *
 * @since 0.1.0
 * @category models
 */
export type Tombstone = typeof Tombstone.Type

/**
 * Everything the store knows about one instance id.
 *
 * @since 0.1.0
 * @category models
 */
export interface InstanceSnapshot {
  /** The instance id the snapshot is about (known to the store or not). */
  readonly instanceId: string
  /** The instance record, if the instance exists. */
  readonly instance: Option.Option<InstanceRecord>
  /** The trace of a deleted instance, if it was deleted recently. */
  readonly tombstone: Option.Option<Tombstone>
  /** The instance's bindings, by binding id. */
  readonly bindings: ReadonlyMap<string, BindingRecord>
  /** Traces of recently deleted bindings of the instance, by binding id. */
  readonly bindingTombstones: ReadonlyMap<string, Tombstone>
  /** The operations on the instance and its bindings, by operation id, finished ones included (LO-6). */
  readonly operations: ReadonlyMap<string, OperationRecord>
}

/**
 * A change a transaction applies.
 *
 * @since 0.1.0
 * @category models
 */
export type Change =
  | {
    /** Writes the instance record (and clears its tombstone). */
    readonly _tag: "PutInstance"
    /** The instance record as it is from now on. */
    readonly record: InstanceRecord
  }
  | {
    /** Deletes the instance record and leaves a tombstone in its place (its bindings go by their own changes). */
    readonly _tag: "DeleteInstance"
    /** The trace the deleted instance leaves. */
    readonly tombstone: Tombstone
  }
  | {
    /** Writes a binding record of the instance (and clears that binding's tombstone). */
    readonly _tag: "PutBinding"
    /** The binding record as it is from now on. */
    readonly record: BindingRecord
  }
  | {
    /** Deletes a binding of the instance. */
    readonly _tag: "DeleteBinding"
    /** The binding to delete. */
    readonly bindingId: string
    /** The trace it leaves; `None` forgets the binding id altogether, its tombstone too. */
    readonly tombstone: Option.Option<Tombstone>
  }
  | {
    /** Writes an operation record (a new operation, or a new state of one). */
    readonly _tag: "PutOperation"
    /** The operation record as it is from now on. */
    readonly record: OperationRecord
  }
  | {
    /** Removes every trace of the instance id: record, tombstone, bindings and operations. */
    readonly _tag: "ForgetInstance"
  }

/**
 * Constructors for changes.
 *
 * @since 0.1.0
 * @category constructors
 */
export const Change = {
  /** Writes the instance record (and clears its tombstone). */
  putInstance: (record: InstanceRecord): Change => ({ _tag: "PutInstance", record }),
  /**
   * Deletes the instance record, leaving its tombstone. Nothing else: its bindings go by their own changes (the
   * engine decides what a delete takes with it; a store only applies changes).
   */
  deleteInstance: (tombstone: Tombstone): Change => ({ _tag: "DeleteInstance", tombstone }),
  /** Removes every trace of the instance id (a failed synchronous provision never existed). */
  forgetInstance: { _tag: "ForgetInstance" } as Change,
  /** Writes a binding record (and clears that binding's tombstone). */
  putBinding: (record: BindingRecord): Change => ({ _tag: "PutBinding", record }),
  /** Deletes the binding; with a tombstone, leaves it; without, forgets the binding id (its tombstone too). */
  deleteBinding: (bindingId: string, tombstone: Option.Option<Tombstone>): Change => ({
    _tag: "DeleteBinding",
    bindingId,
    tombstone
  }),
  /** Writes an operation record: a new operation, or a new state of one. */
  putOperation: (record: OperationRecord): Change => ({ _tag: "PutOperation", record })
} as const

/**
 * The store failed (a bad statement, corruption, an unreadable record). The engine treats it as a defect: a generic
 * 500. A store that cannot be reached fails with {@link StoreUnavailable} instead.
 *
 * @since 0.1.0
 * @category errors
 */
export class StoreError extends Schema.TaggedError<StoreError>("effect-osb/StoreError")("StoreError", {
  /** What failed, for the log; never sent to the platform. */
  message: Schema.String,
  /** The underlying error (a driver's `SqlError`, a parse failure...), when there is one. */
  cause: opt(Schema.Defect)
}) {}

/**
 * The store cannot be reached now (database down or restarting, connection lost or refused, database busy): a
 * temporary condition, answered 503 with `Retry-After` at the HTTP edge, unlike a `StoreError` (a defect, 500).
 *
 * @since 0.1.0
 * @category errors
 */
export class StoreUnavailable extends Schema.TaggedError<StoreUnavailable>("effect-osb/StoreUnavailable")(
  "StoreUnavailable",
  {
    /** What could not be reached, for the log; never sent to the platform. */
    message: Schema.String,
    /** The underlying error (connection refused, database busy...), when there is one. */
    cause: opt(Schema.Defect)
  }
) {}

/**
 * Whether a value is a {@link StoreUnavailable}.
 *
 * @since 0.1.0
 * @category guards
 */
export const isStoreUnavailable = (u: unknown): u is StoreUnavailable => u instanceof StoreUnavailable

/**
 * The store's unavailability in a cause, as a failure or as a defect (the managed engine dies with its store's
 * errors).
 *
 * @since 0.1.0
 * @category guards
 */
export const unavailableIn = <E>(cause: Cause.Cause<E>): Option.Option<StoreUnavailable> =>
  Cause.find(cause, (c) => {
    if (c._tag === "Fail" && isStoreUnavailable(c.error)) return Option.some(c.error)
    if (c._tag === "Die" && isStoreUnavailable(c.defect)) return Option.some(c.defect)
    return Option.none()
  })

const refusals = new WeakMap<StoreUnavailable, () => void>()

/**
 * Attaches to an unavailability the counter of the outage it belongs to (stores that report outages use it).
 *
 * @since 0.1.0
 * @category outages
 */
export const countRefusal = (error: StoreUnavailable, count: () => void): StoreUnavailable => {
  refusals.set(error, count)
  return error
}

/**
 * Tells the store that a request was refused because of this unavailability (the HTTP edge calls it once per
 * request), so the store's "store back" line counts the requests refused during the outage.
 *
 * @since 0.1.0
 * @category outages
 */
export const refused = (error: StoreUnavailable): void => {
  refusals.get(error)?.()
  refusals.delete(error)
}

/**
 * The store service.
 *
 * @since 0.1.0
 * @category models
 */
export interface BrokerStoreService {
  /** Whether the data outlives the process (and other processes may share it): leases are kept only then. */
  readonly persistent: boolean
  /** A consistent snapshot of one instance id. */
  readonly read: (instanceId: string) => Effect.Effect<InstanceSnapshot, StoreError | StoreUnavailable>
  /**
   * Runs `f` on a snapshot of the instance and applies the changes it returns, atomically and serialised with
   * every other transaction on the same instance id. `f` must be quick and must not use the store itself.
   */
  readonly transact: <A, E>(
    instanceId: string,
    f: (snapshot: InstanceSnapshot) => Effect.Effect<readonly [A, ReadonlyArray<Change>], E>
  ) => Effect.Effect<A, E | StoreError | StoreUnavailable>
  /** In-progress operations whose lease expired before `now` (their owner is gone). */
  readonly expiredOperations: (
    now: number
  ) => Effect.Effect<ReadonlyArray<OperationRef>, StoreError | StoreUnavailable>
  /**
   * Sets the lease of each of `operations` that is still in progress and held by `owner` to expire at `until`, and
   * returns those (the others were finished, or taken over by another replica). Only the operations named: a
   * replica renews what its fibers run, never every row it owns. An `until` in the past releases the leases, so
   * takeover applies at once.
   */
  readonly renewLeases: (
    owner: string,
    operations: ReadonlyArray<OperationRef>,
    until: number
  ) => Effect.Effect<ReadonlyArray<OperationRef>, StoreError | StoreUnavailable>
  /** The in-progress operations `owner` holds. */
  readonly runningOperations: (
    owner: string
  ) => Effect.Effect<ReadonlyArray<OperationRef>, StoreError | StoreUnavailable>
}

/**
 * An operation, by its instance and its id.
 *
 * @since 0.1.0
 * @category models
 */
export interface OperationRef {
  /** The instance the operation belongs to. */
  readonly instanceId: string
  /** The operation's id. */
  readonly operationId: string
}

/**
 * The store service tag.
 *
 * @since 0.1.0
 * @category tags
 */
export class BrokerStore extends Context.Tag("effect-osb/BrokerStore")<BrokerStore, BrokerStoreService>() {}

/**
 * The snapshot of an id the store has never seen.
 *
 * @since 0.1.0
 * @category constructors
 */
export const emptySnapshot = (instanceId: string): InstanceSnapshot => ({
  instanceId,
  instance: Option.none(),
  tombstone: Option.none(),
  bindings: new Map(),
  bindingTombstones: new Map(),
  operations: new Map()
})

/**
 * Applies changes to a snapshot (pure). Stores use it to keep their semantics identical.
 *
 * @since 0.1.0
 * @category utils
 */
export const applyChanges: (snapshot: InstanceSnapshot, changes: ReadonlyArray<Change>) => InstanceSnapshot =
  applyChangesTo

/**
 * An in-memory store: fast, per process, lost on restart. Transactions on different instances run in parallel;
 * transactions on one instance are serialised.
 *
 * @since 0.1.0
 * @category constructors
 */
export const makeMemory: Effect.Effect<BrokerStoreService> = Effect.sync(makeMemoryStore)

/**
 * The in-memory store as a layer.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerMemory: Layer.Layer<BrokerStore> = Layer.effect(BrokerStore, makeMemory)
