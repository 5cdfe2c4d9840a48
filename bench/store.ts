/**
 * Benchmark (not a test: `npm test` never runs it) of the store calls the managed broker makes, at 1,000 and
 * 100,000 stored instances, on SQLite and PostgreSQL; and of the whole managed broker path in process
 * (`Router.toWebHandler` over `examples/managed-broker.ts`). The requirement: last_operation and fetch instance
 * latency must not grow more than 1.3x from 1k to 100k instances.
 *
 *   npm run bench:store
 *
 * Environment (all optional):
 *   EFFECT_OSB_BENCH_PG_URL        an existing PostgreSQL (admin URL); default: a throw-away cluster on a free
 *                                  loopback port, started and stopped with scripts/pg-test-cluster.sh
 *   EFFECT_OSB_BENCH_BACKENDS      "sqlite,pg"
 *   EFFECT_OSB_BENCH_SIZES         "1000,100000"
 *   EFFECT_OSB_BENCH_SAMPLES       store samples per operation and size (default 5000)
 *   EFFECT_OSB_BENCH_HTTP_SAMPLES  broker (HTTP in process) samples per operation and size (default 3000; 0: skip)
 *   EFFECT_OSB_BENCH_OUT           where to write the JSON results (default bench/store-results.json)
 *   EFFECT_OSB_BENCH_SQLITE_PRAGMAS  e.g. "mmap_size = 1073741824; cache_size = -65536": run on the SQLite connection
 *                                  of the store path (not the broker path) after the migrations, to try a tuning
 *   EFFECT_OSB_BENCH_KEEP          "1": keep the SQLite files (their directory is logged), e.g. for EXPLAIN by hand
 *
 * Every store is filled with realistic records (an instance, one binding, two operations per instance) by bulk
 * inserts of the rows the SQL store itself writes (same tables, same JSON encoding; a few are read back through
 * the store and compared); everything measured goes through the public `BrokerStore` API. The sizes of one
 * backend are open side by side and sampled in alternating rounds, so drift (JIT, caches, other load) hits both.
 */
