/**
 * The Open Service Broker protocol (v2.17) as data: every endpoint (method, path template, path and query
 * parameters, request body schema, success statuses with their answer tags and body schemas, the errors a
 * broker may answer) and every error (status, `error` code, body fields, headers).
 *
 * The router's dispatch, the client's requests and decoding, the broker's per-operation error types and the
 * conformance checker's expectations are derived from these two tables. Both are exhaustive records keyed by
 * name and checked with `satisfies`: adding an endpoint or an error fails to compile until every consumer
 * handles it.
 *
 * @since 0.1.0
 * @module
 */
import * as Schema from "effect/Schema"
import {
  AsyncOperationBody,
  BindingResponseBody,
  BindRequestBody,
  CatalogBody,
  FetchBindingBody,
  FetchInstanceBody,
  LastOperationBody,
  ProvisionRequestBody,
  ProvisionResponseBody,
  UpdateRequestBody,
  UpdateResponseBody
} from "./Model.js"
import type { OsbError } from "./OsbError.js"

// -----------------------------------------------------------------------------
// errors
// -----------------------------------------------------------------------------

/**
 * The tag of every OSB error (`OsbError["_tag"]`).
 *
 * @since 0.1.0
 * @category errors
 */
export type ErrorTag = OsbError["_tag"]

/**
 * The optional fields of an error body besides `description` (spec §3).
 *
 * @since 0.1.0
 * @category errors
 */
export type ErrorFlag = "instance_usable" | "update_repeatable"

/**
 * The response headers an error answer carries.
 *
 * @since 0.1.0
 * @category errors
 */
export type ErrorHeader = "www-authenticate" | "allow" | "retry-after"

/**
 * How one error looks on the wire.
 *
 * @since 0.1.0
 * @category errors
 */
export interface ErrorSpec {
  /** The HTTP status. */
  readonly status: number
  /** The body's `error` code, when the spec defines one (it equals the tag). */
  readonly code?: ErrorTag
  /** Whether the body has a `description` (`Gone` answers `{}`). */
  readonly description: boolean
  /** `instance_usable` / `update_repeatable`, where the spec allows them. */
  readonly flags: ReadonlyArray<ErrorFlag>
  /** Headers the answer carries. */
  readonly headers: ReadonlyArray<ErrorHeader>
}

/**
 * THE error table as data: every error tag with its status, code, body fields and headers. `OsbError.errorTable`
 * renders errors from it and `OsbClient` decodes answers with it.
 *
 * @since 0.1.0
 * @category errors
 */
