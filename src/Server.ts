/**
 * Serving a broker on Node.js: host and port from `Config` (`HOST`, `PORT`), the OSB handler on `node:http`
 * directly (answers known at once are written without starting a fiber), a start-up log line with the address,
 * graceful shutdown on SIGTERM/SIGINT (in-flight requests finish before the process exits) and no per-request
 * tracing span unless asked for. `serve` runs the same handler on any `@effect/platform` `HttpServer` instead.
 *
 * @since 0.1.0
 * @module
 */
import type * as HttpServer from "@effect/platform/HttpServer"
import type { ServeError } from "@effect/platform/HttpServerError"
import * as Cause from "effect/Cause"
import * as Config from "effect/Config"
import type * as ConfigError from "effect/ConfigError"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Layer from "effect/Layer"
import * as Logger from "effect/Logger"
import * as Option from "effect/Option"
import type { Server as HttpServerNode } from "node:http"
import type { BrokerAuth } from "./BrokerAuth.js"
import { BrokerLifecycle, drainOnClose } from "./BrokerLifecycle.js"
import type { Catalog } from "./Catalog.js"
import { makeHandler } from "./internal/core.js"
import * as LoginThrottle from "./internal/loginThrottle.js"
import * as NodeServer from "./internal/nodeServer.js"
import * as Observe from "./internal/observe.js"
import { describeFailure } from "./internal/startup.js"
import * as RequestLog from "./RequestLog.js"
import type { BrokerIncomplete, RouterOptions } from "./Router.js"
import type { ServiceBroker } from "./ServiceBroker.js"
import type { TlsError, TlsOptions } from "./Tls.js"
import * as Tls from "./Tls.js"

/**
 * What a client can hold on the server. Every limit has a default; see the README's Security section.
 *
 * @since 0.1.0
 * @category models
 */
export interface ServerLimits {
  /** Time to receive a request's headers; then 408 and the connection closes. Default 20 s. */
  readonly headersTimeout?: Duration.DurationInput
  /** Time to receive a whole request (headers and body). Default 60 s. */
  readonly requestTimeout?: Duration.DurationInput
  /** Time to receive a body once authentication passed; then 408 and the connection closes. Default 15 s. */
  readonly bodyTimeout?: Duration.DurationInput
  /** Body bytes buffered across all connections at once; beyond it 503 with `Retry-After`. Default 64 MiB. */
  readonly maxBodyBytesInFlight?: number
  /** Open connections at most; further ones are closed at once. Default 1000. */
  readonly maxConnections?: number
}

/**
 * Throttling of failed logins (401 answers to requests that carried an `Authorization` header) per client
 * address: after `delayAfter` failures in `window` each further 401 is
 * answered later (`delayStep` more per failure, at most `maxDelay`); after `maxFailures` the address gets 429
 * with `Retry-After` for `block`, its credentials unchecked. A request that authenticates clears its
 * address's failures, so a client with the right credentials is never delayed.
 *
 * @since 0.1.0
 * @category models
 */
export interface LoginThrottleOptions {
  /** Default 5. */
  readonly delayAfter?: number
  /** Default 250 ms. */
  readonly delayStep?: Duration.DurationInput
  /** Default 2 s. */
  readonly maxDelay?: Duration.DurationInput
  /** Default 20. */
  readonly maxFailures?: number
  /** Default 1 minute. */
  readonly window?: Duration.DurationInput
  /** Default 1 minute. */
  readonly block?: Duration.DurationInput
}

/**
 * Serving options: the router's options plus the address, tracing, limits and the login throttle.
 *
 * @since 0.1.0
 * @category models
 */
export interface ServeOptions extends RouterOptions {
  /** Interface to listen on. Default `127.0.0.1`. */
  readonly host?: string
  /** Port to listen on; 0 picks a free one. Default 8080. */
  readonly port?: number
  /** Create a tracing span per request (needs a tracer installed by you). Default false. */
  readonly tracing?: boolean
  /** On shutdown, how long running operations may take before their leases are released. Default 10 s. */
  readonly drainTimeout?: Duration.DurationInput
  /** Timeouts and caps for clients; see {@link ServerLimits}. */
  readonly limits?: ServerLimits
  /** Failed logins per client address; `false` turns the throttle off. Default on with the documented values. */
  readonly loginThrottle?: LoginThrottleOptions | false
  /** Serve HTTPS with these files (see `Tls`); plain HTTP when absent. */
  readonly tls?: TlsOptions | undefined
}

