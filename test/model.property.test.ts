import { Arbitrary, Either, FastCheck, Option, Schema } from "effect"
import { describe, expect, it } from "vitest"
import { Model, RequestInfo } from "../src/index.js"

const numRuns = 200

/** JSON normalisation (pitfall 5): what a value looks like after a trip through JSON text. */
const normalise = <A>(value: A): A => JSON.parse(JSON.stringify(value))

const viaJson = (value: unknown): unknown => JSON.parse(JSON.stringify(value))

/** Every object reachable from `value` has the plain Object (or Array) prototype. */
const prototypesAreClean = (value: unknown): boolean => {
  const stack: Array<unknown> = [value]
  while (stack.length > 0) {
    const current = stack.pop()
    if (typeof current !== "object" || current === null) continue
    const proto = Object.getPrototypeOf(current)
    if (Array.isArray(current)) {
      if (proto !== Array.prototype) return false
      stack.push(...current)
    } else {
      if (proto !== Object.prototype) return false
      stack.push(...Object.values(current))
    }
  }
  return true
}

const hasOwn = (value: unknown, key: string): boolean =>
  typeof value === "object" && value !== null && Object.prototype.hasOwnProperty.call(value, key)

const polluted = () => ({} as Record<string, unknown>).polluted

// -----------------------------------------------------------------------------
// round trips
// -----------------------------------------------------------------------------

const schemas: ReadonlyArray<readonly [string, Schema.Schema<any, any>]> = [
  ["ProvisionRequestBody", Model.ProvisionRequestBody],
  ["UpdateRequestBody", Model.UpdateRequestBody],
  ["BindRequestBody", Model.BindRequestBody],
  ["ProvisionResponseBody", Model.ProvisionResponseBody],
  ["UpdateResponseBody", Model.UpdateResponseBody],
  ["FetchInstanceBody", Model.FetchInstanceBody],
  ["BindingResponseBody", Model.BindingResponseBody],
  ["FetchBindingBody", Model.FetchBindingBody],
  ["LastOperationBody", Model.LastOperationBody],
  ["ErrorBody", Model.ErrorBody],
  ["AsyncOperationBody", Model.AsyncOperationBody],
  ["EmptyBody", Model.EmptyBody],
  ["CatalogBody", Model.CatalogBody],
  ["OriginatingIdentity", Model.OriginatingIdentity]
]

describe("schema round trips", () => {
  for (const [name, schema] of schemas) {
    it(`${name}: decode(encode(x)) equals x, also through JSON text`, () => {
      const encode = Schema.encodeSync(schema)
      const decode = Schema.decodeUnknownSync(schema)
      FastCheck.assert(
        FastCheck.property(Arbitrary.make(schema), (value) => {
          expect(decode(encode(value))).toStrictEqual(value)
          expect(decode(viaJson(encode(value)))).toStrictEqual(normalise(value))
        }),
        { numRuns }
      )
    })
  }

  for (const [name, schema] of schemas) {
    it(`${name}: the arbitrary yields JSON-clean values (no -0, NaN, undefined)`, () => {
      FastCheck.assert(
        FastCheck.property(Arbitrary.make(schema), (value) => {
          expect(normalise(value)).toStrictEqual(value)
        }),
        { numRuns: 100 }
      )
    })
  }

  it("Model.arbitrary gives the same kind of values as Arbitrary.make", () => {
    const decode = Schema.decodeUnknownSync(Model.ProvisionRequestBody)
    for (const value of FastCheck.sample(Model.arbitrary(Model.ProvisionRequestBody), 50)) {
      expect(decode(value)).toStrictEqual(value)
    }
  })
})

// -----------------------------------------------------------------------------
// EXT-1 unknown fields
// -----------------------------------------------------------------------------

const extensionFields = FastCheck.dictionary(
  FastCheck.string({ maxLength: 8 }).map((key) => `x-vendor-${key}`),
  FastCheck.jsonValue({ maxDepth: 2 }),
  { minKeys: 1, maxKeys: 3 }
)

/** Adds extension fields to the value and to every nested struct (not record) that is present. */
const addExtensions = (
  value: Record<string, unknown>,
  extra: Record<string, unknown>,
  structKeys: ReadonlyArray<ReadonlyArray<string>>
): Record<string, unknown> => {
  const copy = normalise(value)
  Object.assign(copy, extra)
  for (const path of structKeys) {
    let target: unknown = copy
    for (const key of path) target = hasOwn(target, key) ? (target as Record<string, unknown>)[key] : undefined
    if (typeof target === "object" && target !== null) Object.assign(target, extra)
  }
  return copy
}

