/**
 * Encryption of secrets at rest (AES-256-GCM, node:crypto): binding credentials and parameters are stored as
 * `{"$encrypted":"v1.<key id>.<iv>.<tag>.<ciphertext>"}`. Several keys can be configured: the first encrypts,
 * every key decrypts, so keys can be rotated without rewriting the store.
 *
 * @since 0.1.0
 * @module
 */
import * as Config from "effect/Config"
import * as ConfigError from "effect/ConfigError"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto"

/**
 * One key: an id (stored with each ciphertext) and 32 bytes.
 *
 * @since 0.1.0
 * @category models
 */
export interface EncryptionKey {
  /** The key's id, written into every value it encrypts so the right key decrypts it after a rotation. */
  readonly id: string
  /** The 32 bytes of the AES-256-GCM key; `Redacted` so it never reaches a log. */
  readonly key: Redacted.Redacted<Uint8Array>
}

/**
 * The configured keys; the first one encrypts.
 *
 * @since 0.1.0
 * @category models
 */
export interface Encryption {
  /**
   * Every configured key, newest first: the first encrypts, all of them decrypt (rotation: put the new key first).
   */
  readonly keys: readonly [EncryptionKey, ...Array<EncryptionKey>]
}

/**
 * The field names whose values are encrypted wherever they appear in a stored record.
 *
 * @since 0.1.0
 * @category constants
 */
export const secretFields: ReadonlyArray<string> = ["parameters", "credentials"]

const marker = "$encrypted"
const keyIdPattern = /^[A-Za-z0-9_-]{1,32}$/

/** What is wrong with an `id:base64key` entry, without quoting any of it. */
const keyEntryProblem = (entry: string): string | undefined => {
  const colon = entry.indexOf(":")
  if (colon <= 0) return "must be id:base64key (no id before a colon)"
  if (!keyIdPattern.test(entry.slice(0, colon))) return `the id must match ${keyIdPattern}`
  const base64 = entry.slice(colon + 1)
  if (!/^[A-Za-z0-9+/_-]*={0,2}$/.test(base64)) return "the key is not base64"
  const bytes = Buffer.from(base64, "base64").length
  return bytes === 32 ? undefined : `the key must be 32 bytes in base64, got ${bytes}`
}

/**
 * Builds an encryption from keys given as `id:base64` (32 bytes each). A malformed entry is refused with a
 * message naming its position (`key 2 of 3: ...`), never its text.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (keys: ReadonlyArray<string | EncryptionKey>): Either.Either<Encryption, string> => {
  const parsed: Array<EncryptionKey> = []
  for (const [index, entry] of keys.entries()) {
    if (typeof entry !== "string") {
      parsed.push(entry)
      continue
    }
    const problem = keyEntryProblem(entry)
    // the message names the entry's position, never its text: a mistyped entry may be a key
    if (problem !== undefined) return Either.left(`key ${index + 1} of ${keys.length}: ${problem}`)
    const colon = entry.indexOf(":")
    parsed.push({
      id: entry.slice(0, colon),
      key: Redacted.make(new Uint8Array(Buffer.from(entry.slice(colon + 1), "base64")))
    })
  }
  const [first, ...rest] = parsed
  if (first === undefined) return Either.left("at least one key is needed")
  if (new Set(parsed.map((k) => k.id)).size !== parsed.length) return Either.left("key ids must be unique")
  return Either.right({ keys: [first, ...rest] })
}

/**
 * Reads `BROKER_ENCRYPTION_KEYS` (`id:base64,id:base64`, newest first); `None` when it is unset.
 *
 * @since 0.1.0
 * @category config
 */
export const fromConfig: Effect.Effect<Option.Option<Encryption>, ConfigError.ConfigError> = Effect.flatMap(
  Config.option(Config.redacted("BROKER_ENCRYPTION_KEYS")),
  (value) => {
    if (Option.isNone(value)) return Effect.succeed(Option.none())
    const entries = Redacted.value(value.value).split(",").map((s) => s.trim()).filter((s) => s.length > 0)
    return Either.match(make(entries), {
      onLeft: (problem) => Effect.fail(ConfigError.InvalidData(["BROKER_ENCRYPTION_KEYS"], problem)),
      onRight: (encryption) => Effect.succeed(Option.some(encryption))
    })
  }
)

/**
 * Encrypts one JSON value with the newest key.
 *
 * @since 0.1.0
 * @category encryption
 */
export const encryptValue = (encryption: Encryption, value: unknown): {
  /**
   * `v1.<key id>.<iv>.<tag>.<ciphertext>` (base64url): the JSON of the value encrypted with AES-256-GCM under the
   * first key.
   */
  readonly [marker]: string
} => {
  const key = encryption.keys[0]
  const iv = randomBytes(12)
  const cipher = createCipheriv("aes-256-gcm", Redacted.value(key.key), iv)
  const ciphertext = Buffer.concat([cipher.update(JSON.stringify(value), "utf8"), cipher.final()])
  const tag = cipher.getAuthTag()
  return {
    [marker]: ["v1", key.id, iv.toString("base64url"), tag.toString("base64url"), ciphertext.toString("base64url")]
      .join(".")
  }
}

/**
 * Decrypts a value made by {@link encryptValue} with whichever configured key made it. Throws if no key fits or
 * the ciphertext was tampered with.
 *
 * @since 0.1.0
 * @category encryption
 */
export const decryptValue = (encryption: Encryption, sealed: string): unknown => {
  const [version, id, iv, tag, ciphertext] = sealed.split(".")
  const key = encryption.keys.find((k) => k.id === id)
  if (version !== "v1" || key === undefined || iv === undefined || tag === undefined || ciphertext === undefined) {
    throw new Error(`cannot decrypt a stored secret: no configured key "${id}"`)
  }
  const decipher = createDecipheriv("aes-256-gcm", Redacted.value(key.key), Buffer.from(iv, "base64url"))
  decipher.setAuthTag(Buffer.from(tag, "base64url"))
  const plain = Buffer.concat([decipher.update(Buffer.from(ciphertext, "base64url")), decipher.final()])
  return JSON.parse(plain.toString("utf8"))
}

const isSealed = (u: unknown): u is { readonly [marker]: string } =>
  typeof u === "object" && u !== null && !Array.isArray(u) && Object.keys(u).length === 1 &&
  typeof (u as Record<string, unknown>)[marker] === "string"

const mapRecord = (value: unknown, onSecret: (key: string, value: unknown) => unknown): unknown => {
  if (Array.isArray(value)) return value.map((v) => mapRecord(v, onSecret))
  if (typeof value !== "object" || value === null) return value
  const out: Record<string, unknown> = {}
  for (const [key, child] of Object.entries(value)) {
    out[key] = secretFields.includes(key) ? onSecret(key, child) : mapRecord(child, onSecret)
  }
  return out
}

/**
 * Encrypts every secret field of a stored record (values under `parameters` and `credentials`).
 *
 * @since 0.1.0
 * @category encryption
 */
export const encryptRecord = (encryption: Encryption, record: unknown): unknown =>
  mapRecord(record, (_, value) => (value === undefined || isSealed(value) ? value : encryptValue(encryption, value)))

/**
 * Decrypts every secret field of a stored record; plain (unencrypted) values pass through, so encryption can be
 * turned on for an existing store.
 *
 * @since 0.1.0
 * @category encryption
 */
export const decryptRecord = (encryption: Encryption, record: unknown): unknown =>
  mapRecord(record, (_, value) => (isSealed(value) ? decryptValue(encryption, value[marker]) : value))
