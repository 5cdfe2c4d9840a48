/**
 * HTTPS for `Server.layer`: a certificate and key (PEM files), optionally a CA whose client certificates the
 * server asks for (mutual TLS, checked by `BrokerAuth.clientCertificate`). The files are read again on SIGHUP and
 * when they change on disk; new connections get the new certificate, open connections are kept.
 *
 * @since 0.1.0
 * @module
 */
import * as Config from "effect/Config"
import * as ConfigError from "effect/ConfigError"
import type * as Duration from "effect/Duration"
import * as Either from "effect/Either"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"

/**
 * Where the server's TLS material lives.
 *
 * @since 0.1.0
 * @category models
 */
export interface TlsOptions {
  /** PEM file with the server certificate (and its intermediate certificates). */
  readonly certFile: string
  /** PEM file with the server's private key. */
  readonly keyFile: string
  /**
   * PEM file with the certificate authorities that sign platforms' client certificates. When given, the server
   * asks every client for a certificate and verifies it against these CAs; a connection without one (or with an
   * unverified one) is still accepted, so `BrokerAuth` decides (a JSON 401, or Basic auth instead).
   */
  readonly caFile?: string
  /** Read the files again on SIGHUP and when they change (checked every `watchInterval`). Default true. */
  readonly reload?: boolean
  /** How often the files are checked for changes. Default 2 seconds. */
  readonly watchInterval?: Duration.DurationInput
}

/**
 * The TLS files could not be read or do not form a valid certificate and key.
 *
 * @since 0.1.0
 * @category errors
 */
export class TlsError extends Schema.TaggedError<TlsError>("effect-osb/TlsError")("TlsError", {
  /** What is wrong, naming the setting (`TLS_CERT_FILE`, `TLS_KEY_FILE`, `TLS_CA_FILE`) or file. */
  reason: Schema.String,
  /** The underlying error (an unreadable file, a key that does not match the certificate...), when there is one. */
  cause: Schema.optional(Schema.Defect)
}) {
  /** The reason. */
  override get message(): string {
    return this.reason
  }
}

/**
 * TLS from configuration: `TLS_CERT_FILE` and `TLS_KEY_FILE` (both or neither), optional `TLS_CA_FILE` (client
 * certificates). `None` when neither is set: the server speaks plain HTTP.
 *
 * @since 0.1.0
 * @category config
 */
export const config: Config.Config<Option.Option<TlsOptions>> = Config.all({
  cert: Config.option(Config.nonEmptyString("TLS_CERT_FILE")),
  key: Config.option(Config.nonEmptyString("TLS_KEY_FILE")),
  ca: Config.option(Config.nonEmptyString("TLS_CA_FILE"))
}).pipe(Config.mapOrFail(({ ca, cert, key }) => {
  if (Option.isNone(cert) && Option.isNone(key)) {
    return Option.isSome(ca)
      ? Either.left(ConfigError.InvalidData(["TLS_CA_FILE"], "TLS_CA_FILE needs TLS_CERT_FILE and TLS_KEY_FILE."))
      : Either.right(Option.none())
  }
  if (Option.isNone(cert) || Option.isNone(key)) {
    return Either.left(
      ConfigError.InvalidData(["TLS_KEY_FILE"], "Set both TLS_CERT_FILE and TLS_KEY_FILE, or neither.")
    )
  }
  return Either.right(Option.some<TlsOptions>(
    Option.isSome(ca)
      ? { certFile: cert.value, keyFile: key.value, caFile: ca.value }
      : { certFile: cert.value, keyFile: key.value }
  ))
}))
