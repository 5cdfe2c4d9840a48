/**
 * Type-level tests: checked by `tsc --noEmit` (part of `npm test`). Every `@ts-expect-error` below must stay an
 * error; the valid counterparts must compile. The run-time tests at the end type-check snippets through the
 * compiler API, for properties a `@ts-expect-error` cannot pin without breaking the type check.
 */
import type { Option, Schema } from "effect"
import { Effect } from "effect"
import { describe, expect, expectTypeOf, it } from "vitest"
import { OsbError, ServiceBroker } from "../src/index.js"
import type { Catalog } from "../src/index.js"
import { Arbitraries } from "../src/testing/index.js"
import { typeErrorsOf } from "./support/typecheck.js"

const created = () => Effect.succeed(ServiceBroker.Result.created())
const deleted = () => Effect.succeed(ServiceBroker.Result.deleted)

// -----------------------------------------------------------------------------
// valid brokers compile
// -----------------------------------------------------------------------------

export const everyAllowedError = ServiceBroker.make({
  provision: (request) =>
    request.acceptsIncomplete
      ? Effect.succeed(ServiceBroker.Result.accepted("op-1", { dashboardUrl: "https://dash.test/1" }))
      : Effect.fail(new OsbError.AsyncRequired({})),
  deprovision: (request) =>
    request.instanceId === "unknown"
      ? Effect.fail(new OsbError.Gone())
      : Effect.fail(new OsbError.DeprovisionFailure({ description: "failed", instanceUsable: false })),
  update: () =>
    Effect.fail(new OsbError.UpdateFailure({ description: "failed", instanceUsable: false, updateRepeatable: false })),
  getInstance: () => Effect.fail(new OsbError.ConcurrencyError({})),
  lastOperation: () => Effect.fail(new OsbError.Gone()),
  bind: () => Effect.fail(new OsbError.RequiresApp({})),
  unbind: () => Effect.fail(new OsbError.Gone()),
  getBinding: () => Effect.fail(new OsbError.NotFound({})),
  lastBindingOperation: () => Effect.fail(new OsbError.Gone())
})

export const everyResult = ServiceBroker.make({
  provision: () => Effect.succeed(ServiceBroker.Result.alreadyExists({ metadata: { labels: { team: "a" } } })),
  deprovision: () => Effect.succeed(ServiceBroker.Result.deleting("op-2")),
  update: () => Effect.succeed(ServiceBroker.Result.updated({ dashboardUrl: null })),
  getInstance: () => Effect.succeed({ service_id: "svc", plan_id: "plan", parameters: { size: 1 } }),
  // E6: instance_usable / update_repeatable after a failed update, instance_usable after a failed deprovision
  lastOperation: (request) =>
    request.instanceId === "a"
      ? Effect.succeed({ state: "failed", operation: "update", instanceUsable: false, updateRepeatable: false })
      : Effect.succeed({ state: "failed", operation: "deprovision", instanceUsable: true }),
  bind: () => Effect.succeed(ServiceBroker.Result.bound({ credentials: { user: "u" } })),
  unbind: () => Effect.succeed(ServiceBroker.Result.deleted),
  getBinding: () => Effect.succeed({ credentials: { user: "u" }, parameters: {} }),
  lastBindingOperation: () => Effect.succeed({ state: "in progress", retryAfterSeconds: 5 })
})

export const typedStates = ServiceBroker.make({
  provision: created,
  deprovision: deleted,
  lastOperation: () =>
    Effect.succeed<ServiceBroker.InstanceOperationState>({ state: "failed", operation: "provision", description: "x" }),
  lastBindingOperation: () => Effect.succeed<ServiceBroker.BindingOperationState>({ state: "failed", description: "x" })
})

// -----------------------------------------------------------------------------
// invalid brokers do not compile
// -----------------------------------------------------------------------------

export const goneOnProvision = ServiceBroker.make({
  // @ts-expect-error provision may not answer 410 Gone
  provision: () => Effect.fail(new OsbError.Gone()),
  deprovision: deleted
})

export const requiresAppOnProvision = ServiceBroker.make({
  // @ts-expect-error RequiresApp is a bind error only
  provision: () => Effect.fail(new OsbError.RequiresApp({})),
  deprovision: deleted
})

