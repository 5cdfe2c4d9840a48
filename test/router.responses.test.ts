/**
 * What the router sends back: JSON objects everywhere (CT-3, decision 17), answer bodies as the broker returned
 * them, contract checks on binding answers (VAL-5), last_operation rendering (LO-4, LO-5, decision 20), the
 * catalog ETag (CAT-2), routing (404/405, URL-1, LO-3) and mounting the router in a user's own app.
 */
import { HttpApp, HttpRouter, HttpServer, HttpServerResponse } from "@effect/platform"
import { Effect, Layer, Option } from "effect"
import { afterAll, describe, expect, it } from "vitest"
import { OsbError, Router, ServiceBroker } from "../src/index.js"
import { AUTH, clientFor, isJsonObject } from "./support/http.js"
import type { Reply } from "./support/http.js"
import { basicLayer, BINDING, endpoints, INSTANCE, recording, toReply } from "./support/router.js"
import { bindBody, ids, OFFERING, OTHER_OFFERING, PLAN_OTHER, provisionBody } from "./support/scripted.js"

const expectInternal = (reply: Reply) => {
  expect(reply.status).toBe(500)
  expect(reply.headers.get("content-type")).toMatch(/^application\/json/)
  expect(reply.body).toEqual({ description: "Internal broker error." })
}

describe("CT-3 every answer is a JSON object with Content-Type application/json", () => {
  const client = clientFor(recording().layer)
  afterAll(() => client.dispose())

  it.each(endpoints)("CT-3 $id $method $path -> $ok, a JSON object", async (endpoint) => {
    const reply = await client.call(endpoint.method, endpoint.path, { body: endpoint.body })
    expect(reply.status).toBe(endpoint.ok)
    expect(reply.headers.get("content-type")).toMatch(/^application\/json/)
    expect(isJsonObject(reply)).toBe(true)
  })

  it("CT-3 200 deprovision and 200 unbind answer {} (not an empty body)", async () => {
    const deprovision = await client.call("DELETE", `${INSTANCE}?${ids}`)
    expect(deprovision.status).toBe(200)
    expect(deprovision.text).toBe("{}")
    const unbind = await client.call("DELETE", `${BINDING}?${ids}`)
    expect(unbind.status).toBe(200)
    expect(unbind.text).toBe("{}")
  })

  it("CT-3 200 update without answer fields is {}", async () => {
    const reply = await client.call("PATCH", INSTANCE, { body: { service_id: OFFERING } })
    expect(reply.status).toBe(200)
    expect(reply.text).toBe("{}")
  })

  it("CT-3 JSON error answers for 404 and 405 as well", async () => {
    for (const [method, path] of [["GET", "/v2/nothing"], ["POST", "/v2/catalog"]] as const) {
      const reply = await client.call(method, path)
      expect(reply.headers.get("content-type")).toMatch(/^application\/json/)
      expect(isJsonObject(reply)).toBe(true)
      expect(reply.body.description.length).toBeGreaterThan(0)
    }
  })
})

