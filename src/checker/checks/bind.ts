/**
 * The checks of bindings: bind (E7) and its repeats, fetch (E8), unbind (E9). Part of the table of checks
 * (`../checks.ts`), in table order.
 *
 * @since 0.2.0
 */
import type { CheckSpec } from "../checks.js"

/** The bind group's entries of the table of checks, by name. */
export const bindChecks = {
  /** Probe: a bind whose body is not JSON; expects 400. */
  "bind.malformed-json": {
    requirements: ["CT-2", "BND"],
    level: "MUST",
    section: "Binding: Response",
    rule: "400 Bad Request MUST be returned if the request is malformed (a body that is not JSON)."
  },
  /**
   * Probe: on each plan named with --requires-app, a bind without `app_guid` and `bind_resource` (accepts_incomplete=
   * true); expects 422 RequiresApp; skipped once when no plan is named.
   */
  "bind.requires-app": {
    requirements: ["BND-1"],
    level: "MUST",
    section: "Binding: Response (422); Service Broker Errors: Error Codes",
    rule: "A plan that requires an app (declared with --requires-app: the catalog cannot say it) MUST refuse a bind " +
      "without `app_guid` and `bind_resource.app_guid` with 422 and the error code RequiresApp."
  },
  /** Probe: a bind on each provisioned instance of a bindable plan; expects 201, or 202 when asynchronous. */
  "bind.created": {
    requirements: ["BND"],
    level: "MUST",
    section: "Binding: Response",
    rule: "201 Created MUST be returned for a binding created by the request (202 when it runs asynchronously)."
  },
  /**
   * Probe: the body of each bind answer (or of the fetch after an asynchronous bind) is decoded with
   * `Model.BindingResponseBody`.
   */
  "bind.body": {
    requirements: ["BND"],
    level: "MUST",
    section: "Binding: Body",
    rule: "The binding answer MUST be a JSON object with the spec's fields and types (a malformed 201 body is a " +
      "failure for the platform)."
  },
  /** Probe: each 202 bind answer; it must not carry `credentials` or other binding data. */
  "bind.async-no-data": {
    requirements: ["BND"],
    level: "MUST",
    section: "Binding: Response (202)",
    rule: "A 202 bind answer MUST NOT carry credentials or other binding data."
  },
  /** Probe: the same bind repeated once the first finished; expects 200 or 201, never 409. */
  "bind.identical": {
    requirements: ["BND-2", "ASY-5"],
    level: "MUST",
    section: "Binding: Response",
    rule: "An identical repeat of a finished bind is not a conflict: 409 is only for different parameters, and " +
      "where the spec defines the status (200 for an identical repeat) it MUST be used."
  },
  /** Probe: the same bind repeated once a synchronous bind finished; expects 200. */
  "bind.identical-200": {
    requirements: ["BND-2"],
    level: "SHOULD",
    section: "Binding: Response (200)",
    rule: "An identical repeat of a finished synchronous bind SHOULD answer 200."
  },
  /** Probe: the identical repeat of a bind; its `credentials` must equal the first answer's. */
  "bind.same-credentials": {
    requirements: ["BND-2"],
    level: "LIB",
    section: "Binding: Response (200)",
    rule: "An identical bind repeat returns the binding it created, with the same credentials."
  },
  /**
   * Probe: `GET` of each created binding of an offering with `bindings_retrievable`; expects 200 and a body decoded
   * with `Model.FetchBindingBody`.
   */
  "binding.fetch": {
    requirements: ["GB-1"],
    level: "MUST",
    since: "2.14",
    section: "Fetching a Binding",
    rule: "An offering with bindings_retrievable MUST answer the fetch of a created binding with 200 and a valid body."
  },
  /**
   * Probe: `GET` of a binding id that was never created; expects 404. Only for offerings with `bindings_retrievable`.
   */
  "binding.unknown": {
    requirements: ["GB-1"],
    level: "MUST",
    since: "2.14",
    section: "Fetching a Binding: Response (404)",
    rule: "404 MUST be returned if the binding does not exist or is still being created."
  },
  /** Probe: a `DELETE` of a binding without `service_id` and `plan_id`; expects 400. */
  "unbind.missing-ids": {
    requirements: ["UNB-1"],
    level: "MUST",
    section: "Unbinding: Request, Response (400)",
    rule: "`service_id` and `plan_id` are required query parameters: without them the answer MUST be 400."
  },
  /** Probe: the unbind of each created binding; expects 200, or 202 when asynchronous. */
  "unbind.done": {
    requirements: ["UNB"],
    level: "MUST",
    section: "Unbinding: Response",
    rule: "An unbind MUST answer 200 when done synchronously or 202 when it runs asynchronously."
  },
  /** Probe: a `DELETE` of a deleted binding, and of a binding id that never existed; expects 410. */
  "unbind.gone": {
    requirements: ["UNB", "OM-1"],
    level: "MUST",
    section: "Unbinding: Response (410)",
    rule: "410 Gone MUST be returned if the binding does not exist."
  }
} satisfies Record<string, CheckSpec>
