/**
 * Parameters validated against the plan's JSON schemas at the edge, before any broker code runs (issue 16): over
 * HTTP through the router, for a hand-written and a managed broker, for each JSON Schema dialect, with the caps,
 * the options (defaults, unknown formats) and the off switches (router-wide and per plan).
 */
import { Effect, Layer } from "effect"
import { readFileSync } from "node:fs"
import { afterAll, describe, expect, it } from "vitest"
import * as Handwritten from "../examples/handwritten-broker.js"
import * as Managed from "../examples/managed-broker.js"
import { BrokerStore, Catalog, ManagedBroker, ServiceBroker } from "../src/index.js"
import type { Model, Router } from "../src/index.js"
import { clientFor } from "./support/http.js"
import type { Client, Reply } from "./support/http.js"
import { defaultScript } from "./support/scripted.js"
import type { Recorded } from "./support/scripted.js"

const SERVICE = "svc-params"
const DRAFT04 = "http://json-schema.org/draft-04/schema#"

type Json = Record<string, unknown>

const sizeSchema = (extra: Json = {}): Json => ({
  $schema: DRAFT04,
  type: "object",
  properties: { size: { type: "integer", minimum: 1, maximum: 100 } },
  ...extra
})

const strictSchema: Json = {
  $schema: DRAFT04,
  type: "object",
  required: ["name"],
  additionalProperties: false,
  properties: {
    name: { type: "string", pattern: "^[a-z][a-z0-9-]*$" },
    size: { type: "integer", minimum: 1, maximum: 100 },
    tags: { type: "array", items: { type: "string" } },
    "odd key": { type: "boolean" },
    backup: {
      type: "object",
      properties: { window: { enum: ["night", "day"] }, copies: { type: "integer", minimum: 0 } }
    }
  }
}

const plan = (id: string, schemas?: Json, extra: Json = {}): Json => ({
  id,
  name: id,
  description: `plan ${id}`,
  ...(schemas === undefined ? {} : { schemas }),
  ...extra
})

const instanceSchemas = (create?: Json, update?: Json): Json => ({
  service_instance: {
    ...(create === undefined ? {} : { create: { parameters: create } }),
    ...(update === undefined ? {} : { update: { parameters: update } })
  }
})

const catalogOf = (plans: ReadonlyArray<Json>): Model.CatalogBody =>
  ({
    services: [{
      id: SERVICE,
      name: "params",
      description: "parameters validation",
      bindable: true,
      plan_updateable: true,
      plans
    }]
  }) as unknown as Model.CatalogBody

const catalog = catalogOf([
  plan("sized", instanceSchemas(sizeSchema(), sizeSchema())),
  plan("strict", {
    ...instanceSchemas(strictSchema, { $schema: DRAFT04, type: "object", properties: { size: { maximum: 10 } } }),
    service_binding: {
      create: {
        parameters: { $schema: DRAFT04, type: "object", properties: { role: { enum: ["reader", "writer"] } } }
      }
    }
  }),
  plan("free")
])

/** A hand-written broker that records every request it receives. */
const recordingBroker = (catalogBody: Model.CatalogBody, options?: Catalog.CatalogOptions) => {
  const recorded: Recorded = []
  const record = (operation: string) => (request: unknown) => {
    recorded.push({ operation, request })
    return Effect.void
  }
  const broker: ServiceBroker.ServiceBrokerService = {
    ...defaultScript,
    provision: (r) => Effect.zipRight(record("provision")(r), defaultScript.provision(r)),
    update: (r) => Effect.zipRight(record("update")(r), defaultScript.update(r)),
    bind: (r) => Effect.zipRight(record("bind")(r), defaultScript.bind(r))
  }
  const layer = Layer.merge(Catalog.layer(catalogBody, options), ServiceBroker.layer(broker))
  const parametersOf = (operation: string) =>
    recorded.filter((r) => r.operation === operation).map((r) =>
      (r.request as { readonly body: { readonly parameters?: unknown } }).body.parameters
    )
  return { layer, recorded, parametersOf }
}

const provision = (planId: string, parameters?: unknown): Json => ({
  service_id: SERVICE,
  plan_id: planId,
  organization_guid: "org",
  space_guid: "space",
  ...(parameters === undefined ? {} : { parameters })
})