const requestSchemas: ReadonlyArray<
  readonly [string, Schema.Schema<any, any>, ReadonlyArray<ReadonlyArray<string>>]
> = [
  ["ProvisionRequestBody", Model.ProvisionRequestBody, [["maintenance_info"]]],
  [
    "UpdateRequestBody",
    Model.UpdateRequestBody,
    [["maintenance_info"], ["previous_values"], ["previous_values", "maintenance_info"]]
  ],
  ["BindRequestBody", Model.BindRequestBody, [["bind_resource"]]]
]

describe("EXT-1 unknown fields are ignored", () => {
  for (const [name, schema, structKeys] of requestSchemas) {
    it(`EXT-1 ${name}: extension fields at any struct level are ignored on decode`, () => {
      const lenient = Schema.decodeUnknownSync(schema, { onExcessProperty: "ignore" })
      const strict = Schema.decodeUnknownEither(schema, { onExcessProperty: "error" })
      FastCheck.assert(
        FastCheck.property(Arbitrary.make(schema), extensionFields, (value, extra) => {
          const sent = viaJson(addExtensions(value, extra, structKeys))
          expect(lenient(sent)).toStrictEqual(normalise(value))
          // the extension fields really are there: a strict decoder refuses them
          expect(Either.isLeft(strict(sent))).toBe(true)
        }),
        { numRuns }
      )
    })
  }

  it("EXT-1 a provision body with vendor fields decodes to the known fields only", () => {
    const body = {
      service_id: "svc",
      plan_id: "plan",
      "x-vendor-foo": 1,
      maintenance_info: { version: "1.0.0", "x-vendor-bar": true },
      context: { platform: "cloudfoundry", "x-kept": "context is open" }
    }
    expect(Schema.decodeUnknownSync(Model.ProvisionRequestBody, { onExcessProperty: "ignore" })(body)).toStrictEqual({
      service_id: "svc",
      plan_id: "plan",
      maintenance_info: { version: "1.0.0" },
      context: { platform: "cloudfoundry", "x-kept": "context is open" }
    })
  })
})

// -----------------------------------------------------------------------------
// __proto__
// -----------------------------------------------------------------------------

const withProtoKey = (value: Record<string, unknown>): Record<string, unknown> => {
  const copy: Record<string, unknown> = { ...value }
  Object.defineProperty(copy, "__proto__", {
    value: { polluted: true, toString: "hacked" },
    enumerable: true,
    writable: true,
    configurable: true
  })
  return copy
}

/** Where the user-controlled records (and some structs) of the OSB bodies are. */
const injectionPaths: ReadonlyArray<ReadonlyArray<string>> = [
  [],
  ["parameters"],
  ["context"],
  ["bind_resource"],
  ["bind_resource", "app_annotations"],
  ["credentials"],
  ["metadata"],
  ["metadata", "labels"],
  ["metadata", "attributes"],
  ["maintenance_info"],
  ["previous_values"]
]

/** The JSON text of `value` with a `"__proto__": {...}` member in every object at `injectionPaths`. */
const hostileText = (value: unknown): string => {
  const inject = (current: unknown, path: ReadonlyArray<string>): unknown => {
    if (typeof current !== "object" || current === null || Array.isArray(current)) return current
    const record = current as Record<string, unknown>
    const next: Record<string, unknown> = {}
    for (const [key, child] of Object.entries(record)) {
      next[key] = injectionPaths.some((p) => p.length === path.length + 1 && p.every((k, i) => (path[i] ?? key) === k))
        ? inject(child, [...path, key])
        : child
    }
    return withProtoKey(next)
  }
  return JSON.stringify(inject(normalise(value), []))
}

const recordPaths: ReadonlyArray<ReadonlyArray<string>> = [
  ["parameters"],
  ["context"],
  ["bind_resource", "app_annotations"],
  ["credentials"],
  ["metadata", "labels"],
  ["metadata", "attributes"]
]

const at = (value: unknown, path: ReadonlyArray<string>): unknown => {
  let current = value
  for (const key of path) current = hasOwn(current, key) ? (current as Record<string, unknown>)[key] : undefined
  return current
}

