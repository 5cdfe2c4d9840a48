// A consumer of the packed package (scripts/package-smoke.sh): type-checked under strict + nodenext, then run.
import { Effect, Either, Layer, Redacted } from "effect"
import { BrokerAuth, BrokerStore, Catalog, Encryption, ManagedBroker, OsbClient, SqlStore } from "effect-osb"
import type * as Model from "effect-osb/Model"
import * as Server from "effect-osb/Server"
import * as InProcess from "effect-osb/testing/InProcess"

const catalog: Model.CatalogBody = {
  services: [{
    id: "svc",
    name: "database",
    description: "Databases on demand",
    bindable: true,
    plans: [{ id: "plan-dev", name: "dev", description: "Shared" }]
  }]
}

const work: ManagedBroker.OfferingWork = {
  provision: ManagedBroker.sync(() => Effect.succeed({})),
  deprovision: ManagedBroker.sync(() => Effect.void),
  bind: ManagedBroker.sync((ctx) => Effect.succeed({ credentials: { user: ctx.bindingId } })),
  unbind: ManagedBroker.sync(() => Effect.void)
}

const broker = ManagedBroker.layer({ database: work }).pipe(
  Layer.provideMerge(Catalog.layer(catalog)),
  Layer.provide(BrokerStore.layerMemory)
)

// the README's encryption sentence, as code: Encryption.make returns an Either
const url = "postgres://localhost/broker"
const encryption = Either.getOrThrowWith(
  Encryption.make([`k1:${Buffer.alloc(32, 1).toString("base64")}`]),
  (problem) => new Error(problem)
)
export const store = SqlStore.layerPg(url, { encryption })
export const served = Server.layerConfig().pipe(Layer.provide(broker), Layer.provide(BrokerAuth.layerConfig))

const client = InProcess.layerClient(
  Layer.merge(broker, BrokerAuth.layerBasic([{ username: "u", password: Redacted.make("p") }])),
  { username: "u", password: "p" }
)

const program = Effect.gen(function*() {
  const osb = yield* OsbClient.OsbClient
  const answer = yield* osb.catalog()
  const created = yield* osb.provision("inst-1", {
    service_id: "svc",
    plan_id: "plan-dev",
    organization_guid: "org",
    space_guid: "space"
  })
  return `${answer.services.length} offering, provision: ${created._tag}`
})

console.log(await Effect.runPromise(Effect.provide(program, client)))
