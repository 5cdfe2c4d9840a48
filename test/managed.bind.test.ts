/**
 * The managed broker over HTTP: bind (E7), fetch binding (E8), unbind (E9). Idempotent repeats (BND-2, decision 24),
 * AsyncRequired, binds on instances that are not ready (decision 26), an unbind during an async bind (UNB-3),
 * binding rotation (ROT-1..4, decision 19) and the fetch-binding answer from the store.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect, Option } from "effect"
import { ManagedBroker } from "../src/index.js"
import { makeEffectClient, managed } from "./support/effectClient.js"
import {
  advance,
  AI,
  bindBody,
  bindingLastOperationPath,
  bindingPath,
  catalogOf,
  freshCredentials,
  instancePath,
  lastOperationPath,
  makeLog,
  opQuery,
  plan,
  provisionBody,
  q,
  SID,
  slow,
  syncWork
} from "./support/managedKit.js"
import type { EventLog } from "./support/managedKit.js"

const catalog = catalogOf([
  plan("sync"),
  plan("async"),
  plan("mixed"),
  plan("rot", { binding_rotatable: true }),
  plan("nobind", { bindable: false })
])

const work = (log: EventLog) =>
  syncWork({
    bind: ManagedBroker.sync((ctx) =>
      Effect.as(
        log.add(
          `bind ${ctx.bindingId} app=${Option.getOrElse(ctx.appGuid, () => "-")} params=${
            JSON.stringify(ctx.parameters)
          } pred=${
            Option.match(ctx.predecessor, {
              onNone: () => "-",
              onSome: (p) => `${p.bindingId}:${JSON.stringify(p.response?.credentials)}`
            })
          }`
        ),
        {
          credentials: freshCredentials(ctx.bindingId),
          ...(ctx.parameters["expiring"] === true ? { metadata: { expires_at: "1970-01-01T00:01:00.000Z" } } : {})
        }
      )
    ),
    unbind: ManagedBroker.sync((ctx) => log.add(`unbind ${ctx.bindingId}`)),
    plans: {
      async: {
        provision: ManagedBroker.async(() => slow(log, "provision", "10 seconds", {})),
        deprovision: ManagedBroker.async(() => slow(log, "deprovision", "10 seconds", undefined)),
        bind: ManagedBroker.async((ctx) =>
          slow(log, "bind", "10 seconds", { credentials: freshCredentials(ctx.bindingId) })
        ),
        unbind: ManagedBroker.async(() => slow(log, "unbind", "10 seconds", undefined))
      },
      mixed: {
        bind: ManagedBroker.async((ctx) =>
          slow(log, "bind", "10 seconds", { credentials: freshCredentials(ctx.bindingId) })
        )
      }
    }
  })

const setup = Effect.gen(function*() {
  const log = yield* makeLog
  const client = yield* makeEffectClient(managed(catalog, { [SID]: work(log) }))
  return { log, client }
})

type Client = Effect.Effect.Success<typeof setup>["client"]

/** A ready instance on `planId` (async plans are waited for). */
const instance = (client: Client, id: string, planId: string) =>
  Effect.gen(function*() {
    const reply = yield* client.call("PUT", instancePath(id, AI), { body: provisionBody(planId) })
    expect([201, 202]).toContain(reply.status)
    if (reply.status === 202) yield* advance("10 seconds")
    expect((yield* client.call("GET", instancePath(id))).status).toBe(200)
  })

