// The @example of testing/InProcess.layerClient (src/testing/InProcess.ts); test/doc-examples.test.ts checks it.
import { expect, it } from "@effect/vitest"
import { Effect, Layer } from "effect"
import { BrokerAuth, OsbClient } from "../../src/index.js"
import { InProcess } from "../../src/testing/index.js"
import { broker } from "./fixtures.js"

const Client = InProcess.layerClient(Layer.merge(broker, BrokerAuth.layerNone))

it.effect("an unknown instance is gone", () =>
  Effect.gen(function*() {
    const client = yield* OsbClient.OsbClient
    const catalog = yield* client.catalog()
    const offering = catalog.services[0]!
    const ids = { serviceId: offering.id, planId: offering.plans[0].id }
    const error = yield* Effect.flip(client.deprovision("never-created", ids))
    expect(error._tag).toBe("Gone")
  }).pipe(Effect.provide(Client)))
