/**
 * What differs between the SQL dialects the store supports, and the store's schema migrations.
 *
 * Every dialect `@effect/sql` knows has an explicit branch: SQLite and PostgreSQL are supported, the others fail
 * when the store is built. Migrations run through `@effect/sql`'s `Migrator` (table `osb_migrations`); a database
 * created before that (table `osb_schema_migrations`, versions as migration ids) is adopted in the same
 * transaction.
 */
import * as Migrator from "@effect/sql/Migrator"
import * as SqlClient from "@effect/sql/SqlClient"
import type { SqlError } from "@effect/sql/SqlError"
import * as Effect from "effect/Effect"

/** How the store speaks to one dialect. */
export interface SqlDialect {
  /** The name used in messages. */
  readonly name: string
  /** Serialises the transactions on one instance id (run first in each transaction). */
  readonly lockInstance: (sql: SqlClient.SqlClient, instanceId: string) => Effect.Effect<unknown, SqlError>
  /** Serialises the migrations of processes starting together (run first in the migration transaction). */
  readonly lockMigrations: (sql: SqlClient.SqlClient) => Effect.Effect<unknown, SqlError>
  /** Whether a table exists. */
  readonly tableExists: (sql: SqlClient.SqlClient, table: string) => Effect.Effect<boolean, SqlError>
  /** The `Migrator`'s own table, as the `Migrator` creates it for this dialect. */
  readonly createMigrationsTable: (sql: SqlClient.SqlClient) => Effect.Effect<unknown, SqlError>
  /**
   * Erases what rewritten rows left in the database files (run after a rekey, outside a transaction), or says
   * what the operator must run to do it.
   */
  readonly eraseOldRows: (sql: SqlClient.SqlClient) => Effect.Effect<string | undefined, SqlError>
}

const sqlite: SqlDialect = {
  name: "SQLite",
  // a write first, so the transaction holds SQLite's write lock from the start
  lockInstance: (sql, instanceId) =>
    sql`UPDATE osb_instances SET updated_at = updated_at WHERE instance_id = ${instanceId}`,
  // SQLite has one writer: the migration transaction's first write takes the lock
  lockMigrations: () => Effect.void,
  tableExists: (sql, table) =>
    Effect.map(
      sql<{ n: number }>`SELECT COUNT(*) AS n FROM sqlite_master WHERE type = 'table' AND name = ${table}`,
      (rows) => Number(rows[0]?.n ?? 0) > 0
    ),
  createMigrationsTable: (sql) =>
    sql`CREATE TABLE IF NOT EXISTS ${sql(migrationsTable)} (
      migration_id integer PRIMARY KEY NOT NULL,
      created_at datetime NOT NULL DEFAULT current_timestamp,
      name VARCHAR(255) NOT NULL
    )`,
  // old versions of rewritten rows stay in free pages and in the WAL until the file is rebuilt
  eraseOldRows: (sql) =>
    Effect.as(
      Effect.all([
        sql`PRAGMA wal_checkpoint(TRUNCATE)`,
        sql`VACUUM`,
        sql`PRAGMA wal_checkpoint(TRUNCATE)`
      ], { discard: true }),
      undefined
    )
}

const pg: SqlDialect = {
  name: "PostgreSQL",
  lockInstance: (sql, instanceId) => sql`SELECT pg_advisory_xact_lock(hashtextextended(${instanceId}, 0))`,
  lockMigrations: (sql) => sql`SELECT pg_advisory_xact_lock(424242)`,
  tableExists: (sql, table) =>
    Effect.map(
      sql<{ present: boolean }>`SELECT to_regclass(${table}) IS NOT NULL AS present`,
      (rows) => rows[0]?.present === true
    ),
  createMigrationsTable: (sql) =>
    sql`CREATE TABLE IF NOT EXISTS ${sql(migrationsTable)} (
      migration_id integer primary key,
      created_at timestamp with time zone not null default now(),
      name text not null
    )`,
  // VACUUM FULL would lock the tables of running brokers: the operator chooses when
  eraseOldRows: () =>
    Effect.succeed(
      "PostgreSQL keeps old row versions until they are vacuumed: run VACUUM FULL osb_instances, osb_bindings, " +
        "osb_operations to rewrite the tables"
    )
}

/** Why the store cannot be built on the `SqlClient` in context. */
export class UnsupportedDialect extends Error {
  constructor(readonly dialect: string) {
    super(
      `the SQL store supports SQLite and PostgreSQL; the SqlClient in context speaks ${dialect} ` +
        "(provide @effect/sql-sqlite-node or @effect/sql-pg, or write a BrokerStore for it and run " +
        "StoreContract.suite from effect-osb/testing)"
    )
  }
}

