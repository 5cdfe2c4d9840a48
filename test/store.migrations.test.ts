/**
 * The SQL store's schema: migrations through @effect/sql's Migrator, the upgrade of a database written by the
 * hand-rolled migrations of earlier versions (test/fixtures/legacy-store-v1.json: written by the quick start of
 * commit 21c1f2b over HTTP), replicas migrating together, and the refusal of a dialect the store does not speak.
 */
import * as Reactivity from "@effect/experimental/Reactivity"
import * as SqlClient from "@effect/sql/SqlClient"
import { SqlError } from "@effect/sql/SqlError"
import * as Statement from "@effect/sql/Statement"
import Database from "better-sqlite3"
import { Cause, Effect, Exit, Layer } from "effect"
import { mkdtempSync, readFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import pg from "pg"
import { afterEach, describe, expect, it } from "vitest"
import * as Quickstart from "../examples/managed-broker.js"
import { SqlStore } from "../src/index.js"
import type { BrokerStore } from "../src/index.js"
import { clientFor } from "./support/http.js"
import type { Client } from "./support/http.js"
import { freshDatabase, query } from "./support/pg.js"

interface Fixture {
  readonly schema: ReadonlyArray<string>
  readonly tables: Record<string, ReadonlyArray<Record<string, unknown>>>
}
const fixture: Fixture = JSON.parse(
  readFileSync(new URL("./fixtures/legacy-store-v1.json", import.meta.url), "utf8")
)
const dir = mkdtempSync(join(tmpdir(), "osb-migrations-"))

const loadSqlite = (file: string) => {
  const db = new Database(file)
  try {
    for (const statement of fixture.schema) db.exec(statement)
    for (const [table, rows] of Object.entries(fixture.tables)) {
      for (const row of rows) {
        const columns = Object.keys(row)
        db.prepare(`INSERT INTO ${table} (${columns.join(", ")}) VALUES (${columns.map(() => "?").join(", ")})`)
          .run(...columns.map((c) => row[c]))
      }
    }
  } finally {
    db.close()
  }
}

const loadPg = async (url: string) => {
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  try {
    for (const statement of fixture.schema) await client.query(statement)
    for (const [table, rows] of Object.entries(fixture.tables)) {
      for (const row of rows) {
        const columns = Object.keys(row)
        await client.query(
          `INSERT INTO ${table} (${columns.join(", ")}) VALUES (${columns.map((_, i) => `$${i + 1}`).join(", ")})`,
          columns.map((c) => row[c])
        )
      }
    }
  } finally {
    await client.end()
  }
}

const H = { "content-type": "application/json" }
const SMALL = { service_id: Quickstart.SERVICE_ID, plan_id: Quickstart.SMALL_PLAN_ID }
const SMALL_QUERY = `service_id=${Quickstart.SERVICE_ID}&plan_id=${Quickstart.SMALL_PLAN_ID}`
const legacyCredentials = (() => {
  const row = fixture.tables["osb_bindings"]!.find((r) => r["binding_id"] === "legacy-bind")!
  return JSON.parse(row["record"] as string).response.credentials
})()

let clients: Array<Client> = []
afterEach(async () => {
  for (const client of clients) await client.dispose()
  clients = []
})

const brokerOn = (store: Layer.Layer<BrokerStore.BrokerStore, unknown>) => {
  const client = clientFor(Quickstart.layerWith("100 millis", store))
  clients.push(client)
  return client
}

/** What the quick start wrote before the upgrade answers the same after it, and the broker keeps working. */
const expectLegacyServed = async (client: Client) => {
  const small = await client.call("GET", "/v2/service_instances/legacy-small")
  expect(small.status).toBe(200)
  expect(small.body.parameters).toEqual({ size: 3 })
  const bound = await client.call("GET", "/v2/service_instances/legacy-small/service_bindings/legacy-bind")
  expect(bound.status).toBe(200)
  expect(bound.body.credentials).toEqual(legacyCredentials)
  expect(bound.body.parameters).toEqual({ role: "ro" })
  const repeat = await client.call("PUT", "/v2/service_instances/legacy-small/service_bindings/legacy-bind", {
    body: { ...SMALL, parameters: { role: "ro" } },
    headers: H
  })
  expect(repeat.status).toBe(200)
  expect(repeat.body.credentials).toEqual(legacyCredentials)
  expect((await client.call("GET", "/v2/service_instances/legacy-small/service_bindings/legacy-gone")).status).toBe(
    404
  )
  expect((await client.call("GET", "/v2/service_instances/legacy-large/last_operation")).body).toEqual({
    state: "succeeded"
  })
  expect((await client.call("GET", "/v2/service_instances/legacy-deleted")).status).toBe(404)
  expect((await client.call("DELETE", `/v2/service_instances/legacy-deleted?${SMALL_QUERY}`)).status).toBe(410)
  const fresh = await client.call("PUT", "/v2/service_instances/after-upgrade", {
    body: { ...SMALL, organization_guid: "o", space_guid: "s" },
    headers: H
  })
  expect(fresh.status).toBe(201)
  expect((await client.call("DELETE", `/v2/service_instances/legacy-small?${SMALL_QUERY}`)).status).toBe(200)
}

describe("SQL store migrations (Migrator)", () => {
  it("SQLite: a database of the hand-rolled migrations is adopted and served unchanged", async () => {
    const file = join(dir, "legacy.sqlite")
    loadSqlite(file)
    await expectLegacyServed(brokerOn(SqlStore.layerSqlite(file)))
    const db = new Database(file, { readonly: true })
    try {
      const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").all()
      expect(tables.map((t: any) => t.name)).toEqual([
        "osb_bindings",
        "osb_instances",
        "osb_migrations",
        "osb_operations"
      ])
      expect(db.prepare("SELECT migration_id, name FROM osb_migrations").all()).toEqual([
        { migration_id: 1, name: "create_tables" },
        { migration_id: 2, name: "mark_legacy_encrypted_rows" }
      ])
    } finally {
      db.close()
    }
  })

  it("PostgreSQL: a database of the hand-rolled migrations is adopted and served unchanged", async () => {
    const url = await freshDatabase()
    await loadPg(url)
    await expectLegacyServed(brokerOn(SqlStore.layerPg(url)))
    expect(await query(url, "SELECT to_regclass('osb_schema_migrations') AS legacy")).toEqual([{ legacy: null }])
    expect(await query(url, "SELECT migration_id, name FROM osb_migrations")).toEqual([
      { migration_id: 1, name: "create_tables" },
      { migration_id: 2, name: "mark_legacy_encrypted_rows" }
    ])
  })

  it("PostgreSQL: replicas starting together on an empty database migrate it once", async () => {
    const url = await freshDatabase()
    const opens = Array.from(
      { length: 5 },
      () => Effect.runPromiseExit(Effect.scoped(Layer.build(SqlStore.layerPg(url, { maxConnections: 2 }))))
    )
    const exits = await Promise.all(opens)
    expect(exits.map((exit) => exit._tag)).toEqual(["Success", "Success", "Success", "Success", "Success"])
    expect(await query(url, "SELECT migration_id FROM osb_migrations")).toEqual([{ migration_id: 1 }, {
      migration_id: 2
    }])
    // and a restart on a migrated database applies nothing
    expect(Exit.isSuccess(await Effect.runPromiseExit(Effect.scoped(Layer.build(SqlStore.layerPg(url)))))).toBe(true)
    expect(await query(url, "SELECT count(*)::int AS n FROM osb_migrations")).toEqual([{ n: 2 }])
  })

  it("SQLite: a new database gets the tables through the Migrator", async () => {
    const file = join(dir, "new.sqlite")
    await expectFreshWorks(SqlStore.layerSqlite(file))
    const db = new Database(file, { readonly: true })
    try {
      expect(db.prepare("SELECT migration_id, name FROM osb_migrations").all()).toEqual([
        { migration_id: 1, name: "create_tables" },
        { migration_id: 2, name: "mark_legacy_encrypted_rows" }
      ])
    } finally {
      db.close()
    }
  })
})

const expectFreshWorks = async (store: Layer.Layer<BrokerStore.BrokerStore, unknown>) => {
  const client = brokerOn(store)
  const created = await client.call("PUT", "/v2/service_instances/fresh-1", {
    body: { ...SMALL, organization_guid: "o", space_guid: "s" },
    headers: H
  })
  expect(created.status).toBe(201)
}

describe("SQL store dialects", () => {
  /** A SqlClient of another dialect, whose connection records every statement it is asked to run. */
  const clientOf = (dialect: Statement.Dialect, ran: Array<string>) =>
    Layer.effect(
      SqlClient.SqlClient,
      SqlClient.make({
        acquirer: Effect.sync(() => {
          const fail = (sql: string) => {
            ran.push(sql)
            return Effect.fail(new SqlError({ message: "no server in this test" }))
          }
          return {
            execute: fail,
            executeRaw: fail,
            executeValues: fail,
            executeUnprepared: fail,
            executeStream: () => {
              throw new Error("not used")
            }
          } as any
        }),
        compiler: Statement.makeCompiler({
          dialect,
          placeholder: () => "?",
          onIdentifier: (value) => `\`${value}\``,
          onRecordUpdate: () => ["", []],
          onCustom: () => ["", []]
        }),
        spanAttributes: []
      })
    ).pipe(Layer.provide(Reactivity.layer))

  for (
    const [dialect, name] of [["mysql", "MySQL"], ["mssql", "Microsoft SQL Server"], [
      "clickhouse",
      "ClickHouse"
    ]] as const
  ) {
    it(`${name}: building the store fails at once with an error naming the dialect, running nothing`, async () => {
      const ran: Array<string> = []
      const exit = await Effect.runPromiseExit(
        Effect.scoped(Layer.build(SqlStore.layer().pipe(Layer.provide(clientOf(dialect, ran)))))
      )
      expect(Exit.isFailure(exit)).toBe(true)
      const error = Exit.isFailure(exit) ? Cause.squash(exit.cause) : undefined
      expect(error).toMatchObject({ _tag: "StoreError" })
      expect((error as Error).message).toContain(`speaks ${name}`)
      expect((error as Error).message).toContain("supports SQLite and PostgreSQL")
      expect(ran).toEqual([])
    })
  }
})