describe("managed bind: idempotent repeats (BND-2, decision 24)", () => {
  it.scoped("BND-2 identical repeat of a finished bind -> 200 with the same credentials; the work runs once", () =>
    Effect.gen(function*() {
      const { client, log } = yield* setup
      yield* instance(client, "i1", "sync")
      const created = yield* client.call("PUT", bindingPath("i1", "b1"), {
        body: bindBody("sync", { parameters: { role: "ro" }, context: { platform: "cloudfoundry", space_name: "a" } })
      })
      expect(created.status).toBe(201)
      expect(created.body.credentials.username).toBe("u-b1")
      const again = yield* client.call("PUT", bindingPath("i1", "b1"), {
        body: bindBody("sync", { parameters: { role: "ro" } })
      })
      expect(again.status).toBe(200)
      expect(again.body).toEqual(created.body)
      // decision 24: the app guid counts wherever it is given; context is not compared
      const deprecatedAppGuid = yield* client.call("PUT", bindingPath("i1", "b1"), {
        body: {
          service_id: SID,
          plan_id: "sync",
          app_guid: "app-1",
          parameters: { role: "ro" },
          context: { platform: "cloudfoundry", space_name: "renamed" }
        }
      })
      expect(deprecatedAppGuid.status).toBe(200)
      expect(deprecatedAppGuid.body.credentials).toEqual(created.body.credentials)
      expect((yield* log.all).filter((e) => e.startsWith("bind "))).toHaveLength(1)
    }))

  it.scoped("BND-2 decision 24 different attributes -> 409 (plan, parameters, app guid, route)", () =>
    Effect.gen(function*() {
      const { client } = yield* setup
      yield* instance(client, "i1", "sync")
      const created = yield* client.call("PUT", bindingPath("i1", "b1"), {
        body: bindBody("sync", { parameters: { role: "ro" }, bind_resource: { app_guid: "app-1", route: "r.example" } })
      })
      expect(created.status).toBe(201)
      const variants = [
        bindBody("mixed", { parameters: { role: "ro" }, bind_resource: { app_guid: "app-1", route: "r.example" } }),
        bindBody("sync", { parameters: { role: "rw" }, bind_resource: { app_guid: "app-1", route: "r.example" } }),
        bindBody("sync", { parameters: { role: "ro" }, bind_resource: { app_guid: "app-2", route: "r.example" } }),
        bindBody("sync", { parameters: { role: "ro" }, bind_resource: { app_guid: "app-1", route: "other.example" } }),
        bindBody("sync", { parameters: { role: "ro" }, bind_resource: { app_guid: "app-1" } })
      ]
      for (const body of variants) {
        const reply = yield* client.call("PUT", bindingPath("i1", "b1", AI), { body })
        expect(reply.status, JSON.stringify(body)).toBe(409)
        expect(typeof reply.body.description).toBe("string")
      }
      const fetched = yield* client.call("GET", bindingPath("i1", "b1"))
      expect(fetched.body.credentials).toEqual(created.body.credentials)
    }))

  it.scoped("BND-2 / ASY-4 identical repeat while the async bind runs -> 202 with the same operation; different -> 409", () =>
    Effect.gen(function*() {
      const { client, log } = yield* setup
      yield* instance(client, "i1", "async")
      const first = yield* client.call("PUT", bindingPath("i1", "b1", AI), { body: bindBody("async") })
      expect(first.status).toBe(202)
      expect(Object.keys(first.body)).toEqual(["operation"])
      yield* advance("4 seconds")
      const second = yield* client.call("PUT", bindingPath("i1", "b1", AI), { body: bindBody("async") })
      expect(second.status).toBe(202)
      expect(second.body).toEqual(first.body)
      const different = yield* client.call("PUT", bindingPath("i1", "b1", AI), {
        body: bindBody("async", { parameters: { x: 1 } })
      })
      expect(different.status).toBe(409)
      yield* advance("6 seconds")
      const done = yield* client.call("GET", bindingLastOperationPath("i1", "b1", opQuery(first.body.operation)))
      expect(done.body).toEqual({ state: "succeeded" })
      // BND-4: the credentials are given on the fetch and on an identical repeat, the same ones
      const fetched = yield* client.call("GET", bindingPath("i1", "b1"))
      expect(fetched.status).toBe(200)
      const repeat = yield* client.call("PUT", bindingPath("i1", "b1", AI), { body: bindBody("async") })
      expect(repeat.status).toBe(200)
      expect(repeat.body.credentials).toEqual(fetched.body.credentials)
      expect((yield* log.all).filter((e) => e === "bind:start")).toHaveLength(1)
    }))
})