export const errors = {
  /**
   * The request is malformed: a body that is not JSON or breaks its schema, a missing required query parameter,
   * unknown catalog ids (PRV-1, PRV-3).
   */
  BadRequest: { status: 400, description: true, flags: [], headers: [] },
  /** The credentials are missing or wrong (AUTH-2); answered with a `WWW-Authenticate: Basic` challenge. */
  Unauthorized: { status: 401, description: true, flags: [], headers: ["www-authenticate"] },
  /**
   * The instance or binding does not exist (GET, PATCH, bind on an unknown instance, `last_operation` of an unknown
   * resource).
   */
  NotFound: { status: 404, description: true, flags: [], headers: [] },
  /** The path exists but not with this method; the `Allow` header lists the methods it answers. */
  MethodNotAllowed: { status: 405, description: true, flags: [], headers: ["allow"] },
  /** A resource with this id exists, or is being created, with different attributes (ASY-5). */
  Conflict: { status: 409, description: true, flags: [], headers: [] },
  /** The resource to delete does not exist (OM-1), or the polled delete has finished (LO-7). The body is `{}`. */
  Gone: { status: 410, description: false, flags: [], headers: [] },
  /** The `X-Broker-API-Version` is older than the broker needs (VER-2). */
  PreconditionFailed: { status: 412, description: true, flags: [], headers: [] },
  /** The request body is over the server's limit. */
  PayloadTooLarge: { status: 413, description: true, flags: [], headers: [] },
  /** The operation can only run asynchronously and the request lacked `accepts_incomplete=true` (ASY-1). */
  AsyncRequired: { status: 422, code: "AsyncRequired", description: true, flags: [], headers: [] },
  /**
   * Another operation on the resource is in progress and the broker refuses to run both (ASY-6); the platform waits
   * and retries, with no orphan mitigation (ERR-2).
   */
  ConcurrencyError: { status: 422, code: "ConcurrencyError", description: true, flags: [], headers: [] },
  /** The bind needs an application and the request has no `app_guid` (BND-1). */
  RequiresApp: { status: 422, code: "RequiresApp", description: true, flags: [], headers: [] },
  /** The request's `maintenance_info.version` differs from the plan's (PRV-7). */
  MaintenanceInfoConflict: {
    status: 422,
    code: "MaintenanceInfoConflict",
    description: true,
    flags: [],
    headers: []
  },
  /**
   * The update is not possible: a plan change the broker does not allow, or one the instance's state forbids (a 422
   * without a code, spec §7.3).
   */
  UpdateNotSupported: {
    status: 422,
    description: true,
    flags: ["instance_usable", "update_repeatable"],
    headers: []
  },
  /** The broker failed; allowed on every operation, without flags. */
  BrokerFailure: { status: 500, description: true, flags: [], headers: [] },
  /** The update failed; `instance_usable` and `update_repeatable` tell the platform what state it left (UPD-4). */
  UpdateFailure: { status: 500, description: true, flags: ["instance_usable", "update_repeatable"], headers: [] },
  /** The deprovision failed; `instance_usable` tells the platform whether the instance still works (DEP-5). */
  DeprovisionFailure: { status: 500, description: true, flags: ["instance_usable"], headers: [] },
  /** The broker cannot take the request now (draining, store unreachable); `Retry-After` says when to try again. */
  ServiceUnavailable: { status: 503, description: true, flags: [], headers: ["retry-after"] }
} as const satisfies ErrorTable

/**
 * The type of the error table: one entry per tag, whose `error` code (if any) is the tag itself.
 *
 * @since 0.1.0
 * @category errors
 */
export type ErrorTable = {
  readonly [K in ErrorTag]: ErrorSpec & {
    /** The body's `error` code: when the error has one, it is the error's own tag. */
    readonly code?: K
  }
}

/**
 * The `error` codes of the spec (§3), derived from {@link errors}.
 *
 * @since 0.1.0
 * @category errors
 */
export type ErrorCode = {
  readonly [K in ErrorTag]: (typeof errors)[K] extends {
    /** The entry's `error` code, when it has one. */
    readonly code: infer C
  } ? C
    : never
}[ErrorTag]

/**
 * The `error` codes of the spec as a list, derived from {@link errors}.
 *
 * @since 0.1.0
 * @category errors
 */
export const errorCodes: ReadonlyArray<ErrorCode> = Object.values(errors).flatMap((spec: ErrorSpec) =>
  spec.code === undefined ? [] : [spec.code as ErrorCode]
)

/**
 * The schema of an `error` code of the spec.
 *
 * @since 0.1.0
 * @category errors
 */
export const ErrorCode: Schema.Schema<ErrorCode> = Schema.Literal(...errorCodes)

/**
 * Every error tag, in table order.
 *
 * @since 0.1.0
 * @category errors
 */
export const errorTags: ReadonlyArray<ErrorTag> = Object.keys(errors) as Array<ErrorTag>

// -----------------------------------------------------------------------------
// paths
// -----------------------------------------------------------------------------

/**
 * The five path templates of the API, by route name.
 *
 * @since 0.1.0
 * @category paths
 */
export const routes = {
  /** `GET /v2/catalog`: the catalog (E1). */
  catalog: "/v2/catalog",
  /** A service instance: provision (PUT), fetch (GET), update (PATCH), deprovision (DELETE). */
  instance: "/v2/service_instances/:instance_id",
  /** The state of the instance's last asynchronous operation (E6). */
  instanceLastOperation: "/v2/service_instances/:instance_id/last_operation",
  /** A service binding: bind (PUT), fetch (GET), unbind (DELETE). */
  binding: "/v2/service_instances/:instance_id/service_bindings/:binding_id",
  /** The state of the binding's last asynchronous operation (E10). */
  bindingLastOperation: "/v2/service_instances/:instance_id/service_bindings/:binding_id/last_operation"
} as const

