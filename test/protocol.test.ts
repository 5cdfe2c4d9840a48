/**
 * The protocol table (src/Protocol.ts) is complete and is what the router, the error rendering and the client
 * use: every endpoint of the table is dispatched to its operation, every route answers 405 with exactly the
 * table's methods, every error of the union is in the table and survives a render/decode round trip, and the
 * client decodes real answers (413 with its limit, 503 with its Retry-After, unknown 422 codes) faithfully.
 */
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import { Arbitrary, Cause, Effect, Exit, FastCheck, Layer, Option, Schema, Scope } from "effect"
import { createServer } from "node:http"
import type { IncomingMessage, ServerResponse } from "node:http"
import { afterAll, describe, expect, expectTypeOf, it } from "vitest"
import { BrokerAuth, OsbClient, OsbError, Protocol, Server } from "../src/index.js"
import type { ServiceBroker } from "../src/index.js"
import { clientFor, PASSWORD, redacted, USER } from "./support/http.js"
import { freePort } from "./support/net.js"
import type { Recorded } from "./support/scripted.js"
import { bindBody, OFFERING, PLAN_MI, provisionBody, scripted } from "./support/scripted.js"

// -----------------------------------------------------------------------------
// the table's shape, at the type level
// -----------------------------------------------------------------------------

describe("the protocol table is complete (types)", () => {
  it("has an endpoint for every broker operation and the catalog, and an entry for every error tag", () => {
    expectTypeOf<Protocol.OperationName>().toEqualTypeOf<keyof ServiceBroker.ServiceBrokerService>()
    expectTypeOf<Protocol.EndpointName>().toEqualTypeOf<"catalog" | keyof ServiceBroker.ServiceBrokerService>()
    expectTypeOf<keyof typeof Protocol.errors>().toEqualTypeOf<OsbError.OsbError["_tag"]>()
    expectTypeOf<Protocol.ErrorCode>().toEqualTypeOf<
      "AsyncRequired" | "ConcurrencyError" | "RequiresApp" | "MaintenanceInfoConflict"
    >()
    expectTypeOf<keyof OsbClient.OsbClientService>().toEqualTypeOf<"raw" | Protocol.EndpointName>()
    expect(Protocol.endpointNames).toHaveLength(10)
    expect(Protocol.errorTags).toHaveLength(OsbError.OsbError.members.length)
  })

  it("an error table without one tag, or with a code other than its tag, does not compile", () => {
    const { Gone: _gone, ...withoutGone } = Protocol.errors
    // @ts-expect-error every tag needs its entry
    const missing: Protocol.ErrorTable = withoutGone
    const wrongCode: Protocol.ErrorTable = {
      ...Protocol.errors,
      // @ts-expect-error the code of an error is its tag
      RequiresApp: { status: 422, code: "AsyncRequired", description: true, flags: [], headers: [] }
    }
    expect([missing, wrongCode]).toHaveLength(2)
  })

  it("the client's answers are the table's success statuses, tags and bodies", () => {
    expectTypeOf<OsbClient.AnswerOf<"provision">["_tag"]>().toEqualTypeOf<"AlreadyExists" | "Created" | "Accepted">()
    expectTypeOf<OsbClient.AnswerOf<"bind">["_tag"]>().toEqualTypeOf<"AlreadyExists" | "Created" | "Accepted">()
    expectTypeOf<OsbClient.AnswerOf<"unbind">["status"]>().toEqualTypeOf<number>()
  })
})

// -----------------------------------------------------------------------------
// the table's content, at run time
// -----------------------------------------------------------------------------

