/**
 * The managed broker: the author writes only the work (provision, update, deprovision, bind, unbind), per
 * offering or per plan, each synchronous, asynchronous or either; the library keeps the state in a
 * `BrokerStore` and answers everything the protocol asks: idempotent repeats (200 / 202 with the same operation /
 * 409), `AsyncRequired`, background operations with `last_operation`, per-instance concurrency, interruption of a
 * running create by a delete, `maximum_polling_duration`, binding rotation, and fetch from the store.
 *
 * @since 0.1.0
 * @module
 */
import * as Config from "effect/Config"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Layer from "effect/Layer"
import type * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import type * as Scope from "effect/Scope"
import type { BrokerLifecycleService } from "./BrokerLifecycle.js"
import { BrokerLifecycle } from "./BrokerLifecycle.js"
import type { BindingRecord, InstanceRecord } from "./BrokerStore.js"
import { BrokerStore } from "./BrokerStore.js"
import type { CatalogService, ResolvedPlan } from "./Catalog.js"
import { Catalog, effectivePlan } from "./Catalog.js"
import { makeEngine } from "./internal/engine/broker.js"
import * as Identity from "./internal/engine/identity.js"
import type {
  BindingResponseBody,
  BindResource,
  FetchBindingBody,
  FetchInstanceBody,
  InstanceMetadata,
  JsonObject,
  MaintenanceInfo,
  OriginatingIdentity,
  RequestContext,
  ServiceOffering
} from "./Model.js"
import type {
  BadRequest,
  BrokerFailure,
  DeprovisionFailure,
  RequiresApp,
  UpdateFailure,
  UpdateNotSupported
} from "./OsbError.js"
import type { ServiceBrokerService } from "./ServiceBroker.js"
import { ServiceBroker } from "./ServiceBroker.js"

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
  /** How the step runs: `sync`, `async` or `either` (see {@link Mode}). */
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
  /**
   * The instance's dashboard URL, or `null`; stored and answered as `dashboard_url` (overrides
   * `OfferingWork.dashboardUrl`).
   */
  readonly dashboardUrl?: string | null
  /** The instance's `labels` and `attributes` (2.16/2.17), stored and answered as `metadata`. */
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
export type BindingOutput = BindingResponseBody & {
  /** Any JSON the author wants kept with the binding (handed to the unbind as `binding.data`); never sent. */
  readonly data?: unknown
}

/**
 * What provision work receives: the new instance's id, its offering and plan, its parameters and context, and who
 * asked.
 *
 * @since 0.1.0
 * @category models
 */
export interface ProvisionContext {
  /** The `instance_id` of the request. */
  readonly instanceId: string
  /** The offering the request names. */
  readonly offering: ServiceOffering
  /** The plan to provision, with its offering and effective values. */
  readonly target: ResolvedPlan
  /**
   * The request's `parameters` (`{}` when it had none), already checked against the plan's
   * `schemas.service_instance.create` by the router when the plan declares one.
   */
  readonly parameters: JsonObject
  /** The platform context the provision carried. */
  readonly context: Option.Option<RequestContext>
  /** The deprecated Cloud Foundry `organization_guid`, if sent. */
  readonly organizationGuid: Option.Option<string>
  /** The deprecated Cloud Foundry `space_guid`, if sent. */
  readonly spaceGuid: Option.Option<string>
  /** Who asked (the `X-Broker-API-Originating-Identity` the provision carried; kept for a resumed step). */
  readonly originatingIdentity: Option.Option<OriginatingIdentity>
}

/**
 * What update work receives: the instance as recorded, the plans before and after, the parameters (requested and
 * merged), the context and maintenance info after the update, and who asked.
 *
 * @since 0.1.0
 * @category models
 */
