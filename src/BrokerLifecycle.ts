/**
 * Graceful shutdown of a broker with background operations: while draining, the router answers mutating
 * requests with 503 and `Retry-After`; running operations get a bounded time to finish; then their leases are
 * released so another replica (or this one after a restart) takes them over at once.
 *
 * @since 0.1.0
 * @module
 */
import * as Context from "effect/Context"
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import type * as Scope from "effect/Scope"

/**
 * The lifecycle service (provided by `ManagedBroker.layer`).
 *
 * @since 0.1.0
 * @category models
 */
export interface BrokerLifecycleService {
  /** Whether the broker is shutting down. */
  readonly draining: Effect.Effect<boolean>
  /** The same, read synchronously (the router uses it when present, so a mutation needs no extra step). */
  readonly isDraining?: () => boolean
  /** Succeeds when the broker's store answers (the admin listener's readiness check); absent without a store. */
  readonly storeProbe?: Effect.Effect<unknown, unknown>
  /** Starts draining: waits up to `timeout` for running operations, then releases their leases. */
  readonly drain: (timeout: Duration.DurationInput) => Effect.Effect<void>
}

/**
 * The lifecycle service tag.
 *
 * @since 0.1.0
 * @category tags
 */
export class BrokerLifecycle extends Context.Tag("effect-osb/BrokerLifecycle")<
  BrokerLifecycle,
  BrokerLifecycleService
>() {}

/**
 * When the broker has a lifecycle, drains it (bounded by `timeout`) as the surrounding scope closes. Added after
 * the server starts, it runs before the server stops (finalizers run in reverse), while mutations get 503.
 *
 * @since 0.1.0
 * @category lifecycle
 */
export const drainOnClose = (timeout: Duration.DurationInput): Effect.Effect<void, never, Scope.Scope> =>
  Effect.flatMap(
    Effect.serviceOption(BrokerLifecycle),
    (lifecycle) => Option.isSome(lifecycle) ? Effect.addFinalizer(() => lifecycle.value.drain(timeout)) : Effect.void
  )
