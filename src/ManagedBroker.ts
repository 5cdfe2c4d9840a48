/**
 * The managed broker: the author writes only the work (provision, update, deprovision, bind, unbind), per
 * offering or per plan, each synchronous, asynchronous or either; the library keeps the state in a
 * `BrokerStore` and answers everything the protocol asks: idempotent repeats (200 / 202 with the same operation /
 * 409), `AsyncRequired`, background operations with `last_operation`, per-instance concurrency, interruption of a
 * running create by a delete, `maximum_polling_duration`, binding rotation, and fetch from the store.
 *
 * @since 0.1.0
 */
import * as Cause from "effect/Cause"
import * as Clock from "effect/Clock"
import * as Config from "effect/Config"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as FiberMap from "effect/FiberMap"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Schedule from "effect/Schedule"
import * as Schema from "effect/Schema"
import type * as Scope from "effect/Scope"
import { randomBytes, randomFillSync } from "node:crypto"
import type { BrokerLifecycleService } from "./BrokerLifecycle.js"
import { BrokerLifecycle } from "./BrokerLifecycle.js"
import type {
  BindingRecord,
  BindingState,
  Change as StoreChange,
  InstanceRecord,
  InstanceSnapshot,
  OperationKind,
  OperationRecord,
  Tombstone
} from "./BrokerStore.js"
import { BrokerStore, Change, StoreError, StoreUnavailable, unavailableIn } from "./BrokerStore.js"
import type { ResolvedPlan } from "./Catalog.js"
import { Catalog, effectivePlan, undeclaredRequirement } from "./Catalog.js"
import { provisionFingerprint } from "./internal/fingerprint.js"
import { canonicalJson, makeKeyedLock } from "./internal/keyedLock.js"
import * as Observe from "./internal/observe.js"
import type {
  BindingResponseBody,
  FetchBindingBody,
  FetchInstanceBody,
  InstanceMetadata,
  JsonObject,
  ServiceOffering
} from "./Model.js"
import { BindingResponseBody as BindingResponseBodySchema } from "./Model.js"
import type { DeprovisionFailure } from "./OsbError.js"
import {
  AsyncRequired,
  BadRequest,
  BrokerFailure,
  ConcurrencyError,
  Conflict,
  Gone,
  MaintenanceInfoConflict,
  NotFound,
  type RequiresApp,
  type UpdateFailure,
  UpdateNotSupported
} from "./OsbError.js"
import { latestApiVersion } from "./RequestInfo.js"
import type {
  BindError,
  BindingOperationState,
  BindRequest,
  BindResult,
  DeleteResult,
  DeprovisionError,
  DeprovisionRequest,
  GetBindingError,
  GetInstanceError,
  InstanceAnswer,
  InstanceOperationState,
  LastOperationError,
  ProvisionError,
  ProvisionRequest,
  ProvisionResult,
  ServiceBrokerService,
  UnbindError,
  UnbindRequest,
  UpdateError,
  UpdateRequest,
  UpdateResult
} from "./ServiceBroker.js"
import { Result, ServiceBroker } from "./ServiceBroker.js"

// -----------------------------------------------------------------------------
// what the author writes
// -----------------------------------------------------------------------------

/**
 * How a step runs: `sync` answers when the work is done (201/200), `async` always runs in the background (202,
 * and 422 `AsyncRequired` without `accepts_incomplete=true`), `either` runs in the background when the platform
 * accepts it and inline otherwise.
 *
 * @since 0.1.0
 * @category models
 */
export type Mode = "sync" | "async" | "either"

/**
 * One step of work.
 *
 * @since 0.1.0
 * @category models
 */
export interface Step<Ctx, Out, E, V = never> {
  readonly mode: Mode
  /** The work. Runs inline (sync) or in a supervised background fiber (async); interruptible. */
  readonly run: (ctx: Ctx) => Effect.Effect<Out, E>
  /** Quick checks before anything is recorded (e.g. parameters); failures are answered directly (4xx). */
  readonly validate?: (ctx: Ctx) => Effect.Effect<void, V>
  /** The work is idempotent and may be run again after a crash (used by durable stores). */
  readonly resumable?: boolean
}

/**
 * What provision and update work return.
 *
 * @since 0.1.0
 * @category models
 */
export interface InstanceOutput {
  readonly dashboardUrl?: string | null
  readonly metadata?: InstanceMetadata
  /** Any JSON the author wants kept with the instance (handed to later steps as `instance.data`). */
  readonly data?: unknown
}

/**
 * What bind work returns: the binding body (credentials, endpoints, ...) and optional private data.
 *
 * @since 0.1.0
 * @category models
 */
export type BindingOutput = BindingResponseBody & { readonly data?: unknown }

/**
 * @since 0.1.0
 * @category models
 */
export interface ProvisionContext {
  readonly instanceId: string
  readonly offering: ServiceOffering
  readonly target: ResolvedPlan
  readonly parameters: JsonObject
  readonly request: ProvisionRequest
}

/**
 * @since 0.1.0
 * @category models
 */
export interface UpdateContext {
  readonly instanceId: string
  readonly instance: InstanceRecord
  /** The plan after the update (the current one when the request changes no plan). */
  readonly target: ResolvedPlan
  /** The plan before the update. */
  readonly previous: ResolvedPlan
  /** The parameters the request carried (partial), if any. */
  readonly requestedParameters: Option.Option<JsonObject>
  /** The current parameters with the requested ones merged in (shallow); what the store keeps on success. */
  readonly parameters: JsonObject
  readonly request: UpdateRequest
}

/**
 * @since 0.1.0
 * @category models
 */
export interface DeprovisionContext {
  readonly instanceId: string
  readonly instance: InstanceRecord
  /** Bindings still recorded (they go with the instance, decision 14). */
  readonly bindings: ReadonlyArray<BindingRecord>
  readonly request: DeprovisionRequest
}

/**
 * @since 0.1.0
 * @category models
 */
export interface BindContext {
  readonly instanceId: string
  readonly bindingId: string
  readonly instance: InstanceRecord
  readonly target: ResolvedPlan
  /** The request's parameters, or the predecessor's when rotating without parameters. */
  readonly parameters: JsonObject
  readonly appGuid: Option.Option<string>
  /** The binding being rotated (2.17 `predecessor_binding_id`). */
  readonly predecessor: Option.Option<BindingRecord>
  readonly request: BindRequest
}

/**
 * @since 0.1.0
 * @category models
 */
export interface UnbindContext {
  readonly instanceId: string
  readonly bindingId: string
  readonly instance: Option.Option<InstanceRecord>
  readonly binding: BindingRecord
  readonly request: UnbindRequest
}

/**
 * The work of one offering. `plans` overrides steps per plan (keyed by plan id or name).
 *
 * @since 0.1.0
 * @category models
 */
export interface OfferingWork {
  readonly provision: Step<ProvisionContext, InstanceOutput, BrokerFailure, BadRequest>
  /** The dashboard URL, known before the provision work runs, so the first (even 202) answer carries it. */
  readonly dashboardUrl?: (ctx: ProvisionContext) => string
  readonly deprovision: Step<DeprovisionContext, void, DeprovisionFailure | BrokerFailure>
  readonly update?: Step<UpdateContext, InstanceOutput, UpdateFailure | BrokerFailure, BadRequest | UpdateNotSupported>
  readonly bind?: Step<BindContext, BindingOutput, BrokerFailure, BadRequest | RequiresApp>
  readonly unbind?: Step<UnbindContext, void, BrokerFailure>
  /** Shapes the fetch-instance answer from the record (e.g. to hide secret parameters). */
  readonly fetchInstance?: (instance: InstanceRecord) => Effect.Effect<FetchInstanceBody, BrokerFailure>
  /** Shapes the fetch-binding answer from the record. */
  readonly fetchBinding?: (binding: BindingRecord) => Effect.Effect<FetchBindingBody, BrokerFailure>
  readonly plans?: {
    readonly [planIdOrName: string]: Partial<
      Pick<OfferingWork, "provision" | "deprovision" | "update" | "bind" | "unbind">
    >
  }
}

/**
 * Step constructors.
 *
 * @since 0.1.0
 * @category constructors
 */
export const sync = <Ctx, Out, E, V = never>(
  run: (ctx: Ctx) => Effect.Effect<Out, E>,
  options: Omit<Step<Ctx, Out, E, V>, "mode" | "run"> = {}
): Step<Ctx, Out, E, V> => ({ ...options, mode: "sync", run })

/**
 * @since 0.1.0
 * @category constructors
 */
export const async = <Ctx, Out, E, V = never>(
  run: (ctx: Ctx) => Effect.Effect<Out, E>,
  options: Omit<Step<Ctx, Out, E, V>, "mode" | "run"> = {}
): Step<Ctx, Out, E, V> => ({ ...options, mode: "async", run })

/**
 * @since 0.1.0
 * @category constructors
 */
export const either = <Ctx, Out, E, V = never>(
  run: (ctx: Ctx) => Effect.Effect<Out, E>,
  options: Omit<Step<Ctx, Out, E, V>, "mode" | "run"> = {}
): Step<Ctx, Out, E, V> => ({ ...options, mode: "either", run })

/**
 * Options of the managed broker.
 *
 * @since 0.1.0
 * @category models
 */
export interface ManagedOptions {
  /** How long a deleted resource answers 410 on last_operation before it is unknown (404). Default 7 days. */
  readonly tombstoneTtl?: Duration.DurationInput
  /** How long a replica's lease on a running operation lasts without renewal. Default 30 seconds. */
  readonly leaseTtl?: Duration.DurationInput
  /** How often a replica looks for operations whose owner is gone. Default 10 seconds. */
  readonly takeoverInterval?: Duration.DurationInput
  /** This replica's id (default: random per process). */
  readonly replicaId?: string
}

/**
 * Reads the lease settings from configuration: `BROKER_LEASE_TTL_MS` (default 30000) and
 * `BROKER_TAKEOVER_INTERVAL_MS` (default 10000). A replica that dies loses its operations to another replica (or
 * to itself after a restart) within about their sum.
 *
 * @since 0.1.0
 * @category config
 */
