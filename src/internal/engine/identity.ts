/**
 * Identity: what makes two requests "identical", in one place. A repeated provision, bind or running update is
 * answered as the first one was (200, or 202 with the same operation) when its fingerprint equals the recorded one,
 * and refused (409 / 422) otherwise. A fingerprint is the canonical JSON (keys sorted at every level) of the
 * attributes an offering compares; the defaults follow the README (decision 23), and an offering may say otherwise
 * (`OfferingWork.identical`).
 *
 * @internal
 */
import type { BindResource, JsonObject, MaintenanceInfo, RequestContext } from "../../Model.js"

/**
 * Canonical JSON: object keys sorted at every level, so equal values give equal strings. Built with `join`, so the
 * result is a flat string (kept in records, a rope of concatenations would cost memory for as long as it lives).
 *
 * @internal
 */
export const canonicalJson = (value: unknown): string => {
  if (value === null || typeof value !== "object") return JSON.stringify(value) ?? "null"
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`
  const record = value as Record<string, unknown>
  const keys = Object.keys(record).sort()
  const parts: Array<string> = []
  for (const key of keys) {
    const child = record[key]
    if (child !== undefined) parts.push(`${JSON.stringify(key)}:${canonicalJson(child)}`)
  }
  return `{${parts.join(",")}}`
}

/**
 * The attributes of a provision (or of an instance as it is now, after updates) an identity may compare.
 *
 * @internal
 */
export interface ProvisionAttributes {
  readonly serviceId: string
  readonly planId: string
  /** The parameters (absent = `{}`). */
  readonly parameters: JsonObject
  readonly organizationGuid: string | undefined
  readonly spaceGuid: string | undefined
  readonly context: RequestContext | undefined
  readonly maintenanceInfo: MaintenanceInfo | undefined
}

/**
 * The attributes of a bind an identity may compare.
 *
 * @internal
 */
export interface BindAttributes {
  readonly serviceId: string
  readonly planId: string
  /** The parameters (absent = `{}`). */
  readonly parameters: JsonObject
  /** `bind_resource.app_guid`, else the deprecated `app_guid`. */
  readonly appGuid: string | undefined
  readonly route: string | undefined
  readonly predecessorBindingId: string | undefined
  readonly bindResource: typeof BindResource.Type | undefined
  readonly context: RequestContext | undefined
}

/**
 * The attributes of an update an identity may compare (an update repeated while it runs).
 *
 * @internal
 */
export interface UpdateAttributes {
  readonly serviceId: string
  readonly planId: string | undefined
  readonly parameters: JsonObject | undefined
  readonly maintenanceInfo: MaintenanceInfo | undefined
  readonly context: RequestContext | undefined
}

/**
 * What "identical" means for an offering: per request kind, the value whose canonical JSON is compared. A kind left
 * out keeps the default.
 *
 * @internal
 */
export interface Identical {
  readonly provision?: (attributes: ProvisionAttributes) => unknown
  readonly bind?: (attributes: BindAttributes) => unknown
  readonly update?: (attributes: UpdateAttributes) => unknown
}

/**
 * The default provision identity: `service_id`, `plan_id`, `parameters` (deep-equal, key order ignored),
 * `organization_guid` and `space_guid`.
 *
 * @internal
 */
export const defaultProvision = (a: ProvisionAttributes): { readonly [key: string]: unknown } => ({
  service_id: a.serviceId,
  plan_id: a.planId,
  parameters: a.parameters,
  organization_guid: a.organizationGuid ?? null,
  space_guid: a.spaceGuid ?? null
})

/**
 * The default bind identity: `service_id`, `plan_id`, `parameters`, the app guid, `bind_resource.route` and
 * `predecessor_binding_id`.
 *
 * @internal
 */
export const defaultBind = (a: BindAttributes): { readonly [key: string]: unknown } => ({
  service_id: a.serviceId,
  plan_id: a.planId,
  parameters: a.parameters,
  app_guid: a.appGuid ?? null,
  route: a.route ?? null,
  predecessor_binding_id: a.predecessorBindingId ?? null
})

/**
 * The default identity of a running update: `plan_id`, `parameters`, `maintenance_info.version` and `context`.
 *
 * @internal
 */
export const defaultUpdate = (a: UpdateAttributes): { readonly [key: string]: unknown } => ({
  plan_id: a.planId ?? null,
  parameters: a.parameters ?? null,
  maintenance_info: a.maintenanceInfo?.version ?? null,
  context: a.context ?? null
})

/**
 * The default provision fingerprint, built directly in sorted key order (only the parameters need sorting): the
 * same string as `canonicalJson(defaultProvision(a))` (property test), without building the object.
 *
 * @internal
 */
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

/**
 * The fingerprints of one offering.
 *
 * @internal
 */
export interface Fingerprints {
  readonly provision: (attributes: ProvisionAttributes) => string
  readonly bind: (attributes: BindAttributes) => string
  readonly update: (attributes: UpdateAttributes) => string
}

const defaultProvisionFingerprint = (a: ProvisionAttributes): string =>
  provisionFingerprint(a.serviceId, a.planId, a.parameters, a.organizationGuid, a.spaceGuid)

/**
 * The fingerprints of an offering from what it says "identical" means (defaults where it says nothing).
 *
 * @internal
 */
export const fingerprints = (identical: Identical | undefined): Fingerprints => {
  const provision = identical?.provision
  const bind = identical?.bind ?? defaultBind
  const update = identical?.update ?? defaultUpdate
  return {
    provision: provision === undefined ? defaultProvisionFingerprint : (a) => canonicalJson(provision(a)),
    bind: (a) => canonicalJson(bind(a)),
    update: (a) => canonicalJson(update(a))
  }
}

/**
 * The default fingerprints.
 *
 * @internal
 */
export const defaultFingerprints: Fingerprints = fingerprints(undefined)