import * as PgClient from "@effect/sql-pg/PgClient"
import * as SqliteClient from "@effect/sql-sqlite-node/SqliteClient"
import * as SqlClient from "@effect/sql/SqlClient"
import { Effect, Layer, ManagedRuntime, Option, Redacted } from "effect"
import { deepStrictEqual } from "node:assert/strict"
import { execFileSync } from "node:child_process"
import { existsSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs"
import { cpus, loadavg, tmpdir } from "node:os"
import { dirname, join, resolve } from "node:path"
import { fileURLToPath } from "node:url"
import pg from "pg"
import { layerWith, SERVICE_ID, SMALL_PLAN_ID } from "../examples/managed-broker.js"
import { BrokerAuth, BrokerStore, Router, SqlStore } from "../src/index.js"
import { freePort } from "../test/support/net.js"

type InstanceRecord = BrokerStore.InstanceRecord
type BindingRecord = BrokerStore.BindingRecord
type OperationRecord = BrokerStore.OperationRecord
type Backend = "sqlite" | "pg"

// --- configuration --------------------------------------------------------------------------------------------

const env = (name: string): string | undefined => {
  const value = process.env[name]
  return value === undefined || value.trim().length === 0 ? undefined : value.trim()
}
const intEnv = (name: string, fallback: number): number => {
  const value = env(name)
  const parsed = value === undefined ? fallback : Number(value)
  if (!Number.isInteger(parsed) || parsed < 0) throw new Error(`${name} must be a non-negative integer`)
  return parsed
}

const findRoot = (from: string): string => {
  let dir = from
  while (!existsSync(join(dir, "package.json"))) {
    const up = dirname(dir)
    if (up === dir) throw new Error("package.json not found above the benchmark")
    dir = up
  }
  return dir
}
const ROOT = findRoot(dirname(fileURLToPath(import.meta.url)))

const BACKENDS = (env("EFFECT_OSB_BENCH_BACKENDS") ?? "sqlite,pg").split(",").map((s) => s.trim()) as Array<Backend>
const SIZES = (env("EFFECT_OSB_BENCH_SIZES") ?? "1000,100000").split(",").map(Number).sort((a, b) => a - b)
const SAMPLES = intEnv("EFFECT_OSB_BENCH_SAMPLES", 5000)
const HTTP_SAMPLES = intEnv("EFFECT_OSB_BENCH_HTTP_SAMPLES", 3000)
const OUT = resolve(ROOT, env("EFFECT_OSB_BENCH_OUT") ?? "bench/store-results.json")
const KEEP = env("EFFECT_OSB_BENCH_KEEP") === "1"
const SQLITE_PRAGMAS = (env("EFFECT_OSB_BENCH_SQLITE_PRAGMAS") ?? "").split(";").map((p) => p.trim()).filter((p) =>
  p.length > 0
)
const ROUNDS = 10
const WARMUP = 1000
const THRESHOLD = 1.3
const FILL_BATCH = 500

for (const backend of BACKENDS) {
  if (backend !== "sqlite" && backend !== "pg") throw new Error(`unknown backend ${backend}`)
}
if (SIZES.length < 2 || SIZES.some((n) => !Number.isInteger(n) || n < 1)) {
  throw new Error("EFFECT_OSB_BENCH_SIZES needs at least two positive integers")
}

const log = (message: string) => process.stderr.write(`[bench] ${message}\n`)

// --- deterministic, realistic data -------------------------------------------------------------------------------

/** A bijection on 32-bit integers (lowbias32): distinct inputs give distinct ids, with no collision check. */
const mix32 = (input: number): number => {
  let x = input >>> 0
  x ^= x >>> 16
  x = Math.imul(x, 0x7feb352d)
  x ^= x >>> 15
  x = Math.imul(x, 0x846ca68b)
  x ^= x >>> 16
  return x >>> 0
}
const SALT = 0x05eed5a1
const word = (i: number, channel: number, j: number) => mix32((((i * 16 + channel) * 4 + j) ^ SALT) >>> 0)
const hexAt = (i: number, channel: number) =>
  [0, 1, 2, 3].map((j) => word(i, channel, j).toString(16).padStart(8, "0")).join("")
/** A v4-shaped UUID; its first 8 hex digits are a bijection of (i, channel), so ids never collide. */
const uuidAt = (i: number, channel: number): string => {
  const h = hexAt(i, channel)
  const variant = "89ab"[parseInt(h[16]!, 16) & 3]!
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-${variant}${h.slice(17, 20)}-${h.slice(20, 32)}`
}
const tokenAt = (i: number, channel: number) => Buffer.from(hexAt(i, channel), "hex").toString("base64url")

const CH = { instance: 0, binding: 1, provisionOp: 2, bindOp: 3, org: 4, space: 5, app: 6, secret: 7, fresh: 8 }
const EPOCH = 1_750_000_000_000
const REGIONS = ["eu-west-1", "eu-central-1", "us-east-1", "ap-southeast-2"]
const MAINTENANCE = { version: "1.0.0", description: "Initial release." }

/** The canonical JSON the engine keeps as a fingerprint (sorted keys). */
const canonical = (value: unknown): string =>
  JSON.stringify(value, (_key, v: unknown) =>
    v !== null && typeof v === "object" && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : v)

interface Fixture {
  readonly instance: InstanceRecord
  readonly binding: BindingRecord
  readonly operations: readonly [OperationRecord, OperationRecord]
}

/** What a ready instance provisioned on Cloud Foundry, bound once, looks like in the store (~2.5 KB in all). */
const fixture = (i: number): Fixture => {
  const instanceId = uuidAt(i, CH.instance)
  const bindingId = uuidAt(i, CH.binding)
  const organizationGuid = uuidAt(i % 97, CH.org)
  const spaceGuid = uuidAt(i % 1013, CH.space)
  const appGuid = uuidAt(i, CH.app)
  const created = EPOCH + i * 1000
  const parameters = {
    region: REGIONS[i % REGIONS.length]!,
    storage_gb: 10 + (i % 90),
    engine_version: "16.4",
    high_availability: i % 3 === 0,
    backups: { enabled: true, retention_days: 7, window: "02:00-03:00" },
    extensions: ["pg_stat_statements", "pgcrypto"]
  }
  const context = {
    platform: "cloudfoundry",
    organization_guid: organizationGuid,
    space_guid: spaceGuid,
    organization_name: `org-${i % 97}`,
    space_name: `space-${i % 1013}`,
    instance_name: `orders-db-${i}`,
    organization_annotations: { "company.example.com/cost-center": `cc-${i % 31}` }
  }
  const provision: OperationRecord = {
    id: `provision-${tokenAt(i, CH.provisionOp).slice(0, 16)}`,
    instanceId,
    kind: "provision",
    async: false,
    state: "succeeded",
    startedAt: created,
    finishedAt: created + 850
  }
  const bindParameters = { role: "readwrite", ttl_days: 90 }
  const bind: OperationRecord = {
    id: `bind-${tokenAt(i, CH.bindOp).slice(0, 16)}`,
    instanceId,
    bindingId,
    kind: "bind",
    async: false,
    state: "succeeded",
    fingerprint: canonical({
      service_id: SERVICE_ID,
      plan_id: SMALL_PLAN_ID,
      parameters: bindParameters,
      app_guid: appGuid,
      route: null,
      predecessor_binding_id: null
    }),
    startedAt: created + 60_000,
    finishedAt: created + 60_400
  }
  const username = `u_${hexAt(i, CH.secret).slice(0, 12)}`
  const password = tokenAt(i, CH.secret)
  const host = `pg-${hexAt(i, CH.secret).slice(12, 20)}.db.example.com`
  const instance: InstanceRecord = {
    instanceId,
    serviceId: SERVICE_ID,
    planId: SMALL_PLAN_ID,
    state: "ready",
    fingerprint: canonical({
      service_id: SERVICE_ID,
      plan_id: SMALL_PLAN_ID,
      parameters,
      organization_guid: organizationGuid,
      space_guid: spaceGuid
    }),
    parameters,
    context,
    organizationGuid,
    spaceGuid,
    maintenanceInfo: MAINTENANCE,
    dashboardUrl: `https://dashboard.example.com/instances/${instanceId}`,
    metadata: { labels: { team: `team-${i % 17}`, environment: i % 2 === 0 ? "production" : "staging" } },
    data: { host, port: 5432, database: `db_${i}` },
    operationId: provision.id,
    createdAt: created,
    updatedAt: created + 850
  }
  const binding: BindingRecord = {
    instanceId,
    bindingId,
    serviceId: SERVICE_ID,
    planId: SMALL_PLAN_ID,
    state: "ready",
    fingerprint: bind.fingerprint!,
    parameters: bindParameters,
    appGuid,
    bindResource: { app_guid: appGuid },
    context,
    response: {
      credentials: {
        uri: `postgres://${username}:${password}@${host}:5432/db_${i}`,
        username,
        password,
        hostname: host,
        port: 5432,
        name: `db_${i}`
      }
    },
    operationId: bind.id,
    createdAt: created + 60_000,
    updatedAt: created + 60_400
  }
  return { instance, binding, operations: [provision, bind] }
}

