/**
 * OSB-aware metrics as Effect `Metric`s: requests by endpoint and status, operations by kind, mode, plan and
 * outcome, operations in progress, takeovers, lease losses, store transactions and authentication failures.
 * Labels never carry an instance or binding id, parameters or credentials. `layer` turns recording on (the
 * admin listener does it for you); `prometheus` renders every Effect metric of the process in the Prometheus text
 * format through `@effect/opentelemetry` and `@opentelemetry/exporter-prometheus` (optional peer dependencies,
 * loaded on first use).
 *
 * @since 0.1.0
 * @module
 */
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Layer from "effect/Layer"
import * as Metric from "effect/Metric"
import * as MetricBoundaries from "effect/MetricBoundaries"
import * as MetricLabel from "effect/MetricLabel"
import * as Option from "effect/Option"
import type { BrokerStoreService, Change, InstanceSnapshot, OperationKind, OperationRecord } from "./BrokerStore.js"
import type { Handler, OsbHttpResponse, RouteName } from "./internal/core.js"
import { matchPath } from "./internal/core.js"
import * as Fast from "./internal/fast.js"
import type { Observer } from "./internal/observe.js"
import { MetricsObserver } from "./internal/observe.js"

const requestBoundaries = MetricBoundaries.fromIterable([
  0.001,
  0.0025,
  0.005,
  0.01,
  0.025,
  0.05,
  0.1,
  0.25,
  0.5,
  1,
  2.5,
  5,
  10
])
const operationBoundaries = MetricBoundaries.fromIterable([0.01, 0.1, 0.5, 1, 5, 10, 30, 60, 300, 600, 1800, 3600])

/**
 * `osb_requests_total{endpoint,status}`: OSB requests answered. `endpoint` is one of `catalog`, `provision`,
 * `fetch_instance`, `update`, `deprovision`, `last_operation`, `bind`, `fetch_binding`, `unbind`,
 * `binding_last_operation`, `other` (unknown paths and methods).
 *
 * @since 0.1.0
 * @category metrics
 */
export const requests = Metric.counter("osb_requests_total", {
  description: "OSB requests answered, by endpoint and HTTP status",
  incremental: true
})

/**
 * `osb_request_duration_seconds{endpoint}`: time from the request's arrival (its body read) to its answer.
 *
 * @since 0.1.0
 * @category metrics
 */
export const requestDuration = Metric.histogram(
  "osb_request_duration_seconds",
  requestBoundaries,
  "Time to answer an OSB request, by endpoint"
)

/**
 * `osb_operations_total{kind,mode,plan,outcome}`: finished operations of the managed broker (kind: provision,
 * update, deprovision, bind, unbind; mode: sync, async; plan: the plan id; outcome: succeeded, failed), counted
 * when their outcome is stored (by whichever replica stores it).
 *
 * @since 0.1.0
 * @category metrics
 */
export const operations = Metric.counter("osb_operations_total", {
  description: "Finished operations, by kind, mode, plan and outcome",
  incremental: true
})

/**
 * `osb_operation_duration_seconds{kind}`: from an operation's start to its stored outcome.
 *
 * @since 0.1.0
 * @category metrics
 */
export const operationDuration = Metric.histogram(
  "osb_operation_duration_seconds",
  operationBoundaries,
  "Duration of finished operations, by kind"
)

/**
 * `osb_operations_in_progress{kind}`: operations whose work this process runs now.
 *
 * @since 0.1.0
 * @category metrics
 */
export const operationsInProgress = Metric.gauge("osb_operations_in_progress", {
  description: "Operations whose work runs in this process now, by kind"
})

/**
 * `osb_takeovers_total{kind,outcome}`: operations of a replica that is gone, taken over by this one (outcome:
 * resumed, failed).
 *
 * @since 0.1.0
 * @category metrics
 */
export const takeovers = Metric.counter("osb_takeovers_total", {
  description: "Operations taken over from a replica that is gone, by kind and outcome",
  incremental: true
})

/**
 * `osb_lease_losses_total{kind}`: operations this process ran whose lease another replica took over.
 *
 * @since 0.1.0
 * @category metrics
 */
export const leaseLosses = Metric.counter("osb_lease_losses_total", {
  description: "Operations whose lease this process lost to another replica, by kind",
  incremental: true
})

/**
 * `osb_store_transaction_duration_seconds`: the managed engine's store transactions (decide and write).
 *
 * @since 0.1.0
 * @category metrics
 */
export const storeTransactionDuration = Metric.histogram(
  "osb_store_transaction_duration_seconds",
  requestBoundaries,
  "Duration of store transactions"
)

/**
 * `osb_authentication_failures_total`: requests refused with 401.
 *
 * @since 0.1.0
 * @category metrics
 */
