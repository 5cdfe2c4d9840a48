// The README's "Writing a broker" example, kept identical to it by test/readme.test.ts.
import { Effect, Layer } from "effect"
import { BrokerAuth, Catalog, OsbError, Server, ServiceBroker } from "../src/index.js"

const catalog = {
  services: [{
    id: "svc-1",
    name: "cache",
    description: "An in-memory cache",
    bindable: true,
    plans: [{ id: "plan-1", name: "small", description: "128 MB" }]
  }]
}

const instances = new Set<string>()

const broker = ServiceBroker.make({
  provision: (request) =>
    Effect.sync(() => instances.add(request.instanceId)).pipe(
      Effect.as(ServiceBroker.Result.created({ dashboardUrl: `https://cache.example.com/${request.instanceId}` }))
    ),
  deprovision: (request) =>
    Effect.suspend(() =>
      instances.delete(request.instanceId)
        ? Effect.succeed(ServiceBroker.Result.deleted)
        : Effect.fail(new OsbError.Gone())
    ),
  bind: (request) =>
    Effect.suspend(() =>
      instances.has(request.instanceId)
        ? Effect.succeed(ServiceBroker.Result.bound({ credentials: { url: `redis://cache/${request.instanceId}` } }))
        : Effect.fail(new OsbError.NotFound({}))
    ),
  unbind: () => Effect.succeed(ServiceBroker.Result.deleted)
})

Server.layerConfig().pipe(
  Layer.provide(ServiceBroker.layer(broker)),
  Layer.provide(Catalog.layer(catalog)),
  Layer.provide(BrokerAuth.layerConfig),
  Server.runMain
)
