/**
 * Rewriting every record of a SQL store under the first configured key (`effect-osb store rekey`): envelopes of
 * older keys, rows an earlier version encrypted field by field, and plain rows written without encryption. One
 * transaction per instance id, holding the same per-instance lock as the store's own transactions, so a broker
 * may keep running meanwhile.
 *
 * @internal
 */
import type * as SqlClient from "@effect/sql/SqlClient"
import type { SqlError } from "@effect/sql/SqlError"
import * as Effect from "effect/Effect"
import type { Encryption } from "../Encryption.js"
import type { RowPlace } from "./sealedRows.js"
import { isCurrent, openRow, sealRow, UnreadableRow } from "./sealedRows.js"
import type { SqlDialect } from "./sqlDialect.js"

/**
 * What a rekey did.
 *
 * @internal
 */
export interface RekeyCounts {
  /** Records rewritten under the first key. */
  rewritten: number
  /** Records that already were under the first key. */
  current: number
  /** The records that could not be read (named by ids and key id), left as they were. */
  readonly unreadable: Array<string>
  /** What the operator must still do to erase old versions of the rows, if anything. */
  advice?: string | undefined
}

interface Row {
  readonly kind: number | string
  readonly sub: string | null
  readonly record: string
}

const tableOf = ["osb_instances", "osb_bindings", "osb_operations"] as const

const placeOf = (instanceId: string, row: Row): RowPlace => ({
  table: tableOf[Number(row.kind)] ?? "osb_operations",
  instanceId,
  id: row.sub ?? undefined,
  column: "record"
})

const write = (sql: SqlClient.SqlClient, place: RowPlace, text: string): Effect.Effect<unknown, SqlError> => {
  switch (place.table) {
    case "osb_instances":
      return sql`UPDATE osb_instances SET record = ${text} WHERE instance_id = ${place.instanceId}`
    case "osb_bindings":
      return sql`UPDATE osb_bindings SET record = ${text}
        WHERE instance_id = ${place.instanceId} AND binding_id = ${place.id ?? ""}`
    case "osb_operations":
      return sql`UPDATE osb_operations SET record = ${text}
        WHERE instance_id = ${place.instanceId} AND operation_id = ${place.id ?? ""}`
  }
}

/** The payload a row gets under the first key, `undefined` when it already is, or the reason it cannot be read. */
const rewrite = (encryption: Encryption, place: RowPlace, text: string): string | undefined | UnreadableRow => {
  if (isCurrent(encryption, text)) return undefined
  try {
    return sealRow(encryption, place, JSON.stringify(openRow(encryption, place, text)))
  } catch (error) {
    return error instanceof UnreadableRow ? error : new UnreadableRow(place, undefined, String(error))
  }
}

/** Rewrites the records of one instance id in one transaction. */
const rekeyInstance = (
  sql: SqlClient.SqlClient,
  dialect: SqlDialect,
  encryption: Encryption,
  instanceId: string,
  counts: RekeyCounts
): Effect.Effect<void, SqlError> =>
  sql.withTransaction(Effect.gen(function*() {
    yield* dialect.lockInstance(sql, instanceId)
    const rows = yield* sql<Row>`
      SELECT 0 AS kind, CAST(NULL AS TEXT) AS sub, record FROM osb_instances
        WHERE instance_id = ${instanceId} AND record IS NOT NULL
      UNION ALL
      SELECT 1, binding_id, record FROM osb_bindings WHERE instance_id = ${instanceId} AND record IS NOT NULL
      UNION ALL
      SELECT 2, operation_id, record FROM osb_operations WHERE instance_id = ${instanceId}`
    for (const row of rows) {
      const place = placeOf(instanceId, row)
      const next = rewrite(encryption, place, row.record)
      if (next === undefined) counts.current++
      else if (next instanceof UnreadableRow) counts.unreadable.push(next.message)
      else {
        yield* write(sql, place, next)
        counts.rewritten++
      }
    }
  }))

/**
 * Rewrites every record of the store under the first key, instance id by instance id (in pages of 200 ids).
 *
 * @internal
 */
export const rekeyRows = (
  sql: SqlClient.SqlClient,
  dialect: SqlDialect,
  encryption: Encryption
): Effect.Effect<RekeyCounts, SqlError> =>
  Effect.gen(function*() {
    const counts: RekeyCounts = { rewritten: 0, current: 0, unreadable: [] }
    let after = ""
    for (;;) {
      const page = yield* sql<{ instance_id: string }>`
        SELECT instance_id FROM (
          SELECT instance_id FROM osb_instances
          UNION SELECT instance_id FROM osb_bindings
          UNION SELECT instance_id FROM osb_operations
        ) ids WHERE instance_id > ${after} ORDER BY instance_id LIMIT 200`
      for (const { instance_id } of page) yield* rekeyInstance(sql, dialect, encryption, instance_id, counts)
      const last = page[page.length - 1]
      if (last === undefined || page.length < 200) {
        counts.advice = yield* dialect.eraseOldRows(sql)
        return counts
      }
      after = last.instance_id
    }
  })
