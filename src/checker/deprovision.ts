/**
 * Checks of deprovision (E5): without ids (400), for real (200 or 202 polled until gone), again (410).
 *
 * @since 0.2.0
 */
import * as Effect from "effect/Effect"
import type { Context } from "./context.js"
import { field, instanceOperationPath, instancePath, status, withOperation } from "./context.js"
import { E } from "./model.js"
import type { PlanTarget } from "./plans.js"
import { withAsyncRequired } from "./update.js"

/** Deletes the instance the plan's lifecycle created. */
export const deprovision = (ctx: Context, target: PlanTarget, instanceId: string): Effect.Effect<void> =>
  Effect.gen(function*() {
    const { ids, label } = target
    const path = instancePath(instanceId)
    const noIds = yield* ctx.send(E.deprovision, "DELETE", path)
    yield* ctx.expectStatus(
      "deprovision.missing-ids",
      E.deprovision,
      `${label}: deprovision without service_id/plan_id answers 400`,
      noIds,
      [status.badRequest]
    )
    if (noIds.status >= 200 && noIds.status < 300) {
      ctx.created.instances.delete(instanceId)
      return
    }
    const { answer } = yield* withAsyncRequired(
      ctx,
      E.deprovision,
      label,
      "a deprovision",
      (acceptsIncomplete) =>
        ctx.send(E.deprovision, "DELETE", path, {
          query: { ...ids, ...(acceptsIncomplete ? { accepts_incomplete: "true" } : {}) }
        })
    )
    const title = `${label}: deprovision answers 200 (or 202)`
    if (!(yield* ctx.expectStatus("deprovision.done", E.deprovision, title, answer, [status.ok, status.accepted]))) {
      return
    }
    if (answer.status === status.ok) {
      yield* ctx.expectJsonObject(E.deprovision, `${label}: the deprovision answer is a JSON object`, answer)
    } else {
      yield* ctx.checkOperation(E.deprovision, answer, label)
      const operation = field(answer, "operation")
      yield* ctx.poll(E.lastOperation, instanceOperationPath(instanceId), withOperation(ids, operation), true, label)
    }
    ctx.created.instances.delete(instanceId)
    const again = yield* ctx.send(E.deprovision, "DELETE", path, { query: { ...ids, accepts_incomplete: "true" } })
    yield* ctx.expectStatus(
      "deprovision.gone",
      E.deprovision,
      `${label}: deprovision of a deleted instance answers 410`,
      again,
      [status.gone]
    )
  })
