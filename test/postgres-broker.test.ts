/**
 * The PostgreSQL broker of examples/postgres-broker against the real test cluster (EFFECT_OSB_TEST_PG_URL): every
 * test makes its databases and roles on the cluster and targets a fresh database, so runs never collide.
 * In process through the router (test/support/http.ts), plus one spawned `main.js` checked by `Checker.run`.
 */
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import * as HttpRouter from "@effect/platform/HttpRouter"
import * as PgClient from "@effect/sql-pg/PgClient"
import { ConfigProvider, Effect, Layer, Logger, LogLevel } from "effect"
import { type ChildProcess, execFileSync, spawn } from "node:child_process"
import { randomBytes, randomUUID } from "node:crypto"
import { mkdtempSync, readFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import pg from "pg"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import * as PostgresBroker from "../examples/postgres-broker/broker.js"
import { bindingRoleName, instanceNames, scramMatches } from "../examples/postgres-broker/sql.js"
import { BrokerStore, Checker, OsbClient, SqlStore } from "../src/index.js"
import { builtFile } from "./support/build.js"
import type { Client, Reply } from "./support/http.js"
import { clientFor } from "./support/http.js"
import { freePort } from "./support/net.js"
import { adminUrl, freshDatabase, query } from "./support/pg.js"

const { LARGE_PLAN_ID, SERVICE_ID, SMALL_PLAN_ID } = PostgresBroker

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))

/** The Target of a URL, read the way the broker reads TARGET_DATABASE_URL. */
const targetOf = (url: string): PostgresBroker.Target =>
  Effect.runSync(
    Effect.withConfigProvider(
      PostgresBroker.targetConfig,
      ConfigProvider.fromMap(new Map([["TARGET_DATABASE_URL", url]]))
    )
  )

const opened: Array<Client> = []

/** Warnings and errors only: the broker logs a line per database made or dropped. */
const quiet = Logger.minimumLogLevel(LogLevel.Warning)

/**
 * The broker in process on a fresh target database (as `url`'s user) and a memory store. `maxParamLength` raises
 * the HTTP router's limit on a path segment (find-my-way's default: 100 characters).
 */
const broker = async (options: { readonly targetUrl?: string; readonly maxParamLength?: number } = {}) => {
  const targetUrl = options.targetUrl ?? (await freshDatabase())
  const layer = PostgresBroker.layerWith(targetOf(targetUrl), BrokerStore.layerMemory).pipe(
    Layer.provide(quiet),
    Layer.merge(
      options.maxParamLength === undefined
        ? Layer.empty
        : HttpRouter.setRouterConfig({ maxParamLength: options.maxParamLength })
    )
  )
  const client = clientFor(layer, PostgresBroker.routerOptions)
  opened.push(client)
  return { client, targetUrl }
}

afterAll(async () => {
  await Promise.all(opened.splice(0).map((c) => c.dispose()))
})

const instancePath = (id: string) => `/v2/service_instances/${encodeURIComponent(id)}`
const bindingPath = (id: string, bindingId: string) =>
  `${instancePath(id)}/service_bindings/${encodeURIComponent(bindingId)}`
const ids = (planId: string) => `service_id=${SERVICE_ID}&plan_id=${planId}`

const provisionBody = (planId: string, parameters?: Record<string, unknown>) => ({
  service_id: SERVICE_ID,
  plan_id: planId,
  organization_guid: "org-1",
  space_guid: "space-1",
  ...(parameters === undefined ? {} : { parameters })
})

const bindBody = (planId: string, parameters?: Record<string, unknown>) => ({
  service_id: SERVICE_ID,
  plan_id: planId,
  ...(parameters === undefined ? {} : { parameters })
})

/** Polls a last_operation path until the state is no longer `in progress`; returns the final reply. */
const poll = async (client: Client, path: string, operation: string, timeoutMs = 60_000): Promise<Reply> => {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const reply = await client.call("GET", `${path}?operation=${encodeURIComponent(operation)}`)
    if (reply.status !== 200 || reply.body?.state !== "in progress") return reply
    if (Date.now() > deadline) throw new Error(`${path}: still in progress after ${timeoutMs} ms`)
    await sleep(100)
  }
}

interface Credentials {
  readonly uri: string
  readonly host: string
  readonly port: number
  readonly database: string
  readonly username: string
  readonly password: string
}

const connect = async (credentials: Credentials): Promise<pg.Client> => {
  const client = new pg.Client({ connectionString: credentials.uri })
  client.on("error", () => {})
  await client.connect()
  return client
}

const withConnection = async <A>(credentials: Credentials, f: (client: pg.Client) => Promise<A>): Promise<A> => {
  const client = await connect(credentials)
  try {
    return await f(client)
  } finally {
    await client.end().catch(() => {})
  }
}