describe("CT-3 / decision 17 broker errors are rendered as JSON objects", () => {
  const failWith = (error: OsbError.OsbError) => () => Effect.fail(error as never)
  const cases: ReadonlyArray<{
    readonly label: string
    readonly method: string
    readonly path: string
    readonly body?: unknown
    readonly script: Record<string, unknown>
    readonly status: number
    readonly expected: Record<string, unknown>
  }> = [
    {
      label: "deprovision Gone",
      method: "DELETE",
      path: `${INSTANCE}?${ids}`,
      script: { deprovision: failWith(new OsbError.Gone()) },
      status: 410,
      expected: {}
    },
    {
      label: "unbind Gone",
      method: "DELETE",
      path: `${BINDING}?${ids}`,
      script: { unbind: failWith(new OsbError.Gone()) },
      status: 410,
      expected: {}
    },
    {
      label: "last_operation Gone (LO-7)",
      method: "GET",
      path: `${INSTANCE}/last_operation`,
      script: { lastOperation: failWith(new OsbError.Gone()) },
      status: 410,
      expected: {}
    },
    {
      label: "provision Conflict",
      method: "PUT",
      path: INSTANCE,
      body: provisionBody(),
      script: { provision: failWith(new OsbError.Conflict({})) },
      status: 409,
      expected: {}
    },
    {
      label: "provision AsyncRequired",
      method: "PUT",
      path: INSTANCE,
      body: provisionBody(),
      script: { provision: failWith(new OsbError.AsyncRequired({})) },
      status: 422,
      expected: { error: "AsyncRequired" }
    },
    {
      label: "bind RequiresApp",
      method: "PUT",
      path: BINDING,
      body: bindBody(),
      script: { bind: failWith(new OsbError.RequiresApp({})) },
      status: 422,
      expected: { error: "RequiresApp" }
    },
    {
      label: "getInstance ConcurrencyError",
      method: "GET",
      path: INSTANCE,
      script: { getInstance: failWith(new OsbError.ConcurrencyError({})) },
      status: 422,
      expected: { error: "ConcurrencyError" }
    },
    {
      label: "getBinding NotFound",
      method: "GET",
      path: BINDING,
      script: { getBinding: failWith(new OsbError.NotFound({})) },
      status: 404,
      expected: {}
    },
    {
      label: "update UpdateFailure with flags",
      method: "PATCH",
      path: INSTANCE,
      body: { service_id: OFFERING },
      script: {
        update: failWith(
          new OsbError.UpdateFailure({ description: "no", instanceUsable: false, updateRepeatable: true })
        )
      },
      status: 500,
      expected: { description: "no", instance_usable: false, update_repeatable: true }
    },
    {
      label: "deprovision DeprovisionFailure with instance_usable",
      method: "DELETE",
      path: `${INSTANCE}?${ids}`,
      script: { deprovision: failWith(new OsbError.DeprovisionFailure({ description: "no", instanceUsable: true })) },
      status: 500,
      expected: { description: "no", instance_usable: true }
    },
    {
      label: "bind BrokerFailure",
      method: "PUT",
      path: BINDING,
      body: bindBody(),
      script: { bind: failWith(new OsbError.BrokerFailure({ description: "backend down" })) },
      status: 500,
      expected: { description: "backend down" }
    }
  ]

  it.each(cases)("decision 17 $label -> $status", async (c) => {
    const client = clientFor(recording(c.script as never).layer)
    try {
      const reply = await client.call(c.method, c.path, c.body === undefined ? {} : { body: c.body })
      expect(reply.status).toBe(c.status)
      expect(reply.headers.get("content-type")).toMatch(/^application\/json/)
      expect(isJsonObject(reply)).toBe(true)
      if (c.status === 410) {
        expect(reply.text).toBe("{}")
      } else {
        expect(reply.body).toMatchObject(c.expected)
        expect(typeof reply.body.description).toBe("string")
        expect(reply.body.description.length).toBeGreaterThan(0)
      }
    } finally {
      await client.dispose()
    }
  })
})