const hostileSchemas: ReadonlyArray<readonly [string, Schema.Schema<any, any>]> = [
  ["ProvisionRequestBody", Model.ProvisionRequestBody],
  ["UpdateRequestBody", Model.UpdateRequestBody],
  ["BindRequestBody", Model.BindRequestBody],
  ["BindingResponseBody", Model.BindingResponseBody],
  ["FetchBindingBody", Model.FetchBindingBody],
  ["FetchInstanceBody", Model.FetchInstanceBody],
  ["ProvisionResponseBody", Model.ProvisionResponseBody]
]

describe("EXT-1 __proto__ keys", () => {
  for (const [name, schema] of hostileSchemas) {
    it(`${name}: __proto__ members are dropped, prototypes stay plain, nothing is polluted`, () => {
      const decode = Schema.decodeUnknownSync(schema, { onExcessProperty: "ignore" })
      FastCheck.assert(
        FastCheck.property(Arbitrary.make(schema), (value) => {
          const text = hostileText(value)
          expect(text).toContain("\"__proto__\":{\"polluted\":true")
          const parsed = JSON.parse(text)
          expect(hasOwn(parsed, "__proto__")).toBe(true)
          const decoded = decode(parsed)
          expect(prototypesAreClean(decoded)).toBe(true)
          expect(hasOwn(decoded, "__proto__")).toBe(false)
          for (const path of recordPaths) {
            const record = at(decoded, path)
            if (record !== undefined) {
              expect(hasOwn(record, "__proto__")).toBe(false)
              expect((record as Record<string, unknown>).polluted).toBeUndefined()
            }
          }
          expect(decoded).toStrictEqual(normalise(value))
          expect(polluted()).toBeUndefined()
        }),
        { numRuns: 100 }
      )
    })
  }

  it("EXT-1 a JSON text with \"__proto__\": {\"polluted\": true} in every record never pollutes Object.prototype", () => {
    const text = `{
      "__proto__": {"polluted": true},
      "service_id": "svc", "plan_id": "plan",
      "parameters": {"__proto__": {"polluted": true}, "size": 1},
      "context": {"platform": "cloudfoundry", "__proto__": {"polluted": true}},
      "bind_resource": {"__proto__": {"polluted": true}, "app_annotations": {"__proto__": {"polluted": true}}}
    }`
    const bodies: ReadonlyArray<Schema.Schema<any, any>> = [
      Model.ProvisionRequestBody,
      Model.BindRequestBody,
      Model.UpdateRequestBody
    ]
    for (const schema of bodies) {
      const decoded: { readonly parameters?: unknown; readonly context?: unknown } = Schema.decodeUnknownSync(schema, {
        onExcessProperty: "ignore"
      })(JSON.parse(text))
      expect(prototypesAreClean(decoded)).toBe(true)
      expect((decoded.parameters as Record<string, unknown>).polluted).toBeUndefined()
      expect(decoded.parameters).toStrictEqual({ size: 1 })
      expect(decoded.context).toStrictEqual({ platform: "cloudfoundry" })
      expect(Object.getPrototypeOf(decoded.context)).toBe(Object.prototype)
    }
    const bind = Schema.decodeUnknownSync(Model.BindRequestBody, { onExcessProperty: "ignore" })(JSON.parse(text))
    expect(bind.bind_resource).toStrictEqual({ app_annotations: {} })
    expect(polluted()).toBeUndefined()
    expect(Object.prototype).not.toHaveProperty("polluted")
  })

  it("EXT-1 credentials with a __proto__ key decode without it", () => {
    const text = "{\"credentials\": {\"__proto__\": {\"isAdmin\": true}, \"user\": \"u\"}}"
    const decoded = Schema.decodeUnknownSync(Model.BindingResponseBody)(JSON.parse(text))
    expect(decoded.credentials).toStrictEqual({ user: "u" })
    expect((decoded.credentials as Record<string, unknown>).isAdmin).toBeUndefined()
    expect(Object.getPrototypeOf(decoded.credentials)).toBe(Object.prototype)
  })
})

// -----------------------------------------------------------------------------
// OID-1..OID-5 originating identity
// -----------------------------------------------------------------------------

const base64 = (text: string) => Buffer.from(text, "utf8").toString("base64")

