/**
 * The quick start broker on the managed model: the library keeps state, idempotency, async operations and
 * concurrency; this file only says what each operation does. Plan `small` is synchronous; plan `large` is
 * asynchronous for every operation and takes QUICKSTART_DELAY_MS (default 2000) per operation.
 */
// deep imports (no barrels): `npm start` loads only what it uses
import * as Config from "effect/Config"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import { randomBytes } from "node:crypto"
import * as BrokerStore from "../src/BrokerStore.js"
import * as Catalog from "../src/Catalog.js"
import * as ManagedBroker from "../src/ManagedBroker.js"
import * as StoreConfig from "../src/StoreConfig.js"

export { catalog, LARGE_PLAN_ID, SERVICE_ID, SMALL_PLAN_ID } from "./quickstart-catalog.js"
import { catalog, SERVICE_ID } from "./quickstart-catalog.js"

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
