/**
 * Request bodies: JSON objects only (CT-1, CT-2, PRV-1), field errors that name the path, unknown fields
 * ignored (EXT-1), size limits (413), content types (decision 11), hostile JSON, and GET/DELETE without
 * bodies (CT-4, decision 12).
 */
import { afterAll, describe, expect, it } from "vitest"
import { clientFor, isJsonObject } from "./support/http.js"
import type { Reply } from "./support/http.js"
import { BINDING, chunkedStream, INSTANCE, jsonBytes, rawClientFor, recording } from "./support/router.js"
import { bindBody, ids, OFFERING, PLAN_MI, provisionBody } from "./support/scripted.js"
import { transport } from "./support/transport.js"

const MiB = 1024 * 1024

const bodyEndpoints = [
  { id: "E2", method: "PUT", path: INSTANCE, valid: provisionBody(), operation: "provision", ok: 201 },
  { id: "E4", method: "PATCH", path: INSTANCE, valid: { service_id: OFFERING }, operation: "update", ok: 200 },
  { id: "E7", method: "PUT", path: BINDING, valid: bindBody(), operation: "bind", ok: 201 }
] as const

const expect400 = (reply: Reply) => {
  expect(reply.status).toBe(400)
  expect(isJsonObject(reply)).toBe(true)
  expect(typeof reply.body.description).toBe("string")
  expect(reply.body.description.length).toBeGreaterThan(0)
}

/** A JSON text of exactly `size` bytes: the given object with a `pad` string parameter. */
const paddedTo = (base: Record<string, unknown>, size: number, filler = "x"): string => {
  const empty = JSON.stringify({ ...base, parameters: { pad: "" } })
  const fillerBytes = Buffer.byteLength(filler, "utf8")
  const missing = size - Buffer.byteLength(empty, "utf8")
  if (missing < 0 || missing % fillerBytes !== 0) throw new Error(`cannot pad to ${size} bytes with ${filler}`)
  const text = JSON.stringify({ ...base, parameters: { pad: filler.repeat(missing / fillerBytes) } })
  if (Buffer.byteLength(text, "utf8") !== size) throw new Error("padding arithmetic is wrong")
  return text
}

describe("CT-2 / PRV-1 the body must be a JSON object", () => {
  const broker = recording()
  const client = clientFor(broker.layer)
  afterAll(() => client.dispose())

  const notObjects: ReadonlyArray<readonly [string, string]> = [
    ["an array", "[]"],
    ["an array of the right object", JSON.stringify([provisionBody()])],
    ["a string", "\"service_id\""],
    ["a number", "42"],
    ["null", "null"],
    ["true", "true"],
    ["empty", ""],
    ["whitespace only", "  \n "]
  ]
  const malformed: ReadonlyArray<readonly [string, string]> = [
    ["an unterminated object", "{\"service_id\": \"svc-main\""],
    ["a missing value", "{\"service_id\":}"],
    ["single quotes", "{'service_id': 'svc-main'}"],
    ["trailing garbage", "{} x"],
    ["a trailing comma", "{\"service_id\": \"svc-main\",}"]
  ]

  for (const endpoint of bodyEndpoints) {
    it(`CT-2 ${endpoint.id} ${endpoint.method}: the valid body passes (${endpoint.ok})`, async () => {
      const reply = await client.call(endpoint.method, endpoint.path, { body: endpoint.valid })
      expect(reply.status).toBe(endpoint.ok)
    })
    it.each(notObjects)(`CT-2 ${endpoint.id} ${endpoint.method}: body %s -> 400`, async (_, raw) => {
      const before = broker.recorded.length
      expect400(await client.call(endpoint.method, endpoint.path, { raw }))
      expect(broker.recorded.length).toBe(before)
    })
    it.each(malformed)(`PRV-1 ${endpoint.id} ${endpoint.method}: malformed JSON (%s) -> 400`, async (_, raw) => {
      const before = broker.recorded.length
      const reply = await client.call(endpoint.method, endpoint.path, { raw })
      expect400(reply)
      expect(reply.body.description).toMatch(/JSON/)
      expect(broker.recorded.length).toBe(before)
    })
  }
})

