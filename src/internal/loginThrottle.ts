/**
 * Failed logins per client address: after a few failures each further 401 is answered later, after many the
 * address is refused (429 with `Retry-After`) for a while without its credentials being checked, so guessing
 * cannot go faster than the limits allow. An address whose requests authenticate is never delayed: a success
 * clears its count. Decisions are pure functions of the state and the clock; the adapter applies them.
 *
 * @internal
 */

/** @internal */
export interface ThrottleSettings {
  /** Failures in a window after which each further 401 is delayed. */
  readonly delayAfter: number
  /** Delay added per failure beyond `delayAfter`, and its cap. */
  readonly delayStepMs: number
  readonly maxDelayMs: number
  /** Failures in a window after which the address is refused. */
  readonly maxFailures: number
  /** The window failures are counted in. */
  readonly windowMs: number
  /** How long a refused address stays refused. */
  readonly blockMs: number
  /** Addresses remembered at most (the oldest are forgotten first). */
  readonly maxAddresses: number
}

interface Failures {
  count: number
  windowStart: number
  blockedUntil: number
}

/** @internal */
export interface LoginThrottle {
  /** Milliseconds the address stays refused, or 0 when its request may be authenticated. */
  readonly refusedFor: (address: string, now: number) => number
  /** Records a 401 for the address; returns how long to hold its answer (ms). */
  readonly failed: (address: string, now: number) => number
  /** Records an authenticated request: the address's failures are forgotten. */
  readonly succeeded: (address: string) => void
}

/** @internal */
export const make = (settings: ThrottleSettings): LoginThrottle => {
  const byAddress = new Map<string, Failures>()

  const current = (address: string, now: number): Failures | undefined => {
    const known = byAddress.get(address)
    if (known === undefined) return undefined
    if (known.blockedUntil <= now && now - known.windowStart >= settings.windowMs) {
      byAddress.delete(address)
      return undefined
    }
    return known
  }

  const remember = (address: string, failures: Failures): void => {
    if (byAddress.size >= settings.maxAddresses) {
      // Map iterates in insertion order: the first key is the oldest
      const oldest = byAddress.keys().next()
      if (oldest.done !== true) byAddress.delete(oldest.value)
    }
    byAddress.set(address, failures)
  }

  return {
    refusedFor: (address, now) => {
      const failures = current(address, now)
      return failures === undefined || failures.blockedUntil <= now ? 0 : failures.blockedUntil - now
    },
    failed: (address, now) => {
      let failures = current(address, now)
      if (failures === undefined) {
        failures = { count: 0, windowStart: now, blockedUntil: 0 }
        remember(address, failures)
      }
      failures.count++
      if (failures.count >= settings.maxFailures) {
        failures.blockedUntil = now + settings.blockMs
        // a new window starts when the block ends
        failures.windowStart = failures.blockedUntil
        failures.count = 0
      }
      const beyond = failures.count - settings.delayAfter
      return beyond <= 0 ? 0 : Math.min(settings.maxDelayMs, beyond * settings.delayStepMs)
    },
    succeeded: (address) => {
      if (byAddress.size > 0) byAddress.delete(address)
    }
  }
}
