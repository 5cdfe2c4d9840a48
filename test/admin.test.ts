/**
 * The admin listener over real sockets: /healthz, /readyz (not serving yet, serving, draining, the PostgreSQL
 * store stopped and started again on a throw-away cluster of this test's own) and /metrics in the Prometheus
 * text format.
 */
import { Cause, type Duration, Effect, Exit, Layer, Option, Scope } from "effect"
import { execFileSync } from "node:child_process"
import { readdirSync } from "node:fs"
import { type AddressInfo, createServer } from "node:net"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, describe, expect, it } from "vitest"
import { LARGE_PLAN_ID, layerWith, SERVICE_ID, SMALL_PLAN_ID } from "../examples/managed-broker.js"
import * as AdminServer from "../src/AdminServer.js"
import { BrokerAuth, BrokerStore, Server, SqlStore } from "../src/index.js"
import { AUTH, PASSWORD, redacted, USER } from "./support/http.js"
import { freePort } from "./support/net.js"

const headers = { authorization: AUTH, "x-broker-api-version": "2.17", "content-type": "application/json" }

interface Running {
  readonly port: number
  readonly admin: number
  readonly scope: Scope.CloseableScope
}

const start = async (
  store: Layer.Layer<BrokerStore.BrokerStore, unknown>,
  delay: Duration.DurationInput = "3 seconds"
): Promise<Running> => {
  const port = await freePort()
  const admin = await freePort()
  const main = Server.layer({ port, requestLog: false, drainTimeout: "2 seconds" }).pipe(
    Layer.provide(layerWith(delay, store)),
    Layer.provide(BrokerAuth.layerBasic([{ username: USER, password: redacted(PASSWORD) }])),
    Layer.provide(AdminServer.layer({ port: admin }))
  )
  const scope = Effect.runSync(Scope.make())
  await Effect.runPromise(Layer.buildWithScope(main, scope))
  return { port, admin, scope }
}

const adminGet = async (running: { readonly admin: number }, path: string) => {
  const response = await fetch(`http://127.0.0.1:${running.admin}${path}`)
  const text = await response.text()
  return { status: response.status, text, contentType: response.headers.get("content-type") }
}

const readyz = async (running: { readonly admin: number }) => {
  const reply = await adminGet(running, "/readyz")
  return { status: reply.status, body: JSON.parse(reply.text) as { status: string; reasons?: Array<string> } }
}

const until = async <A>(probe: () => Promise<A>, ok: (a: A) => boolean, ms = 15_000): Promise<A> => {
  const deadline = Date.now() + ms
  for (;;) {
    const value = await probe()
    if (ok(value) || Date.now() > deadline) return value
    await new Promise((r) => setTimeout(r, 100))
  }
}

const provision = (running: Running, id: string, planId: string, async = false) =>
  fetch(`http://127.0.0.1:${running.port}/v2/service_instances/${id}${async ? "?accepts_incomplete=true" : ""}`, {
    method: "PUT",
    headers,
    body: JSON.stringify({ service_id: SERVICE_ID, plan_id: planId, organization_guid: "o", space_guid: "s" })
  })

