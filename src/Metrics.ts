/**
 * OSB-aware metrics as Effect `Metric`s: requests by endpoint and status, operations by kind, mode, plan and
 * outcome, operations in progress, takeovers, lease losses, store transactions and authentication failures.
 * Labels never carry an instance or binding id, parameters or credentials. `layer` turns recording on (the
 * admin listener does it for you); `prometheus` renders the Effect metrics of the process (not Effect's own
 * `effect_fiber_*`) in the Prometheus text format through `@effect/opentelemetry` and `@opentelemetry/exporter-prometheus` (optional peer dependencies,
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
import { storeNowOf, withStoreNow } from "./internal/storeNow.js"

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

// Effect's metric keeps one hook per label array object (a WeakMap lookup), so every series below has ONE array,
// made on first use and then looked up by small keys: no array, label or string is built per update.

const labels = (entries: ReadonlyArray<readonly [string, string]>): Labels =>
  entries.map(([name, value]) => MetricLabel.make(name, value))

const operationKinds: ReadonlyArray<OperationKind> = ["provision", "update", "deprovision", "bind", "unbind"]

/** Label arrays by operation kind. */
const byKind = <A>(make: (kind: OperationKind) => A): Readonly<Record<OperationKind, A>> =>
  Object.fromEntries(operationKinds.map((kind) => [kind, make(kind)])) as Record<OperationKind, A>

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

/**
 * The `endpoint` label of a request to a known route (a router that matched the path itself, e.g. one mounted under
 * a prefix): the OSB operation the route and method name, or `other`.
 *
 * @since 0.1.0
 * @category utils
 */
export const endpointOfRoute = (name: RouteName, method: string): string => endpointNames[name][method] ?? "other"

const seconds = (started: number): number => (performance.now() - started) / 1000

/** An endpoint's label arrays: for the duration, and per status for the count. */
interface EndpointLabels {
  readonly name: string
  readonly endpoint: Labels
  readonly byStatus: Map<number, Labels>
}

const none: Labels = []

/** Records one answered request. */
const recordRequest = (endpoint: EndpointLabels, started: number, status: number): void => {
  let statusLabels = endpoint.byStatus.get(status)
  if (statusLabels === undefined) {
    statusLabels = labels([["endpoint", endpoint.name], ["status", String(status)]])
    endpoint.byStatus.set(status, statusLabels)
  }
  requests.unsafeUpdate(1, statusLabels)
  requestDuration.unsafeUpdate(seconds(started), endpoint.endpoint)
  if (status === 401) authenticationFailures.unsafeUpdate(1, none)
}