describe("PRV-1 wrong types and missing required fields -> 400 naming the field path", () => {
  const broker = recording()
  const client = clientFor(broker.layer)
  afterAll(() => client.dispose())

  const cases: ReadonlyArray<{
    readonly label: string
    readonly method: string
    readonly path: string
    readonly body: Record<string, unknown>
    readonly field: string
  }> = [
    {
      label: "provision without service_id",
      method: "PUT",
      path: INSTANCE,
      body: { plan_id: PLAN_MI },
      field: "service_id"
    },
    {
      label: "provision without plan_id",
      method: "PUT",
      path: INSTANCE,
      body: { service_id: OFFERING, organization_guid: "o", space_guid: "s" },
      field: "plan_id"
    },
    {
      label: "provision with a numeric service_id",
      method: "PUT",
      path: INSTANCE,
      body: provisionBody({ service_id: 7 }),
      field: "service_id"
    },
    {
      label: "provision with a context without platform",
      method: "PUT",
      path: INSTANCE,
      body: provisionBody({ context: { organization_guid: "o" } }),
      field: "context.platform"
    },
    {
      label: "provision with a numeric context.platform",
      method: "PUT",
      path: INSTANCE,
      body: provisionBody({ context: { platform: 1 } }),
      field: "context.platform"
    },
    {
      label: "provision with a string context",
      method: "PUT",
      path: INSTANCE,
      body: provisionBody({ context: "cloudfoundry" }),
      field: "context"
    },
    {
      label: "provision with maintenance_info without version",
      method: "PUT",
      path: INSTANCE,
      body: provisionBody({ maintenance_info: { description: "x" } }),
      field: "maintenance_info.version"
    },
    {
      label: "provision with a numeric maintenance_info.version",
      method: "PUT",
      path: INSTANCE,
      body: provisionBody({ maintenance_info: { version: 1 } }),
      field: "maintenance_info.version"
    },
    {
      label: "provision with array parameters",
      method: "PUT",
      path: INSTANCE,
      body: provisionBody({ parameters: [1] }),
      field: "parameters"
    },
    {
      label: "provision with an empty organization_guid",
      method: "PUT",
      path: INSTANCE,
      body: provisionBody({ organization_guid: "" }),
      field: "organization_guid"
    },
    {
      label: "update without service_id",
      method: "PATCH",
      path: INSTANCE,
      body: { plan_id: PLAN_MI },
      field: "service_id"
    },
    {
      label: "update with a numeric previous_values.plan_id",
      method: "PATCH",
      path: INSTANCE,
      body: { service_id: OFFERING, previous_values: { plan_id: 5 } },
      field: "previous_values.plan_id"
    },
    {
      label: "update with maintenance_info.version null",
      method: "PATCH",
      path: INSTANCE,
      body: { service_id: OFFERING, maintenance_info: { version: null } },
      field: "maintenance_info.version"
    },
    {
      label: "update with a boolean plan_id",
      method: "PATCH",
      path: INSTANCE,
      body: { service_id: OFFERING, plan_id: true },
      field: "plan_id"
    },
    {
      label: "bind with an empty bind_resource.app_guid",
      method: "PUT",
      path: BINDING,
      body: bindBody({ bind_resource: { app_guid: "" } }),
      field: "bind_resource.app_guid"
    },
    {
      label: "bind with a numeric bind_resource.app_guid",
      method: "PUT",
      path: BINDING,
      body: bindBody({ bind_resource: { app_guid: 12 } }),
      field: "bind_resource.app_guid"
    },
    {
      label: "bind with a string bind_resource",
      method: "PUT",
      path: BINDING,
      body: bindBody({ bind_resource: "app-1" }),
      field: "bind_resource"
    },
    {
      label: "bind with an empty context.platform",
      method: "PUT",
      path: BINDING,
      body: bindBody({ context: { platform: "" } }),
      field: "context.platform"
    },
    {
      label: "bind with a numeric predecessor_binding_id",
      method: "PUT",
      path: BINDING,
      body: bindBody({ predecessor_binding_id: 3 }),
      field: "predecessor_binding_id"
    },
    { label: "bind without plan_id", method: "PUT", path: BINDING, body: { service_id: OFFERING }, field: "plan_id" }
  ]

  it.each(cases)("PRV-1 $label -> 400 naming $field", async (c) => {
    const before = broker.recorded.length
    const reply = await client.call(c.method, c.path, { body: c.body })
    expect400(reply)
    const escaped = c.field.replace(/[.[\]]/g, "\\$&")
    expect(reply.body.description).toMatch(new RegExp(`(^|[\\s:;])${escaped}:`))
    expect(broker.recorded.length).toBe(before)
  })

  it("PRV-1 several problems are all named", async () => {
    const reply = await client.call("PUT", INSTANCE, {
      body: { service_id: 1, plan_id: 2, context: {}, organization_guid: "o", space_guid: "s" }
    })
    expect400(reply)
    expect(reply.body.description).toContain("service_id")
    expect(reply.body.description).toContain("plan_id")
    expect(reply.body.description).toContain("context.platform")
  })
})

