/**
 * Test support for the encryption-at-rest tests (issue 13 items 1-3): a scenario that sends markers in every
 * place a platform can put data (parameters of every operation, context, bind resource, sync and async paths) and
 * collects what the broker answered (credentials); the raw bytes of a SQLite store (database, WAL and SHM files)
 * and of a PostgreSQL store (every column of every table as text); the spawned `effect-osb` CLI.
 */
import Database from "better-sqlite3"
import { spawn } from "node:child_process"
import { randomBytes } from "node:crypto"
import { existsSync, readFileSync } from "node:fs"
import { dirname, join } from "node:path"
import { afterEach, beforeAll, expect } from "vitest"
import {
  AI,
  bindingLastOperationPath,
  bindingPath,
  type BrokerProcess,
  instancePath,
  killAll,
  LARGE_PLAN_ID,
  lastOperationPath,
  SERVICE_ID,
  settle,
  SMALL_PLAN_ID,
  startBroker
} from "./brokerProcess.js"
import { sharedQuickstart } from "./build.js"
import { query } from "./pg.js"

/**
 * The shared compiled quick start (test/support/build.ts) and a `start` that spawns it
 * on a store (leases of 1 s, takeover every 200 ms, no request log); every broker is killed after each test.
 */
export const quickstartFixture = () => {
  let built: string | undefined
  beforeAll(async () => {
    built = await sharedQuickstart()
  }, 300_000)
  afterEach(() => killAll())
  const script = () => built!
  const start = (name: string, store: string, env: Record<string, string> = {}, delayMs = 100) =>
    startBroker({
      name,
      script: script(),
      store,
      delayMs,
      leaseTtlMs: 1_000,
      takeoverIntervalMs: 200,
      env: { BROKER_REQUEST_LOG: "false", ...env }
    })
  return { script, start }
}

/** A fresh key entry for BROKER_ENCRYPTION_KEYS. */
export const keyEntry = (id: string) => `${id}:${randomBytes(32).toString("base64")}`

/** A marker nobody else writes. */
const marker = (what: string) => `MARK-${what}-${randomBytes(6).toString("hex")}`

/** What a scenario sent and got: every secret to look for in the store, and the ids the store keeps in clear. */
export interface Sent {
  readonly secrets: ReadonlyArray<string>
  readonly instanceIds: ReadonlyArray<string>
  /** A binding and its credentials, to read back later. */
  readonly binding: { readonly instanceId: string; readonly bindingId: string; readonly credentials: unknown }
}

const ok = (status: number, expected: number, text: string, what: string) =>
  expect(status, `${what}: ${text}`).toBe(expected)

/** Sync and async provision, update, bind, each with markers in parameters, context and bind resource. */
export const exercise = async (broker: BrokerProcess, prefix: string): Promise<Sent> => {
  const secrets: Array<string> = []
  const m = (what: string) => {
    const value = marker(what)
    secrets.push(value)
    return value
  }
  const context = (what: string) => ({ platform: "cloudfoundry", note: m(`${what}-context`) })
  const sync = `${prefix}-sync`
  const async = `${prefix}-async`
  const base = { service_id: SERVICE_ID, organization_guid: "org-1", space_guid: "space-1" }

  let r = await broker.call("PUT", instancePath(sync), {
    ...base,
    plan_id: SMALL_PLAN_ID,
    parameters: { secret: m("provision-params") },
    context: context("provision")
  })
  ok(r.status, 201, r.text, "sync provision")
  r = await broker.call("PUT", instancePath(async, AI), {
    ...base,
    plan_id: LARGE_PLAN_ID,
    parameters: { secret: m("async-provision-params") },
    context: context("async-provision")
  })
  ok(r.status, 202, r.text, "async provision")
  expect((await settle(broker, lastOperationPath(async, r.body.operation), 20_000)).reply.body.state).toBe(
    "succeeded"
  )

  r = await broker.call("PATCH", instancePath(sync), {
    service_id: SERVICE_ID,
    plan_id: SMALL_PLAN_ID,
    parameters: { secret: m("update-params") },
    context: context("update"),
    previous_values: { plan_id: SMALL_PLAN_ID, service_id: SERVICE_ID }
  })
  ok(r.status, 200, r.text, "sync update")
  r = await broker.call("PATCH", instancePath(async, AI), {
    service_id: SERVICE_ID,
    parameters: { secret: m("async-update-params") },
    context: context("async-update")
  })
  ok(r.status, 202, r.text, "async update")
  expect((await settle(broker, lastOperationPath(async, r.body.operation), 20_000)).reply.body.state).toBe(
    "succeeded"
  )

  const bindBody = {
    service_id: SERVICE_ID,
    plan_id: SMALL_PLAN_ID,
    parameters: { secret: m("bind-params") },
    bind_resource: { app_guid: m("app-guid") },
    context: context("bind")
  }
  r = await broker.call("PUT", bindingPath(sync, "b-sync"), bindBody)
  ok(r.status, 201, r.text, "sync bind")
  const credentials = r.body.credentials as Record<string, string>
  // an identical repeat is recognised (the fingerprint is read back from its envelope)
  const repeat = await broker.call("PUT", bindingPath(sync, "b-sync"), bindBody)
  ok(repeat.status, 200, repeat.text, "identical bind repeat")
  expect(repeat.body.credentials).toEqual(credentials)

  r = await broker.call("PUT", bindingPath(async, "b-async", AI), {
    service_id: SERVICE_ID,
    plan_id: LARGE_PLAN_ID,
    parameters: { secret: m("async-bind-params") },
    context: context("async-bind")
  })
  ok(r.status, 202, r.text, "async bind")
  expect(
    (await settle(broker, bindingLastOperationPath(async, "b-async", r.body.operation), 20_000)).reply.body.state
  ).toBe("succeeded")
  const fetched = await broker.call("GET", bindingPath(async, "b-async"))
  ok(fetched.status, 200, fetched.text, "fetch async binding")
  const asyncCredentials = fetched.body.credentials as Record<string, string>
  // what the broker answered: every credential value
  secrets.push(...Object.values(credentials), ...Object.values(asyncCredentials))
  return {
    secrets,
    instanceIds: [sync, async],
    binding: { instanceId: sync, bindingId: "b-sync", credentials }
  }
}

