/**
 * Security: log lines cannot be forged or flooded (issue 13 item 7). Against a spawned quick start: C1 control
 * characters in a request identity are escaped in its logfmt line and long values are cut at 128 characters; a
 * flood of 3000 unauthenticated requests writes one summary line per interval (count and last address), not one
 * line each. `RequestLog.formatLogfmt` escapes every control character (C0, DEL, C1, U+2028/2029), and so does the
 * line the router writes through Effect's own logger when no `RequestLogSink` is installed.
 */
import { Layer, Logger } from "effect"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { BrokerAuth, RequestLog, Router } from "../../src/index.js"
import { AUTHORIZATION, head, openRaw, spawnQuickstart, writeQuietly } from "../support/attack.js"
import { type BrokerProcess, killAll, sleep } from "../support/brokerProcess.js"
import { scripted } from "../support/scripted.js"

let broker: BrokerProcess
beforeAll(async () => {
  broker = await spawnQuickstart("logs", { BROKER_REFUSED_LOG_INTERVAL_MS: "1000" })
}, 300_000)
afterAll(() => killAll())

/** Raw control characters a log line must never carry (tab excepted nowhere: values never hold one raw). */
const rawControl = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u2028\u2029]/

describe("issue 13 item 7: log lines", () => {
  it("C1 characters (NEL, CSI) in a request identity are escaped; the value is cut at 128 characters", async () => {
    const connection = await openRaw(broker)
    // latin1 bytes 0x85 (NEL) and 0x9b (CSI) are legal obs-text in a header value
    const identity = `rid-c1\x85fake line\x9b31m${"x".repeat(5000)}`
    await writeQuietly(
      connection.socket,
      Buffer.from(
        head("GET", "/v2/catalog", {
          authorization: AUTHORIZATION,
          "x-broker-api-version": "2.17",
          "x-broker-api-request-identity": identity
        }),
        "latin1"
      )
    )
    await Promise.race([new Promise((r) => connection.socket.once("data", r)), sleep(5_000)])
    expect(connection.status()).toBe(200)
    await sleep(300)
    connection.socket.destroy()
    const line = broker.output().split("\n").find((l) => l.includes("rid-c1"))
    expect(line).toBeDefined()
    expect(line).not.toMatch(rawControl)
    expect(line).toContain("\\u0085fake line\\u009b31m")
    const logged = /request_identity=("(?:[^"\\]|\\.)*")/.exec(line!)?.[1] ?? ""
    expect(JSON.parse(logged).length).toBeLessThanOrEqual(128 + "...(truncated)".length)
    expect(line!.length).toBeLessThan(600)
  })

  it(
    "3000 unauthenticated requests write one summary line per interval, with the count and the last address",
    async () => {
      const before = broker.output().length
      const identity = "flood-".padEnd(1000, "y")
      let sent = 0
      const worker = async () => {
        while (sent < 3000) {
          sent++
          const response = await fetch(`http://127.0.0.1:${broker.port}/v2/catalog`, {
            headers: { "x-broker-api-version": "2.17", "x-broker-api-request-identity": identity }
          })
          expect(response.status).toBe(401)
          await response.arrayBuffer()
        }
      }
      await Promise.all(Array.from({ length: 25 }, worker))
      await sleep(2_500)
      const written = broker.output().slice(before)
      console.log(`3000 unauthenticated requests wrote ${Buffer.byteLength(written)} bytes of log`)
      expect(written).not.toContain("flood-")
      expect(Buffer.byteLength(written)).toBeLessThan(4_000)
      const summaries = written.split("\n").filter((l) => l.includes(`message="refused requests"`))
      expect(summaries.length).toBeGreaterThan(0)
      const counted = summaries.reduce((n, l) => n + Number(/ status_401=(\d+)/.exec(l)?.[1] ?? 0), 0)
      expect(counted).toBe(3000)
      expect(summaries.at(-1)).toMatch(/last_address=(?:::ffff:)?127\.0\.0\.1/)
    },
    120_000
  )

  it("formatLogfmt escapes every control character and caps values", () => {
    const all = Array.from({ length: 0x20 }, (_, i) => String.fromCharCode(i)).join("") +
      "\u007f\u0080\u0085\u009b\u009f\u2028\u2029"
    const line = RequestLog.formatLogfmt(
      { method: `GET${all}`, route: `/x${all}`, status: 200, ms: 1, requestIdentity: `id${all}${"z".repeat(500)}` },
      new Date(0)
    )
    expect(line).not.toMatch(rawControl)
    expect(line).toContain("\\u0085")
    expect(line).toContain("\\u2028")
    expect(line).toContain("\\u007f")
    expect(line).not.toContain("z".repeat(200))
  })

  it("without a RequestLogSink, the line through Effect's own logger is escaped and capped too", async () => {
    const lines: Array<string> = []
    const capture = Logger.replace(
      Logger.defaultLogger,
      Logger.map(Logger.logfmtLogger, (line) => void lines.push(line))
    )
    const { dispose, handler } = Router.toWebHandler(Layer.mergeAll(scripted(), BrokerAuth.layerNone, capture))
    try {
      // latin1 DEL, NEL and CSI are legal in a header value; Effect's logfmt logger leaves them raw
      const identity = `rid-own\x7f\x85fake line\x9b31m${"x".repeat(5000)}`
      const response = await handler(
        new Request("http://broker/v2/catalog", {
          headers: { "x-broker-api-version": "2.17", "x-broker-api-request-identity": identity }
        })
      )
      expect(response.status).toBe(200)
      const line = lines.find((l) => l.includes("rid-own"))
      expect(line, lines.join("\n")).toBeDefined()
      expect(line).not.toMatch(rawControl)
      const logged = JSON.parse(/request_identity=("(?:[^"\\]|\\.)*")/.exec(line!)?.[1] ?? "\"\"") as string
      expect(logged).toContain("\\u007f\\u0085fake line\\u009b31m")
      expect(logged.length).toBeLessThanOrEqual(128 + 3 * 5 + "...(truncated)".length)
      expect(line!.length).toBeLessThan(600)
    } finally {
      await dispose()
    }
  })
})
