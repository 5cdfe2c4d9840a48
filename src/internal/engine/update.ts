/**
 * The update decision (PATCH of an instance) and what a finished update writes.
 *
 * @internal
 */
import * as Either from "effect/Either"
import * as Option from "effect/Option"
import type { Change as StoreChange, InstanceRecord, InstanceSnapshot, OperationRecord } from "../../BrokerStore.js"
import { Change } from "../../BrokerStore.js"
import type { InstanceOutput, UpdateContext } from "../../ManagedBroker.js"
import type { JsonObject, MaintenanceInfo, OriginatingIdentity, RequestContext } from "../../Model.js"
import {
  AsyncRequired,
  BadRequest,
  ConcurrencyError,
  MaintenanceInfoConflict,
  NotFound,
  UpdateNotSupported
} from "../../OsbError.js"
import type { Decision, Env, Outcome, Work } from "./decision.js"
import { extend, finishOperation, isAsync, newOperation, running, start, superseded } from "./decision.js"
import { instanceAttributes } from "./provision.js"

/**
 * An update request, as the engine sees it.
 *
 * @internal
 */
export interface UpdateInput {
  readonly instanceId: string
  readonly serviceId: string
  readonly planId: string | undefined
  readonly parameters: JsonObject | undefined
  readonly maintenanceInfo: MaintenanceInfo | undefined
  readonly context: RequestContext | undefined
  readonly originatingIdentity: OriginatingIdentity | undefined
  readonly acceptsIncomplete: boolean
}

/** @internal */
export type UpdateRefusal =
  | NotFound
  | BadRequest
  | UpdateNotSupported
  | AsyncRequired
  | ConcurrencyError
  | MaintenanceInfoConflict

/** @internal */
export type UpdateDecision = Decision<never, Extract<Work, { readonly kind: "update" }>>

/**
 * Decides an update on the instance's snapshot: refused while anything else runs on the instance (or the same
 * update, repeated, answered with its running operation), else an operation that keeps the update pending until
 * it succeeds.
 *
 * @internal
 */
export const decideUpdate = (
  env: Env,
  snapshot: InstanceSnapshot,
  input: UpdateInput,
  now: number,
  operationId: string
): Either.Either<UpdateDecision, UpdateRefusal> => {
  const record = Option.getOrUndefined(snapshot.instance)
  if (record === undefined || !env.serves(record.serviceId)) {
    return Either.left(new NotFound({ description: `Instance ${input.instanceId} does not exist.` }))
  }
  if (record.serviceId !== input.serviceId) {
    return Either.left(new BadRequest({ description: "service_id does not match the instance's offering." }))
  }
  const targetPlanId = input.planId ?? record.planId
  const step = env.step(record.serviceId, targetPlanId, "update")
  if (step === undefined) {
    return Either.left(new UpdateNotSupported({ description: "This service does not support updates." }))
  }
  if (step.mode === "async" && !input.acceptsIncomplete) return Either.left(new AsyncRequired({}))
  const fingerprint = env.fingerprints(record.serviceId).update({
    serviceId: input.serviceId,
    planId: input.planId,
    parameters: input.parameters,
    maintenanceInfo: input.maintenanceInfo,
    context: input.context
  })
  switch (record.state) {
    case "provisioning":
    case "deprovisioning":
      return Either.left(new ConcurrencyError({}))
    case "failed":
      return Either.left(
        new UpdateNotSupported({
          description: "The instance failed to provision; deprovision it.",
          instanceUsable: false,
          updateRepeatable: false
        })
      )
    case "updating": {
      const current = snapshot.operations.get(record.operationId)
      if (input.acceptsIncomplete && current?.fingerprint === fingerprint) {
        return Either.right(running(record.operationId))
      }
      return Either.left(new ConcurrencyError({ description: "Another update of this instance is in progress." }))
    }
    case "ready":
      break
  }
  const previous = env.plan(record.planId)
  const target = env.plan(targetPlanId)
  if (target.plan.id !== previous.plan.id && !(previous.effective.planUpdateable && target.effective.planUpdateable)) {
    return Either.left(
      new UpdateNotSupported({
        description: `Changing the plan from ${previous.plan.name} to ${target.plan.name} is not supported.`,
        updateRepeatable: false
      })
    )
  }
  const requestedMi = input.maintenanceInfo
  if (requestedMi !== undefined && requestedMi.version !== target.plan.maintenance_info?.version) {
    return Either.left(new MaintenanceInfoConflict({}))
  }
  const parameters = { ...record.parameters, ...input.parameters }
  const maintenanceInfo = requestedMi ??
    (target.plan.id !== previous.plan.id ? target.plan.maintenance_info : record.maintenanceInfo)
  const context = input.context ?? record.context
  const operation = newOperation(env, now, {
    id: operationId,
    instanceId: input.instanceId,
    kind: "update",
    async: isAsync(step.mode, input.acceptsIncomplete),
    fingerprint,
    originatingIdentity: input.originatingIdentity
  })
  const ctx: UpdateContext = {
    instanceId: input.instanceId,
    instance: record,
    target,
    previous,
    requestedParameters: Option.fromNullable(input.parameters),
    parameters,
    context: Option.fromNullable(context),
    maintenanceInfo: Option.fromNullable(maintenanceInfo),
    originatingIdentity: Option.fromNullable(input.originatingIdentity)
  }
  return Either.right(start(operation, [
    Change.putInstance({
      ...record,
      state: "updating",
      operationId: operation.id,
      updatedAt: now,
      pendingUpdate: {
        planId: target.plan.id,
        parameters,
        fingerprint,
        ...(context === undefined ? {} : { context }),
        ...(maintenanceInfo === undefined ? {} : { maintenanceInfo }),
        ...(input.parameters === undefined ? {} : { requestedParameters: input.parameters })
      }
    }),
    Change.putOperation(operation)
  ], { kind: "update", ctx }))
}

