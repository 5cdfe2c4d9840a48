/**
 * The HTTP benchmark (`npm run bench`): the library's quick start (memory store and SQLite) against a
 * hand-written `node:http` baseline with the same catalog, auth and version checks. Baseline and library
 * alternate in the same run (A B A B ...), several rounds; medians are reported. Also: cold start to the first
 * 200 on the catalog, idle RSS, RSS after 100k provisions, p50/p99 latency. Writes bench/results.json.
 *
 * Env: BENCH_DURATION (seconds per run, default 5), BENCH_ROUNDS (default 3), BENCH_CONNECTIONS (default 50),
 * BENCH_ONLY (a regular expression: only the scenarios, and "startup", whose names match; bench/results.json is
 * then left alone), BENCH_TARGETS (a regular expression on target names; the baseline always runs;
 * `library/memory-metrics`, the memory target with metrics on, runs only when named, e.g. BENCH_TARGETS=memory).
 */
import autocannon from "autocannon"
import { type ChildProcess, spawn } from "node:child_process"
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { LARGE_PLAN_ID, SERVICE_ID, SMALL_PLAN_ID } from "../examples/quickstart-catalog.js"
import { freePort } from "../test/support/net.js"

const duration = Number(process.env["BENCH_DURATION"] ?? 5)
const rounds = Number(process.env["BENCH_ROUNDS"] ?? 3)
const connections = Number(process.env["BENCH_CONNECTIONS"] ?? 50)
const only = process.env["BENCH_ONLY"] === undefined ? undefined : new RegExp(process.env["BENCH_ONLY"], "i")
const selected = (name: string) => only === undefined || only.test(name)
const targetFilter = process.env["BENCH_TARGETS"] === undefined
  ? undefined
  : new RegExp(process.env["BENCH_TARGETS"], "i")
const auth = `Basic ${Buffer.from("admin:admin").toString("base64")}`
const baseHeaders = { authorization: auth, "x-broker-api-version": "2.17", "content-type": "application/json" }

interface Target {
  readonly name: string
  readonly script: string
  readonly env: Record<string, string>
  /** Runs only when BENCH_TARGETS names it (not in the full run). */
  readonly optIn?: boolean
}

const dir = mkdtempSync(join(tmpdir(), "osb-bench-"))
/** An env value replaced by a free port when the target starts. */
const freePortPlaceholder = "<free port>"
const allTargets: ReadonlyArray<Target> = [
  { name: "baseline", script: "dist-bench/bench/baseline.js", env: {} },
  {
    name: "library/memory",
    script: "dist-bench/examples/quickstart.js",
    env: { BROKER_STORE: "memory", QUICKSTART_DELAY_MS: "0" }
  },
  {
    // the same without the catalog's parameters schemas: what validating parameters costs
    name: "library/memory-noschema",
    script: "dist-bench/bench/quickstart-noschema.js",
    env: { BROKER_STORE: "memory" },
    optIn: true
  },
  {
    // the same with the admin listener on: every request, operation and store transaction is recorded in metrics
    name: "library/memory-metrics",
    script: "dist-bench/examples/quickstart.js",
    env: { BROKER_STORE: "memory", QUICKSTART_DELAY_MS: "0", BROKER_ADMIN_PORT: freePortPlaceholder },
    optIn: true
  },
  {
    name: "library/sqlite",
    script: "dist-bench/examples/quickstart.js",
    env: { BROKER_STORE: `sqlite:${join(dir, "bench.sqlite")}`, QUICKSTART_DELAY_MS: "0" }
  }
]

const targets = allTargets.filter((t) =>
  t.name === "baseline" || (targetFilter === undefined ? t.optIn !== true : targetFilter.test(t.name))
)

interface Running {
  readonly child: ChildProcess
  readonly url: string
  readonly startMs: number
}

