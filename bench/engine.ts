/**
 * Micro-benchmark (not a test: `npm test` never runs it) of the managed-broker engine in process: the quick start's
 * managed broker (examples/managed-broker.ts, plan `small`, every operation synchronous) on the memory store and on
 * SQLite in a temporary file, its `ServiceBroker` operations called directly (no HTTP, no router, no decoding).
 *
 *   npm run bench:engine
 *   node --cpu-prof dist-bench/bench/engine.js      # then summarise the .cpuprofile
 *
 * Each operation runs as CONCURRENCY fibers, each working through its share of the ids one call at a time; the
 * figure is wall time over calls (ops/s, and µs per call as the whole engine sees it with that concurrency).
 * Every answer is checked (tag or body), so a faster engine that answers differently fails the benchmark.
 *
 * Environment (all optional):
 *   EFFECT_OSB_BENCH_BACKENDS     "memory,sqlite"
 *   EFFECT_OSB_BENCH_OPS          calls per operation and round on the memory store (default 20000)
 *   EFFECT_OSB_BENCH_SQLITE_OPS   calls per operation and round on SQLite (default 2000)
 *   EFFECT_OSB_BENCH_ROUNDS       measured rounds (default 5; the best and the median are reported)
 *   EFFECT_OSB_BENCH_CONCURRENCY  fibers per operation (default 50)
 *   EFFECT_OSB_BENCH_OUT          write the results as JSON to this file
 */
