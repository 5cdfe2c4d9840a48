/**
 * The safe SQL building blocks of the PostgreSQL broker: names derived from ids (never from user input), quoting
 * of identifiers and literals for the statements that take no parameters (CREATE DATABASE, CREATE ROLE, GRANT,
 * ...), random passwords and their SCRAM-SHA-256 verifiers.
 */
import { createHash, createHmac, pbkdf2Sync, randomBytes } from "node:crypto"

/** PostgreSQL truncates identifiers to 63 bytes (NAMEDATALEN - 1); ours are never that long. */
export const maxIdentifierBytes = 63

/**
 * Quotes an identifier: `"name"`, with `"` doubled. Rejects what PostgreSQL would truncate or refuse (empty,
 * over 63 bytes, NUL), so a quoted name always means exactly the name given.
 */
export const quoteIdent = (name: string): string => {
  if (name.length === 0 || Buffer.byteLength(name, "utf8") > maxIdentifierBytes || name.includes("\0")) {
    throw new Error(`not a usable PostgreSQL identifier (${Buffer.byteLength(name, "utf8")} bytes)`)
  }
  return `"${name.replaceAll("\"", "\"\"")}"`
}

/**
 * Quotes a string literal like PostgreSQL's `quote_literal`: `'` doubled, and with a backslash the `E'...'` form
 * with `\` doubled, which means the same whatever `standard_conforming_strings` says.
 */
export const quoteLiteral = (value: string): string => {
  if (value.includes("\0")) throw new Error("a PostgreSQL string cannot contain NUL")
  const quoted = value.replaceAll("'", "''")
  return value.includes("\\") ? `E'${quoted.replaceAll("\\", "\\\\")}'` : `'${quoted}'`
}

/** A non-negative integer for the statements that take a number literal (CONNECTION LIMIT). */
export const integerLiteral = (value: number): string => {
  if (!Number.isSafeInteger(value)) throw new Error("not an integer")
  return String(value)
}

/** 40 hex digits (160 bits) of SHA-256 over the parts, JSON-encoded so that no two part lists collide. */
const digest = (...parts: ReadonlyArray<string>): string =>
  createHash("sha256").update(JSON.stringify(parts), "utf8").digest("hex").slice(0, 40)

/** The names of an instance's database and of the role that owns it. */
export interface InstanceNames {
  readonly database: string
  readonly owner: string
}

/** `osb_db_<hash>` and `osb_owner_<hash>`, the hash of the instance id (any length, any characters). */
export const instanceNames = (instanceId: string): InstanceNames => {
  const hash = digest("instance", instanceId)
  return { database: `osb_db_${hash}`, owner: `osb_owner_${hash}` }
}

/** The prefix of every binding role, to find them in the server's catalog. */
export const bindingRolePrefix = "osb_bind_"

/** `osb_bind_<hash>`, the hash of the instance id and the binding id. */
export const bindingRoleName = (instanceId: string, bindingId: string): string =>
  `${bindingRolePrefix}${digest("binding", instanceId, bindingId)}`

/** A random password: 24 bytes (192 bits) in base64url, 32 characters that need no escaping anywhere. */
export const newPassword = (): string => randomBytes(24).toString("base64url")

/**
 * The SCRAM-SHA-256 verifier PostgreSQL stores for a password (RFC 5802/7677, as `pg_authid.rolpassword` keeps
 * it). Handing the server the verifier instead of the password keeps the password out of the statement text, so
 * out of the server's statement logs and `pg_stat_activity`. (SASLprep leaves our ASCII passwords unchanged.)
 */
export const scramSha256 = (password: string, salt: Buffer = randomBytes(16), iterations = 4096): string => {
  const salted = pbkdf2Sync(password, salt, iterations, 32, "sha256")
  const clientKey = createHmac("sha256", salted).update("Client Key").digest()
  const storedKey = createHash("sha256").update(clientKey).digest()
  const serverKey = createHmac("sha256", salted).update("Server Key").digest()
  return `SCRAM-SHA-256$${iterations}:${salt.toString("base64")}$${storedKey.toString("base64")}:${
    serverKey.toString("base64")
  }`
}

/** Whether `password` is the one a SCRAM-SHA-256 verifier was made from (what the server checks at login). */
export const scramMatches = (verifier: string, password: string): boolean => {
  const match = /^SCRAM-SHA-256\$(\d+):([^$]+)\$([^:]+):(.+)$/.exec(verifier)
  if (match === null) return false
  return scramSha256(password, Buffer.from(match[2]!, "base64"), Number(match[1])) === verifier
}
