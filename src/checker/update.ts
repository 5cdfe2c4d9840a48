/**
 * Checks of a parameter-only update (E4) on every plan, and of what the broker answers while an asynchronous
 * update runs: a repeat (202, same operation), a fetch (200 or 422 ConcurrencyError), a delete (422
 * ConcurrencyError, or accepted); plan changes where the catalog allows them.
 *
 * @since 0.2.0
 */
import * as Effect from "effect/Effect"
import * as CatalogModule from "../Catalog.js"
import type { ServicePlan } from "../Model.js"
import type { RawResponse } from "../OsbClient.js"
import type { Context } from "./context.js"
import { field, instanceOperationPath, instancePath, sentOf, show, status } from "./context.js"
import { E } from "./model.js"
import type { PlanTarget } from "./plans.js"
import type { Provisioned } from "./provision.js"

/** What became of the instance: still there, or deleted by a DELETE the broker accepted during the update. */
export type AfterUpdate = "present" | "deleted"

/**
 * Sends a mutating request without accepts_incomplete, then (on 422) with it: learns whether the step is
 * asynchronous and checks the AsyncRequired code, which a 202 to the retry proves was required.
 */
export const withAsyncRequired = (
  ctx: Context,
  endpoint: typeof E.update | typeof E.deprovision | typeof E.bind | typeof E.unbind,
  label: string,
  what: string,
  request: (acceptsIncomplete: boolean) => Effect.Effect<RawResponse>,
  sentBody?: unknown
): Effect.Effect<{ readonly answer: RawResponse; readonly async: boolean }> =>
  Effect.gen(function*() {
    const first = yield* request(false)
    if (first.status === status.accepted) {
      yield* ctx.miss(
        "async.no-202-without-accepts-incomplete",
        endpoint,
        `${label}: no 202 without accepts_incomplete=true`,
        {
          sent: sentOf(first, sentBody),
          expected: `${endpoint === E.bind ? "201" : "200"} (or 422 AsyncRequired)`,
          got: show(first)
        }
      )
      return { answer: first, async: true }
    }
    if (first.status !== status.unprocessable) return { answer: first, async: false }
    const title =
      `${label}: ${what} without accepts_incomplete answers 422 AsyncRequired when it must run asynchronously`
    if (field(first, "error") === "AsyncRequired") {
      yield* ctx.pass("async.required-code", endpoint, title)
      return { answer: yield* request(true), async: true }
    }
    const retry = yield* request(true)
    if (retry.status === status.accepted) {
      yield* ctx.miss("async.required-code", endpoint, title, {
        sent: sentOf(first, sentBody),
        expected: "422 {\"error\":\"AsyncRequired\"} (the same request with accepts_incomplete=true answered 202)",
        got: show(first)
      })
    }
    return { answer: retry, async: true }
  })

/** A PATCH, first without accepts_incomplete and then (on 422) with it: see {@link withAsyncRequired}. */
const patch = (ctx: Context, label: string, what: string, path: string, body: unknown) =>
  withAsyncRequired(
    ctx,
    E.update,
    label,
    what,
    (acceptsIncomplete) =>
      ctx.send(E.update, "PATCH", path, {
        body,
        ...(acceptsIncomplete ? { query: { accepts_incomplete: "true" } } : {})
      }),
    body
  )

/** A parameter-only update of the instance, and what the broker answers while it runs asynchronously. */
export const update = (ctx: Context, target: PlanTarget, instance: Provisioned): Effect.Effect<AfterUpdate> =>
  Effect.gen(function*() {
    const { label } = target
    const path = instancePath(instance.instanceId)
    const body = { service_id: target.offering.id, parameters: {} }
    const { answer } = yield* patch(ctx, label, "an update", path, body)
    const title = `${label}: a parameter-only update answers 200 (or 202)`
    const concurrencyTitle = `${label}: an update during the provision is refused with 422 ConcurrencyError (or queued)`
    if (answer.status === status.badRequest || answer.status === status.unprocessable) {
      yield* ctx.skip("update.parameters", E.update, title, `the broker refused the update: ${show(answer)}`)
      if (instance.refusedUpdate !== undefined) {
        yield* ctx.skip(
          "concurrency.code",
          E.update,
          concurrencyTitle,
          `a 422 without an error code during the provision, and updates are refused anyway: ${
            show(instance.refusedUpdate)
          }`
        )
      }
      return "present"
    }
    if (instance.refusedUpdate !== undefined) {
      // updates work, so the 422 during the provision was a concurrency refusal: it needs its code
      yield* ctx.expectCode("concurrency.code", E.update, concurrencyTitle, instance.refusedUpdate, "ConcurrencyError")
    }
    if (!(yield* ctx.expectStatus("update.parameters", E.update, title, answer, [status.ok, status.accepted], body))) {
      return "present"
    }
    if (answer.status === status.ok) {
      yield* ctx.expectJsonObject(E.update, `${label}: the update answer is a JSON object`, answer)
      return "present"
    }
    return yield* whileUpdating(ctx, target, instance, body, answer)
  })