describe("managed bind: refusals (ASY-1, BND-0, decision 26)", () => {
  it.scoped("ASY-1 an async-only bind without accepts_incomplete=true -> 422 AsyncRequired, nothing recorded", () =>
    Effect.gen(function*() {
      const { client, log } = yield* setup
      yield* instance(client, "i1", "async")
      const refused = yield* client.call("PUT", bindingPath("i1", "b1"), { body: bindBody("async") })
      expect(refused.status).toBe(422)
      expect(refused.body.error).toBe("AsyncRequired")
      expect((yield* client.call("GET", bindingLastOperationPath("i1", "b1"))).status).toBe(404)
      expect((yield* client.call("GET", bindingPath("i1", "b1"))).status).toBe(404)
      expect((yield* log.all).filter((e) => e.startsWith("bind"))).toEqual([])
      const other = yield* client.call("PUT", bindingPath("i1", "b1", AI), {
        body: bindBody("async", { parameters: { other: true } })
      })
      expect(other.status).toBe(202)
    }))

  it.scoped("decision 26 bind to an unknown instance -> 404; to one being provisioned or deprovisioned -> 422", () =>
    Effect.gen(function*() {
      const { client } = yield* setup
      const unknown = yield* client.call("PUT", bindingPath("never-seen", "b1"), { body: bindBody("sync") })
      expect(unknown.status).toBe(404)
      expect(typeof unknown.body.description).toBe("string")

      const provisioning = yield* client.call("PUT", instancePath("i1", AI), { body: provisionBody("async") })
      expect(provisioning.status).toBe(202)
      const duringProvision = yield* client.call("PUT", bindingPath("i1", "b1", AI), { body: bindBody("async") })
      expect(duringProvision.status).toBe(422)
      expect(duringProvision.body.error).toBe("ConcurrencyError")
      expect(duringProvision.body.description).toBe("The instance is being provisioned.")
      yield* advance("10 seconds")
      const deleting = yield* client.call("DELETE", instancePath("i1", `${q("async")}&${AI}`))
      expect(deleting.status).toBe(202)
      const duringDelete = yield* client.call("PUT", bindingPath("i1", "b1", AI), { body: bindBody("async") })
      expect(duringDelete.status).toBe(422)
      expect(duringDelete.body.error).toBe("ConcurrencyError")
      expect(duringDelete.body.description).toBe("The instance is being deprovisioned.")
    }))

  it.scoped("BND-0 decision 7 bind on a plan that is not bindable -> 400", () =>
    Effect.gen(function*() {
      const { client } = yield* setup
      yield* instance(client, "i1", "nobind")
      const refused = yield* client.call("PUT", bindingPath("i1", "b1"), { body: bindBody("nobind") })
      expect(refused.status).toBe(400)
      expect(typeof refused.body.description).toBe("string")
    }))
})

describe("managed fetch binding (E8) from the store", () => {
  it.scoped("GB-1 fetch binding: 404 while the bind runs; the stored credentials and parameters afterwards", () =>
    Effect.gen(function*() {
      const { client } = yield* setup
      yield* instance(client, "i1", "async")
      yield* client.call("PUT", bindingPath("i1", "b1", AI), { body: bindBody("async", { parameters: { db: "x" } }) })
      const during = yield* client.call("GET", bindingPath("i1", "b1"))
      expect(during.status).toBe(404)
      yield* advance("10 seconds")
      const after = yield* client.call("GET", bindingPath("i1", "b1"))
      expect(after.status).toBe(200)
      expect(after.body).toEqual({
        credentials: { username: "u-b1", password: expect.any(String) },
        parameters: { db: "x" }
      })
      const again = yield* client.call("GET", bindingPath("i1", "b1"))
      expect(again.body).toEqual(after.body)
      expect((yield* client.call("GET", bindingPath("i1", "never-seen"))).status).toBe(404)
    }))

  it.scoped("GB-2 the fetchBinding hook shapes the answer (hides secret parameters)", () =>
    Effect.gen(function*() {
      const client = yield* makeEffectClient(managed(catalog, {
        [SID]: syncWork({
          fetchBinding: (record) => {
            const { secret: _secret, ...visible } = record.parameters
            return Effect.succeed({ ...record.response, parameters: visible })
          }
        })
      }))
      yield* client.call("PUT", instancePath("i1"), { body: provisionBody("sync") })
      const created = yield* client.call("PUT", bindingPath("i1", "b1"), {
        body: bindBody("sync", { parameters: { secret: "hunter2", db: "x" } })
      })
      expect(created.status).toBe(201)
      const fetched = yield* client.call("GET", bindingPath("i1", "b1"))
      expect(fetched.status).toBe(200)
      expect(fetched.body).toEqual({ credentials: created.body.credentials, parameters: { db: "x" } })
      expect(fetched.text).not.toContain("hunter2")
    }))
})