describe("the protocol table's content", () => {
  it("the error codes are exactly the four of spec §3, each a 422 whose code is its tag", () => {
    expect([...Protocol.errorCodes].sort()).toEqual(
      ["AsyncRequired", "ConcurrencyError", "MaintenanceInfoConflict", "RequiresApp"]
    )
    for (const code of Protocol.errorCodes) expect(Protocol.errors[code]).toMatchObject({ status: 422, code })
    expect(Schema.is(Protocol.ErrorCode)("RequiresApp")).toBe(true)
    expect(Schema.is(Protocol.ErrorCode)("UpdateNotSupported")).toBe(false)
  })

  it("paths, methods and labels", () => {
    expect(Protocol.buildPath("bind", ["i 1", "b/2"])).toBe("/v2/service_instances/i%201/service_bindings/b%2F2")
    expect(Protocol.label("lastBindingOperation")).toBe(
      "E10 GET /v2/service_instances/:instance_id/service_bindings/:binding_id/last_operation"
    )
    expect(Protocol.routeMethods.instance).toEqual(["PUT", "GET", "PATCH", "DELETE"])
    expect(Protocol.endpointAt("binding", "DELETE")).toBe("unbind")
    expect(Protocol.endpointAt("catalog", "PUT")).toBeUndefined()
  })

  it("the statuses each endpoint may answer", () => {
    expect(Protocol.answerableStatuses("catalog")).toEqual([200, 304, 400, 401, 412, 500, 503])
    expect(Protocol.answerableStatuses("provision")).toEqual([200, 201, 202, 400, 401, 409, 412, 413, 422, 500, 503])
    expect(Protocol.answerableStatuses("getBinding")).toEqual([200, 400, 401, 404, 412, 500, 503])
    expect(Protocol.answerableStatuses("unbind")).toEqual([200, 202, 400, 401, 410, 412, 422, 500, 503])
  })
})

// -----------------------------------------------------------------------------
// the router dispatches every endpoint of the table
// -----------------------------------------------------------------------------

const recorded: Recorded = []
const router = clientFor(scripted({}, recorded))
afterAll(() => router.dispose())

const query = (name: Protocol.EndpointName): string => {
  const spec: Protocol.EndpointSpec = Protocol.endpoints[name]
  const values: Record<Protocol.QueryParameter, string> = {
    accepts_incomplete: "true",
    service_id: OFFERING,
    plan_id: PLAN_MI,
    operation: "op-1"
  }
  const entries = Object.keys(spec.query).map((key) => [key, values[key as Protocol.QueryParameter]])
  return entries.length === 0 ? "" : `?${new URLSearchParams(entries).toString()}`
}

const bodies: { readonly [K in Protocol.EndpointName]?: unknown } = {
  provision: provisionBody(),
  update: { service_id: OFFERING, plan_id: PLAN_MI },
  bind: bindBody()
}

describe("the router dispatches every endpoint of the table", () => {
  for (const name of Protocol.endpointNames) {
    it(`${Protocol.label(name)} reaches ${name === "catalog" ? "the catalog" : `the broker's ${name}`}`, async () => {
      recorded.length = 0
      const endpoint = Protocol.endpoints[name]
      const body = bodies[name]
      const reply = await router.call(
        endpoint.method,
        `${Protocol.buildPath(name, ["inst-1", "bind-1"])}${query(name)}`,
        body === undefined ? {} : { body }
      )
      expect(Object.keys(endpoint.successes).map(Number)).toContain(reply.status)
      expect(recorded.map((r) => r.operation)).toEqual(name === "catalog" ? [] : [name])
    })
  }

  for (const route of Object.keys(Protocol.routes) as ReadonlyArray<Protocol.RouteName>) {
    it(`${Protocol.routes[route]} answers 405 with Allow: the table's methods for any other method`, async () => {
      const other = (["GET", "PUT", "PATCH", "DELETE", "POST"] as const).filter((m) =>
        !(Protocol.routeMethods[route] as ReadonlyArray<string>).includes(m)
      )
      for (const method of other) {
        const path = Protocol.routes[route].replace(":instance_id", "i-1").replace(":binding_id", "b-1")
        const reply = await router.call(method, path)
        expect(reply.status).toBe(405)
        expect(reply.headers.get("allow")).toBe(Protocol.routeMethods[route].join(", "))
      }
    })
  }
})

// -----------------------------------------------------------------------------
// the router checks each endpoint's query as the table says
// -----------------------------------------------------------------------------

/** A request to the endpoint with its query's valid values, one parameter replaced (`null`: left out). */
const callWithQuery = (name: Protocol.EndpointName, parameter: string, value: ReadonlyArray<string> | null) => {
  const valid = new URLSearchParams(query(name))
  valid.delete(parameter)
  for (const v of value ?? []) valid.append(parameter, v)
  const body = bodies[name]
  const search = valid.toString()
  return router.call(
    Protocol.endpoints[name].method,
    `${Protocol.buildPath(name, ["inst-1", "bind-1"])}${search.length === 0 ? "" : `?${search}`}`,
    body === undefined ? {} : { body }
  )
}

