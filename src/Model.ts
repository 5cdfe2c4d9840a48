/**
 * Every request and response object of the Open Service Broker API v2.17 as an `effect/Schema`.
 *
 * Input schemas ignore unknown fields (EXT-1) and drop `__proto__` keys from user-controlled records, so a
 * decoded value never carries a foreign prototype.
 *
 * @since 0.1.0
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

const opt = <S extends Schema.Schema.All>(schema: S) => Schema.optionalWith(schema, { exact: true })

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
  version: NonEmptyString,
  description: opt(Schema.String)
}).annotations({ identifier: "MaintenanceInfo" })

/**
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
  parameters: opt(JsonObject)
}).annotations({ identifier: "InputParametersSchema" })

/**
 * The JSON schemas of a plan (SCH-1..SCH-4).
 *
 * @since 0.1.0
 * @category schemas
 */
export const Schemas = Schema.Struct({
  service_instance: opt(Schema.Struct({
    create: opt(InputParametersSchema),
    update: opt(InputParametersSchema)
  })),
  service_binding: opt(Schema.Struct({
    create: opt(InputParametersSchema)
  }))
}).annotations({ identifier: "Schemas" })

/**
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
  id: NonEmptyString,
  secret: NonEmptyString,
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
  id: NonEmptyString,
  name: NonEmptyString,
  description: NonEmptyString,
  metadata: opt(JsonObject),
  free: opt(Schema.Boolean),
  bindable: opt(Schema.Boolean),
  binding_rotatable: opt(Schema.Boolean),
  plan_updateable: opt(Schema.Boolean),
  schemas: opt(Schemas),
  maximum_polling_duration: opt(Schema.Int.pipe(Schema.positive())),
  maintenance_info: opt(MaintenanceInfo)
}).annotations({ identifier: "ServicePlan" })

/**
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
  name: NonEmptyString,
  id: NonEmptyString,
  description: NonEmptyString,
  tags: opt(Schema.Array(Schema.String)),
  requires: opt(Schema.Array(Requirement)),
  bindable: Schema.Boolean,
  instances_retrievable: opt(Schema.Boolean),
  bindings_retrievable: opt(Schema.Boolean),
  allow_context_updates: opt(Schema.Boolean),
  metadata: opt(JsonObject),
  dashboard_client: opt(DashboardClient),
  plan_updateable: opt(Schema.Boolean),
  plans: Schema.Array(ServicePlan).pipe(
    Schema.filter(
      (plans): plans is readonly [ServicePlan, ...Array<ServicePlan>] => plans.length > 0,
      { message: () => "must be a non-empty array of plans" }
    )
  )
}).annotations({ identifier: "ServiceOffering" })

/**
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
  services: Schema.Array(ServiceOffering)
}).annotations({ identifier: "Catalog" })

/**
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
  { platform: NonEmptyString },
  Schema.Record({ key: SafeKey, value: JsonValue })
).annotations({ identifier: "Context" })

/**
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
  service_id: NonEmptyString,
  plan_id: NonEmptyString,
  context: opt(RequestContext),
  organization_guid: opt(NonEmptyString),
  space_guid: opt(NonEmptyString),
  parameters: opt(JsonObject),
  maintenance_info: opt(MaintenanceInfo)
}).annotations({ identifier: "ProvisionRequest" })

/**
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
  plan_id: opt(NonEmptyString),
  service_id: opt(NonEmptyString),
  organization_id: opt(NonEmptyString),
  space_id: opt(NonEmptyString),
  maintenance_info: opt(MaintenanceInfo)
}).annotations({ identifier: "PreviousValues" })

/**
 * The body of `PATCH /v2/service_instances/:instance_id` (spec §7.2). `plan_id` is optional.
 *
 * @since 0.1.0
 * @category schemas
 */
export const UpdateRequestBody = Schema.Struct({
  service_id: NonEmptyString,
  plan_id: opt(NonEmptyString),
  parameters: opt(JsonObject),
  context: opt(RequestContext),
  previous_values: opt(PreviousValues),
  maintenance_info: opt(MaintenanceInfo)
}).annotations({ identifier: "UpdateRequest" })