/** Deterministic uniform draws (mulberry32), so two runs sample the same ids. */
const prng = (seed: number) => {
  let a = seed >>> 0
  return (): number => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

// --- filling, through the store's own tables and encoding ---------------------------------------------------------

/** Bulk-inserts the rows `SqlStore` writes for `fixture(0..size-1)` (records as JSON, no encryption). */
const fill = (size: number, concurrency: number) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const batches = Array.from({ length: Math.ceil(size / FILL_BATCH) }, (_, b) => b * FILL_BATCH)
    yield* Effect.forEach(batches, (from) =>
      sql.withTransaction(Effect.gen(function*() {
        const fixtures = Array.from({ length: Math.min(FILL_BATCH, size - from) }, (_, k) => fixture(from + k))
        yield* sql`INSERT INTO osb_instances ${
          sql.insert(fixtures.map(({ instance }) => ({
            instance_id: instance.instanceId,
            record: JSON.stringify(instance),
            tombstone: null,
            updated_at: instance.updatedAt
          })))
        }`
        yield* sql`INSERT INTO osb_bindings ${
          sql.insert(fixtures.map(({ binding }) => ({
            instance_id: binding.instanceId,
            binding_id: binding.bindingId,
            record: JSON.stringify(binding),
            tombstone: null
          })))
        }`
        yield* sql`INSERT INTO osb_operations ${
          sql.insert(fixtures.flatMap(({ operations }) =>
            operations.map((o) => ({
              instance_id: o.instanceId,
              operation_id: o.id,
              state: o.state,
              owner: o.owner ?? null,
              lease_expires_at: o.leaseExpiresAt ?? null,
              record: JSON.stringify(o)
            }))
          ))
        }`
      })), { concurrency, discard: true })
  })

/** Reads a few instances back through the store: the bulk rows must be exactly what the store would return. */
const verify = (size: number) =>
  Effect.gen(function*() {
    const store = yield* BrokerStore.BrokerStore
    const sql = yield* SqlClient.SqlClient
    for (const i of [0, Math.floor(size / 2), size - 1]) {
      const expected = fixture(i)
      const snapshot = yield* store.read(expected.instance.instanceId)
      deepStrictEqual(Option.getOrUndefined(snapshot.instance), expected.instance)
      deepStrictEqual(snapshot.bindings.get(expected.binding.bindingId), expected.binding)
      deepStrictEqual(snapshot.operations.size, 2)
      for (const o of expected.operations) deepStrictEqual(snapshot.operations.get(o.id), o)
    }
    const counts = yield* sql<{ instances: number | string; bindings: number | string; operations: number | string }>`
      SELECT (SELECT COUNT(*) FROM osb_instances) AS instances, (SELECT COUNT(*) FROM osb_bindings) AS bindings,
        (SELECT COUNT(*) FROM osb_operations) AS operations`
    const row = counts[0]!
    const found = [Number(row.instances), Number(row.bindings), Number(row.operations)]
    deepStrictEqual(found, [size, size, 2 * size])
    return { instances: found[0]!, bindings: found[1]!, operations: found[2]! }
  })

// --- plans of the queries the measured calls run -----------------------------------------------------------------

const readQueries = (dialect: Backend) => {
  const p = (n: number) => (dialect === "pg" ? `$${n}` : "?")
  return {
    "read: instance": `SELECT record, tombstone FROM osb_instances WHERE instance_id = ${p(1)}`,
    "read: bindings": `SELECT binding_id, record, tombstone FROM osb_bindings WHERE instance_id = ${p(1)}`,
    "read: operations": `SELECT record, lease_expires_at FROM osb_operations WHERE instance_id = ${p(1)}`
  }
}
const writeQueries = (dialect: Backend) => {
  const p = (n: number) => (dialect === "pg" ? `$${n}` : "?")
  return {
    ...(dialect === "sqlite"
      ? { "transact: lock (sqlite)": `UPDATE osb_instances SET updated_at = updated_at WHERE instance_id = ${p(1)}` }
      : {}),
    "transact: PutInstance (new id) cleanup": `DELETE FROM osb_bindings WHERE instance_id = ${p(1)} AND record IS NULL`,
    "background: expiredOperations": `SELECT instance_id, operation_id FROM osb_operations WHERE state = ${
      p(1)
    } AND lease_expires_at IS NOT NULL AND lease_expires_at < ${p(2)}`,
    // the operations the replica's fibers run, by instance and id (one of each here)
    "background: renewLeases": `UPDATE osb_operations SET lease_expires_at = ${p(1)} WHERE owner = ${
      p(2)
    } AND state = ${p(3)} AND instance_id IN (${p(4)}) AND operation_id IN (${
      p(5)
    }) RETURNING instance_id, operation_id`
  }
}

