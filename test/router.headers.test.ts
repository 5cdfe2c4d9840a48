/**
 * The three OSB request headers: X-Broker-API-Version (VER-1..4, decisions 2-3), X-Broker-API-Request-Identity
 * (RID-2) and X-Broker-API-Originating-Identity (OID-1..5, decision 10).
 */
import { Effect, Option } from "effect"
import { afterAll, describe, expect, it } from "vitest"
import { OsbError, RequestInfo, ServiceBroker } from "../src/index.js"
import { clientFor, isJsonObject } from "./support/http.js"
import type { Reply } from "./support/http.js"
import { endpoints, INSTANCE, recording } from "./support/router.js"
import { ids, provisionBody } from "./support/scripted.js"

const version = (value: string | null) => ({ headers: { "x-broker-api-version": value } })

const expectBadRequest = (reply: Reply) => {
  expect(reply.status).toBe(400)
  expect(isJsonObject(reply)).toBe(true)
  expect(reply.body.description).toMatch(/X-Broker-API-Version/)
}

describe("VER-3 (decision 2) a missing X-Broker-API-Version -> 400", () => {
  const broker = recording()
  const client = clientFor(broker.layer)
  afterAll(() => client.dispose())

  it.each(endpoints)("VER-3 $id $method $path without the header -> 400 JSON, handler not called", async (e) => {
    const before = broker.recorded.length
    const reply = await client.call(e.method, e.path, { body: e.body, ...version(null) })
    expectBadRequest(reply)
    expect(reply.body.description).toMatch(/required/)
    expect(broker.recorded.length).toBe(before)
  })

  it("VER-3 an unknown path without the header is a 400 too (the version is checked before routing)", async () => {
    expectBadRequest(await client.call("GET", "/v2/nothing", version(null)))
  })
})

describe("VER-4 (decision 2) a malformed X-Broker-API-Version -> 400", () => {
  const client = clientFor(recording().layer)
  afterAll(() => client.dispose())

  it.each(["abc", "2", "2.17.1", "", "v2.17", "2.x", "2,17", ".17", "2."])("VER-4 %j -> 400", async (value) => {
    const reply = await client.call("GET", "/v2/catalog", version(value))
    expectBadRequest(reply)
    expect(reply.body.description).not.toMatch(/required/)
  })
})

describe("VER-2 (decision 3) unsupported versions -> 412 naming the supported versions", () => {
  const client = clientFor(recording().layer)
  afterAll(() => client.dispose())

  it.each(["2.12", "2.0", "1.0", "1.17", "3.0", "3.17"])("VER-2 %s -> 412", async (value) => {
    const reply = await client.call("GET", "/v2/catalog", version(value))
    expect(reply.status).toBe(412)
    expect(isJsonObject(reply)).toBe(true)
    expect(reply.body.description).toContain(value)
    expect(reply.body.description).toContain("2.13")
    expect(reply.body.description).toContain("2.17")
  })

  it("VER-2 a 412 is answered on a mutating endpoint before the broker runs", async () => {
    const broker = recording()
    const c = clientFor(broker.layer)
    try {
      const reply = await c.call("PUT", INSTANCE, { body: provisionBody(), ...version("2.12") })
      expect(reply.status).toBe(412)
      expect(broker.recorded).toHaveLength(0)
    } finally {
      await c.dispose()
    }
  })
})

describe("VER-1 accepted versions (default minimum 2.13), compared numerically", () => {
  const broker = recording()
  const client = clientFor(broker.layer)
  afterAll(() => client.dispose())

  it.each([
    ["2.13", 13],
    ["2.14", 14],
    ["2.15", 15],
    ["2.16", 16],
    ["2.17", 17],
    ["2.100", 100]
  ])("VER-1 %s is accepted and reaches the handler as minor %i", async (value, minor) => {
    const reply = await client.call("GET", `${INSTANCE}/last_operation`, version(value))
    expect(reply.status).toBe(200)
    expect(broker.last("lastOperation").apiVersion).toEqual({ major: 2, minor })
  })
})

