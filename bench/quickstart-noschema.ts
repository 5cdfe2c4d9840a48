/**
 * The quick start as `npm start` serves it on the memory store, but with the parameters schemas removed from its
 * catalog: the "no schema" side of the parameters-validation cost (`npm run bench`, target
 * `library/memory-noschema`).
 */
import * as Duration from "effect/Duration"
import * as Layer from "effect/Layer"
import { work } from "../examples/managed-broker.js"
import { catalog, SERVICE_ID } from "../examples/quickstart-catalog.js"
import * as BrokerAuth from "../src/BrokerAuth.js"
import * as BrokerStore from "../src/BrokerStore.js"
import * as Catalog from "../src/Catalog.js"
import * as ManagedBroker from "../src/ManagedBroker.js"
import * as Server from "../src/Server.js"

const withoutSchemas = {
  services: catalog.services.map((offering) => ({
    ...offering,
    plans: offering.plans.map(({ schemas: _schemas, ...plan }) => plan)
  }))
}

const broker = ManagedBroker.layer({ [SERVICE_ID]: work(Duration.zero) }).pipe(
  Layer.provideMerge(Catalog.layer(withoutSchemas)),
  Layer.provide(BrokerStore.layerMemory)
)

Server.runMain(Server.layerConfig().pipe(Layer.provide(broker), Layer.provide(BrokerAuth.layerConfig)))
