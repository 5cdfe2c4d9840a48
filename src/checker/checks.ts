/**
 * The table of the checker's checks: every check has a name, the requirement IDs of the OSB checklist it
 * covers (docs/checks.md), a level taken from the spec's keyword, the API version that introduced the rule, the
 * spec section it comes from and the rule in our words. The level decides what a miss is: MUST / MUST NOT -> a
 * failure; SHOULD, MAY and the library's own choices (LIB) -> a warning (a failure only with `strict`).
 *
 * @since 0.2.0
 */

/**
 * A requirement ID of the OSB v2.17 checklist (docs/checks.md lists them with the checks that cover them).
 * `--plan` names the checker's own option check.
 *
 * @since 0.2.0
 * @category models
 */
export type Requirement =
  | "CAT-1"
  | "CAT-2"
  | "VAL-1"
  | "VAL-2"
  | "VAL-3"
  | "VAL-4"
  | "AUTH-2"
  | "VER-2"
  | "VER-3"
  | "RID-2"
  | "CT-2"
  | "CT-3"
  | "ERR-1"
  | "ERR-2"
  | "EXT-1"
  | "PRV"
  | "PRV-1"
  | "PRV-3"
  | "PRV-4"
  | "PRV-7"
  | "SCH-1"
  | "SCH-5"
  | "ASY-1"
  | "ASY-3"
  | "ASY-4"
  | "ASY-5"
  | "ASY-6"
  | "GI-1"
  | "UPD"
  | "UPD-1"
  | "UPD-2"
  | "UPD-5"
  | "DEP"
  | "DEP-1"
  | "OM-1"
  | "LO-3"
  | "LO-4"
  | "LO-5"
  | "LO-7"
  | "LO-9"
  | "BND"
  | "BND-1"
  | "BND-2"
  | "GB-1"
  | "UNB"
  | "UNB-1"
  | "--plan"

/**
 * How binding a rule is, from the spec's keyword: `MUST` (MUST / MUST NOT), `SHOULD` (SHOULD / RECOMMENDED),
 * `MAY`, or `LIB` (the spec leaves the choice to the broker; what effect-osb does).
 *
 * @since 0.2.0
 * @category models
 */
export type Level = "MUST" | "SHOULD" | "MAY" | "LIB"

/**
 * An OSB API version the checker knows (`--api-version`); a check whose rule came with a newer version than the
 * one checked is skipped.
 *
 * @since 0.2.0
 * @category models
 */
export type ApiVersion = "2.13" | "2.14" | "2.15" | "2.16" | "2.17"

/**
 * The API versions in order.
 *
 * @since 0.2.0
 * @category constants
 */
export const apiVersions: ReadonlyArray<ApiVersion> = ["2.13", "2.14", "2.15", "2.16", "2.17"]

/**
 * One check of the table.
 *
 * @since 0.2.0
 * @category models
 */
export interface CheckSpec {
  /** The requirement IDs the check covers. */
  readonly requirements: ReadonlyArray<Requirement>
  /** The level of the rule, from the spec's keyword. */
  readonly level: Level
  /** The API version that introduced the rule (none: every version from 2.13). */
  readonly since?: ApiVersion
  /** Where the rule is in the spec (section of spec.md, v2.17). */
  readonly section: string
  /** The rule, in our words, with the spec's keyword. */
  readonly rule: string
}

const spec = <const T extends Record<string, CheckSpec>>(table: T): { readonly [K in keyof T]: CheckSpec } => table

/**
 * Every check, by name.
 *
 * @since 0.2.0
 * @category constants
 */