let counter = 0
const fresh = () => `/v2/service_instances/i-${++counter}`

const expect400 = (reply: Reply, description: string | RegExp) => {
  expect(reply.status).toBe(400)
  if (typeof description === "string") expect(reply.body.description).toBe(description)
  else expect(reply.body.description).toMatch(description)
  expect(reply.body.error).toBeUndefined()
}

describe("SCH-5 decision 41: a hand-written broker, parameters checked before it runs", () => {
  const broker = recordingBroker(catalog)
  const client = clientFor(broker.layer)
  afterAll(() => client.dispose())

  it("valid parameters reach the broker unchanged; a violation is a 400 naming the path and the rule", async () => {
    const ok = await client.call("PUT", fresh(), { body: provision("sized", { size: 7, other: "kept" }) })
    expect(ok.status).toBe(201)
    expect(broker.parametersOf("provision")).toEqual([{ size: 7, other: "kept" }])
    const tooBig = await client.call("PUT", fresh(), { body: provision("sized", { size: 500 }) })
    expect400(tooBig, "parameters.size: must be <= 100")
    const notInt = await client.call("PUT", fresh(), { body: provision("sized", { size: 2.5 }) })
    expect400(notInt, "parameters.size: must be integer")
    expect(broker.parametersOf("provision")).toHaveLength(1)
  })

  it("decision 42 no parameters: fine when the schema allows it, a 400 when it requires a property", async () => {
    expect((await client.call("PUT", fresh(), { body: provision("sized") })).status).toBe(201)
    expect400(await client.call("PUT", fresh(), { body: provision("strict") }), "parameters.name: is required")
  })

  it("every problem is named, each at its own path: missing, extra, nested, array items, odd keys, enums", async () => {
    const reply = await client.call("PUT", fresh(), {
      body: provision("strict", {
        name: "Bad Name",
        size: 0,
        tags: ["a", 5, "c", true],
        "odd key": "yes",
        backup: { window: "noon", copies: -1 },
        extra: 1
      })
    })
    expect(reply.status).toBe(400)
    const problems = String(reply.body.description).split("; ")
    expect(problems.sort()).toEqual([
      "parameters.backup.copies: must be >= 0",
      "parameters.backup.window: must be one of \"night\", \"day\"",
      "parameters.extra: is not allowed (additionalProperties is false)",
      "parameters.name: must match pattern \"^[a-z][a-z0-9-]*$\"",
      "parameters.size: must be >= 1",
      "parameters.tags[1]: must be string",
      "parameters.tags[3]: must be string",
      "parameters[\"odd key\"]: must be boolean"
    ])
  })

  it("decision 42 update: the target plan's update schema (plan_id, else previous_values.plan_id); none known, not checked", async () => {
    const patch = (body: Json) =>
      client.call("PATCH", "/v2/service_instances/u-1", { body: { service_id: SERVICE, ...body } })
    expect400(await patch({ plan_id: "strict", parameters: { size: 11 } }), "parameters.size: must be <= 10")
    // a change from strict to sized: sized's update schema applies
    expect((await patch({ plan_id: "sized", previous_values: { plan_id: "strict" }, parameters: { size: 50 } })).status)
      .toBe(200)
    expect400(
      await patch({ previous_values: { plan_id: "strict" }, parameters: { size: 50 } }),
      "parameters.size: must be <= 10"
    )
    // update schemas do not see the create schema's `required`: an update changes what it names
    expect((await patch({ plan_id: "strict", parameters: { size: 3 } })).status).toBe(200)
    // no parameters on update: nothing changes, nothing to check
    expect((await patch({ plan_id: "strict" })).status).toBe(200)
    // the plan is unknown to the router: the broker decides
    expect((await patch({ parameters: { size: 50 } })).status).toBe(200)
    expect(broker.parametersOf("update")).toEqual([{ size: 50 }, { size: 3 }, undefined, { size: 50 }])
  })

  it("bind: the plan's service_binding.create schema", async () => {
    const bind = (parameters: unknown) =>
      client.call("PUT", `/v2/service_instances/b-1/service_bindings/${++counter}`, {
        body: { service_id: SERVICE, plan_id: "strict", parameters }
      })
    expect400(await bind({ role: "admin" }), "parameters.role: must be one of \"reader\", \"writer\"")
    expect((await bind({ role: "reader" })).status).toBe(201)
    expect(broker.parametersOf("bind")).toEqual([{ role: "reader" }])
  })

  it("a plan without schemas passes any parameters", async () => {
    expect((await client.call("PUT", fresh(), { body: provision("free", { size: "huge", any: [1] }) })).status).toBe(
      201
    )
  })
})

