/**
 * Test support: a catalog that covers the router's rules, and a scripted broker whose answers each test sets,
 * recording every request the router hands it.
 */
import { Effect, Layer } from "effect"
import { Catalog, ServiceBroker } from "../../src/index.js"
import type { Model } from "../../src/index.js"

export const OFFERING = "svc-main"
export const OTHER_OFFERING = "svc-other"
export const PLAN_MI = "plan-mi" // maintenance_info 1.2.0, bindable (offering default), updateable
export const PLAN_PLAIN = "plan-plain" // no maintenance_info, updateable
export const PLAN_FIXED = "plan-fixed" // plan_updateable: false
export const PLAN_UNBINDABLE = "plan-unbindable" // bindable: false
export const PLAN_ROTATABLE = "plan-rotatable" // binding_rotatable: true
export const PLAN_OTHER = "plan-other" // belongs to OTHER_OFFERING (requires syslog_drain)

export const testCatalog: Model.CatalogBody = {
  services: [
    {
      id: OFFERING,
      name: "main",
      description: "The main test offering",
      bindable: true,
      plan_updateable: true,
      instances_retrievable: true,
      bindings_retrievable: true,
      plans: [
        { id: PLAN_MI, name: "mi", description: "with maintenance info", maintenance_info: { version: "1.2.0" } },
        { id: PLAN_PLAIN, name: "plain", description: "no maintenance info" },
        { id: PLAN_FIXED, name: "fixed", description: "not updateable", plan_updateable: false },
        { id: PLAN_UNBINDABLE, name: "unbindable", description: "not bindable", bindable: false },
        { id: PLAN_ROTATABLE, name: "rotatable", description: "rotatable bindings", binding_rotatable: true }
      ]
    },
    {
      id: OTHER_OFFERING,
      name: "other",
      description: "Another offering",
      bindable: true,
      requires: ["syslog_drain"],
      plans: [{ id: PLAN_OTHER, name: "other", description: "other plan" }]
    }
  ]
}

export type Recorded = Array<{ readonly operation: string; readonly request: unknown }>

/** Answers of the scripted broker; each defaults to a plain synchronous success. */
export type Script = Partial<ServiceBroker.ServiceBrokerService>

export const defaultScript: Required<ServiceBroker.ServiceBrokerService> = {
  provision: () => Effect.succeed(ServiceBroker.Result.created()),
  deprovision: () => Effect.succeed(ServiceBroker.Result.deleted),
  update: () => Effect.succeed(ServiceBroker.Result.updated()),
  getInstance: () => Effect.succeed({ service_id: OFFERING, plan_id: PLAN_MI }),
  lastOperation: () => Effect.succeed({ state: "succeeded" }),
  bind: () => Effect.succeed(ServiceBroker.Result.bound({ credentials: { user: "u", password: "p" } })),
  unbind: () => Effect.succeed(ServiceBroker.Result.deleted),
  getBinding: () => Effect.succeed({ credentials: { user: "u" } }),
  lastBindingOperation: () => Effect.succeed({ state: "succeeded" })
}

/** A broker layer answering from `script` (falling back to `defaultScript`) and recording into `recorded`. */
export const scripted = (
  script: Script = {},
  recorded: Recorded = [],
  catalog: Model.CatalogBody = testCatalog
) => {
  const merged = { ...defaultScript, ...script } as Required<ServiceBroker.ServiceBrokerService>
  const record = <A, E>(operation: string, run: (r: any) => Effect.Effect<A, E>) => (request: any) =>
    Effect.suspend(() => {
      recorded.push({ operation, request })
      return run(request)
    })
  const broker: ServiceBroker.ServiceBrokerService = {
    provision: record("provision", merged.provision),
    deprovision: record("deprovision", merged.deprovision),
    update: record("update", merged.update),
    getInstance: record("getInstance", merged.getInstance),
    lastOperation: record("lastOperation", merged.lastOperation),
    bind: record("bind", merged.bind),
    unbind: record("unbind", merged.unbind),
    getBinding: record("getBinding", merged.getBinding),
    lastBindingOperation: record("lastBindingOperation", merged.lastBindingOperation)
  }
  return Layer.merge(Catalog.layer(catalog), ServiceBroker.layer(broker))
}

export const provisionBody = (overrides: Record<string, unknown> = {}) => ({
  service_id: OFFERING,
  plan_id: PLAN_MI,
  organization_guid: "org-1",
  space_guid: "space-1",
  ...overrides
})

export const bindBody = (overrides: Record<string, unknown> = {}) => ({
  service_id: OFFERING,
  plan_id: PLAN_MI,
  bind_resource: { app_guid: "app-1" },
  ...overrides
})

export const ids = `service_id=${OFFERING}&plan_id=${PLAN_MI}`
