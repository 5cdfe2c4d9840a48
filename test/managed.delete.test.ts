/**
 * The managed broker over HTTP: deprovision (E5). A delete during an async provision (DEP-4), deleting an
 * instance with bindings (DEP-3, decision 31), repeats, AsyncRequired, and concurrency with other operations
 * (ASY-6, decisions 27 and 28).
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { ManagedBroker, OsbError } from "../src/index.js"
import { makeEffectClient, managed } from "./support/effectClient.js"
import {
  advance,
  AI,
  bindBody,
  bindingLastOperationPath,
  bindingPath,
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

const catalog = catalogOf([plan("sync"), plan("async"), plan("mixed")])

const work = (log: EventLog) =>
  syncWork({
    deprovision: ManagedBroker.sync((ctx) =>
      Effect.zipRight(
        log.add(`deprovision ${ctx.instanceId} bindings=${ctx.bindings.map((b) => b.bindingId).sort().join(",")}`),
        ctx.instance.parameters["failDelete"] === true
          ? Effect.fail(
            new OsbError.DeprovisionFailure({ description: "The volume is still attached.", instanceUsable: true })
          )
          : Effect.void
      )
    ),
    plans: {
      async: {
        provision: ManagedBroker.async(() => slow(log, "provision", "10 seconds", {})),
        update: ManagedBroker.async(() => slow(log, "update", "10 seconds", {})),
        deprovision: ManagedBroker.async(() => slow(log, "deprovision", "10 seconds", undefined))
      },
      mixed: {
        provision: ManagedBroker.async(() => slow(log, "provision", "10 seconds", {}))
      }
    }
  })

const setup = Effect.gen(function*() {
  const log = yield* makeLog
  const client = yield* makeEffectClient(managed(catalog, { [SID]: work(log) }))
  return { log, client }
})

const asyncDelete = (id: string, planId = "async") => instancePath(id, `${q(planId)}&${AI}`)

describe("managed deprovision during an async provision (DEP-4)", () => {
  it.scoped("DEP-4 DELETE during an async provision stops the running work, then deprovisions; E6 reports the delete", () =>
    Effect.gen(function*() {
      const { client, log } = yield* setup
      const provisioning = yield* client.call("PUT", instancePath("i1", AI), { body: provisionBody("async") })
      expect(provisioning.status).toBe(202)
      yield* advance("3 seconds")
      expect(yield* log.all).toEqual(["provision:start"])
      const deleting = yield* client.call("DELETE", asyncDelete("i1"))
      expect(deleting.status).toBe(202)
      expect(typeof deleting.body.operation).toBe("string")
      expect(deleting.body.operation).not.toBe(provisioning.body.operation)
      const events = yield* log.all
      expect(events).toContain("provision:interrupted")
      expect(events).toContain("provision:finalized")
      expect(events).not.toContain("provision:done")
      // E6 without operation reports the latest operation: the delete
      const latest = yield* client.call("GET", lastOperationPath("i1"))
      expect(latest.body).toEqual({ state: "in progress" })
      const byValue = yield* client.call("GET", lastOperationPath("i1", opQuery(deleting.body.operation)))
      expect(byValue.body).toEqual({ state: "in progress" })
      // the stopped provision is known and failed (decision 30)
      const stopped = yield* client.call("GET", lastOperationPath("i1", opQuery(provisioning.body.operation)))
      expect(stopped.status).toBe(200)
      expect(stopped.body.state).toBe("failed")
      expect(Object.keys(stopped.body).sort()).toEqual(["description", "state"])
      yield* advance("10 seconds")
      const gone = yield* client.call("GET", lastOperationPath("i1", opQuery(deleting.body.operation)))
      expect(gone.status).toBe(410)
      yield* advance("1 minute")
      const all = yield* log.all
      expect(all).not.toContain("provision:done")
      expect(all.filter((e) => e.startsWith("deprovision:"))).toEqual([
        "deprovision:start",
        "deprovision:done",
        "deprovision:finalized"
      ])
      // the id is free again (IDS-1)
      const again = yield* client.call("PUT", instancePath("i1"), { body: provisionBody("sync") })
      expect(again.status).toBe(201)
    }))

  it.scoped("DEP-4 a sync DELETE during an async provision stops the running work, then deprovisions (200)", () =>
    Effect.gen(function*() {
      const { client, log } = yield* setup
      const provisioning = yield* client.call("PUT", instancePath("i1", AI), { body: provisionBody("mixed") })
      expect(provisioning.status).toBe(202)
      yield* advance("3 seconds")
      const deleted = yield* client.call("DELETE", instancePath("i1", q("mixed")))
      expect(deleted.status).toBe(200)
      expect(deleted.body).toEqual({})
      expect(yield* log.all).toEqual([
        "provision:start",
        "provision:interrupted",
        "provision:finalized",
        "deprovision i1 bindings="
      ])
      yield* advance("1 minute")
      expect(yield* log.all).not.toContain("provision:done")
      expect((yield* client.call("GET", instancePath("i1"))).status).toBe(404)
      const again = yield* client.call("PUT", instancePath("i1"), { body: provisionBody("sync") })
      expect(again.status).toBe(201)
    }))

  it.scoped("DEP-4 after a sync DELETE during an async provision, E6 for the provision's operation reports failed", () =>
    Effect.gen(function*() {
      const { client } = yield* setup
      const provisioning = yield* client.call("PUT", instancePath("i1", AI), { body: provisionBody("mixed") })
      expect(provisioning.status).toBe(202)
      yield* advance("3 seconds")
      const deleted = yield* client.call("DELETE", instancePath("i1", q("mixed")))
      expect(deleted.status).toBe(200)
      // requirements DEP-4: "If it is synchronous, E6 SHOULD report the provision as failed"; decision 30: a known
      // operation value answers the state of that operation. (§12.2: a 410 while polling a create is invalid, the
      // platform keeps polling.)
      const polled = yield* client.call("GET", lastOperationPath("i1", opQuery(provisioning.body.operation)))
      expect(polled.status).toBe(200)
      expect(polled.body.state).toBe("failed")
    }))

  it.scoped("DEP re-sent DELETE while the async delete runs -> 202 with the same operation", () =>
    Effect.gen(function*() {
      const { client, log } = yield* setup
      yield* client.call("PUT", instancePath("i1", AI), { body: provisionBody("async") })
      yield* advance("10 seconds")
      const first = yield* client.call("DELETE", asyncDelete("i1"))
      expect(first.status).toBe(202)
      yield* advance("4 seconds")
      const second = yield* client.call("DELETE", asyncDelete("i1"))
      expect(second.status).toBe(202)
      expect(second.body.operation).toBe(first.body.operation)
      yield* advance("6 seconds")
      expect((yield* client.call("GET", lastOperationPath("i1"))).status).toBe(410)
      expect((yield* log.all).filter((e) => e === "deprovision:start")).toHaveLength(1)
    }))
})

describe("managed deprovision: status codes", () => {
  it.scoped("DEP E5 sync delete -> 200 {}; a missing instance -> 410 {}", () =>
    Effect.gen(function*() {
      const { client } = yield* setup
      yield* client.call("PUT", instancePath("i1"), { body: provisionBody("sync") })
      const deleted = yield* client.call("DELETE", instancePath("i1", q("sync")))
      expect(deleted.status).toBe(200)
      expect(deleted.body).toEqual({})
      const again = yield* client.call("DELETE", instancePath("i1", q("sync")))
      expect(again.status).toBe(410)
      expect(again.body).toEqual({})
      const never = yield* client.call("DELETE", instancePath("never-seen", q("sync")))
      expect(never.status).toBe(410)
      expect(never.body).toEqual({})
      expect((yield* client.call("GET", instancePath("i1"))).status).toBe(404)
    }))

  it.scoped("DEP-5 a failed sync deprovision -> 500 with the author's description and instance_usable; the instance stays", () =>
    Effect.gen(function*() {
      const { client } = yield* setup
      yield* client.call("PUT", instancePath("i1"), {
        body: provisionBody("sync", { parameters: { failDelete: true } })
      })
      const failed = yield* client.call("DELETE", instancePath("i1", q("sync")))
      expect(failed.status).toBe(500)
      expect(failed.body).toEqual({ description: "The volume is still attached.", instance_usable: true })
      const fetched = yield* client.call("GET", instancePath("i1"))
      expect(fetched.status).toBe(200)
      expect(fetched.body.parameters).toEqual({ failDelete: true })
      const repeat = yield* client.call("PUT", instancePath("i1"), {
        body: provisionBody("sync", { parameters: { failDelete: true } })
      })
      expect(repeat.status).toBe(200)
    }))

  it.scoped("ASY-1 an async-only delete without accepts_incomplete=true -> 422 AsyncRequired; the instance stays", () =>
    Effect.gen(function*() {
      const { client, log } = yield* setup
      yield* client.call("PUT", instancePath("i1", AI), { body: provisionBody("async") })
      yield* advance("10 seconds")
      const refused = yield* client.call("DELETE", instancePath("i1", q("async")))
      expect(refused.status).toBe(422)
      expect(refused.body.error).toBe("AsyncRequired")
      expect((yield* client.call("GET", instancePath("i1"))).status).toBe(200)
      expect((yield* client.call("GET", lastOperationPath("i1"))).body).toEqual({ state: "succeeded" })
      expect((yield* log.all).filter((e) => e.startsWith("deprovision"))).toEqual([])
    }))
})

describe("managed deprovision: concurrency (ASY-6, decisions 27 and 28)", () => {
  it.scoped("ASY-6 DELETE during an async update -> 422 ConcurrencyError", () =>
    Effect.gen(function*() {
      const { client, log } = yield* setup
      yield* client.call("PUT", instancePath("i1", AI), { body: provisionBody("async") })
      yield* advance("10 seconds")
      const updating = yield* client.call("PATCH", instancePath("i1", AI), {
        body: updateBody({ parameters: { a: 1 } })
      })
      expect(updating.status).toBe(202)
      const refused = yield* client.call("DELETE", asyncDelete("i1"))
      expect(refused.status).toBe(422)
      expect(refused.body.error).toBe("ConcurrencyError")
      yield* advance("10 seconds")
      expect((yield* client.call("GET", lastOperationPath("i1"))).body).toEqual({ state: "succeeded" })
      expect(yield* log.all).not.toContain("update:interrupted")
      expect((yield* client.call("GET", instancePath("i1"))).body.parameters).toEqual({ a: 1 })
    }))

  it.scoped("GI decision 28 fetch instance while it is being deprovisioned -> 422 ConcurrencyError", () =>
    Effect.gen(function*() {
      const { client } = yield* setup
      yield* client.call("PUT", instancePath("i1", AI), { body: provisionBody("async") })
      yield* advance("10 seconds")
      yield* client.call("DELETE", asyncDelete("i1"))
      const during = yield* client.call("GET", instancePath("i1"))
      expect(during.status).toBe(422)
      expect(during.body.error).toBe("ConcurrencyError")
      yield* advance("10 seconds")
      expect((yield* client.call("GET", instancePath("i1"))).status).toBe(404)
    }))

  it.scoped("PRV-5 decision 27 PUT instance while it is being deprovisioned -> 422 ConcurrencyError", () =>
    Effect.gen(function*() {
      const { client } = yield* setup
      yield* client.call("PUT", instancePath("i1", AI), { body: provisionBody("async") })
      yield* advance("10 seconds")
      const deleting = yield* client.call("DELETE", asyncDelete("i1"))
      expect(deleting.status).toBe(202)
      for (const query of [AI, undefined]) {
        const reply = yield* client.call("PUT", instancePath("i1", query), { body: provisionBody("async") })
        expect(reply.status, String(query)).toBe(422)
        expect(reply.body.error).toBe("ConcurrencyError")
      }
      yield* advance("10 seconds")
      expect((yield* client.call("GET", lastOperationPath("i1"))).status).toBe(410)
    }))
  it.scoped("PRV-5 decision 27 PUT with different attributes while the instance is being deprovisioned -> 422 too", () =>
    Effect.gen(function*() {
      const { client } = yield* setup
      yield* client.call("PUT", instancePath("i1", AI), { body: provisionBody("async") })
      yield* advance("10 seconds")
      const deleting = yield* client.call("DELETE", asyncDelete("i1"))
      expect(deleting.status).toBe(202)
      const reply = yield* client.call("PUT", instancePath("i1", AI), {
        body: provisionBody("async", { parameters: { recreated: true } })
      })
      expect(reply.status).toBe(422)
      expect(reply.body.error).toBe("ConcurrencyError")
    }))
})

describe("managed deprovision with bindings (DEP-3, decision 31)", () => {
  it.scoped("DEP-3 decision 31 deprovision with bindings: the work sees them, they go with the instance", () =>
    Effect.gen(function*() {
      const { client, log } = yield* setup
      yield* client.call("PUT", instancePath("i1"), { body: provisionBody("sync") })
      for (const b of ["b1", "b2"]) {
        const bound = yield* client.call("PUT", bindingPath("i1", b), { body: bindBody("sync") })
        expect(bound.status).toBe(201)
      }
      expect((yield* client.call("GET", bindingPath("i1", "b1"))).status).toBe(200)
      const deleted = yield* client.call("DELETE", instancePath("i1", q("sync")))
      expect(deleted.status).toBe(200)
      expect(yield* log.all).toEqual(["deprovision i1 bindings=b1,b2"])
      for (const b of ["b1", "b2"]) {
        expect((yield* client.call("GET", bindingPath("i1", b))).status).toBe(404)
        const unbind = yield* client.call("DELETE", bindingPath("i1", b, q("sync")))
        expect(unbind.status).toBe(410)
      }
    }))

  it.scoped("IDS-1 a re-provisioned instance id starts without the old instance's bindings (E8 404, E10 404, bind 201)", () =>
    Effect.gen(function*() {
      const { client } = yield* setup
      yield* client.call("PUT", instancePath("i1"), { body: provisionBody("sync") })
      expect((yield* client.call("PUT", bindingPath("i1", "b1"), { body: bindBody("sync") })).status).toBe(201)
      expect((yield* client.call("DELETE", instancePath("i1", q("sync")))).status).toBe(200)
      // a new instance with the same id (IDS-1): its E6 answers for the new instance, and b1 was never seen on it
      expect((yield* client.call("PUT", instancePath("i1"), { body: provisionBody("sync") })).status).toBe(201)
      expect((yield* client.call("GET", lastOperationPath("i1"))).body).toEqual({ state: "succeeded" })
      expect((yield* client.call("GET", bindingPath("i1", "b1"))).status).toBe(404)
      expect((yield* client.call("GET", bindingLastOperationPath("i1", "b1"))).status).toBe(404)
      const rebound = yield* client.call("PUT", bindingPath("i1", "b1"), {
        body: bindBody("sync", { parameters: { other: true } })
      })
      expect(rebound.status).toBe(201)
    }))
})
