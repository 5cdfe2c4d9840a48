/**
 * How the broker authenticates the platform: HTTP Basic with one or more credentials (constant-time comparison),
 * a custom verifier, or an explicit "none". The router runs it before anything else (decision 1).
 *
 * @since 0.1.0
 * @module
 */
import * as Config from "effect/Config"
import * as ConfigError from "effect/ConfigError"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Exit from "effect/Exit"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import { createHash, timingSafeEqual } from "node:crypto"
import type { Socket } from "node:net"
import type { TLSSocket } from "node:tls"
import * as Fast from "./internal/fast.js"
import { Unauthorized } from "./OsbError.js"

/**
 * One Basic credential.
 *
 * @since 0.1.0
 * @category models
 */
export interface BasicCredential {
  /** The user name the platform must send. */
  readonly username: string
  /** The password the platform must send; `Redacted` so it never reaches a log. */
  readonly password: Redacted.Redacted<string>
}

/**
 * What a verifier sees: the request headers (lower-case names) and, when served by `Server.layer`, the
 * connection (a `TLSSocket` over HTTPS, carrying the platform's client certificate).
 *
 * @since 0.1.0
 * @category models
 */
export interface AuthRequest {
  /** The request headers by lower-case name (`authorization` is the one Basic reads). */
  readonly headers: Readonly<Record<string, string | undefined>>
  /**
   * The connection the request came on, when served by `Server.layer`; a `TLSSocket` over HTTPS, whose peer
   * certificate `clientCertificate` checks.
   */
  readonly socket?: Socket | undefined
}

/**
 * The authentication service: succeeds or fails with `Unauthorized`.
 *
 * @since 0.1.0
 * @category models
 */
export interface BrokerAuthService {
  /**
   * Which verifier this is: `basic`, `client-certificate`, `custom`, `none`, or a combination made with `either` or
   * `both`.
   */
  readonly kind: "basic" | "custom" | "none" | "client-certificate" | "either" | "both"
  /**
   * Accepts the request (succeeds) or refuses it with `Unauthorized` (a 401 with a `WWW-Authenticate: Basic`
   * challenge). Runs before the body is read.
   */
  readonly authenticate: (request: AuthRequest) => Effect.Effect<void, Unauthorized>
}

/**
 * The authentication service tag.
 *
 * @since 0.1.0
 * @category tags
 */
export class BrokerAuth extends Context.Tag("effect-osb/BrokerAuth")<BrokerAuth, BrokerAuthService>() {}

const digest = (value: string): Buffer => createHash("sha256").update(value, "utf8").digest()

/**
 * Parses an `Authorization: Basic ...` header into username and password. The password may contain `:`.
 *
 * @since 0.1.0
 * @category parsing
 */
export const parseBasic = (header: string | undefined): Option.Option<{
  /** The text before the first `:` of the decoded credentials. */
  username: string
  /** The text after the first `:` (it may itself contain `:`). */
  password: string
}> => {
  if (header === undefined) return Option.none()
  const match = /^basic +([A-Za-z0-9+/]+={0,2}) *$/i.exec(header)
  if (match === null) return Option.none()
  const decoded = Buffer.from(match[1]!, "base64").toString("utf8")
  const colon = decoded.indexOf(":")
  if (colon < 0) return Option.none()
  return Option.some({ username: decoded.slice(0, colon), password: decoded.slice(colon + 1) })
}

const unauthorized: Effect.Effect<never, Unauthorized> = Exit.fail(new Unauthorized({}))

/**
 * HTTP Basic with one or more accepted credentials. Stored credentials are hashed once; every attempt is
 * compared against all of them in constant time, so timing reveals neither which user exists nor how much of a
 * password matched.
 *
 * @since 0.1.0
 * @category constructors
 */
