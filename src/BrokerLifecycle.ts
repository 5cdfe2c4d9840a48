/**
 * Graceful shutdown of a broker with background operations: while draining, the router answers mutating
 * requests with 503 and `Retry-After`; running operations get a bounded time to finish; then their leases are
 * released so another replica (or this one after a restart) takes them over at once.
 *
 * @since 0.1.0
 */
import * as Context from "effect/Context"
import type * as Duration from "effect/Duration"
import type * as Effect from "effect/Effect"

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
