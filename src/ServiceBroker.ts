/**
 * The interface a broker author implements: one Effect per OSB operation, each with the exact set of errors the
 * spec allows for it. The router (`Router.ts`) decodes and checks requests before calling it and renders what it
 * returns; the broker never sees HTTP.
 *
 * @since 0.1.0
 * @module
 */
import * as Context from "effect/Context"
import type * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import type * as Scope from "effect/Scope"
import type {
  BindRequest,
  DeprovisionRequest,
  GetBindingRequest,
  GetInstanceRequest,
  LastBindingOperationRequest,
  LastOperationRequest,
  ProvisionRequest,
  UnbindRequest,
  UpdateRequest
} from "./internal/brokerRequests.js"
import { combine as combineBrokers } from "./internal/combine.js"
import type { BindingResponseBody, FetchBindingBody, FetchInstanceBody, InstanceMetadata } from "./Model.js"
import * as Protocol from "./Protocol.js"

// -----------------------------------------------------------------------------
// requests
// -----------------------------------------------------------------------------

// every type of internal/brokerRequests.ts is public: `ResolvedTarget` and the request of each operation
export type * from "./internal/brokerRequests.js"

// -----------------------------------------------------------------------------
// results
// -----------------------------------------------------------------------------

/**
 * The body fields of a provision or update answer (`operation` comes separately, only with `Accepted`).
 *
 * @since 0.1.0
 * @category models
 */
export interface InstanceAnswer {
  /**
   * Sent as `dashboard_url`: the instance's dashboard, or `null`. If the broker has one it must be in the first
   * answer, the 202 included.
   */
  readonly dashboardUrl?: string | null
  /** Sent as `metadata`: the instance's `labels` and `attributes` (2.16/2.17). */
  readonly metadata?: InstanceMetadata
}

/**
 * The answer to a provision: 201 created, 200 identical instance exists, 202 accepted (async).
 *
 * @since 0.1.0
 * @category results
 */
export type ProvisionResult =
  | {
    /** 201 Created: the instance was created by this request. */
    readonly _tag: "Created"
    /** The body fields of the answer. */
    readonly answer: InstanceAnswer
  }
  | {
    /** 200 OK: an identical instance already exists (the same request was repeated). */
    readonly _tag: "AlreadyExists"
    /** The body fields of the answer. */
    readonly answer: InstanceAnswer
  }
  | {
    /** 202 Accepted: the provision goes on asynchronously; only allowed with `accepts_incomplete=true`. */
    readonly _tag: "Accepted"
    /** The body fields of the answer (`dashboard_url` must already be here if there is one). */
    readonly answer: InstanceAnswer
    /** The operation id the platform will poll `last_operation` with; absent means it polls without one. */
    readonly operation?: string
  }

/**
 * The answer to an update: 200 done (or no-op), 202 accepted.
 *
 * @since 0.1.0
 * @category results
 */
export type UpdateResult =
  | {
    /** 200 OK: the update is done (or changed nothing). */
    readonly _tag: "Updated"
    /** The body fields of the answer. */
    readonly answer: InstanceAnswer
  }
  | {
    /** 202 Accepted: the update goes on asynchronously; only allowed with `accepts_incomplete=true`. */
    readonly _tag: "Accepted"
    /** The body fields of the answer (a changed `dashboard_url` must already be here). */
    readonly answer: InstanceAnswer
    /** The operation id the platform will poll `last_operation` with; absent means it polls without one. */
    readonly operation?: string
  }

/**
 * The answer to a deprovision or unbind: 200 deleted, 202 accepted. (A missing resource is the `Gone` error.)
 *
 * @since 0.1.0
 * @category results
 */
export type DeleteResult =
  | {
    /** 200 OK with `{}`: the resource is gone. */
    readonly _tag: "Deleted"
  }
  | {
    /** 202 Accepted: the delete goes on asynchronously; only allowed with `accepts_incomplete=true`. */
    readonly _tag: "Accepted"
    /** The operation id the platform will poll `last_operation` with; absent means it polls without one. */
    readonly operation?: string
  }

/**
 * The answer to a bind: 201 created, 200 identical binding exists, 202 accepted (no binding data allowed).
 *
 * @since 0.1.0
 * @category results
 */
export type BindResult =
  | {
    /** 201 Created: the binding was created by this request. */
    readonly _tag: "Created"
    /** The binding: credentials, endpoints, volume mounts... checked against the offering's `requires` (VAL-5). */
    readonly binding: BindingResponseBody
  }
  | {
    /** 200 OK: an identical binding already exists (the same request was repeated). */
    readonly _tag: "AlreadyExists"
    /** The existing binding, as first returned. */
    readonly binding: BindingResponseBody
  }
  | {
    /**
     * 202 Accepted: the bind goes on asynchronously; only allowed with `accepts_incomplete=true`. The platform
     * fetches the binding with `GET` once `last_operation` reports `succeeded`.
     */
    readonly _tag: "Accepted"
    /** The operation id the platform will poll `last_operation` with; absent means it polls without one. */
    readonly operation?: string
  }

