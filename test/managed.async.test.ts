/**
 * The managed broker over HTTP: asynchronous operations and last_operation (E6, E10). Operation values, polling
 * with and without `operation` (LO-3), unknown operations (decision 30), finished operations (LO-6), deleted
 * resources (LO-7, decision 29, `tombstoneTtl`), failure fields (LO-4), `maximum_polling_duration` (LO-9), and the
 * quick start broker's asynchronous plan. Time moves only with the TestClock.
 */
import { describe, expect, it } from "@effect/vitest"
import { Duration, Effect } from "effect"
import * as Managed from "../examples/managed-broker.js"
import { ManagedBroker, OsbError } from "../src/index.js"
import type { ManagedOptions } from "../src/ManagedBroker.js"
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
  updateBody
} from "./support/managedKit.js"
import type { EventLog } from "./support/managedKit.js"

const catalog = catalogOf([
  plan("async"),
  plan("bounded", { maximum_polling_duration: 60 }),
  plan("sync")
])

const flag = (parameters: Record<string, unknown>, key: string) => parameters[key] === true

/** Every step of plan `async` takes 10 s; parameters `fail`/`die` make provision and bind fail or die after that. */
const work = (log: EventLog): ManagedBroker.OfferingWork => ({
  provision: ManagedBroker.sync(() => Effect.succeed({})),
  update: ManagedBroker.sync(() => Effect.succeed({})),
  deprovision: ManagedBroker.sync(() => Effect.void),
  bind: ManagedBroker.sync((ctx) => Effect.succeed({ credentials: freshCredentials(ctx.bindingId) })),
  unbind: ManagedBroker.sync(() => Effect.void),
  plans: {
    async: {
      provision: ManagedBroker.async((ctx) =>
        Effect.zipRight(
          slow(log, "provision", "10 seconds", undefined),
          flag(ctx.parameters, "fail")
            ? Effect.fail(new OsbError.BrokerFailure({ description: "No capacity left in zone b." }))
            : flag(ctx.parameters, "die")
            ? Effect.die(new Error("NullPointer in allocator, token=s3cr3t-token"))
            : Effect.succeed({})
        )
      ),
      update: ManagedBroker.async((ctx) =>
        Effect.zipRight(
          slow(log, "update", "10 seconds", undefined),
          flag(ctx.parameters, "failUpdate")
            ? Effect.fail(
              new OsbError.UpdateFailure({
                description: "The resize broke the instance.",
                instanceUsable: false,
                updateRepeatable: false
              })
            )
            : Effect.succeed({})
        )
      ),
      deprovision: ManagedBroker.async((ctx) =>
        Effect.zipRight(
          slow(log, "deprovision", "10 seconds", undefined),
          flag(ctx.instance.parameters, "failDelete")
            ? Effect.fail(
              new OsbError.DeprovisionFailure({
                description: "The backups could not be removed.",
                instanceUsable: true
              })
            )
            : Effect.void
        )
      ),
      bind: ManagedBroker.async((ctx) =>
        Effect.zipRight(
          slow(log, "bind", "10 seconds", undefined),
          flag(ctx.parameters, "fail")
            ? Effect.fail(new OsbError.BrokerFailure({ description: "The user could not be created." }))
            : flag(ctx.parameters, "die")
            ? Effect.die(new Error("bind exploded, key=s3cr3t-key"))
            : Effect.succeed({ credentials: freshCredentials(ctx.bindingId) })
        )
      ),
      unbind: ManagedBroker.async(() => slow(log, "unbind", "10 seconds", undefined))
    },
    bounded: {
      provision: ManagedBroker.async((ctx) =>
        flag(ctx.parameters, "quick") ? Effect.succeed({}) : slow(log, "provision", "1 hour", {})
      ),
      bind: ManagedBroker.async((ctx) => slow(log, "bind", "1 hour", { credentials: freshCredentials(ctx.bindingId) }))
    }
  }
})

