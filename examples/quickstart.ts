/**
 * The quick start: `npm start`. Serves the managed quick start broker (examples/managed-broker.ts; its store from
 * BROKER_STORE, SQLite in ./data by default) on HOST:PORT (default 127.0.0.1:8080) with Basic auth from BROKER_USERNAME / BROKER_PASSWORD (default
 * admin/admin, with a warning). Plan `small` is synchronous; plan `large` asynchronous (QUICKSTART_DELAY_MS).
 */
import * as Layer from "effect/Layer"
import * as BrokerAuth from "../src/BrokerAuth.js"
import * as Server from "../src/Server.js"
import * as ManagedQuickstart from "./managed-broker.js"

const main = Server.layerConfig().pipe(
  Layer.provide(ManagedQuickstart.layer),
  Layer.provide(BrokerAuth.layerConfig)
)

Server.runMain(main)