/** What the cluster knows about an instance's database and roles. */
const server = {
  database: async (instanceId: string) =>
    (await query<{ datname: string; datconnlimit: number; owner: string; acl: string | null; collate: string }>(
      adminUrl(),
      `SELECT datname, datconnlimit, pg_get_userbyid(datdba) AS owner, datacl::text AS acl, datcollate AS collate
         FROM pg_database WHERE datname = $1`,
      [instanceNames(instanceId).database]
    ))[0],
  role: async (name: string) =>
    (await query<{ rolname: string; rolcanlogin: boolean; rolpassword: string | null }>(
      adminUrl(),
      "SELECT rolname, rolcanlogin, rolpassword FROM pg_authid WHERE rolname = $1",
      [name]
    ))[0],
  extensions: async (instanceId: string) => {
    const url = new URL(adminUrl())
    url.pathname = `/${instanceNames(instanceId).database}`
    return (await query<{ extname: string }>(url.toString(), "SELECT extname FROM pg_extension ORDER BY extname"))
      .map((r) => r.extname)
  },
  /** Every database and role the broker could have made. */
  objects: async () =>
    (await query<{ name: string }>(
      adminUrl(),
      `SELECT datname AS name FROM pg_database WHERE datname LIKE 'osb\\_db\\_%'
       UNION ALL SELECT rolname FROM pg_roles WHERE rolname ~ '^osb_(owner|bind)_'`
    )).map((r) => r.name).sort()
}

/** Every row of every table of a store database, as text. */
const storeText = async (url: string): Promise<string> => {
  const tables = await query<{ table_name: string }>(
    url,
    "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'"
  )
  const rows = await Promise.all(
    tables.map((t) => query<{ row: string }>(url, `SELECT t::text AS row FROM "${t.table_name}" t`))
  )
  return rows.flat().map((r) => r.row).join("\n")
}

/** The binding's password is the one the server checks: its stored SCRAM verifier matches it, and only it. */
const expectPasswordIsChecked = async (credentials: Credentials) => {
  const role = await server.role(credentials.username)
  expect(role?.rolcanlogin).toBe(true)
  expect(role?.rolpassword).toMatch(/^SCRAM-SHA-256\$4096:/)
  expect(scramMatches(role!.rolpassword!, credentials.password)).toBe(true)
  expect(scramMatches(role!.rolpassword!, `${credentials.password}x`)).toBe(false)
}

const expectRefused = async (credentials: Credentials) => {
  await expect(connect(credentials)).rejects.toThrow(/role .* does not exist|password authentication failed/)
}

const expectGone = async (instanceId: string, roles: ReadonlyArray<string>) => {
  const { owner } = instanceNames(instanceId)
  expect(await server.database(instanceId)).toBeUndefined()
  expect(await server.role(owner)).toBeUndefined()
  for (const role of roles) expect(await server.role(role)).toBeUndefined()
}

/** Binds and checks the answer's shape; returns the credentials. */
const bindOk = async (client: Client, instanceId: string, bindingId: string, planId: string, port: number) => {
  const bound = await client.call("PUT", bindingPath(instanceId, bindingId), { body: bindBody(planId) })
  expect(bound.status, bound.text).toBe(201)
  const credentials = bound.body.credentials as Credentials
  const { database } = instanceNames(instanceId)
  expect(credentials).toEqual({
    uri: `postgresql://${credentials.username}:${credentials.password}@127.0.0.1:${port}/${database}`,
    host: "127.0.0.1",
    port,
    database,
    username: bindingRoleName(instanceId, bindingId),
    password: expect.stringMatching(/^[A-Za-z0-9_-]{32}$/)
  })
  expect(bound.body.endpoints).toEqual([{ host: "127.0.0.1", ports: [String(port)], protocol: "tcp" }])
  await expectPasswordIsChecked(credentials)
  return credentials
}

const clusterPort = () => Number(new URL(adminUrl()).port || "5432")