/**
 * A route name (one path template).
 *
 * @since 0.1.0
 * @category paths
 */
export type RouteName = keyof typeof routes

/**
 * A path parameter.
 *
 * @since 0.1.0
 * @category paths
 */
export type PathParameter = "instance_id" | "binding_id"

/**
 * The path parameters of each route, in path order.
 *
 * @since 0.1.0
 * @category paths
 */
export const routeParameters = {
  /** No path parameters. */
  catalog: [],
  /** The `instance_id` the platform chose. */
  instance: ["instance_id"],
  /** The `instance_id` whose operation is polled. */
  instanceLastOperation: ["instance_id"],
  /** The `instance_id`, then the `binding_id` the platform chose. */
  binding: ["instance_id", "binding_id"],
  /** The `instance_id`, then the `binding_id` whose operation is polled. */
  bindingLastOperation: ["instance_id", "binding_id"]
} as const satisfies { readonly [K in RouteName]: ReadonlyArray<PathParameter> }

// -----------------------------------------------------------------------------
// endpoints
// -----------------------------------------------------------------------------

/**
 * An HTTP method the API uses.
 *
 * @since 0.1.0
 * @category endpoints
 */
export type Method = "GET" | "PUT" | "PATCH" | "DELETE"

/**
 * The query parameters of the API and what their values are: `accepts_incomplete` is `true` or `false`;
 * `service_id`/`plan_id` are catalog ids; `operation` is the broker's operation string.
 *
 * @since 0.1.0
 * @category endpoints
 */
export const queryParameters = {
  /** `true` when the platform accepts an asynchronous answer (202); absent or `false` otherwise (ASY-1). */
  accepts_incomplete: "boolean",
  /** A catalog offering id: required on DELETE (DEP-1, UNB-1), an optional hint on GET and `last_operation`. */
  service_id: "id",
  /** A catalog plan id: required on DELETE, an optional hint on GET and `last_operation`. */
  plan_id: "id",
  /** The `operation` string of the 202 being polled, percent-encoded (LO-3). */
  operation: "operation"
} as const

/**
 * A query parameter name.
 *
 * @since 0.1.0
 * @category endpoints
 */
export type QueryParameter = keyof typeof queryParameters

/**
 * The body of a success answer that has none (the catalog's 304).
 *
 * @since 0.1.0
 * @category endpoints
 */
export const NoBody: Schema.Schema<undefined> = Schema.Undefined

/**
 * One success answer of an endpoint: the tag the client gives it and the schema of its body.
 *
 * @since 0.1.0
 * @category endpoints
 */
export interface SuccessSpec {
  /** The tag of the answer in the client's result and the broker's result type (`Created`, `Accepted`, ...). */
  readonly answer: string
  /** The schema the body of this answer must match ({@link NoBody} for an answer without one). */
  readonly body: Schema.Schema.AnyNoContext
}

/**
 * One endpoint.
 *
 * @since 0.1.0
 * @category endpoints
 */
export interface EndpointSpec {
  /** The endpoint's number in the requirement list (E1..E10). */
  readonly id: string
  /** The HTTP method. */
  readonly method: Method
  /** The path template, by route name (see {@link routes}). */
  readonly route: RouteName
  /** Query parameters: required or optional. */
  readonly query: { readonly [K in keyof typeof queryParameters]?: "required" | "optional" }
  /** The request body's schema, for PUT and PATCH. */
  readonly body?: Schema.Schema.AnyNoContext
  /** Success statuses. */
  readonly successes: { readonly [status: number]: SuccessSpec }
  /** Response headers a success may carry. */
  readonly successHeaders: ReadonlyArray<"retry-after" | "etag">
  /** The errors the broker's operation may fail with (the router adds {@link edgeErrors}). */
  readonly errors: ReadonlyArray<ErrorTag>
}

