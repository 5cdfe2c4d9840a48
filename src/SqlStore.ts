/**
 * The `BrokerStore` on `@effect/sql`: SQLite (embedded, one process) and PostgreSQL (several replicas), with
 * versioned migrations applied at start-up, per-instance transactions (PostgreSQL: an advisory transaction lock
 * per instance id; SQLite: the database write lock), operation leases, and optional encryption of parameters
 * and binding credentials at rest.
 *
 * @since 0.1.0
 * @module
 */
import * as SqlClient from "@effect/sql/SqlClient"
import type { SqlError } from "@effect/sql/SqlError"
import * as Cause from "effect/Cause"
import type * as ConfigError from "effect/ConfigError"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"
import { existsSync } from "node:fs"
import type { BrokerStoreService, Change, InstanceSnapshot } from "./BrokerStore.js"
import {
  BindingRecord,
  BrokerStore,
  emptySnapshot,
  InstanceRecord,
  OperationRecord,
  StoreError,
  StoreUnavailable,
  Tombstone
} from "./BrokerStore.js"
import type { Encryption } from "./Encryption.js"
import { snapshotMap } from "./internal/partlyReadable.js"
import { preparePrivateFiles } from "./internal/privateFiles.js"
import { rekeyRows } from "./internal/rekey.js"
import type { RowPlace } from "./internal/sealedRows.js"
import { openRow, sealRow } from "./internal/sealedRows.js"
import { dialectOf, migrate } from "./internal/sqlDialect.js"
import { holdsEncryptedRows } from "./internal/sqlRows.js"
import { isUnavailable, makeOutageTracker, reasonOf } from "./internal/storeOutage.js"

/**
 * Options of the SQL store.
 *
 * @since 0.1.0
 * @category models
 */
export interface SqlStoreOptions {
  /**
   * Encrypts every record at rest (instances, bindings, operations: one envelope per row, bound to its table, ids
   * and column). Without it, a store that holds encrypted records refuses to open.
   */
  readonly encryption?: Encryption
}

const decodeInstance = Schema.decodeUnknownSync(InstanceRecord)
const decodeBinding = Schema.decodeUnknownSync(BindingRecord)
const decodeOperation = Schema.decodeUnknownSync(OperationRecord)
const decodeTombstone = Schema.decodeUnknownSync(Schema.parseJson(Tombstone))

/** Operations per lease statement (two parameters each, far below SQLite's and PostgreSQL's limits). */
const leaseBatch = 500

/** `operations` in batches of at most `leaseBatch`. */
const batches = <A>(operations: ReadonlyArray<A>): ReadonlyArray<ReadonlyArray<A>> => {
  const out: Array<ReadonlyArray<A>> = []
  for (let at = 0; at < operations.length; at += leaseBatch) out.push(operations.slice(at, at + leaseBatch))
  return out
}

const toStoreError = (message: string) => (cause: unknown) => new StoreError({ message, cause })

