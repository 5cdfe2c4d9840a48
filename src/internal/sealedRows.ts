/**
 * How the SQL store writes and reads the payload column of a row. Three shapes, told apart by their first bytes:
 * - plain JSON (`{...}`): written without encryption; read as data, whatever it contains;
 * - an envelope (`enc1.<key id>...`, see `Encryption.seal`): the row's whole record sealed under associated data
 *   naming its table, ids and column, so an envelope copied into another row does not open;
 * - `legacy:` + JSON: a row written by an earlier version with `BROKER_ENCRYPTION_KEYS` set, whose `parameters` and
 *   `credentials` values were `{"$encrypted":"v1.<key id>.<iv>.<tag>.<ct>"}` (migration 2 marks such rows). Only these
 *   rows have their markers decrypted, and `effect-osb store rekey` turns them into envelopes.
 *
 * @internal
 */
import * as Either from "effect/Either"
import * as Redacted from "effect/Redacted"
import { createDecipheriv } from "node:crypto"
import type { Encryption } from "../Encryption.js"
import { envelopeKeyId, envelopePrefix, open, seal } from "../Encryption.js"

/**
 * Where a payload lives: its table, its ids (instance id, then binding or operation id) and its column.
 *
 * @internal
 */
export interface RowPlace {
  readonly table: "osb_instances" | "osb_bindings" | "osb_operations"
  readonly instanceId: string
  readonly id?: string | undefined
  readonly column: "record"
}

/**
 * The prefix migration 2 gives rows written by an earlier version's encryption.
 *
 * @internal
 */
export const legacyPrefix = "legacy:"

/** The associated data of a place: unambiguous (JSON array), never stored. */
const associatedData = (place: RowPlace): string =>
  JSON.stringify(["effect-osb", place.table, place.column, place.instanceId, place.id ?? null])

/**
 * Names a place in messages (ids only, never contents).
 *
 * @internal
 */
export const describePlace = (place: RowPlace): string => {
  const what = place.table === "osb_instances" ? "instance" : place.table === "osb_bindings" ? "binding" : "operation"
  return place.id === undefined
    ? `${what} ${JSON.stringify(place.instanceId)} (${place.table}.${place.column})`
    : `${what} ${JSON.stringify(place.id)} of instance ${
      JSON.stringify(place.instanceId)
    } (${place.table}.${place.column})`
}

/**
 * A payload that cannot be read: the message names the record and the key id, never a key or the contents.
 *
 * @internal
 */
export class UnreadableRow extends Error {
  constructor(readonly place: RowPlace, readonly keyId: string | undefined, reason: string) {
    super(
      `the stored ${describePlace(place)} cannot be read: ${reason}` +
        (keyId === undefined ? "" : ` (key id ${JSON.stringify(keyId)})`)
    )
    this.name = "UnreadableRow"
  }
}

const reasons = {
  "unknown key": "it was encrypted with a key that is not in BROKER_ENCRYPTION_KEYS",
  "does not authenticate": "its ciphertext does not authenticate (altered, or copied from another record)",
  malformed: "its envelope is malformed"
} as const

/**
 * Whether a stored payload is encrypted (an envelope or a legacy row): such a store needs its keys.
 *
 * @internal
 */
export const isEncrypted = (text: string): boolean => text.startsWith(envelopePrefix) || text.startsWith(legacyPrefix)

/**
 * The payload to store for a record's JSON: plain without encryption, else one envelope under the first key.
 *
 * @internal
 */
export const sealRow = (encryption: Encryption | undefined, place: RowPlace, json: string): string =>
  encryption === undefined ? json : seal(encryption, json, associatedData(place))

/**
 * Whether a payload is already what {@link sealRow} writes with this encryption (rekey skips it).
 *
 * @internal
 */
export const isCurrent = (encryption: Encryption, text: string): boolean =>
  envelopeKeyId(text) === encryption.keys[0].id

/** Decrypts one `v1` value of an earlier version (no associated data). */
const decryptLegacyValue = (encryption: Encryption, place: RowPlace, sealed: string): unknown => {
  const [version, id, iv, tag, ciphertext] = sealed.split(".")
  const key = encryption.keys.find((k) => k.id === id)
  if (key === undefined) throw new UnreadableRow(place, id, reasons["unknown key"])
  if (version !== "v1" || iv === undefined || tag === undefined || ciphertext === undefined) {
    throw new UnreadableRow(place, id, reasons.malformed)
  }
  try {
    const decipher = createDecipheriv("aes-256-gcm", Redacted.value(key.key), Buffer.from(iv, "base64url"))
    decipher.setAuthTag(Buffer.from(tag, "base64url"))
    return JSON.parse(
      Buffer.concat([decipher.update(Buffer.from(ciphertext, "base64url")), decipher.final()]).toString()
    )
  } catch {
    throw new UnreadableRow(place, id, reasons["does not authenticate"])
  }
}

/** Whether a value is an earlier version's `{"$encrypted": "..."}` marker. */
const isLegacyMarker = (u: unknown): u is { readonly $encrypted: string } =>
  typeof u === "object" && u !== null && !Array.isArray(u) && Object.keys(u).length === 1 &&
  typeof (u as Record<string, unknown>)["$encrypted"] === "string"

/** The earlier version's fields whose values it encrypted, wherever they appear. */
const legacySecretFields: ReadonlySet<string> = new Set(["parameters", "credentials"])

/** A legacy record with its markers decrypted (markers appear only at the fields that version encrypted). */
const openLegacy = (encryption: Encryption, place: RowPlace, value: unknown): unknown => {
  if (Array.isArray(value)) return value.map((v) => openLegacy(encryption, place, v))
  if (typeof value !== "object" || value === null) return value
  const out: Record<string, unknown> = {}
  for (const [key, child] of Object.entries(value)) {
    out[key] = legacySecretFields.has(key) && isLegacyMarker(child)
      ? decryptLegacyValue(encryption, place, child.$encrypted)
      : openLegacy(encryption, place, child)
  }
  return out
}

/**
 * The record a stored payload holds (parsed JSON). Throws {@link UnreadableRow} when it is encrypted and cannot be
 * opened with the configured keys (or none are configured).
 *
 * @internal
 */
export const openRow = (encryption: Encryption | undefined, place: RowPlace, text: string): unknown => {
  if (text.startsWith(envelopePrefix)) {
    if (encryption === undefined) {
      throw new UnreadableRow(place, envelopeKeyId(text), "it is encrypted and BROKER_ENCRYPTION_KEYS is not set")
    }
    return Either.match(open(encryption, text, associatedData(place)), {
      onLeft: (problem) => {
        throw new UnreadableRow(place, problem.keyId, reasons[problem.reason])
      },
      onRight: (json) => JSON.parse(json) as unknown
    })
  }
  if (text.startsWith(legacyPrefix)) {
    if (encryption === undefined) {
      throw new UnreadableRow(place, undefined, "it is encrypted and BROKER_ENCRYPTION_KEYS is not set")
    }
    return openLegacy(encryption, place, JSON.parse(text.slice(legacyPrefix.length)))
  }
  return JSON.parse(text)
}