const hints = {
  /** An optional hint: the offering of the resource, which the broker may use to find it (GI-2). */
  service_id: "optional",
  /** An optional hint: the plan of the resource (for `last_operation` after a plan change, the previous plan). */
  plan_id: "optional"
} as const
const ids = {
  /** Required: the offering of the resource to delete; missing is a 400 (DEP-1, UNB-1). */
  service_id: "required",
  /** Required: the plan of the resource to delete; missing is a 400 (DEP-1, UNB-1). */
  plan_id: "required"
} as const
const async = {
  /** Optional: `true` allows the broker to answer 202 and finish asynchronously (ASY-1). */
  accepts_incomplete: "optional"
} as const
const ok = <S extends Schema.Schema.AnyNoContext>(body: S) =>
  ({
    /** 200 OK with the body. */
    200: {
      /** The client's tag for the answer. */
      answer: "Ok",
      /** The schema of the body. */
      body
    }
  }) as const

/**
 * THE endpoint table: the ten OSB endpoints, by operation name.
 *
 * @since 0.1.0
 * @category endpoints
 */
export const endpoints = {
  /** E1 `GET /v2/catalog`: the offerings and plans; 200 with the catalog and an `ETag` (CAT-1, CAT-2). */
  catalog: {
    id: "E1",
    method: "GET",
    route: "catalog",
    query: {},
    successes: {
      ...ok(CatalogBody),
      /** A GET whose `If-None-Match` names the catalog's ETag (or `*`). */
      304: {
        /** The tag of the client's answer. */
        answer: "NotModified",
        /** No body. */
        body: NoBody
      }
    },
    successHeaders: ["etag"],
    errors: []
  },
  /**
   * E2 `PUT /v2/service_instances/:instance_id`: creates an instance; 201 created, 200 identical instance exists, 202
   * accepted (asynchronous).
   */
  provision: {
    id: "E2",
    method: "PUT",
    route: "instance",
    query: async,
    body: ProvisionRequestBody,
    successes: {
      /** An identical instance already exists (the request was repeated): nothing new was created. */
      200: { answer: "AlreadyExists", body: ProvisionResponseBody },
      /** The instance was created. */
      201: { answer: "Created", body: ProvisionResponseBody },
      /** The provision was accepted and runs asynchronously; poll `last_operation`. */
      202: { answer: "Accepted", body: ProvisionResponseBody }
    },
    successHeaders: [],
    errors: ["BadRequest", "Conflict", "AsyncRequired", "MaintenanceInfoConflict", "ConcurrencyError", "BrokerFailure"]
  },
  /**
   * E3 `GET /v2/service_instances/:instance_id`: the instance, when the offering has `instances_retrievable` (GI-1).
   */
  getInstance: {
    id: "E3",
    method: "GET",
    route: "instance",
    query: hints,
    successes: ok(FetchInstanceBody),
    successHeaders: [],
    errors: ["NotFound", "ConcurrencyError", "BrokerFailure"]
  },
  /**
   * E4 `PATCH /v2/service_instances/:instance_id`: changes plan, parameters, context or maintenance version; 200
   * done, 202 accepted.
   */
  update: {
    id: "E4",
    method: "PATCH",
    route: "instance",
    query: async,
    body: UpdateRequestBody,
    successes: {
      /** The update is done, or changed nothing. */
      200: { answer: "Updated", body: UpdateResponseBody },
      /** The update was accepted and runs asynchronously; poll `last_operation`. */
      202: { answer: "Accepted", body: UpdateResponseBody }
    },
    successHeaders: [],
    errors: [
      "BadRequest",
      "NotFound",
      "UpdateNotSupported",
      "AsyncRequired",
      "MaintenanceInfoConflict",
      "ConcurrencyError",
      "BrokerFailure",
      "UpdateFailure"
    ]
  },
  /**
   * E5 `DELETE /v2/service_instances/:instance_id`: deletes the instance; 200 deleted, 202 accepted, 410 when there
   * is none (OM-1).
   */
  deprovision: {
    id: "E5",
    method: "DELETE",
    route: "instance",
    query: { ...async, ...ids },
    successes: {
      /** The instance is deleted; the body is `{}`. */
      200: { answer: "Deleted", body: AsyncOperationBody },
      /** The deprovision was accepted and runs asynchronously; poll `last_operation` until `succeeded` or 410. */
      202: { answer: "Accepted", body: AsyncOperationBody }
    },
    successHeaders: [],
    errors: ["BadRequest", "Gone", "AsyncRequired", "ConcurrencyError", "BrokerFailure", "DeprovisionFailure"]
  },
  /**
   * E6 `GET /v2/service_instances/:instance_id/last_operation`: the state of the instance's asynchronous operation.
   */
  lastOperation: {
    id: "E6",
    method: "GET",
    route: "instanceLastOperation",
    query: { ...hints, operation: "optional" },
    successes: ok(LastOperationBody),
    successHeaders: ["retry-after"],
    errors: ["BadRequest", "NotFound", "Gone", "BrokerFailure"]
  },
  /**
   * E7 `PUT .../service_bindings/:binding_id`: creates a binding; 201 created, 200 identical binding exists, 202
   * accepted (no credentials yet).
   */
  bind: {
    id: "E7",
    method: "PUT",
    route: "binding",
    query: async,
    body: BindRequestBody,
    successes: {
      /** An identical binding already exists: the same credentials again. */
      200: { answer: "AlreadyExists", body: BindingResponseBody },
      /** The binding was created; the body carries its credentials. */
      201: { answer: "Created", body: BindingResponseBody },
      /** The bind was accepted and runs asynchronously; fetch the binding once `last_operation` says `succeeded`. */
      202: { answer: "Accepted", body: AsyncOperationBody }
    },
    successHeaders: [],
    errors: ["BadRequest", "NotFound", "Conflict", "AsyncRequired", "RequiresApp", "ConcurrencyError", "BrokerFailure"]
  },
  /** E8 `GET .../service_bindings/:binding_id`: the binding, when the offering has `bindings_retrievable` (GB-1). */
  getBinding: {
    id: "E8",
    method: "GET",
    route: "binding",
    query: hints,
    successes: ok(FetchBindingBody),
    successHeaders: [],
    errors: ["NotFound", "BrokerFailure"]
  },
  /**
   * E9 `DELETE .../service_bindings/:binding_id`: deletes the binding; 200 deleted, 202 accepted, 410 when there is
   * none.
   */
  unbind: {
    id: "E9",
    method: "DELETE",
    route: "binding",
    query: { ...async, ...ids },
    successes: {
      /** The binding is deleted; the body is `{}`. */
      200: { answer: "Deleted", body: AsyncOperationBody },
      /** The unbind was accepted and runs asynchronously; poll `last_operation` until `succeeded` or 410. */
      202: { answer: "Accepted", body: AsyncOperationBody }
    },
    successHeaders: [],
    errors: ["BadRequest", "Gone", "AsyncRequired", "ConcurrencyError", "BrokerFailure"]
  },
  /** E10 `GET .../service_bindings/:binding_id/last_operation`: the state of the binding's asynchronous operation. */
  lastBindingOperation: {
    id: "E10",
    method: "GET",
    route: "bindingLastOperation",
    query: { ...hints, operation: "optional" },
    successes: ok(LastOperationBody),
    successHeaders: ["retry-after"],
    errors: ["BadRequest", "NotFound", "Gone", "BrokerFailure"]
  }
} as const satisfies { readonly [name: string]: EndpointSpec }

