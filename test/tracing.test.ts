/**
 * Traces over real sockets: the OSB spans captured by an in-memory exporter (attributes, parent/child store
 * transactions, background work linked to its request, log lines with trace and span ids, no secret anywhere),
 * a takeover on a second replica linked to the request on the first (one SQLite file), access log lines with the
 * request span's ids, and an OTLP export (http/json and http/protobuf) to a receiver in this test, configured by
 * the OTEL_* variables.
 */
import { InMemorySpanExporter, type ReadableSpan, SimpleSpanProcessor } from "@opentelemetry/sdk-trace-base"
import { type Duration, Effect, Exit, Layer, Logger, Scope } from "effect"
import { mkdtempSync } from "node:fs"
import { createServer } from "node:http"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterEach, describe, expect, it } from "vitest"
import { BrokerAuth, BrokerStore, Catalog, ManagedBroker, RequestLog, Router, Server, SqlStore } from "../src/index.js"
import * as Tracing from "../src/Tracing.js"
import { AUTH, PASSWORD, redacted, socketCall, USER } from "./support/http.js"
import { bindBody, catalogOf, plan, provisionBody, SID, syncWork } from "./support/managedKit.js"
import { freePort } from "./support/net.js"

const catalog = catalogOf([plan("small"), plan("large")])
const work = syncWork({
  provision: ManagedBroker.sync(() => Effect.as(Effect.logInfo("provisioning now"), {})),
  plans: { large: { provision: ManagedBroker.async(() => Effect.as(Effect.sleep("100 millis"), {})) } }
})
const broker = ManagedBroker.layer({ [SID]: work }).pipe(
  Layer.provideMerge(Catalog.layer(catalog)),
  Layer.provide(BrokerStore.layerMemory)
)
const auth = BrokerAuth.layerBasic([{ username: USER, password: redacted(PASSWORD) }])
const IDENTITY = `cloudfoundry ${Buffer.from(JSON.stringify({ user_id: "secret-user-42" })).toString("base64")}`

const serve = async (tracing: Layer.Layer<never, unknown>, logs: Array<Record<string, unknown>> = []) => {
  const port = await freePort()
  const logger = Logger.replace(
    Logger.defaultLogger,
    Logger.make(({ annotations, message }) => {
      logs.push({ message: String(message), ...Object.fromEntries(annotations) })
    })
  )
  const main = Server.layer({ port, requestLog: false }).pipe(
    Layer.provide(broker),
    Layer.provide(auth),
    Layer.provide(tracing),
    Layer.provide(logger)
  )
  const scope = Effect.runSync(Scope.make())
  await Effect.runPromise(Layer.buildWithScope(main, scope))
  const socket = socketCall(port)
  const call = (method: string, path: string, body?: unknown) =>
    socket(method, path, {
      body,
      headers: {
        "x-broker-api-request-identity": `req-${method}-${path.length}`,
        "x-broker-api-originating-identity": IDENTITY
      }
    })
  return { call, close: () => Effect.runPromise(Scope.close(scope, Exit.void)) }
}

const named = (spans: ReadonlyArray<ReadableSpan>, name: string) => spans.filter((s) => s.name === name)

