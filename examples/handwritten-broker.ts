/**
 * A complete broker written directly against the low-level `ServiceBroker` interface, with its own in-memory
 * state. It is the quick start's broker (`npm start`) and shows every rule a hand-written broker must follow:
 * identical repeat -> 200 (same credentials), different -> 409, delete of a missing resource -> 410 `{}`,
 * fetch of a missing one -> 404, PATCH of a missing instance -> 404.
 */
import { Effect, Layer, Option, SynchronizedRef } from "effect"
import { randomBytes } from "node:crypto"
import type { Model } from "../src/index.js"
import { Catalog, OsbError, ServiceBroker } from "../src/index.js"
import { catalog as quickstartCatalog, SMALL_PLAN_ID } from "./quickstart-catalog.js"

export { SERVICE_ID, SMALL_PLAN_ID } from "./quickstart-catalog.js"

/** The quick start's catalog with only plan `small`: one bindable, updateable, retrievable offering. */
export const catalog: Model.CatalogBody = {
  services: quickstartCatalog.services.map((offering) => ({
    ...offering,
    plans: [offering.plans.find((plan) => plan.id === SMALL_PLAN_ID)!]
  }))
}

interface Instance {
  readonly serviceId: string
  readonly planId: string
  readonly parameters: Model.JsonObject | undefined
  readonly organizationGuid: string | undefined
  readonly spaceGuid: string | undefined
  readonly maintenanceInfo: Model.MaintenanceInfo | undefined
}

interface Binding {
  readonly instanceId: string
  readonly serviceId: string
  readonly planId: string
  readonly parameters: Model.JsonObject | undefined
  readonly appGuid: string | undefined
  readonly route: string | undefined
  readonly credentials: Model.JsonObject
}

interface State {
  readonly instances: ReadonlyMap<string, Instance>
  readonly bindings: ReadonlyMap<string, Binding>
}

/** Deep equality of JSON values (key order does not matter). */
export const jsonEqual = (a: unknown, b: unknown): boolean => {
  if (a === b) return true
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) return false
  if (Array.isArray(a) !== Array.isArray(b)) return false
  const ka = Object.keys(a)
  const kb = Object.keys(b)
  return ka.length === kb.length &&
    ka.every((k) =>
      Object.prototype.hasOwnProperty.call(b, k) &&
      jsonEqual((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k])
    )
}

const dashboardUrl = (instanceId: string) => `https://dashboard.example.com/instances/${encodeURIComponent(instanceId)}`

const without = <V>(map: ReadonlyMap<string, V>, key: string): Map<string, V> => {
  const copy = new Map(map)
  copy.delete(key)
  return copy
}

const withEntry = <V>(map: ReadonlyMap<string, V>, key: string, value: V): Map<string, V> =>
  new Map(map).set(key, value)

