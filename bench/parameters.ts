/**
 * What validating parameters against the plan's schema costs (issue 16), in process (not a test: `npm test` never
 * runs it): `npm run bench:parameters`.
 *
 * 1. The check alone: the compiled validator of the quick start's plan `small` on `{ size: 5 }`, on absent
 *    parameters, and on `{ size: 500 }` (the 400's description included), in ns per call.
 * 2. A whole synchronous provision through the OSB handler (auth, version, body decoding, the managed engine on
 *    the memory store, rendering; no socket): the quick start's broker with its schemas ("schema") against the same
 *    broker with the schemas removed from its catalog ("no schema"), in rotating blocks, CPU time per request.
 *    The machine is shared: CPU time (process.cpuUsage) is less disturbed by other processes than wall time, and
 *    the ratio is taken between blocks run side by side.
 *
 * A second no-schema side runs too: how far apart two equal sides land shows the noise.
 *
 * Environment: BENCH_BLOCKS (blocks per side, default 15), BENCH_BLOCK_SIZE (provisions per block, default 2000).
 */
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
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
import * as ManagedBroker from "../src/ManagedBroker.js"
import { blocks, blockSize, cpuBlock, rotate, type Side } from "./blocks.js"

// -----------------------------------------------------------------------------
// 1. the check alone
// -----------------------------------------------------------------------------

const checkAlone = Effect.gen(function*() {
  const service = yield* Catalog.make(catalog)
  const validator = service.parameterValidators(SMALL_PLAN_ID)?.provision
  if (validator === undefined) throw new Error("plan small has no compiled provision schema")
  const cases: ReadonlyArray<readonly [string, { readonly size: number } | undefined, boolean]> = [
    ["{ size: 5 } (valid)", { size: 5 }, true],
    ["absent (checked as {})", undefined, true],
    ["{ size: 500 } (a 400 with its description)", { size: 500 }, false]
  ]
  const out: Record<string, number> = {}
  for (const [name, parameters, valid] of cases) {
    const n = valid ? 2_000_000 : 200_000
    for (let i = 0; i < n / 10; i++) validator.check(parameters)
    const started = process.hrtime.bigint()
    let ok = 0
    for (let i = 0; i < n; i++) if (Either.isRight(validator.check(parameters))) ok++
    const ns = Number(process.hrtime.bigint() - started) / n
    if (ok !== (valid ? n : 0)) throw new Error(`${name}: unexpected outcome`)
    out[name] = Math.round(ns * 10) / 10
  }
  return out
})

// -----------------------------------------------------------------------------
// 2. a whole provision, with and without the schema
// -----------------------------------------------------------------------------

const withoutSchemas = {
  services: catalog.services.map((offering) => ({
    ...offering,
    plans: offering.plans.map(({ schemas: _schemas, ...plan }) => plan)
  }))
}

const auth = `Basic ${Buffer.from("u:p").toString("base64")}`
const body = JSON.stringify({
  service_id: SERVICE_ID,
  plan_id: SMALL_PLAN_ID,
  organization_guid: "org",
  space_guid: "space",
  parameters: { size: 5 }
})

const side = (name: string, catalogValue: unknown): Side => {
  const layer = ManagedBroker.layer({ [SERVICE_ID]: work(Duration.zero) }).pipe(
    Layer.provideMerge(Catalog.layer(catalogValue)),
    Layer.provide(BrokerStore.layerMemory),
    Layer.merge(BrokerAuth.layerBasic([{ username: "u", password: Redacted.make("p") }]))
  )
  const runtime = ManagedRuntime.make(layer)
  const handler = runtime.runSync(Core.makeHandler({ requestLog: false }))
  let next = 0
  const request = () => ({
    method: "PUT",
    url: `/v2/service_instances/${name}-${++next}`,
    headers: { authorization: auth, "x-broker-api-version": "2.17", "content-type": "application/json" },
    text: Effect.succeed(body)
  })
  /** CPU µs per provision over one block, every answer checked. */
  const block = () =>
    cpuBlock(async () => {
      const response = await runtime.runPromise(handler.handle(request()))
      if (response.status !== 201) throw new Error(`${name}: ${response.status} ${String(response.body)}`)
    })
  return { name, block, dispose: () => runtime.dispose() }
}

const provisions = async () => {
  // two equal sides without schemas show how far apart equal sides land on this machine
  const medians = await rotate([
    side("noschema", withoutSchemas),
    side("schema", catalog),
    side("noschema-again", withoutSchemas)
  ])
  const [noschema, schema, again] = ["noschema", "schema", "noschema-again"].map((name) => medians.get(name)!)
  const round3 = (value: number) => Math.round(value * 1000) / 1000
  return {
    "CPU µs per provision, no schema (median)": Math.round(noschema! * 10) / 10,
    "CPU µs per provision, schema (median)": Math.round(schema! * 10) / 10,
    "CPU µs per provision, no schema again (median)": Math.round(again! * 10) / 10,
    "ratio schema / no schema (both no-schema sides)": round3(schema! / ((noschema! + again!) / 2)),
    "ratio no schema again / no schema (noise)": round3(again! / noschema!),
    "blocks per side": blocks,
    "provisions per block": blockSize
  }
}

const main = async () => {
  const alone = Effect.runSync(checkAlone)
  console.log("the check alone, ns per call:")
  console.table(alone)
  const whole = await provisions()
  console.log("a whole provision through the handler:")
  console.table(whole)
  console.log(`load average (1, 5, 15 min): ${loadavg().map((l) => l.toFixed(1)).join(", ")}`)
}

main().catch((error) => {
  console.error(error)
  process.exit(1)
})
