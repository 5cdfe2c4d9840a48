/**
 * Two replicas of the compiled quick start on one PostgreSQL database (different ports): identical requests racing
 * across replicas create one resource, an operation started on one replica is polled on the other, a replica
 * killed with SIGKILL loses its running operation to the other one within the lease TTL + takeover interval, and a
 * replica paused with SIGSTOP past its lease does not overwrite the outcome of the replica that took over, and a
 * replica stopped with SIGTERM drains (503 + Retry-After for mutations, GETs still answered), for a bounded time,
 * then releases its lease so the other replica takes the operation over at once. Underneath: a store read on one
 * replica is a consistent snapshot while another replica writes.
 */
import { Context, Effect, Layer } from "effect"
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest"
import { BrokerStore, SqlStore } from "../src/index.js"
import {
  AI,
  bindBody,
  bindingLastOperationPath,
  bindingPath,
  deleteQuery,
  instancePath,
  kill9,
  killAll,
  LARGE_PLAN_ID,
  lastOperationPath,
  pollUntil,
  provisionBody,
  type Reply,
  SERVICE_ID,
  settle,
  sleep,
  SMALL_PLAN_ID,
  startBroker,
  type StartOptions
} from "./support/brokerProcess.js"
import { sharedQuickstart } from "./support/build.js"
import { freshDatabase, query } from "./support/pg.js"

const LEASE_TTL_MS = 1000
const TAKEOVER_INTERVAL_MS = 500
/** Process start-up, polling granularity and a loaded machine (2 shared cores). */
const SLACK_MS = 4000

let built: string | undefined

beforeAll(async () => {
  built = await sharedQuickstart()
}, 300_000)

afterEach(killAll)

afterAll(async () => {
  await killAll()
})

type Settings = Partial<Omit<StartOptions, "name" | "script" | "store">>

/** Two replicas on a fresh database. */
const replicas = async (a: Settings = {}, b: Settings = {}) => {
  const store = await freshDatabase()
  const defaults = { delayMs: 2000, leaseTtlMs: LEASE_TTL_MS, takeoverIntervalMs: TAKEOVER_INTERVAL_MS }
  const first = await startBroker({ name: "A", script: built!, store, ...defaults, ...a })
  const second = await startBroker({ name: "B", script: built!, store, ...defaults, ...b })
  return { store, a: first, b: second }
}

const statusCounts = (replies: ReadonlyArray<Reply>) => {
  const counts: Record<number, number> = {}
  for (const r of replies) counts[r.status] = (counts[r.status] ?? 0) + 1
  return counts
}

const rows = async (url: string, table: "osb_instances" | "osb_operations", instanceId: string) =>
  (await query<{ n: string }>(url, `SELECT count(*) AS n FROM ${table} WHERE instance_id = $1`, [instanceId]))[0]!.n