describe("answer bodies carry what the broker returned", () => {
  const metadata = { labels: { team: "a" }, attributes: { tier: 1 } }
  const broker = recording({
    provision: (r) =>
      Effect.succeed(
        r.instanceId === "exists"
          ? ServiceBroker.Result.alreadyExists({ dashboardUrl: "https://dash/exists" })
          : r.instanceId === "async"
          ? ServiceBroker.Result.accepted("op-1", { dashboardUrl: "https://dash/async", metadata })
          : r.instanceId === "async-bare"
          ? ServiceBroker.Result.accepted()
          : r.instanceId === "null-dash"
          ? ServiceBroker.Result.created({ dashboardUrl: null })
          : ServiceBroker.Result.created({ dashboardUrl: "https://dash/1", metadata })
      ),
    update: (r) =>
      Effect.succeed(
        r.instanceId === "async"
          ? ServiceBroker.Result.accepted("op-u", { dashboardUrl: "https://dash/new" })
          : ServiceBroker.Result.updated({ dashboardUrl: "https://dash/2", metadata })
      ),
    deprovision: () => Effect.succeed(ServiceBroker.Result.deleting()),
    bind: (r) =>
      Effect.succeed(
        r.bindingId === "exists"
          ? ServiceBroker.Result.alreadyBound({ credentials: { user: "same" } })
          : r.bindingId === "async"
          ? ServiceBroker.Result.binding()
          : ServiceBroker.Result.bound({
            credentials: { user: "u", nested: { list: [1, 2] } },
            endpoints: [{ host: "db.internal", ports: ["5432", "9000-9010"], protocol: "tcp" }],
            metadata: { expires_at: "2030-01-01T00:00:00.000Z", renew_before: "2029-12-01T00:00:00.000Z" }
          })
      ),
    getInstance: () =>
      Effect.succeed({
        service_id: OFFERING,
        plan_id: "plan-mi",
        dashboard_url: "https://dash/1",
        parameters: { a: 1 }
      }),
    getBinding: () => Effect.succeed({ credentials: { user: "u" }, parameters: { p: true } })
  })
  const client = clientFor(broker.layer)
  afterAll(() => client.dispose())

  it("PRV 201 carries dashboard_url and metadata, no operation", async () => {
    const reply = await client.call("PUT", INSTANCE, { body: provisionBody() })
    expect(reply.status).toBe(201)
    expect(reply.body).toEqual({ dashboard_url: "https://dash/1", metadata })
  })

  it("PRV 200 for an identical existing instance carries its body", async () => {
    const reply = await client.call("PUT", "/v2/service_instances/exists", { body: provisionBody() })
    expect(reply.status).toBe(200)
    expect(reply.body).toEqual({ dashboard_url: "https://dash/exists" })
  })

  it("PRV 202 carries dashboard_url, operation and metadata", async () => {
    const reply = await client.call("PUT", "/v2/service_instances/async?accepts_incomplete=true", {
      body: provisionBody()
    })
    expect(reply.status).toBe(202)
    expect(reply.body).toEqual({ dashboard_url: "https://dash/async", operation: "op-1", metadata })
  })

  it("PRV 202 without an operation is {}", async () => {
    const reply = await client.call("PUT", "/v2/service_instances/async-bare?accepts_incomplete=true", {
      body: provisionBody()
    })
    expect(reply.status).toBe(202)
    expect(reply.body).toEqual({})
  })

  it("PRV a null dashboard_url is rendered as null", async () => {
    const reply = await client.call("PUT", "/v2/service_instances/null-dash", { body: provisionBody() })
    expect(reply.status).toBe(201)
    expect(reply.body).toEqual({ dashboard_url: null })
  })

  it("UPD 200 and 202 carry dashboard_url, operation and metadata", async () => {
    const sync = await client.call("PATCH", INSTANCE, { body: { service_id: OFFERING } })
    expect(sync.status).toBe(200)
    expect(sync.body).toEqual({ dashboard_url: "https://dash/2", metadata })
    const async = await client.call("PATCH", "/v2/service_instances/async?accepts_incomplete=true", {
      body: { service_id: OFFERING }
    })
    expect(async.status).toBe(202)
    expect(async.body).toEqual({ dashboard_url: "https://dash/new", operation: "op-u" })
  })

  it("DEP 202 without an operation is {}", async () => {
    const reply = await client.call("DELETE", `${INSTANCE}?${ids}&accepts_incomplete=true`)
    expect(reply.status).toBe(202)
    expect(reply.text).toBe("{}")
  })

  it("BND 201 carries the binding as returned", async () => {
    const reply = await client.call("PUT", BINDING, { body: bindBody() })
    expect(reply.status).toBe(201)
    expect(reply.body).toEqual({
      credentials: { user: "u", nested: { list: [1, 2] } },
      endpoints: [{ host: "db.internal", ports: ["5432", "9000-9010"], protocol: "tcp" }],
      metadata: { expires_at: "2030-01-01T00:00:00.000Z", renew_before: "2029-12-01T00:00:00.000Z" }
    })
  })

  it("BND 200 for an identical existing binding, 202 {} for an async bind without operation", async () => {
    const exists = await client.call("PUT", `${INSTANCE}/service_bindings/exists`, { body: bindBody() })
    expect(exists.status).toBe(200)
    expect(exists.body).toEqual({ credentials: { user: "same" } })
    const pending = await client.call("PUT", `${INSTANCE}/service_bindings/async?accepts_incomplete=true`, {
      body: bindBody()
    })
    expect(pending.status).toBe(202)
    expect(pending.body).toEqual({})
  })

  it("GI/GB fetch answers are passed through", async () => {
    const instance = await client.call("GET", INSTANCE)
    expect(instance.body).toEqual({
      service_id: OFFERING,
      plan_id: "plan-mi",
      dashboard_url: "https://dash/1",
      parameters: { a: 1 }
    })
    const binding = await client.call("GET", BINDING)
    expect(binding.body).toEqual({ credentials: { user: "u" }, parameters: { p: true } })
  })
})