describe("the PostgreSQL broker, plan small (synchronous)", () => {
  it("provision, bind, use, second binding, unbind refuses the old credentials, deprovision removes all", async () => {
    const { client } = await broker()
    const instanceId = randomUUID()
    const port = clusterPort()

    const created = await client.call("PUT", instancePath(instanceId), {
      body: provisionBody(SMALL_PLAN_ID, { extensions: ["hstore"], connection_limit: 10 })
    })
    expect(created.status, created.text).toBe(201)
    const { database, owner } = instanceNames(instanceId)
    expect(created.body).toEqual({ metadata: { attributes: { database } } })
    const db = await server.database(instanceId)
    expect(db).toMatchObject({ datname: database, datconnlimit: 10, owner })
    // closed to PUBLIC: the ACL names only the owner (no "=c/" entry for PUBLIC)
    expect(db?.acl).not.toMatch(/(^|[{,])=/)
    expect(await server.extensions(instanceId)).toContain("hstore")
    expect(await server.role(owner)).toMatchObject({ rolcanlogin: false })

    // an identical repeat is 200, fetch shows the parameters
    const again = await client.call("PUT", instancePath(instanceId), {
      body: provisionBody(SMALL_PLAN_ID, { extensions: ["hstore"], connection_limit: 10 })
    })
    expect(again.status).toBe(200)
    const fetched = await client.call("GET", instancePath(instanceId))
    expect(fetched.body).toMatchObject({ parameters: { extensions: ["hstore"], connection_limit: 10 } })

    // first binding: connect, create and read a table
    const first = await bindOk(client, instanceId, "binding-1", SMALL_PLAN_ID, port)
    await withConnection(first, async (c) => {
      const who = await c.query("SELECT session_user AS session, current_user AS acting, current_database() AS db")
      expect(who.rows[0]).toEqual({ session: first.username, acting: owner, db: database })
      await c.query("CREATE TABLE notes (id serial PRIMARY KEY, body text NOT NULL, tags hstore)")
      await c.query("INSERT INTO notes (body, tags) VALUES ($1, 'kind => first')", ["hello from binding 1"])
      const rows = await c.query("SELECT body, tags -> 'kind' AS kind FROM notes")
      expect(rows.rows).toEqual([{ body: "hello from binding 1", kind: "first" }])
    })
    const owned = await query<{ owner: string }>(
      `${adminUrl().replace(/\/[^/]*$/, "")}/${database}`,
      "SELECT tableowner AS owner FROM pg_tables WHERE tablename = 'notes'"
    )
    expect(owned).toEqual([{ owner }])

    // second binding: its own role and password, the same data
    const second = await bindOk(client, instanceId, "binding-2", SMALL_PLAN_ID, port)
    expect(second.username).not.toBe(first.username)
    expect(second.password).not.toBe(first.password)
    await withConnection(second, async (c) => {
      await c.query("INSERT INTO notes (body) VALUES ($1)", ["hello from binding 2"])
      expect((await c.query("SELECT count(*)::int AS n FROM notes")).rows).toEqual([{ n: 2 }])
    })

    // bindings are retrievable, with their credentials; an identical repeat gives the same credentials
    const got = await client.call("GET", bindingPath(instanceId, "binding-1"))
    expect(got.status).toBe(200)
    expect(got.body.credentials).toEqual(first)
    const rebound = await client.call("PUT", bindingPath(instanceId, "binding-1"), { body: bindBody(SMALL_PLAN_ID) })
    expect(rebound.status).toBe(200)
    expect(rebound.body.credentials).toEqual(first)

    // a binding may also act as itself (SET ROLE NONE): what it makes so is handed to the owner on unbind
    await withConnection(first, async (c) => {
      await c.query("SET ROLE NONE")
      await c.query("CREATE TABLE made_by_binding_1 (x int)")
    })

    // unbind the first while one of its sessions is open: the session ends, its credentials are refused
    const session = await connect(first)
    const unbound = await client.call("DELETE", `${bindingPath(instanceId, "binding-1")}?${ids(SMALL_PLAN_ID)}`)
    expect(unbound.status, unbound.text).toBe(200)
    expect(unbound.body).toEqual({})
    await expect(session.query("SELECT 1")).rejects.toThrow()
    await session.end().catch(() => {})
    await expectRefused(first)
    expect(await server.role(first.username)).toBeUndefined()
    expect((await client.call("GET", bindingPath(instanceId, "binding-1"))).status).toBe(404)

    // the second binding is untouched, and so is the data the first one made
    await withConnection(second, async (c) => {
      expect((await c.query("SELECT body FROM notes ORDER BY id")).rows).toEqual([
        { body: "hello from binding 1" },
        { body: "hello from binding 2" }
      ])
      const made = await c.query("SELECT tableowner AS owner FROM pg_tables WHERE tablename = 'made_by_binding_1'")
      expect(made.rows).toEqual([{ owner }])
    })

    // deprovision (the second binding still there goes with the instance), while it has a session open
    const lingering = await connect(second)
    const deleted = await client.call("DELETE", `${instancePath(instanceId)}?${ids(SMALL_PLAN_ID)}`)
    expect(deleted.status, deleted.text).toBe(200)
    await expect(lingering.query("SELECT 1")).rejects.toThrow()
    await lingering.end().catch(() => {})
    await expectGone(instanceId, [first.username, second.username])
    await expectRefused(second)
    expect((await client.call("DELETE", `${instancePath(instanceId)}?${ids(SMALL_PLAN_ID)}`)).status).toBe(410)
  })

  it("update: connection limit, added extensions and a plan change, each bounded by its plan", async () => {
    const { client } = await broker()
    const instanceId = randomUUID()
    const path = instancePath(instanceId)
    expect((await client.call("PUT", path, { body: provisionBody(SMALL_PLAN_ID) })).status).toBe(201)
    expect(await server.database(instanceId)).toMatchObject({ datconnlimit: 5 })

    const tooMany = await client.call("PATCH", path, {
      body: { service_id: SERVICE_ID, parameters: { connection_limit: 21 } }
    })
    expect(tooMany.status).toBe(400)
    expect(tooMany.body.description).toBe("parameters.connection_limit: must be at most 20 on plan small")

    const more = await client.call("PATCH", path, {
      body: { service_id: SERVICE_ID, parameters: { connection_limit: 20, extensions: ["citext", "pg_trgm"] } }
    })
    expect(more.status, more.text).toBe(200)
    expect(await server.database(instanceId)).toMatchObject({ datconnlimit: 20 })
    expect(await server.extensions(instanceId)).toEqual(expect.arrayContaining(["citext", "pg_trgm"]))

    const removing = await client.call("PATCH", path, {
      body: { service_id: SERVICE_ID, parameters: { extensions: ["citext"] } }
    })
    expect(removing.status).toBe(400)
    expect(removing.body.description).toMatch(/^parameters\.extensions: extensions cannot be removed \(pg_trgm/)

    // to plan large: asynchronous there
    const toLarge = { service_id: SERVICE_ID, plan_id: LARGE_PLAN_ID, parameters: { connection_limit: 80 } }
    const sync = await client.call("PATCH", path, { body: toLarge })
    expect(sync.status).toBe(422)
    expect(sync.body.error).toBe("AsyncRequired")
    const accepted = await client.call("PATCH", `${path}?accepts_incomplete=true`, { body: toLarge })
    expect(accepted.status, accepted.text).toBe(202)
    const done = await poll(client, `${path}/last_operation`, accepted.body.operation)
    expect(done.body).toEqual({ state: "succeeded" })
    expect(await server.database(instanceId)).toMatchObject({ datconnlimit: 80 })
    expect((await client.call("GET", path)).body).toMatchObject({
      plan_id: LARGE_PLAN_ID,
      parameters: { connection_limit: 80, extensions: ["citext", "pg_trgm"] }
    })

    // back to small: 80 connections do not fit there
    const back = await client.call("PATCH", path, { body: { service_id: SERVICE_ID, plan_id: SMALL_PLAN_ID } })
    expect(back.status).toBe(400)
    expect(back.body.description).toBe("parameters.connection_limit: must be at most 20 on plan small")
    const backFitting = await client.call("PATCH", path, {
      body: { service_id: SERVICE_ID, plan_id: SMALL_PLAN_ID, parameters: { connection_limit: 12 } }
    })
    expect(backFitting.status, backFitting.text).toBe(200)
    expect(await server.database(instanceId)).toMatchObject({ datconnlimit: 12 })

    expect((await client.call("DELETE", `${path}?${ids(SMALL_PLAN_ID)}`)).status).toBe(200)
    await expectGone(instanceId, [])
  })

  it("a failed synchronous provision answers 500 and leaves nothing behind, on the server either", async () => {
    const { client } = await broker()
    const instanceId = randomUUID()
    const { database, owner } = instanceNames(instanceId)
    // make CREATE EXTENSION hstore fail: a table named hstore already has that type name
    await query(adminUrl(), `CREATE ROLE ${owner} NOLOGIN`)
    await query(adminUrl(), `CREATE DATABASE ${database} OWNER ${owner}`)
    await query(`${adminUrl().replace(/\/[^/]*$/, "")}/${database}`, "CREATE TABLE hstore (x int)")
    const failed = await client.call("PUT", instancePath(instanceId), {
      body: provisionBody(SMALL_PLAN_ID, { extensions: ["hstore"] })
    })
    expect(failed.status).toBe(500)
    expect(failed.body).toEqual({
      description: "Provisioning the database failed (PostgreSQL error 42710); see the broker's log."
    })
    await expectGone(instanceId, [])
    expect((await client.call("GET", instancePath(instanceId))).status).toBe(404)
    // and the same request now succeeds
    const created = await client.call("PUT", instancePath(instanceId), {
      body: provisionBody(SMALL_PLAN_ID, { extensions: ["hstore"] })
    })
    expect(created.status, created.text).toBe(201)
    expect((await client.call("DELETE", `${instancePath(instanceId)}?${ids(SMALL_PLAN_ID)}`)).status).toBe(200)
    await expectGone(instanceId, [])
  })
})

describe("the PostgreSQL broker, plan large (asynchronous)", () => {
  it("provision and deprovision through last_operation polling, with bindings in between", async () => {
    const { client } = await broker()
    const instanceId = randomUUID()
    const path = instancePath(instanceId)
    const port = clusterPort()
    const body = provisionBody(LARGE_PLAN_ID, { extensions: ["pgcrypto", "citext"] })

    const sync = await client.call("PUT", path, { body })
    expect(sync.status).toBe(422)
    expect(sync.body.error).toBe("AsyncRequired")
    const accepted = await client.call("PUT", `${path}?accepts_incomplete=true`, { body })
    expect(accepted.status, accepted.text).toBe(202)
    expect(accepted.body.operation).toMatch(/^provision-/)
    const done = await poll(client, `${path}/last_operation`, accepted.body.operation)
    expect(done.body).toEqual({ state: "succeeded" })
    // the dedicated layout: from template0, UTF-8, C collation, with the extensions
    expect(await server.database(instanceId)).toMatchObject({ datconnlimit: 25, collate: "C" })
    expect(await server.extensions(instanceId)).toEqual(expect.arrayContaining(["citext", "pgcrypto"]))

    const first = await bindOk(client, instanceId, "b-1", LARGE_PLAN_ID, port)
    await withConnection(first, async (c) => {
      await c.query("CREATE TABLE users (id uuid PRIMARY KEY DEFAULT gen_random_uuid(), email citext UNIQUE)")
      await c.query("INSERT INTO users (email) VALUES ('Ada@Example.com')")
      const rows = await c.query("SELECT email FROM users WHERE email = 'ada@example.com'")
      expect(rows.rows).toEqual([{ email: "Ada@Example.com" }])
    })
    const second = await bindOk(client, instanceId, "b-2", LARGE_PLAN_ID, port)
    await withConnection(second, async (c) => {
      expect((await c.query("SELECT count(*)::int AS n FROM users")).rows).toEqual([{ n: 1 }])
    })

    expect((await client.call("DELETE", `${bindingPath(instanceId, "b-1")}?${ids(LARGE_PLAN_ID)}`)).status).toBe(200)
    await expectRefused(first)
    await withConnection(second, async (c) => {
      expect((await c.query("SELECT count(*)::int AS n FROM users")).rows).toEqual([{ n: 1 }])
    })
    expect((await client.call("DELETE", `${bindingPath(instanceId, "b-2")}?${ids(LARGE_PLAN_ID)}`)).status).toBe(200)
    await expectRefused(second)

    const deleting = await client.call("DELETE", `${path}?accepts_incomplete=true&${ids(LARGE_PLAN_ID)}`)
    expect(deleting.status, deleting.text).toBe(202)
    expect(deleting.body.operation).toMatch(/^deprovision-/)
    // polled until the instance is gone: 410 {}
    const gone = await poll(client, `${path}/last_operation`, deleting.body.operation)
    expect([gone.status, gone.body]).toEqual([410, {}])
    await expectGone(instanceId, [first.username, second.username])
  })
})

describe("hostile input", () => {
  // a random tail keeps runs on a shared cluster apart
  const tail = randomBytes(4).toString("hex")
  const hostileIds = [
    `x'; DROP DATABASE postgres; --${tail}`,
    `"osb_db"; DROP ROLE postgres; --${tail}`,
    `ü\\'";$$ $tag$ \\\\ ${tail}`,
    `${"a".repeat(3000)}${tail}`
  ]

  it("ids with quotes, semicolons and thousands of characters name nothing in SQL", async () => {
    const { client } = await broker({ maxParamLength: 10_000 })
    const port = clusterPort()
    for (const [n, instanceId] of hostileIds.entries()) {
      const bindingId = `${hostileIds[(n + 1) % hostileIds.length]}-${n}`
      const provisioned = await client.call("PUT", instancePath(instanceId), { body: provisionBody(SMALL_PLAN_ID) })
      expect(provisioned.status, provisioned.text).toBe(201)
      const { database } = instanceNames(instanceId)
      expect(database).toMatch(/^osb_db_[0-9a-f]{40}$/)
      const credentials = await bindOk(client, instanceId, bindingId, SMALL_PLAN_ID, port)
      expect(credentials.username).toMatch(/^osb_bind_[0-9a-f]{40}$/)
      await withConnection(credentials, async (c) => {
        expect((await c.query("SELECT current_database() AS db")).rows).toEqual([{ db: database }])
      })
      expect((await client.call("DELETE", `${bindingPath(instanceId, bindingId)}?${ids(SMALL_PLAN_ID)}`)).status)
        .toBe(200)
      expect((await client.call("DELETE", `${instancePath(instanceId)}?${ids(SMALL_PLAN_ID)}`)).status).toBe(200)
      await expectGone(instanceId, [credentials.username])
    }
    // names stay short whatever the id
    expect(instanceNames("x".repeat(1_000_000)).owner).toHaveLength("osb_owner_".length + 40)
    expect(bindingRoleName("x".repeat(1_000_000), "y".repeat(1_000_000))).toHaveLength("osb_bind_".length + 40)
    // the cluster is intact
    expect(await query(adminUrl(), "SELECT 1 FROM pg_database WHERE datname = 'postgres'")).toHaveLength(1)
    expect(await query(adminUrl(), "SELECT 1 FROM pg_roles WHERE rolname = 'postgres'")).toHaveLength(1)
  })

  it("with the router's default limits, a hostile id of 145 characters is served safely; over 10,000 is refused", async () => {
    const { client } = await broker()
    const before = await server.objects()
    const long = `${"'; DROP DATABASE postgres; --".repeat(5)}`
    const reply = await client.call("PUT", instancePath(long), { body: provisionBody(SMALL_PLAN_ID) })
    expect(reply.status).toBe(201)
    expect(await server.database(long)).toBeDefined()
    expect((await client.call("DELETE", `${instancePath(long)}?${ids(SMALL_PLAN_ID)}`)).status).toBe(200)
    expect(await server.objects()).toEqual(before)
    const tooLong = "x".repeat(10_001)
    const refused = await client.call("PUT", instancePath(tooLong), { body: provisionBody(SMALL_PLAN_ID) })
    expect(refused.status).toBeGreaterThanOrEqual(400)
    expect(refused.status).toBeLessThan(500)
    expect(await server.objects()).toEqual(before)
  })

  it("invalid parameters are refused with 400 naming the field, before anything is made", async () => {
    const { client } = await broker()
    const before = await server.objects()
    const instanceId = randomUUID()
    const cases: ReadonlyArray<readonly [Record<string, unknown>, string | RegExp]> = [
      [{ extensions: ["hstore; DROP DATABASE postgres"] }, /^parameters\.extensions\[0\]: "hstore; DROP DATABASE/],
      [{ extensions: ["hstore", "\"; DROP ROLE postgres; --"] }, /^parameters\.extensions\[1\]: /],
      [{ extensions: ["plpython3u"] }, /^parameters\.extensions\[0\]: "plpython3u" is not an allowed extension/],
      [{ extensions: ["hstore", "hstore"] }, "parameters.extensions[1]: \"hstore\" is listed twice"],
      [{ extensions: "hstore" }, "parameters.extensions: must be an array of extension names"],
      [{ extensions: ["x".repeat(200_000)] }, /^parameters\.extensions\[0\]: "x{39}\.\.\. is not an allowed/],
      [{ connection_limit: "5; DROP DATABASE postgres" }, "parameters.connection_limit: must be an integer"],
      [{ connection_limit: 2.5 }, "parameters.connection_limit: must be an integer"],
      [{ connection_limit: 0 }, "parameters.connection_limit: must be at least 1"],
      [{ connection_limit: 21 }, "parameters.connection_limit: must be at most 20 on plan small"],
      [{ connection_limit: 1e300 }, "parameters.connection_limit: must be an integer"],
      [{ "owner'; DROP ROLE postgres; --": true }, /^parameters\["owner'; DROP ROLE postgres; --"\]: unknown/],
      [{ ["k".repeat(5000)]: 1 }, /^parameters\["k{40}"\]: unknown parameter/]
    ]
    for (const [parameters, description] of cases) {
      const reply = await client.call("PUT", instancePath(instanceId), {
        body: provisionBody(SMALL_PLAN_ID, parameters)
      })
      expect(reply.status, JSON.stringify(parameters).slice(0, 80)).toBe(400)
      expect(reply.body.description).toEqual(
        typeof description === "string" ? description : expect.stringMatching(description)
      )
      expect(reply.body.description.length).toBeLessThan(400)
    }
    // plan large: its own bound
    const large = await client.call("PUT", `${instancePath(instanceId)}?accepts_incomplete=true`, {
      body: provisionBody(LARGE_PLAN_ID, { connection_limit: 101 })
    })
    expect(large.status).toBe(400)
    expect(large.body.description).toBe("parameters.connection_limit: must be at most 100 on plan large")
    expect((await client.call("GET", instancePath(instanceId))).status).toBe(404)
    expect(await server.objects()).toEqual(before)

    // bindings take no parameters
    expect((await client.call("PUT", instancePath(instanceId), { body: provisionBody(SMALL_PLAN_ID) })).status)
      .toBe(201)
    const bind = await client.call("PUT", bindingPath(instanceId, "b"), {
      body: bindBody(SMALL_PLAN_ID, { "role": "postgres\"; ALTER ROLE x SUPERUSER; --" })
    })
    expect(bind.status).toBe(400)
    expect(bind.body.description).toBe("parameters.role: bindings take no parameters")
    expect(await server.role(bindingRoleName(instanceId, "b"))).toBeUndefined()
    expect((await client.call("DELETE", `${instancePath(instanceId)}?${ids(SMALL_PLAN_ID)}`)).status).toBe(200)
    expect(await server.objects()).toEqual(before)
  })
})

describe("configuration, secrets at rest, and the admin role", () => {
  it("configured by env (TARGET_*, BROKER_STORE, BROKER_ENCRYPTION_KEYS): credentials encrypted at rest", async () => {
    const targetUrl = await freshDatabase()
    const storeUrl = await freshDatabase()
    const env = new Map([
      ["TARGET_DATABASE_URL", targetUrl],
      ["TARGET_PUBLIC_HOST", "db.example.internal"],
      ["TARGET_PUBLIC_PORT", "6432"],
      ["BROKER_STORE", storeUrl],
      ["BROKER_ENCRYPTION_KEYS", `k1:${randomBytes(32).toString("base64")}`]
    ])
    const layer = PostgresBroker.layer.pipe(
      Layer.provide(Layer.setConfigProvider(ConfigProvider.fromMap(env))),
      Layer.provide(quiet)
    )
    const client = clientFor(layer)
    opened.push(client)
    const instanceId = randomUUID()
    expect((await client.call("PUT", instancePath(instanceId), { body: provisionBody(SMALL_PLAN_ID) })).status)
      .toBe(201)
    const bound = await client.call("PUT", bindingPath(instanceId, "b"), { body: bindBody(SMALL_PLAN_ID) })
    expect(bound.status, bound.text).toBe(201)
    const credentials = bound.body.credentials as Credentials
    // the address applications are given
    expect(credentials).toMatchObject({ host: "db.example.internal", port: 6432 })
    expect(credentials.uri).toMatch(
      /^postgresql:\/\/osb_bind_[0-9a-f]{40}:[A-Za-z0-9_-]{32}@db\.example\.internal:6432\//
    )
    expect(bound.body.endpoints).toEqual([{ host: "db.example.internal", ports: ["6432"], protocol: "tcp" }])
    // ... and the password the server checks
    await expectPasswordIsChecked(credentials)

    // everything the store holds, as text: no password, no credentials in the clear
    const stored = await storeText(storeUrl)
    expect(stored).toContain(instanceId)
    expect(stored).toContain("enc1.k1.")
    expect(stored).not.toContain(credentials.username)
    expect(stored).not.toContain(credentials.password)
    expect(stored).not.toContain(credentials.uri)
    // the broker reads them back
    const fetched = await client.call("GET", bindingPath(instanceId, "b"))
    expect(fetched.body.credentials).toEqual(credentials)

    expect((await client.call("DELETE", `${bindingPath(instanceId, "b")}?${ids(SMALL_PLAN_ID)}`)).status).toBe(200)
    expect((await client.call("DELETE", `${instancePath(instanceId)}?${ids(SMALL_PLAN_ID)}`)).status).toBe(200)
    await expectGone(instanceId, [credentials.username])
  })

  it("without a key the store holds credentials in the clear (what the key protects against)", async () => {
    const targetUrl = await freshDatabase()
    const storeUrl = await freshDatabase()
    const client = clientFor(
      PostgresBroker.layerWith(targetOf(targetUrl), SqlStore.layerPg(storeUrl)).pipe(Layer.provide(quiet))
    )
    opened.push(client)
    const instanceId = randomUUID()
    expect((await client.call("PUT", instancePath(instanceId), { body: provisionBody(SMALL_PLAN_ID) })).status)
      .toBe(201)
    const bound = await client.call("PUT", bindingPath(instanceId, "b"), { body: bindBody(SMALL_PLAN_ID) })
    expect(bound.status).toBe(201)
    expect(await storeText(storeUrl)).toContain(bound.body.credentials.password)
    expect((await client.call("DELETE", `${instancePath(instanceId)}?${ids(SMALL_PLAN_ID)}`)).status).toBe(200)
  })

  it("a non-superuser admin with CREATEDB and CREATEROLE is enough", async () => {
    const admin = `osb_test_admin_${randomBytes(4).toString("hex")}`
    const secret = randomBytes(12).toString("hex")
    await query(adminUrl(), `CREATE ROLE ${admin} LOGIN CREATEDB CREATEROLE PASSWORD '${secret}'`)
    try {
      const url = new URL(await freshDatabase())
      url.username = admin
      url.password = secret
      const { client } = await broker({ targetUrl: url.toString() })
      const instanceId = randomUUID()
      const port = clusterPort()
      const created = await client.call("PUT", instancePath(instanceId), {
        body: provisionBody(SMALL_PLAN_ID, { extensions: ["citext"] })
      })
      expect(created.status, created.text).toBe(201)
      const credentials = await bindOk(client, instanceId, "b", SMALL_PLAN_ID, port)
      const session = await connect(credentials)
      await session.query("CREATE TABLE t (x citext)")
      expect((await client.call("DELETE", `${bindingPath(instanceId, "b")}?${ids(SMALL_PLAN_ID)}`)).status).toBe(200)
      await expect(session.query("SELECT 1")).rejects.toThrow()
      await session.end().catch(() => {})
      await expectRefused(credentials)
      expect((await client.call("DELETE", `${instancePath(instanceId)}?${ids(SMALL_PLAN_ID)}`)).status).toBe(200)
      await expectGone(instanceId, [credentials.username])
    } finally {
      await query(adminUrl(), `DROP ROLE IF EXISTS ${admin}`)
    }
  })

  it("refuses to start on an admin role that may not create databases and roles", async () => {
    const admin = `osb_test_weak_${randomBytes(4).toString("hex")}`
    const secret = randomBytes(12).toString("hex")
    await query(adminUrl(), `CREATE ROLE ${admin} LOGIN PASSWORD '${secret}'`)
    try {
      const url = new URL(await freshDatabase())
      url.username = admin
      url.password = secret
      const exit = await Effect.runPromiseExit(
        Layer.build(PostgresBroker.layerWith(targetOf(url.toString()), BrokerStore.layerMemory)).pipe(Effect.scoped)
      )
      expect(exit._tag).toBe("Failure")
      expect(String(exit._tag === "Failure" ? exit.cause : "")).toContain("needs SUPERUSER, or CREATEDB and CREATEROLE")
    } finally {
      await query(adminUrl(), `DROP ROLE IF EXISTS ${admin}`)
    }
  })
})

describe("resumable work", () => {
  it("provision and deprovision run again over what an interrupted run left behind", async () => {
    const target = targetOf(await freshDatabase())
    const instanceId = randomUUID()
    const { database, owner } = instanceNames(instanceId)
    const catalog = PostgresBroker.catalog.services[0]!
    const plan = catalog.plans.find((p) => p.id === LARGE_PLAN_ID)!
    await Effect.gen(function*() {
      const work = PostgresBroker.work(target, yield* PgClient.PgClient)
      const large = work.plans!["large"]!
      const ctx = {
        instanceId,
        offering: catalog,
        target: { offering: catalog, plan, effective: {} },
        parameters: { extensions: ["ltree"] },
        request: {}
      } as any
      // an earlier run got as far as the owner role and the database
      yield* Effect.promise(() => query(adminUrl(), `CREATE ROLE ${owner} NOLOGIN`))
      yield* Effect.promise(() => query(adminUrl(), `CREATE DATABASE ${database} OWNER ${owner}`))
      yield* large.provision!.run(ctx)
      yield* large.provision!.run(ctx)
      expect(large.provision!.resumable).toBe(true)
      expect(large.deprovision!.resumable).toBe(true)
      expect(yield* Effect.promise(() => server.extensions(instanceId))).toContain("ltree")
      expect((yield* Effect.promise(() => server.database(instanceId)))?.acl).not.toMatch(/(^|[{,])=/)
      const deprovisionCtx = { instanceId, instance: {}, bindings: [], request: {} } as any
      yield* large.deprovision!.run(deprovisionCtx)
      yield* large.deprovision!.run(deprovisionCtx)
    }).pipe(
      Effect.provide(PgClient.layer({ url: target.url, maxConnections: 2 })),
      Logger.withMinimumLogLevel(LogLevel.Warning),
      Effect.runPromise
    )
    await expectGone(instanceId, [])
  })
})

// -----------------------------------------------------------------------------
// the real process: npm run example:postgres, checked by `effect-osb check`
// -----------------------------------------------------------------------------

describe("the example process (npm run example:postgres)", () => {
  const root = new URL("..", import.meta.url).pathname
  let child: ChildProcess | undefined
  let output = ""
  let port = 0
  const username = "ops"
  const password = "pg:broker-pass"

  beforeAll(async () => {
    const main = await builtFile(join("examples", "postgres-broker", "main.js"))
    port = await freePort()
    child = spawn(process.execPath, [main], {
      cwd: root,
      env: {
        ...process.env,
        PORT: String(port),
        HOST: "127.0.0.1",
        BROKER_USERNAME: username,
        BROKER_PASSWORD: password,
        TARGET_DATABASE_URL: await freshDatabase(),
        BROKER_STORE: `sqlite:${join(mkdtempSync(join(tmpdir(), "osb-pgb-")), "broker.sqlite")}`,
        BROKER_ENCRYPTION_KEYS: `k1:${randomBytes(32).toString("base64")}`
      },
      stdio: ["ignore", "pipe", "pipe"]
    })
    child.stdout!.on("data", (d) => (output += d))
    child.stderr!.on("data", (d) => (output += d))
    const deadline = Date.now() + 20_000
    while (!output.includes("Listening on") && Date.now() < deadline && child.exitCode === null) await sleep(25)
  }, 300_000)

  afterAll(() => {
    child?.kill("SIGKILL")
  })

  it("passes `effect-osb check` (Checker.run over HTTP) and leaves nothing behind on the server", async () => {
    expect(output).toContain(`Listening on http://127.0.0.1:${port}`)
    expect(output).toContain(`target: PostgreSQL`)
    expect(output).toContain(` as ${new URL(adminUrl()).username}`)
    const before = await server.objects()
    const results = await Effect.gen(function*() {
      const client = yield* OsbClient.make({ url: `http://127.0.0.1:${port}`, username, password })
      return yield* Checker.run(client, { maxPollInterval: "1 second" })
    }).pipe(Effect.provide(NodeHttpClient.layerUndici), Effect.runPromise)
    const failed = results.filter((r) => r.outcome === "fail")
    expect(failed, JSON.stringify(failed, null, 2)).toEqual([])
    const summary = Checker.summarize(results)
    expect(summary.passed).toBeGreaterThan(50)
    // both plans were exercised, with bindings
    expect(results.some((r) => r.outcome === "pass" && r.title.includes("small"))).toBe(true)
    expect(results.some((r) => r.outcome === "pass" && r.title.includes("large"))).toBe(true)
    expect(await server.objects()).toEqual(before)
    // no secrets in the log
    expect(output).not.toContain(password)
  }, 300_000)

  it("the README's session works word for word against it", async () => {
    const readme = readFileSync(join(root, "examples", "postgres-broker", "README.md"), "utf8")
    const blocks = [...readme.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1]!)
    const session = blocks.find((b) => b.startsWith("# the broker's address and credentials"))!
    expect(session).toBeDefined()
    const suffix = randomBytes(4).toString("hex")
    const script = session
      .replaceAll("admin:admin", `${username}:${password}`)
      .replaceAll("127.0.0.1:8080", `127.0.0.1:${port}`)
      .replaceAll("my-db", `my-db-${suffix}`)
      .replaceAll("big-db", `big-db-${suffix}`)
    const before = await server.objects()
    const out = execFileSync("bash", ["-euo", "pipefail", "-c", script], {
      encoding: "utf8",
      cwd: mkdtempSync(join(tmpdir(), "osb-pgb-readme-")),
      stdio: ["ignore", "pipe", "pipe"]
    })
    const lines = out.split("\n")
    expect(lines[0]).toMatch(/^\{"metadata":\{"attributes":\{"database":"osb_db_[0-9a-f]{40}"\}\}\}$/)
    expect(out).toContain("hello from psql")
    expect(out).toMatch(/"credentials":\{"uri":"postgresql:\/\/osb_bind_/)
    expect(out).toContain("{\"description\":\"parameters.connection_limit: must be at most 20 on plan small\"}")
    expect(out).toContain("refused, as it should be")
    expect(out).toMatch(/"operation":"provision-/)
    expect(out).toContain("{\"state\":\"succeeded\"}")
    expect(out).toMatch(/"operation":"deprovision-/)
    // the async deprovision finishes, and nothing is left
    const deadline = Date.now() + 30_000
    while (JSON.stringify(await server.objects()) !== JSON.stringify(before) && Date.now() < deadline) await sleep(200)
    expect(await server.objects()).toEqual(before)
  }, 120_000)

  it("exits cleanly on SIGTERM", async () => {
    const exited = new Promise<number | null>((resolve) => child!.once("exit", (code) => resolve(code)))
    child!.kill("SIGTERM")
    expect(await exited).toBe(0)
  })
})
