/**
 * AUTH-2 and decision 1: authentication is checked first, on every endpoint and on unknown paths.
 */
import { Effect } from "effect"
import { afterAll, describe, expect, it } from "vitest"
import { BrokerAuth, OsbError } from "../src/index.js"
import { basicAuth, clientFor, isJsonObject, PASSWORD, redacted, USER } from "./support/http.js"
import type { Reply } from "./support/http.js"
import { endpoints, recording, strayRequests } from "./support/router.js"

const badAuth: ReadonlyArray<readonly [string, string | null]> = [
  ["missing Authorization header", null],
  ["wrong password", basicAuth(USER, "not-the-password")],
  ["wrong user", basicAuth("someone-else", PASSWORD)],
  ["password without its tail after a colon", basicAuth(USER, PASSWORD.split(":")[0]!)],
  ["not Basic (Bearer)", "Bearer abcdef"],
  ["not Basic (Digest with the right credentials)", `Digest ${Buffer.from(`${USER}:${PASSWORD}`).toString("base64")}`],
  ["Basic without credentials", "Basic"],
  ["bad base64", "Basic !!!not-base64!!!"],
  ["base64 without a colon", `Basic ${Buffer.from(`${USER}${PASSWORD}`).toString("base64")}`],
  ["empty header", ""]
]

const expectUnauthorized = (reply: Reply) => {
  expect(reply.status).toBe(401)
  expect(isJsonObject(reply)).toBe(true)
  expect(reply.headers.get("www-authenticate") ?? "").toMatch(/^Basic /)
  expect(typeof reply.body.description).toBe("string")
  expect(reply.body.description.length).toBeGreaterThan(0)
}

describe("AUTH-2 (decision 1) Basic auth on every endpoint", () => {
  const broker = recording()
  const client = clientFor(broker.layer)
  afterAll(() => client.dispose())

  it.each(endpoints)("AUTH-2 $id $method $path: correct credentials pass", async (endpoint) => {
    const reply = await client.call(endpoint.method, endpoint.path, { body: endpoint.body })
    expect(reply.status).toBe(endpoint.ok)
  })

  const cases = endpoints.flatMap((endpoint) => badAuth.map(([label, header]) => ({ endpoint, label, header })))
  it.each(cases)("AUTH-2 $endpoint.id $endpoint.method $endpoint.path: $label -> 401", async ({ endpoint, header }) => {
    const before = broker.recorded.length
    const reply = await client.call(endpoint.method, endpoint.path, {
      body: endpoint.body,
      headers: { authorization: header }
    })
    expectUnauthorized(reply)
    expect(broker.recorded.length).toBe(before)
  })

  const strays = strayRequests.flatMap((stray) => badAuth.map(([label, header]) => ({ stray, label, header })))
  it.each(strays)("AUTH-2 $stray.label: $label -> 401 (not 404/405)", async ({ header, stray }) => {
    const reply = await client.call(stray.method, stray.path, { headers: { authorization: header } })
    expectUnauthorized(reply)
  })

  it("AUTH-2 the Basic scheme name is case-insensitive", async () => {
    const reply = await client.call("GET", "/v2/catalog", {
      headers: { authorization: basicAuth(USER, PASSWORD).replace(/^Basic/, "basic") }
    })
    expect(reply.status).toBe(200)
  })
})

describe("decision 1 auth is checked before the version header and the body", () => {
  const broker = recording()
  const client = clientFor(broker.layer)
  afterAll(() => client.dispose())

  it("decision 1 no version header and no auth -> 401, not 400", async () => {
    const reply = await client.call("GET", "/v2/catalog", {
      headers: { authorization: null, "x-broker-api-version": null }
    })
    expectUnauthorized(reply)
  })

  it("decision 1 malformed version header and wrong password -> 401", async () => {
    const reply = await client.call("GET", "/v2/catalog", {
      headers: { authorization: basicAuth(USER, "nope"), "x-broker-api-version": "abc" }
    })
    expectUnauthorized(reply)
  })

  it("decision 1 unsupported version (2.12) and no auth -> 401, not 412", async () => {
    const reply = await client.call("GET", "/v2/catalog", {
      headers: { authorization: null, "x-broker-api-version": "2.12" }
    })
    expectUnauthorized(reply)
  })

  it("decision 1 with valid auth the missing version header is what fails (400)", async () => {
    const reply = await client.call("GET", "/v2/catalog", { headers: { "x-broker-api-version": null } })
    expect(reply.status).toBe(400)
  })

  it("decision 1 no auth and a malformed body -> 401, not 400", async () => {
    const reply = await client.call("PUT", "/v2/service_instances/i-1", {
      raw: "{not json",
      headers: { authorization: null }
    })
    expectUnauthorized(reply)
  })

  it("decision 1 no auth and an oversized body -> 401, not 413", async () => {
    const reply = await client.call("PUT", "/v2/service_instances/i-1", {
      raw: JSON.stringify({ pad: "x".repeat(2 * 1024 * 1024) }),
      headers: { authorization: null }
    })
    expectUnauthorized(reply)
    expect(broker.recorded).toHaveLength(0)
  })
})