describe("VER-2 the configurable minimum is compared per component", () => {
  it("VER-2 minimumApiVersion 2.9 accepts 2.10 and 2.17 (a string comparison would reject them) and rejects 2.8", async () => {
    const client = clientFor(recording().layer, { minimumApiVersion: "2.9" })
    try {
      expect((await client.call("GET", "/v2/catalog", version("2.9"))).status).toBe(200)
      expect((await client.call("GET", "/v2/catalog", version("2.10"))).status).toBe(200)
      expect((await client.call("GET", "/v2/catalog", version("2.17"))).status).toBe(200)
      const old = await client.call("GET", "/v2/catalog", version("2.8"))
      expect(old.status).toBe(412)
      expect(old.body.description).toContain("2.9")
    } finally {
      await client.dispose()
    }
  })

  it("VER-2 minimumApiVersion 2.14 rejects 2.9 (a string comparison would accept it) and 2.13", async () => {
    const client = clientFor(recording().layer, { minimumApiVersion: "2.14" })
    try {
      const nine = await client.call("GET", "/v2/catalog", version("2.9"))
      expect(nine.status).toBe(412)
      expect(nine.body.description).toContain("2.14")
      expect((await client.call("GET", "/v2/catalog", version("2.13"))).status).toBe(412)
      expect((await client.call("GET", "/v2/catalog", version("2.14"))).status).toBe(200)
      expect((await client.call("GET", "/v2/catalog", version("2.100"))).status).toBe(200)
    } finally {
      await client.dispose()
    }
  })

  it("VER-4 minimumApiVersion \"none\" accepts 2.0 and 2.1, still rejects another major and still needs the header", async () => {
    const client = clientFor(recording().layer, { minimumApiVersion: "none" })
    try {
      expect((await client.call("GET", "/v2/catalog", version("2.0"))).status).toBe(200)
      expect((await client.call("GET", "/v2/catalog", version("2.1"))).status).toBe(200)
      expect((await client.call("GET", "/v2/catalog", version("3.0"))).status).toBe(412)
      expect((await client.call("GET", "/v2/catalog", version(null))).status).toBe(400)
      expect((await client.call("GET", "/v2/catalog", version("abc"))).status).toBe(400)
    } finally {
      await client.dispose()
    }
  })
})

// -----------------------------------------------------------------------------
// RID-2
// -----------------------------------------------------------------------------

