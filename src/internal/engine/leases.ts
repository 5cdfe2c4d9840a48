/**
 * Leases and takeover: the replica running an operation holds a lease on it and renews it; every replica looks
 * for operations whose lease expired and takes them over: a resumable step runs again with the context its records
 * hold (including the originating identity of the request that started it), any other is marked failed.
 *
 * @internal
 */
import type * as Cause from "effect/Cause"
import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import type * as Fiber from "effect/Fiber"
import * as Option from "effect/Option"
import * as Schedule from "effect/Schedule"
import type * as Scope from "effect/Scope"
import type { BrokerStoreService, InstanceSnapshot, OperationRecord } from "../../BrokerStore.js"
import { Change, unavailableIn } from "../../BrokerStore.js"
import { BrokerFailure } from "../../OsbError.js"
import type { Observer } from "../observe.js"
import { resumedBindContext } from "./bind.js"
import type { Env, Work } from "./decision.js"
import { deprovisionContext } from "./deprovision.js"
import { resumedProvisionContext } from "./provision.js"
import type { LocalOperation, Runner } from "./runner.js"
import { unbindContext } from "./unbind.js"
import { resumedUpdateContext } from "./update.js"

/**
 * What to do with an operation whose owner may be gone.
 *
 * @internal
 */
export type Takeover =
  | { readonly _tag: "Skip" }
  | { readonly _tag: "Reclaim"; readonly claimed: OperationRecord }
  | { readonly _tag: "Fail"; readonly operation: OperationRecord }
  | { readonly _tag: "Resume"; readonly claimed: OperationRecord; readonly work: Work }

const skip: Takeover = { _tag: "Skip" }

/** The work of an operation, rebuilt from its records (undefined: the records moved on, nothing to take over). */
const resumedWork = (env: Env, snapshot: InstanceSnapshot, operation: OperationRecord): Work | undefined => {
  const instance = Option.getOrUndefined(snapshot.instance)
  const binding = operation.bindingId === undefined ? undefined : snapshot.bindings.get(operation.bindingId)
  switch (operation.kind) {
    case "provision":
      if (instance === undefined || instance.operationId !== operation.id) return undefined
      return { kind: "provision", ctx: resumedProvisionContext(env, instance, operation) }
    case "update": {
      if (instance === undefined || instance.operationId !== operation.id) return undefined
      const ctx = resumedUpdateContext(env, instance, operation)
      return ctx === undefined ? undefined : { kind: "update", ctx }
    }
    case "deprovision":
      if (instance === undefined || instance.operationId !== operation.id) return undefined
      return { kind: "deprovision", ctx: deprovisionContext(snapshot, instance, operation) }
    case "bind": {
      if (binding === undefined || binding.operationId !== operation.id) return undefined
      const ctx = resumedBindContext(env, snapshot, binding, operation)
      return ctx === undefined ? undefined : { kind: "bind", ctx }
    }
    case "unbind":
      if (binding === undefined || binding.operationId !== operation.id) return undefined
      return { kind: "unbind", ctx: unbindContext(snapshot, binding, operation) }
  }
}

/** The plan whose step an operation runs. */
const stepOf = (snapshot: InstanceSnapshot, operation: OperationRecord, work: Work) => {
  switch (work.kind) {
    case "provision":
      return { serviceId: work.ctx.offering.id, planId: work.ctx.target.plan.id }
    case "update":
      return { serviceId: work.ctx.instance.serviceId, planId: work.ctx.target.plan.id }
    case "deprovision":
      return { serviceId: work.ctx.instance.serviceId, planId: work.ctx.instance.planId }
    case "bind":
    case "unbind": {
      const binding = snapshot.bindings.get(operation.bindingId ?? "")!
      return { serviceId: binding.serviceId, planId: binding.planId }
    }
  }
}

/**
 * Decides the takeover of one operation: nothing when its lease still holds or its records moved on; the lease
 * again when a fiber of this replica still runs it (its lease lapsed while the store was unreachable); resume it
 * when its step is resumable (and it was asynchronous), else fail it, so nothing stays "in progress" forever.
 *
 * @internal
 */
export const decideTakeover = (
  env: Env,
  snapshot: InstanceSnapshot,
  operationId: string,
  now: number,
  runningHere: boolean
): Takeover => {
  const operation = snapshot.operations.get(operationId)
  if (operation === undefined || operation.state !== "in progress" || (operation.leaseExpiresAt ?? 0) >= now) {
    return skip
  }
  if (runningHere && operation.owner === env.owner) {
    return { _tag: "Reclaim", claimed: { ...operation, leaseExpiresAt: now + env.leaseTtl } }
  }
  if (!operation.async) return { _tag: "Fail", operation: { ...operation, async: true } }
  const work = resumedWork(env, snapshot, operation)
  if (work === undefined) return skip
  const { planId, serviceId } = stepOf(snapshot, operation, work)
  if (env.step(serviceId, planId, work.kind)?.resumable !== true) return { _tag: "Fail", operation }
  return {
    _tag: "Resume",
    claimed: { ...operation, owner: env.owner, leaseExpiresAt: now + env.leaseTtl },
    work
  }
}