/** Every byte of a SQLite store as text: the database, its WAL and its SHM files. */
export const sqliteBytes = (file: string): string =>
  [file, `${file}-wal`, `${file}-shm`, `${file}-journal`]
    .filter((f) => existsSync(f))
    .map((f) => readFileSync(f).toString("latin1"))
    .join("\n")

/** Every column of every row of every table of a PostgreSQL store, as text. */
export const pgRows = async (url: string): Promise<string> => {
  const tables = await query<{ tablename: string }>(
    url,
    "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename"
  )
  const parts: Array<string> = []
  for (const { tablename } of tables) {
    const rows = await query<{ row: string }>(url, `SELECT t::text AS row FROM ${tablename} t`)
    parts.push(...rows.map((r) => r.row))
  }
  return parts.join("\n")
}

/** The `record` payloads of a SQLite store's three tables (read with better-sqlite3). */
export const sqliteRecords = (file: string): Array<string> => {
  const db = new Database(file, { readonly: true })
  try {
    return ["osb_instances", "osb_bindings", "osb_operations"].flatMap((table) =>
      (db.prepare(`SELECT record FROM ${table} WHERE record IS NOT NULL`).all() as Array<{ record: string }>).map(
        (r) => r.record
      )
    )
  } finally {
    db.close()
  }
}

/** Runs SQL on a SQLite store file (the broker must be stopped). */
export const onSqlite = <A>(file: string, f: (db: Database.Database) => A): A => {
  const db = new Database(file)
  try {
    return f(db)
  } finally {
    db.close()
  }
}

/** Runs the compiled `effect-osb` CLI (next to the compiled quick start) to its end. */
export const runCli = (
  quickstartScript: string,
  args: ReadonlyArray<string>,
  env: Readonly<Record<string, string>>
): Promise<{ readonly code: number | null; readonly stdout: string; readonly stderr: string }> => {
  const cli = join(dirname(quickstartScript), "..", "src", "bin", "effect-osb.js")
  return runNode(cli, args, env, 60_000)
}

/** Runs a node script to its end (killed after `timeoutMs`), with only `env` plus PATH. */
export const runNode = (
  script: string,
  args: ReadonlyArray<string>,
  env: Readonly<Record<string, string>>,
  timeoutMs: number
): Promise<{ readonly code: number | null; readonly stdout: string; readonly stderr: string }> =>
  new Promise((resolve) => {
    const child = spawn(process.execPath, [script, ...args], {
      env: { PATH: process.env["PATH"] ?? "", ...env },
      stdio: ["ignore", "pipe", "pipe"]
    })
    let stdout = ""
    let stderr = ""
    child.stdout.on("data", (d) => (stdout += d))
    child.stderr.on("data", (d) => (stderr += d))
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs)
    child.once("exit", (code) => {
      clearTimeout(timer)
      resolve({ code, stdout, stderr })
    })
  })
