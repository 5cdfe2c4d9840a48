/**
 * What every engine decision shares: the decision type, the view of the broker a decision reads (which offerings
 * and steps exist, the plans, identities, leases), and pure helpers for records.
 *
 * A decision is a pure function `(snapshot, request, now, ...) -> Either<error, Decision>`: it reads one instance's
 * snapshot and says what the store must change and which work to start. The imperative shell (the runner) applies
 * the changes in the instance's store transaction and starts the work.
 *
 * @internal
 */
import * as Option from "effect/Option"
import type { Change, InstanceSnapshot, OperationKind, OperationRecord } from "../../BrokerStore.js"
import type { ResolvedPlan } from "../../Catalog.js"
import type {
  BindContext,
  DeprovisionContext,
  ProvisionContext,
  UnbindContext,
  UpdateContext
} from "../../ManagedBroker.js"
import type { OriginatingIdentity } from "../../Model.js"
import type { OriginatingIdentityHeader } from "../../RequestInfo.js"
import type { Fingerprints } from "./identity.js"

/**
 * How a step runs (see `ManagedBroker.Mode`).
 *
 * @internal
 */
export type Mode = "sync" | "async" | "either"

/**
 * The steps of the work.
 *
 * @internal
 */
export type StepName = "provision" | "deprovision" | "update" | "bind" | "unbind"

/**
 * What a decision needs to know of a step (not its work).
 *
 * @internal
 */
export interface StepInfo {
  readonly mode: Mode
  readonly resumable?: boolean | undefined
}

/**
 * The broker as decisions see it: pure look-ups, fixed when the broker is built.
 *
 * @internal
 */
export interface Env {
  /** Whether this broker has work for the offering. */
  readonly serves: (serviceId: string) => boolean
  /** The step of an offering's plan, if it has one. */
  readonly step: (serviceId: string, planId: string, name: StepName) => StepInfo | undefined
  /** A plan of the catalog (a recorded plan is always in it). */
  readonly plan: (planId: string) => ResolvedPlan
  /** What "identical" means for an offering. */
  readonly fingerprints: (serviceId: string) => Fingerprints
  /** This replica: the owner of the operations it starts. */
  readonly owner: string
  readonly leaseTtl: number
  readonly tombstoneTtl: number
}

/**
 * The work an operation runs, with its context (domain data only: ids, plan, parameters, records, the originating
 * identity), so the same work runs for a request and for an operation taken over from a record.
 *
 * @internal
 */
export type Work =
  | { readonly kind: "provision"; readonly ctx: ProvisionContext }
  | { readonly kind: "update"; readonly ctx: UpdateContext }
  | { readonly kind: "deprovision"; readonly ctx: DeprovisionContext }
  | { readonly kind: "bind"; readonly ctx: BindContext }
  | { readonly kind: "unbind"; readonly ctx: UnbindContext }

/**
 * A decision: nothing to do (`Done`, with what to answer), an identical operation already running, or an operation
 * to start with the store changes that record it, the running work it stops first, and the work to run.
 *
 * @internal
 */
export type Decision<S, W> =
  | { readonly _tag: "Done"; readonly value: S }
  | { readonly _tag: "Running"; readonly operationId: string }
  | Start<W>

/**
 * @internal
 */
export interface Start<W> {
  readonly _tag: "Start"
  readonly operation: OperationRecord
  readonly changes: ReadonlyArray<Change>
  /** The id of the running operation this one stops first (a delete during an async create). */
  readonly interrupt: Option.Option<string>
  readonly work: W
}

/** @internal */
export const done = <S>(value: S): Decision<S, never> => ({ _tag: "Done", value })

/** @internal */
export const running = (operationId: string): Decision<never, never> => ({ _tag: "Running", operationId })

/** @internal */
export const start = <W>(
  operation: OperationRecord,
  changes: ReadonlyArray<Change>,
  work: W,
  interrupt: Option.Option<string> = Option.none()
): Start<W> => ({ _tag: "Start", operation, changes, interrupt, work })

