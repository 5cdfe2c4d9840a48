/**
 * The managed broker over HTTP: provision (E2) and fetch instance (E3). Idempotent repeats (PRV-4, ASY-4, ASY-5,
 * decision 23), AsyncRequired (ASY-1), `either` steps, failures of the author's work, re-provisioning (IDS-1), and
 * the fetch-instance answer from the store.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect, Ref } from "effect"
import { ManagedBroker, OsbError } from "../src/index.js"
import { makeEffectClient, managed } from "./support/effectClient.js"
import {
  advance,
  AI,
  catalogOf,
  instancePath,
  lastOperationPath,
  makeLog,
  plan,
  provisionBody,
  q,
  SID,
  slow,
  syncWork
} from "./support/managedKit.js"
import type { EventLog } from "./support/managedKit.js"

const catalog = catalogOf([
  plan("sync", { maintenance_info: { version: "1.0.0" } }),
  plan("async"),
  plan("either")
])

const work = (log: EventLog) =>
  syncWork({
    dashboardUrl: (ctx) => `https://dashboard.example.com/${ctx.instanceId}`,
    provision: ManagedBroker.sync((ctx) =>
      Effect.as(log.add(`provision:${ctx.instanceId}`), { metadata: { labels: { size: "s" } } })
    ),
    plans: {
      async: {
        provision: ManagedBroker.async(() => slow(log, "provision", "10 seconds", {})),
        deprovision: ManagedBroker.async(() => slow(log, "deprovision", "10 seconds", undefined))
      },
      either: {
        provision: ManagedBroker.either((ctx) => Effect.as(log.add(`either:${ctx.instanceId}`), {}))
      }
    }
  })

const setup = Effect.gen(function*() {
  const log = yield* makeLog
  const client = yield* makeEffectClient(managed(catalog, { [SID]: work(log) }))
  return { log, client }
})

describe("managed provision: idempotent repeats (PRV-4, ASY-4, ASY-5)", () => {
  it.scoped("PRV-4 identical repeat of a finished sync provision -> 200 with the same body, the work runs once", () =>
    Effect.gen(function*() {
      const { client, log } = yield* setup
      const created = yield* client.call("PUT", instancePath("i1"), { body: provisionBody("sync") })
      expect(created.status).toBe(201)
      expect(created.body).toEqual({
        dashboard_url: "https://dashboard.example.com/i1",
        metadata: { labels: { size: "s" } }
      })
      const again = yield* client.call("PUT", instancePath("i1"), { body: provisionBody("sync") })
      expect(again.status).toBe(200)
      expect(again.body).toEqual(created.body)
      const withAsync = yield* client.call("PUT", instancePath("i1", AI), { body: provisionBody("sync") })
      expect(withAsync.status).toBe(200)
      expect(withAsync.body).toEqual(created.body)
      expect(yield* log.all).toEqual(["provision:i1"])
    }))

  it.scoped("PRV-4 identical repeat of a finished async provision -> 200 (never 202 or 201)", () =>
    Effect.gen(function*() {
      const { client, log } = yield* setup
      const accepted = yield* client.call("PUT", instancePath("i1", AI), { body: provisionBody("async") })
      expect(accepted.status).toBe(202)
      yield* advance("10 seconds")
      const done = yield* client.call("GET", lastOperationPath("i1"))
      expect(done.body).toEqual({ state: "succeeded" })
      const again = yield* client.call("PUT", instancePath("i1", AI), { body: provisionBody("async") })
      expect(again.status).toBe(200)
      expect(again.body).toEqual({ dashboard_url: "https://dashboard.example.com/i1" })
      expect((yield* log.all).filter((e) => e === "provision:start")).toHaveLength(1)
    }))

  it.scoped("ASY-4 / ASY-5 identical repeat while the provision runs -> 202 with the SAME operation", () =>
    Effect.gen(function*() {
      const { client, log } = yield* setup
      const first = yield* client.call("PUT", instancePath("i1", AI), { body: provisionBody("async") })
      expect(first.status).toBe(202)
      expect(typeof first.body.operation).toBe("string")
      yield* advance("3 seconds")
      const second = yield* client.call("PUT", instancePath("i1", AI), { body: provisionBody("async") })
      expect(second.status).toBe(202)
      expect(second.body.operation).toBe(first.body.operation)
      expect(second.body).toEqual(first.body)
      yield* advance("7 seconds")
      const done = yield* client.call("GET", lastOperationPath("i1", `operation=${first.body.operation}`))
      expect(done.body).toEqual({ state: "succeeded" })
      expect((yield* log.all).filter((e) => e === "provision:start")).toHaveLength(1)
    }))

  it.scoped("PRV-4 different attributes for a provisioned instance -> 409 (plan, parameters, org, space)", () =>
    Effect.gen(function*() {
      const { client } = yield* setup
      const created = yield* client.call("PUT", instancePath("i1"), {
        body: provisionBody("sync", { parameters: { a: 1 } })
      })
      expect(created.status).toBe(201)
      const variants = [
        provisionBody("either", { parameters: { a: 1 } }),
        provisionBody("sync", { parameters: { a: 2 } }),
        provisionBody("sync"),
        provisionBody("sync", { parameters: { a: 1 }, organization_guid: "org-2" }),
        provisionBody("sync", { parameters: { a: 1 }, space_guid: "space-2" })
      ]
      for (const body of variants) {
        const reply = yield* client.call("PUT", instancePath("i1"), { body })
        expect(reply.status, JSON.stringify(body)).toBe(409)
        expect(typeof reply.body.description).toBe("string")
      }
      const fetched = yield* client.call("GET", instancePath("i1"))
      expect(fetched.body).toMatchObject({ plan_id: "sync", parameters: { a: 1 } })
    }))

  it.scoped("PRV-4 / ASY-5 different attributes while the provision runs -> 409; the running one goes on", () =>
    Effect.gen(function*() {
      const { client } = yield* setup
      const first = yield* client.call("PUT", instancePath("i1", AI), { body: provisionBody("async") })
      expect(first.status).toBe(202)
      const different = yield* client.call("PUT", instancePath("i1", AI), {
        body: provisionBody("async", { parameters: { x: true } })
      })
      expect(different.status).toBe(409)
      const otherPlan = yield* client.call("PUT", instancePath("i1", AI), { body: provisionBody("either") })
      expect(otherPlan.status).toBe(409)
      yield* advance("10 seconds")
      const done = yield* client.call("GET", lastOperationPath("i1"))
      expect(done.body).toEqual({ state: "succeeded" })
      const fetched = yield* client.call("GET", instancePath("i1"))
      expect(fetched.body).toMatchObject({ plan_id: "async", parameters: {} })
    }))

  it.scoped("PRV-4 decision 23: context and maintenance_info are not compared; parameters are deep-equal", () =>
    Effect.gen(function*() {
      const { client } = yield* setup
      const context = { platform: "kubernetes", namespace: "ns", clusterid: "c1", instance_name: "first" }
      const created = yield* client.call("PUT", instancePath("i1"), {
        body: provisionBody("sync", { context, parameters: { a: 1, nested: { b: [1, 2], c: "x" } } })
      })
      expect(created.status).toBe(201)
      const renamed = yield* client.call("PUT", instancePath("i1"), {
        body: provisionBody("sync", {
          context: { ...context, instance_name: "renamed", namespace_annotations: { k: "v" } },
          maintenance_info: { version: "1.0.0", description: "ignored" },
          parameters: { nested: { c: "x", b: [1, 2] }, a: 1 }
        })
      })
      expect(renamed.status).toBe(200)
      expect(renamed.body).toEqual(created.body)
      const noContext = yield* client.call("PUT", instancePath("i1"), {
        body: provisionBody("sync", { parameters: { nested: { c: "x", b: [1, 2] }, a: 1 } })
      })
      expect(noContext.status).toBe(200)
      const deepDifferent = yield* client.call("PUT", instancePath("i1"), {
        body: provisionBody("sync", { context, parameters: { a: 1, nested: { b: [2, 1], c: "x" } } })
      })
      expect(deepDifferent.status).toBe(409)
    }))
})

describe("managed provision: AsyncRequired and either (ASY-1, ASY-2)", () => {
  it.scoped("ASY-1 async-only plan without accepts_incomplete=true -> 422 AsyncRequired and nothing recorded", () =>
    Effect.gen(function*() {
      const { client, log } = yield* setup
      for (const query of [undefined, "accepts_incomplete=false"]) {
        const refused = yield* client.call("PUT", instancePath("i1", query), { body: provisionBody("async") })
        expect(refused.status).toBe(422)
        expect(refused.body.error).toBe("AsyncRequired")
        expect(typeof refused.body.description).toBe("string")
      }
      const polled = yield* client.call("GET", lastOperationPath("i1"))
      expect(polled.status).toBe(404)
      const fetched = yield* client.call("GET", instancePath("i1"))
      expect(fetched.status).toBe(404)
      const deleted = yield* client.call("DELETE", instancePath("i1", `${q("async")}&${AI}`))
      expect(deleted.status).toBe(410)
      expect(yield* log.all).toEqual([])
      // nothing was recorded: the same id can be provisioned with other attributes
      const other = yield* client.call("PUT", instancePath("i1"), { body: provisionBody("sync") })
      expect(other.status).toBe(201)
    }))

  it.scoped("ASY-1 either runs inline without accepts_incomplete (201), in the background with it (202)", () =>
    Effect.gen(function*() {
      const { client, log } = yield* setup
      const inline = yield* client.call("PUT", instancePath("inline"), { body: provisionBody("either") })
      expect(inline.status).toBe(201)
      expect(inline.body.operation).toBeUndefined()
      expect(yield* log.all).toEqual(["either:inline"])
      const ready = yield* client.call("GET", instancePath("inline"))
      expect(ready.status).toBe(200)

      const background = yield* client.call("PUT", instancePath("bg", AI), { body: provisionBody("either") })
      expect(background.status).toBe(202)
      expect(typeof background.body.operation).toBe("string")
      expect(background.body.dashboard_url).toBe("https://dashboard.example.com/bg")
      yield* advance("1 second")
      const done = yield* client.call("GET", lastOperationPath("bg", `operation=${background.body.operation}`))
      expect(done.body).toEqual({ state: "succeeded" })
      expect(yield* log.all).toEqual(["either:inline", "either:bg"])
    }))

  it.scoped("ASY-2 a sync plan may ignore accepts_incomplete=true -> 201", () =>
    Effect.gen(function*() {
      const { client } = yield* setup
      const created = yield* client.call("PUT", instancePath("i1", AI), { body: provisionBody("sync") })
      expect(created.status).toBe(201)
      expect(created.body.operation).toBeUndefined()
    }))
})

describe("managed provision: failures of the author's work", () => {
  const failing = (attempts: Ref.Ref<number>, how: "fail" | "die") =>
    syncWork({
      provision: ManagedBroker.sync(() =>
        Effect.flatMap(Ref.getAndUpdate(attempts, (n) => n + 1), (n) =>
          n > 0
            ? Effect.succeed({})
            : how === "fail"
            ? Effect.fail(new OsbError.BrokerFailure({ description: "The quota of the region is exhausted." }))
            : Effect.die(new Error("connection to db-7.internal:5432 refused, password=hunter2")))
      )
    })

  it.scoped("sync work failure -> 500 with the author's description and nothing left behind", () =>
    Effect.gen(function*() {
      const attempts = yield* Ref.make(0)
      const client = yield* makeEffectClient(managed(catalog, { [SID]: failing(attempts, "fail") }))
      const failed = yield* client.call("PUT", instancePath("i1"), { body: provisionBody("sync") })
      expect(failed.status).toBe(500)
      expect(failed.body).toEqual({ description: "The quota of the region is exhausted." })
      const fetched = yield* client.call("GET", instancePath("i1"))
      expect(fetched.status).toBe(404)
      const polled = yield* client.call("GET", lastOperationPath("i1"))
      expect(polled.status).toBe(404)
      const deleted = yield* client.call("DELETE", instancePath("i1", q("sync")))
      expect(deleted.status).toBe(410)
      const again = yield* client.call("PUT", instancePath("i1"), { body: provisionBody("sync") })
      expect(again.status).toBe(201)
      expect(yield* Ref.get(attempts)).toBe(2)
    }))

  it.scoped("sync work defect -> 500 with a generic description, no internal message, nothing left behind", () =>
    Effect.gen(function*() {
      const attempts = yield* Ref.make(0)
      const client = yield* makeEffectClient(managed(catalog, { [SID]: failing(attempts, "die") }))
      const failed = yield* client.call("PUT", instancePath("i1"), { body: provisionBody("sync") })
      expect(failed.status).toBe(500)
      expect(typeof failed.body.description).toBe("string")
      expect(failed.body.description.length).toBeGreaterThan(0)
      expect(failed.text).not.toContain("hunter2")
      expect(failed.text).not.toContain("db-7.internal")
      const fetched = yield* client.call("GET", instancePath("i1"))
      expect(fetched.status).toBe(404)
      const again = yield* client.call("PUT", instancePath("i1"), { body: provisionBody("sync") })
      expect(again.status).toBe(201)
    }))
})

describe("managed provision: re-provisioning (IDS-1)", () => {
  it.scoped("IDS-1 re-provisioning an id after a completed sync delete is a new instance (201)", () =>
    Effect.gen(function*() {
      const { client } = yield* setup
      const created = yield* client.call("PUT", instancePath("i1"), { body: provisionBody("sync") })
      expect(created.status).toBe(201)
      const deleted = yield* client.call("DELETE", instancePath("i1", q("sync")))
      expect(deleted.status).toBe(200)
      const again = yield* client.call("PUT", instancePath("i1"), {
        body: provisionBody("either", { parameters: { second: true } })
      })
      expect(again.status).toBe(201)
      const fetched = yield* client.call("GET", instancePath("i1"))
      expect(fetched.body).toMatchObject({ plan_id: "either", parameters: { second: true } })
    }))

  it.scoped("IDS-1 re-provisioning an id after a completed async delete is a new instance (201)", () =>
    Effect.gen(function*() {
      const { client } = yield* setup
      const accepted = yield* client.call("PUT", instancePath("i1", AI), { body: provisionBody("async") })
      expect(accepted.status).toBe(202)
      yield* advance("10 seconds")
      const deleting = yield* client.call("DELETE", instancePath("i1", `${q("async")}&${AI}`))
      expect(deleting.status).toBe(202)
      yield* advance("10 seconds")
      const gone = yield* client.call("GET", lastOperationPath("i1"))
      expect(gone.status).toBe(410)
      const again = yield* client.call("PUT", instancePath("i1"), { body: provisionBody("sync") })
      expect(again.status).toBe(201)
      const fetched = yield* client.call("GET", instancePath("i1"))
      expect(fetched.body).toMatchObject({ plan_id: "sync" })
    }))
})

describe("managed fetch instance (E3) from the store", () => {
  it.scoped("GI-1 fetch instance answers from the store: ids, parameters, dashboard_url, maintenance_info, metadata", () =>
    Effect.gen(function*() {
      const { client } = yield* setup
      yield* client.call("PUT", instancePath("i1"), { body: provisionBody("sync", { parameters: { size: 3 } }) })
      const fetched = yield* client.call("GET", instancePath("i1"))
      expect(fetched.status).toBe(200)
      expect(fetched.body).toEqual({
        service_id: SID,
        plan_id: "sync",
        parameters: { size: 3 },
        dashboard_url: "https://dashboard.example.com/i1",
        maintenance_info: { version: "1.0.0" },
        metadata: { labels: { size: "s" } }
      })
      const unknown = yield* client.call("GET", instancePath("never-seen"))
      expect(unknown.status).toBe(404)
    }))

  it.scoped("GI-1 fetch instance while the async provision runs -> 404; 200 as soon as it succeeded", () =>
    Effect.gen(function*() {
      const { client } = yield* setup
      yield* client.call("PUT", instancePath("i1", AI), { body: provisionBody("async") })
      const during = yield* client.call("GET", instancePath("i1"))
      expect(during.status).toBe(404)
      yield* advance("10 seconds")
      const polled = yield* client.call("GET", lastOperationPath("i1"))
      expect(polled.body.state).toBe("succeeded")
      const after = yield* client.call("GET", instancePath("i1"))
      expect(after.status).toBe(200)
      expect(after.body.plan_id).toBe("async")
    }))

  it.scoped("GI-2 the fetchInstance hook shapes the answer (hides secret parameters)", () =>
    Effect.gen(function*() {
      const client = yield* makeEffectClient(managed(catalog, {
        [SID]: syncWork({
          fetchInstance: (record) => {
            const { admin_password: _secret, ...visible } = record.parameters
            return Effect.succeed({ service_id: record.serviceId, plan_id: record.planId, parameters: visible })
          }
        })
      }))
      const created = yield* client.call("PUT", instancePath("i1"), {
        body: provisionBody("sync", { parameters: { admin_password: "hunter2", size: 2 } })
      })
      expect(created.status).toBe(201)
      const fetched = yield* client.call("GET", instancePath("i1"))
      expect(fetched.status).toBe(200)
      expect(fetched.body).toEqual({ service_id: SID, plan_id: "sync", parameters: { size: 2 } })
      expect(fetched.text).not.toContain("hunter2")
    }))
})
