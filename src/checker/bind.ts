/**
 * Checks of bindings: bind (E7) with its repeats and asynchronous lifecycle (E10), fetch (E8), unbind (E9).
 *
 * @since 0.2.0
 */
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import { BindingResponseBody, FetchBindingBody } from "../Model.js"
import type { RawResponse } from "../OsbClient.js"
import type { Context } from "./context.js"
import { bindingOperationPath, bindingPath, field, isObject, newId, show, status } from "./context.js"
import { E } from "./model.js"
import type { PlanTarget } from "./plans.js"
import type { Provisioned } from "./provision.js"
import { withAsyncRequired } from "./update.js"

/** The bind body the checker sends (an app binding in the instance's organization and space). */
const bindBody = (target: PlanTarget, instance: Provisioned) => {
  const appGuid = newId()
  return {
    ...target.ids,
    app_guid: appGuid,
    bind_resource: { app_guid: appGuid },
    context: { platform: "cloudfoundry", organization_guid: instance.org, space_guid: instance.space }
  }
}

/**
 * A plan declared to require an app: a bind without `app_guid` (a service key's bind, same context) answers 422
 * RequiresApp. Sent with accepts_incomplete=true, so that an asynchronous-only plan has no other reason to refuse it.
 */
const requiresApp = (ctx: Context, target: PlanTarget, instance: Provisioned): Effect.Effect<void> =>
  Effect.gen(function*() {
    const { label, offering, plan } = target
    const { instanceId } = instance
    const bindingId = newId()
    const { app_guid: _, bind_resource: __, ...body } = bindBody(target, instance)
    ctx.created.bindings.set(bindingId, { instanceId, serviceId: offering.id, planId: plan.id })
    const answer = yield* ctx.send(E.bind, "PUT", bindingPath(instanceId, bindingId), {
      body,
      query: { accepts_incomplete: "true" }
    })
    yield* ctx.expectCode(
      "bind.requires-app",
      E.bind,
      `${label}: a bind without app_guid answers 422 RequiresApp`,
      answer,
      "RequiresApp",
      body
    )
    // refused: nothing to delete (a created binding stays listed for the clean-up)
    if (answer.status >= 400) ctx.created.bindings.delete(bindingId)
  })

/**
 * When no bindable plan exercised is declared to require an app, RequiresApp cannot be provoked: one skip, with the
 * reason.
 */
export const requiresAppUndeclared = (ctx: Context, targets: ReadonlyArray<PlanTarget>): Effect.Effect<void> =>
  targets.some((t) => t.requiresApp) || !targets.some((t) => t.bindable)
    ? Effect.void
    : ctx.skip(
      "bind.requires-app",
      E.bind,
      "a bind without app_guid answers 422 RequiresApp where the plan requires an app",
      "no plan declared with --requires-app: the catalog cannot say which plans require an app"
    )

/** Binds, fetches and unbinds on the instance; whether something was bound. */
export const bindings = (ctx: Context, target: PlanTarget, instance: Provisioned): Effect.Effect<boolean> =>
  Effect.gen(function*() {
    const { label, offering, plan } = target
    if (!target.bindable) {
      yield* ctx.skip("bind.created", E.bind, `${label}: bind`, "the plan is not bindable")
      return false
    }
    if (target.requiresApp) yield* requiresApp(ctx, target, instance)
    const { instanceId } = instance
    const bindingId = newId()
    const path = bindingPath(instanceId, bindingId)
    const body = bindBody(target, instance)
    ctx.created.bindings.set(bindingId, { instanceId, serviceId: offering.id, planId: plan.id })
    const { answer, async } = yield* withAsyncRequired(
      ctx,
      E.bind,
      label,
      "a bind",
      (acceptsIncomplete) =>
        ctx.send(E.bind, "PUT", path, {
          body,
          ...(acceptsIncomplete ? { query: { accepts_incomplete: "true" } } : {})
        }),
      body
    )
    const bound = yield* ctx.expectStatus(
      "bind.created",
      E.bind,
      `${label}: bind answers ${async ? "202" : "201"}`,
      answer,
      async ? [status.created, status.accepted] : [status.created],
      body
    )
    if (!bound) return false
    const ready = answer.status === status.accepted
      ? yield* whileBinding(ctx, target, path, bindingOperationPath(instanceId, bindingId), body, answer)
      : yield* repeat(ctx, target, path, body, answer)
    if (ready) yield* fetch(ctx, target, instanceId, bindingId)
    yield* unbind(ctx, target, instanceId, bindingId)
    return true
  })

/** A 202 bind: its operation, no binding data, a repeat, then polls it to the end. */
const whileBinding = (
  ctx: Context,
  target: PlanTarget,
  path: string,
  operationPath: string,
  body: unknown,
  answer: RawResponse
) =>
  Effect.gen(function*() {
    const { ids, label } = target
    yield* ctx.checkOperation(E.bind, answer, label)
    if (field(answer, "credentials") !== undefined) {
      yield* ctx.miss("bind.async-no-data", E.bind, `${label}: a 202 bind carries no binding data`, {
        got: show(answer)
      })
    }
    const operation = field(answer, "operation")
    const again = yield* ctx.send(E.bind, "PUT", path, { body, query: { accepts_incomplete: "true" } })
    yield* ctx.checkRepeatWhileRunning(E.bind, `${label}: a bind repeat`, again, {
      operation,
      poll: E.lastBindingOperation,
      path: operationPath,
      ids
    }, body)
    return yield* ctx.awaitOperation(
      E.lastBindingOperation,
      operationPath,
      ids,
      operation,
      `${label}: the bind`,
      label
    )
  })