describe("EXT-1 unknown fields are ignored", () => {
  const broker = recording()
  const client = clientFor(broker.layer)
  afterAll(() => client.dispose())

  it("EXT-1 provision with x-vendor-foo and unknown nested fields -> 201", async () => {
    const reply = await client.call("PUT", INSTANCE, {
      body: provisionBody({
        "x-vendor-foo": 1,
        "x-vendor-bar": { deep: [1, 2, { x: null }] },
        context: { platform: "cloudfoundry", "x-vendor-ctx": true, organization_guid: "o" },
        maintenance_info: { version: "1.2.0", description: "d", "x-vendor-mi": "y" }
      })
    })
    expect(reply.status).toBe(201)
    expect(broker.last("provision").body.service_id).toBe(OFFERING)
  })

  it("EXT-1 update with unknown fields in the body and in previous_values -> 200", async () => {
    const reply = await client.call("PATCH", INSTANCE, {
      body: { service_id: OFFERING, "x-vendor-foo": "bar", previous_values: { plan_id: PLAN_MI, "x-vendor": 1 } }
    })
    expect(reply.status).toBe(200)
  })

  it("EXT-1 bind with unknown fields in the body and in bind_resource -> 201", async () => {
    const reply = await client.call("PUT", BINDING, {
      body: bindBody({ "x-vendor-foo": [1], bind_resource: { app_guid: "app-1", "x-vendor-res": {} } })
    })
    expect(reply.status).toBe(201)
  })
})

describe("CT-1 / CT-2 (decision 11) Content-Type", () => {
  const broker = recording()
  const client = rawClientFor(broker.layer)
  afterAll(() => client.dispose())

  for (const endpoint of bodyEndpoints) {
    it(`decision 11 ${endpoint.id} ${endpoint.method}: no Content-Type -> the body is parsed as JSON`, async () => {
      const reply = await client.send(endpoint.path, { method: endpoint.method, body: jsonBytes(endpoint.valid) })
      expect(reply.status).toBe(endpoint.ok)
    })
    it(`CT-2 ${endpoint.id} ${endpoint.method}: Content-Type text/plain -> 400 (even with a JSON body)`, async () => {
      const before = broker.recorded.length
      const reply = await client.send(endpoint.path, {
        method: endpoint.method,
        body: jsonBytes(endpoint.valid),
        headers: { "content-type": "text/plain" }
      })
      expect400(reply)
      expect(reply.body.description).toMatch(/Content-Type/)
      expect(broker.recorded.length).toBe(before)
    })
  }

  it("CT-2 a string body gets text/plain from the Request API and is refused (400)", async () => {
    const reply = await client.send(INSTANCE, { method: "PUT", body: JSON.stringify(provisionBody()) })
    expect400(reply)
  })

  it.each(["application/x-www-form-urlencoded", "multipart/form-data; boundary=x", "application/jsonx", "json"])(
    "CT-2 Content-Type %s -> 400",
    async (contentType) => {
      const reply = await client.send(INSTANCE, {
        method: "PUT",
        body: jsonBytes(provisionBody()),
        headers: { "content-type": contentType }
      })
      expect400(reply)
    }
  )

  it.each([
    "application/json",
    "application/json; charset=utf-8",
    "application/json;charset=UTF-8",
    "Application/JSON"
  ])(
    "CT-1 Content-Type %s is accepted",
    async (contentType) => {
      const reply = await client.send(INSTANCE, {
        method: "PUT",
        body: jsonBytes(provisionBody()),
        headers: { "content-type": contentType }
      })
      expect(reply.status).toBe(201)
    }
  )
})