const setup = (options?: ManagedOptions, routerOptions?: { readonly retryAfterSeconds?: number }) =>
  Effect.gen(function*() {
    const log = yield* makeLog
    const client = yield* makeEffectClient(managed(catalog, { [SID]: work(log) }, options), routerOptions)
    return { log, client }
  })

type Client = Effect.Effect.Success<ReturnType<typeof setup>>["client"]

/** Provisions `id` on plan `async` and waits until it succeeded. */
const ready = (client: Client, id: string, parameters: Record<string, unknown> = {}) =>
  Effect.gen(function*() {
    const accepted = yield* client.call("PUT", instancePath(id, AI), { body: provisionBody("async", { parameters }) })
    expect(accepted.status).toBe(202)
    yield* advance("10 seconds")
    const done = yield* client.call("GET", lastOperationPath(id))
    expect(done.body).toEqual({ state: "succeeded" })
    return accepted.body.operation as string
  })

/** Binds `bindingId` on plan `async` and waits until it succeeded. */
const bound = (client: Client, id: string, bindingId: string) =>
  Effect.gen(function*() {
    const accepted = yield* client.call("PUT", bindingPath(id, bindingId, AI), { body: bindBody("async") })
    expect(accepted.status).toBe(202)
    yield* advance("10 seconds")
    const done = yield* client.call("GET", bindingLastOperationPath(id, bindingId))
    expect(done.body).toEqual({ state: "succeeded" })
    return accepted.body.operation as string
  })

const isOperation = (value: unknown) => typeof value === "string" && value.length > 0 && value.length <= 10_000

describe("managed async: 202 and operations", () => {
  it.scoped("ASY-4 every async 202 carries an opaque operation of at most 10,000 characters, distinct per operation", () =>
    Effect.gen(function*() {
      const { client } = yield* setup()
      const operations: Array<string> = []
      const provisioned = yield* client.call("PUT", instancePath("i1", AI), { body: provisionBody("async") })
      expect(provisioned.status).toBe(202)
      operations.push(provisioned.body.operation)
      yield* advance("10 seconds")
      const updated = yield* client.call("PATCH", instancePath("i1", AI), {
        body: updateBody({ parameters: { a: 1 } })
      })
      expect(updated.status).toBe(202)
      operations.push(updated.body.operation)
      yield* advance("10 seconds")
      const boundReply = yield* client.call("PUT", bindingPath("i1", "b1", AI), { body: bindBody("async") })
      expect(boundReply.status).toBe(202)
      expect(boundReply.body.credentials).toBeUndefined()
      operations.push(boundReply.body.operation)
      yield* advance("10 seconds")
      const unbound = yield* client.call("DELETE", bindingPath("i1", "b1", `${q("async")}&${AI}`))
      expect(unbound.status).toBe(202)
      operations.push(unbound.body.operation)
      yield* advance("10 seconds")
      const deleted = yield* client.call("DELETE", instancePath("i1", `${q("async")}&${AI}`))
      expect(deleted.status).toBe(202)
      operations.push(deleted.body.operation)
      for (const operation of operations) expect(isOperation(operation), String(operation)).toBe(true)
      expect(new Set(operations).size).toBe(operations.length)
    }))
})

