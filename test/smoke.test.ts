import { afterAll, describe, expect, it } from "vitest"
import { clientFor, isJsonObject } from "./support/http.js"
import { provisionBody, scripted } from "./support/scripted.js"

describe("smoke", () => {
  const client = clientFor(scripted())
  afterAll(() => client.dispose())

  it("CAT-1 GET /v2/catalog answers 200 with services", async () => {
    const reply = await client.call("GET", "/v2/catalog")
    expect(reply.status).toBe(200)
    expect(reply.body.services).toHaveLength(2)
  })

  it("PRV-1 provision 201", async () => {
    const reply = await client.call("PUT", "/v2/service_instances/a%20b", { body: provisionBody() })
    expect(reply.status).toBe(201)
    expect(isJsonObject(reply)).toBe(true)
  })
})
