/**
 * A store an earlier version wrote with BROKER_ENCRYPTION_KEYS set (`parameters` and `credentials` values as
 * `{"$encrypted":"v1.<key id>.<iv>.<tag>.<ct>"}` inside plain JSON, no associated data) still opens: migration 2
 * marks those rows `legacy:`, they are read as they were written, `SqlStore.rekey` turns them into envelopes, and
 * rows written afterwards never have such values decrypted. Rows are built here with the earlier format itself
 * (node:crypto), on SQLite and PostgreSQL.
 */
import Database from "better-sqlite3"
import { Effect, Either, Exit, Option } from "effect"
import type { Layer } from "effect"
import { createCipheriv, randomBytes } from "node:crypto"
import { mkdtempSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import pg from "pg"
import { describe, expect, it } from "vitest"
import { BrokerStore, Encryption, SqlStore } from "../../src/index.js"
import { migrations } from "../../src/internal/sqlDialect.js"
import { StoreContract } from "../../src/testing/index.js"
import { freshDatabase, query } from "../support/pg.js"

const keyBytes = randomBytes(32)
const encryption = Either.getOrThrow(Encryption.make([`k1:${keyBytes.toString("base64")}`]))

/** The earlier version's encryption of one value. */
const v1 = (value: unknown) => {
  const iv = randomBytes(12)
  const cipher = createCipheriv("aes-256-gcm", keyBytes, iv)
  const ct = Buffer.concat([cipher.update(JSON.stringify(value), "utf8"), cipher.final()])
  return {
    $encrypted: ["v1", "k1", iv, cipher.getAuthTag(), ct].map((p) => Buffer.isBuffer(p) ? p.toString("base64url") : p)
      .join(".")
  }
}

const legacyInstance = JSON.stringify({
  ...StoreContract.instance("old"),
  parameters: v1({ size: 7 })
})
const legacyBinding = JSON.stringify({
  ...StoreContract.binding("old", "b"),
  response: { credentials: v1({ password: "old-password" }) }
})

/** The schema of migration 1 and the rows as the earlier version wrote them (and its migration record). */
const legacyStatements = (): Array<[string, Array<unknown>]> => [
  ...migrations[0]![2].map((s): [string, Array<unknown>] => [s, []]),
  [
    "INSERT INTO osb_instances (instance_id, record, tombstone, updated_at) VALUES ('old', $1, NULL, 1)",
    [legacyInstance]
  ],
  [
    "INSERT INTO osb_bindings (instance_id, binding_id, record, tombstone) VALUES ('old', 'b', $1, NULL)",
    [legacyBinding]
  ]
]

const readOld = (layer: Layer.Layer<BrokerStore.BrokerStore, unknown>) =>
  Effect.runPromise(Effect.scoped(
    Effect.gen(function*() {
      const store = yield* BrokerStore.BrokerStore
      // a new row whose parameters look like the earlier ciphertext: data, never decrypted
      const lookalike = { $encrypted: JSON.parse(legacyBinding).response.credentials.$encrypted }
      yield* store.transact("new", () =>
        Effect.succeed(
          [undefined, [
            BrokerStore.Change.putInstance(StoreContract.instance("new", { parameters: lookalike }))
          ]] as const
        ))
      const old = yield* store.read("old")
      const fresh = yield* store.read("new")
      return {
        parameters: Option.getOrThrow(old.instance).parameters,
        credentials: old.bindings.get("b")?.response?.credentials,
        fresh: Option.getOrThrow(fresh.instance).parameters,
        lookalike
      }
    }).pipe(Effect.provide(layer))
  ))

const expectUpgrade = async (
  layer: Layer.Layer<BrokerStore.BrokerStore, unknown>,
  records: () => Promise<Array<string>>,
  rekey: () => Promise<SqlStore.RekeyReport>,
  plainLayer: Layer.Layer<BrokerStore.BrokerStore, unknown>
) => {
  const before = await readOld(layer)
  expect(before.parameters).toEqual({ size: 7 })
  expect(before.credentials).toEqual({ password: "old-password" })
  expect(before.fresh).toEqual(before.lookalike)
  const marked = (await records()).filter((r) => r.startsWith("legacy:"))
  expect(marked).toHaveLength(2)
  // without keys the store refuses to open
  const refused = await Effect.runPromiseExit(Effect.scoped(Effect.provide(BrokerStore.BrokerStore, plainLayer)))
  expect(Exit.isFailure(refused) && String(Exit.causeOption(refused).pipe(Option.getOrThrow))).toContain(
    "BROKER_ENCRYPTION_KEYS"
  )
  const report = await rekey()
  expect(report.unreadable).toEqual([])
  expect((await records()).filter((r) => !r.startsWith("enc1.k1."))).toEqual([])
  const after = await readOld(layer)
  expect([after.parameters, after.credentials]).toEqual([{ size: 7 }, { password: "old-password" }])
}

describe("a store written by the earlier field-by-field encryption", () => {
  it("SQLite: opens, reads, refuses without keys, and is rekeyed into envelopes", async () => {
    const file = join(mkdtempSync(join(tmpdir(), "osb-legacy-")), "old.sqlite")
    const db = new Database(file)
    for (const [statement, values] of legacyStatements()) db.prepare(statement.replace("$1", "?")).run(...values)
    db.exec(
      "CREATE TABLE osb_migrations (migration_id integer PRIMARY KEY NOT NULL, created_at datetime NOT NULL DEFAULT current_timestamp, name VARCHAR(255) NOT NULL)"
    )
    db.exec("INSERT INTO osb_migrations (migration_id, name) VALUES (1, 'create_tables')")
    db.close()
    const records = async () => {
      const read = new Database(file, { readonly: true })
      try {
        return (read.prepare(
          "SELECT record FROM osb_instances UNION ALL SELECT record FROM osb_bindings"
        ).all() as Array<{ record: string }>).map((r) => r.record)
      } finally {
        read.close()
      }
    }
    await expectUpgrade(
      SqlStore.layerSqlite(file, { encryption }),
      records,
      () => Effect.runPromise(SqlStore.rekeySqlite(file, encryption)),
      SqlStore.layerSqlite(file)
    )
  })

  it("PostgreSQL: the same", async () => {
    const url = await freshDatabase()
    const client = new pg.Client({ connectionString: url })
    await client.connect()
    try {
      for (const [statement, values] of legacyStatements()) await client.query(statement, values)
      await client.query(
        "CREATE TABLE osb_migrations (migration_id integer primary key, created_at timestamp with time zone not null default now(), name text not null)"
      )
      await client.query("INSERT INTO osb_migrations (migration_id, name) VALUES (1, 'create_tables')")
    } finally {
      await client.end()
    }
    await expectUpgrade(
      SqlStore.layerPg(url, { encryption }),
      async () =>
        (await query<{ record: string }>(
          url,
          "SELECT record FROM osb_instances UNION ALL SELECT record FROM osb_bindings"
        )).map((r) => r.record),
      () => Effect.runPromise(SqlStore.rekeyPg(url, encryption)),
      SqlStore.layerPg(url)
    )
  })
})
