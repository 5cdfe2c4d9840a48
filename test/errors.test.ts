import { Arbitrary, Effect, FastCheck, Layer, Logger, LogLevel, Schema } from "effect"
import { afterAll, describe, expect, it } from "vitest"
import { Model, OsbError, ServiceBroker } from "../src/index.js"
import type { Reply } from "./support/http.js"
import { clientFor, isJsonObject } from "./support/http.js"
import { bindBody, ids, provisionBody, scripted } from "./support/scripted.js"

type Tag = OsbError.OsbError["_tag"]
type Operation = keyof typeof ServiceBroker.allowedErrors

// -----------------------------------------------------------------------------
// the expectations, written down independently of src/OsbError.ts
// -----------------------------------------------------------------------------

/** §3 and the error classes' documentation: the status of every tag. */
const statusOf: Record<Tag, number> = {
  BadRequest: 400,
  Unauthorized: 401,
  NotFound: 404,
  MethodNotAllowed: 405,
  Conflict: 409,
  Gone: 410,
  PreconditionFailed: 412,
  PayloadTooLarge: 413,
  AsyncRequired: 422,
  ConcurrencyError: 422,
  RequiresApp: 422,
  MaintenanceInfoConflict: 422,
  UpdateNotSupported: 422,
  BrokerFailure: 500,
  UpdateFailure: 500,
  DeprovisionFailure: 500,
  ServiceUnavailable: 503
}

/** §3: the tags that carry an `error` code (the code is the tag). */
const coded: ReadonlyArray<Tag> = ["AsyncRequired", "ConcurrencyError", "RequiresApp", "MaintenanceInfoConflict"]
/** §3: `instance_usable` only after a failed update or deprovision. */
const mayCarryInstanceUsable: ReadonlyArray<Tag> = ["UpdateNotSupported", "UpdateFailure", "DeprovisionFailure"]
/** §3: `update_repeatable` only after a failed update. */
const mayCarryUpdateRepeatable: ReadonlyArray<Tag> = ["UpdateNotSupported", "UpdateFailure"]

/**
 * The broker-side status matrix of docs/requirements.md §15 (error rows only), plus the LIB decisions: 404 on PATCH of
 * an unknown instance (decision 25), 404 on bind to an unknown instance (decision 26), 422 ConcurrencyError on PUT
 * and GET instance during deprovision (decisions 27, 28), and 500 (broker failure) everywhere.
 * `"422:Code"` is a 422 with that `error` code, `"422"` a 422 without a code.
 */
const matrix: Record<Operation, ReadonlyArray<string>> = {
  // E2
  provision: ["400", "409", "422:AsyncRequired", "422:MaintenanceInfoConflict", "422:ConcurrencyError", "500"],
  // E4
  update: ["400", "404", "422:AsyncRequired", "422:MaintenanceInfoConflict", "422:ConcurrencyError", "422", "500"],
  // E5
  deprovision: ["400", "410", "422:AsyncRequired", "422:ConcurrencyError", "500"],
  // E3
  getInstance: ["404", "422:ConcurrencyError", "500"],
  // E6
  lastOperation: ["400", "404", "410", "500"],
  // E7
  bind: ["400", "404", "409", "422:AsyncRequired", "422:RequiresApp", "422:ConcurrencyError", "500"],
  // E8
  getBinding: ["404", "500"],
  // E9
  unbind: ["400", "410", "422:AsyncRequired", "422:ConcurrencyError", "500"],
  // E10
  lastBindingOperation: ["400", "404", "410", "500"]
}

const operations = Object.keys(matrix) as ReadonlyArray<Operation>

/** One instance per tag a broker may fail with, and the exact body it must produce. */
const samples: Partial<Record<Tag, { readonly error: OsbError.OsbError; readonly body: Model.ErrorBody }>> = {
  BadRequest: {
    error: new OsbError.BadRequest({ description: "parameters.size must be a number" }),
    body: { description: "parameters.size must be a number" }
  },
  NotFound: {
    error: new OsbError.NotFound({ description: "no such instance" }),
    body: { description: "no such instance" }
  },
  Conflict: {
    error: new OsbError.Conflict({ description: "exists with other parameters" }),
    body: { description: "exists with other parameters" }
  },
  Gone: { error: new OsbError.Gone(), body: {} },
  AsyncRequired: {
    error: new OsbError.AsyncRequired({ description: "only async" }),
    body: { error: "AsyncRequired", description: "only async" }
  },
  ConcurrencyError: {
    error: new OsbError.ConcurrencyError({ description: "busy" }),
    body: { error: "ConcurrencyError", description: "busy" }
  },
  RequiresApp: {
    error: new OsbError.RequiresApp({ description: "needs an app" }),
    body: { error: "RequiresApp", description: "needs an app" }
  },
  MaintenanceInfoConflict: {
    error: new OsbError.MaintenanceInfoConflict({ description: "version moved on" }),
    body: { error: "MaintenanceInfoConflict", description: "version moved on" }
  },
  UpdateNotSupported: {
    error: new OsbError.UpdateNotSupported({
      description: "cannot shrink",
      instanceUsable: true,
      updateRepeatable: false
    }),
    body: { description: "cannot shrink", instance_usable: true, update_repeatable: false }
  },
  BrokerFailure: {
    error: new OsbError.BrokerFailure({ description: "backend unavailable" }),
    body: { description: "backend unavailable" }
  },
  UpdateFailure: {
    error: new OsbError.UpdateFailure({
      description: "update broke it",
      instanceUsable: false,
      updateRepeatable: true
    }),
    body: { description: "update broke it", instance_usable: false, update_repeatable: true }
  },
  DeprovisionFailure: {
    error: new OsbError.DeprovisionFailure({ description: "delete failed", instanceUsable: false }),
    body: { description: "delete failed", instance_usable: false }
  }
}

