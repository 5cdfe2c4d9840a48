/**
 * Every request and response object of the Open Service Broker API v2.17 as an `effect/Schema`.
 *
 * Input schemas ignore unknown fields (EXT-1) and drop `__proto__` keys from user-controlled records, so a
 * decoded value never carries a foreign prototype.
 *
 * @since 0.1.0
 * @module
 */
import * as Arbitrary from "effect/Arbitrary"
import type * as FastCheck from "effect/FastCheck"
import * as Schema from "effect/Schema"

// -----------------------------------------------------------------------------
// building blocks
// -----------------------------------------------------------------------------

/**
 * A string with at least one character (the spec: "strings, if present, are non-empty").
 *
 * @since 0.1.0
 * @category schemas
 */
export const NonEmptyString = Schema.String.pipe(
  Schema.minLength(1, { message: () => "must be a non-empty string" })
).annotations({ identifier: "NonEmptyString" })

const jsonSafe = (value: unknown): unknown => JSON.parse(JSON.stringify(value) ?? "null")

/**
 * Any JSON value. Its arbitrary yields JSON-clean values only (no `-0`, no `undefined`).
 *
 * @since 0.1.0
 * @category schemas
 */
export const JsonValue: Schema.Schema<unknown> = Schema.Unknown.annotations({
  identifier: "JsonValue",
  arbitrary: () => (fc) => fc.jsonValue({ maxDepth: 2 }).map(jsonSafe)
})

/**
 * A record key that is not `__proto__`. Keys failing it are dropped when a record is decoded.
 *
 * @since 0.1.0
 * @category schemas
 */
export const SafeKey = Schema.String.pipe(
  Schema.filter((key) => key !== "__proto__", { message: () => "the key __proto__ is not allowed" })
).annotations({
  identifier: "SafeKey",
  arbitrary: () => (fc) => fc.string({ maxLength: 12 }).filter((key) => key !== "__proto__")
})

/**
 * A JSON object with arbitrary values whose keys are safe to copy (`parameters`, `credentials`, ...).
 *
 * @since 0.1.0
 * @category schemas
 */
export const JsonObject = Schema.Record({ key: SafeKey, value: JsonValue }).annotations({
  identifier: "JsonObject",
  message: () => "must be a JSON object"
})

/**
 * A decoded `JsonObject`: string keys (never `__proto__`) to any JSON values.
 *
 * @since 0.1.0
 * @category models
 */
export type JsonObject = typeof JsonObject.Type

/**
 * A JSON object of string values (metadata labels, annotations).
 *
 * @since 0.1.0
 * @category schemas
 */
export const StringRecord = Schema.Record({ key: SafeKey, value: Schema.String }).annotations({
  identifier: "StringRecord",
  message: () => "must be a JSON object"
})

const opt = <S extends Schema.Schema.All>(schema: S) =>
  Schema.optionalWith(schema, {
    /** The key may be absent, but when present its value must match: an explicit `undefined` is rejected. */
    exact: true
  })

// -----------------------------------------------------------------------------
// catalog
// -----------------------------------------------------------------------------

/**
 * `maintenance_info` of a plan or a request. Only `version` is compared (PRV-7).
 *
 * @since 0.1.0
 * @category schemas
 */
export const MaintenanceInfo = Schema.Struct({
  /**
   * The maintenance version, a SemVer 2.0 string such as `2.1.1+abcdef` (VAL-4). It is the only field compared: a
   * request whose `version` differs from the plan's gets 422 `MaintenanceInfoConflict` (PRV-7).
   */
  version: NonEmptyString,
  /**
   * Text for people explaining what moving to this version changes; the spec says it SHOULD describe the impact.
   * Never compared.
   */
  description: opt(Schema.String)
}).annotations({ identifier: "MaintenanceInfo" })

/**
 * A decoded `maintenance_info`: the `version` compared with the plan's, and its description.
 *
 * @since 0.1.0
 * @category models
 */
export type MaintenanceInfo = typeof MaintenanceInfo.Type

/**
 * A JSON schema object with a `parameters` key, as used in a plan's `schemas`.
 *
 * @since 0.1.0
 * @category schemas
 */
export const InputParametersSchema = Schema.Struct({
  /**
   * The JSON Schema the request's `parameters` must match. It MUST name its draft in `$schema` (SCH-1), MUST NOT use
   * remote `$ref` (SCH-2) and MUST stay under 64 kB (SCH-3).
   */
  parameters: opt(JsonObject)
}).annotations({ identifier: "InputParametersSchema" })

