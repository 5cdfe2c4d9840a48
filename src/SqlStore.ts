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
import { decryptRecord, encryptRecord } from "./Encryption.js"
import { preparePrivateFiles } from "./internal/privateFiles.js"
import { dialectOf, migrate } from "./internal/sqlDialect.js"
import { isUnavailable, makeOutageTracker, reasonOf } from "./internal/storeOutage.js"

/**
 * Options of the SQL store.
 *
 * @since 0.1.0
 * @category models
 */
export interface SqlStoreOptions {
  /** Encrypts parameters and binding credentials at rest. */
  readonly encryption?: Encryption
}

const decodeInstance = Schema.decodeUnknownSync(InstanceRecord)
const decodeBinding = Schema.decodeUnknownSync(BindingRecord)
const decodeOperation = Schema.decodeUnknownSync(Schema.parseJson(OperationRecord))
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

    const encode = (value: unknown): string =>
      JSON.stringify(encryption === undefined ? value : encryptRecord(encryption, value))
    const decode = <A>(decoder: (u: unknown) => A, text: string): A => {
      const parsed: unknown = JSON.parse(text)
      return decoder(encryption === undefined ? parsed : decryptRecord(encryption, parsed))
    }

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
          SELECT 2, CAST(NULL AS TEXT), record, CAST(NULL AS TEXT), lease_expires_at
            FROM osb_operations WHERE instance_id = ${instanceId}`,
        (rows) => {
          let instance = Option.none<InstanceRecord>()
          let tombstone = Option.none<Tombstone>()
          const bindings = new Map<string, BindingRecord>()
          const bindingTombstones = new Map<string, Tombstone>()
          const operations = new Map<string, OperationRecord>()
          for (const row of rows) {
            switch (Number(row.kind)) {
              case 0:
                if (row.record !== null) instance = Option.some(decode(decodeInstance, row.record))
                if (row.tombstone !== null) tombstone = Option.some(decodeTombstone(row.tombstone))
                break
              case 1:
                if (row.record !== null) bindings.set(row.binding_id!, decode(decodeBinding, row.record))
                if (row.tombstone !== null) bindingTombstones.set(row.binding_id!, decodeTombstone(row.tombstone))
                break
              default: {
                const record = decodeOperation(row.record!)
                // leases are renewed in their column only
                operations.set(
                  record.id,
                  row.lease_expires_at === null ? record : { ...record, leaseExpiresAt: Number(row.lease_expires_at) }
                )
              }
            }
          }
          return { ...emptySnapshot(instanceId), instance, tombstone, bindings, bindingTombstones, operations }
        }
      )

    /** Writes one change, exactly as it says (what a change takes with it is the engine's decision). */
    const apply = (instanceId: string, change: Change): Effect.Effect<unknown, SqlError> => {
      switch (change._tag) {
        case "PutInstance":
          return sql`
            INSERT INTO osb_instances (instance_id, record, tombstone, updated_at)
            VALUES (${instanceId}, ${encode(change.record)}, NULL, ${change.record.updatedAt})
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
            VALUES (${instanceId}, ${change.record.bindingId}, ${encode(change.record)}, NULL)
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
              ${JSON.stringify(r)})
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
  Layer.unwrapEffect(
    Effect.tryPromise({
      try: async () => {
        preparePrivateFiles(filename)
        return await import("@effect/sql-sqlite-node/SqliteClient")
      },
      catch: toStoreError(`opening the SQLite store ${filename} failed`)
    }).pipe(Effect.map((SqliteClient) => layer(options).pipe(Layer.provide(SqliteClient.layer({ filename })))))
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
  Layer.unwrapEffect(
    Effect.tryPromise({
      try: () => import("@effect/sql-pg/PgClient"),
      catch: toStoreError("loading @effect/sql-pg failed")
    }).pipe(
      Effect.map((PgClient) =>
        layer(options).pipe(
          Layer.provide(
            PgClient.layer({
              url: typeof url === "string" ? Redacted.make(url) : url,
              maxConnections: options?.maxConnections ?? 10
            }).pipe(Layer.mapError(connectionFailure))
          )
        )
      )
    )
  )