const millis = (duration: Duration.DurationInput | undefined, fallback: Duration.DurationInput): number =>
  Duration.toMillis(Duration.decode(duration ?? fallback))

/** The limits with their defaults applied. @internal */
export const resolveLimits = (limits: ServerLimits = {}): NodeServer.NodeServerLimits => ({
  headersTimeoutMs: millis(limits.headersTimeout, "20 seconds"),
  requestTimeoutMs: millis(limits.requestTimeout, "60 seconds"),
  bodyTimeoutMs: millis(limits.bodyTimeout, "15 seconds"),
  maxBodyBytesInFlight: limits.maxBodyBytesInFlight ?? 64 * 1024 * 1024,
  maxConnections: limits.maxConnections ?? 1000
})

const throttleOf = (options: LoginThrottleOptions | false | undefined): LoginThrottle.LoginThrottle | undefined =>
  options === false ? undefined : LoginThrottle.make({
    delayAfter: options?.delayAfter ?? 5,
    delayStepMs: millis(options?.delayStep, "250 millis"),
    maxDelayMs: millis(options?.maxDelay, "2 seconds"),
    maxFailures: options?.maxFailures ?? 20,
    windowMs: millis(options?.window, "1 minute"),
    blockMs: millis(options?.block, "1 minute"),
    maxAddresses: 10_000
  })

/**
 * Serves the broker's app (`Router.make().app`) on an `HttpServer` from the context, e.g. one of
 * `@effect/platform-node`'s or Bun's, with the same drain on shutdown as {@link layer}. The platform's HTTP
 * modules are loaded when the layer is built.
 *
 * @since 0.1.0
 * @category layers
 */
export const serve = (
  options: RouterOptions & { readonly tracing?: boolean; readonly drainTimeout?: Duration.DurationInput } = {}
): Layer.Layer<never, BrokerIncomplete, HttpServer.HttpServer | Catalog | ServiceBroker | BrokerAuth> =>
  Layer.unwrapEffect(
    Effect.map(Effect.promise(() => import("./internal/platformServe.js")), (module) => module.serve(options))
  )

/**
 * Serves the broker on a Node.js HTTP server at `host`/`port` (`node:http`, no `@effect/platform-node` server):
 * logs `Listening on http://host:port`; on shutdown drains running operations (mutations get 503 meanwhile),
 * stops accepting connections and lets in-flight requests finish.
 *
 * @example
 * ```ts
 * import { Layer, Redacted } from "effect"
 * import { BrokerAuth, Server } from "effect-osb"
 * import { broker } from "./my-broker.js"
 *
 * // fixed settings instead of environment variables; runMain logs, drains on SIGTERM and exits
 * Server.layer({ host: "0.0.0.0", port: 8080, drainTimeout: "30 seconds" }).pipe(
 *   Layer.provide(broker),
 *   Layer.provide(BrokerAuth.layerBasic([{ username: "platform", password: Redacted.make("s3cret") }])),
 *   Server.runMain
 * )
 * ```
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (
  options: ServeOptions = {}
): Layer.Layer<never, BrokerIncomplete | ServeError | TlsError, Catalog | ServiceBroker | BrokerAuth> =>
  Layer.scopedDiscard(
    Effect.gen(function*() {
      // request metrics and spans wrap the handler only when configured
      const handler = yield* Effect.flatMap(makeHandler(options), Observe.wrapHandler)
      const sink = yield* Effect.serviceOption(RequestLog.RequestLogSink)
      const tls = options.tls
      // the HTTPS module is loaded only when TLS is configured
      const server = tls === undefined
        ? undefined
        : yield* Effect.flatMap(Effect.promise(() => import("./internal/tls.js")), (module) => module.makeServer(tls))
      const address = yield* NodeServer.serve(handler, {
        host: options.host ?? "127.0.0.1",
        port: options.port ?? 8080,
        tracing: options.tracing === true,
        limits: resolveLimits(options.limits),
        throttle: throttleOf(options.loginThrottle),
        log: options.requestLog === false ? undefined : Option.getOrUndefined(sink),
        // an https.Server is an http.Server with TLS underneath (same request, close and connection methods)
        server: server as unknown as HttpServerNode | undefined
      })
      // the admin listener (when there is one) reports ready from now until the drain starts
      yield* Observe.registerServing(yield* Effect.serviceOption(BrokerLifecycle))
      // finalizers run in reverse: the drain runs first, while the server still answers (503 for mutations)
      yield* drainOnClose(options.drainTimeout ?? "10 seconds")
      const host = address.family === "IPv6" ? `[${address.address}]` : address.address
      yield* Effect.logInfo(`Listening on ${tls === undefined ? "http" : "https"}://${host}:${address.port}`)
    })
  )

/**
 * Serves the broker with the address read through `Config`: `HOST` (default 127.0.0.1), `PORT` (default 8080; 0
 * picks a free port, named in the start-up line `Listening on http://host:port`),
 * `BROKER_REQUEST_LOG` (default true: one log line per request), TLS from `TLS_CERT_FILE`, `TLS_KEY_FILE` and
 * `TLS_CA_FILE` (see `Tls.config`; plain HTTP when unset), the limits `BROKER_HEADERS_TIMEOUT_MS`,
 * `BROKER_REQUEST_TIMEOUT_MS`, `BROKER_BODY_TIMEOUT_MS`, `BROKER_MAX_BODY_BYTES_IN_FLIGHT`,
 * `BROKER_MAX_CONNECTIONS`, and the login throttle `BROKER_LOGIN_MAX_FAILURES` (0 turns it off) and
 * `BROKER_LOGIN_BLOCK_MS`. Values given in `options` are the defaults the variables override.
 *
 * @example
 * ```ts
 * import { Layer } from "effect"
 * import { BrokerAuth, Server } from "effect-osb"
 * import { broker } from "./my-broker.js" // a Layer providing Catalog and ServiceBroker
 *
 * // PORT=8080 HOST=0.0.0.0 BROKER_USERNAME=... BROKER_PASSWORD=... node main.js
 * Server.layerConfig().pipe(Layer.provide(broker), Layer.provide(BrokerAuth.layerConfig), Server.runMain)
 * ```
 *
 * @since 0.1.0
 * @category layers
 */