/** Values each kind of parameter refuses, with what the 400 says. */
const refusedValues: {
  readonly [K in Protocol.QueryParameter]: ReadonlyArray<readonly [ReadonlyArray<string>, string]>
} = {
  accepts_incomplete: [[["maybe"], "must be either true or false"], [["true", "true"], "must be either true or false"]],
  service_id: [[[""], "must not be empty"], [[OFFERING, OFFERING], "must be given at most once"]],
  plan_id: [[[""], "must not be empty"], [[PLAN_MI, PLAN_MI], "must be given at most once"]],
  operation: [[["a", "b"], "must be given at most once"]]
}

describe("the router checks each endpoint's query as the table says (Protocol.endpoints[].query)", () => {
  const parameters = Object.keys(Protocol.queryParameters) as ReadonlyArray<Protocol.QueryParameter>
  for (const name of Protocol.endpointNames) {
    const spec: Protocol.EndpointSpec = Protocol.endpoints[name]
    for (const parameter of parameters) {
      const presence = spec.query[parameter]
      if (presence === undefined) {
        it(`${Protocol.label(name)}: ${parameter} is not its parameter, so any value of it is ignored`, async () => {
          for (const [value] of refusedValues[parameter]) {
            const reply = await callWithQuery(name, parameter, value)
            expect(Object.keys(spec.successes).map(Number), reply.text).toContain(reply.status)
          }
        })
        continue
      }
      it(`${Protocol.label(name)}: ${parameter} (${presence}) is checked, a bad value is a 400 naming it`, async () => {
        for (const [value, says] of refusedValues[parameter]) {
          const reply = await callWithQuery(name, parameter, value)
          expect(reply.status, `${parameter}=${value.join("&")}`).toBe(400)
          expect(reply.body.description).toBe(`The query parameter ${parameter} ${says}.`)
        }
        const absent = await callWithQuery(name, parameter, null)
        if (presence === "required") {
          expect(absent.status).toBe(400)
          expect(absent.body.description).toBe(`The query parameter ${parameter} is required.`)
        } else {
          expect(Object.keys(spec.successes).map(Number), absent.text).toContain(absent.status)
        }
      })
    }
  }
})

// -----------------------------------------------------------------------------
// every error renders from the table and decodes back
// -----------------------------------------------------------------------------

const members = OsbError.OsbError.members as unknown as ReadonlyArray<Schema.Schema<OsbError.OsbError>>

describe("every error of the table renders from it and decodes back to itself", () => {
  for (const member of members) {
    const tag = FastCheck.sample(Arbitrary.make(member), 1)[0]!._tag
    it(`${tag}: status, code, fields and headers are the table's; decode(render(e)) renders like e`, () => {
      FastCheck.assert(
        FastCheck.property(Arbitrary.make(member), (error) => {
          // an Allow header lists method tokens: no empty names, commas or spaces to split on
          FastCheck.pre(error._tag !== "MethodNotAllowed" || error.allowed.every((m) => /^[A-Z]+$/.test(m)))
          const spec: Protocol.ErrorSpec = Protocol.errors[error._tag]
          const rendered = OsbError.toErrorResponse(error)
          expect(rendered.status).toBe(spec.status)
          expect(rendered.body.error).toBe(spec.code)
          for (const flag of ["instance_usable", "update_repeatable"] as const) {
            if (!spec.flags.includes(flag)) expect(rendered.body).not.toHaveProperty(flag)
          }
          for (const name of Object.keys(rendered.headers ?? {})) {
            expect(spec.headers as ReadonlyArray<string>).toContain(name)
          }
          const endpoints = Protocol.endpointNames.filter((name) => Protocol.answerableErrors(name).includes(tag))
          for (const endpoint of [undefined, ...endpoints]) {
            const decoded = OsbClient.errorFromResponse(rendered.status, rendered.body, {
              headers: rendered.headers ?? {},
              ...(endpoint === undefined ? {} : { endpoint })
            })
            expect(Option.isSome(decoded), `${tag} on ${endpoint}`).toBe(true)
            const back = Option.getOrThrow(decoded)
            expect(OsbError.toErrorResponse(back)).toStrictEqual(rendered)
            // the failures with flags render like BrokerFailure when they carry none: the wire cannot tell them
            // apart, and the decoder picks the plainest error that renders the same; without an endpoint a 500
            // with instance_usable alone may be an UpdateFailure or a DeprovisionFailure
            const flagged = spec.flags.some((flag) => rendered.body[flag] !== undefined)
            if (endpoint !== undefined || spec.status !== 500) {
              expect(back._tag, `${tag} on ${endpoint}`).toBe(spec.status === 500 && !flagged ? "BrokerFailure" : tag)
            }
          }
        }),
        { numRuns: 30 }
      )
    })
  }

  it("a 500 with flags is the endpoint's failure: DeprovisionFailure on deprovision, UpdateFailure on update", () => {
    const body = { description: "broke", instance_usable: false }
    const tagOn = (endpoint: Protocol.EndpointName) =>
      Option.map(OsbClient.errorFromResponse(500, body, { endpoint }), (e) => e._tag)
    expect(tagOn("deprovision")).toEqual(Option.some("DeprovisionFailure"))
    expect(tagOn("update")).toEqual(Option.some("UpdateFailure"))
    expect(tagOn("provision")).toEqual(Option.some("BrokerFailure"))
  })

  it("a status an endpoint may not answer, or an unknown 422 code, maps to no OSB error", () => {
    expect(OsbClient.errorFromResponse(409, { description: "x" }, { endpoint: "getBinding" })).toEqual(Option.none())
    expect(OsbClient.errorFromResponse(422, { error: "QuotaExceeded" }, { endpoint: "update" })).toEqual(
      Option.none()
    )
    expect(OsbClient.errorFromResponse(422, { description: "x" }, { endpoint: "provision" })).toEqual(Option.none())
  })
})