const start = async (target: Target): Promise<Running> => {
  const port = await freePort()
  const began = performance.now()
  const env: Record<string, string> = { ...target.env }
  for (const [name, value] of Object.entries(env)) {
    if (value === freePortPlaceholder) env[name] = String(await freePort())
  }
  const child = spawn(process.execPath, [target.script], {
    env: { ...process.env, ...env, PORT: String(port), HOST: "127.0.0.1" },
    stdio: "ignore"
  })
  const url = `http://127.0.0.1:${port}`
  for (;;) {
    try {
      const r = await fetch(`${url}/v2/catalog`, { headers: baseHeaders })
      if (r.status === 200) break
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 5))
  }
  return { child, url, startMs: performance.now() - began }
}

const stop = (running: Running) =>
  new Promise<void>((resolve) => {
    running.child.once("exit", () => resolve())
    running.child.kill("SIGKILL")
  })

const rssMb = (pid: number): number => {
  const status = readFileSync(`/proc/${pid}/status`, "utf8")
  const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0)
  return Math.round((kb / 1024) * 10) / 10
}

const provisionBody = JSON.stringify({
  service_id: SERVICE_ID,
  plan_id: SMALL_PLAN_ID,
  organization_guid: "org",
  space_guid: "space",
  // checked against plan small's schema (library/memory) or not (library/memory-noschema, the baseline)
  parameters: { size: 5 }
})
const bindBody = JSON.stringify({ service_id: SERVICE_ID, plan_id: SMALL_PLAN_ID })
const ids = `service_id=${SERVICE_ID}&plan_id=${SMALL_PLAN_ID}`
let counter = 0
const unique = (prefix: string) => `${prefix}-${process.pid}-${++counter}`

type Scenario = {
  readonly name: string
  readonly prepare?: (url: string) => Promise<void>
  readonly requests: (url: string) => Array<autocannon.Request>
}

const fixed = Array.from({ length: 100 }, (_, i) => `fixed-${i}`)
const prepareFixed = async (url: string) => {
  for (const id of fixed) {
    await fetch(`${url}/v2/service_instances/${id}`, { method: "PUT", headers: baseHeaders, body: provisionBody })
  }
}

const scenarios: ReadonlyArray<Scenario> = [
  { name: "GET catalog", requests: () => [{ method: "GET", path: "/v2/catalog" }] },
  {
    name: "sync provision (unique ids)",
    requests: () => [{
      method: "PUT",
      path: "/v2/service_instances/x",
      body: provisionBody,
      setupRequest: (req) => ({ ...req, path: `/v2/service_instances/${unique("p")}` })
    }]
  },
  {
    name: "sync lifecycle (provision, bind, unbind, deprovision)",
    requests: () => [
      {
        method: "PUT",
        path: "/",
        body: provisionBody,
        setupRequest: (req, ctx: object) => {
          const context = ctx as Record<string, string>
          context["id"] = unique("l")
          return { ...req, path: `/v2/service_instances/${context["id"]}` }
        }
      },
      {
        method: "PUT",
        path: "/",
        body: bindBody,
        setupRequest: (req, ctx: object) => ({
          ...req,
          path: `/v2/service_instances/${(ctx as Record<string, string>)["id"]}/service_bindings/b`
        })
      },
      {
        method: "DELETE",
        path: "/",
        setupRequest: (req, ctx: object) => ({
          ...req,
          path: `/v2/service_instances/${(ctx as Record<string, string>)["id"]}/service_bindings/b?${ids}`
        })
      },
      {
        method: "DELETE",
        path: "/",
        setupRequest: (req, ctx: object) => ({
          ...req,
          path: `/v2/service_instances/${(ctx as Record<string, string>)["id"]}?${ids}`
        })
      }
    ]
  },
  {
    name: "last_operation",
    prepare: prepareFixed,
    requests: () => [{
      method: "GET",
      path: "/",
      setupRequest: (req) => ({
        ...req,
        path: `/v2/service_instances/${fixed[counter++ % fixed.length]}/last_operation`
      })
    }]
  },
  {
    name: "fetch instance",
    prepare: prepareFixed,
    requests: () => [{
      method: "GET",
      path: "/",
      setupRequest: (req) => ({ ...req, path: `/v2/service_instances/${fixed[counter++ % fixed.length]}` })
    }]
  }
]

