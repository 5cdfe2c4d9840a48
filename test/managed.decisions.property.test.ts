/**
 * The engine's decisions tested directly: pure functions of a snapshot, a request and the time, with no store, no
 * fiber and no HTTP. Random provision and bind requests are decided on an empty snapshot, the decision's changes
 * applied with `applyChanges`, then the same and other requests decided again (PRV-4, BND-2, ASY-4, decisions 23,
 * 24, 27, 29, 31, 34): an identical repeat is answered with the running operation or the instance, a different one
 * refused, a delete takes the bindings with it and a reused id starts without them.
 */
import { describe, expect, it } from "@effect/vitest"
import { Either, FastCheck as fc, Option } from "effect"
import type { Change, InstanceSnapshot, OperationRecord } from "../src/BrokerStore.js"
import { applyChanges, emptySnapshot } from "../src/BrokerStore.js"
import type { ResolvedPlan } from "../src/Catalog.js"
import { effectivePlan } from "../src/Catalog.js"
import { decideBind, finishBind } from "../src/internal/engine/bind.js"
import type { Env, Mode } from "../src/internal/engine/decision.js"
import { succeeded } from "../src/internal/engine/decision.js"
import { decideDeprovision, finishDeprovision } from "../src/internal/engine/deprovision.js"
import { defaultFingerprints } from "../src/internal/engine/identity.js"
import { pollBinding, pollInstance } from "../src/internal/engine/poll.js"
import type { ProvisionInput } from "../src/internal/engine/provision.js"
import { decideProvision, finishProvision } from "../src/internal/engine/provision.js"
import type { ProvisionContext } from "../src/ManagedBroker.js"
import type { ServiceOffering } from "../src/Model.js"

const offering: ServiceOffering = {
  id: "svc",
  name: "svc",
  description: "d",
  bindable: true,
  plans: [{ id: "sync", name: "sync", description: "d" }, { id: "async", name: "async", description: "d" }]
}
const planOf = (id: string): ResolvedPlan => {
  const plan = offering.plans.find((p) => p.id === id)!
  return { offering, plan, effective: effectivePlan(offering, plan) }
}
const modeOf = (planId: string): Mode => (planId === "async" ? "async" : "sync")

const env: Env = {
  serves: (serviceId) => serviceId === "svc",
  step: (_serviceId, planId) => ({ mode: modeOf(planId) }),
  plan: planOf,
  fingerprints: () => defaultFingerprints,
  owner: "me",
  leaseTtl: 30_000,
  tombstoneTtl: 60_000
}

const provisionInput = (planId: string, parameters: { readonly [k: string]: number }, org: string): ProvisionInput => {
  const target = planOf(planId)
  const ctx: ProvisionContext = {
    instanceId: "i",
    offering,
    target,
    parameters,
    context: Option.none(),
    organizationGuid: Option.some(org),
    spaceGuid: Option.some("space"),
    originatingIdentity: Option.none()
  }
  return {
    instanceId: "i",
    target,
    parameters,
    organizationGuid: org,
    spaceGuid: "space",
    context: undefined,
    maintenanceInfo: undefined,
    originatingIdentity: undefined,
    acceptsIncomplete: true,
    mode: modeOf(planId),
    dashboardUrl: undefined,
    ctx
  }
}

const bindInput = (parameters: { readonly [k: string]: number }, app: string) => ({
  instanceId: "i",
  bindingId: "b",
  target: planOf("sync"),
  serviceId: "svc",
  planId: "sync",
  parameters,
  appGuid: app,
  route: undefined,
  bindResource: { app_guid: app },
  context: undefined,
  predecessorBindingId: undefined,
  originatingIdentity: undefined,
  acceptsIncomplete: true,
  mode: "sync" as const
})

/** Decides, and applies the changes of a started operation (and, for sync work, its success). */
const run = <S>(
  snapshot: InstanceSnapshot,
  decided: Either.Either<
    | { readonly _tag: "Done"; readonly value: S }
    | { readonly _tag: "Running"; readonly operationId: string }
    | {
      readonly _tag: "Start"
      readonly operation: OperationRecord
      readonly changes: ReadonlyArray<Change>
    },
    unknown
  >
) =>
  Either.map(
    decided,
    (d) => ({ decision: d, after: d._tag === "Start" ? applyChanges(snapshot, d.changes) : snapshot })
  )

const paramsArb = fc.dictionary(fc.constantFrom("a", "b", "c"), fc.integer({ min: 0, max: 2 }), { maxKeys: 2 })