const whileUpdating = (
  ctx: Context,
  target: PlanTarget,
  instance: Provisioned,
  body: unknown,
  answer: RawResponse
): Effect.Effect<AfterUpdate> =>
  Effect.gen(function*() {
    const { ids, label } = target
    const path = instancePath(instance.instanceId)
    yield* ctx.checkOperation(E.update, answer, label)
    const operation = field(answer, "operation")
    const repeat = yield* ctx.send(E.update, "PATCH", path, { body, query: { accepts_incomplete: "true" } })
    yield* ctx.checkRepeatWhileRunning(E.update, `${label}: an update repeat`, repeat, {
      operation,
      poll: E.lastOperation,
      path: instanceOperationPath(instance.instanceId),
      ids
    }, body)
    if (target.offering.instances_retrievable === true) {
      const fetched = yield* ctx.send(E.getInstance, "GET", path, { query: ids })
      const title = `${label}: a fetch during the update answers 200 or 422 ConcurrencyError`
      if (fetched.status === status.unprocessable) {
        yield* ctx.expectCode("concurrency.code", E.getInstance, title, fetched, "ConcurrencyError")
      } else yield* ctx.expectStatus("instance.fetch", E.getInstance, title, fetched, [status.ok])
    }
    const deleting = yield* ctx.send(E.deprovision, "DELETE", path, { query: { ...ids, accepts_incomplete: "true" } })
    const title = `${label}: a deprovision during the update answers 422 ConcurrencyError (or is accepted)`
    if (deleting.status === status.unprocessable) {
      yield* ctx.expectCode("concurrency.code", E.deprovision, title, deleting, "ConcurrencyError")
    } else if (
      yield* ctx.expectStatus("deprovision.done", E.deprovision, title, deleting, [status.ok, status.accepted])
    ) {
      if (deleting.status === status.accepted) {
        yield* ctx.poll(E.lastOperation, instanceOperationPath(instance.instanceId), ids, true, label)
      }
      ctx.created.instances.delete(instance.instanceId)
      return "deleted"
    }
    yield* ctx.awaitOperation(
      E.lastOperation,
      instanceOperationPath(instance.instanceId),
      ids,
      operation,
      `${label}: the update`,
      label
    )
    return "present"
  })

/**
 * An update whose `maintenance_info.version` is not the plan's: 422 MaintenanceInfoConflict. Plans without
 * maintenance_info are left out ({@link maintenanceUndeclared}); a 202 (the version was ignored) is polled to its
 * end before the lifecycle goes on.
 */
export const maintenanceConflict = (ctx: Context, target: PlanTarget, instance: Provisioned): Effect.Effect<void> =>
  Effect.gen(function*() {
    const info = target.plan.maintenance_info
    if (info === undefined) return
    const { label } = target
    const body = { service_id: target.offering.id, maintenance_info: { version: `${info.version}-effect-osb-check` } }
    const answer = yield* ctx.send(E.update, "PATCH", instancePath(instance.instanceId), {
      body,
      query: { accepts_incomplete: "true" }
    })
    yield* ctx.expectCode(
      "update.maintenance-conflict",
      E.update,
      `${label}: an update with another maintenance_info.version answers 422 MaintenanceInfoConflict`,
      answer,
      "MaintenanceInfoConflict",
      body
    )
    if (answer.status !== status.accepted) return
    yield* ctx.awaitOperation(
      E.lastOperation,
      instanceOperationPath(instance.instanceId),
      target.ids,
      field(answer, "operation"),
      `${label}: the update with another maintenance_info.version`,
      label
    )
  })

