/**
 * effect-osb/testing: a test kit for brokers. Run a broker in process behind the typed `OsbClient` (no socket,
 * on the caller's clock) and generate valid and malformed requests against its catalog with fast-check.
 *
 * @since 0.1.0
 * @module
 */

/**
 * fast-check arbitraries: valid requests against a catalog, malformed bodies, headers and query strings, and
 * `fromJsonSchema`.
 *
 * @since 0.1.0
 */
export * as Arbitraries from "./Arbitraries.js"

/**
 * The typed client wired to a broker layer in process, without a socket.
 *
 * @since 0.1.0
 */
export * as InProcess from "./InProcess.js"

/**
 * The conformance suite for your own vitest, one test per requirement ID.
 *
 * @since 0.1.0
 */
export * as Conformance from "./Conformance.js"

/**
 * The store contract for your own `BrokerStore`, one test per check.
 *
 * @since 0.1.0
 */
export * as StoreContract from "./StoreContract.js"