export const notFoundOnDeprovision = ServiceBroker.make({
  provision: created,
  // @ts-expect-error a missing instance on DELETE is 410 Gone, never 404
  deprovision: () => Effect.fail(new OsbError.NotFound({}))
})

export const updateFailureOnDeprovision = ServiceBroker.make({
  provision: created,
  // @ts-expect-error update_repeatable cannot appear on a deprovision error
  deprovision: () => Effect.fail(new OsbError.UpdateFailure({ description: "x" }))
})

export const conflictOnUpdate = ServiceBroker.make({
  provision: created,
  deprovision: deleted,
  // @ts-expect-error no 409 is defined for PATCH
  update: () => Effect.fail(new OsbError.Conflict({}))
})

export const goneOnGetInstance = ServiceBroker.make({
  provision: created,
  deprovision: deleted,
  // @ts-expect-error GET instance answers 404 for a missing instance
  getInstance: () => Effect.fail(new OsbError.Gone())
})

export const concurrencyOnLastOperation = ServiceBroker.make({
  provision: created,
  deprovision: deleted,
  // @ts-expect-error last_operation has no 422
  lastOperation: () => Effect.fail(new OsbError.ConcurrencyError({}))
})

export const maintenanceOnBind = ServiceBroker.make({
  provision: created,
  deprovision: deleted,
  // @ts-expect-error MaintenanceInfoConflict is for provision and update only
  bind: () => Effect.fail(new OsbError.MaintenanceInfoConflict({}))
})

export const concurrencyOnGetBinding = ServiceBroker.make({
  provision: created,
  deprovision: deleted,
  // @ts-expect-error GET binding cannot fail with ConcurrencyError (no 422 on E8)
  getBinding: () => Effect.fail(new OsbError.ConcurrencyError({}))
})

export const notFoundOnUnbind = ServiceBroker.make({
  provision: created,
  deprovision: deleted,
  // @ts-expect-error a missing binding on DELETE is 410 Gone, never 404
  unbind: () => Effect.fail(new OsbError.NotFound({}))
})

export const provisionFailedWithInstanceUsable = ServiceBroker.make({
  provision: created,
  deprovision: deleted,
  lastOperation: () =>
    Effect.succeed<ServiceBroker.InstanceOperationState>(
      // @ts-expect-error instance_usable is not allowed after a failed provision (LO-4)
      { state: "failed", operation: "provision", instanceUsable: false }
    )
})

export const deprovisionFailedWithUpdateRepeatable = ServiceBroker.make({
  provision: created,
  deprovision: deleted,
  lastOperation: () =>
    Effect.succeed<ServiceBroker.InstanceOperationState>(
      // @ts-expect-error update_repeatable is only allowed after a failed update (LO-4)
      { state: "failed", operation: "deprovision", updateRepeatable: false }
    )
})

export const bindingFailedWithInstanceUsable = ServiceBroker.make({
  provision: created,
  deprovision: deleted,
  lastBindingOperation: () =>
    Effect.succeed<ServiceBroker.BindingOperationState>(
      // @ts-expect-error binding last_operation never carries instance_usable (E10)
      { state: "failed", instanceUsable: false }
    )
})

export const failedWithoutOperation = ServiceBroker.make({
  provision: created,
  deprovision: deleted,
  // @ts-expect-error a failed instance operation must say which operation failed
  lastOperation: () => Effect.succeed({ state: "failed" as const })
})

export const wrongResultKind = ServiceBroker.make({
  provision: created,
  // @ts-expect-error a deprovision cannot answer with a bind result
  deprovision: () => Effect.succeed(ServiceBroker.Result.bound({ credentials: {} }))
})

export const updatedOnProvision = ServiceBroker.make({
  // @ts-expect-error a provision cannot answer "updated"
  provision: () => Effect.succeed(ServiceBroker.Result.updated()),
  deprovision: deleted
})

// @ts-expect-error provision is required
export const withoutProvision = ServiceBroker.make({ deprovision: deleted })

export const requirementOnHandler = ServiceBroker.make({
  provision: created,
  // @ts-expect-error handlers have no requirements left: resolve services in layerEffect
  deprovision: () => Effect.flatMap(Effect.context<{ readonly db: true }>(), () => deleted())
})

