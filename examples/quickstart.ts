/**
 * The quick start: `npm start`. Serves the managed quick start broker (examples/managed-broker.ts; its store from
 * BROKER_STORE, SQLite in ./data by default) on HOST:PORT (default 127.0.0.1:8080) with Basic auth from BROKER_USERNAME / BROKER_PASSWORD (default
 * admin/admin, with a warning). Plan `small` is synchronous; plan `large` asynchronous (QUICKSTART_DELAY_MS).
 * TLS_CERT_FILE/TLS_KEY_FILE serve HTTPS; BROKER_ADMIN_PORT starts the admin listener (health, readiness, metrics);
 * OTEL_EXPORTER_OTLP_ENDPOINT exports traces over OTLP.
 */
import * as Layer from "effect/Layer"
import * as AdminServer from "../src/AdminServer.js"
import * as BrokerAuth from "../src/BrokerAuth.js"
import * as Server from "../src/Server.js"
import * as Tracing from "../src/Tracing.js"
import * as ManagedQuickstart from "./managed-broker.js"

const main = Server.layerConfig().pipe(
  Layer.provide(ManagedQuickstart.layer),
  Layer.provide(BrokerAuth.layerConfig),
  // BROKER_ADMIN_PORT: /healthz, /readyz and /metrics; OTEL_EXPORTER_OTLP_ENDPOINT: traces (unset: nothing loaded)
  Layer.provide(Layer.merge(AdminServer.layerConfig, Tracing.layerConfig))
)

Server.runMain(main)