/**
 * Builds the store on the `SqlClient` in context, applying the migrations first. SQLite and PostgreSQL are
 * supported; a client of another dialect fails here with a `StoreError` naming it.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (
  options: SqlStoreOptions = {}
): Effect.Effect<BrokerStoreService, StoreError, SqlClient.SqlClient> =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const dialect = yield* Effect.mapError(dialectOf(sql), (e) => new StoreError({ message: e.message, cause: e }))
    const encryption = options.encryption
    const outage = makeOutageTracker(dialect.name)

    yield* migrate(sql, dialect).pipe(
      Effect.sandbox,
      Effect.mapError((cause) =>
        new StoreError({
          message: `applying the store migrations (${dialect.name}) failed`,
          cause: Cause.squash(cause)
        })
      )
    )

    if (encryption === undefined) {
      const found = yield* holdsEncryptedRows(sql).pipe(Effect.mapError(toStoreError("reading the store failed")))
      if (found !== undefined) {
        return yield* Effect.fail(
          new StoreError({
            message: `BROKER_ENCRYPTION_KEYS is not set, but the store holds encrypted records (e.g. ${found}); ` +
              "set BROKER_ENCRYPTION_KEYS to the keys that wrote them"
          })
        )
      }
    }

    const encode = (place: RowPlace, value: unknown): string => sealRow(encryption, place, JSON.stringify(value))
    const decode = <A>(decoder: (u: unknown) => A, place: RowPlace, text: string): A =>
      decoder(openRow(encryption, place, text))
    const instancePlace = (instanceId: string): RowPlace => ({ table: "osb_instances", instanceId, column: "record" })
    const bindingPlace = (instanceId: string, id: string): RowPlace => ({
      table: "osb_bindings",
      instanceId,
      id,
      column: "record"
    })
    const operationPlace = (instanceId: string, id: string): RowPlace => ({
      table: "osb_operations",
      instanceId,
      id,
      column: "record"
    })

    /**
     * One statement for the instance, its bindings and its operations: a single statement sees one consistent state
     * on both SQLite and PostgreSQL, so a read needs no transaction (and a transaction one statement, not three).
     */
    const readSnapshot = (instanceId: string): Effect.Effect<InstanceSnapshot, SqlError> =>
      Effect.map(
        sql<{
          kind: number | string
          binding_id: string | null
          record: string | null
          tombstone: string | null
          lease_expires_at: number | string | null
        }>`
          SELECT 0 AS kind, CAST(NULL AS TEXT) AS binding_id, record, tombstone,
              CAST(NULL AS BIGINT) AS lease_expires_at
            FROM osb_instances WHERE instance_id = ${instanceId}
          UNION ALL
          SELECT 1, binding_id, record, tombstone, CAST(NULL AS BIGINT)
            FROM osb_bindings WHERE instance_id = ${instanceId}
          UNION ALL
          SELECT 2, operation_id, record, CAST(NULL AS TEXT), lease_expires_at
            FROM osb_operations WHERE instance_id = ${instanceId}`,
        (rows) => {
          let instance = Option.none<InstanceRecord>()
          let tombstone = Option.none<Tombstone>()
          const bindings = snapshotMap<BindingRecord>()
          const bindingTombstones = new Map<string, Tombstone>()
          const operations = snapshotMap<OperationRecord>()
          for (const row of rows) {
            switch (Number(row.kind)) {
              case 0:
                if (row.record !== null) {
                  instance = Option.some(decode(decodeInstance, instancePlace(instanceId), row.record))
                }
                if (row.tombstone !== null) tombstone = Option.some(decodeTombstone(row.tombstone))
                break
              case 1: {
                const id = row.binding_id!
                if (row.record !== null) {
                  const text = row.record
                  bindings.add(id, () => decode(decodeBinding, bindingPlace(instanceId, id), text))
                }
                if (row.tombstone !== null) bindingTombstones.set(id, decodeTombstone(row.tombstone))
                break
              }
              default: {
                const id = row.binding_id!
                const text = row.record!
                const lease = row.lease_expires_at
                // leases are renewed in their column only
                operations.add(id, () => {
                  const record = decode(decodeOperation, operationPlace(instanceId, id), text)
                  return lease === null ? record : { ...record, leaseExpiresAt: Number(lease) }
                })
              }
            }
          }
          return {
            ...emptySnapshot(instanceId),
            instance,
            tombstone,
            bindings: bindings.done(),
            bindingTombstones,
            operations: operations.done()
          }
        }
      )

    /** Writes one change, exactly as it says (what a change takes with it is the engine's decision). */
    const apply = (instanceId: string, change: Change): Effect.Effect<unknown, SqlError> => {
      switch (change._tag) {
        case "PutInstance":
          return sql`
            INSERT INTO osb_instances (instance_id, record, tombstone, updated_at)
            VALUES (${instanceId}, ${
            encode(instancePlace(instanceId), change.record)
          }, NULL, ${change.record.updatedAt})
            ON CONFLICT (instance_id) DO UPDATE SET record = excluded.record, tombstone = NULL,
              updated_at = excluded.updated_at`
        case "DeleteInstance":
          return sql`
            INSERT INTO osb_instances (instance_id, record, tombstone, updated_at)
            VALUES (${instanceId}, NULL, ${JSON.stringify(change.tombstone)}, ${change.tombstone.deletedAt})
            ON CONFLICT (instance_id) DO UPDATE SET record = NULL, tombstone = excluded.tombstone,
              updated_at = excluded.updated_at`
        case "ForgetInstance":
          return Effect.all([
            sql`DELETE FROM osb_bindings WHERE instance_id = ${instanceId}`,
            sql`DELETE FROM osb_operations WHERE instance_id = ${instanceId}`,
            sql`DELETE FROM osb_instances WHERE instance_id = ${instanceId}`
          ], { discard: true })
        case "PutBinding":
          return sql`
            INSERT INTO osb_bindings (instance_id, binding_id, record, tombstone)
            VALUES (${instanceId}, ${change.record.bindingId},
              ${encode(bindingPlace(instanceId, change.record.bindingId), change.record)}, NULL)
            ON CONFLICT (instance_id, binding_id) DO UPDATE SET record = excluded.record, tombstone = NULL`
        case "DeleteBinding":
          return Option.match(change.tombstone, {
            onNone: () =>
              sql`DELETE FROM osb_bindings WHERE instance_id = ${instanceId} AND binding_id = ${change.bindingId}`,
            onSome: (tombstone) =>
              sql`
                INSERT INTO osb_bindings (instance_id, binding_id, record, tombstone)
                VALUES (${instanceId}, ${change.bindingId}, NULL, ${JSON.stringify(tombstone)})
                ON CONFLICT (instance_id, binding_id) DO UPDATE SET record = NULL, tombstone = excluded.tombstone`
          })
        case "PutOperation": {
          const r = change.record
          return sql`
            INSERT INTO osb_operations (instance_id, operation_id, state, owner, lease_expires_at, record)
            VALUES (${instanceId}, ${r.id}, ${r.state}, ${r.owner ?? null}, ${r.leaseExpiresAt ?? null},
              ${encode(operationPlace(instanceId, r.id), r)})
            ON CONFLICT (instance_id, operation_id) DO UPDATE SET state = excluded.state, owner = excluded.owner,
              lease_expires_at = excluded.lease_expires_at, record = excluded.record`
        }
      }
    }

    const service: BrokerStoreService = {
      persistent: true,
      read: (instanceId) => outage.guard("reading from the store failed")(readSnapshot(instanceId)),
      transact: (instanceId, f) =>
        sql.withTransaction(
          dialect.lockInstance(sql, instanceId).pipe(
            Effect.zipRight(readSnapshot(instanceId)),
            Effect.flatMap((snapshot) =>
              Effect.flatMap(f(snapshot), ([result, changes]) =>
                changes.length === 0
                  ? Effect.succeed(result)
                  : Effect.as(
                    Effect.forEach(changes, (change) => apply(instanceId, change), { discard: true }),
                    result
                  ))
            )
          )
        ).pipe(
          outage.guard("a store transaction failed")
        ),
      expiredOperations: (now) =>
        sql<{ instance_id: string; operation_id: string }>`
          SELECT instance_id, operation_id FROM osb_operations
          WHERE state = ${"in progress"} AND lease_expires_at IS NOT NULL AND lease_expires_at < ${now}`.pipe(
          Effect.map((rows) => rows.map((r) => ({ instanceId: r.instance_id, operationId: r.operation_id }))),
          outage.guard("reading expired operations failed")
        ),
      renewLeases: (owner, operations, until) =>
        Effect.forEach(batches(operations), (batch) =>
          // the primary key's instance ids narrow the rows; operation ids are unique
          sql<{ instance_id: string; operation_id: string }>`
            UPDATE osb_operations SET lease_expires_at = ${until}
            WHERE owner = ${owner} AND state = ${"in progress"}
              AND instance_id IN ${sql.in(batch.map((o) => o.instanceId))}
              AND operation_id IN ${sql.in(batch.map((o) => o.operationId))}
            RETURNING instance_id, operation_id`).pipe(
            Effect.map((rows) => rows.flat().map((r) => ({ instanceId: r.instance_id, operationId: r.operation_id }))),
            outage.guard("renewing leases failed")
          ),
      runningOperations: (owner) =>
        sql<{ instance_id: string; operation_id: string }>`
          SELECT instance_id, operation_id FROM osb_operations
          WHERE owner = ${owner} AND state = ${"in progress"}`.pipe(
          Effect.map((rows) => rows.map((r) => ({ instanceId: r.instance_id, operationId: r.operation_id }))),
          outage.guard("reading running operations failed")
        )
    }
    return service
  })