// -----------------------------------------------------------------------------
// expectTypeOf
// -----------------------------------------------------------------------------

// -----------------------------------------------------------------------------
// the test kit's arbitraries take a plain catalog literal (no Model.CatalogBody annotation)
// -----------------------------------------------------------------------------

const plainCatalog = {
  services: [{
    id: "svc-plain",
    name: "plain",
    description: "A catalog written as a plain literal",
    bindable: true,
    requires: ["syslog_drain"],
    metadata: { displayName: "Plain" },
    plans: [{
      id: "plan-plain",
      name: "small",
      description: "Small",
      maintenance_info: { version: "1.0.0" },
      schemas: { service_instance: { create: { parameters: { $schema: "http://json-schema.org/draft-04/schema#" } } } }
    }]
  }]
}

export const plainLiteralArbitraries = [
  Arbitraries.provisionRequest(plainCatalog, { planId: "plan-plain" }),
  Arbitraries.updateRequest(plainCatalog),
  Arbitraries.bindRequest(plainCatalog),
  Arbitraries.malformedBody(plainCatalog, { operation: "provision" }),
  Arbitraries.malformedQuery(plainCatalog, "deprovision"),
  Arbitraries.planTargets(plainCatalog)
] as const

export const notACatalog = () =>
  // @ts-expect-error a catalog without services is not a catalog
  Arbitraries.provisionRequest({ offerings: [] })

describe("types", () => {
  it("allowedErrors mirrors the error types of every operation, in both directions", () => {
    type Tags<K extends keyof typeof ServiceBroker.allowedErrors> = (typeof ServiceBroker.allowedErrors)[K][number]
    expectTypeOf<Tags<"provision">>().toEqualTypeOf<ServiceBroker.ProvisionError["_tag"]>()
    expectTypeOf<Tags<"update">>().toEqualTypeOf<ServiceBroker.UpdateError["_tag"]>()
    expectTypeOf<Tags<"deprovision">>().toEqualTypeOf<ServiceBroker.DeprovisionError["_tag"]>()
    expectTypeOf<Tags<"getInstance">>().toEqualTypeOf<ServiceBroker.GetInstanceError["_tag"]>()
    expectTypeOf<Tags<"lastOperation">>().toEqualTypeOf<ServiceBroker.LastOperationError["_tag"]>()
    expectTypeOf<Tags<"bind">>().toEqualTypeOf<ServiceBroker.BindError["_tag"]>()
    expectTypeOf<Tags<"getBinding">>().toEqualTypeOf<ServiceBroker.GetBindingError["_tag"]>()
    expectTypeOf<Tags<"unbind">>().toEqualTypeOf<ServiceBroker.UnbindError["_tag"]>()
    expectTypeOf<Tags<"lastBindingOperation">>().toEqualTypeOf<ServiceBroker.LastOperationError["_tag"]>()
    expectTypeOf<keyof typeof ServiceBroker.allowedErrors>().toEqualTypeOf<keyof ServiceBroker.ServiceBrokerService>()
    expect(Object.keys(ServiceBroker.allowedErrors)).toHaveLength(9)
  })

  it("the OsbError schema describes exactly the OsbError union", () => {
    expectTypeOf<Schema.Schema.Type<typeof OsbError.OsbError>>().toEqualTypeOf<OsbError.OsbError>()
    expectTypeOf<keyof typeof OsbError.errorTable>().toEqualTypeOf<OsbError.OsbError["_tag"]>()
    expect(OsbError.OsbError.members).toHaveLength(Object.keys(OsbError.errorTable).length)
  })

  it("request types carry what the router resolved", () => {
    expectTypeOf<ServiceBroker.ProvisionRequest["effective"]>().toEqualTypeOf<Catalog.EffectivePlan>()
    expectTypeOf<ServiceBroker.UpdateRequest["plan"]>().toEqualTypeOf<Option.Option<ServiceBroker.ResolvedTarget>>()
    expectTypeOf<ServiceBroker.LastOperationRequest["operation"]>().toEqualTypeOf<Option.Option<string>>()
    expectTypeOf<ServiceBroker.BindRequest["bindingId"]>().toEqualTypeOf<string>()
    expectTypeOf<ServiceBroker.DeprovisionRequest>().not.toHaveProperty("body")
    expectTypeOf(ServiceBroker.Result.deleted).toEqualTypeOf<ServiceBroker.DeleteResult>()
    expectTypeOf(ServiceBroker.Result.binding).returns.toEqualTypeOf<ServiceBroker.BindResult>()
    expectTypeOf(ServiceBroker.make).returns.toEqualTypeOf<ServiceBroker.ServiceBrokerService>()
    expect(ServiceBroker.Result.deleting()).toStrictEqual({ _tag: "Accepted" })
    expect(ServiceBroker.Result.deleting("op")).toStrictEqual({ _tag: "Accepted", operation: "op" })
  })

  it("the brokers above are plain values (make is the identity)", () => {
    expect(ServiceBroker.make(everyResult)).toBe(everyResult)
    expect(Object.keys(everyAllowedError).sort()).toEqual(Object.keys(ServiceBroker.allowedErrors).sort())
  })
})

