/**
 * The checks of provision (E2), its asynchronous lifecycle (E6), its repeats, and the fetch of an instance (E3).
 * Part of the table of checks (`../checks.ts`), in table order.
 *
 * @since 0.2.0
 */
import type { CheckSpec } from "../checks.js"

/** The provision group's entries of the table of checks, by name. */
export const provisionChecks = {
  /** Probe: a provision whose body is not JSON; expects 400. */
  "provision.malformed-json": {
    requirements: ["CT-2", "PRV-1"],
    level: "MUST",
    section: "Provisioning: Response",
    rule: "400 Bad Request MUST be returned if the request is malformed (a body that is not JSON)."
  },
  /** Probe: a provision without `service_id`; expects 400. */
  "provision.missing-field": {
    requirements: ["PRV-1"],
    level: "MUST",
    section: "Provisioning: Response",
    rule: "400 Bad Request MUST be returned if the request misses mandatory data (`service_id`)."
  },
  /** Probe: a provision naming a `plan_id` the catalog does not have; expects 400 (LIB: a warning otherwise). */
  "provision.unknown-plan": {
    requirements: ["PRV-3"],
    level: "LIB",
    section: "Provisioning: Response",
    rule: "An unknown `plan_id` is invalid data, which MAY be refused with 400 (effect-osb does)."
  },
  /**
   * Probe: on a plan with `maintenance_info`, a provision with another `maintenance_info.version`; expects 422
   * `MaintenanceInfoConflict`. Skipped when no plan has one.
   */
  "provision.maintenance-conflict": {
    requirements: ["PRV-7"],
    level: "MUST",
    since: "2.15",
    section: "Provisioning: Response (422)",
    rule: "A `maintenance_info.version` other than the plan's MUST be refused with 422 and the error code " +
      "MaintenanceInfoConflict."
  },
  /**
   * Probe: a provision of each plan declared with `--async-plan` (without `accepts_incomplete`: expects 422
   * `AsyncRequired`) or `--sync-plan` (expects 201).
   */
  "provision.mode": {
    requirements: ["ASY-1", "ASY-3"],
    level: "MUST",
    section: "Synchronous and Asynchronous Operations",
    rule: "A plan declared asynchronous (--async-plan) MUST ask for accepts_incomplete=true with 422 " +
      "AsyncRequired; a plan declared synchronous (--sync-plan) MUST answer 201 without it (the declaration is " +
      "the user's: the spec lets a broker choose per plan)."
  },
  /**
   * Probe: a provision without `accepts_incomplete=true` of a plan that answers it with 422; the code must be
   * `AsyncRequired`.
   */
  "async.required-code": {
    requirements: ["ASY-1"],
    level: "MUST",
    section: "Asynchronous Operations",
    rule: "A broker that cannot complete a request synchronously and did not get accepts_incomplete=true MUST " +
      "answer 422 with the error code AsyncRequired."
  },
  /** Probe: every request the checker sends without `accepts_incomplete=true`; none may be answered 202. */
  "async.no-202-without-accepts-incomplete": {
    requirements: ["ASY-1"],
    level: "MUST",
    section: "Asynchronous Operations",
    rule: "A broker MUST NOT answer 202 unless the request had accepts_incomplete=true."
  },
  /**
   * Probe: a provision of each selected plan with an extra unknown field in the body; expects 201, or 202 when
   * asynchronous.
   */
  "provision.created": {
    requirements: ["PRV", "EXT-1"],
    level: "MUST",
    section: "Provisioning: Response",
    rule: "201 Created MUST be returned for an instance provisioned by the request (202 when it runs " +
      "asynchronously); unknown extra fields in the body are ignored."
  },
  /** Probe: the body of each provision answer is decoded with `Model.ProvisionResponseBody`. */
  "provision.body": {
    requirements: ["PRV"],
    level: "MUST",
    section: "Provisioning: Body",
    rule: "The provision answer MUST be a JSON object with the spec's fields and types (a malformed 201 or 202 " +
      "body is a failure for the platform)."
  },
  /** Probe: the `operation` of each 202 the checker receives: a non-empty string of at most 10,000 characters. */
  "operation.valid": {
    requirements: ["PRV", "LO-3"],
    level: "MUST",
    section: "Provisioning: Body; Updating, Deprovisioning, Binding, Unbinding: Body",
    rule: "An `operation` in a 202 answer MUST be a non-empty string, at most 10,000 characters."
  },
  /**
   * Probe: a provision, update or bind repeated while its asynchronous operation runs; expects 202 with the same
   * `operation` (200 once finished).
   */
  "repeat.while-running": {
    requirements: ["ASY-4"],
    level: "MUST",
    section: "Provisioning, Updating, Binding: Response (202)",
    rule: "A re-sent request while its operation runs MUST answer 202 with the same `operation`, not 200 or 201."
  },
  /**
   * Probe: an update sent while the provision (or another update) runs; a 422 refusal must carry `ConcurrencyError`.
   */
  "concurrency.code": {
    requirements: ["ASY-6", "ERR-2"],
    level: "MUST",
    section: "Blocking Operations; Fetching an Instance, Deprovisioning: Response (422)",
    rule: "A request refused because another operation runs on the resource MUST answer 422 with the error code " +
      "ConcurrencyError."
  },
  /**
   * Probe: an update sent while an asynchronous provision runs; 422 `ConcurrencyError`, 200 or 202 are all allowed.
   */
  "concurrency.update-during-provision": {
    requirements: ["ASY-6"],
    level: "MAY",
    section: "Blocking Operations",
    rule: "A broker MAY refuse an update while the provision runs (422 ConcurrencyError) or accept it (200/202)."
  },
  /** Probe: `last_operation` of each asynchronous operation the checker starts; expects 200 with a valid `state`. */
  "lastOperation.state": {
    requirements: ["LO-4"],
    level: "MUST",
    section: "Polling Last Operation: Response, Body",
    rule: "last_operation of a known operation MUST answer 200 with `state` one of in progress, succeeded, failed."
  },
  /** Probe: the `Retry-After` of each in-progress `last_operation` answer; seconds pass, an HTTP date warns. */
  "lastOperation.retry-after": {
    requirements: ["LO-5"],
    level: "MAY",
    since: "2.15",
    section: "Polling Last Operation: Response (Retry-After)",
    rule: "An in-progress answer MAY carry Retry-After; a number of seconds is RECOMMENDED over an HTTP date."
  },
  /**
   * Probe: each asynchronous operation is polled until `succeeded` or `failed`, every answer validated on the way.
   */
  "operation.finishes": {
    requirements: ["LO-4"],
    level: "MUST",
    section: "Polling Last Operation",
    rule: "Polling an operation MUST give valid answers until it reaches a final state."
  },
  /** Probe: each operation the checker starts (all of them valid requests) is expected to end in `succeeded`. */
  "operation.succeeds": {
    requirements: ["LO-4"],
    level: "LIB",
    section: "Polling Last Operation",
    rule: "The checker's operations are valid requests: each is expected to reach `succeeded`."
  },
  /**
   * Probe: each asynchronous operation must end within `--timeout`, or the plan's `maximum_polling_duration` when
   * shorter.
   */
  "operation.in-time": {
    requirements: ["LO-9"],
    level: "LIB",
    section: "Polling Last Operation",
    rule: "An operation reaches a final state within the checker's --timeout (or the plan's " +
      "maximum_polling_duration)."
  },
  /** Probe: `last_operation` of a finished asynchronous deprovision or unbind; 410 or 200 `succeeded`. */
  "lastOperation.gone-after-delete": {
    requirements: ["LO-7"],
    level: "MAY",
    section: "Polling Last Operation: Response (410)",
    rule: "After an asynchronous delete finished, last_operation MAY answer 410 (or 200 succeeded)."
  },
  /**
   * Probe: the same provision repeated once the first finished; any answer but 409 (and 200 where the spec defines
   * it).
   */
  "provision.identical": {
    requirements: ["PRV-4", "ASY-5"],
    level: "MUST",
    section: "Provisioning: Response; Service Broker Errors",
    rule: "An identical repeat of a finished provision is not a conflict: 409 is only for different attributes, " +
      "and where the spec defines the status (200 for an identical repeat) it MUST be used."
  },
  /** Probe: the same provision repeated once a synchronous provision finished; expects 200. */
  "provision.identical-200": {
    requirements: ["PRV-4"],
    level: "SHOULD",
    section: "Provisioning: Response (200)",
    rule: "An identical repeat of a finished synchronous provision SHOULD answer 200."
  },
  /** Probe: a provision to an existing instance id with another plan of the offering; expects 409. */
  "provision.different": {
    requirements: ["PRV", "ASY-5"],
    level: "MUST",
    section: "Provisioning: Response (409)",
    rule: "409 Conflict MUST be returned if an instance with the same id exists with different attributes (the " +
      "checker repeats the provision with another plan of the offering)."
  },
  /**
   * Probe: a provision to an existing instance id with other `parameters` (used when the offering has no other plan
   * to switch to); expects 409 (LIB).
   */
  "provision.different-parameters": {
    requirements: ["PRV-4"],
    level: "LIB",
    section: "Provisioning: Response (409)",
    rule: "A repeat with other `parameters` counts as different (409) when the broker compares parameters, as " +
      "effect-osb does; the spec does not say which attributes make a request identical."
  },
  /**
   * Probe: a provision whose `parameters` break one keyword of the plan's create schema (from the test kit's
   * generator, fixed seed); expects 400.
   */
  "provision.parameters-schema": {
    requirements: ["SCH-5"],
    level: "SHOULD",
    section: "Catalog Management: Schemas; Provisioning: Request",
    rule: "The broker SHOULD validate `parameters` against the schema the plan declares for them; parameters that " +
      "violate it are refused with 400 and a description (the checker sends a provision whose parameters break " +
      "one keyword of the plan's create schema)."
  },
  /**
   * Probe: `GET` of an instance id that was never provisioned; expects 404. Only for offerings with
   * `instances_retrievable`.
   */
  "instance.unknown": {
    requirements: ["GI-1"],
    level: "MUST",
    since: "2.14",
    section: "Fetching an Instance: Response (404)",
    rule: "404 MUST be returned if the instance does not exist or is still being provisioned."
  },
  /**
   * Probe: `GET` of each provisioned instance of an offering with `instances_retrievable`; expects 200 and a body
   * decoded with `Model.FetchInstanceBody`.
   */
  "instance.fetch": {
    requirements: ["GI-1"],
    level: "MUST",
    since: "2.14",
    section: "Fetching an Instance",
    rule: "An offering with instances_retrievable MUST answer the fetch of a provisioned instance with 200 and a " +
      "valid body."
  }
} satisfies Record<string, CheckSpec>
