/**
 * Security: numbers outside the double range (`1e400`) are refused with a 400 naming the field (issue 13 item 8),
 * instead of being stored as `null` and counted identical to other values, against a spawned quick start.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { AUTHORIZATION, provisionText, spawnQuickstart } from "../support/attack.js"
import { type BrokerProcess, killAll } from "../support/brokerProcess.js"

let broker: BrokerProcess
beforeAll(async () => {
  broker = await spawnQuickstart("numbers")
}, 300_000)
afterAll(() => killAll())

const send = (method: string, path: string, text: string) =>
  fetch(`http://127.0.0.1:${broker.port}${path}`, {
    method,
    headers: { authorization: AUTHORIZATION, "x-broker-api-version": "2.17", "content-type": "application/json" },
    body: text
  }).then(async (response) => ({ status: response.status, body: await response.json() as { description?: string } }))

const SMALL = `"service_id":"5b2c7e1c-6a3f-4d8e-9a51-0c7f1f0d2a10","plan_id":"0f4e4a8e-8d54-4f6b-a3a9-3b8f52f6c5a1"`

describe("issue 13 item 8: numbers outside the double range", () => {
  it.each([
    ["1e400", "parameters.n"],
    ["-1e400", "parameters.n"],
    [`1${"0".repeat(400)}`, "parameters.n"]
  ])("provision with parameters.n = %s -> 400 naming the field; nothing is stored", async (literal, field) => {
    const reply = await send("PUT", "/v2/service_instances/num-1", provisionText(`{"n":${literal}}`))
    expect(reply.status).toBe(400)
    expect(reply.body.description).toContain(field)
    expect((await broker.call("GET", "/v2/service_instances/num-1")).status).toBe(404)
  })

  it("a nested value in an array is named by its path", async () => {
    const reply = await send("PUT", "/v2/service_instances/num-2", provisionText(`{"a":[1,{"b":2e999}]}`))
    expect(reply.status).toBe(400)
    expect(reply.body.description).toContain("parameters.a[1].b")
  })

  it("bind and update refuse them too", async () => {
    expect((await send("PUT", "/v2/service_instances/num-3", provisionText("{}"))).status).toBe(201)
    const bind = await send(
      "PUT",
      "/v2/service_instances/num-3/service_bindings/b-1",
      `{${SMALL},"parameters":{"n":1e400}}`
    )
    expect(bind.status).toBe(400)
    expect(bind.body.description).toContain("parameters.n")
    const update = await send("PATCH", "/v2/service_instances/num-3", `{${SMALL},"parameters":{"n":-9e9999}}`)
    expect(update.status).toBe(400)
    expect(update.body.description).toContain("parameters.n")
  })

  it("large but finite numbers and strings that look like exponents still pass", async () => {
    const reply = await send(
      "PUT",
      "/v2/service_instances/num-4",
      provisionText(`{"n":1.7e308,"s":"1e400","m":1e-400}`)
    )
    expect(reply.status).toBe(201)
    const fetched = await broker.call("GET", "/v2/service_instances/num-4")
    expect(fetched.body.parameters).toEqual({ n: 1.7e308, s: "1e400", m: 0 })
  })
})
