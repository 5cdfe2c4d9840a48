/**
 * The drain on shutdown: refuse new mutations, let running operations finish for a while, then stop what still
 * runs and release this replica's leases so another replica takes the rest over at once.
 *
 * @internal
 */
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as FiberMap from "effect/FiberMap"
import type { BrokerLifecycleService } from "../../BrokerLifecycle.js"
import type { BrokerStoreService } from "../../BrokerStore.js"
import { StoreError } from "../../BrokerStore.js"
import type { Env } from "./decision.js"
import type { Leases } from "./leases.js"
import type { Runner } from "./runner.js"

/**
 * The lifecycle of a managed broker.
 *
 * @internal
 */
export const makeLifecycle = (
  store: BrokerStoreService,
  env: Env,
  runner: Runner,
  leases: Leases
): BrokerLifecycleService => {
  let draining = false
  return {
    draining: Effect.sync(() => draining),
    isDraining: () => draining,
    // the store answers a read within 2 s (any id: a read changes nothing)
    storeProbe: store.read("effect-osb:readiness-probe").pipe(
      Effect.timeoutFail({
        duration: "2 seconds",
        onTimeout: () => new StoreError({ message: "the store did not answer within 2 s" })
      })
    ),
    drain: (timeout) =>
      Effect.gen(function*() {
        draining = true
        yield* Effect.logInfo(
          `draining: waiting up to ${Duration.format(Duration.decode(timeout))} for ${runner.local.size} operation(s)`
        )
        // the drain runs as a finalizer (uninterruptible): the wait itself must be interruptible to be bounded
        yield* Effect.interruptible(FiberMap.awaitEmpty(runner.fibers)).pipe(Effect.timeout(timeout), Effect.ignore)
        // stop renewing and taking over, stop what still runs, then release the leases (set them in the past)
        // so another replica takes the rest over at once
        yield* Fiber.interruptAll(leases.loops)
        yield* FiberMap.clear(runner.fibers)
        yield* Effect.ignore(store.renewLeases(env.owner, 0))
      })
  }
}
