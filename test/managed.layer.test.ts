/**
 * The managed broker's layer: the work must fit the catalog (ManagedBrokerError), offerings and plans may be keyed
 * by id or by name.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect, Layer } from "effect"
import { BrokerStore, Catalog, ManagedBroker } from "../src/index.js"
import { makeEffectClient, managed } from "./support/effectClient.js"
import { catalogOf, instancePath, makeLog, plan, provisionBody, SID, syncWork } from "./support/managedKit.js"

const catalog = catalogOf([plan("p1-id", { name: "p1" }), plan("p2-id", { name: "p2" })])

const buildError = (work: { readonly [key: string]: ManagedBroker.OfferingWork }) =>
  ManagedBroker.layer(work).pipe(
    Layer.provide(Layer.merge(Catalog.layer(catalog), BrokerStore.layerMemory)),
    Layer.build,
    Effect.flip,
    Effect.flatMap((error) =>
      error instanceof ManagedBroker.ManagedBrokerError
        ? Effect.succeed(error)
        : Effect.dieMessage(`expected a ManagedBrokerError, got ${error._tag}`)
    )
  )

describe("ManagedBroker.layer checks the work against the catalog", () => {
  it.scoped("ManagedBrokerError when the work names an offering that is not in the catalog", () =>
    Effect.gen(function*() {
      const error = yield* buildError({ [SID]: syncWork(), "no-such-offering": syncWork() })
      expect(error._tag).toBe("ManagedBrokerError")
      expect(error.problems).toHaveLength(1)
      expect(error.problems[0]).toContain("no-such-offering")
    }))

  it.scoped("ManagedBrokerError when a plan override names a plan the offering does not have", () =>
    Effect.gen(function*() {
      const error = yield* buildError({ [SID]: syncWork({ plans: { "no-such-plan": {} } }) })
      expect(error).toBeInstanceOf(ManagedBroker.ManagedBrokerError)
      expect(error.problems).toHaveLength(1)
      expect(error.problems[0]).toContain("no-such-plan")
    }))

  it.scoped("ManagedBrokerError when a bindable plan has no bind or no unbind work (every problem listed)", () =>
    Effect.gen(function*() {
      const { bind: _bind, unbind: _unbind, ...noBinding } = syncWork()
      const missingBoth = yield* buildError({ [SID]: noBinding })
      expect(missingBoth).toBeInstanceOf(ManagedBroker.ManagedBrokerError)
      expect(missingBoth.problems).toHaveLength(4)
      expect(missingBoth.problems.filter((p) => p.includes("no bind work"))).toHaveLength(2)
      expect(missingBoth.problems.filter((p) => p.includes("no unbind work"))).toHaveLength(2)
      expect(missingBoth.message).toContain("p1")

      const { unbind: _u, ...noUnbind } = syncWork()
      const missingUnbind = yield* buildError({ [SID]: noUnbind })
      expect(missingUnbind.problems).toHaveLength(2)
      expect(missingUnbind.problems.every((p) => p.includes("no unbind work"))).toBe(true)

      // a per-plan override covers only its plan
      const onlyOnePlan = yield* buildError({ [SID]: { ...noBinding, plans: { p1: syncWork() } } })
      expect(onlyOnePlan.problems).toHaveLength(2)
      expect(onlyOnePlan.problems.every((p) => p.includes("p2"))).toBe(true)
    }))

  it.scoped("a non-bindable offering needs no bind work; work keyed by offering name and plan id is served", () =>
    Effect.gen(function*() {
      const { bind: _bind, unbind: _unbind, ...noBinding } = syncWork()
      const unbindable = catalogOf([plan("p1-id", { name: "p1" })], { bindable: false, bindings_retrievable: false })
      const log = yield* makeLog
      const client = yield* makeEffectClient(managed(unbindable, {
        "managed-svc": {
          ...noBinding,
          plans: {
            "p1-id": { provision: ManagedBroker.sync((ctx) => Effect.as(log.add(`p1 ${ctx.instanceId}`), {})) }
          }
        }
      }))
      const created = yield* client.call("PUT", instancePath("i1"), { body: provisionBody("p1-id") })
      expect(created.status).toBe(201)
      expect(yield* log.all).toEqual(["p1 i1"])
    }))
})
