/**
 * Rules the router enforces before the broker runs, and contract checks on what the broker answers:
 * plan changes (decision 8), bindability (decision 7), rotation (decision 19), maintenance_info (PRV-7,
 * UPD-2, decision 9), deprecated fields (decision 5), accepts_incomplete (ASY-1), missing optional broker
 * methods and BrokerIncomplete.
 */
import { Cause, Effect, Exit, Layer, Option } from "effect"
import { afterAll, describe, expect, it } from "vitest"
import { BrokerAuth, Catalog, Router, ServiceBroker } from "../src/index.js"
import type { Model } from "../src/index.js"
import { clientFor, isJsonObject } from "./support/http.js"
import type { Reply } from "./support/http.js"
import { BINDING, INSTANCE, recording } from "./support/router.js"
import {
  bindBody,
  ids,
  OFFERING,
  PLAN_FIXED,
  PLAN_MI,
  PLAN_PLAIN,
  PLAN_ROTATABLE,
  PLAN_UNBINDABLE,
  provisionBody
} from "./support/scripted.js"

const expect400 = (reply: Reply, pattern?: RegExp) => {
  expect(reply.status).toBe(400)
  expect(isJsonObject(reply)).toBe(true)
  if (pattern !== undefined) expect(reply.body.description).toMatch(pattern)
}

const expectMaintenanceConflict = (reply: Reply) => {
  expect(reply.status).toBe(422)
  expect(isJsonObject(reply)).toBe(true)
  expect(reply.body.error).toBe("MaintenanceInfoConflict")
  expect(typeof reply.body.description).toBe("string")
}

const patch = (body: Record<string, unknown>) => ({ body: { service_id: OFFERING, ...body } })

describe("UPD-1 (decision 8) plan changes to or from a plan with plan_updateable false", () => {
  const broker = recording()
  const client = clientFor(broker.layer)
  afterAll(() => client.dispose())

  it("decision 8 from plan-fixed to plan-plain -> 422 with update_repeatable false, handler not called", async () => {
    const reply = await client.call(
      "PATCH",
      INSTANCE,
      patch({ plan_id: PLAN_PLAIN, previous_values: { plan_id: PLAN_FIXED } })
    )
    expect(reply.status).toBe(422)
    expect(isJsonObject(reply)).toBe(true)
    expect(reply.body.update_repeatable).toBe(false)
    expect(reply.body.error).toBeUndefined()
    expect(reply.body.description).toMatch(/plan_updateable/)
    expect(broker.calls("update")).toHaveLength(0)
  })

  it("decision 8 from plan-plain to plan-fixed -> 422 with update_repeatable false", async () => {
    const reply = await client.call(
      "PATCH",
      INSTANCE,
      patch({ plan_id: PLAN_FIXED, previous_values: { plan_id: PLAN_PLAIN } })
    )
    expect(reply.status).toBe(422)
    expect(reply.body.update_repeatable).toBe(false)
    expect(broker.calls("update")).toHaveLength(0)
  })

  it("UPD-1 a parameter change on plan-fixed (same plan, no change) is allowed", async () => {
    const reply = await client.call("PATCH", INSTANCE, {
      ...patch({ plan_id: PLAN_FIXED, previous_values: { plan_id: PLAN_FIXED }, parameters: { size: 2 } })
    })
    expect(reply.status).toBe(200)
  })

  it("UPD-1 a parameter-only change (no plan_id) on plan-fixed is allowed", async () => {
    const reply = await client.call(
      "PATCH",
      INSTANCE,
      patch({ previous_values: { plan_id: PLAN_FIXED }, parameters: {} })
    )
    expect(reply.status).toBe(200)
  })

  it("UPD-1 a change between two updateable plans reaches the handler", async () => {
    const reply = await client.call(
      "PATCH",
      INSTANCE,
      patch({ plan_id: PLAN_PLAIN, previous_values: { plan_id: PLAN_MI } })
    )
    expect(reply.status).toBe(200)
    expect(broker.calls("update").length).toBeGreaterThan(0)
  })
})