/**
 * The name of an endpoint (the broker operation it calls; `catalog` for E1).
 *
 * @since 0.1.0
 * @category endpoints
 */
export type EndpointName = keyof typeof endpoints

/**
 * Every endpoint name, in E1..E10 order.
 *
 * @since 0.1.0
 * @category endpoints
 */
export const endpointNames: ReadonlyArray<EndpointName> = Object.keys(endpoints) as Array<EndpointName>

/**
 * The broker operations (every endpoint but the catalog).
 *
 * @since 0.1.0
 * @category endpoints
 */
export type OperationName = Exclude<EndpointName, "catalog">

/**
 * The error tags a broker operation may fail with.
 *
 * @since 0.1.0
 * @category endpoints
 */
export type ErrorTagOf<K extends EndpointName> = (typeof endpoints)[K]["errors"][number]

/**
 * The errors a broker operation may fail with.
 *
 * @since 0.1.0
 * @category endpoints
 */
export type ErrorOf<K extends EndpointName> = Extract<OsbError, {
  /** One of the error tags the endpoint's operation may fail with. */
  readonly _tag: ErrorTagOf<K>
}>

/**
 * The path template of an endpoint.
 *
 * @since 0.1.0
 * @category endpoints
 */
export const pathTemplate = (name: EndpointName): string => routes[endpoints[name].route]

