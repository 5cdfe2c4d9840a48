/**
 * PostgreSQL databases as a service, on the managed model: the library keeps the broker's state, idempotency,
 * asynchronous operations, concurrency and crash recovery; this file writes only the SQL work.
 *
 * - provision: a NOLOGIN owner role and a database it owns, closed to every other role (plan `small`
 *   synchronously; plan `large` in the background from `template0`, then extensions).
 * - update: the connection limit (plan change or parameter) and added extensions.
 * - deprovision: the database (its sessions terminated), its binding roles and its owner role.
 * - bind: a LOGIN role with a random password, member of the owner role; its sessions act as the owner, so what
 *   one binding creates every binding of the instance can use.
 * - unbind: the role loses its login and membership, its sessions are terminated, what it owns goes to the owner
 *   role, and it is dropped.
 *
 * Names come from a SHA-256 of the ids; user input reaches SQL only as an allow-listed extension name (quoted)
 * or a bounded integer; values go as parameters wherever PostgreSQL takes them.
 */
import * as PgClient from "@effect/sql-pg/PgClient"
import type { SqlError } from "@effect/sql/SqlError"
import { Config, ConfigError, Data, Effect, Either, Layer, Option, Redacted } from "effect"
import type { BrokerStore } from "../../src/index.js"
import { Catalog, ManagedBroker, OsbError, StoreConfig } from "../../src/index.js"
import type { Model, Router } from "../../src/index.js"
import {
  bindingRoleName,
  bindingRolePrefix,
  instanceNames,
  integerLiteral,
  newPassword,
  quoteIdent,
  quoteLiteral,
  scramSha256
} from "./sql.js"

export const SERVICE_ID = "1263f385-fadc-4632-abf8-6a510bc470bd"
export const SMALL_PLAN_ID = "ea980807-4540-4d83-b103-897c8e91912f"
export const LARGE_PLAN_ID = "e1e448b0-dec1-4c4e-894c-d51e7bbfb7ef"

/** Extensions a user may ask for: contrib extensions that PostgreSQL 13+ marks trusted. */
export const allowedExtensions: ReadonlyArray<string> = [
  "btree_gin",
  "btree_gist",
  "citext",
  "cube",
  "fuzzystrmatch",
  "hstore",
  "ltree",
  "pg_trgm",
  "pgcrypto",
  "unaccent",
  "uuid-ossp"
]

/** The connection limit of each plan: the default and the most a user may ask for. */
export const connectionLimits: { readonly [planId: string]: { readonly default: number; readonly max: number } } = {
  [SMALL_PLAN_ID]: { default: 5, max: 20 },
  [LARGE_PLAN_ID]: { default: 25, max: 100 }
}

const draft04 = "http://json-schema.org/draft-04/schema#"

const instanceParameters = (planId: string) => ({
  $schema: draft04,
  type: "object",
  additionalProperties: false,
  properties: {
    extensions: {
      description: "Extensions to create in the database. An update may add extensions, not remove them.",
      type: "array",
      items: { type: "string", enum: [...allowedExtensions] },
      uniqueItems: true
    },
    connection_limit: {
      description: "The most concurrent connections to the database.",
      type: "integer",
      minimum: 1,
      maximum: connectionLimits[planId]!.max,
      default: connectionLimits[planId]!.default
    }
  }
})

const plan = (id: string, name: string, description: string, extra: Partial<Model.ServicePlan> = {}) => ({
  id,
  name,
  description,
  ...extra,
  schemas: {
    service_instance: {
      create: { parameters: instanceParameters(id) },
      update: { parameters: instanceParameters(id) }
    },
    service_binding: {
      create: { parameters: { $schema: draft04, type: "object", additionalProperties: false, properties: {} } }
    }
  }
})

export const catalog: Model.CatalogBody = {
  services: [{
    id: SERVICE_ID,
    name: "postgresql",
    description: "A PostgreSQL database of your own, with credentials per binding.",
    bindable: true,
    plan_updateable: true,
    instances_retrievable: true,
    bindings_retrievable: true,
    tags: ["postgresql", "relational", "sql"],
    metadata: { displayName: "PostgreSQL" },
    plans: [
      plan(SMALL_PLAN_ID, "small", "A database on the shared server, ready at once; up to 20 connections.", {
        free: true
      }),
      plan(
        LARGE_PLAN_ID,
        "large",
        "A database set up in the background (template0, UTF-8, C collation, extensions); up to 100 connections.",
        {
          free: false,
          maximum_polling_duration: 600
        }
      )
    ]
  }]
}

