/**
 * The hooks through which metrics and traces watch the server and the managed engine. The services are present
 * only when `AdminServer` (metrics) or `Tracing` is configured; without them every hook is skipped when the
 * server or engine is built, so nothing runs per request or per operation. This module loads nothing else.
 *
 * @internal
 */
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import type * as Scope from "effect/Scope"
import type { BrokerLifecycleService } from "../BrokerLifecycle.js"
import type { BrokerStoreService, OperationKind, OperationRecord } from "../BrokerStore.js"
import type { Handler } from "./core.js"

/**
 * What an observer may watch. Every member is optional.
 *
 * @internal
 */
export interface Observer {
  /** Wraps the OSB request handler (`Server.layer`, `Server.serve`). */
  readonly handler?: ((handler: Handler) => Handler) | undefined
  /** Wraps the engine's store (transactions). */
  readonly store?: ((store: BrokerStoreService) => BrokerStoreService) | undefined
  /** Wraps the work of an operation, inline or in the background (called where the operation is launched). */
  readonly operation?:
    | (<A, E>(operation: OperationRecord, work: Effect.Effect<A, E>) => Effect.Effect<A, E>)
    | undefined
  /** Wraps one takeover of an operation whose owner is gone. */
  readonly takeover?: (<A, E>(operationId: string, effect: Effect.Effect<A, E>) => Effect.Effect<A, E>) | undefined
  /**
   * An operation whose owner is gone was taken over: resumed or marked failed. Runs inside the takeover (and its
   * span, when traced), with the operation's record as the store holds it.
   */
  readonly tookOver?:
    | ((operation: OperationRecord, outcome: "resumed" | "failed") => Effect.Effect<void>)
    | undefined
  /** This replica lost the lease of an operation it ran (another replica took it over). */
  readonly leaseLost?: ((kind: OperationKind) => void) | undefined
}

/**
 * The metrics observer (provided by `AdminServer` layers and `Metrics.layer`).
 *
 * @internal
 */
export class MetricsObserver extends Context.Tag("effect-osb/MetricsObserver")<MetricsObserver, Observer>() {}

/**
 * The tracing observer (provided by `Tracing` layers).
 *
 * @internal
 */
export class TracingObserver extends Context.Tag("effect-osb/TracingObserver")<TracingObserver, Observer>() {}

const compose = <F extends (arg: never, ...rest: Array<never>) => unknown>(
  first: F | undefined,
  second: F | undefined,
  chain: (first: F, second: F) => F
): F | undefined => first === undefined ? second : second === undefined ? first : chain(first, second)

/**
 * The observers present in the context, as one (tracing innermost), or `undefined` when there is none.
 *
 * @internal
 */
export const current: Effect.Effect<Observer | undefined> = Effect.map(
  Effect.all([Effect.serviceOption(MetricsObserver), Effect.serviceOption(TracingObserver)]),
  ([metrics, tracing]) => {
    if (Option.isNone(metrics)) return Option.getOrUndefined(tracing)
    if (Option.isNone(tracing)) return metrics.value
    const m = metrics.value
    const t = tracing.value
    const observer: Observer = {
      handler: compose(m.handler, t.handler, (a, b) => (h) => a(b(h))),
      store: compose(m.store, t.store, (a, b) => (s) => a(b(s))),
      operation: compose(m.operation, t.operation, (a, b) => (op, work) => a(op, b(op, work))),
      takeover: compose(m.takeover, t.takeover, (a, b) => (id, effect) => a(id, b(id, effect))),
      tookOver: compose(
        m.tookOver,
        t.tookOver,
        (a, b) => (operation, outcome) => Effect.zipRight(a(operation, outcome), b(operation, outcome))
      ),
      leaseLost: compose(m.leaseLost, t.leaseLost, (a, b) => (kind) => {
        a(kind)
        b(kind)
      })
    }
    return observer
  }
)

/**
 * The handler as the observers wrap it (unchanged without observers).
 *
 * @internal
 */
export const wrapHandler = (handler: Handler): Effect.Effect<Handler> =>
  Effect.map(current, (observer) => observer?.handler === undefined ? handler : observer.handler(handler))

/**
 * What the admin listener learns from a serving broker: whether it drains, and why it is not ready.
 *
 * @internal
 */
export interface Serving {
  readonly lifecycle: Option.Option<BrokerLifecycleService>
}

/**
 * The admin listener's registry: `Server.layer` registers while it serves (readiness), and unregisters when it
 * stops.
 *
 * @internal
 */
export class AdminRegistry extends Context.Tag("effect-osb/AdminRegistry")<AdminRegistry, {
  readonly register: (serving: Serving) => Effect.Effect<void, never, Scope.Scope>
}>() {}

/**
 * Registers the serving broker with the admin listener, when there is one, until the scope closes.
 *
 * @internal
 */
export const registerServing = (lifecycle: Option.Option<BrokerLifecycleService>): Effect.Effect<
  void,
  never,
  Scope.Scope
> =>
  Effect.flatMap(
    Effect.serviceOption(AdminRegistry),
    (registry) => Option.isSome(registry) ? registry.value.register({ lifecycle }) : Effect.void
  )