describe("two quick start replicas on one PostgreSQL database", () => {
  it("20 identical provisions split across the replicas create exactly one instance", async () => {
    const { a, b, store } = await replicas()

    // plan small (synchronous): one 201, the others see the instance being created or created
    const small = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        (i % 2 === 0 ? a : b).call(
          "PUT",
          instancePath("race-small", i % 4 < 2 ? AI : undefined),
          provisionBody(SMALL_PLAN_ID, { race: true })
        ))
    )
    const counts = statusCounts(small)
    expect(counts[201], JSON.stringify(counts)).toBe(1)
    for (const reply of small) {
      expect([200, 201, 202, 422]).toContain(reply.status)
      if (reply.status === 422) expect(reply.body.error).toBe("ConcurrencyError")
    }
    const operations = new Set(small.filter((r) => r.status === 202).map((r) => r.body.operation))
    expect(operations.size).toBeLessThanOrEqual(1)
    for (const replica of [a, b]) {
      const fetched = await replica.call("GET", instancePath("race-small"))
      expect(fetched.status).toBe(200)
      expect(fetched.body).toEqual(expect.objectContaining({ plan_id: SMALL_PLAN_ID, parameters: { race: true } }))
      expect(
        (await replica.call("PUT", instancePath("race-small"), provisionBody(SMALL_PLAN_ID, { race: true })))
          .status
      ).toBe(200)
    }
    expect(await rows(store, "osb_instances", "race-small")).toBe("1")
    expect(await rows(store, "osb_operations", "race-small")).toBe("1")

    // plan large (asynchronous): every answer is 202 with the one operation
    const large = await Promise.all(
      Array.from(
        { length: 20 },
        (_, i) => (i % 2 === 0 ? a : b).call("PUT", instancePath("race-large", AI), provisionBody(LARGE_PLAN_ID))
      )
    )
    expect(statusCounts(large)).toEqual({ 202: 20 })
    const ids = new Set(large.map((r) => r.body.operation))
    expect(ids.size).toBe(1)
    expect(await rows(store, "osb_operations", "race-large")).toBe("1")
    const [operation] = [...ids] as [string]
    const finished = await settle(b, lastOperationPath("race-large", operation), 2000 + SLACK_MS)
    expect(finished.reply.body).toEqual({ state: "succeeded" })
    expect((await a.call("PUT", instancePath("race-large", AI), provisionBody(LARGE_PLAN_ID))).status).toBe(200)
  }, 60_000)

  it("answers last_operation on one replica for operations started on the other", async () => {
    const { a, b } = await replicas()

    // provision on A, polled on B
    const provision = await a.call("PUT", instancePath("cross", AI), provisionBody(LARGE_PLAN_ID))
    expect(provision.status).toBe(202)
    const onB = await b.call("GET", lastOperationPath("cross", provision.body.operation))
    expect(onB.status).toBe(200)
    expect(onB.body).toEqual({ state: "in progress" })
    expect(onB.headers.get("retry-after")).toMatch(/^\d+$/)
    expect((await settle(b, lastOperationPath("cross", provision.body.operation), 2000 + SLACK_MS)).reply.body)
      .toEqual({ state: "succeeded" })
    expect((await b.call("GET", instancePath("cross"))).status).toBe(200)

    // bind on B, polled on A; the credentials are the same on both
    const bind = await b.call("PUT", bindingPath("cross", "cross-bind", AI), bindBody(LARGE_PLAN_ID))
    expect(bind.status).toBe(202)
    const bindOnA = await a.call("GET", bindingLastOperationPath("cross", "cross-bind", bind.body.operation))
    expect(bindOnA.body).toEqual({ state: "in progress" })
    expect(
      (await settle(a, bindingLastOperationPath("cross", "cross-bind", bind.body.operation), 2000 + SLACK_MS)).reply
        .body
    ).toEqual({ state: "succeeded" })
    const fromA = await a.call("GET", bindingPath("cross", "cross-bind"))
    const fromB = await b.call("GET", bindingPath("cross", "cross-bind"))
    expect(fromA.status).toBe(200)
    expect(fromA.body.credentials).toEqual(expect.objectContaining({ password: expect.any(String) }))
    expect(fromB.body).toEqual(fromA.body)

    // update on A, polled on B
    const update = await a.call("PATCH", instancePath("cross", AI), {
      service_id: SERVICE_ID,
      parameters: { size: 2 }
    })
    expect(update.status).toBe(202)
    expect((await b.call("GET", lastOperationPath("cross", update.body.operation))).body).toEqual({
      state: "in progress"
    })
    expect((await settle(b, lastOperationPath("cross", update.body.operation), 2000 + SLACK_MS)).reply.body).toEqual({
      state: "succeeded"
    })
    expect((await b.call("GET", instancePath("cross"))).body.parameters).toEqual({ size: 2 })

    // deprovision on B, polled on A: succeeded, then gone everywhere
    const deprovision = await b.call("DELETE", instancePath("cross", `${AI}&${deleteQuery(LARGE_PLAN_ID)}`))
    expect(deprovision.status).toBe(202)
    expect((await a.call("GET", lastOperationPath("cross", deprovision.body.operation))).body).toEqual({
      state: "in progress"
    })
    const gone = await settle(a, lastOperationPath("cross", deprovision.body.operation), 2000 + SLACK_MS)
    expect([gone.reply.status, gone.reply.body]).toEqual([410, {}])
    expect((await b.call("GET", instancePath("cross"))).status).toBe(404)
  }, 60_000)

  it("concurrent binds across the replicas return one set of credentials", async () => {
    const { a, b, store } = await replicas()
    expect((await a.call("PUT", instancePath("shared"), provisionBody(SMALL_PLAN_ID))).status).toBe(201)

    // synchronous bind (plan small): one 201, the others 200 with the same credentials or 422
    const sync = await Promise.all(
      Array.from(
        { length: 12 },
        (_, i) => (i % 2 === 0 ? a : b).call("PUT", bindingPath("shared", "same"), bindBody(SMALL_PLAN_ID))
      )
    )
    const counts = statusCounts(sync)
    expect(counts[201], JSON.stringify(counts)).toBe(1)
    for (const reply of sync) {
      expect([200, 201, 422]).toContain(reply.status)
      if (reply.status === 422) expect(reply.body.error).toBe("ConcurrencyError")
    }
    const answered = new Set(sync.filter((r) => r.status < 300).map((r) => JSON.stringify(r.body.credentials)))
    expect(answered.size).toBe(1)
    const [credentials] = [...answered] as [string]
    for (const replica of [a, b]) {
      const fetched = await replica.call("GET", bindingPath("shared", "same"))
      expect(JSON.stringify(fetched.body.credentials)).toBe(credentials)
    }

    // asynchronous bind (plan large): one operation, then one set of credentials on both replicas
    const large = await a.call("PUT", instancePath("shared-large", AI), provisionBody(LARGE_PLAN_ID))
    expect((await settle(b, lastOperationPath("shared-large", large.body.operation), 2000 + SLACK_MS)).reply.body)
      .toEqual({ state: "succeeded" })
    const binds = await Promise.all(
      Array.from(
        { length: 12 },
        (_, i) => (i % 2 === 0 ? a : b).call("PUT", bindingPath("shared-large", "same", AI), bindBody(LARGE_PLAN_ID))
      )
    )
    expect(statusCounts(binds)).toEqual({ 202: 12 })
    const operations = new Set(binds.map((r) => r.body.operation))
    expect(operations.size).toBe(1)
    // the instance's provision and the one bind
    expect(await rows(store, "osb_operations", "shared-large")).toBe("2")
    const [operation] = [...operations] as [string]
    expect(
      (await settle(a, bindingLastOperationPath("shared-large", "same", operation), 2000 + SLACK_MS)).reply.body
    ).toEqual({ state: "succeeded" })
    const fromA = await a.call("GET", bindingPath("shared-large", "same"))
    const fromB = await b.call("GET", bindingPath("shared-large", "same"))
    expect(fromA.status).toBe(200)
    expect(fromA.body.credentials).toEqual(expect.objectContaining({ password: expect.any(String) }))
    expect(fromB.body).toEqual(fromA.body)
    const repeat = await b.call("PUT", bindingPath("shared-large", "same", AI), bindBody(LARGE_PLAN_ID))
    expect(repeat.status).toBe(200)
    expect(repeat.body.credentials).toEqual(fromA.body.credentials)
  }, 60_000)

  it("takes over the operations of a replica killed with SIGKILL and finishes them (resumable)", async () => {
    const delayMs = 3000
    const { a, b } = await replicas({ delayMs }, { delayMs })
    const base = await b.call("PUT", instancePath("base", AI), provisionBody(LARGE_PLAN_ID))
    expect((await settle(b, lastOperationPath("base", base.body.operation), delayMs + SLACK_MS)).reply.body).toEqual({
      state: "succeeded"
    })

    const provision = await a.call("PUT", instancePath("orphan", AI), provisionBody(LARGE_PLAN_ID))
    expect(provision.status).toBe(202)
    const bind = await a.call("PUT", bindingPath("base", "orphan-bind", AI), bindBody(LARGE_PLAN_ID))
    expect(bind.status).toBe(202)
    await sleep(delayMs / 4)
    // B sees A's operations running and leaves them alone while A's lease is live
    expect((await b.call("GET", lastOperationPath("orphan", provision.body.operation))).body).toEqual({
      state: "in progress"
    })
    expect(b.output()).not.toContain("took over")

    await kill9(a)
    const killedAt = Date.now()
    const deadline = killedAt + LEASE_TTL_MS + TAKEOVER_INTERVAL_MS + delayMs + SLACK_MS
    const provisioned = await settle(b, lastOperationPath("orphan", provision.body.operation), 30_000)
    expect(provisioned.reply.body).toEqual({ state: "succeeded" })
    expect(provisioned.at).toBeLessThanOrEqual(deadline)
    const bound = await settle(b, bindingLastOperationPath("base", "orphan-bind", bind.body.operation), 30_000)
    expect(bound.reply.body).toEqual({ state: "succeeded" })
    expect(bound.at).toBeLessThanOrEqual(deadline)
    expect(b.output()).toContain(`took over operation ${provision.body.operation}: resumed`)
    expect(b.output()).toContain(`took over operation ${bind.body.operation}: resumed`)
    expect((await b.call("GET", instancePath("orphan"))).status).toBe(200)
    const binding = await b.call("GET", bindingPath("base", "orphan-bind"))
    expect(binding.status).toBe(200)
    expect(binding.body.credentials).toEqual(expect.objectContaining({ password: expect.any(String) }))
  }, 60_000)

  it("a paused replica (SIGSTOP) that lost its lease does not overwrite the outcome of the takeover", async () => {
    const delayMs = 4000
    const { a, b } = await replicas({ delayMs }, { delayMs })
    const base = await b.call("PUT", instancePath("base", AI), provisionBody(LARGE_PLAN_ID))
    expect((await settle(b, lastOperationPath("base", base.body.operation), delayMs + SLACK_MS)).reply.body).toEqual({
      state: "succeeded"
    })
    const bind = await a.call("PUT", bindingPath("base", "paused", AI), bindBody(LARGE_PLAN_ID))
    expect(bind.status).toBe(202)
    // A stops before its work would finish, and stays stopped until B has taken over and finished: when A goes on,
    // its work's timer is overdue and the work completes at once
    await sleep(delayMs - 1500)
    a.child.kill("SIGSTOP")
    const finished = await settle(b, bindingLastOperationPath("base", "paused", bind.body.operation), 30_000)
    expect(finished.reply.body).toEqual({ state: "succeeded" })
    expect(b.output()).toContain(`took over operation ${bind.body.operation}: resumed`)
    const recorded = await b.call("GET", bindingPath("base", "paused"))
    expect(recorded.status).toBe(200)

    a.child.kill("SIGCONT")
    await sleep(2000)
    const later = await b.call("GET", bindingPath("base", "paused"))
    expect(later.body, "the credentials changed after they were handed out").toEqual(recorded.body)
    expect((await a.call("GET", bindingPath("base", "paused"))).body).toEqual(recorded.body)
  }, 60_000)

  it(
    "on SIGTERM drains (503 + Retry-After for mutations, GETs answered) for a bounded time, then hands over",
    async () => {
      // A's work outlasts the drain window (10 s), and A's lease is long: only its release lets B in quickly
      const drainMs = 10_000
      const { a, b } = await replicas(
        { delayMs: 15_000, leaseTtlMs: 20_000 },
        { delayMs: 3000 }
      )
      expect((await a.call("PUT", instancePath("steady"), provisionBody(SMALL_PLAN_ID))).status).toBe(201)
      const provision = await a.call("PUT", instancePath("draining", AI), provisionBody(LARGE_PLAN_ID))
      expect(provision.status).toBe(202)
      const operation: string = provision.body.operation
      await sleep(300)

      a.child.kill("SIGTERM")
      const termAt = Date.now()
      let attempt = 0
      const refused = await pollUntil(
        "A to refuse a provision with 503",
        () => a.call("PUT", instancePath(`late-${++attempt}`), provisionBody(SMALL_PLAN_ID)),
        (r) => r.status === 503,
        3000,
        25
      )
      expect(Date.now() - termAt).toBeLessThan(3000)
      expect(refused.headers.get("content-type")).toMatch(/^application\/json/)
      expect(refused.body).toEqual(expect.objectContaining({ description: expect.any(String) }))
      expect(refused.headers.get("retry-after")).toMatch(/^[1-9]\d*$/)

      // every mutation is refused; reads still work
      const mutations = await Promise.all([
        a.call("PATCH", instancePath("steady"), { service_id: SERVICE_ID, parameters: { p: 1 } }),
        a.call("DELETE", instancePath("steady", deleteQuery(SMALL_PLAN_ID))),
        a.call("PUT", bindingPath("steady", "late-bind"), bindBody(SMALL_PLAN_ID)),
        a.call("PUT", instancePath("draining", AI), provisionBody(LARGE_PLAN_ID))
      ])
      for (const reply of mutations) {
        expect(reply.status).toBe(503)
        expect(reply.headers.get("content-type")).toMatch(/^application\/json/)
        expect(reply.headers.get("retry-after")).toMatch(/^[1-9]\d*$/)
      }
      expect((await a.call("GET", "/v2/catalog")).status).toBe(200)
      expect((await a.call("GET", instancePath("steady"))).status).toBe(200)
      const polled = await a.call("GET", lastOperationPath("draining", operation))
      expect([polled.status, polled.body]).toEqual([200, { state: "in progress" }])
      expect((await b.call("GET", lastOperationPath("draining", operation))).body).toEqual({ state: "in progress" })

      // the drain is bounded: A exits after about drainTimeout, before its 15 s of work is done
      const exit = await a.exited
      const exitedAt = Date.now()
      expect(exit.code).toBe(0)
      expect(exitedAt - termAt).toBeGreaterThanOrEqual(drainMs - 1000)
      expect(exitedAt - termAt).toBeLessThanOrEqual(drainMs + SLACK_MS)
      expect(a.output()).toContain("draining: waiting up to 10s for 1 operation(s)")

      // the lease was released: B takes over at its next round (not after A's 20 s lease) and finishes the work
      const finished = await settle(b, lastOperationPath("draining", operation), 30_000)
      expect(finished.reply.body).toEqual({ state: "succeeded" })
      expect(finished.at - exitedAt).toBeLessThanOrEqual(TAKEOVER_INTERVAL_MS + 3000 + SLACK_MS)
      expect(b.output()).toContain(`took over operation ${operation}: resumed`)
      expect((await b.call("GET", instancePath("draining"))).status).toBe(200)
      expect((await b.call("GET", instancePath("steady"))).status).toBe(200)
    },
    60_000
  )
})