export const optionsFromConfig: Config.Config<ManagedOptions> = Config.all({
  leaseTtl: Config.integer("BROKER_LEASE_TTL_MS").pipe(Config.withDefault(30_000), Config.map(Duration.millis)),
  takeoverInterval: Config.integer("BROKER_TAKEOVER_INTERVAL_MS").pipe(
    Config.withDefault(10_000),
    Config.map(Duration.millis)
  )
})

/**
 * The managed broker service: a `ServiceBroker` plus its lifecycle (drain on shutdown).
 *
 * @since 0.1.0
 * @category models
 */
export interface ManagedBrokerService extends ServiceBrokerService {
  readonly lifecycle: BrokerLifecycleService
  /** Runs one takeover round now (normally periodic): resumes or fails operations whose owner is gone. */
  readonly takeover: Effect.Effect<void>
}

/**
 * The work given to the managed broker does not fit the catalog.
 *
 * @since 0.1.0
 * @category errors
 */
export class ManagedBrokerError extends Schema.TaggedError<ManagedBrokerError>("effect-osb/ManagedBrokerError")(
  "ManagedBrokerError",
  { problems: Schema.Array(Schema.String) }
) {
  override get message(): string {
    return `The managed broker does not fit the catalog: ${this.problems.join("; ")}`
  }
}

// -----------------------------------------------------------------------------
// the engine
// -----------------------------------------------------------------------------

type StepName = "provision" | "deprovision" | "update" | "bind" | "unbind"

interface Outcome {
  readonly description?: string | undefined
  readonly instanceUsable?: boolean | undefined
  readonly updateRepeatable?: boolean | undefined
}

class TimedOut extends Schema.TaggedError<TimedOut>("effect-osb/ManagedBroker/TimedOut")("TimedOut", {
  seconds: Schema.Number
}) {}

const operationPrefix: Record<OperationKind, string> = {
  provision: "provision",
  update: "update",
  deprovision: "deprovision",
  bind: "bind",
  unbind: "unbind"
}

/** Random bytes for operation ids, drawn 12 at a time from a pool refilled every 256 ids (one system call). */
const idBytes = 12
const idPool = Buffer.allocUnsafe(idBytes * 256)
let idOffset = idPool.length

const newOperationId = (kind: OperationKind): string => {
  if (idOffset + idBytes > idPool.length) {
    randomFillSync(idPool)
    idOffset = 0
  }
  const id = idPool.toString("base64url", idOffset, idOffset + idBytes)
  idOffset += idBytes
  return `${operationPrefix[kind]}-${id}`
}

const isAsync = (mode: Mode, acceptsIncomplete: boolean): boolean =>
  mode === "async" || (mode === "either" && acceptsIncomplete)

const without = <T extends object, K extends keyof T>(value: T, key: K): Omit<T, K> => {
  const copy = { ...value }
  delete copy[key]
  return copy
}

const instanceAnswer = (record: InstanceRecord): InstanceAnswer => {
  const answer: { -readonly [K in keyof InstanceAnswer]: InstanceAnswer[K] } = {}
  if (record.dashboardUrl !== undefined) answer.dashboardUrl = record.dashboardUrl
  if (record.metadata !== undefined) answer.metadata = record.metadata
  return answer
}

const validateBindingOutput = Schema.validateEither(BindingResponseBodySchema)

/** The binding field the offering does not declare in `requires` (VAL-5, checked by the catalog), if any. */
const requiresProblem = (offering: ServiceOffering, binding: BindingResponseBody): string | undefined =>
  undeclaredRequirement(offering, binding)?.field

type Decision<S> =
  | { readonly _tag: "Done"; readonly value: S }
  | { readonly _tag: "Running"; readonly operationId: string }
  | {
    readonly _tag: "Start"
    readonly operation: OperationRecord
    readonly interrupt: Option.Option<string>
  }

const done = <S>(value: S): Decision<S> => ({ _tag: "Done", value })
const running = (operationId: string): Decision<never> => ({ _tag: "Running", operationId })
/** An effect that already is its outcome (`Effect.succeed`, `Exit.*`), read without running it. */
const doneNow = <A, E>(effect: Effect.Effect<A, E>): Exit.Exit<A, E> | undefined =>
  Exit.isExit(effect) ? (effect as Exit.Exit<A, E>) : undefined

const start = (operation: OperationRecord, interrupt: Option.Option<string> = Option.none()): Decision<never> => ({
  _tag: "Start",
  operation,
  interrupt
})

/** Another replica took the operation over (or it was stopped): its late outcome must not be recorded. */
const superseded = (snapshot: InstanceSnapshot, operation: OperationRecord): boolean => {
  const current = snapshot.operations.get(operation.id)
  return current === undefined || current.state !== "in progress" || current.owner !== operation.owner
}

/** The answer to a delete (deprovision, unbind): 202 with the running or started async operation, else 200. */
const deleteResult = (decision: Decision<never>): DeleteResult =>
  decision._tag === "Running"
    ? Result.deleting(decision.operationId)
    : decision._tag === "Start" && decision.operation.async
    ? Result.deleting(decision.operation.id)
    : Result.deleted

const keep = <A>(value: A) => Effect.succeed([value, []] as const)
const write = <A>(value: A, changes: ReadonlyArray<StoreChange>) => Effect.succeed([value, changes] as const)