const sample = (tag: Tag) => {
  const found = samples[tag]
  if (found === undefined) throw new Error(`no sample for ${tag}`)
  return found
}

/** The members of the OsbError schema union, as schemas of OsbError. */
const members = OsbError.OsbError.members as unknown as ReadonlyArray<Schema.Schema<OsbError.OsbError, any>>

const matrixKey = (response: OsbError.ErrorResponse) =>
  response.body.error === undefined ? String(response.status) : `${response.status}:${response.body.error}`

// -----------------------------------------------------------------------------
// the error table
// -----------------------------------------------------------------------------

describe("ERR the error table is total", () => {
  it("the OsbError schema union has a member for every tag of the table and nothing else", () => {
    const memberTags = members.map((member) => FastCheck.sample(Arbitrary.make(member), 1)[0]!._tag)
    expect([...memberTags].sort()).toEqual(Object.keys(OsbError.errorTable).sort())
    expect([...memberTags].sort()).toEqual(Object.keys(statusOf).sort())
  })

  for (const member of members) {
    const tag = FastCheck.sample(Arbitrary.make(member), 1)[0]!._tag
    it(`§3 ${tag}: every instance renders a valid error response (property)`, () => {
      FastCheck.assert(
        FastCheck.property(Arbitrary.make(member), (error) => {
          expect(OsbError.isOsbError(error)).toBe(true)
          const response = OsbError.toErrorResponse(error)
          expect(response.status).toBeGreaterThanOrEqual(400)
          expect(response.status).toBeLessThanOrEqual(599)
          expect(response.status).toBe(statusOf[tag])
          const body = response.body as Record<string, unknown>
          expect(typeof body === "object" && body !== null && !Array.isArray(body)).toBe(true)
          expect(Object.getPrototypeOf(body)).toBe(Object.prototype)
          expect(JSON.parse(JSON.stringify(body))).toStrictEqual(body)
          expect(Schema.decodeUnknownSync(Model.ErrorBody, { onExcessProperty: "error" })(body)).toStrictEqual(
            body
          )
          if (tag === "Gone") {
            expect(body).toStrictEqual({})
          } else {
            expect(typeof body.description).toBe("string")
            expect((body.description as string).length).toBeGreaterThan(0)
          }
          if (coded.includes(tag)) {
            expect(body.error).toBe(tag)
            expect(response.status).toBe(422)
          } else {
            expect(body).not.toHaveProperty("error")
          }
          if (!mayCarryInstanceUsable.includes(tag)) expect(body).not.toHaveProperty("instance_usable")
          if (!mayCarryUpdateRepeatable.includes(tag)) expect(body).not.toHaveProperty("update_repeatable")
          const flags = error as { readonly instanceUsable?: boolean; readonly updateRepeatable?: boolean }
          if (mayCarryInstanceUsable.includes(tag)) expect(body.instance_usable).toBe(flags.instanceUsable)
          if (mayCarryUpdateRepeatable.includes(tag)) expect(body.update_repeatable).toBe(flags.updateRepeatable)
          if ("description" in error && typeof error.description === "string") {
            expect(body.description).toBe(error.description)
          }
        }),
        { numRuns: 50 }
      )
    })
  }

  it("ERR-3 errors without a description get a default text", () => {
    const defaults: ReadonlyArray<OsbError.OsbError> = [
      new OsbError.Unauthorized({}),
      new OsbError.NotFound({}),
      new OsbError.Conflict({}),
      new OsbError.AsyncRequired({}),
      new OsbError.ConcurrencyError({}),
      new OsbError.RequiresApp({}),
      new OsbError.MaintenanceInfoConflict({})
    ]
    for (const error of defaults) {
      const description = OsbError.toErrorResponse(error).body.description
      expect(typeof description === "string" && description.length > 10).toBe(true)
    }
  })

  it("headers: 401 asks for Basic auth, 405 lists the methods, 503 gives Retry-After", () => {
    expect(OsbError.toErrorResponse(new OsbError.Unauthorized({})).headers?.["www-authenticate"]).toMatch(/^Basic /)
    const notAllowed = OsbError.toErrorResponse(new OsbError.MethodNotAllowed({ allowed: ["GET", "PUT"] }))
    expect(notAllowed.headers?.allow).toBe("GET, PUT")
    const unavailable = OsbError.toErrorResponse(
      new OsbError.ServiceUnavailable({ description: "shutting down", retryAfterSeconds: 30 })
    )
    expect(unavailable.headers?.["retry-after"]).toBe("30")
  })

  it("the defect response is a 500 with a fixed generic body", () => {
    expect(OsbError.internalErrorResponse).toStrictEqual({
      status: 500,
      body: { description: "Internal broker error." }
    })
  })

  it("isOsbError recognises instances only (not plain objects, other errors, or Object.prototype member tags)", () => {
    expect(OsbError.isOsbError(new OsbError.Gone())).toBe(true)
    expect(OsbError.isOsbError({ _tag: "Gone" })).toBe(false)
    expect(OsbError.isOsbError(new Error("Gone"))).toBe(false)
    expect(OsbError.isOsbError(Object.assign(new Error("x"), { _tag: "toString" }))).toBe(false)
    expect(OsbError.isOsbError(null)).toBe(false)
  })
})

