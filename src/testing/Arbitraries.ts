/**
 * fast-check arbitraries for testing a broker against its own catalog: valid provision, update and bind requests
 * (right ids, parameters generated from the plan's JSON schema where there is one, the plan's maintenance_info),
 * and malformed variants of bodies, headers and query strings, each with the status a conforming broker answers.
 *
 * Ids are random, non-empty strings of RFC 3986 unreserved characters, generated without fast-check's bias so
 * runs against one stateful broker do not collide.
 *
 * @example
 * ```ts
 * import { FastCheck } from "effect"
 * import { Arbitraries } from "effect-osb/testing"
 * import { catalog } from "./my-broker.js"
 *
 * // valid provision requests for the catalog's plans, parameters generated from each plan's schema
 * export const requests = FastCheck.sample(Arbitraries.provisionRequest(catalog), 20)
 *   .map((request) => `PUT /v2/service_instances/${request.instanceId} ${JSON.stringify(request.body)}`)
 * ```
 *
 * @since 0.1.0
 * @module
 */

export { jsonObject } from "./arbitraries/json.js"
export { fromJsonSchema } from "./arbitraries/jsonSchema.js"
export type { JsonSchemaOptions } from "./arbitraries/jsonSchema.js"
export { malformedBody } from "./arbitraries/malformedBody.js"
export type {
  BodyOperation,
  MalformedBody,
  MalformedBodyKind,
  MalformedBodyOptions
} from "./arbitraries/malformedBody.js"
export { malformedHeaders, malformedQuery } from "./arbitraries/malformedRequest.js"
export type {
  Endpoint,
  MalformedHeaders,
  MalformedHeadersKind,
  MalformedQuery,
  MalformedQueryKind
} from "./arbitraries/malformedRequest.js"
export {
  bindRequest,
  guid,
  identifier,
  isBindable,
  isPlanUpdateable,
  parameters,
  planTargets,
  provisionRequest,
  updateRequest
} from "./arbitraries/requests.js"
export type {
  BindRequest,
  CatalogInput,
  OfferingInput,
  PlanTarget,
  Platform,
  ProvisionRequest,
  RequestOptions,
  UpdateRequest
} from "./arbitraries/requests.js"
export {
  /**
   * Parameters that violate a parameters schema, each with the path a validator must name.
   *
   * @since 0.1.0
   * @category arbitraries
   */
  invalidParameters,
  /**
   * Parameters that violate a plan's parameters schema for `create`, `update` or `bind`.
   *
   * @since 0.1.0
   * @category arbitraries
   */
  invalidParametersFor
} from "./InvalidParameters.js"

/**
 * Parameters that violate a schema, and where.
 *
 * @since 0.1.0
 * @category models
 */
export type { InvalidParameters } from "./InvalidParameters.js"
