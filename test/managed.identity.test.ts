/**
 * PRV-4, BND-2 (decisions 23, 24, 38): what "identical" means is the library's default unless an offering says
 * otherwise (`OfferingWork.identical`). Over HTTP: an offering whose provisions ignore a `label` parameter and whose
 * binds also compare `context` answers repeats by its own rule; the default offering by the README's.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { ManagedBroker } from "../src/index.js"
import { makeEffectClient, managed } from "./support/effectClient.js"
import {
  AI,
  bindBody,
  bindingPath,
  catalogOf,
  instancePath,
  plan,
  provisionBody,
  SID,
  syncWork,
  updateBody
} from "./support/managedKit.js"

const catalog = catalogOf([plan("p"), plan("slow")])

const without = (parameters: { readonly [key: string]: unknown }, key: string) =>
  Object.fromEntries(Object.entries(parameters).filter(([k]) => k !== key))

/** Provisions ignore `label`; binds compare `context` too; updates compare only `parameters`. */
const identical: ManagedBroker.Identical = {
  provision: (a) => ({ ...ManagedBroker.defaultIdentity.provision(a), parameters: without(a.parameters, "label") }),
  bind: (a) => ({ ...ManagedBroker.defaultIdentity.bind(a), context: a.context ?? null }),
  update: (a) => ({ parameters: a.parameters ?? null })
}

const slowUpdate = ManagedBroker.async(() => Effect.as(Effect.never, {}))
const broker = (custom: boolean) =>
  managed(catalog, {
    [SID]: syncWork({
      ...(custom ? { identical } : {}),
      plans: { slow: { update: slowUpdate } }
    })
  })

const k8s = (namespace: string) => ({ context: { platform: "kubernetes", namespace, clusterid: "c-1" } })

const answers = (custom: boolean) =>
  Effect.gen(function*() {
    const client = yield* makeEffectClient(broker(custom))
    const put = (id: string, body: unknown) => client.call("PUT", instancePath(id), { body })
    const statuses: Array<number> = []
    statuses.push((yield* put("i-1", provisionBody("p", { parameters: { size: 1, label: "a" } }))).status)
    // only the label differs
    statuses.push((yield* put("i-1", provisionBody("p", { parameters: { size: 1, label: "b" } }))).status)
    // the size differs
    statuses.push((yield* put("i-1", provisionBody("p", { parameters: { size: 2, label: "a" } }))).status)
    const bind = (body: unknown) => client.call("PUT", bindingPath("i-1", "b-1"), { body })
    statuses.push((yield* bind(bindBody("p", k8s("one")))).status)
    // only the context differs
    statuses.push((yield* bind(bindBody("p", k8s("two")))).status)
    // an update that runs, repeated with another context
    statuses.push((yield* put("i-2", provisionBody("slow"))).status)
    const patch = (body: unknown) => client.call("PATCH", instancePath("i-2", AI), { body })
    const first = yield* patch(updateBody({ parameters: { v: 1 }, ...k8s("one") }))
    const again = yield* patch(updateBody({ parameters: { v: 1 }, ...k8s("two") }))
    statuses.push(first.status, again.status)
    return { statuses, sameOperation: first.body.operation === again.body.operation }
  })

describe("OfferingWork.identical: an offering says what identical means", () => {
  it.scoped("the default: parameters and app compared, context not for binds, context compared for updates", () =>
    Effect.gen(function*() {
      const { sameOperation, statuses } = yield* answers(false)
      expect(statuses).toEqual([201, 409, 409, 201, 200, 201, 202, 422])
      expect(sameOperation).toBe(false)
    }))

  it.scoped("an offering's own rule: a label ignored, a bind's context compared, an update's context ignored", () =>
    Effect.gen(function*() {
      const { sameOperation, statuses } = yield* answers(true)
      expect(statuses).toEqual([201, 200, 409, 201, 409, 201, 202, 202])
      expect(sameOperation).toBe(true)
    }))
})
