/**
 * The tracing implementation behind `Tracing.layer` and `Tracing.layerConfig`: the OSB spans (request, store
 * transaction, operation, takeover) and the OpenTelemetry SDK wiring. Loaded on demand.
 *
 * @internal
 */
import * as NodeSdk from "@effect/opentelemetry/NodeSdk"
import type { SpanProcessor as OtelSpanProcessor } from "@opentelemetry/sdk-trace-base"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import type * as Tracer from "effect/Tracer"
import type { BrokerStoreService } from "../BrokerStore.js"
import { endpointOf } from "../Metrics.js"
import { routes } from "../Protocol.js"
import type { SpanProcessor } from "../Tracing.js"
import type { Handler, OsbHttpResponse } from "./core.js"
import { matchPath } from "./core.js"
import type { Observer } from "./observe.js"
import { TracingObserver } from "./observe.js"
import type { OsbHttpRequest } from "./request.js"

type Attributes = Record<string, string>

const decoded = (id: string): string => {
  try {
    return decodeURIComponent(id)
  } catch {
    return id
  }
}

/** `service_id` and `plan_id` of a JSON body (nothing else of the body is looked at). */
const bodyIds = (text: string): Attributes | undefined => {
  if (text.length === 0) return undefined
  try {
    const body: unknown = JSON.parse(text)
    if (typeof body !== "object" || body === null) return undefined
    const { plan_id, service_id } = body as Record<string, unknown>
    const attributes: Attributes = {}
    if (typeof service_id === "string") attributes["osb.service_id"] = service_id
    if (typeof plan_id === "string") attributes["osb.plan_id"] = plan_id
    return attributes
  } catch {
    // not JSON: the handler answers 400
    return undefined
  }
}

/** The request whose body, when the handler reads it, adds its service and plan ids to the current span. */
const peekingBody = (request: OsbHttpRequest): OsbHttpRequest => ({
  method: request.method,
  url: request.url,
  headers: request.headers,
  socket: request.socket,
  text: Effect.tap(request.text, (text) => {
    const attributes = bodyIds(text)
    return attributes === undefined ? Effect.void : Effect.annotateCurrentSpan(attributes)
  })
})

/**
 * The request span's attributes: route, ids, request identity, API version and the originating platform (its
 * name only, not the identity). Never a header value otherwise, never parameters or credentials.
 *
 * @internal
 */
export const requestAttributes = (request: OsbHttpRequest, endpoint: string): Attributes => {
  const queryAt = request.url.indexOf("?")
  const match = matchPath(queryAt < 0 ? request.url : request.url.slice(0, queryAt))
  const attributes: Attributes = { "osb.endpoint": endpoint, "http.request.method": request.method }
  if (match !== undefined) {
    attributes["http.route"] = routes[match.name]
    if (match.ids[0] !== undefined) attributes["osb.instance_id"] = decoded(match.ids[0])
    if (match.ids[1] !== undefined) attributes["osb.binding_id"] = decoded(match.ids[1])
  }
  if (queryAt >= 0) {
    const query = new URLSearchParams(request.url.slice(queryAt + 1))
    const serviceId = query.get("service_id")
    const planId = query.get("plan_id")
    if (serviceId !== null) attributes["osb.service_id"] = serviceId
    if (planId !== null) attributes["osb.plan_id"] = planId
  }
  const headers = request.headers
  const identity = headers["x-broker-api-request-identity"]
  if (identity !== undefined && identity.length > 0) attributes["osb.request_identity"] = identity.slice(0, 200)
  const version = headers["x-broker-api-version"]
  if (version !== undefined) attributes["osb.api_version"] = version.slice(0, 20)
  const originating = headers["x-broker-api-originating-identity"]
  if (originating !== undefined) attributes["osb.platform"] = originating.trim().split(/\s+/)[0]!.slice(0, 100)
  return attributes
}

/** Effect log lines written inside the span carry its trace and span ids. */
const withLogIds = <A, E, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
  Effect.flatMap(
    Effect.option(Effect.currentSpan),
    (span) =>
      Option.isNone(span)
        ? effect
        : Effect.annotateLogs(effect, { trace_id: span.value.traceId, span_id: span.value.spanId })
  )

