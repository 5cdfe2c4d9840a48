/**
 * The provision decision (PUT of an instance) and what a finished provision writes.
 *
 * @internal
 */
import * as Either from "effect/Either"
import * as Option from "effect/Option"
import type { Change as StoreChange, InstanceRecord, InstanceSnapshot, OperationRecord } from "../../BrokerStore.js"
import { Change } from "../../BrokerStore.js"
import type { ResolvedPlan } from "../../Catalog.js"
import type { InstanceOutput, ProvisionContext } from "../../ManagedBroker.js"
import type { JsonObject, MaintenanceInfo, OriginatingIdentity, RequestContext } from "../../Model.js"
import { AsyncRequired, ConcurrencyError, Conflict } from "../../OsbError.js"
import type { Decision, Env, Mode, Outcome, Work } from "./decision.js"
import { done, extend, finishOperation, isAsync, newOperation, running, start, superseded } from "./decision.js"
import type { ProvisionAttributes } from "./identity.js"

/**
 * A provision request, as the engine sees it.
 *
 * @internal
 */
export interface ProvisionInput {
  readonly instanceId: string
  readonly target: ResolvedPlan
  /** The parameters (absent = `{}`). */
  readonly parameters: JsonObject
  readonly organizationGuid: string | undefined
  readonly spaceGuid: string | undefined
  readonly context: RequestContext | undefined
  readonly maintenanceInfo: MaintenanceInfo | undefined
  readonly originatingIdentity: OriginatingIdentity | undefined
  readonly acceptsIncomplete: boolean
  readonly mode: Mode
  readonly dashboardUrl: string | undefined
  /** The work's context (built once by the caller: the dashboard URL and the validation need it first). */
  readonly ctx: ProvisionContext
}

/** @internal */
export type ProvisionRefusal = ConcurrencyError | Conflict | AsyncRequired

/** @internal */
export type ProvisionDecision = Decision<InstanceRecord, Extract<Work, { readonly kind: "provision" }>>

/**
 * The identity attributes of a provision request.
 *
 * @internal
 */
export const provisionAttributes = (input: ProvisionInput): ProvisionAttributes => ({
  serviceId: input.target.offering.id,
  planId: input.target.plan.id,
  parameters: input.parameters,
  organizationGuid: input.organizationGuid,
  spaceGuid: input.spaceGuid,
  context: input.context,
  maintenanceInfo: input.maintenanceInfo
})

/**
 * The identity attributes of an instance as it is now.
 *
 * @internal
 */
export const instanceAttributes = (record: InstanceRecord): ProvisionAttributes => ({
  serviceId: record.serviceId,
  planId: record.planId,
  parameters: record.parameters,
  organizationGuid: record.organizationGuid,
  spaceGuid: record.spaceGuid,
  context: record.context,
  maintenanceInfo: record.maintenanceInfo
})

/**
 * The work context of a provision taken over from its records.
 *
 * @internal
 */
export const resumedProvisionContext = (
  env: Env,
  record: InstanceRecord,
  operation: OperationRecord
): ProvisionContext => {
  const target = env.plan(record.planId)
  return {
    instanceId: record.instanceId,
    offering: target.offering,
    target,
    parameters: record.parameters,
    context: Option.fromNullable(record.context),
    organizationGuid: Option.fromNullable(record.organizationGuid),
    spaceGuid: Option.fromNullable(record.spaceGuid),
    originatingIdentity: Option.fromNullable(operation.originatingIdentity)
  }
}

/**
 * Decides a provision on the instance's snapshot: an identical instance is answered as it is (200, or 202 with its
 * running operation), a different one refused (409), a free id gets a new instance and operation.
 *
 * @internal
 */
