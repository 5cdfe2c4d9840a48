/**
 * PostgreSQL databases as a service: `npm run example:postgres`. Serves the broker of ./broker.ts on HOST:PORT
 * (default 127.0.0.1:8080) with Basic auth from BROKER_USERNAME / BROKER_PASSWORD (default admin/admin, with a
 * warning). Makes databases on the server of TARGET_DATABASE_URL; keeps its state in BROKER_STORE (default
 * sqlite:./data/broker.sqlite), encrypted with BROKER_ENCRYPTION_KEYS when set. See ./README.md.
 */
import { Layer } from "effect"
import { BrokerAuth, Server } from "../../src/index.js"
import * as PostgresBroker from "./broker.js"

const main = Server.layerConfig(PostgresBroker.routerOptions).pipe(
  Layer.provide(PostgresBroker.layer),
  Layer.provide(BrokerAuth.layerConfig)
)

Server.runMain(main)