export const layerConfig = (
  options: Omit<ServeOptions, "host" | "port"> = {}
): Layer.Layer<
  never,
  BrokerIncomplete | ServeError | TlsError | ConfigError.ConfigError,
  Catalog | ServiceBroker | BrokerAuth
> =>
  Layer.unwrapEffect(
    Effect.map(
      Config.all({
        host: Config.string("HOST").pipe(Config.withDefault("127.0.0.1")),
        port: listenPort("PORT").pipe(Config.withDefault(8080)),
        requestLog: Config.boolean("BROKER_REQUEST_LOG").pipe(Config.withDefault(options.requestLog ?? true)),
        tls: Tls.config,
        headersTimeout: positive("BROKER_HEADERS_TIMEOUT_MS"),
        requestTimeout: positive("BROKER_REQUEST_TIMEOUT_MS"),
        bodyTimeout: positive("BROKER_BODY_TIMEOUT_MS"),
        maxBodyBytesInFlight: positive("BROKER_MAX_BODY_BYTES_IN_FLIGHT"),
        maxConnections: positive("BROKER_MAX_CONNECTIONS"),
        maxFailures: Config.option(
          Config.integer("BROKER_LOGIN_MAX_FAILURES").pipe(
            Config.validate({ message: "must be 0 (off) or more", validation: (n) => n >= 0 })
          )
        ),
        block: positive("BROKER_LOGIN_BLOCK_MS")
      }),
      (config) => {
        const limits: ServerLimits = { ...options.limits }
        const set = <K extends keyof ServerLimits>(key: K, value: Option.Option<ServerLimits[K]>) => {
          if (Option.isSome(value)) Object.assign(limits, { [key]: value.value })
        }
        set("headersTimeout", Option.map(config.headersTimeout, Duration.millis))
        set("requestTimeout", Option.map(config.requestTimeout, Duration.millis))
        set("bodyTimeout", Option.map(config.bodyTimeout, Duration.millis))
        set("maxBodyBytesInFlight", config.maxBodyBytesInFlight)
        set("maxConnections", config.maxConnections)
        const throttle = options.loginThrottle
        const loginThrottle: LoginThrottleOptions | false =
          Option.isSome(config.maxFailures) && config.maxFailures.value === 0
            ? false
            : {
              ...(throttle === false ? {} : throttle),
              ...Option.match(config.maxFailures, { onNone: () => ({}), onSome: (maxFailures) => ({ maxFailures }) }),
              ...Option.match(config.block, { onNone: () => ({}), onSome: (ms) => ({ block: Duration.millis(ms) }) })
            }
        return layer({
          ...options,
          host: config.host,
          port: config.port,
          requestLog: config.requestLog,
          limits,
          loginThrottle: throttle === false && Option.isNone(config.maxFailures) ? false : loginThrottle,
          tls: Option.getOrUndefined(Option.orElse(config.tls, () => Option.fromNullable(options.tls)))
        })
      }
    )
  )

