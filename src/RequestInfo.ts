/**
 * What every OSB request carries besides its body: the API version, the originating identity and the request
 * identity. Pure parsing, no HTTP.
 *
 * @since 0.1.0
 * @module
 */
import * as Either from "effect/Either"
import * as Option from "effect/Option"
import * as ParseResult from "effect/ParseResult"
import * as Schema from "effect/Schema"
import { OriginatingIdentity } from "./Model.js"

/**
 * An `X-Broker-API-Version` value, `MAJOR.MINOR`, compared numerically.
 *
 * @since 0.1.0
 * @category models
 */
export interface ApiVersion {
  /** The major version (`2` for every OSB v2 API). */
  readonly major: number
  /** The minor version, e.g. `17` for 2.17. */
  readonly minor: number
}

const versionPattern = /^(\d{1,6})\.(\d{1,6})$/

/**
 * Parses `MAJOR.MINOR` (e.g. `2.17`); anything else is `None`.
 *
 * @since 0.1.0
 * @category parsing
 */
export const parseApiVersion = (value: string): Option.Option<ApiVersion> => {
  const match = versionPattern.exec(value.trim())
  return match === null ? Option.none() : Option.some({ major: Number(match[1]), minor: Number(match[2]) })
}

/**
 * Compares two versions numerically, component by component (2.9 < 2.17 < 2.100).
 *
 * @since 0.1.0
 * @category ordering
 */
export const compareApiVersion = (a: ApiVersion, b: ApiVersion): -1 | 0 | 1 =>
  a.major !== b.major ? (a.major < b.major ? -1 : 1) : a.minor === b.minor ? 0 : a.minor < b.minor ? -1 : 1

/**
 * Renders a version as `MAJOR.MINOR`.
 *
 * @since 0.1.0
 * @category rendering
 */
export const formatApiVersion = (version: ApiVersion): string => `${version.major}.${version.minor}`

/**
 * The newest OSB API version this library implements.
 *
 * @since 0.1.0
 * @category constants
 */
export const latestApiVersion: ApiVersion = { major: 2, minor: 17 }

/**
 * The `X-Broker-API-Originating-Identity` header as the handler sees it (OID-5): absent, decoded, or present but
 * malformed (the raw value and the reason are kept).
 *
 * @since 0.1.0
 * @category models
 */
export type OriginatingIdentityHeader =
  | {
    /** The request had no `X-Broker-API-Originating-Identity` header. */
    readonly _tag: "Absent"
  }
  | {
    /** The header is well formed. */
    readonly _tag: "Decoded"
    /** The header's value as sent. */
    readonly raw: string
    /** The platform and its decoded identity object. */
    readonly identity: OriginatingIdentity
  }
  | {
    /** The header is present but not `<platform> <base64 of a JSON object>`. */
    readonly _tag: "Malformed"
    /** The header's value as sent. */
    readonly raw: string
    /** What is wrong with it. */
    readonly reason: string
  }

const absent: OriginatingIdentityHeader = { _tag: "Absent" }
const decodeIdentity = Schema.decodeUnknownEither(OriginatingIdentity)
const base64Pattern = /^[A-Za-z0-9+/]*={0,2}$/

/**
 * Decodes an `X-Broker-API-Originating-Identity` value: `<platform> <base64 of a JSON object>` (OID-1).
 *
 * @since 0.1.0
 * @category parsing
 */
export const parseOriginatingIdentity = (raw: string | undefined): OriginatingIdentityHeader => {
  if (raw === undefined) return absent
  const malformed = (reason: string): OriginatingIdentityHeader => ({ _tag: "Malformed", raw, reason })
  const space = raw.indexOf(" ")
  if (space <= 0) return malformed("expected '<platform> <base64 JSON object>'")
  const platform = raw.slice(0, space)
  const encoded = raw.slice(space + 1).trim()
  if (encoded.length === 0 || !base64Pattern.test(encoded)) return malformed("the value is not Base64")
  let value: unknown
  try {
    value = JSON.parse(Buffer.from(encoded, "base64").toString("utf8"))
  } catch {
    return malformed("the value is not Base64-encoded JSON")
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    return malformed("the value is not a JSON object")
  }
  return Either.match(decodeIdentity({ platform, value }), {
    onLeft: (error) =>
      malformed(
        ParseResult.ArrayFormatter.formatErrorSync(error)
          .map((issue) => `${issue.path.join(".")}: ${issue.message}`)
          .join("; ")
      ),
    onRight: (identity) => ({ _tag: "Decoded", raw, identity })
  })
}

/**
 * Encodes an identity into a header value (for clients and tests).
 *
 * @since 0.1.0
 * @category rendering
 */
export const formatOriginatingIdentity = (identity: OriginatingIdentity): string =>
  `${identity.platform} ${Buffer.from(JSON.stringify(identity.value), "utf8").toString("base64")}`

/**
 * The request data shared by every broker operation.
 *
 * @since 0.1.0
 * @category models
 */
export interface RequestInfo {
  /** The `X-Broker-API-Version` the platform sent. */
  readonly apiVersion: ApiVersion
  /** The decoded `X-Broker-API-Originating-Identity` header. */
  readonly originatingIdentity: OriginatingIdentityHeader
  /** The `X-Broker-API-Request-Identity` header, if any. */
  readonly requestIdentity: Option.Option<string>
}
