// The @example of Server.runMain (src/Server.ts); test/doc-examples.test.ts checks it.
import { Layer } from "effect"
import { BrokerAuth, Server } from "../../src/index.js"
import { broker } from "./fixtures.js" // a Layer providing Catalog and ServiceBroker

Server.layerConfig().pipe(Layer.provide(broker), Layer.provide(BrokerAuth.layerConfig), Server.runMain)
// PORT=abc node main.js
// stderr: effect-osb: cannot run: PORT is invalid: Expected an integer value but received "abc". Set PORT ...