/** A store outage is logged once by the store ("store down" / "store back"), not by every round. */
const quietIfUnavailable = (cause: Cause.Cause<unknown>, what: string) =>
  Option.isSome(unavailableIn(cause)) ? Effect.void : Effect.logError(what, cause)

const stopped = Exit.fail(
  new BrokerFailure({ description: "The broker stopped while this operation was running, and it cannot be resumed." })
)

/**
 * The lease loops of a replica (only for a persistent store: no other process sees a memory store).
 *
 * @internal
 */
export interface Leases {
  /** Runs one takeover round now. */
  readonly takeoverRound: Effect.Effect<void>
  /** The renewal and takeover loops (stopped by the drain). */
  readonly loops: ReadonlyArray<Fiber.RuntimeFiber<unknown, unknown>>
}

/**
 * Starts renewing this replica's leases and taking over expired operations.
 *
 * @internal
 */
export const makeLeases = (
  store: BrokerStoreService,
  observer: Observer | undefined,
  env: Env,
  runner: Runner,
  takeoverInterval: Duration.Duration
): Effect.Effect<Leases, never, Scope.Scope> =>
  Effect.gen(function*() {
    const takeOver = Effect.fnUntraced(function*(instanceId: string, operationId: string) {
      const now = yield* Clock.currentTimeMillis
      const decision = yield* runner.withLock(
        instanceId,
        runner.transact(instanceId, (snapshot) => {
          const decided = decideTakeover(env, snapshot, operationId, now, runner.isRunning(operationId))
          return Exit.succeed([
            decided,
            decided._tag === "Resume" || decided._tag === "Reclaim" ? [Change.putOperation(decided.claimed)] : []
          ])
        }).pipe(
          Effect.tap((decided) =>
            decided._tag === "Resume" ? runner.launch(decided.work, decided.claimed) : Effect.void
          )
        )
      )
      if (decision._tag !== "Skip" && observer?.tookOver !== undefined) {
        yield* decision._tag === "Fail"
          ? observer.tookOver(decision.operation, "failed")
          : observer.tookOver(decision.claimed, "resumed")
      }
      if (decision._tag === "Fail") {
        yield* Effect.logWarning(
          `taking over ${decision.operation.kind} ${decision.operation.id}: its owner is gone; marking it failed`
        )
        yield* runner.finish(decision.operation, stopped)
      }
      if (decision._tag === "Resume") yield* Effect.logInfo(`took over operation ${operationId}: resumed`)
    })

    const takeoverRound: Effect.Effect<void> = Effect.gen(function*() {
      const now = yield* Clock.currentTimeMillis
      const expired = yield* Effect.orDie(store.expiredOperations(now))
      yield* Effect.forEach(
        expired,
        (o) =>
          (observer?.takeover === undefined
            ? takeOver(o.instanceId, o.operationId)
            : observer.takeover(o.operationId, takeOver(o.instanceId, o.operationId))).pipe(
              // one operation's failure (e.g. a record that cannot be read) stops only its own takeover
              Effect.catchAllCause((cause) =>
                Option.isSome(unavailableIn(cause))
                  ? Effect.failCause(cause)
                  : Effect.logError(`taking over operation ${o.operationId} of instance ${o.instanceId} failed`, cause)
              )
            ),
        { discard: true }
      )
    }).pipe(Effect.catchAllCause((cause) => quietIfUnavailable(cause, "operation takeover failed")))

    /** Whether another replica holds the operation now (it is still in progress): a lease lost, not a finish. */
    const heldElsewhere = (entry: LocalOperation) =>
      Effect.map(runner.read(entry.instanceId), (snapshot) => {
        const operation = snapshot.operations.get(entry.operationId)
        return operation?.state === "in progress" && operation.owner !== env.owner
      })

    /**
     * Renews the leases of the operations fibers of this replica run, and only those (a row no fiber runs is left
     * to expire, so takeover applies). An operation the store no longer has as this replica's running one (a DELETE
     * stopped it, another replica took it over) is stopped here: that very operation's fiber, never another one.
     */
    const renewRound: Effect.Effect<void> = Effect.gen(function*() {
      const mine = runner.running()
      if (mine.length === 0) return
      const now = yield* Clock.currentTimeMillis
      const held = new Set(
        (yield* Effect.orDie(store.renewLeases(env.owner, mine, now + env.leaseTtl))).map((o) => o.operationId)
      )
      for (const entry of mine) {
        if (held.has(entry.operationId) || !runner.isRunning(entry.operationId)) continue
        if (observer?.leaseLost !== undefined && (yield* heldElsewhere(entry))) observer.leaseLost(entry.kind)
        yield* runner.lost(entry)
      }
    }).pipe(Effect.catchAllCause((cause) => quietIfUnavailable(cause, "renewing operation leases failed")))

    const loops: Array<Fiber.RuntimeFiber<unknown, unknown>> = []
    if (store.persistent) {
      loops.push(
        yield* Effect.forkScoped(
          Effect.repeat(renewRound, Schedule.spaced(Duration.millis(Math.max(1, Math.floor(env.leaseTtl / 3)))))
        )
      )
      loops.push(yield* Effect.forkScoped(Effect.repeat(takeoverRound, Schedule.spaced(takeoverInterval))))
    }
    return { takeoverRound, loops }
  })