// -----------------------------------------------------------------------------
// parameters
// -----------------------------------------------------------------------------

/** The parameters of an instance, checked and with the plan's defaults. */
export interface InstanceParameters {
  readonly extensions: ReadonlyArray<string>
  readonly connectionLimit: number
}

const shownKey = (key: string) =>
  /^[A-Za-z0-9_-]{1,64}$/.test(key) ? `parameters.${key}` : `parameters[${JSON.stringify(key.slice(0, 40))}]`

const shownValue = (value: unknown) => {
  const text = JSON.stringify(value) ?? String(value)
  return text.length > 40 ? `${text.slice(0, 40)}...` : text
}

/** Checks an instance's parameters against the plan; the failure names the field. */
export const parseParameters = (
  parameters: Model.JsonObject,
  plan: Model.ServicePlan
): Either.Either<InstanceParameters, string> => {
  const limits = connectionLimits[plan.id]
  if (limits === undefined) return Either.left(`plan ${plan.name} is not served here`)
  for (const key of Object.keys(parameters)) {
    if (key !== "extensions" && key !== "connection_limit") {
      return Either.left(`${shownKey(key)}: unknown parameter (allowed: extensions, connection_limit)`)
    }
  }
  const extensions = parameters["extensions"] ?? []
  if (!Array.isArray(extensions)) return Either.left("parameters.extensions: must be an array of extension names")
  for (const [index, name] of extensions.entries()) {
    if (typeof name !== "string" || !allowedExtensions.includes(name)) {
      return Either.left(
        `parameters.extensions[${index}]: ${shownValue(name)} is not an allowed extension (allowed: ${
          allowedExtensions.join(", ")
        })`
      )
    }
    if (extensions.indexOf(name) !== index) {
      return Either.left(`parameters.extensions[${index}]: "${name}" is listed twice`)
    }
  }
  const limit = parameters["connection_limit"] ?? limits.default
  if (typeof limit !== "number" || !Number.isSafeInteger(limit)) {
    return Either.left("parameters.connection_limit: must be an integer")
  }
  if (limit < 1) return Either.left("parameters.connection_limit: must be at least 1")
  if (limit > limits.max) {
    return Either.left(`parameters.connection_limit: must be at most ${limits.max} on plan ${plan.name}`)
  }
  return Either.right({ extensions: extensions as ReadonlyArray<string>, connectionLimit: limit })
}

const badRequest = (description: string) => new OsbError.BadRequest({ description })

const checked = (parameters: Model.JsonObject, plan: Model.ServicePlan) =>
  Either.match(parseParameters(parameters, plan), {
    onLeft: (d) => Effect.fail(badRequest(d)),
    onRight: Effect.succeed
  })

/** Parameters that `validate` already accepted; anything else is a bug. */
const trusted = (parameters: Model.JsonObject, plan: Model.ServicePlan): InstanceParameters =>
  Either.getOrThrowWith(parseParameters(parameters, plan), (problem) => new Error(problem))

// -----------------------------------------------------------------------------
// the target server
// -----------------------------------------------------------------------------

/** Where the databases are made, and the address applications are given. */
export interface Target {
  /** An admin connection (a superuser, or a role with CREATEDB and CREATEROLE). */
  readonly url: Redacted.Redacted<string>
  /** Host and port put in credentials; default: those of `url`. */
  readonly publicHost: string
  readonly publicPort: number
  /** `sslmode` of `url`, repeated in the credentials' `uri`. */
  readonly sslmode: Option.Option<string>
}