export const authenticationFailures = Metric.counter("osb_authentication_failures_total", {
  description: "Requests refused because the platform did not authenticate",
  incremental: true
})

// -----------------------------------------------------------------------------
// recording
// -----------------------------------------------------------------------------

type Labels = ReadonlyArray<MetricLabel.MetricLabel>

/**
 * Label arrays are cached by their values: Effect's metric keeps one hook per label array object, so the same
 * array costs a lookup, not a new metric key, on every update.
 */
const labelCache = () => {
  const cache = new Map<string, Labels>()
  return (names: ReadonlyArray<string>, values: ReadonlyArray<string>): Labels => {
    const key = values.join("\u0000")
    let labels = cache.get(key)
    if (labels === undefined) {
      labels = names.map((name, i) => MetricLabel.make(name, values[i]!))
      cache.set(key, labels)
    }
    return labels
  }
}

const endpointNames: Record<RouteName, Readonly<Record<string, string>>> = {
  catalog: { GET: "catalog" },
  instance: { PUT: "provision", GET: "fetch_instance", PATCH: "update", DELETE: "deprovision" },
  instanceLastOperation: { GET: "last_operation" },
  binding: { PUT: "bind", GET: "fetch_binding", DELETE: "unbind" },
  bindingLastOperation: { GET: "binding_last_operation" }
}

/**
 * The `endpoint` label of a request: the OSB operation its method and path name, or `other`.
 *
 * @since 0.1.0
 * @category utils
 */
export const endpointOf = (method: string, url: string): string => {
  const queryAt = url.indexOf("?")
  const match = matchPath(queryAt < 0 ? url : url.slice(0, queryAt))
  return match === undefined ? "other" : endpointNames[match.name][method] ?? "other"
}

const routeEndpoint = (name: RouteName, method: string): string => endpointNames[name][method] ?? "other"

const seconds = (started: number): number => (performance.now() - started) / 1000

/** An endpoint's label arrays: for the duration, and per status for the count (made once, then looked up). */
interface EndpointLabels {
  readonly name: string
  readonly endpoint: Labels
  readonly byStatus: Map<number, Labels>
}

const observeHandler = (handler: Handler): Handler => {
  const endpoints = new Map<string, EndpointLabels>()
  const none: Labels = []
  const labelsOf = (name: string): EndpointLabels => {
    let labels = endpoints.get(name)
    if (labels === undefined) {
      labels = { name, endpoint: [MetricLabel.make("endpoint", name)], byStatus: new Map() }
      endpoints.set(name, labels)
    }
    return labels
  }
  const record = (labels: EndpointLabels, started: number) => (response: OsbHttpResponse) => {
    const status = response.status
    let statusLabels = labels.byStatus.get(status)
    if (statusLabels === undefined) {
      statusLabels = [MetricLabel.make("endpoint", labels.name), MetricLabel.make("status", String(status))]
      labels.byStatus.set(status, statusLabels)
    }
    requests.unsafeUpdate(1, statusLabels)
    requestDuration.unsafeUpdate(seconds(started), labels.endpoint)
    if (status === 401) authenticationFailures.unsafeUpdate(1, none)
    return response
  }
  return {
    maxBodyBytes: handler.maxBodyBytes,
    admit: handler.admit,
    handle: (request) => {
      const started = performance.now()
      return Fast.map(handler.handle(request), record(labelsOf(endpointOf(request.method, request.url)), started))
    },
    handleRoute: (name, ids, request) => {
      const started = performance.now()
      return Fast.map(
        handler.handleRoute(name, ids, request),
        record(labelsOf(routeEndpoint(name, request.method)), started)
      )
    }
  }
}

const planOf = (snapshot: InstanceSnapshot, changes: ReadonlyArray<Change>): string => {
  for (const change of changes) {
    if (change._tag === "PutInstance") return change.record.planId
  }
  return snapshot.instance._tag === "Some" ? snapshot.instance.value.planId : "unknown"
}

