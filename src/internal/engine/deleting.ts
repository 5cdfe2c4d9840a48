/**
 * What the two delete decisions share (deprovision of an instance, unbind of a binding): a repeat of a running
 * delete, a delete that stops the resource's own asynchronous create first (DEP-4, UNB-3), the delete's operation
 * and the store changes that start it.
 *
 * @internal
 */
import * as Either from "effect/Either"
import * as Option from "effect/Option"
import type { Change as StoreChange, InstanceSnapshot, OperationRecord } from "../../BrokerStore.js"
import { Change } from "../../BrokerStore.js"
import type { OriginatingIdentity } from "../../Model.js"
import { ConcurrencyError } from "../../OsbError.js"
import type { Decision, Env, Mode, Start } from "./decision.js"
import { finishOperation, isAsync, newOperation, running, start } from "./decision.js"

/**
 * A delete repeated while it runs: its running operation when the platform accepts an asynchronous answer, else
 * 422 saying `busy`.
 *
 * @internal
 */
export const repeatedDelete = (
  operationId: string,
  acceptsIncomplete: boolean,
  busy: string
): Either.Either<Decision<never, never>, ConcurrencyError> =>
  acceptsIncomplete ? Either.right(running(operationId)) : Either.left(new ConcurrencyError({ description: busy }))

/**
 * What a delete does first to the create it stops (nothing, when there is none).
 *
 * @internal
 */
export interface Stopping {
  /** The create's operation id: its work is interrupted before the delete starts. */
  readonly interrupt: Option.Option<string>
  /** The create's operation, finished as failed. */
  readonly changes: ReadonlyArray<StoreChange>
}

/** Nothing to stop. @internal */
export const nothingToStop: Stopping = { interrupt: Option.none(), changes: [] }

/**
 * What a delete does first to a create still running: an asynchronous create is stopped (its operation finished as
 * failed with `description`, its work interrupted); a synchronous one cannot be, so 422 saying `busy`.
 *
 * @internal
 */
export const stopCreate = (
  snapshot: InstanceSnapshot,
  operationId: string,
  now: number,
  stop: { readonly description: string; readonly busy: string }
): Either.Either<Stopping, ConcurrencyError> => {
  const creating = snapshot.operations.get(operationId)
  if (creating === undefined || !creating.async) return Either.left(new ConcurrencyError({ description: stop.busy }))
  return Either.right({
    interrupt: Option.some(creating.id),
    changes: [Change.putOperation(finishOperation(creating, now, { description: stop.description }))]
  })
}

/**
 * Starts a delete: its operation (restoring the resource's state if it fails; `failed` for a create it stopped),
 * the stopped create's changes, the resource marked as being deleted (`mark`), the operation recorded.
 *
 * @internal
 */
export const startDelete = <W>(
  env: Env,
  now: number,
  fields: {
    readonly id: string
    readonly instanceId: string
    readonly bindingId?: string | undefined
    readonly kind: "deprovision" | "unbind"
    /** The resource's state now; `creating` is the state of a resource whose create is running. */
    readonly state: string
    readonly creating: string
    readonly mode: Mode
    readonly acceptsIncomplete: boolean
    readonly originatingIdentity: OriginatingIdentity | undefined
  },
  stopping: Stopping,
  mark: (operation: OperationRecord) => StoreChange,
  work: (operation: OperationRecord) => W
): Start<W> => {
  const operation = newOperation(env, now, {
    id: fields.id,
    instanceId: fields.instanceId,
    bindingId: fields.bindingId,
    kind: fields.kind,
    restoreState: fields.state === fields.creating ? "failed" : fields.state,
    async: isAsync(fields.mode, fields.acceptsIncomplete),
    originatingIdentity: fields.originatingIdentity
  })
  return start(
    operation,
    [...stopping.changes, mark(operation), Change.putOperation(operation)],
    work(operation),
    stopping.interrupt
  )
}
