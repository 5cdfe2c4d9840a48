/**
 * Operation takeover in process, on the real clock: two managed brokers (replicas A and B, `ManagedBroker.layer`
 * over `SqlStore.layerSqlite` on one shared file) with a short lease TTL and takeover interval. A "crash" of A is
 * the close of its scope without a drain: its background fibers are interrupted and its operations stay
 * "in progress" with A's lease. Once the lease expires, B marks an operation whose step is not resumable `failed`
 * ("cannot be resumed") and puts the resource back in a sensible state, and runs a resumable step again to its end.
 * An operation whose lease is live is never taken over, and the leases a drain releases stay released.
 */
import { Context, Effect, Exit, Layer, Option, Scope } from "effect"
import { randomUUID } from "node:crypto"
import { mkdtempSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterEach, describe, expect, it } from "vitest"
import { BrokerLifecycle, BrokerStore, Catalog, ManagedBroker, SqlStore } from "../src/index.js"
import { pollUntil, sleep } from "./support/brokerProcess.js"
import { clientFor, type Reply } from "./support/http.js"
import {
  AI,
  bindBody,
  bindingLastOperationPath,
  bindingPath,
  catalogOf,
  instancePath,
  lastOperationPath,
  opQuery,
  plan,
  provisionBody,
  q,
  SID,
  syncWork,
  updateBody
} from "./support/managedKit.js"

const LEASE_TTL_MS = 600
const TAKEOVER_INTERVAL_MS = 200
/** Scheduling on a loaded machine (2 shared cores), SQLite writes, polling granularity. */
const SLACK_MS = 2500
/** Long enough that A never finishes before its crash. */
const A_DELAY_MS = 30_000
const B_DELAY_MS = 150

/** `base` is synchronous; `fragile` is asynchronous and not resumable; `durable` asynchronous and resumable. */
const catalog = catalogOf([plan("base"), plan("fragile"), plan("durable")])

const dir = mkdtempSync(join(tmpdir(), "osb-takeover-"))
let files = 0

/** What the author's work did, as `<replica>:<step>:<start|done>`. */
const events: Array<string> = []
const ran = (replica: string, step: string) => events.filter((e) => e === `${replica}:${step}:start`).length
/** The originating identity each step's work saw, as `<replica>:<step>:<platform> <value JSON>` (or `none`). */
const identities: Array<string> = []

type Asked = { readonly originatingIdentity: ManagedBroker.ProvisionContext["originatingIdentity"] }

const work = (replica: string, delayMs: number): ManagedBroker.OfferingWork => {
  const slowly = <A>(step: string, value: () => A) => (ctx: Asked) =>
    Effect.sync(() => {
      events.push(`${replica}:${step}:start`)
      identities.push(`${replica}:${step}:${
        Option.match(ctx.originatingIdentity, {
          onNone: () => "none",
          onSome: (identity) => `${identity.platform} ${JSON.stringify(identity.value)}`
        })
      }`)
    }).pipe(
      Effect.zipRight(Effect.sleep(delayMs)),
      Effect.zipRight(Effect.sync(() => events.push(`${replica}:${step}:done`))),
      Effect.map(value)
    )
  const steps = (resumable: boolean) => ({
    provision: ManagedBroker.async(slowly("provision", () => ({})), { resumable }),
    update: ManagedBroker.async(slowly("update", () => ({})), { resumable }),
    deprovision: ManagedBroker.async(slowly("deprovision", () => undefined), { resumable }),
    bind: ManagedBroker.async(
      slowly("bind", () => ({ credentials: { replica, password: randomUUID() } })),
      { resumable }
    ),
    unbind: ManagedBroker.async(slowly("unbind", () => undefined), { resumable })
  })
  return syncWork({ plans: { fragile: steps(false), durable: steps(true) } })
}

interface Replica {
  readonly id: string
  readonly call: (
    method: string,
    path: string,
    body?: unknown,
    headers?: Record<string, string>
  ) => Promise<Reply>
  readonly store: BrokerStore.BrokerStoreService
  readonly lifecycle: BrokerLifecycle.BrokerLifecycleService
  /** Closes the broker's scope without draining: its running operations are abandoned. */
  readonly crash: () => Promise<void>
}

const open: Array<Replica> = []