/**
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
  app_guid: opt(NonEmptyString),
  route: opt(NonEmptyString),
  space_guid: opt(NonEmptyString),
  credential_client_id: opt(NonEmptyString),
  app_annotations: opt(StringRecord)
}).annotations({ identifier: "BindResource" })

/**
 * The body of `PUT /v2/service_instances/:instance_id/service_bindings/:binding_id` (spec §9.1).
 *
 * @since 0.1.0
 * @category schemas
 */
export const BindRequestBody = Schema.Struct({
  service_id: NonEmptyString,
  plan_id: NonEmptyString,
  context: opt(RequestContext),
  app_guid: opt(NonEmptyString),
  bind_resource: opt(BindResource),
  parameters: opt(JsonObject),
  predecessor_binding_id: opt(NonEmptyString)
}).annotations({ identifier: "BindRequest" })

/**
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
  labels: opt(JsonObject),
  attributes: opt(JsonObject)
}).annotations({ identifier: "InstanceMetadata" })

/**
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
  dashboard_url: opt(Schema.NullOr(Schema.String)),
  operation: opt(OperationId),
  metadata: opt(InstanceMetadata)
}).annotations({ identifier: "ProvisionResponse" })

/**
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
  operation: opt(OperationId)
}).annotations({ identifier: "AsyncOperationResponse" })

/**
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
  service_id: opt(NonEmptyString),
  plan_id: opt(NonEmptyString),
  dashboard_url: opt(Schema.NullOr(Schema.String)),
  parameters: opt(JsonObject),
  maintenance_info: opt(MaintenanceInfo),
  metadata: opt(InstanceMetadata)
}).annotations({ identifier: "FetchInstanceResponse" })

/**
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
  expires_at: opt(Timestamp),
  renew_before: opt(Timestamp)
}).pipe(
  Schema.filter((metadata) =>
    metadata.expires_at === undefined || metadata.renew_before === undefined ||
    Date.parse(metadata.renew_before) <= Date.parse(metadata.expires_at) ||
    { path: ["renew_before"], message: "renew_before must not be later than expires_at" }
  )
).annotations({ identifier: "BindingMetadata" })

/**
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
  driver: NonEmptyString,
  container_dir: NonEmptyString,
  mode: Schema.Literal("r", "rw"),
  device_type: Schema.Literal("shared"),
  device: Schema.Struct({
    volume_id: NonEmptyString,
    mount_config: opt(JsonObject)
  })
}).annotations({ identifier: "VolumeMount" })

/**
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
  host: NonEmptyString,
  ports: Schema.NonEmptyArray(PortOrRange),
  protocol: opt(Schema.Literal("tcp", "udp", "all"))
}).annotations({ identifier: "Endpoint" })

/**
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
  metadata: opt(BindingMetadata),
  credentials: opt(JsonObject),
  syslog_drain_url: opt(NonEmptyString),
  route_service_url: opt(NonEmptyString),
  volume_mounts: opt(Schema.Array(VolumeMount)),
  endpoints: opt(Schema.Array(Endpoint))
}).annotations({ identifier: "BindingResponse" })

/**
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
  parameters: opt(JsonObject)
}).annotations({ identifier: "FetchBindingResponse" })

/**
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
  state: OperationState,
  description: opt(NonEmptyString),
  instance_usable: opt(Schema.Boolean),
  update_repeatable: opt(Schema.Boolean)
}).annotations({ identifier: "LastOperationResponse" })

/**
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
  error: opt(NonEmptyString),
  description: opt(NonEmptyString),
  instance_usable: opt(Schema.Boolean),
  update_repeatable: opt(Schema.Boolean)
}).annotations({ identifier: "ErrorResponse" })

/**
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
  platform: Schema.Literal("cloudfoundry"),
  value: Schema.Struct({ user_id: NonEmptyString }, Schema.Record({ key: SafeKey, value: JsonValue }))
}).annotations({ identifier: "CloudFoundryIdentity" })

/**
 * The identity value of the `kubernetes` platform (profile §16.1).
 *
 * @since 0.1.0
 * @category schemas
 */
export const KubernetesIdentity = Schema.Struct({
  platform: Schema.Literal("kubernetes"),
  value: Schema.Struct(
    {
      username: Schema.String,
      uid: Schema.String,
      groups: Schema.Array(Schema.String),
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
  platform: NonEmptyString.pipe(
    Schema.pattern(/^[^\s]+$/, { message: () => "must not contain whitespace" }),
    Schema.filter((platform) => platform !== "cloudfoundry" && platform !== "kubernetes")
  ),
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
