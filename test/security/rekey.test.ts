/**
 * Key rotation you can finish (issue 13): `effect-osb store rekey`, spawned as a user runs it (BROKER_STORE and
 * BROKER_ENCRYPTION_KEYS), rewrites every record under the first key, so the broker then runs with the new key
 * alone; a store written without encryption is encrypted the same way; SQLite and PostgreSQL.
 */
import { mkdtempSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import { exercise, keyEntry, pgRows, quickstartFixture, runCli, sqliteBytes, sqliteRecords } from "../support/atRest.js"
import {
  bindingPath,
  type BrokerProcess,
  instancePath,
  kill9,
  SERVICE_ID,
  SMALL_PLAN_ID
} from "../support/brokerProcess.js"
import { freshDatabase, query } from "../support/pg.js"

const { script, start } = quickstartFixture()

const dir = mkdtempSync(join(tmpdir(), "osb-rekey-"))
const K1 = keyEntry("k1")
const K2 = keyEntry("k2")

const rekey = (store: string, keys?: string) =>
  runCli(script(), ["store", "rekey"], {
    BROKER_STORE: store,
    ...(keys === undefined ? {} : { BROKER_ENCRYPTION_KEYS: keys })
  })

/** The broker on the new key alone reads what the old key wrote, and recognises identical repeats. */
const expectServed = async (broker: BrokerProcess, sent: Awaited<ReturnType<typeof exercise>>) => {
  const { bindingId, credentials, instanceId } = sent.binding
  const read = await broker.call("GET", bindingPath(instanceId, bindingId))
  expect([read.status, read.body.credentials]).toEqual([200, credentials])
  for (const id of sent.instanceIds) expect((await broker.call("GET", instancePath(id))).status).toBe(200)
}

describe("effect-osb store rekey", () => {
  it("SQLite: k1 -> k2; the broker then runs on k2 alone; no record left under k1", async () => {
    const file = join(dir, "rotate.sqlite")
    const store = `sqlite:${file}`
    const before = await start("k1", store, { BROKER_ENCRYPTION_KEYS: K1 })
    const sent = await exercise(before, "r")
    await kill9(before)
    expect(sqliteRecords(file).every((r) => r.startsWith("enc1.k1."))).toBe(true)

    const result = await rekey(store, `${K2},${K1}`)
    expect(result.stderr).toBe("")
    expect(result.code).toBe(0)
    const rewritten = Number(/rekeyed (\d+) records under key k2 \(0 already were\)/.exec(result.stdout)?.[1])
    const records = sqliteRecords(file)
    expect(rewritten).toBe(records.length)
    expect(records.filter((r) => !r.startsWith("enc1.k2."))).toEqual([])
    expect(sqliteBytes(file)).not.toContain("enc1.k1.")

    const after = await start("k2", store, { BROKER_ENCRYPTION_KEYS: K2 })
    await expectServed(after, sent)
    // a second run finds nothing to do
    await kill9(after)
    const again = await rekey(store, K2)
    expect(again.stdout).toContain(`rekeyed 0 records under key k2 (${records.length} already were)`)
  }, 120_000)

  it("SQLite: a store written without encryption is encrypted the same way", async () => {
    const file = join(dir, "plain.sqlite")
    const store = `sqlite:${file}`
    const before = await start("plain", store, {})
    const sent = await exercise(before, "p")
    await kill9(before)
    expect(sent.secrets.filter((s) => sqliteBytes(file).includes(s)).length).toBeGreaterThan(0)

    const result = await rekey(store, K1)
    expect([result.code, result.stderr]).toEqual([0, ""])
    expect(sqliteRecords(file).filter((r) => !r.startsWith("enc1.k1."))).toEqual([])
    const bytes = sqliteBytes(file)
    expect(sent.secrets.filter((s) => bytes.includes(s))).toEqual([])

    const after = await start("encrypted", store, { BROKER_ENCRYPTION_KEYS: K1 })
    await expectServed(after, sent)
  }, 120_000)

  it("PostgreSQL: k1 -> k2 while nothing else changes; the broker then runs on k2 alone", async () => {
    const url = await freshDatabase()
    const before = await start("pg-k1", url, { BROKER_ENCRYPTION_KEYS: K1 })
    const sent = await exercise(before, "g")
    await kill9(before)

    const result = await rekey(url, `${K2},${K1}`)
    expect([result.code, result.stderr]).toEqual([0, ""])
    expect(result.stdout).toMatch(/rekeyed [1-9]\d* records under key k2/)
    const rows = await pgRows(url)
    expect(rows).not.toContain("enc1.k1.")
    const records = await query<{ record: string }>(
      url,
      "SELECT record FROM osb_instances WHERE record IS NOT NULL UNION ALL SELECT record FROM osb_bindings " +
        "WHERE record IS NOT NULL UNION ALL SELECT record FROM osb_operations"
    )
    expect(records.filter((r) => !r.record.startsWith("enc1.k2."))).toEqual([])

    const after = await start("pg-k2", url, { BROKER_ENCRYPTION_KEYS: K2 })
    await expectServed(after, sent)
    const repeat = await after.call("PUT", bindingPath("g-sync", "b-other"), {
      service_id: SERVICE_ID,
      plan_id: SMALL_PLAN_ID
    })
    expect(repeat.status).toBe(201)
  }, 120_000)

  it(
    "an unreadable record is named and left; exit 1. Without keys: one line naming BROKER_ENCRYPTION_KEYS, exit 2",
    async () => {
      const file = join(dir, "partial.sqlite")
      const store = `sqlite:${file}`
      const before = await start("partial", store, { BROKER_ENCRYPTION_KEYS: K1 })
      await exercise(before, "x")
      await kill9(before)
      // k1 is lost: only k2 is given, so nothing can be read
      const lost = await rekey(store, K2)
      expect(lost.code).toBe(1)
      expect(lost.stderr).toMatch(/binding "b-sync" of instance "x-sync"[^\n]*key id "k1"/)
      expect(lost.stdout).toMatch(/rekeyed 0 records under key k2 \(0 already were\); \d+ records could not be read/)
      expect(lost.stdout + lost.stderr).not.toContain(K1.slice(3))

      const none = await rekey(store)
      expect(none.code).toBe(2)
      const lines = none.stderr.trim().split("\n")
      expect(lines).toHaveLength(1)
      expect(lines[0]).toContain("BROKER_ENCRYPTION_KEYS")
      expect((await rekey(join(dir, "missing.sqlite"), K1)).code).toBe(2)
    },
    120_000
  )
})