/** When no plan exercised declares maintenance_info, the update's MaintenanceInfoConflict is one skip. */
export const maintenanceUndeclared = (ctx: Context, targets: ReadonlyArray<PlanTarget>): Effect.Effect<void> =>
  targets.some((t) => t.plan.maintenance_info !== undefined)
    ? Effect.void
    : ctx.skip(
      "update.maintenance-conflict",
      E.update,
      "an update with another maintenance_info.version answers 422 MaintenanceInfoConflict",
      "no plan has maintenance_info"
    )

/**
 * One plan change of the instance, from plan `from` to plan `to` (with `to`'s maintenance_info, UPD-2): 200, 202
 * (polled with the previous plan's ids, UPD-7) or 422 with a description. Whether the instance is now on `to`.
 */
const changePlan = (
  ctx: Context,
  target: PlanTarget,
  instance: Provisioned,
  from: ServicePlan,
  to: ServicePlan
): Effect.Effect<boolean> =>
  Effect.gen(function*() {
    const { label, offering } = target
    const path = instancePath(instance.instanceId)
    const body = {
      service_id: offering.id,
      plan_id: to.id,
      previous_values: { plan_id: from.id, service_id: offering.id },
      ...(to.maintenance_info === undefined ? {} : { maintenance_info: { version: to.maintenance_info.version } })
    }
    const { answer } = yield* patch(ctx, label, "a plan change", path, body)
    const title = `${label}: a change to plan ${to.name} answers 200, 202 or 422`
    const allowed = [status.ok, status.accepted, status.unprocessable]
    if (!(yield* ctx.expectStatus("update.plan-change", E.update, title, answer, allowed, body))) return false
    if (answer.status === status.unprocessable) {
      const description = field(answer, "description")
      yield* ctx.verdict(
        "update.plan-change-described",
        E.update,
        `${label}: a refused change to plan ${to.name} says why`,
        typeof description === "string" && description.length > 0,
        { sent: sentOf(answer, body), expected: "422 with a \"description\"", got: show(answer) }
      )
      return false
    }
    if (answer.status === status.ok) {
      yield* ctx.expectJsonObject(E.update, `${label}: the plan change answer is a JSON object`, answer)
    } else {
      yield* ctx.checkOperation(E.update, answer, label)
      const done = yield* ctx.awaitOperation(
        E.lastOperation,
        instanceOperationPath(instance.instanceId),
        { service_id: offering.id, plan_id: from.id },
        field(answer, "operation"),
        `${label}: the change to plan ${to.name}`,
        label
      )
      if (!done) return false
    }
    ctx.created.instances.set(instance.instanceId, { serviceId: offering.id, planId: to.id })
    return true
  })

/**
 * Plan changes where the catalog allows them (UPD-1): to another plan of the offering and, when that plan allows
 * it too, back. The ids of the plan the instance ends on, for its deprovision.
 */
export const planChanges = (
  ctx: Context,
  target: PlanTarget,
  instance: Provisioned
): Effect.Effect<PlanTarget["ids"]> =>
  Effect.gen(function*() {
    const { label, offering, plan } = target
    const title = `${label}: a change to another plan of the offering answers 200, 202 or 422`
    if (!target.updateable) {
      yield* ctx.skip(
        "update.plan-change",
        E.update,
        title,
        "the plan is not plan_updateable: Platforms MUST NOT request a plan change, so the broker's answer is undefined"
      )
      return target.ids
    }
    const other = offering.plans.find((p) => p.id !== plan.id)
    if (other === undefined) {
      yield* ctx.skip("update.plan-change", E.update, title, "the offering has no other plan")
      return target.ids
    }
    if (!(yield* changePlan(ctx, target, instance, plan, other))) return target.ids
    const otherIds = { service_id: offering.id, plan_id: other.id }
    if (!CatalogModule.effectivePlan(offering, other).planUpdateable) return otherIds
    return (yield* changePlan(ctx, target, instance, other, plan)) ? target.ids : otherIds
  })
