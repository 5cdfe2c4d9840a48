/**
 * Encryption at rest (AES-256-GCM, node:crypto): a SQL store seals each record it writes as one envelope
 * (`enc1.<key id>.<iv>.<tag>.<ciphertext>`) bound by associated data to its table, ids and column. Several keys
 * can be configured: the first seals, every key opens, and `effect-osb store rekey` rewrites every record under
 * the first key so an old key can be dropped.
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
 * The prefix of a sealed text (an envelope): `enc1.<key id>.<iv>.<tag>.<ciphertext>`, base64url parts. JSON never
 * starts with it, so a stored column tells by its first bytes whether it holds an envelope; nothing inside a
 * JSON value is ever taken for ciphertext.
 *
 * @since 0.1.0
 * @category constants
 */
export const envelopePrefix = "enc1."

/**
 * Why an envelope cannot be opened. `keyId` names the key that sealed it (never the key itself).
 *
 * @since 0.1.0
 * @category models
 */
export interface OpenProblem {
  /** The id of the key the envelope names (never the key). */
  readonly keyId: string
  /** No configured key has that id; the ciphertext, tag or associated data do not match; or not an envelope. */
  readonly reason: "unknown key" | "does not authenticate" | "malformed"
}

/**
 * Seals a text with the first key (AES-256-GCM, a fresh 96-bit IV). `associatedData` is authenticated, not
 * stored: the envelope opens only with the same associated data, so a store binds each envelope to its table,
 * ids and column and a ciphertext copied to another place fails to open.
 *
 * @since 0.1.0
 * @category encryption
 */
export const seal = (encryption: Encryption, plaintext: string, associatedData: string): string => {
  const key = encryption.keys[0]
  const iv = randomBytes(12)
  const cipher = createCipheriv("aes-256-gcm", Redacted.value(key.key), iv)
  cipher.setAAD(Buffer.from(associatedData, "utf8"))
  const ciphertext = Buffer.concat([cipher.update(plaintext, "utf8"), cipher.final()])
  return `${envelopePrefix}${key.id}.${iv.toString("base64url")}.${cipher.getAuthTag().toString("base64url")}.${
    ciphertext.toString("base64url")
  }`
}

/**
 * The id of the key that sealed an envelope, `undefined` for a text that is not an envelope.
 *
 * @since 0.1.0
 * @category encryption
 */
export const envelopeKeyId = (text: string): string | undefined => {
  if (!text.startsWith(envelopePrefix)) return undefined
  const end = text.indexOf(".", envelopePrefix.length)
  return end < 0 ? undefined : text.slice(envelopePrefix.length, end)
}

/** Whether a part is base64url as `seal` writes it (no other spelling of the same bytes is accepted). */
const canonical = (part: string): boolean => Buffer.from(part, "base64url").toString("base64url") === part

/**
 * Opens an envelope made by {@link seal} with the configured key it names and the same associated data.
 *
 * @since 0.1.0
 * @category encryption
 */
export const open = (
  encryption: Encryption,
  envelope: string,
  associatedData: string
): Either.Either<string, OpenProblem> => {
  const [, id = "", iv, tag, ciphertext, ...extra] = envelope.slice(envelopePrefix.length - 1).split(".")
  if (
    iv === undefined || tag === undefined || ciphertext === undefined || extra.length > 0 ||
    !canonical(iv) || !canonical(tag) || !canonical(ciphertext)
  ) {
    return Either.left({ keyId: id, reason: "malformed" })
  }
  const key = encryption.keys.find((k) => k.id === id)
  if (key === undefined) return Either.left({ keyId: id, reason: "unknown key" })
  try {
    const decipher = createDecipheriv("aes-256-gcm", Redacted.value(key.key), Buffer.from(iv, "base64url"))
    decipher.setAAD(Buffer.from(associatedData, "utf8"))
    decipher.setAuthTag(Buffer.from(tag, "base64url"))
    const plain = Buffer.concat([decipher.update(Buffer.from(ciphertext, "base64url")), decipher.final()])
    return Either.right(plain.toString("utf8"))
  } catch {
    return Either.left({ keyId: id, reason: "does not authenticate" })
  }
}