export const basic = (credentials: ReadonlyArray<BasicCredential>): BrokerAuthService => {
  if (credentials.length === 0) throw new Error("BrokerAuth.basic needs at least one credential")
  const hashed = credentials.map((c) => ({ user: digest(c.username), pass: digest(Redacted.value(c.password)) }))
  // header values that passed: a platform sends the same one on every request, so it is hashed once. Only
  // successes are kept (an attacker cannot fill the cache) and the cache is small.
  const accepted = new Set<string>()
  return {
    kind: "basic",
    // the answer is computed when `authenticate` is called and returned as an `Exit`: no fiber is needed for it
    authenticate: (request) => {
      const header = request.headers["authorization"]
      if (header !== undefined && accepted.has(header)) return Exit.void
      const parsed = parseBasic(header)
      if (Option.isNone(parsed)) return unauthorized
      const user = digest(parsed.value.username)
      const pass = digest(parsed.value.password)
      let ok = false
      for (const c of hashed) {
        // both comparisons always run: no short circuit
        const match = Number(timingSafeEqual(c.user, user)) & Number(timingSafeEqual(c.pass, pass))
        ok = ok || match === 1
      }
      if (!ok) return unauthorized
      if (accepted.size >= 16) accepted.clear()
      accepted.add(header!)
      return Exit.void
    }
  }
}

/**
 * A custom verifier (bearer tokens, mTLS headers set by a proxy, ...).
 *
 * @since 0.1.0
 * @category constructors
 */
export const custom = (
  authenticate: (request: AuthRequest) => Effect.Effect<void, Unauthorized>
): BrokerAuthService => ({ kind: "custom", authenticate })

/**
 * No authentication at all. Must be chosen explicitly.
 *
 * @since 0.1.0
 * @category constructors
 */
export const none: BrokerAuthService = { kind: "none", authenticate: () => Exit.void }

/**
 * A rule a platform's client certificate must meet. Every field given must match; a rule with no field accepts
 * any certificate the server's CA verified.
 *
 * @since 0.1.0
 * @category models
 */
export interface ClientCertificateRule {
  /** Subject attributes that must all be equal, e.g. `{ CN: "cf-platform", O: "Example" }`. */
  readonly subject?: Readonly<Record<string, string>>
  /** Issuer attributes that must all be equal, e.g. `{ CN: "Platform CA" }`. */
  readonly issuer?: Readonly<Record<string, string>>
  /** One subject alternative name the certificate must carry, as OpenSSL prints it: `DNS:cf.example.com`, `URI:spiffe://...`. */
  readonly san?: string
}

type Attributes = Readonly<Record<string, string | ReadonlyArray<string> | undefined>>

const attributesMatch = (actual: Attributes | undefined, wanted: Readonly<Record<string, string>> | undefined) => {
  if (wanted === undefined) return true
  if (actual === undefined) return false
  for (const name of Object.keys(wanted)) {
    const value = actual[name]
    const ok = typeof value === "string" ? value === wanted[name] : value !== undefined && value.includes(wanted[name]!)
    if (!ok) return false
  }
  return true
}

/** The entries of `subjectaltname` ("DNS:a, IP Address:1.2.3.4"); IP entries are also offered as `IP:1.2.3.4`. */
const altNames = (subjectaltname: string | undefined): ReadonlyArray<string> => {
  if (subjectaltname === undefined || subjectaltname.length === 0) return []
  const names = subjectaltname.split(", ")
  return names.flatMap((name) => (name.startsWith("IP Address:") ? [name, `IP:${name.slice(11)}`] : [name]))
}

const acceptsCertificate = (socket: Socket | undefined, rules: ReadonlyArray<ClientCertificateRule>): boolean => {
  const tls = socket as TLSSocket | undefined
  if (tls === undefined || typeof tls.getPeerCertificate !== "function" || tls.authorized !== true) return false
  const certificate = tls.getPeerCertificate(false)
  if (certificate === null || Object.keys(certificate).length === 0) return false
  const names = altNames(certificate.subjectaltname)
  return rules.some((rule) =>
    attributesMatch(certificate.subject as Attributes, rule.subject) &&
    attributesMatch(certificate.issuer as Attributes, rule.issuer) &&
    (rule.san === undefined || names.includes(rule.san))
  )
}

/**
 * Accepts a platform by its client certificate: the connection is TLS, the certificate was verified against the
 * server's CA (`TLS_CA_FILE`, `Server.layer({ tls: { caFile } })`) and it meets one of the rules. The answer is
 * kept per connection (a certificate cannot change on an open connection). Anything else is a 401.
 *
 * @since 0.1.0
 * @category constructors
 */
