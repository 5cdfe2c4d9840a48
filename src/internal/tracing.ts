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
import * as Tracer from "effect/Tracer"
import type { BrokerStoreService, Change, InstanceSnapshot, OperationRecord } from "../BrokerStore.js"
import { endpointOf, endpointOfRoute } from "../Metrics.js"
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

// the handler is called inside the span, so everything it does (the access log line too) sees the span
const observeHandler = (handler: Handler): Handler => ({
  maxBodyBytes: handler.maxBodyBytes,
  admit: handler.admit,
  handle: (request) =>
    traced(
      request,
      endpointOf(request.method, request.url),
      Effect.suspend(() => handler.handle(peekingBody(request)))
    ),
  handleRoute: (name, ids, request) =>
    traced(
      request,
      endpointOfRoute(name, request.method),
      Effect.suspend(() => handler.handleRoute(name, ids, peekingBody(request)))
    )
})

/**
 * A span's W3C `traceparent` (version 00).
 *
 * @internal
 */
export const traceparentOf = (span: Tracer.AnySpan): string =>
  `00-${span.traceId}-${span.spanId}-${span.sampled ? "01" : "00"}`

const traceparentPattern = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/

/**
 * The span a W3C `traceparent` names, for a link (`undefined` when the text is not one).
 *
 * @internal
 */
export const spanOfTraceparent = (traceparent: string | undefined): Tracer.ExternalSpan | undefined => {
  const match = traceparent === undefined ? null : traceparentPattern.exec(traceparent)
  if (match === null) return undefined
  return Tracer.externalSpan({
    traceId: match[1]!,
    spanId: match[2]!,
    sampled: (Number.parseInt(match[3]!, 16) & 1) === 1
  })
}

/**
 * The changes with the `traceparent` of the span that started them on every operation they create (an operation
 * the snapshot already holds keeps what it has: a takeover's claim, a finished record).
 *
 * @internal
 */
export const stampOperations = (
  snapshot: InstanceSnapshot,
  changes: ReadonlyArray<Change>,
  traceparent: string
): ReadonlyArray<Change> => {
  const fresh = (change: Change) =>
    change._tag === "PutOperation" && change.record.traceparent === undefined &&
    !snapshot.operations.has(change.record.id)
  if (!changes.some(fresh)) return changes
  return changes.map((change) =>
    fresh(change) && change._tag === "PutOperation"
      ? { _tag: "PutOperation", record: { ...change.record, traceparent } }
      : change
  )
}

const observeStore = (store: BrokerStoreService): BrokerStoreService => ({
  persistent: store.persistent,
  read: store.read,
  expiredOperations: store.expiredOperations,
  renewLeases: store.renewLeases,
  runningOperations: store.runningOperations,
  // the span current when the transaction is asked for (the request's) is recorded with the operations it starts
  transact: (instanceId, f) =>
    Effect.flatMap(Effect.option(Effect.currentSpan), (parent) => {
      const transaction = Option.isNone(parent) ? store.transact(instanceId, f) : store.transact(
        instanceId,
        (snapshot) => {
          const traceparent = traceparentOf(parent.value)
          return Effect.map(f(snapshot), ([result, changes]) =>
            [result, stampOperations(snapshot, changes, traceparent)] as const)
        }
      )
      return Effect.withSpan(transaction, "osb.store.transaction", { attributes: { "osb.instance_id": instanceId } })
    })
})

const startedBy = { "osb.link": "started by" } as const

/**
 * The links of an operation's span: the span that started it (recorded with the operation, or the current one when
 * it runs where it started), and the takeover that resumed it.
 */
const operationLinks = (operation: OperationRecord, parent: Option.Option<Tracer.Span>): Array<Tracer.SpanLink> => {
  const links: Array<Tracer.SpanLink> = []
  const recorded = spanOfTraceparent(operation.traceparent)
  if (recorded !== undefined) links.push({ _tag: "SpanLink", span: recorded, attributes: startedBy })
  if (Option.isSome(parent) && parent.value.spanId !== recorded?.spanId) {
    const attributes = recorded === undefined ? startedBy : { "osb.link": "resumed by" }
    links.push({ _tag: "SpanLink", span: parent.value, attributes })
  }
  return links
}

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
      return Effect.withSpan(withLogIds(work), `osb.operation ${operation.kind}`, {
        attributes,
        links: operation.async ? operationLinks(operation, parent) : [],
        root: operation.async
      })
    }),
  takeover: (operationId, effect) =>
    Effect.withSpan(withLogIds(effect), "osb.takeover", {
      root: true,
      attributes: { "osb.operation.id": operationId }
    }),
  // the takeover's span learns what it took over, and links to the request that started the operation
  tookOver: (operation, outcome) => {
    const annotated = Effect.annotateCurrentSpan({
      "osb.operation.kind": operation.kind,
      "osb.instance_id": operation.instanceId,
      "osb.takeover.outcome": outcome
    })
    const recorded = spanOfTraceparent(operation.traceparent)
    return recorded === undefined ? annotated : Effect.zipRight(annotated, Effect.linkSpanCurrent(recorded, startedBy))
  }
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