const explain = (dialect: Backend, instanceId: string) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const plans: Record<string, ReadonlyArray<string>> = {}
    const paramsFor = (name: string) =>
      name.startsWith("background: expired")
        ? ["in progress", Date.now()]
        : name.startsWith("background: renew")
        ? [Date.now(), "replica-x", "in progress", instanceId, "provision-x"]
        : [instanceId]
    const all = { ...readQueries(dialect), ...writeQueries(dialect) }
    for (const [name, text] of Object.entries(all)) {
      if (dialect === "sqlite") {
        const rows = yield* sql.unsafe<{ detail: string }>(`EXPLAIN QUERY PLAN ${text}`, paramsFor(name))
        plans[name] = rows.map((r) => r.detail)
      } else {
        // ANALYZE runs the statement: only for the reads; the writes get their plan only
        const analyze = name.startsWith("read") ? "(ANALYZE, BUFFERS, TIMING OFF, SUMMARY OFF) " : ""
        const rows = yield* sql.unsafe<Record<string, string>>(`EXPLAIN ${analyze}${text}`, paramsFor(name))
        plans[name] = rows.map((r) => Object.values(r)[0] ?? "")
      }
    }
    return plans
  })

// --- sampling ------------------------------------------------------------------------------------------------------

interface Stats {
  readonly n: number
  readonly p50: number
  readonly p99: number
  readonly mean: number
  readonly min: number
  readonly max: number
}

const stats = (samples: ReadonlyArray<number>): Stats => {
  const sorted = Float64Array.from(samples).sort()
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!
  const round = (ms: number) => Math.round(ms * 1e6) / 1e3 // microseconds, 3 decimals
  return {
    n: sorted.length,
    p50: round(at(0.5)),
    p99: round(at(0.99)),
    mean: round(sorted.reduce((s, x) => s + x, 0) / sorted.length),
    min: round(sorted[0]!),
    max: round(sorted[sorted.length - 1]!)
  }
}

/** One timed call: `prepare` (untimed) picks the input, `run` is timed, `after` (untimed) checks or cleans up. */
interface Probe<R> {
  readonly name: string
  readonly next: () => {
    readonly run: Effect.Effect<unknown, unknown, R>
    readonly after?: (result: unknown) => Effect.Effect<void, unknown, R>
  }
}

const sampleStore = <R>(probe: Probe<R>, n: number) =>
  Effect.gen(function*() {
    const out: Array<number> = []
    for (let k = 0; k < n; k++) {
      const { after, run } = probe.next()
      const t0 = performance.now()
      const result = yield* run
      out.push(performance.now() - t0)
      if (after !== undefined) yield* after(result)
    }
    return out
  })

const fail = (message: string) => Effect.dieMessage(message)

/** The store calls the engine makes (ManagedBroker.ts: lastOperation, getInstance, getBinding, provision). */
const storeProbes = (size: number, seed: number): Array<Probe<BrokerStore.BrokerStore>> => {
  const pick = prng(seed)
  const anyIndex = () => Math.floor(pick() * size)
  let fresh = 0
  return [
    {
      name: "last_operation (read)",
      next: () => {
        const id = uuidAt(anyIndex(), CH.instance)
        return {
          run: Effect.flatMap(BrokerStore.BrokerStore, (store) => store.read(id)),
          after: (s) => {
            const snapshot = s as BrokerStore.InstanceSnapshot
            const record = Option.getOrUndefined(snapshot.instance)
            return record !== undefined && snapshot.operations.get(record.operationId)?.state === "succeeded"
              ? Effect.void
              : fail(`last_operation: no operation for ${id}`)
          }
        }
      }
    },
    {
      name: "fetch instance (read)",
      next: () => {
        const id = uuidAt(anyIndex(), CH.instance)
        return {
          run: Effect.flatMap(BrokerStore.BrokerStore, (store) => store.read(id)),
          after: (s) =>
            Option.exists((s as BrokerStore.InstanceSnapshot).instance, (r) => r.state === "ready")
              ? Effect.void
              : fail(`fetch instance: ${id} is not ready`)
        }
      }
    },
    {
      name: "fetch binding (read)",
      next: () => {
        const i = anyIndex()
        const id = uuidAt(i, CH.instance)
        const bindingId = uuidAt(i, CH.binding)
        return {
          run: Effect.flatMap(BrokerStore.BrokerStore, (store) => store.read(id)),
          after: (s) =>
            (s as BrokerStore.InstanceSnapshot).bindings.get(bindingId)?.state === "ready"
              ? Effect.void
              : fail(`fetch binding: ${bindingId} is not ready`)
        }
      }
    },
    {
      // what provision does on a new id: lock + read + put instance + put operation; then (untimed) forgotten
      // again, so the store keeps its size
      name: "provision (transact, new id)",
      next: () => {
        const n = fresh++
        const template = fixture(anyIndex())
        const instanceId = uuidAt(size * 4 + n, CH.fresh)
        const now = Date.now()
        const operation: OperationRecord = {
          id: `provision-${tokenAt(n, CH.fresh).slice(0, 16)}`,
          instanceId,
          kind: "provision",
          async: false,
          owner: "bench-replica",
          leaseExpiresAt: now + 30_000,
          state: "in progress",
          startedAt: now
        }
        const { data: _data, metadata: _metadata, ...rest } = template.instance
        const record: InstanceRecord = {
          ...rest,
          instanceId,
          state: "provisioning",
          dashboardUrl: `https://dashboard.example.com/instances/${instanceId}`,
          operationId: operation.id,
          createdAt: now,
          updatedAt: now
        }
        return {
          run: Effect.flatMap(
            BrokerStore.BrokerStore,
            (store) =>
              store.transact(instanceId, (snapshot) =>
                Option.isSome(snapshot.instance) || snapshot.operations.size > 0
                  ? fail(`provision: ${instanceId} already exists`)
                  : Effect.succeed(
                    [
                      undefined,
                      [BrokerStore.Change.putInstance(record), BrokerStore.Change.putOperation(operation)]
                    ] as const
                  ))
          ),
          after: () =>
            Effect.flatMap(
              BrokerStore.BrokerStore,
              (store) =>
                store.transact(instanceId, (snapshot) =>
                  Option.isSome(snapshot.instance)
                    ? Effect.succeed([undefined, [BrokerStore.Change.forgetInstance]] as const)
                    : fail(`provision: ${instanceId} was not written`))
            )
        }
      }
    }
  ]
}