describe("413 request bodies over the limit", () => {
  const broker = recording()
  const client = rawClientFor(broker.layer)
  const small = rawClientFor(broker.layer, { maxBodyBytes: 300 })
  afterAll(async () => {
    await client.dispose()
    await small.dispose()
  })

  const put = (target: typeof client, text: string, headers: Record<string, string> = {}) =>
    target.send(INSTANCE, {
      method: "PUT",
      body: new TextEncoder().encode(text),
      headers: { "content-type": "application/json", ...headers }
    })
  const expect413 = (reply: Reply) => {
    expect(reply.status).toBe(413)
    expect(isJsonObject(reply)).toBe(true)
    expect(reply.body.description).toMatch(/larger than/)
  }

  it("413 default limit 1 MiB: a body of exactly 1 MiB is accepted", async () => {
    expect((await put(client, paddedTo(provisionBody(), MiB))).status).toBe(201)
  })

  it("413 default limit 1 MiB: 1 MiB + 1 byte without a Content-Length header -> 413", async () => {
    const before = broker.recorded.length
    expect413(await put(client, paddedTo(provisionBody(), MiB + 1)))
    expect(broker.recorded.length).toBe(before)
  })

  it("413 default limit 1 MiB: 1 MiB + 1 byte with its Content-Length header -> 413", async () => {
    const text = paddedTo(provisionBody(), MiB + 1)
    expect413(await put(client, text, { "content-length": String(MiB + 1) }))
  })

  it("413 default limit: a 3 MiB body streamed in chunks (no Content-Length) -> 413", async () => {
    const reply = await client.send(INSTANCE, {
      method: "PUT",
      body: chunkedStream(new TextEncoder().encode(paddedTo(provisionBody(), 3 * MiB))),
      headers: { "content-type": "application/json" }
    })
    expect413(reply)
  })

  it("413 a Content-Length declaring more than the limit -> 413 without reading the body", async () => {
    expect413(await put(client, JSON.stringify(provisionBody()), { "content-length": String(2 * MiB) }))
  })

  it("413 maxBodyBytes 300: a body of exactly 300 bytes is accepted", async () => {
    expect((await put(small, paddedTo(provisionBody(), 300))).status).toBe(201)
  })

  it("413 maxBodyBytes 300: 301 bytes without a Content-Length header -> 413", async () => {
    expect413(await put(small, paddedTo(provisionBody(), 301)))
  })

  it("413 maxBodyBytes 300: 301 bytes with a Content-Length header -> 413", async () => {
    expect413(await put(small, paddedTo(provisionBody(), 301), { "content-length": "301" }))
  })

  it("413 maxBodyBytes 300: a Content-Length that understates the body does not bypass the limit", async () => {
    const reply = await put(small, paddedTo(provisionBody(), 600), { "content-length": "100" })
    if (transport === "web") {
      // in process the whole body reaches the router: it counts the bytes it got
      expect413(reply)
    } else {
      // over a socket the HTTP parser ends the body at the declared length (the router gets 100 bytes of broken
      // JSON) and the rest is not a valid next request: a JSON 400 either way, nothing past the limit is read
      expect(reply.status, reply.text).toBe(400)
      expect(reply.body?.description, reply.text).toMatch(/not valid JSON|not valid HTTP/)
    }
  })

  it("413 maxBodyBytes 300: the limit counts UTF-8 bytes, not characters (no Content-Length)", async () => {
    // 2-byte characters: fewer than 300 characters, but more than 300 bytes
    const text = paddedTo(provisionBody(), 400, "é")
    expect(text.length).toBeLessThanOrEqual(300)
    expect(Buffer.byteLength(text, "utf8")).toBe(400)
    expect413(await put(small, text))
  })

  it("413 maxBodyBytes 300: the limit counts UTF-8 bytes, not characters (with Content-Length)", async () => {
    const text = paddedTo(provisionBody(), 400, "é")
    expect413(await put(small, text, { "content-length": "400" }))
  })

  it("413 maxBodyBytes 300 applies to PATCH and to bind as well", async () => {
    const patch = paddedTo({ service_id: OFFERING }, 301)
    expect413(
      await small.send(INSTANCE, {
        method: "PATCH",
        body: new TextEncoder().encode(patch),
        headers: { "content-type": "application/json" }
      })
    )
    expect413(
      await small.send(BINDING, {
        method: "PUT",
        body: new TextEncoder().encode(paddedTo(bindBody(), 301)),
        headers: { "content-type": "application/json" }
      })
    )
  })
})

