/**
 * The runner: the imperative shell around the decisions. It takes a decision in the instance's store transaction
 * (under a per-instance lock of this process), starts the work the decision asks for (inline, or in a supervised
 * background fiber), and records how the work ended in a second transaction. Work that is already done when it
 * is created finishes in the deciding transaction; on the in-memory store, with nothing in the decision that
 * waits, that transaction runs before `decideAndRun` returns, so the request needs no fiber.
 *
 * @internal
 */
import * as Cause from "effect/Cause"
import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as FiberMap from "effect/FiberMap"
import * as Option from "effect/Option"
import * as Schedule from "effect/Schedule"
import * as Schema from "effect/Schema"
import type * as Scope from "effect/Scope"
import type { BrokerStoreService, Change, InstanceSnapshot, OperationRecord, OperationRef } from "../../BrokerStore.js"
import { applyChanges, StoreError, StoreUnavailable } from "../../BrokerStore.js"
import type { OfferingWork } from "../../ManagedBroker.js"
import { makeKeyedLock } from "../keyedLock.js"
import type { Observer } from "../observe.js"
import { storeNowOf } from "../storeNow.js"
import { bindingOutputProblem, finishBind } from "./bind.js"
import type { Decision, Env, Failure, Outcome, Start, StepName, Work } from "./decision.js"
import { failed, succeeded } from "./decision.js"
import { finishDeprovision } from "./deprovision.js"
import { finishProvision } from "./provision.js"
import type { RecordBudget } from "./recording.js"
import { recordBudgets, recordOutcome } from "./recording.js"
import { finishUnbind } from "./unbind.js"
import { finishUpdate } from "./update.js"

class TimedOut extends Schema.TaggedError<TimedOut>("effect-osb/ManagedBroker/TimedOut")("TimedOut", {
  seconds: Schema.Number
}) {}

/**
 * How a decided request went: nothing to do, an identical operation running, an async operation started, or a
 * synchronous one finished with the work's output.
 *
 * @internal
 */
export type Ran<S> =
  | { readonly _tag: "Done"; readonly value: S }
  | { readonly _tag: "Running"; readonly operationId: string }
  | { readonly _tag: "Accepted"; readonly operationId: string }
  | { readonly _tag: "Completed"; readonly output: unknown }

/** The effect as an `Exit`, when it already is one (known at once). */
const exitOf = <A, E>(effect: Effect.Effect<A, E>): Exit.Exit<A, E> | undefined =>
  Exit.isExit(effect) ? effect as Exit.Exit<A, E> : undefined

/** What a decision's transaction hands on: the decision, and for sync work the work once it has been started. */
type Decided<S> =
  | { readonly _tag: "Decided"; readonly decision: Decision<S, Work>; readonly prepared: Prepared | undefined }
  | { readonly _tag: "Completed"; readonly output: unknown }

/** Work already started while deciding: its outcome (it finished at once), or its fiber (it is still running). */
type Prepared = Effect.Effect<unknown, unknown>

/** How to run the work of one operation. */
interface Program {
  readonly run: () => Effect.Effect<unknown, unknown>
  readonly maxSeconds: number | undefined
  /** A problem with the work's output makes it a defect of the work (bind: VAL-5, the binding schema). */
  readonly check: ((output: unknown) => string | undefined) | undefined
}

/**
 * What an operation's outcome writes, by its kind: the finish function of its decision module (pure).
 *
 * @internal
 */
export const finishChanges = (
  env: Env,
  snapshot: InstanceSnapshot,
  operation: OperationRecord,
  outcome: Outcome<never>,
  now: number
): ReadonlyArray<Change> => {
  switch (operation.kind) {
    case "provision":
      return finishProvision(snapshot, operation, outcome, now)
    case "update":
      return finishUpdate(env, snapshot, operation, outcome, now)
    case "deprovision":
      return finishDeprovision(snapshot, operation, outcome, now)
    case "bind":
      return finishBind(snapshot, operation.bindingId ?? "", operation, outcome, now)
    case "unbind":
      return finishUnbind(snapshot, operation.bindingId ?? "", operation, outcome, now)
  }
}