describe("OID originating identity", () => {
  it("OID-4 the spec's Cloud Foundry example (JSON with CRLF whitespace) decodes", () => {
    const json = "{ \r\n  \"user_id\": \"683ea748-3092-4ff4-b656-39cacc4d5360\"\r\n}"
    const value = base64(json)
    expect(value.startsWith("eyANCiAg")).toBe(true)
    const raw = `cloudfoundry ${value}`
    expect(RequestInfo.parseOriginatingIdentity(raw)).toStrictEqual({
      _tag: "Decoded",
      raw,
      identity: { platform: "cloudfoundry", value: { user_id: "683ea748-3092-4ff4-b656-39cacc4d5360" } }
    })
  })

  it("OID-4 the spec's Kubernetes example decodes", () => {
    const value = {
      username: "duke",
      uid: "c2dde242-5ce4-11e7-988c-000c2946f14f",
      groups: ["admin", "dev"],
      extra: { mydata: ["data1", "data3"] }
    }
    const raw = `kubernetes ${base64(JSON.stringify(value, null, 2).replace(/\n/g, "\r\n"))}`
    expect(RequestInfo.parseOriginatingIdentity(raw)).toStrictEqual({
      _tag: "Decoded",
      raw,
      identity: { platform: "kubernetes", value }
    })
  })

  it("OID-1 another platform with any JSON object decodes", () => {
    const value = { account: "acme", roles: ["admin"], nested: { level: 2, ok: true, none: null } }
    const raw = `my-platform ${base64(JSON.stringify(value))}`
    expect(RequestInfo.parseOriginatingIdentity(raw)).toStrictEqual({
      _tag: "Decoded",
      raw,
      identity: { platform: "my-platform", value }
    })
    const empty = `other ${base64("{}")}`
    expect(RequestInfo.parseOriginatingIdentity(empty)).toStrictEqual({
      _tag: "Decoded",
      raw: empty,
      identity: { platform: "other", value: {} }
    })
  })

  it("OID-1 profile extras next to user_id are kept for cloudfoundry", () => {
    const raw = `cloudfoundry ${base64(JSON.stringify({ user_id: "u-1", user_name: "alice" }))}`
    const parsed = RequestInfo.parseOriginatingIdentity(raw)
    expect(parsed._tag).toBe("Decoded")
    if (parsed._tag === "Decoded") expect(parsed.identity.value).toStrictEqual({ user_id: "u-1", user_name: "alice" })
  })

  it("OID-2 an absent header is Absent", () => {
    expect(RequestInfo.parseOriginatingIdentity(undefined)).toStrictEqual({ _tag: "Absent" })
  })

  const malformed: ReadonlyArray<readonly [string, string]> = [
    ["no space", "cloudfoundry"],
    ["no space, only Base64", base64("{\"user_id\":\"u\"}")],
    ["empty platform", ` ${base64("{\"user_id\":\"u\"}")}`],
    ["empty value", "cloudfoundry "],
    ["bad Base64", "cloudfoundry not*base64!"],
    ["Base64 of text that is not JSON", `cloudfoundry ${base64("{user_id: u")}`],
    ["JSON array", `other ${base64("[1,2]")}`],
    ["JSON string", `other ${base64("\"text\"")}`],
    ["JSON null", `other ${base64("null")}`],
    ["JSON number", `other ${base64("42")}`],
    ["cloudfoundry without user_id", `cloudfoundry ${base64("{\"name\":\"alice\"}")}`],
    ["cloudfoundry with an empty user_id", `cloudfoundry ${base64("{\"user_id\":\"\"}")}`],
    ["kubernetes without uid, groups, extra", `kubernetes ${base64("{\"username\":\"duke\"}")}`],
    [
      "kubernetes with groups not strings",
      `kubernetes ${base64(JSON.stringify({ username: "duke", uid: "1", groups: [1], extra: {} }))}`
    ]
  ]

  it.each(malformed)("OID-5 malformed header (%s) is Malformed with the raw value and a reason", (_, raw) => {
    const parsed = RequestInfo.parseOriginatingIdentity(raw)
    expect(parsed._tag).toBe("Malformed")
    if (parsed._tag !== "Malformed") return
    expect(parsed.raw).toBe(raw)
    expect(parsed.reason.length).toBeGreaterThan(0)
  })

  it("OID-5 the reason for a cloudfoundry value without user_id names user_id", () => {
    const parsed = RequestInfo.parseOriginatingIdentity(`cloudfoundry ${base64("{\"name\":\"alice\"}")}`)
    expect(parsed._tag === "Malformed" && parsed.reason).toMatch(/user_id/)
  })

  it("OID-5 a __proto__ key in the identity value does not pollute", () => {
    const raw = `cloudfoundry ${base64("{\"__proto__\": {\"polluted\": true}, \"user_id\": \"u\"}")}`
    const parsed = RequestInfo.parseOriginatingIdentity(raw)
    expect(parsed._tag).toBe("Decoded")
    if (parsed._tag === "Decoded") {
      expect(parsed.identity.value).toStrictEqual({ user_id: "u" })
      expect(prototypesAreClean(parsed.identity)).toBe(true)
    }
    expect(polluted()).toBeUndefined()
  })

  it("OID-1 formatOriginatingIdentity round-trips through the parser (property)", () => {
    FastCheck.assert(
      FastCheck.property(Arbitrary.make(Model.OriginatingIdentity), (identity) => {
        const raw = RequestInfo.formatOriginatingIdentity(identity)
        expect(raw.startsWith(`${identity.platform} `)).toBe(true)
        expect(RequestInfo.parseOriginatingIdentity(raw)).toStrictEqual({
          _tag: "Decoded",
          raw,
          identity: normalise(identity)
        })
      }),
      { numRuns }
    )
  })
})