describe("managed async: instance last_operation (E6)", () => {
  it.scoped("LO-4 / LO-5 in progress with Retry-After (default 2 s), then succeeded without it", () =>
    Effect.gen(function*() {
      const { client } = yield* setup()
      const accepted = yield* client.call("PUT", instancePath("i1", AI), { body: provisionBody("async") })
      const polling = yield* client.call("GET", lastOperationPath("i1", opQuery(accepted.body.operation)))
      expect(polling.status).toBe(200)
      expect(polling.body).toEqual({ state: "in progress" })
      expect(polling.headers.get("retry-after")).toBe("2")
      yield* advance("9 seconds")
      const still = yield* client.call("GET", lastOperationPath("i1"))
      expect(still.body).toEqual({ state: "in progress" })
      yield* advance("1 second")
      const done = yield* client.call("GET", lastOperationPath("i1", opQuery(accepted.body.operation)))
      expect(done.status).toBe(200)
      expect(done.body).toEqual({ state: "succeeded" })
      expect(done.headers.get("retry-after")).toBeNull()
    }))

  it.scoped("LO-5 decision 20 the Retry-After value is configurable", () =>
    Effect.gen(function*() {
      const { client } = yield* setup(undefined, { retryAfterSeconds: 17 })
      yield* client.call("PUT", instancePath("i1", AI), { body: provisionBody("async") })
      const polling = yield* client.call("GET", lastOperationPath("i1"))
      expect(polling.headers.get("retry-after")).toBe("17")
    }))

  it.scoped("LO-3 last_operation works with the operation value, percent-encoded, and without it (latest)", () =>
    Effect.gen(function*() {
      const { client } = yield* setup()
      const provisionOp = yield* ready(client, "i1")
      const update = yield* client.call("PATCH", instancePath("i1", AI), { body: updateBody({ parameters: { b: 2 } }) })
      expect(update.status).toBe(202)
      const latest = yield* client.call("GET", lastOperationPath("i1"))
      expect(latest.body).toEqual({ state: "in progress" })
      const byValue = yield* client.call("GET", lastOperationPath("i1", opQuery(update.body.operation)))
      expect(byValue.body).toEqual({ state: "in progress" })
      const withHints = yield* client.call(
        "GET",
        lastOperationPath("i1", `${q("async")}&${opQuery(update.body.operation)}`)
      )
      expect(withHints.body).toEqual({ state: "in progress" })
      // decision 30: an older, known operation answers its own state
      const older = yield* client.call("GET", lastOperationPath("i1", opQuery(provisionOp)))
      expect(older.status).toBe(200)
      expect(older.body).toEqual({ state: "succeeded" })
    }))

  it.scoped("decision 30 an unknown operation value for a known instance -> 400; for an unknown instance -> 404", () =>
    Effect.gen(function*() {
      const { client } = yield* setup()
      yield* client.call("PUT", instancePath("i1", AI), { body: provisionBody("async") })
      const unknown = yield* client.call("GET", lastOperationPath("i1", opQuery("no-such-operation")))
      expect(unknown.status).toBe(400)
      expect(typeof unknown.body.description).toBe("string")
      yield* advance("10 seconds")
      const unknownAfter = yield* client.call("GET", lastOperationPath("i1", opQuery("no-such-operation")))
      expect(unknownAfter.status).toBe(400)
      // a binding's operation is not an operation of the instance
      const binding = yield* client.call("PUT", bindingPath("i1", "b1", AI), { body: bindBody("async") })
      expect(binding.status).toBe(202)
      const crossed = yield* client.call("GET", lastOperationPath("i1", opQuery(binding.body.operation)))
      expect(crossed.status).toBe(400)
      const neverSeen = yield* client.call("GET", lastOperationPath("never-seen", opQuery("no-such-operation")))
      expect(neverSeen.status).toBe(404)
    }))

  it.scoped("LO-6 / ASY-8 a finished operation stays answerable: repeated polls after success", () =>
    Effect.gen(function*() {
      const { client } = yield* setup()
      const operation = yield* ready(client, "i1")
      for (const wait of ["1 second", "1 minute", "10 minutes", "1 hour"] as const) {
        yield* advance(wait)
        const withValue = yield* client.call("GET", lastOperationPath("i1", opQuery(operation)))
        expect(withValue.status).toBe(200)
        expect(withValue.body).toEqual({ state: "succeeded" })
        const without = yield* client.call("GET", lastOperationPath("i1"))
        expect(without.body).toEqual({ state: "succeeded" })
      }
    }))

  it.scoped("LO-7 decision 29 a finished async delete -> 410 {} on last_operation; an id never seen -> 404", () =>
    Effect.gen(function*() {
      const { client } = yield* setup()
      yield* ready(client, "i1")
      const deleting = yield* client.call("DELETE", instancePath("i1", `${q("async")}&${AI}`))
      expect(deleting.status).toBe(202)
      const during = yield* client.call("GET", lastOperationPath("i1", opQuery(deleting.body.operation)))
      expect(during.body).toEqual({ state: "in progress" })
      expect(during.headers.get("retry-after")).toBe("2")
      yield* advance("10 seconds")
      const gone = yield* client.call("GET", lastOperationPath("i1", opQuery(deleting.body.operation)))
      expect(gone.status).toBe(410)
      expect(gone.body).toEqual({})
      const goneWithout = yield* client.call("GET", lastOperationPath("i1"))
      expect(goneWithout.status).toBe(410)
      expect(goneWithout.body).toEqual({})
      yield* advance("1 hour")
      const stillGone = yield* client.call("GET", lastOperationPath("i1"))
      expect(stillGone.status).toBe(410)
      const neverSeen = yield* client.call("GET", lastOperationPath("never-seen"))
      expect(neverSeen.status).toBe(404)
      expect(typeof neverSeen.body.description).toBe("string")
      const deleteAgain = yield* client.call("DELETE", instancePath("i1", `${q("async")}&${AI}`))
      expect(deleteAgain.status).toBe(410)
    }))

  it.scoped("LO-7 tombstoneTtl: the 410 turns into 404 once the tombstone time has passed", () =>
    Effect.gen(function*() {
      const { client } = yield* setup({ tombstoneTtl: "10 minutes" })
      yield* ready(client, "i1")
      yield* bound(client, "i1", "b1")
      yield* bound(client, "i1", "b2")
      const unbinding = yield* client.call("DELETE", bindingPath("i1", "b1", `${q("async")}&${AI}`))
      expect(unbinding.status).toBe(202)
      yield* advance("10 seconds")
      const deleting = yield* client.call("DELETE", instancePath("i1", `${q("async")}&${AI}`))
      expect(deleting.status).toBe(202)
      yield* advance("10 seconds")
      expect((yield* client.call("GET", lastOperationPath("i1"))).status).toBe(410)
      expect((yield* client.call("GET", bindingLastOperationPath("i1", "b1"))).status).toBe(410)
      yield* advance("9 minutes")
      expect((yield* client.call("GET", lastOperationPath("i1"))).status).toBe(410)
      expect((yield* client.call("GET", bindingLastOperationPath("i1", "b1"))).status).toBe(410)
      yield* advance("2 minutes")
      const instance = yield* client.call("GET", lastOperationPath("i1"))
      expect(instance.status).toBe(404)
      expect(typeof instance.body.description).toBe("string")
      expect((yield* client.call("GET", bindingLastOperationPath("i1", "b1"))).status).toBe(404)
      expect((yield* client.call("GET", bindingLastOperationPath("i1", "b2"))).status).toBe(404)
    }))

  it.scoped("LO-7 the default tombstone time is 7 days", () =>
    Effect.gen(function*() {
      const { client } = yield* setup()
      yield* ready(client, "i1")
      yield* client.call("DELETE", instancePath("i1", `${q("async")}&${AI}`))
      yield* advance("10 seconds")
      yield* advance("6 days")
      expect((yield* client.call("GET", lastOperationPath("i1"))).status).toBe(410)
      yield* advance("1 day")
      yield* advance("1 minute")
      expect((yield* client.call("GET", lastOperationPath("i1"))).status).toBe(404)
    }))
})

