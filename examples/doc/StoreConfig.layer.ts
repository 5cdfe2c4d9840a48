// The @example of StoreConfig.layer (src/StoreConfig.ts); test/doc-examples.test.ts checks it.
import { Layer } from "effect"
import { Catalog, ManagedBroker, StoreConfig } from "../../src/index.js"
import { catalog, work } from "./fixtures.js"

// BROKER_STORE=memory | sqlite:./data/broker.sqlite | postgres://user:password@host:5432/db
export const broker = ManagedBroker.layer({ database: work }).pipe(
  Layer.provideMerge(Catalog.layer(catalog)),
  Layer.provide(StoreConfig.layer)
)