interface Measure {
  readonly rps: number
  readonly p50: number
  readonly p99: number
  readonly non2xx: number
}

const load = (url: string, scenario: Scenario, extra: Partial<autocannon.Options> = {}): Promise<Measure> =>
  new Promise((resolve, reject) => {
    autocannon(
      {
        url,
        connections,
        ...(extra.amount === undefined ? { duration: extra.duration ?? duration } : { amount: extra.amount }),
        headers: baseHeaders,
        requests: scenario.requests(url)
      },
      (error, result) => {
        if (error) return reject(error)
        resolve({
          rps: result.requests.average,
          p50: result.latency.p50,
          p99: result.latency.p99,
          non2xx: result.non2xx
        })
      }
    )
  })

const median = (values: ReadonlyArray<number>) => {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.floor(sorted.length / 2)] ?? 0
}

const main = async () => {
  const table: Array<Record<string, string | number>> = []
  const summary: Record<string, unknown> = { duration, rounds, connections, scenarios: {} }
  for (const scenario of scenarios.filter((s) => selected(s.name))) {
    const samples = new Map<string, Array<Measure>>()
    for (let round = 0; round < rounds; round++) {
      for (const target of targets) {
        const running = await start(target)
        await scenario.prepare?.(running.url)
        await load(running.url, scenario, { duration: 1 }) // warm-up
        const measure = await load(running.url, scenario)
        await stop(running)
        samples.set(target.name, [...(samples.get(target.name) ?? []), measure])
        process.stderr.write(`${scenario.name} / ${target.name} round ${round + 1}: ${Math.round(measure.rps)} req/s\n`)
      }
    }
    const base = median((samples.get("baseline") ?? []).map((m) => m.rps))
    const rows: Record<string, unknown> = {}
    for (const target of targets) {
      const ms = samples.get(target.name) ?? []
      const row = {
        scenario: scenario.name,
        target: target.name,
        "req/s": Math.round(median(ms.map((m) => m.rps))),
        ratio: Math.round((median(ms.map((m) => m.rps)) / base) * 100) / 100,
        "p50 ms": median(ms.map((m) => m.p50)),
        "p99 ms": median(ms.map((m) => m.p99)),
        non2xx: ms.reduce((n, m) => n + m.non2xx, 0)
      }
      table.push(row)
      rows[target.name] = row
    }
    ;(summary["scenarios"] as Record<string, unknown>)[scenario.name] = rows
  }

  // start-up and memory
  const startup: Record<string, unknown> = {}
  for (const target of selected("startup") ? targets : []) {
    const starts: Array<number> = []
    let idle = 0
    for (let i = 0; i < 5; i++) {
      const running = await start(target)
      starts.push(running.startMs)
      if (i === 0) {
        await new Promise((r) => setTimeout(r, 2000))
        idle = rssMb(running.child.pid!)
      }
      await stop(running)
    }
    startup[target.name] = { "cold start ms (median of 5)": Math.round(median(starts)), "idle RSS MB": idle }
  }
  for (const target of selected("startup") ? targets.filter((t) => t.name !== "library/sqlite") : []) {
    const running = await start(target)
    await load(running.url, scenarios[1]!, { amount: 100_000 })
    ;(startup[target.name] as Record<string, unknown>)["RSS MB after 100k provisions"] = rssMb(running.child.pid!)
    await stop(running)
  }
  summary["startup"] = startup

  console.table(table)
  console.table(startup)
  if (only === undefined && targetFilter === undefined) {
    writeFileSync("bench/results.json", JSON.stringify({ ...summary, table }, null, 2) + "\n")
    console.log("wrote bench/results.json")
  }
}

void LARGE_PLAN_ID
main().catch((error) => {
  console.error(error)
  process.exit(1)
})
