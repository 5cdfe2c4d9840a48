/**
 * Security: what an authenticated (or not yet authenticated) client can hold is bounded (issue 13 item 4).
 * Against a spawned quick start with short limits from its environment: slow headers are cut by the header
 * timeout (408), a body sent one byte a second by the body timeout (408), bodies in flight beyond the total get
 * 503 with Retry-After, and connections beyond the cap are closed.
 */
import type { Socket } from "node:net"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { AUTHORIZATION, head, openRaw, provisionText, spawnQuickstart, writeQuietly } from "../support/attack.js"
import { type BrokerProcess, killAll, sleep } from "../support/brokerProcess.js"

let broker: BrokerProcess
beforeAll(async () => {
  broker = await spawnQuickstart("slow", {
    BROKER_HEADERS_TIMEOUT_MS: "2000",
    BROKER_BODY_TIMEOUT_MS: "2000",
    BROKER_MAX_BODY_BYTES_IN_FLIGHT: "100000",
    BROKER_MAX_CONNECTIONS: "20"
  })
}, 300_000)
afterAll(() => killAll())

/** Sends `text` one byte every `everyMs` until the connection closes or `text` is sent. */
const trickle = async (socket: Socket, text: string, everyMs: number) => {
  for (const byte of text) {
    if (socket.destroyed) return
    await writeQuietly(socket, byte)
    await sleep(everyMs)
  }
}

describe("issue 13 item 4: timeouts and caps", () => {
  it("slow headers (one byte a second) are cut by the header timeout with a 408", async () => {
    const connection = await openRaw(broker)
    void trickle(connection.socket, `GET /v2/catalog HTTP/1.1\r\nhost: x\r\nx-broker-api-version: 2.17\r\n`, 1_000)
    const closedAfter = await Promise.race([connection.closed, sleep(15_000).then(() => -1)])
    console.log(`slow headers: connection closed after ${closedAfter} ms (header timeout 2000 ms)`)
    expect(closedAfter).toBeGreaterThan(1_500)
    expect(closedAfter).toBeLessThan(5_000)
    expect(connection.status()).toBe(408)
  }, 30_000)

  it("an authenticated body sent one byte a second is cut by the body timeout with a 408", async () => {
    const body = provisionText("{}")
    const connection = await openRaw(broker)
    await writeQuietly(
      connection.socket,
      head("PUT", "/v2/service_instances/slow-body", {
        authorization: AUTHORIZATION,
        "x-broker-api-version": "2.17",
        "content-type": "application/json",
        "content-length": String(body.length)
      })
    )
    void trickle(connection.socket, body, 1_000)
    const closedAfter = await Promise.race([connection.closed, sleep(15_000).then(() => -1)])
    console.log(`slow body: connection closed after ${closedAfter} ms (body timeout 2000 ms)`)
    expect(closedAfter).toBeGreaterThan(1_500)
    expect(closedAfter).toBeLessThan(5_000)
    expect(connection.status()).toBe(408)
    expect(connection.received()).toContain("description")
    // nothing was provisioned
    expect((await broker.call("GET", "/v2/service_instances/slow-body")).status).toBe(404)
  }, 30_000)

  it(
    "bodies in flight beyond the total get 503 with Retry-After; the broker answers again once they are gone",
    async () => {
      const first = await openRaw(broker)
      await writeQuietly(
        first.socket,
        head("PUT", "/v2/service_instances/big-1", {
          authorization: AUTHORIZATION,
          "x-broker-api-version": "2.17",
          "content-type": "application/json",
          "content-length": "90000"
        })
      )
      await writeQuietly(first.socket, "x".repeat(80_000))
      await sleep(300)
      const second = await openRaw(broker)
      await writeQuietly(
        second.socket,
        head("PUT", "/v2/service_instances/big-2", {
          authorization: AUTHORIZATION,
          "x-broker-api-version": "2.17",
          "content-type": "application/json",
          "content-length": "50000"
        })
      )
      await Promise.race([second.closed, sleep(3_000)])
      expect(second.status()).toBe(503)
      expect(second.received()).toMatch(/retry-after: \d+/i)
      first.socket.destroy()
      second.socket.destroy()
      await sleep(300)
      const small = await broker.call("PUT", "/v2/service_instances/after-big", JSON.parse(provisionText("{}")))
      expect(small.status).toBe(201)
    },
    30_000
  )

  it("connections beyond the cap are closed at once", async () => {
    const held = await Promise.all(Array.from({ length: 20 }, () => openRaw(broker)))
    await sleep(200)
    const extra = await openRaw(broker)
    const closedAfter = await Promise.race([extra.closed, sleep(3_000).then(() => -1)])
    expect(closedAfter).toBeGreaterThanOrEqual(0)
    expect(extra.received()).toBe("")
    for (const connection of held) connection.socket.destroy()
    await sleep(300)
    expect((await broker.call("GET", "/v2/catalog")).status).toBe(200)
  }, 30_000)
})