export const decideProvision = (
  env: Env,
  snapshot: InstanceSnapshot,
  input: ProvisionInput,
  now: number,
  operationId: string
): Either.Either<ProvisionDecision, ProvisionRefusal> => {
  const fingerprint = env.fingerprints(input.target.offering.id).provision(provisionAttributes(input))
  if (Option.isSome(snapshot.instance)) {
    const existing = snapshot.instance.value
    if (existing.state === "deprovisioning") {
      // decision 27: whatever the attributes
      return Either.left(new ConcurrencyError({ description: "The instance is being deprovisioned." }))
    }
    if (existing.fingerprint !== fingerprint) {
      return Either.left(
        new Conflict({ description: `Instance ${input.instanceId} exists with different attributes.` })
      )
    }
    switch (existing.state) {
      case "ready":
        return Either.right(done(existing))
      case "provisioning":
        if (input.mode === "async" && !input.acceptsIncomplete) return Either.left(new AsyncRequired({}))
        return input.acceptsIncomplete
          ? Either.right(running(existing.operationId))
          : Either.left(new ConcurrencyError({ description: "The instance is being provisioned." }))
      case "failed":
        return Either.left(
          new Conflict({
            description: `Provisioning instance ${input.instanceId} failed; deprovision it before trying again.`
          })
        )
      default:
        return Either.left(new ConcurrencyError({}))
    }
  }
  if (input.mode === "async" && !input.acceptsIncomplete) return Either.left(new AsyncRequired({}))
  const operation = newOperation(env, now, {
    id: operationId,
    instanceId: input.instanceId,
    kind: "provision",
    async: isAsync(input.mode, input.acceptsIncomplete),
    originatingIdentity: input.originatingIdentity
  })
  const record: { -readonly [K in keyof InstanceRecord]: InstanceRecord[K] } = {
    instanceId: input.instanceId,
    serviceId: input.target.offering.id,
    planId: input.target.plan.id,
    state: "provisioning",
    fingerprint,
    parameters: input.parameters,
    operationId: operation.id,
    createdAt: now,
    updatedAt: now
  }
  if (input.context !== undefined) record.context = input.context
  if (input.organizationGuid !== undefined) record.organizationGuid = input.organizationGuid
  if (input.spaceGuid !== undefined) record.spaceGuid = input.spaceGuid
  if (input.target.plan.maintenance_info !== undefined) record.maintenanceInfo = input.target.plan.maintenance_info
  if (input.dashboardUrl !== undefined) record.dashboardUrl = input.dashboardUrl
  const changes: Array<StoreChange> = []
  // a new instance on a reused id (IDS-1, decision 34) knows nothing of the bindings the old one had
  for (const bindingId of snapshot.bindingTombstones.keys()) {
    changes.push(Change.deleteBinding(bindingId, Option.none()))
  }
  changes.push(Change.putInstance(record), Change.putOperation(operation))
  return Either.right(start(operation, changes, { kind: "provision", ctx: input.ctx }))
}

/**
 * What a provision that succeeded writes: the instance ready with the work's output, its operation finished.
 *
 * @internal
 */
export const provisionSucceeded = (
  record: InstanceRecord,
  finished: OperationRecord,
  now: number,
  out: InstanceOutput
): ReadonlyArray<StoreChange> => [
  Change.putInstance(extend(
    record,
    { state: "ready", updatedAt: now },
    out.dashboardUrl === undefined ? undefined : { dashboardUrl: out.dashboardUrl },
    out.metadata === undefined ? undefined : { metadata: out.metadata },
    out.data === undefined ? undefined : { data: out.data }
  )),
  Change.putOperation(finished)
]

/**
 * What a finished provision writes (nothing when it was superseded). A failed synchronous provision leaves
 * nothing behind; a failed asynchronous one leaves a failed instance.
 *
 * @internal
 */
export const finishProvision = (
  snapshot: InstanceSnapshot,
  operation: OperationRecord,
  outcome: Outcome<InstanceOutput>,
  now: number
): ReadonlyArray<StoreChange> => {
  const record = Option.getOrUndefined(snapshot.instance)
  if (record === undefined || record.operationId !== operation.id || superseded(snapshot, operation)) return []
  if (outcome._tag === "Succeeded") {
    return provisionSucceeded(record, finishOperation(operation, now, undefined), now, outcome.value)
  }
  if (!operation.async) return [Change.forgetInstance]
  return [
    Change.putInstance({ ...record, state: "failed", updatedAt: now }),
    Change.putOperation(finishOperation(operation, now, { description: outcome.failure.description }))
  ]
}