/**
 * What a finished update writes (nothing when it was superseded): the pending update applied on success, the
 * instance as it was on failure.
 *
 * @internal
 */
export const finishUpdate = (
  env: Env,
  snapshot: InstanceSnapshot,
  operation: OperationRecord,
  outcome: Outcome<InstanceOutput>,
  now: number
): ReadonlyArray<StoreChange> => {
  const record = Option.getOrUndefined(snapshot.instance)
  if (record === undefined || record.operationId !== operation.id || superseded(snapshot, operation)) return []
  const { pendingUpdate: pending, ...base } = record
  if (outcome._tag === "Failed" || pending === undefined) {
    return [
      Change.putInstance({ ...base, state: "ready", updatedAt: now }),
      Change.putOperation(
        finishOperation(operation, now, outcome._tag === "Failed" ? outcome.failure : { description: undefined })
      )
    ]
  }
  const out = outcome.value
  const applied: InstanceRecord = extend(
    base,
    { state: "ready", planId: pending.planId, parameters: pending.parameters, updatedAt: now },
    pending.context === undefined ? undefined : { context: pending.context },
    pending.maintenanceInfo === undefined ? undefined : { maintenanceInfo: pending.maintenanceInfo },
    out.dashboardUrl === undefined ? undefined : { dashboardUrl: out.dashboardUrl },
    out.metadata === undefined ? undefined : { metadata: out.metadata },
    out.data === undefined ? undefined : { data: out.data }
  )
  const updated = { ...applied, fingerprint: env.fingerprints(record.serviceId).provision(instanceAttributes(applied)) }
  return [
    Change.putInstance(updated),
    Change.putOperation(finishOperation(operation, now, undefined))
  ]
}

/**
 * The work context of an update taken over from the record (the pending update and the operation).
 *
 * @internal
 */
export const resumedUpdateContext = (
  env: Env,
  record: InstanceRecord,
  operation: OperationRecord
): UpdateContext | undefined => {
  const pending = record.pendingUpdate
  if (pending === undefined) return undefined
  return {
    instanceId: record.instanceId,
    instance: record,
    target: env.plan(pending.planId),
    previous: env.plan(record.planId),
    requestedParameters: Option.fromNullable(pending.requestedParameters),
    parameters: pending.parameters,
    context: Option.fromNullable(pending.context),
    maintenanceInfo: Option.fromNullable(pending.maintenanceInfo),
    originatingIdentity: Option.fromNullable(operation.originatingIdentity)
  }
}