describe("traces", () => {
  it("a span per request with the OSB attributes; store transactions as children; async work linked; no secret", async () => {
    const exporter = new InMemorySpanExporter()
    const logs: Array<Record<string, unknown>> = []
    const broker = await serve(Tracing.layer(new SimpleSpanProcessor(exporter)), logs)
    const secretParameter = "hunter2-parameter-secret"
    let credentials = ""
    // (the exporter forgets its spans when the provider shuts down: they are read before the close)
    let spans: ReadonlyArray<ReadableSpan> = []
    try {
      const created = await broker.call(
        "PUT",
        "/v2/service_instances/inst-1",
        provisionBody("small", { parameters: { password: secretParameter } })
      )
      expect(created.status).toBe(201)
      const bound = await broker.call("PUT", "/v2/service_instances/inst-1/service_bindings/bind-1", bindBody("small"))
      expect(bound.status).toBe(201)
      credentials = JSON.stringify(JSON.parse(bound.text).credentials)
      expect(
        (await broker.call("PUT", "/v2/service_instances/inst-2?accepts_incomplete=true", provisionBody("large")))
          .status
      ).toBe(202)
      for (let n = 0; n < 100; n++) {
        const state = JSON.parse((await broker.call("GET", "/v2/service_instances/inst-2/last_operation")).text).state
        if (state !== "in progress") break
        await new Promise((r) => setTimeout(r, 50))
      }
      spans = exporter.getFinishedSpans()
    } finally {
      await broker.close()
    }

    const [provision, asyncProvision] = named(spans, "OSB provision")
    expect(provision).toBeDefined()
    expect(provision!.kind).toBe(1) // SERVER
    expect(provision!.attributes).toEqual({
      "osb.endpoint": "provision",
      "http.request.method": "PUT",
      "http.route": "/v2/service_instances/:instance_id",
      "osb.instance_id": "inst-1",
      "osb.service_id": SID,
      "osb.plan_id": "small",
      "osb.request_identity": "req-PUT-28",
      "osb.api_version": "2.17",
      "osb.platform": "cloudfoundry",
      "http.response.status_code": 201
    })
    const bind = named(spans, "OSB bind")[0]!
    expect(bind.attributes["osb.binding_id"]).toBe("bind-1")

    // the store's transactions are children of the request span
    const transactions = spans.filter((s) =>
      s.name === "osb.store.transaction" && s.parentSpanContext?.spanId === provision!.spanContext().spanId
    )
    expect(transactions.length).toBeGreaterThan(0)
    expect(transactions[0]!.attributes["osb.instance_id"]).toBe("inst-1")

    // the asynchronous provision's work: a trace of its own, linked to the request that started it
    const work = named(spans, "osb.operation provision").find((s) => s.attributes["osb.operation.mode"] === "async")!
    expect(work).toBeDefined()
    expect(work.links.map((l) => l.context.spanId)).toEqual([asyncProvision!.spanContext().spanId])
    expect(work.spanContext().traceId).not.toBe(asyncProvision!.spanContext().traceId)
    // the synchronous one is in its request's trace, under the request span (directly or under its transaction)
    const syncWork = named(spans, "osb.operation provision").find((s) => s.attributes["osb.operation.mode"] === "sync")!
    expect(syncWork.spanContext().traceId).toBe(provision!.spanContext().traceId)
    const parent = spans.find((s) => s.spanContext().spanId === syncWork.parentSpanContext?.spanId)!
    expect(parent === provision || parent.parentSpanContext?.spanId === provision!.spanContext().spanId).toBe(true)

    // the work's log line carries the trace and span ids
    const line = logs.find((l) => l.message === "provisioning now")
    expect(line).toMatchObject({ trace_id: provision!.spanContext().traceId, span_id: syncWork.spanContext().spanId })

    const everything = JSON.stringify(spans.map((s) => ({
      name: s.name,
      attributes: s.attributes,
      events: s.events,
      links: s.links,
      resource: s.resource.attributes
    })))
    for (const secret of [secretParameter, credentials, PASSWORD, AUTH, "secret-user-42", IDENTITY.split(" ")[1]!]) {
      expect(everything).not.toContain(secret)
    }
  })
})

describe("OTLP export configured by OTEL_* variables", () => {
  const saved = { ...process.env }
  afterEach(() => {
    for (const key of Object.keys(process.env)) if (key.startsWith("OTEL_")) delete process.env[key]
    Object.assign(process.env, saved)
  })

  const receive = async () => {
    const received: Array<{ path: string; contentType: string; body: Buffer }> = []
    const server = createServer((req, res) => {
      const chunks: Array<Buffer> = []
      req.on("data", (c: Buffer) => chunks.push(c))
      req.on("end", () => {
        received.push({
          path: req.url ?? "",
          contentType: req.headers["content-type"] ?? "",
          body: Buffer.concat(chunks)
        })
        res.writeHead(200, { "content-type": req.headers["content-type"] ?? "application/json" })
        res.end(req.headers["content-type"]?.includes("json") ? "{}" : "")
      })
    })
    const port = await new Promise<number>((resolve) =>
      server.listen(0, "127.0.0.1", () => resolve((server.address() as { port: number }).port))
    )
    return { port, received, close: () => new Promise<void>((r) => server.close(() => r())) }
  }

  for (const protocol of ["http/json", "http/protobuf"] as const) {
    it(`${protocol}: request spans reach the receiver with the service name and resource attributes`, async () => {
      const receiver = await receive()
      process.env["OTEL_EXPORTER_OTLP_ENDPOINT"] = `http://127.0.0.1:${receiver.port}`
      process.env["OTEL_EXPORTER_OTLP_PROTOCOL"] = protocol
      process.env["OTEL_SERVICE_NAME"] = "osb-under-test"
      process.env["OTEL_RESOURCE_ATTRIBUTES"] = "deployment.environment=ci"
      try {
        const broker = await serve(Tracing.layerConfig)
        expect((await broker.call("GET", "/v2/catalog")).status).toBe(200)
        await broker.close() // flushes the batch
        expect(receiver.received.length).toBeGreaterThan(0)
        const request = receiver.received[0]!
        expect(request.path).toBe("/v1/traces")
        expect(request.contentType).toContain(protocol === "http/json" ? "application/json" : "application/x-protobuf")
        const body = request.body.toString("latin1")
        for (const text of ["OSB catalog", "osb-under-test", "deployment.environment", "ci", "/v2/catalog"]) {
          expect(body).toContain(text)
        }
        expect(body).not.toContain(AUTH)
      } finally {
        await receiver.close()
      }
    })
  }
})