describe("VAL-5 and the binding schema: invalid broker answers are defects (500)", () => {
  const bindAnswer = (binding: Record<string, unknown>) =>
    clientFor(recording({ bind: () => Effect.succeed(ServiceBroker.Result.bound(binding as never)) }).layer)
  const bindOther = (client: ReturnType<typeof clientFor>) =>
    client.call("PUT", BINDING, { body: bindBody({ service_id: OTHER_OFFERING, plan_id: PLAN_OTHER }) })

  it("VAL-5 syslog_drain_url on an offering without requires: syslog_drain -> 500", async () => {
    const client = bindAnswer({ credentials: {}, syslog_drain_url: "syslog://logs:514" })
    try {
      expectInternal(await client.call("PUT", BINDING, { body: bindBody() }))
    } finally {
      await client.dispose()
    }
  })

  it("VAL-5 syslog_drain_url on OTHER_OFFERING (requires syslog_drain) -> 201", async () => {
    const client = bindAnswer({ syslog_drain_url: "syslog://logs:514" })
    try {
      const reply = await bindOther(client)
      expect(reply.status).toBe(201)
      expect(reply.body).toEqual({ syslog_drain_url: "syslog://logs:514" })
    } finally {
      await client.dispose()
    }
  })

  it("VAL-5 route_service_url and volume_mounts without the matching requires -> 500 (on both offerings)", async () => {
    const volume = {
      driver: "nfs",
      container_dir: "/data",
      mode: "rw",
      device_type: "shared",
      device: { volume_id: "v-1" }
    }
    for (const binding of [{ route_service_url: "https://route" }, { volume_mounts: [volume] }]) {
      const client = bindAnswer(binding)
      try {
        expectInternal(await client.call("PUT", BINDING, { body: bindBody() }))
        expectInternal(await bindOther(client))
      } finally {
        await client.dispose()
      }
    }
  })

  it.each([
    ["endpoints with empty ports", { endpoints: [{ host: "h", ports: [] }] }],
    ["endpoints with a non-numeric port", { endpoints: [{ host: "h", ports: ["https"] }] }],
    ["endpoints with an empty host", { endpoints: [{ host: "", ports: ["1"] }] }],
    ["an unknown endpoint protocol", { endpoints: [{ host: "h", ports: ["1"], protocol: "sctp" }] }],
    ["credentials that are not an object", { credentials: "secret" }],
    ["renew_before after expires_at", {
      metadata: { expires_at: "2030-01-01T00:00:00.000Z", renew_before: "2031-01-01T00:00:00.000Z" }
    }],
    ["a malformed expires_at", { metadata: { expires_at: "tomorrow" } }],
    ["a volume mount with an unknown mode", {
      volume_mounts: [{
        driver: "d",
        container_dir: "/c",
        mode: "x",
        device_type: "shared",
        device: { volume_id: "v" }
      }]
    }]
  ])("BND-3 a bind answer with %s -> 500", async (_, binding) => {
    const client = bindAnswer(binding)
    try {
      expectInternal(await bindOther(client))
    } finally {
      await client.dispose()
    }
  })

  it("VAL-5 GET binding with a service_id hint of an offering without syslog_drain -> 500; with OTHER_OFFERING -> 200", async () => {
    const client = clientFor(
      recording({ getBinding: () => Effect.succeed({ syslog_drain_url: "syslog://logs:514" }) }).layer
    )
    try {
      expectInternal(await client.call("GET", `${BINDING}?service_id=${OFFERING}`))
      const ok = await client.call("GET", `${BINDING}?service_id=${OTHER_OFFERING}&plan_id=${PLAN_OTHER}`)
      expect(ok.status).toBe(200)
      expect(ok.body).toEqual({ syslog_drain_url: "syslog://logs:514" })
    } finally {
      await client.dispose()
    }
  })

  it("GB an invalid fetched binding (empty ports) -> 500", async () => {
    const client = clientFor(
      recording({ getBinding: () => Effect.succeed({ endpoints: [{ host: "h", ports: [] }] } as never) }).layer
    )
    try {
      expectInternal(await client.call("GET", BINDING))
    } finally {
      await client.dispose()
    }
  })

  it("GI an invalid fetched instance (empty service_id) -> 500", async () => {
    const client = clientFor(recording({ getInstance: () => Effect.succeed({ service_id: "" }) }).layer)
    try {
      expectInternal(await client.call("GET", INSTANCE))
    } finally {
      await client.dispose()
    }
  })
})

