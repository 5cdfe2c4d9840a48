/**
 * SCH-5 decision 41, as properties over HTTP through the router: parameters generated from a plan's schema
 * (`Arbitraries.parameters`) always pass, and parameters generated to violate it (`Arbitraries.invalidParameters`)
 * always get a 400 naming the broken location, for provision, update and bind, on schemas of several dialects.
 */
import { Effect, FastCheck, Layer } from "effect"
import { afterAll, describe, expect, it } from "vitest"
import { Catalog, ServiceBroker } from "../src/index.js"
import type { Model } from "../src/index.js"
import { Arbitraries } from "../src/testing/index.js"
import { clientFor } from "./support/http.js"
import { defaultScript } from "./support/scripted.js"

const SERVICE = "svc-props"

const schemas: Record<string, Record<string, unknown>> = {
  quickstart: {
    $schema: "http://json-schema.org/draft-04/schema#",
    type: "object",
    properties: { size: { type: "integer", minimum: 1, maximum: 100 } }
  },
  nested: {
    $schema: "http://json-schema.org/draft-07/schema#",
    type: "object",
    required: ["name"],
    additionalProperties: false,
    properties: {
      name: { type: "string", minLength: 1, maxLength: 20 },
      tier: { enum: ["basic", "pro"] },
      "display name": { type: "string", maxLength: 8 },
      replicas: { type: "integer", exclusiveMinimum: 0, exclusiveMaximum: 5 },
      backup: {
        type: "object",
        required: ["window"],
        properties: { window: { const: "night" }, copies: { type: "integer", minimum: 0, maximum: 3 } }
      },
      tags: { type: "array", items: { type: "string" }, minItems: 1, maxItems: 3 }
    }
  },
  // the formats the kit generates values for; each must pass the router's format check
  formats: {
    $schema: "http://json-schema.org/draft-07/schema#",
    type: "object",
    required: ["id", "email", "uri", "url", "reference", "host", "ip", "at", "day"],
    properties: {
      id: { type: "string", format: "uuid" },
      email: { type: "string", format: "email" },
      uri: { type: "string", format: "uri" },
      url: { type: "string", format: "url" },
      reference: { type: "string", format: "uri-reference" },
      host: { type: "string", format: "hostname" },
      ip: { type: "string", format: "ipv4" },
      at: { type: "string", format: "date-time" },
      day: { type: "string", format: "date" }
    }
  },
  modern: {
    $schema: "https://json-schema.org/draft/2020-12/schema",
    type: "object",
    properties: {
      ratio: { type: "number", minimum: 0, maximum: 1 },
      mode: { type: ["string", "null"], maxLength: 4 }
    }
  }
}

const catalog = {
  services: [{
    id: SERVICE,
    name: "props",
    description: "property-tested parameters",
    bindable: true,
    plan_updateable: true,
    plans: Object.entries(schemas).map(([name, schema]) => ({
      id: name,
      name,
      description: `plan ${name}`,
      schemas: {
        service_instance: { create: { parameters: schema }, update: { parameters: schema } },
        service_binding: { create: { parameters: schema } }
      }
    }))
  }]
} as unknown as Model.CatalogBody

const seen: Array<unknown> = []
const recordParameters = (request: { readonly body: { readonly parameters?: unknown } }) =>
  Effect.sync(() => {
    seen.push(request.body.parameters)
  })
const broker: ServiceBroker.ServiceBrokerService = {
  ...defaultScript,
  provision: (r) => Effect.zipRight(recordParameters(r), defaultScript.provision(r)),
  update: (r) => Effect.zipRight(recordParameters(r), defaultScript.update(r)),
  bind: (r) => Effect.zipRight(recordParameters(r), defaultScript.bind(r))
}
const client = clientFor(Layer.merge(Catalog.layer(catalog), ServiceBroker.layer(broker)))
afterAll(() => client.dispose())

let counter = 0
const plans = catalog.services[0]!.plans

type Operation = "create" | "update" | "bind"
const send = (operation: Operation, planId: string, parameters: unknown) => {
  const id = `p-${++counter}`
  switch (operation) {
    case "create":
      return client.call("PUT", `/v2/service_instances/${id}`, {
        body: { service_id: SERVICE, plan_id: planId, organization_guid: "o", space_guid: "s", parameters }
      })
    case "update":
      return client.call("PATCH", `/v2/service_instances/${id}`, {
        body: { service_id: SERVICE, plan_id: planId, parameters }
      })
    case "bind":
      return client.call("PUT", `/v2/service_instances/${id}/service_bindings/${id}`, {
        body: { service_id: SERVICE, plan_id: planId, parameters }
      })
  }
}

const okStatus: Record<Operation, number> = { create: 201, update: 200, bind: 201 }
const numRuns = Number(process.env["PARAMETERS_PROPERTY_RUNS"] ?? 40)

describe("SCH-5 decision 41: generated parameters over HTTP", () => {
  for (const plan of plans) {
    for (const operation of ["create", "update", "bind"] as const) {
      it(`plan ${plan.name}, ${operation}: valid parameters always reach the broker unchanged`, async () => {
        await FastCheck.assert(
          FastCheck.asyncProperty(Arbitraries.parameters(plan, operation), async (parameters) => {
            seen.length = 0
            const reply = await send(operation, plan.id, parameters)
            expect(reply.status, reply.text).toBe(okStatus[operation])
            expect(seen).toEqual([parameters])
          }),
          { numRuns }
        )
      })

      it(`plan ${plan.name}, ${operation}: invalid parameters always get a 400 naming the broken location`, async () => {
        await FastCheck.assert(
          FastCheck.asyncProperty(Arbitraries.invalidParametersFor(plan, operation)!, async (invalid) => {
            seen.length = 0
            const reply = await send(operation, plan.id, invalid.parameters)
            expect(reply.status, `${invalid.keyword} ${JSON.stringify(invalid.parameters)}`).toBe(400)
            const problems = String(reply.body.description).split("; ")
            expect(
              problems.some((p) => p.startsWith(`${invalid.path}: `)),
              `${invalid.path} in ${reply.body.description}`
            )
              .toBe(true)
            expect(seen).toEqual([])
          }),
          { numRuns }
        )
      })
    }
  }

  it("the generator breaks every kind of keyword it knows on these schemas", () => {
    const keywords = new Set(
      plans.flatMap((plan) =>
        FastCheck.sample(Arbitraries.invalidParametersFor(plan, "create")!, { numRuns: 300, seed: 1 }).map((i) =>
          i.keyword
        )
      )
    )
    expect([...keywords].sort()).toEqual(
      [
        "additionalProperties",
        "const",
        "enum",
        "exclusiveMaximum",
        "exclusiveMinimum",
        "maxItems",
        "maxLength",
        "maximum",
        "minItems",
        "minLength",
        "minimum",
        "required",
        "type"
      ]
    )
  })
})
