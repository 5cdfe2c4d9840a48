/**
 * The quick start broker on the managed model: the library keeps state, idempotency, async operations and
 * concurrency; this file only says what each operation does. Plan `small` is synchronous; plan `large` is
 * asynchronous for every operation and takes QUICKSTART_DELAY_MS (default 2000) per operation.
 */
import { Config, Duration, Effect, Layer } from "effect"
import { randomBytes } from "node:crypto"
import { BrokerStore, Catalog, ManagedBroker, StoreConfig } from "../src/index.js"
import type { Model } from "../src/index.js"

export const SERVICE_ID = "5b2c7e1c-6a3f-4d8e-9a51-0c7f1f0d2a10"
export const SMALL_PLAN_ID = "0f4e4a8e-8d54-4f6b-a3a9-3b8f52f6c5a1"
export const LARGE_PLAN_ID = "9c1d3f7a-2b6e-4c8d-8f0a-5e4b3a2c1d0e"

export const catalog: Model.CatalogBody = {
  services: [{
    id: SERVICE_ID,
    name: "quickstart-db",
    description: "A demonstration database service kept in memory.",
    bindable: true,
    plan_updateable: true,
    instances_retrievable: true,
    bindings_retrievable: true,
    tags: ["demo"],
    metadata: { displayName: "Quickstart DB" },
    plans: [
      {
        id: SMALL_PLAN_ID,
        name: "small",
        description: "A small instance; every operation completes synchronously.",
        free: true,
        maintenance_info: { version: "1.0.0", description: "Initial release." }
      },
      {
        id: LARGE_PLAN_ID,
        name: "large",
        description: "A large instance; every operation runs asynchronously.",
        free: false,
        bindable: true,
        maintenance_info: { version: "1.0.0", description: "Initial release." }
      }
    ]
  }]
}

const credentials = (instanceId: string) => {
  const username = `u_${randomBytes(6).toString("hex")}`
  const password = randomBytes(18).toString("base64url")
  return { uri: `quickstart://${username}:${password}@db.example.com:5432/${instanceId}`, username, password }
}

/** The work, given the time an operation of plan `large` takes. */
export const work = (delay: Duration.Duration): ManagedBroker.OfferingWork => {
  const slowly = <A>(value: A) => Effect.as(Effect.sleep(delay), value)
  return {
    dashboardUrl: (ctx) => `https://dashboard.example.com/instances/${encodeURIComponent(ctx.instanceId)}`,
    provision: ManagedBroker.sync(() => Effect.succeed({})),
    update: ManagedBroker.sync(() => Effect.succeed({})),
    deprovision: ManagedBroker.sync(() => Effect.void),
    bind: ManagedBroker.sync((ctx) => Effect.succeed({ credentials: credentials(ctx.instanceId) })),
    unbind: ManagedBroker.sync(() => Effect.void),
    plans: {
      large: {
        // idempotent work: safe to run again after a crash, so another replica resumes it
        provision: ManagedBroker.async(() => slowly({}), { resumable: true }),
        update: ManagedBroker.async(() => slowly({}), { resumable: true }),
        deprovision: ManagedBroker.async(() => slowly(undefined), { resumable: true }),
        bind: ManagedBroker.async((ctx) => slowly({ credentials: credentials(ctx.instanceId) }), { resumable: true }),
        unbind: ManagedBroker.async(() => slowly(undefined), { resumable: true })
      }
    }
  }
}

/** The broker with an explicit delay for plan `large`, on a store (default: a fresh in-memory one). */
export const layerWith = (
  delay: Duration.DurationInput,
  store: Layer.Layer<BrokerStore.BrokerStore, unknown> = BrokerStore.layerMemory,
  options: ManagedBroker.ManagedOptions = {}
) =>
  ManagedBroker.layer({ [SERVICE_ID]: work(Duration.decode(delay)) }, options).pipe(
    Layer.provideMerge(Catalog.layer(catalog)),
    Layer.provide(store)
  )

/**
 * The broker as `npm start` runs it: the delay from QUICKSTART_DELAY_MS (default 2000), the store from
 * BROKER_STORE (default: SQLite in ./data/broker.sqlite), leases from BROKER_LEASE_TTL_MS and
 * BROKER_TAKEOVER_INTERVAL_MS.
 */
export const layer = Layer.unwrapEffect(
  Effect.map(
    Config.all([Config.integer("QUICKSTART_DELAY_MS").pipe(Config.withDefault(2000)), ManagedBroker.optionsFromConfig]),
    ([ms, options]) => layerWith(Duration.millis(ms), StoreConfig.layer, options)
  )
)