export interface UpdateContext {
  /** The `instance_id` of the request. */
  readonly instanceId: string
  /** The instance as recorded before the update. */
  readonly instance: InstanceRecord
  /** The plan after the update (the current one when the request changes no plan). */
  readonly target: ResolvedPlan
  /** The plan before the update. */
  readonly previous: ResolvedPlan
  /** The parameters the request carried (partial), if any. */
  readonly requestedParameters: Option.Option<JsonObject>
  /** The current parameters with the requested ones merged in (shallow); what the store keeps on success. */
  readonly parameters: JsonObject
  /** The context the update carried, else the instance's. */
  readonly context: Option.Option<RequestContext>
  /** The maintenance info the instance has once the update succeeded. */
  readonly maintenanceInfo: Option.Option<MaintenanceInfo>
  /** Who asked (kept with the operation for a resumed step). */
  readonly originatingIdentity: Option.Option<OriginatingIdentity>
}

/**
 * What deprovision work receives: the instance as recorded, the bindings still recorded, and who asked.
 *
 * @since 0.1.0
 * @category models
 */
export interface DeprovisionContext {
  /** The `instance_id` of the request. */
  readonly instanceId: string
  /** The instance as recorded. */
  readonly instance: InstanceRecord
  /** Bindings still recorded (they go with the instance, decision 31). */
  readonly bindings: ReadonlyArray<BindingRecord>
  /** Who asked (kept with the operation for a resumed step). */
  readonly originatingIdentity: Option.Option<OriginatingIdentity>
}

/**
 * What bind work receives: the instance, the plan, the binding's parameters, app and resource, the binding rotated
 * if any, and who asked.
 *
 * @since 0.1.0
 * @category models
 */
export interface BindContext {
  /** The `instance_id` of the request. */
  readonly instanceId: string
  /** The `binding_id` of the request. */
  readonly bindingId: string
  /** The instance the binding is for, as recorded. */
  readonly instance: InstanceRecord
  /** The instance's plan, with its offering and effective values. */
  readonly target: ResolvedPlan
  /** The request's parameters, or the predecessor's when rotating without parameters. */
  readonly parameters: JsonObject
  /**
   * The bound application: `bind_resource.app_guid`, else the deprecated `app_guid`; `None` for a service key. Fail
   * with `RequiresApp` in `validate` if you need one.
   */
  readonly appGuid: Option.Option<string>
  /** The binding being rotated (2.17 `predecessor_binding_id`). */
  readonly predecessor: Option.Option<BindingRecord>
  /** The request's whole `bind_resource` (app, route, Cloud Foundry extras), if sent. */
  readonly bindResource: Option.Option<typeof BindResource.Type>
  /** The platform context the bind carried. */
  readonly context: Option.Option<RequestContext>
  /** Who asked (kept with the operation for a resumed step). */
  readonly originatingIdentity: Option.Option<OriginatingIdentity>
}

/**
 * What unbind work receives: the binding as recorded (with the data the bind returned), its instance, and who asked.
 *
 * @since 0.1.0
 * @category models
 */
export interface UnbindContext {
  /** The `instance_id` of the request. */
  readonly instanceId: string
  /** The `binding_id` of the request. */
  readonly bindingId: string
  /** The instance as recorded; `None` when it is already gone. */
  readonly instance: Option.Option<InstanceRecord>
  /** The binding as recorded, with the `data` your bind returned. */
  readonly binding: BindingRecord
  /** Who asked (kept with the operation for a resumed step). */
  readonly originatingIdentity: Option.Option<OriginatingIdentity>
}

/**
 * The work of one offering. `plans` overrides steps per plan (keyed by plan id or name).
 *
 * @since 0.1.0
 * @category models
 */
