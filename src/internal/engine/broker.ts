/**
 * The managed broker's `ServiceBroker`: each operation turns its request into the engine's input (domain data, no
 * HTTP), lets the runner take the decision and run the work, and turns what happened into the protocol's answer.
 *
 * @internal
 */
import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Exit from "effect/Exit"
import * as Option from "effect/Option"
import type * as Scope from "effect/Scope"
import { randomBytes, randomUUID } from "node:crypto"
import type { BrokerStoreService, InstanceRecord, InstanceSnapshot, OperationKind } from "../../BrokerStore.js"
import type { CatalogService, ResolvedPlan } from "../../Catalog.js"
import type {
  BindingOutput,
  InstanceOutput,
  ManagedBrokerService,
  ManagedOptions,
  OfferingWork,
  ProvisionContext
} from "../../ManagedBroker.js"
import type { FetchBindingBody, FetchInstanceBody } from "../../Model.js"
import { BadRequest } from "../../OsbError.js"
import type {
  BindError,
  BindResult,
  DeleteResult,
  DeprovisionError,
  GetBindingError,
  GetBindingRequest,
  GetInstanceError,
  GetInstanceRequest,
  InstanceAnswer,
  LastBindingOperationRequest,
  LastOperationRequest,
  ProvisionError,
  ProvisionResult,
  ServiceBrokerService,
  UnbindError,
  UpdateError,
  UpdateRequest,
  UpdateResult
} from "../../ServiceBroker.js"
import { Result } from "../../ServiceBroker.js"
import { withEager } from "../eager.js"
import * as Fast from "../fast.js"
import * as Observe from "../observe.js"
import { decideBind } from "./bind.js"
import type { Env, StepName, Work } from "./decision.js"
import { identityOf } from "./decision.js"
import { decideDeprovision } from "./deprovision.js"
import { makeLifecycle } from "./drain.js"
import type { Fingerprints } from "./identity.js"
import { defaultFingerprints, fingerprints } from "./identity.js"
import { makeLeases } from "./leases.js"
import { defaultFetchInstance, fetchableBinding, fetchableInstance, pollBinding, pollInstance } from "./poll.js"
import type { ProvisionInput } from "./provision.js"
import { decideProvision } from "./provision.js"
import type { Ran } from "./runner.js"
import { makeRunner } from "./runner.js"
import { decideUnbind } from "./unbind.js"
import { decideUpdate } from "./update.js"

/** A new operation id: its kind and a random UUID (`crypto.randomUUID` costs the same as a pooled buffer). */
const newOperationId = (kind: OperationKind): string => `${kind}-${randomUUID()}`

const instanceAnswer = (record: InstanceRecord): InstanceAnswer => {
  const answer: { -readonly [K in keyof InstanceAnswer]: InstanceAnswer[K] } = {}
  if (record.dashboardUrl !== undefined) answer.dashboardUrl = record.dashboardUrl
  if (record.metadata !== undefined) answer.metadata = record.metadata
  return answer
}

/** The answer to a delete (deprovision, unbind): 202 with the running or started async operation, else 200. */
const deleteResult = (ran: Ran<never>): DeleteResult =>
  ran._tag === "Running" || ran._tag === "Accepted" ? Result.deleting(ran.operationId) : Result.deleted

type Steps = { readonly [K in StepName]: OfferingWork[K] | undefined }

/**
 * Builds the managed broker's service on resolved work (offering id -> work).
 *
 * @internal
 */