/**
 * A port to listen on: 0 (a free port, which the start-up line names) to 65535. Not `Config.port`, which refuses
 * 0.
 */
const listenPort = (name: string): Config.Config<number> =>
  Config.integer(name).pipe(
    Config.validate({
      message: "Expected a port number from 0 (any free port) to 65535",
      validation: (n) => n >= 0 && n <= 65535
    })
  )

/** An optional positive integer variable. */
const positive = (name: string): Config.Config<Option.Option<number>> =>
  Config.option(
    Config.integer(name).pipe(Config.validate({ message: "must be a positive integer", validation: (n) => n > 0 }))
  )

/**
 * Runs a fully provided server layer as the main program. On SIGTERM/SIGINT it closes the listener, lets
 * in-flight requests finish, runs finalizers and exits 0. If the program fails (a setting is invalid, the port is
 * in use, the store cannot be opened, the catalog is invalid, ...) it writes one line to stderr, whatever the log
 * format, saying what is wrong, which setting and what to do, and exits 1. Logs one line per event in `logfmt`
 * (default), `json` or `pretty` format.
 *
 * @example
 * ```ts
 * import { Layer } from "effect"
 * import { BrokerAuth, Server } from "effect-osb"
 * import { broker } from "./my-broker.js" // a Layer providing Catalog and ServiceBroker
 *
 * Server.layerConfig().pipe(Layer.provide(broker), Layer.provide(BrokerAuth.layerConfig), Server.runMain)
 * // PORT=abc node main.js
 * // stderr: effect-osb: cannot run: PORT is invalid: Expected an integer value but received "abc". Set PORT ...
 * ```
 *
 * @since 0.1.0
 * @category running
 */
export const runMain = <E>(
  server: Layer.Layer<never, E>,
  options: { readonly logFormat?: "logfmt" | "json" | "pretty" } = {}
): void => {
  const format = options.logFormat ?? "logfmt"
  const logging = format === "pretty"
    ? loggerLayer(format)
    : Layer.merge(loggerLayer(format), RequestLog.layerBatchedConfig(format))
  const fiber = Effect.runFork(Layer.launch(Layer.provide(server, logging)))
  // the fiber's timers do not keep Node alive on their own
  const keepAlive = setInterval(() => {}, 2 ** 31 - 1)
  let signalled = false
  const onSignal = () => {
    signalled = true
    process.off("SIGINT", onSignal)
    process.off("SIGTERM", onSignal)
    fiber.unsafeInterruptAsFork(fiber.id())
  }
  process.on("SIGINT", onSignal)
  process.on("SIGTERM", onSignal)
  fiber.addObserver((exit) => {
    clearInterval(keepAlive)
    process.off("SIGINT", onSignal)
    process.off("SIGTERM", onSignal)
    if (Exit.isFailure(exit) && !Cause.isInterruptedOnly(exit.cause)) {
      // written directly: the program's (batched) logger has already been closed with its scope
      process.stderr.write(`${describeFailure(exit.cause)}\n`)
      process.exit(1)
    }
    if (signalled) process.exit(0)
  })
}

/**
 * The server's logger: `logfmt` or `json` lines written in batches (one write per 20 ms at most, flushed on
 * shutdown), so a log line per request costs no system call per request; or Effect's pretty logger.
 *
 * @since 0.1.0
 * @category logging
 */
export const loggerLayer = (format: "logfmt" | "json" | "pretty"): Layer.Layer<never> =>
  format === "pretty"
    ? Logger.pretty
    : Logger.replaceScoped(
      Logger.defaultLogger,
      (format === "json" ? Logger.jsonLogger : Logger.logfmtLogger).pipe(
        Logger.batched("20 millis", (lines) =>
          Effect.sync(() => {
            process.stdout.write(`${lines.join("\n")}\n`)
          }))
      )
    )