const traced = (
  request: OsbHttpRequest,
  endpoint: string,
  handled: Effect.Effect<OsbHttpResponse>
): Effect.Effect<OsbHttpResponse> =>
  Effect.withSpan(
    Effect.tap(withLogIds(handled), (response) =>
      Effect.annotateCurrentSpan("http.response.status_code", response.status)),
    `OSB ${endpoint}`,
    { kind: "server", attributes: requestAttributes(request, endpoint) }
  )

const observeHandler = (handler: Handler): Handler => ({
  maxBodyBytes: handler.maxBodyBytes,
  admit: handler.admit,
  handle: (request) => traced(request, endpointOf(request.method, request.url), handler.handle(peekingBody(request))),
  handleRoute: (name, ids, request) =>
    traced(request, endpointOf(request.method, request.url), handler.handleRoute(name, ids, peekingBody(request)))
})

const observeStore = (store: BrokerStoreService): BrokerStoreService => ({
  persistent: store.persistent,
  read: store.read,
  expiredOperations: store.expiredOperations,
  renewLeases: store.renewLeases,
  runningOperations: store.runningOperations,
  transact: (instanceId, f) =>
    Effect.withSpan(store.transact(instanceId, f), "osb.store.transaction", {
      attributes: { "osb.instance_id": instanceId }
    })
})

const observer: Observer = {
  handler: observeHandler,
  store: observeStore,
  // background work gets a trace of its own, linked to the request (or takeover) that started it
  operation: (operation, work) =>
    Effect.flatMap(Effect.option(Effect.currentSpan), (parent) => {
      const attributes: Attributes = {
        "osb.operation.id": operation.id,
        "osb.operation.kind": operation.kind,
        "osb.operation.mode": operation.async ? "async" : "sync",
        "osb.instance_id": operation.instanceId
      }
      if (operation.bindingId !== undefined) attributes["osb.binding_id"] = operation.bindingId
      const links: Array<Tracer.SpanLink> = Option.isSome(parent) && operation.async
        ? [{ _tag: "SpanLink", span: parent.value, attributes: { "osb.link": "started by" } }]
        : []
      return Effect.withSpan(withLogIds(work), `osb.operation ${operation.kind}`, {
        attributes,
        links,
        root: operation.async
      })
    }),
  takeover: (operationId, effect) =>
    Effect.withSpan(withLogIds(effect), "osb.takeover", {
      root: true,
      attributes: { "osb.operation.id": operationId }
    })
}

/**
 * The OSB spans with these span processors.
 *
 * @internal
 */
export const layer = (processors: SpanProcessor | ReadonlyArray<SpanProcessor>): Layer.Layer<never> => {
  const spanProcessor = (Array.isArray(processors) ? processors : [processors]) as unknown as Array<OtelSpanProcessor>
  const sdk = NodeSdk.layer(() => ({
    spanProcessor,
    resource: { serviceName: process.env["OTEL_SERVICE_NAME"] ?? "effect-osb" }
  }))
  return Layer.merge(sdk, Layer.succeed(TracingObserver, observer)) as Layer.Layer<never>
}

/**
 * The OSB spans exported over OTLP (HTTP, JSON or protobuf), batched; the exporter reads the standard variables.
 *
 * @internal
 */
export const layerOtlp = (protocol: "http/protobuf" | "http/json"): Layer.Layer<never> =>
  Layer.unwrapEffect(Effect.promise(async () => {
    const [{ BatchSpanProcessor }, exporterModule] = await Promise.all([
      import("@opentelemetry/sdk-trace-base"),
      protocol === "http/json"
        ? import("@opentelemetry/exporter-trace-otlp-http")
        : import("@opentelemetry/exporter-trace-otlp-proto")
    ])
    const exporter = new exporterModule.OTLPTraceExporter()
    return layer(new BatchSpanProcessor(exporter) as unknown as SpanProcessor)
  }))