interface Row {
  readonly backend: Backend
  readonly path: "store" | "broker (HTTP in process)"
  readonly operation: string
  readonly size: number
  readonly stats: Stats
}

/**
 * Samples every probe on every size in alternating rounds (1k, 100k, 100k, 1k, ...) after a warm-up of each,
 * so both sizes see the same JIT state and machine noise.
 */
const interleaved = async <P>(
  targets: ReadonlyArray<{ readonly size: number; readonly probes: ReadonlyArray<P> }>,
  names: ReadonlyArray<string>,
  samples: number,
  run: (size: number, probe: P, n: number) => Promise<Array<number>>
): Promise<Array<{ operation: string; size: number; stats: Stats }>> => {
  const out: Array<{ operation: string; size: number; stats: Stats }> = []
  const perRound = Math.max(1, Math.ceil(samples / ROUNDS))
  for (let p = 0; p < names.length; p++) {
    const collected = new Map<number, Array<number>>(targets.map((t) => [t.size, []]))
    for (const t of targets) await run(t.size, t.probes[p]!, Math.min(WARMUP, samples))
    for (let r = 0; r < ROUNDS; r++) {
      const order = r % 2 === 0 ? targets : [...targets].reverse()
      for (const t of order) {
        const bucket = collected.get(t.size)!
        const n = Math.min(perRound, samples - bucket.length)
        if (n > 0) bucket.push(...(await run(t.size, t.probes[p]!, n)))
      }
    }
    for (const t of targets) {
      const s = stats(collected.get(t.size)!)
      out.push({ operation: names[p]!, size: t.size, stats: s })
      log(`  ${names[p]} @ ${t.size}: p50 ${s.p50} us, p99 ${s.p99} us, mean ${s.mean} us`)
    }
  }
  return out
}

// --- the managed broker path, in process -------------------------------------------------------------------------

const AUTH = `Basic ${Buffer.from("bench:bench-password", "utf8").toString("base64")}`

interface HttpProbe {
  readonly name: string
  readonly next: () => { readonly path: string; readonly check: (status: number, body: string) => boolean }
}

const httpProbes = (size: number, seed: number): Array<HttpProbe> => {
  const pick = prng(seed)
  const anyIndex = () => Math.floor(pick() * size)
  return [
    {
      name: "last_operation (GET .../last_operation)",
      next: () => ({
        path: `/v2/service_instances/${uuidAt(anyIndex(), CH.instance)}/last_operation`,
        check: (status, body) => status === 200 && body.includes("\"succeeded\"")
      })
    },
    {
      name: "fetch instance (GET /v2/service_instances/:id)",
      next: () => ({
        path: `/v2/service_instances/${uuidAt(anyIndex(), CH.instance)}`,
        check: (status, body) => status === 200 && body.includes(SMALL_PLAN_ID)
      })
    },
    {
      name: "fetch binding (GET .../service_bindings/:id)",
      next: () => {
        const i = anyIndex()
        return {
          path: `/v2/service_instances/${uuidAt(i, CH.instance)}/service_bindings/${uuidAt(i, CH.binding)}`,
          check: (status, body) => status === 200 && body.includes("credentials")
        }
      }
    }
  ]
}

