/**
 * `osb_lease_losses_total` for a real lease loss: two replicas (`ManagedBroker.layer` over `SqlStore.layerSqlite` on
 * one shared file). Replica A runs an asynchronous operation, then is cut off from the store (a partition: every
 * call of A fails with `StoreUnavailable`, through `test/support/faultyStore.ts`); once its lease expired, replica B
 * takes the operation over. The partition heals while B still runs the work: A's next renewal finds the operation
 * held by B, counts the lease loss and stops its own copy of the work; B finishes it.
 * (Effect's metrics are global to the process: this file is one worker, the expected values are exact.)
 */
import { Context, type Duration, Effect, Exit, Layer, Scope } from "effect"
import { mkdtempSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import { BrokerStore, Catalog, ManagedBroker } from "../src/index.js"
import * as Metrics from "../src/Metrics.js"
import { layerFaultySqlite, makeFaults } from "./support/faultyStore.js"
import { clientFor } from "./support/http.js"
import {
  AI,
  catalogOf,
  instancePath,
  lastOperationPath,
  opQuery,
  plan,
  provisionBody,
  SID,
  syncWork
} from "./support/managedKit.js"
import { series } from "./support/prometheus.js"

/** What the replicas' work did, as `<replica>:<start|done|interrupted>`. */
const events: Array<string> = []

const work = (replica: string, delay: number) =>
  syncWork({
    plans: {
      durable: {
        provision: ManagedBroker.async(
          () =>
            Effect.sync(() => events.push(`${replica}:start`)).pipe(
              Effect.zipRight(Effect.sleep(delay)),
              Effect.zipRight(Effect.sync(() => events.push(`${replica}:done`))),
              Effect.onInterrupt(() => Effect.sync(() => events.push(`${replica}:interrupted`))),
              Effect.as({})
            ),
          { resumable: true }
        )
      }
    }
  })

const replica = async (file: string, id: string, delay: number, takeoverInterval: Duration.DurationInput) => {
  // every call of this replica goes through the fault injector: `faults.down` cuts it off from the store
  const faults = makeFaults()
  const layer = ManagedBroker.layer({ [SID]: work(id, delay) }, { leaseTtl: 300, takeoverInterval, replicaId: id })
    .pipe(
      Layer.provideMerge(Catalog.layer(catalogOf([plan("small"), plan("durable")]))),
      Layer.provideMerge(layerFaultySqlite(file, faults)),
      Layer.provide(Metrics.layer)
    )
  const scope = Effect.runSync(Scope.make())
  const context = await Effect.runPromise(Layer.buildWithScope(layer, scope))
  const client = clientFor(Layer.succeedContext(context))
  return {
    client,
    faults,
    store: Context.get(context, BrokerStore.BrokerStore),
    close: async () => {
      await client.dispose()
      await Effect.runPromise(Scope.close(scope, Exit.void))
    }
  }
}

const until = async <A>(what: string, probe: () => Promise<A | undefined>): Promise<A> => {
  for (let n = 0; n < 200; n++) {
    const found = await probe()
    if (found !== undefined) return found
    await new Promise((r) => setTimeout(r, 50))
  }
  throw new Error(`${what} did not happen within 10 s`)
}

describe("osb_lease_losses_total", () => {
  it("counts the operation whose lease a partitioned replica lost to another replica, which finished it", async () => {
    const file = join(mkdtempSync(join(tmpdir(), "osb-lease-loss-")), "store.sqlite")
    const a = await replica(file, "replica-A", 30_000, "1 hour")
    const b = await replica(file, "replica-B", 1500, "100 millis")
    try {
      const put = await a.client.call("PUT", instancePath("lost-1", AI), { body: provisionBody("durable") })
      expect(put.status).toBe(202)
      const operation = put.body.operation as string

      // A is cut off from the store: its renewals fail, its lease expires, B takes the operation over
      a.faults.down = true
      await until("B's takeover", async () => {
        const rendered = await Effect.runPromise(Metrics.prometheus)
        return series(rendered, "osb_takeovers_total", { kind: "provision", outcome: "resumed" }) === 1
          ? true
          : undefined
      })
      expect(series(await Effect.runPromise(Metrics.prometheus), "osb_lease_losses_total", { kind: "provision" }))
        .toBeUndefined()
      // the partition heals while B still runs the work: A's next renewal finds the operation held by B
      a.faults.down = false
      await until("the lease loss", async () => {
        const rendered = await Effect.runPromise(Metrics.prometheus)
        return series(rendered, "osb_lease_losses_total", { kind: "provision" }) === 1 ? true : undefined
      })

      // B finished the operation; A's copy of the work was stopped, not finished
      const last = await until("the operation to end", async () => {
        const reply = await b.client.call("GET", lastOperationPath("lost-1", opQuery(operation)))
        return reply.body?.state === "in progress" ? undefined : reply
      })
      expect(last.body).toEqual({ state: "succeeded" })
      const record = (await Effect.runPromise(b.store.read("lost-1"))).operations.get(operation)
      expect(record).toMatchObject({ state: "succeeded", owner: "replica-B" })
      await until("A's work to stop", async () => (events.includes("replica-A:interrupted") ? true : undefined))
      expect(events).toEqual(expect.arrayContaining(["replica-A:start", "replica-B:start", "replica-B:done"]))
      expect(events).not.toContain("replica-A:done")

      const after = await Effect.runPromise(Metrics.prometheus)
      expect(series(after, "osb_lease_losses_total", { kind: "provision" })).toBe(1)
      expect(series(after, "osb_operations_total", {
        kind: "provision",
        mode: "async",
        plan: "durable",
        outcome: "succeeded"
      })).toBe(1)
      expect(series(after, "osb_operations_in_progress", { kind: "provision" })).toBe(0)
    } finally {
      await a.close()
      await b.close()
    }
  }, 30_000)
})