/**
 * The JSON schemas of a plan (SCH-1..SCH-4).
 *
 * @since 0.1.0
 * @category schemas
 */
export const Schemas = Schema.Struct({
  /** Schemas for the instance endpoints: provision (`PUT /v2/service_instances/:id`) and update (`PATCH`). */
  service_instance: opt(Schema.Struct({
    /** Validates the `parameters` of a provision request. */
    create: opt(InputParametersSchema),
    /** Validates the `parameters` of an update request. */
    update: opt(InputParametersSchema)
  })),
  /** Schemas for the binding endpoints; only meaningful when the plan is bindable (SCH-4). */
  service_binding: opt(Schema.Struct({
    /** Validates the `parameters` of a bind request. */
    create: opt(InputParametersSchema)
  }))
}).annotations({ identifier: "Schemas" })

/**
 * A plan's decoded `schemas`: JSON schemas for the parameters of provision, update and bind.
 *
 * @since 0.1.0
 * @category models
 */
export type Schemas = typeof Schemas.Type

/**
 * Cloud Foundry's `dashboard_client` of an offering.
 *
 * @since 0.1.0
 * @category schemas
 */
export const DashboardClient = Schema.Struct({
  /** The OAuth client id the platform registers for the dashboard's single sign-on. */
  id: NonEmptyString,
  /** The OAuth client secret that goes with `id`. */
  secret: NonEmptyString,
  /** The URL the single sign-on flow may redirect back to (a Cloud Foundry profile field). */
  redirect_uri: opt(Schema.String)
}).annotations({ identifier: "DashboardClient" })

/**
 * The values allowed in an offering's `requires`.
 *
 * @since 0.1.0
 * @category schemas
 */
export const Requirement = Schema.Literal("syslog_drain", "route_forwarding", "volume_mount").annotations({
  message: () => ({ message: "must be one of syslog_drain, route_forwarding, volume_mount", override: true })
})

/**
 * One value of an offering's `requires`: `syslog_drain`, `route_forwarding` or `volume_mount`.
 *
 * @since 0.1.0
 * @category models
 */
export type Requirement = typeof Requirement.Type

/**
 * A service plan (spec §4.2).
 *
 * @since 0.1.0
 * @category schemas
 */
export const ServicePlan = Schema.Struct({
  /**
   * The plan's id. Unique across the whole catalog, not only its offering (VAL-2), and never changed once published
   * (CAT-3): platforms match plans only by id.
   */
  id: NonEmptyString,
  /**
   * The plan's name as users type it, unique within its offering (VAL-2); `^[A-Za-z0-9.-]+$` is RECOMMENDED (VAL-3).
   */
  name: NonEmptyString,
  /** A short non-empty description shown to users. */
  description: NonEmptyString,
  /**
   * Opaque data for the platform's marketplace. Conventional keys are `displayName`, `bullets` and `costs` (profile
   * §16.5).
   */
  metadata: opt(JsonObject),
  /** Whether the plan costs nothing. Absent means `true` (VAL-6). */
  free: opt(Schema.Boolean),
  /** Overrides the offering's `bindable` for this plan. Absent means the offering's value applies (VAL-6). */
  bindable: opt(Schema.Boolean),
  /**
   * Whether a binding of this plan may be rotated with `predecessor_binding_id` (2.17, ROT-1). Absent means `false`.
   */
  binding_rotatable: opt(Schema.Boolean),
  /**
   * Overrides the offering's `plan_updateable` for this plan (2.15). Absent means the offering's value, then `false`
   * (VAL-6).
   */
  plan_updateable: opt(Schema.Boolean),
  /** JSON schemas for the `parameters` of provision, update and bind requests on this plan (§4.3). */
  schemas: opt(Schemas),
  /**
   * How long, in whole seconds, the platform keeps polling `last_operation` before it treats an operation as failed
   * (2.15, LO-9). Must be a positive integer.
   */
  maximum_polling_duration: opt(Schema.Int.pipe(Schema.positive())),
  /**
   * The maintenance version instances of this plan should run. Requests carrying a different `version` get 422
   * `MaintenanceInfoConflict` (PRV-7).
   */
  maintenance_info: opt(MaintenanceInfo)
}).annotations({ identifier: "ServicePlan" })

/**
 * A decoded service plan of the catalog (spec §4.2).
 *
 * @since 0.1.0
 * @category models
 */
export type ServicePlan = typeof ServicePlan.Type

