/**
 * One tagged error per OSB outcome, and the ONE table that maps each of them to its HTTP status and JSON body.
 *
 * @since 0.1.0
 * @module
 */
import * as Schema from "effect/Schema"
import type { ErrorBody } from "./Model.js"
import * as Protocol from "./Protocol.js"

const Description = Schema.String.pipe(Schema.minLength(1))
const optional = <S extends Schema.Schema.All>(schema: S) =>
  Schema.optionalWith(schema, {
    /** The key may be absent, but when present its value must match: an explicit `undefined` is rejected. */
    exact: true
  })

/**
 * 400: the request is malformed or names ids the catalog does not know.
 *
 * @since 0.1.0
 * @category errors
 */
export class BadRequest extends Schema.TaggedError<BadRequest>("effect-osb/BadRequest")("BadRequest", {
  /**
   * What is wrong with the request, sent as `description`; for a schema failure, the path of the failing field and
   * why.
   */
  description: Description
}) {}

/**
 * 401: authentication failed.
 *
 * @since 0.1.0
 * @category errors
 */
export class Unauthorized extends Schema.TaggedError<Unauthorized>("effect-osb/Unauthorized")("Unauthorized", {
  /**
   * Text for the platform's user, sent as `description`; absent, the spec's suggested text is sent ("Authentication
   * failed.").
   */
  description: optional(Description)
}) {}

/**
 * 404: the resource does not exist (or, where the spec says so, is still being created).
 *
 * @since 0.1.0
 * @category errors
 */
export class NotFound extends Schema.TaggedError<NotFound>("effect-osb/NotFound")("NotFound", {
  /**
   * Text for the platform's user, sent as `description`; absent, the spec's suggested text is sent ("The resource
   * does not exist.").
   */
  description: optional(Description)
}) {}

/**
 * 405: the path exists but not with this method.
 *
 * @since 0.1.0
 * @category errors
 */
export class MethodNotAllowed
  extends Schema.TaggedError<MethodNotAllowed>("effect-osb/MethodNotAllowed")("MethodNotAllowed", {
    /** The methods the path does answer, sent in the `Allow` header and listed in the description. */
    allowed: Schema.Array(Schema.String)
  })
{}

/**
 * 409: a resource with this id exists (or is being created) with different attributes.
 *
 * @since 0.1.0
 * @category errors
 */
export class Conflict extends Schema.TaggedError<Conflict>("effect-osb/Conflict")("Conflict", {
  /**
   * Text for the platform's user, sent as `description`; absent, the spec's suggested text is sent ("A resource with
   * this id already exists with different attributes.").
   */
  description: optional(Description)
}) {}

/**
 * 410: the resource to delete does not exist (or an async delete has finished). The body is `{}`.
 *
 * @since 0.1.0
 * @category errors
 */
export class Gone extends Schema.TaggedError<Gone>("effect-osb/Gone")("Gone", {}) {}

/**
 * 412: the `X-Broker-API-Version` is older than the broker supports.
 *
 * @since 0.1.0
 * @category errors
 */
export class PreconditionFailed
  extends Schema.TaggedError<PreconditionFailed>("effect-osb/PreconditionFailed")("PreconditionFailed", {
    /** Which API version the request sent and which the broker needs, sent as `description`. */
    description: Description
  })
{}

/**
 * 413: the request body is larger than the configured limit.
 *
 * @since 0.1.0
 * @category errors
 */
export class PayloadTooLarge
  extends Schema.TaggedError<PayloadTooLarge>("effect-osb/PayloadTooLarge")("PayloadTooLarge", {
    /** The limit in bytes, when known (a client decoding another broker's answer may not learn it). */
    limit: optional(Schema.Int.pipe(Schema.nonNegative())),
    /** Text sent as `description`; absent, one naming `limit` is sent. */
    description: optional(Description)
  })
{}

/**
 * 422 `AsyncRequired`: the operation can only run asynchronously and `accepts_incomplete=true` was not sent.
 *
 * @since 0.1.0
 * @category errors
 */