/** What each kind of operation is called in failure descriptions. */
const what: Record<OperationRecord["kind"], string> = {
  provision: "provisioning",
  update: "update",
  deprovision: "deprovisioning",
  bind: "binding",
  unbind: "unbinding"
}

/**
 * An operation a fiber of this process runs: an async operation's background fiber, or the request running a
 * synchronous one. Only these have their leases renewed (an operation is owned by a running fiber or by nobody).
 *
 * @internal
 */
export interface LocalOperation extends OperationRef {
  readonly kind: OperationRecord["kind"]
  /** Whether it runs in a background fiber (async) that can be stopped, rather than in a request. */
  readonly background: boolean
}

/**
 * The runner's service.
 *
 * @internal
 */
export interface Runner {
  /** A store transaction; a store failure is a defect. */
  readonly transact: <A, E>(
    instanceId: string,
    f: (snapshot: InstanceSnapshot) => Effect.Effect<readonly [A, ReadonlyArray<Change>], E>
  ) => Effect.Effect<A, E>
  readonly read: (instanceId: string) => Effect.Effect<InstanceSnapshot>
  /** The instance's snapshot read before returning, when the store can (see `storeNow.ts`); `undefined` otherwise. */
  readonly readNow: (instanceId: string) => InstanceSnapshot | undefined
  /** The time by the clock the runner was built with: the clock of what is decided before returning. */
  readonly currentTimeNow: () => number
  readonly withLock: <A, E, R>(instanceId: string, effect: Effect.Effect<A, E, R>) => Effect.Effect<A, E, R>
  /**
   * Decides in the instance's transaction and runs what the decision starts. `validate` runs on the work of a
   * started operation, in the transaction, before anything is written. Not lazy: when the store can run the
   * transaction at once and nothing in it waits, the decision is taken and written before this returns (the
   * result is then an `Exit` when the work was already done); callers that must stay lazy suspend it.
   */
  readonly decideAndRun: <S, E, V>(
    instanceId: string,
    decide: (snapshot: InstanceSnapshot, now: number) => Either.Either<Decision<S, Work>, E>,
    validate: (work: Work) => Effect.Effect<void, V> | undefined
  ) => Effect.Effect<Ran<S>, E | V | unknown>
  /** Forks the work of an async operation in a supervised fiber (an operation taken over). */
  readonly launch: (work: Work, operation: OperationRecord) => Effect.Effect<void>
  /** Records how an operation ended, once (ignored when it was superseded); a store failure is a defect. */
  readonly finish: (operation: OperationRecord, exit: Exit.Exit<unknown, unknown>) => Effect.Effect<void>
  /** Stops the background fiber of an operation, if one runs here, and waits for it. */
  readonly interrupt: (operationId: string) => Effect.Effect<void>
  /** The operations fibers of this process run now (a copy). */
  readonly running: () => ReadonlyArray<LocalOperation>
  /** Whether a fiber of this process runs the operation. */
  readonly isRunning: (operationId: string) => boolean
  /**
   * The store no longer has `entry` as this replica's running operation (finished elsewhere, superseded, taken
   * over): stops its background fiber without waiting, if that very entry still runs here.
   */
  readonly lost: (entry: LocalOperation) => Effect.Effect<void>
  /** Completes once no operation runs here (background fibers and synchronous requests). */
  readonly idle: Effect.Effect<void>
  /** The background fibers, by operation id. */
  readonly fibers: FiberMap.FiberMap<string>
}

/**
 * Builds the runner. `stepFor` resolves the author's step for an offering and plan; `observer` (metrics, traces)
 * wraps the work of every operation when configured.
 *
 * @internal
 */