/**
 * A service offering (spec §4.1).
 *
 * @since 0.1.0
 * @category schemas
 */
export const ServiceOffering = Schema.Struct({
  /**
   * The offering's name as users type it, unique across the catalog (VAL-2); `^[A-Za-z0-9.-]+$` is RECOMMENDED
   * (VAL-3).
   */
  name: NonEmptyString,
  /**
   * The offering's id, unique across the catalog and never changed once published (CAT-3). Requests name it in
   * `service_id`.
   */
  id: NonEmptyString,
  /** A short non-empty description shown to users. */
  description: NonEmptyString,
  /** Free-form classification such as `mysql` or `relational`, passed to bound applications by some platforms. */
  tags: opt(Schema.Array(Schema.String)),
  /**
   * Platform features the offering needs: `syslog_drain`, `route_forwarding` or `volume_mount`. A bind response may
   * only return `syslog_drain_url`, `route_service_url` or `volume_mounts` when the matching entry is listed here
   * (VAL-5).
   */
  requires: opt(Schema.Array(Requirement)),
  /** Whether instances can be bound by default. Required; a plan's own `bindable` overrides it (VAL-6). */
  bindable: Schema.Boolean,
  /**
   * Whether `GET /v2/service_instances/:id` works for every plan of this offering (2.14, GI-1). Absent means `false`.
   */
  instances_retrievable: opt(Schema.Boolean),
  /**
   * Whether `GET .../service_bindings/:id` works for every bindable plan of this offering (2.14, GB-1). Absent means
   * `false`.
   */
  bindings_retrievable: opt(Schema.Boolean),
  /**
   * Whether the platform may send an update that changes only `context`, e.g. after a rename (2.15, CTX-3). Absent
   * means `false`.
   */
  allow_context_updates: opt(Schema.Boolean),
  /**
   * Opaque data for the platform's marketplace. Conventional keys are `displayName`, `imageUrl`, `longDescription`,
   * `providerDisplayName`, `documentationUrl` and `supportUrl` (profile §16.5).
   */
  metadata: opt(JsonObject),
  /** Cloud Foundry's dashboard single sign-on client; setting it asks the platform to register an OAuth client. */
  dashboard_client: opt(DashboardClient),
  /**
   * Whether instances may change plan by default. Absent means `false`; a plan's own `plan_updateable` overrides it
   * (VAL-6). The spelling is the spec's.
   */
  plan_updateable: opt(Schema.Boolean),
  /** The offering's plans; at least one (VAL-1). */
  plans: Schema.Array(ServicePlan).pipe(
    Schema.filter(
      (plans): plans is readonly [ServicePlan, ...Array<ServicePlan>] => plans.length > 0,
      { message: () => "must be a non-empty array of plans" }
    )
  )
}).annotations({ identifier: "ServiceOffering" })

/**
 * A decoded service offering of the catalog with its plans (spec §4.1).
 *
 * @since 0.1.0
 * @category models
 */
export type ServiceOffering = typeof ServiceOffering.Type

/**
 * The body of `GET /v2/catalog`.
 *
 * @since 0.1.0
 * @category schemas
 */
export const CatalogBody = Schema.Struct({
  /** Every service offering the broker offers. Required; may be empty (CAT-1). */
  services: Schema.Array(ServiceOffering)
}).annotations({ identifier: "Catalog" })

/**
 * A decoded catalog: what `GET /v2/catalog` answers.
 *
 * @since 0.1.0
 * @category models
 */
export type CatalogBody = typeof CatalogBody.Type

// -----------------------------------------------------------------------------
// requests
// -----------------------------------------------------------------------------

/**
 * The `context` object of provision, update and bind requests: always a `platform`, plus any other keys.
 *
 * @since 0.1.0
 * @category schemas
 */
export const RequestContext = Schema.Struct(
  {
    /**
     * The kind of platform that sent the request, such as `cloudfoundry` or `kubernetes`. It matches the platform of
     * the `X-Broker-API-Originating-Identity` header when both are present (CTX-1).
     */
    platform: NonEmptyString
  },
  Schema.Record({ key: SafeKey, value: JsonValue })
).annotations({ identifier: "Context" })

/**
 * A decoded `context`: the `platform` and the platform's other keys.
 *
 * @since 0.1.0
 * @category models
 */
export type RequestContext = typeof RequestContext.Type

/**
 * The body of `PUT /v2/service_instances/:instance_id` (spec §5.1).
 *
 * @since 0.1.0
 * @category schemas
 */
