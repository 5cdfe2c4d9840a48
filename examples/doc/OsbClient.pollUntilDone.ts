// The @example of OsbClient.pollUntilDone (src/OsbClient.ts); test/doc-examples.test.ts checks it.
import { Effect } from "effect"
import { OsbClient } from "../../src/index.js"

// follow an asynchronous provision to its end, for at most 15 minutes
export const provisioned = (client: OsbClient.OsbClientService, instanceId: string, operation: string) =>
  OsbClient.pollUntilDone(client.lastOperation(instanceId, { operation }), { maxDuration: "15 minutes" }).pipe(
    Effect.map((last) => last.state === "succeeded")
  )
