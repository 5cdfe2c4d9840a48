// The @example of Router.toWebHandler (src/Router.ts); test/doc-examples.test.ts checks it.
import { Layer } from "effect"
import { BrokerAuth, Router } from "../../src/index.js"
import { broker } from "./fixtures.js"

// a fetch-style handler (Deno, Bun, workers, tests): no socket
const { dispose, handler } = Router.toWebHandler(Layer.merge(broker, BrokerAuth.layerNone))
const response = await handler(
  new Request("http://broker.test/v2/catalog", { headers: { "X-Broker-API-Version": "2.17" } })
)
export const status = response.status // 200
await dispose()