/** Builds the broker with a fresh in-memory state. */
export const make = Effect.gen(function*() {
  const state = yield* SynchronizedRef.make<State>({ instances: new Map(), bindings: new Map() })
  const catalogService = yield* Catalog.Catalog

  return ServiceBroker.make({
    provision: (request) =>
      SynchronizedRef.modifyEffect(state, (s) => {
        const existing = s.instances.get(request.instanceId)
        const wanted: Instance = {
          serviceId: request.body.service_id,
          planId: request.body.plan_id,
          parameters: request.body.parameters,
          organizationGuid: request.body.organization_guid,
          spaceGuid: request.body.space_guid,
          maintenanceInfo: request.plan.maintenance_info
        }
        if (existing !== undefined) {
          const identical = existing.serviceId === wanted.serviceId && existing.planId === wanted.planId &&
            jsonEqual(existing.parameters ?? {}, wanted.parameters ?? {}) &&
            existing.organizationGuid === wanted.organizationGuid && existing.spaceGuid === wanted.spaceGuid
          return identical
            ? Effect.succeed([
              ServiceBroker.Result.alreadyExists({ dashboardUrl: dashboardUrl(request.instanceId) }),
              s
            ])
            : Effect.fail(
              new OsbError.Conflict({ description: `Instance ${request.instanceId} exists with other attributes.` })
            )
        }
        return Effect.succeed([
          ServiceBroker.Result.created({ dashboardUrl: dashboardUrl(request.instanceId) }),
          { ...s, instances: withEntry(s.instances, request.instanceId, wanted) }
        ])
      }),

    update: (request) =>
      SynchronizedRef.modifyEffect(
        state,
        (s): Effect.Effect<readonly [ServiceBroker.UpdateResult, State], ServiceBroker.UpdateError> => {
          const existing = s.instances.get(request.instanceId)
          if (existing === undefined) {
            return Effect.fail(new OsbError.NotFound({ description: `Instance ${request.instanceId} does not exist.` }))
          }
          if (existing.serviceId !== request.body.service_id) {
            return Effect.fail(new OsbError.BadRequest({ description: "service_id does not match the instance." }))
          }
          const targetPlan = Option.getOrUndefined(catalogService.plan(request.body.plan_id ?? existing.planId))
          if (targetPlan === undefined) {
            return Effect.fail(new OsbError.BadRequest({ description: "Unknown plan." }))
          }
          const requested = request.body.maintenance_info
          if (requested !== undefined && requested.version !== targetPlan.plan.maintenance_info?.version) {
            return Effect.fail(new OsbError.MaintenanceInfoConflict({}))
          }
          const updated: Instance = {
            ...existing,
            planId: targetPlan.plan.id,
            parameters: request.body.parameters ?? existing.parameters,
            maintenanceInfo: targetPlan.plan.maintenance_info
          }
          return Effect.succeed([
            ServiceBroker.Result.updated(),
            { ...s, instances: withEntry(s.instances, request.instanceId, updated) }
          ])
        }
      ),

    deprovision: (request) =>
      SynchronizedRef.modifyEffect(state, (s) => {
        if (!s.instances.has(request.instanceId)) return Effect.fail(new OsbError.Gone())
        const bindings = new Map([...s.bindings].filter(([, b]) => b.instanceId !== request.instanceId))
        return Effect.succeed([
          ServiceBroker.Result.deleted,
          { instances: without(s.instances, request.instanceId), bindings }
        ])
      }),

    getInstance: (request) =>
      Effect.flatMap(SynchronizedRef.get(state), (s) => {
        const instance = s.instances.get(request.instanceId)
        if (instance === undefined) return Effect.fail(new OsbError.NotFound({}))
        return Effect.succeed({
          service_id: instance.serviceId,
          plan_id: instance.planId,
          dashboard_url: dashboardUrl(request.instanceId),
          ...(instance.parameters === undefined ? {} : { parameters: instance.parameters }),
          ...(instance.maintenanceInfo === undefined ? {} : { maintenance_info: instance.maintenanceInfo })
        })
      }),

    bind: (request) =>
      SynchronizedRef.modifyEffect(
        state,
        (s): Effect.Effect<readonly [ServiceBroker.BindResult, State], ServiceBroker.BindError> => {
          if (!s.instances.has(request.instanceId)) {
            return Effect.fail(new OsbError.NotFound({ description: `Instance ${request.instanceId} does not exist.` }))
          }
          const key = `${request.instanceId}/${request.bindingId}`
          const existing = s.bindings.get(key)
          const appGuid = request.body.bind_resource?.app_guid ?? request.body.app_guid
          const route = request.body.bind_resource?.route
          if (existing !== undefined) {
            const identical = existing.serviceId === request.body.service_id &&
              existing.planId === request.body.plan_id &&
              jsonEqual(existing.parameters ?? {}, request.body.parameters ?? {}) &&
              existing.appGuid === appGuid && existing.route === route
            return identical
              ? Effect.succeed([ServiceBroker.Result.alreadyBound({ credentials: existing.credentials }), s])
              : Effect.fail(
                new OsbError.Conflict({ description: `Binding ${request.bindingId} exists with other attributes.` })
              )
          }
          const username = `u_${randomBytes(6).toString("hex")}`
          const password = randomBytes(18).toString("base64url")
          const credentials = {
            uri: `quickstart://${username}:${password}@db.example.com:5432/${encodeURIComponent(request.instanceId)}`,
            username,
            password
          }
          const binding: Binding = {
            instanceId: request.instanceId,
            serviceId: request.body.service_id,
            planId: request.body.plan_id,
            parameters: request.body.parameters,
            appGuid,
            route,
            credentials
          }
          return Effect.succeed([
            ServiceBroker.Result.bound({ credentials }),
            { ...s, bindings: withEntry(s.bindings, key, binding) }
          ])
        }
      ),

    unbind: (request) =>
      SynchronizedRef.modifyEffect(state, (s) => {
        const key = `${request.instanceId}/${request.bindingId}`
        if (!s.bindings.has(key)) return Effect.fail(new OsbError.Gone())
        return Effect.succeed([ServiceBroker.Result.deleted, { ...s, bindings: without(s.bindings, key) }])
      }),

    getBinding: (request) =>
      Effect.flatMap(SynchronizedRef.get(state), (s) => {
        const binding = s.bindings.get(`${request.instanceId}/${request.bindingId}`)
        if (binding === undefined) return Effect.fail(new OsbError.NotFound({}))
        return Effect.succeed({
          credentials: binding.credentials,
          ...(binding.parameters === undefined ? {} : { parameters: binding.parameters })
        })
      })
  })
})

/** The quick start broker's services: its catalog and the broker (auth is chosen by the caller). */
export const layer = ServiceBroker.layerEffect(make).pipe(Layer.provideMerge(Catalog.layer(catalog)))