/** Reads `TARGET_DATABASE_URL` (required) and `TARGET_PUBLIC_HOST` / `TARGET_PUBLIC_PORT` (optional). */
export const targetConfig: Config.Config<Target> = Config.all({
  url: Config.redacted("TARGET_DATABASE_URL"),
  publicHost: Config.option(Config.nonEmptyString("TARGET_PUBLIC_HOST")),
  publicPort: Config.option(Config.port("TARGET_PUBLIC_PORT"))
}).pipe(Config.mapOrFail(({ publicHost, publicPort, url }) => {
  const invalid = (message: string) => Either.left(ConfigError.InvalidData(["TARGET_DATABASE_URL"], message))
  let parsed: URL
  try {
    parsed = new URL(Redacted.value(url))
  } catch {
    return invalid("expected a postgres://user:password@host:port/database URL")
  }
  if (parsed.protocol !== "postgres:" && parsed.protocol !== "postgresql:") {
    return invalid("expected a postgres:// or postgresql:// URL")
  }
  const host = Option.getOrElse(publicHost, () => parsed.hostname.replace(/^\[(.*)\]$/, "$1"))
  if (host.length === 0) return invalid("the URL has no host name: set TARGET_PUBLIC_HOST")
  return Either.right({
    url,
    publicHost: host,
    publicPort: Option.getOrElse(publicPort, () => (parsed.port === "" ? 5432 : Number(parsed.port))),
    sslmode: Option.fromNullable(parsed.searchParams.get("sslmode"))
  })
}))

/** The target server cannot serve as one (too old, or the admin role lacks rights). */
export class TargetError extends Data.TaggedError("TargetError")<{ readonly message: string }> {}

/** The admin connection's URL with another database. */
const urlFor = (url: Redacted.Redacted<string>, database: string): Redacted.Redacted<string> => {
  const parsed = new URL(Redacted.value(url))
  parsed.pathname = `/${encodeURIComponent(database)}`
  return Redacted.make(parsed.toString())
}

const applicationName = "effect-osb postgres-broker"

/** Runs statements; each runs to its end even when the operation is interrupted, so none is left half-sent. */
interface Sql {
  readonly run: <A extends object = Record<string, unknown>>(
    text: string,
    params?: ReadonlyArray<string | number | boolean | null>
  ) => Effect.Effect<ReadonlyArray<A>, SqlError>
}

const sqlOf = (client: PgClient.PgClient): Sql => ({
  run: (text, params = []) => Effect.uninterruptible(client.unsafe(text, params))
})

const codeOf = (error: SqlError): string | undefined => {
  const cause = error.cause
  return typeof cause === "object" && cause !== null && "code" in cause && typeof cause.code === "string"
    ? cause.code
    : undefined
}

/** A failed statement: the server's message goes to the log, the platform gets the step and the SQLSTATE. */
const failsAs = (what: string) => <A>(effect: Effect.Effect<A, SqlError>): Effect.Effect<A, OsbError.BrokerFailure> =>
  effect.pipe(
    Effect.tapError((error) =>
      Effect.logError(`${what} failed`, error.cause instanceof Error ? error.cause.message : error.message)
    ),
    Effect.mapError((error) => {
      const code = codeOf(error)
      return new OsbError.BrokerFailure({
        description: `${what} failed${code === undefined ? "" : ` (PostgreSQL error ${code})`}; see the broker's log.`
      })
    })
  )

// -----------------------------------------------------------------------------
// the work
// -----------------------------------------------------------------------------