describe("BND-0 (decision 7) bind on a plan that is not bindable -> 400", () => {
  const broker = recording()
  const client = clientFor(broker.layer)
  afterAll(() => client.dispose())

  it("decision 7 bind on plan-unbindable -> 400, handler not called", async () => {
    const reply = await client.call("PUT", BINDING, { body: bindBody({ plan_id: PLAN_UNBINDABLE }) })
    expect400(reply, /not bindable/)
    expect(broker.calls("bind")).toHaveLength(0)
  })

  it("decision 7 the same request with accepts_incomplete=true is refused too", async () => {
    const reply = await client.call("PUT", `${BINDING}?accepts_incomplete=true`, {
      body: bindBody({ plan_id: PLAN_UNBINDABLE })
    })
    expect400(reply, /not bindable/)
  })

  it("decision 7 a bindable plan of the same offering is accepted", async () => {
    expect((await client.call("PUT", BINDING, { body: bindBody({ plan_id: PLAN_PLAIN }) })).status).toBe(201)
  })
})

describe("ROT-1 (decision 19) predecessor_binding_id", () => {
  const broker = recording()
  const client = clientFor(broker.layer)
  afterAll(() => client.dispose())

  it("decision 19 predecessor_binding_id on a plan without binding_rotatable -> 400", async () => {
    const reply = await client.call("PUT", BINDING, { body: bindBody({ predecessor_binding_id: "bind-0" }) })
    expect400(reply, /rotation/)
    expect(broker.calls("bind")).toHaveLength(0)
  })

  it("ROT-2 predecessor_binding_id on plan-rotatable is accepted and handed to the broker", async () => {
    const reply = await client.call("PUT", BINDING, {
      body: bindBody({ plan_id: PLAN_ROTATABLE, predecessor_binding_id: "bind-0" })
    })
    expect(reply.status).toBe(201)
    expect(broker.last("bind").body.predecessor_binding_id).toBe("bind-0")
    expect(broker.last("bind").effective.bindingRotatable).toBe(true)
  })
})