describe("AUTH-2 Basic credentials", () => {
  it("AUTH-2 a password containing ':' is accepted whole", async () => {
    const broker = recording()
    const auth = BrokerAuth.layerBasic([{ username: "u", password: redacted("a:b::c:") }])
    const client = clientFor(broker.layer, {}, auth)
    try {
      expect(
        (await client.call("GET", "/v2/catalog", { headers: { authorization: basicAuth("u", "a:b::c:") } })).status
      )
        .toBe(200)
      expect((await client.call("GET", "/v2/catalog", { headers: { authorization: basicAuth("u", "a:b::c") } })).status)
        .toBe(401)
      expect((await client.call("GET", "/v2/catalog", { headers: { authorization: basicAuth("u", "a") } })).status)
        .toBe(401)
    } finally {
      await client.dispose()
    }
  })

  it("AUTH-2 UTF-8 credentials are compared as UTF-8", async () => {
    const broker = recording()
    const auth = BrokerAuth.layerBasic([{ username: "jürgen", password: redacted("pässwörd✓") }])
    const client = clientFor(broker.layer, {}, auth)
    try {
      const ok = await client.call("GET", "/v2/catalog", {
        headers: { authorization: basicAuth("jürgen", "pässwörd✓") }
      })
      expect(ok.status).toBe(200)
      const bad = await client.call("GET", "/v2/catalog", {
        headers: { authorization: basicAuth("jurgen", "pässwörd✓") }
      })
      expect(bad.status).toBe(401)
    } finally {
      await client.dispose()
    }
  })

  it("AUTH-2 several credentials via layerBasic([...]) are all accepted, but not mixed", async () => {
    const broker = recording()
    const auth = BrokerAuth.layerBasic([
      { username: "alice", password: redacted("pw-alice") },
      { username: "bob", password: redacted("pw-bob") },
      { username: "carol", password: redacted("pw:carol") }
    ])
    const client = clientFor(broker.layer, {}, auth)
    const status = async (user: string, password: string) =>
      (await client.call("GET", "/v2/catalog", { headers: { authorization: basicAuth(user, password) } })).status
    try {
      expect(await status("alice", "pw-alice")).toBe(200)
      expect(await status("bob", "pw-bob")).toBe(200)
      expect(await status("carol", "pw:carol")).toBe(200)
      expect(await status("alice", "pw-bob")).toBe(401)
      expect(await status("bob", "pw-alice")).toBe(401)
      expect(await status("carol", "pw")).toBe(401)
      expect(await status(USER, PASSWORD)).toBe(401)
    } finally {
      await client.dispose()
    }
  })
})

describe("AUTH-1 other authentication layers", () => {
  const bearer = BrokerAuth.layerCustom((request) =>
    request.headers["authorization"] === "Bearer t0k3n"
      ? Effect.void
      : Effect.fail(new OsbError.Unauthorized({ description: "A valid bearer token is required." }))
  )

  it("AUTH-1 layerCustom: a bearer token verifier accepts its token on every endpoint", async () => {
    const broker = recording()
    const client = clientFor(broker.layer, {}, bearer)
    try {
      for (const endpoint of endpoints) {
        const reply = await client.call(endpoint.method, endpoint.path, {
          body: endpoint.body,
          headers: { authorization: "Bearer t0k3n" }
        })
        expect(reply.status, `${endpoint.id} ${endpoint.method} ${endpoint.path}`).toBe(endpoint.ok)
      }
    } finally {
      await client.dispose()
    }
  })

  it("AUTH-2 layerCustom: a wrong token, Basic credentials or no header -> 401 with the verifier's description", async () => {
    const broker = recording()
    const client = clientFor(broker.layer, {}, bearer)
    try {
      for (const authorization of ["Bearer wrong", basicAuth(USER, PASSWORD), null]) {
        const reply = await client.call("PUT", "/v2/service_instances/i-1", {
          body: { service_id: "svc-main", plan_id: "plan-mi", organization_guid: "o", space_guid: "s" },
          headers: { authorization }
        })
        expect(reply.status).toBe(401)
        expect(isJsonObject(reply)).toBe(true)
        expect(reply.body.description).toBe("A valid bearer token is required.")
        expect(reply.headers.get("www-authenticate")).not.toBeNull()
      }
      expect(broker.recorded).toHaveLength(0)
    } finally {
      await client.dispose()
    }
  })

  it("AUTH-1 layerCustom: the verifier sees lower-case header names", async () => {
    const seen: Array<string> = []
    const auth = BrokerAuth.layerCustom((request) =>
      Effect.sync(() => {
        seen.push(...Object.keys(request.headers))
      })
    )
    const client = clientFor(recording().layer, {}, auth)
    try {
      const reply = await client.call("GET", "/v2/catalog", { headers: { "X-Proxy-Client-Cert": "cn=platform" } })
      expect(reply.status).toBe(200)
      expect(seen).toContain("x-proxy-client-cert")
      expect(seen).toContain("x-broker-api-version")
    } finally {
      await client.dispose()
    }
  })

  it("AUTH-1 layerNone: requests without (or with any) Authorization pass; the version check still applies", async () => {
    const broker = recording()
    const client = clientFor(broker.layer, {}, BrokerAuth.layerNone)
    try {
      for (const endpoint of endpoints) {
        const reply = await client.call(endpoint.method, endpoint.path, {
          body: endpoint.body,
          headers: { authorization: null }
        })
        expect(reply.status, `${endpoint.id} ${endpoint.method} ${endpoint.path}`).toBe(endpoint.ok)
      }
      const garbage = await client.call("GET", "/v2/catalog", { headers: { authorization: "Basic !!!" } })
      expect(garbage.status).toBe(200)
      const noVersion = await client.call("GET", "/v2/catalog", {
        headers: { authorization: null, "x-broker-api-version": null }
      })
      expect(noVersion.status).toBe(400)
    } finally {
      await client.dispose()
    }
  })
})
