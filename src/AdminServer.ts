/**
 * The admin listener: a second HTTP port, without credentials, for the orchestrator and Prometheus.
 * `GET /healthz` answers 200 while the process serves; `GET /readyz` answers 200 only while a broker is serving
 * (its store migrated and answering) and not draining, else 503 with the reasons; `GET /metrics` renders the
 * metrics in the Prometheus text format (see `Metrics`). Provide the layer around the server and the broker
 * (`Layer.provide(main, AdminServer.layerConfig)`): it turns metrics on for them and learns their readiness.
 * Nothing of it is loaded while it is not configured.
 *
 * @since 0.1.0
 * @module
 */
import type { ServeError } from "@effect/platform/HttpServerError"
import * as Config from "effect/Config"
import type * as ConfigError from "effect/ConfigError"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"

/**
 * Where the admin listener listens.
 *
 * @since 0.1.0
 * @category models
 */
export interface AdminOptions {
  /** Port; 0 picks a free one. */
  readonly port: number
  /** Interface. Default `127.0.0.1`. */
  readonly host?: string
}

/**
 * The admin listener on `port`, with metrics recording on for the layers it is provided to. Its type provides
 * nothing: the server and the managed broker find it in their context.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (options: AdminOptions): Layer.Layer<never, ServeError> =>
  Layer.unwrapEffect(
    Effect.map(Effect.promise(() => import("./internal/admin.js")), (module) => module.layer(options))
  )

/**
 * The admin listener from configuration: `BROKER_ADMIN_PORT` (unset: no listener, no metrics, nothing loaded)
 * and `BROKER_ADMIN_HOST` (default `HOST`, default `127.0.0.1`).
 *
 * @since 0.1.0
 * @category layers
 */
export const layerConfig: Layer.Layer<never, ServeError | ConfigError.ConfigError> = Layer.unwrapEffect(
  Effect.map(
    Config.all({
      port: Config.option(Config.port("BROKER_ADMIN_PORT")),
      host: Config.string("BROKER_ADMIN_HOST").pipe(
        Config.orElse(() => Config.string("HOST")),
        Config.withDefault("127.0.0.1")
      )
    }),
    ({ host, port }) => Option.isNone(port) ? Layer.empty : layer({ port: port.value, host })
  )
)