/**
 * The state of an instance operation (E6). `instance_usable`/`update_repeatable` can only be given where §3
 * allows them: after a failed update (both) or deprovision (`instanceUsable`).
 *
 * @since 0.1.0
 * @category results
 */
export type InstanceOperationState =
  | {
    /** The operation is still running: the platform keeps polling (sent as `state`). */
    readonly state: "in progress"
    /** Text for the user about the operation, sent as `description`. */
    readonly description?: string
    /**
     * Seconds the platform should wait before polling again, sent as `Retry-After` (LO-5); the router's default
     * applies when absent.
     */
    readonly retryAfterSeconds?: number
    /** Not allowed in this state: the spec sends `instance_usable` only after a failed update or deprovision. */
    readonly instanceUsable?: never
    /** Not allowed in this state: the spec sends `update_repeatable` only after a failed update. */
    readonly updateRepeatable?: never
  }
  | {
    /** The operation finished and succeeded: the platform stops polling. */
    readonly state: "succeeded"
    /** Text for the user about the operation, sent as `description`. */
    readonly description?: string
    /** Not allowed in this state: the spec sends `instance_usable` only after a failed update or deprovision. */
    readonly instanceUsable?: never
    /** Not allowed in this state: the spec sends `update_repeatable` only after a failed update. */
    readonly updateRepeatable?: never
  }
  | {
    /**
     * The operation finished and failed: the platform stops polling, and after a failed provision or bind starts
     * orphan mitigation (LO-8).
     */
    readonly state: "failed"
    /** The failed operation was a provision. */
    readonly operation: "provision"
    /** Text for the user about the operation, sent as `description`. */
    readonly description?: string
    /** Not allowed in this state: the spec sends `instance_usable` only after a failed update or deprovision. */
    readonly instanceUsable?: never
    /** Not allowed in this state: the spec sends `update_repeatable` only after a failed update. */
    readonly updateRepeatable?: never
  }
  | {
    /**
     * The operation finished and failed: the platform stops polling, and after a failed provision or bind starts
     * orphan mitigation (LO-8).
     */
    readonly state: "failed"
    /** The failed operation was an update. */
    readonly operation: "update"
    /** Text for the user about the operation, sent as `description`. */
    readonly description?: string
    /**
     * Whether the instance still works after the failure, sent as `instance_usable`; absent means `true` (UPD-4,
     * DEP-5).
     */
    readonly instanceUsable?: boolean
    /** Whether repeating the same update may succeed, sent as `update_repeatable`; absent means `true` (UPD-4). */
    readonly updateRepeatable?: boolean
  }
  | {
    /**
     * The operation finished and failed: the platform stops polling, and after a failed provision or bind starts
     * orphan mitigation (LO-8).
     */
    readonly state: "failed"
    /** The failed operation was a deprovision. */
    readonly operation: "deprovision"
    /** Text for the user about the operation, sent as `description`. */
    readonly description?: string
    /**
     * Whether the instance still works after the failure, sent as `instance_usable`; absent means `true` (UPD-4,
     * DEP-5).
     */
    readonly instanceUsable?: boolean
    /** Not allowed in this state: the spec sends `update_repeatable` only after a failed update. */
    readonly updateRepeatable?: never
  }

/**
 * The state of a binding operation (E10): no `instance_usable`/`update_repeatable` here.
 *
 * @since 0.1.0
 * @category results
 */
export type BindingOperationState =
  | {
    /** The operation is still running: the platform keeps polling (sent as `state`). */
    readonly state: "in progress"
    /** Text for the user about the operation, sent as `description`. */
    readonly description?: string
    /**
     * Seconds the platform should wait before polling again, sent as `Retry-After` (LO-5); the router's default
     * applies when absent.
     */
    readonly retryAfterSeconds?: number
    /** Not allowed in this state: the spec sends `instance_usable` only after a failed update or deprovision. */
    readonly instanceUsable?: never
    /** Not allowed in this state: the spec sends `update_repeatable` only after a failed update. */
    readonly updateRepeatable?: never
  }
  | {
    /**
     * The operation finished: `succeeded`, or `failed` (after a failed bind the platform starts orphan mitigation,
     * LO-8).
     */
    readonly state: "succeeded" | "failed"
    /** Text for the user about the operation, sent as `description`. */
    readonly description?: string
    /** Not allowed in this state: the spec sends `instance_usable` only after a failed update or deprovision. */
    readonly instanceUsable?: never
    /** Not allowed in this state: the spec sends `update_repeatable` only after a failed update. */
    readonly updateRepeatable?: never
  }