/**
 * Builds the managed broker from the work per offering (keyed by offering id or name). Needs the `BrokerStore`
 * and the `Catalog`; background operations live in the surrounding scope.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (
  offerings: { readonly [serviceIdOrName: string]: OfferingWork },
  options: ManagedOptions = {}
): Effect.Effect<ManagedBrokerService, ManagedBrokerError, BrokerStore | Catalog | Scope.Scope> =>
  Effect.gen(function*() {
    // metrics and traces watch the store, the operations and takeovers only when configured
    const observer = yield* Observe.current
    const unobservedStore = yield* BrokerStore
    const store = observer?.store === undefined ? unobservedStore : observer.store(unobservedStore)
    const catalog = yield* Catalog
    const fibers = yield* FiberMap.make<string>()
    const locks = makeKeyedLock()
    const tombstoneTtl = Duration.toMillis(Duration.decode(options.tombstoneTtl ?? "7 days"))
    const leaseTtl = Duration.toMillis(Duration.decode(options.leaseTtl ?? "30 seconds"))
    const takeoverInterval = Duration.decode(options.takeoverInterval ?? "10 seconds")
    const replicaId = options.replicaId ?? `replica-${randomBytes(6).toString("hex")}`
    const lease = (now: number) => ({ owner: replicaId, leaseExpiresAt: now + leaseTtl })
    /** Async operations running in this process: operation id -> fiber key and instance. */
    const local = new Map<string, { readonly key: string; readonly instanceId: string }>()
    let draining = false

    // resolve the offerings and check the work covers what the catalog promises
    const works = new Map<string, OfferingWork>()
    const problems: Array<string> = []
    for (const [key, work] of Object.entries(offerings)) {
      const offering = catalog.services.find((s) => s.id === key) ?? catalog.services.find((s) => s.name === key)
      if (offering === undefined) {
        problems.push(`offering "${key}" is not in the catalog`)
        continue
      }
      works.set(offering.id, work)
      for (const planKey of Object.keys(work.plans ?? {})) {
        if (!offering.plans.some((p) => p.id === planKey || p.name === planKey)) {
          problems.push(`plan "${planKey}" is not a plan of offering ${offering.name}`)
        }
      }
      for (const plan of offering.plans) {
        const override = work.plans?.[plan.id] ?? work.plans?.[plan.name]
        const bindable = effectivePlan(offering, plan).bindable
        if (bindable && (override?.bind ?? work.bind) === undefined) {
          problems.push(`plan ${plan.name} of ${offering.name} is bindable but has no bind work`)
        }
        if (bindable && (override?.unbind ?? work.unbind) === undefined) {
          problems.push(`plan ${plan.name} of ${offering.name} is bindable but has no unbind work`)
        }
      }
    }
    if (problems.length > 0) return yield* new ManagedBrokerError({ problems })

    type Steps = { readonly [K in StepName]: OfferingWork[K] | undefined }
    /** The steps per offering and plan, resolved once (the work and the catalog do not change). */
    const steps = new Map<string, Map<string, Steps>>()
    const resolveSteps = (work: OfferingWork, planId: string): Steps => {
      const plan = catalog.plan(planId)
      const override = work.plans?.[planId] ?? (Option.isSome(plan) ? work.plans?.[plan.value.plan.name] : undefined)
      return {
        provision: override?.provision ?? work.provision,
        deprovision: override?.deprovision ?? work.deprovision,
        update: override?.update ?? work.update,
        bind: override?.bind ?? work.bind,
        unbind: override?.unbind ?? work.unbind
      }
    }
    const stepFor = <K extends StepName>(serviceId: string, planId: string, name: K): OfferingWork[K] | undefined => {
      const work = works.get(serviceId)
      if (work === undefined) return undefined
      let perPlan = steps.get(serviceId)
      if (perPlan === undefined) {
        perPlan = new Map()
        steps.set(serviceId, perPlan)
      }
      let resolved = perPlan.get(planId)
      if (resolved === undefined) {
        resolved = resolveSteps(work, planId)
        // only plans of the catalog are kept, so the cache stays bounded whatever ids requests carry
        if (Option.isSome(catalog.plan(planId))) perPlan.set(planId, resolved)
      }
      return resolved[name]
    }

    const planOf = (planId: string): ResolvedPlan =>
      Option.getOrThrowWith(catalog.plan(planId), () => new Error(`plan ${planId} is no longer in the catalog`))

    const transact = <A, E>(
      instanceId: string,
      f: (snapshot: InstanceSnapshot) => Effect.Effect<readonly [A, ReadonlyArray<StoreChange>], E>
    ): Effect.Effect<A, E> =>
      // the store's own failures are defects here; the HTTP edge answers StoreUnavailable with 503
      Effect.catchAll(
        store.transact(instanceId, f),
        (e) => e instanceof StoreError || e instanceof StoreUnavailable ? Effect.die(e) : Effect.fail(e as E)
      )

    const read = (instanceId: string) => Effect.orDie(store.read(instanceId))

    const live = (tombstone: Option.Option<Tombstone>, now: number): boolean =>
      Option.isSome(tombstone) && now - tombstone.value.deletedAt <= tombstoneTtl

    const instanceKey = (instanceId: string) => `i/${instanceId}`
    const bindingKey = (instanceId: string, bindingId: string) => `b/${instanceId}/${bindingId}`

    const interrupt = (key: string): Effect.Effect<void> =>
      Effect.flatMap(
        Effect.option(FiberMap.get(fibers, key)),
        (fiber) => Option.isSome(fiber) ? Effect.asVoid(Fiber.interrupt(fiber.value)) : Effect.void
      )

    const failureDescription = (cause: Cause.Cause<unknown>, what: string): Effect.Effect<Outcome> => {
      const failure = Cause.failureOption(cause)
      if (Option.isSome(failure)) {
        const error = failure.value
        if (error instanceof TimedOut) {
          return Effect.succeed({
            description: `The ${what} did not finish within the plan's maximum_polling_duration of ${error.seconds} s.`
          })
        }
        if (typeof error === "object" && error !== null && "description" in error) {
          const e = error as { description: string; instanceUsable?: boolean; updateRepeatable?: boolean }
          return Effect.succeed({
            description: e.description,
            ...(e.instanceUsable === undefined ? {} : { instanceUsable: e.instanceUsable }),
            ...(e.updateRepeatable === undefined ? {} : { updateRepeatable: e.updateRepeatable })
          })
        }
      }
      return Effect.as(
        Effect.logError(`the ${what} failed with an unexpected error`, cause),
        { description: `The ${what} failed because of an internal error.` }
      )
    }

    const finishOperation = (
      operation: OperationRecord,
      now: number,
      outcome: Outcome,
      succeeded: boolean
    ): OperationRecord =>
      // Object.assign, not a spread followed by new keys (V8 adds keys to a spread copy slowly)
      Object.assign(
        {},
        operation,
        { state: succeeded ? "succeeded" as const : "failed" as const, finishedAt: now },
        outcome.description === undefined ? undefined : { description: outcome.description },
        outcome.instanceUsable === undefined ? undefined : { instanceUsable: outcome.instanceUsable },
        outcome.updateRepeatable === undefined ? undefined : { updateRepeatable: outcome.updateRepeatable }
      )

    /** Records an operation's outcome: `record` gets the time and, for a failure, its description. */
    const finishWith = (
      exit: Exit.Exit<unknown, unknown>,
      what: string,
      record: (now: number, outcome: Outcome) => Effect.Effect<void>
    ): Effect.Effect<void> =>
      Effect.flatMap(Clock.currentTimeMillis, (now) =>
        Exit.isSuccess(exit)
          ? record(now, {})
          : Effect.flatMap(failureDescription(exit.cause, what), (outcome) => record(now, outcome)))

    /**
     * Runs the work of an operation inline or in the background, and records its outcome with `finish` (which
     * must ignore an outcome whose operation has been superseded). Inline: the work's failure is returned.
     */
    const execute = <Out, E>(
      key: string,
      operation: OperationRecord,
      work: Effect.Effect<Out, E>,
      maxSeconds: number | undefined,
      finish: (exit: Exit.Exit<Out, E | TimedOut>) => Effect.Effect<void>
    ): Effect.Effect<Out, E> => {
      if (observer?.operation !== undefined) work = observer.operation(operation, work)
      if (operation.async) {
        const bounded = maxSeconds === undefined
          ? work
          : Effect.timeoutFail(work, {
            duration: Duration.seconds(maxSeconds),
            onTimeout: () => new TimedOut({ seconds: maxSeconds })
          })
        const background = Effect.flatMap(
          Effect.exit(bounded),
          (exit) =>
            Exit.isFailure(exit) && Cause.isInterruptedOnly(exit.cause)
              ? Effect.void
              : Effect.uninterruptible(finish(exit))
        ).pipe(Effect.ensuring(Effect.sync(() => local.delete(operation.id))))
        return Effect.sync(() => local.set(operation.id, { key, instanceId: operation.instanceId })).pipe(
          Effect.zipRight(FiberMap.run(fibers, key, background)),
          Effect.as(undefined as never)
        )
      }
      return Effect.flatMap(Effect.exit(work), (exit) => Effect.zipRight(Effect.uninterruptible(finish(exit)), exit))
    }

    /**
     * Takes a decision in one store transaction under the instance lock and launches a started operation: async
     * work is forked while the lock is held (after any interruption the decision asks for), so a concurrent
     * DELETE always finds it to interrupt; sync work runs after the lock is released and fails with its error.
     */
    const decideThenRun = <S, E, E2>(
      instanceId: string,
      decide: Effect.Effect<Decision<S>, E>,
      run: (operation: OperationRecord) => Effect.Effect<void, E2>
    ): Effect.Effect<Decision<S>, E | E2> =>
      Effect.flatMap(
        locks.withLock(
          instanceId,
          Effect.flatMap(decide, (d): Effect.Effect<Decision<S>, E2> => {
            if (d._tag !== "Start" || (!d.operation.async && Option.isNone(d.interrupt))) return Effect.succeed(d)
            const launch = d.operation.async ? run(d.operation) : Effect.void
            return Effect.as(
              Option.isSome(d.interrupt) ? Effect.zipRight(interrupt(d.interrupt.value), launch) : launch,
              d
            )
          })
        ),
        (decision) =>
          decision._tag === "Start" && !decision.operation.async
            ? Effect.as(run(decision.operation), decision)
            : Effect.succeed(decision)
      )

    // --- provision ------------------------------------------------------------------------------------------

    const provision = (request: ProvisionRequest): Effect.Effect<ProvisionResult, ProvisionError> =>
      Effect.suspend(() => {
        const step = stepFor(request.offering.id, request.plan.id, "provision")
        if (step === undefined) {
          return Effect.fail(
            new BadRequest({ description: `The offering ${request.offering.name} is not served here.` })
          )
        }
        const ctx: ProvisionContext = {
          instanceId: request.instanceId,
          offering: request.offering,
          target: { offering: request.offering, plan: request.plan, effective: request.effective },
          parameters: request.body.parameters ?? {},
          request
        }
        const decideAndRun = (now: number): Effect.Effect<ProvisionResult, ProvisionError> => {
          const fingerprint = provisionFingerprint(
            request.body.service_id,
            request.body.plan_id,
            request.body.parameters ?? {},
            request.body.organization_guid,
            request.body.space_guid
          )
          const dashboardUrl = works.get(request.offering.id)?.dashboardUrl?.(ctx)
          let output: InstanceOutput | undefined
          // the work, when the decision started it already (see finishedAtOnce)
          let prepared: Effect.Effect<InstanceOutput, BrokerFailure> | undefined
          return Effect.map(
            decideThenRun(
              request.instanceId,
              transact(request.instanceId, (snapshot) => {
                const decided = decideProvision(request, step, ctx, fingerprint, dashboardUrl, now, snapshot)
                const done = doneNow(decided)
                if (done === undefined || Exit.isFailure(done)) return decided
                const [decision, changes] = done.value
                if (decision._tag !== "Start" || decision.operation.async) return decided
                prepared = step.run(ctx)
                const put = changes.find((change) => change._tag === "PutInstance")
                if (put === undefined || put._tag !== "PutInstance") return decided
                return finishedAtOnce(prepared, decision.operation, now, (out, finished) => {
                  output = out
                  return provisionSucceeded(put.record, finished, now, out)
                }) ?? decided
              }),
              (operation) =>
                operation.state !== "in progress"
                  ? Effect.void
                  : Effect.map(startProvision(ctx, step, operation, prepared), (out) => {
                    output = out
                  })
            ),
            (decision): ProvisionResult => {
              switch (decision._tag) {
                case "Done":
                  return Result.alreadyExists(instanceAnswer(decision.value))
                case "Running":
                  return Result.accepted(decision.operationId, dashboardUrl === undefined ? {} : { dashboardUrl })
                case "Start": {
                  if (decision.operation.async) {
                    return Result.accepted(decision.operation.id, dashboardUrl === undefined ? {} : { dashboardUrl })
                  }
                  // what the finished record now holds, without reading it back
                  const url = output?.dashboardUrl ?? dashboardUrl
                  return Result.created({
                    ...(url === undefined ? {} : { dashboardUrl: url }),
                    ...(output?.metadata === undefined ? {} : { metadata: output.metadata })
                  })
                }
              }
            }
          )
        }
        const decided = Effect.flatMap(Clock.currentTimeMillis, decideAndRun)
        return step.validate === undefined ? decided : Effect.zipRight(step.validate(ctx), decided)
      })

    /** The provision decision on the instance's snapshot (in its store transaction). */
    const decideProvision = (
      request: ProvisionRequest,
      step: NonNullable<OfferingWork["provision"]>,
      ctx: ProvisionContext,
      fingerprint: string,
      dashboardUrl: string | undefined,
      now: number,
      snapshot: InstanceSnapshot
    ): Effect.Effect<readonly [Decision<InstanceRecord>, ReadonlyArray<StoreChange>], ProvisionError> => {
      if (Option.isSome(snapshot.instance)) {
        const existing = snapshot.instance.value
        if (existing.state === "deprovisioning") {
          // decision 10: whatever the attributes
          return Effect.fail(new ConcurrencyError({ description: "The instance is being deprovisioned." }))
        }
        if (existing.fingerprint !== fingerprint) {
          return Effect.fail(
            new Conflict({ description: `Instance ${request.instanceId} exists with different attributes.` })
          )
        }
        switch (existing.state) {
          case "ready":
            return keep(done(existing))
          case "provisioning":
            if (step.mode === "async" && !request.acceptsIncomplete) return Effect.fail(new AsyncRequired({}))
            return request.acceptsIncomplete
              ? keep(running(existing.operationId))
              : Effect.fail(new ConcurrencyError({ description: "The instance is being provisioned." }))
          case "failed":
            return Effect.fail(
              new Conflict({
                description: `Provisioning instance ${request.instanceId} failed; deprovision it before trying again.`
              })
            )
          default:
            return Effect.fail(new ConcurrencyError({}))
        }
      }
      if (step.mode === "async" && !request.acceptsIncomplete) return Effect.fail(new AsyncRequired({}))
      const operation: OperationRecord = {
        id: newOperationId("provision"),
        instanceId: request.instanceId,
        kind: "provision",
        async: isAsync(step.mode, request.acceptsIncomplete),
        state: "in progress",
        startedAt: now,
        ...lease(now)
      }
      const record: InstanceRecord = {
        instanceId: request.instanceId,
        serviceId: request.offering.id,
        planId: request.plan.id,
        state: "provisioning",
        fingerprint,
        parameters: ctx.parameters,
        ...(request.body.context === undefined ? {} : { context: request.body.context }),
        ...(request.body.organization_guid === undefined ? {} : { organizationGuid: request.body.organization_guid }),
        ...(request.body.space_guid === undefined ? {} : { spaceGuid: request.body.space_guid }),
        ...(request.plan.maintenance_info === undefined ? {} : { maintenanceInfo: request.plan.maintenance_info }),
        ...(dashboardUrl === undefined ? {} : { dashboardUrl }),
        operationId: operation.id,
        createdAt: now,
        updatedAt: now
      }
      return write(start(operation), [Change.putInstance(record), Change.putOperation(operation)])
    }

    /**
     * A synchronous operation whose work is already done when it is created (an `Exit`, e.g. `Effect.succeed`)
     * finishes in its deciding transaction: nothing can see it half done and the finishing transaction is saved.
     * `succeeded` gives the changes of the finished operation (as its finishing transaction would write them), or
     * `undefined` to take the usual way; a failed or still running work takes the usual way too.
     */
    const finishedAtOnce = <Out, E>(
      work: Effect.Effect<Out, E>,
      operation: OperationRecord,
      now: number,
      succeeded: (out: Out, finished: OperationRecord) => ReadonlyArray<StoreChange> | undefined
    ) => {
      const done = doneNow(work)
      if (done === undefined || Exit.isFailure(done)) return undefined
      const finished = finishOperation(operation, now, {}, true)
      const changes = succeeded(done.value, finished)
      return changes === undefined ? undefined : write(start(finished), changes)
    }

    /** What a provision that succeeded writes: the instance ready with the work's output, its operation finished. */
    const provisionSucceeded = (
      record: InstanceRecord,
      finished: OperationRecord,
      now: number,
      out: InstanceOutput
    ): ReadonlyArray<StoreChange> => [
      Change.putInstance({
        ...record,
        state: "ready",
        updatedAt: now,
        ...(out.dashboardUrl === undefined ? {} : { dashboardUrl: out.dashboardUrl }),
        ...(out.metadata === undefined ? {} : { metadata: out.metadata }),
        ...(out.data === undefined ? {} : { data: out.data })
      }),
      Change.putOperation(finished)
    ]

    /**
     * Async: forks the work (called under the instance lock). Sync: runs it, records it, and returns its output
     * (or fails with its error).
     */
    const startProvision = (
      ctx: ProvisionContext,
      step: NonNullable<OfferingWork["provision"]>,
      operation: OperationRecord,
      prepared?: Effect.Effect<InstanceOutput, BrokerFailure>
    ): Effect.Effect<InstanceOutput | undefined, BrokerFailure> =>
      Effect.map(
        execute(
          instanceKey(ctx.instanceId),
          operation,
          prepared ?? step.run(ctx),
          ctx.target.plan.maximum_polling_duration,
          (exit) => finishProvision(ctx.instanceId, operation, exit)
        ),
        (output) => (operation.async ? undefined : output)
      )

    const finishProvision = (
      instanceId: string,
      operation: OperationRecord,
      exit: Exit.Exit<InstanceOutput, BrokerFailure | TimedOut>
    ): Effect.Effect<void> =>
      finishWith(exit, "provisioning", (now, outcome) =>
        transact(instanceId, (snapshot) => {
          const record = Option.getOrUndefined(snapshot.instance)
          if (record === undefined || record.operationId !== operation.id || superseded(snapshot, operation)) {
            return keep(undefined)
          }
          if (Exit.isSuccess(exit)) {
            return write(
              undefined,
              provisionSucceeded(record, finishOperation(operation, now, {}, true), now, exit.value)
            )
          }
          if (!operation.async) return write(undefined, [Change.forgetInstance])
          return write(undefined, [
            Change.putInstance({ ...record, state: "failed", updatedAt: now }),
            Change.putOperation(finishOperation(operation, now, { description: outcome.description }, false))
          ])
        }))

    // --- update ---------------------------------------------------------------------------------------------

    const update = (request: UpdateRequest): Effect.Effect<UpdateResult, UpdateError> =>
      Effect.gen(function*() {
        const now = yield* Clock.currentTimeMillis
        const fingerprint = canonicalJson({
          plan_id: request.body.plan_id ?? null,
          parameters: request.body.parameters ?? null,
          maintenance_info: request.body.maintenance_info?.version ?? null,
          context: request.body.context ?? null
        })
        type Started = { readonly ctx: UpdateContext; readonly step: NonNullable<OfferingWork["update"]> }
        let started: Started | undefined
        const decision = yield* decideThenRun(
          request.instanceId,
          transact(request.instanceId, (snapshot): Effect.Effect<
            readonly [Decision<never>, ReadonlyArray<StoreChange>],
            UpdateError
          > =>
            Effect.gen(function*() {
              const record = Option.getOrUndefined(snapshot.instance)
              if (record === undefined || !works.has(record.serviceId)) {
                return yield* new NotFound({ description: `Instance ${request.instanceId} does not exist.` })
              }
              if (record.serviceId !== request.body.service_id) {
                return yield* new BadRequest({ description: "service_id does not match the instance's offering." })
              }
              const targetPlanId = request.body.plan_id ?? record.planId
              const step = stepFor(record.serviceId, targetPlanId, "update")
              if (step === undefined) {
                return yield* new UpdateNotSupported({ description: "This service does not support updates." })
              }
              if (step.mode === "async" && !request.acceptsIncomplete) return yield* new AsyncRequired({})
              switch (record.state) {
                case "provisioning":
                case "deprovisioning":
                  return yield* new ConcurrencyError({})
                case "failed":
                  return yield* new UpdateNotSupported({
                    description: "The instance failed to provision; deprovision it.",
                    instanceUsable: false,
                    updateRepeatable: false
                  })
                case "updating": {
                  const current = snapshot.operations.get(record.operationId)
                  if (request.acceptsIncomplete && current?.fingerprint === fingerprint) {
                    return [running(record.operationId), []] as const
                  }
                  return yield* new ConcurrencyError({ description: "Another update of this instance is in progress." })
                }
                case "ready":
                  break
              }
              const previous = planOf(record.planId)
              const target = planOf(targetPlanId)
              if (
                target.plan.id !== previous.plan.id &&
                !(previous.effective.planUpdateable && target.effective.planUpdateable)
              ) {
                return yield* new UpdateNotSupported({
                  description: `Changing the plan from ${previous.plan.name} to ${target.plan.name} is not supported.`,
                  updateRepeatable: false
                })
              }
              const requestedMi = request.body.maintenance_info
              if (requestedMi !== undefined && requestedMi.version !== target.plan.maintenance_info?.version) {
                return yield* new MaintenanceInfoConflict({})
              }
              const ctx: UpdateContext = {
                instanceId: request.instanceId,
                instance: record,
                target,
                previous,
                requestedParameters: Option.fromNullable(request.body.parameters),
                parameters: { ...record.parameters, ...request.body.parameters },
                request
              }
              if (step.validate !== undefined) yield* step.validate(ctx)
              const maintenanceInfo = requestedMi ??
                (target.plan.id !== previous.plan.id ? target.plan.maintenance_info : record.maintenanceInfo)
              const context = request.body.context ?? record.context
              const operation: OperationRecord = {
                id: newOperationId("update"),
                instanceId: request.instanceId,
                kind: "update",
                async: isAsync(step.mode, request.acceptsIncomplete),
                state: "in progress",
                fingerprint,
                startedAt: now,
                ...lease(now)
              }
              started = { ctx, step }
              return [start(operation), [
                Change.putInstance({
                  ...record,
                  state: "updating",
                  operationId: operation.id,
                  updatedAt: now,
                  pendingUpdate: {
                    planId: target.plan.id,
                    parameters: ctx.parameters,
                    fingerprint,
                    ...(context === undefined ? {} : { context }),
                    ...(maintenanceInfo === undefined ? {} : { maintenanceInfo })
                  }
                }),
                Change.putOperation(operation)
              ]] as const
            })),
          (operation) => (started === undefined ? Effect.void : runUpdate(started.ctx, started.step, operation))
        )
        switch (decision._tag) {
          case "Done":
          case "Running":
            return Result.accepted(decision._tag === "Running" ? decision.operationId : undefined)
          case "Start": {
            if (decision.operation.async) return Result.accepted(decision.operation.id)
            const snapshot = yield* read(request.instanceId)
            return Result.updated(Option.match(snapshot.instance, { onNone: () => ({}), onSome: instanceAnswer }))
          }
        }
      })

    const runUpdate = (
      ctx: UpdateContext,
      step: NonNullable<OfferingWork["update"]>,
      operation: OperationRecord
    ): Effect.Effect<void, UpdateFailure | BrokerFailure> =>
      Effect.asVoid(execute(
        instanceKey(ctx.instanceId),
        operation,
        step.run(ctx),
        ctx.target.plan.maximum_polling_duration,
        (exit) => finishUpdate(ctx.instanceId, operation, exit)
      ))

    const finishUpdate = (
      instanceId: string,
      operation: OperationRecord,
      exit: Exit.Exit<InstanceOutput, unknown>
    ): Effect.Effect<void> =>
      finishWith(exit, "update", (now, outcome) =>
        transact(instanceId, (snapshot) => {
          const record = Option.getOrUndefined(snapshot.instance)
          if (record === undefined || record.operationId !== operation.id || superseded(snapshot, operation)) {
            return keep(undefined)
          }
          const base = without(record, "pendingUpdate")
          if (Exit.isFailure(exit) || record.pendingUpdate === undefined) {
            return write(undefined, [
              Change.putInstance({ ...base, state: "ready", updatedAt: now }),
              Change.putOperation(finishOperation(operation, now, outcome, false))
            ])
          }
          const pending = record.pendingUpdate
          const out = exit.value
          const updated: InstanceRecord = {
            ...base,
            state: "ready",
            planId: pending.planId,
            parameters: pending.parameters,
            fingerprint: provisionFingerprint(
              record.serviceId,
              pending.planId,
              pending.parameters,
              record.organizationGuid,
              record.spaceGuid
            ),
            updatedAt: now,
            ...(pending.context === undefined ? {} : { context: pending.context }),
            ...(pending.maintenanceInfo === undefined ? {} : { maintenanceInfo: pending.maintenanceInfo }),
            ...(out.dashboardUrl === undefined ? {} : { dashboardUrl: out.dashboardUrl }),
            ...(out.metadata === undefined ? {} : { metadata: out.metadata }),
            ...(out.data === undefined ? {} : { data: out.data })
          }
          return write(undefined, [
            Change.putInstance(updated),
            Change.putOperation(finishOperation(operation, now, {}, true))
          ])
        }))

    // --- deprovision ----------------------------------------------------------------------------------------

    const deprovision = (request: DeprovisionRequest): Effect.Effect<DeleteResult, DeprovisionError> =>
      Effect.flatMap(Clock.currentTimeMillis, (now) => {
        type Started = {
          readonly ctx: DeprovisionContext
          readonly step: OfferingWork["deprovision"]
        }
        let started: Started | undefined
        // the work, when the decision created it already
        let prepared: Effect.Effect<void, DeprovisionFailure | BrokerFailure> | undefined
        return Effect.map(
          decideThenRun(
            request.instanceId,
            transact(request.instanceId, (snapshot): Effect.Effect<
              readonly [Decision<never>, ReadonlyArray<StoreChange>],
              DeprovisionError
            > => {
              const record = Option.getOrUndefined(snapshot.instance)
              if (record === undefined || !works.has(record.serviceId)) return Effect.fail(new Gone())
              const step = stepFor(record.serviceId, record.planId, "deprovision")!
              if (step.mode === "async" && !request.acceptsIncomplete) return Effect.fail(new AsyncRequired({}))
              let interruptKey = Option.none<string>()
              const changes: Array<StoreChange> = []
              switch (record.state) {
                case "deprovisioning":
                  if (request.acceptsIncomplete) return Effect.succeed([running(record.operationId), []] as const)
                  return Effect.fail(new ConcurrencyError({ description: "The instance is being deprovisioned." }))
                case "updating":
                  return Effect.fail(new ConcurrencyError({ description: "The instance is being updated." }))
                case "provisioning": {
                  const creating = snapshot.operations.get(record.operationId)
                  if (creating === undefined || !creating.async) {
                    return Effect.fail(new ConcurrencyError({ description: "The instance is being provisioned." }))
                  }
                  // DEP-4: stop the running provision, then delete
                  interruptKey = Option.some(instanceKey(request.instanceId))
                  changes.push(Change.putOperation(finishOperation(creating, now, {
                    description: "Provisioning was stopped by a deprovision request."
                  }, false)))
                  break
                }
                default:
                  break
              }
              for (const binding of snapshot.bindings.values()) {
                if (binding.state === "binding" || binding.state === "unbinding") {
                  return Effect.fail(
                    new ConcurrencyError({
                      description: "A binding operation on this instance is in progress."
                    })
                  )
                }
              }
              const operation: OperationRecord = {
                id: newOperationId("deprovision"),
                instanceId: request.instanceId,
                kind: "deprovision",
                restoreState: record.state === "provisioning" ? "failed" : record.state,
                async: isAsync(step.mode, request.acceptsIncomplete),
                state: "in progress",
                startedAt: now,
                ...lease(now)
              }
              started = {
                ctx: {
                  instanceId: request.instanceId,
                  instance: record,
                  bindings: [...snapshot.bindings.values()],
                  request
                },
                step
              }
              if (!operation.async && Option.isNone(interruptKey)) {
                prepared = step.run(started.ctx)
                const atOnce = finishedAtOnce(
                  prepared,
                  operation,
                  now,
                  (_, finished) => deprovisionSucceeded(finished, now)
                )
                if (atOnce !== undefined) return atOnce
              }
              changes.push(
                Change.putInstance({ ...record, state: "deprovisioning", operationId: operation.id, updatedAt: now }),
                Change.putOperation(operation)
              )
              return Effect.succeed([start(operation, interruptKey), changes] as const)
            }),
            (operation) =>
              started === undefined || operation.state !== "in progress"
                ? Effect.void
                : runDeprovision(started, operation, prepared)
          ),
          deleteResult
        )
      })

    const runDeprovision = (
      started: { readonly ctx: DeprovisionContext; readonly step: OfferingWork["deprovision"] },
      operation: OperationRecord,
      prepared?: Effect.Effect<void, DeprovisionFailure | BrokerFailure>
    ): Effect.Effect<void, DeprovisionFailure | BrokerFailure> =>
      execute(
        instanceKey(started.ctx.instanceId),
        operation,
        prepared ?? started.step.run(started.ctx),
        planOf(started.ctx.instance.planId).plan.maximum_polling_duration,
        (exit) => finishDeprovision(started.ctx.instanceId, operation, exit)
      )

    /** What a deprovision that succeeded writes: the instance's tombstone, its operation finished. */
    const deprovisionSucceeded = (finished: OperationRecord, now: number): ReadonlyArray<StoreChange> => [
      Change.deleteInstance({ deletedAt: now, operationId: finished.id }),
      Change.putOperation(finished)
    ]

    const finishDeprovision = (
      instanceId: string,
      operation: OperationRecord,
      exit: Exit.Exit<void, unknown>
    ): Effect.Effect<void> =>
      finishWith(exit, "deprovisioning", (now, outcome) =>
        transact(instanceId, (snapshot) => {
          const record = Option.getOrUndefined(snapshot.instance)
          if (record === undefined || record.operationId !== operation.id || superseded(snapshot, operation)) {
            return keep(undefined)
          }
          if (Exit.isSuccess(exit)) {
            return write(undefined, deprovisionSucceeded(finishOperation(operation, now, {}, true), now))
          }
          const restored = (operation.restoreState ?? "ready") as InstanceRecord["state"]
          return write(undefined, [
            Change.putInstance({ ...record, state: restored, updatedAt: now }),
            Change.putOperation(finishOperation(operation, now, { ...outcome, updateRepeatable: undefined }, false))
          ])
        }))

    // --- last operation -------------------------------------------------------------------------------------

    const renderInstanceOperation = (operation: OperationRecord): InstanceOperationState => {
      const description = operation.description === undefined ? {} : { description: operation.description }
      if (operation.state !== "failed") return { state: operation.state, ...description }
      switch (operation.kind) {
        case "update":
          return {
            state: "failed",
            operation: "update",
            ...description,
            ...(operation.instanceUsable === undefined ? {} : { instanceUsable: operation.instanceUsable }),
            ...(operation.updateRepeatable === undefined ? {} : { updateRepeatable: operation.updateRepeatable })
          }
        case "deprovision":
          return {
            state: "failed",
            operation: "deprovision",
            ...description,
            ...(operation.instanceUsable === undefined ? {} : { instanceUsable: operation.instanceUsable })
          }
        default:
          return { state: "failed", operation: "provision", ...description }
      }
    }

    const lastOperation: ServiceBrokerService["lastOperation"] = (request) =>
      Effect.flatMap(
        Clock.currentTimeMillis,
        (now) =>
          Effect.flatMap(
            read(request.instanceId),
            (snapshot): Effect.Effect<InstanceOperationState, LastOperationError> => {
              const record = Option.getOrUndefined(snapshot.instance)
              if (record === undefined || !works.has(record.serviceId)) {
                if (record === undefined && live(snapshot.tombstone, now)) {
                  // DEP-4: the create that a synchronous delete stopped still answers for its own operation
                  const asked = Option.flatMapNullable(request.operation, (id) => snapshot.operations.get(id))
                  if (
                    Option.isSome(asked) && asked.value.bindingId === undefined && asked.value.kind !== "deprovision"
                  ) {
                    return Effect.succeed(renderInstanceOperation(asked.value))
                  }
                  return Effect.fail(new Gone())
                }
                return Effect.fail(new NotFound({ description: `Instance ${request.instanceId} does not exist.` }))
              }
              const operationId = Option.isSome(request.operation) ? request.operation.value : record.operationId
              const operation = snapshot.operations.get(operationId)
              if (operation === undefined || operation.bindingId !== undefined) {
                return Effect.fail(
                  new BadRequest({ description: `Unknown operation for instance ${request.instanceId}.` })
                )
              }
              return Effect.succeed(renderInstanceOperation(operation))
            }
          )
      )

    // --- fetch instance -------------------------------------------------------------------------------------

    const defaultFetchInstance = (record: InstanceRecord): FetchInstanceBody => ({
      service_id: record.serviceId,
      plan_id: record.planId,
      parameters: record.parameters,
      ...(record.dashboardUrl === undefined ? {} : { dashboard_url: record.dashboardUrl }),
      ...(record.maintenanceInfo === undefined ? {} : { maintenance_info: record.maintenanceInfo }),
      ...(record.metadata === undefined ? {} : { metadata: record.metadata })
    })

    const getInstance: ServiceBrokerService["getInstance"] = (request) =>
      Effect.flatMap(read(request.instanceId), (snapshot): Effect.Effect<FetchInstanceBody, GetInstanceError> => {
        const record = Option.getOrUndefined(snapshot.instance)
        const notFound = () =>
          Effect.fail(new NotFound({ description: `Instance ${request.instanceId} does not exist.` }))
        if (record === undefined || !works.has(record.serviceId)) return notFound()
        switch (record.state) {
          case "provisioning":
          case "failed":
            return notFound()
          case "updating":
            return Effect.fail(new ConcurrencyError({ description: "The instance is being updated." }))
          case "deprovisioning":
            return Effect.fail(new ConcurrencyError({ description: "The instance is being deprovisioned." }))
          case "ready": {
            const custom = works.get(record.serviceId)?.fetchInstance
            return custom === undefined ? Effect.succeed(defaultFetchInstance(record)) : custom(record)
          }
        }
      })

    // --- bind -----------------------------------------------------------------------------------------------

    const bind = (request: BindRequest): Effect.Effect<BindResult, BindError> =>
      Effect.suspend(() => {
        const step = stepFor(request.offering.id, request.plan.id, "bind")
        if (step === undefined) {
          return Effect.fail(new BadRequest({ description: `The plan ${request.plan.name} is not bindable.` }))
        }
        return Effect.flatMap(Clock.currentTimeMillis, (now) => {
          const appGuid = request.body.bind_resource?.app_guid ?? request.body.app_guid
          const route = request.body.bind_resource?.route
          const fingerprint = canonicalJson({
            service_id: request.body.service_id,
            plan_id: request.body.plan_id,
            parameters: request.body.parameters ?? {},
            app_guid: appGuid ?? null,
            route: route ?? null,
            predecessor_binding_id: request.body.predecessor_binding_id ?? null
          })
          let started: BindContext | undefined
          let output: BindingOutput | undefined
          // the work, when the decision created it already
          let prepared: Effect.Effect<BindingOutput, BrokerFailure> | undefined
          return Effect.map(
            decideThenRun(
              request.instanceId,
              transact(request.instanceId, (snapshot): Effect.Effect<
                readonly [Decision<BindingRecord>, ReadonlyArray<StoreChange>],
                BindError
              > => {
                const instance = Option.getOrUndefined(snapshot.instance)
                if (instance === undefined || !works.has(instance.serviceId)) {
                  return Effect.fail(new NotFound({ description: `Instance ${request.instanceId} does not exist.` }))
                }
                if (instance.serviceId !== request.offering.id) {
                  return Effect.fail(
                    new BadRequest({ description: "service_id does not match the instance's offering." })
                  )
                }

                switch (instance.state) {
                  case "provisioning":
                  case "deprovisioning":
                    return Effect.fail(
                      new ConcurrencyError({ description: `The instance is being ${instance.state}.` })
                    )
                  case "failed":
                    return Effect.fail(
                      new NotFound({ description: `Instance ${request.instanceId} failed to provision.` })
                    )
                  default:
                    break
                }
                const existing = snapshot.bindings.get(request.bindingId)
                if (existing !== undefined) {
                  if (existing.fingerprint !== fingerprint) {
                    return Effect.fail(
                      new Conflict({
                        description: `Binding ${request.bindingId} exists with different attributes.`
                      })
                    )
                  }
                  switch (existing.state) {
                    case "ready":
                      return Effect.succeed([done(existing), []] as const)
                    case "binding":
                      if (step.mode === "async" && !request.acceptsIncomplete) return Effect.fail(new AsyncRequired({}))
                      if (request.acceptsIncomplete) return Effect.succeed([running(existing.operationId), []] as const)
                      return Effect.fail(new ConcurrencyError({ description: "The binding is being created." }))
                    case "failed":
                      return Effect.fail(
                        new Conflict({
                          description: `Creating binding ${request.bindingId} failed; unbind it before trying again.`
                        })
                      )
                    case "unbinding":
                      return Effect.fail(new ConcurrencyError({ description: "The binding is being deleted." }))
                  }
                }
                if (instance.planId !== request.plan.id) {
                  return Effect.fail(new BadRequest({ description: "plan_id does not match the instance's plan." }))
                }
                let predecessor = Option.none<BindingRecord>()
                const predecessorId = request.body.predecessor_binding_id
                if (predecessorId !== undefined) {
                  const found = snapshot.bindings.get(predecessorId)
                  const expiresAt = found?.response?.metadata?.expires_at
                  if (found === undefined || found.state !== "ready") {
                    return Effect.fail(
                      new BadRequest({
                        description: `predecessor_binding_id "${predecessorId}" is not a binding of this instance.`
                      })
                    )
                  }
                  if (expiresAt !== undefined && Date.parse(expiresAt) <= now) {
                    return Effect.fail(
                      new BadRequest({ description: `The predecessor binding ${predecessorId} has expired.` })
                    )
                  }
                  predecessor = Option.some(found)
                }
                if (step.mode === "async" && !request.acceptsIncomplete) return Effect.fail(new AsyncRequired({}))
                const parameters = request.body.parameters ??
                  Option.match(predecessor, { onNone: () => ({}), onSome: (p) => p.parameters })
                const ctx: BindContext = {
                  instanceId: request.instanceId,
                  bindingId: request.bindingId,
                  instance,
                  target: { offering: request.offering, plan: request.plan, effective: request.effective },
                  parameters,
                  appGuid: Option.fromNullable(appGuid),
                  predecessor,
                  request
                }
                const begin = (): Effect.Effect<
                  readonly [Decision<BindingRecord>, ReadonlyArray<StoreChange>],
                  BindError
                > => {
                  const operation: OperationRecord = {
                    id: newOperationId("bind"),
                    instanceId: request.instanceId,
                    bindingId: request.bindingId,
                    kind: "bind",
                    async: isAsync(step.mode, request.acceptsIncomplete),
                    state: "in progress",
                    fingerprint,
                    startedAt: now,
                    ...lease(now)
                  }
                  const record: BindingRecord = {
                    instanceId: request.instanceId,
                    bindingId: request.bindingId,
                    serviceId: request.offering.id,
                    planId: request.plan.id,
                    state: "binding",
                    fingerprint,
                    parameters,
                    ...(appGuid === undefined ? {} : { appGuid }),
                    ...(route === undefined ? {} : { route }),
                    ...(request.body.bind_resource === undefined ? {} : { bindResource: request.body.bind_resource }),
                    ...(request.body.context === undefined ? {} : { context: request.body.context }),
                    ...(predecessorId === undefined ? {} : { predecessorBindingId: predecessorId }),
                    operationId: operation.id,
                    createdAt: now,
                    updatedAt: now
                  }
                  started = ctx
                  if (!operation.async) {
                    prepared = step.run(ctx)
                    // an output the checks refuse takes the usual way, where it becomes a defect
                    const atOnce = finishedAtOnce(prepared, operation, now, (out, finished) => {
                      if (bindingOutputProblem(ctx, out) !== undefined) return undefined
                      output = out
                      return bindSucceeded(record, finished, now, out)
                    })
                    if (atOnce !== undefined) return atOnce
                  }
                  return Effect.succeed(
                    [start(operation), [Change.putBinding(record), Change.putOperation(operation)]] as const
                  )
                }
                return step.validate === undefined
                  ? begin()
                  : Effect.zipRight(step.validate(ctx), Effect.suspend(begin))
              }),
              (operation) =>
                started === undefined || operation.state !== "in progress"
                  ? Effect.void
                  : Effect.map(runBind(started, step, operation, prepared), (out) => {
                    output = out
                  })
            ),
            (decision): BindResult => {
              switch (decision._tag) {
                case "Done":
                  return Result.alreadyBound(decision.value.response ?? {})
                case "Running":
                  return Result.binding(decision.operationId)
                case "Start": {
                  if (decision.operation.async) return Result.binding(decision.operation.id)
                  // what the finished binding now holds, without reading it back
                  const { data: _data, ...binding } = output ?? {}
                  return Result.bound(binding)
                }
              }
            }
          )
        })
      })

    /** What is wrong with a bind work's output, if anything (a defect of the work). */
    const bindingOutputProblem = (ctx: BindContext, out: BindingOutput): string | undefined => {
      const { data: _data, ...binding } = out
      if (Either.isLeft(validateBindingOutput(binding))) {
        return "bind work returned a binding that does not match the OSB binding schema"
      }
      const problem = requiresProblem(ctx.target.offering, binding)
      return problem === undefined
        ? undefined
        : `bind work returned ${problem} but the offering does not require it (VAL-5)`
    }

    const runBind = (
      ctx: BindContext,
      step: NonNullable<OfferingWork["bind"]>,
      operation: OperationRecord,
      prepared?: Effect.Effect<BindingOutput, BrokerFailure>
    ): Effect.Effect<BindingOutput | undefined, BrokerFailure> =>
      Effect.map(
        execute(
          bindingKey(ctx.instanceId, ctx.bindingId),
          operation,
          Effect.flatMap(prepared ?? step.run(ctx), (out) => {
            const problem = bindingOutputProblem(ctx, out)
            return problem === undefined ? Effect.succeed(out) : Effect.dieMessage(problem)
          }),
          ctx.target.plan.maximum_polling_duration,
          (exit) => finishBind(ctx.instanceId, ctx.bindingId, operation, exit)
        ),
        (output) => (operation.async ? undefined : output)
      )

    /** What a bind that succeeded writes: the binding ready with its response, its operation finished. */
    const bindSucceeded = (
      record: BindingRecord,
      finished: OperationRecord,
      now: number,
      out: BindingOutput
    ): ReadonlyArray<StoreChange> => {
      const { data, ...response } = out
      return [
        Change.putBinding(
          Object.assign(
            {},
            record,
            { state: "ready" as const, response, updatedAt: now },
            data === undefined ? undefined : { data }
          )
        ),
        Change.putOperation(finished)
      ]
    }

    const finishBind = (
      instanceId: string,
      bindingId: string,
      operation: OperationRecord,
      exit: Exit.Exit<BindingOutput, unknown>
    ): Effect.Effect<void> =>
      finishWith(exit, "binding", (now, outcome) =>
        transact(instanceId, (snapshot) => {
          const record = snapshot.bindings.get(bindingId)
          if (record === undefined || record.operationId !== operation.id || superseded(snapshot, operation)) {
            return keep(undefined)
          }
          if (Exit.isSuccess(exit)) {
            return write(undefined, bindSucceeded(record, finishOperation(operation, now, {}, true), now, exit.value))
          }
          if (!operation.async) return write(undefined, [Change.deleteBinding(bindingId, Option.none())])
          return write(undefined, [
            Change.putBinding({ ...record, state: "failed", updatedAt: now }),
            Change.putOperation(finishOperation(operation, now, { description: outcome.description }, false))
          ])
        }))

    // --- unbind ---------------------------------------------------------------------------------------------

    const unbind = (request: UnbindRequest): Effect.Effect<DeleteResult, UnbindError> =>
      Effect.flatMap(Clock.currentTimeMillis, (now) => {
        type Started = {
          readonly ctx: UnbindContext
          readonly step: NonNullable<OfferingWork["unbind"]>
        }
        let started: Started | undefined
        // the work, when the decision created it already
        let prepared: Effect.Effect<void, BrokerFailure> | undefined
        return Effect.map(
          decideThenRun(
            request.instanceId,
            transact(request.instanceId, (snapshot): Effect.Effect<
              readonly [Decision<never>, ReadonlyArray<StoreChange>],
              UnbindError
            > => {
              const binding = snapshot.bindings.get(request.bindingId)
              if (binding === undefined || !works.has(binding.serviceId)) return Effect.fail(new Gone())
              const step = stepFor(binding.serviceId, binding.planId, "unbind")
              if (step === undefined) return Effect.fail(new Gone())
              if (step.mode === "async" && !request.acceptsIncomplete) return Effect.fail(new AsyncRequired({}))
              const instance = snapshot.instance
              if (Option.isSome(instance) && instance.value.state === "deprovisioning") {
                return Effect.fail(new ConcurrencyError({ description: "The instance is being deprovisioned." }))
              }
              let interruptKey = Option.none<string>()
              const changes: Array<StoreChange> = []
              switch (binding.state) {
                case "unbinding":
                  if (request.acceptsIncomplete) return Effect.succeed([running(binding.operationId), []] as const)
                  return Effect.fail(new ConcurrencyError({ description: "The binding is being deleted." }))
                case "binding": {
                  const creating = snapshot.operations.get(binding.operationId)
                  if (creating === undefined || !creating.async) {
                    return Effect.fail(new ConcurrencyError({ description: "The binding is being created." }))
                  }
                  // UNB-3: stop the running bind, then delete
                  interruptKey = Option.some(bindingKey(request.instanceId, request.bindingId))
                  changes.push(Change.putOperation(finishOperation(creating, now, {
                    description: "Binding was stopped by an unbind request."
                  }, false)))
                  break
                }
                default:
                  break
              }
              const operation: OperationRecord = {
                id: newOperationId("unbind"),
                instanceId: request.instanceId,
                bindingId: request.bindingId,
                kind: "unbind",
                restoreState: binding.state === "binding" ? "failed" : binding.state,
                async: isAsync(step.mode, request.acceptsIncomplete),
                state: "in progress",
                startedAt: now,
                ...lease(now)
              }
              started = {
                ctx: { instanceId: request.instanceId, bindingId: request.bindingId, instance, binding, request },
                step
              }
              if (!operation.async && Option.isNone(interruptKey)) {
                prepared = step.run(started.ctx)
                const atOnce = finishedAtOnce(
                  prepared,
                  operation,
                  now,
                  (_, finished) => unbindSucceeded(request.bindingId, finished, now)
                )
                if (atOnce !== undefined) return atOnce
              }
              changes.push(
                Change.putBinding({ ...binding, state: "unbinding", operationId: operation.id, updatedAt: now }),
                Change.putOperation(operation)
              )
              return Effect.succeed([start(operation, interruptKey), changes] as const)
            }),
            (operation) =>
              started === undefined || operation.state !== "in progress"
                ? Effect.void
                : runUnbind(started, operation, prepared)
          ),
          deleteResult
        )
      })

    const runUnbind = (
      started: { readonly ctx: UnbindContext; readonly step: NonNullable<OfferingWork["unbind"]> },
      operation: OperationRecord,
      prepared?: Effect.Effect<void, BrokerFailure>
    ): Effect.Effect<void, BrokerFailure> =>
      execute(
        bindingKey(started.ctx.instanceId, started.ctx.bindingId),
        operation,
        prepared ?? started.step.run(started.ctx),
        planOf(started.ctx.binding.planId).plan.maximum_polling_duration,
        (exit) => finishUnbind(started.ctx.instanceId, started.ctx.bindingId, operation, exit)
      )

    /** What an unbind that succeeded writes: the binding's tombstone, its operation finished. */
    const unbindSucceeded = (bindingId: string, finished: OperationRecord, now: number): ReadonlyArray<StoreChange> => [
      Change.deleteBinding(bindingId, Option.some({ deletedAt: now, operationId: finished.id })),
      Change.putOperation(finished)
    ]

    const finishUnbind = (
      instanceId: string,
      bindingId: string,
      operation: OperationRecord,
      exit: Exit.Exit<void, unknown>
    ): Effect.Effect<void> =>
      finishWith(exit, "unbinding", (now, outcome) =>
        transact(instanceId, (snapshot) => {
          const record = snapshot.bindings.get(bindingId)
          if (record === undefined || record.operationId !== operation.id || superseded(snapshot, operation)) {
            return keep(undefined)
          }
          if (Exit.isSuccess(exit)) {
            return write(undefined, unbindSucceeded(bindingId, finishOperation(operation, now, {}, true), now))
          }
          const restored = (operation.restoreState ?? "ready") as BindingState
          return write(undefined, [
            Change.putBinding({ ...record, state: restored, updatedAt: now }),
            Change.putOperation(finishOperation(operation, now, { description: outcome.description }, false))
          ])
        }))

    // --- fetch binding and binding last operation ----------------------------------------------------------

    const getBinding: ServiceBrokerService["getBinding"] = (request) =>
      Effect.flatMap(read(request.instanceId), (snapshot): Effect.Effect<FetchBindingBody, GetBindingError> => {
        const binding = snapshot.bindings.get(request.bindingId)
        if (
          binding === undefined || !works.has(binding.serviceId) ||
          (binding.state !== "ready" && binding.state !== "unbinding") || binding.response === undefined
        ) {
          return Effect.fail(new NotFound({ description: `Binding ${request.bindingId} does not exist.` }))
        }
        const custom = works.get(binding.serviceId)?.fetchBinding
        if (custom !== undefined) return custom(binding)
        return Effect.succeed({ ...binding.response, parameters: binding.parameters })
      })

    const lastBindingOperation: ServiceBrokerService["lastBindingOperation"] = (request) =>
      Effect.flatMap(Clock.currentTimeMillis, (now) =>
        Effect.flatMap(
          read(request.instanceId),
          (snapshot): Effect.Effect<BindingOperationState, LastOperationError> => {
            const binding = snapshot.bindings.get(request.bindingId)
            if (binding === undefined || !works.has(binding.serviceId)) {
              if (
                binding === undefined &&
                live(Option.fromNullable(snapshot.bindingTombstones.get(request.bindingId)), now)
              ) {
                // UNB-3: the bind that a synchronous unbind stopped still answers for its own operation
                const asked = Option.flatMapNullable(request.operation, (id) => snapshot.operations.get(id))
                if (
                  Option.isSome(asked) && asked.value.bindingId === request.bindingId &&
                  asked.value.kind === "bind" && asked.value.state !== "in progress"
                ) {
                  return Effect.succeed(
                    asked.value.description === undefined
                      ? { state: asked.value.state }
                      : { state: asked.value.state, description: asked.value.description }
                  )
                }
                return Effect.fail(new Gone())
              }
              return Effect.fail(new NotFound({ description: `Binding ${request.bindingId} does not exist.` }))
            }
            const operationId = Option.isSome(request.operation) ? request.operation.value : binding.operationId
            const operation = snapshot.operations.get(operationId)
            if (operation === undefined || operation.bindingId !== request.bindingId) {
              return Effect.fail(
                new BadRequest({ description: `Unknown operation for binding ${request.bindingId}.` })
              )
            }
            return Effect.succeed(
              operation.description === undefined
                ? { state: operation.state }
                : { state: operation.state, description: operation.description }
            )
          }
        ))

    // --- leases, takeover and drain -------------------------------------------------------------------------

    const syntheticInfo = {
      apiVersion: latestApiVersion,
      originatingIdentity: { _tag: "Absent" } as const,
      requestIdentity: Option.none<string>()
    }

    type Takeover =
      | { readonly _tag: "Skip" }
      | { readonly _tag: "Fail" }
      | { readonly _tag: "Resume"; readonly run: Effect.Effect<void, unknown> }

    /**
     * Takes over one operation whose owner is gone: resumes it when its step is marked resumable (and it was
     * asynchronous), otherwise marks it failed, so nothing stays "in progress" forever.
     */
    const takeOver = (instanceId: string, operationId: string): Effect.Effect<void> =>
      Effect.gen(function*() {
        const now = yield* Clock.currentTimeMillis
        let failed: OperationRecord | undefined
        let taken: OperationKind | undefined
        const decision = yield* locks.withLock(
          instanceId,
          transact(instanceId, (snapshot): Effect.Effect<readonly [Takeover, ReadonlyArray<StoreChange>]> => {
            const operation = snapshot.operations.get(operationId)
            if (
              operation === undefined || operation.state !== "in progress" ||
              (operation.leaseExpiresAt ?? 0) >= now
            ) {
              return keep({ _tag: "Skip" })
            }
            const claimed: OperationRecord = { ...operation, ...lease(now) }
            const instance = Option.getOrUndefined(snapshot.instance)
            const binding = operation.bindingId === undefined ? undefined : snapshot.bindings.get(operation.bindingId)
            const resume = (run: Effect.Effect<void, unknown>) => {
              taken = operation.kind
              return write({ _tag: "Resume", run } as Takeover, [Change.putOperation(claimed)])
            }
            const fail = () => {
              taken = operation.kind
              failed = { ...operation, async: true }
              return keep({ _tag: "Fail" } as Takeover)
            }
            if (!operation.async) return fail()
            switch (operation.kind) {
              case "provision": {
                if (instance === undefined || instance.operationId !== operationId) return keep({ _tag: "Skip" })
                const step = stepFor(instance.serviceId, instance.planId, "provision")
                if (step?.resumable !== true) return fail()
                const target = planOf(instance.planId)
                const request: ProvisionRequest = {
                  ...syntheticInfo,
                  ...target,
                  instanceId,
                  acceptsIncomplete: true,
                  body: {
                    service_id: instance.serviceId,
                    plan_id: instance.planId,
                    parameters: instance.parameters,
                    ...(instance.context === undefined ? {} : { context: instance.context }),
                    ...(instance.organizationGuid === undefined
                      ? {}
                      : { organization_guid: instance.organizationGuid }),
                    ...(instance.spaceGuid === undefined ? {} : { space_guid: instance.spaceGuid })
                  }
                }
                return resume(Effect.asVoid(startProvision(
                  { instanceId, offering: target.offering, target, parameters: instance.parameters, request },
                  step,
                  claimed
                )))
              }
              case "update": {
                const pending = instance?.pendingUpdate
                if (instance === undefined || instance.operationId !== operationId || pending === undefined) {
                  return keep({ _tag: "Skip" })
                }
                const step = stepFor(instance.serviceId, pending.planId, "update")
                if (step?.resumable !== true) return fail()
                const target = planOf(pending.planId)
                const previous = planOf(instance.planId)
                const request: UpdateRequest = {
                  ...syntheticInfo,
                  instanceId,
                  acceptsIncomplete: true,
                  offering: target.offering,
                  plan: Option.some(target),
                  previousPlan: Option.some(previous),
                  body: {
                    service_id: instance.serviceId,
                    plan_id: pending.planId,
                    parameters: pending.parameters,
                    ...(pending.context === undefined ? {} : { context: pending.context }),
                    ...(pending.maintenanceInfo === undefined ? {} : { maintenance_info: pending.maintenanceInfo })
                  }
                }
                return resume(runUpdate(
                  {
                    instanceId,
                    instance,
                    target,
                    previous,
                    requestedParameters: Option.none(),
                    parameters: pending.parameters,
                    request
                  },
                  step,
                  claimed
                ))
              }
              case "deprovision": {
                if (instance === undefined || instance.operationId !== operationId) return keep({ _tag: "Skip" })
                const step = stepFor(instance.serviceId, instance.planId, "deprovision")
                if (step?.resumable !== true) return fail()
                const target = planOf(instance.planId)
                const request: DeprovisionRequest = { ...syntheticInfo, ...target, instanceId, acceptsIncomplete: true }
                return resume(runDeprovision({
                  ctx: { instanceId, instance, bindings: [...snapshot.bindings.values()], request },
                  step
                }, claimed))
              }
              case "bind": {
                if (instance === undefined || binding === undefined || binding.operationId !== operationId) {
                  return keep({ _tag: "Skip" })
                }
                const step = stepFor(binding.serviceId, binding.planId, "bind")
                if (step?.resumable !== true) return fail()
                const target = planOf(binding.planId)
                const request: BindRequest = {
                  ...syntheticInfo,
                  ...target,
                  instanceId,
                  bindingId: binding.bindingId,
                  acceptsIncomplete: true,
                  body: {
                    service_id: binding.serviceId,
                    plan_id: binding.planId,
                    parameters: binding.parameters,
                    ...(binding.bindResource === undefined ? {} : { bind_resource: binding.bindResource }),
                    ...(binding.context === undefined ? {} : { context: binding.context }),
                    ...(binding.predecessorBindingId === undefined
                      ? {}
                      : { predecessor_binding_id: binding.predecessorBindingId })
                  }
                }
                return resume(runBind(
                  {
                    instanceId,
                    bindingId: binding.bindingId,
                    instance,
                    target,
                    parameters: binding.parameters,
                    appGuid: Option.fromNullable(binding.appGuid),
                    predecessor: Option.fromNullable(
                      binding.predecessorBindingId === undefined
                        ? undefined
                        : snapshot.bindings.get(binding.predecessorBindingId)
                    ),
                    request
                  },
                  step,
                  claimed
                ))
              }
              case "unbind": {
                if (binding === undefined || binding.operationId !== operationId) return keep({ _tag: "Skip" })
                const step = stepFor(binding.serviceId, binding.planId, "unbind")
                if (step?.resumable !== true) return fail()
                const target = planOf(binding.planId)
                const request: UnbindRequest = {
                  ...syntheticInfo,
                  ...target,
                  instanceId,
                  bindingId: binding.bindingId,
                  acceptsIncomplete: true
                }
                return resume(runUnbind({
                  ctx: {
                    instanceId,
                    bindingId: binding.bindingId,
                    instance: Option.fromNullable(instance),
                    binding,
                    request
                  },
                  step
                }, claimed))
              }
            }
          }).pipe(
            Effect.tap((decision) => decision._tag === "Resume" ? Effect.ignore(decision.run) : Effect.void)
          )
        )
        if (taken !== undefined && decision._tag !== "Skip") {
          observer?.tookOver?.(taken, decision._tag === "Fail" ? "failed" : "resumed")
        }
        if (decision._tag === "Fail" && failed !== undefined) {
          const operation = failed
          yield* Effect.logWarning(
            `taking over ${operation.kind} ${operation.id}: its owner is gone; marking it failed`
          )
          const exit = Exit.fail(
            new BrokerFailure({
              description: "The broker stopped while this operation was running, and it cannot be resumed."
            })
          )
          switch (operation.kind) {
            case "provision":
              return yield* finishProvision(instanceId, operation, exit)
            case "update":
              return yield* finishUpdate(instanceId, operation, exit)
            case "deprovision":
              return yield* finishDeprovision(instanceId, operation, exit)
            case "bind":
              return yield* finishBind(instanceId, operation.bindingId ?? "", operation, exit)
            case "unbind":
              return yield* finishUnbind(instanceId, operation.bindingId ?? "", operation, exit)
          }
        }
        if (decision._tag === "Resume") yield* Effect.logInfo(`took over operation ${operationId}: resumed`)
      })

    /** A store outage is logged once by the store ("store down" / "store back"), not by every round. */
    const quietIfUnavailable = (cause: Cause.Cause<unknown>, what: string) =>
      Option.isSome(unavailableIn(cause)) ? Effect.void : Effect.logError(what, cause)

    const takeoverRound: Effect.Effect<void> = Effect.gen(function*() {
      const now = yield* Clock.currentTimeMillis
      const expired = yield* Effect.orDie(store.expiredOperations(now))
      yield* Effect.forEach(
        expired,
        (o) =>
          observer?.takeover === undefined
            ? takeOver(o.instanceId, o.operationId)
            : observer.takeover(o.operationId, takeOver(o.instanceId, o.operationId)),
        { discard: true }
      )
    }).pipe(Effect.catchAllCause((cause) => quietIfUnavailable(cause, "operation takeover failed")))

    /** Renews this replica's leases, and stops local work another replica has superseded (e.g. a DELETE). */
    const renewRound: Effect.Effect<void> = Effect.gen(function*() {
      const now = yield* Clock.currentTimeMillis
      yield* Effect.orDie(store.renewLeases(replicaId, now + leaseTtl))
      for (const [operationId, { instanceId, key }] of [...local]) {
        const snapshot = yield* read(instanceId)
        const operation = snapshot.operations.get(operationId)
        if (operation === undefined || operation.state !== "in progress" || operation.owner !== replicaId) {
          if (operation?.state === "in progress") observer?.leaseLost?.(operation.kind)
          yield* interrupt(key)
        }
      }
    }).pipe(Effect.catchAllCause((cause) => quietIfUnavailable(cause, "renewing operation leases failed")))

    // leases matter only where another process can see the store
    const loops: Array<Fiber.RuntimeFiber<unknown, unknown>> = []
    if (store.persistent) {
      loops.push(
        yield* Effect.forkScoped(
          Effect.repeat(renewRound, Schedule.spaced(Duration.millis(Math.max(1, Math.floor(leaseTtl / 3)))))
        )
      )
      loops.push(yield* Effect.forkScoped(Effect.repeat(takeoverRound, Schedule.spaced(takeoverInterval))))
    }

    const lifecycle: BrokerLifecycleService = {
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
            `draining: waiting up to ${Duration.format(Duration.decode(timeout))} for ${local.size} operation(s)`
          )
          // the drain runs as a finalizer (uninterruptible): the wait itself must be interruptible to be bounded
          yield* Effect.interruptible(FiberMap.awaitEmpty(fibers)).pipe(Effect.timeout(timeout), Effect.ignore)
          // stop renewing and taking over, stop what still runs, then release the leases (set them in the past)
          // so another replica takes the rest over at once
          yield* Fiber.interruptAll(loops)
          yield* FiberMap.clear(fibers)
          yield* Effect.ignore(store.renewLeases(replicaId, 0))
        })
    }

    return {
      provision,
      update,
      deprovision,
      lastOperation,
      getInstance,
      bind,
      unbind,
      getBinding,
      lastBindingOperation,
      lifecycle,
      takeover: takeoverRound
    } satisfies ManagedBrokerService
  })