describe("PRV-7 / UPD-2 (decision 9) maintenance_info", () => {
  const broker = recording()
  const client = clientFor(broker.layer)
  afterAll(() => client.dispose())
  const mi = (version: string) => ({ maintenance_info: { version } })

  it("PRV-7 PUT with a version different from the plan's -> 422 MaintenanceInfoConflict", async () => {
    const reply = await client.call("PUT", INSTANCE, { body: provisionBody(mi("1.1.0")) })
    expectMaintenanceConflict(reply)
    expect(broker.calls("provision")).toHaveLength(0)
  })

  it("PRV-7 PUT with the plan's version is accepted; only version is compared", async () => {
    const reply = await client.call("PUT", INSTANCE, {
      body: provisionBody({ maintenance_info: { version: "1.2.0", description: "anything" } })
    })
    expect(reply.status).toBe(201)
  })

  it("PRV-7 PUT without maintenance_info on a plan that has one is accepted", async () => {
    expect((await client.call("PUT", INSTANCE, { body: provisionBody() })).status).toBe(201)
  })

  it("PRV-7 PUT with maintenance_info on a plan without one -> 422 MaintenanceInfoConflict", async () => {
    const reply = await client.call("PUT", INSTANCE, { body: provisionBody({ plan_id: PLAN_PLAIN, ...mi("1.2.0") }) })
    expectMaintenanceConflict(reply)
  })

  it("PRV-7 PATCH with a version different from the plan's -> 422 MaintenanceInfoConflict", async () => {
    const before = broker.calls("update").length
    const reply = await client.call("PATCH", INSTANCE, patch({ plan_id: PLAN_MI, ...mi("2.0.0") }))
    expectMaintenanceConflict(reply)
    expect(broker.calls("update")).toHaveLength(before)
  })

  it("PRV-7 PATCH without plan_id compares with previous_values.plan_id's plan", async () => {
    const reply = await client.call("PATCH", INSTANCE, patch({ previous_values: { plan_id: PLAN_MI }, ...mi("2.0.0") }))
    expectMaintenanceConflict(reply)
    const ok = await client.call("PATCH", INSTANCE, patch({ previous_values: { plan_id: PLAN_MI }, ...mi("1.2.0") }))
    expect(ok.status).toBe(200)
  })

  it("PRV-7 PATCH with maintenance_info on a plan without one -> 422 MaintenanceInfoConflict", async () => {
    const reply = await client.call("PATCH", INSTANCE, patch({ plan_id: PLAN_PLAIN, ...mi("1.2.0") }))
    expectMaintenanceConflict(reply)
  })

  it("PRV-7 PATCH with the matching version is accepted", async () => {
    const reply = await client.call("PATCH", INSTANCE, patch({ plan_id: PLAN_MI, ...mi("1.2.0") }))
    expect(reply.status).toBe(200)
  })

  it("UPD-2 plan change plain -> mi: the TARGET plan's version (1.2.0) is compared, so it is accepted", async () => {
    const reply = await client.call("PATCH", INSTANCE, {
      ...patch({ plan_id: PLAN_MI, previous_values: { plan_id: PLAN_PLAIN }, ...mi("1.2.0") })
    })
    expect(reply.status).toBe(200)
  })

  it("UPD-2 plan change mi -> plain with maintenance_info: the target plan has none -> 422", async () => {
    const reply = await client.call("PATCH", INSTANCE, {
      ...patch({ plan_id: PLAN_PLAIN, previous_values: { plan_id: PLAN_MI, ...mi("1.2.0") }, ...mi("1.2.0") })
    })
    expectMaintenanceConflict(reply)
  })

  it("UPD-2 plan change plain -> mi with a version that is not the target's -> 422", async () => {
    const reply = await client.call("PATCH", INSTANCE, {
      ...patch({ plan_id: PLAN_MI, previous_values: { plan_id: PLAN_PLAIN }, ...mi("1.0.0") })
    })
    expectMaintenanceConflict(reply)
  })

  // osb-checker's Go client sends "maintenance_info": {} on every request: {} without version counts as absent
  it("PRV-7 PUT with maintenance_info {} is a PUT without it, also on a plan without maintenance_info", async () => {
    for (const plan_id of [PLAN_MI, PLAN_PLAIN]) {
      const reply = await client.call("PUT", INSTANCE, { body: provisionBody({ plan_id, maintenance_info: {} }) })
      expect(reply.status).toBe(201)
      expect(broker.last("provision").body).not.toHaveProperty("maintenance_info")
    }
  })

  it("UPD-2 PATCH with maintenance_info {} and previous_values.maintenance_info {} is a PATCH without them", async () => {
    const reply = await client.call("PATCH", INSTANCE, {
      ...patch({
        plan_id: PLAN_PLAIN,
        previous_values: { plan_id: PLAN_MI, maintenance_info: {} },
        maintenance_info: {}
      })
    })
    expect(reply.status).toBe(200)
    const body = broker.last("update").body
    expect(body).not.toHaveProperty("maintenance_info")
    expect(body.previous_values).toStrictEqual({ plan_id: PLAN_MI })
  })

  it("PRV-7 / UPD-2 a maintenance_info with other fields but no version is still a 400 naming the field", async () => {
    const noVersion = { maintenance_info: { description: "no version" } }
    expect400(
      await client.call("PUT", INSTANCE, { body: provisionBody(noVersion) }),
      /maintenance_info\.version: is required/
    )
    expect400(await client.call("PATCH", INSTANCE, patch(noVersion)), /maintenance_info\.version: is required/)
    expect400(
      await client.call("PATCH", INSTANCE, patch({ previous_values: noVersion })),
      /previous_values\.maintenance_info\.version: is required/
    )
    expect400(await client.call("PUT", INSTANCE, { body: provisionBody({ maintenance_info: [] }) }), /maintenance_info/)
  })
})