describe("RID-2 X-Broker-API-Request-Identity is echoed on every response", () => {
  const RID = "e26cea1d-1d76-4a3b-bd5c-1f0a0e7e5b3c"
  const broker = recording({
    provision: (request) =>
      request.instanceId === "conflict"
        ? Effect.fail(new OsbError.Conflict({}))
        : request.instanceId === "async"
        ? Effect.succeed(ServiceBroker.Result.accepted("op-1"))
        : Effect.succeed(ServiceBroker.Result.created()),
    deprovision: () => Effect.fail(new OsbError.Gone()),
    getInstance: (request) =>
      request.instanceId === "dies"
        ? Effect.die(new Error("the handler crashed"))
        : request.instanceId === "throws"
        ? Effect.sync(() => {
          throw new Error("thrown inside the handler")
        })
        : Effect.fail(new OsbError.BrokerFailure({ description: "backend down" }))
  })
  const client = clientFor(broker.layer, { maxBodyBytes: 4096 })
  afterAll(() => client.dispose())
  const rid = (headers: Record<string, string | null> = {}) => ({ "x-broker-api-request-identity": RID, ...headers })

  const cases: ReadonlyArray<{
    readonly status: number
    readonly label: string
    readonly method: string
    readonly path: string
    readonly body?: unknown
    readonly raw?: string
    readonly headers?: Record<string, string | null>
  }> = [
    { status: 200, label: "catalog", method: "GET", path: "/v2/catalog" },
    {
      status: 201,
      label: "provision created",
      method: "PUT",
      path: "/v2/service_instances/new",
      body: provisionBody()
    },
    {
      status: 202,
      label: "provision accepted",
      method: "PUT",
      path: "/v2/service_instances/async?accepts_incomplete=true",
      body: provisionBody()
    },
    {
      status: 400,
      label: "missing version",
      method: "GET",
      path: "/v2/catalog",
      headers: { "x-broker-api-version": null }
    },
    { status: 401, label: "no auth", method: "GET", path: "/v2/catalog", headers: { authorization: null } },
    { status: 404, label: "unknown path", method: "GET", path: "/v2/nothing/here" },
    { status: 405, label: "wrong method", method: "POST", path: "/v2/catalog" },
    { status: 409, label: "conflict", method: "PUT", path: "/v2/service_instances/conflict", body: provisionBody() },
    { status: 410, label: "gone", method: "DELETE", path: `/v2/service_instances/gone?${ids}` },
    {
      status: 412,
      label: "old version",
      method: "GET",
      path: "/v2/catalog",
      headers: { "x-broker-api-version": "2.12" }
    },
    {
      status: 413,
      label: "body too large",
      method: "PUT",
      path: "/v2/service_instances/big",
      raw: JSON.stringify(provisionBody({ parameters: { pad: "x".repeat(5000) } }))
    },
    {
      status: 422,
      label: "maintenance_info conflict",
      method: "PUT",
      path: "/v2/service_instances/mi",
      body: provisionBody({ maintenance_info: { version: "9.9.9" } })
    },
    { status: 500, label: "dying handler", method: "GET", path: "/v2/service_instances/dies" },
    { status: 500, label: "throwing handler", method: "GET", path: "/v2/service_instances/throws" },
    { status: 500, label: "BrokerFailure", method: "GET", path: "/v2/service_instances/fails" }
  ]

  it.each(cases)("RID-2 $status ($label) echoes the request identity", async (c) => {
    const reply = await client.call(c.method, c.path, {
      ...(c.body === undefined ? {} : { body: c.body }),
      ...(c.raw === undefined ? {} : { raw: c.raw }),
      headers: rid(c.headers)
    })
    expect(reply.status).toBe(c.status)
    expect(reply.headers.get("x-broker-api-request-identity")).toBe(RID)
    expect(isJsonObject(reply)).toBe(true)
  })

  it("RID-2 a 304 Not Modified echoes the request identity", async () => {
    const first = await client.call("GET", "/v2/catalog")
    const etag = first.headers.get("etag")!
    const reply = await client.call("GET", "/v2/catalog", { headers: rid({ "if-none-match": etag }) })
    expect(reply.status).toBe(304)
    expect(reply.headers.get("x-broker-api-request-identity")).toBe(RID)
  })

  it("RID-2 a 500 from a dying handler has the generic body only", async () => {
    const reply = await client.call("GET", "/v2/service_instances/dies", { headers: rid() })
    expect(reply.body).toEqual({ description: "Internal broker error." })
    expect(reply.text).not.toContain("crashed")
  })

  it("RID-2 without the request header no identity header is invented", async () => {
    const reply = await client.call("GET", "/v2/catalog")
    expect(reply.status).toBe(200)
    expect(reply.headers.get("x-broker-api-request-identity")).toBeNull()
  })

  it("RID-1 the handler receives the request identity (Some) and None when absent", async () => {
    await client.call("PUT", "/v2/service_instances/with-rid", { body: provisionBody(), headers: rid() })
    expect(Option.getOrUndefined(broker.last("provision").requestIdentity)).toBe(RID)
    await client.call("PUT", "/v2/service_instances/without-rid", { body: provisionBody() })
    expect(Option.isNone(broker.last("provision").requestIdentity)).toBe(true)
  })
})

// -----------------------------------------------------------------------------
// OID
// -----------------------------------------------------------------------------

const b64 = (text: string) => Buffer.from(text, "utf8").toString("base64")
const OID = "x-broker-api-originating-identity"