describe("hostile JSON never yields a 5xx", () => {
  const broker = recording()
  const client = clientFor(broker.layer)
  afterAll(() => client.dispose())

  const nested = (levels: number): string => "{\"a\":".repeat(levels) + "1" + "}".repeat(levels)

  it("__proto__ keys at the top level, in parameters and in context: accepted, nothing polluted", async () => {
    const raw =
      "{\"service_id\":\"svc-main\",\"plan_id\":\"plan-mi\",\"organization_guid\":\"o\",\"space_guid\":\"s\"," +
      "\"__proto__\":{\"polluted\":1}," +
      "\"parameters\":{\"__proto__\":{\"polluted\":2},\"constructor\":{\"prototype\":{\"polluted\":3}},\"a\":1}," +
      "\"context\":{\"platform\":\"cloudfoundry\",\"__proto__\":{\"polluted\":4}}}"
    const reply = await client.call("PUT", INSTANCE, { raw })
    expect(reply.status).toBeLessThan(500)
    expect(reply.status).toBe(201)
    const body = broker.last("provision").body
    expect(({} as any).polluted).toBeUndefined()
    expect(Object.getPrototypeOf(body)).toBe(Object.prototype)
    expect(Object.getPrototypeOf(body.parameters)).toBe(Object.prototype)
    expect(body.parameters.polluted).toBeUndefined()
    expect(body.parameters.a).toBe(1)
    expect(body.context.polluted).toBeUndefined()
  })

  it("__proto__ keys in a bind body and in an update body: no 5xx", async () => {
    const bind = "{\"service_id\":\"svc-main\",\"plan_id\":\"plan-mi\",\"__proto__\":{\"x\":1}," +
      "\"bind_resource\":{\"app_guid\":\"a\",\"__proto__\":{\"app_guid\":\"\"}},\"parameters\":{\"__proto__\":[]}}"
    const bindReply = await client.call("PUT", BINDING, { raw: bind })
    expect(bindReply.status).toBeLessThan(500)
    const update = "{\"service_id\":\"svc-main\",\"__proto__\":{\"plan_id\":\"plan-other\"},\"previous_values\":" +
      "{\"__proto__\":{\"plan_id\":\"plan-fixed\"}}}"
    const updateReply = await client.call("PATCH", INSTANCE, { raw: update })
    expect(updateReply.status).toBeLessThan(500)
    expect(({} as any).x).toBeUndefined()
    expect(({} as any).plan_id).toBeUndefined()
  })

  it("nesting of exactly 64 levels (the body object included) is accepted", async () => {
    const raw = JSON.stringify(provisionBody()).replace(/}$/, `,"parameters":${nested(63)}}`)
    const reply = await client.call("PUT", INSTANCE, { raw })
    expect(reply.status).toBe(201)
  })

  it("nesting deeper than 64 levels -> 400", async () => {
    const raw = JSON.stringify(provisionBody()).replace(/}$/, `,"parameters":${nested(64)}}`)
    const reply = await client.call("PUT", INSTANCE, { raw })
    expect400(reply)
    expect(reply.body.description).toMatch(/nested/)
  })

  it("deeply nested arrays in an unknown field -> 400", async () => {
    const raw = JSON.stringify(provisionBody()).replace(/}$/, `,"x-vendor":${"[".repeat(200)}${"]".repeat(200)}}`)
    expect400(await client.call("PUT", INSTANCE, { raw }))
  })

  it.each([
    ["PUT", INSTANCE],
    ["PATCH", INSTANCE],
    ["PUT", BINDING]
  ])("100,000 levels of nesting on %s %s -> 4xx, never 5xx", async (method, path) => {
    const reply = await client.call(method, path, { raw: nested(100_000) })
    expect(reply.status).toBeGreaterThanOrEqual(400)
    expect(reply.status).toBeLessThan(500)
    expect(isJsonObject(reply)).toBe(true)
  })

  it("a huge number, lone surrogates and a NUL character: no 5xx", async () => {
    const raw = JSON.stringify(provisionBody({ parameters: { n: 1 } })).replace("1}", "1e999999}")
      .replace("org-1", "org-\\ud800\\u0000")
    const reply = await client.call("PUT", INSTANCE, { raw })
    expect(reply.status).toBeLessThan(500)
  })
})

describe("CT-4 (decision 12) GET and DELETE with Content-Type: application/json and no body", () => {
  const broker = recording()
  const client = rawClientFor(broker.layer)
  afterAll(() => client.dispose())

  it.each([
    ["E1", "GET", "/v2/catalog"],
    ["E3", "GET", INSTANCE],
    ["E5", "DELETE", `${INSTANCE}?${ids}`],
    ["E6", "GET", `${INSTANCE}/last_operation`],
    ["E8", "GET", BINDING],
    ["E9", "DELETE", `${BINDING}?${ids}`],
    ["E10", "GET", `${BINDING}/last_operation`]
  ])("CT-4 %s %s %s -> 200", async (_, method, path) => {
    const reply = await client.send(path, { method, headers: { "content-type": "application/json" } })
    expect(reply.status).toBe(200)
    expect(isJsonObject(reply)).toBe(true)
  })

  it.each([
    ["E5", `${INSTANCE}?${ids}`],
    ["E9", `${BINDING}?${ids}`]
  ])("decision 12 %s DELETE with a body that is not JSON: the body is ignored (200)", async (_, path) => {
    const reply = await client.send(path, {
      method: "DELETE",
      body: new TextEncoder().encode("this is { not json"),
      headers: { "content-type": "application/json" }
    })
    expect(reply.status).toBe(200)
  })
})