describe("PRV-2 (decision 5) deprecated organization_guid / space_guid", () => {
  const broker = recording()
  const client = clientFor(broker.layer)
  const strict = clientFor(broker.layer, { strictDeprecatedFields: true })
  afterAll(async () => {
    await client.dispose()
    await strict.dispose()
  })
  const without = (fields: ReadonlyArray<string>, extra: Record<string, unknown> = {}) => {
    const body: Record<string, unknown> = { ...provisionBody(), ...extra }
    for (const field of fields) delete body[field]
    return body
  }
  const k8s = { context: { platform: "kubernetes", namespace: "ns", clusterid: "c-1" } }
  const cf = { context: { platform: "cloudfoundry", organization_guid: "o", space_guid: "s" } }

  it.each([
    ["both missing, no context", without(["organization_guid", "space_guid"])],
    ["organization_guid missing, no context", without(["organization_guid"])],
    ["space_guid missing, no context", without(["space_guid"])],
    ["both missing, cloudfoundry context", without(["organization_guid", "space_guid"], cf)],
    ["space_guid missing, cloudfoundry context", without(["space_guid"], cf)]
  ])("decision 5 %s -> 400", async (_, body) => {
    const before = broker.calls("provision").length
    expect400(await client.call("PUT", INSTANCE, { body }), /organization_guid and space_guid/)
    expect(broker.calls("provision")).toHaveLength(before)
  })

  it("decision 5 an empty organization_guid -> 400", async () => {
    expect400(await client.call("PUT", INSTANCE, { body: provisionBody({ organization_guid: "" }) }))
  })

  it("decision 5 both missing with a kubernetes context -> accepted (201)", async () => {
    const reply = await client.call("PUT", INSTANCE, { body: without(["organization_guid", "space_guid"], k8s) })
    expect(reply.status).toBe(201)
    expect(broker.last("provision").body.context.platform).toBe("kubernetes")
  })

  it("decision 5 both missing with another platform's context -> accepted (201)", async () => {
    const reply = await client.call("PUT", INSTANCE, {
      body: without(["organization_guid", "space_guid"], { context: { platform: "acme-cloud" } })
    })
    expect(reply.status).toBe(201)
  })

  it("decision 5 strictDeprecatedFields: true requires them with a kubernetes context as well", async () => {
    expect400(await strict.call("PUT", INSTANCE, { body: without(["organization_guid", "space_guid"], k8s) }))
    expect400(await strict.call("PUT", INSTANCE, { body: without(["space_guid"], k8s) }))
    expect((await strict.call("PUT", INSTANCE, { body: provisionBody(k8s) })).status).toBe(201)
  })
})

// -----------------------------------------------------------------------------
// accepts_incomplete
// -----------------------------------------------------------------------------

const mutating = [
  { id: "E2", method: "PUT", path: INSTANCE, body: provisionBody(), operation: "provision", ok: 201 },
  { id: "E4", method: "PATCH", path: INSTANCE, body: { service_id: OFFERING }, operation: "update", ok: 200 },
  { id: "E5", method: "DELETE", path: INSTANCE, query: ids, operation: "deprovision", ok: 200 },
  { id: "E7", method: "PUT", path: BINDING, body: bindBody(), operation: "bind", ok: 201 },
  { id: "E9", method: "DELETE", path: BINDING, query: ids, operation: "unbind", ok: 200 }
] as const
const withQuery = (endpoint: { readonly path: string; readonly query?: string }, query: string) => {
  const parts = [endpoint.query ?? "", query].filter((part) => part.length > 0)
  return parts.length === 0 ? endpoint.path : `${endpoint.path}?${parts.join("&")}`
}

