/**
 * The unbind decision (DELETE of a binding) and what a finished unbind writes.
 *
 * @internal
 */
import * as Either from "effect/Either"
import * as Option from "effect/Option"
import type {
  BindingRecord,
  BindingState,
  Change as StoreChange,
  InstanceSnapshot,
  OperationRecord
} from "../../BrokerStore.js"
import { Change } from "../../BrokerStore.js"
import type { UnbindContext } from "../../ManagedBroker.js"
import type { OriginatingIdentity } from "../../Model.js"
import { AsyncRequired, ConcurrencyError, Gone } from "../../OsbError.js"
import type { Decision, Env, Outcome, Work } from "./decision.js"
import { finishOperation, superseded } from "./decision.js"
import { nothingToStop, repeatedDelete, startDelete, stopCreate } from "./deleting.js"

/**
 * An unbind request, as the engine sees it.
 *
 * @internal
 */
export interface UnbindInput {
  readonly instanceId: string
  readonly bindingId: string
  readonly originatingIdentity: OriginatingIdentity | undefined
  readonly acceptsIncomplete: boolean
}

/** @internal */
export type UnbindRefusal = Gone | AsyncRequired | ConcurrencyError

/** @internal */
export type UnbindDecision = Decision<never, Extract<Work, { readonly kind: "unbind" }>>

/**
 * Decides an unbind on the instance's snapshot: the running one for a repeat, refused while the instance is
 * being deleted, and during an asynchronous bind, that bind is stopped first (UNB-3).
 *
 * @internal
 */
export const decideUnbind = (
  env: Env,
  snapshot: InstanceSnapshot,
  input: UnbindInput,
  now: number,
  operationId: string
): Either.Either<UnbindDecision, UnbindRefusal> => {
  const binding = snapshot.bindings.get(input.bindingId)
  if (binding === undefined || !env.serves(binding.serviceId)) return Either.left(new Gone())
  const step = env.step(binding.serviceId, binding.planId, "unbind")
  if (step === undefined) return Either.left(new Gone())
  if (step.mode === "async" && !input.acceptsIncomplete) return Either.left(new AsyncRequired({}))
  const instance = snapshot.instance
  if (Option.isSome(instance) && instance.value.state === "deprovisioning") {
    return Either.left(new ConcurrencyError({ description: "The instance is being deprovisioned." }))
  }
  let stopping = nothingToStop
  switch (binding.state) {
    case "unbinding":
      return repeatedDelete(binding.operationId, input.acceptsIncomplete, "The binding is being deleted.")
    case "binding": {
      // UNB-3: stop the running bind, then delete
      const stopped = stopCreate(snapshot, binding.operationId, now, {
        description: "Binding was stopped by an unbind request.",
        busy: "The binding is being created."
      })
      if (Either.isLeft(stopped)) return Either.left(stopped.left)
      stopping = stopped.right
      break
    }
    default:
      break
  }
  return Either.right(startDelete(
    env,
    now,
    {
      id: operationId,
      instanceId: input.instanceId,
      bindingId: input.bindingId,
      kind: "unbind",
      state: binding.state,
      creating: "binding",
      mode: step.mode,
      acceptsIncomplete: input.acceptsIncomplete,
      originatingIdentity: input.originatingIdentity
    },
    stopping,
    (operation) => Change.putBinding({ ...binding, state: "unbinding", operationId: operation.id, updatedAt: now }),
    (operation) => ({ kind: "unbind" as const, ctx: unbindContext(snapshot, binding, operation) })
  ))
}

/**
 * The work context of an unbind (also for one taken over).
 *
 * @internal
 */
export const unbindContext = (
  snapshot: InstanceSnapshot,
  binding: BindingRecord,
  operation: OperationRecord
): UnbindContext => ({
  instanceId: binding.instanceId,
  bindingId: binding.bindingId,
  instance: snapshot.instance,
  binding,
  originatingIdentity: Option.fromNullable(operation.originatingIdentity)
})

/**
 * What an unbind that succeeded writes: the binding's tombstone, its operation finished.
 *
 * @internal
 */
export const unbindSucceeded = (
  bindingId: string,
  finished: OperationRecord,
  now: number
): ReadonlyArray<StoreChange> => [
  Change.deleteBinding(bindingId, Option.some({ deletedAt: now, operationId: finished.id })),
  Change.putOperation(finished)
]

/**
 * What a finished unbind writes (nothing when it was superseded): the deletion, or the binding back in the state
 * it had.
 *
 * @internal
 */
export const finishUnbind = (
  snapshot: InstanceSnapshot,
  bindingId: string,
  operation: OperationRecord,
  outcome: Outcome<unknown>,
  now: number
): ReadonlyArray<StoreChange> => {
  const record = snapshot.bindings.get(bindingId)
  if (record === undefined || record.operationId !== operation.id || superseded(snapshot, operation)) return []
  if (outcome._tag === "Succeeded") return unbindSucceeded(bindingId, finishOperation(operation, now, undefined), now)
  const restored = (operation.restoreState ?? "ready") as BindingState
  return [
    Change.putBinding({ ...record, state: restored, updatedAt: now }),
    Change.putOperation(finishOperation(operation, now, { description: outcome.failure.description }))
  ]
}
