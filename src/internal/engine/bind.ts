/**
 * The bind decision (PUT of a binding), the checks of a bind work's output, and what a finished bind writes.
 *
 * @internal
 */
import * as Either from "effect/Either"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import type { BindingRecord, Change as StoreChange, InstanceSnapshot, OperationRecord } from "../../BrokerStore.js"
import { Change } from "../../BrokerStore.js"
import type { ResolvedPlan } from "../../Catalog.js"
import { undeclaredRequirement } from "../../Catalog.js"
import type { BindContext, BindingOutput } from "../../ManagedBroker.js"
import type {
  BindingResponseBody,
  BindResource,
  JsonObject,
  OriginatingIdentity,
  RequestContext,
  ServiceOffering
} from "../../Model.js"
import { BindingResponseBody as BindingResponseBodySchema } from "../../Model.js"
import { AsyncRequired, BadRequest, ConcurrencyError, Conflict, NotFound } from "../../OsbError.js"
import type { Decision, Env, Mode, Outcome, Work } from "./decision.js"
import { done, extend, finishOperation, isAsync, newOperation, running, start, superseded } from "./decision.js"

/**
 * A bind request, as the engine sees it.
 *
 * @internal
 */
export interface BindInput {
  readonly instanceId: string
  readonly bindingId: string
  readonly target: ResolvedPlan
  readonly serviceId: string
  readonly planId: string
  readonly parameters: JsonObject | undefined
  readonly appGuid: string | undefined
  readonly route: string | undefined
  readonly bindResource: typeof BindResource.Type | undefined
  readonly context: RequestContext | undefined
  readonly predecessorBindingId: string | undefined
  readonly originatingIdentity: OriginatingIdentity | undefined
  readonly acceptsIncomplete: boolean
  readonly mode: Mode
}

/** @internal */
export type BindRefusal = NotFound | BadRequest | Conflict | AsyncRequired | ConcurrencyError

/** @internal */
export type BindDecision = Decision<BindingRecord, Extract<Work, { readonly kind: "bind" }>>

/**
 * Decides a bind on the instance's snapshot: an identical binding is answered as it is (200, or 202 with its
 * running operation), a different one refused (409), a new one gets a record and an operation.
 *
 * @internal
 */
export const decideBind = (
  env: Env,
  snapshot: InstanceSnapshot,
  input: BindInput,
  now: number,
  operationId: string
): Either.Either<BindDecision, BindRefusal> => {
  const instance = Option.getOrUndefined(snapshot.instance)
  if (instance === undefined || !env.serves(instance.serviceId)) {
    return Either.left(new NotFound({ description: `Instance ${input.instanceId} does not exist.` }))
  }
  if (instance.serviceId !== input.target.offering.id) {
    return Either.left(new BadRequest({ description: "service_id does not match the instance's offering." }))
  }
  switch (instance.state) {
    case "provisioning":
      return Either.left(new ConcurrencyError({ description: "The instance is being provisioned." }))
    case "deprovisioning":
      return Either.left(new ConcurrencyError({ description: "The instance is being deprovisioned." }))
    case "failed":
      return Either.left(new NotFound({ description: `Instance ${input.instanceId} failed to provision.` }))
    default:
      break
  }
  const fingerprint = env.fingerprints(instance.serviceId).bind({
    serviceId: input.serviceId,
    planId: input.planId,
    parameters: input.parameters ?? {},
    appGuid: input.appGuid,
    route: input.route,
    predecessorBindingId: input.predecessorBindingId,
    bindResource: input.bindResource,
    context: input.context
  })
  const existing = snapshot.bindings.get(input.bindingId)
  if (existing !== undefined) {
    if (existing.fingerprint !== fingerprint) {
      return Either.left(new Conflict({ description: `Binding ${input.bindingId} exists with different attributes.` }))
    }
    switch (existing.state) {
      case "ready":
        return Either.right(done(existing))
      case "binding":
        if (input.mode === "async" && !input.acceptsIncomplete) return Either.left(new AsyncRequired({}))
        if (input.acceptsIncomplete) return Either.right(running(existing.operationId))
        return Either.left(new ConcurrencyError({ description: "The binding is being created." }))
      case "failed":
        return Either.left(
          new Conflict({ description: `Creating binding ${input.bindingId} failed; unbind it before trying again.` })
        )
      case "unbinding":
        return Either.left(new ConcurrencyError({ description: "The binding is being deleted." }))
    }
  }
  if (instance.planId !== input.target.plan.id) {
    return Either.left(new BadRequest({ description: "plan_id does not match the instance's plan." }))
  }
  let predecessor = Option.none<BindingRecord>()
  const predecessorId = input.predecessorBindingId
  if (predecessorId !== undefined) {
    const found = snapshot.bindings.get(predecessorId)
    const expiresAt = found?.response?.metadata?.expires_at
    if (found === undefined || found.state !== "ready") {
      return Either.left(
        new BadRequest({ description: `predecessor_binding_id "${predecessorId}" is not a binding of this instance.` })
      )
    }
    if (expiresAt !== undefined && Date.parse(expiresAt) <= now) {
      return Either.left(new BadRequest({ description: `The predecessor binding ${predecessorId} has expired.` }))
    }
    predecessor = Option.some(found)
  }
  if (input.mode === "async" && !input.acceptsIncomplete) return Either.left(new AsyncRequired({}))
  const parameters = input.parameters ??
    Option.match(predecessor, { onNone: () => ({}), onSome: (p) => p.parameters })
  const operation = newOperation(env, now, {
    id: operationId,
    instanceId: input.instanceId,
    bindingId: input.bindingId,
    kind: "bind",
    async: isAsync(input.mode, input.acceptsIncomplete),
    fingerprint,
    originatingIdentity: input.originatingIdentity
  })
  const record: { -readonly [K in keyof BindingRecord]: BindingRecord[K] } = {
    instanceId: input.instanceId,
    bindingId: input.bindingId,
    serviceId: input.target.offering.id,
    planId: input.target.plan.id,
    state: "binding",
    fingerprint,
    parameters,
    operationId: operation.id,
    createdAt: now,
    updatedAt: now
  }
  if (input.appGuid !== undefined) record.appGuid = input.appGuid
  if (input.route !== undefined) record.route = input.route
  if (input.bindResource !== undefined) record.bindResource = input.bindResource
  if (input.context !== undefined) record.context = input.context
  if (predecessorId !== undefined) record.predecessorBindingId = predecessorId
  const ctx: BindContext = {
    instanceId: input.instanceId,
    bindingId: input.bindingId,
    instance,
    target: input.target,
    parameters,
    appGuid: Option.fromNullable(input.appGuid),
    predecessor,
    bindResource: Option.fromNullable(input.bindResource),
    context: Option.fromNullable(input.context),
    originatingIdentity: Option.fromNullable(input.originatingIdentity)
  }
  return Either.right(
    start(operation, [Change.putBinding(record), Change.putOperation(operation)], { kind: "bind", ctx })
  )
}