describe("admin listener", () => {
  it("a port in use fails the layer with ServeError naming EADDRINUSE (the start-up line's error)", async () => {
    const blocker = createServer()
    await new Promise<void>((resolve) => blocker.listen(0, "127.0.0.1", resolve))
    const port = (blocker.address() as AddressInfo).port
    try {
      const exit = await Effect.runPromiseExit(Effect.scoped(Layer.build(AdminServer.layer({ port }))))
      expect(Exit.isFailure(exit)).toBe(true)
      const error = Exit.isFailure(exit) ? Cause.failureOption(exit.cause) : Option.none()
      expect(Option.getOrUndefined(error)).toMatchObject({ _tag: "ServeError", cause: { code: "EADDRINUSE", port } })
    } finally {
      await new Promise((resolve) => blocker.close(resolve))
    }
  })

  it("not serving yet: /healthz 200, /readyz 503 with the reason; unknown paths 404", async () => {
    const admin = await freePort()
    const scope = Effect.runSync(Scope.make())
    await Effect.runPromise(Layer.buildWithScope(AdminServer.layer({ port: admin }), scope))
    try {
      expect((await adminGet({ admin }, "/healthz")).status).toBe(200)
      const ready = await readyz({ admin })
      expect(ready.status).toBe(503)
      expect(ready.body.reasons).toEqual([expect.stringContaining("not serving")])
      expect((await adminGet({ admin }, "/nope")).status).toBe(404)
    } finally {
      await Effect.runPromise(Scope.close(scope, Exit.void))
    }
    await expect(fetch(`http://127.0.0.1:${admin}/healthz`)).rejects.toThrow()
  })

  it("ready while serving; /metrics in the Prometheus format; 503 'draining' during the drain, health still 200", async () => {
    const running = await start(BrokerStore.layerMemory)
    expect(await readyz(running)).toEqual({ status: 200, body: { status: "ready" } })
    expect((await fetch(`http://127.0.0.1:${running.port}/v2/catalog`, { headers })).status).toBe(200)
    const metrics = await adminGet(running, "/metrics")
    expect(metrics.status).toBe(200)
    expect(metrics.contentType).toContain("text/plain")
    expect(metrics.text).toContain("# TYPE osb_requests_total counter")
    expect(metrics.text).toMatch(/^osb_requests_total\{endpoint="catalog",status="200"\} \d+$/m)

    // an asynchronous operation keeps the drain busy for a while
    expect((await provision(running, "drain-1", LARGE_PLAN_ID, true)).status).toBe(202)
    const closing = Effect.runPromise(Scope.close(running.scope, Exit.void))
    const draining = await until(() => readyz(running), (r) => r.status === 503)
    expect(draining.status).toBe(503)
    expect(draining.body.reasons).toEqual([expect.stringContaining("draining")])
    expect((await adminGet(running, "/healthz")).status).toBe(200)
    await closing
    await expect(fetch(`http://127.0.0.1:${running.admin}/readyz`)).rejects.toThrow()
  })
})

// --- PostgreSQL stopped and started again --------------------------------------------------------------------

const clusterDir = join(tmpdir(), `effect-osb-admin-pg-${process.pid}`)
let pgPort = 0
const bin = () => {
  const versions = readdirSync("/usr/lib/postgresql").sort((a, b) => Number(a) - Number(b))
  return `/usr/lib/postgresql/${versions[versions.length - 1]}/bin`
}
const asPostgres = (command: string, args: ReadonlyArray<string>) =>
  process.getuid?.() === 0
    ? execFileSync("runuser", ["-u", "postgres", "--", command, ...args], { stdio: "pipe" })
    : execFileSync(command, [...args], { stdio: "pipe" })
const pgCtl = (...args: ReadonlyArray<string>) =>
  asPostgres(`${bin()}/pg_ctl`, ["-D", join(clusterDir, "data"), ...args])
const startAgain = () =>
  pgCtl(
    "-l",
    join(clusterDir, "server.log"),
    "-w",
    "-o",
    `-p ${pgPort} -k ${clusterDir} -c listen_addresses=127.0.0.1`,
    "start"
  )

afterAll(() => {
  if (pgPort !== 0) {
    execFileSync("bash", ["scripts/pg-test-cluster.sh", "stop"], {
      env: { ...process.env, PGPORT: String(pgPort), PGTEST_DIR: clusterDir },
      stdio: "pipe"
    })
  }
})

describe("readiness and the PostgreSQL store", () => {
  it("503 naming the store while PostgreSQL is stopped; ready again once it is back", async () => {
    pgPort = await freePort()
    const url = execFileSync("bash", ["scripts/pg-test-cluster.sh", "start"], {
      env: { ...process.env, PGPORT: String(pgPort), PGTEST_DIR: clusterDir },
      stdio: ["ignore", "pipe", "pipe"]
    }).toString("utf8").trim()
    const running = await start(SqlStore.layerPg(url) as Layer.Layer<BrokerStore.BrokerStore, unknown>)
    try {
      expect((await readyz(running)).status).toBe(200)
      expect((await provision(running, "pg-1", SMALL_PLAN_ID)).status).toBe(201)

      pgCtl("-m", "fast", "-w", "stop")
      const down = await until(() => readyz(running), (r) => r.status === 503)
      expect(down.status).toBe(503)
      expect(down.body.reasons).toEqual([expect.stringMatching(/^store: /)])
      expect((await adminGet(running, "/healthz")).status).toBe(200)

      startAgain()
      const up = await until(() => readyz(running), (r) => r.status === 200, 30_000)
      expect(up).toEqual({ status: 200, body: { status: "ready" } })
      expect((await provision(running, "pg-2", SMALL_PLAN_ID)).status).toBe(201)
    } finally {
      await Effect.runPromise(Scope.close(running.scope, Exit.void))
    }
  }, 90_000)
})
