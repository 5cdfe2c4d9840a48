/**
 * Store unavailable = 503 (docs/decisions.md row 33): the quick start on a PostgreSQL cluster of this test's own,
 * stopped mid-run: every request that needs the store gets 503 with Retry-After and a JSON description (reads
 * and writes), the catalog still 200; one "store down" log line, no stack trace, no raw SqlError; after the
 * cluster is back, 200 again and one "store back" line with the duration and the count of refused requests.
 * In process: a defect is still a 500 with its cause logged once, and the classification of SqlErrors.
 */
import { SqlError } from "@effect/sql/SqlError"
import { Cause, Effect, Layer, Logger } from "effect"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { BrokerStore, Catalog, ServiceBroker, SqlStore } from "../src/index.js"
import { isUnavailable, makeOutageTracker } from "../src/internal/storeOutage.js"
import {
  AI,
  bindBody,
  bindingPath,
  type BrokerProcess,
  deleteQuery,
  freePort,
  instancePath,
  killAll,
  LARGE_PLAN_ID,
  provisionBody,
  SMALL_PLAN_ID,
  startBroker
} from "./support/brokerProcess.js"
import { sharedQuickstart } from "./support/build.js"
import { clientFor } from "./support/http.js"
import { adminUrl } from "./support/pg.js"
import { type PgCluster, startPgCluster } from "./support/pgCluster.js"

const lines = (output: string, marker: string) => output.split("\n").filter((line) => line.includes(marker))

describe("store unavailable over HTTP (PostgreSQL stopped and restarted)", () => {
  let cluster: PgCluster
  let built: string
  let broker: BrokerProcess
  beforeAll(async () => {
    cluster = await startPgCluster()
    built = await sharedQuickstart()
    broker = await startBroker({
      name: "outage",
      script: built,
      store: cluster.url,
      delayMs: 200,
      leaseTtlMs: 3000,
      takeoverIntervalMs: 1000
    })
  }, 180_000)
  afterAll(async () => {
    await killAll()
    cluster?.stop("immediate")
  })

  it("503 with Retry-After for reads and writes while it is down, one line per transition, 200 once back", async () => {
    expect((await broker.call("PUT", instancePath("out-1"), provisionBody(SMALL_PLAN_ID, { size: 1 }))).status).toBe(
      201
    )
    expect((await broker.call("PUT", bindingPath("out-1", "b-1"), bindBody(SMALL_PLAN_ID))).status).toBe(201)

    cluster.stop("fast")
    const during = [
      await broker.call("GET", instancePath("out-1")),
      await broker.call("GET", bindingPath("out-1", "b-1")),
      await broker.call("GET", "/v2/service_instances/out-1/last_operation"),
      await broker.call("PUT", instancePath("out-2"), provisionBody(SMALL_PLAN_ID)),
      await broker.call("PUT", instancePath("out-3", AI), provisionBody(LARGE_PLAN_ID)),
      await broker.call("PATCH", instancePath("out-1"), { service_id: provisionBody(SMALL_PLAN_ID).service_id }),
      await broker.call("PUT", bindingPath("out-1", "b-2"), bindBody(SMALL_PLAN_ID)),
      await broker.call("DELETE", bindingPath("out-1", "b-1", deleteQuery(SMALL_PLAN_ID))),
      await broker.call("DELETE", instancePath("out-1", deleteQuery(SMALL_PLAN_ID)))
    ]
    for (const reply of during) {
      expect({ status: reply.status, retryAfter: reply.headers.get("retry-after") }).toEqual({
        status: 503,
        retryAfter: "2"
      })
      expect(reply.headers.get("content-type")).toContain("application/json")
      expect(reply.body.description).toMatch(/store is unavailable/)
    }
    // the catalog needs no store
    expect((await broker.call("GET", "/v2/catalog")).status).toBe(200)
    // background rounds (renewals every second, takeover every second) during the outage log nothing more
    await new Promise((resolve) => setTimeout(resolve, 2500))

    const down = broker.output()
    expect(lines(down, "store down")).toHaveLength(1)
    expect(lines(down, "store down")[0]).toMatch(/level=WARN/)
    expect(down).not.toMatch(/unexpected failure|level=ERROR|SqlError|\n\s+at /)

    cluster.resume()
    const back = await broker.call("GET", instancePath("out-1"))
    expect(back.status).toBe(200)
    expect(back.body.parameters).toEqual({ size: 1 })
    expect((await broker.call("PUT", instancePath("out-2"), provisionBody(SMALL_PLAN_ID))).status).toBe(201)
    // the broker's log lines are written in batches after the answers: wait (up to 5 s) for the "store back" line
    for (let waited = 0; waited < 5000 && lines(broker.output(), "store back").length === 0; waited += 50) {
      await new Promise((resolve) => setTimeout(resolve, 50))
    }
    const after = broker.output()
    expect(lines(after, "store down")).toHaveLength(1)
    const backLines = lines(after, "store back")
    expect(backLines).toHaveLength(1)
    expect(backLines[0]).toMatch(/after \d+\.\d s; 9 request\(s\) refused meanwhile/)
    expect(after).not.toMatch(/unexpected failure|level=ERROR|SqlError|\n\s+at /)
  }, 60_000)
})