describe("decision 41: caps", () => {
  const manyErrors = { tags: Array.from({ length: 30 }, (_, i) => i) }
  const tagged = catalogOf([plan("tagged", instanceSchemas(strictSchema))])

  it("at most maxProblems problems (default 10) are named, then how many more", async () => {
    const client = clientFor(recordingBroker(tagged).layer)
    const reply = await client.call("PUT", fresh(), { body: provision("tagged", { name: "n", ...manyErrors }) })
    await client.dispose()
    expect(reply.status).toBe(400)
    const description = String(reply.body.description)
    expect(description.split("; ").slice(0, 10)).toEqual(
      Array.from({ length: 10 }, (_, i) => `parameters.tags[${i}]: must be string`)
    )
    expect(description.endsWith("; and 20 more")).toBe(true)
  })

  it("maxProblems is configurable", async () => {
    const client = clientFor(recordingBroker(tagged, { parameters: { maxProblems: 2 } }).layer)
    const reply = await client.call("PUT", fresh(), { body: provision("tagged", { name: "n", ...manyErrors }) })
    await client.dispose()
    expect400(reply, "parameters.tags[0]: must be string; parameters.tags[1]: must be string; and 28 more")
  })

  it("large parameters get their first problem only, quickly, without collecting every problem", async () => {
    const client = clientFor(recordingBroker(tagged).layer)
    const tags = Array.from({ length: 100_000 }, () => 1)
    const started = performance.now()
    const reply = await client.call("PUT", fresh(), { body: provision("tagged", { name: "n", tags }) })
    const elapsed = performance.now() - started
    await client.dispose()
    expect400(reply, /^parameters\.tags\[0\]: must be string \(only the first problem is named: .*500 values\)$/)
    expect(elapsed).toBeLessThan(5000)
  })
})

describe("decision 44: dialects, as declared by $schema", () => {
  const cases: ReadonlyArray<{
    readonly name: string
    readonly schema: Json
    readonly valid: Json
    readonly invalid: Json
    readonly problem: string
  }> = [
    {
      name: "draft-04 (boolean exclusiveMaximum)",
      schema: {
        $schema: "http://json-schema.org/draft-04/schema#",
        properties: { n: { type: "number", maximum: 10, exclusiveMaximum: true } }
      },
      valid: { n: 9.5 },
      invalid: { n: 10 },
      problem: "parameters.n: must be < 10"
    },
    {
      name: "draft-04 without the trailing #",
      schema: { $schema: "http://json-schema.org/draft-04/schema", properties: { n: { type: "string" } } },
      valid: { n: "x" },
      invalid: { n: 1 },
      problem: "parameters.n: must be string"
    },
    {
      name: "draft-06 (numeric exclusiveMaximum, const)",
      schema: {
        $schema: "http://json-schema.org/draft-06/schema#",
        properties: { n: { exclusiveMaximum: 10 }, kind: { const: "db" } }
      },
      valid: { n: 9, kind: "db" },
      invalid: { n: 10, kind: "db" },
      problem: "parameters.n: must be < 10"
    },
    {
      name: "draft-07 (if/then)",
      schema: {
        $schema: "http://json-schema.org/draft-07/schema#",
        if: { properties: { ha: { const: true } }, required: ["ha"] },
        then: { required: ["replicas"] }
      },
      valid: { ha: true, replicas: 2 },
      invalid: { ha: true },
      // Ajv names the failing `then` too
      problem: "parameters.replicas: is required; parameters: must match \"then\" schema"
    },
    {
      name: "2019-09 (dependentRequired)",
      schema: {
        $schema: "https://json-schema.org/draft/2019-09/schema",
        dependentRequired: { user: ["password"] }
      },
      valid: { user: "u", password: "p" },
      invalid: { user: "u" },
      problem: "parameters: must have property password when property user is present"
    },
    {
      name: "2020-12 (prefixItems, unevaluatedProperties)",
      schema: {
        $schema: "https://json-schema.org/draft/2020-12/schema",
        properties: { pair: { type: "array", prefixItems: [{ type: "string" }, { type: "integer" }] } },
        unevaluatedProperties: false
      },
      valid: { pair: ["a", 1] },
      invalid: { pair: ["a", "b"] },
      problem: "parameters.pair[1]: must be integer"
    },
    {
      name: "2020-12 unevaluatedProperties names the extra property",
      schema: {
        $schema: "https://json-schema.org/draft/2020-12/schema",
        properties: { a: true },
        unevaluatedProperties: false
      },
      valid: { a: 1 },
      invalid: { a: 1, b: 2 },
      problem: "parameters.b: is not allowed (unevaluatedProperties is false)"
    }
  ]

  const dialectCatalog = catalogOf(cases.map((c, i) => plan(`d${i}`, instanceSchemas(c.schema))))
  const client = clientFor(recordingBroker(dialectCatalog).layer)
  afterAll(() => client.dispose())

  cases.forEach((c, i) => {
    it(c.name, async () => {
      expect((await client.call("PUT", fresh(), { body: provision(`d${i}`, c.valid) })).status).toBe(201)
      expect400(await client.call("PUT", fresh(), { body: provision(`d${i}`, c.invalid) }), c.problem)
    })
  })
})

