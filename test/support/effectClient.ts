/**
 * Test support: call the router from inside an Effect test, so the broker's background fibers run on the
 * test's clock (`TestClock.adjust` moves async operations forward; no sleeps).
 */
import * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import { Effect, Layer, Redacted } from "effect"
import type { Scope } from "effect"
import { BrokerAuth, BrokerStore, Catalog, ManagedBroker, Router } from "../../src/index.js"
import type { Model, ServiceBroker } from "../../src/index.js"
import { AUTH, PASSWORD, type Reply, USER } from "./http.js"

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
    const app = yield* Router.httpApp({ requestLog: false, ...options }).pipe(Effect.provide(context), Effect.orDie)
    const call: EffectClient["call"] = (method, path, opts = {}) =>
      Effect.gen(function*() {
        const headers = new Headers({ authorization: AUTH, "x-broker-api-version": "2.17", ...opts.headers })
        if (opts.body !== undefined) headers.set("content-type", "application/json")
        const request = HttpServerRequest.fromWeb(
          new Request(`http://broker.test${path}`, {
            method,
            headers,
            ...(opts.body === undefined ? {} : { body: JSON.stringify(opts.body) })
          })
        )
        const response = yield* app.pipe(
          Effect.provideService(HttpServerRequest.HttpServerRequest, request),
          Effect.scoped
        )
        const web = HttpServerResponse.toWeb(response)
        const text = yield* Effect.promise(() => web.text())
        return {
          status: web.status,
          headers: web.headers,
          text,
          body: text.length === 0 ? undefined : JSON.parse(text)
        } satisfies Reply
      })
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