/**
 * The managed broker as a layer (background operations are interrupted when the layer is released).
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (
  offerings: { readonly [serviceIdOrName: string]: OfferingWork },
  options?: ManagedOptions
): Layer.Layer<ServiceBroker | BrokerLifecycle, ManagedBrokerError, BrokerStore | Catalog> =>
  fromService(make(offerings, options))

const fromService = <E, R>(
  service: Effect.Effect<ManagedBrokerService, E, R>
): Layer.Layer<ServiceBroker | BrokerLifecycle, E, Exclude<R, Scope.Scope>> =>
  Layer.scopedContext(
    Effect.map(service, (broker) =>
      Context.make(ServiceBroker, broker).pipe(Context.add(BrokerLifecycle, broker.lifecycle)))
  )

/**
 * The managed broker from an effect that builds the work (resolve your own services there, once).
 *
 * @since 0.1.0
 * @category layers
 */
export const layerEffect = <E, R>(
  offerings: Effect.Effect<{ readonly [serviceIdOrName: string]: OfferingWork }, E, R>,
  options?: ManagedOptions
): Layer.Layer<
  ServiceBroker | BrokerLifecycle,
  ManagedBrokerError | E,
  BrokerStore | Catalog | Exclude<R, Scope.Scope>
> => fromService(Effect.flatMap(offerings, (work) => make(work, options)))
