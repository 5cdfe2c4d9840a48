/**
 * The quick start: `npm start`. Serves the hand-written in-memory broker on HOST:PORT (default 127.0.0.1:8080)
 * with Basic auth from BROKER_USERNAME / BROKER_PASSWORD (default admin/admin, with a warning).
 */
import { Layer } from "effect"
import { BrokerAuth, Server } from "../src/index.js"
import * as HandwrittenBroker from "./handwritten-broker.js"

const main = Server.layerConfig().pipe(
  Layer.provide(HandwrittenBroker.layer),
  Layer.provide(BrokerAuth.layerConfig)
)

Server.runMain(main)
