/**
 * Serving a broker on Node.js: host and port from `Config` (`HOST`, `PORT`), the OSB handler on `node:http`
 * directly (answers known at once are written without starting a fiber), a start-up log line with the address,
 * graceful shutdown on SIGTERM/SIGINT (in-flight requests finish before the process exits) and no per-request
 * tracing span unless asked for. `serve` runs the same handler on any `@effect/platform` `HttpServer` instead.
 *
 * @since 0.1.0
 */
import type * as HttpServer from "@effect/platform/HttpServer"
import type { ServeError } from "@effect/platform/HttpServerError"
import * as Cause from "effect/Cause"
import * as Config from "effect/Config"
import type * as ConfigError from "effect/ConfigError"
import type * as Duration from "effect/Duration"
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
import * as NodeServer from "./internal/nodeServer.js"
import * as Observe from "./internal/observe.js"
import { describeFailure } from "./internal/startup.js"
import * as RequestLog from "./RequestLog.js"
import type { BrokerIncomplete, RouterOptions } from "./Router.js"
import type { ServiceBroker } from "./ServiceBroker.js"
import type { TlsError, TlsOptions } from "./Tls.js"
import * as Tls from "./Tls.js"

/**
 * Serving options: the router's options plus the address and tracing.
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
  /** Serve HTTPS with these files (see `Tls`); plain HTTP when absent. */
  readonly tls?: TlsOptions | undefined
}

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
      const tls = options.tls
      // the HTTPS module is loaded only when TLS is configured
      const server = tls === undefined
        ? undefined
        : yield* Effect.flatMap(Effect.promise(() => import("./internal/tls.js")), (module) => module.makeServer(tls))
      const address = yield* NodeServer.serve(handler, {
        host: options.host ?? "127.0.0.1",
        port: options.port ?? 8080,
        tracing: options.tracing === true,
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
 * Serves the broker with the address read through `Config`: `HOST` (default 127.0.0.1), `PORT` (default 8080),
 * `BROKER_REQUEST_LOG` (default true: one log line per request) and TLS from `TLS_CERT_FILE`, `TLS_KEY_FILE` and
 * `TLS_CA_FILE` (see `Tls.config`; plain HTTP when unset).
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
        port: Config.port("PORT").pipe(Config.withDefault(8080)),
        requestLog: Config.boolean("BROKER_REQUEST_LOG").pipe(Config.withDefault(options.requestLog ?? true)),
        tls: Tls.config
      }),
      (config) =>
        layer({
          ...options,
          host: config.host,
          port: config.port,
          requestLog: config.requestLog,
          tls: Option.getOrUndefined(Option.orElse(config.tls, () => Option.fromNullable(options.tls)))
        })
    )
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
 * // stderr: effect-osb: cannot run: PORT is invalid: Expected a network port value but received "abc". Set PORT ...
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
    : Layer.merge(loggerLayer(format), RequestLog.layerBatched(format))
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
