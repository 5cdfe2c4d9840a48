/**
 * The start-up check of the SQL store for encrypted rows.
 *
 * @internal
 */
import type * as SqlClient from "@effect/sql/SqlClient"
import type { SqlError } from "@effect/sql/SqlError"
import * as Effect from "effect/Effect"
import { envelopePrefix } from "../Encryption.js"
import { describePlace, legacyPrefix } from "./sealedRows.js"

const tables = [
  ["osb_instances", "CAST(NULL AS TEXT)"],
  ["osb_bindings", "binding_id"],
  ["osb_operations", "operation_id"]
] as const

/**
 * The first encrypted row of the store (named by its ids), or `undefined` when it holds none. Reads only the
 * first bytes of each payload.
 *
 * @internal
 */
export const holdsEncryptedRows = (sql: SqlClient.SqlClient): Effect.Effect<string | undefined, SqlError> =>
  Effect.map(
    Effect.forEach(tables, ([table, id]) =>
      sql<{ instance_id: string; id: string | null }>`
        SELECT instance_id, ${sql.literal(id)} AS id FROM ${sql(table)}
        WHERE substr(record, 1, ${envelopePrefix.length}) = ${envelopePrefix}
          OR substr(record, 1, ${legacyPrefix.length}) = ${legacyPrefix}
        LIMIT 1`.pipe(
        Effect.map((rows) => {
          const row = rows[0]
          return row === undefined
            ? undefined
            : describePlace({ table, instanceId: row.instance_id, id: row.id ?? undefined, column: "record" })
        })
      )),
    (found) => found.find((f) => f !== undefined)
  )