describe("a takeover's spans are linked to the request that started the operation", () => {
  /** Replica A's work outlives its crash; replica B's finishes at once. */
  const durableWork = (delay: Duration.DurationInput) =>
    syncWork({
      plans: {
        durable: { provision: ManagedBroker.async(() => Effect.as(Effect.sleep(delay), {}), { resumable: true }) }
      }
    })
  const engine = (
    file: string,
    replicaId: string,
    delay: Duration.DurationInput,
    takeoverInterval: Duration.DurationInput
  ) =>
    ManagedBroker.layer({ [SID]: durableWork(delay) }, { leaseTtl: 300, takeoverInterval, replicaId }).pipe(
      Layer.provideMerge(Catalog.layer(catalogOf([plan("small"), plan("durable")]))),
      Layer.provide(SqlStore.layerSqlite(file))
    )
  const until = async <A>(what: string, probe: () => A | undefined): Promise<A> => {
    for (let n = 0; n < 200; n++) {
      const found = probe()
      if (found !== undefined) return found
      await new Promise((r) => setTimeout(r, 50))
    }
    throw new Error(`${what} did not happen within 10 s`)
  }

  it("replica B's takeover span and the resumed operation's span link to replica A's request span", async () => {
    const file = join(mkdtempSync(join(tmpdir(), "osb-trace-takeover-")), "store.sqlite")
    const exporterA = new InMemorySpanExporter()
    const exporterB = new InMemorySpanExporter()
    const port = await freePort()
    const replicaA = Server.layer({ port, requestLog: false, drainTimeout: "50 millis" }).pipe(
      Layer.provide(engine(file, "replica-A", "30 seconds", "1 hour")),
      Layer.provide(auth),
      Layer.provide(Tracing.layer(new SimpleSpanProcessor(exporterA)))
    )
    const scopeA = Effect.runSync(Scope.make())
    await Effect.runPromise(Layer.buildWithScope(replicaA, scopeA))
    let request: ReadableSpan
    try {
      const response = await fetch(`http://127.0.0.1:${port}/v2/service_instances/inst-t?accepts_incomplete=true`, {
        method: "PUT",
        headers: { authorization: AUTH, "x-broker-api-version": "2.17", "content-type": "application/json" },
        body: JSON.stringify(provisionBody("durable"))
      })
      expect(response.status).toBe(202)
      request = await until("A's request span", () => named(exporterA.getFinishedSpans(), "OSB provision")[0])
    } finally {
      // A stops without finishing the operation (its drain is short): its lease expires
      await Effect.runPromise(Scope.close(scopeA, Exit.void))
    }

    const scopeB = Effect.runSync(Scope.make())
    await Effect.runPromise(
      Layer.buildWithScope(
        Layer.provide(
          engine(file, "replica-B", "50 millis", "100 millis"),
          Tracing.layer(new SimpleSpanProcessor(exporterB))
        ),
        scopeB
      )
    )
    let spans: ReadonlyArray<ReadableSpan> = []
    try {
      spans = await until("B's resumed operation span", () => {
        const finished = exporterB.getFinishedSpans()
        return named(finished, "osb.operation provision").length > 0 ? finished : undefined
      })
    } finally {
      await Effect.runPromise(Scope.close(scopeB, Exit.void))
    }

    const takeover = spans.find((s) => s.name === "osb.takeover" && s.attributes["osb.takeover.outcome"] === "resumed")
    expect(takeover).toBeDefined()
    expect(takeover!.attributes).toMatchObject({ "osb.operation.kind": "provision", "osb.instance_id": "inst-t" })
    // a trace of its own, linked to the request on replica A
    expect(takeover!.spanContext().traceId).not.toBe(request.spanContext().traceId)
    expect(takeover!.links.map((l) => [l.context.traceId, l.context.spanId, l.attributes])).toEqual([
      [request.spanContext().traceId, request.spanContext().spanId, { "osb.link": "started by" }]
    ])
    // the resumed work: started by A's request, resumed by B's takeover
    const work = named(spans, "osb.operation provision")[0]!
    expect(work.links.map((l) => [l.context.spanId, l.attributes?.["osb.link"]])).toEqual([
      [request.spanContext().spanId, "started by"],
      [takeover!.spanContext().spanId, "resumed by"]
    ])
  }, 30_000)
})