export class AsyncRequired extends Schema.TaggedError<AsyncRequired>("effect-osb/AsyncRequired")("AsyncRequired", {
  /**
   * Text for the platform's user, sent as `description`; absent, the spec's suggested text is sent ("This service
   * plan requires client support for asynchronous service operations.").
   */
  description: optional(Description)
}) {}

/**
 * 422 `ConcurrencyError`: another operation is in progress on the resource.
 *
 * @since 0.1.0
 * @category errors
 */
export class ConcurrencyError
  extends Schema.TaggedError<ConcurrencyError>("effect-osb/ConcurrencyError")("ConcurrencyError", {
    /**
     * Text for the platform's user, sent as `description`; absent, the spec's suggested text is sent ("Another
     * operation for this service instance is in progress.").
     */
    description: optional(Description)
  })
{}

/**
 * 422 `RequiresApp`: the binding needs an app GUID and the request has none.
 *
 * @since 0.1.0
 * @category errors
 */
export class RequiresApp extends Schema.TaggedError<RequiresApp>("effect-osb/RequiresApp")("RequiresApp", {
  /**
   * Text for the platform's user, sent as `description`; absent, the spec's suggested text is sent ("This service
   * supports generation of credentials through binding an application only.").
   */
  description: optional(Description)
}) {}

/**
 * 422 `MaintenanceInfoConflict`: the request's `maintenance_info.version` differs from the plan's.
 *
 * @since 0.1.0
 * @category errors
 */
export class MaintenanceInfoConflict
  extends Schema.TaggedError<MaintenanceInfoConflict>("effect-osb/MaintenanceInfoConflict")(
    "MaintenanceInfoConflict",
    {
      /**
       * Text sent as `description`; absent, the spec's suggested text saying the request's
       * `maintenance_info.version` does not match the catalog's is sent.
       */
      description: optional(Description)
    }
  )
{}

/**
 * 422 without a code: the update is not supported or not possible in the current state (spec §7.3).
 *
 * @since 0.1.0
 * @category errors
 */
export class UpdateNotSupported
  extends Schema.TaggedError<UpdateNotSupported>("effect-osb/UpdateNotSupported")("UpdateNotSupported", {
    /**
     * Why the update cannot be done (a plan change that is not allowed, usage above the new plan's quota...), sent as
     * `description`.
     */
    description: Description,
    /**
     * Sent as `instance_usable`: whether the instance still works after the failure. Absent means the platform
     * assumes `true`.
     */
    instanceUsable: optional(Schema.Boolean),
    /**
     * Sent as `update_repeatable`: whether repeating the same update may succeed. Absent means the platform assumes
     * `true`.
     */
    updateRepeatable: optional(Schema.Boolean)
  })
{}

/**
 * 500: the broker failed. Allowed on every operation; it carries no `instance_usable`/`update_repeatable`.
 *
 * @since 0.1.0
 * @category errors
 */
export class BrokerFailure extends Schema.TaggedError<BrokerFailure>("effect-osb/BrokerFailure")("BrokerFailure", {
  /** What failed, sent as `description`. Write it for the platform's user: it reaches them. */
  description: Description
}) {}

/**
 * 500 for a failed update, with `instance_usable` and `update_repeatable` (spec §3, UPD-4).
 *
 * @since 0.1.0
 * @category errors
 */
export class UpdateFailure extends Schema.TaggedError<UpdateFailure>("effect-osb/UpdateFailure")("UpdateFailure", {
  /** What failed, sent as `description`. */
  description: Description,
  /**
   * Sent as `instance_usable`: whether the instance still works after the failure. Absent means the platform assumes
   * `true`.
   */
  instanceUsable: optional(Schema.Boolean),
  /**
   * Sent as `update_repeatable`: whether repeating the same update may succeed. Absent means the platform assumes
   * `true`.
   */
  updateRepeatable: optional(Schema.Boolean)
}) {}

/**
 * 500 for a failed deprovision, with `instance_usable` (spec §3, DEP-5).
 *
 * @since 0.1.0
 * @category errors
 */