/**
 * The store as a layer over the `SqlClient` in context.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (options?: SqlStoreOptions): Layer.Layer<BrokerStore, StoreError, SqlClient.SqlClient> =>
  Layer.effect(BrokerStore, make(options))

/**
 * A SQLite store in a file (created with its directory if missing). One process at a time. The files are private
 * whatever the umask: directories the store creates 0700, the database and its `-wal`/`-shm` files 0600. The driver
 * (`@effect/sql-sqlite-node`, better-sqlite3 12) is loaded only when this layer is built.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerSqlite = (
  filename: string,
  options?: SqlStoreOptions
): Layer.Layer<BrokerStore, StoreError | ConfigError.ConfigError> =>
  layer(options).pipe(Layer.provide(sqliteClient(filename)))

/** The SQLite client of a store file (its directory and files made private first). */
const sqliteClient = (filename: string): Layer.Layer<SqlClient.SqlClient, StoreError | ConfigError.ConfigError> =>
  Layer.unwrapEffect(
    Effect.tryPromise({
      try: async () => {
        preparePrivateFiles(filename)
        return await import("@effect/sql-sqlite-node/SqliteClient")
      },
      catch: toStoreError(`opening the SQLite store ${filename} failed`)
    }).pipe(Effect.map((SqliteClient) => SqliteClient.layer({ filename })))
  )

