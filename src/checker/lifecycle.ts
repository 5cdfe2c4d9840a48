/**
 * One plan's lifecycle, in order: provision (and fetch), updates (parameters, maintenance_info), bindings, plan
 * changes, deprovision; and the malformed bodies sent to the first instance created.
 *
 * @since 0.2.0
 */
import * as Effect from "effect/Effect"
import { bindings } from "./bind.js"
import type { Context } from "./context.js"
import { bindingPath, instancePath, newId, status } from "./context.js"
import { deprovision } from "./deprovision.js"
import { E } from "./model.js"
import type { PlanTarget } from "./plans.js"
import type { Provisioned } from "./provision.js"
import { provision } from "./provision.js"
import { maintenanceConflict, planChanges, update } from "./update.js"

/** Malformed JSON to update and bind an existing instance: 400. */
export const malformedBodies = (ctx: Context, target: PlanTarget, instance: Provisioned): Effect.Effect<void> =>
  Effect.gen(function*() {
    const rawBody = "{\"service_id\": "
    const patch = yield* ctx.send(E.update, "PATCH", instancePath(instance.instanceId), {
      rawBody,
      query: { accepts_incomplete: "true" }
    })
    yield* ctx.expectStatus("update.malformed-json", E.update, "malformed JSON to an update answers 400", patch, [
      status.badRequest
    ])
    if (!target.bindable) return
    const bindingId = newId()
    ctx.created.bindings.set(bindingId, {
      instanceId: instance.instanceId,
      serviceId: target.offering.id,
      planId: target.plan.id
    })
    const bind = yield* ctx.send(E.bind, "PUT", bindingPath(instance.instanceId, bindingId), {
      rawBody,
      query: { accepts_incomplete: "true" }
    })
    yield* ctx.expectStatus("bind.malformed-json", E.bind, "malformed JSON to a bind answers 400", bind, [
      status.badRequest
    ])
  })

/** Runs the plan's lifecycle (`first`: with the malformed bodies); whether it provisioned an instance. */
export const lifecycle = (ctx: Context, target: PlanTarget, first: boolean): Effect.Effect<boolean> =>
  Effect.gen(function*() {
    const instance = yield* provision(ctx, target)
    if (instance === undefined) return false
    if (first) yield* malformedBodies(ctx, target, instance)
    const after = yield* update(ctx, target, instance)
    if (after === "deleted") {
      yield* ctx.skip(
        "bind.created",
        E.bind,
        `${target.label}: bindings and deprovision`,
        "the broker accepted the DELETE sent during the update: the instance is gone"
      )
      return true
    }
    yield* maintenanceConflict(ctx, target, instance)
    yield* bindings(ctx, target, instance)
    const ids = yield* planChanges(ctx, target, instance)
    yield* deprovision(ctx, { ...target, ids }, instance.instanceId)
    return true
  })