// -----------------------------------------------------------------------------
// the client decodes real answers
// -----------------------------------------------------------------------------

/** A node:http server answering every request with one canned answer. */
const cannedServer = async (
  answer: (request: IncomingMessage, response: ServerResponse) => void
): Promise<{ readonly url: string; readonly close: () => Promise<void> }> => {
  const port = await freePort()
  const server = createServer((request, response) => {
    request.resume()
    request.on("end", () => answer(request, response))
  })
  await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve))
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve()))
  }
}

const jsonAnswer =
  (status: number, body: unknown, headers: Record<string, string> = {}) =>
  (_request: IncomingMessage, response: ServerResponse) => {
    response.writeHead(status, { "content-type": "application/json", ...headers })
    response.end(JSON.stringify(body))
  }

const withClient = <A, E>(
  url: string,
  use: (client: OsbClient.OsbClientService) => Effect.Effect<A, E>
): Promise<Exit.Exit<A, E>> =>
  Effect.runPromiseExit(
    Effect.flatMap(OsbClient.make({ url, username: USER, password: PASSWORD }), use).pipe(
      Effect.provide(NodeHttpClient.layerUndici)
    )
  )

const failureOf = <A, E>(exit: Exit.Exit<A, E>): E => {
  if (Exit.isSuccess(exit)) throw new Error("expected a failure")
  return Option.getOrThrow(Cause.failureOption(exit.cause))
}