afterEach(async () => {
  for (const replica of open.splice(0)) await replica.crash()
  events.length = 0
  identities.length = 0
})

const replica = async (id: string, file: string, delayMs: number): Promise<Replica> => {
  const layer = ManagedBroker.layer({ [SID]: work(id, delayMs) }, {
    leaseTtl: LEASE_TTL_MS,
    takeoverInterval: TAKEOVER_INTERVAL_MS,
    replicaId: id
  }).pipe(
    Layer.provideMerge(Catalog.layer(catalog)),
    Layer.provideMerge(SqlStore.layerSqlite(file))
  )
  const scope = Effect.runSync(Scope.make())
  const context = await Effect.runPromise(Layer.buildWithScope(layer, scope))
  const client = clientFor(Layer.succeedContext(context))
  let closed = false
  const crash = async () => {
    if (closed) return
    closed = true
    await Effect.runPromise(Scope.close(scope, Exit.void))
    await client.dispose()
  }
  const r: Replica = {
    id,
    call: (method, path, body, headers) =>
      client.call(method, path, {
        ...(body === undefined ? {} : { body }),
        ...(headers === undefined ? {} : { headers })
      }),
    store: Context.get(context, BrokerStore.BrokerStore),
    lifecycle: Context.get(context, BrokerLifecycle.BrokerLifecycle),
    crash
  }
  open.push(r)
  return r
}

/** Replicas A (slow work) and B (quick work) on a fresh SQLite file. */
const pair = async (aDelayMs = A_DELAY_MS) => {
  const file = join(dir, `takeover-${++files}.sqlite`)
  const a = await replica("replica-A", file, aDelayMs)
  const b = await replica("replica-B", file, B_DELAY_MS)
  return { a, b, file }
}

const operation = async (store: BrokerStore.BrokerStoreService, instanceId: string, operationId: string) => {
  const snapshot = await Effect.runPromise(store.read(instanceId))
  const found = snapshot.operations.get(operationId)
  expect(found, `operation ${operationId}`).toBeDefined()
  return found!
}

/** Polls an operation on `replica` until it is no longer in progress. */
const settle = async (replica: Replica, path: string, timeoutMs: number) => {
  const reply = await pollUntil(
    `${path} on ${replica.id}`,
    () => replica.call("GET", path),
    (r) => r.status !== 200 || r.body?.state !== "in progress",
    timeoutMs,
    50
  )
  return { reply, at: Date.now() }
}

/** Waits until A's work has started, crashes A, checks the operation is still A's and in progress. */
const crashMidOperation = async (a: Replica, b: Replica, step: string, instanceId: string, operationId: string) => {
  await pollUntil(`${a.id}'s ${step} to start`, async () => ran(a.id, step), (n) => n > 0, 5000, 10)
  await a.crash()
  const crashedAt = Date.now()
  const abandoned = await operation(b.store, instanceId, operationId)
  expect(abandoned).toEqual(expect.objectContaining({ state: "in progress", owner: a.id }))
  expect(events).not.toContain(`${a.id}:${step}:done`)
  return crashedAt + LEASE_TTL_MS + TAKEOVER_INTERVAL_MS + SLACK_MS
}

const ready = async (r: Replica, path: string) =>
  expect((await settle(r, path, 5000)).reply.body).toEqual({ state: "succeeded" })

const cannotResume = expect.stringContaining("cannot be resumed")