const observeStore = (store: BrokerStoreService): BrokerStoreService => {
  const operationLabels = labelCache()
  const kindLabels = labelCache()
  const none: Labels = []
  const count = (snapshot: InstanceSnapshot, changes: ReadonlyArray<Change>, record: OperationRecord) => {
    operations.unsafeUpdate(
      1,
      operationLabels(["kind", "mode", "plan", "outcome"], [
        record.kind,
        record.async ? "async" : "sync",
        planOf(snapshot, changes),
        record.state
      ])
    )
    const duration = record.finishedAt === undefined ? 0 : (record.finishedAt - record.startedAt) / 1000
    operationDuration.unsafeUpdate(Math.max(0, duration), kindLabels(["kind"], [record.kind]))
  }
  /** A failed synchronous create leaves no operation record: the running one is counted as failed. */
  const forgotten = (snapshot: InstanceSnapshot, changes: ReadonlyArray<Change>, operationId: string | undefined) => {
    const running = operationId === undefined ? undefined : snapshot.operations.get(operationId)
    if (running !== undefined && running.state === "in progress") {
      count(snapshot, changes, { ...running, state: "failed", finishedAt: Date.now() })
    }
  }
  const finished = (snapshot: InstanceSnapshot, changes: ReadonlyArray<Change>) => {
    for (const change of changes) {
      if (change._tag === "ForgetInstance") {
        forgotten(snapshot, changes, Option.getOrUndefined(snapshot.instance)?.operationId)
      } else if (change._tag === "DeleteBinding" && Option.isNone(change.tombstone)) {
        forgotten(snapshot, changes, snapshot.bindings.get(change.bindingId)?.operationId)
      } else if (change._tag === "PutOperation" && change.record.state !== "in progress") {
        const before = snapshot.operations.get(change.record.id)
        // an outcome already stored is not counted again
        if (before === undefined || before.state === "in progress") count(snapshot, changes, change.record)
      }
    }
  }
  return {
    persistent: store.persistent,
    read: store.read,
    expiredOperations: store.expiredOperations,
    renewLeases: store.renewLeases,
    runningOperations: store.runningOperations,
    transact: (instanceId, f) => {
      const started = performance.now()
      let seen: InstanceSnapshot | undefined
      let changes: ReadonlyArray<Change> = []
      const transaction = store.transact(instanceId, (snapshot) =>
        // Fast.map keeps a decision that is already an Exit an Exit (the memory store applies those at once)
        Fast.map(f(snapshot), (result) => {
          seen = snapshot
          changes = result[1]
          return result
        }))
      const done = (exit: Exit.Exit<unknown, unknown>) => {
        storeTransactionDuration.unsafeUpdate(seconds(started), none)
        if (Exit.isSuccess(exit) && seen !== undefined) finished(seen, changes)
      }
      if (Exit.isExit(transaction)) {
        done(transaction)
        return transaction
      }
      return Effect.onExit(transaction, (exit) => Effect.sync(() => done(exit)))
    }
  }
}

const makeObserver = (): Observer => {
  const kindLabels = labelCache()
  const takeoverLabels = labelCache()
  const running = new Map<OperationKind, number>()
  const change = (kind: OperationKind, by: number) => {
    const count = (running.get(kind) ?? 0) + by
    running.set(kind, count)
    operationsInProgress.unsafeUpdate(count, kindLabels(["kind"], [kind]))
  }
  return {
    handler: observeHandler,
    store: observeStore,
    operation: (operation, work) =>
      Effect.suspend(() => {
        change(operation.kind, 1)
        return Effect.ensuring(work, Effect.sync(() => change(operation.kind, -1)))
      }),
    tookOver: (kind, outcome) => takeovers.unsafeUpdate(1, takeoverLabels(["kind", "outcome"], [kind, outcome])),
    leaseLost: (kind) => leaseLosses.unsafeUpdate(1, kindLabels(["kind"], [kind]))
  }
}

/**
 * Turns recording on for the servers and managed brokers built with this layer provided (provide it around
 * both: `Layer.provide(main, Metrics.layer)`). `AdminServer` layers include it.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer: Layer.Layer<never> = Layer.sync(MetricsObserver, makeObserver) as Layer.Layer<never>

/**
 * Renders every Effect metric of the process (the OSB metrics and any of your own) in the Prometheus text
 * exposition format, through `@effect/opentelemetry`'s metric producer and `@opentelemetry/exporter-prometheus`'s
 * serializer (loaded on first use; both must be installed). `service.name` is `OTEL_SERVICE_NAME` or `effect-osb`.
 *
 * @since 0.1.0
 * @category rendering
 */
export const prometheus: Effect.Effect<string> = Effect.suspend(() => {
  renderer ??= makeRenderer()
  return Effect.promise(() => renderer!.then((render) => render()))
})

let renderer: Promise<() => Promise<string>> | undefined

const makeRenderer = async (): Promise<() => Promise<string>> => {
  const [{ PrometheusSerializer }, OtelMetrics, OtelResource] = await Promise.all([
    import("@opentelemetry/exporter-prometheus"),
    import("@effect/opentelemetry/Metrics"),
    import("@effect/opentelemetry/Resource")
  ])
  const serviceName = process.env["OTEL_SERVICE_NAME"] ?? "effect-osb"
  const producer = await Effect.runPromise(
    Effect.provide(OtelMetrics.makeProducer, OtelResource.layer({ serviceName }))
  )
  // no timestamps, no otel_scope_info series
  const serializer = new PrometheusSerializer(undefined, false, undefined, false, true)
  return async () => {
    const { resourceMetrics } = await producer.collect()
    return serializer.serialize(resourceMetrics)
  }
}
