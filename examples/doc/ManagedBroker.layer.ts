// The @example of ManagedBroker.layer (src/ManagedBroker.ts); test/doc-examples.test.ts checks it.
import { Effect, Layer } from "effect"
import { BrokerAuth, BrokerStore, Catalog, ManagedBroker, Server } from "../../src/index.js"
import { catalog } from "./fixtures.js"

// the work of one offering (by id or name); the library answers the protocol and keeps the state
const work: ManagedBroker.OfferingWork = {
  provision: ManagedBroker.sync((ctx) => Effect.as(Effect.log(`creating ${ctx.instanceId}`), {})),
  deprovision: ManagedBroker.sync((ctx) => Effect.log(`dropping ${ctx.instanceId}`)),
  bind: ManagedBroker.sync((ctx) => Effect.succeed({ credentials: { user: ctx.bindingId } })),
  unbind: ManagedBroker.sync(() => Effect.void)
}

ManagedBroker.layer({ "quickstart-db": work }).pipe(
  Layer.provideMerge(Catalog.layer(catalog)),
  Layer.provide(BrokerStore.layerMemory),
  (broker) => Server.layerConfig().pipe(Layer.provide(broker), Layer.provide(BrokerAuth.layerConfig)),
  Server.runMain
)
