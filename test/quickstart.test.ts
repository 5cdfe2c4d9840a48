/**
 * The quick start broker (examples/handwritten-broker.ts) over HTTP: every broker-side row of the status matrix
 * (requirements §15) that a synchronous broker can produce.
 */
import { Layer } from "effect"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import * as Quickstart from "../examples/handwritten-broker.js"
import type { Client } from "./support/http.js"
import { clientFor, isJsonObject } from "./support/http.js"

const S = Quickstart.SERVICE_ID
const P = Quickstart.SMALL_PLAN_ID
const q = `service_id=${S}&plan_id=${P}`
const provisionBody = (extra: Record<string, unknown> = {}) => ({
  service_id: S,
  plan_id: P,
  organization_guid: "org",
  space_guid: "space",
  ...extra
})
const bindBody = (extra: Record<string, unknown> = {}) => ({
  service_id: S,
  plan_id: P,
  bind_resource: { app_guid: "app-1" },
  ...extra
})

let client: Client
let n = 0
const fresh = (prefix: string) => `${prefix}-${++n}-${Math.random().toString(36).slice(2)}`

beforeAll(() => {
  client = clientFor(Layer.fresh(Quickstart.layer))
})
afterAll(() => client.dispose())

describe("quick start broker: status matrix", () => {
  it("CAT-1 E1 200 with the catalog (one bindable, updateable, retrievable offering; plan small)", async () => {
    const reply = await client.call("GET", "/v2/catalog")
    expect(reply.status).toBe(200)
    const [offering] = reply.body.services
    expect(offering).toMatchObject({
      bindable: true,
      plan_updateable: true,
      instances_retrievable: true,
      bindings_retrievable: true
    })
    expect(offering.plans.map((p: any) => p.name)).toEqual(["small"])
    expect(offering.plans[0].maintenance_info.version).toBe("1.0.0")
  })

  it("PRV E2 201 new, 200 identical repeat, 409 different attributes", async () => {
    const id = fresh("i")
    const created = await client.call("PUT", `/v2/service_instances/${id}`, { body: provisionBody() })
    expect(created.status).toBe(201)
    expect(created.body.dashboard_url).toContain(id)
    const again = await client.call("PUT", `/v2/service_instances/${id}`, { body: provisionBody() })
    expect(again.status).toBe(200)
    expect(again.body).toEqual(created.body)
    const reordered = await client.call("PUT", `/v2/service_instances/${id}`, {
      body: provisionBody({ parameters: {} })
    })
    expect(reordered.status).toBe(200)
    const different = await client.call("PUT", `/v2/service_instances/${id}`, {
      body: provisionBody({ parameters: { size: 2 } })
    })
    expect(different.status).toBe(409)
    expect(isJsonObject(different)).toBe(true)
    const otherSpace = await client.call("PUT", `/v2/service_instances/${id}`, {
      body: provisionBody({ space_guid: "elsewhere" })
    })
    expect(otherSpace.status).toBe(409)
  })

  it("PRV-4 decision 23: context and maintenance_info are not compared", async () => {
    const id = fresh("i")
    await client.call("PUT", `/v2/service_instances/${id}`, {
      body: provisionBody({ context: { platform: "cloudfoundry", instance_name: "a" } })
    })
    const renamed = await client.call("PUT", `/v2/service_instances/${id}`, {
      body: provisionBody({
        context: { platform: "cloudfoundry", instance_name: "b" },
        maintenance_info: { version: "1.0.0" }
      })
    })
    expect(renamed.status).toBe(200)
  })

  it("PRV-1 E2 400 malformed, PRV-7 422 MaintenanceInfoConflict", async () => {
    const id = fresh("i")
    expect((await client.call("PUT", `/v2/service_instances/${id}`, { raw: "{" })).status).toBe(400)
    const conflict = await client.call("PUT", `/v2/service_instances/${id}`, {
      body: provisionBody({ maintenance_info: { version: "0.9.0" } })
    })
    expect(conflict.status).toBe(422)
    expect(conflict.body.error).toBe("MaintenanceInfoConflict")
    // ST-1: the 4xx left nothing behind
    expect((await client.call("GET", `/v2/service_instances/${id}`)).status).toBe(404)
  })

  it("GI-1 E3 200 with the instance, 404 for a missing one", async () => {
    const id = fresh("i")
    await client.call("PUT", `/v2/service_instances/${id}`, { body: provisionBody({ parameters: { a: 1 } }) })
    const fetched = await client.call("GET", `/v2/service_instances/${id}`)
    expect(fetched.status).toBe(200)
    expect(fetched.body).toMatchObject({ service_id: S, plan_id: P, parameters: { a: 1 } })
    expect(fetched.body.maintenance_info.version).toBe("1.0.0")
    const missing = await client.call("GET", `/v2/service_instances/${fresh("missing")}`)
    expect(missing.status).toBe(404)
    expect(isJsonObject(missing)).toBe(true)
  })

  it("UPD E4 200 {} applied, 404 missing instance (decision 25), 400 without service_id, 422 MI conflict", async () => {
    const id = fresh("i")
    await client.call("PUT", `/v2/service_instances/${id}`, { body: provisionBody() })
    const updated = await client.call("PATCH", `/v2/service_instances/${id}`, {
      body: { service_id: S, parameters: { b: 2 } }
    })
    expect(updated.status).toBe(200)
    expect(updated.body).toEqual({})
    expect((await client.call("GET", `/v2/service_instances/${id}`)).body.parameters).toEqual({ b: 2 })
    const missing = await client.call("PATCH", `/v2/service_instances/${fresh("missing")}`, { body: { service_id: S } })
    expect(missing.status).toBe(404)
    expect(isJsonObject(missing)).toBe(true)
    expect((await client.call("PATCH", `/v2/service_instances/${id}`, { body: { plan_id: P } })).status).toBe(400)
    const conflict = await client.call("PATCH", `/v2/service_instances/${id}`, {
      body: { service_id: S, maintenance_info: { version: "2.0.0" } }
    })
    expect(conflict.status).toBe(422)
    expect(conflict.body.error).toBe("MaintenanceInfoConflict")
    // UPD-3: nothing of the failed update was applied
    expect((await client.call("GET", `/v2/service_instances/${id}`)).body.parameters).toEqual({ b: 2 })
  })

  it("DEP E5 200 {} then 410 {}, 400 without query ids", async () => {
    const id = fresh("i")
    await client.call("PUT", `/v2/service_instances/${id}`, { body: provisionBody() })
    expect((await client.call("DELETE", `/v2/service_instances/${id}?service_id=${S}`)).status).toBe(400)
    const deleted = await client.call("DELETE", `/v2/service_instances/${id}?${q}`)
    expect(deleted.status).toBe(200)
    expect(deleted.body).toEqual({})
    const gone = await client.call("DELETE", `/v2/service_instances/${id}?${q}`)
    expect(gone.status).toBe(410)
    expect(gone.body).toEqual({})
    expect((await client.call("GET", `/v2/service_instances/${id}`)).status).toBe(404)
  })

  it("BND E7 201, 200 identical with the same credentials, 409 different, 404 unknown instance (decision 26)", async () => {
    const id = fresh("i")
    const bid = fresh("b")
    await client.call("PUT", `/v2/service_instances/${id}`, { body: provisionBody() })
    const created = await client.call("PUT", `/v2/service_instances/${id}/service_bindings/${bid}`, {
      body: bindBody()
    })
    expect(created.status).toBe(201)
    expect(created.body.credentials.password).toEqual(expect.any(String))
    const again = await client.call("PUT", `/v2/service_instances/${id}/service_bindings/${bid}`, { body: bindBody() })
    expect(again.status).toBe(200)
    expect(again.body.credentials).toEqual(created.body.credentials)
    const different = await client.call("PUT", `/v2/service_instances/${id}/service_bindings/${bid}`, {
      body: bindBody({ bind_resource: { app_guid: "app-2" } })
    })
    expect(different.status).toBe(409)
    const second = await client.call("PUT", `/v2/service_instances/${id}/service_bindings/${fresh("b")}`, {
      body: bindBody()
    })
    expect(second.status).toBe(201)
    expect(second.body.credentials.password).not.toEqual(created.body.credentials.password)
    const orphan = await client.call("PUT", `/v2/service_instances/${fresh("missing")}/service_bindings/${bid}`, {
      body: bindBody()
    })
    expect(orphan.status).toBe(404)
  })

  it("GB-1 E8 200 with credentials, 404 missing", async () => {
    const id = fresh("i")
    const bid = fresh("b")
    await client.call("PUT", `/v2/service_instances/${id}`, { body: provisionBody() })
    const created = await client.call("PUT", `/v2/service_instances/${id}/service_bindings/${bid}`, {
      body: bindBody({ parameters: { role: "ro" } })
    })
    const fetched = await client.call("GET", `/v2/service_instances/${id}/service_bindings/${bid}`)
    expect(fetched.status).toBe(200)
    expect(fetched.body).toEqual({ credentials: created.body.credentials, parameters: { role: "ro" } })
    expect((await client.call("GET", `/v2/service_instances/${id}/service_bindings/${fresh("b")}`)).status).toBe(404)
  })

  it("UNB E9 200 {} then 410 {}, 400 without query ids", async () => {
    const id = fresh("i")
    const bid = fresh("b")
    await client.call("PUT", `/v2/service_instances/${id}`, { body: provisionBody() })
    await client.call("PUT", `/v2/service_instances/${id}/service_bindings/${bid}`, { body: bindBody() })
    expect((await client.call("DELETE", `/v2/service_instances/${id}/service_bindings/${bid}`)).status).toBe(400)
    const deleted = await client.call("DELETE", `/v2/service_instances/${id}/service_bindings/${bid}?${q}`)
    expect(deleted.status).toBe(200)
    expect(deleted.body).toEqual({})
    const gone = await client.call("DELETE", `/v2/service_instances/${id}/service_bindings/${bid}?${q}`)
    expect(gone.status).toBe(410)
    expect(gone.body).toEqual({})
  })

  it("DEP-3 decision 31: deprovision with bindings removes them too", async () => {
    const id = fresh("i")
    const bid = fresh("b")
    await client.call("PUT", `/v2/service_instances/${id}`, { body: provisionBody() })
    await client.call("PUT", `/v2/service_instances/${id}/service_bindings/${bid}`, { body: bindBody() })
    expect((await client.call("DELETE", `/v2/service_instances/${id}?${q}`)).status).toBe(200)
    expect((await client.call("GET", `/v2/service_instances/${id}/service_bindings/${bid}`)).status).toBe(404)
  })

  it("LO E6/E10: a synchronous broker has no operations to report (404)", async () => {
    const id = fresh("i")
    await client.call("PUT", `/v2/service_instances/${id}`, { body: provisionBody() })
    expect((await client.call("GET", `/v2/service_instances/${id}/last_operation`)).status).toBe(404)
    expect((await client.call("GET", `/v2/service_instances/${id}/service_bindings/x/last_operation`)).status).toBe(
      404
    )
  })

  it("URL-1 ids longer than 100 characters work (up to the router's limit of 10,000)", async () => {
    const id = "x".repeat(3000)
    expect((await client.call("PUT", `/v2/service_instances/${id}`, { body: provisionBody() })).status).toBe(201)
    expect((await client.call("GET", `/v2/service_instances/${id}`)).status).toBe(200)
    const tooLong = await client.call("GET", `/v2/service_instances/${"y".repeat(10_001)}`)
    expect(tooLong.status).toBeGreaterThanOrEqual(400)
    expect(tooLong.status).toBeLessThan(500)
  })

  it("ASY-7 concurrent identical provisions create one instance: one 201, the rest 200", async () => {
    const id = fresh("race")
    const replies = await Promise.all(
      Array.from({ length: 20 }, () => client.call("PUT", `/v2/service_instances/${id}`, { body: provisionBody() }))
    )
    const statuses = replies.map((r) => r.status).sort()
    expect(statuses.filter((s) => s === 201)).toHaveLength(1)
    expect(statuses.filter((s) => s === 200)).toHaveLength(19)
  })

  it("BND-2 concurrent identical binds return the same credentials", async () => {
    const id = fresh("i")
    const bid = fresh("b")
    await client.call("PUT", `/v2/service_instances/${id}`, { body: provisionBody() })
    const replies = await Promise.all(
      Array.from(
        { length: 10 },
        () => client.call("PUT", `/v2/service_instances/${id}/service_bindings/${bid}`, { body: bindBody() })
      )
    )
    expect(replies.filter((r) => r.status === 201)).toHaveLength(1)
    expect(new Set(replies.map((r) => JSON.stringify(r.body.credentials))).size).toBe(1)
  })
})