/**
 * Constructors for the results, so handlers read like the spec.
 *
 * @since 0.1.0
 * @category constructors
 */
export const Result = {
  /** 201 for provision. */
  created: (answer: InstanceAnswer = {}): ProvisionResult => ({ _tag: "Created", answer }),
  /** 200 for an identical provision of an existing instance. */
  alreadyExists: (answer: InstanceAnswer = {}): ProvisionResult => ({ _tag: "AlreadyExists", answer }),
  /** 202 for provision or update. */
  accepted: (operation?: string, answer: InstanceAnswer = {}): ProvisionResult & UpdateResult =>
    (operation === undefined ? { _tag: "Accepted", answer } : { _tag: "Accepted", answer, operation }) as
      & ProvisionResult
      & UpdateResult,
  /** 200 for update. */
  updated: (answer: InstanceAnswer = {}): UpdateResult => ({ _tag: "Updated", answer }),
  /** 200 for deprovision or unbind. */
  deleted: { _tag: "Deleted" } as DeleteResult,
  /** 202 for deprovision or unbind. */
  deleting: (operation?: string): DeleteResult =>
    operation === undefined ? { _tag: "Accepted" } : { _tag: "Accepted", operation },
  /** 201 for bind. */
  bound: (binding: BindingResponseBody): BindResult => ({ _tag: "Created", binding }),
  /** 200 for an identical bind of an existing binding. */
  alreadyBound: (binding: BindingResponseBody): BindResult => ({ _tag: "AlreadyExists", binding }),
  /** 202 for bind. */
  binding: (operation?: string): BindResult =>
    operation === undefined ? { _tag: "Accepted" } : { _tag: "Accepted", operation }
} as const

// -----------------------------------------------------------------------------
// errors per operation
// -----------------------------------------------------------------------------

/**
 * The errors `provision` may fail with (derived from `Protocol.endpoints`).
 *
 * @since 0.1.0
 * @category errors
 */
export type ProvisionError = Protocol.ErrorOf<"provision">

/**
 * The errors `update` may fail with (derived from `Protocol.endpoints`).
 *
 * @since 0.1.0
 * @category errors
 */
export type UpdateError = Protocol.ErrorOf<"update">

/**
 * The errors `deprovision` may fail with (derived from `Protocol.endpoints`).
 *
 * @since 0.1.0
 * @category errors
 */
export type DeprovisionError = Protocol.ErrorOf<"deprovision">

/**
 * The errors `getInstance` may fail with (derived from `Protocol.endpoints`).
 *
 * @since 0.1.0
 * @category errors
 */
export type GetInstanceError = Protocol.ErrorOf<"getInstance">

/**
 * The errors `lastOperation` and `lastBindingOperation` may fail with (derived from `Protocol.endpoints`).
 *
 * @since 0.1.0
 * @category errors
 */
export type LastOperationError = Protocol.ErrorOf<"lastOperation">

/**
 * The errors `bind` may fail with (derived from `Protocol.endpoints`).
 *
 * @since 0.1.0
 * @category errors
 */
export type BindError = Protocol.ErrorOf<"bind">

/**
 * The errors `getBinding` may fail with (derived from `Protocol.endpoints`).
 *
 * @since 0.1.0
 * @category errors
 */
export type GetBindingError = Protocol.ErrorOf<"getBinding">

/**
 * The errors `unbind` may fail with (derived from `Protocol.endpoints`).
 *
 * @since 0.1.0
 * @category errors
 */
export type UnbindError = Protocol.ErrorOf<"unbind">

/**
 * The error tags each operation may fail with, at run time: the `errors` of `Protocol.endpoints`.
 *
 * @since 0.1.0
 * @category errors
 */
export const allowedErrors: { readonly [K in Protocol.OperationName]: (typeof Protocol.endpoints)[K]["errors"] } = {
  provision: Protocol.endpoints.provision.errors,
  update: Protocol.endpoints.update.errors,
  deprovision: Protocol.endpoints.deprovision.errors,
  getInstance: Protocol.endpoints.getInstance.errors,
  lastOperation: Protocol.endpoints.lastOperation.errors,
  bind: Protocol.endpoints.bind.errors,
  getBinding: Protocol.endpoints.getBinding.errors,
  unbind: Protocol.endpoints.unbind.errors,
  lastBindingOperation: Protocol.endpoints.lastBindingOperation.errors
}

// -----------------------------------------------------------------------------
// the service
// -----------------------------------------------------------------------------

/**
 * A broker implementation. `provision` and `deprovision` are required; the rest are optional, and the router
 * answers for a missing one as the README documents (and refuses to start when the catalog needs it).
 *
 * @since 0.1.0
 * @category models
 */
