// The README's client example, kept identical to it by test/readme.test.ts.
import { FetchHttpClient } from "@effect/platform"
import { Effect } from "effect"
import { OsbClient } from "../src/index.js"

const program = Effect.gen(function*() {
  const client = yield* OsbClient.make({ url: "http://127.0.0.1:8080", username: "admin", password: "admin" })
  const catalog = yield* client.catalog()
  const plan = catalog.services[0]!.plans[0]!
  const ids = { service_id: catalog.services[0]!.id, plan_id: plan.id }
  const answer = yield* client.provision("inst-9", { ...ids, organization_guid: "o", space_guid: "s" }, {
    acceptsIncomplete: true
  })
  if (answer._tag === "Accepted") {
    const operation = answer.body.operation
    const final = yield* OsbClient.pollUntilDone(
      client.lastOperation("inst-9", operation === undefined ? {} : { operation })
    )
    yield* Effect.log(`provision ${final.state}`)
  }
}).pipe(Effect.provide(FetchHttpClient.layer))

Effect.runPromise(program)