export const clientCertificate = (rules: ReadonlyArray<ClientCertificateRule>): BrokerAuthService => {
  if (rules.length === 0) throw new Error("BrokerAuth.clientCertificate needs at least one rule")
  const decided = new WeakMap<Socket, boolean>()
  return {
    kind: "client-certificate",
    authenticate: (request) => {
      const socket = request.socket
      if (socket === undefined) return unauthorized
      let ok = decided.get(socket)
      if (ok === undefined) {
        ok = acceptsCertificate(socket, rules)
        decided.set(socket, ok)
      }
      return ok ? Exit.void : unauthorized
    }
  }
}

/**
 * Accepts a request that one of the two verifiers accepts (e.g. a client certificate or Basic credentials).
 *
 * @since 0.1.0
 * @category combinators
 */
export const either = (first: BrokerAuthService, second: BrokerAuthService): BrokerAuthService => ({
  kind: "either",
  authenticate: (request) => Fast.catchAll(first.authenticate(request), () => second.authenticate(request))
})

/**
 * Accepts a request only when both verifiers accept it (e.g. a client certificate and Basic credentials).
 *
 * @since 0.1.0
 * @category combinators
 */
export const both = (first: BrokerAuthService, second: BrokerAuthService): BrokerAuthService => ({
  kind: "both",
  authenticate: (request) => Fast.flatMap(first.authenticate(request), () => second.authenticate(request))
})

/**
 * A layer accepting platforms by their client certificates (see {@link clientCertificate}); with `basic`, Basic
 * credentials too: `require: "either"` (default) accepts either, `"both"` asks for both.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerClientCertificate = (
  rules: ReadonlyArray<ClientCertificateRule>,
  options: {
    readonly basic?: ReadonlyArray<BasicCredential>
    readonly require?: "either" | "both"
  } = {}
): Layer.Layer<BrokerAuth> =>
  Layer.sync(BrokerAuth, () => {
    const certificate = clientCertificate(rules)
    if (options.basic === undefined) return certificate
    return (options.require === "both" ? both : either)(certificate, basic(options.basic))
  })

/**
 * A layer with HTTP Basic authentication.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerBasic = (credentials: ReadonlyArray<BasicCredential>): Layer.Layer<BrokerAuth> =>
  Layer.sync(BrokerAuth, () => basic(credentials))

/**
 * A layer with a custom verifier.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerCustom = (
  authenticate: (request: AuthRequest) => Effect.Effect<void, Unauthorized>
): Layer.Layer<BrokerAuth> => Layer.succeed(BrokerAuth, custom(authenticate))

/**
 * A layer without authentication.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerNone: Layer.Layer<BrokerAuth> = Layer.succeed(BrokerAuth, none)

/**
 * The text of the client-certificate variables (see {@link layerConfig}); every one optional.
 *
 * @since 0.1.0
 * @category models
 */
export interface ClientCertificateRulesText {
  /** Subjects, one of which must match: `CN=cf-platform,O=Example;CN=other`. */
  readonly subjects?: string | undefined
  /** Issuers, one of which must match: `CN=Platform CA`. */
  readonly issuers?: string | undefined
  /** Subject alternative names, one of which the certificate must carry: `DNS:cf.example.com;URI:spiffe://x/y`. */
  readonly sans?: string | undefined
}

/** The alternatives of a list (`;` between them), trimmed; an empty one is an error. */
const alternatives = (text: string, what: string): Either.Either<ReadonlyArray<string>, string> => {
  const items = text.split(";").map((item) => item.trim())
  return items.some((item) => item.length === 0)
    ? Either.left(`an empty ${what} in "${text}" (separate alternatives with ";")`)
    : Either.right(items)
}

/** `CN=cf-platform,O=Example` as attributes; every item is `NAME=value`. */
const distinguishedName = (text: string): Either.Either<Readonly<Record<string, string>>, string> => {
  const attributes: Record<string, string> = {}
  for (const item of text.split(",")) {
    const at = item.indexOf("=")
    const name = item.slice(0, at).trim()
    if (at < 0 || !/^[A-Za-z][\w.-]*$/.test(name)) {
      return Either.left(`"${item.trim()}" in "${text}" is not NAME=value (e.g. CN=cf-platform,O=Example)`)
    }
    attributes[name] = item.slice(at + 1).trim()
  }
  return Either.right(attributes)
}

