// The @example of Checker.run (src/Checker.ts); test/doc-examples.test.ts checks it.
import { FetchHttpClient } from "@effect/platform"
import { Effect } from "effect"
import { Checker, OsbClient } from "../../src/index.js"

// what `effect-osb check` does, from a program: every check against a broker, then the counts
export const check = Effect.gen(function*() {
  const client = yield* OsbClient.make({ url: "http://127.0.0.1:8080", username: "admin", password: "admin" })
  const results = yield* Checker.run(client, { plans: ["small"], authenticated: true })
  const summary = Checker.summarize(results)
  yield* Effect.log(`${summary.passed} passed, ${summary.failed} failed, ${summary.warned} warned`)
  return summary.failed === 0
}).pipe(Effect.provide(FetchHttpClient.layer))