describe("a crashed replica's non-resumable operations are failed by the other replica", () => {
  it("provision: failed with a clear description; the failed instance can be deleted and provisioned again", async () => {
    const { a, b } = await pair()
    const put = await a.call("PUT", instancePath("p1", AI), provisionBody("fragile"))
    expect(put.status).toBe(202)
    const deadline = await crashMidOperation(a, b, "provision", "p1", put.body.operation)

    const failed = await settle(b, lastOperationPath("p1", opQuery(put.body.operation)), 15_000)
    expect(failed.reply.status).toBe(200)
    expect(failed.reply.body).toEqual({ state: "failed", description: cannotResume })
    expect(failed.at).toBeLessThanOrEqual(deadline)
    expect(ran(b.id, "provision")).toBe(0)
    expect(await operation(b.store, "p1", put.body.operation)).toEqual(
      expect.objectContaining({ state: "failed", description: cannotResume })
    )

    // a failed instance: not retrievable, not provisionable again as is, removable by a DELETE
    expect((await b.call("GET", instancePath("p1"))).status).toBe(404)
    const again = await b.call("PUT", instancePath("p1", AI), provisionBody("fragile"))
    expect(again.status).toBe(409)
    const deleted = await b.call("DELETE", instancePath("p1", `${AI}&${q("fragile")}`))
    expect(deleted.status).toBe(202)
    const gone = await settle(b, lastOperationPath("p1", opQuery(deleted.body.operation)), 5000)
    expect([gone.reply.status, gone.reply.body]).toEqual([410, {}])
    const fresh = await b.call("PUT", instancePath("p1", AI), provisionBody("fragile"))
    expect(fresh.status).toBe(202)
    await ready(b, lastOperationPath("p1", opQuery(fresh.body.operation)))
    expect((await b.call("GET", instancePath("p1"))).status).toBe(200)
  })

  it("update: failed; the instance is ready again on its old plan and can be updated", async () => {
    const { a, b } = await pair()
    expect((await a.call("PUT", instancePath("u1"), provisionBody("base", { parameters: { v: 1 } }))).status)
      .toBe(201)
    const patch = await a.call(
      "PATCH",
      instancePath("u1", AI),
      updateBody({ plan_id: "fragile", parameters: { v: 2 } })
    )
    expect(patch.status).toBe(202)
    const deadline = await crashMidOperation(a, b, "update", "u1", patch.body.operation)

    const failed = await settle(b, lastOperationPath("u1", opQuery(patch.body.operation)), 15_000)
    expect(failed.reply.body).toEqual(expect.objectContaining({ state: "failed", description: cannotResume }))
    expect(failed.at).toBeLessThanOrEqual(deadline)
    expect(ran(b.id, "update")).toBe(0)
    const fetched = await b.call("GET", instancePath("u1"))
    expect(fetched.status).toBe(200)
    expect(fetched.body).toEqual(expect.objectContaining({ plan_id: "base", parameters: { v: 1 } }))

    const retry = await b.call(
      "PATCH",
      instancePath("u1", AI),
      updateBody({ plan_id: "fragile", parameters: { v: 2 } })
    )
    expect(retry.status).toBe(202)
    await ready(b, lastOperationPath("u1", opQuery(retry.body.operation)))
    expect((await b.call("GET", instancePath("u1"))).body).toEqual(
      expect.objectContaining({ plan_id: "fragile", parameters: { v: 2 } })
    )
  })

  it("deprovision: failed; the instance is ready again and can be deleted", async () => {
    const { a, b } = await pair()
    const put = await b.call("PUT", instancePath("d1", AI), provisionBody("fragile"))
    await ready(b, lastOperationPath("d1", opQuery(put.body.operation)))
    const del = await a.call("DELETE", instancePath("d1", `${AI}&${q("fragile")}`))
    expect(del.status).toBe(202)
    const deadline = await crashMidOperation(a, b, "deprovision", "d1", del.body.operation)

    const failed = await settle(b, lastOperationPath("d1", opQuery(del.body.operation)), 15_000)
    expect(failed.reply.body).toEqual(expect.objectContaining({ state: "failed", description: cannotResume }))
    expect(failed.at).toBeLessThanOrEqual(deadline)
    expect(ran(b.id, "deprovision")).toBe(0)
    expect((await b.call("GET", instancePath("d1"))).status).toBe(200)

    const retry = await b.call("DELETE", instancePath("d1", `${AI}&${q("fragile")}`))
    expect(retry.status).toBe(202)
    const gone = await settle(b, lastOperationPath("d1", opQuery(retry.body.operation)), 5000)
    expect([gone.reply.status, gone.reply.body]).toEqual([410, {}])
  })

  it("bind: failed; the failed binding is not served, can be unbound and bound again", async () => {
    const { a, b } = await pair()
    const put = await b.call("PUT", instancePath("b1", AI), provisionBody("fragile"))
    await ready(b, lastOperationPath("b1", opQuery(put.body.operation)))
    const bind = await a.call("PUT", bindingPath("b1", "x", AI), bindBody("fragile"))
    expect(bind.status).toBe(202)
    const deadline = await crashMidOperation(a, b, "bind", "b1", bind.body.operation)

    const failed = await settle(b, bindingLastOperationPath("b1", "x", opQuery(bind.body.operation)), 15_000)
    expect(failed.reply.body).toEqual({ state: "failed", description: cannotResume })
    expect(failed.at).toBeLessThanOrEqual(deadline)
    expect(ran(b.id, "bind")).toBe(0)
    expect((await b.call("GET", bindingPath("b1", "x"))).status).toBe(404)
    expect((await b.call("PUT", bindingPath("b1", "x", AI), bindBody("fragile"))).status).toBe(409)

    const unbind = await b.call("DELETE", bindingPath("b1", "x", `${AI}&${q("fragile")}`))
    expect(unbind.status).toBe(202)
    const gone = await settle(b, bindingLastOperationPath("b1", "x", opQuery(unbind.body.operation)), 5000)
    expect([gone.reply.status, gone.reply.body]).toEqual([410, {}])
    const rebind = await b.call("PUT", bindingPath("b1", "x", AI), bindBody("fragile"))
    expect(rebind.status).toBe(202)
    await ready(b, bindingLastOperationPath("b1", "x", opQuery(rebind.body.operation)))
    expect((await b.call("GET", bindingPath("b1", "x"))).body.credentials).toEqual(
      expect.objectContaining({ replica: b.id })
    )
  })

  it("unbind: failed; the binding is served again with the same credentials", async () => {
    const { a, b } = await pair()
    const put = await b.call("PUT", instancePath("n1", AI), provisionBody("fragile"))
    await ready(b, lastOperationPath("n1", opQuery(put.body.operation)))
    const bind = await b.call("PUT", bindingPath("n1", "y", AI), bindBody("fragile"))
    await ready(b, bindingLastOperationPath("n1", "y", opQuery(bind.body.operation)))
    const before = await b.call("GET", bindingPath("n1", "y"))
    expect(before.status).toBe(200)
    const unbind = await a.call("DELETE", bindingPath("n1", "y", `${AI}&${q("fragile")}`))
    expect(unbind.status).toBe(202)
    const deadline = await crashMidOperation(a, b, "unbind", "n1", unbind.body.operation)

    const failed = await settle(b, bindingLastOperationPath("n1", "y", opQuery(unbind.body.operation)), 15_000)
    expect(failed.reply.body).toEqual({ state: "failed", description: cannotResume })
    expect(failed.at).toBeLessThanOrEqual(deadline)
    expect(ran(b.id, "unbind")).toBe(0)
    const after = await b.call("GET", bindingPath("n1", "y"))
    expect(after.status).toBe(200)
    expect(after.body).toEqual(before.body)
  })
})