/** Why the first connection failed: the server cannot be reached (StoreUnavailable) or refused us (StoreError). */
const connectionFailure = (error: SqlError): StoreError | StoreUnavailable => {
  const message = `connecting to PostgreSQL failed: ${reasonOf(error)}`
  return isUnavailable(error) || /timed out/i.test(message)
    ? new StoreUnavailable({ message, cause: error })
    : new StoreError({ message, cause: error })
}

/**
 * A PostgreSQL store. Several replicas may share it. The driver (`@effect/sql-pg`) is loaded only when this
 * layer is built. A server that cannot be reached fails the layer with `StoreUnavailable`, any other connection
 * failure (e.g. a wrong password) with `StoreError`: never a raw `SqlError`.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerPg = (
  url: Redacted.Redacted<string> | string,
  options?: SqlStoreOptions & { readonly maxConnections?: number }
): Layer.Layer<BrokerStore, StoreError | StoreUnavailable> =>
  layer(options).pipe(Layer.provide(pgClient(url, options?.maxConnections ?? 10)))

/** The PostgreSQL client of a store URL (connection failures as `StoreUnavailable` or `StoreError`). */
const pgClient = (
  url: Redacted.Redacted<string> | string,
  maxConnections: number
): Layer.Layer<SqlClient.SqlClient, StoreError | StoreUnavailable> =>
  Layer.unwrapEffect(
    Effect.tryPromise({
      try: () => import("@effect/sql-pg/PgClient"),
      catch: toStoreError("loading @effect/sql-pg failed")
    }).pipe(
      Effect.map((PgClient) =>
        PgClient.layer({ url: typeof url === "string" ? Redacted.make(url) : url, maxConnections }).pipe(
          Layer.mapError(connectionFailure)
        )
      )
    )
  )

/**
 * What `rekey` did: records rewritten under the first key, records that already were, and the records that could
 * not be read (named by their ids and the key id that sealed them; left as they were).
 *
 * @since 0.1.0
 * @category models
 */
export interface RekeyReport {
  /** The id of the key every readable record is now sealed with. */
  readonly keyId: string
  /** Records rewritten under that key (older keys, earlier versions' encryption, or no encryption). */
  readonly rewritten: number
  /** Records that already were under that key. */
  readonly current: number
  /** The records that could not be read, one message each (ids and key id, never contents or keys). */
  readonly unreadable: ReadonlyArray<string>
  /**
   * What is left to do to erase the old versions of the rows from the database files (PostgreSQL: a `VACUUM FULL`
   * of the tables); SQLite's files are rebuilt by the rekey itself.
   */
  readonly advice?: string | undefined
}

/**
 * Rewrites every record of the store in context under the first key of `encryption` (after applying the
 * migrations), so older keys can then be dropped; a store written without encryption is encrypted the same way.
 * Safe while brokers run on the same store: each instance id is rewritten in one transaction under its lock.
 *
 * @since 0.1.0
 * @category rotation
 */
export const rekey = (encryption: Encryption): Effect.Effect<RekeyReport, StoreError, SqlClient.SqlClient> =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const dialect = yield* Effect.mapError(dialectOf(sql), (e) => new StoreError({ message: e.message, cause: e }))
    yield* migrate(sql, dialect).pipe(
      Effect.mapError(toStoreError(`applying the store migrations (${dialect.name}) failed`))
    )
    const counts = yield* rekeyRows(sql, dialect, encryption).pipe(
      Effect.mapError(toStoreError("rewriting the store's records failed"))
    )
    return { keyId: encryption.keys[0].id, ...counts }
  })

/**
 * {@link rekey} on a SQLite store file.
 *
 * @since 0.1.0
 * @category rotation
 */
export const rekeySqlite = (
  filename: string,
  encryption: Encryption
): Effect.Effect<RekeyReport, StoreError | ConfigError.ConfigError> =>
  existsSync(filename)
    ? Effect.scoped(Effect.provide(rekey(encryption), sqliteClient(filename)))
    : Effect.fail(new StoreError({ message: `there is no SQLite store at ${filename}` }))

/**
 * {@link rekey} on a PostgreSQL store.
 *
 * @since 0.1.0
 * @category rotation
 */
export const rekeyPg = (
  url: Redacted.Redacted<string> | string,
  encryption: Encryption
): Effect.Effect<RekeyReport, StoreError | StoreUnavailable> =>
  Effect.scoped(Effect.provide(rekey(encryption), pgClient(url, 2)))
