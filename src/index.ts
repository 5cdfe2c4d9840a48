/**
 * effect-osb: Open Service Broker API v2.17 brokers on Effect.
 *
 * @since 0.1.0
 * @module
 */

/**
 * Authentication: Basic (constant time), custom verifier, none.
 *
 * @since 0.1.0
 */
export * as BrokerAuth from "./BrokerAuth.js"

/**
 * Graceful shutdown (drain) of brokers with background operations.
 *
 * @since 0.1.0
 */
export * as BrokerLifecycle from "./BrokerLifecycle.js"

/**
 * The store of a managed broker and its in-memory layer.
 *
 * @since 0.1.0
 */
export * as BrokerStore from "./BrokerStore.js"

/**
 * The validated catalog service.
 *
 * @since 0.1.0
 */
export * as Catalog from "./Catalog.js"

/**
 * The managed broker: the library keeps state, idempotency, async operations and concurrency.
 *
 * @since 0.1.0
 */
export * as ManagedBroker from "./ManagedBroker.js"

/**
 * Schemas of every OSB v2.17 object.
 *
 * @since 0.1.0
 */
export * as Model from "./Model.js"

/**
 * Typed OSB errors and the error table.
 *
 * @since 0.1.0
 */
export * as OsbError from "./OsbError.js"

/**
 * The protocol as data: the endpoint table and the error table.
 *
 * @since 0.1.0
 */
export * as Protocol from "./Protocol.js"

/**
 * API version, originating and request identity.
 *
 * @since 0.1.0
 */
export * as RequestInfo from "./RequestInfo.js"

/**
 * The HttpRouter with the ten OSB endpoints.
 *
 * @since 0.1.0
 */
export * as Router from "./Router.js"

/**
 * Serving on Node.js.
 *
 * @since 0.1.0
 */
export * as Server from "./Server.js"

/**
 * The broker interface.
 *
 * @since 0.1.0
 */
export * as ServiceBroker from "./ServiceBroker.js"

/**
 * Encryption of secrets at rest (AES-256-GCM, key rotation).
 *
 * @since 0.1.0
 */
export * as Encryption from "./Encryption.js"

/**
 * The SQL stores: SQLite and PostgreSQL.
 *
 * @since 0.1.0
 */
export * as SqlStore from "./SqlStore.js"

/**
 * Store selection by `BROKER_STORE`.
 *
 * @since 0.1.0
 */
export * as StoreConfig from "./StoreConfig.js"

/**
 * The conformance checker (used by `effect-osb check` and the test kit).
 *
 * @since 0.1.0
 */
export * as Checker from "./Checker.js"

/**
 * A typed OSB client.
 *
 * @since 0.1.0
 */
export * as OsbClient from "./OsbClient.js"

/**
 * Rendering checker reports.
 *
 * @since 0.1.0
 */
export * as Report from "./Report.js"

/**
 * The per-request log line and its batched sinks.
 *
 * @since 0.1.0
 */
export * as RequestLog from "./RequestLog.js"

/**
 * HTTPS for `Server.layer`: certificate files, client-certificate CA, reload on SIGHUP and file change.
 *
 * @since 0.1.0
 */
export * as Tls from "./Tls.js"

/**
 * The admin listener: /healthz, /readyz and /metrics on a port of their own (`BROKER_ADMIN_PORT`).
 *
 * @since 0.1.0
 */
export * as AdminServer from "./AdminServer.js"

/**
 * OSB-aware metrics (Effect `Metric`s) and their Prometheus rendering.
 *
 * @since 0.1.0
 */
export * as Metrics from "./Metrics.js"

/**
 * OpenTelemetry traces of OSB requests, operations, takeovers and store transactions (`OTEL_*` variables).
 *
 * @since 0.1.0
 */
export * as Tracing from "./Tracing.js"