// -----------------------------------------------------------------------------
// allowed errors per operation vs the status matrix
// -----------------------------------------------------------------------------

describe("§15 allowed errors per operation map to statuses the endpoint allows", () => {
  it("allowedErrors covers exactly the nine broker operations", () => {
    expect(Object.keys(ServiceBroker.allowedErrors).sort()).toEqual([...operations].sort())
  })

  for (const operation of operations) {
    it(`§15 ${operation}: every allowed error renders to a status of its endpoint`, () => {
      for (const tag of ServiceBroker.allowedErrors[operation] as ReadonlyArray<Tag>) {
        const response = OsbError.toErrorResponse(sample(tag).error)
        expect(matrix[operation], `${operation} may fail with ${tag}`).toContain(matrixKey(response))
      }
    })

    it(`§15 ${operation}: every error status of the matrix can be produced by an allowed error`, () => {
      const produced = new Set(
        (ServiceBroker.allowedErrors[operation] as ReadonlyArray<Tag>).map((tag) =>
          matrixKey(OsbError.toErrorResponse(sample(tag).error))
        )
      )
      for (const entry of matrix[operation]) expect(produced, `${operation} can answer ${entry}`).toContain(entry)
    })
  }

  it("§3 instance_usable / update_repeatable only on operations that allow them", () => {
    for (const operation of operations) {
      for (const tag of ServiceBroker.allowedErrors[operation] as ReadonlyArray<Tag>) {
        if (mayCarryInstanceUsable.includes(tag)) expect(["update", "deprovision"]).toContain(operation)
        if (mayCarryUpdateRepeatable.includes(tag)) expect(operation).toBe("update")
      }
    }
  })

  it("§3 every error code is allowed exactly where the spec lists it", () => {
    const where = (tag: Tag) =>
      operations.filter((operation) => (ServiceBroker.allowedErrors[operation] as ReadonlyArray<Tag>).includes(tag))
        .sort()
    expect(where("AsyncRequired")).toEqual(["bind", "deprovision", "provision", "unbind", "update"])
    expect(where("RequiresApp")).toEqual(["bind"])
    expect(where("MaintenanceInfoConflict")).toEqual(["provision", "update"])
    expect(where("BrokerFailure")).toEqual([...operations].sort())
  })
})

// -----------------------------------------------------------------------------
// over HTTP
// -----------------------------------------------------------------------------

/** What the scripted broker does next, for every operation. */
let behaviour: () => Effect.Effect<never, any> = () => Effect.die("no behaviour set")
const next = () => Effect.suspend(() => behaviour())

const quiet = Logger.minimumLogLevel(LogLevel.None)
const client = clientFor(
  Layer.merge(
    scripted({
      provision: next,
      deprovision: next,
      update: next,
      getInstance: next,
      lastOperation: next,
      bind: next,
      unbind: next,
      getBinding: next,
      lastBindingOperation: next
    }),
    quiet
  )
)
afterAll(() => client.dispose())

const requests: Record<
  Operation,
  { readonly method: string; readonly path: string; readonly body?: unknown; readonly route: string }
