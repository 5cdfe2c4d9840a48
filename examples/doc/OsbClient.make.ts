// The @example of OsbClient.make (src/OsbClient.ts); test/doc-examples.test.ts checks it.
import { FetchHttpClient } from "@effect/platform"
import { Effect } from "effect"
import { OsbClient } from "../../src/index.js"

export const program = Effect.gen(function*() {
  const client = yield* OsbClient.make({ url: "http://127.0.0.1:8080", username: "admin", password: "admin" })
  const catalog = yield* client.catalog()
  const offering = catalog.services[0]!
  const answer = yield* client.provision(
    "instance-1",
    { service_id: offering.id, plan_id: offering.plans[0].id },
    { acceptsIncomplete: true }
  )
  yield* Effect.log(`${answer._tag} (${answer.status})`) // Created (201), or Accepted (202) when asynchronous
}).pipe(Effect.provide(FetchHttpClient.layer))
