/**
 * Encryption at rest (issue 13 items 1-3), against spawned quick starts on real SQLite files and a real PostgreSQL
 * database:
 * - with BROKER_ENCRYPTION_KEYS set, no marker a platform sent (parameters of provision, update and bind, sync and
 *   async; context; bind resource) and no credential the broker answered appears in the store: SQLite's file bytes
 *   (database, WAL, SHM) and every column of every PostgreSQL table;
 * - user JSON shaped like ciphertext is data: copying a stored ciphertext into parameters reveals nothing, a value
 *   naming an unknown key poisons nothing;
 * - a record that cannot be read (a ciphertext copied onto another record) hurts only itself, takeover included;
 * - restarted without keys, a store holding encrypted records refuses to start with one line naming
 *   BROKER_ENCRYPTION_KEYS.
 */
import { mkdtempSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import {
  exercise,
  keyEntry,
  onSqlite,
  pgRows,
  quickstartFixture,
  runNode,
  sqliteBytes,
  sqliteRecords
} from "../support/atRest.js"
import {
  AI,
  bindingPath,
  freePort,
  instancePath,
  kill9,
  LARGE_PLAN_ID,
  lastOperationPath,
  PASSWORD,
  pollUntil,
  SERVICE_ID,
  settle,
  SMALL_PLAN_ID,
  USERNAME
} from "../support/brokerProcess.js"
import { freshDatabase } from "../support/pg.js"

const { script, start } = quickstartFixture()

const dir = mkdtempSync(join(tmpdir(), "osb-at-rest-"))
const K1 = keyEntry("k1")

/** The quick start's environment without BROKER_ENCRYPTION_KEYS. */
const plainEnv = async (store: string) => ({
  PORT: String(await freePort()),
  HOST: "127.0.0.1",
  BROKER_USERNAME: USERNAME,
  BROKER_PASSWORD: PASSWORD,
  BROKER_STORE: store
})

const small = (parameters: unknown) => ({
  service_id: SERVICE_ID,
  plan_id: SMALL_PLAN_ID,
  organization_guid: "org-1",
  space_guid: "space-1",
  parameters
})

describe("item 1: nothing a platform sent or the broker answered is readable in the store", () => {
  it("SQLite: no marker in the database, WAL or SHM bytes (all tables, sync and async paths)", async () => {
    const file = join(dir, "markers.sqlite")
    const broker = await start("markers-sqlite", `sqlite:${file}`, { BROKER_ENCRYPTION_KEYS: K1 })
    const sent = await exercise(broker, "m")
    const bytes = sqliteBytes(file)
    expect(sent.secrets.filter((secret) => bytes.includes(secret))).toEqual([])
    // positive controls: the store holds these rows, ids in clear, payloads sealed
    for (const id of sent.instanceIds) expect(bytes).toContain(id)
    expect(bytes).toContain("enc1.k1.")
    // and the broker reads everything back
    const bound = await broker.call("GET", bindingPath(sent.binding.instanceId, sent.binding.bindingId))
    expect(bound.body.credentials).toEqual(sent.binding.credentials)
  }, 60_000)

  it("PostgreSQL: no marker in any column of any table (all tables, sync and async paths)", async () => {
    const url = await freshDatabase()
    const broker = await start("markers-pg", url, { BROKER_ENCRYPTION_KEYS: K1 })
    const sent = await exercise(broker, "m")
    const rows = await pgRows(url)
    expect(sent.secrets.filter((secret) => rows.includes(secret))).toEqual([])
    for (const id of sent.instanceIds) expect(rows).toContain(id)
    expect(rows).toContain("enc1.k1.")
  }, 60_000)

  it("every payload is one envelope: no JSON left in any record column", async () => {
    const file = join(dir, "envelopes.sqlite")
    const broker = await start("envelopes", `sqlite:${file}`, { BROKER_ENCRYPTION_KEYS: K1 })
    await exercise(broker, "e")
    await kill9(broker)
    const records = sqliteRecords(file)
    expect(records.length).toBeGreaterThan(6)
    expect(records.filter((r) => !r.startsWith("enc1.k1."))).toEqual([])
  }, 60_000)
})

describe("item 2: user JSON shaped like ciphertext is data, never decrypted", () => {
  it("a stored ciphertext copied into parameters reveals nothing; an unknown key id poisons nothing", async () => {
    const file = join(dir, "injection.sqlite")
    const broker = await start("injection", `sqlite:${file}`, { BROKER_ENCRYPTION_KEYS: K1 })
    expect((await broker.call("PUT", instancePath("victim"), small({}))).status).toBe(201)
    const bound = await broker.call("PUT", bindingPath("victim", "b"), small(undefined))
    expect(bound.status).toBe(201)
    const password = (bound.body.credentials as { password: string }).password
    // the attacker reads the victim binding's stored ciphertext (whatever its shape) from the database
    const stored = onSqlite(
      file,
      (db) => (db.prepare("SELECT record FROM osb_bindings WHERE binding_id = 'b'").get() as { record: string }).record
    )
    const ciphertext = stored.startsWith("{")
      ? (JSON.parse(stored) as { response: { credentials: { $encrypted: string } } }).response.credentials.$encrypted
      : stored
    const copied = { $encrypted: ciphertext }
    expect((await broker.call("PUT", instancePath("thief"), small(copied))).status).toBe(201)
    const read = await broker.call("GET", instancePath("thief"))
    expect(read.status).toBe(200)
    expect(read.body.parameters).toEqual(copied)
    expect(read.text).not.toContain(password)

    // a value naming an unknown key: the instance keeps working on every endpoint, sync and async
    const unknownKey = { $encrypted: "v1.nokey.a.b.c" }
    expect((await broker.call("PUT", instancePath("nokey"), small(unknownKey))).status).toBe(201)
    const got = await broker.call("GET", instancePath("nokey"))
    expect([got.status, got.body.parameters]).toEqual([200, unknownKey])
    expect((await broker.call("PUT", bindingPath("nokey", "b"), small(unknownKey))).status).toBe(201)
    expect((await broker.call("GET", bindingPath("nokey", "b"))).status).toBe(200)
    const q = `service_id=${SERVICE_ID}&plan_id=${SMALL_PLAN_ID}`
    expect((await broker.call("DELETE", bindingPath("nokey", "b", q))).status).toBe(200)
    expect((await broker.call("DELETE", instancePath("nokey", q))).status).toBe(200)
    const asyncProvision = await broker.call("PUT", instancePath("nokey-async", AI), {
      ...small(unknownKey),
      plan_id: LARGE_PLAN_ID
    })
    expect(asyncProvision.status).toBe(202)
    const settled = await settle(broker, lastOperationPath("nokey-async", asyncProvision.body.operation), 20_000)
    expect(settled.reply.body.state).toBe("succeeded")
  }, 60_000)
})

describe("item 3: a record that cannot be read hurts only itself", () => {
  it(
    "a binding and an operation with copied ciphertexts: 500 naming them and the key id; the rest works, takeover included",
    async () => {
      const file = join(dir, "poisoned.sqlite")
      const env = { BROKER_ENCRYPTION_KEYS: K1 }
      // a long delay: the asynchronous provisions are still running when the broker is killed
      const first = await start("poison-1", `sqlite:${file}`, env, 60_000)
      expect((await first.call("PUT", instancePath("a"), small({}))).status).toBe(201)
      expect((await first.call("PUT", bindingPath("a", "b1"), small(undefined))).status).toBe(201)
      const b2 = await first.call("PUT", bindingPath("a", "b2"), small(undefined))
      expect(b2.status).toBe(201)
      const operations: Record<string, string> = {}
      // p0's parameters name an unknown key (before: it stopped every takeover round); p1 gets poisoned below
      for (const [id, parameters] of [["p0", { $encrypted: "v1.nokey.a.b.c" }], ["p1", {}], ["p2", {}], ["p3", {}]]) {
        const reply = await first.call("PUT", instancePath(id as string, AI), {
          ...small(parameters),
          plan_id: LARGE_PLAN_ID
        })
        expect(reply.status, reply.text).toBe(202)
        operations[id as string] = reply.body.operation
      }
      await kill9(first)

      // an attacker (or a bad restore) copies ciphertexts onto other records
      onSqlite(file, (db) => {
        db.prepare(
          "UPDATE osb_bindings SET record = (SELECT record FROM osb_bindings WHERE binding_id = 'b2') WHERE binding_id = 'b1'"
        ).run()
        db.prepare(
          "UPDATE osb_operations SET record = (SELECT record FROM osb_operations WHERE instance_id = 'p2') " +
            "WHERE instance_id = 'p1'"
        ).run()
      })

      const second = await start("poison-2", `sqlite:${file}`, env, 100)
      // the poisoned binding: 500, and a log line naming it and the key id (never the key)
      const b1 = await second.call("GET", bindingPath("a", "b1"))
      expect(b1.status).toBe(500)
      expect(b1.text).not.toContain("MARK")
      const named = /binding \\?"b1\\?" of instance \\?"a\\?"[^\n]*key id \\?"k1\\?"/
      await pollUntil(
        "the log line of the unreadable binding",
        async () => second.output(),
        (o) => named.test(o),
        5_000
      )
      expect(second.output()).not.toContain(K1.slice(3))
      // its neighbours work
      const read2 = await second.call("GET", bindingPath("a", "b2"))
      expect([read2.status, read2.body.credentials]).toEqual([200, b2.body.credentials])
      expect((await second.call("GET", instancePath("a"))).status).toBe(200)
      const q = `service_id=${SERVICE_ID}&plan_id=${SMALL_PLAN_ID}`
      expect((await second.call("DELETE", bindingPath("a", "b2", q))).status).toBe(200)
      expect((await second.call("PUT", bindingPath("a", "b3"), small(undefined))).status).toBe(201)
      expect((await second.call("PUT", instancePath("fresh"), small({}))).status).toBe(201)
      // takeover: every healthy operation is taken over and finishes, although p1's cannot be read
      for (const id of ["p0", "p2", "p3"]) {
        const settled = await settle(second, lastOperationPath(id, operations[id]!), 30_000)
        expect([id, settled.reply.status, settled.reply.body.state]).toEqual([id, 200, "succeeded"])
      }
      expect((await second.call("GET", lastOperationPath("p1", operations["p1"]!))).status).toBe(500)
      expect(second.output()).toMatch(/operation [^\n]*of instance \\?"p1\\?"[^\n]*does not authenticate/)
    },
    120_000
  )
})

describe("item 3: restarted without keys, a store holding encrypted records refuses to start", () => {
  it("SQLite: one line naming BROKER_ENCRYPTION_KEYS, exit code 1, never listening", async () => {
    const file = join(dir, "nokeys.sqlite")
    const broker = await start("with-keys", `sqlite:${file}`, { BROKER_ENCRYPTION_KEYS: K1 })
    expect((await broker.call("PUT", instancePath("i"), small({ secret: "x" }))).status).toBe(201)
    expect((await broker.call("PUT", bindingPath("i", "b"), small(undefined))).status).toBe(201)
    await kill9(broker)
    const result = await runNode(script(), [], await plainEnv(`sqlite:${file}`), 20_000)
    expect(result.code).toBe(1)
    expect(result.stdout + result.stderr).not.toContain("Listening on")
    const lines = result.stderr.trim().split("\n")
    expect(lines).toHaveLength(1)
    expect(lines[0]).toContain("BROKER_ENCRYPTION_KEYS")
  }, 60_000)

  it("PostgreSQL: the same refusal", async () => {
    const url = await freshDatabase()
    const broker = await start("with-keys-pg", url, { BROKER_ENCRYPTION_KEYS: K1 })
    expect((await broker.call("PUT", instancePath("i"), small({ secret: "x" }))).status).toBe(201)
    await kill9(broker)
    const result = await runNode(script(), [], await plainEnv(url), 20_000)
    expect(result.code).toBe(1)
    const lines = result.stderr.trim().split("\n")
    expect(lines).toHaveLength(1)
    expect(lines[0]).toContain("BROKER_ENCRYPTION_KEYS")
  }, 60_000)
})