const sampleHttp = async (
  handler: (request: Request) => Promise<Response>,
  probe: HttpProbe,
  n: number
): Promise<Array<number>> => {
  const out: Array<number> = []
  for (let k = 0; k < n; k++) {
    const { check, path } = probe.next()
    const request = new Request(`http://broker.bench${path}`, {
      headers: { authorization: AUTH, "x-broker-api-version": "2.17" }
    })
    const t0 = performance.now()
    const response = await handler(request)
    const body = await response.text()
    out.push(performance.now() - t0)
    if (!check(response.status, body)) throw new Error(`${probe.name}: ${path} answered ${response.status} ${body}`)
  }
  return out
}

// --- backends ------------------------------------------------------------------------------------------------------

interface PgCluster {
  readonly url: string
  /** Whether the benchmark started it (and so may simply throw it away). */
  readonly own: boolean
  readonly stop: () => void
}

const startPg = async (): Promise<PgCluster> => {
  const given = env("EFFECT_OSB_BENCH_PG_URL")
  if (given !== undefined) return { url: given, own: false, stop: () => {} }
  const dir = join(mkdtempSync(join(tmpdir(), "osb-bench-pg-")), "cluster")
  const port = String(await freePort())
  const script = join(ROOT, "scripts", "pg-test-cluster.sh")
  const envFor = { ...process.env, PGPORT: port, PGTEST_DIR: dir }
  log(`starting a throw-away PostgreSQL on 127.0.0.1:${port} (${dir})`)
  const url = execFileSync("bash", [script, "start"], {
    encoding: "utf8",
    env: envFor,
    stdio: ["ignore", "pipe", "ignore"]
  }).trim()
  let stopped = false
  return {
    url,
    own: true,
    stop: () => {
      if (stopped) return
      stopped = true
      execFileSync("bash", [script, "stop"], { env: envFor, stdio: "ignore" })
      rmSync(dirname(dir), { recursive: true, force: true })
    }
  }
}

const pgQuery = async <R extends Record<string, unknown>>(url: string, text: string): Promise<Array<R>> => {
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  try {
    return (await client.query<R>(text)).rows
  } finally {
    await client.end()
  }
}

const pgDatabases: Array<string> = []

const freshPgDatabase = async (adminUrl: string, size: number): Promise<string> => {
  const name = `osb_bench_${size}_${Date.now().toString(36)}`
  await pgQuery(adminUrl, `CREATE DATABASE ${name}`)
  pgDatabases.push(name)
  const url = new URL(adminUrl)
  url.pathname = `/${name}`
  return url.toString()
}

interface Target {
  readonly size: number
  /** Where the managed broker opens the same data. */
  readonly storeLayer: Layer.Layer<BrokerStore.BrokerStore, unknown>
  readonly sqlLayer: Layer.Layer<SqlClient.SqlClient, unknown>
  readonly bytes: () => Promise<number>
}

const sqliteTarget = (dir: string, size: number): Target => {
  const filename = join(dir, `store-${size}.sqlite`)
  return {
    size,
    storeLayer: SqlStore.layerSqlite(filename),
    sqlLayer: SqliteClient.layer({ filename }),
    bytes: async () =>
      ["", "-wal"].reduce(
        (sum, suffix) => sum + (existsSync(filename + suffix) ? statSync(filename + suffix).size : 0),
        0
      )
  }
}

const pgTarget = (url: string, size: number): Target => {
  const sqlLayer = PgClient.layer({ url: Redacted.make(url), maxConnections: 10 })
  return {
    size,
    storeLayer: SqlStore.layerPg(url),
    sqlLayer,
    bytes: async () =>
      Number((await pgQuery<{ bytes: string }>(url, "SELECT pg_database_size(current_database()) AS bytes"))[0]!.bytes)
  }
}

interface SizeReport {
  readonly size: number
  readonly fillSeconds: number
  readonly rows: { readonly instances: number; readonly bindings: number; readonly operations: number }
  readonly databaseBytes: number
  readonly plans: Record<string, ReadonlyArray<string>>
}

