/**
 * A lock per key: effects with the same key run one at a time (first come, first served), others in parallel.
 * Unused keys are dropped.
 *
 * @internal
 */
import * as Effect from "effect/Effect"

/** @internal */
export interface KeyedLock {
  readonly withLock: <A, E, R>(key: string, effect: Effect.Effect<A, E, R>) => Effect.Effect<A, E, R>
  /** Takes `key` if nobody holds it (synchronously); the caller must `release` it however it continues. */
  readonly tryTake: (key: string) => boolean
  /** Releases a key taken with `tryTake`. */
  readonly release: (key: string) => void
}

/** A fiber waiting for a key; `granted` once the previous holder handed the key over. */
interface Waiter {
  granted: boolean
  resume: (() => void) | undefined
}

const leave = (waiters: Array<Waiter>, waiter: Waiter): void => {
  const at = waiters.indexOf(waiter)
  if (at >= 0) waiters.splice(at, 1)
}

/** @internal */
export const makeKeyedLock = (): KeyedLock => {
  /** Held keys and their waiters, in arrival order. A key is absent when nobody holds it. */
  const held = new Map<string, Array<Waiter>>()

  const release = (key: string): void => {
    const waiters = held.get(key)
    const next = waiters?.shift()
    if (next === undefined) {
      held.delete(key)
      return
    }
    // the key passes to the next waiter directly: nobody can take it in between
    next.granted = true
    next.resume?.()
  }

  /** Runs `effect` holding `key` (called uninterruptibly, with the key taken): releases it however it ends. */
  const holding = <A, E, R>(
    key: string,
    effect: Effect.Effect<A, E, R>,
    restore: <AX, EX, RX>(effect: Effect.Effect<AX, EX, RX>) => Effect.Effect<AX, EX, RX>
  ): Effect.Effect<A, E, R> =>
    Effect.matchCauseEffect(restore(effect), {
      onFailure: (cause) => {
        release(key)
        return Effect.failCause(cause)
      },
      onSuccess: (value) => {
        release(key)
        return Effect.succeed(value)
      }
    })

  const tryTake = (key: string): boolean => {
    if (held.has(key)) return false
    held.set(key, [])
    return true
  }

  return {
    tryTake,
    release,
    withLock: <A, E, R>(key: string, effect: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
      Effect.uninterruptibleMask((restore) =>
        Effect.suspend(() => {
          // free: taken synchronously, no suspension
          if (tryTake(key)) return holding(key, effect, restore)
          const waiters = held.get(key)!
          const waiter: Waiter = { granted: false, resume: undefined }
          waiters.push(waiter)
          const wait = Effect.async<void>((resume) => {
            if (waiter.granted) return resume(Effect.void)
            waiter.resume = () => resume(Effect.void)
            return Effect.sync(() => {
              // interrupted while waiting: leave the queue (a key already handed over is released below)
              if (!waiter.granted) leave(waiters, waiter)
            })
          })
          return Effect.matchCauseEffect(restore(wait), {
            onFailure: (cause) => {
              // interrupted, perhaps before the wait even began: pass on a key handed over, else leave the queue
              if (waiter.granted) release(key)
              else leave(waiters, waiter)
              return Effect.failCause(cause)
            },
            onSuccess: () => holding(key, effect, restore)
          })
        })
      )
  }
}