// -----------------------------------------------------------------------------
// last_operation
// -----------------------------------------------------------------------------

describe("LO-4 / LO-5 (decision 20) last_operation rendering", () => {
  const answer = (state: unknown) => () => Effect.succeed(state as never)
  const lastOp = async (
    state: unknown,
    options: Router.RouterOptions = {},
    path = `${INSTANCE}/last_operation`
  ): Promise<Reply> => {
    const client = clientFor(
      recording({ lastOperation: answer(state), lastBindingOperation: answer(state) }).layer,
      options
    )
    try {
      return await client.call("GET", path)
    } finally {
      await client.dispose()
    }
  }
  const BINDING_LO = `${BINDING}/last_operation`

  it.each([
    ["E6", `${INSTANCE}/last_operation`],
    ["E10", BINDING_LO]
  ])("LO-5 %s in progress: Retry-After defaults to 2", async (_, path) => {
    const reply = await lastOp({ state: "in progress", description: "50%" }, {}, path)
    expect(reply.status).toBe(200)
    expect(reply.headers.get("retry-after")).toBe("2")
    expect(reply.body).toEqual({ state: "in progress", description: "50%" })
  })

  it.each([
    ["E6", `${INSTANCE}/last_operation`],
    ["E10", BINDING_LO]
  ])("decision 20 %s in progress: the retryAfterSeconds option sets Retry-After", async (_, path) => {
    const reply = await lastOp({ state: "in progress" }, { retryAfterSeconds: 17 }, path)
    expect(reply.headers.get("retry-after")).toBe("17")
    expect(reply.body).toEqual({ state: "in progress" })
  })

  it.each([
    ["E6", `${INSTANCE}/last_operation`],
    ["E10", BINDING_LO]
  ])("decision 20 %s in progress: a per-answer retryAfterSeconds wins over the option", async (_, path) => {
    const reply = await lastOp({ state: "in progress", retryAfterSeconds: 45 }, { retryAfterSeconds: 17 }, path)
    expect(reply.headers.get("retry-after")).toBe("45")
    expect(reply.body).toEqual({ state: "in progress" })
  })

  it.each([
    ["E6 succeeded", `${INSTANCE}/last_operation`, { state: "succeeded" }],
    ["E6 failed", `${INSTANCE}/last_operation`, { state: "failed", operation: "provision" }],
    ["E10 succeeded", BINDING_LO, { state: "succeeded" }],
    ["E10 failed", BINDING_LO, { state: "failed" }]
  ])("LO-5 %s: no Retry-After", async (_, path, state) => {
    const reply = await lastOp(state, {}, path)
    expect(reply.status).toBe(200)
    expect(reply.headers.get("retry-after")).toBeNull()
    expect(reply.body.state).toBe(state.state)
  })

  it("LO-4 failed update: instance_usable and update_repeatable are rendered", async () => {
    const reply = await lastOp({
      state: "failed",
      operation: "update",
      description: "quota",
      instanceUsable: false,
      updateRepeatable: false
    })
    expect(reply.body).toEqual({
      state: "failed",
      description: "quota",
      instance_usable: false,
      update_repeatable: false
    })
  })

  it("LO-4 failed update with only instanceUsable renders only instance_usable", async () => {
    const reply = await lastOp({ state: "failed", operation: "update", instanceUsable: true })
    expect(reply.body).toEqual({ state: "failed", instance_usable: true })
  })

  it("LO-4 failed deprovision: instance_usable only (update_repeatable is never rendered)", async () => {
    const reply = await lastOp({
      state: "failed",
      operation: "deprovision",
      instanceUsable: false,
      updateRepeatable: false
    })
    expect(reply.body).toEqual({ state: "failed", instance_usable: false })
  })

  it("LO-4 failed provision: neither flag, even if the handler sets them", async () => {
    const reply = await lastOp({
      state: "failed",
      operation: "provision",
      description: "boom",
      instanceUsable: false,
      updateRepeatable: false
    })
    expect(reply.body).toEqual({ state: "failed", description: "boom" })
  })

  it("LO-4 succeeded and in progress: neither flag, even if the handler sets them", async () => {
    const sloppy = { operation: "update", instanceUsable: false, updateRepeatable: false }
    expect((await lastOp({ state: "succeeded", ...sloppy })).body).toEqual({ state: "succeeded" })
    expect((await lastOp({ state: "in progress", ...sloppy })).body).toEqual({ state: "in progress" })
  })

  it("LO-4 the binding endpoint (E10) never renders the flags", async () => {
    const sloppy = { operation: "update", instanceUsable: false, updateRepeatable: false }
    const reply = await lastOp({ state: "failed", description: "x", ...sloppy }, {}, BINDING_LO)
    expect(reply.body).toEqual({ state: "failed", description: "x" })
  })

  it("LO-4 an empty description is left out", async () => {
    expect((await lastOp({ state: "succeeded", description: "" })).body).toEqual({ state: "succeeded" })
  })
})