export const ProvisionRequestBody = Schema.Struct({
  /** The `id` of the catalog offering to provision. Required; an unknown id is a 400 (PRV-1, PRV-3). */
  service_id: NonEmptyString,
  /** The `id` of a plan of that offering. Required; a plan of another offering is a 400 (PRV-3). */
  plan_id: NonEmptyString,
  /**
   * Where the instance lives, as the platform describes it (organization, space, namespace...). Opaque to the spec
   * apart from `platform`.
   */
  context: opt(RequestContext),
  /** Cloud Foundry's organization GUID. Deprecated in favour of `context`, so optional here (PRV-2). */
  organization_guid: opt(NonEmptyString),
  /** Cloud Foundry's space GUID. Deprecated in favour of `context`, so optional here (PRV-2). */
  space_guid: opt(NonEmptyString),
  /**
   * Configuration the user passed for the new instance; validated against the plan's
   * `schemas.service_instance.create` when the broker validates parameters (SCH-5).
   */
  parameters: opt(JsonObject),
  /**
   * The maintenance version the platform expects; a `version` other than the plan's is a 422
   * `MaintenanceInfoConflict` (PRV-7).
   */
  maintenance_info: opt(MaintenanceInfo)
}).annotations({ identifier: "ProvisionRequest" })

/**
 * A decoded provision request body.
 *
 * @since 0.1.0
 * @category models
 */
export type ProvisionRequestBody = typeof ProvisionRequestBody.Type

/**
 * `previous_values` of an update request.
 *
 * @since 0.1.0
 * @category schemas
 */
export const PreviousValues = Schema.Struct({
  /** The instance's plan before this update. */
  plan_id: opt(NonEmptyString),
  /** The instance's offering id. Deprecated by the spec; the request's own `service_id` is authoritative. */
  service_id: opt(NonEmptyString),
  /** Cloud Foundry's organization GUID of the instance. Deprecated in favour of `context`. */
  organization_id: opt(NonEmptyString),
  /** Cloud Foundry's space GUID of the instance. Deprecated in favour of `context`. */
  space_id: opt(NonEmptyString),
  /** The maintenance version the instance had before this update. */
  maintenance_info: opt(MaintenanceInfo)
}).annotations({ identifier: "PreviousValues" })

/**
 * The body of `PATCH /v2/service_instances/:instance_id` (spec §7.2). `plan_id` is optional.
 *
 * @since 0.1.0
 * @category schemas
 */
export const UpdateRequestBody = Schema.Struct({
  /** The `id` of the instance's offering. Required (a 400 when missing). */
  service_id: NonEmptyString,
  /**
   * The plan to move to. Absent means the plan stays; a change to a plan whose effective `plan_updateable` is false
   * is refused (UPD-1).
   */
  plan_id: opt(NonEmptyString),
  /**
   * New configuration values, validated against the target plan's `schemas.service_instance.update` when the broker
   * validates parameters (SCH-5).
   */
  parameters: opt(JsonObject),
  /**
   * The instance's context as the platform sees it now. A context-only update needs `allow_context_updates` on the
   * offering (CTX-3).
   */
  context: opt(RequestContext),
  /** What the platform believes the instance had before this update. */
  previous_values: opt(PreviousValues),
  /** The maintenance version to move to, compared with the target plan's (UPD-2, PRV-7). */
  maintenance_info: opt(MaintenanceInfo)
}).annotations({ identifier: "UpdateRequest" })

/**
 * A decoded update request body.
 *
 * @since 0.1.0
 * @category models
 */
export type UpdateRequestBody = typeof UpdateRequestBody.Type

/**
 * `bind_resource` of a bind request, with the Cloud Foundry extras of the profile.
 *
 * @since 0.1.0
 * @category schemas
 */
export const BindResource = Schema.Struct({
  /** The GUID of the application being bound. Absent for service keys. */
  app_guid: opt(NonEmptyString),
  /** The route address for a route-service binding (`requires: route_forwarding`). */
  route: opt(NonEmptyString),
  /** The Cloud Foundry space of the binding (profile §16.4). */
  space_guid: opt(NonEmptyString),
  /**
   * For a service key: the CredHub client that must be granted read access to credentials the broker stores there
   * (2.16, profile §16.4).
   */
  credential_client_id: opt(NonEmptyString),
  /** The bound application's annotations as string key/value pairs (2.16, profile §16.4). */
  app_annotations: opt(StringRecord)
}).annotations({ identifier: "BindResource" })

