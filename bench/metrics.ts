/**
 * What recording the OSB metrics costs (issue 15), in process (not a test: `npm test` never runs it):
 * `npm run bench:metrics`. The quick start's broker on the memory store through the OSB handler (auth, version,
 * body decoding, the managed engine, rendering; no socket), with metrics off and on (`Metrics.layer`: the request
 * wrapper, the store wrapper, the operation hooks), for GET catalog and a synchronous provision, in rotating blocks,
 * CPU time per request (process.cpuUsage is less disturbed by other processes than wall time on a shared machine).
 * A second "off" side shows how far apart two equal sides land (the noise).
 *
 * Environment: BENCH_BLOCKS (blocks per side, default 15), BENCH_BLOCK_SIZE (requests per block, default 2000).
 */
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as ManagedRuntime from "effect/ManagedRuntime"
import * as Redacted from "effect/Redacted"
import { loadavg } from "node:os"
import { work } from "../examples/managed-broker.js"
import { catalog, SERVICE_ID, SMALL_PLAN_ID } from "../examples/quickstart-catalog.js"
import * as BrokerAuth from "../src/BrokerAuth.js"
import * as BrokerStore from "../src/BrokerStore.js"
import * as Catalog from "../src/Catalog.js"
import * as Core from "../src/internal/core.js"
import * as Observe from "../src/internal/observe.js"
import * as ManagedBroker from "../src/ManagedBroker.js"
import * as Metrics from "../src/Metrics.js"
import { blocks, blockSize, cpuBlock, rotate, type Side } from "./blocks.js"

const auth = `Basic ${Buffer.from("u:p").toString("base64")}`
const headers = { authorization: auth, "x-broker-api-version": "2.17", "content-type": "application/json" }
const body = JSON.stringify({ service_id: SERVICE_ID, plan_id: SMALL_PLAN_ID, organization_guid: "o", space_guid: "s" })

type Scenario = "catalog" | "provision"

const side = (name: string, metrics: boolean, scenario: Scenario): Side => {
  const broker = ManagedBroker.layer({ [SERVICE_ID]: work(Duration.zero) }).pipe(
    Layer.provideMerge(Catalog.layer(catalog)),
    Layer.provide(BrokerStore.layerMemory),
    Layer.merge(BrokerAuth.layerBasic([{ username: "u", password: Redacted.make("p") }]))
  )
  const runtime = ManagedRuntime.make(metrics ? Layer.provideMerge(broker, Metrics.layer) : broker)
  const handler = runtime.runSync(Effect.flatMap(Core.makeHandler({ requestLog: false }), Observe.wrapHandler))
  let next = 0
  const request = () =>
    scenario === "catalog"
      ? { method: "GET", url: "/v2/catalog", headers, text: Effect.succeed("") }
      : { method: "PUT", url: `/v2/service_instances/${name}-${++next}`, headers, text: Effect.succeed(body) }
  const expected = { catalog: 200, provision: 201 }[scenario]
  /** CPU µs per request over one block, every answer checked. */
  const block = () =>
    cpuBlock(async () => {
      const response = await runtime.runPromise(handler.handle(request()))
      if (response.status !== expected) throw new Error(`${name}: ${response.status}`)
    })
  return { name, block, dispose: () => runtime.dispose() }
}

const measure = async (scenario: Scenario) => {
  const medians = await rotate([
    side("off", false, scenario),
    side("metrics", true, scenario),
    side("off-again", false, scenario)
  ])
  const [off, on, again] = ["off", "metrics", "off-again"].map((n) => medians.get(n)!)
  const r = (value: number, digits: number) => Math.round(value * 10 ** digits) / 10 ** digits
  return {
    "CPU µs per request, off": r(off!, 1),
    "CPU µs per request, metrics": r(on!, 1),
    "CPU µs per request, off again": r(again!, 1),
    "ratio off / metrics (throughput, both off sides)": r(((off! + again!) / 2) / on!, 3),
    "ratio off / off again (noise)": r(off! / again!, 3)
  }
}

const main = async () => {
  console.log(`load average before: ${loadavg().map((l) => l.toFixed(1)).join(" ")}`)
  for (const scenario of ["catalog", "provision"] as const) {
    console.log(scenario)
    console.table(await measure(scenario))
  }
  console.log(`load average after: ${loadavg().map((l) => l.toFixed(1)).join(" ")}; ${blocks} blocks of ${blockSize}`)
}

main().catch((error) => {
  console.error(error)
  process.exitCode = 1
})