/**
 * A copy of `base` with `extra`'s keys: use it (not `{ ...base, key }`) when a copy gets keys `base` may not have.
 * V8 (Node 20) adds a key to a spread copy in ~0.4 µs; `Object.assign` onto a fresh object does not pay it.
 *
 * @internal
 */
export const extend = <A extends object>(base: A, ...extra: ReadonlyArray<Partial<A> | undefined>): A =>
  Object.assign({}, base, ...extra)

/** @internal */
export const isAsync = (mode: Mode, acceptsIncomplete: boolean): boolean =>
  mode === "async" || (mode === "either" && acceptsIncomplete)

/** The identity a request carried, when it carried a valid one. @internal */
export const identityOf = (header: OriginatingIdentityHeader): OriginatingIdentity | undefined =>
  header._tag === "Decoded" ? header.identity : undefined

/**
 * A new operation, in progress, leased to this replica.
 *
 * @internal
 */
export const newOperation = (
  env: Env,
  now: number,
  fields: {
    readonly id: string
    readonly instanceId: string
    readonly kind: OperationKind
    readonly async: boolean
    readonly bindingId?: string | undefined
    readonly fingerprint?: string | undefined
    readonly restoreState?: string | undefined
    readonly originatingIdentity?: OriginatingIdentity | undefined
  }
): OperationRecord => {
  const operation: { -readonly [K in keyof OperationRecord]: OperationRecord[K] } = {
    id: fields.id,
    instanceId: fields.instanceId,
    kind: fields.kind,
    async: fields.async,
    state: "in progress",
    startedAt: now,
    owner: env.owner,
    leaseExpiresAt: now + env.leaseTtl
  }
  if (fields.bindingId !== undefined) operation.bindingId = fields.bindingId
  if (fields.fingerprint !== undefined) operation.fingerprint = fields.fingerprint
  if (fields.restoreState !== undefined) operation.restoreState = fields.restoreState
  if (fields.originatingIdentity !== undefined) operation.originatingIdentity = fields.originatingIdentity
  return operation
}

/**
 * How an operation ended: success, or a failure with what the platform is told.
 *
 * @internal
 */
export type Outcome<A> =
  | { readonly _tag: "Succeeded"; readonly value: A }
  | { readonly _tag: "Failed"; readonly failure: Failure }

/**
 * What a failed operation records.
 *
 * @internal
 */
export interface Failure {
  readonly description?: string | undefined
  readonly instanceUsable?: boolean | undefined
  readonly updateRepeatable?: boolean | undefined
}

/** @internal */
export const succeeded = <A>(value: A): Outcome<A> => ({ _tag: "Succeeded", value })

/** @internal */
export const failed = (failure: Failure): Outcome<never> => ({ _tag: "Failed", failure })

/**
 * The operation finished, with its outcome.
 *
 * @internal
 */
export const finishOperation = (
  operation: OperationRecord,
  now: number,
  failure: Failure | undefined
): OperationRecord =>
  extend(
    operation,
    { state: failure === undefined ? "succeeded" as const : "failed" as const, finishedAt: now },
    failure?.description === undefined ? undefined : { description: failure.description },
    failure?.instanceUsable === undefined ? undefined : { instanceUsable: failure.instanceUsable },
    failure?.updateRepeatable === undefined ? undefined : { updateRepeatable: failure.updateRepeatable }
  )

/**
 * Another replica took the operation over (or it was stopped): its late outcome must not be recorded.
 *
 * @internal
 */
export const superseded = (snapshot: InstanceSnapshot, operation: OperationRecord): boolean => {
  const current = snapshot.operations.get(operation.id)
  return current === undefined || current.state !== "in progress" || current.owner !== operation.owner
}

/**
 * Whether a tombstone still answers 410 (decision 29).
 *
 * @internal
 */
export const live = (env: Env, tombstone: { readonly deletedAt: number } | undefined, now: number): boolean =>
  tombstone !== undefined && now - tombstone.deletedAt <= env.tombstoneTtl
