/**
 * OSB metrics after a scripted lifecycle, read as Prometheus text: requests by endpoint and status, sync and
 * async operations by kind, mode, plan and outcome, a failure, an authentication failure, a takeover by a second
 * replica (on one SQLite file), operations in progress back at 0; no instance or binding id in any label.
 * (Effect's metrics are global to the process: this file is one worker, the expected values are exact.)
 */
import { type Duration, Effect, Exit, Layer, Scope } from "effect"
import { mkdtempSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import * as AdminServer from "../src/AdminServer.js"
import { BrokerAuth, Catalog, ManagedBroker, OsbError, Server, SqlStore } from "../src/index.js"
import * as Metrics from "../src/Metrics.js"
import { AUTH, PASSWORD, redacted, socketCall, USER } from "./support/http.js"
import { bindBody, catalogOf, plan, provisionBody, q, SID, syncWork } from "./support/managedKit.js"
import { freePort } from "./support/net.js"
import { series } from "./support/prometheus.js"

const catalog = catalogOf([plan("ok"), plan("slow"), plan("bad"), plan("fragile")])
const work = syncWork({
  plans: {
    slow: { provision: ManagedBroker.async(() => Effect.as(Effect.sleep("100 millis"), {})) },
    bad: { provision: ManagedBroker.sync(() => Effect.fail(new OsbError.BrokerFailure({ description: "no" }))) },
    fragile: { provision: ManagedBroker.async(() => Effect.as(Effect.sleep("30 seconds"), {}), { resumable: false }) }
  }
})
const engine = (file: string, replicaId: string, takeoverInterval: Duration.DurationInput) =>
  ManagedBroker.layer({ [SID]: work }, { leaseTtl: 300, takeoverInterval, replicaId }).pipe(
    Layer.provideMerge(Catalog.layer(catalog)),
    Layer.provide(SqlStore.layerSqlite(file))
  )

describe("OSB metrics", () => {
  it("exact values after sync and async lifecycles, a failure, a refused credential and a takeover", async () => {
    const file = join(mkdtempSync(join(tmpdir(), "osb-metrics-")), "store.sqlite")
    const port = await freePort()
    const admin = await freePort()
    const replicaA = Server.layer({ port, requestLog: false, drainTimeout: "50 millis" }).pipe(
      Layer.provide(engine(file, "replica-A", "1 hour")),
      Layer.provide(BrokerAuth.layerBasic([{ username: USER, password: redacted(PASSWORD) }])),
      Layer.provide(AdminServer.layer({ port: admin }))
    )
    const scopeA = Effect.runSync(Scope.make())
    await Effect.runPromise(Layer.buildWithScope(replicaA, scopeA))
    const socket = socketCall(port)
    const call = (method: string, path: string, body?: unknown, auth = AUTH) =>
      socket(method, path, { body, headers: { authorization: auth } })
    const i = "/v2/service_instances"

    expect((await call("GET", "/v2/catalog")).status).toBe(200)
    expect((await call("GET", "/v2/catalog", undefined, "Basic bm86bm8=")).status).toBe(401)
    // a synchronous lifecycle on plan ok
    expect((await call("PUT", `${i}/secret-instance-1`, provisionBody("ok"))).status).toBe(201)
    expect((await call("PUT", `${i}/secret-instance-1/service_bindings/secret-binding-1`, bindBody("ok"))).status)
      .toBe(201)
    expect((await call("DELETE", `${i}/secret-instance-1/service_bindings/secret-binding-1?${q("ok")}`)).status)
      .toBe(200)
    expect((await call("DELETE", `${i}/secret-instance-1?${q("ok")}`)).status).toBe(200)
    // an asynchronous provision on plan slow, polled to its end
    expect((await call("PUT", `${i}/secret-instance-2?accepts_incomplete=true`, provisionBody("slow"))).status)
      .toBe(202)
    for (let n = 0; n < 100; n++) {
      const state = (await call("GET", `${i}/secret-instance-2/last_operation`)).body["state"]
      if (state !== "in progress") break
      await new Promise((r) => setTimeout(r, 50))
    }
    // a synchronous provision whose work fails
    expect((await call("PUT", `${i}/secret-instance-3`, provisionBody("bad"))).status).toBe(500)
    // an asynchronous provision replica A abandons (its drain is short), taken over (and failed) by replica B
    expect((await call("PUT", `${i}/secret-instance-4?accepts_incomplete=true`, provisionBody("fragile"))).status)
      .toBe(202)
    const during = await Effect.runPromise(Metrics.prometheus)
    expect(series(during, "osb_operations_in_progress", { kind: "provision" })).toBe(1)
    const viaAdmin = await (await fetch(`http://127.0.0.1:${admin}/metrics`)).text()
    expect(series(viaAdmin, "osb_requests_total", { endpoint: "catalog", status: "200" })).toBe(1)
    await Effect.runPromise(Scope.close(scopeA, Exit.void))

    const scopeB = Effect.runSync(Scope.make())
    await Effect.runPromise(
      Layer.buildWithScope(Layer.provide(engine(file, "replica-B", "100 millis"), Metrics.layer), scopeB)
    )
    let text = ""
    for (let n = 0; n < 100; n++) {
      text = await Effect.runPromise(Metrics.prometheus)
      if (series(text, "osb_takeovers_total", { kind: "provision", outcome: "failed" }) === 1) break
      await new Promise((r) => setTimeout(r, 50))
    }
    await Effect.runPromise(Scope.close(scopeB, Exit.void))
    text = await Effect.runPromise(Metrics.prometheus)

    const req = (endpoint: string, status: string) => series(text, "osb_requests_total", { endpoint, status })
    expect(req("catalog", "200")).toBe(1)
    expect(req("catalog", "401")).toBe(1)
    expect(req("provision", "201")).toBe(1)
    expect(req("provision", "202")).toBe(2)
    expect(req("provision", "500")).toBe(1)
    expect(req("bind", "201")).toBe(1)
    expect(req("unbind", "200")).toBe(1)
    expect(req("deprovision", "200")).toBe(1)
    expect(series(text, "osb_authentication_failures_total")).toBe(1)
    expect(series(text, "osb_request_duration_seconds_count", { endpoint: "provision" })).toBe(4)

    const op = (kind: string, mode: string, planId: string, outcome: string) =>
      series(text, "osb_operations_total", { kind, mode, plan: planId, outcome })
    expect(op("provision", "sync", "ok", "succeeded")).toBe(1)
    expect(op("bind", "sync", "ok", "succeeded")).toBe(1)
    expect(op("unbind", "sync", "ok", "succeeded")).toBe(1)
    expect(op("deprovision", "sync", "ok", "succeeded")).toBe(1)
    expect(op("provision", "async", "slow", "succeeded")).toBe(1)
    expect(op("provision", "sync", "bad", "failed")).toBe(1)
    expect(op("provision", "async", "fragile", "failed")).toBe(1)
    expect(series(text, "osb_operation_duration_seconds_count", { kind: "provision" })).toBe(4)
    expect(series(text, "osb_takeovers_total", { kind: "provision", outcome: "failed" })).toBe(1)
    expect(series(text, "osb_operations_in_progress", { kind: "provision" })).toBe(0)
    expect(series(text, "osb_store_transaction_duration_seconds_count")).toBeGreaterThan(8)

    // bounded labels only: no ids, no credentials
    expect(text).not.toContain("secret-")
    expect(text).not.toContain(PASSWORD)
  }, 60_000)
})