export interface OfferingWork {
  /** Creates the instance on your infrastructure. Required. */
  readonly provision: Step<ProvisionContext, InstanceOutput, BrokerFailure, BadRequest>
  /** The dashboard URL, known before the provision work runs, so the first (even 202) answer carries it. */
  readonly dashboardUrl?: (ctx: ProvisionContext) => string
  /** Removes the instance and everything its provision created. Required. */
  readonly deprovision: Step<DeprovisionContext, void, DeprovisionFailure | BrokerFailure>
  /**
   * Applies a plan, parameter, context or maintenance change. Without it an update is answered 422 (not supported).
   */
  readonly update?: Step<UpdateContext, InstanceOutput, UpdateFailure | BrokerFailure, BadRequest | UpdateNotSupported>
  /**
   * Creates a binding and returns its credentials and other data. Required when a plan of the offering is bindable.
   */
  readonly bind?: Step<BindContext, BindingOutput, BrokerFailure, BadRequest | RequiresApp>
  /** Revokes a binding. Required when a plan of the offering is bindable. */
  readonly unbind?: Step<UnbindContext, void, BrokerFailure>
  /**
   * What "identical" means for this offering's requests (default: see the README). Per kind, the value compared
   * (as canonical JSON, key order ignored) between a repeated request and the recorded one.
   */
  readonly identical?: Identical
  /** Shapes the fetch-instance answer from the record (e.g. to hide secret parameters). */
  readonly fetchInstance?: (instance: InstanceRecord) => Effect.Effect<FetchInstanceBody, BrokerFailure>
  /** Shapes the fetch-binding answer from the record. */
  readonly fetchBinding?: (binding: BindingRecord) => Effect.Effect<FetchBindingBody, BrokerFailure>
  /** Steps that differ for some plans, keyed by plan id or name; a step not given here is the offering's. */
  readonly plans?: {
    readonly [planIdOrName: string]: Partial<
      Pick<OfferingWork, "provision" | "deprovision" | "update" | "bind" | "unbind">
    >
  }
}

/**
 * A step that runs inline: the platform gets 201/200 once the work is done (and never 202). `options` adds
 * `validate` and `resumable`.
 *
 * @since 0.1.0
 * @category constructors
 */
export const sync = <Ctx, Out, E, V = never>(
  run: (ctx: Ctx) => Effect.Effect<Out, E>,
  options: Omit<Step<Ctx, Out, E, V>, "mode" | "run"> = {}
): Step<Ctx, Out, E, V> => ({ ...options, mode: "sync", run })

/**
 * A step that always runs in the background: the platform gets 202 and polls `last_operation`; without
 * `accepts_incomplete=true` the request is refused with 422 `AsyncRequired`.
 *
 * @since 0.1.0
 * @category constructors
 */
export const async = <Ctx, Out, E, V = never>(
  run: (ctx: Ctx) => Effect.Effect<Out, E>,
  options: Omit<Step<Ctx, Out, E, V>, "mode" | "run"> = {}
): Step<Ctx, Out, E, V> => ({ ...options, mode: "async", run })

/**
 * A step that runs in the background (202) when the platform sends `accepts_incomplete=true`, and inline (201/200)
 * otherwise.
 *
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
  /** Drains the broker on shutdown: refuses new changes and waits for running operations. */
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
  {
    /**
     * Each mismatch between the work and the catalog, in words (an unknown offering or plan, a bindable plan
     * without bind work...).
     */
    problems: Schema.Array(Schema.String)
  }
) {
  /** The problems on one line, separated by `;`. */
  override get message(): string {
    return `The managed broker does not fit the catalog: ${this.problems.join("; ")}`
  }
}

// -----------------------------------------------------------------------------
// what "identical" means
// -----------------------------------------------------------------------------

/**
 * What "identical" means for an offering (`OfferingWork.identical`): per request kind, a function from the
 * request's attributes to the value compared, as canonical JSON (object keys sorted at every level), with the
 * recorded one. A kind left out keeps its default (`defaultIdentity`).
 *
 * @since 0.1.0
 * @category models
 */
export type Identical = Identity.Identical

/**
 * The attributes of a provision (or of an instance after updates) an identity may compare.
 *
 * @since 0.1.0
 * @category models
 */
export type ProvisionAttributes = Identity.ProvisionAttributes

/**
 * The attributes of a bind an identity may compare.
 *
 * @since 0.1.0
 * @category models
 */
export type BindAttributes = Identity.BindAttributes

/**
 * The attributes of an update an identity may compare.
 *
 * @since 0.1.0
 * @category models
 */
export type UpdateAttributes = Identity.UpdateAttributes

/**
 * The default identities, to extend: a provision compares `service_id`, `plan_id`, `parameters`,
 * `organization_guid` and `space_guid`; a bind `service_id`, `plan_id`, `parameters`, the app guid,
 * `bind_resource.route` and `predecessor_binding_id`; a running update `plan_id`, `parameters`,
 * `maintenance_info.version` and `context`.
 *
 * @since 0.1.0
 * @category identity
 */