describe("managed unbind (E9, UNB-3)", () => {
  it.scoped("UNB-3 an unbind during an async bind stops the running work, then unbinds; E10 reports the unbind", () =>
    Effect.gen(function*() {
      const { client, log } = yield* setup
      yield* instance(client, "i1", "async")
      const binding = yield* client.call("PUT", bindingPath("i1", "b1", AI), { body: bindBody("async") })
      expect(binding.status).toBe(202)
      yield* advance("3 seconds")
      expect(yield* log.all).toContain("bind:start")
      const unbinding = yield* client.call("DELETE", bindingPath("i1", "b1", `${q("async")}&${AI}`))
      expect(unbinding.status).toBe(202)
      expect(unbinding.body.operation).not.toBe(binding.body.operation)
      const events = yield* log.all
      expect(events).toContain("bind:interrupted")
      expect(events).toContain("bind:finalized")
      expect(events).not.toContain("bind:done")
      const latest = yield* client.call("GET", bindingLastOperationPath("i1", "b1"))
      expect(latest.body).toEqual({ state: "in progress" })
      const stopped = yield* client.call("GET", bindingLastOperationPath("i1", "b1", opQuery(binding.body.operation)))
      expect(stopped.status).toBe(200)
      expect(stopped.body.state).toBe("failed")
      yield* advance("10 seconds")
      const gone = yield* client.call("GET", bindingLastOperationPath("i1", "b1", opQuery(unbinding.body.operation)))
      expect(gone.status).toBe(410)
      yield* advance("1 minute")
      expect(yield* log.all).not.toContain("bind:done")
      expect((yield* client.call("GET", bindingPath("i1", "b1"))).status).toBe(404)
    }))

  it.scoped("UNB-3 a sync unbind during an async bind stops the running work, then unbinds (200)", () =>
    Effect.gen(function*() {
      const { client, log } = yield* setup
      yield* instance(client, "i1", "mixed")
      const binding = yield* client.call("PUT", bindingPath("i1", "b1", AI), { body: bindBody("mixed") })
      expect(binding.status).toBe(202)
      yield* advance("3 seconds")
      const unbound = yield* client.call("DELETE", bindingPath("i1", "b1", q("mixed")))
      expect(unbound.status).toBe(200)
      expect(unbound.body).toEqual({})
      expect(yield* log.all).toEqual(["bind:start", "bind:interrupted", "bind:finalized", "unbind b1"])
      yield* advance("1 minute")
      expect(yield* log.all).not.toContain("bind:done")
      expect((yield* client.call("GET", bindingPath("i1", "b1"))).status).toBe(404)
      const again = yield* client.call("PUT", bindingPath("i1", "b1", AI), { body: bindBody("mixed") })
      expect(again.status).toBe(202)
    }))

  it.scoped("UNB-3 after a sync unbind during an async bind, E10 for the bind's operation reports failed", () =>
    Effect.gen(function*() {
      const { client } = yield* setup
      yield* instance(client, "i1", "mixed")
      const binding = yield* client.call("PUT", bindingPath("i1", "b1", AI), { body: bindBody("mixed") })
      expect(binding.status).toBe(202)
      yield* advance("3 seconds")
      const unbound = yield* client.call("DELETE", bindingPath("i1", "b1", q("mixed")))
      expect(unbound.status).toBe(200)
      // requirements UNB-3: "If it is synchronous, E10 SHOULD report the bind as failed"; decision 30
      const polled = yield* client.call("GET", bindingLastOperationPath("i1", "b1", opQuery(binding.body.operation)))
      expect(polled.status).toBe(200)
      expect(polled.body.state).toBe("failed")
    }))

  it.scoped("UNB re-sent DELETE while the async unbind runs -> 202 with the same operation; then 410", () =>
    Effect.gen(function*() {
      const { client, log } = yield* setup
      yield* instance(client, "i1", "async")
      yield* client.call("PUT", bindingPath("i1", "b1", AI), { body: bindBody("async") })
      yield* advance("10 seconds")
      const first = yield* client.call("DELETE", bindingPath("i1", "b1", `${q("async")}&${AI}`))
      expect(first.status).toBe(202)
      const second = yield* client.call("DELETE", bindingPath("i1", "b1", `${q("async")}&${AI}`))
      expect(second.status).toBe(202)
      expect(second.body.operation).toBe(first.body.operation)
      yield* advance("10 seconds")
      const again = yield* client.call("DELETE", bindingPath("i1", "b1", `${q("async")}&${AI}`))
      expect(again.status).toBe(410)
      expect(again.body).toEqual({})
      expect((yield* log.all).filter((e) => e === "unbind:start")).toHaveLength(1)
      const never = yield* client.call("DELETE", bindingPath("i1", "never-seen", q("async")))
      expect(never.status).toBe(410)
      // the instance itself is untouched
      expect((yield* client.call("GET", lastOperationPath("i1"))).body).toEqual({ state: "succeeded" })
    }))
})

