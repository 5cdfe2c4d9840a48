/**
 * Recording an operation's outcome when the store fails (issue 12): the fiber that ran the work retries the write
 * with backoff for a bounded time; if it gives up, it logs the operation and why, and releases its lease, so
 * takeover applies (the operation is owned by a running fiber or by nobody; decision 45).
 *
 * @internal
 */
import * as Cause from "effect/Cause"
import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Schedule from "effect/Schedule"
import type { OperationRecord } from "../../BrokerStore.js"
import { StoreError, StoreUnavailable } from "../../BrokerStore.js"

/**
 * How long a fiber keeps trying to record an outcome, and the longest wait between two tries.
 *
 * @internal
 */
export interface RecordBudget {
  /** Retries stop once this much time has passed since the first failure. */
  readonly withinMs: number
  /** The longest wait between two tries: once the store is back, the outcome is recorded within it. */
  readonly maxDelayMs: number
}

/**
 * The budgets for a lease TTL: a request (synchronous work) answers within 10 s of retries (then 503); background
 * work waits out a restart or a stop (at least 30 s, two lease TTLs when longer). Between tries at most a third of
 * the lease TTL (the renewal period), and at most 5 s.
 *
 * @internal
 */
export const recordBudgets = (leaseTtl: number): { readonly sync: RecordBudget; readonly async: RecordBudget } => {
  const maxDelayMs = Math.min(5000, Math.max(10, Math.floor(leaseTtl / 3)))
  return {
    sync: { withinMs: 10_000, maxDelayMs },
    async: { withinMs: Math.max(30_000, 2 * leaseTtl), maxDelayMs }
  }
}

/** Exponential backoff from 100 ms (or less), each wait capped, for the budget's time. */
const retries = (budget: RecordBudget) =>
  Schedule.exponential(Duration.millis(Math.min(100, budget.maxDelayMs)), 2).pipe(
    Schedule.modifyDelay((delay) => Duration.min(delay, Duration.millis(budget.maxDelayMs))),
    Schedule.upTo(Duration.millis(budget.withinMs))
  )

/** A failure of the store (worth another try), as opposed to a defect of the engine. */
const isStoreFailure = (e: unknown): boolean => e instanceof StoreError || e instanceof StoreUnavailable

/** Why, in one line (a store error's message; never a stack). */
const reasonOf = (cause: Cause.Cause<unknown>): string => {
  const error = Cause.squash(cause)
  return error instanceof Error || (typeof error === "object" && error !== null && "message" in error)
    ? String((error as { message: unknown }).message)
    : String(error)
}

/**
 * Runs `write` (one store transaction recording `operation`'s outcome; each try uninterruptible, the waits between
 * tries interruptible); after a store failure, tries again with backoff until it succeeds, a non-store failure
 * happens, or the budget is spent. On giving up it logs the operation's id and why, runs `release` (the lease; its
 * own failure ignored: the lease then expires, as it is no longer renewed), and fails with the last failure.
 * Interrupted (the drain, a lease lost), it logs nothing. The retry machinery is built only after a failure.
 *
 * @internal
 */
export const recordOutcome = <A, E>(
  operation: OperationRecord,
  write: Effect.Effect<A, E>,
  budget: RecordBudget,
  release: Effect.Effect<unknown, unknown>
): Effect.Effect<A, E> => {
  const once = Effect.uninterruptible(write)
  return Effect.catchAllCause(once, (first) =>
    Effect.flatMap(Clock.currentTimeMillis, (failedAt) => {
      const failure = Cause.failureOption(first)
      const again = Option.isSome(failure) && isStoreFailure(failure.value)
        ? Effect.retry(once, { schedule: retries(budget), while: isStoreFailure })
        : Effect.failCause(first)
      return Effect.tapErrorCause(again, (cause) =>
        Cause.isInterruptedOnly(cause) ? Effect.void : Effect.flatMap(Clock.currentTimeMillis, (now) =>
          Effect.zipRight(
            Effect.logWarning(
              `operation ${operation.id} (${operation.kind} of instance ${operation.instanceId}) could not record ` +
                `its outcome: ${reasonOf(cause)}; gave up after ${((now - failedAt) / 1000).toFixed(1)} s of ` +
                "retries and released its lease, so takeover resolves it"
            ),
            Effect.ignore(release)
          )))
    }))
}