const observeHandler = (handler: Handler): Handler => {
  const endpoints = new Map<string, EndpointLabels>()
  const labelsOf = (name: string): EndpointLabels => {
    let found = endpoints.get(name)
    if (found === undefined) {
      found = { name, endpoint: labels([["endpoint", name]]), byStatus: new Map() }
      endpoints.set(name, found)
    }
    return found
  }
  const record = (endpoint: EndpointLabels, started: number) => (response: OsbHttpResponse) => {
    recordRequest(endpoint, started, response.status)
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
        record(labelsOf(endpointOfRoute(name, request.method)), started)
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

/**
 * The label arrays of `osb_operations_total`: per plan (plans are the catalog's, a bounded set), one per kind,
 * mode and outcome, indexed by `kind * 4 + async * 2 + failed`.
 */
const operationLabels = () => {
  const byPlan = new Map<string, Array<Labels | undefined>>()
  return (plan: string, record: OperationRecord): Labels => {
    let forPlan = byPlan.get(plan)
    if (forPlan === undefined) {
      forPlan = []
      byPlan.set(plan, forPlan)
    }
    const index = operationKinds.indexOf(record.kind) * 4 + (record.async ? 2 : 0) + (record.state === "failed" ? 1 : 0)
    let found = forPlan[index]
    if (found === undefined) {
      found = labels([
        ["kind", record.kind],
        ["mode", record.async ? "async" : "sync"],
        ["plan", plan],
        ["outcome", record.state]
      ])
      forPlan[index] = found
    }
    return found
  }
}

const kindLabels = byKind((kind) => labels([["kind", kind]]))

const observeStore = (store: BrokerStoreService): BrokerStoreService => {
  const labelsOf = operationLabels()
  const count = (snapshot: InstanceSnapshot, changes: ReadonlyArray<Change>, record: OperationRecord) => {
    operations.unsafeUpdate(1, labelsOf(planOf(snapshot, changes), record))
    const duration = record.finishedAt === undefined ? 0 : (record.finishedAt - record.startedAt) / 1000
    operationDuration.unsafeUpdate(Math.max(0, duration), kindLabels[record.kind])
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
  /** One transaction's record: `saw` keeps what the decision changes, `ended` records it (and what it finished). */
  const recording = () => {
    const started = performance.now()
    let seen: InstanceSnapshot | undefined
    let changes: ReadonlyArray<Change> = []
    return {
      saw: (snapshot: InstanceSnapshot, decided: readonly [unknown, ReadonlyArray<Change>]) => {
        seen = snapshot
        changes = decided[1]
      },
      ended: (committed: boolean) => {
        storeTransactionDuration.unsafeUpdate(seconds(started), none)
        if (committed && seen !== undefined) finished(seen, changes)
      }
    }
  }
  const observed: BrokerStoreService = {
    persistent: store.persistent,
    read: store.read,
    expiredOperations: store.expiredOperations,
    renewLeases: store.renewLeases,
    runningOperations: store.runningOperations,
    transact: (instanceId, f) => {
      const record = recording()
      const transaction = store.transact(instanceId, (snapshot) =>
        // Fast.map keeps a decision that is already an Exit an Exit
        Fast.map(f(snapshot), (result) => {
          record.saw(snapshot, result)
          return result
        }))
      if (Exit.isExit(transaction)) {
        record.ended(Exit.isSuccess(transaction))
        return transaction
      }
      // matchCauseEffect, not onExit: no uninterruptible region per transaction (measured: README, Performance)
      return Effect.matchCauseEffect(transaction, {
        onFailure: (cause) => {
          record.ended(false)
          return Exit.failCause(cause)
        },
        onSuccess: (value) => {
          record.ended(true)
          return Exit.succeed(value)
        }
      })
    }
  }
  // the store's synchronous transaction, recorded the same way (a request known at once stays without a fiber)
  const now = storeNowOf(store)
  return now === undefined ? observed : withStoreNow(observed, {
    read: now.read,
    transact: (instanceId, f) => {
      const record = recording()
      const transaction = now.transact(instanceId, (snapshot) => {
        const decided = f(snapshot)
        if (decided !== undefined && Exit.isSuccess(decided)) record.saw(snapshot, decided.value)
        return decided
      })
      // undefined: declined or not run, no transaction happened
      if (transaction !== undefined) record.ended(Exit.isSuccess(transaction))
      return transaction
    }
  })
}

const takeoverLabels = byKind((kind) => ({
  resumed: labels([["kind", kind], ["outcome", "resumed"]]),
  failed: labels([["kind", kind], ["outcome", "failed"]])
}))

const makeObserver = (): Observer => {
  const running = new Map<OperationKind, number>()
  const change = (kind: OperationKind, by: number) => {
    const count = (running.get(kind) ?? 0) + by
    running.set(kind, count)
    operationsInProgress.unsafeUpdate(count, kindLabels[kind])
  }
  return {
    handler: observeHandler,
    store: observeStore,
    // work that already is its outcome (an Exit) is never observably in progress, and stays an Exit: the engine
    // finishes such an operation in its deciding transaction (one transaction instead of two)
    operation: (operation, work) =>
      Exit.isExit(work) ? work : Effect.suspend(() => {
        change(operation.kind, 1)
        return Effect.ensuring(work, Effect.sync(() => change(operation.kind, -1)))
      }),
    tookOver: (operation, outcome) =>
      Effect.sync(() => takeovers.unsafeUpdate(1, takeoverLabels[operation.kind][outcome])),
    leaseLost: (kind) => leaseLosses.unsafeUpdate(1, kindLabels[kind])
  }
}

/**
 * Turns recording on for the servers, routers (`Router.make`, for a router mounted in your own app) and managed
 * brokers built with this layer provided (provide it around them: `Layer.provide(main, Metrics.layer)`).
 * `AdminServer` layers include it.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer: Layer.Layer<never> = Layer.sync(MetricsObserver, makeObserver) as Layer.Layer<never>

/**
 * Renders the Effect metrics of the process (the OSB metrics and any of your own; not Effect's runtime metrics,
 * see {@link isEffectRuntimeMetric}) in the Prometheus text exposition format, through `@effect/opentelemetry`'s metric producer and `@opentelemetry/exporter-prometheus`'s
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

/**
 * Effect's own runtime metrics (`effect_fiber_started`, `effect_fiber_active`, `effect_fiber_lifetimes`, ...): left
 * out of the rendering, they say nothing about the broker and grow with every fiber.
 *
 * @since 0.1.0
 * @category rendering
 */
export const isEffectRuntimeMetric = (name: string): boolean => name.startsWith("effect_fiber_")

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
    return serializer.serialize({
      resource: resourceMetrics.resource,
      scopeMetrics: resourceMetrics.scopeMetrics.map((scope) => ({
        scope: scope.scope,
        metrics: scope.metrics.filter((metric) => !isEffectRuntimeMetric(metric.descriptor.name))
      }))
    })
  }
}