export const makeRunner = (
  store: BrokerStoreService,
  observer: Observer | undefined,
  env: Env,
  stepFor: <K extends StepName>(serviceId: string, planId: string, name: K) => OfferingWork[K] | undefined
): Effect.Effect<Runner, never, Scope.Scope> =>
  Effect.map(Effect.zip(FiberMap.make<string>(), Effect.clock), ([fibers, clock]) => {
    const locks = makeKeyedLock()
    const local = new Map<string, LocalOperation>()
    const budgets = recordBudgets(env.leaseTtl)

    /** Tracks an operation a fiber of this process runs from now on. */
    const track = (operation: OperationRecord, background: boolean): LocalOperation => {
      const entry: LocalOperation = {
        instanceId: operation.instanceId,
        operationId: operation.id,
        kind: operation.kind,
        background
      }
      local.set(operation.id, entry)
      return entry
    }
    /** Stops tracking `entry` (not a newer entry of the same operation, e.g. one taken over again). */
    const untrack = (entry: LocalOperation) =>
      Effect.sync(() => {
        if (local.get(entry.operationId) === entry) local.delete(entry.operationId)
      })

    const transact = <A, E>(
      instanceId: string,
      f: (snapshot: InstanceSnapshot) => Effect.Effect<readonly [A, ReadonlyArray<Change>], E>
    ): Effect.Effect<A, E> =>
      // the store's own failures are defects here; the HTTP edge answers StoreUnavailable with 503
      Effect.catchAll(
        store.transact(instanceId, f),
        (e) => e instanceof StoreError || e instanceof StoreUnavailable ? Effect.die(e) : Effect.fail(e as E)
      )

    /** The work of an operation, as the observer (if any) watches it. */
    const observed = (operation: OperationRecord, work: Effect.Effect<unknown, unknown>) =>
      observer?.operation === undefined ? work : observer.operation(operation, work)

    const read = (instanceId: string) => Effect.orDie(store.read(instanceId))

    const interrupt = (operationId: string): Effect.Effect<void> =>
      Effect.flatMap(
        Effect.option(FiberMap.get(fibers, operationId)),
        (fiber) => Option.isSome(fiber) ? Effect.asVoid(Fiber.interrupt(fiber.value)) : Effect.void
      )

    const lost = (entry: LocalOperation): Effect.Effect<void> =>
      Effect.suspend(() =>
        local.get(entry.operationId) !== entry || !entry.background
          ? Effect.void
          : Effect.flatMap(
            Effect.option(FiberMap.get(fibers, entry.operationId)),
            (fiber) => Option.isSome(fiber) ? Fiber.interruptFork(fiber.value) : Effect.void
          )
      )

    const idle: Effect.Effect<void> = Effect.asVoid(
      Effect.repeat(Effect.sync(() => local.size), {
        schedule: Schedule.spaced(Duration.millis(50)),
        until: (size) => size === 0
      })
    )

    const program = (work: Work): Program => {
      switch (work.kind) {
        case "provision": {
          const { ctx } = work
          const s = stepFor(ctx.offering.id, ctx.target.plan.id, "provision")
          return {
            run: () => s === undefined ? Effect.dieMessage("no provision work") : s.run(ctx),
            maxSeconds: ctx.target.plan.maximum_polling_duration,
            check: undefined
          }
        }
        case "update": {
          const { ctx } = work
          const s = stepFor(ctx.instance.serviceId, ctx.target.plan.id, "update")
          return {
            run: () => s === undefined ? Effect.dieMessage("no update work") : s.run(ctx),
            maxSeconds: ctx.target.plan.maximum_polling_duration,
            check: undefined
          }
        }
        case "deprovision": {
          const { ctx } = work
          const s = stepFor(ctx.instance.serviceId, ctx.instance.planId, "deprovision")
          return {
            run: () => s === undefined ? Effect.dieMessage("no deprovision work") : s.run(ctx),
            maxSeconds: env.plan(ctx.instance.planId).plan.maximum_polling_duration,
            check: undefined
          }
        }
        case "bind": {
          const { ctx } = work
          const s = stepFor(ctx.target.offering.id, ctx.target.plan.id, "bind")
          return {
            run: () => s === undefined ? Effect.dieMessage("no bind work") : s.run(ctx),
            maxSeconds: ctx.target.plan.maximum_polling_duration,
            check: (output) => bindingOutputProblem(ctx, output as never)
          }
        }
        case "unbind": {
          const { ctx } = work
          const s = stepFor(ctx.binding.serviceId, ctx.binding.planId, "unbind")
          return {
            run: () => s === undefined ? Effect.dieMessage("no unbind work") : s.run(ctx),
            maxSeconds: env.plan(ctx.binding.planId).plan.maximum_polling_duration,
            check: undefined
          }
        }
      }
    }

    /** What an operation's outcome writes, by its kind (pure, see the decision modules). */
    const failureOf = (cause: Cause.Cause<unknown>, name: string): Effect.Effect<Failure> => {
      const failure = Cause.failureOption(cause)
      if (Option.isSome(failure)) {
        const error = failure.value
        if (error instanceof TimedOut) {
          return Effect.succeed({
            description: `The ${name} did not finish within the plan's maximum_polling_duration of ${error.seconds} s.`
          })
        }
        if (typeof error === "object" && error !== null && "description" in error) {
          const e = error as { description: string; instanceUsable?: boolean; updateRepeatable?: boolean }
          return Effect.succeed({
            description: e.description,
            instanceUsable: e.instanceUsable,
            updateRepeatable: e.updateRepeatable
          })
        }
      }
      return Effect.as(
        Effect.logError(`the ${name} failed with an unexpected error`, cause),
        { description: `The ${name} failed because of an internal error.` }
      )
    }

    /** The outcome of an exit (a failure's description; an unexpected error is logged once, here). */
    const outcomeOf = (operation: OperationRecord, exit: Exit.Exit<unknown, unknown>) =>
      Exit.isSuccess(exit)
        ? Effect.succeed<Outcome<never>>(succeeded(exit.value as never))
        : Effect.map(failureOf(exit.cause, what[operation.kind]), failed)

    /** One store transaction writing an operation's outcome (nothing when the operation was superseded). */
    const write = (operation: OperationRecord, outcome: Outcome<never>, now: number) =>
      store.transact(
        operation.instanceId,
        (snapshot) => Exit.succeed([undefined, finishChanges(env, snapshot, operation, outcome, now)] as const)
      )

    const finish = (operation: OperationRecord, exit: Exit.Exit<unknown, unknown>): Effect.Effect<void> =>
      Effect.flatMap(
        Effect.zip(outcomeOf(operation, exit), Clock.currentTimeMillis),
        ([outcome, now]) => Effect.orDie(write(operation, outcome, now))
      )

    /** Releases this replica's lease on an operation (set in the past), so takeover applies at once. */
    const release = (operation: OperationRecord) =>
      store.renewLeases(env.owner, [{ instanceId: operation.instanceId, operationId: operation.id }], 0)

    /**
     * Records how an operation this fiber ran ended, retrying a failed write with backoff within `budget`; on
     * giving up, logs why and releases the lease (see `recording.ts`), and fails with the store's failure.
     */
    const record = (
      operation: OperationRecord,
      exit: Exit.Exit<unknown, unknown>,
      budget: RecordBudget
    ): Effect.Effect<void, unknown> =>
      Effect.flatMap(
        Effect.zip(outcomeOf(operation, exit), Clock.currentTimeMillis),
        ([outcome, now]) => recordOutcome(operation, write(operation, outcome, now), budget, release(operation))
      )

    /** The work of a program, with its output checked. */
    const checked = (p: Program, work: Effect.Effect<unknown, unknown>): Effect.Effect<unknown, unknown> => {
      const check = p.check
      return check === undefined ? work : Effect.flatMap(work, (out) => {
        const problem = check(out)
        return problem === undefined ? Effect.succeed(out) : Effect.dieMessage(problem)
      })
    }

    /**
     * Runs the work of an operation inline (its failure is returned) or forks it in the background; records the
     * outcome either way.
     */
    const execute = (
      p: Program,
      operation: OperationRecord,
      prepared: Prepared | undefined
    ): Effect.Effect<unknown, unknown> => {
      const work = checked(p, prepared ?? observed(operation, p.run()))
      if (!operation.async) {
        // the request's fiber runs it: tracked (its lease renewed) until its outcome is recorded or given up
        return Effect.suspend(() => {
          const entry = track(operation, false)
          return Effect.flatMap(
            Effect.exit(work),
            (exit) => Effect.zipRight(Effect.orDie(record(operation, exit, budgets.sync)), exit)
          )
            .pipe(Effect.ensuring(untrack(entry)))
        })
      }
      const max = p.maxSeconds
      const bounded = max === undefined ? work : Effect.timeoutFail(work, {
        duration: Duration.seconds(max),
        onTimeout: () => new TimedOut({ seconds: max })
      })
      return Effect.suspend(() => {
        const entry = track(operation, true)
        // keyed by operation: stopping one operation never stops another on the same resource
        const background = Effect.flatMap(
          Effect.exit(bounded),
          (exit) =>
            Exit.isFailure(exit) && Cause.isInterruptedOnly(exit.cause)
              ? Effect.void
              // given up: logged, lease released (see `record`); nothing more to do here
              : Effect.catchAllCause(record(operation, exit, budgets.async), () => Effect.void)
        ).pipe(Effect.ensuring(untrack(entry)))
        return Effect.asVoid(FiberMap.run(fibers, operation.id, background))
      })
    }

    const launch = (work: Work, operation: OperationRecord): Effect.Effect<void> =>
      Effect.asVoid(Effect.ignore(execute(program(work), operation, undefined)))

    /**
     * Synchronous work that already is its outcome (`Effect.succeed`, `Effect.void`: an `Exit`) finishes in its
     * deciding transaction: one store transaction instead of two (measured: see README, Performance). Any other work
     * runs after the transaction, never inside it: work run there would see the store's transaction in its context
     * (an `@effect/sql` client of the author's then sends its statements into the store's transaction, as the
     * PostgreSQL example's tests showed) and work that waits would outlive a commit that may still fail.
     */
    const tryAtOnce = <S>(
      snapshot: InstanceSnapshot,
      start: Extract<Decision<S, Work>, { _tag: "Start" }>,
      now: number
    ): readonly [Decided<S>, ReadonlyArray<Change>] => {
      const p = program(start.work)
      const work = observed(start.operation, p.run())
      if (Exit.isExit(work) && Exit.isSuccess(work) && p.check?.(work.value) === undefined) {
        const after = applyChanges(snapshot, start.changes)
        const finished = finishChanges(env, after, start.operation, succeeded(work.value as never), now)
        return [{ _tag: "Completed", output: work.value }, squash([...start.changes, ...finished])]
      }
      return [{ _tag: "Decided", decision: start, prepared: work }, start.changes]
    }

    /** The started operation whose work is launched or stopped while the runner's lock is held, if any. */
    const launchedUnderLock = <S>(decided: Decided<S>): Start<Work> | undefined =>
      decided._tag === "Decided" && decided.decision._tag === "Start" &&
        (decided.decision.operation.async || Option.isSome(decided.decision.interrupt))
        ? decided.decision
        : undefined

    /** Under the lock, after the decision's transaction: async work is forked, a running operation stopped first. */
    const launchUnderLock = <S>(decided: Decided<S>): Effect.Effect<unknown, unknown> => {
      // async work is forked while the lock is held (after any interruption the decision asks for), so a
      // concurrent DELETE always finds it to interrupt
      const started = launchedUnderLock(decided)
      if (started === undefined) return Effect.void
      const { interrupt: stop, operation, work } = started
      const launching = operation.async ? execute(program(work), operation, undefined) : Effect.void
      return Option.isSome(stop) ? Effect.zipRight(interrupt(stop.value), launching) : launching
    }

    /** Once the lock is released: how the request went (sync work that has not finished yet runs now). */
    const ranOf = <S>(decided: Decided<S>): Effect.Effect<Ran<S>, unknown> => {
      if (decided._tag === "Completed") return Exit.succeed(decided)
      const decision = decided.decision
      switch (decision._tag) {
        case "Done":
        case "Running":
          return Exit.succeed(decision)
        case "Start":
          // sync work runs after the lock is released, and fails with its error
          return decision.operation.async
            ? Exit.succeed({ _tag: "Accepted", operationId: decision.operation.id })
            : Effect.map(
              execute(program(decision.work), decision.operation, decided.prepared),
              (output) => ({ _tag: "Completed", output })
            )
      }
    }

    const storeNow = storeNowOf(store)
    const transactNow = storeNow?.transact

    /**
     * The decision taken before returning, when the store can run the transaction at once (the in-memory store, on
     * an instance nobody holds) and nothing in it waits (no validation effect, nothing to launch or stop): an
     * operation whose work is already done is then answered as an `Exit`, without a fiber. `undefined` when it
     * cannot (nothing was written): the caller takes the ordinary way. Measured: a synchronous provision through the
     * handler 28.6 -> 14.8 µs of CPU in process; over HTTP 0.42x -> 0.60x of the baseline (README, Performance).
     */
    const decideNow = <S, E, V>(
      instanceId: string,
      decideIn: (snapshot: InstanceSnapshot) => Effect.Effect<readonly [Decided<S>, ReadonlyArray<Change>], E | V>
    ): Effect.Effect<Ran<S>, E | V | unknown> | undefined => {
      if (transactNow === undefined || !locks.tryTake(instanceId)) return undefined
      let taken: Exit.Exit<Decided<S>, E | V> | undefined
      try {
        taken = transactNow(instanceId, (snapshot) => {
          const decided = exitOf(decideIn(snapshot))
          const launched = decided !== undefined && Exit.isSuccess(decided) && launchedUnderLock(decided.value[0])
          return decided === undefined || launched ? undefined : decided
        })
      } finally {
        locks.release(instanceId)
      }
      if (taken === undefined) return undefined
      return Exit.isSuccess(taken) ? ranOf(taken.value) : taken as Exit.Exit<never, E | V>
    }

    const decideAndRun = <S, E, V>(
      instanceId: string,
      decide: (snapshot: InstanceSnapshot, now: number) => Either.Either<Decision<S, Work>, E>,
      validate: (work: Work) => Effect.Effect<void, V> | undefined
    ): Effect.Effect<Ran<S>, E | V | unknown> => {
      const decideIn =
        (now: number) =>
        (snapshot: InstanceSnapshot): Effect.Effect<readonly [Decided<S>, ReadonlyArray<Change>], E | V> => {
          const decided = decide(snapshot, now)
          if (Either.isLeft(decided)) return Exit.fail(decided.left)
          const decision = decided.right
          if (decision._tag !== "Start") return Exit.succeed([{ _tag: "Decided", decision, prepared: undefined }, []])
          const record = (): readonly [Decided<S>, ReadonlyArray<Change>] =>
            !decision.operation.async && Option.isNone(decision.interrupt)
              ? tryAtOnce(snapshot, decision, now)
              : [{ _tag: "Decided", decision, prepared: undefined }, decision.changes]
          const validation = validate(decision.work)
          return validation === undefined ? Exit.succeed(record()) : Effect.map(validation, record)
        }
      return decideNow(instanceId, decideIn(clock.unsafeCurrentTimeMillis())) ?? Effect.flatMap(
        Clock.currentTimeMillis,
        (now) =>
          Effect.flatMap(
            locks.withLock(instanceId, Effect.tap(transact(instanceId, decideIn(now)), launchUnderLock)),
            ranOf
          )
      )
    }

    return {
      transact,
      read,
      readNow: (instanceId) => storeNow?.read(instanceId),
      currentTimeNow: () => clock.unsafeCurrentTimeMillis(),
      withLock: locks.withLock,
      decideAndRun,
      launch,
      finish,
      interrupt,
      running: () => [...local.values()],
      isRunning: (operationId) => local.has(operationId),
      lost,
      idle,
      fibers
    }
  })