import type { Layer } from "effect"
import { Effect, ManagedRuntime, Option } from "effect"
import { mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { cpus, tmpdir } from "node:os"
import { join } from "node:path"
import { layerWith, SERVICE_ID, SMALL_PLAN_ID } from "../examples/managed-broker.js"
import type { ResolvedPlan } from "../src/Catalog.js"
import { BrokerStore, Catalog, ServiceBroker, SqlStore } from "../src/index.js"
import { latestApiVersion } from "../src/RequestInfo.js"

type Backend = "memory" | "sqlite"

const env = (name: string): string | undefined => {
  const value = process.env[name]
  return value === undefined || value.trim().length === 0 ? undefined : value.trim()
}
const intEnv = (name: string, fallback: number): number => {
  const value = env(name)
  const parsed = value === undefined ? fallback : Number(value)
  if (!Number.isInteger(parsed) || parsed < 1) throw new Error(`${name} must be a positive integer`)
  return parsed
}

const BACKENDS = (env("EFFECT_OSB_BENCH_BACKENDS") ?? "memory,sqlite").split(",").map((s) => s.trim())
const OPS: Record<Backend, number> = {
  memory: intEnv("EFFECT_OSB_BENCH_OPS", 20_000),
  sqlite: intEnv("EFFECT_OSB_BENCH_SQLITE_OPS", 2_000)
}
const ROUNDS = intEnv("EFFECT_OSB_BENCH_ROUNDS", 5)
const CONCURRENCY = intEnv("EFFECT_OSB_BENCH_CONCURRENCY", 50)
const OUT = env("EFFECT_OSB_BENCH_OUT")

for (const backend of BACKENDS) {
  if (backend !== "memory" && backend !== "sqlite") throw new Error(`unknown backend ${backend}`)
}

const log = (message: string) => process.stderr.write(`[bench] ${message}\n`)

// --- requests, as the router hands them to the broker ---------------------------------------------------------------

const info = {
  apiVersion: latestApiVersion,
  originatingIdentity: { _tag: "Absent" } as const,
  requestIdentity: Option.none<string>()
}

const requests = (small: ResolvedPlan) => {
  const provision = (instanceId: string): ServiceBroker.ProvisionRequest => ({
    ...info,
    ...small,
    instanceId,
    acceptsIncomplete: false,
    body: {
      service_id: SERVICE_ID,
      plan_id: SMALL_PLAN_ID,
      organization_guid: "org-guid",
      space_guid: "space-guid",
      parameters: { region: "eu-west-1", storage_gb: 20 },
      context: { platform: "cloudfoundry", organization_guid: "org-guid", space_guid: "space-guid" }
    }
  })
  const instanceQuery = (instanceId: string): ServiceBroker.GetInstanceRequest => ({
    ...info,
    instanceId,
    offering: Option.some(small.offering),
    plan: Option.some(small)
  })
  const lastOperation = (instanceId: string): ServiceBroker.LastOperationRequest => ({
    ...instanceQuery(instanceId),
    operation: Option.none()
  })
  const bind = (instanceId: string): ServiceBroker.BindRequest => ({
    ...info,
    ...small,
    instanceId,
    bindingId: `${instanceId}-b`,
    acceptsIncomplete: false,
    body: { service_id: SERVICE_ID, plan_id: SMALL_PLAN_ID, bind_resource: { app_guid: "app-guid" } }
  })
  const bindingQuery = (instanceId: string): ServiceBroker.GetBindingRequest => ({
    ...instanceQuery(instanceId),
    bindingId: `${instanceId}-b`
  })
  const unbind = (instanceId: string): ServiceBroker.UnbindRequest => ({
    ...info,
    ...small,
    instanceId,
    bindingId: `${instanceId}-b`,
    acceptsIncomplete: false
  })
  const deprovision = (instanceId: string): ServiceBroker.DeprovisionRequest => ({
    ...info,
    ...small,
    instanceId,
    acceptsIncomplete: false
  })
  return { provision, lastOperation, instanceQuery, bind, bindingQuery, unbind, deprovision }
}

// --- the operations measured, in lifecycle order ------------------------------------------------------------------

type Broker = ServiceBroker.ServiceBrokerService

const fail = (what: string, got: unknown) => Effect.dieMessage(`unexpected answer to ${what}: ${JSON.stringify(got)}`)

const expectTag = <A extends { readonly _tag: string }, E>(
  what: string,
  effect: Effect.Effect<A, E>,
  tag: A["_tag"]
): Effect.Effect<void> =>
  Effect.flatMap(
    Effect.orDieWith(effect, (e) => new Error(`${what} failed: ${JSON.stringify(e)}`)),
    (a) => (a._tag === tag ? Effect.void : fail(what, a))
  )

interface Probe {
  readonly name: string
  readonly call: (instanceId: string) => Effect.Effect<void>
}

const probes = (broker: Broker, r: ReturnType<typeof requests>): ReadonlyArray<Probe> => [
  { name: "provision (new, 201)", call: (id) => expectTag("provision", broker.provision(r.provision(id)), "Created") },
  {
    name: "provision (identical repeat, 200)",
    call: (id) => expectTag("provision repeat", broker.provision(r.provision(id)), "AlreadyExists")
  },
  {
    name: "last_operation",
    call: (id) =>
      Effect.flatMap(
        Effect.orDie(broker.lastOperation!(r.lastOperation(id))),
        (s) => (s.state === "succeeded" ? Effect.void : fail("last_operation", s))
      )
  },
  {
    name: "fetch instance",
    call: (id) =>
      Effect.flatMap(
        Effect.orDie(broker.getInstance!(r.instanceQuery(id))),
        (body) => (body.plan_id === SMALL_PLAN_ID ? Effect.void : fail("fetch instance", body))
      )
  },
  { name: "bind (new, 201)", call: (id) => expectTag("bind", broker.bind!(r.bind(id)), "Created") },
  {
    name: "bind (identical repeat, 200)",
    call: (id) => expectTag("bind repeat", broker.bind!(r.bind(id)), "AlreadyExists")
  },
  {
    name: "fetch binding",
    call: (id) =>
      Effect.flatMap(
        Effect.orDie(broker.getBinding!(r.bindingQuery(id))),
        (body) => (body.credentials !== undefined ? Effect.void : fail("fetch binding", body))
      )
  },
  {
    name: "last_operation (binding)",
    call: (id) =>
      Effect.flatMap(
        Effect.orDie(broker.lastBindingOperation!({ ...r.bindingQuery(id), operation: Option.none() })),
        (s) => (s.state === "succeeded" ? Effect.void : fail("last_operation (binding)", s))
      )
  },
  { name: "unbind (200)", call: (id) => expectTag("unbind", broker.unbind!(r.unbind(id)), "Deleted") },
  {
    name: "deprovision (200)",
    call: (id) => expectTag("deprovision", broker.deprovision(r.deprovision(id)), "Deleted")
  }
]

/** Runs `call` over `ids` with CONCURRENCY fibers, each taking the next id until none is left; returns ms. */
const measure = (ids: ReadonlyArray<string>, call: (id: string) => Effect.Effect<void>): Effect.Effect<number> =>
  Effect.suspend(() => {
    let next = 0
    const worker: Effect.Effect<void> = Effect.suspend(() => {
      if (next >= ids.length) return Effect.void
      const id = ids[next++]!
      return Effect.zipRight(call(id), worker)
    })
    const started = performance.now()
    return Effect.map(
      Effect.all(Array.from({ length: CONCURRENCY }, () => worker), { concurrency: "unbounded", discard: true }),
      () => performance.now() - started
    )
  })

interface Row {
  readonly backend: Backend
  readonly operation: string
  readonly calls: number
  /** per round: microseconds per call (wall time / calls) */
  readonly rounds: ReadonlyArray<number>
  readonly bestUs: number
  readonly medianUs: number
  readonly opsPerSecond: number
}

const median = (xs: ReadonlyArray<number>) => {
  const sorted = [...xs].sort((a, b) => a - b)
  const mid = Math.floor(sorted.length / 2)
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2
}

const storeLayer = (backend: Backend, dir: string): Layer.Layer<BrokerStore.BrokerStore, unknown> =>
  backend === "memory" ? BrokerStore.layerMemory : SqlStore.layerSqlite(join(dir, "engine.sqlite"))

const benchBackend = async (backend: Backend, dir: string): Promise<Array<Row>> => {
  const runtime = ManagedRuntime.make(layerWith("10 millis", storeLayer(backend, dir)))
  try {
    const { broker, small } = await runtime.runPromise(
      Effect.all({
        broker: ServiceBroker.ServiceBroker,
        small: Effect.map(Catalog.Catalog, (c) => Option.getOrThrow(c.plan(SMALL_PLAN_ID)))
      })
    )
    const ps = probes(broker, requests(small))
    const n = OPS[backend]
    const times = new Map<string, Array<number>>(ps.map((p) => [p.name, []]))
    // one warm-up round (JIT), then the measured rounds; every round is a whole lifecycle on fresh ids
    for (let round = 0; round <= ROUNDS; round++) {
      const ids = Array.from({ length: n }, (_, i) => `${backend}-r${round}-i${i}`)
      for (const probe of ps) {
        const ms = await runtime.runPromise(measure(ids, probe.call))
        if (round > 0) times.get(probe.name)!.push((ms * 1000) / n)
      }
      const gc = (globalThis as { gc?: () => void }).gc
      gc?.()
      if (round > 0) log(`${backend}: round ${round}/${ROUNDS} done`)
    }
    return ps.map((p) => {
      const rounds = times.get(p.name)!
      const best = Math.min(...rounds)
      const med = median(rounds)
      return {
        backend,
        operation: p.name,
        calls: n,
        rounds,
        bestUs: best,
        medianUs: med,
        opsPerSecond: Math.round(1e6 / med)
      }
    })
  } finally {
    await runtime.dispose()
  }
}

const pad = (s: string, n: number) => (s.length >= n ? s : s + " ".repeat(n - s.length))
const lpad = (s: string, n: number) => (s.length >= n ? s : " ".repeat(n - s.length) + s)
const us = (x: number) => (x >= 100 ? x.toFixed(0) : x.toFixed(2))

const main = async () => {
  const dir = mkdtempSync(join(tmpdir(), "osb-bench-engine-"))
  const rows: Array<Row> = []
  try {
    for (const backend of BACKENDS as Array<Backend>) {
      log(`${backend}: ${OPS[backend]} calls per operation and round, ${CONCURRENCY} fibers, ${ROUNDS} rounds`)
      rows.push(...(await benchBackend(backend, dir)))
    }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
  const head = [pad("backend", 7), pad("operation", 36), lpad("ops/s", 9), lpad("µs/op", 9), lpad("best µs", 9)]
    .join(" ")
  const lines = [head, "-".repeat(head.length)]
  for (const r of rows) {
    lines.push(
      [
        pad(r.backend, 7),
        pad(r.operation, 36),
        lpad(String(r.opsPerSecond), 9),
        lpad(us(r.medianUs), 9),
        lpad(
          us(r.bestUs),
          9
        )
      ].join(" ")
    )
  }
  process.stdout.write(
    `node ${process.version}, ${cpus().length} CPUs (${cpus()[0]?.model ?? "unknown"}); median of ${ROUNDS} rounds\n`
  )
  process.stdout.write(`${lines.join("\n")}\n`)
  if (OUT !== undefined) {
    writeFileSync(
      OUT,
      `${
        JSON.stringify(
          {
            benchmark: "effect-osb managed-broker engine in process",
            at: new Date().toISOString(),
            environment: { node: process.version, cpus: cpus().length, cpuModel: cpus()[0]?.model ?? "unknown" },
            config: { ops: OPS, rounds: ROUNDS, concurrency: CONCURRENCY, unit: "microseconds per call (wall)" },
            results: rows
          },
          null,
          2
        )
      }\n`
    )
    log(`results written to ${OUT}`)
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(
      `benchmark failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`
    )
    process.exit(1)
  }
)
