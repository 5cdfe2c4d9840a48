// The README's managed-broker example, kept identical to it by test/readme.test.ts.
import { Effect, Layer } from "effect"
import { BrokerAuth, BrokerStore, Catalog, ManagedBroker, OsbError, Server } from "../src/index.js"

const catalog = {
  services: [{
    id: "svc-db",
    name: "database",
    description: "Databases on demand",
    bindable: true,
    plans: [
      { id: "plan-dev", name: "dev", description: "Shared, instant" },
      { id: "plan-prod", name: "prod", description: "Dedicated, takes a while", maximum_polling_duration: 600 }
    ]
  }]
}

// Stand-ins for your real infrastructure calls.
const createDatabase = (id: string) => Effect.log(`creating ${id}`).pipe(Effect.zipRight(Effect.sleep("3 seconds")))
const dropDatabase = (id: string) => Effect.log(`dropping ${id}`)

const work: ManagedBroker.OfferingWork = {
  dashboardUrl: (ctx) => `https://db.example.com/${ctx.instanceId}`,
  provision: ManagedBroker.sync((ctx) => Effect.as(Effect.log(`shared schema for ${ctx.instanceId}`), {})),
  deprovision: ManagedBroker.sync((ctx) => dropDatabase(ctx.instanceId)),
  bind: ManagedBroker.sync((ctx) =>
    ctx.appGuid._tag === "None" && ctx.parameters["role"] === "app"
      ? Effect.fail(new OsbError.BrokerFailure({ description: "role app needs an app binding" }))
      : Effect.succeed({ credentials: { uri: `postgres://db.example.com/${ctx.instanceId}`, user: ctx.bindingId } })
  ),
  unbind: ManagedBroker.sync(() => Effect.void),
  plans: {
    prod: {
      provision: ManagedBroker.async((ctx) => Effect.as(createDatabase(ctx.instanceId), {})),
      deprovision: ManagedBroker.either((ctx) => dropDatabase(ctx.instanceId))
    }
  }
}

ManagedBroker.layer({ database: work }).pipe(
  Layer.provideMerge(Catalog.layer(catalog)),
  Layer.provide(BrokerStore.layerMemory),
  (broker) => Server.layerConfig().pipe(Layer.provide(broker), Layer.provide(BrokerAuth.layerConfig)),
  Server.runMain
)