export const checks = spec({
  // --- catalog, headers ------------------------------------------------------------------------------------------
  /** Probe: `GET /v2/catalog` with the given credentials; expects 200 and a JSON object with a `services` array. */
  "catalog.served": {
    requirements: ["CAT-1"],
    level: "MUST",
    section: "Catalog Management: Response",
    rule: "GET /v2/catalog MUST answer 200 with a catalog object holding a `services` array."
  },
  /** Probe: the fetched catalog is validated as `Catalog.validate` does; one failure per problem, with its path. */
  "catalog.valid": {
    requirements: ["VAL-1", "VAL-2", "VAL-4"],
    level: "MUST",
    section: "Catalog Management: Service Offering Object, Service Plan Object, Schemas",
    rule: "Required catalog fields MUST be present and non-empty; offering ids and names and plan ids MUST be " +
      "unique (plan ids across the catalog), plan names unique per offering; `requires` MUST use the spec's " +
      "values; `maintenance_info.version` MUST be SemVer; parameter schemas MUST name `$schema`, MUST NOT use " +
      "remote references and MUST be at most 64 kB."
  },
  /** Probe: the offering and plan names of the fetched catalog; one warning per name that is not CLI-friendly. */
  "catalog.names": {
    requirements: ["VAL-3"],
    level: "SHOULD",
    section: "Catalog Management: Service Offering Object, Service Plan Object",
    rule: "Offering and plan names are RECOMMENDED to be CLI-friendly (letters, digits, `.` and `-`)."
  },
  /** Probe: the fetched catalog's warnings other than names (a plan id equal to an offering id, unknown `format`s). */
  "catalog.suggestions": {
    requirements: ["VAL-2", "SCH-1"],
    level: "LIB",
    section: "Catalog Management: Service Offering Object, Service Plan Object, Schemas",
    rule: "effect-osb's own suggestions for a catalog, which the spec does not require: no plan id equal to an " +
      "offering id, and only `format`s a validator knows in parameter schemas (warnings, never failures)."
  },
  /**
   * Probe: when the catalog answer has an `ETag`, the checker repeats the GET with `If-None-Match` and expects 304.
   */
  "catalog.etag": {
    requirements: ["CAT-2"],
    level: "MAY",
    since: "2.16",
    section: "Catalog Management: Request (ETag, If-None-Match)",
    rule: "A broker MAY send an ETag on the catalog; a conditional GET with a matching If-None-Match then answers 304."
  },
  /**
   * Probe: every endpoint without `Authorization`, and the catalog with a wrong password; expects 401. Skipped
   * without `--username`/`--password`.
   */
  "auth.required": {
    requirements: ["AUTH-2"],
    level: "MUST",
    section: "Platform to Service Broker Authentication",
    rule: "When the broker requires authentication, a request without valid credentials MUST answer 401."
  },
  /** Probe: `GET /v2/catalog` without `X-Broker-API-Version`; expects 400 or a normal answer, never 412. */
  "version.missing": {
    requirements: ["VER-3"],
    level: "MUST",
    since: "2.16",
    section: "API Version Header; Service Broker Errors",
    rule: "A request without X-Broker-API-Version MAY be refused with 400; where the spec defines the status, that " +
      "status MUST be used, so never 412 (412 is for unsupported versions)."
  },
  /** Probe: `GET /v2/catalog` with `X-Broker-API-Version: 1.0`; expects 412. */
  "version.unsupported": {
    requirements: ["VER-2"],
    level: "MAY",
    section: "API Version Header",
    rule: "A broker MAY refuse a version it does not support with 412 Precondition Failed."
  },
  /** Probe: every request sends an `X-Broker-API-Request-Identity`; each answer is expected to carry it back. */
  "identity.echo": {
    requirements: ["RID-2"],
    level: "SHOULD",
    since: "2.15",
    section: "Request Identity",
    rule: "The broker SHOULD return the X-Broker-API-Request-Identity value it received on its response."
  },
  /** Probe: every error answer the checker provokes is expected to have a JSON object body. */
  "error.json-object": {
    requirements: ["CT-3", "ERR-1"],
    level: "LIB",
    section: "Service Broker Errors; Content Type",
    rule: "An error answer carries a JSON object body (effect-osb always sends one; clients fail on empty bodies)."
  },
  /** Probe: every 422 the checker provokes is expected to carry one of the spec's `error` codes. */
  "error.known-code": {
    requirements: ["ERR-1"],
    level: "LIB",
    section: "Service Broker Errors: Error Codes",
    rule: "A 422 `error` code is one of the spec's codes (AsyncRequired, ConcurrencyError, RequiresApp, " +
      "MaintenanceInfoConflict)."
  },
  /**
   * Probe: every error body and `last_operation` body the checker receives; `error` and `description` must not be
   * empty strings.
   */
  "body.non-empty-strings": {
    requirements: ["ERR-1", "LO-4"],
    level: "MUST",
    section: "Service Broker Errors; Polling Last Operation: Body",
    rule: "`error` and `description` in an error body, and `description` in a last_operation body, MUST be " +
      "non-empty strings when present."
  },
  /** Probe: every error answer to a provision; it must not carry `instance_usable` or `update_repeatable`. */
  "error.no-update-flags": {
    requirements: ["ERR-1"],
    level: "MUST",
    section: "Service Broker Errors",
    rule: "`instance_usable` and `update_repeatable` MUST NOT be present on errors of a provision."
  },
  /** Probe: each plan named with `--plan`, `--async-plan` or `--sync-plan` is looked up in the fetched catalog. */
  "plans.selected": {
    requirements: ["--plan"],
    level: "MUST",
    section: "(the checker's options)",
    rule: "A plan named with --plan, --async-plan, --sync-plan or --requires-app must be in the catalog."
  },

  // --- provision ---------------------------------------------------------------------------------------------------
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
  },

  // --- update ------------------------------------------------------------------------------------------------------
  /** Probe: an update whose body is not JSON; expects 400. */
  "update.malformed-json": {
    requirements: ["CT-2", "UPD"],
    level: "MUST",
    section: "Updating an Instance: Response",
    rule: "400 Bad Request MUST be returned if the request is malformed (a body that is not JSON)."
  },
  /** Probe: a `PATCH` of an instance id that was never provisioned; expects 404 (LIB). */
  "update.unknown": {
    requirements: ["UPD-5"],
    level: "LIB",
    section: "Updating an Instance: Response",
    rule: "The spec defines no status for a PATCH of an unknown instance; effect-osb answers 404."
  },
  /** Probe: a parameter-only update of each provisioned instance; expects 200, 202 or 422. */
  "update.parameters": {
    requirements: ["UPD"],
    level: "MUST",
    section: "Updating an Instance: Response",
    rule: "A parameter-only update (platforms send them whatever plan_updateable says) MUST answer 200 when " +
      "applied or without effect, 202 when it runs asynchronously, or 422 when the change is not supported."
  },
  /**
   * Probe: on each plan with maintenance_info, a PATCH with `maintenance_info.version` `<plan's>-effect-osb-check`
   * and accepts_incomplete=true; expects 422 MaintenanceInfoConflict (a 202 is polled to its end); skipped once when
   * no plan declares maintenance_info.
   */
  "update.maintenance-conflict": {
    requirements: ["UPD", "UPD-2"],
    level: "MUST",
    since: "2.15",
    section: "Updating a Service Instance: Request (maintenance_info), Response (422)",
    rule: "A `maintenance_info.version` other than the one the catalog gives the instance's plan MUST be refused " +
      "with 422 and the error code MaintenanceInfoConflict (sent to every plan that declares maintenance_info)."
  },
  /**
   * Probe: on each `plan_updateable` plan, after the bindings, a PATCH to another plan of the offering (its
   * maintenance_info, `previous_values.plan_id`), then back when that plan allows it; expects 200, 202 (polled with
   * the previous plan's ids) or 422; skipped where `plan_updateable` is false or the offering has one plan.
   */
  "update.plan-change": {
    requirements: ["UPD", "UPD-1", "UPD-2"],
    level: "MUST",
    section: "Updating a Service Instance: Request, Response",
    rule: "Where the catalog makes a plan `plan_updateable` (the plan's value, else the offering's), a change to " +
      "another plan of the offering (with that plan's `maintenance_info`) MUST answer 200 when applied, 202 when it " +
      "runs asynchronously (its operation then succeeds), or 422 when the change is not supported. Where it is " +
      "false, Platforms MUST NOT request a plan change, so the checker sends none."
  },
  /** Probe: a plan change answered 422 must carry a non-empty `description`. */
  "update.plan-change-described": {
    requirements: ["UPD"],
    level: "SHOULD",
    section: "Updating a Service Instance",
    rule: "If a particular Service Plan change is not supported, the Service Broker SHOULD return a meaningful error " +
      "message (a 422 with a `description`)."
  },
  /** Probe: the 200 answers of updates, deprovisions and unbinds; each must have a JSON object body. */
  "response.json-object": {
    requirements: ["CT-3"],
    level: "MUST",
    section: "Updating, Deprovisioning, Unbinding: Response (200: `{}`)",
    rule: "The 200 answer of an update, deprovision or unbind MUST carry the body the spec gives it (`{}`, or the " +
      "update's fields), never an empty body."
  },

  // --- deprovision, last operation ---------------------------------------------------------------------------------
  /** Probe: a `DELETE` of a provisioned instance without `service_id` and `plan_id`; expects 400. */
  "deprovision.missing-ids": {
    requirements: ["DEP-1"],
    level: "MUST",
    section: "Deprovisioning: Request, Response (400)",
    rule: "`service_id` and `plan_id` are required query parameters: without them the answer MUST be 400."
  },
  /** Probe: a `DELETE` of an instance id that was never provisioned; expects 410. */
  "deprovision.unknown": {
    requirements: ["OM-1", "DEP"],
    level: "MUST",
    section: "Deprovisioning: Response (410)",
    rule: "410 Gone MUST be returned if the instance does not exist."
  },
  /** Probe: the deprovision of each provisioned instance; expects 200, or 202 when asynchronous. */
  "deprovision.done": {
    requirements: ["DEP"],
    level: "MUST",
    section: "Deprovisioning: Response",
    rule: "A deprovision MUST answer 200 when done synchronously or 202 when it runs asynchronously."
  },
  /** Probe: a second `DELETE` of a deprovisioned instance; expects 410. */
  "deprovision.gone": {
    requirements: ["DEP", "OM-1"],
    level: "MUST",
    section: "Deprovisioning: Response (410)",
    rule: "410 Gone MUST be returned for a DELETE of an instance that no longer exists."
  },
  /** Probe: `last_operation` of an instance and of a binding that never existed; expects 404. */
  "lastOperation.unknown": {
    requirements: ["LO-7"],
    level: "MUST",
    since: "2.16",
    section: "Polling Last Operation: Response (404)",
    rule: "404 MUST be returned if the instance or binding being polled does not exist (410 is only for a " +
      "finished asynchronous delete)."
  },

  // --- bindings ----------------------------------------------------------------------------------------------------
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
})

/**
 * The name of a check.
 *
 * @since 0.2.0
 * @category models
 */
export type CheckId = keyof typeof checks

/**
 * The check names in table order.
 *
 * @since 0.2.0
 * @category constants
 */
export const checkIds = Object.keys(checks) as ReadonlyArray<CheckId>

/**
 * Whether a check applies to an API version.
 *
 * @since 0.2.0
 * @category utils
 */
export const appliesTo = (id: CheckId, version: ApiVersion): boolean => {
  const since: ApiVersion | undefined = (checks[id] as CheckSpec).since
  return since === undefined || apiVersions.indexOf(version) >= apiVersions.indexOf(since)
}
