// The @example of OsbClient.layer (src/OsbClient.ts); test/doc-examples.test.ts checks it.
import { FetchHttpClient } from "@effect/platform"
import { Effect, Layer } from "effect"
import { OsbClient } from "../../src/index.js"

const Broker = OsbClient.layer({ url: "https://broker.example.com", username: "platform", password: "s3cret" })
  .pipe(Layer.provide(FetchHttpClient.layer))

// deprovision and wait for the end (a 410 while polling counts as done)
export const deleteInstance = (instanceId: string, serviceId: string, planId: string) =>
  Effect.gen(function*() {
    const client = yield* OsbClient.OsbClient
    const answer = yield* client.deprovision(instanceId, { serviceId, planId }, { acceptsIncomplete: true })
    if (answer._tag === "Accepted") {
      const operation = answer.body.operation
      yield* OsbClient.pollUntilDone(client.lastOperation(instanceId, operation === undefined ? {} : { operation }))
    }
  }).pipe(Effect.provide(Broker))