// -----------------------------------------------------------------------------
// the natural handler form, type-checked through the compiler API
// -----------------------------------------------------------------------------

const header = [
  "import { Effect } from \"effect\"",
  "import { OsbError, ServiceBroker } from \"../src/index.js\"",
  "const created = () => Effect.succeed(ServiceBroker.Result.created())",
  "const deleted = () => Effect.succeed(ServiceBroker.Result.deleted)"
].join("\n")

const broker = (members: string) =>
  `${header}\nexport const broker = ServiceBroker.make({ provision: created, deprovision: deleted, ${members} })\n`

describe("LO-4 the natural handler form is checked too", () => {
  const snippets = {
    validControl: broker(
      "lastOperation: () => Effect.succeed({ state: \"failed\", operation: \"update\", instanceUsable: false })"
    ),
    invalidControl: `${header}\nexport const broker = ServiceBroker.make({ ` +
      "provision: () => Effect.fail(new OsbError.Gone()), deprovision: deleted })\n",
    provisionFailedWithInstanceUsable: broker(
      "lastOperation: () => Effect.succeed({ state: \"failed\", operation: \"provision\", instanceUsable: false })"
    ),
    provisionFailedWithUpdateRepeatable: broker(
      "lastOperation: () => Effect.succeed({ state: \"failed\", operation: \"provision\", updateRepeatable: true })"
    ),
    deprovisionFailedWithUpdateRepeatable: broker(
      "lastOperation: () => Effect.succeed({ state: \"failed\", operation: \"deprovision\", updateRepeatable: false })"
    ),
    succeededWithInstanceUsable: broker(
      "lastOperation: () => Effect.succeed({ state: \"succeeded\", instanceUsable: true })"
    ),
    bindingFailedWithInstanceUsable: broker(
      "lastBindingOperation: () => Effect.succeed({ state: \"failed\", instanceUsable: false })"
    ),
    bindingFailedWithUpdateRepeatable: broker(
      "lastBindingOperation: () => Effect.succeed({ state: \"failed\", updateRepeatable: false })"
    )
  }
  let errors: Record<string, ReadonlyArray<string>> | undefined
  const errorsOf = (name: keyof typeof snippets) => {
    errors ??= typeErrorsOf(snippets)
    return errors[name]!
  }

  it("the harness sees a valid broker as valid and an invalid one as invalid", { timeout: 120_000 }, () => {
    expect(errorsOf("validControl")).toEqual([])
    expect(errorsOf("invalidControl").length).toBeGreaterThan(0)
  })

  it(
    "LO-4 `Effect.succeed({...})` with a field §3 forbids for that state does not compile",
    { timeout: 120_000 },
    () => {
      const forbidden = [
        "provisionFailedWithInstanceUsable",
        "provisionFailedWithUpdateRepeatable",
        "deprovisionFailedWithUpdateRepeatable",
        "succeededWithInstanceUsable",
        "bindingFailedWithInstanceUsable",
        "bindingFailedWithUpdateRepeatable"
      ] as const
      const compiling = forbidden.filter((name) => errorsOf(name).length === 0)
      expect(compiling, "these handlers compile although they return a field the spec forbids").toEqual([])
    }
  )
})
