/**
 * OSB metrics of a broker on the in-memory store, where a synchronous request known at once is answered without a
 * fiber (the store's transaction runs before the handler returns): its operations, store transactions and
 * requests are recorded exactly as on the ordinary path, over a real socket to `Server.layer`.
 * (Effect's metrics are global to the process: this file is one worker, the expected values are exact.)
 */
import { Effect, Exit, Layer, Scope } from "effect"
import { describe, expect, it } from "vitest"
import { BrokerAuth, BrokerStore, Catalog, ManagedBroker, Server } from "../src/index.js"
import * as Metrics from "../src/Metrics.js"
import { PASSWORD, redacted, socketCall, USER } from "./support/http.js"
import { bindBody, catalogOf, plan, provisionBody, q, SID, syncWork } from "./support/managedKit.js"
import { freePort } from "./support/net.js"
import { series } from "./support/prometheus.js"

describe("OSB metrics on the in-memory store", () => {
  it("a synchronous lifecycle answered without a fiber counts its operations, transactions and requests", async () => {
    const port = await freePort()
    const server = Server.layer({ port, requestLog: false }).pipe(
      Layer.provide(
        ManagedBroker.layer({ [SID]: syncWork() }).pipe(
          Layer.provideMerge(Catalog.layer(catalogOf([plan("ok")]))),
          Layer.provide(BrokerStore.layerMemory)
        )
      ),
      Layer.provide(BrokerAuth.layerBasic([{ username: USER, password: redacted(PASSWORD) }])),
      Layer.provide(Metrics.layer)
    )
    const scope = Effect.runSync(Scope.make())
    await Effect.runPromise(Layer.buildWithScope(server, scope))
    const socket = socketCall(port)
    const call = async (method: string, path: string, body?: unknown) => (await socket(method, path, { body })).status
    const i = "/v2/service_instances"
    try {
      expect(await call("PUT", `${i}/i-1`, provisionBody("ok"))).toBe(201)
      expect(await call("PUT", `${i}/i-1`, provisionBody("ok"))).toBe(200)
      expect(await call("PUT", `${i}/i-1/service_bindings/b-1`, bindBody("ok"))).toBe(201)
      expect(await call("DELETE", `${i}/i-1/service_bindings/b-1?${q("ok")}`)).toBe(200)
      expect(await call("DELETE", `${i}/i-1?${q("ok")}`)).toBe(200)
      expect(await call("GET", `${i}/i-1/last_operation`)).toBe(410)
    } finally {
      await Effect.runPromise(Scope.close(scope, Exit.void))
    }
    const text = await Effect.runPromise(Metrics.prometheus)
    const op = (kind: string) =>
      series(text, "osb_operations_total", { kind, mode: "sync", plan: "ok", outcome: "succeeded" })
    expect(op("provision")).toBe(1)
    expect(op("bind")).toBe(1)
    expect(op("unbind")).toBe(1)
    expect(op("deprovision")).toBe(1)
    expect(series(text, "osb_operation_duration_seconds_count", { kind: "provision" })).toBe(1)
    // one transaction per request that decides (the repeat decides too): each operation finished in it
    expect(series(text, "osb_store_transaction_duration_seconds_count")).toBe(5)
    expect(series(text, "osb_requests_total", { endpoint: "provision", status: "201" })).toBe(1)
    expect(series(text, "osb_requests_total", { endpoint: "provision", status: "200" })).toBe(1)
    expect(series(text, "osb_requests_total", { endpoint: "last_operation", status: "410" })).toBe(1)
  })
})