/** A 201 bind: its body, and an identical repeat (200, never 409) with the same credentials. */
const repeat = (ctx: Context, target: PlanTarget, path: string, body: unknown, answer: RawResponse) =>
  Effect.gen(function*() {
    const { label } = target
    const valid = yield* ctx.expectSchema(
      "bind.body",
      E.bind,
      `${label}: the binding body is valid`,
      answer,
      BindingResponseBody
    )
    const credentials = Option.getOrUndefined(valid)?.credentials
    const again = yield* ctx.send(E.bind, "PUT", path, { body })
    const title = `${label}: an identical bind repeat answers 200`
    if (yield* ctx.expectStatus("bind.identical", E.bind, title, again, [status.ok, status.created], body)) {
      yield* ctx.expectStatus("bind.identical-200", E.bind, title, again, [status.ok], body)
      const same = isObject(again.json) && JSON.stringify(again.json["credentials"]) === JSON.stringify(credentials)
      yield* ctx.verdict("bind.same-credentials", E.bind, `${label}: the repeat returns the same credentials`, same, {
        got: show(again)
      })
    }
    return true
  })

/** The fetch of the binding and of an unknown one (E8), where the offering has bindings_retrievable. */
const fetch = (ctx: Context, target: PlanTarget, instanceId: string, bindingId: string) =>
  Effect.gen(function*() {
    const { ids, label } = target
    const title = `${label}: fetch binding answers 200`
    if (target.offering.bindings_retrievable !== true) {
      return yield* ctx.skip("binding.fetch", E.getBinding, title, "the offering has no bindings_retrievable: true")
    }
    const fetched = yield* ctx.send(E.getBinding, "GET", bindingPath(instanceId, bindingId), { query: ids })
    if (yield* ctx.expectStatus("binding.fetch", E.getBinding, title, fetched, [status.ok])) {
      yield* ctx.expectSchema(
        "binding.fetch",
        E.getBinding,
        `${label}: the fetched binding is valid`,
        fetched,
        FetchBindingBody
      )
    }
    const unknown = yield* ctx.send(E.getBinding, "GET", bindingPath(instanceId, newId()), { query: ids })
    yield* ctx.expectStatus(
      "binding.unknown",
      E.getBinding,
      `${label}: fetch of an unknown binding answers 404`,
      unknown,
      [status.notFound]
    )
  })

/** Unbind: without ids (400), for real (200 or 202, then gone), again (410); an unknown binding (410). */
const unbind = (ctx: Context, target: PlanTarget, instanceId: string, bindingId: string) =>
  Effect.gen(function*() {
    const { ids, label } = target
    const path = bindingPath(instanceId, bindingId)
    const unknown = yield* ctx.send(E.unbind, "DELETE", bindingPath(instanceId, newId()), { query: ids })
    yield* ctx.expectStatus("unbind.gone", E.unbind, `${label}: unbind of an unknown binding answers 410`, unknown, [
      status.gone
    ])
    const noIds = yield* ctx.send(E.unbind, "DELETE", path)
    yield* ctx.expectStatus(
      "unbind.missing-ids",
      E.unbind,
      `${label}: unbind without service_id/plan_id answers 400`,
      noIds,
      [status.badRequest]
    )
    if (noIds.status >= 200 && noIds.status < 300) {
      ctx.created.bindings.delete(bindingId)
      return
    }
    const { answer } = yield* withAsyncRequired(ctx, E.unbind, label, "an unbind", (acceptsIncomplete) =>
      ctx.send(E.unbind, "DELETE", path, {
        query: { ...ids, ...(acceptsIncomplete ? { accepts_incomplete: "true" } : {}) }
      }))
    if (
      !(yield* ctx.expectStatus("unbind.done", E.unbind, `${label}: unbind answers 200 (or 202)`, answer, [
        status.ok,
        status.accepted
      ]))
    ) {
      return
    }
    if (answer.status === status.ok) {
      yield* ctx.expectJsonObject(E.unbind, `${label}: the unbind answer is a JSON object`, answer)
    }
    if (answer.status === status.accepted) {
      yield* ctx.checkOperation(E.unbind, answer, label)
      yield* ctx.poll(E.lastBindingOperation, bindingOperationPath(instanceId, bindingId), ids, true, label)
    }
    ctx.created.bindings.delete(bindingId)
    const again = yield* ctx.send(E.unbind, "DELETE", path, { query: { ...ids, accepts_incomplete: "true" } })
    yield* ctx.expectStatus("unbind.gone", E.unbind, `${label}: unbind of a deleted binding answers 410`, again, [
      status.gone
    ])
  })
