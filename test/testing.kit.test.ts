/**
 * The test kit (`effect-osb/testing`): the in-process client against the quick start managed broker (a full
 * asynchronous lifecycle on the TestClock, no sleeps), the request arbitraries (valid requests accepted, malformed
 * bodies, headers and query strings answered 4xx with a JSON body, never 5xx) and `fromJsonSchema` (values valid
 * against their schemas, checked by a small validator below).
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect, Either, FastCheck as fc, Fiber, Layer, Redacted, Runtime, Schema, TestClock } from "effect"
import * as Managed from "../examples/managed-broker.js"
import { BrokerAuth, Catalog, ManagedBroker, Model, ServiceBroker } from "../src/index.js"
import * as OsbClient from "../src/OsbClient.js"
import { Arbitraries, InProcess } from "../src/testing/index.js"
import { managed } from "./support/effectClient.js"

const USER = "kit-user"
const PASSWORD = "kit:secret"
const { catalog, LARGE_PLAN_ID, SERVICE_ID, SMALL_PLAN_ID } = Managed

const auth = BrokerAuth.layerBasic([{ username: USER, password: Redacted.make(PASSWORD) }])
const broker = Layer.merge(Managed.layerWith("5 seconds"), auth)
const clientLayer = InProcess.layerClient(broker, { username: USER, password: PASSWORD })
const strictClientLayer = InProcess.layerClient(broker, {
  username: USER,
  password: PASSWORD,
  routerOptions: { strictOriginatingIdentity: true }
})

/** Moves the TestClock forward one second at a time until `fiber` is done (at most `limit` seconds). */
const driveUntilDone = <A, E>(fiber: Fiber.RuntimeFiber<A, E>, limit = 60): Effect.Effect<A, E> =>
  Effect.gen(function*() {
    for (let i = 0; i < limit; i++) {
      const done = yield* fiber.poll
      if (done._tag === "Some") break
      yield* TestClock.adjust("1 second")
    }
    return yield* Fiber.join(fiber)
  })

const pollDone = <E>(poll: Effect.Effect<OsbClient.LastOperation, E>) =>
  Effect.flatMap(Effect.fork(OsbClient.pollUntilDone(poll, { interval: "1 second" })), (fiber) => driveUntilDone(fiber))

/** Runs a property whose body is an Effect, on the runtime of the calling fiber (so on its services and clock). */
const property = <A, R>(
  arbitrary: fc.Arbitrary<A>,
  check: (value: A) => Effect.Effect<void, unknown, R>,
  numRuns = 100
): Effect.Effect<void, never, R> =>
  Effect.flatMap(
    Effect.runtime<R>(),
    (runtime) =>
      Effect.promise(() =>
        fc.assert(fc.asyncProperty(arbitrary, (value) => Runtime.runPromise(runtime)(check(value))), { numRuns })
      )
  )

const isJsonObject = (value: unknown): boolean => typeof value === "object" && value !== null && !Array.isArray(value)