describe("managed binding rotation (ROT, 2.17)", () => {
  it.scoped("ROT-2 a bind with predecessor_binding_id gets the predecessor's record and its parameters", () =>
    Effect.gen(function*() {
      const { client, log } = yield* setup
      yield* instance(client, "i1", "rot")
      const old = yield* client.call("PUT", bindingPath("i1", "b1"), {
        body: bindBody("rot", { parameters: { role: "admin" } })
      })
      expect(old.status).toBe(201)
      const rotated = yield* client.call("PUT", bindingPath("i1", "b2"), {
        body: bindBody("rot", { predecessor_binding_id: "b1" })
      })
      expect(rotated.status).toBe(201)
      expect(rotated.body.credentials.username).toBe("u-b2")
      expect(yield* log.all).toEqual([
        `bind b1 app=app-1 params={"role":"admin"} pred=-`,
        `bind b2 app=app-1 params={"role":"admin"} pred=b1:${JSON.stringify(old.body.credentials)}`
      ])
      const fetched = yield* client.call("GET", bindingPath("i1", "b2"))
      expect(fetched.body.parameters).toEqual({ role: "admin" })
      // explicit parameters win over the predecessor's
      const explicit = yield* client.call("PUT", bindingPath("i1", "b3"), {
        body: bindBody("rot", { predecessor_binding_id: "b1", parameters: { role: "reader" } })
      })
      expect(explicit.status).toBe(201)
      expect((yield* log.all).at(-1)).toContain(`b3 app=app-1 params={"role":"reader"} pred=b1:`)
    }))

  it.scoped("ROT-3 the predecessor and the new binding both stay valid", () =>
    Effect.gen(function*() {
      const { client } = yield* setup
      yield* instance(client, "i1", "rot")
      const old = yield* client.call("PUT", bindingPath("i1", "b1"), { body: bindBody("rot") })
      const rotated = yield* client.call("PUT", bindingPath("i1", "b2"), {
        body: bindBody("rot", { predecessor_binding_id: "b1" })
      })
      expect(rotated.status).toBe(201)
      expect(rotated.body.credentials).not.toEqual(old.body.credentials)
      const first = yield* client.call("GET", bindingPath("i1", "b1"))
      const second = yield* client.call("GET", bindingPath("i1", "b2"))
      expect(first.status).toBe(200)
      expect(first.body.credentials).toEqual(old.body.credentials)
      expect(second.status).toBe(200)
      expect(second.body.credentials).toEqual(rotated.body.credentials)
      // deleting the old one leaves the new one
      expect((yield* client.call("DELETE", bindingPath("i1", "b1", q("rot")))).status).toBe(200)
      expect((yield* client.call("GET", bindingPath("i1", "b2"))).status).toBe(200)
    }))

  it.scoped("ROT-2 / ROT-4 an expired predecessor -> 400; before it expires rotation works", () =>
    Effect.gen(function*() {
      const { client } = yield* setup
      yield* instance(client, "i1", "rot")
      const old = yield* client.call("PUT", bindingPath("i1", "b1"), {
        body: bindBody("rot", { parameters: { expiring: true } })
      })
      expect(old.status).toBe(201)
      expect(old.body.metadata).toEqual({ expires_at: "1970-01-01T00:01:00.000Z" })
      yield* advance("30 seconds")
      const early = yield* client.call("PUT", bindingPath("i1", "b2"), {
        body: bindBody("rot", { predecessor_binding_id: "b1", parameters: {} })
      })
      expect(early.status).toBe(201)
      yield* advance("31 seconds")
      const late = yield* client.call("PUT", bindingPath("i1", "b3"), {
        body: bindBody("rot", { predecessor_binding_id: "b1", parameters: {} })
      })
      expect(late.status).toBe(400)
      expect(late.body.description).toContain("expired")
      expect((yield* client.call("GET", bindingPath("i1", "b3"))).status).toBe(404)
    }))

  it.scoped("ROT-4 decision 19 unknown predecessor, one on another instance, or a non-rotatable plan -> 400", () =>
    Effect.gen(function*() {
      const { client, log } = yield* setup
      yield* instance(client, "i1", "rot")
      yield* instance(client, "i2", "rot")
      yield* instance(client, "i3", "sync")
      yield* client.call("PUT", bindingPath("i1", "b1"), { body: bindBody("rot") })
      yield* client.call("PUT", bindingPath("i3", "s1"), { body: bindBody("sync") })
      const cases = [
        { path: bindingPath("i1", "b2"), body: bindBody("rot", { predecessor_binding_id: "no-such-binding" }) },
        { path: bindingPath("i2", "b2"), body: bindBody("rot", { predecessor_binding_id: "b1" }) },
        { path: bindingPath("i3", "s2"), body: bindBody("sync", { predecessor_binding_id: "s1" }) }
      ]
      for (const { body, path } of cases) {
        const reply = yield* client.call("PUT", path, { body })
        expect(reply.status, path).toBe(400)
        expect(typeof reply.body.description).toBe("string")
        expect((yield* client.call("GET", path)).status).toBe(404)
      }
      expect((yield* log.all).filter((e) => e.startsWith("bind b2") || e.startsWith("bind s2"))).toEqual([])
    }))
})