describe("access log lines carry the request span's trace and span ids", () => {
  const logged = async (tracing: boolean) => {
    const exporter = new InMemorySpanExporter()
    const entries: Array<RequestLog.RequestLogEntry> = []
    const port = await freePort()
    const main = Server.layer({ port }).pipe(
      Layer.provide(broker),
      Layer.provide(auth),
      Layer.provide(Layer.succeed(RequestLog.RequestLogSink, (entry) => entries.push(entry))),
      Layer.provide(tracing ? Tracing.layer(new SimpleSpanProcessor(exporter)) : Layer.empty)
    )
    const scope = Effect.runSync(Scope.make())
    await Effect.runPromise(Layer.buildWithScope(main, scope))
    let spans: ReadonlyArray<ReadableSpan> = []
    try {
      const headers = { authorization: AUTH, "x-broker-api-version": "2.17", "content-type": "application/json" }
      // the catalog is answered at once (an Exit), the provision by the managed engine
      expect((await fetch(`http://127.0.0.1:${port}/v2/catalog`, { headers })).status).toBe(200)
      const put = await fetch(`http://127.0.0.1:${port}/v2/service_instances/logged-1`, {
        method: "PUT",
        headers,
        body: JSON.stringify(provisionBody("small"))
      })
      expect(put.status).toBe(201)
      await new Promise((r) => setTimeout(r, 100))
      spans = exporter.getFinishedSpans()
    } finally {
      await Effect.runPromise(Scope.close(scope, Exit.void))
    }
    return { entries, spans }
  }

  it("with tracing: trace_id and span_id of the request span, in logfmt and JSON; without: none", async () => {
    const { entries, spans } = await logged(true)
    expect(entries.map((e) => e.route)).toEqual(["/v2/catalog", "/v2/service_instances/:instance_id"])
    for (const [entry, name] of [[entries[0]!, "OSB catalog"], [entries[1]!, "OSB provision"]] as const) {
      const span = named(spans, name)[0]!
      expect(entry).toMatchObject({ traceId: span.spanContext().traceId, spanId: span.spanContext().spanId })
      const at = new Date()
      expect(RequestLog.formatLogfmt(entry, at)).toContain(
        ` trace_id=${span.spanContext().traceId} span_id=${span.spanContext().spanId}`
      )
      expect(JSON.parse(RequestLog.formatJson(entry, at)).annotations).toMatchObject({
        trace_id: span.spanContext().traceId,
        span_id: span.spanContext().spanId
      })
    }

    const plain = await logged(false)
    expect(plain.entries).toHaveLength(2)
    for (const entry of plain.entries) {
      expect(entry.traceId).toBeUndefined()
      expect(RequestLog.formatLogfmt(entry, new Date())).not.toContain("trace_id")
    }
  })

  it("without a sink, the router's Effect log line carries trace_id and span_id annotations", async () => {
    const exporter = new InMemorySpanExporter()
    const logs: Array<Record<string, unknown>> = []
    const logger = Logger.replace(
      Logger.defaultLogger,
      Logger.make(({ annotations, message }) => {
        logs.push({ message: String(message), ...Object.fromEntries(annotations) })
      })
    )
    const { dispose, handler } = Router.toWebHandler(
      Layer.mergeAll(broker, auth, Tracing.layer(new SimpleSpanProcessor(exporter)), logger)
    )
    let spans: ReadonlyArray<ReadableSpan> = []
    try {
      const response = await handler(
        new Request("http://broker.test/v2/catalog", {
          headers: { authorization: AUTH, "x-broker-api-version": "2.17" }
        })
      )
      expect(response.status).toBe(200)
      spans = exporter.getFinishedSpans()
    } finally {
      await dispose()
    }
    const span = named(spans, "OSB catalog")[0]!
    expect(logs.find((l) => l.message === "osb request")).toMatchObject({
      route: "/v2/catalog",
      trace_id: span.spanContext().traceId,
      span_id: span.spanContext().spanId
    })
  })
})
