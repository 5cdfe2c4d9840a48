/**
 * The managed broker over HTTP: update (E4). Plan and parameter changes kept in the store, non-updateable plans
 * (UPD-1, decision 8), maintenance_info (UPD-2, decision 9), unknown instances (UPD-5), failed updates (UPD-3),
 * repeats and concurrency (ASY-4, ASY-6, §6: a fetch during an update is a 422).
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect, Option } from "effect"
import { ManagedBroker, OsbError } from "../src/index.js"
import { makeEffectClient, managed } from "./support/effectClient.js"
import {
  advance,
  AI,
  catalogOf,
  instancePath,
  lastOperationPath,
  makeLog,
  opQuery,
  plan,
  provisionBody,
  q,
  SID,
  slow,
  syncWork,
  updateBody
} from "./support/managedKit.js"
import type { EventLog } from "./support/managedKit.js"

const catalog = catalogOf([
  plan("a", { maintenance_info: { version: "1.0.0" } }),
  plan("b", { maintenance_info: { version: "2.0.0" } }),
  plan("fixed", { plan_updateable: false }),
  plan("nomi"),
  plan("slow")
])

const work = (log: EventLog) =>
  syncWork({
    update: ManagedBroker.sync((ctx) =>
      Effect.zipRight(
        log.add(
          `update ${ctx.previous.plan.id}->${ctx.target.plan.id} requested=${
            JSON.stringify(Option.getOrNull(ctx.requestedParameters))
          } merged=${JSON.stringify(ctx.parameters)}`
        ),
        ctx.parameters["fail"] === true
          ? Effect.fail(
            new OsbError.UpdateFailure({
              description: "The new size does not fit the data.",
              instanceUsable: true,
              updateRepeatable: false
            })
          )
          : Effect.succeed({ metadata: { labels: { revision: "2" } } })
      )
    ),
    plans: {
      slow: {
        provision: ManagedBroker.async(() => slow(log, "provision", "10 seconds", {})),
        update: ManagedBroker.async((ctx) =>
          Effect.zipRight(
            slow(log, "update", "10 seconds", undefined),
            ctx.parameters["fail"] === true
              ? Effect.fail(new OsbError.UpdateFailure({ description: "Resize failed.", updateRepeatable: true }))
              : Effect.succeed({})
          )
        ),
        deprovision: ManagedBroker.async(() => slow(log, "deprovision", "10 seconds", undefined))
      }
    }
  })

const setup = Effect.gen(function*() {
  const log = yield* makeLog
  const client = yield* makeEffectClient(managed(catalog, { [SID]: work(log) }))
  return { log, client }
})

describe("managed update: changes kept in the store", () => {
  it.scoped("UPD update applies the plan and the merged parameters; GET instance shows them", () =>
    Effect.gen(function*() {
      const { client, log } = yield* setup
      const created = yield* client.call("PUT", instancePath("i1"), {
        body: provisionBody("a", { parameters: { x: 1, y: 2 } })
      })
      expect(created.status).toBe(201)
      const updated = yield* client.call("PATCH", instancePath("i1"), {
        body: updateBody({ plan_id: "b", parameters: { y: 3, z: 4 }, previous_values: { plan_id: "a" } })
      })
      expect(updated.status).toBe(200)
      expect(updated.body).toEqual({ metadata: { labels: { revision: "2" } } })
      expect(yield* log.all).toEqual([`update a->b requested={"y":3,"z":4} merged={"x":1,"y":3,"z":4}`])
      const fetched = yield* client.call("GET", instancePath("i1"))
      expect(fetched.status).toBe(200)
      expect(fetched.body).toEqual({
        service_id: SID,
        plan_id: "b",
        parameters: { x: 1, y: 3, z: 4 },
        maintenance_info: { version: "2.0.0" },
        metadata: { labels: { revision: "2" } }
      })
    }))

  it.scoped("UPD without plan_id keeps the plan; without parameters keeps the parameters", () =>
    Effect.gen(function*() {
      const { client, log } = yield* setup
      yield* client.call("PUT", instancePath("i1"), { body: provisionBody("a", { parameters: { x: 1 } }) })
      const paramsOnly = yield* client.call("PATCH", instancePath("i1"), { body: updateBody({ parameters: { y: 2 } }) })
      expect(paramsOnly.status).toBe(200)
      const afterParams = yield* client.call("GET", instancePath("i1"))
      expect(afterParams.body).toMatchObject({ plan_id: "a", parameters: { x: 1, y: 2 } })
      const planOnly = yield* client.call("PATCH", instancePath("i1"), { body: updateBody({ plan_id: "b" }) })
      expect(planOnly.status).toBe(200)
      const afterPlan = yield* client.call("GET", instancePath("i1"))
      expect(afterPlan.body).toMatchObject({ plan_id: "b", parameters: { x: 1, y: 2 } })
      expect(yield* log.all).toEqual([
        `update a->a requested={"y":2} merged={"x":1,"y":2}`,
        `update a->b requested=null merged={"x":1,"y":2}`
      ])
    }))

  it.scoped("UPD-5 decision 25 PATCH of an unknown instance -> 404 with a JSON body", () =>
    Effect.gen(function*() {
      const { client, log } = yield* setup
      const reply = yield* client.call("PATCH", instancePath("never-seen"), { body: updateBody({ plan_id: "b" }) })
      expect(reply.status).toBe(404)
      expect(typeof reply.body.description).toBe("string")
      expect(yield* log.all).toEqual([])
    }))
})

describe("managed update: refused changes (UPD-1, UPD-2)", () => {
  it.scoped("UPD-1 decision 8 plan change to or from a non-updateable plan -> 422 update_repeatable false", () =>
    Effect.gen(function*() {
      const { client, log } = yield* setup
      yield* client.call("PUT", instancePath("from-a"), { body: provisionBody("a") })
      yield* client.call("PUT", instancePath("from-fixed"), { body: provisionBody("fixed") })
      const cases = [
        { id: "from-a", body: updateBody({ plan_id: "fixed" }) },
        { id: "from-fixed", body: updateBody({ plan_id: "a" }) },
        { id: "from-a", body: updateBody({ plan_id: "fixed", previous_values: { plan_id: "a" } }) },
        { id: "from-fixed", body: updateBody({ plan_id: "a", previous_values: { plan_id: "fixed" } }) }
      ]
      for (const { body, id } of cases) {
        const reply = yield* client.call("PATCH", instancePath(id), { body })
        expect(reply.status, JSON.stringify(body)).toBe(422)
        expect(reply.body.update_repeatable).toBe(false)
        expect(typeof reply.body.description).toBe("string")
      }
      expect((yield* client.call("GET", instancePath("from-a"))).body.plan_id).toBe("a")
      expect((yield* client.call("GET", instancePath("from-fixed"))).body.plan_id).toBe("fixed")
      expect(yield* log.all).toEqual([])
    }))

  it.scoped("UPD-1 a non-updateable plan still takes parameter changes and its own plan_id", () =>
    Effect.gen(function*() {
      const { client } = yield* setup
      yield* client.call("PUT", instancePath("i1"), { body: provisionBody("fixed") })
      const params = yield* client.call("PATCH", instancePath("i1"), { body: updateBody({ parameters: { p: 1 } }) })
      expect(params.status).toBe(200)
      const samePlan = yield* client.call("PATCH", instancePath("i1"), {
        body: updateBody({ plan_id: "fixed", parameters: { q: 2 } })
      })
      expect(samePlan.status).toBe(200)
      expect((yield* client.call("GET", instancePath("i1"))).body).toMatchObject({
        plan_id: "fixed",
        parameters: { p: 1, q: 2 }
      })
    }))

  it.scoped("UPD-2 decision 9 maintenance_info mismatch -> 422 MaintenanceInfoConflict; with a plan change the target counts", () =>
    Effect.gen(function*() {
      const { client, log } = yield* setup
      yield* client.call("PUT", instancePath("i1"), { body: provisionBody("a") })
      yield* client.call("PUT", instancePath("i2"), { body: provisionBody("nomi") })
      const refused = [
        { id: "i1", body: updateBody({ maintenance_info: { version: "9.9.9" } }) },
        { id: "i1", body: updateBody({ plan_id: "b", maintenance_info: { version: "1.0.0" } }) },
        { id: "i2", body: updateBody({ maintenance_info: { version: "1.0.0" } }) }
      ]
      for (const { body, id } of refused) {
        const reply = yield* client.call("PATCH", instancePath(id), { body })
        expect(reply.status, JSON.stringify(body)).toBe(422)
        expect(reply.body.error).toBe("MaintenanceInfoConflict")
      }
      expect((yield* client.call("GET", instancePath("i1"))).body.plan_id).toBe("a")
      expect(yield* log.all).toEqual([])
      const sameVersion = yield* client.call("PATCH", instancePath("i1"), {
        body: updateBody({ maintenance_info: { version: "1.0.0" } })
      })
      expect(sameVersion.status).toBe(200)
      const targetVersion = yield* client.call("PATCH", instancePath("i1"), {
        body: updateBody({ plan_id: "b", maintenance_info: { version: "2.0.0" } })
      })
      expect(targetVersion.status).toBe(200)
      expect((yield* client.call("GET", instancePath("i1"))).body).toMatchObject({
        plan_id: "b",
        maintenance_info: { version: "2.0.0" }
      })
    }))
})

describe("managed update: failures leave the instance unchanged (UPD-3, UPD-4)", () => {
  it.scoped("UPD-3 a failed sync update -> 500 with the author's flags; plan and parameters unchanged", () =>
    Effect.gen(function*() {
      const { client } = yield* setup
      yield* client.call("PUT", instancePath("i1"), { body: provisionBody("a", { parameters: { x: 1 } }) })
      const before = yield* client.call("GET", instancePath("i1"))
      const failed = yield* client.call("PATCH", instancePath("i1"), {
        body: updateBody({ plan_id: "b", parameters: { fail: true } })
      })
      expect(failed.status).toBe(500)
      expect(failed.body).toEqual({
        description: "The new size does not fit the data.",
        instance_usable: true,
        update_repeatable: false
      })
      const after = yield* client.call("GET", instancePath("i1"))
      expect(after.status).toBe(200)
      expect(after.body).toEqual(before.body)
      // the instance is usable again: a later update works
      const next = yield* client.call("PATCH", instancePath("i1"), { body: updateBody({ parameters: { x: 2 } }) })
      expect(next.status).toBe(200)
    }))

  it.scoped("UPD-3 a failed async update leaves plan and parameters unchanged", () =>
    Effect.gen(function*() {
      const { client } = yield* setup
      yield* client.call("PUT", instancePath("i1", AI), { body: provisionBody("slow", { parameters: { x: 1 } }) })
      yield* advance("10 seconds")
      const before = yield* client.call("GET", instancePath("i1"))
      expect(before.status).toBe(200)
      const accepted = yield* client.call("PATCH", instancePath("i1", AI), {
        body: updateBody({ parameters: { x: 2, fail: true } })
      })
      expect(accepted.status).toBe(202)
      yield* advance("10 seconds")
      const state = yield* client.call("GET", lastOperationPath("i1", opQuery(accepted.body.operation)))
      expect(state.body).toEqual({ state: "failed", description: "Resize failed.", update_repeatable: true })
      const after = yield* client.call("GET", instancePath("i1"))
      expect(after.body).toEqual(before.body)
    }))
})

describe("managed update: async, repeats and concurrency (ASY-1, ASY-4, ASY-6)", () => {
  it.scoped("ASY-1 an async-only update without accepts_incomplete=true -> 422 AsyncRequired, nothing changes", () =>
    Effect.gen(function*() {
      const { client, log } = yield* setup
      yield* client.call("PUT", instancePath("i1", AI), { body: provisionBody("slow") })
      yield* advance("10 seconds")
      const refused = yield* client.call("PATCH", instancePath("i1"), { body: updateBody({ parameters: { x: 1 } }) })
      expect(refused.status).toBe(422)
      expect(refused.body.error).toBe("AsyncRequired")
      expect((yield* client.call("GET", instancePath("i1"))).body.parameters).toEqual({})
      expect((yield* log.all).filter((e) => e.startsWith("update"))).toEqual([])
      const latest = yield* client.call("GET", lastOperationPath("i1"))
      expect(latest.body).toEqual({ state: "succeeded" })
    }))

  it.scoped("ASY-4 identical PATCH while the async update runs -> 202 with the same operation; applied when done", () =>
    Effect.gen(function*() {
      const { client, log } = yield* setup
      yield* client.call("PUT", instancePath("i1", AI), { body: provisionBody("slow") })
      yield* advance("10 seconds")
      const body = updateBody({ parameters: { size: "xl" } })
      const first = yield* client.call("PATCH", instancePath("i1", AI), { body })
      expect(first.status).toBe(202)
      expect(typeof first.body.operation).toBe("string")
      yield* advance("5 seconds")
      const second = yield* client.call("PATCH", instancePath("i1", AI), { body })
      expect(second.status).toBe(202)
      expect(second.body.operation).toBe(first.body.operation)
      // UPD-7: the platform polls with the plan before the update
      const polled = yield* client.call("GET", lastOperationPath("i1", `${q("slow")}&${opQuery(first.body.operation)}`))
      expect(polled.body).toEqual({ state: "in progress" })
      yield* advance("5 seconds")
      const done = yield* client.call("GET", lastOperationPath("i1", opQuery(first.body.operation)))
      expect(done.body).toEqual({ state: "succeeded" })
      expect((yield* client.call("GET", instancePath("i1"))).body.parameters).toEqual({ size: "xl" })
      expect((yield* log.all).filter((e) => e === "update:start")).toHaveLength(1)
    }))

  it.scoped("ASY-6 PATCH with a different body during an async update -> 422 ConcurrencyError", () =>
    Effect.gen(function*() {
      const { client } = yield* setup
      yield* client.call("PUT", instancePath("i1", AI), { body: provisionBody("slow") })
      yield* advance("10 seconds")
      const first = yield* client.call("PATCH", instancePath("i1", AI), { body: updateBody({ parameters: { v: 1 } }) })
      expect(first.status).toBe(202)
      const other = yield* client.call("PATCH", instancePath("i1", AI), { body: updateBody({ parameters: { v: 2 } }) })
      expect(other.status).toBe(422)
      expect(other.body.error).toBe("ConcurrencyError")
      yield* advance("10 seconds")
      expect((yield* client.call("GET", instancePath("i1"))).body.parameters).toEqual({ v: 1 })
    }))

  it.scoped("ASY-6 PATCH during an async provision -> 422 ConcurrencyError", () =>
    Effect.gen(function*() {
      const { client, log } = yield* setup
      yield* client.call("PUT", instancePath("i1", AI), { body: provisionBody("slow") })
      const refused = yield* client.call("PATCH", instancePath("i1", AI), {
        body: updateBody({ parameters: { v: 1 } })
      })
      expect(refused.status).toBe(422)
      expect(refused.body.error).toBe("ConcurrencyError")
      yield* advance("10 seconds")
      expect((yield* client.call("GET", lastOperationPath("i1"))).body).toEqual({ state: "succeeded" })
      expect((yield* client.call("GET", instancePath("i1"))).body.parameters).toEqual({})
      expect((yield* log.all).filter((e) => e.startsWith("update"))).toEqual([])
    }))

  it.scoped("GI §6 fetch instance while it is being updated -> 422 ConcurrencyError; 200 afterwards", () =>
    Effect.gen(function*() {
      const { client } = yield* setup
      yield* client.call("PUT", instancePath("i1", AI), { body: provisionBody("slow") })
      yield* advance("10 seconds")
      yield* client.call("PATCH", instancePath("i1", AI), { body: updateBody({ parameters: { v: 1 } }) })
      const during = yield* client.call("GET", instancePath("i1"))
      expect(during.status).toBe(422)
      expect(during.body.error).toBe("ConcurrencyError")
      yield* advance("10 seconds")
      const after = yield* client.call("GET", instancePath("i1"))
      expect(after.status).toBe(200)
      expect(after.body.parameters).toEqual({ v: 1 })
    }))
})
