/**
 * Test support for the managed broker over HTTP: a small catalog builder, request bodies and paths, an event log
 * for observing the author's work (starts, finalizers), and `advance` to move the TestClock and let the broker's
 * background fibers finish their bookkeeping.
 */
import { Effect, Ref, TestClock } from "effect"
import type { Duration } from "effect"
import { randomUUID } from "node:crypto"
import { ManagedBroker } from "../../src/index.js"
import type { Model } from "../../src/index.js"

export const SID = "managed-svc-id"
export const OTHER_SID = "other-svc-id"

/** A plan whose id and name are both `id`. */
export const plan = (id: string, extra: Partial<Model.ServicePlan> = {}): Model.ServicePlan => ({
  id,
  name: id,
  description: `The plan ${id}.`,
  ...extra
})

/** One bindable, updateable, retrievable offering `SID` with the given plans. */
export const catalogOf = (
  plans: Model.ServiceOffering["plans"],
  offering: Partial<Model.ServiceOffering> = {},
  more: ReadonlyArray<Model.ServiceOffering> = []
): Model.CatalogBody => ({
  services: [
    {
      id: SID,
      name: "managed-svc",
      description: "A managed test service.",
      bindable: true,
      plan_updateable: true,
      instances_retrievable: true,
      bindings_retrievable: true,
      plans,
      ...offering
    },
    ...more
  ]
})

export const provisionBody = (planId: string, extra: Record<string, unknown> = {}) => ({
  service_id: SID,
  plan_id: planId,
  organization_guid: "org-1",
  space_guid: "space-1",
  ...extra
})

export const bindBody = (planId: string, extra: Record<string, unknown> = {}) => ({
  service_id: SID,
  plan_id: planId,
  bind_resource: { app_guid: "app-1" },
  ...extra
})

export const updateBody = (extra: Record<string, unknown> = {}) => ({ service_id: SID, ...extra })

/** `accepts_incomplete=true` as the first query value. */
export const AI = "accepts_incomplete=true"

/** The required query of DELETE (service_id and plan_id). */
export const q = (planId: string) => `service_id=${SID}&plan_id=${planId}`

export const instancePath = (id: string, query?: string) =>
  `/v2/service_instances/${id}${query === undefined ? "" : `?${query}`}`
export const lastOperationPath = (id: string, query?: string) =>
  `/v2/service_instances/${id}/last_operation${query === undefined ? "" : `?${query}`}`
export const bindingPath = (id: string, bindingId: string, query?: string) =>
  `/v2/service_instances/${id}/service_bindings/${bindingId}${query === undefined ? "" : `?${query}`}`
export const bindingLastOperationPath = (id: string, bindingId: string, query?: string) =>
  `/v2/service_instances/${id}/service_bindings/${bindingId}/last_operation${query === undefined ? "" : `?${query}`}`

/** `operation=<percent-encoded value>` */
export const opQuery = (operation: string) => `operation=${encodeURIComponent(operation)}`

/** Lets other fibers (the broker's background operations) run. */
export const flush: Effect.Effect<void> = Effect.forEach(Array.from({ length: 25 }), () => Effect.yieldNow(), {
  discard: true
})

/** Moves the TestClock forward, then lets the background fibers record their outcome. */
export const advance = (duration: Duration.DurationInput): Effect.Effect<void> =>
  Effect.zipRight(TestClock.adjust(duration), flush)

/** An append-only log of what the author's work did. */
export interface EventLog {
  readonly add: (event: string) => Effect.Effect<void>
  readonly all: Effect.Effect<ReadonlyArray<string>>
}

export const makeLog: Effect.Effect<EventLog> = Effect.map(Ref.make<ReadonlyArray<string>>([]), (ref) => ({
  add: (event) => Ref.update(ref, (events) => [...events, event]),
  all: Ref.get(ref)
}))

/** Fresh credentials, different on every call (so a repeat that returns the same ones was served from the store). */
export const freshCredentials = (bindingId: string) => ({ username: `u-${bindingId}`, password: randomUUID() })

/** Synchronous work that succeeds at everything. */
export const syncWork = (overrides: Partial<ManagedBroker.OfferingWork> = {}): ManagedBroker.OfferingWork => ({
  provision: ManagedBroker.sync(() => Effect.succeed({})),
  update: ManagedBroker.sync(() => Effect.succeed({})),
  deprovision: ManagedBroker.sync(() => Effect.void),
  bind: ManagedBroker.sync((ctx) => Effect.succeed({ credentials: freshCredentials(ctx.bindingId) })),
  unbind: ManagedBroker.sync(() => Effect.void),
  ...overrides
})

/** Work that records `<name>:start`, sleeps `duration` on the clock, records `<name>:done`; `<name>:interrupted` and
 * `<name>:finalized` come from its finalizers. */
export const slow = <A>(
  log: EventLog,
  name: string,
  duration: Duration.DurationInput,
  value: A
): Effect.Effect<A> =>
  log.add(`${name}:start`).pipe(
    Effect.zipRight(Effect.sleep(duration)),
    Effect.zipRight(log.add(`${name}:done`)),
    Effect.as(value),
    Effect.onInterrupt(() => log.add(`${name}:interrupted`)),
    Effect.ensuring(log.add(`${name}:finalized`))
  )