// -----------------------------------------------------------------------------
// VER: API version
// -----------------------------------------------------------------------------

const version = (text: string) => Option.getOrThrow(RequestInfo.parseApiVersion(text))

describe("VER-2 API version parsing and ordering", () => {
  it("VER-2 2.9 < 2.10 < 2.17 < 2.100, numerically", () => {
    const ordered = ["2.9", "2.10", "2.17", "2.100"].map(version)
    for (let i = 0; i + 1 < ordered.length; i++) {
      expect(RequestInfo.compareApiVersion(ordered[i]!, ordered[i + 1]!)).toBe(-1)
      expect(RequestInfo.compareApiVersion(ordered[i + 1]!, ordered[i]!)).toBe(1)
    }
    const shuffled = ["2.100", "2.9", "2.17", "2.10", "1.99", "3.0"]
    expect(
      shuffled.map(version).sort(RequestInfo.compareApiVersion).map(RequestInfo.formatApiVersion)
    ).toEqual(["1.99", "2.9", "2.10", "2.17", "2.100", "3.0"])
    expect(RequestInfo.compareApiVersion(version("2.17"), RequestInfo.latestApiVersion)).toBe(0)
  })

  it("VER-2 parseApiVersion reads MAJOR.MINOR", () => {
    expect(RequestInfo.parseApiVersion("2.17")).toEqual(Option.some({ major: 2, minor: 17 }))
    expect(RequestInfo.parseApiVersion("2.0")).toEqual(Option.some({ major: 2, minor: 0 }))
  })

  it.each(["abc", "2", "2.", "2.17.1", " ", "", ".17", "v2.17", "2.x", "-2.17", "2.-1", "2,17", "2 .17", "２.17"])(
    "VER-4 malformed version %j is None",
    (text) => {
      expect(RequestInfo.parseApiVersion(text)).toEqual(Option.none())
    }
  )

  const component = FastCheck.integer({ min: 0, max: 999_999 })
  const versionArb = FastCheck.record({ major: component, minor: component })

  it("VER-2 format/parse round-trips (property)", () => {
    FastCheck.assert(
      FastCheck.property(versionArb, (v) => {
        expect(RequestInfo.parseApiVersion(RequestInfo.formatApiVersion(v))).toEqual(Option.some(v))
      }),
      { numRuns }
    )
  })

  it("VER-2 compare is antisymmetric and agrees with numeric tuple order (property)", () => {
    const small = FastCheck.record({ major: FastCheck.integer({ min: 0, max: 3 }), minor: component })
    FastCheck.assert(
      FastCheck.property(FastCheck.oneof(versionArb, small), FastCheck.oneof(versionArb, small), (a, b) => {
        const ab = RequestInfo.compareApiVersion(a, b)
        const ba = RequestInfo.compareApiVersion(b, a)
        expect(ab === -ba).toBe(true)
        const expected = Math.sign(a.major !== b.major ? a.major - b.major : a.minor - b.minor)
        expect(ab === expected).toBe(true)
        expect(RequestInfo.compareApiVersion(a, a)).toBe(0)
        // string comparison is the classic bug; the numeric order must not depend on it
        const parsedA = version(RequestInfo.formatApiVersion(a))
        const parsedB = version(RequestInfo.formatApiVersion(b))
        expect(RequestInfo.compareApiVersion(parsedA, parsedB) === expected).toBe(true)
      }),
      { numRuns }
    )
  })
})
