// The @example of Server.layerConfig (src/Server.ts); test/doc-examples.test.ts checks it.
import { Layer } from "effect"
import { BrokerAuth, Server } from "../../src/index.js"
import { broker } from "./fixtures.js" // a Layer providing Catalog and ServiceBroker

// PORT=8080 HOST=0.0.0.0 BROKER_USERNAME=... BROKER_PASSWORD=... node main.js
Server.layerConfig().pipe(Layer.provide(broker), Layer.provide(BrokerAuth.layerConfig), Server.runMain)
