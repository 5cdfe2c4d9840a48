/**
 * The checks of deprovision (E5) and of `last_operation` for an instance that does not exist. Part of the table of
 * checks (`../checks.ts`), in table order.
 *
 * @since 0.2.0
 */
import type { CheckSpec } from "../checks.js"

/** The deprovision group's entries of the table of checks, by name. */
export const deprovisionChecks = {
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
  }
} satisfies Record<string, CheckSpec>