/** The SQL work on one target server, given its admin connection. */
export const work = (target: Target, admin: PgClient.PgClient): ManagedBroker.OfferingWork => {
  const sql = sqlOf(admin)
  const I = quoteIdent

  /** Runs `f` on a connection to one of our databases (as the admin role). */
  const inDatabase = <A>(database: string, f: (sql: Sql) => Effect.Effect<A, SqlError>) =>
    Effect.flatMap(PgClient.PgClient, (client) => f(sqlOf(client))).pipe(
      Effect.provide(PgClient.layer({ url: urlFor(target.url, database), maxConnections: 1, applicationName }))
    )

  const roleExists = (role: string) =>
    Effect.map(sql.run("SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = $1", [role]), (rows) => rows.length > 0)

  const databaseExists = (database: string) =>
    Effect.map(
      sql.run("SELECT 1 FROM pg_catalog.pg_database WHERE datname = $1", [database]),
      (rows) => rows.length > 0
    )

  /**
   * The admin role joins every role it creates, so that without being a superuser it may create databases they
   * own, terminate their sessions and reassign what they own. (A superuser gains nothing by it.)
   */
  const joinRole = (role: string) => sql.run(`GRANT ${I(role)} TO CURRENT_USER`)

  const createExtensions = (database: string, extensions: ReadonlyArray<string>) =>
    extensions.length === 0 ? Effect.void : inDatabase(database, (db) =>
      Effect.forEach(
        extensions,
        (name) => db.run(`CREATE EXTENSION IF NOT EXISTS ${I(name)}`),
        { discard: true }
      ))

  /**
   * Provisioning, written to be run again: every step checks or tolerates what an earlier, interrupted run did
   * (IF NOT EXISTS, existence checks, REVOKE and GRANT that repeat harmlessly). So the step is `resumable`: when
   * a broker dies in the middle, the replica that takes the operation over runs it again from the start.
   */
  const provision = (layout: "shared" | "dedicated") => (ctx: ManagedBroker.ProvisionContext) =>
    Effect.gen(function*() {
      const { database, owner } = instanceNames(ctx.instanceId)
      const parameters = trusted(ctx.parameters, ctx.target.plan)
      // 1. the owner role: nobody logs in as it, bindings act as it
      if (!(yield* roleExists(owner))) yield* sql.run(`CREATE ROLE ${I(owner)} NOLOGIN`)
      yield* joinRole(owner)
      // 2. the database (CREATE DATABASE cannot run in a transaction, nor take parameters)
      if (!(yield* databaseExists(database))) {
        const template = layout === "dedicated"
          ? " TEMPLATE template0 ENCODING 'UTF8' LC_COLLATE 'C' LC_CTYPE 'C'"
          : ""
        yield* sql.run(
          `CREATE DATABASE ${I(database)} OWNER ${I(owner)}${template} CONNECTION LIMIT ${
            integerLiteral(parameters.connectionLimit)
          }`
        )
      }
      // 3. closed to everyone but its owner (and so the bindings): no CONNECT, no TEMP for PUBLIC
      yield* sql.run(`REVOKE ALL ON DATABASE ${I(database)} FROM PUBLIC`)
      // 4. inside: the owner owns schema public; the extensions asked for
      yield* inDatabase(database, (db) => db.run(`ALTER SCHEMA public OWNER TO ${I(owner)}`))
      yield* createExtensions(database, parameters.extensions)
      yield* Effect.logInfo(`provisioned database ${database}`)
      return { metadata: { attributes: { database } } }
    }).pipe(failsAs("Provisioning the database"))

  const update = (ctx: ManagedBroker.UpdateContext) =>
    Effect.gen(function*() {
      const { database } = instanceNames(ctx.instanceId)
      const parameters = trusted(ctx.parameters, ctx.target.plan)
      yield* sql.run(`ALTER DATABASE ${I(database)} CONNECTION LIMIT ${integerLiteral(parameters.connectionLimit)}`)
      yield* createExtensions(database, parameters.extensions)
      yield* Effect.logInfo(`updated database ${database}`)
      return {}
    }).pipe(failsAs("Updating the database"))

  const validateUpdate = (ctx: ManagedBroker.UpdateContext) =>
    Effect.gen(function*() {
      const next = yield* checked(ctx.parameters, ctx.target.plan)
      const installed = ctx.instance.parameters["extensions"]
      const missing = (Array.isArray(installed) ? installed : []).filter((e) => !next.extensions.includes(String(e)))
      if (missing.length > 0) {
        return yield* badRequest(
          `parameters.extensions: extensions cannot be removed (${missing.join(", ")} installed); list them all`
        )
      }
    })

  /** Terminates a login role's sessions, waiting (up to 5 s each) until they are gone. */
  const terminateSessions = (role: string) =>
    sql.run(
      `SELECT pg_catalog.pg_terminate_backend(pid, 5000) FROM pg_catalog.pg_stat_activity
        WHERE usename = $1 AND pid <> pg_catalog.pg_backend_pid()`,
      [role]
    )

  /**
   * Removes a binding role, also after an interrupted earlier attempt: no more logins, no more membership,
   * sessions terminated, what it owns in the instance's database handed to the owner role, then dropped.
   */
  const dropBindingRole = (role: string, instanceId: string) =>
    Effect.gen(function*() {
      if (!(yield* roleExists(role))) return
      const { database, owner } = instanceNames(instanceId)
      yield* sql.run(`ALTER ROLE ${I(role)} NOLOGIN`)
      if (yield* roleExists(owner)) yield* sql.run(`REVOKE ${I(owner)} FROM ${I(role)}`)
      yield* terminateSessions(role)
      if ((yield* databaseExists(database)) && (yield* roleExists(owner))) {
        yield* inDatabase(database, (db) =>
          Effect.zipRight(
            db.run(`REASSIGN OWNED BY ${I(role)} TO ${I(owner)}`),
            db.run(`DROP OWNED BY ${I(role)}`)
          ))
      }
      // privileges it may hold here and on shared objects
      yield* sql.run(`DROP OWNED BY ${I(role)}`)
      yield* sql.run(`DROP ROLE IF EXISTS ${I(role)}`)
    })

  const bind = (ctx: ManagedBroker.BindContext) =>
    Effect.gen(function*() {
      const { database, owner } = instanceNames(ctx.instanceId)
      const role = bindingRoleName(ctx.instanceId, ctx.bindingId)
      const password = newPassword()
      // the server gets the SCRAM verifier, never the password; the verifier is a literal (no parameters here)
      const secret = quoteLiteral(scramSha256(password))
      if (yield* roleExists(role)) {
        yield* sql.run(`ALTER ROLE ${I(role)} WITH LOGIN PASSWORD ${secret}`)
      } else {
        yield* sql.run(`CREATE ROLE ${I(role)} WITH LOGIN INHERIT PASSWORD ${secret}`)
      }
      yield* joinRole(role)
      yield* sql.run(`GRANT ${I(owner)} TO ${I(role)}`)
      // its sessions in the database act as the owner: what one binding creates, every binding can use
      yield* sql.run(`ALTER ROLE ${I(role)} IN DATABASE ${I(database)} SET role = ${quoteLiteral(owner)}`)
      const host = target.publicHost.includes(":") ? `[${target.publicHost}]` : target.publicHost
      const query = Option.match(target.sslmode, {
        onNone: () => "",
        onSome: (m) => `?sslmode=${encodeURIComponent(m)}`
      })
      return {
        credentials: {
          uri: `postgresql://${role}:${encodeURIComponent(password)}@${host}:${target.publicPort}/${database}${query}`,
          host: target.publicHost,
          port: target.publicPort,
          database,
          username: role,
          password
        },
        endpoints: [{ host: target.publicHost, ports: [String(target.publicPort)] as const, protocol: "tcp" as const }]
      }
    }).pipe(
      // a failed bind leaves no role behind (the store forgets a failed synchronous bind)
      Effect.onError(() =>
        Effect.ignore(dropBindingRole(bindingRoleName(ctx.instanceId, ctx.bindingId), ctx.instanceId))
      ),
      failsAs("Creating the binding's role")
    )

  const validateBind = (ctx: ManagedBroker.BindContext) => {
    const [key] = Object.keys(ctx.parameters)
    return key === undefined ? Effect.void : Effect.fail(badRequest(`${shownKey(key)}: bindings take no parameters`))
  }

  const unbind = (ctx: ManagedBroker.UnbindContext) =>
    dropBindingRole(bindingRoleName(ctx.instanceId, ctx.bindingId), ctx.instanceId).pipe(
      failsAs("Removing the binding's role")
    )

  /**
   * Removes an instance's database, its binding roles (those given, and any other member of the owner role that
   * we made) and its owner role. Idempotent too: whatever is already gone is skipped.
   */
  const removeInstance = (instanceId: string, bindingIds: ReadonlyArray<string>) =>
    Effect.gen(function*() {
      const { database, owner } = instanceNames(instanceId)
      // FORCE terminates the database's sessions first (PostgreSQL 13+)
      yield* sql.run(`DROP DATABASE IF EXISTS ${I(database)} WITH (FORCE)`)
      const members = yield* sql.run<{ rolname: string }>(
        `SELECT m.rolname FROM pg_catalog.pg_auth_members a
           JOIN pg_catalog.pg_roles m ON m.oid = a.member
           JOIN pg_catalog.pg_roles o ON o.oid = a.roleid
          WHERE o.rolname = $1 AND starts_with(m.rolname, $2)`,
        [owner, bindingRolePrefix]
      )
      const roles = new Set([
        ...bindingIds.map((bindingId) => bindingRoleName(instanceId, bindingId)),
        ...members.map((m) => m.rolname)
      ])
      for (const role of roles) yield* dropBindingRole(role, instanceId)
      if (yield* roleExists(owner)) {
        yield* sql.run(`DROP OWNED BY ${I(owner)}`)
        yield* sql.run(`DROP ROLE IF EXISTS ${I(owner)}`)
      }
      yield* Effect.logInfo(`dropped database ${database}`)
    })

  const deprovision = (ctx: ManagedBroker.DeprovisionContext) =>
    removeInstance(ctx.instanceId, ctx.bindings.map((b) => b.bindingId)).pipe(failsAs("Dropping the database"))

  /**
   * A failed synchronous provision is forgotten by the broker, so it removes what it made. (A failed
   * asynchronous one leaves a failed instance, which the platform deletes.)
   */
  const provisionOrClean = (ctx: ManagedBroker.ProvisionContext) =>
    provision("shared")(ctx).pipe(Effect.onError(() => Effect.ignore(removeInstance(ctx.instanceId, []))))

  const validateProvision = (ctx: ManagedBroker.ProvisionContext) =>
    Effect.asVoid(checked(ctx.parameters, ctx.target.plan))

  return {
    // synchronous steps answer when done (if the broker dies meanwhile, the operation is marked failed, and the
    // platform's delete cleans up)
    provision: ManagedBroker.sync(provisionOrClean, { validate: validateProvision }),
    update: ManagedBroker.sync(update, { validate: validateUpdate }),
    deprovision: ManagedBroker.sync(deprovision),
    bind: ManagedBroker.sync(bind, { validate: validateBind }),
    unbind: ManagedBroker.sync(unbind),
    plans: {
      large: {
        // in the background (202, then last_operation); `resumable`: the work is idempotent, so after a crash
        // the replica that takes the operation over runs it again instead of marking it failed
        provision: ManagedBroker.async(provision("dedicated"), { validate: validateProvision, resumable: true }),
        update: ManagedBroker.async(update, { validate: validateUpdate, resumable: true }),
        deprovision: ManagedBroker.either(deprovision, { resumable: true })
      }
    }
  }
}

