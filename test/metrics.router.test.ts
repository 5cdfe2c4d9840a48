/**
 * Request metrics of a router mounted in the user's own app (not `Server.layer`): `Router.make` built with
 * `Metrics.layer` in its context records `osb_requests_total` and `osb_request_duration_seconds`, over a real
 * socket to an `@effect/platform-node` server whose app mounts the OSB router under a prefix next to a route of
 * its own; a router built without it records nothing. And `Metrics.prometheus` leaves out Effect's own
 * `effect_fiber_*` metrics, even when the runtime records them.
 * (Effect's metrics are global to the process: this file is one worker, the expected values are exact.)
 */
import * as NodeHttpServer from "@effect/platform-node/NodeHttpServer"
import * as HttpRouter from "@effect/platform/HttpRouter"
import * as HttpServer from "@effect/platform/HttpServer"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import { Effect, Exit, Layer, Metric, RuntimeFlags, Scope } from "effect"
import { createServer } from "node:http"
import { describe, expect, it } from "vitest"
import { BrokerAuth, BrokerStore, Catalog, ManagedBroker, Router } from "../src/index.js"
import * as Metrics from "../src/Metrics.js"
import { AUTH, PASSWORD, redacted, socketCall, USER } from "./support/http.js"
import { catalogOf, plan, provisionBody, SID, syncWork } from "./support/managedKit.js"
import { freePort } from "./support/net.js"
import { series } from "./support/prometheus.js"

const broker = ManagedBroker.layer({ [SID]: syncWork() }).pipe(
  Layer.provideMerge(Catalog.layer(catalogOf([plan("small")]))),
  Layer.provide(BrokerStore.layerMemory),
  Layer.merge(BrokerAuth.layerBasic([{ username: USER, password: redacted(PASSWORD) }]))
)

/** The user's app: a route of its own and the OSB router mounted under /broker, served by NodeHttpServer. */
const userApp = (port: number, metrics: boolean) => {
  const served = Layer.unwrapEffect(Effect.map(Router.make({ requestLog: false }), ({ router }) =>
    HttpServer.serve(
      HttpRouter.empty.pipe(
        HttpRouter.get("/hello", HttpServerResponse.text("hello")),
        HttpRouter.mount("/broker", router)
      )
    )))
  return served.pipe(
    Layer.provide(NodeHttpServer.layer(createServer, { host: "127.0.0.1", port })),
    Layer.provide(broker),
    Layer.provide(metrics ? Metrics.layer : Layer.empty)
  )
}

const serve = async (metrics: boolean) => {
  const port = await freePort()
  const scope = Effect.runSync(Scope.make())
  await Effect.runPromise(Layer.buildWithScope(userApp(port, metrics), scope))
  const socket = socketCall(port)
  const call = async (method: string, path: string, body?: unknown, auth = AUTH) =>
    (await socket(method, path, { body, headers: { authorization: auth } })).status
  return { call, close: () => Effect.runPromise(Scope.close(scope, Exit.void)) }
}

describe("request metrics of a router mounted in the user's app", () => {
  it("counts the mounted router's requests by endpoint and status; a router built without Metrics.layer does not", async () => {
    const withMetrics = await serve(true)
    try {
      expect(await withMetrics.call("GET", "/hello")).toBe(200)
      expect(await withMetrics.call("GET", "/broker/v2/catalog")).toBe(200)
      expect(await withMetrics.call("GET", "/broker/v2/catalog", undefined, "Basic bm86bm8=")).toBe(401)
      expect(await withMetrics.call("PUT", "/broker/v2/service_instances/secret-a", provisionBody("small"))).toBe(201)
      expect(await withMetrics.call("PUT", "/broker/v2/service_instances/secret-a", provisionBody("small"))).toBe(200)
    } finally {
      await withMetrics.close()
    }
    const without = await serve(false)
    try {
      expect(await without.call("GET", "/broker/v2/catalog")).toBe(200)
      expect(await without.call("PUT", "/broker/v2/service_instances/secret-b", provisionBody("small"))).toBe(201)
    } finally {
      await without.close()
    }

    const text = await Effect.runPromise(Metrics.prometheus)
    const requests = (endpoint: string, status: string) => series(text, "osb_requests_total", { endpoint, status })
    expect(requests("catalog", "200")).toBe(1)
    expect(requests("catalog", "401")).toBe(1)
    expect(requests("provision", "201")).toBe(1)
    expect(requests("provision", "200")).toBe(1)
    expect(series(text, "osb_request_duration_seconds_count", { endpoint: "provision" })).toBe(2)
    expect(series(text, "osb_request_duration_seconds_count", { endpoint: "catalog" })).toBe(2)
    expect(series(text, "osb_authentication_failures_total")).toBe(1)
    // the app's own route is not an OSB request
    expect(text).not.toContain(`endpoint="other"`)
    expect(text).not.toContain("secret-")
  })
})

describe("Metrics.prometheus", () => {
  it("leaves out Effect's own effect_fiber_* metrics, which the runtime records when asked to", async () => {
    await Effect.runPromise(
      Effect.provide(
        Effect.forEach([1, 2, 3], (n) => Effect.fork(Effect.succeed(n))),
        RuntimeFlags.enableRuntimeMetrics
      )
    )
    const recorded = Metric.unsafeSnapshot().map((pair) => pair.metricKey.name)
    expect(recorded).toContain("effect_fiber_started")
    await Effect.runPromise(Metric.increment(Metric.counter("my_own_total")))

    const text = await Effect.runPromise(Metrics.prometheus)
    expect(text).not.toContain("effect_fiber")
    expect(text).toContain("my_own_total")
    expect(text).toContain("osb_requests_total")
  })
})
