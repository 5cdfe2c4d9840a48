/**
 * The checks of the catalog (E1), the plans named in the options, and the checks every answer gets: authentication,
 * the version header, the request-identity echo and error bodies. Part of the table of checks (`../checks.ts`), in
 * table order.
 *
 * @since 0.2.0
 */
import type { CheckSpec } from "../checks.js"

/** The catalog group's entries of the table of checks, by name. */
export const catalogChecks = {
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
  }
} satisfies Record<string, CheckSpec>