/**
 * The body of `PUT /v2/service_instances/:instance_id/service_bindings/:binding_id` (spec §9.1).
 *
 * @since 0.1.0
 * @category schemas
 */
export const BindRequestBody = Schema.Struct({
  /** The `id` of the instance's offering. Required; unknown or not matching the instance is a 400. */
  service_id: NonEmptyString,
  /**
   * The `id` of the instance's plan. Required. Binding a plan whose effective `bindable` is false is refused (BND-0).
   */
  plan_id: NonEmptyString,
  /** Where the binding is made, as the platform describes it (2.12). */
  context: opt(RequestContext),
  /** The GUID of the bound application. Deprecated in favour of `bind_resource.app_guid`. */
  app_guid: opt(NonEmptyString),
  /** What the binding is for: an app, a route or a service key. */
  bind_resource: opt(BindResource),
  /**
   * Configuration the user passed for the binding, validated against the plan's `schemas.service_binding.create` when
   * the broker validates parameters (SCH-5).
   */
  parameters: opt(JsonObject),
  /**
   * Asks for a rotation: the new binding replaces this existing binding of the same instance, and both stay valid
   * until each expires or is deleted (2.17, ROT-2, ROT-3). Only on plans with `binding_rotatable: true`.
   */
  predecessor_binding_id: opt(NonEmptyString)
}).annotations({ identifier: "BindRequest" })

/**
 * A decoded bind request body.
 *
 * @since 0.1.0
 * @category models
 */
export type BindRequestBody = typeof BindRequestBody.Type

// -----------------------------------------------------------------------------
// responses
// -----------------------------------------------------------------------------

/**
 * An `operation` value: non-empty and at most 10,000 characters.
 *
 * @since 0.1.0
 * @category schemas
 */
export const OperationId = NonEmptyString.pipe(Schema.maxLength(10_000)).annotations({ identifier: "OperationId" })

/**
 * Instance `metadata`: `labels` (2.16) and `attributes` (2.17).
 *
 * @since 0.1.0
 * @category schemas
 */
export const InstanceMetadata = Schema.Struct({
  /** Key/value pairs the platform shows to users; they do not change platform behaviour (2.16). */
  labels: opt(JsonObject),
  /**
   * Key/value pairs generated by the broker that MAY change platform behaviour; a platform ignores keys it does not
   * know (2.17).
   */
  attributes: opt(JsonObject)
}).annotations({ identifier: "InstanceMetadata" })

/**
 * Decoded instance `metadata`: `labels` and `attributes`.
 *
 * @since 0.1.0
 * @category models
 */
export type InstanceMetadata = typeof InstanceMetadata.Type

/**
 * The body of a 200/201/202 provision response.
 *
 * @since 0.1.0
 * @category schemas
 */
export const ProvisionResponseBody = Schema.Struct({
  /**
   * The URL of a web dashboard for the instance, or `null`. When the broker has one it MUST be in the first response,
   * the 202 included.
   */
  dashboard_url: opt(Schema.NullOr(Schema.String)),
  /**
   * An operation id the platform sends back (percent-encoded) in `last_operation?operation=`; only meaningful on a
   * 202. At most 10,000 characters.
   */
  operation: opt(OperationId),
  /** Labels and attributes of the instance (2.16/2.17). */
  metadata: opt(InstanceMetadata)
}).annotations({ identifier: "ProvisionResponse" })

/**
 * A provision answer's body: `dashboard_url`, `operation`, `metadata`.
 *
 * @since 0.1.0
 * @category models
 */
export type ProvisionResponseBody = typeof ProvisionResponseBody.Type

/**
 * The body of a 200/202 update response.
 *
 * @since 0.1.0
 * @category schemas
 */
export const UpdateResponseBody = ProvisionResponseBody.annotations({ identifier: "UpdateResponse" })

/**
 * An update answer's body: the same fields as a provision answer's.
 *
 * @since 0.1.0
 * @category models
 */
export type UpdateResponseBody = typeof UpdateResponseBody.Type

/**
 * The body of a 202 deprovision, unbind or async bind response.
 *
 * @since 0.1.0
 * @category schemas
 */
export const AsyncOperationBody = Schema.Struct({
  /**
   * An operation id the platform sends back (percent-encoded) in `last_operation?operation=`. At most 10,000
   * characters.
   */
  operation: opt(OperationId)
}).annotations({ identifier: "AsyncOperationResponse" })

/**
 * The body of a 202 deprovision, unbind or bind, or of a 200 deprovision or unbind: at most an `operation`.
 *
 * @since 0.1.0
 * @category models
 */
