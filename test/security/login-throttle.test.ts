/**
 * Security: failed logins per client address are throttled (issue 13 item 7). Against a spawned quick start
 * (BROKER_LOGIN_MAX_FAILURES=12, BROKER_LOGIN_BLOCK_MS=3000; 5 failures before delays of 250 ms more each):
 * wrong passwords from 127.0.0.1 are answered later and later, then refused with 429 and Retry-After without
 * their credentials being checked; a client with the right credentials from another address (127.0.0.2) is
 * never delayed; a success clears an address's failures; the block ends after its time.
 */
import { request } from "node:http"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { AUTHORIZATION, spawnQuickstart } from "../support/attack.js"
import { type BrokerProcess, killAll, sleep } from "../support/brokerProcess.js"

let broker: BrokerProcess
beforeAll(async () => {
  broker = await spawnQuickstart("throttle", { BROKER_LOGIN_MAX_FAILURES: "12", BROKER_LOGIN_BLOCK_MS: "3000" })
}, 300_000)
afterAll(() => killAll())

const WRONG = `Basic ${Buffer.from("durable-ops:guess").toString("base64")}`

/** One GET /v2/catalog from `localAddress` on a fresh connection: status, Retry-After and the time it took. */
const catalog = (authorization: string, localAddress = "127.0.0.1") =>
  new Promise<{ status: number; retryAfter: string | undefined; ms: number }>((resolve, reject) => {
    const started = Date.now()
    const outgoing = request({
      host: "127.0.0.1",
      port: broker.port,
      path: "/v2/catalog",
      localAddress,
      agent: false,
      headers: { authorization, "x-broker-api-version": "2.17" }
    }, (response) => {
      response.resume()
      response.on("end", () =>
        resolve({
          status: response.statusCode ?? 0,
          retryAfter: response.headers["retry-after"],
          ms: Date.now() - started
        }))
    })
    outgoing.on("error", reject)
    outgoing.end()
  })

describe("issue 13 item 7: failed logins per address", () => {
  it("a success clears the failures: 4 wrong, 1 right, 4 wrong are all answered at once", async () => {
    for (let round = 0; round < 2; round++) {
      for (let i = 0; i < 4; i++) expect((await catalog(WRONG)).status).toBe(401)
      const right = await catalog(AUTHORIZATION)
      expect(right.status).toBe(200)
    }
  })

  it("wrong passwords are delayed, then refused with 429; a right client elsewhere is never delayed", async () => {
    const answers: Array<{ status: number; retryAfter: string | undefined; ms: number }> = []
    for (let i = 0; i < 12; i++) {
      answers.push(await catalog(WRONG))
      // a right client on another address, between the attacker's tries
      const other = await catalog(AUTHORIZATION, "127.0.0.2")
      expect(other.status).toBe(200)
      expect(other.ms).toBeLessThan(1_000)
    }
    console.log(`failed logins answered after ${answers.map((a) => a.ms).join(", ")} ms`)
    expect(answers.map((a) => a.status)).toEqual(Array(12).fill(401))
    // the 6th to the 11th failures were held 250 ms more each
    for (let i = 5; i < 11; i++) expect(answers[i]!.ms).toBeGreaterThanOrEqual((i - 4) * 250 - 20)
    // blocked: wrong and right credentials alike get 429 from this address, without being checked
    const refused = await catalog(WRONG)
    expect(refused.status).toBe(429)
    expect(Number(refused.retryAfter)).toBeGreaterThan(0)
    expect(Number(refused.retryAfter)).toBeLessThanOrEqual(3)
    expect((await catalog(AUTHORIZATION)).status).toBe(429)
    expect((await catalog(AUTHORIZATION, "127.0.0.2")).status).toBe(200)
    // the block ends
    await sleep(3_200)
    expect((await catalog(AUTHORIZATION)).status).toBe(200)
  }, 60_000)
})
