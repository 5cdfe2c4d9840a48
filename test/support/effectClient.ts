/**
 * Test support: call the router from inside an Effect test, so the broker's background fibers run on the
 * test's clock (`TestClock.adjust` moves async operations forward; no sleeps). Built on the shipped test kit:
 * `InProcess.makeClient` runs each request in the calling fiber, and `raw` sends it as given.
 */
import { Effect, Layer, Redacted } from "effect"
import type { Scope } from "effect"
import { BrokerAuth, BrokerStore, Catalog, ManagedBroker } from "../../src/index.js"
import type { Model, Router, ServiceBroker } from "../../src/index.js"
import { InProcess } from "../../src/testing/index.js"
import { PASSWORD, type Reply, replyOf, USER } from "./http.js"

export interface EffectClient {
  readonly call: (
    method: string,
    path: string,
    options?: { readonly body?: unknown; readonly headers?: Record<string, string> }
  ) => Effect.Effect<Reply>
}

/** Builds the router over `services` in the current scope and returns a client that runs requests in-fiber. */
export const makeEffectClient = (
  services: Layer.Layer<Catalog.Catalog | ServiceBroker.ServiceBroker, unknown>,
  options: Router.RouterOptions = {}
): Effect.Effect<EffectClient, never, Scope.Scope> =>
  Effect.gen(function*() {
    const context = yield* Layer.build(
      Layer.merge(services, BrokerAuth.layerBasic([{ username: USER, password: Redacted.make(PASSWORD) }]))
    ).pipe(Effect.orDie)
    const osb = yield* InProcess.makeClient({ username: USER, password: PASSWORD, routerOptions: options }).pipe(
      Effect.provide(context),
      Effect.orDie
    )
    const call: EffectClient["call"] = (method, path, opts = {}) =>
      osb.raw(method, path, opts).pipe(
        Effect.map((raw) => replyOf(raw.status, new Headers(raw.headers), raw.text)),
        Effect.orDie
      )
    return { call }
  })

/** A managed broker over a fresh memory store, for tests. */
export const managed = (
  catalog: Model.CatalogBody,
  work: { readonly [serviceIdOrName: string]: ManagedBroker.OfferingWork },
  options?: ManagedBroker.ManagedOptions
) =>
  ManagedBroker.layer(work, options).pipe(
    Layer.provideMerge(Catalog.layer(catalog)),
    Layer.provide(BrokerStore.layerMemory)
  )
