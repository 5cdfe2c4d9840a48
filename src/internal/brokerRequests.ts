/**
 * What the router hands a broker operation: the decoded request of each OSB operation, with the offering and plan
 * it names resolved against the catalog. Public: `ServiceBroker.ts` re-exports every type here, so a change here
 * is a change of the public API.
 *
 * @internal
 */
import type * as Option from "effect/Option"
import type { EffectivePlan } from "../Catalog.js"
import type {
  BindRequestBody,
  ProvisionRequestBody,
  ServiceOffering,
  ServicePlan,
  UpdateRequestBody
} from "../Model.js"
import type { RequestInfo } from "../RequestInfo.js"

/**
 * The offering and plan a request names, resolved against the catalog.
 *
 * @since 0.1.0
 * @category models
 */
export interface ResolvedTarget {
  /** The catalog offering the request's `service_id` names. */
  readonly offering: ServiceOffering
  /** The catalog plan the request's `plan_id` names, a plan of `offering`. */
  readonly plan: ServicePlan
  /**
   * The plan's values after the offering's defaults are applied (`bindable`, `plan_updateable`, `free`,
   * `binding_rotatable`; VAL-6).
   */
  readonly effective: EffectivePlan
}

/**
 * `PUT /v2/service_instances/:instance_id`.
 *
 * @since 0.1.0
 * @category requests
 */
export interface ProvisionRequest extends RequestInfo, ResolvedTarget {
  /** The `instance_id` from the request path. */
  readonly instanceId: string
  /**
   * Whether the request had `accepts_incomplete=true`: only then may the operation answer 202 and finish
   * asynchronously (ASY-1).
   */
  readonly acceptsIncomplete: boolean
  /** The decoded and validated request body. */
  readonly body: ProvisionRequestBody
}

/**
 * `PATCH /v2/service_instances/:instance_id`. `plan` is the target plan when the body names one; `previousPlan`
 * is the plan of `previous_values.plan_id` when the catalog knows it.
 *
 * @since 0.1.0
 * @category requests
 */
export interface UpdateRequest extends RequestInfo {
  /** The `instance_id` from the request path. */
  readonly instanceId: string
  /**
   * Whether the request had `accepts_incomplete=true`: only then may the operation answer 202 and finish
   * asynchronously (ASY-1).
   */
  readonly acceptsIncomplete: boolean
  /** The decoded and validated request body. */
  readonly body: UpdateRequestBody
  /** The catalog offering the body's `service_id` names. */
  readonly offering: ServiceOffering
  /** The target plan, when the body has a `plan_id`; `None` when the update keeps the plan. */
  readonly plan: Option.Option<ResolvedTarget>
  /** The plan of `previous_values.plan_id`, when sent and known to the catalog. */
  readonly previousPlan: Option.Option<ResolvedTarget>
}

/**
 * `DELETE /v2/service_instances/:instance_id`.
 *
 * @since 0.1.0
 * @category requests
 */
export interface DeprovisionRequest extends RequestInfo, ResolvedTarget {
  /** The `instance_id` from the request path. */
  readonly instanceId: string
  /**
   * Whether the request had `accepts_incomplete=true`: only then may the operation answer 202 and finish
   * asynchronously (ASY-1).
   */
  readonly acceptsIncomplete: boolean
}

/**
 * `GET /v2/service_instances/:instance_id` (the query ids are optional hints).
 *
 * @since 0.1.0
 * @category requests
 */
export interface GetInstanceRequest extends RequestInfo {
  /** The `instance_id` from the request path. */
  readonly instanceId: string
  /** The offering of the optional `service_id` query hint (GI-2); `None` when the platform sent none. */
  readonly offering: Option.Option<ServiceOffering>
  /** The plan of the optional `plan_id` query hint; `None` when the platform sent none. */
  readonly plan: Option.Option<ResolvedTarget>
}

/**
 * `GET /v2/service_instances/:instance_id/last_operation`.
 *
 * @since 0.1.0
 * @category requests
 */
export interface LastOperationRequest extends GetInstanceRequest {
  /** The percent-decoded `operation` query value, when sent. */
  readonly operation: Option.Option<string>
}

/**
 * `PUT /v2/service_instances/:instance_id/service_bindings/:binding_id`.
 *
 * @since 0.1.0
 * @category requests
 */
export interface BindRequest extends RequestInfo, ResolvedTarget {
  /** The `instance_id` from the request path. */
  readonly instanceId: string
  /** The `binding_id` from the request path. */
  readonly bindingId: string
  /**
   * Whether the request had `accepts_incomplete=true`: only then may the operation answer 202 and finish
   * asynchronously (ASY-1).
   */
  readonly acceptsIncomplete: boolean
  /** The decoded and validated request body. */
  readonly body: BindRequestBody
}

/**
 * `DELETE /v2/service_instances/:instance_id/service_bindings/:binding_id`.
 *
 * @since 0.1.0
 * @category requests
 */
export interface UnbindRequest extends RequestInfo, ResolvedTarget {
  /** The `instance_id` from the request path. */
  readonly instanceId: string
  /** The `binding_id` from the request path. */
  readonly bindingId: string
  /**
   * Whether the request had `accepts_incomplete=true`: only then may the operation answer 202 and finish
   * asynchronously (ASY-1).
   */
  readonly acceptsIncomplete: boolean
}

/**
 * `GET /v2/service_instances/:instance_id/service_bindings/:binding_id`.
 *
 * @since 0.1.0
 * @category requests
 */
export interface GetBindingRequest extends GetInstanceRequest {
  /** The `binding_id` from the request path. */
  readonly bindingId: string
}

/**
 * `GET /v2/service_instances/:instance_id/service_bindings/:binding_id/last_operation`.
 *
 * @since 0.1.0
 * @category requests
 */
export interface LastBindingOperationRequest extends GetBindingRequest {
  /**
   * The percent-decoded `operation` query value: the string the bind or unbind 202 returned, when it returned one.
   */
  readonly operation: Option.Option<string>
}
