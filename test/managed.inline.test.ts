/**
 * A synchronous operation whose work is already done when it is created (`Effect.succeed`, `Effect.void`: an
 * `Exit`) is written finished in its deciding store transaction; any other work (`Effect.sync` and a log line as
 * the README's example, or work that waits on a promise) runs after that transaction, never inside it, and takes
 * two. Every way answers the same (PRV-1, BND-1, UNB-1, DEP-1, LO-4) and leaves the same state behind.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect, Layer } from "effect"
import { BrokerStore, Catalog, ManagedBroker } from "../src/index.js"
import { makeEffectClient } from "./support/effectClient.js"
import {
  bindBody,
  bindingLastOperationPath,
  bindingPath,
  catalogOf,
  instancePath,
  lastOperationPath,
  plan,
  provisionBody,
  q,
  SID,
  syncWork
} from "./support/managedKit.js"

const catalog = catalogOf([plan("p")])

/** A memory store that counts its transactions. */
const countingStore = (counter: { transactions: number }) =>
  Layer.effect(
    BrokerStore.BrokerStore,
    Effect.map(BrokerStore.makeMemory, (store): BrokerStore.BrokerStoreService => ({
      ...store,
      transact: (instanceId, f) => {
        counter.transactions++
        return store.transact(instanceId, f)
      }
    }))
  )

/** The same work, each result computed when it runs (not an `Exit` at creation), without waiting. */
const deferredWork = syncWork({
  provision: ManagedBroker.sync(() => Effect.as(Effect.log("provisioning"), {})),
  deprovision: ManagedBroker.sync(() => Effect.sync(() => undefined)),
  bind: ManagedBroker.sync((ctx) => Effect.sync(() => ({ credentials: { user: ctx.bindingId } }))),
  unbind: ManagedBroker.sync(() => Effect.sync(() => undefined))
})
/** The same work, each result waiting for a promise. */
const waitingWork = syncWork({
  provision: ManagedBroker.sync(() => Effect.promise(() => Promise.resolve({}))),
  deprovision: ManagedBroker.sync(() => Effect.promise(() => Promise.resolve(undefined))),
  bind: ManagedBroker.sync((ctx) => Effect.promise(() => Promise.resolve({ credentials: { user: ctx.bindingId } }))),
  unbind: ManagedBroker.sync(() => Effect.promise(() => Promise.resolve(undefined)))
})
const doneWork = syncWork({
  bind: ManagedBroker.sync((ctx) => Effect.succeed({ credentials: { user: ctx.bindingId } }))
})

const lifecycle = (work: ManagedBroker.OfferingWork) =>
  Effect.gen(function*() {
    const counter = { transactions: 0 }
    const layer = ManagedBroker.layer({ [SID]: work }).pipe(
      Layer.provideMerge(Catalog.layer(catalog)),
      Layer.provide(countingStore(counter))
    )
    const client = yield* makeEffectClient(layer)
    const step = <A>(run: Effect.Effect<A>) =>
      Effect.map(
        Effect.suspend(() => {
          counter.transactions = 0
          return run
        }),
        (reply) => ({ reply, transactions: counter.transactions })
      )
    const provisioned = yield* step(client.call("PUT", instancePath("i-1"), { body: provisionBody("p") }))
    const provisionLo = yield* client.call("GET", lastOperationPath("i-1"))
    const fetched = yield* client.call("GET", instancePath("i-1"))
    const bound = yield* step(client.call("PUT", bindingPath("i-1", "b-1"), { body: bindBody("p") }))
    const bindLo = yield* client.call("GET", bindingLastOperationPath("i-1", "b-1"))
    const repeated = yield* client.call("PUT", bindingPath("i-1", "b-1"), { body: bindBody("p") })
    const unbound = yield* step(client.call("DELETE", bindingPath("i-1", "b-1", q("p"))))
    const gone = yield* client.call("GET", bindingPath("i-1", "b-1"))
    const deprovisioned = yield* step(client.call("DELETE", instancePath("i-1", q("p"))))
    const afterwards = yield* client.call("GET", instancePath("i-1"))
    return {
      answers: [
        provisioned.reply,
        provisionLo,
        fetched,
        bound.reply,
        bindLo,
        repeated,
        unbound.reply,
        gone,
        deprovisioned.reply,
        afterwards
      ].map((r) => [r.status, r.body]),
      transactions: [provisioned, bound, unbound, deprovisioned].map((s) => s.transactions)
    }
  })

describe("synchronous work that is already done finishes in one store transaction", () => {
  it.scoped("PRV-1 BND-1 UNB-1 DEP-1: same answers every way; one transaction per operation instead of two", () =>
    Effect.gen(function*() {
      const done = yield* lifecycle(doneWork)
      const later = yield* lifecycle(deferredWork)
      const waiting = yield* lifecycle(waitingWork)
      expect(done.answers).toEqual(later.answers)
      expect(done.answers).toEqual(waiting.answers)
      expect(done.answers.map(([status]) => status)).toEqual([201, 200, 200, 201, 200, 200, 200, 404, 200, 404])
      expect(done.answers[1]![1]).toEqual({ state: "succeeded" })
      expect(done.answers[4]![1]).toEqual({ state: "succeeded" })
      expect(done.transactions).toEqual([1, 1, 1, 1])
      expect(later.transactions).toEqual([2, 2, 2, 2])
      expect(waiting.transactions).toEqual([2, 2, 2, 2])
    }))
})
