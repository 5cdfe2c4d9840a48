/**
 * Choosing the store by configuration: `BROKER_STORE` is `memory`, `sqlite:<path>` or a `postgres://` /
 * `postgresql://` URL; unset means `sqlite:./data/broker.sqlite`. `BROKER_ENCRYPTION_KEYS` turns on encryption
 * of secrets at rest (SQL stores).
 *
 * @since 0.1.0
 * @module
 */
import * as Config from "effect/Config"
import * as ConfigError from "effect/ConfigError"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import { type BrokerStore, layerMemory, StoreError, type StoreUnavailable } from "./BrokerStore.js"
import * as Encryption from "./Encryption.js"
import * as SqlStore from "./SqlStore.js"

/**
 * The store a `BROKER_STORE` value names.
 *
 * @since 0.1.0
 * @category models
 */
export type StoreChoice =
  | {
    /** `BROKER_STORE=memory`: in the process, lost on restart. */
    readonly _tag: "Memory"
  }
  | {
    /** `BROKER_STORE=sqlite:<file>`: one SQLite file, one process. */
    readonly _tag: "Sqlite"
    /** The database file's path. */
    readonly filename: string
  }
  | {
    /** `BROKER_STORE=postgres://...`: PostgreSQL, shared by replicas. */
    readonly _tag: "Postgres"
    /** The connection URL; `Redacted` because it may carry a password. */
    readonly url: Redacted.Redacted<string>
  }

/**
 * The default when `BROKER_STORE` is unset.
 *
 * @since 0.1.0
 * @category constants
 */
export const defaultStore = "sqlite:./data/broker.sqlite"

/**
 * Parses a `BROKER_STORE` value.
 *
 * @since 0.1.0
 * @category parsing
 */
export const parse = (value: string): Option.Option<StoreChoice> => {
  const trimmed = value.trim()
  if (trimmed === "memory") return Option.some({ _tag: "Memory" })
  if (trimmed.startsWith("sqlite:") && trimmed.length > "sqlite:".length) {
    return Option.some({ _tag: "Sqlite", filename: trimmed.slice("sqlite:".length) })
  }
  if (/^postgres(ql)?:\/\//.test(trimmed)) return Option.some({ _tag: "Postgres", url: Redacted.make(trimmed) })
  return Option.none()
}

/** The store `BROKER_STORE` names. */
const configuredStore: Effect.Effect<StoreChoice, ConfigError.ConfigError> = Effect.flatMap(
  Config.string("BROKER_STORE").pipe(Config.withDefault(defaultStore)),
  (raw) =>
    Option.match(parse(raw), {
      onNone: () =>
        Effect.fail(ConfigError.InvalidData(["BROKER_STORE"], "expected memory, sqlite:<path> or a postgres:// URL")),
      onSome: Effect.succeed
    })
)

/**
 * Why the configured store could not be opened.
 *
 * @since 0.1.0
 * @category errors
 */
export type StoreLayerError = ConfigError.ConfigError | StoreError | StoreUnavailable

const widen = (layer: Layer.Layer<BrokerStore, StoreLayerError>) => layer

/** Where a PostgreSQL URL points, without its user name or password. */
const pgLocation = (url: Redacted.Redacted<string>): string => {
  try {
    const parsed = new URL(Redacted.value(url))
    return `${parsed.host}${parsed.pathname}`
  } catch {
    return "the configured URL"
  }
}

/** A store that cannot be opened names the setting that chose it (the cause says why). */
const opening = (what: string) => (layer: Layer.Layer<BrokerStore, StoreLayerError>) =>
  Layer.mapError(
    layer,
    (error): StoreLayerError =>
      ConfigError.isConfigError(error)
        ? error
        : new StoreError({ message: `BROKER_STORE: cannot open ${what}`, cause: error })
  )

/**
 * The store chosen by `BROKER_STORE` (and `BROKER_ENCRYPTION_KEYS`). A store that cannot be opened fails with a
 * `StoreError` naming `BROKER_STORE` and where it points (never the password).
 *
 * @example
 * ```ts
 * import { Layer } from "effect"
 * import { Catalog, ManagedBroker, StoreConfig } from "effect-osb"
 * import { catalog, work } from "./my-broker.js"
 *
 * // BROKER_STORE=memory | sqlite:./data/broker.sqlite | postgres://user:password@host:5432/db
 * export const broker = ManagedBroker.layer({ database: work }).pipe(
 *   Layer.provideMerge(Catalog.layer(catalog)),
 *   Layer.provide(StoreConfig.layer)
 * )
 * ```
 *
 * @since 0.1.0
 * @category layers
 */
export const layer: Layer.Layer<BrokerStore, StoreLayerError> = Layer.unwrapEffect(
  Effect.gen(function*() {
    const choice = yield* configuredStore
    const encryption = yield* Encryption.fromConfig
    const options = Option.match(encryption, { onNone: () => ({}), onSome: (e) => ({ encryption: e }) })
    switch (choice._tag) {
      case "Memory":
        if (Option.isSome(encryption)) {
          yield* Effect.logInfo("BROKER_ENCRYPTION_KEYS: the memory store keeps nothing at rest")
        }
        return widen(layerMemory)
      case "Sqlite":
        yield* Effect.logInfo(`store: SQLite at ${choice.filename}`)
        return opening(`the SQLite store at ${choice.filename}`)(
          SqlStore.layerSqlite(choice.filename, options)
        )
      case "Postgres":
        yield* Effect.logInfo("store: PostgreSQL")
        return opening(`the PostgreSQL store at ${pgLocation(choice.url)}`)(
          SqlStore.layerPg(choice.url, options)
        )
    }
  })
)

/**
 * Rewrites every record of the store `BROKER_STORE` names under the first key of `BROKER_ENCRYPTION_KEYS` (what
 * `effect-osb store rekey` runs): afterwards only that key is needed. `None` for the memory store (it keeps nothing
 * at rest). Fails with a `ConfigError` naming `BROKER_ENCRYPTION_KEYS` when it is unset.
 *
 * @since 0.1.0
 * @category rotation
 */
export const rekey: Effect.Effect<Option.Option<SqlStore.RekeyReport>, StoreLayerError> = Effect.gen(function*() {
  const choice = yield* configuredStore
  const encryption = yield* Encryption.fromConfig
  if (Option.isNone(encryption)) {
    return yield* Effect.fail(
      ConfigError.MissingData(
        ["BROKER_ENCRYPTION_KEYS"],
        "store rekey needs the keys: the key to encrypt with first, then every key the store was written with"
      )
    )
  }
  switch (choice._tag) {
    case "Memory":
      return Option.none()
    case "Sqlite":
      return Option.some(yield* SqlStore.rekeySqlite(choice.filename, encryption.value))
    case "Postgres":
      return Option.some(yield* SqlStore.rekeyPg(choice.url, encryption.value))
  }
})