describe("ASY-1 accepts_incomplete is strictly true or false", () => {
  const broker = recording()
  const client = clientFor(broker.layer)
  afterAll(() => client.dispose())

  const bad = ["yes", "1", "TRUE", "True", "", "accepts_incomplete=true&accepts_incomplete=true"]
  const cases = mutating.flatMap((endpoint) => bad.map((value) => ({ endpoint, value })))

  it.each(cases)(
    "ASY-1 $endpoint.id $endpoint.method accepts_incomplete=$value -> 400",
    async ({ endpoint, value }) => {
      const query = value.includes("=") ? value : `accepts_incomplete=${value}`
      const before = broker.recorded.length
      const reply = await client.call(endpoint.method, withQuery(endpoint, query), {
        ...("body" in endpoint ? { body: endpoint.body } : {})
      })
      expect400(reply, /accepts_incomplete/)
      expect(broker.recorded.length).toBe(before)
    }
  )

  it.each(mutating)("ASY-1 $id $method: absent -> false, false -> false, true -> true", async (endpoint) => {
    const body = "body" in endpoint ? { body: endpoint.body } : {}
    for (
      const [query, expected] of [["", false], ["accepts_incomplete=false", false], [
        "accepts_incomplete=true",
        true
      ]] as const
    ) {
      const reply = await client.call(endpoint.method, withQuery(endpoint, query), body)
      expect(reply.status).toBe(endpoint.ok)
      expect(broker.last(endpoint.operation).acceptsIncomplete).toBe(expected)
    }
  })
})

describe("ASY-1 a 202 answer requires accepts_incomplete=true", () => {
  const LONG = "o".repeat(10_001)
  const asyncAnswers = {
    provision: (r: any) => Effect.succeed(ServiceBroker.Result.accepted(r.instanceId === "long" ? LONG : "op-p")),
    update: (r: any) => Effect.succeed(ServiceBroker.Result.accepted(r.instanceId === "long" ? LONG : "op-u")),
    deprovision: (r: any) => Effect.succeed(ServiceBroker.Result.deleting(r.instanceId === "long" ? LONG : "op-d")),
    bind: (r: any) => Effect.succeed(ServiceBroker.Result.binding(r.instanceId === "long" ? LONG : "op-b")),
    unbind: (r: any) => Effect.succeed(ServiceBroker.Result.deleting(r.instanceId === "long" ? LONG : "op-ub"))
  }
  const expectedOperation: Record<string, string> = {
    provision: "op-p",
    update: "op-u",
    deprovision: "op-d",
    bind: "op-b",
    unbind: "op-ub"
  }
  const broker = recording(asyncAnswers)
  const client = clientFor(broker.layer)
  afterAll(() => client.dispose())
  const bodyOf = (endpoint: (typeof mutating)[number]) => ("body" in endpoint ? { body: endpoint.body } : {})

  it.each(mutating)("ASY-1 $id $method: 202 without accepts_incomplete -> 500 generic body", async (endpoint) => {
    const reply = await client.call(endpoint.method, withQuery(endpoint, ""), bodyOf(endpoint))
    expect(reply.status).toBe(500)
    expect(reply.body).toEqual({ description: "Internal broker error." })
    expect(reply.headers.get("content-type")).toMatch(/^application\/json/)
    expect(broker.calls(endpoint.operation).length).toBeGreaterThan(0)
  })

  it.each(mutating)("ASY-1 $id $method: 202 with accepts_incomplete=false -> 500", async (endpoint) => {
    const reply = await client.call(endpoint.method, withQuery(endpoint, "accepts_incomplete=false"), bodyOf(endpoint))
    expect(reply.status).toBe(500)
    expect(reply.body).toEqual({ description: "Internal broker error." })
  })

  it.each(mutating)("ASY-1 $id $method: with accepts_incomplete=true -> 202 {operation}", async (endpoint) => {
    const reply = await client.call(endpoint.method, withQuery(endpoint, "accepts_incomplete=true"), bodyOf(endpoint))
    expect(reply.status).toBe(202)
    expect(reply.body).toEqual({ operation: expectedOperation[endpoint.operation] })
  })

  it.each(mutating)("ASY-1 $id $method: an operation longer than 10,000 characters -> 500", async (endpoint) => {
    const path = withQuery({ ...endpoint, path: endpoint.path.replace("inst-1", "long") }, "accepts_incomplete=true")
    const reply = await client.call(endpoint.method, path, bodyOf(endpoint))
    expect(reply.status).toBe(500)
    expect(reply.body).toEqual({ description: "Internal broker error." })
  })

  it("ASY-1 an operation of exactly 10,000 characters is accepted", async () => {
    const exact = "x".repeat(10_000)
    const c = clientFor(recording({ provision: () => Effect.succeed(ServiceBroker.Result.accepted(exact)) }).layer)
    try {
      const reply = await c.call("PUT", `${INSTANCE}?accepts_incomplete=true`, { body: provisionBody() })
      expect(reply.status).toBe(202)
      expect(reply.body.operation).toBe(exact)
    } finally {
      await c.dispose()
    }
  })

  it("ASY-1 an empty operation string -> 500 (operation must be non-empty)", async () => {
    const c = clientFor(recording({ deprovision: () => Effect.succeed(ServiceBroker.Result.deleting("")) }).layer)
    try {
      const reply = await c.call("DELETE", `${INSTANCE}?${ids}&accepts_incomplete=true`)
      expect(reply.status).toBe(500)
    } finally {
      await c.dispose()
    }
  })
})