export interface ServiceBrokerService {
  /** Creates an instance (E2, `PUT /v2/service_instances/:instance_id`). Required. */
  readonly provision: (request: ProvisionRequest) => Effect.Effect<ProvisionResult, ProvisionError>
  /**
   * Deletes an instance and everything its provision created (E5, `DELETE /v2/service_instances/:instance_id`).
   * Required; fail with `Gone` for an instance that does not exist.
   */
  readonly deprovision: (request: DeprovisionRequest) => Effect.Effect<DeleteResult, DeprovisionError>
  /**
   * Changes an instance's plan, parameters, context or maintenance version (E4, `PATCH`). Without it the router
   * answers 422 `UpdateNotSupported`.
   */
  readonly update?: (request: UpdateRequest) => Effect.Effect<UpdateResult, UpdateError>
  /**
   * Answers `GET /v2/service_instances/:instance_id` (E3). Without it the router answers 404, and refuses to start if
   * an offering has `instances_retrievable: true`.
   */
  readonly getInstance?: (request: GetInstanceRequest) => Effect.Effect<FetchInstanceBody, GetInstanceError>
  /**
   * Reports the state of an asynchronous provision, update or deprovision (E6, polled by the platform after a 202).
   * Without it the router answers 404.
   */
  readonly lastOperation?: (
    request: LastOperationRequest
  ) => Effect.Effect<InstanceOperationState, LastOperationError>
  /**
   * Creates a binding, usually credentials for an application (E7). Without it the router refuses to start if a plan
   * is bindable.
   */
  readonly bind?: (request: BindRequest) => Effect.Effect<BindResult, BindError>
  /** Deletes a binding and revokes what it granted (E9). Without it the router answers 410. */
  readonly unbind?: (request: UnbindRequest) => Effect.Effect<DeleteResult, UnbindError>
  /**
   * Answers `GET .../service_bindings/:binding_id` (E8). Without it the router answers 404, and refuses to start if
   * an offering has `bindings_retrievable: true`.
   */
  readonly getBinding?: (request: GetBindingRequest) => Effect.Effect<FetchBindingBody, GetBindingError>
  /** Reports the state of an asynchronous bind or unbind (E10). Without it the router answers 404. */
  readonly lastBindingOperation?: (
    request: LastBindingOperationRequest
  ) => Effect.Effect<BindingOperationState, LastOperationError>
}

/**
 * The broker service tag.
 *
 * @since 0.1.0
 * @category tags
 */
export class ServiceBroker extends Context.Tag("effect-osb/ServiceBroker")<ServiceBroker, ServiceBrokerService>() {}

/**
 * Types a broker implementation (an identity function that gives precise error checking per operation).
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { OsbError, ServiceBroker } from "effect-osb"
 *
 * // a broker by hand: each operation may fail only with the errors the spec allows for it
 * const plans = new Map<string, string>() // instance id -> plan id
 *
 * export const broker = ServiceBroker.make({
 *   provision: (request) =>
 *     Effect.suspend(() => {
 *       const existing = plans.get(request.instanceId)
 *       if (existing === undefined) {
 *         plans.set(request.instanceId, request.plan.id)
 *         return Effect.succeed(ServiceBroker.Result.created())
 *       }
 *       return existing === request.plan.id
 *         ? Effect.succeed(ServiceBroker.Result.alreadyExists())
 *         : Effect.fail(new OsbError.Conflict({}))
 *     }),
 *   deprovision: (request) =>
 *     Effect.suspend(() =>
 *       plans.delete(request.instanceId)
 *         ? Effect.succeed(ServiceBroker.Result.deleted)
 *         : Effect.fail(new OsbError.Gone())
 *     )
 * })
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = <const B extends ServiceBrokerService>(broker: B): ServiceBrokerService => broker

/**
 * A layer from a broker value.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (broker: ServiceBrokerService): Layer.Layer<ServiceBroker> => Layer.succeed(ServiceBroker, broker)

/**
 * A layer from an effect building the broker (use it to resolve your own services once, at build time).
 *
 * @since 0.1.0
 * @category layers
 */
export const layerEffect = <E, R>(
  broker: Effect.Effect<ServiceBrokerService, E, R>
): Layer.Layer<ServiceBroker, E, Exclude<R, Scope.Scope>> => Layer.scoped(ServiceBroker, broker)

// -----------------------------------------------------------------------------
// several offerings in one broker
// -----------------------------------------------------------------------------

/**
 * One broker from several, by `service_id`: each offering's requests go to its broker (managed or
 * hand-written; one broker may serve several offerings). Requests that name no offering (fetch and
 * last_operation without the optional `service_id` hint) ask the brokers in turn until one knows the resource.
 *
 * @since 0.1.0
 * @category combinators
 */
export const combine = (brokers: { readonly [serviceId: string]: ServiceBrokerService }): ServiceBrokerService =>
  combineBrokers(brokers)
