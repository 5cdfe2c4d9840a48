// What the API reference's `@example` blocks import as "./my-broker.js": a catalog, the work of its offering and
// the broker as a layer (the quick start's). test/doc-examples.test.ts keeps examples/doc/ equal to the blocks.
import { Duration } from "effect"
import type { ManagedBroker } from "../../src/index.js"
import { catalog, layerWith, work as workWith } from "../managed-broker.js"

export { catalog }

/** The quick start's work, with a 2-second asynchronous plan. */
export const work: ManagedBroker.OfferingWork = workWith(Duration.seconds(2))

/** The quick start's broker on an in-memory store: provides `Catalog`, `ServiceBroker` and `BrokerLifecycle`. */
export const broker = layerWith(Duration.seconds(2))