describe("a crashed replica's resumable operations are run again by the other replica", () => {
  it("provision, update and bind are resumed with the same operation and succeed", async () => {
    const { a, b } = await pair()
    // an instance on `durable` (B's quick work) to bind to and update
    const base = await b.call("PUT", instancePath("r0", AI), provisionBody("durable", { parameters: { v: 1 } }))
    await ready(b, lastOperationPath("r0", opQuery(base.body.operation)))

    const provision = await a.call("PUT", instancePath("r1", AI), provisionBody("durable"))
    expect(provision.status).toBe(202)
    const bind = await a.call("PUT", bindingPath("r0", "z", AI), bindBody("durable"))
    expect(bind.status).toBe(202)
    await pollUntil("A's bind to start", async () => ran(a.id, "bind"), (n) => n > 0, 5000, 10)
    const deadline = await crashMidOperation(a, b, "provision", "r1", provision.body.operation)

    const provisioned = await settle(b, lastOperationPath("r1", opQuery(provision.body.operation)), 15_000)
    expect(provisioned.reply.body).toEqual({ state: "succeeded" })
    expect(provisioned.at).toBeLessThanOrEqual(deadline + B_DELAY_MS)
    const bound = await settle(b, bindingLastOperationPath("r0", "z", opQuery(bind.body.operation)), 15_000)
    expect(bound.reply.body).toEqual({ state: "succeeded" })
    expect(bound.at).toBeLessThanOrEqual(deadline + B_DELAY_MS)
    expect(events).toEqual(expect.arrayContaining([`${b.id}:provision:done`, `${b.id}:bind:done`]))
    expect((await b.call("GET", instancePath("r1"))).status).toBe(200)
    expect((await b.call("GET", bindingPath("r0", "z"))).body.credentials).toEqual(
      expect.objectContaining({ replica: b.id })
    )
    expect(await operation(b.store, "r1", provision.body.operation)).toEqual(
      expect.objectContaining({ state: "succeeded", owner: b.id })
    )
  })

  it("OID: a resumed step sees the originating identity of the request that started it", async () => {
    const { a, b } = await pair()
    const base = await b.call("PUT", instancePath("id0", AI), provisionBody("durable"))
    await ready(b, lastOperationPath("id0", opQuery(base.body.operation)))
    const alice = { "x-broker-api-originating-identity": `example ${btoa(JSON.stringify({ user: "alice" }))}` }
    const bob = { "x-broker-api-originating-identity": `example ${btoa(JSON.stringify({ user: "bob" }))}` }
    const provision = await a.call("PUT", instancePath("id1", AI), provisionBody("durable"), alice)
    expect(provision.status).toBe(202)
    const bind = await a.call("PUT", bindingPath("id0", "zi", AI), bindBody("durable"), bob)
    expect(bind.status).toBe(202)
    await pollUntil("A's bind to start", async () => ran(a.id, "bind"), (n) => n > 0, 5000, 10)
    await crashMidOperation(a, b, "provision", "id1", provision.body.operation)
    expect((await settle(b, lastOperationPath("id1", opQuery(provision.body.operation)), 15_000)).reply.body)
      .toEqual({ state: "succeeded" })
    expect((await settle(b, bindingLastOperationPath("id0", "zi", opQuery(bind.body.operation)), 15_000)).reply.body)
      .toEqual({ state: "succeeded" })
    expect(identities).toEqual(expect.arrayContaining([
      `${a.id}:provision:example {"user":"alice"}`,
      `${b.id}:provision:example {"user":"alice"}`,
      `${a.id}:bind:example {"user":"bob"}`,
      `${b.id}:bind:example {"user":"bob"}`
    ]))
    expect(identities.filter((seen) => seen.startsWith(`${b.id}:`) && !seen.endsWith("none"))).toHaveLength(2)
  })

  it("update, deprovision and unbind are resumed and succeed", async () => {
    const { a, b, file } = await pair()
    const u = await b.call("PUT", instancePath("ru", AI), provisionBody("durable", { parameters: { v: 1 } }))
    const d = await b.call("PUT", instancePath("rd", AI), provisionBody("durable"))
    await ready(b, lastOperationPath("ru", opQuery(u.body.operation)))
    await ready(b, lastOperationPath("rd", opQuery(d.body.operation)))
    const bind = await b.call("PUT", bindingPath("rd", "w", AI), bindBody("durable"))
    await ready(b, bindingLastOperationPath("rd", "w", opQuery(bind.body.operation)))

    const patch = await a.call("PATCH", instancePath("ru", AI), updateBody({ parameters: { v: 2 } }))
    expect(patch.status).toBe(202)
    const unbind = await a.call("DELETE", bindingPath("rd", "w", `${AI}&${q("durable")}`))
    expect(unbind.status).toBe(202)
    await pollUntil("A's unbind to start", async () => ran(a.id, "unbind"), (n) => n > 0, 5000, 10)
    const deadline = await crashMidOperation(a, b, "update", "ru", patch.body.operation)

    const updated = await settle(b, lastOperationPath("ru", opQuery(patch.body.operation)), 15_000)
    expect(updated.reply.body).toEqual({ state: "succeeded" })
    expect(updated.at).toBeLessThanOrEqual(deadline + B_DELAY_MS)
    expect((await b.call("GET", instancePath("ru"))).body.parameters).toEqual({ v: 2 })
    const unbound = await settle(b, bindingLastOperationPath("rd", "w", opQuery(unbind.body.operation)), 15_000)
    expect([unbound.reply.status, unbound.reply.body]).toEqual([410, {}])
    expect(unbound.at).toBeLessThanOrEqual(deadline + B_DELAY_MS)

    // and a deprovision abandoned the same way
    const a2 = await replica("replica-A2", file, A_DELAY_MS)
    const del = await a2.call("DELETE", instancePath("rd", `${AI}&${q("durable")}`))
    expect(del.status).toBe(202)
    const deadline2 = await crashMidOperation(a2, b, "deprovision", "rd", del.body.operation)
    const gone = await settle(b, lastOperationPath("rd", opQuery(del.body.operation)), 15_000)
    expect([gone.reply.status, gone.reply.body]).toEqual([410, {}])
    expect(gone.at).toBeLessThanOrEqual(deadline2 + B_DELAY_MS)
    expect(ran(b.id, "deprovision")).toBe(1)
  })
})

