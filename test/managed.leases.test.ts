/**
 * Leases owned by running fibers (issue 12), on the TestClock with short leases: the managed broker over HTTP on
 * the real SQLite store, with a fault injector around it (`test/support/faultyStore.ts`: the store down, its
 * writes down, its reads slow).
 *
 * - A DELETE (or an unbind) during an async create is not stopped by a renewal round that read the create before
 *   the DELETE committed (the round used to interrupt by the instance's fiber key, which by then was the DELETE's).
 * - An async operation whose outcome write fails during an outage records its real outcome once the store is back;
 *   one that cannot record it gives up, logs its id and why, and releases its lease, so takeover applies at once.
 * - A synchronous PATCH whose final write fails answers 503 and leaves no instance locked: once the store is back,
 *   takeover resolves the operation within lease TTL + takeover interval, and the instance answers GET and PATCH.
 * - The drain counts what the store says this replica owns and releases at once what no fiber here runs.
 */
import { describe, expect, it } from "@effect/vitest"
import { Context, Effect, Fiber, Layer, Logger, Metric, Option } from "effect"
import { mkdtempSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { BrokerLifecycle, BrokerStore, Catalog, ManagedBroker } from "../src/index.js"
import * as Metrics from "../src/Metrics.js"
import { makeEffectClient } from "./support/effectClient.js"
import { type Faults, layerFaultySqlite, makeFaults } from "./support/faultyStore.js"
import {
  advance,
  AI,
  bindBody,
  bindingLastOperationPath,
  bindingPath,
  catalogOf,
  type EventLog,
  flush,
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

const catalog = catalogOf([plan("sync"), plan("async"), plan("long"), plan("durable")])

const work = (log: EventLog) =>
  syncWork({
    plans: {
      sync: {
        update: ManagedBroker.sync(() => slow(log, "update", "1 second", {}))
      },
      async: {
        provision: ManagedBroker.async(() => slow(log, "provision", "2 seconds", {})),
        deprovision: ManagedBroker.async(() => slow(log, "deprovision", "2 seconds", undefined)),
        bind: ManagedBroker.async(() => slow(log, "bind", "2 seconds", { credentials: { user: "u" } })),
        unbind: ManagedBroker.async(() => slow(log, "unbind", "2 seconds", undefined))
      },
      long: {
        provision: ManagedBroker.async(() => slow(log, "long", "60 seconds", {}))
      },
      durable: {
        provision: ManagedBroker.async(() => slow(log, "durable", "10 seconds", {}), { resumable: true })
      }
    }
  })

const dir = mkdtempSync(join(tmpdir(), "osb-leases-"))
let files = 0

interface Options {
  readonly leaseTtl: number
  readonly takeoverInterval: number
  /** The SQLite file (default: a fresh one); replicas given the same file share the store. */
  readonly file?: string
  readonly replicaId?: string
  /** Record the OSB metrics (`Metrics.layer`). */
  readonly metrics?: boolean
}

/** A fresh SQLite file. */
const newFile = () => join(dir, `leases-${++files}.sqlite`)

/** One replica on a SQLite file with a fault injector, built in the test's scope (on its TestClock). */
const setup = ({ file = newFile(), metrics = false, replicaId = "replica-A", ...options }: Options) =>
  Effect.gen(function*() {
    const faults: Faults = makeFaults()
    const log = yield* makeLog
    const broker = ManagedBroker.layer({ [SID]: work(log) }, { ...options, replicaId }).pipe(
      Layer.provideMerge(Catalog.layer(catalog)),
      Layer.provideMerge(layerFaultySqlite(file, faults))
    )
    const layer = metrics ? Layer.provide(broker, Metrics.layer) : broker
    const context = yield* Layer.build(layer).pipe(Effect.orDie)
    const client = yield* makeEffectClient(Layer.succeedContext(context))
    const store = Context.get(context, BrokerStore.BrokerStore)
    const lifecycle = Context.get(context, BrokerLifecycle.BrokerLifecycle)
    /** The instance's snapshot, read past the faults' gate (the test's own look at the database). */
    const snapshot = (instanceId: string) =>
      Effect.suspend(() => {
        const { down, readDelay } = faults
        faults.down = false
        faults.readDelay = 0
        return Effect.ensuring(
          Effect.orDie(store.read(instanceId)),
          Effect.sync(() => {
            faults.down = down
            faults.readDelay = readDelay
          })
        )
      })
    const operation = (instanceId: string, operationId: string) =>
      Effect.map(snapshot(instanceId), (s) => s.operations.get(operationId))
    /** The id of the instance's latest operation. */
    const latest = (instanceId: string) =>
      Effect.map(snapshot(instanceId), (s) => Option.getOrThrow(s.instance).operationId)
    /** A PATCH (the sync plan's update takes 1 s of work), forked; with the id of the operation it recorded. */
    const patching = (instanceId: string, size: number) =>
      Effect.gen(function*() {
        const fiber = yield* Effect.fork(
          client.call("PATCH", instancePath(instanceId), { body: updateBody({ parameters: { size } }) })
        )
        yield* flush
        return { fiber, operationId: yield* latest(instanceId) }
      })
    /** A sync instance, and a PATCH of it running (recorded "in progress", its work not done). */
    const provisionedAndPatching = (instanceId: string) =>
      Effect.gen(function*() {
        const created = yield* client.call("PUT", instancePath(instanceId), { body: provisionBody("sync") })
        expect(created.status).toBe(201)
        return yield* patching(instanceId, 2)
      })
    /** The status a PATCH of the instance answers, once its work is done (no fault). */
    const patched = (instanceId: string, size: number) =>
      Effect.flatMap(
        patching(instanceId, size),
        ({ fiber }) => Effect.zipRight(advance("1 second"), Effect.map(Fiber.join(fiber), (reply) => reply.status))
      )
    return { client, faults, log, store, lifecycle, operation, latest, provisionedAndPatching, patched }
  })

/** The log messages written while `effect` runs (the broker's loops included: they are forked inside it). */
const withLogs = <A, E, R>(f: (logs: ReadonlyArray<string>) => Effect.Effect<A, E, R>) => {
  const logs: Array<string> = []
  const logger = Logger.make(({ message }) => {
    logs.push(Array.isArray(message) ? message.map(String).join(" ") : String(message))
  })
  return f(logs).pipe(Effect.provide(Logger.replace(Logger.defaultLogger, logger)))
}

describe("a delete during an async create is not stopped by a renewal round (issue 12, item 2)", () => {
  it.scoped("DEP-4: a renewal round that read the create before the DELETE leaves the deprovision running", () =>
    Effect.gen(function*() {
      const { client, faults, log } = yield* setup({ leaseTtl: 3000, takeoverInterval: 1000 })
      // every read takes 50 ms (a database round trip), so a renewal round's read can span the DELETE
      faults.readDelay = 50
      const creating = yield* client.call("PUT", instancePath("race-1", AI), { body: provisionBody("async") })
      expect(creating.status).toBe(202)
      // the renewal round at 1 s: it sees the create as this replica's running operation and starts reading it
      yield* advance("1 second")
      const deleting = yield* client.call("DELETE", instancePath("race-1", `${q("async")}&${AI}`))
      expect(deleting.status).toBe(202)
      // the round's read returns (the create is failed now, stopped by the DELETE), then the work runs its 2 s
      yield* advance("50 millis")
      faults.readDelay = 0
      yield* advance("3 seconds")
      const events = yield* log.all
      expect(events).toContain("deprovision:done")
      expect(events).not.toContain("deprovision:interrupted")
      const gone = yield* client.call("GET", lastOperationPath("race-1", opQuery(deleting.body.operation)))
      expect(gone.status).toBe(410)
    }))

  it.scoped("UNB-3: a renewal round that read the bind before the unbind leaves the unbind running", () =>
    Effect.gen(function*() {
      const { client, faults, log } = yield* setup({ leaseTtl: 3000, takeoverInterval: 1000 })
      expect((yield* client.call("PUT", instancePath("race-2", AI), { body: provisionBody("async") })).status).toBe(202)
      yield* advance("3 seconds")
      faults.readDelay = 50
      const binding = yield* client.call("PUT", bindingPath("race-2", "b1", AI), { body: bindBody("async") })
      expect(binding.status).toBe(202)
      yield* advance("1 second")
      const unbinding = yield* client.call("DELETE", bindingPath("race-2", "b1", `${q("async")}&${AI}`))
      expect(unbinding.status).toBe(202)
      yield* advance("50 millis")
      faults.readDelay = 0
      yield* advance("3 seconds")
      const events = yield* log.all
      expect(events).toContain("unbind:done")
      expect(events).not.toContain("unbind:interrupted")
      const gone = yield* client.call(
        "GET",
        bindingLastOperationPath("race-2", "b1", opQuery(unbinding.body.operation))
      )
      expect(gone.status).toBe(410)
    }))
})

describe("an operation is owned by a running fiber or by nobody (issue 12, item 1)", () => {
  it.scoped("an async outcome whose write fails during an outage is recorded once the store is back", () =>
    Effect.gen(function*() {
      const { client, faults, operation } = yield* setup({ leaseTtl: 3000, takeoverInterval: 1000 })
      const creating = yield* client.call("PUT", instancePath("out-1", AI), { body: provisionBody("async") })
      expect(creating.status).toBe(202)
      yield* advance("1 second")
      // the store goes down; the work ends at 2 s and cannot write its outcome; the lease expires at 4 s
      faults.down = true
      yield* advance("1 second")
      yield* advance("5 seconds")
      faults.down = false
      // bound: lease TTL (3 s) + takeover interval (1 s) + nothing left of the work
      yield* advance("1 second")
      yield* advance("3 seconds")
      const record = yield* operation("out-1", creating.body.operation)
      expect(record?.state).toBe("succeeded")
      const polled = yield* client.call("GET", lastOperationPath("out-1", opQuery(creating.body.operation)))
      expect(polled.body).toEqual({ state: "succeeded" })
    }))

  it.scoped("an async operation that cannot record its outcome gives up, logs why, releases its lease", () =>
    withLogs((logs) =>
      Effect.gen(function*() {
        // a long lease: what ends the operation here is the released lease, not an expired one
        const { client, faults, operation } = yield* setup({ leaseTtl: 30_000, takeoverInterval: 1000 })
        const creating = yield* client.call("PUT", instancePath("out-2", AI), { body: provisionBody("async") })
        expect(creating.status).toBe(202)
        const id: string = creating.body.operation
        yield* advance("1 second")
        faults.writesDown = true
        for (let s = 0; s < 70; s++) yield* advance("1 second")
        // given up while the writes failed, and its lease released (the lease queries still answer)
        const released = yield* operation("out-2", id)
        expect(released?.state).toBe("in progress")
        expect(released?.leaseExpiresAt).toBeLessThan(1000)
        faults.writesDown = false
        // the next takeover round (1 s) marks it failed: far within the 30 s lease
        yield* advance("1 second")
        yield* advance("1 second")
        const record = yield* operation("out-2", id)
        expect(record?.state).toBe("failed")
        // logged once, with its id and why
        const gaveUp = logs.filter((line) => line.includes(id) && line.includes("could not record"))
        expect(gaveUp).toHaveLength(1)
        expect(gaveUp[0]).toContain("injected fault")
      })
    ))

  it.scoped("a sync PATCH whose final write fails during a short outage records its outcome once the store is back", () =>
    Effect.gen(function*() {
      const { client, faults, operation, patched, provisionedAndPatching } = yield* setup({
        leaseTtl: 3000,
        takeoverInterval: 1000
      })
      // the update is recorded "in progress"; the store is down (a restart) when its outcome is written at 1 s
      const { fiber: patch, operationId } = yield* provisionedAndPatching("sync-1")
      faults.down = true
      yield* advance("1 second")
      yield* advance("500 millis")
      faults.down = false
      yield* advance("1 second")
      const answer = yield* Fiber.join(patch)
      expect(answer.status).toBe(200)
      expect((yield* operation("sync-1", operationId))?.state).toBe("succeeded")
      // and nothing is left locked: a later PATCH is served
      yield* advance("10 seconds")
      expect((yield* client.call("GET", instancePath("sync-1"))).status).toBe(200)
      expect(yield* patched("sync-1", 3)).toBe(200)
    }))

  it.scoped("a sync PATCH that cannot write its outcome answers 503 and leaves no instance locked for ever", () =>
    withLogs((logs) =>
      Effect.gen(function*() {
        const { client, faults, operation, patched, provisionedAndPatching } = yield* setup({
          leaseTtl: 3000,
          takeoverInterval: 1000
        })
        // the update is recorded "in progress"; then every write fails (reads and lease queries still answer)
        const { fiber: patch, operationId } = yield* provisionedAndPatching("sync-2")
        faults.writesDown = true
        for (let s = 0; s < 20; s++) yield* advance("1 second")
        const answer = yield* Fiber.join(patch)
        expect(answer.status).toBe(503)
        faults.writesDown = false
        // bound: lease TTL (3 s) + takeover interval (1 s); the lease was released, so the next round resolves it
        for (let s = 0; s < 5; s++) yield* advance("1 second")
        const fetched = yield* client.call("GET", instancePath("sync-2"))
        expect(fetched.status).toBe(200)
        expect((yield* operation("sync-2", operationId))?.state).toBe("failed")
        expect(yield* patched("sync-2", 3)).toBe(200)
        const gaveUp = logs.filter((line) => line.includes(operationId) && line.includes("could not record"))
        expect(gaveUp).toHaveLength(1)
      })
    ))
})

describe("the drain counts and releases what the store says this replica owns (issue 12, item 1)", () => {
  it.scoped("an operation no fiber runs here is counted and released at once; the rest after the wait", () =>
    withLogs((logs) =>
      Effect.gen(function*() {
        const { client, faults, lifecycle, operation, provisionedAndPatching } = yield* setup({
          leaseTtl: 30_000,
          takeoverInterval: 10_000
        })
        // an operation whose fiber ended without recording it: a sync PATCH during an outage
        const { fiber: patch, operationId: orphan } = yield* provisionedAndPatching("d-1")
        faults.down = true
        for (let s = 0; s < 20; s++) yield* advance("1 second")
        expect((yield* Fiber.join(patch)).status).toBe(503)
        faults.down = false
        expect((yield* operation("d-1", orphan))?.state).toBe("in progress")
        // and one a fiber runs here
        const running = yield* client.call("PUT", instancePath("d-2", AI), { body: provisionBody("long") })
        expect(running.status).toBe(202)
        yield* advance("1 second")
        const draining = yield* Effect.fork(lifecycle.drain("10 seconds"))
        yield* flush
        expect(logs.some((line) => line.startsWith("draining:") && line.includes("2 operation(s)"))).toBe(true)
        const now = 22_000
        // released at once, not after the wait: another replica takes it over now
        expect((yield* operation("d-1", orphan))?.leaseExpiresAt).toBeLessThan(now)
        expect((yield* operation("d-2", running.body.operation))?.leaseExpiresAt).toBeGreaterThan(now)
        yield* advance("10 seconds")
        yield* Fiber.join(draining)
        const after = yield* operation("d-2", running.body.operation)
        expect(after?.state).toBe("in progress")
        expect(after?.leaseExpiresAt).toBeLessThan(now)
      })
    ))
})

describe("a lease lost to another replica (issue 12; the lease-loss metric)", () => {
  it.scoped("the renewal stops the very operation another replica took over, and counts the loss", () =>
    Effect.gen(function*() {
      const file = newFile()
      const options = { leaseTtl: 3000, takeoverInterval: 1000, file }
      const a = yield* setup({ ...options, replicaId: "replica-A", metrics: true })
      const b = yield* setup({ ...options, replicaId: "replica-B" })
      const losses = Metric.tagged(Metrics.leaseLosses, "kind", "provision")
      const before = (yield* Metric.value(losses)).count
      // a resumable provision on A (10 s of work); A cannot reach the store from 1 s to 6 s, so its lease (renewed
      // at 1 s until 4 s) expires and B resumes the operation
      const creating = yield* a.client.call("PUT", instancePath("lost-1", AI), { body: provisionBody("durable") })
      expect(creating.status).toBe(202)
      const id: string = creating.body.operation
      yield* advance("1 second")
      a.faults.down = true
      for (let s = 0; s < 5; s++) yield* advance("1 second")
      const taken = yield* b.operation("lost-1", id)
      expect(taken?.state).toBe("in progress")
      expect(taken?.owner).toBe("replica-B")
      expect(yield* b.log.all).toEqual(["durable:start"])
      // back: A's next renewal finds the operation held by B, counts the loss and stops its own run (not B's)
      a.faults.down = false
      yield* advance("1 second")
      expect((yield* Metric.value(losses)).count - before).toBe(1)
      expect(yield* a.log.all).toEqual(["durable:start", "durable:interrupted", "durable:finalized"])
      for (let s = 0; s < 10; s++) yield* advance("1 second")
      expect(yield* b.log.all).toEqual(["durable:start", "durable:done", "durable:finalized"])
      expect((yield* b.operation("lost-1", id))?.state).toBe("succeeded")
    }))
})
