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
  "catalog.served": {
    requirements: ["CAT-1"],
    level: "MUST",
    section: "Catalog Management: Response",
    rule: "GET /v2/catalog MUST answer 200 with a catalog object holding a `services` array."
  },
  "catalog.valid": {
    requirements: ["VAL-1", "VAL-2", "VAL-4"],
    level: "MUST",
    section: "Catalog Management: Service Offering Object, Service Plan Object, Schemas",
    rule: "Required catalog fields MUST be present and non-empty; offering ids and names and plan ids MUST be " +
      "unique (plan ids across the catalog), plan names unique per offering; `requires` MUST use the spec's " +
      "values; `maintenance_info.version` MUST be SemVer; parameter schemas MUST name `$schema`, MUST NOT use " +
      "remote references and MUST be at most 64 kB."
  },
  "catalog.names": {
    requirements: ["VAL-3"],
    level: "SHOULD",
    section: "Catalog Management: Service Offering Object, Service Plan Object",
    rule: "Offering and plan names are RECOMMENDED to be CLI-friendly (letters, digits, `.` and `-`)."
  },
  /** effect-osb's own catalog suggestions (warnings only). */
  "catalog.suggestions": {
    requirements: ["VAL-2", "SCH-1"],
    level: "LIB",
    section: "Catalog Management: Service Offering Object, Service Plan Object, Schemas",
    rule: "effect-osb's own suggestions for a catalog, which the spec does not require: no plan id equal to an " +
      "offering id, and only `format`s a validator knows in parameter schemas (warnings, never failures)."
  },
  "catalog.etag": {
    requirements: ["CAT-2"],
    level: "MAY",
    since: "2.16",
    section: "Catalog Management: Request (ETag, If-None-Match)",
    rule: "A broker MAY send an ETag on the catalog; a conditional GET with a matching If-None-Match then answers 304."
  },
  "auth.required": {
    requirements: ["AUTH-2"],
    level: "MUST",
    section: "Platform to Service Broker Authentication",
    rule: "When the broker requires authentication, a request without valid credentials MUST answer 401."
  },
  "version.missing": {
    requirements: ["VER-3"],
    level: "MUST",
    since: "2.16",
    section: "API Version Header; Service Broker Errors",
    rule: "A request without X-Broker-API-Version MAY be refused with 400; where the spec defines the status, that " +
      "status MUST be used, so never 412 (412 is for unsupported versions)."
  },
  "version.unsupported": {
    requirements: ["VER-2"],
    level: "MAY",
    section: "API Version Header",
    rule: "A broker MAY refuse a version it does not support with 412 Precondition Failed."
  },
  "identity.echo": {
    requirements: ["RID-2"],
    level: "SHOULD",
    since: "2.15",
    section: "Request Identity",
    rule: "The broker SHOULD return the X-Broker-API-Request-Identity value it received on its response."
  },
  "error.json-object": {
    requirements: ["CT-3", "ERR-1"],
    level: "LIB",
    section: "Service Broker Errors; Content Type",
    rule: "An error answer carries a JSON object body (effect-osb always sends one; clients fail on empty bodies)."
  },
  "error.known-code": {
    requirements: ["ERR-1"],
    level: "LIB",
    section: "Service Broker Errors: Error Codes",
    rule: "A 422 `error` code is one of the spec's codes (AsyncRequired, ConcurrencyError, RequiresApp, " +
      "MaintenanceInfoConflict)."
  },
  "body.non-empty-strings": {
    requirements: ["ERR-1", "LO-4"],
    level: "MUST",
    section: "Service Broker Errors; Polling Last Operation: Body",
    rule: "`error` and `description` in an error body, and `description` in a last_operation body, MUST be " +
      "non-empty strings when present."
  },
  "error.no-update-flags": {
    requirements: ["ERR-1"],
    level: "MUST",
    section: "Service Broker Errors",
    rule: "`instance_usable` and `update_repeatable` MUST NOT be present on errors of a provision."
  },
  "plans.selected": {
    requirements: ["--plan"],
    level: "MUST",
    section: "(the checker's options)",
    rule: "A plan named with --plan, --async-plan, --sync-plan or --requires-app must be in the catalog."
  },

  // --- provision ---------------------------------------------------------------------------------------------------
  "provision.malformed-json": {
    requirements: ["CT-2", "PRV-1"],
    level: "MUST",
    section: "Provisioning: Response",
    rule: "400 Bad Request MUST be returned if the request is malformed (a body that is not JSON)."
  },
  "provision.missing-field": {
    requirements: ["PRV-1"],
    level: "MUST",
    section: "Provisioning: Response",
    rule: "400 Bad Request MUST be returned if the request misses mandatory data (`service_id`)."
  },
  "provision.unknown-plan": {
    requirements: ["PRV-3"],
    level: "LIB",
    section: "Provisioning: Response",
    rule: "An unknown `plan_id` is invalid data, which MAY be refused with 400 (effect-osb does)."
  },
  "provision.maintenance-conflict": {
    requirements: ["PRV-7"],
    level: "MUST",
    since: "2.15",
    section: "Provisioning: Response (422)",
    rule: "A `maintenance_info.version` other than the plan's MUST be refused with 422 and the error code " +
      "MaintenanceInfoConflict."
  },
  "provision.mode": {
    requirements: ["ASY-1", "ASY-3"],
    level: "MUST",
    section: "Synchronous and Asynchronous Operations",
    rule: "A plan declared asynchronous (--async-plan) MUST ask for accepts_incomplete=true with 422 " +
      "AsyncRequired; a plan declared synchronous (--sync-plan) MUST answer 201 without it (the declaration is " +
      "the user's: the spec lets a broker choose per plan)."
  },
  "async.required-code": {
    requirements: ["ASY-1"],
    level: "MUST",
    section: "Asynchronous Operations",
    rule: "A broker that cannot complete a request synchronously and did not get accepts_incomplete=true MUST " +
      "answer 422 with the error code AsyncRequired."
  },
  "async.no-202-without-accepts-incomplete": {
    requirements: ["ASY-1"],
    level: "MUST",
    section: "Asynchronous Operations",
    rule: "A broker MUST NOT answer 202 unless the request had accepts_incomplete=true."
  },
  "provision.created": {
    requirements: ["PRV", "EXT-1"],
    level: "MUST",
    section: "Provisioning: Response",
    rule: "201 Created MUST be returned for an instance provisioned by the request (202 when it runs " +
      "asynchronously); unknown extra fields in the body are ignored."
  },
  "provision.body": {
    requirements: ["PRV"],
    level: "MUST",
    section: "Provisioning: Body",
    rule: "The provision answer MUST be a JSON object with the spec's fields and types (a malformed 201 or 202 " +
      "body is a failure for the platform)."
  },
  "operation.valid": {
    requirements: ["PRV", "LO-3"],
    level: "MUST",
    section: "Provisioning: Body; Updating, Deprovisioning, Binding, Unbinding: Body",
    rule: "An `operation` in a 202 answer MUST be a non-empty string, at most 10,000 characters."
  },
  "repeat.while-running": {
    requirements: ["ASY-4"],
    level: "MUST",
    section: "Provisioning, Updating, Binding: Response (202)",
    rule: "A re-sent request while its operation runs MUST answer 202 with the same `operation`, not 200 or 201."
  },
  "concurrency.code": {
    requirements: ["ASY-6", "ERR-2"],
    level: "MUST",
    section: "Blocking Operations; Fetching an Instance, Deprovisioning: Response (422)",
    rule: "A request refused because another operation runs on the resource MUST answer 422 with the error code " +
      "ConcurrencyError."
  },
  "concurrency.update-during-provision": {
    requirements: ["ASY-6"],
    level: "MAY",
    section: "Blocking Operations",
    rule: "A broker MAY refuse an update while the provision runs (422 ConcurrencyError) or accept it (200/202)."
  },
  "lastOperation.state": {
    requirements: ["LO-4"],
    level: "MUST",
    section: "Polling Last Operation: Response, Body",
    rule: "last_operation of a known operation MUST answer 200 with `state` one of in progress, succeeded, failed."
  },
  "lastOperation.retry-after": {
    requirements: ["LO-5"],
    level: "MAY",
    since: "2.15",
    section: "Polling Last Operation: Response (Retry-After)",
    rule: "An in-progress answer MAY carry Retry-After; a number of seconds is RECOMMENDED over an HTTP date."
  },
  "operation.finishes": {
    requirements: ["LO-4"],
    level: "MUST",
    section: "Polling Last Operation",
    rule: "Polling an operation MUST give valid answers until it reaches a final state."
  },
  "operation.succeeds": {
    requirements: ["LO-4"],
    level: "LIB",
    section: "Polling Last Operation",
    rule: "The checker's operations are valid requests: each is expected to reach `succeeded`."
  },
  "operation.in-time": {
    requirements: ["LO-9"],
    level: "LIB",
    section: "Polling Last Operation",
    rule: "An operation reaches a final state within the checker's --timeout (or the plan's " +
      "maximum_polling_duration)."
  },
  "lastOperation.gone-after-delete": {
    requirements: ["LO-7"],
    level: "MAY",
    section: "Polling Last Operation: Response (410)",
    rule: "After an asynchronous delete finished, last_operation MAY answer 410 (or 200 succeeded)."
  },
  "provision.identical": {
    requirements: ["PRV-4", "ASY-5"],
    level: "MUST",
    section: "Provisioning: Response; Service Broker Errors",
    rule: "An identical repeat of a finished provision is not a conflict: 409 is only for different attributes, " +
      "and where the spec defines the status (200 for an identical repeat) it MUST be used."
  },
  "provision.identical-200": {
    requirements: ["PRV-4"],
    level: "SHOULD",
    section: "Provisioning: Response (200)",
    rule: "An identical repeat of a finished synchronous provision SHOULD answer 200."
  },
  "provision.different": {
    requirements: ["PRV", "ASY-5"],
    level: "MUST",
    section: "Provisioning: Response (409)",
    rule: "409 Conflict MUST be returned if an instance with the same id exists with different attributes (the " +
      "checker repeats the provision with another plan of the offering)."
  },
  "provision.different-parameters": {
    requirements: ["PRV-4"],
    level: "LIB",
    section: "Provisioning: Response (409)",
    rule: "A repeat with other `parameters` counts as different (409) when the broker compares parameters, as " +
      "effect-osb does; the spec does not say which attributes make a request identical."
  },
  "provision.parameters-schema": {
    requirements: ["SCH-5"],
    level: "SHOULD",
    section: "Catalog Management: Schemas; Provisioning: Request",
    rule: "The broker SHOULD validate `parameters` against the schema the plan declares for them; parameters that " +
      "violate it are refused with 400 and a description (the checker sends a provision whose parameters break " +
      "one keyword of the plan's create schema)."
  },
  "instance.unknown": {
    requirements: ["GI-1"],
    level: "MUST",
    since: "2.14",
    section: "Fetching an Instance: Response (404)",
    rule: "404 MUST be returned if the instance does not exist or is still being provisioned."
  },
  "instance.fetch": {
    requirements: ["GI-1"],
    level: "MUST",
    since: "2.14",
    section: "Fetching an Instance",
    rule: "An offering with instances_retrievable MUST answer the fetch of a provisioned instance with 200 and a " +
      "valid body."
  },

  // --- update ------------------------------------------------------------------------------------------------------
  "update.malformed-json": {
    requirements: ["CT-2", "UPD"],
    level: "MUST",
    section: "Updating an Instance: Response",
    rule: "400 Bad Request MUST be returned if the request is malformed (a body that is not JSON)."
  },
  "update.unknown": {
    requirements: ["UPD-5"],
    level: "LIB",
    section: "Updating an Instance: Response",
    rule: "The spec defines no status for a PATCH of an unknown instance; effect-osb answers 404."
  },
  "update.parameters": {
    requirements: ["UPD"],
    level: "MUST",
    section: "Updating an Instance: Response",
    rule: "A parameter-only update (platforms send them whatever plan_updateable says) MUST answer 200 when " +
      "applied or without effect, 202 when it runs asynchronously, or 422 when the change is not supported."
  },
  /** An update with a maintenance_info version other than the plan's. */
  "update.maintenance-conflict": {
    requirements: ["UPD", "UPD-2"],
    level: "MUST",
    since: "2.15",
    section: "Updating a Service Instance: Request (maintenance_info), Response (422)",
    rule: "A `maintenance_info.version` other than the one the catalog gives the instance's plan MUST be refused " +
      "with 422 and the error code MaintenanceInfoConflict (sent to every plan that declares maintenance_info)."
  },
  /** A change to another plan of the offering, where the catalog allows it. */
  "update.plan-change": {
    requirements: ["UPD", "UPD-1", "UPD-2"],
    level: "MUST",
    section: "Updating a Service Instance: Request, Response",
    rule: "Where the catalog makes a plan `plan_updateable` (the plan's value, else the offering's), a change to " +
      "another plan of the offering (with that plan's `maintenance_info`) MUST answer 200 when applied, 202 when it " +
      "runs asynchronously (its operation then succeeds), or 422 when the change is not supported. Where it is " +
      "false, Platforms MUST NOT request a plan change, so the checker sends none."
  },
  /** A refused plan change says why. */
  "update.plan-change-described": {
    requirements: ["UPD"],
    level: "SHOULD",
    section: "Updating a Service Instance",
    rule: "If a particular Service Plan change is not supported, the Service Broker SHOULD return a meaningful error " +
      "message (a 422 with a `description`)."
  },
  "response.json-object": {
    requirements: ["CT-3"],
    level: "MUST",
    section: "Updating, Deprovisioning, Unbinding: Response (200: `{}`)",
    rule: "The 200 answer of an update, deprovision or unbind MUST carry the body the spec gives it (`{}`, or the " +
      "update's fields), never an empty body."
  },

  // --- deprovision, last operation ---------------------------------------------------------------------------------
  "deprovision.missing-ids": {
    requirements: ["DEP-1"],
    level: "MUST",
    section: "Deprovisioning: Request, Response (400)",
    rule: "`service_id` and `plan_id` are required query parameters: without them the answer MUST be 400."
  },
  "deprovision.unknown": {
    requirements: ["OM-1", "DEP"],
    level: "MUST",
    section: "Deprovisioning: Response (410)",
    rule: "410 Gone MUST be returned if the instance does not exist."
  },
  "deprovision.done": {
    requirements: ["DEP"],
    level: "MUST",
    section: "Deprovisioning: Response",
    rule: "A deprovision MUST answer 200 when done synchronously or 202 when it runs asynchronously."
  },
  "deprovision.gone": {
    requirements: ["DEP", "OM-1"],
    level: "MUST",
    section: "Deprovisioning: Response (410)",
    rule: "410 Gone MUST be returned for a DELETE of an instance that no longer exists."
  },
  "lastOperation.unknown": {
    requirements: ["LO-7"],
    level: "MUST",
    since: "2.16",
    section: "Polling Last Operation: Response (404)",
    rule: "404 MUST be returned if the instance or binding being polled does not exist (410 is only for a " +
      "finished asynchronous delete)."
  },

  // --- bindings ----------------------------------------------------------------------------------------------------
  "bind.malformed-json": {
    requirements: ["CT-2", "BND"],
    level: "MUST",
    section: "Binding: Response",
    rule: "400 Bad Request MUST be returned if the request is malformed (a body that is not JSON)."
  },
  /** RequiresApp for a bind without an app, on plans declared with --requires-app. */
  "bind.requires-app": {
    requirements: ["BND-1"],
    level: "MUST",
    section: "Binding: Response (422); Service Broker Errors: Error Codes",
    rule: "A plan that requires an app (declared with --requires-app: the catalog cannot say it) MUST refuse a bind " +
      "without `app_guid` and `bind_resource.app_guid` with 422 and the error code RequiresApp."
  },
  "bind.created": {
    requirements: ["BND"],
    level: "MUST",
    section: "Binding: Response",
    rule: "201 Created MUST be returned for a binding created by the request (202 when it runs asynchronously)."
  },
  "bind.body": {
    requirements: ["BND"],
    level: "MUST",
    section: "Binding: Body",
    rule: "The binding answer MUST be a JSON object with the spec's fields and types (a malformed 201 body is a " +
      "failure for the platform)."
  },
  "bind.async-no-data": {
    requirements: ["BND"],
    level: "MUST",
    section: "Binding: Response (202)",
    rule: "A 202 bind answer MUST NOT carry credentials or other binding data."
  },
  "bind.identical": {
    requirements: ["BND-2", "ASY-5"],
    level: "MUST",
    section: "Binding: Response",
    rule: "An identical repeat of a finished bind is not a conflict: 409 is only for different parameters, and " +
      "where the spec defines the status (200 for an identical repeat) it MUST be used."
  },
  "bind.identical-200": {
    requirements: ["BND-2"],
    level: "SHOULD",
    section: "Binding: Response (200)",
    rule: "An identical repeat of a finished synchronous bind SHOULD answer 200."
  },
  "bind.same-credentials": {
    requirements: ["BND-2"],
    level: "LIB",
    section: "Binding: Response (200)",
    rule: "An identical bind repeat returns the binding it created, with the same credentials."
  },
  "binding.fetch": {
    requirements: ["GB-1"],
    level: "MUST",
    since: "2.14",
    section: "Fetching a Binding",
    rule: "An offering with bindings_retrievable MUST answer the fetch of a created binding with 200 and a valid body."
  },
  "binding.unknown": {
    requirements: ["GB-1"],
    level: "MUST",
    since: "2.14",
    section: "Fetching a Binding: Response (404)",
    rule: "404 MUST be returned if the binding does not exist or is still being created."
  },
  "unbind.missing-ids": {
    requirements: ["UNB-1"],
    level: "MUST",
    section: "Unbinding: Request, Response (400)",
    rule: "`service_id` and `plan_id` are required query parameters: without them the answer MUST be 400."
  },
  "unbind.done": {
    requirements: ["UNB"],
    level: "MUST",
    section: "Unbinding: Response",
    rule: "An unbind MUST answer 200 when done synchronously or 202 when it runs asynchronously."
  },
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