describe("InProcess.layerClient", () => {
  it.effect("runs a full asynchronous lifecycle through the typed client on the TestClock", () =>
    Effect.gen(function*() {
      const client = yield* OsbClient.OsbClient
      const ids = { serviceId: SERVICE_ID, planId: LARGE_PLAN_ID }
      const instanceId = "kit-instance-1"
      const bindingId = "kit-binding-1"

      expect((yield* client.catalog()).services.map((s) => s.id)).toEqual([SERVICE_ID])

      const provisioned = yield* client.provision(instanceId, {
        service_id: SERVICE_ID,
        plan_id: LARGE_PLAN_ID,
        organization_guid: "org-1",
        space_guid: "space-1",
        parameters: { size: 3 }
      }, { acceptsIncomplete: true })
      expect(provisioned._tag).toBe("Accepted")
      expect(provisioned.status).toBe(202)
      const provisionOperation = provisioned.body.operation
      const inProgress = yield* client.lastOperation(instanceId, {
        ...ids,
        ...(provisionOperation === undefined ? {} : { operation: provisionOperation })
      })
      expect(inProgress.state).toBe("in progress")
      expect(inProgress.retryAfter._tag).toBe("Some")

      const provisionDone = yield* pollDone(client.lastOperation(instanceId, ids))
      expect(provisionDone.state).toBe("succeeded")
      const fetched = yield* client.getInstance(instanceId, ids)
      expect(fetched.plan_id).toBe(LARGE_PLAN_ID)
      expect(fetched.parameters).toEqual({ size: 3 })

      const updated = yield* client.update(instanceId, {
        service_id: SERVICE_ID,
        plan_id: LARGE_PLAN_ID,
        parameters: { size: 5 }
      }, { acceptsIncomplete: true })
      expect(updated._tag).toBe("Accepted")
      expect((yield* pollDone(client.lastOperation(instanceId, ids))).state).toBe("succeeded")
      expect((yield* client.getInstance(instanceId, ids)).parameters).toEqual({ size: 5 })

      const bound = yield* client.bind(instanceId, bindingId, {
        service_id: SERVICE_ID,
        plan_id: LARGE_PLAN_ID,
        bind_resource: { app_guid: "app-1" }
      }, { acceptsIncomplete: true })
      expect(bound._tag).toBe("Accepted")
      expect((yield* pollDone(client.lastBindingOperation(instanceId, bindingId, ids))).state).toBe("succeeded")
      const binding = yield* client.getBinding(instanceId, bindingId, ids)
      expect(binding.credentials?.uri).toMatch(/^quickstart:\/\//)

      const unbound = yield* client.unbind(instanceId, bindingId, ids, { acceptsIncomplete: true })
      expect(unbound._tag).toBe("Accepted")
      expect((yield* pollDone(client.lastBindingOperation(instanceId, bindingId, ids))).state).toBe("succeeded")
      const bindingGone = yield* Effect.flip(client.getBinding(instanceId, bindingId, ids))
      expect(bindingGone._tag).toBe("NotFound")

      const deprovisioned = yield* client.deprovision(instanceId, ids, { acceptsIncomplete: true })
      expect(deprovisioned._tag).toBe("Accepted")
      expect((yield* pollDone(client.lastOperation(instanceId, ids))).state).toBe("succeeded")
      const instanceGone = yield* Effect.flip(client.getInstance(instanceId, ids))
      expect(instanceGone._tag).toBe("NotFound")
    }).pipe(Effect.provide(clientLayer)))

  it.effect("does not move without the TestClock: an async provision stays in progress", () =>
    Effect.gen(function*() {
      const client = yield* OsbClient.OsbClient
      const ids = { serviceId: SERVICE_ID, planId: LARGE_PLAN_ID }
      yield* client.provision("kit-instance-2", {
        service_id: SERVICE_ID,
        plan_id: LARGE_PLAN_ID,
        organization_guid: "org-1",
        space_guid: "space-1"
      }, { acceptsIncomplete: true })
      yield* TestClock.adjust("4 seconds")
      expect((yield* client.lastOperation("kit-instance-2", ids)).state).toBe("in progress")
      yield* TestClock.adjust("1 second")
      expect((yield* client.lastOperation("kit-instance-2", ids)).state).toBe("succeeded")
    }).pipe(Effect.provide(clientLayer)))

  it.effect("maps error answers to typed errors and keeps raw exchanges available", () =>
    Effect.gen(function*() {
      const client = yield* OsbClient.OsbClient
      const error = yield* Effect.flip(client.provision("kit-instance-3", {
        service_id: SERVICE_ID,
        plan_id: SMALL_PLAN_ID,
        organization_guid: "org-1",
        space_guid: "space-1",
        maintenance_info: { version: "0.0.1" }
      }))
      expect(error._tag).toBe("MaintenanceInfoConflict")
      const raw = yield* client.raw("GET", "/v2/catalog", { headers: { authorization: undefined } })
      expect(raw.status).toBe(401)
      expect(isJsonObject(raw.json)).toBe(true)
      const head = yield* client.raw("DELETE", "/v2/catalog")
      expect(head.status).toBe(405)
    }).pipe(Effect.provide(clientLayer)))

  it.effect("layerHttpClient serves any HttpClient user, and a broker missing endpoints fails the layer", () =>
    Effect.gen(function*() {
      const client = yield* OsbClient.make({ url: "http://elsewhere.test/", username: USER, password: PASSWORD })
      expect((yield* client.catalog()).services).toHaveLength(1)
      const incomplete = Layer.mergeAll(
        Catalog.layer(catalog),
        Layer.succeed(ServiceBroker.ServiceBroker, {
          provision: () => Effect.die("unused"),
          deprovision: () => Effect.die("unused")
        }),
        auth
      )
      const exit = yield* Effect.exit(Layer.build(InProcess.layerHttpClient(incomplete)).pipe(Effect.scoped))
      expect(exit._tag).toBe("Failure")
    }).pipe(Effect.provide(InProcess.layerHttpClient(broker))))
})

describe("Arbitraries against the quick start catalog", () => {
  it.effect("every valid provision request for plan small is accepted with 201", () =>
    Effect.gen(function*() {
      const client = yield* OsbClient.OsbClient
      yield* property(Arbitraries.provisionRequest(catalog, { planId: SMALL_PLAN_ID }), ({ body, instanceId }) =>
        Effect.gen(function*() {
          expect(Either.isRight(Schema.validateEither(Model.ProvisionRequestBody)(body))).toBe(true)
          const answer = yield* client.provision(instanceId, body)
          expect(answer.status).toBe(201)
          const fetched = yield* client.getInstance(instanceId)
          expect(fetched.plan_id).toBe(SMALL_PLAN_ID)
          expect(fetched.parameters ?? {}).toEqual(body.parameters ?? {})
        }))
    }).pipe(Effect.provide(clientLayer)))

  it.effect("valid update and bind requests for plan small are accepted", () =>
    Effect.gen(function*() {
      const client = yield* OsbClient.OsbClient
      const requests = fc.tuple(
        Arbitraries.provisionRequest(catalog, { planId: SMALL_PLAN_ID }),
        Arbitraries.updateRequest(catalog, { planId: SMALL_PLAN_ID, allowPlanChange: false }),
        Arbitraries.bindRequest(catalog, { planId: SMALL_PLAN_ID })
      )
      yield* property(requests, ([provision, update, bind]) =>
        Effect.gen(function*() {
          expect((yield* client.provision(provision.instanceId, provision.body)).status).toBe(201)
          expect((yield* client.update(provision.instanceId, update.body)).status).toBe(200)
          expect((yield* client.bind(provision.instanceId, bind.bindingId, bind.body)).status).toBe(201)
        }), 50)
    }).pipe(Effect.provide(clientLayer)))

  for (const operation of ["provision", "update", "bind"] as const) {
    it.effect(`every malformed ${operation} body gets its 4xx JSON answer, never a 5xx`, () =>
      Effect.gen(function*() {
        const client = yield* OsbClient.OsbClient
        const instanceId = "kit-existing"
        yield* client.provision(instanceId, {
          service_id: SERVICE_ID,
          plan_id: SMALL_PLAN_ID,
          organization_guid: "org-1",
          space_guid: "space-1"
        })
        const path = operation === "bind"
          ? `/v2/service_instances/${instanceId}/service_bindings/kit-binding`
          : `/v2/service_instances/${instanceId}`
        yield* property(Arbitraries.malformedBody(catalog, { operation }), (malformed) =>
          Effect.gen(function*() {
            const response = yield* client.raw(operation === "update" ? "PATCH" : "PUT", path, {
              rawBody: malformed.text,
              headers: { "content-type": malformed.contentType }
            })
            expect({ kind: malformed.kind, description: malformed.description, status: response.status }).toEqual({
              kind: malformed.kind,
              description: malformed.description,
              status: malformed.expectedStatus
            })
            expect(isJsonObject(response.json)).toBe(true)
          }), 200)
        expect(({} as Record<string, unknown>).service_id).toBeUndefined()
      }).pipe(Effect.provide(clientLayer)))
  }

  it("malformedBody yields every kind that applies to the catalog", () => {
    const kinds = (operation: Arbitraries.BodyOperation) =>
      new Set(
        fc.sample(Arbitraries.malformedBody(catalog, { operation }), { numRuns: 2000, seed: 7 }).map((m) => m.kind)
      )
    expect([...kinds("provision")].sort()).toEqual([
      "content-type",
      "deep-nesting",
      "empty-string",
      "invalid-json",
      "maintenance-info-conflict",
      "missing-field",
      "missing-organization",
      "non-object",
      "proto-key",
      "unknown-plan",
      "unknown-service",
      "wrong-type"
    ])
    expect(kinds("bind").has("rotation-not-supported")).toBe(true)
  })

  it.effect("malformed headers get their 4xx answer; a garbage originating identity only in strict mode", () =>
    Effect.gen(function*() {
      const lenient = yield* OsbClient.make({ url: InProcess.defaultBaseUrl, username: USER, password: PASSWORD })
      const strict = yield* Effect.provide(OsbClient.OsbClient, strictClientLayer)
      yield* property(Arbitraries.malformedHeaders({ username: USER }), (malformed) =>
        Effect.gen(function*() {
          const lenientAnswer = yield* lenient.raw("GET", "/v2/catalog", { headers: malformed.headers })
          expect({ kind: malformed.kind, status: lenientAnswer.status }).toEqual({
            kind: malformed.kind,
            status: malformed.strictOnly ? 200 : malformed.expectedStatus
          })
          expect(isJsonObject(lenientAnswer.json)).toBe(true)
          const strictAnswer = yield* strict.raw("GET", "/v2/catalog", { headers: malformed.headers })
          expect({ kind: malformed.kind, status: strictAnswer.status }).toEqual({
            kind: malformed.kind,
            status: malformed.expectedStatus
          })
        }), 200)
    }).pipe(Effect.provide(InProcess.layerHttpClient(broker))))

  it.effect("malformed query strings get 400 on every endpoint", () =>
    Effect.gen(function*() {
      const client = yield* OsbClient.OsbClient
      const endpoints: ReadonlyArray<readonly [Arbitraries.Endpoint, string, string]> = [
        ["provision", "PUT", "/v2/service_instances/q-1"],
        ["getInstance", "GET", "/v2/service_instances/q-1"],
        ["update", "PATCH", "/v2/service_instances/q-1"],
        ["deprovision", "DELETE", "/v2/service_instances/q-1"],
        ["lastOperation", "GET", "/v2/service_instances/q-1/last_operation"],
        ["bind", "PUT", "/v2/service_instances/q-1/service_bindings/b-1"],
        ["getBinding", "GET", "/v2/service_instances/q-1/service_bindings/b-1"],
        ["unbind", "DELETE", "/v2/service_instances/q-1/service_bindings/b-1"],
        ["lastBindingOperation", "GET", "/v2/service_instances/q-1/service_bindings/b-1/last_operation"]
      ]
      const valid = fc.sample(Arbitraries.provisionRequest(catalog, { planId: SMALL_PLAN_ID }), 1)[0]!.body
      for (const [endpoint, method, path] of endpoints) {
        yield* property(Arbitraries.malformedQuery(catalog, endpoint), (malformed) =>
          Effect.gen(function*() {
            const response = yield* client.raw(method, `${path}?${malformed.search}`, {
              ...(method === "PUT" || method === "PATCH" ? { body: valid } : {})
            })
            expect({ endpoint, search: malformed.search, status: response.status }).toEqual({
              endpoint,
              search: malformed.search,
              status: malformed.expectedStatus
            })
            expect(isJsonObject(response.json)).toBe(true)
          }), 30)
      }
    }).pipe(Effect.provide(clientLayer)))
})

/** Two offerings: plans that are not bindable, not rotatable, not updateable, with schemas and maintenance_info. */
const richCatalog: Model.CatalogBody = {
  services: [
    {
      id: "svc-a",
      name: "svc-a",
      description: "Offering A.",
      bindable: false,
      plans: [
        {
          id: "a-bindable",
          name: "a-bindable",
          description: "Bindable, not rotatable, updateable.",
          bindable: true,
          plan_updateable: true,
          maintenance_info: { version: "2.0.0" },
          schemas: {
            service_instance: {
              create: {
                parameters: {
                  $schema: "http://json-schema.org/draft-04/schema#",
                  type: "object",
                  properties: { size: { type: "integer", minimum: 1, maximum: 8 } },
                  required: ["size"],
                  additionalProperties: false
                }
              }
            },
            service_binding: {
              create: {
                parameters: {
                  $schema: "http://json-schema.org/draft-04/schema#",
                  type: "object",
                  properties: { role: { enum: ["read", "write"] } }
                }
              }
            }
          }
        },
        { id: "a-plain", name: "a-plain", description: "Not bindable, not updateable." }
      ]
    },
    {
      id: "svc-b",
      name: "svc-b",
      description: "Offering B.",
      bindable: true,
      plan_updateable: true,
      plans: [{ id: "b-1", name: "b-1", description: "Rotatable.", binding_rotatable: true }]
    }
  ]
}

const simple: ManagedBroker.OfferingWork = {
  provision: ManagedBroker.sync(() => Effect.succeed({})),
  update: ManagedBroker.sync(() => Effect.succeed({})),
  deprovision: ManagedBroker.sync(() => Effect.void),
  bind: ManagedBroker.sync(() => Effect.succeed({ credentials: { token: "t" } })),
  unbind: ManagedBroker.sync(() => Effect.void)
}

const richClientLayer = InProcess.layerClient(
  Layer.merge(managed(richCatalog, { "svc-a": simple, "svc-b": simple }), auth),
  { username: USER, password: PASSWORD }
)

describe("Arbitraries against a catalog with two offerings", () => {
  it("the catalog-dependent kinds apply", () => {
    const kinds = (operation: Arbitraries.BodyOperation) =>
      new Set(
        fc.sample(Arbitraries.malformedBody(richCatalog, { operation }), { numRuns: 3000, seed: 11 }).map((m) => m.kind)
      )
    expect(kinds("provision").has("foreign-plan")).toBe(true)
    expect(kinds("bind").has("not-bindable")).toBe(true)
    expect(kinds("bind").has("rotation-not-supported")).toBe(true)
    expect(kinds("update").has("plan-not-updateable")).toBe(true)
    expect(() => Arbitraries.bindRequest(richCatalog, { planId: "a-plain" })).toThrow(/no plan of the catalog fits/)
  })

  it.effect("valid provision, update and bind requests are accepted on every plan", () =>
    Effect.gen(function*() {
      const client = yield* OsbClient.OsbClient
      yield* property(Arbitraries.provisionRequest(richCatalog), ({ body, instanceId }) =>
        Effect.gen(function*() {
          expect((yield* client.provision(instanceId, body)).status).toBe(201)
          const update = fc.sample(Arbitraries.updateRequest(richCatalog, { planId: body.plan_id, instanceId }), 1)[0]!
          expect((yield* client.update(instanceId, update.body)).status).toBe(200)
          const plan = update.body.plan_id ?? body.plan_id
          if (plan !== "a-plain") {
            const bind = fc.sample(Arbitraries.bindRequest(richCatalog, { planId: plan, instanceId }), 1)[0]!
            expect((yield* client.bind(instanceId, bind.bindingId, bind.body)).status).toBe(201)
          }
        }), 60)
    }).pipe(Effect.provide(richClientLayer)))

  for (const operation of ["provision", "update", "bind"] as const) {
    it.effect(`every malformed ${operation} body gets its expected answer`, () =>
      Effect.gen(function*() {
        const client = yield* OsbClient.OsbClient
        yield* client.provision("rich-existing", {
          service_id: "svc-a",
          plan_id: "a-bindable",
          organization_guid: "org-1",
          space_guid: "space-1",
          parameters: { size: 1 }
        })
        const path = operation === "bind"
          ? "/v2/service_instances/rich-existing/service_bindings/rich-binding"
          : "/v2/service_instances/rich-existing"
        yield* property(Arbitraries.malformedBody(richCatalog, { operation }), (malformed) =>
          Effect.gen(function*() {
            const response = yield* client.raw(operation === "update" ? "PATCH" : "PUT", path, {
              rawBody: malformed.text,
              headers: { "content-type": malformed.contentType }
            })
            expect({ kind: malformed.kind, description: malformed.description, status: response.status }).toEqual({
              kind: malformed.kind,
              description: malformed.description,
              status: malformed.expectedStatus
            })
            expect(isJsonObject(response.json)).toBe(true)
          }), 200)
      }).pipe(Effect.provide(richClientLayer)))
  }
})

// -----------------------------------------------------------------------------
// fromJsonSchema
// -----------------------------------------------------------------------------

/** A small validator for the subset `fromJsonSchema` supports; returns the first problem, or undefined. */
const validate = (schema: any, value: unknown, root: any = schema, path = "$"): string | undefined => {
  if (schema === true) return undefined
  if (schema === false) return `${path}: false schema`
  if (schema.$ref !== undefined) {
    const target = (schema.$ref as string).slice(2).split("/").reduce((node: any, key) => node[key], root)
    const problem = validate(target, value, root, path)
    if (problem !== undefined) return problem
  }
  for (const branch of schema.allOf ?? []) {
    const problem = validate(branch, value, root, path)
    if (problem !== undefined) return problem
  }
  if (schema.anyOf !== undefined && schema.anyOf.every((b: any) => validate(b, value, root, path) !== undefined)) {
    return `${path}: no anyOf branch matches`
  }
  if (
    schema.oneOf !== undefined &&
    schema.oneOf.filter((b: any) => validate(b, value, root, path) === undefined).length !== 1
  ) {
    return `${path}: not exactly one oneOf branch matches`
  }
  if ("const" in schema && JSON.stringify(schema.const) !== JSON.stringify(value)) return `${path}: not the const`
  if (schema.enum !== undefined && !schema.enum.some((e: unknown) => JSON.stringify(e) === JSON.stringify(value))) {
    return `${path}: not in enum`
  }
  const typeOf = (v: unknown) =>
    v === null ? "null" : Array.isArray(v) ? "array" : Number.isInteger(v) ? "integer" : typeof v
  if (schema.type !== undefined) {
    const types: Array<string> = Array.isArray(schema.type) ? schema.type : [schema.type]
    const actual = typeOf(value)
    if (!types.includes(actual) && !(actual === "integer" && types.includes("number"))) {
      return `${path}: ${actual} is not ${types.join("|")}`
    }
  }
  if (typeof value === "number") {
    if (!Number.isFinite(value) || Object.is(value, -0)) return `${path}: not a JSON number`
    if (
      schema.minimum !== undefined &&
      (schema.exclusiveMinimum === true ? value <= schema.minimum : value < schema.minimum)
    ) {
      return `${path}: below minimum`
    }
    if (
      schema.maximum !== undefined &&
      (schema.exclusiveMaximum === true ? value >= schema.maximum : value > schema.maximum)
    ) {
      return `${path}: above maximum`
    }
    if (typeof schema.exclusiveMinimum === "number" && value <= schema.exclusiveMinimum) {
      return `${path}: <= exclusiveMinimum`
    }
    if (typeof schema.exclusiveMaximum === "number" && value >= schema.exclusiveMaximum) {
      return `${path}: >= exclusiveMaximum`
    }
    if (schema.multipleOf !== undefined && value % schema.multipleOf !== 0) return `${path}: not a multiple`
  }
  if (typeof value === "string") {
    const length = [...value].length
    if (schema.minLength !== undefined && length < schema.minLength) return `${path}: shorter than minLength`
    if (schema.maxLength !== undefined && length > schema.maxLength) return `${path}: longer than maxLength`
    if (schema.pattern !== undefined && !new RegExp(schema.pattern).test(value)) return `${path}: pattern`
    if (schema.format === "uuid" && !/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(value)) {
      return `${path}: not a uuid`
    }
    if (schema.format === "date-time" && Number.isNaN(Date.parse(value))) return `${path}: not a date-time`
    if (schema.format === "email" && !/^[^@\s]+@[^@\s]+$/.test(value)) return `${path}: not an email`
  }
  if (Array.isArray(value)) {
    if (schema.minItems !== undefined && value.length < schema.minItems) return `${path}: fewer than minItems`
    if (schema.maxItems !== undefined && value.length > schema.maxItems) return `${path}: more than maxItems`
    if (schema.uniqueItems === true && new Set(value.map((v) => JSON.stringify(v))).size !== value.length) {
      return `${path}: items not unique`
    }
    for (const [i, item] of value.entries()) {
      const prefix: Array<unknown> | undefined = schema.prefixItems ??
        (Array.isArray(schema.items) ? schema.items : undefined)
      const itemSchema = prefix !== undefined && i < prefix.length
        ? prefix[i]
        : Array.isArray(schema.items)
        ? undefined
        : schema.items
      if (itemSchema === undefined) continue
      const problem = validate(itemSchema, item, root, `${path}[${i}]`)
      if (problem !== undefined) return problem
    }
  }
  if (isJsonObject(value)) {
    const object = value as Record<string, unknown>
    const keys = Object.keys(object)
    for (const key of schema.required ?? []) if (!keys.includes(key)) return `${path}: ${key} is required`
    if (schema.minProperties !== undefined && keys.length < schema.minProperties) return `${path}: minProperties`
    if (schema.maxProperties !== undefined && keys.length > schema.maxProperties) return `${path}: maxProperties`
    for (const key of keys) {
      const declared = schema.properties?.[key]
      const sub = declared ?? schema.additionalProperties
      if (declared === undefined && schema.additionalProperties === false) return `${path}: unexpected ${key}`
      if (sub === undefined) continue
      const problem = validate(sub, object[key], root, `${path}.${key}`)
      if (problem !== undefined) return problem
    }
  }
  return undefined
}

const schemas: Record<string, unknown> = {
  "a plan's create parameters": {
    $schema: "http://json-schema.org/draft-04/schema#",
    type: "object",
    title: "Create parameters",
    properties: {
      name: { type: "string", minLength: 3, maxLength: 10, pattern: "^[a-z]+$" },
      size: { type: "integer", minimum: 1, maximum: 64, multipleOf: 4 },
      ratio: { type: "number", minimum: 0, exclusiveMinimum: true, maximum: 1 },
      backups: { type: "boolean", default: true },
      tier: { enum: ["gold", "silver", "bronze"] },
      tags: { type: "array", items: { type: "string", maxLength: 5 }, minItems: 1, maxItems: 3, uniqueItems: true }
    },
    required: ["name", "size", "tier"],
    additionalProperties: false
  },
  "definitions, $ref, formats and nesting": {
    $schema: "http://json-schema.org/draft-07/schema#",
    definitions: {
      endpoint: {
        type: "object",
        properties: {
          host: { type: "string", format: "hostname" },
          port: { type: "integer", exclusiveMinimum: 0, exclusiveMaximum: 65536 }
        },
        required: ["host", "port"],
        additionalProperties: false
      }
    },
    type: "object",
    properties: {
      id: { type: "string", format: "uuid" },
      at: { type: "string", format: "date-time" },
      owner: { type: "string", format: "email" },
      primary: { $ref: "#/definitions/endpoint" },
      replicas: { type: "array", items: { $ref: "#/definitions/endpoint" }, maxItems: 2 },
      labels: { type: "object", additionalProperties: { type: "string", maxLength: 4 }, maxProperties: 2 }
    },
    required: ["id", "primary"]
  },
  "anyOf, oneOf, allOf, const, nullable types, inferred types": {
    $schema: "https://json-schema.org/draft/2020-12/schema",
    allOf: [
      { properties: { kind: { const: "db" } }, required: ["kind"] },
      { properties: { version: { type: ["string", "null"], minLength: 1 } }, required: ["version"] }
    ],
    properties: {
      storage: { anyOf: [{ type: "integer", minimum: 10 }, { type: "string", enum: ["auto"] }] },
      mode: { oneOf: [{ const: "fast" }, { const: "safe" }] },
      limits: { properties: { cpu: { minimum: 0.5, maximum: 8 } }, required: ["cpu"] },
      big: { type: "integer", minimum: 10_000_000_000, maximum: 20_000_000_000 },
      anything: {},
      tuple: { type: "array", prefixItems: [{ type: "string" }, { type: "boolean" }], items: false }
    }
  }
}

describe("Arbitraries.fromJsonSchema", () => {
  for (const [name, schema] of Object.entries(schemas)) {
    it(`generates values valid against ${name}`, () => {
      fc.assert(
        fc.property(Arbitraries.fromJsonSchema(schema), (value) => {
          expect(validate(schema, value)).toBeUndefined()
          expect(JSON.parse(JSON.stringify(value))).toEqual(value)
        }),
        { numRuns: 300 }
      )
    })
  }

  it("covers optional properties both ways", () => {
    const values = fc.sample(Arbitraries.fromJsonSchema(schemas["a plan's create parameters"]), 300) as Array<
      Record<string, unknown>
    >
    expect(values.some((v) => "tags" in v)).toBe(true)
    expect(values.some((v) => !("tags" in v))).toBe(true)
    expect(new Set(values.map((v) => v.tier))).toEqual(new Set(["gold", "silver", "bronze"]))
  })

  it("refuses keywords outside its subset unless strict is false, and unsatisfiable bounds", () => {
    expect(() => Arbitraries.fromJsonSchema({ type: "string", not: { const: "x" } })).toThrow(
      /unsupported keywords: not/
    )
    expect(() => Arbitraries.fromJsonSchema({ type: "string", not: { const: "x" } }, { strict: false })).not.toThrow()
    expect(() => Arbitraries.fromJsonSchema({ type: "integer", minimum: 5, maximum: 4 })).toThrow(/no integer/)
    expect(() => Arbitraries.fromJsonSchema({ $ref: "http://example.com/schema" })).toThrow(/references/)
    expect(() => Arbitraries.fromJsonSchema({ $ref: "#" })).toThrow(/recursive/)
  })

  it("provision requests for a plan with a parameters schema carry valid parameters", () => {
    const schema = schemas["a plan's create parameters"] as Model.JsonObject
    const withSchema: Model.CatalogBody = {
      services: [{
        ...catalog.services[0]!,
        plans: [{
          id: "plan-schema",
          name: "schema",
          description: "With a schema.",
          schemas: { service_instance: { create: { parameters: schema } } }
        }]
      }]
    }
    expect(Catalog.validate(withSchema).problems).toEqual([])
    fc.assert(
      fc.property(Arbitraries.provisionRequest(withSchema), ({ body }) => {
        expect(Either.isRight(Schema.validateEither(Model.ProvisionRequestBody)(body))).toBe(true)
        expect(body.plan_id).toBe("plan-schema")
        expect(validate(schema, body.parameters)).toBeUndefined()
        expect(body.maintenance_info).toBeUndefined()
      }),
      { numRuns: 200 }
    )
  })
})
