// The README's test-kit example (a property test a user can copy), kept identical to it by test/readme.test.ts.
import { describe, expect, it } from "@effect/vitest"
import { Effect, Layer, Redacted } from "effect"
import { catalog, layerWith, SMALL_PLAN_ID } from "../examples/managed-broker.js"
import { BrokerAuth, OsbClient } from "../src/index.js"
import { Arbitraries, Conformance, InProcess } from "../src/testing/index.js"

// your broker: a layer with its Catalog and ServiceBroker (here the quick start's, with 1 s async steps)
const broker = layerWith("1 second")

// 1. the conformance suite: one test per requirement ID of the OSB checklist
Conformance.suite("my broker", broker, { username: "u", password: "p", modes: { small: "sync", large: "async" } })

// 2. your own properties, through the typed client, in process (no socket)
const client = InProcess.layerClient(
  Layer.merge(broker, BrokerAuth.layerBasic([{ username: "u", password: Redacted.make("p") }])),
  { username: "u", password: "p" }
)

describe("my broker, property-tested", () => {
  it.layer(client)((it) => {
    it.effect.prop(
      "every valid provision of plan small is created, and an identical repeat answers 200",
      [Arbitraries.provisionRequest(catalog, { planId: SMALL_PLAN_ID })],
      ([request]) =>
        Effect.gen(function*() {
          const osb = yield* OsbClient.OsbClient
          const created = yield* osb.provision(request.instanceId, request.body)
          expect(created._tag).toBe("Created")
          const again = yield* osb.provision(request.instanceId, request.body)
          expect(again._tag).toBe("AlreadyExists")
          const fetched = yield* osb.getInstance(request.instanceId)
          expect(fetched.parameters).toEqual(request.body.parameters ?? {})
        }),
      { fastCheck: { numRuns: 50 } }
    )

    it.effect.prop(
      "malformed bodies get a 4xx JSON answer, never a 5xx",
      [Arbitraries.malformedBody(catalog, { operation: "provision" }), Arbitraries.identifier],
      ([malformed, instanceId]) =>
        Effect.gen(function*() {
          const osb = yield* OsbClient.OsbClient
          const reply = yield* osb.raw("PUT", `/v2/service_instances/${instanceId}`, {
            rawBody: malformed.text,
            headers: { "content-type": malformed.contentType }
          })
          expect(reply.status).toBe(malformed.expectedStatus)
          expect(typeof reply.json).toBe("object")
        }),
      { fastCheck: { numRuns: 100 } }
    )
  })
})
