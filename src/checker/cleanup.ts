/**
 * The clean-up: deletes whatever the checks created and did not delete themselves (bindings first), waiting a
 * bounded time for asynchronous deletes. It runs when the checks end, fail or are interrupted (Ctrl-C).
 *
 * @since 0.2.0
 */
import * as Effect from "effect/Effect"
import type { OsbClientService } from "../OsbClient.js"
import type { Created } from "./context.js"
import { bindingOperationPath, bindingPath, instanceOperationPath, instancePath, isObject, status } from "./context.js"

const waitGone = (client: OsbClientService, path: string, query: Record<string, string>) =>
  Effect.gen(function*() {
    for (let i = 0; i < 60; i++) {
      const r = yield* Effect.orElseSucceed(client.raw("GET", path, { query }), () => undefined)
      if (r === undefined || r.status !== status.ok) return
      if (!isObject(r.json) || r.json["state"] !== "in progress") return
      yield* Effect.sleep("1 second")
    }
  })

/** Deletes what is left in `created`. */
export const cleanUp = (client: OsbClientService, created: Created): Effect.Effect<void> =>
  Effect.gen(function*() {
    for (const [bindingId, b] of created.bindings) {
      const path = bindingPath(b.instanceId, bindingId)
      const query = { service_id: b.serviceId, plan_id: b.planId }
      const r = yield* Effect.orElseSucceed(
        client.raw("DELETE", path, { query: { ...query, accepts_incomplete: "true" } }),
        () => undefined
      )
      if (r?.status === status.accepted) yield* waitGone(client, bindingOperationPath(b.instanceId, bindingId), query)
    }
    for (const [instanceId, i] of created.instances) {
      const path = instancePath(instanceId)
      const query = { service_id: i.serviceId, plan_id: i.planId }
      // an async create may still run: deleting it then is allowed (DEP-4) or answered 422; retry a few times
      for (let attempt = 0; attempt < 10; attempt++) {
        const r = yield* Effect.orElseSucceed(
          client.raw("DELETE", path, { query: { ...query, accepts_incomplete: "true" } }),
          () => undefined
        )
        if (r?.status === status.accepted) yield* waitGone(client, instanceOperationPath(instanceId), query)
        if (r?.status !== status.unprocessable) break
        yield* Effect.sleep("1 second")
      }
    }
  }).pipe(Effect.uninterruptible)
