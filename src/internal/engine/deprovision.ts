/**
 * The deprovision decision (DELETE of an instance) and what a finished deprovision writes, including what the
 * delete takes with it (its bindings, decision 31).
 *
 * @internal
 */
import * as Either from "effect/Either"
import * as Option from "effect/Option"
import type {
  Change as StoreChange,
  InstanceRecord,
  InstanceSnapshot,
  OperationRecord,
  Tombstone
} from "../../BrokerStore.js"
import { Change } from "../../BrokerStore.js"
import type { DeprovisionContext } from "../../ManagedBroker.js"
import type { OriginatingIdentity } from "../../Model.js"
import { AsyncRequired, ConcurrencyError, Gone } from "../../OsbError.js"
import type { Decision, Env, Outcome, Work } from "./decision.js"
import { finishOperation, superseded } from "./decision.js"
import { nothingToStop, repeatedDelete, startDelete, stopCreate } from "./deleting.js"

/**
 * A deprovision request, as the engine sees it.
 *
 * @internal
 */
export interface DeprovisionInput {
  readonly instanceId: string
  readonly originatingIdentity: OriginatingIdentity | undefined
  readonly acceptsIncomplete: boolean
}

/** @internal */
export type DeprovisionRefusal = Gone | AsyncRequired | ConcurrencyError

/** @internal */
export type DeprovisionDecision = Decision<never, Extract<Work, { readonly kind: "deprovision" }>>

/**
 * Decides a deprovision on the instance's snapshot: refused while an update or a binding operation runs, the
 * running one for a repeat, and during an asynchronous provision, that provision is stopped first (DEP-4).
 *
 * @internal
 */
export const decideDeprovision = (
  env: Env,
  snapshot: InstanceSnapshot,
  input: DeprovisionInput,
  now: number,
  operationId: string
): Either.Either<DeprovisionDecision, DeprovisionRefusal> => {
  const record = Option.getOrUndefined(snapshot.instance)
  if (record === undefined || !env.serves(record.serviceId)) return Either.left(new Gone())
  const step = env.step(record.serviceId, record.planId, "deprovision")!
  if (step.mode === "async" && !input.acceptsIncomplete) return Either.left(new AsyncRequired({}))
  let stopping = nothingToStop
  switch (record.state) {
    case "deprovisioning":
      return repeatedDelete(record.operationId, input.acceptsIncomplete, "The instance is being deprovisioned.")
    case "updating":
      return Either.left(new ConcurrencyError({ description: "The instance is being updated." }))
    case "provisioning": {
      // DEP-4: stop the running provision, then delete
      const stopped = stopCreate(snapshot, record.operationId, now, {
        description: "Provisioning was stopped by a deprovision request.",
        busy: "The instance is being provisioned."
      })
      if (Either.isLeft(stopped)) return Either.left(stopped.left)
      stopping = stopped.right
      break
    }
    default:
      break
  }
  for (const binding of snapshot.bindings.values()) {
    if (binding.state === "binding" || binding.state === "unbinding") {
      return Either.left(new ConcurrencyError({ description: "A binding operation on this instance is in progress." }))
    }
  }
  return Either.right(startDelete(
    env,
    now,
    {
      id: operationId,
      instanceId: input.instanceId,
      kind: "deprovision",
      state: record.state,
      creating: "provisioning",
      mode: step.mode,
      acceptsIncomplete: input.acceptsIncomplete,
      originatingIdentity: input.originatingIdentity
    },
    stopping,
    (operation) =>
      Change.putInstance({ ...record, state: "deprovisioning", operationId: operation.id, updatedAt: now }),
    (operation) => ({ kind: "deprovision" as const, ctx: deprovisionContext(snapshot, record, operation) })
  ))
}

/**
 * The work context of a deprovision (also for one taken over).
 *
 * @internal
 */
export const deprovisionContext = (
  snapshot: InstanceSnapshot,
  record: InstanceRecord,
  operation: OperationRecord
): DeprovisionContext => ({
  instanceId: record.instanceId,
  instance: record,
  bindings: [...snapshot.bindings.values()],
  originatingIdentity: Option.fromNullable(operation.originatingIdentity)
})

/**
 * What a deprovision that succeeded writes: every binding of the instance deleted (each leaving a tombstone,
 * decision 31), the instance's tombstone, its operation finished.
 *
 * @internal
 */
export const deprovisionSucceeded = (
  snapshot: InstanceSnapshot,
  finished: OperationRecord,
  now: number
): ReadonlyArray<StoreChange> => {
  const tombstone: Tombstone = { deletedAt: now, operationId: finished.id }
  const changes: Array<StoreChange> = []
  for (const bindingId of snapshot.bindings.keys()) {
    changes.push(Change.deleteBinding(bindingId, Option.some(tombstone)))
  }
  changes.push(Change.deleteInstance(tombstone), Change.putOperation(finished))
  return changes
}

/**
 * What a finished deprovision writes (nothing when it was superseded): the deletion, or the instance back in the
 * state it had.
 *
 * @internal
 */
export const finishDeprovision = (
  snapshot: InstanceSnapshot,
  operation: OperationRecord,
  outcome: Outcome<unknown>,
  now: number
): ReadonlyArray<StoreChange> => {
  const record = Option.getOrUndefined(snapshot.instance)
  if (record === undefined || record.operationId !== operation.id || superseded(snapshot, operation)) return []
  if (outcome._tag === "Succeeded") {
    return deprovisionSucceeded(snapshot, finishOperation(operation, now, undefined), now)
  }
  const restored = (operation.restoreState ?? "ready") as InstanceRecord["state"]
  return [
    Change.putInstance({ ...record, state: restored, updatedAt: now }),
    Change.putOperation(finishOperation(operation, now, { ...outcome.failure, updateRepeatable: undefined }))
  ]
}