export type AsyncOperationBody = typeof AsyncOperationBody.Type

/**
 * The body of `GET /v2/service_instances/:instance_id` (spec §6.1).
 *
 * @since 0.1.0
 * @category schemas
 */
export const FetchInstanceBody = Schema.Struct({
  /** The instance's offering id. */
  service_id: opt(NonEmptyString),
  /** The instance's current plan id. */
  plan_id: opt(NonEmptyString),
  /** The URL of the instance's dashboard, or `null`. */
  dashboard_url: opt(Schema.NullOr(Schema.String)),
  /** The configuration the instance runs with. The broker MAY leave out secrets. */
  parameters: opt(JsonObject),
  /** The maintenance version the instance runs. */
  maintenance_info: opt(MaintenanceInfo),
  /** Labels and attributes of the instance (2.16/2.17). */
  metadata: opt(InstanceMetadata)
}).annotations({ identifier: "FetchInstanceResponse" })

/**
 * The body of `GET /v2/service_instances/:instance_id`.
 *
 * @since 0.1.0
 * @category models
 */
export type FetchInstanceBody = typeof FetchInstanceBody.Type

/**
 * A timestamp in the form `yyyy-mm-ddThh:mm:ss.sZ` (binding `expires_at`, `renew_before`).
 *
 * @since 0.1.0
 * @category schemas
 */
export const Timestamp = Schema.String.pipe(
  Schema.pattern(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/, {
    message: () => "must be an ISO 8601 UTC timestamp such as 2026-01-02T03:04:05.000Z"
  })
).annotations({
  identifier: "Timestamp",
  arbitrary: () => (fc) =>
    fc.date({
      min: new Date("2000-01-01T00:00:00.000Z"),
      max: new Date("2200-01-01T00:00:00.000Z"),
      noInvalidDate: true
    })
      .map((date) => date.toISOString())
})

/**
 * Binding `metadata` (2.16/2.17). `renew_before` must not be after `expires_at`.
 *
 * @since 0.1.0
 * @category schemas
 */
export const BindingMetadata = Schema.Struct({
  /** When the binding's credentials stop working, as `yyyy-mm-ddThh:mm:ss.sZ` in UTC (2.16). */
  expires_at: opt(Timestamp),
  /**
   * When the platform should rotate or renew the binding, as `yyyy-mm-ddThh:mm:ss.sZ` in UTC; MUST NOT be later than
   * `expires_at` (2.17).
   */
  renew_before: opt(Timestamp)
}).pipe(
  Schema.filter((metadata) =>
    metadata.expires_at === undefined || metadata.renew_before === undefined ||
    Date.parse(metadata.renew_before) <= Date.parse(metadata.expires_at) ||
    { path: ["renew_before"], message: "renew_before must not be later than expires_at" }
  )
).annotations({ identifier: "BindingMetadata" })

/**
 * Decoded binding `metadata`: `expires_at` and `renew_before`.
 *
 * @since 0.1.0
 * @category models
 */
export type BindingMetadata = typeof BindingMetadata.Type

/**
 * A volume mount of a binding (spec §9.3).
 *
 * @since 0.1.0
 * @category schemas
 */
export const VolumeMount = Schema.Struct({
  /** The volume driver that mounts the volume on the application's host. */
  driver: NonEmptyString,
  /** The absolute path inside the application container where the volume appears. */
  container_dir: NonEmptyString,
  /** `r` for read-only, `rw` for read-write. */
  mode: Schema.Literal("r", "rw"),
  /** The kind of device; the spec defines only `shared` (one volume shared by every instance of the app). */
  device_type: Schema.Literal("shared"),
  /** The device to mount, as the driver understands it. */
  device: Schema.Struct({
    /** The id of the volume, unique per driver. */
    volume_id: NonEmptyString,
    /** Driver-specific mount options. */
    mount_config: opt(JsonObject)
  })
}).annotations({ identifier: "VolumeMount" })

/**
 * One decoded volume mount of a binding.
 *
 * @since 0.1.0
 * @category models
 */
export type VolumeMount = typeof VolumeMount.Type

/**
 * A port (`"443"`) or a port range (`"9000-9010"`).
 *
 * @since 0.1.0
 * @category schemas
 */
