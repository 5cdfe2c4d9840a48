/**
 * Checks that need no resource of their own: malformed provisions, unknown plans, a maintenance_info conflict,
 * and the status of every endpoint for a resource that does not exist.
 *
 * @since 0.2.0
 */
import * as Effect from "effect/Effect"
import type { CatalogBody } from "../Model.js"
import type { Context } from "./context.js"
import { bindingOperationPath, instanceOperationPath, instancePath, newId, status } from "./context.js"
import { E } from "./model.js"
import type { PlanTarget } from "./plans.js"

/** Malformed provisions and unknown resources, against the first plan exercised. */
export const probes = (ctx: Context, catalog: CatalogBody, first: PlanTarget): Effect.Effect<void> =>
  Effect.gen(function*() {
    const id = newId()
    const { offering, plan } = first
    // recorded before anything may create it, so an interrupted run still cleans it up (a 410 is harmless)
    ctx.created.instances.set(id, { serviceId: offering.id, planId: plan.id })
    const provision = { operation: "provision" } as const
    const malformed = yield* ctx.send(E.provision, "PUT", instancePath(id), { rawBody: "{\"service_id\": " }, provision)
    yield* ctx.expectStatus("provision.malformed-json", E.provision, "malformed JSON answers 400", malformed, [
      status.badRequest
    ])
    const missing = yield* ctx.send(E.provision, "PUT", instancePath(id), {
      body: { plan_id: plan.id, organization_guid: newId(), space_guid: newId() }
    }, provision)
    yield* ctx.expectStatus(
      "provision.missing-field",
      E.provision,
      "a provision without service_id answers 400",
      missing,
      [status.badRequest]
    )
    const unknownPlan = yield* ctx.send(E.provision, "PUT", instancePath(id), {
      body: {
        service_id: offering.id,
        plan_id: `effect-osb-check-no-such-plan-${crypto.randomUUID()}`,
        organization_guid: newId(),
        space_guid: newId()
      }
    }, provision)
    yield* ctx.expectStatus("provision.unknown-plan", E.provision, "an unknown plan_id answers 400", unknownPlan, [
      status.badRequest
    ])
    yield* maintenanceConflict(ctx, catalog)

    const unknownInstance = newId()
    const ids = { service_id: offering.id, plan_id: plan.id }
    if (catalog.services.some((o) => o.instances_retrievable === true)) {
      const getUnknown = yield* ctx.send(E.getInstance, "GET", instancePath(unknownInstance))
      yield* ctx.expectStatus("instance.unknown", E.getInstance, "GET of an unknown instance answers 404", getUnknown, [
        status.notFound
      ])
    } else {
      yield* ctx.skip(
        "instance.unknown",
        E.getInstance,
        "GET of an unknown instance answers 404",
        "no offering has instances_retrievable: true"
      )
    }
    const patchUnknown = yield* ctx.send(E.update, "PATCH", instancePath(unknownInstance), {
      body: { service_id: offering.id }
    })
    yield* ctx.expectStatus("update.unknown", E.update, "PATCH of an unknown instance answers 404", patchUnknown, [
      status.notFound
    ])
    const deleteUnknown = yield* ctx.send(E.deprovision, "DELETE", instancePath(unknownInstance), {
      query: { ...ids, accepts_incomplete: "true" }
    })
    yield* ctx.expectStatus(
      "deprovision.unknown",
      E.deprovision,
      "DELETE of an unknown instance answers 410",
      deleteUnknown,
      [status.gone]
    )
  })

/** A provision with a maintenance_info version other than the plan's: 422 MaintenanceInfoConflict. */
const maintenanceConflict = (ctx: Context, catalog: CatalogBody): Effect.Effect<void> =>
  Effect.gen(function*() {
    const title = "a provision with another maintenance_info.version answers 422 MaintenanceInfoConflict"
    const offering = catalog.services.find((o) => o.plans.some((p) => p.maintenance_info !== undefined))
    const plan = offering?.plans.find((p) => p.maintenance_info !== undefined)
    if (offering === undefined || plan === undefined) {
      return yield* ctx.skip("provision.maintenance-conflict", E.provision, title, "no plan has maintenance_info")
    }
    const id = newId()
    ctx.created.instances.set(id, { serviceId: offering.id, planId: plan.id })
    const org = newId()
    const space = newId()
    const body = {
      service_id: offering.id,
      plan_id: plan.id,
      organization_guid: org,
      space_guid: space,
      context: { platform: "cloudfoundry", organization_guid: org, space_guid: space, instance_name: "osb-check" },
      maintenance_info: { version: `${plan.maintenance_info!.version}-effect-osb-check` }
    }
    const response = yield* ctx.send(E.provision, "PUT", instancePath(id), {
      body,
      query: { accepts_incomplete: "true" }
    }, { operation: "provision" })
    yield* ctx.expectCode(
      "provision.maintenance-conflict",
      E.provision,
      title,
      response,
      "MaintenanceInfoConflict",
      body
    )
  })

/** last_operation of resources that never existed: 404 (since 2.16), never 410. */
export const unknownOperations = (ctx: Context, target: PlanTarget): Effect.Effect<void> =>
  Effect.gen(function*() {
    const ids = { service_id: target.offering.id, plan_id: target.plan.id }
    const title = (what: string) => `last_operation of an unknown ${what} answers 404`
    if ([E.provision, E.update, E.deprovision].some((endpoint) => ctx.accepted.has(endpoint))) {
      const response = yield* ctx.send(E.lastOperation, "GET", instanceOperationPath(newId()), {
        query: ids
      })
      yield* ctx.expectStatus("lastOperation.unknown", E.lastOperation, title("instance"), response, [status.notFound])
    } else {
      yield* ctx.skip(
        "lastOperation.unknown",
        E.lastOperation,
        title("instance"),
        "no instance operation ran asynchronously"
      )
    }
    // like instances: only a broker that runs binding operations asynchronously serves this endpoint (a broker with
    // synchronous bindings only may not implement it, and no platform polls it)
    if ([E.bind, E.unbind].some((endpoint) => ctx.accepted.has(endpoint))) {
      const response = yield* ctx.send(
        E.lastBindingOperation,
        "GET",
        bindingOperationPath(newId(), newId()),
        { query: ids }
      )
      yield* ctx.expectStatus("lastOperation.unknown", E.lastBindingOperation, title("binding"), response, [
        status.notFound
      ])
    } else {
      yield* ctx.skip(
        "lastOperation.unknown",
        E.lastBindingOperation,
        title("binding"),
        "no binding operation ran asynchronously"
      )
    }
  })