describe("two replicas' stores on one PostgreSQL database", () => {
  it("a read is a consistent snapshot while the other replica writes the same instance", async () => {
    const url = await freshDatabase()
    const instance = (k: number): BrokerStore.InstanceRecord => ({
      instanceId: "snap",
      serviceId: SERVICE_ID,
      planId: LARGE_PLAN_ID,
      state: k % 2 === 0 ? "ready" : "updating",
      fingerprint: "{}",
      parameters: {},
      operationId: "op",
      createdAt: 0,
      updatedAt: k
    })
    const op = (k: number): BrokerStore.OperationRecord => ({
      id: "op",
      instanceId: "snap",
      kind: "update",
      async: true,
      state: k % 2 === 0 ? "succeeded" : "in progress",
      startedAt: k
    })
    const result = await Effect.runPromise(
      Effect.gen(function*() {
        const open = Effect.map(
          Layer.build(SqlStore.layerPg(url, { maxConnections: 3 })),
          (context) => Context.get(context, BrokerStore.BrokerStore)
        )
        const writer = yield* open
        const reader = yield* open
        let writing = true
        const torn: Array<string> = []
        let reads = 0
        // each transaction writes the instance and its operation with the same number
        const writes = Effect.forEach(
          Array.from({ length: 300 }, (_, i) => i + 1),
          (k) =>
            writer.transact("snap", () =>
              Effect.succeed(
                [undefined, [
                  BrokerStore.Change.putInstance(instance(k)),
                  BrokerStore.Change.putOperation(op(k))
                ]] as const
              )),
          { discard: true }
        ).pipe(Effect.ensuring(Effect.sync(() => (writing = false))))
        const readLoop = Effect.gen(function*() {
          while (writing) {
            const snapshot = yield* reader.read("snap")
            reads++
            const record = snapshot.instance
            const operation = snapshot.operations.get("op")
            if (record._tag === "Some" && operation !== undefined && record.value.updatedAt !== operation.startedAt) {
              torn.push(`instance from write ${record.value.updatedAt}, operation from write ${operation.startedAt}`)
            }
          }
        })
        yield* Effect.all([writes, readLoop], { concurrency: 2, discard: true })
        return { reads, torn }
      }).pipe(Effect.scoped)
    )
    expect(result.reads).toBeGreaterThan(10)
    expect(result.torn, `${result.torn.length} torn reads of ${result.reads}`).toEqual([])
  }, 60_000)
})