export const PortOrRange = Schema.String.pipe(
  Schema.pattern(/^\d{1,5}(-\d{1,5})?$/, { message: () => "must be a port such as \"443\" or a range \"9000-9010\"" })
).annotations({
  identifier: "PortOrRange",
  arbitrary: () => (fc) =>
    fc.oneof(
      fc.integer({ min: 1, max: 65535 }).map(String),
      fc.tuple(fc.integer({ min: 1, max: 30000 }), fc.integer({ min: 0, max: 30000 })).map(([a, b]) => `${a}-${a + b}`)
    )
})

/**
 * A network endpoint of a binding (2.15).
 *
 * @since 0.1.0
 * @category schemas
 */
export const Endpoint = Schema.Struct({
  /** A host name or IP address the bound application connects to. */
  host: NonEmptyString,
  /** The ports on `host`, each a port (`"443"`) or an inclusive range (`"9000-9010"`); at least one. */
  ports: Schema.NonEmptyArray(PortOrRange),
  /** The transport: `tcp`, `udp` or `all`. Absent means `tcp`. */
  protocol: opt(Schema.Literal("tcp", "udp", "all"))
}).annotations({ identifier: "Endpoint" })

/**
 * One decoded network endpoint of a binding: host, ports and protocol.
 *
 * @since 0.1.0
 * @category models
 */
export type Endpoint = typeof Endpoint.Type

/**
 * The body of a 200/201 bind response (spec §9.3).
 *
 * @since 0.1.0
 * @category schemas
 */
export const BindingResponseBody = Schema.Struct({
  /** When the binding expires and when it should be renewed (2.16/2.17). */
  metadata: opt(BindingMetadata),
  /**
   * What the bound application needs to use the instance (URLs, user names, passwords...). MUST be returned if the
   * broker generates credentials.
   */
  credentials: opt(JsonObject),
  /**
   * Where the platform sends the application's logs. Only allowed when the offering `requires` `syslog_drain`
   * (VAL-5).
   */
  syslog_drain_url: opt(NonEmptyString),
  /**
   * The URL of the route service that proxies the bound route. Only allowed when the offering `requires`
   * `route_forwarding` (VAL-5).
   */
  route_service_url: opt(NonEmptyString),
  /** Volumes to mount into the application. Only allowed when the offering `requires` `volume_mount` (VAL-5). */
  volume_mounts: opt(Schema.Array(VolumeMount)),
  /** Every network endpoint the application needs, so platforms can open firewalls (2.15, BND-5). */
  endpoints: opt(Schema.Array(Endpoint))
}).annotations({ identifier: "BindingResponse" })

/**
 * A bind answer's body: credentials and the other binding data.
 *
 * @since 0.1.0
 * @category models
 */
export type BindingResponseBody = typeof BindingResponseBody.Type

/**
 * The body of `GET .../service_bindings/:binding_id` (spec §10): a binding response plus `parameters`.
 *
 * @since 0.1.0
 * @category schemas
 */
export const FetchBindingBody = Schema.Struct({
  ...BindingResponseBody.fields,
  /** The configuration the binding was created with. The broker MAY leave out secrets. */
  parameters: opt(JsonObject)
}).annotations({ identifier: "FetchBindingResponse" })

/**
 * The body of `GET .../service_bindings/:binding_id`: the binding data and its `parameters`.
 *
 * @since 0.1.0
 * @category models
 */
export type FetchBindingBody = typeof FetchBindingBody.Type

/**
 * The state of an operation.
 *
 * @since 0.1.0
 * @category schemas
 */
export const OperationState = Schema.Literal("in progress", "succeeded", "failed")

/**
 * The `state` of an operation: `in progress`, `succeeded` or `failed`.
 *
 * @since 0.1.0
 * @category models
 */
export type OperationState = typeof OperationState.Type

/**
 * The body of a `last_operation` response (spec §12.2).
 *
 * @since 0.1.0
 * @category schemas
 */
export const LastOperationBody = Schema.Struct({
  /**
   * `in progress` while the platform should keep polling; `succeeded` or `failed` once the operation is over (LO-4).
   */
  state: OperationState,
  /** Text for the user about the operation's progress or outcome. */
  description: opt(NonEmptyString),
  /**
   * After a failed update or deprovision only: whether the instance still works. Absent means `true` (UPD-4, DEP-5).
   */
  instance_usable: opt(Schema.Boolean),
  /** After a failed update only: whether repeating the same update may succeed. Absent means `true` (UPD-4). */
  update_repeatable: opt(Schema.Boolean)
}).annotations({ identifier: "LastOperationResponse" })

/**
 * A `last_operation` answer's body.
 *
 * @since 0.1.0
 * @category models
 */