/** `TYPE:value`, as OpenSSL prints a subject alternative name (`DNS:...`, `URI:...`, `IP Address:...`, `IP:...`). */
const subjectAltName = (text: string): Either.Either<string, string> =>
  /^[A-Za-z][A-Za-z ]*:.+$/.test(text)
    ? Either.right(text)
    : Either.left(`"${text}" is not TYPE:value (e.g. DNS:cf.example.com or URI:spiffe://example.org/platform)`)

const parsedList = <A>(
  text: string | undefined,
  what: string,
  parse: (item: string) => Either.Either<A, string>
): Either.Either<ReadonlyArray<A | undefined>, string> =>
  text === undefined
    ? Either.right([undefined])
    : Either.flatMap(alternatives(text, what), (items) => Either.all(items.map(parse)))

/**
 * Client-certificate rules from text: a certificate is accepted when it matches one of the subjects (if any are
 * given), one of the issuers (if any) and carries one of the SANs (if any). Alternatives are separated by `;`,
 * the attributes of a subject or issuer by `,` (so a value cannot hold `;` or `,`). Fails with what is wrong.
 *
 * @since 0.1.0
 * @category parsing
 */
export const rulesFromText = (
  text: ClientCertificateRulesText
): Either.Either<ReadonlyArray<ClientCertificateRule>, string> =>
  Either.gen(function*() {
    if (text.subjects === undefined && text.issuers === undefined && text.sans === undefined) {
      return yield* Either.left("no subject, issuer or SAN given")
    }
    const subjects = yield* parsedList(text.subjects, "subject", distinguishedName)
    const issuers = yield* parsedList(text.issuers, "issuer", distinguishedName)
    const sans = yield* parsedList(text.sans, "SAN", subjectAltName)
    const rules: Array<ClientCertificateRule> = []
    for (const subject of subjects) {
      for (const issuer of issuers) {
        for (const san of sans) {
          rules.push({
            ...(subject === undefined ? {} : { subject }),
            ...(issuer === undefined ? {} : { issuer }),
            ...(san === undefined ? {} : { san })
          })
        }
      }
    }
    return rules
  })

const clientCertificateVariables = {
  subjects: "BROKER_CLIENT_CERT_SUBJECTS",
  issuers: "BROKER_CLIENT_CERT_ISSUERS",
  sans: "BROKER_CLIENT_CERT_SANS"
} as const

/** The client-certificate rules of the environment; none when no variable is set. */
const clientCertificateConfig: Effect.Effect<
  Option.Option<ReadonlyArray<ClientCertificateRule>>,
  ConfigError.ConfigError
> = Effect.gen(function*() {
  const text = yield* Config.all({
    subjects: Config.option(Config.nonEmptyString(clientCertificateVariables.subjects)),
    issuers: Config.option(Config.nonEmptyString(clientCertificateVariables.issuers)),
    sans: Config.option(Config.nonEmptyString(clientCertificateVariables.sans))
  })
  if (Option.isNone(text.subjects) && Option.isNone(text.issuers) && Option.isNone(text.sans)) return Option.none()
  const rules = rulesFromText({
    subjects: Option.getOrUndefined(text.subjects),
    issuers: Option.getOrUndefined(text.issuers),
    sans: Option.getOrUndefined(text.sans)
  })
  if (Either.isLeft(rules)) {
    const names = Object.values(clientCertificateVariables)
    return yield* Effect.fail(ConfigError.InvalidData([...names], `${names.join(" / ")}: ${rules.left}.`))
  }
  if (Option.isNone(yield* Config.option(Config.nonEmptyString("TLS_CA_FILE")))) {
    return yield* Effect.fail(
      ConfigError.InvalidData(
        ["TLS_CA_FILE"],
        "Client-certificate rules (BROKER_CLIENT_CERT_*) need TLS_CA_FILE: the CA that signs the platforms' certificates."
      )
    )
  }
  return Option.some(rules.right)
})