// -----------------------------------------------------------------------------
// missing optional broker methods
// -----------------------------------------------------------------------------

const S = "svc-min"
const P = "plan-min"
const minimalCatalog: Model.CatalogBody = {
  services: [{
    id: S,
    name: "minimal",
    description: "nothing bindable",
    bindable: false,
    plans: [{ id: P, name: "p", description: "d" }]
  }]
}
const minimalBroker = ServiceBroker.layer({
  provision: () => Effect.succeed(ServiceBroker.Result.created()),
  deprovision: () => Effect.succeed(ServiceBroker.Result.deleted)
})

describe("a broker with only provision and deprovision", () => {
  const client = clientFor(Layer.merge(Catalog.layer(minimalCatalog), minimalBroker))
  afterAll(() => client.dispose())
  const minIds = `service_id=${S}&plan_id=${P}`

  it("E2/E5 provision and deprovision work", async () => {
    const body = { service_id: S, plan_id: P, organization_guid: "o", space_guid: "s" }
    expect((await client.call("PUT", INSTANCE, { body })).status).toBe(201)
    expect((await client.call("DELETE", `${INSTANCE}?${minIds}`)).status).toBe(200)
  })

  it("E4 PATCH -> 422 (update not supported) with a JSON description", async () => {
    const reply = await client.call("PATCH", INSTANCE, { body: { service_id: S, parameters: { a: 1 } } })
    expect(reply.status).toBe(422)
    expect(isJsonObject(reply)).toBe(true)
    expect(reply.body.description).toMatch(/updat/i)
  })

  it("E3 GET instance -> 404", async () => {
    const reply = await client.call("GET", INSTANCE)
    expect(reply.status).toBe(404)
    expect(isJsonObject(reply)).toBe(true)
  })

  it("E6 last_operation -> 404", async () => {
    const reply = await client.call("GET", `${INSTANCE}/last_operation`)
    expect(reply.status).toBe(404)
    expect(isJsonObject(reply)).toBe(true)
  })

  it("E9 unbind -> 410 {}", async () => {
    const reply = await client.call("DELETE", `${BINDING}?${minIds}`)
    expect(reply.status).toBe(410)
    expect(reply.body).toEqual({})
    expect(reply.headers.get("content-type")).toMatch(/^application\/json/)
  })

  it("E7 bind -> 400 (nothing is bindable)", async () => {
    const reply = await client.call("PUT", BINDING, { body: { service_id: S, plan_id: P } })
    expect400(reply, /not bindable/)
  })

  it("E8 GET binding and E10 binding last_operation -> 404", async () => {
    expect((await client.call("GET", BINDING)).status).toBe(404)
    expect((await client.call("GET", `${BINDING}/last_operation`)).status).toBe(404)
  })

  it("the id checks still run before the missing-method answers (PATCH with an unknown service -> 400)", async () => {
    expect400(await client.call("PATCH", INSTANCE, { body: { service_id: "nope" } }))
    expect400(await client.call("GET", `${INSTANCE}?service_id=nope`))
    expect400(await client.call("DELETE", `${BINDING}?service_id=${S}`))
  })
})