describe("managed async: failures on last_operation (LO-4)", () => {
  it.scoped("LO-4 failed provision: failed with the author's description, neither instance_usable nor update_repeatable", () =>
    Effect.gen(function*() {
      const { client } = yield* setup()
      const accepted = yield* client.call("PUT", instancePath("i1", AI), {
        body: provisionBody("async", { parameters: { fail: true } })
      })
      yield* advance("10 seconds")
      const failed = yield* client.call("GET", lastOperationPath("i1", opQuery(accepted.body.operation)))
      expect(failed.status).toBe(200)
      expect(failed.body).toEqual({ state: "failed", description: "No capacity left in zone b." })
      const fetched = yield* client.call("GET", instancePath("i1"))
      expect(fetched.status).toBe(404)
    }))

  it.scoped("a defect in async work fails the operation with a generic description (no internal message)", () =>
    Effect.gen(function*() {
      const { client } = yield* setup()
      yield* client.call("PUT", instancePath("i1", AI), { body: provisionBody("async", { parameters: { die: true } }) })
      yield* advance("10 seconds")
      const failed = yield* client.call("GET", lastOperationPath("i1"))
      expect(failed.status).toBe(200)
      expect(failed.body.state).toBe("failed")
      expect(typeof failed.body.description).toBe("string")
      expect(failed.body.description.length).toBeGreaterThan(0)
      expect(failed.text).not.toContain("s3cr3t")
      expect(failed.text).not.toContain("NullPointer")
      expect(Object.keys(failed.body).sort()).toEqual(["description", "state"])
    }))

  it.scoped("OM-2 an instance whose async provision failed can be deprovisioned", () =>
    Effect.gen(function*() {
      const { client } = yield* setup()
      yield* client.call("PUT", instancePath("i1", AI), {
        body: provisionBody("async", { parameters: { fail: true } })
      })
      yield* advance("10 seconds")
      const deleting = yield* client.call("DELETE", instancePath("i1", `${q("async")}&${AI}`))
      expect(deleting.status).toBe(202)
      yield* advance("10 seconds")
      expect((yield* client.call("GET", lastOperationPath("i1"))).status).toBe(410)
    }))

  it.scoped("LO-4 / UPD-4 failed update: last_operation carries instance_usable and update_repeatable", () =>
    Effect.gen(function*() {
      const { client } = yield* setup()
      yield* ready(client, "i1")
      const accepted = yield* client.call("PATCH", instancePath("i1", AI), {
        body: updateBody({ parameters: { failUpdate: true } })
      })
      expect(accepted.status).toBe(202)
      yield* advance("10 seconds")
      const failed = yield* client.call("GET", lastOperationPath("i1", opQuery(accepted.body.operation)))
      expect(failed.status).toBe(200)
      expect(failed.body).toEqual({
        state: "failed",
        description: "The resize broke the instance.",
        instance_usable: false,
        update_repeatable: false
      })
    }))

  it.scoped("LO-4 / DEP-5 failed deprovision: last_operation carries instance_usable, not update_repeatable", () =>
    Effect.gen(function*() {
      const { client } = yield* setup()
      yield* ready(client, "i1", { failDelete: true })
      const deleting = yield* client.call("DELETE", instancePath("i1", `${q("async")}&${AI}`))
      expect(deleting.status).toBe(202)
      yield* advance("10 seconds")
      const failed = yield* client.call("GET", lastOperationPath("i1", opQuery(deleting.body.operation)))
      expect(failed.status).toBe(200)
      expect(failed.body).toEqual({
        state: "failed",
        description: "The backups could not be removed.",
        instance_usable: true
      })
      // the instance is still there
      const fetched = yield* client.call("GET", instancePath("i1"))
      expect(fetched.status).toBe(200)
    }))
})

