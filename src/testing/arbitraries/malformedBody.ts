/**
 * Malformed request bodies, one defect each, with the status a conforming broker answers.
 *
 * @since 0.2.0
 */
import * as FastCheck from "effect/FastCheck"
import type { ServicePlan } from "../../Model.js"
import { clean } from "./json.js"
import type { CatalogInput, RequestOptions } from "./requests.js"
import {
  bindRequest,
  guid,
  identifier,
  isBindable,
  isPlanUpdateable,
  isRotatable,
  oneOf,
  planTargets,
  provisionRequest,
  selectTargets,
  updateRequest
} from "./requests.js"

// -----------------------------------------------------------------------------
// malformed bodies
// -----------------------------------------------------------------------------

/**
 * The requests with a body.
 *
 * @since 0.1.0
 * @category models
 */
export type BodyOperation = "provision" | "update" | "bind"

/**
 * What is wrong with a malformed body.
 *
 * - `wrong-type`: a field has the wrong JSON type (or an object field misses its own required field);
 * - `missing-field`: `service_id` or `plan_id` is missing;
 * - `missing-organization`: a provision without context lacks `organization_guid` or `space_guid`;
 * - `empty-string`: an id field is `""`;
 * - `unknown-service`, `unknown-plan`: an id not in the catalog; `foreign-plan`: a plan of another offering;
 * - `non-object`: valid JSON that is not an object; `invalid-json`: not JSON at all (or empty);
 * - `proto-key`: the required fields hidden under `__proto__` or `constructor.prototype` (prototype pollution);
 * - `deep-nesting`: nested deeper than 64 levels;
 * - `content-type`: a valid body sent with a non-JSON `Content-Type`;
 * - `maintenance-info-conflict`: a `maintenance_info.version` that is not the plan's (422);
 * - `not-bindable`, `rotation-not-supported`: bind of a plan that is not bindable / not `binding_rotatable`;
 * - `plan-not-updateable`: a plan change from or to a plan that is not `plan_updateable` (422).
 *
 * @since 0.1.0
 * @category models
 */
export type MalformedBodyKind =
  | "wrong-type"
  | "missing-field"
  | "missing-organization"
  | "empty-string"
  | "unknown-service"
  | "unknown-plan"
  | "foreign-plan"
  | "non-object"
  | "invalid-json"
  | "proto-key"
  | "deep-nesting"
  | "content-type"
  | "maintenance-info-conflict"
  | "not-bindable"
  | "rotation-not-supported"
  | "plan-not-updateable"

/**
 * A malformed request body: the text to send, its content type, and the status a conforming effect-osb router
 * answers (every variant has exactly one defect, so the answer does not depend on the order of the checks).
 *
 * @since 0.1.0
 * @category models
 */
export interface MalformedBody {
  /** Which defect the body has. */
  readonly kind: MalformedBodyKind
  /** What is wrong, for failure messages. */
  readonly description: string
  /** The body to send, byte for byte (it may not be JSON at all). */
  readonly text: string
  /** The `Content-Type` to send with it (`application/json` except for the `content-type` kind). */
  readonly contentType: string
  /**
   * What a conforming effect-osb router answers: 400, or 422 for the defects the spec answers with 422 (e.g.
   * `maintenance-info-conflict`).
   */
  readonly expectedStatus: 400 | 422
}

const stringFields: Record<BodyOperation, ReadonlyArray<string>> = {
  provision: ["service_id", "plan_id", "organization_guid", "space_guid"],
  update: ["service_id", "plan_id"],
  bind: ["service_id", "plan_id", "app_guid", "predecessor_binding_id"]
}

const objectFields: Record<BodyOperation, ReadonlyArray<string>> = {
  provision: ["parameters", "context", "maintenance_info"],
  update: ["parameters", "context", "previous_values", "maintenance_info"],
  bind: ["parameters", "context", "bind_resource"]
}

const invalidObjects: Record<string, ReadonlyArray<unknown>> = {
  context: [{}, { platform: 7 }, { platform: "" }, { platform: null }],
  maintenance_info: [{ description: "no version" }, { version: 1 }, { version: "" }],
  previous_values: [{ plan_id: 5 }, { service_id: "" }, { maintenance_info: "1.0.0" }],
  bind_resource: [{ app_guid: 5 }, { app_guid: "" }, { app_annotations: "x" }]
}