describe("OID-5 (decision 10) X-Broker-API-Originating-Identity reaches the handler decoded", () => {
  const broker = recording()
  const client = clientFor(broker.layer)
  afterAll(() => client.dispose())

  const provisionWith = async (header: string | null) => {
    const reply = await client.call("PUT", INSTANCE, { body: provisionBody(), headers: { [OID]: header } })
    expect(reply.status).toBe(201)
    return broker.last("provision")
  }

  it("OID-1 a Cloud Foundry identity is decoded", async () => {
    const header = RequestInfo.formatOriginatingIdentity({ platform: "cloudfoundry", value: { user_id: "u-1" } })
    const request = await provisionWith(header)
    expect(request.originatingIdentity).toEqual({
      _tag: "Decoded",
      raw: header,
      identity: { platform: "cloudfoundry", value: { user_id: "u-1" } }
    })
  })

  it("OID-4 the spec's CF example (JSON with CRLF whitespace) is decoded", async () => {
    const encoded = b64("{ \r\n  \"user_id\": \"683ea748-3092-4ff4-b656-39cacc4d5360\"\r\n}")
    expect(encoded.startsWith("eyANCiAg")).toBe(true)
    const request = await provisionWith(`cloudfoundry ${encoded}`)
    expect(request.originatingIdentity._tag).toBe("Decoded")
    expect(request.originatingIdentity.identity.value.user_id).toBe("683ea748-3092-4ff4-b656-39cacc4d5360")
  })

  it("OID-4 the spec's Kubernetes example is decoded", async () => {
    const value = {
      username: "duke",
      uid: "c2dde242-5ce4-11e7-988c-000c2946f14f",
      groups: ["admin", "dev"],
      extra: { mydata: ["data1", "data3"] }
    }
    const request = await provisionWith(`kubernetes ${b64(JSON.stringify(value, null, 2))}`)
    expect(request.originatingIdentity._tag).toBe("Decoded")
    expect(request.originatingIdentity.identity).toEqual({ platform: "kubernetes", value })
  })

  it("OID-2 no header -> Absent", async () => {
    const request = await provisionWith(null)
    expect(request.originatingIdentity).toEqual({ _tag: "Absent" })
  })

  it.each([
    ["no space", "cloudfoundry"],
    ["value not base64", "cloudfoundry !!!***"],
    ["base64 of something that is not JSON", `cloudfoundry ${b64("not json")}`],
    ["base64 of a JSON array", `cloudfoundry ${b64("[1,2]")}`],
    ["CF identity without user_id", `cloudfoundry ${b64("{\"name\":\"x\"}")}`]
  ])("OID-5 malformed (%s): the request succeeds and the handler sees Malformed with raw and reason", async (_, h) => {
    const request = await provisionWith(h)
    expect(request.originatingIdentity._tag).toBe("Malformed")
    expect(request.originatingIdentity.raw).toBe(h)
    expect(typeof request.originatingIdentity.reason).toBe("string")
    expect(request.originatingIdentity.reason.length).toBeGreaterThan(0)
  })

  it("OID-5 the handler also gets the apiVersion and requestIdentity of the request", async () => {
    const header = RequestInfo.formatOriginatingIdentity({ platform: "cloudfoundry", value: { user_id: "u-2" } })
    const reply = await client.call("PATCH", INSTANCE, {
      body: { service_id: "svc-main" },
      headers: { [OID]: header, "x-broker-api-version": "2.15", "x-broker-api-request-identity": "rid-7" }
    })
    expect(reply.status).toBe(200)
    const request = broker.last("update")
    expect(request.apiVersion).toEqual({ major: 2, minor: 15 })
    expect(Option.getOrUndefined(request.requestIdentity)).toBe("rid-7")
    expect(request.originatingIdentity.identity.value.user_id).toBe("u-2")
  })
})

describe("OID-5 (decision 10) strictOriginatingIdentity: true", () => {
  const broker = recording()
  const client = clientFor(broker.layer, { strictOriginatingIdentity: true })
  afterAll(() => client.dispose())

  it("OID-5 strict: a malformed header -> 400 naming the header, handler not called", async () => {
    const reply = await client.call("PUT", INSTANCE, {
      body: provisionBody(),
      headers: { [OID]: `cloudfoundry ${b64("[1]")}` }
    })
    expect(reply.status).toBe(400)
    expect(isJsonObject(reply)).toBe(true)
    expect(reply.body.description).toMatch(/Originating-Identity/)
    expect(broker.calls("provision")).toHaveLength(0)
  })

  it("OID-5 strict: a well-formed header and an absent header are accepted", async () => {
    const header = RequestInfo.formatOriginatingIdentity({ platform: "cloudfoundry", value: { user_id: "u-1" } })
    expect((await client.call("PUT", INSTANCE, { body: provisionBody(), headers: { [OID]: header } })).status).toBe(201)
    expect((await client.call("PUT", INSTANCE, { body: provisionBody() })).status).toBe(201)
    expect(broker.calls("provision")).toHaveLength(2)
  })

  it("OID-5 strict: auth is still checked first (no auth + malformed identity -> 401)", async () => {
    const reply = await client.call("GET", "/v2/catalog", { headers: { authorization: null, [OID]: "garbage" } })
    expect(reply.status).toBe(401)
  })
})