/** Checks the target server once at start-up: PostgreSQL 14+ and an admin role that may create databases and roles. */
const checkTarget = (admin: PgClient.PgClient) =>
  Effect.gen(function*() {
    const [row] = yield* admin.unsafe<{
      version: number
      user: string
      superuser: boolean
      createdb: boolean
      createrole: boolean
    }>(
      `SELECT current_setting('server_version_num')::int AS version, current_user AS "user",
              rolsuper AS superuser, rolcreatedb AS createdb, rolcreaterole AS createrole
         FROM pg_catalog.pg_roles WHERE rolname = current_user`
    )
    if (row === undefined) return yield* new TargetError({ message: "cannot read the admin role" })
    if (row.version < 140000) {
      return yield* new TargetError({ message: `PostgreSQL 14 or later is needed, the target runs ${row.version}` })
    }
    if (!row.superuser && !(row.createdb && row.createrole)) {
      return yield* new TargetError({
        message: `the admin role ${row.user} needs SUPERUSER, or CREATEDB and CREATEROLE (see the README)`
      })
    }
    yield* Effect.logInfo(
      `target: PostgreSQL ${Math.floor(row.version / 10000)} as ${row.user}${row.superuser ? " (superuser)" : ""}`
    )
  })

/**
 * The router options this broker is served with: it checks its parameters itself (`validate` on each step, with
 * messages that name the plan's bounds, and rules a schema cannot state, e.g. extensions cannot be removed), so
 * the router's own check against the catalog's schemas is off.
 */