// -----------------------------------------------------------------------------
// CAT-2
// -----------------------------------------------------------------------------

describe("CAT-2 GET /v2/catalog supports ETag / If-None-Match", () => {
  const client = clientFor(recording().layer)
  afterAll(() => client.dispose())
  const catalogWith = (ifNoneMatch: string, headers: Record<string, string | null> = {}) =>
    client.call("GET", "/v2/catalog", { headers: { "if-none-match": ifNoneMatch, ...headers } })

  it("CAT-2 the catalog has a strong ETag that is stable across requests", async () => {
    const first = await client.call("GET", "/v2/catalog")
    const second = await client.call("GET", "/v2/catalog")
    const etag = first.headers.get("etag")
    expect(etag).toMatch(/^"[^"]+"$/)
    expect(second.headers.get("etag")).toBe(etag)
  })

  it("CAT-2 If-None-Match with the ETag -> 304 with the ETag and no body", async () => {
    const etag = (await client.call("GET", "/v2/catalog")).headers.get("etag")!
    const reply = await catalogWith(etag)
    expect(reply.status).toBe(304)
    expect(reply.headers.get("etag")).toBe(etag)
    expect(reply.text).toBe("")
  })

  it("CAT-2 the weak form, a list containing the tag, and * -> 304", async () => {
    const etag = (await client.call("GET", "/v2/catalog")).headers.get("etag")!
    expect((await catalogWith(`W/${etag}`)).status).toBe(304)
    expect((await catalogWith(`"other", ${etag}`)).status).toBe(304)
    expect((await catalogWith("*")).status).toBe(304)
  })

  it("CAT-2 another tag -> 200 with the catalog", async () => {
    const reply = await catalogWith("\"not-the-tag\"")
    expect(reply.status).toBe(200)
    expect(reply.body.services).toHaveLength(2)
  })

  it("CAT-2 a conditional request still needs auth and the version header", async () => {
    const etag = (await client.call("GET", "/v2/catalog")).headers.get("etag")!
    expect((await catalogWith(etag, { authorization: null })).status).toBe(401)
    expect((await catalogWith(etag, { "x-broker-api-version": null })).status).toBe(400)
  })
})

// -----------------------------------------------------------------------------
// routing
// -----------------------------------------------------------------------------

describe("routing: 404 and 405", () => {
  const broker = recording()
  const client = clientFor(broker.layer)
  afterAll(() => client.dispose())

  it.each([
    "/v2/nothing",
    "/v2",
    "/v3/catalog",
    "/catalog",
    "/v2/catalog/extra",
    "/v2/service_instances",
    "/v2/service_instances/i-1/foo",
    "/v2/service_instances/i-1/service_bindings",
    "/v2/service_instances/i-1/service_bindings/b-1/foo",
    "/v2/service_instances/i-1/service_bindings/b-1/last_operation/x"
  ])("routing unknown path GET %s -> 404 JSON", async (path) => {
    const reply = await client.call("GET", path)
    expect(reply.status).toBe(404)
    expect(isJsonObject(reply)).toBe(true)
    expect(reply.body.description.length).toBeGreaterThan(0)
  })

  it.each([
    ["POST", "/v2/catalog", "GET"],
    ["DELETE", "/v2/catalog", "GET"],
    ["POST", INSTANCE, "PUT, GET, PATCH, DELETE"],
    ["PATCH", BINDING, "PUT, GET, DELETE"],
    ["POST", BINDING, "PUT, GET, DELETE"],
    ["PUT", `${INSTANCE}/last_operation`, "GET"],
    ["DELETE", `${BINDING}/last_operation`, "GET"]
  ])("routing %s %s -> 405 JSON with Allow: %s", async (method, path, allow) => {
    const reply = await client.call(method, path, method === "DELETE" ? {} : { body: {} })
    expect(reply.status).toBe(405)
    expect(isJsonObject(reply)).toBe(true)
    expect(reply.headers.get("allow")).toBe(allow)
    expect(reply.body.description).toContain(allow)
    expect(broker.recorded).toHaveLength(0)
  })
})

