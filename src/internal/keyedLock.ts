/**
 * A lock per key: effects with the same key run one at a time, others in parallel. Unused keys are dropped.
 *
 * @internal
 */
import * as Effect from "effect/Effect"

/** @internal */
export interface KeyedLock {
  readonly withLock: <A, E, R>(key: string, effect: Effect.Effect<A, E, R>) => Effect.Effect<A, E, R>
}

/** @internal */
export const makeKeyedLock = (): KeyedLock => {
  const locks = new Map<string, { readonly semaphore: Effect.Semaphore; users: number }>()
  return {
    withLock: (key, effect) =>
      Effect.acquireUseRelease(
        Effect.sync(() => {
          let lock = locks.get(key)
          if (lock === undefined) {
            lock = { semaphore: Effect.unsafeMakeSemaphore(1), users: 0 }
            locks.set(key, lock)
          }
          lock.users++
          return lock
        }),
        (lock) => lock.semaphore.withPermits(1)(effect),
        (lock) =>
          Effect.sync(() => {
            lock.users--
            if (lock.users === 0) locks.delete(key)
          })
      )
  }
}

/** Canonical JSON: object keys sorted at every level, so equal values give equal strings. @internal */
export const canonicalJson = (value: unknown): string => {
  if (value === null || typeof value !== "object") return JSON.stringify(value) ?? "null"
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`
  const keys = Object.keys(value).sort()
  return `{${
    keys
      .filter((k) => (value as Record<string, unknown>)[k] !== undefined)
      .map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`)
      .join(",")
  }}`
}