describe("engine decisions, without a store or HTTP", () => {
  it.prop("PRV-4 ASY-4: a provision repeated is answered as the first; a different one is refused", {
    plan: fc.constantFrom("sync", "async"),
    params: paramsArb,
    other: paramsArb,
    org: fc.constantFrom("o1", "o2"),
    otherOrg: fc.constantFrom("o1", "o2")
  }, ({ org, other, otherOrg, params, plan }) => {
    const first = Either.getOrThrow(
      run(emptySnapshot("i"), decideProvision(env, emptySnapshot("i"), provisionInput(plan, params, org), 0, "op-1"))
    )
    expect(first.decision._tag).toBe("Start")
    if (first.decision._tag !== "Start") return
    expect(first.decision.operation).toEqual(
      expect.objectContaining({ kind: "provision", async: plan === "async", owner: "me" })
    )
    // while it runs: the same request is the running operation; a different one is a conflict
    const again = decideProvision(env, first.after, provisionInput(plan, { ...params }, org), 1, "op-2")
    const identical = sameKeys(params, other)
    const different = decideProvision(env, first.after, provisionInput(plan, other, otherOrg), 1, "op-3")
    expect(Either.getOrThrow(again)).toEqual({ _tag: "Running", operationId: "op-1" })
    if (identical && org === otherOrg) expect(Either.isRight(different)).toBe(true)
    else expect(Either.isLeft(different) && different.left._tag).toBe("Conflict")
    // once it succeeded: the identical repeat is the instance (200), and last_operation says so
    const done = applyChanges(
      first.after,
      finishProvision(first.after, first.decision.operation, succeeded({}), 2)
    )
    expect(Either.getOrThrow(decideProvision(env, done, provisionInput(plan, params, org), 3, "op-4"))._tag).toBe(
      "Done"
    )
    expect(Either.getOrThrow(pollInstance(env, done, Option.none(), 3))).toEqual({ state: "succeeded" })
  })

  it.prop("BND-2 decisions 31 34: a deleted instance takes its binding; a reused id starts without it", {
    params: paramsArb,
    app: fc.constantFrom("app-1", "app-2"),
    otherApp: fc.constantFrom("app-1", "app-2")
  }, ({ app, otherApp, params }) => {
    const provisioned = Either.getOrThrow(
      run(emptySnapshot("i"), decideProvision(env, emptySnapshot("i"), provisionInput("sync", {}, "o"), 0, "p-1"))
    )
    if (provisioned.decision._tag !== "Start") throw new Error("expected a start")
    const ready = applyChanges(
      provisioned.after,
      finishProvision(provisioned.after, provisioned.decision.operation, succeeded({}), 0)
    )
    const bound = Either.getOrThrow(run(ready, decideBind(env, ready, bindInput(params, app), 1, "b-1")))
    expect(bound.decision._tag).toBe("Start")
    const repeat = decideBind(env, bound.after, bindInput(params, otherApp), 2, "b-2")
    if (app === otherApp) expect(Either.getOrThrow(repeat)).toEqual({ _tag: "Running", operationId: "b-1" })
    else expect(Either.isLeft(repeat) && repeat.left._tag).toBe("Conflict")

    // the instance cannot be deleted while the bind runs
    const busy = decideDeprovision(
      env,
      bound.after,
      { instanceId: "i", originatingIdentity: undefined, acceptsIncomplete: true },
      2,
      "d-0"
    )
    expect(Either.isLeft(busy) && busy.left._tag).toBe("ConcurrencyError")

    // a binding that is ready goes with its instance, leaving a tombstone (410), until the id is provisioned anew
    if (bound.decision._tag !== "Start") throw new Error("expected a start")
    const withBinding = applyChanges(
      bound.after,
      finishBind(bound.after, "b", bound.decision.operation, succeeded({ credentials: { app } }), 3)
    )
    expect(withBinding.bindings.get("b")?.state).toBe("ready")
    const deleting = Either.getOrThrow(
      run(
        withBinding,
        decideDeprovision(
          env,
          withBinding,
          { instanceId: "i", originatingIdentity: undefined, acceptsIncomplete: true },
          3,
          "d-1"
        )
      )
    )
    if (deleting.decision._tag !== "Start") throw new Error("expected a start")
    const deleted = applyChanges(
      deleting.after,
      finishDeprovision(deleting.after, deleting.decision.operation, succeeded(undefined), 4)
    )
    expect(Option.isNone(deleted.instance)).toBe(true)
    expect(deleted.bindings.size).toBe(0)
    expect(
      Either.isLeft(pollBinding(env, deleted, "b", Option.none(), 5)) &&
        Either.flip(pollBinding(env, deleted, "b", Option.none(), 5)).pipe(Either.getOrThrow)._tag
    ).toBe("Gone")
    const reused = Either.getOrThrow(
      run(deleted, decideProvision(env, deleted, provisionInput("sync", {}, "o"), 6, "p-2"))
    )
    expect(reused.after.bindingTombstones.size).toBe(0)
    const unknown = pollBinding(env, reused.after, "b", Option.none(), 6)
    expect(Either.isLeft(unknown) && Either.flip(unknown).pipe(Either.getOrThrow)._tag).toBe("NotFound")
  })
})

const sameKeys = (a: { readonly [k: string]: number }, b: { readonly [k: string]: number }) =>
  Object.keys(a).length === Object.keys(b).length && Object.entries(a).every(([k, v]) => b[k] === v)
