/**
 * Property: for random malformed bodies, headers, query strings and ids on every endpoint, the router answers a
 * JSON object with a status below 500, never a 5xx, never a crash.
 */
import { FastCheck as fc, Layer } from "effect"
import { afterAll, describe, expect, it } from "vitest"
import * as Quickstart from "../examples/handwritten-broker.js"
import { AUTH, clientFor } from "./support/http.js"
import { bindBody, OFFERING, PLAN_MI, PLAN_OTHER, provisionBody, scripted } from "./support/scripted.js"

const printable = fc.string({ unit: fc.constantFrom(..."abcXYZ019 -_.:;,/?#%&=+\"'{}[]<>\\|~`!@$^*()"), maxLength: 24 })

const idArb = fc.oneof(
  fc.constantFrom("i-1", "b-1", "a%20b", "%2F", "%zz", "%", "..", "last_operation", "service_bindings"),
  fc.string({ maxLength: 20 }).filter((s) => s.length > 0).map(encodeURIComponent),
  fc.string({ minLength: 300, maxLength: 600 }).map(encodeURIComponent)
)

const pathArb = fc.tuple(idArb, idArb, fc.integer({ min: 0, max: 6 })).map(([i, b, shape]) => {
  switch (shape) {
    case 0:
      return "/v2/catalog"
    case 1:
    case 2:
      return `/v2/service_instances/${i}`
    case 3:
      return `/v2/service_instances/${i}/last_operation`
    case 4:
      return `/v2/service_instances/${i}/service_bindings/${b}`
    case 5:
      return `/v2/service_instances/${i}/service_bindings/${b}/last_operation`
    default:
      return `/v2/${i}/${b}`
  }
})

const queryValueArb = fc.oneof(
  fc.constantFrom(OFFERING, PLAN_MI, PLAN_OTHER, "", "true", "false", "TRUE", "1", "null"),
  printable.map(encodeURIComponent)
)
const queryArb = fc.array(
  fc.tuple(
    fc.constantFrom("service_id", "plan_id", "accepts_incomplete", "operation", "x", "__proto__"),
    queryValueArb
  ),
  { maxLength: 6 }
).map((pairs) => (pairs.length === 0 ? "" : "?" + pairs.map(([k, v]) => `${k}=${v}`).join("&")))

const deep = (depth: number): unknown => {
  let v: unknown = 1
  for (let i = 0; i < depth; i++) v = { a: v }
  return v
}

const validish = fc.constantFrom(
  provisionBody(),
  bindBody(),
  { service_id: OFFERING },
  provisionBody({ plan_id: PLAN_OTHER })
)
const mutated = fc.tuple(
  validish,
  fc.constantFrom(
    "service_id",
    "plan_id",
    "parameters",
    "context",
    "maintenance_info",
    "bind_resource",
    "previous_values",
    "organization_guid",
    "app_guid",
    "predecessor_binding_id",
    "__proto__",
    "x-vendor"
  ),
  fc.jsonValue({ maxDepth: 3 })
).map(([body, key, value]) => JSON.stringify({ ...body, [key]: value }))

const bodyArb = fc.oneof(
  mutated,
  fc.jsonValue({ maxDepth: 4 }).map((v) => JSON.stringify(v)),
  printable,
  fc.constantFrom(
    "",
    "{",
    "null",
    "[]",
    "\"x\"",
    "{\"__proto__\":{\"polluted\":true},\"service_id\":\"svc-main\",\"plan_id\":\"plan-mi\"}",
    JSON.stringify(deep(200)),
    JSON.stringify({ ...provisionBody(), parameters: deep(100) }),
    JSON.stringify({ ...provisionBody(), context: { platform: "kubernetes", __proto__: 1 } })
  )
)

const headerValue = fc.oneof(printable, fc.constantFrom("2.17", "2.13", "2.100", "2.12", "3.0", "abc", ""))
const headersArb = fc.record({
  version: fc.oneof(
    { arbitrary: fc.constant("2.17"), weight: 4 },
    { arbitrary: fc.constant(undefined), weight: 1 },
    { arbitrary: headerValue, weight: 1 }
  ),
  auth: fc.oneof(
    { arbitrary: fc.constant(AUTH), weight: 6 },
    { arbitrary: fc.constant(undefined), weight: 1 },
    { arbitrary: printable.map((s) => `Basic ${s}`), weight: 1 }
  ),
  identity: fc.option(printable, { nil: undefined }),
  originating: fc.option(fc.oneof(printable, fc.constantFrom("cloudfoundry eyJ1c2VyX2lkIjoiMSJ9", "kubernetes e30=")), {
    nil: undefined
  }),
  contentType: fc.option(fc.constantFrom("application/json", "text/plain", "application/x-www-form-urlencoded", ""), {
    nil: undefined
  })
})

const requestArb = fc.record({
  method: fc.constantFrom("GET", "PUT", "PATCH", "DELETE", "POST", "OPTIONS"),
  path: pathArb,
  query: queryArb,
  headers: headersArb,
  body: fc.option(bodyArb, { nil: undefined })
})

const targets = {
  "scripted broker": scripted(),
  "quick start broker": Layer.fresh(Quickstart.layer)
}

describe.each(Object.entries(targets))("fuzz: %s", (_name, layer) => {
  const client = clientFor(layer)
  afterAll(() => client.dispose())

  it("random requests on every endpoint never get a 5xx, always a JSON object", async () => {
    const statuses = new Map<number, number>()
    await fc.assert(
      fc.asyncProperty(requestArb, async (r) => {
        const headers: Record<string, string | null> = {
          "x-broker-api-version": r.headers.version ?? null,
          authorization: r.headers.auth ?? null,
          "content-type": r.headers.contentType ?? null
        }
        if (r.headers.identity !== undefined) headers["x-broker-api-request-identity"] = r.headers.identity
        if (r.headers.originating !== undefined) headers["x-broker-api-originating-identity"] = r.headers.originating
        const hasBody = r.body !== undefined && r.method !== "GET"
        const reply = await client.call(r.method, r.path + r.query, {
          headers,
          ...(hasBody ? { raw: r.body! } : {})
        })
        expect(reply.status, `${r.method} ${r.path}${r.query} -> ${reply.status} ${reply.text}`).toBeLessThan(500)
        expect(reply.headers.get("content-type")).toMatch(/^application\/json/)
        expect(typeof reply.body === "object" && reply.body !== null && !Array.isArray(reply.body)).toBe(true)
        expect(({} as Record<string, unknown>).polluted).toBeUndefined()
        statuses.set(reply.status, (statuses.get(reply.status) ?? 0) + 1)
      }),
      { numRuns: 400 }
    )
    // the generator reaches the handlers, not only the early rejections
    expect([...statuses.keys()].some((s) => s < 300)).toBe(true)
    expect(statuses.get(400) ?? 0).toBeGreaterThan(10)
  })
})
