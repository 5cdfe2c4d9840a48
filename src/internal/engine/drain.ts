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
        const here = runner.running()
        // what the store says this replica owns (what runs here when the store cannot say)
        const owned = yield* Effect.orElseSucceed(store.runningOperations(env.owner), () => here)
        // owned but run by no fiber here (its outcome could not be recorded): released now, nobody will finish it
        const orphans = owned.filter((o) => !runner.isRunning(o.operationId))
        if (orphans.length > 0) yield* Effect.ignore(store.renewLeases(env.owner, orphans, 0))
        yield* Effect.logInfo(
          `draining: waiting up to ${Duration.format(Duration.decode(timeout))} for ${owned.length} operation(s) ` +
            `this replica owns (${here.length} running here, ${orphans.length} with no fiber here released at once)`
        )
        // the drain runs as a finalizer (uninterruptible): the wait itself must be interruptible to be bounded
        yield* Effect.interruptible(runner.idle).pipe(Effect.timeout(timeout), Effect.ignore)
        // stop renewing and taking over, stop what still runs, then release every lease the store says this replica
        // still holds (set them in the past) so another replica takes the rest over at once
        yield* Fiber.interruptAll(leases.loops)
        yield* FiberMap.clear(runner.fibers)
        const left = yield* Effect.orElseSucceed(store.runningOperations(env.owner), () => owned)
        // a synchronous request still running keeps its lease: it records its outcome itself
        const unfinished = left.filter((o) => !runner.isRunning(o.operationId))
        yield* Effect.ignore(store.renewLeases(env.owner, unfinished, 0))
        if (unfinished.length > 0) {
          yield* Effect.logInfo(`drained: released ${unfinished.length} unfinished operation(s) for takeover`)
        }
      })
  }
}