describe("BrokerIncomplete: the catalog promises what the broker lacks", () => {
  const offering = (extra: Record<string, unknown>, plans: ReadonlyArray<Record<string, unknown>> = [{}]) => ({
    services: [{
      id: S,
      name: "minimal",
      description: "d",
      bindable: false,
      ...extra,
      plans: plans.map((plan, i) => ({ id: `${P}-${i}`, name: `p${i}`, description: "d", ...plan }))
    }]
  })
  const make = (catalog: unknown, broker: ServiceBroker.ServiceBrokerService) =>
    Effect.runPromiseExit(
      Router.make().pipe(
        Effect.provide(Layer.mergeAll(Catalog.layer(catalog), ServiceBroker.layer(broker), BrokerAuth.layerNone))
      )
    )
  const base: ServiceBroker.ServiceBrokerService = {
    provision: () => Effect.succeed(ServiceBroker.Result.created()),
    deprovision: () => Effect.succeed(ServiceBroker.Result.deleted)
  }
  const missingOf = (exit: Exit.Exit<unknown, unknown>): ReadonlyArray<string> => {
    expect(Exit.isFailure(exit)).toBe(true)
    const failure = Exit.isFailure(exit) ? Cause.failureOption(exit.cause) : Option.none()
    const error = Option.getOrThrow(failure) as Router.BrokerIncomplete
    expect(error).toBeInstanceOf(Router.BrokerIncomplete)
    return error.missing
  }

  it("instances_retrievable: true without getInstance -> BrokerIncomplete naming getInstance", async () => {
    const missing = missingOf(await make(offering({ instances_retrievable: true }), base))
    expect(missing.join("\n")).toMatch(/getInstance/)
  })

  it("an offering bindable by default without bind/unbind -> BrokerIncomplete", async () => {
    const missing = missingOf(await make(offering({ bindable: true }), base))
    expect(missing.join("\n")).toMatch(/bind and unbind/)
  })

  it("one bindable plan in a non-bindable offering is enough to need bind/unbind", async () => {
    const missing = missingOf(await make(offering({}, [{}, { bindable: true }]), base))
    expect(missing.join("\n")).toMatch(/bind and unbind/)
  })

  it("bind without unbind is still incomplete", async () => {
    const missing = missingOf(
      await make(offering({ bindable: true }), {
        ...base,
        bind: () => Effect.succeed(ServiceBroker.Result.bound({}))
      })
    )
    expect(missing.join("\n")).toMatch(/bind and unbind/)
  })

  it("bindings_retrievable: true on a bindable offering without getBinding -> BrokerIncomplete", async () => {
    const missing = missingOf(
      await make(offering({ bindable: true, bindings_retrievable: true }), {
        ...base,
        bind: () => Effect.succeed(ServiceBroker.Result.bound({})),
        unbind: () => Effect.succeed(ServiceBroker.Result.deleted)
      })
    )
    expect(missing).toHaveLength(1)
    expect(missing[0]).toMatch(/getBinding/)
  })

  it("every missing feature is listed at once", async () => {
    const missing = missingOf(
      await make(offering({ bindable: true, instances_retrievable: true, bindings_retrievable: true }), base)
    )
    expect(missing).toHaveLength(3)
  })

  it("a catalog that promises nothing extra builds", async () => {
    const exit = await make(offering({ bindings_retrievable: true }), base)
    expect(Exit.isSuccess(exit)).toBe(true)
  })

  it("Router.toWebHandler: the first request rejects with BrokerIncomplete", async () => {
    const { dispose, handler } = Router.toWebHandler(
      Layer.mergeAll(
        Catalog.layer(offering({ instances_retrievable: true })),
        ServiceBroker.layer(base),
        BrokerAuth.layerNone
      ),
      { requestLog: false }
    )
    try {
      const request = new Request("http://broker.test/v2/catalog", { headers: { "x-broker-api-version": "2.17" } })
      await expect(handler(request)).rejects.toThrow(/getInstance/)
    } finally {
      await dispose()
    }
  })
})