describe("managed async: binding last_operation (E10)", () => {
  it.scoped("LO-7 decision 29 after an instance's async delete, E10 for a binding id never seen there -> 404", () =>
    Effect.gen(function*() {
      const { client } = yield* setup()
      yield* ready(client, "i1")
      yield* bound(client, "i1", "b1")
      const deleting = yield* client.call("DELETE", instancePath("i1", `${q("async")}&${AI}`))
      expect(deleting.status).toBe(202)
      yield* advance("10 seconds")
      expect((yield* client.call("GET", lastOperationPath("i1"))).status).toBe(410)
      // the binding that went with the instance (decision 31) may answer 410; an id never bound there is unknown
      expect((yield* client.call("GET", bindingLastOperationPath("i1", "b1"))).status).toBe(410)
      const neverSeen = yield* client.call("GET", bindingLastOperationPath("i1", "never-bound"))
      expect(neverSeen.status).toBe(404)
    }))

  it.scoped("LO-4 / LO-5 E10 in progress with Retry-After, then succeeded; fetch binding 404 until then", () =>
    Effect.gen(function*() {
      const { client } = yield* setup()
      yield* ready(client, "i1")
      const accepted = yield* client.call("PUT", bindingPath("i1", "b1", AI), { body: bindBody("async") })
      expect(accepted.status).toBe(202)
      expect(Object.keys(accepted.body)).toEqual(["operation"])
      const polling = yield* client.call("GET", bindingLastOperationPath("i1", "b1", opQuery(accepted.body.operation)))
      expect(polling.status).toBe(200)
      expect(polling.body).toEqual({ state: "in progress" })
      expect(polling.headers.get("retry-after")).toBe("2")
      const fetchedDuring = yield* client.call("GET", bindingPath("i1", "b1"))
      expect(fetchedDuring.status).toBe(404)
      yield* advance("10 seconds")
      const done = yield* client.call("GET", bindingLastOperationPath("i1", "b1", opQuery(accepted.body.operation)))
      expect(done.body).toEqual({ state: "succeeded" })
      expect(done.headers.get("retry-after")).toBeNull()
      const latest = yield* client.call("GET", bindingLastOperationPath("i1", "b1"))
      expect(latest.body).toEqual({ state: "succeeded" })
      // GB-1: the credentials are there as soon as E10 says succeeded
      const fetched = yield* client.call("GET", bindingPath("i1", "b1"))
      expect(fetched.status).toBe(200)
      expect(fetched.body.credentials).toMatchObject({ username: "u-b1" })
      // LO-6: still answerable later
      yield* advance("10 minutes")
      const later = yield* client.call("GET", bindingLastOperationPath("i1", "b1", opQuery(accepted.body.operation)))
      expect(later.body).toEqual({ state: "succeeded" })
    }))

  it.scoped("decision 30 E10 unknown operation for a known binding -> 400; unknown binding -> 404", () =>
    Effect.gen(function*() {
      const { client } = yield* setup()
      const provisionOp = yield* ready(client, "i1")
      yield* bound(client, "i1", "b1")
      const unknown = yield* client.call("GET", bindingLastOperationPath("i1", "b1", opQuery("no-such-operation")))
      expect(unknown.status).toBe(400)
      const instanceOp = yield* client.call("GET", bindingLastOperationPath("i1", "b1", opQuery(provisionOp)))
      expect(instanceOp.status).toBe(400)
      const neverSeen = yield* client.call("GET", bindingLastOperationPath("i1", "never-seen"))
      expect(neverSeen.status).toBe(404)
      const noInstance = yield* client.call("GET", bindingLastOperationPath("no-instance", "b1"))
      expect(noInstance.status).toBe(404)
    }))

  it.scoped("LO-7 E10 a finished async unbind -> 410 {}", () =>
    Effect.gen(function*() {
      const { client } = yield* setup()
      yield* ready(client, "i1")
      yield* bound(client, "i1", "b1")
      const unbinding = yield* client.call("DELETE", bindingPath("i1", "b1", `${q("async")}&${AI}`))
      expect(unbinding.status).toBe(202)
      const during = yield* client.call("GET", bindingLastOperationPath("i1", "b1", opQuery(unbinding.body.operation)))
      expect(during.body).toEqual({ state: "in progress" })
      yield* advance("10 seconds")
      const gone = yield* client.call("GET", bindingLastOperationPath("i1", "b1", opQuery(unbinding.body.operation)))
      expect(gone.status).toBe(410)
      expect(gone.body).toEqual({})
      const fetched = yield* client.call("GET", bindingPath("i1", "b1"))
      expect(fetched.status).toBe(404)
    }))

  it.scoped("LO-4 E10 a failed async bind reports failed with the author's description; a defect a generic one", () =>
    Effect.gen(function*() {
      const { client } = yield* setup()
      yield* ready(client, "i1")
      yield* client.call("PUT", bindingPath("i1", "b1", AI), {
        body: bindBody("async", { parameters: { fail: true } })
      })
      yield* client.call("PUT", bindingPath("i1", "b2", AI), { body: bindBody("async", { parameters: { die: true } }) })
      yield* advance("10 seconds")
      const failed = yield* client.call("GET", bindingLastOperationPath("i1", "b1"))
      expect(failed.body).toEqual({ state: "failed", description: "The user could not be created." })
      const died = yield* client.call("GET", bindingLastOperationPath("i1", "b2"))
      expect(died.body.state).toBe("failed")
      expect(typeof died.body.description).toBe("string")
      expect(died.text).not.toContain("s3cr3t")
      expect(died.text).not.toContain("exploded")
      expect((yield* client.call("GET", bindingPath("i1", "b1"))).status).toBe(404)
      expect((yield* client.call("GET", bindingPath("i1", "b2"))).status).toBe(404)
      // OM-2: the platform deletes the failed binding
      const unbinding = yield* client.call("DELETE", bindingPath("i1", "b1", `${q("async")}&${AI}`))
      expect(unbinding.status).toBe(202)
      yield* advance("10 seconds")
      expect((yield* client.call("GET", bindingLastOperationPath("i1", "b1"))).status).toBe(410)
    }))
})

