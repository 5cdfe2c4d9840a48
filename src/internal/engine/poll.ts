/**
 * The read decisions: last_operation of an instance or a binding, and which record a fetch answers with.
 *
 * @internal
 */
import * as Either from "effect/Either"
import * as Option from "effect/Option"
import type { BindingRecord, InstanceRecord, InstanceSnapshot, OperationRecord } from "../../BrokerStore.js"
import type { FetchInstanceBody } from "../../Model.js"
import { BadRequest, ConcurrencyError, Gone, NotFound } from "../../OsbError.js"
import type { BindingOperationState, InstanceOperationState } from "../../ServiceBroker.js"
import type { Env } from "./decision.js"
import { live } from "./decision.js"

/**
 * An operation's state as `last_operation` of an instance answers it: a failure names its operation, so
 * `instance_usable` and `update_repeatable` go only where §3 allows them.
 *
 * @internal
 */
export const instanceOperationState = (operation: OperationRecord): InstanceOperationState => {
  const description = operation.description === undefined ? {} : { description: operation.description }
  if (operation.state !== "failed") return { state: operation.state, ...description }
  switch (operation.kind) {
    case "update":
      return {
        state: "failed",
        operation: "update",
        ...description,
        ...(operation.instanceUsable === undefined ? {} : { instanceUsable: operation.instanceUsable }),
        ...(operation.updateRepeatable === undefined ? {} : { updateRepeatable: operation.updateRepeatable })
      }
    case "deprovision":
      return {
        state: "failed",
        operation: "deprovision",
        ...description,
        ...(operation.instanceUsable === undefined ? {} : { instanceUsable: operation.instanceUsable })
      }
    default:
      return { state: "failed", operation: "provision", ...description }
  }
}

const bindingOperationState = (operation: OperationRecord): BindingOperationState =>
  operation.description === undefined
    ? { state: operation.state }
    : { state: operation.state, description: operation.description }

/**
 * `last_operation` of an instance: the named operation (or the latest), 410 once the instance is deleted, 404 for
 * an id never seen.
 *
 * @internal
 */
export const pollInstance = (
  env: Env,
  snapshot: InstanceSnapshot,
  operationId: Option.Option<string>,
  now: number
): Either.Either<InstanceOperationState, NotFound | Gone | BadRequest> => {
  const record = Option.getOrUndefined(snapshot.instance)
  if (record === undefined || !env.serves(record.serviceId)) {
    if (record === undefined && live(env, Option.getOrUndefined(snapshot.tombstone), now)) {
      // DEP-4: the create that a synchronous delete stopped still answers for its own operation
      const asked = Option.flatMapNullable(operationId, (id) => snapshot.operations.get(id))
      if (Option.isSome(asked) && asked.value.bindingId === undefined && asked.value.kind !== "deprovision") {
        return Either.right(instanceOperationState(asked.value))
      }
      return Either.left(new Gone())
    }
    return Either.left(new NotFound({ description: `Instance ${snapshot.instanceId} does not exist.` }))
  }
  const operation = snapshot.operations.get(Option.getOrElse(operationId, () => record.operationId))
  if (operation === undefined || operation.bindingId !== undefined) {
    return Either.left(new BadRequest({ description: `Unknown operation for instance ${snapshot.instanceId}.` }))
  }
  return Either.right(instanceOperationState(operation))
}

/**
 * `last_operation` of a binding: the named operation (or the latest), 410 once the binding is deleted, 404 for an
 * id never seen.
 *
 * @internal
 */
export const pollBinding = (
  env: Env,
  snapshot: InstanceSnapshot,
  bindingId: string,
  operationId: Option.Option<string>,
  now: number
): Either.Either<BindingOperationState, NotFound | Gone | BadRequest> => {
  const binding = snapshot.bindings.get(bindingId)
  if (binding === undefined || !env.serves(binding.serviceId)) {
    if (binding === undefined && live(env, snapshot.bindingTombstones.get(bindingId), now)) {
      // UNB-3: the bind that a synchronous unbind stopped still answers for its own operation
      const asked = Option.flatMapNullable(operationId, (id) => snapshot.operations.get(id))
      if (
        Option.isSome(asked) && asked.value.bindingId === bindingId &&
        asked.value.kind === "bind" && asked.value.state !== "in progress"
      ) {
        return Either.right(bindingOperationState(asked.value))
      }
      return Either.left(new Gone())
    }
    return Either.left(new NotFound({ description: `Binding ${bindingId} does not exist.` }))
  }
  const operation = snapshot.operations.get(Option.getOrElse(operationId, () => binding.operationId))
  if (operation === undefined || operation.bindingId !== bindingId) {
    return Either.left(new BadRequest({ description: `Unknown operation for binding ${bindingId}.` }))
  }
  return Either.right(bindingOperationState(operation))
}

/**
 * Which instance record a fetch answers with: only a ready one (404 while provisioning or failed, 422 while
 * another operation changes it).
 *
 * @internal
 */
export const fetchableInstance = (
  env: Env,
  snapshot: InstanceSnapshot
): Either.Either<InstanceRecord, NotFound | ConcurrencyError> => {
  const record = Option.getOrUndefined(snapshot.instance)
  if (record !== undefined && env.serves(record.serviceId)) {
    switch (record.state) {
      case "ready":
        return Either.right(record)
      case "updating":
        return Either.left(new ConcurrencyError({ description: "The instance is being updated." }))
      case "deprovisioning":
        return Either.left(new ConcurrencyError({ description: "The instance is being deprovisioned." }))
      default:
        break
    }
  }
  return Either.left(new NotFound({ description: `Instance ${snapshot.instanceId} does not exist.` }))
}

/**
 * The fetch-instance answer when the offering does not shape it.
 *
 * @internal
 */
export const defaultFetchInstance = (record: InstanceRecord): FetchInstanceBody => ({
  service_id: record.serviceId,
  plan_id: record.planId,
  parameters: record.parameters,
  ...(record.dashboardUrl === undefined ? {} : { dashboard_url: record.dashboardUrl }),
  ...(record.maintenanceInfo === undefined ? {} : { maintenance_info: record.maintenanceInfo }),
  ...(record.metadata === undefined ? {} : { metadata: record.metadata })
})

/**
 * Which binding record a fetch answers with: one that completed and is not being created (GB-2).
 *
 * @internal
 */
export const fetchableBinding = (
  env: Env,
  snapshot: InstanceSnapshot,
  bindingId: string
): Either.Either<BindingRecord & { readonly response: NonNullable<BindingRecord["response"]> }, NotFound> => {
  const binding = snapshot.bindings.get(bindingId)
  if (
    binding === undefined || !env.serves(binding.serviceId) ||
    (binding.state !== "ready" && binding.state !== "unbinding") || binding.response === undefined
  ) {
    return Either.left(new NotFound({ description: `Binding ${bindingId} does not exist.` }))
  }
  return Either.right(binding as BindingRecord & { readonly response: NonNullable<BindingRecord["response"]> })
}