describe("URL-1 / LO-3 percent-encoded path and query values reach the handler decoded", () => {
  const broker = recording({
    provision: (r) =>
      Effect.succeed(r.acceptsIncomplete ? ServiceBroker.Result.accepted("a b/c?d") : ServiceBroker.Result.created())
  })
  const client = clientFor(broker.layer)
  afterAll(() => client.dispose())

  it("URL-1 instance_id a%20b%2Fc -> \"a b/c\"", async () => {
    const reply = await client.call("PUT", "/v2/service_instances/a%20b%2Fc", { body: provisionBody() })
    expect(reply.status).toBe(201)
    expect(broker.last("provision").instanceId).toBe("a b/c")
  })

  it("URL-1 a 202 operation \"a b/c?d\" round-trips through ?operation=a%20b%2Fc%3Fd", async () => {
    const accepted = await client.call("PUT", "/v2/service_instances/x?accepts_incomplete=true", {
      body: provisionBody()
    })
    expect(accepted.status).toBe(202)
    expect(accepted.body.operation).toBe("a b/c?d")
    const reply = await client.call(
      "GET",
      `/v2/service_instances/x/last_operation?operation=${encodeURIComponent(accepted.body.operation)}`
    )
    expect(reply.status).toBe(200)
    expect(encodeURIComponent("a b/c?d")).toBe("a%20b%2Fc%3Fd")
    expect(Option.getOrUndefined(broker.last("lastOperation").operation)).toBe("a b/c?d")
  })

  it("URL-1 ids in every path position are decoded (E3..E10)", async () => {
    const inst = "/v2/service_instances/i%20%C3%A9%2F1"
    const bind = `${inst}/service_bindings/b%3F%25%231`
    const calls: ReadonlyArray<readonly [string, string, string, unknown?]> = [
      ["GET", inst, "getInstance"],
      ["PATCH", inst, "update", { service_id: OFFERING }],
      ["DELETE", `${inst}?${ids}`, "deprovision"],
      ["GET", `${inst}/last_operation`, "lastOperation"],
      ["PUT", bind, "bind", bindBody()],
      ["GET", bind, "getBinding"],
      ["DELETE", `${bind}?${ids}`, "unbind"],
      ["GET", `${bind}/last_operation`, "lastBindingOperation"]
    ]
    for (const [method, path, operation, body] of calls) {
      const reply = await client.call(method, path, body === undefined ? {} : { body })
      expect(reply.status, `${method} ${path}`).toBeLessThan(300)
      const request = broker.last(operation)
      expect(request.instanceId, operation).toBe("i é/1")
      if (path.startsWith(bind)) expect(request.bindingId, operation).toBe("b?%#1")
    }
  })

  it.each([
    ["E6", "/v2/service_instances/x/last_operation", "lastOperation"],
    ["E10", "/v2/service_instances/x/service_bindings/y/last_operation", "lastBindingOperation"]
  ])("LO-3 %s without operation -> the handler gets None; empty -> None; repeated -> 400", async (_, path, op) => {
    expect((await client.call("GET", path)).status).toBe(200)
    expect(Option.isNone(broker.last(op).operation)).toBe(true)
    expect((await client.call("GET", `${path}?operation=`)).status).toBe(200)
    expect(Option.isNone(broker.last(op).operation)).toBe(true)
    expect((await client.call("GET", `${path}?operation=op-7`)).status).toBe(200)
    expect(Option.getOrUndefined(broker.last(op).operation)).toBe("op-7")
    const repeated = await client.call("GET", `${path}?operation=a&operation=b`)
    expect(repeated.status).toBe(400)
    expect(isJsonObject(repeated)).toBe(true)
  })
})