/**
 * The changes of a decision followed by the changes of its finished operation, with the writes the later ones
 * replace left out (the same end state, fewer writes).
 *
 * @internal
 */
export const squash = (changes: ReadonlyArray<Change>): ReadonlyArray<Change> =>
  // a handful of changes: a quadratic scan allocates less than a map
  changes.filter((change, at) => {
    if (change._tag === "ForgetInstance") return true
    for (let later = at + 1; later < changes.length; later++) {
      if (sameTarget(change, changes[later]!)) return false
    }
    return true
  })

/** What a change writes: 0 the instance, 1 a binding, 2 an operation, 3 everything. */
const targetOf = (change: Change): number => {
  switch (change._tag) {
    case "PutInstance":
    case "DeleteInstance":
      return 0
    case "PutBinding":
    case "DeleteBinding":
      return 1
    case "PutOperation":
      return 2
    case "ForgetInstance":
      return 3
  }
}

const idOf = (change: Change): string | undefined => {
  switch (change._tag) {
    case "PutBinding":
      return change.record.bindingId
    case "DeleteBinding":
      return change.bindingId
    case "PutOperation":
      return change.record.id
    default:
      return undefined
  }
}

const sameTarget = (a: Change, b: Change): boolean => targetOf(a) === targetOf(b) && idOf(a) === idOf(b)
