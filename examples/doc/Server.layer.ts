// The @example of Server.layer (src/Server.ts); test/doc-examples.test.ts checks it.
import { Layer, Redacted } from "effect"
import { BrokerAuth, Server } from "../../src/index.js"
import { broker } from "./fixtures.js"

// fixed settings instead of environment variables; runMain logs, drains on SIGTERM and exits
Server.layer({ host: "0.0.0.0", port: 8080, drainTimeout: "30 seconds" }).pipe(
  Layer.provide(broker),
  Layer.provide(BrokerAuth.layerBasic([{ username: "platform", password: Redacted.make("s3cret") }])),
  Server.runMain
)