describe("store unavailable in process", () => {
  const catalog = {
    services: [{
      id: "svc",
      name: "svc",
      description: "d",
      bindable: false,
      plans: [{ id: "plan", name: "plan", description: "d" }]
    }]
  }
  const brokerDying = (defect: unknown) =>
    ServiceBroker.layer(ServiceBroker.make({
      provision: () => Effect.die(defect),
      deprovision: () => Effect.die(defect)
    })).pipe(Layer.provideMerge(Catalog.layer(catalog)))

  const body = { service_id: "svc", plan_id: "plan", organization_guid: "o", space_guid: "s" }

  it("a StoreUnavailable (as a defect of the engine) answers 503 with Retry-After, and logs no error", async () => {
    const logged: Array<string> = []
    const logger = Logger.replace(Logger.defaultLogger, Logger.make(({ message }) => logged.push(String(message))))
    const client = clientFor(
      Layer.merge(brokerDying(new BrokerStore.StoreUnavailable({ message: "database down" })), logger),
      { retryAfterSeconds: 7 }
    )
    try {
      const reply = await client.call("PUT", "/v2/service_instances/x", { body })
      expect(reply.status).toBe(503)
      expect(reply.headers.get("retry-after")).toBe("7")
      expect(reply.body).toEqual({
        description: "The broker's store is unavailable right now; retry the request shortly."
      })
      expect(logged).toEqual([])
    } finally {
      await client.dispose()
    }
  })

  it("a StoreError stays a defect: 500 with the generic body, its cause logged once", async () => {
    const logged: Array<string> = []
    const logger = Logger.replace(Logger.defaultLogger, Logger.make(({ cause }) => logged.push(String(cause))))
    const client = clientFor(
      Layer.merge(brokerDying(new BrokerStore.StoreError({ message: "bad statement", cause: "syntax" })), logger)
    )
    try {
      const reply = await client.call("PUT", "/v2/service_instances/x", { body })
      expect(reply.status).toBe(500)
      expect(reply.body).toEqual({ description: "Internal broker error." })
      expect(logged).toHaveLength(1)
      expect(logged[0]).toContain("bad statement")
    } finally {
      await client.dispose()
    }
  })

  it("a COMMIT that fails on a lost connection (@effect/sql dies with its SqlError) is StoreUnavailable too", async () => {
    const tracker = makeOutageTracker("PostgreSQL")
    const lost = new SqlError({
      message: "Failed to execute statement",
      cause: new Error("Client has encountered a connection error and is not queryable")
    })
    const exit = await Effect.runPromiseExit(tracker.guard("a store transaction failed")(Effect.die(lost)))
    expect(exit).toMatchObject({ _tag: "Failure", cause: { _tag: "Fail", error: { _tag: "StoreUnavailable" } } })
    expect(tracker.isDown()).toBe(true)
    const broken = new SqlError({ message: "Failed to execute statement", cause: { code: "42601" } })
    const defect = await Effect.runPromiseExit(tracker.guard("a store transaction failed")(Effect.die(broken)))
    expect(defect).toMatchObject({ _tag: "Failure", cause: { _tag: "Fail", error: { _tag: "StoreError" } } })
    // an interruption or another defect passes through unchanged
    const other = await Effect.runPromiseExit(tracker.guard("x")(Effect.die("boom")))
    expect(other).toMatchObject({ _tag: "Failure", cause: { _tag: "Die", defect: "boom" } })
  })

  it("start-up: an unreachable PostgreSQL fails the layer with StoreUnavailable, a refused one with StoreError", async () => {
    const port = await freePort()
    const unreachable = await Effect.runPromiseExit(
      Effect.scoped(Layer.build(SqlStore.layerPg(`postgres://postgres@127.0.0.1:${port}/postgres`)))
    )
    expect(unreachable).toMatchObject({ _tag: "Failure", cause: { _tag: "Fail", error: { _tag: "StoreUnavailable" } } })
    const url = new URL(adminUrl())
    url.pathname = "/no_such_database_here"
    const refused = await Effect.runPromiseExit(Effect.scoped(Layer.build(SqlStore.layerPg(url.toString()))))
    expect(refused).toMatchObject({ _tag: "Failure", cause: { _tag: "Fail", error: { _tag: "StoreError" } } })
    expect(String((Cause.squash((refused as any).cause) as Error).message)).toMatch(
      /connecting to PostgreSQL failed: .*no_such_database_here/
    )
  })

  it("which SqlErrors mean the store is unavailable", () => {
    const withCause = (message: string, cause: unknown) => new SqlError({ message, cause })
    const errno = (code: string) => Object.assign(new Error(`connect ${code} 127.0.0.1:5432`), { code })
    const pg = (code: string, message: string) => Object.assign(new Error(message), { code })
    expect(isUnavailable(withCause("Failed to acquire connection", errno("ECONNREFUSED")))).toBe(true)
    expect(isUnavailable(withCause("Connection error", new Error("Connection terminated unexpectedly")))).toBe(true)
    expect(isUnavailable(withCause("Failed to execute statement", pg("57P01", "terminating connection")))).toBe(true)
    expect(isUnavailable(withCause("Failed to execute statement", pg("57P03", "the database system is starting up"))))
      .toBe(true)
    expect(isUnavailable(withCause("Failed to execute statement", pg("08006", "connection failure")))).toBe(true)
    expect(isUnavailable(withCause("Failed to execute statement", pg("53300", "too many clients")))).toBe(true)
    expect(isUnavailable(withCause("Failed to execute statement", pg("SQLITE_BUSY", "database is locked")))).toBe(true)
    // the statement itself is wrong, or the data: a defect
    expect(isUnavailable(withCause("Failed to execute statement", pg("42601", "syntax error")))).toBe(false)
    expect(isUnavailable(withCause("Failed to execute statement", pg("23505", "duplicate key")))).toBe(false)
    expect(isUnavailable(withCause("Failed to execute statement", pg("SQLITE_CORRUPT", "malformed")))).toBe(false)
  })
})
