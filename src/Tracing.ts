/**
 * OpenTelemetry traces through `@effect/opentelemetry`: one span per OSB request (route, status, service, plan,
 * instance and binding ids, request identity, originating platform), a span per operation's work (background work
 * in a trace of its own, linked to the request that started it), store transactions and takeovers as spans (a
 * takeover linked to the request that started the operation, through the `traceparent` stored with it). Never
 * parameters, credentials or the `Authorization` header. Effect log lines written inside a request or an operation,
 * and the request log line, carry `trace_id` and `span_id`. Off unless configured; the OpenTelemetry packages are optional peer dependencies,
 * loaded only when tracing is on.
 *
 * @since 0.1.0
 * @module
 */
import * as Config from "effect/Config"
import type * as ConfigError from "effect/ConfigError"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"

/**
 * A span processor of `@opentelemetry/sdk-trace-base` (e.g. a `BatchSpanProcessor` with your exporter, or a
 * `SimpleSpanProcessor` with an `InMemorySpanExporter` in tests). Typed structurally so this module loads nothing.
 *
 * @since 0.1.0
 * @category models
 */
export interface SpanProcessor {
  /** Exports every span it holds now. */
  forceFlush(): Promise<void>
  /** Exports what it holds and stops; called when the tracing layer is released. */
  shutdown(): Promise<void>
  /** Called when a span starts. */
  onStart(span: never, parentContext: never): void
  /** Called when a span ends; an exporting processor queues it here. */
  onEnd(span: never): void
}

/**
 * Tracing with your span processors: installs `@effect/opentelemetry`'s tracer (service name from
 * `OTEL_SERVICE_NAME`, default `effect-osb`, plus `OTEL_RESOURCE_ATTRIBUTES`; sampler from `OTEL_TRACES_SAMPLER`)
 * and the OSB spans for the server and the managed broker it is provided to.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (processors: SpanProcessor | ReadonlyArray<SpanProcessor>): Layer.Layer<never> =>
  Layer.unwrapEffect(
    Effect.map(Effect.promise(() => import("./internal/tracing.js")), (module) => module.layer(processors))
  )

/**
 * Tracing from the standard OpenTelemetry variables: on when `OTEL_EXPORTER_OTLP_ENDPOINT` (or
 * `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`) is set, exporting over OTLP with `OTEL_EXPORTER_OTLP_PROTOCOL`
 * `http/protobuf` (default) or `http/json`, batched; `OTEL_SERVICE_NAME`, `OTEL_RESOURCE_ATTRIBUTES`,
 * `OTEL_TRACES_SAMPLER` (and `OTEL_TRACES_SAMPLER_ARG`), `OTEL_EXPORTER_OTLP_HEADERS` as OpenTelemetry defines them.
 * Unset: nothing loaded, no spans. `OTEL_SDK_DISABLED=true` turns it off.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerConfig: Layer.Layer<never, ConfigError.ConfigError> = Layer.unwrapEffect(
  Effect.map(
    Config.all({
      endpoint: Config.option(Config.nonEmptyString("OTEL_EXPORTER_OTLP_ENDPOINT")),
      tracesEndpoint: Config.option(Config.nonEmptyString("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")),
      protocol: Config.literal("http/protobuf", "http/json")("OTEL_EXPORTER_OTLP_PROTOCOL").pipe(
        Config.withDefault("http/protobuf" as const)
      ),
      disabled: Config.boolean("OTEL_SDK_DISABLED").pipe(Config.withDefault(false))
    }),
    ({ disabled, endpoint, protocol, tracesEndpoint }) =>
      disabled || (Option.isNone(endpoint) && Option.isNone(tracesEndpoint))
        ? Layer.empty
        : Layer.unwrapEffect(
          Effect.map(Effect.promise(() => import("./internal/tracing.js")), (module) => module.layerOtlp(protocol))
        )
  )
)