> = {
  provision: { method: "PUT", path: "/v2/service_instances/i-1", body: provisionBody(), route: "E2" },
  getInstance: { method: "GET", path: "/v2/service_instances/i-1", route: "E3" },
  update: { method: "PATCH", path: "/v2/service_instances/i-1", body: { service_id: "svc-main" }, route: "E4" },
  deprovision: { method: "DELETE", path: `/v2/service_instances/i-1?${ids}`, route: "E5" },
  lastOperation: { method: "GET", path: "/v2/service_instances/i-1/last_operation", route: "E6" },
  bind: { method: "PUT", path: "/v2/service_instances/i-1/service_bindings/b-1", body: bindBody(), route: "E7" },
  getBinding: { method: "GET", path: "/v2/service_instances/i-1/service_bindings/b-1", route: "E8" },
  unbind: { method: "DELETE", path: `/v2/service_instances/i-1/service_bindings/b-1?${ids}`, route: "E9" },
  lastBindingOperation: {
    method: "GET",
    path: "/v2/service_instances/i-1/service_bindings/b-1/last_operation",
    route: "E10"
  }
}

const send = (operation: Operation): Promise<Reply> => {
  const request = requests[operation]
  return client.call(request.method, request.path, request.body === undefined ? {} : { body: request.body })
}

const noLeak = (reply: Reply) => {
  expect(reply.text).not.toMatch(/secret/i)
  expect(reply.text).not.toMatch(/internal detail/i)
  expect(reply.text).not.toMatch(/\bat\s+\S+\s+\(|\.ts:\d+|\.js:\d+|Error:/)
  reply.headers.forEach((value) => expect(value).not.toMatch(/secret/i))
}

describe("over HTTP: handler errors", () => {
  it("the scripted client reaches the handler for every operation", async () => {
    for (const operation of operations) {
      let called = false
      behaviour = () => {
        called = true
        return Effect.fail(sample("BrokerFailure").error)
      }
      const reply = await send(operation)
      expect(called, `${operation} handler called`).toBe(true)
      expect(reply.status).toBe(500)
    }
  })

  for (const operation of operations) {
    for (const tag of ServiceBroker.allowedErrors[operation] as ReadonlyArray<Tag>) {
      it(`§15 ${requests[operation].route} ${operation} failing with ${tag} answers ${statusOf[tag]} and its body`, async () => {
        const { body, error } = sample(tag)
        behaviour = () => Effect.fail(error)
        const reply = await send(operation)
        expect(reply.status).toBe(statusOf[tag])
        expect(matrix[operation]).toContain(
          reply.body?.error === undefined ? String(reply.status) : `${reply.status}:${reply.body.error}`
        )
        expect(isJsonObject(reply)).toBe(true)
        expect(reply.body).toStrictEqual(body)
        if (tag === "Gone") expect(reply.text).toBe("{}")
      })
    }
  }
})

describe("over HTTP: defects", () => {
  const defects: ReadonlyArray<readonly [string, () => Effect.Effect<never, any>]> = [
    ["dies", () => Effect.die(new Error("secret internal detail"))],
    ["throws inside Effect.sync", () =>
      Effect.sync(() => {
        throw new Error("secret internal detail")
      })],
    ["throws before returning an effect", () => {
      throw new Error("secret internal detail")
    }],
    ["dies with a non-Error value", () => Effect.die({ password: "secret internal detail" })],
    // failures outside the declared error types (a JavaScript broker, or an `as any`) are defects too
    ["fails with an Error outside its error types", () => Effect.fail(new Error("secret internal detail"))],
    [
      "fails with a foreign tagged error",
      () => Effect.fail(Object.assign(new Error("secret internal detail"), { _tag: "DatabaseError" }))
    ]
  ]

  for (const operation of operations) {
    for (const [how, run] of defects) {
      it(`${requests[operation].route} ${operation}: a handler that ${how} yields 500 with a generic body`, async () => {
        behaviour = run
        const reply = await send(operation)
        expect(reply.status).toBe(500)
        expect(reply.text).toBe("{\"description\":\"Internal broker error.\"}")
        expect(isJsonObject(reply)).toBe(true)
        noLeak(reply)
      })
    }
  }

  it("every operation: a failure tagged like an Object.prototype member (constructor, toString) is a 500 too", async () => {
    const answers: Array<string> = []
    for (const operation of operations) {
      for (const tag of ["constructor", "toString", "hasOwnProperty"]) {
        behaviour = () => Effect.fail(Object.assign(new Error("secret internal detail"), { _tag: tag }))
        const reply = await send(operation)
        answers.push(`${operation}/${tag}: ${reply.status} ${reply.text}`)
      }
    }
    expect(answers).toEqual(
      operations.flatMap((operation) =>
        ["constructor", "toString", "hasOwnProperty"].map((tag) =>
          `${operation}/${tag}: 500 {"description":"Internal broker error."}`
        )
      )
    )
  })
})