/**
 * The work context of a bind taken over from its records.
 *
 * @internal
 */
export const resumedBindContext = (
  env: Env,
  snapshot: InstanceSnapshot,
  binding: BindingRecord,
  operation: OperationRecord
): BindContext | undefined =>
  Option.match(snapshot.instance, {
    onNone: () => undefined,
    onSome: (instance) => ({
      instanceId: binding.instanceId,
      bindingId: binding.bindingId,
      instance,
      target: env.plan(binding.planId),
      parameters: binding.parameters,
      appGuid: Option.fromNullable(binding.appGuid),
      predecessor: Option.fromNullable(
        binding.predecessorBindingId === undefined ? undefined : snapshot.bindings.get(binding.predecessorBindingId)
      ),
      bindResource: Option.fromNullable(binding.bindResource),
      context: Option.fromNullable(binding.context),
      originatingIdentity: Option.fromNullable(operation.originatingIdentity)
    })
  })

const validateBindingOutput = Schema.validateEither(BindingResponseBodySchema)

/** The binding field the offering does not declare in `requires` (VAL-5, checked by the catalog), if any. */
const requiresProblem = (offering: ServiceOffering, binding: BindingResponseBody): string | undefined =>
  undeclaredRequirement(offering, binding)?.field

/**
 * What is wrong with a bind work's output, if anything (a defect of the work).
 *
 * @internal
 */
export const bindingOutputProblem = (ctx: BindContext, out: BindingOutput): string | undefined => {
  const { data: _data, ...binding } = out
  if (Either.isLeft(validateBindingOutput(binding))) {
    return "bind work returned a binding that does not match the OSB binding schema"
  }
  const problem = requiresProblem(ctx.target.offering, binding)
  return problem === undefined
    ? undefined
    : `bind work returned ${problem} but the offering does not require it (VAL-5)`
}

/**
 * What a bind that succeeded writes: the binding ready with its response, its operation finished.
 *
 * @internal
 */
export const bindSucceeded = (
  record: BindingRecord,
  finished: OperationRecord,
  now: number,
  out: BindingOutput
): ReadonlyArray<StoreChange> => {
  const { data, ...response } = out
  return [
    Change.putBinding(
      extend(record, { state: "ready", response, updatedAt: now }, data === undefined ? undefined : { data })
    ),
    Change.putOperation(finished)
  ]
}

/**
 * What a finished bind writes (nothing when it was superseded). A failed synchronous bind leaves nothing behind;
 * a failed asynchronous one leaves a failed binding.
 *
 * @internal
 */
export const finishBind = (
  snapshot: InstanceSnapshot,
  bindingId: string,
  operation: OperationRecord,
  outcome: Outcome<BindingOutput>,
  now: number
): ReadonlyArray<StoreChange> => {
  const record = snapshot.bindings.get(bindingId)
  if (record === undefined || record.operationId !== operation.id || superseded(snapshot, operation)) return []
  if (outcome._tag === "Succeeded") {
    return bindSucceeded(record, finishOperation(operation, now, undefined), now, outcome.value)
  }
  if (!operation.async) return [Change.deleteBinding(bindingId, Option.none())]
  return [
    Change.putBinding({ ...record, state: "failed", updatedAt: now }),
    Change.putOperation(finishOperation(operation, now, { description: outcome.failure.description }))
  ]
}