/** The dialect of the client, one explicit branch per dialect `@effect/sql` knows. */
export const dialectOf = (sql: SqlClient.SqlClient): Effect.Effect<SqlDialect, UnsupportedDialect> =>
  sql.onDialect({
    sqlite: () => Effect.succeed(sqlite),
    pg: () => Effect.succeed(pg),
    mysql: () => Effect.fail(new UnsupportedDialect("MySQL")),
    mssql: () => Effect.fail(new UnsupportedDialect("Microsoft SQL Server")),
    clickhouse: () => Effect.fail(new UnsupportedDialect("ClickHouse"))
  })

/** The `Migrator`'s table. */
export const migrationsTable = "osb_migrations"

/** The table of the hand-rolled migrations used before the `Migrator` (`version`, `applied_at`). */
export const legacyMigrationsTable = "osb_schema_migrations"

/** The migrations, in order: `<id>_<name>` -> statements. Never change one that shipped; add a new one. */
export const migrations: ReadonlyArray<readonly [id: number, name: string, statements: ReadonlyArray<string>]> = [
  [1, "create_tables", [
    `CREATE TABLE IF NOT EXISTS osb_instances (
      instance_id TEXT PRIMARY KEY,
      record TEXT,
      tombstone TEXT,
      updated_at BIGINT NOT NULL
    )`,
    `CREATE TABLE IF NOT EXISTS osb_bindings (
      instance_id TEXT NOT NULL,
      binding_id TEXT NOT NULL,
      record TEXT,
      tombstone TEXT,
      PRIMARY KEY (instance_id, binding_id)
    )`,
    `CREATE TABLE IF NOT EXISTS osb_operations (
      instance_id TEXT NOT NULL,
      operation_id TEXT NOT NULL,
      state TEXT NOT NULL,
      owner TEXT,
      lease_expires_at BIGINT,
      record TEXT NOT NULL,
      PRIMARY KEY (instance_id, operation_id)
    )`,
    `CREATE INDEX IF NOT EXISTS osb_operations_running ON osb_operations (state, lease_expires_at)`
  ]],
  // rows an earlier version encrypted field by field ({"$encrypted":"v1..."} values inside plain JSON) are marked, so
  // only they have such values decrypted (anything else is data, never ciphertext); `store rekey` seals them whole
  [2, "mark_legacy_encrypted_rows", [
    `UPDATE osb_instances SET record = 'legacy:' || record WHERE record LIKE '%"$encrypted":"v1.%'`,
    `UPDATE osb_bindings SET record = 'legacy:' || record WHERE record LIKE '%"$encrypted":"v1.%'`
  ]]
]

const loader = (sql: SqlClient.SqlClient): Migrator.Loader =>
  Effect.succeed(
    migrations.map(([id, name, statements]) =>
      // what `load` yields is the migration (the Migrator's loaders import a module here)
      [
        id,
        name,
        Effect.succeed(Effect.forEach(statements, (statement) => sql.unsafe(statement), { discard: true }))
      ] as const
    )
  )

/**
 * Records the versions applied by the hand-rolled migrations as `Migrator` migrations (same ids), then drops their
 * table, so the `Migrator` runs only what is new.
 */
const adoptLegacy = (sql: SqlClient.SqlClient, dialect: SqlDialect): Effect.Effect<void, SqlError> =>
  Effect.gen(function*() {
    if (!(yield* dialect.tableExists(sql, legacyMigrationsTable))) return
    const applied = yield* sql<{ version: number | string }>`SELECT version FROM ${sql(legacyMigrationsTable)}`
    const recorded = yield* sql<{ migration_id: number | string }>`SELECT migration_id FROM ${sql(migrationsTable)}`
    const known = new Set(recorded.map((row) => Number(row.migration_id)))
    for (const row of applied) {
      const id = Number(row.version)
      const migration = migrations.find(([candidate]) => candidate === id)
      if (migration === undefined || known.has(id)) continue
      yield* sql`INSERT INTO ${sql(migrationsTable)} (migration_id, name) VALUES (${id}, ${migration[1]})`
    }
    yield* sql`DROP TABLE ${sql(legacyMigrationsTable)}`
  })

const runMigrator = Migrator.make({})

/**
 * Brings the schema up to date in one transaction (serialised across processes on PostgreSQL): creates the
 * `Migrator`'s table, adopts a database of the hand-rolled migrations, then runs the `Migrator`. Returns the
 * migrations it applied.
 */
export const migrate = (
  sql: SqlClient.SqlClient,
  dialect: SqlDialect
): Effect.Effect<ReadonlyArray<readonly [id: number, name: string]>, SqlError | Migrator.MigrationError> =>
  sql.withTransaction(
    Effect.gen(function*() {
      yield* dialect.lockMigrations(sql)
      yield* dialect.createMigrationsTable(sql)
      yield* adoptLegacy(sql, dialect)
      return yield* runMigrator({ loader: loader(sql), table: migrationsTable }).pipe(
        Effect.provideService(SqlClient.SqlClient, sql)
      )
    })
  )
