/**
 * A broker whose operations may do their work when they are called, not when their effect runs. The handler calls
 * each operation once per request and runs its effect once, so it can use such a broker: an operation known at once
 * (the managed engine on the in-memory store, with work that is already done) then returns an `Exit`, and the
 * request is answered without a fiber. The `ServiceBroker` a user sees stays lazy (an effect does nothing until it
 * runs, and runs again when retried); only the handler asks for the eager one.
 *
 * @internal
 */
import type { ServiceBrokerService } from "../ServiceBroker.js"

/**
 * The key of the eager variant on a broker's service object.
 *
 * @internal
 */
export const EagerKey: unique symbol = Symbol.for("effect-osb/ServiceBroker/eager")

/**
 * A broker service with an eager variant.
 *
 * @internal
 */
export interface WithEager {
  readonly [EagerKey]: ServiceBrokerService
}

/**
 * The broker with its eager variant, as a property a copy of the object (`{ ...broker, provision }`) does not take:
 * a wrapper that changes an operation must not be bypassed.
 *
 * @internal
 */
export const withEager = <B extends ServiceBrokerService>(broker: B, eager: ServiceBrokerService): B =>
  Object.defineProperty(broker, EagerKey, { value: eager, enumerable: false })

/**
 * The broker's eager variant, or the broker itself when it has none.
 *
 * @internal
 */
export const eagerOf = (broker: ServiceBrokerService): ServiceBrokerService =>
  EagerKey in broker ? (broker as ServiceBrokerService & WithEager)[EagerKey] : broker