describe("managed async: maximum_polling_duration (LO-9)", () => {
  it.scoped("LO-9 past the plan's maximum_polling_duration the provision fails, naming the limit; the work is stopped", () =>
    Effect.gen(function*() {
      const { client, log } = yield* setup()
      const accepted = yield* client.call("PUT", instancePath("i1", AI), { body: provisionBody("bounded") })
      expect(accepted.status).toBe(202)
      yield* advance("59 seconds")
      const before = yield* client.call("GET", lastOperationPath("i1"))
      expect(before.body).toEqual({ state: "in progress" })
      yield* advance("2 seconds")
      const failed = yield* client.call("GET", lastOperationPath("i1", opQuery(accepted.body.operation)))
      expect(failed.status).toBe(200)
      expect(failed.body.state).toBe("failed")
      expect(failed.body.description).toContain("maximum_polling_duration")
      expect(failed.body.description).toContain("60")
      expect(Object.keys(failed.body).sort()).toEqual(["description", "state"])
      const events = yield* log.all
      expect(events).toContain("provision:interrupted")
      expect(events).not.toContain("provision:done")
      expect((yield* client.call("GET", instancePath("i1"))).status).toBe(404)
    }))

  it.scoped("LO-9 past the plan's maximum_polling_duration the bind fails, naming the limit; the work is stopped", () =>
    Effect.gen(function*() {
      const { client, log } = yield* setup()
      const accepted = yield* client.call("PUT", instancePath("i1", AI), {
        body: provisionBody("bounded", { parameters: { quick: true } })
      })
      expect(accepted.status).toBe(202)
      yield* advance("1 second")
      expect((yield* client.call("GET", lastOperationPath("i1"))).body).toEqual({ state: "succeeded" })
      const binding = yield* client.call("PUT", bindingPath("i1", "b1", AI), { body: bindBody("bounded") })
      expect(binding.status).toBe(202)
      yield* advance("59 seconds")
      expect((yield* client.call("GET", bindingLastOperationPath("i1", "b1"))).body).toEqual({ state: "in progress" })
      yield* advance("2 seconds")
      const failed = yield* client.call("GET", bindingLastOperationPath("i1", "b1", opQuery(binding.body.operation)))
      expect(failed.body.state).toBe("failed")
      expect(failed.body.description).toContain("maximum_polling_duration")
      expect(failed.body.description).toContain("60")
      const events = yield* log.all
      expect(events).toContain("bind:interrupted")
      expect(events).not.toContain("bind:done")
      expect((yield* client.call("GET", bindingPath("i1", "b1"))).status).toBe(404)
    }))
})