export class DeprovisionFailure
  extends Schema.TaggedError<DeprovisionFailure>("effect-osb/DeprovisionFailure")("DeprovisionFailure", {
    /** What failed, sent as `description`. */
    description: Description,
    /**
     * Sent as `instance_usable`: whether the instance still works after the failure. Absent means the platform
     * assumes `true`.
     */
    instanceUsable: optional(Schema.Boolean)
  })
{}

/**
 * 503: the broker is shutting down or otherwise unable to take the request now.
 *
 * @since 0.1.0
 * @category errors
 */
export class ServiceUnavailable
  extends Schema.TaggedError<ServiceUnavailable>("effect-osb/ServiceUnavailable")("ServiceUnavailable", {
    /** Why the broker cannot take the request now (draining, store unreachable...), sent as `description`. */
    description: Description,
    /** The `Retry-After` seconds; absent when not known (a client decoding an answer without the header). */
    retryAfterSeconds: optional(Schema.Int.pipe(Schema.nonNegative()))
  })
{}

/**
 * The schema of every OSB error (useful to send errors across process boundaries). The one list of the errors:
 * the `OsbError` type is derived from it, and `Protocol.errors` and the renderers are keyed by its tags.
 *
 * @since 0.1.0
 * @category schemas
 */
export const OsbError = Schema.Union(
  BadRequest,
  Unauthorized,
  NotFound,
  MethodNotAllowed,
  Conflict,
  Gone,
  PreconditionFailed,
  PayloadTooLarge,
  AsyncRequired,
  ConcurrencyError,
  RequiresApp,
  MaintenanceInfoConflict,
  UpdateNotSupported,
  BrokerFailure,
  UpdateFailure,
  DeprovisionFailure,
  ServiceUnavailable
)

/**
 * Every OSB outcome that is not a success.
 *
 * @since 0.1.0
 * @category models
 */
export type OsbError = typeof OsbError.Type

/**
 * How an error is rendered: its status, its JSON body and extra headers.
 *
 * @since 0.1.0
 * @category models
 */
export interface ErrorResponse {
  /** The HTTP status code, from `Protocol.errors`. */
  readonly status: number
  /** The JSON body: `error` code, `description` and the flags the spec allows for this error. */
  readonly body: ErrorBody
  /**
   * Extra response headers by lower-case name (`www-authenticate`, `allow`, `retry-after`), when the error has any.
   */
  readonly headers?: Readonly<Record<string, string>>
}

type Tag = OsbError["_tag"]

/** The header values of an error of this tag: exactly the headers `Protocol.errors` lists (undefined: left out). */
type HeadersOf<K extends Tag> = {
  readonly [H in (typeof Protocol.errors)[K]["headers"][number]]: string | undefined
}

/** What the table cannot know: the description text and the header values of one error. */
interface Text<K extends Tag> {
  readonly description: string | undefined
  readonly headers: HeadersOf<K>
}

const noHeaders = {} as const

const text = <K extends Tag>(description: string | undefined, headers: HeadersOf<K>): Text<K> => ({
  description,
  headers
})

