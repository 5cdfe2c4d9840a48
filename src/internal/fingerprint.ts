/**
 * What makes a provision "identical" (decision 23), as canonical JSON of its attributes. Built directly in sorted key
 * order (only the parameters need sorting), equal to `canonicalJson` of the same object, and flat (`join`).
 *
 * @internal
 */
import type { JsonObject } from "../Model.js"
import { canonicalJson } from "./keyedLock.js"

/** @internal */
export const provisionFingerprint = (
  serviceId: string,
  planId: string,
  parameters: JsonObject,
  organizationGuid: string | undefined,
  spaceGuid: string | undefined
): string =>
  [
    "{\"organization_guid\":",
    JSON.stringify(organizationGuid ?? null),
    ",\"parameters\":",
    canonicalJson(parameters),
    ",\"plan_id\":",
    JSON.stringify(planId),
    ",\"service_id\":",
    JSON.stringify(serviceId),
    ",\"space_guid\":",
    JSON.stringify(spaceGuid ?? null),
    "}"
  ].join("")