const benchBackend = async (
  backend: Backend,
  targets: ReadonlyArray<Target>
): Promise<{ rows: Array<Row>; sizes: Array<SizeReport>; version: string }> => {
  const runtimes = new Map<
    number,
    ManagedRuntime.ManagedRuntime<BrokerStore.BrokerStore | SqlClient.SqlClient, unknown>
  >()
  const sizes: Array<SizeReport> = []
  const rows: Array<Row> = []
  let version = ""
  try {
    for (const t of targets) {
      const layer = SqlStore.layer().pipe(Layer.provideMerge(t.sqlLayer))
      const runtime = ManagedRuntime.make(layer)
      runtimes.set(t.size, runtime)
      if (backend === "sqlite") {
        for (const pragma of SQLITE_PRAGMAS) {
          await runtime.runPromise(Effect.flatMap(SqlClient.SqlClient, (sql) => sql.unsafe(`PRAGMA ${pragma}`)))
        }
      }
      const started = performance.now()
      log(`${backend}: filling ${t.size} instances`)
      await runtime.runPromise(fill(t.size, backend === "pg" ? 4 : 1))
      const fillSeconds = Math.round(performance.now() - started) / 1000
      const counted = await runtime.runPromise(verify(t.size))
      if (backend === "pg") {
        // what autovacuum does after such a load anyway: statistics, visibility map, hint bits
        await runtime.runPromise(
          Effect.flatMap(
            SqlClient.SqlClient,
            (sql) => sql.unsafe("VACUUM ANALYZE osb_instances, osb_bindings, osb_operations")
          )
        )
      }
      const plans = await runtime.runPromise(explain(backend, uuidAt(Math.floor(t.size / 3), CH.instance)))
      version = await runtime.runPromise(Effect.flatMap(SqlClient.SqlClient, (sql) =>
        Effect.map(
          backend === "pg"
            ? sql<{ v: string }>`SELECT current_setting('server_version') AS v`
            : sql<{ v: string }>`SELECT sqlite_version() AS v`,
          (r) => r[0]!.v
        )))
      const databaseBytes = await t.bytes()
      // the fill's garbage should not land in the first samples (node --expose-gc, as `npm run bench:store` does)
      const gc = (globalThis as { gc?: () => void }).gc
      gc?.()
      log(`${backend}: ${t.size} instances filled in ${fillSeconds} s, ${(databaseBytes / 1048576).toFixed(1)} MiB`)
      sizes.push({ size: t.size, fillSeconds, rows: counted, databaseBytes, plans })
    }

    log(`${backend}: store calls (${SAMPLES} samples per operation and size, ${WARMUP} warm-up)`)
    const probes = targets.map((t, k) => ({ size: t.size, probes: storeProbes(t.size, 1000 + k) }))
    const names = probes[0]!.probes.map((p) => p.name)
    const measured = await interleaved(
      probes,
      names,
      SAMPLES,
      (size, probe, n) => runtimes.get(size)!.runPromise(sampleStore(probe, n))
    )
    rows.push(...measured.map((m) => ({ backend, path: "store" as const, ...m })))
  } finally {
    for (const runtime of runtimes.values()) await runtime.dispose()
  }

  if (HTTP_SAMPLES > 0) {
    log(`${backend}: managed broker over Router.toWebHandler (${HTTP_SAMPLES} samples per operation and size)`)
    const auth = BrokerAuth.layerBasic([{ username: "bench", password: Redacted.make("bench-password") }])
    const handlers = targets.map((t) => ({
      size: t.size,
      web: Router.toWebHandler(Layer.merge(layerWith("10 millis", t.storeLayer), auth), { requestLog: false })
    }))
    try {
      const probes = handlers.map((h, k) => ({ size: h.size, probes: httpProbes(h.size, 2000 + k) }))
      const names = probes[0]!.probes.map((p) => p.name)
      const measured = await interleaved(
        probes,
        names,
        HTTP_SAMPLES,
        (size, probe, n) => sampleHttp(handlers.find((h) => h.size === size)!.web.handler, probe, n)
      )
      rows.push(...measured.map((m) => ({ backend, path: "broker (HTTP in process)" as const, ...m })))
    } finally {
      for (const h of handlers) await h.web.dispose()
    }
  }
  return { rows, sizes, version }
}

// --- report --------------------------------------------------------------------------------------------------------

interface Ratio {
  readonly backend: Backend
  readonly path: Row["path"]
  readonly operation: string
  readonly p50: number
  readonly p99: number
  readonly mean: number
  /** last_operation and fetch instance are held to the threshold (on p50 and mean; p99 is reported). */
  readonly gated: boolean
  readonly ok: boolean
}

const ratios = (rows: ReadonlyArray<Row>): Array<Ratio> => {
  const small = SIZES[0]!
  const large = SIZES[SIZES.length - 1]!
  const out: Array<Ratio> = []
  for (const row of rows.filter((r) => r.size === small)) {
    const big = rows.find((r) =>
      r.size === large && r.backend === row.backend && r.path === row.path && r.operation === row.operation
    )
    if (big === undefined) continue
    const q = (a: number, b: number) => Math.round((b / a) * 1000) / 1000
    const p50 = q(row.stats.p50, big.stats.p50)
    const mean = q(row.stats.mean, big.stats.mean)
    const gated = /^(last_operation|fetch instance)/.test(row.operation)
    out.push({
      backend: row.backend,
      path: row.path,
      operation: row.operation,
      p50,
      p99: q(row.stats.p99, big.stats.p99),
      mean,
      gated,
      ok: p50 <= THRESHOLD && mean <= THRESHOLD
    })
  }
  return out
}

const pad = (s: string, n: number) => (s.length >= n ? s : s + " ".repeat(n - s.length))
const lpad = (s: string, n: number) => (s.length >= n ? s : " ".repeat(n - s.length) + s)
const us = (x: number) => (x >= 100 ? x.toFixed(0) : x.toFixed(1))