export const makeEngine = (
  unobservedStore: BrokerStoreService,
  catalog: CatalogService,
  works: ReadonlyMap<string, OfferingWork>,
  options: ManagedOptions
): Effect.Effect<ManagedBrokerService, never, Scope.Scope> =>
  Effect.gen(function*() {
    // metrics and traces watch the store, the operations and takeovers only when configured
    const observer = yield* Observe.current
    const store = observer?.store === undefined ? unobservedStore : observer.store(unobservedStore)
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
    const identities = new Map<string, Fingerprints>()
    for (const [serviceId, work] of works) identities.set(serviceId, fingerprints(work.identical))

    const env: Env = {
      serves: (serviceId) => works.has(serviceId),
      step: stepFor,
      plan: (planId) =>
        Option.getOrThrowWith(catalog.plan(planId), () => new Error(`plan ${planId} is no longer in the catalog`)),
      fingerprints: (serviceId) => identities.get(serviceId) ?? defaultFingerprints,
      owner: options.replicaId ?? `replica-${randomBytes(6).toString("hex")}`,
      leaseTtl: Duration.toMillis(Duration.decode(options.leaseTtl ?? "30 seconds")),
      tombstoneTtl: Duration.toMillis(Duration.decode(options.tombstoneTtl ?? "7 days"))
    }
    const runner = yield* makeRunner(store, observer, env, stepFor)
    const leases = yield* makeLeases(
      store,
      observer,
      env,
      runner,
      Duration.decode(options.takeoverInterval ?? "10 seconds")
    )

    /** The validation of the work a decision starts, if its step has one. */
    const validation = (work: Work): Effect.Effect<void, unknown> | undefined => {
      switch (work.kind) {
        case "update": {
          const validate = stepFor(work.ctx.instance.serviceId, work.ctx.target.plan.id, "update")?.validate
          return validate?.(work.ctx)
        }
        case "bind": {
          const validate = stepFor(work.ctx.target.offering.id, work.ctx.target.plan.id, "bind")?.validate
          return validate?.(work.ctx)
        }
        default:
          // a provision is validated before its decision (nothing in it depends on the store)
          return undefined
      }
    }

    // the operations below run their decision when called (see `eager.ts`); the service's own are lazy wrappers
    const provisionNow: ServiceBrokerService["provision"] = (request) => {
      const step = stepFor(request.offering.id, request.plan.id, "provision")
      if (step === undefined) {
        return Effect.fail(
          new BadRequest({ description: `The offering ${request.offering.name} is not served here.` })
        )
      }
      const body = request.body
      const target: ResolvedPlan = { offering: request.offering, plan: request.plan, effective: request.effective }
      const parameters = body.parameters ?? {}
      const originatingIdentity = identityOf(request.originatingIdentity)
      const ctx: ProvisionContext = {
        instanceId: request.instanceId,
        offering: request.offering,
        target,
        parameters,
        context: Option.fromNullable(body.context),
        organizationGuid: Option.fromNullable(body.organization_guid),
        spaceGuid: Option.fromNullable(body.space_guid),
        originatingIdentity: Option.fromNullable(originatingIdentity)
      }
      const dashboardUrl = works.get(request.offering.id)?.dashboardUrl?.(ctx)
      const input: ProvisionInput = {
        instanceId: request.instanceId,
        target,
        parameters,
        organizationGuid: body.organization_guid,
        spaceGuid: body.space_guid,
        context: body.context,
        maintenanceInfo: body.maintenance_info,
        originatingIdentity,
        acceptsIncomplete: request.acceptsIncomplete,
        mode: step.mode,
        dashboardUrl,
        ctx
      }
      const accepted = (operationId: string) =>
        Result.accepted(operationId, dashboardUrl === undefined ? {} : { dashboardUrl })
      const decided = () =>
        Fast.map(
          runner.decideAndRun(
            request.instanceId,
            (snapshot, now) => decideProvision(env, snapshot, input, now, newOperationId("provision")),
            validation
          ),
          (ran): ProvisionResult => {
            switch (ran._tag) {
              case "Done":
                return Result.alreadyExists(instanceAnswer(ran.value))
              case "Running":
              case "Accepted":
                return accepted(ran.operationId)
              case "Completed": {
                // what the finished record now holds, without reading it back
                const output = ran.output as InstanceOutput
                const url = output.dashboardUrl ?? dashboardUrl
                const answer: { -readonly [K in keyof InstanceAnswer]: InstanceAnswer[K] } = {}
                if (url !== undefined) answer.dashboardUrl = url
                if (output.metadata !== undefined) answer.metadata = output.metadata
                return Result.created(answer)
              }
            }
          }
        ) as Effect.Effect<ProvisionResult, ProvisionError>
      // the author's validation runs before anything is decided
      return step.validate === undefined ? decided() : Fast.flatMap(step.validate(ctx), decided)
    }

    const update: ServiceBrokerService["update"] = Effect.fnUntraced(function*(request) {
      const ran = yield* (runner.decideAndRun(
        request.instanceId,
        (snapshot, now) =>
          decideUpdate(
            env,
            snapshot,
            {
              instanceId: request.instanceId,
              serviceId: request.body.service_id,
              planId: request.body.plan_id,
              parameters: request.body.parameters,
              maintenanceInfo: request.body.maintenance_info,
              context: request.body.context,
              originatingIdentity: identityOf(request.originatingIdentity),
              acceptsIncomplete: request.acceptsIncomplete
            },
            now,
            newOperationId("update")
          ),
        validation
      ) as Effect.Effect<Ran<never>, UpdateError>)
      switch (ran._tag) {
        case "Done":
          return Result.accepted()
        case "Running":
        case "Accepted":
          return Result.accepted(ran.operationId)
        case "Completed": {
          const snapshot = yield* runner.read(request.instanceId)
          return Result.updated(Option.match(snapshot.instance, { onNone: () => ({}), onSome: instanceAnswer }))
        }
      }
    }) as (request: UpdateRequest) => Effect.Effect<UpdateResult, UpdateError>

    const deprovisionNow: ServiceBrokerService["deprovision"] = (request) =>
      Fast.map(
        runner.decideAndRun(
          request.instanceId,
          (snapshot, now) =>
            decideDeprovision(
              env,
              snapshot,
              {
                instanceId: request.instanceId,
                originatingIdentity: identityOf(request.originatingIdentity),
                acceptsIncomplete: request.acceptsIncomplete
              },
              now,
              newOperationId("deprovision")
            ),
          validation
        ),
        deleteResult
      ) as Effect.Effect<DeleteResult, DeprovisionError>

    const bindNow: NonNullable<ServiceBrokerService["bind"]> = (request) => {
      const step = stepFor(request.offering.id, request.plan.id, "bind")
      if (step === undefined) {
        return Effect.fail(new BadRequest({ description: `The plan ${request.plan.name} is not bindable.` }))
      }
      const body = request.body
      return Fast.map(
        runner.decideAndRun(
          request.instanceId,
          (snapshot, now) =>
            decideBind(
              env,
              snapshot,
              {
                instanceId: request.instanceId,
                bindingId: request.bindingId,
                target: { offering: request.offering, plan: request.plan, effective: request.effective },
                serviceId: body.service_id,
                planId: body.plan_id,
                parameters: body.parameters,
                appGuid: body.bind_resource?.app_guid ?? body.app_guid,
                route: body.bind_resource?.route,
                bindResource: body.bind_resource,
                context: body.context,
                predecessorBindingId: body.predecessor_binding_id,
                originatingIdentity: identityOf(request.originatingIdentity),
                acceptsIncomplete: request.acceptsIncomplete,
                mode: step.mode
              },
              now,
              newOperationId("bind")
            ),
          validation
        ),
        (ran): BindResult => {
          switch (ran._tag) {
            case "Done":
              return Result.alreadyBound(ran.value.response ?? {})
            case "Running":
            case "Accepted":
              return Result.binding(ran.operationId)
            case "Completed": {
              // what the finished binding now holds, without reading it back
              const { data: _data, ...binding } = ran.output as BindingOutput
              return Result.bound(binding)
            }
          }
        }
      ) as Effect.Effect<BindResult, BindError>
    }

    const unbindNow: NonNullable<ServiceBrokerService["unbind"]> = (request) =>
      Fast.map(
        runner.decideAndRun(
          request.instanceId,
          (snapshot, now) =>
            decideUnbind(
              env,
              snapshot,
              {
                instanceId: request.instanceId,
                bindingId: request.bindingId,
                originatingIdentity: identityOf(request.originatingIdentity),
                acceptsIncomplete: request.acceptsIncomplete
              },
              now,
              newOperationId("unbind")
            ),
          validation
        ),
        deleteResult
      ) as Effect.Effect<DeleteResult, UnbindError>

    /**
     * A read, answered from the instance's snapshot at a time: `lazy` reads when its effect runs; `now` reads before
     * returning when the store can (see `eager.ts`), else it is `lazy`.
     */
    const reading = <R extends { readonly instanceId: string }, A, E>(
      answer: (request: R, snapshot: InstanceSnapshot, at: number) => Effect.Effect<A, E>
    ) => {
      const lazy = (request: R): Effect.Effect<A, E> =>
        Effect.flatMap(Clock.currentTimeMillis, (at) =>
          Effect.flatMap(runner.read(request.instanceId), (snapshot) => answer(request, snapshot, at)))
      const now = (request: R): Effect.Effect<A, E> => {
        const snapshot = runner.readNow(request.instanceId)
        return snapshot === undefined ? lazy(request) : answer(request, snapshot, runner.currentTimeNow())
      }
      return { lazy, now }
    }

    const lastOperation = reading((request: LastOperationRequest, snapshot, at) =>
      Fast.fromEither(pollInstance(env, snapshot, request.operation, at))
    )

    const lastBindingOperation = reading((request: LastBindingOperationRequest, snapshot, at) =>
      Fast.fromEither(pollBinding(env, snapshot, request.bindingId, request.operation, at))
    )

    const getInstance = reading(
      (_: GetInstanceRequest, snapshot): Effect.Effect<FetchInstanceBody, GetInstanceError> => {
        const found = fetchableInstance(env, snapshot)
        if (Either.isLeft(found)) {
          return Exit.fail(found.left)
        }
        const custom = works.get(found.right.serviceId)?.fetchInstance
        return custom === undefined ? Exit.succeed(defaultFetchInstance(found.right)) : custom(found.right)
      }
    )

    const getBinding = reading(
      (request: GetBindingRequest, snapshot): Effect.Effect<FetchBindingBody, GetBindingError> => {
        const found = fetchableBinding(env, snapshot, request.bindingId)
        if (Either.isLeft(found)) {
          return Exit.fail(found.left)
        }
        const custom = works.get(found.right.serviceId)?.fetchBinding
        return custom === undefined
          ? Exit.succeed({ ...found.right.response, parameters: found.right.parameters })
          : custom(found.right)
      }
    )

    /** The lazy operation of one that runs its decision when called. */
    const lazily = <R, A, E>(now: (request: R) => Effect.Effect<A, E>) => (request: R): Effect.Effect<A, E> =>
      Effect.suspend(() =>
        now(request)
      )

    const service: ManagedBrokerService = {
      provision: lazily(provisionNow),
      update,
      deprovision: lazily(deprovisionNow),
      lastOperation: lastOperation.lazy,
      getInstance: getInstance.lazy,
      bind: lazily(bindNow),
      unbind: lazily(unbindNow),
      getBinding: getBinding.lazy,
      lastBindingOperation: lastBindingOperation.lazy,
      lifecycle: makeLifecycle(store, env, runner, leases),
      takeover: leases.takeoverRound
    }
    const eager: ServiceBrokerService = {
      ...service,
      provision: provisionNow,
      deprovision: deprovisionNow,
      bind: bindNow,
      unbind: unbindNow,
      lastOperation: lastOperation.now,
      lastBindingOperation: lastBindingOperation.now,
      getInstance: getInstance.now,
      getBinding: getBinding.now
    }
    return withEager(service, eager)
  })
