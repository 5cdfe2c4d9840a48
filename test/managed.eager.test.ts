/**
 * The handler takes a synchronous request known at once (the in-memory store, an instance nobody holds, work that is
 * already done) without a fiber: the managed broker decides while the handler calls it, and the answer is an `Exit`.
 * What users see stays as it was: the `ServiceBroker` operations are lazy effects (nothing happens until one runs; it
 * runs again when run again), and a wrapper around the store or around an operation is never bypassed.
 */
import { describe, expect, it } from "@effect/vitest"
import { Context, Effect, Exit, Layer, Option, Redacted } from "effect"
import { BrokerAuth, BrokerStore, Catalog, ManagedBroker, ServiceBroker } from "../src/index.js"
import * as Core from "../src/internal/core.js"
import type { OsbHttpResponse } from "../src/internal/render.js"
import { catalogOf, instancePath, plan, provisionBody, SID, syncWork } from "./support/managedKit.js"

const catalog = catalogOf([plan("p")])
const auth = `Basic ${Buffer.from("u:p").toString("base64")}`

/** A PUT of an instance as the node adapter hands it to the handler: its body already read. */
const put = (instanceId: string) => ({
  method: "PUT",
  url: instancePath(instanceId),
  headers: { authorization: auth, "x-broker-api-version": "2.17", "content-type": "application/json" },
  text: Exit.succeed(JSON.stringify(provisionBody("p")))
})

/** The handler of a managed broker (sync work) over `store`, with `wrap` applied to the broker's service. */
const handlerOver = (
  store: Layer.Layer<BrokerStore.BrokerStore>,
  wrap: (broker: ServiceBroker.ServiceBrokerService) => ServiceBroker.ServiceBrokerService = (broker) => broker
) =>
  Effect.gen(function*() {
    const context = yield* Layer.build(
      ManagedBroker.layer({ [SID]: syncWork() }).pipe(
        Layer.provideMerge(Catalog.layer(catalog)),
        Layer.provide(store),
        Layer.merge(BrokerAuth.layerBasic([{ username: "u", password: Redacted.make("p") }]))
      )
    )
    const broker = wrap(Context.get(context, ServiceBroker.ServiceBroker))
    return yield* Core.makeHandler({ requestLog: false }).pipe(
      Effect.provide(Context.add(context, ServiceBroker.ServiceBroker, broker))
    )
  })

/** Runs what the handler returned: an `Exit` as it is, anything else in a fiber. */
const answer = (effect: Effect.Effect<OsbHttpResponse>): Effect.Effect<Exit.Exit<OsbHttpResponse>> =>
  Exit.isExit(effect) ? Effect.succeed(effect as Exit.Exit<OsbHttpResponse>) : Effect.exit(effect)

describe("a synchronous request known at once is answered without a fiber", () => {
  it.scoped("PRV-1: on the in-memory store the handler's answer is an Exit; a repeat is 200 the same way", () =>
    Effect.gen(function*() {
      const handler = yield* handlerOver(BrokerStore.layerMemory)
      const first = handler.handle(put("i-1"))
      expect(Exit.isExit(first)).toBe(true)
      expect(yield* first).toMatchObject({ status: 201 })
      const repeated = handler.handle(put("i-1"))
      expect(Exit.isExit(repeated)).toBe(true)
      expect(yield* repeated).toMatchObject({ status: 200 })
    }))

  it.scoped("a copy of the store with its own transact is used, not bypassed (it takes a fiber)", () =>
    Effect.gen(function*() {
      let transactions = 0
      const counted = Layer.effect(
        BrokerStore.BrokerStore,
        Effect.map(BrokerStore.makeMemory, (store): BrokerStore.BrokerStoreService => ({
          ...store,
          transact: (instanceId, f) => {
            transactions++
            return store.transact(instanceId, f)
          }
        }))
      )
      const handler = yield* handlerOver(counted)
      const effect = handler.handle(put("i-1"))
      expect(Exit.isExit(effect)).toBe(false)
      const exit = yield* answer(effect)
      expect(Exit.isSuccess(exit) && exit.value.status).toBe(201)
      expect(transactions).toBe(1)
    }))

  it.scoped("a copy of the broker with its own provision is used, not bypassed", () =>
    Effect.gen(function*() {
      let calls = 0
      const handler = yield* handlerOver(BrokerStore.layerMemory, (broker) => ({
        ...broker,
        provision: (request) => {
          calls++
          return broker.provision(request)
        }
      }))
      const exit = yield* answer(handler.handle(put("i-1")))
      expect(Exit.isSuccess(exit) && exit.value.status).toBe(201)
      expect(calls).toBe(1)
    }))
})

describe("the managed broker's operations stay lazy", () => {
  it.scoped("an operation does nothing until its effect runs, and runs again when run again", () =>
    Effect.gen(function*() {
      const context = yield* Layer.build(
        ManagedBroker.layer({ [SID]: syncWork() }).pipe(
          Layer.provideMerge(Catalog.layer(catalog)),
          Layer.provideMerge(BrokerStore.layerMemory)
        )
      )
      const broker = Context.get(context, ServiceBroker.ServiceBroker)
      const store = Context.get(context, BrokerStore.BrokerStore)
      const target = Option.getOrThrow(Context.get(context, Catalog.Catalog).plan("p"))
      const provision = broker.provision({
        instanceId: "i-1",
        acceptsIncomplete: false,
        body: provisionBody("p"),
        apiVersion: { major: 2, minor: 17 },
        originatingIdentity: { _tag: "Absent" },
        requestIdentity: Option.none(),
        ...target
      })
      expect(Option.isNone((yield* store.read("i-1")).instance)).toBe(true)
      expect((yield* provision)._tag).toBe("Created")
      expect(Option.isSome((yield* store.read("i-1")).instance)).toBe(true)
      expect((yield* provision)._tag).toBe("AlreadyExists")
    }))
})