const table = (rows: ReadonlyArray<Row>, rs: ReadonlyArray<Ratio>): string => {
  const small = SIZES[0]!
  const large = SIZES[SIZES.length - 1]!
  const k = (n: number) => (n % 1000 === 0 ? `${n / 1000}k` : String(n))
  const lines: Array<string> = []
  const head = [
    pad("backend", 7),
    pad("path", 6),
    pad("operation", 46),
    ...[small, large].flatMap((n) => [`p50@${k(n)}`, `p99@${k(n)}`, `mean@${k(n)}`].map((h) => lpad(h, 11))),
    lpad("x p50", 7),
    lpad("x p99", 7),
    lpad("x mean", 7),
    "  check"
  ].join(" ")
  lines.push(`latency in microseconds; x = ${k(large)} / ${k(small)}; gate: p50 and mean <= ${THRESHOLD}x`)
  lines.push(head)
  lines.push("-".repeat(head.length))
  for (const r of rs) {
    const at = (n: number) =>
      rows.find((row) =>
        row.size === n && row.backend === r.backend && row.path === r.path && row.operation ===
          r.operation
      )!.stats
    const a = at(small)
    const b = at(large)
    lines.push([
      pad(r.backend, 7),
      pad(r.path === "store" ? "store" : "broker", 6),
      pad(r.operation, 46),
      ...[a, b].flatMap((s) => [s.p50, s.p99, s.mean].map((x) => lpad(us(x), 11))),
      lpad(r.p50.toFixed(2), 7),
      lpad(r.p99.toFixed(2), 7),
      lpad(r.mean.toFixed(2), 7),
      `  ${r.gated ? (r.ok ? "ok" : "FAIL") : r.ok ? "(ok)" : "(over)"}`
    ].join(" "))
  }
  return lines.join("\n")
}

// --- main ----------------------------------------------------------------------------------------------------------

const main = async () => {
  const started = new Date()
  const loadAtStart = loadavg()
  const rows: Array<Row> = []
  const backends: Array<{ backend: Backend; version: string; sizes: Array<SizeReport> }> = []
  let cluster: PgCluster | undefined
  const sqliteDir = mkdtempSync(join(tmpdir(), "osb-bench-sqlite-"))
  const cleanup = () => {
    cluster?.stop()
    if (KEEP) log(`SQLite files kept in ${sqliteDir}`)
    else rmSync(sqliteDir, { recursive: true, force: true })
  }
  process.once("SIGINT", () => {
    cleanup()
    process.exit(130)
  })
  try {
    for (const backend of BACKENDS) {
      let targets: Array<Target>
      if (backend === "sqlite") {
        targets = SIZES.map((size) => sqliteTarget(sqliteDir, size))
      } else {
        cluster ??= await startPg()
        const admin = cluster.url
        targets = []
        for (const size of SIZES) targets.push(pgTarget(await freshPgDatabase(admin, size), size))
      }
      const result = await benchBackend(backend, targets)
      rows.push(...result.rows)
      backends.push({ backend, version: result.version, sizes: result.sizes })
    }
  } finally {
    // on a cluster someone else runs, the benchmark's databases (about 0.5 GB at 100k) do not stay behind
    if (cluster !== undefined && !cluster.own) {
      for (const name of pgDatabases) {
        await pgQuery(cluster.url, `DROP DATABASE IF EXISTS ${name}`).catch((e: unknown) =>
          log(`dropping ${name} failed: ${String(e)}`)
        )
      }
    }
    cleanup()
  }

  const rs = ratios(rows)
  const gated = rs.filter((r) => r.gated)
  const verdict = gated.every((r) => r.ok) ? "pass" : "fail"
  const text = table(rows, rs)
  const load = (l: ReadonlyArray<number>) => l.map((x) => x.toFixed(2)).join(" ")
  process.stdout.write(
    `load average (1/5/15 min): ${load(loadAtStart)} at start, ${load(loadavg())} at end; ${cpus().length} CPUs\n`
  )
  process.stdout.write(
    `${text}\n\nverdict (last_operation and fetch instance, p50 and mean <= ${THRESHOLD}x): ${verdict}\n`
  )

  const results = {
    benchmark: "effect-osb store: last_operation / fetch latency vs. stored instances",
    startedAt: started.toISOString(),
    finishedAt: new Date().toISOString(),
    environment: {
      node: process.version,
      platform: `${process.platform} ${process.arch}`,
      cpus: cpus().length,
      cpuModel: cpus()[0]?.model ?? "unknown",
      /** 1/5/15-minute load averages: other work on the machine shows in p99 and mean first */
      loadAverage: { atStart: loadAtStart, atEnd: loadavg() },
      backends: Object.fromEntries(backends.map((b) => [b.backend, b.version]))
    },
    config: {
      sizes: SIZES,
      samplesPerOperationAndSize: { store: SAMPLES, http: HTTP_SAMPLES },
      warmup: WARMUP,
      rounds: ROUNDS,
      threshold: THRESHOLD,
      sqlitePragmasOnStorePath: SQLITE_PRAGMAS,
      unit: "microseconds",
      notes: [
        "stores filled by bulk inserts of the rows SqlStore writes (one instance, one binding, two operations each)",
        "PostgreSQL: VACUUM ANALYZE after the fill; SQLite: as the store leaves it (WAL, no ANALYZE)",
        "sizes of a backend sampled in alternating rounds after a warm-up of each",
        "provision (transact, new id): each timed transaction is undone by an untimed ForgetInstance"
      ]
    },
    backends,
    results: rows,
    ratios: rs,
    verdict
  }
  mkdirSync(dirname(OUT), { recursive: true })
  writeFileSync(OUT, `${JSON.stringify(results, null, 2)}\n`)
  log(`results written to ${OUT}`)
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