// -----------------------------------------------------------------------------
// mounting
// -----------------------------------------------------------------------------

describe("mounting Router.make().router under a prefix in the user's own HttpRouter", () => {
  const broker = recording()
  const built = Effect.runPromise(
    Router.make({ requestLog: false }).pipe(Effect.provide(Layer.merge(broker.layer, basicLayer)))
  )
  const userApp = (router: HttpRouter.HttpRouter<never, never>) =>
    HttpRouter.empty.pipe(
      HttpRouter.get("/health", HttpServerResponse.json({ ok: true })),
      HttpRouter.mount("/broker", router)
    )
  const headers = (extra: Record<string, string> = {}) => ({
    authorization: AUTH,
    "x-broker-api-version": "2.17",
    ...extra
  })

  it("Router.make() returns { router, app }: app is complete (JSON 404), router is only the ten endpoints", async () => {
    const result = await built
    expect(HttpRouter.TypeId in result.router).toBe(true)
    const { dispose, handler } = HttpApp.toWebHandlerLayer(result.app, HttpServer.layerContext)
    try {
      const catalog = await toReply(await handler(new Request("http://app.test/v2/catalog", { headers: headers() })))
      expect(catalog.status).toBe(200)
      const unknown = await toReply(await handler(new Request("http://app.test/v2/nothing", { headers: headers() })))
      expect(unknown.status).toBe(404)
      expect(isJsonObject(unknown)).toBe(true)
    } finally {
      await dispose()
    }
  })

  it("served with HttpApp.toWebHandlerLayer: the user's route and /broker/v2/catalog both work, auth enforced", async () => {
    const { router } = await built
    const { dispose, handler } = HttpApp.toWebHandlerLayer(userApp(router), HttpServer.layerContext)
    try {
      const health = await toReply(await handler(new Request("http://app.test/health")))
      expect(health.status).toBe(200)
      expect(health.body).toEqual({ ok: true })
      const catalog = await toReply(
        await handler(new Request("http://app.test/broker/v2/catalog", { headers: headers() }))
      )
      expect(catalog.status).toBe(200)
      expect(catalog.body.services).toHaveLength(2)
      const anonymous = await toReply(
        await handler(new Request("http://app.test/broker/v2/catalog", { headers: { "x-broker-api-version": "2.17" } }))
      )
      expect(anonymous.status).toBe(401)
      expect(anonymous.headers.get("www-authenticate")).not.toBeNull()
      const noVersion = await toReply(
        await handler(new Request("http://app.test/broker/v2/catalog", { headers: { authorization: AUTH } }))
      )
      expect(noVersion.status).toBe(400)
    } finally {
      await dispose()
    }
  })

  it("served with toWebHandlerLayerWith + HttpServer.layerContext: mounted endpoints see params and queries", async () => {
    const { dispose, handler } = HttpApp.toWebHandlerLayerWith(
      Layer.merge(broker.layer, basicLayer).pipe(
        Layer.merge(HttpServer.layerContext)
      ),
      {
        toHandler: (runtime) =>
          Effect.map(
            Effect.provide(Router.make({ requestLog: false }), runtime),
            ({ router }) => userApp(router)
          )
      }
    )
    try {
      const put = await toReply(
        await handler(
          new Request("http://app.test/broker/v2/service_instances/m%201?accepts_incomplete=false", {
            method: "PUT",
            headers: headers({ "content-type": "application/json", "x-broker-api-request-identity": "rid-m" }),
            body: JSON.stringify(provisionBody())
          })
        )
      )
      expect(put.status).toBe(201)
      expect(put.headers.get("x-broker-api-request-identity")).toBe("rid-m")
      expect(broker.last("provision").instanceId).toBe("m 1")
      const del = await toReply(
        await handler(
          new Request(`http://app.test/broker/v2/service_instances/m%201?${ids}`, {
            method: "DELETE",
            headers: headers()
          })
        )
      )
      expect(del.status).toBe(200)
      expect(broker.last("deprovision").plan.id).toBe("plan-mi")
      const anonymous = await toReply(
        await handler(new Request("http://app.test/broker/v2/service_instances/m%201", { headers: {} }))
      )
      expect(anonymous.status).toBe(401)
      const health = await handler(new Request("http://app.test/health"))
      expect(health.status).toBe(200)
    } finally {
      await dispose()
    }
  })
})
