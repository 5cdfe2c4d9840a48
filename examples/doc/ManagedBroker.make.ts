// The @example of ManagedBroker.make (src/ManagedBroker.ts); test/doc-examples.test.ts checks it.
import { Effect, Layer } from "effect"
import { BrokerStore, Catalog, ManagedBroker } from "../../src/index.js"
import { catalog, work } from "./fixtures.js"

// the managed broker as a value, in a scope: here to run one takeover round by hand
export const takeOverNow = Effect.gen(function*() {
  const broker = yield* ManagedBroker.make({ "quickstart-db": work }, { replicaId: "replica-a" })
  yield* broker.takeover
}).pipe(Effect.scoped, Effect.provide(Layer.merge(Catalog.layer(catalog), BrokerStore.layerMemory)))
