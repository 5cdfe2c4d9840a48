/**
 * Several offerings in one broker: a managed offering and a hand-written one behind one router.
 */
import { it } from "@effect/vitest"
import { Effect, Layer } from "effect"
import { expect } from "vitest"
import { BrokerStore, Catalog, ManagedBroker, OsbError, ServiceBroker } from "../src/index.js"
import type { Model } from "../src/index.js"
import { makeEffectClient } from "./support/effectClient.js"

const catalog: Model.CatalogBody = {
  services: [
    {
      id: "svc-managed",
      name: "managed",
      description: "managed offering",
      bindable: false,
      instances_retrievable: true,
      plans: [{ id: "plan-m", name: "m", description: "m" }]
    },
    {
      id: "svc-hand",
      name: "hand",
      description: "hand-written offering",
      bindable: false,
      instances_retrievable: true,
      plans: [{ id: "plan-h", name: "h", description: "h" }]
    }
  ]
}

const handwritten: ServiceBroker.ServiceBrokerService = {
  provision: () => Effect.succeed(ServiceBroker.Result.created({ dashboardUrl: "https://hand" })),
  deprovision: () => Effect.succeed(ServiceBroker.Result.deleted),
  getInstance: (request) =>
    request.instanceId === "hand-1"
      ? Effect.succeed({ service_id: "svc-hand", plan_id: "plan-h" })
      : Effect.fail(new OsbError.NotFound({}))
}

const layer = Layer.scoped(
  ServiceBroker.ServiceBroker,
  Effect.gen(function*() {
    const managed = yield* ManagedBroker.make({
      "svc-managed": {
        provision: ManagedBroker.sync(() => Effect.succeed({ dashboardUrl: "https://managed" })),
        deprovision: ManagedBroker.sync(() => Effect.void)
      }
    })
    return ServiceBroker.combine({ "svc-managed": managed, "svc-hand": handwritten })
  })
).pipe(Layer.provideMerge(Catalog.layer(catalog)), Layer.provide(BrokerStore.layerMemory))

const body = (service_id: string, plan_id: string) => ({ service_id, plan_id, organization_guid: "o", space_guid: "s" })

it.scoped("each offering's requests reach its own broker; fetches without hints find the owner", () =>
  Effect.gen(function*() {
    const client = yield* makeEffectClient(layer)
    const m = yield* client.call("PUT", "/v2/service_instances/managed-1", { body: body("svc-managed", "plan-m") })
    expect(m.status).toBe(201)
    expect(m.body.dashboard_url).toBe("https://managed")
    const h = yield* client.call("PUT", "/v2/service_instances/hand-1", { body: body("svc-hand", "plan-h") })
    expect(h.body.dashboard_url).toBe("https://hand")
    // no service_id hint: the managed broker knows managed-1 from its store, the hand-written one knows hand-1
    expect((yield* client.call("GET", "/v2/service_instances/managed-1")).body.plan_id).toBe("plan-m")
    expect((yield* client.call("GET", "/v2/service_instances/hand-1")).body.plan_id).toBe("plan-h")
    expect((yield* client.call("GET", "/v2/service_instances/managed-1/last_operation")).body.state).toBe("succeeded")
    expect((yield* client.call("GET", "/v2/service_instances/nobody")).status).toBe(404)
    // with a hint naming the other offering, the instance is not found there
    expect((yield* client.call("GET", "/v2/service_instances/managed-1?service_id=svc-hand")).status).toBe(404)
  }))