export const defaultIdentity: {
  /** The default for provisions: `service_id`, `plan_id`, `parameters`, `organization_guid` and `space_guid`. */
  readonly provision: (attributes: ProvisionAttributes) => { readonly [key: string]: unknown }
  /**
   * The default for binds: `service_id`, `plan_id`, `parameters`, the app guid, `bind_resource.route` and
   * `predecessor_binding_id`.
   */
  readonly bind: (attributes: BindAttributes) => { readonly [key: string]: unknown }
  /**
   * The default for an update repeated while it runs: `plan_id`, `parameters`, `maintenance_info.version` and
   * `context`.
   */
  readonly update: (attributes: UpdateAttributes) => { readonly [key: string]: unknown }
} = { provision: Identity.defaultProvision, bind: Identity.defaultBind, update: Identity.defaultUpdate }

// -----------------------------------------------------------------------------
// the broker
// -----------------------------------------------------------------------------

/** Resolves the offerings of the work (by id or name) and checks the work covers what the catalog promises. */
const resolveWork = (
  catalog: CatalogService,
  offerings: { readonly [serviceIdOrName: string]: OfferingWork }
): Either.Either<ReadonlyMap<string, OfferingWork>, ManagedBrokerError> => {
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
  return problems.length > 0 ? Either.left(new ManagedBrokerError({ problems })) : Either.right(works)
}

/**
 * Builds the managed broker from the work per offering (keyed by offering id or name). Needs the `BrokerStore`
 * and the `Catalog`; background operations live in the surrounding scope.
 *
 * @example
 * ```ts
 * import { Effect, Layer } from "effect"
 * import { BrokerStore, Catalog, ManagedBroker } from "effect-osb"
 * import { catalog, work } from "./my-broker.js"
 *
 * // the managed broker as a value, in a scope: here to run one takeover round by hand
 * export const takeOverNow = Effect.gen(function*() {
 *   const broker = yield* ManagedBroker.make({ "quickstart-db": work }, { replicaId: "replica-a" })
 *   yield* broker.takeover
 * }).pipe(Effect.scoped, Effect.provide(Layer.merge(Catalog.layer(catalog), BrokerStore.layerMemory)))
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (
  offerings: { readonly [serviceIdOrName: string]: OfferingWork },
  options: ManagedOptions = {}
): Effect.Effect<ManagedBrokerService, ManagedBrokerError, BrokerStore | Catalog | Scope.Scope> =>
  Effect.gen(function*() {
    const store = yield* BrokerStore
    const catalog = yield* Catalog
    const works = yield* resolveWork(catalog, offerings)
    return yield* makeEngine(store, catalog, works, options)
  })

/**
 * The managed broker as a layer (background operations are interrupted when the layer is released).
 *
 * @example
 * ```ts
 * import { Effect, Layer } from "effect"
 * import { BrokerAuth, BrokerStore, Catalog, ManagedBroker, Server } from "effect-osb"
 * import { catalog } from "./my-broker.js"
 *
 * // the work of one offering (by id or name); the library answers the protocol and keeps the state
 * const work: ManagedBroker.OfferingWork = {
 *   provision: ManagedBroker.sync((ctx) => Effect.as(Effect.log(`creating ${ctx.instanceId}`), {})),
 *   deprovision: ManagedBroker.sync((ctx) => Effect.log(`dropping ${ctx.instanceId}`)),
 *   bind: ManagedBroker.sync((ctx) => Effect.succeed({ credentials: { user: ctx.bindingId } })),
 *   unbind: ManagedBroker.sync(() => Effect.void)
 * }
 *
 * ManagedBroker.layer({ "quickstart-db": work }).pipe(
 *   Layer.provideMerge(Catalog.layer(catalog)),
 *   Layer.provide(BrokerStore.layerMemory),
 *   (broker) => Server.layerConfig().pipe(Layer.provide(broker), Layer.provide(BrokerAuth.layerConfig)),
 *   Server.runMain
 * )
 * ```
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