describe("the client decodes real answers with the table", () => {
  it("413 from the router: PayloadTooLarge with the router's limit and description", async () => {
    const port = await freePort()
    const layer = Server.layer({ port, requestLog: false, maxBodyBytes: 256 }).pipe(
      Layer.provide(scripted()),
      Layer.provide(BrokerAuth.layerBasic([{ username: USER, password: redacted(PASSWORD) }]))
    )
    const scope = Effect.runSync(Scope.make())
    await Effect.runPromise(Layer.buildWithScope(layer, scope))
    try {
      const exit = await withClient(
        `http://127.0.0.1:${port}`,
        (client) =>
          client.provision("big-1", {
            service_id: OFFERING,
            plan_id: PLAN_MI,
            organization_guid: "org",
            space_guid: "space",
            parameters: { padding: "x".repeat(1000) }
          })
      )
      const error = failureOf(exit)
      expect(error).toBeInstanceOf(OsbError.PayloadTooLarge)
      expect(error).toMatchObject({
        limit: 256,
        description: "The request body is larger than the limit of 256 bytes."
      })
    } finally {
      await Effect.runPromise(Scope.close(scope, Exit.void))
    }
  })

  it("304 from the router (If-None-Match with the catalog's ETag) is the table's NotModified success", async () => {
    const port = await freePort()
    const layer = Server.layer({ port, requestLog: false }).pipe(
      Layer.provide(scripted()),
      Layer.provide(BrokerAuth.layerBasic([{ username: USER, password: redacted(PASSWORD) }]))
    )
    const scope = Effect.runSync(Scope.make())
    await Effect.runPromise(Layer.buildWithScope(layer, scope))
    try {
      const url = `http://127.0.0.1:${port}`
      const first = await withClient(url, (client) => client.raw("GET", Protocol.routes.catalog))
      const etag = Exit.isSuccess(first) ? first.value.headers["etag"] : undefined
      expect(etag).toBeDefined()
      const conditional = await withClient(
        url,
        (client) => client.raw("GET", Protocol.routes.catalog, { headers: { "if-none-match": etag! } })
      )
      const status = Exit.isSuccess(conditional) ? conditional.value.status : 0
      expect(status).toBe(304)
      expect(Protocol.endpoints.catalog.successes[304]).toEqual({ answer: "NotModified", body: Protocol.NoBody })
      // the client decodes it as the table's success, and `catalog` (which returns a body) says why it has none
      const viaClient = await withClient(url, (client) => client.catalog({ headers: { "if-none-match": etag! } }))
      const error = failureOf(viaClient)
      expect(error).toBeInstanceOf(OsbClient.UnexpectedResponse)
      expect(error).toMatchObject({ status: 304, reason: expect.stringContaining("If-None-Match") })
    } finally {
      await Effect.runPromise(Scope.close(scope, Exit.void))
    }
  })

  it("503 with Retry-After: ServiceUnavailable with its seconds; an HTTP date counts from now", async () => {
    const seconds = await cannedServer(jsonAnswer(503, { description: "down for maintenance" }, { "retry-after": "7" }))
    const date = await cannedServer(
      jsonAnswer(503, { description: "later" }, { "retry-after": new Date(Date.now() + 60_000).toUTCString() })
    )
    const none = await cannedServer(jsonAnswer(503, { description: "no hint" }))
    try {
      const first = failureOf(await withClient(seconds.url, (client) => client.catalog()))
      expect(first).toBeInstanceOf(OsbError.ServiceUnavailable)
      expect(first).toMatchObject({ description: "down for maintenance", retryAfterSeconds: 7 })
      const second = failureOf(await withClient(date.url, (client) => client.getInstance("i-1")))
      expect(second).toBeInstanceOf(OsbError.ServiceUnavailable)
      const later = (second as OsbError.ServiceUnavailable).retryAfterSeconds ?? 0
      expect(later).toBeGreaterThan(50)
      expect(later).toBeLessThanOrEqual(60)
      const third = failureOf(await withClient(none.url, (client) => client.catalog()))
      expect(third).toBeInstanceOf(OsbError.ServiceUnavailable)
      expect((third as OsbError.ServiceUnavailable).retryAfterSeconds).toBeUndefined()
    } finally {
      await Promise.all([seconds.close(), date.close(), none.close()])
    }
  })

  it("422 with an unknown error code: an UnexpectedResponse that keeps the status, the code and the body", async () => {
    const body = { error: "QuotaExceeded", description: "the org has no quota left" }
    const server = await cannedServer(jsonAnswer(422, body))
    try {
      for (
        const call of [
          (client: OsbClient.OsbClientService): Effect.Effect<unknown, OsbClient.ClientError> =>
            client.provision("i-1", {
              service_id: OFFERING,
              plan_id: PLAN_MI,
              organization_guid: "o",
              space_guid: "s"
            }),
          (client: OsbClient.OsbClientService) => client.update("i-1", { service_id: OFFERING })
        ]
      ) {
        const error = failureOf(await withClient(server.url, call))
        expect(error).toBeInstanceOf(OsbClient.UnexpectedResponse)
        const unexpected = error as OsbClient.UnexpectedResponse
        expect(unexpected.status).toBe(422)
        expect(JSON.parse(unexpected.body)).toEqual(body)
        expect(unexpected.reason).toBe("the error code \"QuotaExceeded\" is not an OSB error code")
      }
    } finally {
      await server.close()
    }
  })

  it("422 without a code on update: UpdateNotSupported with instance_usable and update_repeatable", async () => {
    const server = await cannedServer(
      jsonAnswer(422, { description: "cannot shrink", instance_usable: true, update_repeatable: false })
    )
    try {
      const error = failureOf(await withClient(server.url, (client) => client.update("i-1", { service_id: OFFERING })))
      expect(error).toBeInstanceOf(OsbError.UpdateNotSupported)
      expect(error).toMatchObject({ description: "cannot shrink", instanceUsable: true, updateRepeatable: false })
    } finally {
      await server.close()
    }
  })

  it("405 with Allow: MethodNotAllowed with the allowed methods (errorFromResponse without an endpoint)", () => {
    const decoded = OsbClient.errorFromResponse(405, { description: "no" }, { headers: { allow: "GET, PUT" } })
    expect(Option.map(decoded, (e) => (e as OsbError.MethodNotAllowed).allowed)).toEqual(Option.some(["GET", "PUT"]))
  })
})