describe("decision 44: a schema the validator cannot compile is a catalog error at start-up, with its path", () => {
  const base = "services[0].plans[0].schemas.service_instance.create.parameters"
  const problemsOf = (schema: Json) =>
    Effect.runSync(Effect.flip(Catalog.make(catalogOf([plan("p", instanceSchemas(schema))])))).problems.map((p) => [
      p.path,
      p.message
    ])

  it("a keyword with a wrong value (checked against the dialect's meta-schema)", () => {
    expect(problemsOf(sizeSchema({ properties: { size: { type: "integer", minimum: "one" } } }))).toEqual([
      [`${base}.properties.size.minimum`, "must be number (draft-04)"]
    ])
    expect(problemsOf({ $schema: DRAFT04, type: "integr" })[0]![0]).toBe(`${base}.type`)
  })

  it("a pattern that is not a regular expression, a local $ref that resolves to nothing", () => {
    const [[path, message]] = problemsOf({ $schema: DRAFT04, properties: { a: { type: "string", pattern: "(" } } }) as [
      [string, string]
    ]
    expect(path).toBe(base)
    expect(message).toMatch(/^cannot be compiled: .*Invalid regular expression/)
    const [[refPath, refMessage]] = problemsOf({
      $schema: DRAFT04,
      properties: { a: { $ref: "#/definitions/none" } }
    }) as [
      [string, string]
    ]
    expect(refPath).toBe(base)
    expect(refMessage).toMatch(/^cannot be compiled: .*#\/definitions\/none/)
  })

  it("a $schema that names no dialect effect-osb validates", () => {
    expect(problemsOf({ $schema: "http://example.com/my-dialect", type: "object" })).toEqual([
      [
        `${base}.$schema`,
        "\"http://example.com/my-dialect\" is not a JSON Schema dialect effect-osb validates (draft-04, draft-06, draft-07, 2019-09, 2020-12)"
      ]
    ])
  })

  it("the router does not start: the Catalog layer fails with every problem", async () => {
    const broken = catalogOf([
      plan("a", instanceSchemas(sizeSchema({ properties: { size: { maximum: "x" } } }))),
      plan("b", { service_binding: { create: { parameters: { $schema: DRAFT04, required: "name" } } } })
    ])
    const client = clientFor(recordingBroker(broken).layer)
    await expect(client.call("GET", "/v2/catalog")).rejects.toThrow(
      /schemas\.service_instance\.create\.parameters\.properties\.size\.maximum[\s\S]*service_binding\.create\.parameters\.required/
    )
    await client.dispose().catch(() => undefined)
  })

  it("uniqueItems that Ajv checks pair by pair needs maxItems <= 1000; scalar items are hashed, no bound needed", () => {
    const tags = (tagsSchema: Json) =>
      Catalog.validate(catalogOf([plan("p", instanceSchemas({ $schema: DRAFT04, properties: { tags: tagsSchema } }))]))
        .problems.map((p) => [p.path, p.message])
    expect(tags({ type: "array", uniqueItems: true, items: { type: "object" } })).toEqual([
      [`${base}.properties.tags.uniqueItems`, expect.stringMatching(/maxItems of at most 1000$/)]
    ])
    expect(tags({ type: "array", uniqueItems: true })).toHaveLength(1)
    expect(tags({ type: "array", uniqueItems: true, maxItems: 1001 })).toHaveLength(1)
    expect(tags({ type: "array", uniqueItems: true, maxItems: 1000 })).toEqual([])
    expect(tags({ type: "array", uniqueItems: true, items: { type: ["string", "integer"] } })).toEqual([])
    // `enum` values are data, not schemas
    expect(tags({ enum: [{ uniqueItems: true }] })).toEqual([])
  })

  it("a bounded pairwise uniqueItems stays fast on a hostile array", async () => {
    const bounded = catalogOf([
      plan(
        "u",
        instanceSchemas({ $schema: DRAFT04, properties: { xs: { type: "array", uniqueItems: true, maxItems: 1000 } } })
      )
    ])
    const client = clientFor(recordingBroker(bounded).layer)
    const xs = Array.from({ length: 20_000 }, (_, i) => ({ a: i }))
    const started = performance.now()
    const reply = await client.call("PUT", fresh(), { body: provision("u", { xs }) })
    const elapsed = performance.now() - started
    const near = Array.from({ length: 499 }, (_, i) => ({ a: i % 498 }))
    const duplicate = await client.call("PUT", fresh(), { body: provision("u", { xs: near }) })
    await client.dispose()
    expect400(reply, /^parameters\.xs: must NOT have more than 1000 items/)
    expect(elapsed).toBeLessThan(3000)
    expect400(duplicate, /^parameters\.xs: must NOT have duplicate items/)
  })

  it("remote $ref stays refused (SCH-2), and is not compiled", () => {
    expect(problemsOf({ $schema: DRAFT04, properties: { a: { $ref: "https://example.com/a.json" } } })).toEqual([
      [`${base}.properties.a.$ref`, "external reference \"https://example.com/a.json\" is not allowed (SCH-2)"]
    ])
  })
})

describe("decision 44: unknown formats", () => {
  const withFormats = catalogOf([
    plan(
      "f",
      instanceSchemas({
        $schema: DRAFT04,
        properties: { email: { type: "string", format: "email" }, link: { type: "string", format: "iri-like" } }
      })
    )
  ])
  const formatPath = "services[0].plans[0].schemas.service_instance.create.parameters.properties.link.format"

  it("default: a warning at start-up, the unknown format is not checked, known formats are", async () => {
    const { problems, warnings } = Catalog.validate(withFormats)
    expect(problems).toEqual([])
    expect(warnings.map((w) => [w.path, w.message])).toEqual([
      [formatPath, "unknown format \"iri-like\": not checked (formats known: those of ajv-formats)"]
    ])
    const client = clientFor(recordingBroker(withFormats).layer)
    expect((await client.call("PUT", fresh(), { body: provision("f", { link: "anything at all" }) })).status).toBe(201)
    expect400(
      await client.call("PUT", fresh(), { body: provision("f", { email: "not an address" }) }),
      "parameters.email: must match format \"email\""
    )
    await client.dispose()
  })

  it("unknownFormats: \"error\" makes it a catalog error", () => {
    const { problems } = Catalog.validate(withFormats, { parameters: { unknownFormats: "error" } })
    expect(problems.map((p) => p.path)).toEqual([formatPath])
  })
})

describe("decision 43: default values", () => {
  const withDefaults = catalogOf([
    plan("d", {
      ...instanceSchemas(
        sizeSchema({
          properties: { size: { type: "integer", default: 5 }, tier: { type: "string", default: "basic" } }
        }),
        sizeSchema({ properties: { size: { type: "integer", default: 5 } } })
      ),
      service_binding: {
        create: { parameters: { $schema: DRAFT04, properties: { role: { type: "string", default: "reader" } } } }
      }
    })
  ])

  it("are not injected by default", async () => {
    const broker = recordingBroker(withDefaults)
    const client = clientFor(broker.layer)
    expect((await client.call("PUT", fresh(), { body: provision("d", { size: 2 }) })).status).toBe(201)
    expect((await client.call("PUT", fresh(), { body: provision("d") })).status).toBe(201)
    await client.dispose()
    expect(broker.parametersOf("provision")).toEqual([{ size: 2 }, undefined])
  })

  it("injectDefaults: provision and bind get them (even without parameters); update never", async () => {
    const broker = recordingBroker(withDefaults, { parameters: { injectDefaults: true } })
    const client = clientFor(broker.layer)
    const sent = { size: 2 }
    expect((await client.call("PUT", fresh(), { body: provision("d", sent) })).status).toBe(201)
    expect((await client.call("PUT", fresh(), { body: provision("d") })).status).toBe(201)
    expect(
      (await client.call("PATCH", "/v2/service_instances/x", {
        body: { service_id: SERVICE, plan_id: "d", parameters: { tier: "pro" } }
      })).status
    ).toBe(200)
    expect(
      (await client.call("PUT", "/v2/service_instances/x/service_bindings/y", {
        body: { service_id: SERVICE, plan_id: "d" }
      })).status
    ).toBe(201)
    await client.dispose()
    expect(broker.parametersOf("provision")).toEqual([{ size: 2, tier: "basic" }, { size: 5, tier: "basic" }])
    expect(broker.parametersOf("update")).toEqual([{ tier: "pro" }])
    expect(broker.parametersOf("bind")).toEqual([{ role: "reader" }])
  })
})

describe("decision 41: the off switches", () => {
  const twoPlans = catalogOf([
    plan("checked", instanceSchemas(sizeSchema())),
    plan("own", instanceSchemas(sizeSchema()))
  ])
  const bad = { size: 1000 }

  const statuses = async (options: Router.RouterOptions) => {
    const broker = recordingBroker(twoPlans)
    const client: Client = clientFor(broker.layer, options)
    const checked = await client.call("PUT", fresh(), { body: provision("checked", bad) })
    const own = await client.call("PUT", fresh(), { body: provision("own", bad) })
    await client.dispose()
    return [checked.status, own.status, broker.parametersOf("provision").length]
  }

  it("on by default", async () => {
    expect(await statuses({})).toEqual([400, 400, 0])
  })

  it("validateParameters: false turns it off router-wide: the broker sees the parameters", async () => {
    expect(await statuses({ validateParameters: false })).toEqual([201, 201, 2])
  })

  it("a predicate turns it off per plan", async () => {
    expect(await statuses({ validateParameters: ({ plan }) => plan.name !== "own" })).toEqual([400, 201, 1])
  })
})

describe("SCH-5 decision 41: a managed broker", () => {
  const managedCatalog = catalogOf([
    plan("m", {
      ...instanceSchemas(sizeSchema(), sizeSchema()),
      service_binding: {
        create: { parameters: { $schema: DRAFT04, properties: { role: { enum: ["reader"] } } } }
      }
    })
  ])
  const calls: Array<string> = []
  const work: ManagedBroker.OfferingWork = {
    provision: ManagedBroker.sync((ctx) =>
      Effect.sync(() => calls.push(`provision:${ctx.instanceId}`)).pipe(Effect.as({}))
    ),
    update: ManagedBroker.sync((ctx) => Effect.sync(() => calls.push(`update:${ctx.instanceId}`)).pipe(Effect.as({}))),
    deprovision: ManagedBroker.sync(() => Effect.void),
    bind: ManagedBroker.sync((ctx) =>
      Effect.sync(() => calls.push(`bind:${ctx.bindingId}`)).pipe(Effect.as({ credentials: { user: "u" } }))
    ),
    unbind: ManagedBroker.sync(() => Effect.void)
  }
  const layer = ManagedBroker.layer({ [SERVICE]: work }).pipe(
    Layer.provideMerge(Catalog.layer(managedCatalog)),
    Layer.provide(BrokerStore.layerMemory)
  )
  const client = clientFor(layer)
  afterAll(() => client.dispose())

  it("provision, update and bind: a violation is a 400, nothing is stored and the work does not run", async () => {
    expect400(
      await client.call("PUT", "/v2/service_instances/m-1", { body: provision("m", { size: 0 }) }),
      "parameters.size: must be >= 1"
    )
    expect((await client.call("GET", "/v2/service_instances/m-1/last_operation")).status).toBe(404)
    expect((await client.call("PUT", "/v2/service_instances/m-1", { body: provision("m", { size: 1 }) })).status)
      .toBe(201)
    expect400(
      await client.call("PATCH", "/v2/service_instances/m-1", {
        body: { service_id: SERVICE, plan_id: "m", parameters: { size: 101 } }
      }),
      "parameters.size: must be <= 100"
    )
    expect(
      (await client.call("PATCH", "/v2/service_instances/m-1", {
        body: { service_id: SERVICE, plan_id: "m", parameters: { size: 100 } }
      })).status
    ).toBe(200)
    expect400(
      await client.call("PUT", "/v2/service_instances/m-1/service_bindings/b-1", {
        body: { service_id: SERVICE, plan_id: "m", parameters: { role: "writer" } }
      }),
      "parameters.role: must be one of \"reader\""
    )
    expect(
      (await client.call("PUT", "/v2/service_instances/m-1/service_bindings/b-1", {
        body: { service_id: SERVICE, plan_id: "m", parameters: { role: "reader" } }
      })).status
    ).toBe(201)
    expect(calls).toEqual(["provision:m-1", "update:m-1", "bind:b-1"])
  })
})

describe("the quick start: plan small's schema, as the README shows it", () => {
  const readme = readFileSync(new URL("../README.md", import.meta.url), "utf8")
  const quickStart = readme.slice(readme.indexOf("## Quick start"), readme.indexOf("An asynchronous lifecycle"))
  const small = /^SMALL='(.*)'$/m.exec(quickStart)![1]!
  /** Each README curl that sends parameters, with the body and the answer printed under it. */
  const examples = Array.from(
    quickStart.matchAll(/^curl [^\n]*-d "(.*"parameters.*)"\n(?:#   HTTP[^\n]*\n)?#   (\{.*\})$/gm),
    (match) => ({
      body: JSON.parse(match[1]!.replace("$SMALL", small).replaceAll("\\\"", "\"")) as Json,
      answer: JSON.parse(match[2]!) as Json
    })
  )

  it("the README shows two refused provisions", () => {
    expect(examples).toHaveLength(2)
    expect(examples[0]!.answer).toEqual({ description: "parameters.size: must be <= 100" })
  })

  const brokers = [
    ["the managed quick start (npm start)", Managed.layerWith("1 second")],
    ["the hand-written quick start", Handwritten.layer]
  ] as const
  for (const [name, layer] of brokers) {
    it(`${name}: each answers 400 as shown; size 1..100 and other properties pass`, async () => {
      const client = clientFor(Layer.fresh(layer))
      for (const { answer, body } of examples) {
        const reply = await client.call("PUT", fresh(), { body })
        expect(reply.status).toBe(400)
        expect(reply.body).toEqual(answer)
      }
      const ok = await client.call("PUT", fresh(), {
        body: { ...examples[0]!.body, parameters: { size: 100, owner: "me" } }
      })
      expect(ok.status).toBe(201)
      const id = fresh()
      expect((await client.call("PUT", id, { body: { ...examples[0]!.body, parameters: { size: 1 } } })).status).toBe(
        201
      )
      const patch = (size: unknown) =>
        client.call("PATCH", id, {
          body: { service_id: Managed.SERVICE_ID, plan_id: Managed.SMALL_PLAN_ID, parameters: { size } }
        })
      expect400(await patch(0), "parameters.size: must be >= 1")
      expect((await patch(50)).status).toBe(200)
      await client.dispose()
    })
  }
})