describe("leases", () => {
  it("operations with a live lease are not taken over, resumable or not", async () => {
    const { a, b } = await pair(2500)
    const fragile = await a.call("PUT", instancePath("l1", AI), provisionBody("fragile"))
    const durable = await a.call("PUT", instancePath("l2", AI), provisionBody("durable"))
    expect([fragile.status, durable.status]).toEqual([202, 202])
    // B looks for orphans every 200 ms, for several lease TTLs, while A renews its leases
    const until = Date.now() + 2000
    while (Date.now() < until) {
      for (const [id, op] of [["l1", fragile.body.operation], ["l2", durable.body.operation]] as const) {
        expect(await operation(b.store, id, op)).toEqual(expect.objectContaining({ state: "in progress", owner: a.id }))
        expect((await b.call("GET", lastOperationPath(id, opQuery(op)))).body).toEqual({ state: "in progress" })
      }
      await sleep(100)
    }
    await ready(b, lastOperationPath("l1", opQuery(fragile.body.operation)))
    await ready(b, lastOperationPath("l2", opQuery(durable.body.operation)))
    expect(ran(a.id, "provision")).toBe(2)
    expect(ran(b.id, "provision")).toBe(0)
  })

  it("a drain run as a finalizer (as Server.serve runs it) gives up after its timeout", async () => {
    const file = join(dir, `takeover-${++files}.sqlite`)
    const a = await replica("replica-A", file, 5000)
    const put = await a.call("PUT", instancePath("df", AI), provisionBody("durable"))
    expect(put.status).toBe(202)
    await pollUntil("A's provision to start", async () => ran(a.id, "provision"), (n) => n > 0, 5000, 10)

    // as in Server.serve: a finalizer added in a scoped region; finalizers run uninterruptibly
    const closing = Date.now()
    await Effect.runPromise(Effect.scoped(Effect.addFinalizer(() => a.lifecycle.drain("300 millis"))))
    const took = Date.now() - closing
    expect(took, "the drain waited for the work instead of its timeout").toBeLessThan(300 + SLACK_MS)
    expect(events).not.toContain(`${a.id}:provision:done`)
    expect(await operation(a.store, "df", put.body.operation)).toEqual(
      expect.objectContaining({ state: "in progress", owner: a.id })
    )
  })

  it("the leases a drain releases stay released, so another replica takes over at once", async () => {
    const file = join(dir, `takeover-${++files}.sqlite`)
    const a = await replica("replica-A", file, A_DELAY_MS)
    const put = await a.call("PUT", instancePath("dr", AI), provisionBody("durable"))
    expect(put.status).toBe(202)
    await pollUntil("A's provision to start", async () => ran(a.id, "provision"), (n) => n > 0, 5000, 10)

    // the drain gives up after 100 ms and releases the lease; A's scope stays open (the rest of a shutdown)
    await Effect.runPromise(a.lifecycle.drain("100 millis"))
    const released = await operation(a.store, "dr", put.body.operation)
    expect(released.leaseExpiresAt ?? 0).toBeLessThan(Date.now())
    await sleep(LEASE_TTL_MS)
    const later = await operation(a.store, "dr", put.body.operation)
    expect(later.owner).toBe(a.id)
    expect(later.leaseExpiresAt ?? 0, "a released lease was renewed again").toBeLessThan(Date.now())

    const b = await replica("replica-B", file, B_DELAY_MS)
    const openedAt = Date.now()
    const done = await settle(b, lastOperationPath("dr", opQuery(put.body.operation)), 15_000)
    expect(done.reply.body).toEqual({ state: "succeeded" })
    expect(done.at - openedAt).toBeLessThanOrEqual(TAKEOVER_INTERVAL_MS + B_DELAY_MS + SLACK_MS)
    expect(ran(b.id, "provision")).toBe(1)
  })
})
