/**
 * Security: bodies are not read before authentication (issue 13 item 4). A spawned quick start gets 300
 * connections without credentials, each sending a 1 MiB PUT body; its RSS must not grow with what they send.
 * A PUT without credentials whose body never comes is answered 401 at once, and the connection closes instead
 * of waiting for (or draining) the body.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { head, openRaw, rss, spawnQuickstart, writeQuietly } from "../support/attack.js"
import { type BrokerProcess, killAll, sleep } from "../support/brokerProcess.js"

const MiB = 1024 * 1024
const CONNECTIONS = 300

let broker: BrokerProcess
beforeAll(async () => {
  broker = await spawnQuickstart("preauth")
}, 300_000)
afterAll(() => killAll())

describe("issue 13 item 4: authenticate before reading", () => {
  it("a PUT without credentials whose body never comes gets its 401 at once, and the connection closes", async () => {
    const connection = await openRaw(broker)
    const sent = Date.now()
    await writeQuietly(
      connection.socket,
      head("PUT", "/v2/service_instances/pre-1", {
        "x-broker-api-version": "2.17",
        "content-type": "application/json",
        "content-length": String(MiB)
      })
    )
    const closedAfter = await Promise.race([connection.closed, sleep(5_000).then(() => -1)])
    expect(connection.status()).toBe(401)
    expect(connection.received()).toMatch(/connection: close/i)
    expect(closedAfter).toBeGreaterThanOrEqual(0)
    expect(Date.now() - sent).toBeLessThan(2_000)
    connection.socket.destroy()
  })

  it(
    `${CONNECTIONS} unauthenticated 1 MiB PUTs at once do not grow the broker's memory by what they send`,
    async () => {
      // warm up the paths the flood takes, then measure
      for (let i = 0; i < 20; i++) await broker.call("GET", "/v2/catalog")
      await sleep(500)
      const before = rss(broker.child.pid!)
      const body = Buffer.alloc(MiB, "a")
      const connections = await Promise.all(Array.from({ length: CONNECTIONS }, () => openRaw(broker)))
      let peak = before
      let sampling = true
      const sampler = (async () => {
        while (sampling) {
          peak = Math.max(peak, rss(broker.child.pid!))
          await sleep(20)
        }
      })()
      await Promise.all(connections.map(async (connection, i) => {
        await writeQuietly(
          connection.socket,
          head("PUT", `/v2/service_instances/flood-${i}`, {
            "x-broker-api-version": "2.17",
            "content-type": "application/json",
            "content-length": String(MiB)
          })
        )
        await writeQuietly(connection.socket, body)
      }))
      const closed = await Promise.all(connections.map((c) => Promise.race([c.closed, sleep(15_000).then(() => -1)])))
      await sleep(300)
      sampling = false
      await sampler
      const grown = peak - before
      console.log(
        `RSS before ${(before / MiB).toFixed(1)} MiB, peak during the flood ${(peak / MiB).toFixed(1)} MiB (+${
          (grown / MiB).toFixed(1)
        } MiB for ${CONNECTIONS} MiB sent)`
      )
      // every connection the server answered got a 401, and the server closed every one of them
      const statuses = connections.map((c) => c.status()).filter((s) => s !== undefined)
      expect(statuses.length).toBeGreaterThan(0)
      expect(new Set(statuses)).toEqual(new Set([401]))
      expect(closed.filter((ms) => ms < 0)).toEqual([])
      // buffering the bodies would take 300 MiB; a bounded reader takes a few kernel and stream buffers
      expect(grown).toBeLessThan(60 * MiB)
      // the broker still answers
      expect((await broker.call("GET", "/v2/catalog")).status).toBe(200)
    },
    120_000
  )
})