export const routerOptions: Router.RouterOptions = { validateParameters: false }

/** The broker on a target server and a store. */
export const layerWith = (
  target: Target,
  store: Layer.Layer<BrokerStore.BrokerStore, unknown>,
  options: ManagedBroker.ManagedOptions = {}
) =>
  ManagedBroker.layerEffect(
    Effect.gen(function*() {
      const admin = yield* PgClient.PgClient
      yield* checkTarget(admin)
      return { [SERVICE_ID]: work(target, admin) }
    }),
    options
  ).pipe(
    Layer.provide(PgClient.layer({ url: target.url, maxConnections: 4, applicationName })),
    Layer.provideMerge(Catalog.layer(catalog)),
    Layer.provide(store)
  )

/**
 * The broker as `npm run example:postgres` runs it: the target from TARGET_DATABASE_URL (TARGET_PUBLIC_HOST,
 * TARGET_PUBLIC_PORT), the store from BROKER_STORE and BROKER_ENCRYPTION_KEYS, leases from BROKER_LEASE_TTL_MS
 * and BROKER_TAKEOVER_INTERVAL_MS.
 */
export const layer = Layer.unwrapEffect(
  Effect.map(
    Config.all([targetConfig, ManagedBroker.optionsFromConfig]),
    ([target, options]) => layerWith(target, StoreConfig.layer, options)
  )
)