/** Description texts (ERR-3 suggestions where the spec has them) and header values, per tag. */
const texts: { readonly [K in Tag]: (error: Extract<OsbError, { readonly _tag: K }>) => Text<K> } = {
  BadRequest: (e) => text(e.description, noHeaders),
  Unauthorized: (e) =>
    text(e.description ?? "Authentication failed.", { "www-authenticate": "Basic realm=\"service-broker\"" }),
  NotFound: (e) => text(e.description ?? "The resource does not exist.", noHeaders),
  MethodNotAllowed: (e) =>
    text(`Method not allowed here; allowed: ${e.allowed.join(", ")}.`, { allow: e.allowed.join(", ") }),
  Conflict: (e) =>
    text(e.description ?? "A resource with this id already exists with different attributes.", noHeaders),
  Gone: () => text(undefined, noHeaders),
  PreconditionFailed: (e) => text(e.description, noHeaders),
  PayloadTooLarge: (e) =>
    text(
      e.description ??
        (e.limit === undefined
          ? "The request body is too large."
          : `The request body is larger than the limit of ${e.limit} bytes.`),
      noHeaders
    ),
  AsyncRequired: (e) =>
    text(e.description ?? "This service plan requires client support for asynchronous service operations.", noHeaders),
  ConcurrencyError: (e) =>
    text(e.description ?? "Another operation for this service instance is in progress.", noHeaders),
  RequiresApp: (e) =>
    text(
      e.description ?? "This service supports generation of credentials through binding an application only.",
      noHeaders
    ),
  MaintenanceInfoConflict: (e) =>
    text(
      e.description ??
        "The maintenance_info.version field provided in the request does not match the maintenance_info.version field provided in the catalog.",
      noHeaders
    ),
  UpdateNotSupported: (e) => text(e.description, noHeaders),
  BrokerFailure: (e) => text(e.description, noHeaders),
  UpdateFailure: (e) => text(e.description, noHeaders),
  DeprovisionFailure: (e) => text(e.description, noHeaders),
  ServiceUnavailable: (e) =>
    text(e.description, {
      "retry-after": e.retryAfterSeconds === undefined ? undefined : String(e.retryAfterSeconds)
    })
}

const flagFields = {
  instance_usable: "instanceUsable",
  update_repeatable: "updateRepeatable"
} as const satisfies { readonly [F in Protocol.ErrorFlag]: string }

/** Assembles an answer from the data table: status, `error` code, description, the allowed flags, headers. */
const render = (error: OsbError): ErrorResponse => {
  const spec: Protocol.ErrorSpec = Protocol.errors[error._tag]
  const { description, headers } = (texts[error._tag] as (error: OsbError) => Text<Tag>)(error)
  const body: { -readonly [K in keyof ErrorBody]: ErrorBody[K] } = {}
  if (spec.code !== undefined) body.error = spec.code
  if (spec.description && description !== undefined) body.description = description
  for (const flag of spec.flags) {
    const value = (error as { readonly [F in (typeof flagFields)[Protocol.ErrorFlag]]?: boolean })[flagFields[flag]]
    if (value !== undefined) body[flag] = value
  }
  if (spec.headers.length === 0) return { status: spec.status, body }
  const present: Record<string, string> = {}
  for (const name of spec.headers) {
    const value = (headers as { readonly [H in Protocol.ErrorHeader]?: string | undefined })[name]
    if (value !== undefined) present[name] = value
  }
  return { status: spec.status, body, headers: present }
}

/**
 * THE table: every error tag to its status code and JSON body, rendered from the data of `Protocol.errors`
 * (status, code, fields, headers) and this module's description texts. Total by construction (a missing tag
 * does not compile). Descriptions default to the texts the spec suggests (ERR-3).
 *
 * @since 0.1.0
 * @category rendering
 */
export const errorTable: {
  readonly [K in OsbError["_tag"]]: (error: Extract<OsbError, { readonly _tag: K }>) => ErrorResponse
} = Object.fromEntries(Protocol.errorTags.map((tag) => [tag, render])) as {
  readonly [K in OsbError["_tag"]]: (error: Extract<OsbError, { readonly _tag: K }>) => ErrorResponse
}

/**
 * Renders any OSB error through {@link errorTable}.
 *
 * @since 0.1.0
 * @category rendering
 */
export const toErrorResponse = (error: OsbError): ErrorResponse =>
  isOsbError(error) ? (errorTable[error._tag] as (error: OsbError) => ErrorResponse)(error) : internalErrorResponse

/**
 * The response for a defect: a 500 with a generic body. Nothing of the cause reaches the client.
 *
 * @since 0.1.0
 * @category rendering
 */
export const internalErrorResponse: ErrorResponse = {
  status: 500,
  body: { description: "Internal broker error." }
}

/**
 * Whether a value is one of the OSB errors of this module.
 *
 * @since 0.1.0
 * @category guards
 */
export const isOsbError = (u: unknown): u is OsbError =>
  typeof u === "object" && u !== null && "_tag" in u && typeof u._tag === "string" &&
  Object.prototype.hasOwnProperty.call(errorTable, u._tag) && u instanceof Error