/** `BROKER_USERNAME` and `BROKER_PASSWORD`: none when both are unset, an error when only one is. */
const basicConfig: Effect.Effect<Option.Option<BasicCredential>, ConfigError.ConfigError> = Effect.gen(function*() {
  const username = yield* Config.option(Config.nonEmptyString("BROKER_USERNAME"))
  const password = yield* Config.option(Config.redacted("BROKER_PASSWORD"))
  if (Option.isNone(username) && Option.isNone(password)) return Option.none()
  if (Option.isNone(username) || Option.isNone(password) || Redacted.value(password.value).length === 0) {
    return yield* Effect.fail(
      ConfigError.InvalidData(
        ["BROKER_PASSWORD"],
        "Set both BROKER_USERNAME and BROKER_PASSWORD (non-empty), or neither."
      )
    )
  }
  return Option.some({ username: username.value, password: password.value })
})

/** Client certificates, with Basic as `BROKER_CLIENT_CERT_BASIC` says. */
const withCertificates = (rules: ReadonlyArray<ClientCertificateRule>) =>
  Effect.gen(function*() {
    const combine = yield* Config.literal("off", "either", "both")("BROKER_CLIENT_CERT_BASIC").pipe(
      Config.withDefault("off" as const)
    )
    const credential = yield* basicConfig
    const certificate = clientCertificate(rules)
    if (combine === "off") {
      if (Option.isSome(credential)) {
        yield* Effect.logWarning(
          "BROKER_USERNAME and BROKER_PASSWORD are ignored: platforms authenticate by client certificate alone. " +
            "Set BROKER_CLIENT_CERT_BASIC=either or both to accept Basic credentials too."
        )
      }
      return certificate
    }
    if (Option.isNone(credential)) {
      return yield* Effect.fail(
        ConfigError.InvalidData(
          ["BROKER_CLIENT_CERT_BASIC"],
          `BROKER_CLIENT_CERT_BASIC=${combine} needs BROKER_USERNAME and BROKER_PASSWORD.`
        )
      )
    }
    return (combine === "both" ? both : either)(certificate, basic([credential.value]))
  })

/**
 * Authentication from configuration.
 *
 * - HTTP Basic: `BROKER_USERNAME` and `BROKER_PASSWORD`. When both are unset (and no client-certificate rule is
 *   set) it falls back to `admin`/`admin` and logs a warning (for local development only).
 * - Client certificates (mTLS, see {@link clientCertificate}) when any of `BROKER_CLIENT_CERT_SUBJECTS`,
 *   `BROKER_CLIENT_CERT_ISSUERS`, `BROKER_CLIENT_CERT_SANS` is set (see {@link rulesFromText} for their form; they
 *   need `TLS_CA_FILE`). `BROKER_CLIENT_CERT_BASIC` says what Basic adds: `off` (default: the certificate alone),
 *   `either` (a certificate or Basic credentials) or `both` (a certificate and Basic credentials); with `either` or
 *   `both`, `BROKER_USERNAME` and `BROKER_PASSWORD` are required (no `admin`/`admin` fallback).
 *
 * @since 0.1.0
 * @category layers
 */
export const layerConfig: Layer.Layer<BrokerAuth, ConfigError.ConfigError> = Layer.effect(
  BrokerAuth,
  Effect.gen(function*() {
    const rules = yield* clientCertificateConfig
    if (Option.isSome(rules)) return yield* withCertificates(rules.value)
    if (Option.isSome(yield* Config.option(Config.string("BROKER_CLIENT_CERT_BASIC")))) {
      return yield* Effect.fail(
        ConfigError.InvalidData(
          ["BROKER_CLIENT_CERT_BASIC"],
          "BROKER_CLIENT_CERT_BASIC needs a client-certificate rule: set BROKER_CLIENT_CERT_SUBJECTS, " +
            "BROKER_CLIENT_CERT_ISSUERS or BROKER_CLIENT_CERT_SANS."
        )
      )
    }
    const credential = yield* basicConfig
    if (Option.isSome(credential)) return basic([credential.value])
    yield* Effect.logWarning(
      "BROKER_USERNAME and BROKER_PASSWORD are not set: using admin/admin. Set them before exposing this broker."
    )
    return basic([{ username: "admin", password: Redacted.make("admin") }])
  })
)