const notAString: FastCheck.Arbitrary<unknown> = FastCheck.oneof(
  FastCheck.integer(),
  FastCheck.boolean(),
  FastCheck.constant(null),
  FastCheck.array(FastCheck.integer(), { maxLength: 3 }),
  FastCheck.constant({ id: "x" })
)

const notAnObject: FastCheck.Arbitrary<unknown> = FastCheck.oneof(
  FastCheck.integer(),
  FastCheck.boolean(),
  FastCheck.constant(null),
  FastCheck.string({ maxLength: 8 }),
  FastCheck.array(FastCheck.jsonValue({ maxDepth: 1 }), { maxLength: 3 }).map(clean)
)

const jsonBody = (
  kind: MalformedBodyKind,
  description: string,
  value: unknown,
  expectedStatus: 400 | 422 = 400
): MalformedBody => ({
  kind,
  description,
  text: JSON.stringify(value),
  contentType: "application/json",
  expectedStatus
})

const without = (body: Record<string, unknown>, ...keys: Array<string>): Record<string, unknown> => {
  const out = { ...body }
  for (const key of keys) delete out[key]
  return out
}

/** `{"<key>":<value>,<the rest of body>}` built as text: a `__proto__` key stays a key. */
const withRawKey = (key: string, value: unknown, body: Record<string, unknown>): string => {
  const rest = JSON.stringify(body).slice(1)
  return `{${JSON.stringify(key)}:${JSON.stringify(value)}${rest === "}" ? "}" : `,${rest}`}`
}

const nested = (depth: number, arrays: boolean): string =>
  arrays ? `{"a":${"[".repeat(depth)}${"]".repeat(depth)}}` : `${"{\"a\":".repeat(depth)}1${"}".repeat(depth)}`

/**
 * Options of `malformedBody`.
 *
 * @since 0.1.0
 * @category models
 */
export interface MalformedBodyOptions extends RequestOptions {
  /** The request the body is for. Default `provision`. */
  readonly operation?: BodyOperation
  /** Only these kinds (those that apply to the catalog). Default all that apply. */
  readonly kinds?: ReadonlyArray<MalformedBodyKind>
}

/**
 * Malformed bodies for provision, update or bind requests against `catalog`, each derived from a valid request
 * with one defect (see `MalformedBodyKind`). Send `text` as is with `contentType`. Kinds that need something the
 * catalog lacks (a second offering, a plan that is not bindable, ...) are left out.
 *
 * @since 0.1.0
 * @category arbitraries
 */