describe("quick start broker on the managed model (examples/managed-broker.ts)", () => {
  const S = Managed.SERVICE_ID
  const L = Managed.LARGE_PLAN_ID
  const SMALL = Managed.SMALL_PLAN_ID
  const body = { service_id: S, plan_id: L, organization_guid: "o", space_guid: "s" }
  const query = `service_id=${S}&plan_id=${L}`

  it.scoped("plan large: every operation is async and takes the configured delay; plan small is sync", () =>
    Effect.gen(function*() {
      const client = yield* makeEffectClient(Managed.layerWith(Duration.seconds(5)))
      const refused = yield* client.call("PUT", "/v2/service_instances/x", { body })
      expect(refused.status).toBe(422)
      expect(refused.body.error).toBe("AsyncRequired")
      const accepted = yield* client.call("PUT", "/v2/service_instances/x?accepts_incomplete=true", { body })
      expect(accepted.status).toBe(202)
      expect(accepted.body.dashboard_url).toBe("https://dashboard.example.com/instances/x")
      yield* advance("4 seconds")
      expect((yield* client.call("GET", "/v2/service_instances/x/last_operation")).body).toEqual({
        state: "in progress"
      })
      yield* advance("1 second")
      expect((yield* client.call("GET", "/v2/service_instances/x/last_operation")).body).toEqual({ state: "succeeded" })

      const binding = yield* client.call("PUT", "/v2/service_instances/x/service_bindings/b?accepts_incomplete=true", {
        body: { service_id: S, plan_id: L }
      })
      expect(binding.status).toBe(202)
      yield* advance("5 seconds")
      const bindState = yield* client.call("GET", "/v2/service_instances/x/service_bindings/b/last_operation")
      expect(bindState.body).toEqual({ state: "succeeded" })
      const fetched = yield* client.call("GET", "/v2/service_instances/x/service_bindings/b")
      expect(fetched.status).toBe(200)
      expect(fetched.body.credentials.uri).toContain("/x")
      const repeat = yield* client.call("PUT", "/v2/service_instances/x/service_bindings/b?accepts_incomplete=true", {
        body: { service_id: S, plan_id: L }
      })
      expect(repeat.status).toBe(200)
      expect(repeat.body.credentials).toEqual(fetched.body.credentials)

      const unbinding = yield* client.call(
        "DELETE",
        `/v2/service_instances/x/service_bindings/b?${query}&accepts_incomplete=true`
      )
      expect(unbinding.status).toBe(202)
      yield* advance("5 seconds")
      expect((yield* client.call("GET", "/v2/service_instances/x/service_bindings/b/last_operation")).status).toBe(410)

      const deleting = yield* client.call("DELETE", `/v2/service_instances/x?${query}&accepts_incomplete=true`)
      expect(deleting.status).toBe(202)
      yield* advance("5 seconds")
      expect((yield* client.call("GET", "/v2/service_instances/x/last_operation")).status).toBe(410)

      const small = yield* client.call("PUT", "/v2/service_instances/y", { body: { ...body, plan_id: SMALL } })
      expect(small.status).toBe(201)
      const smallBind = yield* client.call("PUT", "/v2/service_instances/y/service_bindings/c", {
        body: { service_id: S, plan_id: SMALL }
      })
      expect(smallBind.status).toBe(201)
      expect(smallBind.body.credentials.username).toMatch(/^u_/)
    }))
})