/**
 * The label of an endpoint in reports, e.g. `E2 PUT /v2/service_instances/:instance_id`.
 *
 * @since 0.1.0
 * @category endpoints
 */
export const label = (name: EndpointName): string => {
  const endpoint = endpoints[name]
  return `${endpoint.id} ${endpoint.method} ${routes[endpoint.route]}`
}

/**
 * The methods each route answers, in table order (the `Allow` header of a 405).
 *
 * @since 0.1.0
 * @category endpoints
 */
export const routeMethods: { readonly [K in RouteName]: ReadonlyArray<Method> } = (() => {
  const methods: Record<RouteName, Array<Method>> = {
    catalog: [],
    instance: [],
    instanceLastOperation: [],
    binding: [],
    bindingLastOperation: []
  }
  for (const name of endpointNames) methods[endpoints[name].route].push(endpoints[name].method)
  return methods
})()

/**
 * The endpoint a route answers for a method, if any.
 *
 * @since 0.1.0
 * @category endpoints
 */
export const endpointAt = (route: RouteName, method: string): EndpointName | undefined =>
  endpointNames.find((name) => endpoints[name].route === route && endpoints[name].method === method)

/**
 * Builds a request path: the template with its parameters percent-encoded.
 *
 * @since 0.1.0
 * @category endpoints
 */
export const buildPath = (name: EndpointName, ids: ReadonlyArray<string>): string => {
  let i = 0
  return pathTemplate(name).replace(/:(instance_id|binding_id)/g, () => encodeURIComponent(ids[i++] ?? ""))
}

/**
 * Whether an endpoint changes state (PUT, PATCH, DELETE): refused with 503 while the broker drains.
 *
 * @since 0.1.0
 * @category endpoints
 */
export const isMutating = (name: EndpointName): boolean => endpoints[name].method !== "GET"

/**
 * The errors the HTTP edge itself may answer on an endpoint, before or around the broker's operation: 401
 * (authentication), 400 and 412 (version header and malformed requests), 413 (bodies over the limit, PUT and
 * PATCH), 503 (the broker is unavailable for now: draining refuses the mutating endpoints, and a store or a proxy
 * may refuse any), and 500 (a defect).
 *
 * @since 0.1.0
 * @category endpoints
 */
export const edgeErrors = (name: EndpointName): ReadonlyArray<ErrorTag> => {
  const edge: Array<ErrorTag> = ["BadRequest", "Unauthorized", "PreconditionFailed", "BrokerFailure"]
  if ("body" in endpoints[name]) edge.push("PayloadTooLarge")
  edge.push("ServiceUnavailable")
  return edge
}

/**
 * Every error an endpoint may answer: its broker operation's errors and the {@link edgeErrors}.
 *
 * @since 0.1.0
 * @category endpoints
 */
export const answerableErrors = (name: EndpointName): ReadonlyArray<ErrorTag> => {
  const all = new Set<ErrorTag>(endpoints[name].errors)
  for (const tag of edgeErrors(name)) all.add(tag)
  return errorTags.filter((tag) => all.has(tag))
}

/**
 * Every status an endpoint may answer: its successes and the statuses of {@link answerableErrors}.
 *
 * @since 0.1.0
 * @category endpoints
 */
export const answerableStatuses = (name: EndpointName): ReadonlyArray<number> => {
  const statuses = new Set<number>(Object.keys(endpoints[name].successes).map(Number))
  for (const tag of answerableErrors(name)) statuses.add(errors[tag].status)
  return [...statuses].sort((a, b) => a - b)
}

/**
 * The decoded request body of an endpoint that has one.
 *
 * @since 0.1.0
 * @category endpoints
 */
export type RequestBodyOf<K extends EndpointName> = (typeof endpoints)[K] extends {
  /** The endpoint's request body schema. */
  readonly body: infer S extends Schema.Schema.AnyNoContext
} ? Schema.Schema.Type<S>
  : never