export const malformedBody = (
  catalog: CatalogInput,
  options: MalformedBodyOptions = {}
): FastCheck.Arbitrary<MalformedBody> => {
  const operation = options.operation ?? "provision"
  const all = planTargets(catalog)
  const knownIds = new Set(all.flatMap((t) => [t.offering.id, t.plan.id]))
  const unknownId = guid.filter((id) => !knownIds.has(id))
  const targets = selectTargets(catalog, options, "malformedBody")
  const bindable = targets.filter(isBindable)

  const base: FastCheck.Arbitrary<Record<string, unknown>> = operation === "provision"
    ? provisionRequest(catalog, options).map((r) => ({ ...r.body }))
    : operation === "update"
    ? updateRequest(catalog, options).map((r) => ({ ...r.body }))
    : bindable.length > 0
    ? bindRequest(catalog, options).map((r) => ({ ...r.body }))
    : FastCheck.constantFrom(...targets).map((t) => ({ service_id: t.offering.id, plan_id: t.plan.id }))

  const variants: Array<[MalformedBodyKind, FastCheck.Arbitrary<MalformedBody>]> = []
  const add = (kind: MalformedBodyKind, arbitrary: FastCheck.Arbitrary<MalformedBody>) => {
    variants.push([kind, arbitrary])
  }

  const invalidObject = (field: string) => {
    const specific = invalidObjects[field] ?? []
    return specific.length === 0 ? notAnObject : FastCheck.oneof(notAnObject, FastCheck.constantFrom(...specific))
  }
  const wrongValues = [...stringFields[operation], ...objectFields[operation]].map((field) =>
    (stringFields[operation].includes(field) ? notAString : invalidObject(field)).map((value) =>
      [field, value] as const
    )
  )
  add(
    "wrong-type",
    FastCheck.tuple(base, FastCheck.oneof(...wrongValues)).map(([body, [field, value]]) =>
      jsonBody("wrong-type", `${field} is ${JSON.stringify(value)}`, { ...body, [field]: value })
    )
  )

  const required = operation === "update" ? ["service_id"] : ["service_id", "plan_id"]
  add(
    "missing-field",
    FastCheck.tuple(base, FastCheck.constantFrom(...required)).map(([body, field]) =>
      jsonBody("missing-field", `${field} is missing`, without(body, field))
    )
  )

  if (operation === "provision") {
    add(
      "missing-organization",
      FastCheck.tuple(base, FastCheck.constantFrom("organization_guid", "space_guid")).map(([body, field]) =>
        jsonBody("missing-organization", `${field} is missing and there is no context`, without(body, field, "context"))
      )
    )
  }

  add(
    "empty-string",
    FastCheck.tuple(base, FastCheck.constantFrom(...stringFields[operation])).map(([body, field]) =>
      jsonBody("empty-string", `${field} is ""`, { ...body, [field]: "" })
    )
  )

  add(
    "unknown-service",
    FastCheck.tuple(base, unknownId).map(([body, id]) =>
      jsonBody("unknown-service", `service_id ${id} is not in the catalog`, { ...body, service_id: id })
    )
  )

  add(
    "unknown-plan",
    FastCheck.tuple(base, unknownId).map(([body, id]) =>
      jsonBody("unknown-plan", `plan_id ${id} is not in the catalog`, { ...body, plan_id: id })
    )
  )

  const foreign = (body: Record<string, unknown>) =>
    all.filter((t) => t.offering.id !== body.service_id).map((t) => t.plan.id)
  if (targets.some((t) => all.some((other) => other.offering.id !== t.offering.id))) {
    add(
      "foreign-plan",
      base.filter((body) => foreign(body).length > 0).chain((body) =>
        FastCheck.constantFrom(...foreign(body)).map((planId) =>
          jsonBody("foreign-plan", `plan_id ${planId} belongs to another offering`, { ...body, plan_id: planId })
        )
      )
    )
  }

  add(
    "non-object",
    FastCheck.oneof(
      FastCheck.array(FastCheck.jsonValue({ maxDepth: 1 }), { maxLength: 3 }),
      FastCheck.integer(),
      FastCheck.string({ maxLength: 12 }),
      FastCheck.constantFrom(null, true, false),
      base.map((body) => [body])
    ).map((value) => jsonBody("non-object", `the body is ${Array.isArray(value) ? "an array" : typeof value}`, value))
  )

  const garbage = FastCheck.constantFrom("x", "}", ",", "]", "{}", "null", "/* */", "\u0000")
  add(
    "invalid-json",
    FastCheck.tuple(base, FastCheck.integer({ min: 0, max: 6 }), garbage, FastCheck.nat()).map(
      ([body, shape, junk, cut]): MalformedBody => {
        const text = JSON.stringify(body)
        const variants: ReadonlyArray<readonly [string, string]> = [
          [text.slice(0, cut % text.length), "a truncated object"],
          [`${text}${junk}`, `an object followed by ${JSON.stringify(junk)}`],
          [text.replace(/"/g, "'"), "single quotes"],
          [`${text.slice(0, -1)},}`, "a trailing comma"],
          [text.replace(/"([a-z_]+)":/g, "$1:"), "unquoted keys"],
          [`${text.slice(0, -1)},"x":NaN}`, "NaN"],
          [["", " ", "\n"][cut % 3]!, "an empty body"]
        ]
        const [invalid, description] = variants[shape]!
        return {
          kind: "invalid-json",
          description,
          text: invalid,
          contentType: "application/json",
          expectedStatus: 400
        }
      }
    )
  )

  add(
    "proto-key",
    FastCheck.tuple(base, FastCheck.integer({ min: 0, max: 2 })).map(([body, shape]): MalformedBody => {
      const first = required[0]!
      const text = shape === 0
        ? withRawKey("__proto__", body, {})
        : shape === 1
        ? withRawKey("__proto__", { [first]: body[first] }, without(body, first))
        : withRawKey("constructor", { prototype: body }, {})
      const description = shape === 0
        ? "every field is under __proto__"
        : shape === 1
        ? `${first} is only under __proto__`
        : "every field is under constructor.prototype"
      return { kind: "proto-key", description, text, contentType: "application/json", expectedStatus: 400 }
    })
  )

  add(
    "deep-nesting",
    FastCheck.tuple(
      base,
      FastCheck.integer({ min: 64, max: 2000 }),
      FastCheck.boolean(),
      FastCheck.constantFrom("parameters", "x-vendor-extension")
    ).map(([body, depth, arrays, host]): MalformedBody => ({
      kind: "deep-nesting",
      description: `${host} nests ${depth} ${arrays ? "arrays" : "objects"}`,
      text: `${JSON.stringify(without(body, host)).slice(0, -1)},${JSON.stringify(host)}:${nested(depth, arrays)}}`,
      contentType: "application/json",
      expectedStatus: 400
    }))
  )

  add(
    "content-type",
    FastCheck.tuple(
      base,
      FastCheck.constantFrom(
        "text/plain",
        "application/x-www-form-urlencoded",
        "application/xml",
        "text/json",
        "multipart/form-data; boundary=x"
      )
    ).map(([body, contentType]): MalformedBody => ({
      kind: "content-type",
      description: `Content-Type ${contentType}`,
      text: JSON.stringify(body),
      contentType,
      expectedStatus: 400
    }))
  )

  if (operation !== "bind") {
    const wrongVersion = (plan: ServicePlan) =>
      FastCheck.tuple(FastCheck.nat({ max: 99 }), FastCheck.nat({ max: 99 }), FastCheck.nat({ max: 99 }))
        .map(([a, b, c]) => `${a}.${b}.${c}-conflict`)
        .filter((version) => version !== plan.maintenance_info?.version)
    add(
      "maintenance-info-conflict",
      oneOf(targets.map((target) =>
        FastCheck.tuple(base, wrongVersion(target.plan)).map(([body, version]) =>
          jsonBody(
            "maintenance-info-conflict",
            `maintenance_info.version ${version} is not the version of plan ${target.plan.name}`,
            {
              ...without(body, "previous_values"),
              service_id: target.offering.id,
              plan_id: target.plan.id,
              maintenance_info: { version }
            },
            422
          )
        )
      ))
    )
  }

  if (operation === "bind") {
    const notBindable = targets.filter((t) => !isBindable(t))
    if (notBindable.length > 0) {
      add(
        "not-bindable",
        FastCheck.tuple(base, FastCheck.constantFrom(...notBindable)).map(([body, t]) =>
          jsonBody("not-bindable", `plan ${t.plan.name} is not bindable`, {
            ...body,
            service_id: t.offering.id,
            plan_id: t.plan.id
          })
        )
      )
    }
    const notRotatable = bindable.filter((t) => !isRotatable(t))
    if (notRotatable.length > 0) {
      add(
        "rotation-not-supported",
        FastCheck.tuple(base, FastCheck.constantFrom(...notRotatable), identifier).map(([body, t, predecessor]) =>
          jsonBody("rotation-not-supported", `plan ${t.plan.name} is not binding_rotatable`, {
            ...body,
            service_id: t.offering.id,
            plan_id: t.plan.id,
            predecessor_binding_id: predecessor
          })
        )
      )
    }
  }

  if (operation === "update") {
    const pairs = targets.flatMap((from) =>
      from.offering.plans
        .filter((plan) => plan.id !== from.plan.id)
        .map((plan) => [from, { offering: from.offering, plan }] as const)
        .filter(([a, b]) => !isPlanUpdateable(a) || !isPlanUpdateable(b))
    )
    if (pairs.length > 0) {
      add(
        "plan-not-updateable",
        FastCheck.constantFrom(...pairs).map(([from, to]) =>
          jsonBody(
            "plan-not-updateable",
            `plan change from ${from.plan.name} to ${to.plan.name}, not both plan_updateable`,
            {
              service_id: from.offering.id,
              plan_id: to.plan.id,
              previous_values: { service_id: from.offering.id, plan_id: from.plan.id }
            },
            422
          )
        )
      )
    }
  }

  const chosen = options.kinds === undefined ? variants : variants.filter(([kind]) => options.kinds!.includes(kind))
  if (chosen.length === 0) throw new Error("Arbitraries.malformedBody: none of the requested kinds applies")
  return FastCheck.oneof(...chosen.map(([, arbitrary]) => arbitrary))
}
