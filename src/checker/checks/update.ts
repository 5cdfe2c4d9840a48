/**
 * The checks of update (E4): malformed and unknown, parameters, `maintenance_info`, plan changes, the 200 body.
 * Part of the table of checks (`../checks.ts`), in table order.
 *
 * @since 0.2.0
 */
import type { CheckSpec } from "../checks.js"

/** The update group's entries of the table of checks, by name. */
export const updateChecks = {
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
  }
} satisfies Record<string, CheckSpec>