export type LastOperationBody = typeof LastOperationBody.Type

/**
 * The body of an error response (spec §3).
 *
 * @since 0.1.0
 * @category schemas
 */
export const ErrorBody = Schema.Struct({
  /**
   * A machine-readable error code such as `AsyncRequired`, `ConcurrencyError`, `RequiresApp`,
   * `MaintenanceInfoConflict` (§3).
   */
  error: opt(NonEmptyString),
  /** Text for the user saying what went wrong and how to fix it. */
  description: opt(NonEmptyString),
  /** On a failed update or deprovision only: whether the instance still works. Absent means `true`. */
  instance_usable: opt(Schema.Boolean),
  /** On a failed update only: whether repeating the same update may succeed. Absent means `true`. */
  update_repeatable: opt(Schema.Boolean)
}).annotations({ identifier: "ErrorResponse" })

/**
 * An error answer's body: `error` code, `description`, `instance_usable`, `update_repeatable`.
 *
 * @since 0.1.0
 * @category models
 */
export type ErrorBody = typeof ErrorBody.Type

/**
 * An empty JSON object (`{}`): the body of 200 deprovision/unbind and of 410.
 *
 * @since 0.1.0
 * @category schemas
 */
export const EmptyBody = Schema.Struct({}).annotations({ identifier: "EmptyObject" })

// -----------------------------------------------------------------------------
// originating identity
// -----------------------------------------------------------------------------

/**
 * The identity value of the `cloudfoundry` platform (profile §16.1).
 *
 * @since 0.1.0
 * @category schemas
 */
export const CloudFoundryIdentity = Schema.Struct({
  /** Always `cloudfoundry`. */
  platform: Schema.Literal("cloudfoundry"),
  /** The decoded identity: the `user_id` of the Cloud Foundry user, plus any other keys the platform sends. */
  value: Schema.Struct(
    {
      /** The GUID of the Cloud Foundry user who caused the request. */
      user_id: NonEmptyString
    },
    Schema.Record({ key: SafeKey, value: JsonValue })
  )
}).annotations({ identifier: "CloudFoundryIdentity" })

/**
 * The identity value of the `kubernetes` platform (profile §16.1).
 *
 * @since 0.1.0
 * @category schemas
 */
export const KubernetesIdentity = Schema.Struct({
  /** Always `kubernetes`. */
  platform: Schema.Literal("kubernetes"),
  /** The decoded identity, as Kubernetes' `UserInfo`, plus any other keys the platform sends. */
  value: Schema.Struct(
    {
      /** The Kubernetes user name of the person who caused the request. */
      username: Schema.String,
      /** The Kubernetes user's uid. */
      uid: Schema.String,
      /** The groups the user belongs to. */
      groups: Schema.Array(Schema.String),
      /** Any further attributes the authenticator provided, each a list of strings. */
      extra: Schema.Record({ key: SafeKey, value: Schema.Array(Schema.String) })
    },
    Schema.Record({ key: SafeKey, value: JsonValue })
  )
}).annotations({ identifier: "KubernetesIdentity" })

/**
 * The identity of any other platform: its name and a JSON object.
 *
 * @since 0.1.0
 * @category schemas
 */
export const OtherIdentity = Schema.Struct({
  /** The platform name from the header: non-empty, no white space, neither `cloudfoundry` nor `kubernetes`. */
  platform: NonEmptyString.pipe(
    Schema.pattern(/^[^\s]+$/, { message: () => "must not contain whitespace" }),
    Schema.filter((platform) => platform !== "cloudfoundry" && platform !== "kubernetes")
  ),
  /** The decoded identity object. */
  value: JsonObject
}).annotations({ identifier: "OtherIdentity" })

/**
 * A decoded `X-Broker-API-Originating-Identity` header.
 *
 * @since 0.1.0
 * @category schemas
 */
export const OriginatingIdentity = Schema.Union(CloudFoundryIdentity, KubernetesIdentity, OtherIdentity)
  .annotations({ identifier: "OriginatingIdentity" })

/**
 * A decoded originating identity: Cloud Foundry's, Kubernetes' or another platform's.
 *
 * @since 0.1.0
 * @category models
 */
export type OriginatingIdentity = typeof OriginatingIdentity.Type

/**
 * An arbitrary for any schema of this module.
 *
 * @since 0.1.0
 * @category arbitraries
 */
export const arbitrary = <A, I>(schema: Schema.Schema<A, I>): FastCheck.Arbitrary<A> => Arbitrary.make(schema)
