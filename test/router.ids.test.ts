/**
 * service_id / plan_id checked against the catalog wherever they appear (PRV-3, decision 4, DEP-1, UNB-1,
 * GI-2, LO-2): in bodies, as required query values and as optional query hints.
 */
import { Option } from "effect"
import { afterAll, describe, expect, it } from "vitest"
import { clientFor, isJsonObject } from "./support/http.js"
import type { Reply } from "./support/http.js"
import { BINDING, INSTANCE, recording } from "./support/router.js"
import {
  bindBody,
  OFFERING,
  OTHER_OFFERING,
  PLAN_FIXED,
  PLAN_MI,
  PLAN_OTHER,
  PLAN_PLAIN,
  provisionBody
} from "./support/scripted.js"

const some = (option: any): any => Option.getOrThrow(option)

const expect400 = (reply: Reply, pattern?: RegExp) => {
  expect(reply.status).toBe(400)
  expect(isJsonObject(reply)).toBe(true)
  expect(typeof reply.body.description).toBe("string")
  if (pattern !== undefined) expect(reply.body.description).toMatch(pattern)
}

const badBodyIds: ReadonlyArray<{
  readonly label: string
  readonly ids: { service_id?: unknown; plan_id?: unknown }
  readonly pattern: RegExp
}> = [
  { label: "unknown service_id", ids: { service_id: "nope" }, pattern: /service_id "nope"/ },
  { label: "unknown plan_id", ids: { plan_id: "nope" }, pattern: /plan_id "nope"/ },
  { label: "plan of another offering", ids: { plan_id: PLAN_OTHER }, pattern: /does not belong/ },
  {
    label: "offering with a plan of the main offering",
    ids: { service_id: OTHER_OFFERING, plan_id: PLAN_MI },
    pattern: /does not belong/
  },
  { label: "empty service_id", ids: { service_id: "" }, pattern: /service_id/ },
  { label: "empty plan_id", ids: { plan_id: "" }, pattern: /plan_id/ }
]

describe("PRV-3 (decision 4) ids in request bodies", () => {
  const broker = recording()
  const client = clientFor(broker.layer)
  afterAll(() => client.dispose())

  const bodies = [
    { id: "E2", method: "PUT", path: INSTANCE, make: provisionBody },
    {
      id: "E4",
      method: "PATCH",
      path: INSTANCE,
      make: (o: Record<string, unknown>) => ({ service_id: OFFERING, ...o })
    },
    { id: "E7", method: "PUT", path: BINDING, make: bindBody }
  ] as const
  const cases = bodies.flatMap((endpoint) => badBodyIds.map((c) => ({ endpoint, ...c })))

  it.each(cases)("PRV-3 $endpoint.id $endpoint.method: $label -> 400", async ({ endpoint, ids, pattern }) => {
    const before = broker.recorded.length
    const reply = await client.call(endpoint.method, endpoint.path, { body: endpoint.make(ids) })
    expect400(reply, pattern)
    expect(broker.recorded.length).toBe(before)
  })

  it("PRV-3 the resolved offering and plan reach the provision handler", async () => {
    const reply = await client.call("PUT", INSTANCE, { body: provisionBody({ plan_id: PLAN_PLAIN }) })
    expect(reply.status).toBe(201)
    const request = broker.last("provision")
    expect(request.offering.id).toBe(OFFERING)
    expect(request.plan.id).toBe(PLAN_PLAIN)
    expect(request.effective.planUpdateable).toBe(true)
  })

  it("UPD PATCH without plan_id is fine: the handler sees plan None (plan_id must not be required)", async () => {
    const reply = await client.call("PATCH", INSTANCE, { body: { service_id: OFFERING } })
    expect(reply.status).toBe(200)
    const request = broker.last("update")
    expect(Option.isNone(request.plan)).toBe(true)
    expect(request.offering.id).toBe(OFFERING)
  })

  it("UPD PATCH with plan_id resolves it and resolves previous_values.plan_id", async () => {
    const reply = await client.call("PATCH", INSTANCE, {
      body: { service_id: OFFERING, plan_id: PLAN_PLAIN, previous_values: { plan_id: PLAN_MI } }
    })
    expect(reply.status).toBe(200)
    const request = broker.last("update")
    expect(some(request.plan).plan.id).toBe(PLAN_PLAIN)
    expect(some(request.previousPlan).plan.id).toBe(PLAN_MI)
  })
})

describe("DEP-1 / UNB-1 (decision 4) required query ids on DELETE", () => {
  const broker = recording()
  const client = clientFor(broker.layer)
  afterAll(() => client.dispose())

  const deletes = [
    { id: "E5", path: INSTANCE, operation: "deprovision" },
    { id: "E9", path: BINDING, operation: "unbind" }
  ] as const
  const bad: ReadonlyArray<readonly [string, string, RegExp]> = [
    ["no query at all", "", /service_id.*required/],
    ["service_id missing", `?plan_id=${PLAN_MI}`, /service_id.*required/],
    ["plan_id missing", `?service_id=${OFFERING}`, /plan_id.*required/],
    ["empty service_id", `?service_id=&plan_id=${PLAN_MI}`, /service_id.*empty/],
    ["empty plan_id", `?service_id=${OFFERING}&plan_id=`, /plan_id.*empty/],
    ["unknown service_id", `?service_id=nope&plan_id=${PLAN_MI}`, /service_id "nope"/],
    ["unknown plan_id", `?service_id=${OFFERING}&plan_id=nope`, /plan_id "nope"/],
    ["plan of another offering", `?service_id=${OFFERING}&plan_id=${PLAN_OTHER}`, /does not belong/],
    ["repeated service_id", `?service_id=${OFFERING}&service_id=${OFFERING}&plan_id=${PLAN_MI}`, /at most once/],
    ["repeated plan_id", `?service_id=${OFFERING}&plan_id=${PLAN_MI}&plan_id=${PLAN_PLAIN}`, /at most once/]
  ]
  const cases = deletes.flatMap((endpoint) =>
    bad.map(([label, query, pattern]) => ({ endpoint, label, query, pattern }))
  )

  it.each(cases)("DEP-1/UNB-1 $endpoint.id DELETE: $label -> 400", async ({ endpoint, pattern, query }) => {
    const before = broker.recorded.length
    const reply = await client.call("DELETE", `${endpoint.path}${query}`)
    expect400(reply, pattern)
    expect(broker.recorded.length).toBe(before)
  })

  it.each(deletes)("DEP-1/UNB-1 $id DELETE with both ids -> 200 and the handler sees the resolved plan", async (e) => {
    const reply = await client.call("DELETE", `${e.path}?plan_id=${PLAN_FIXED}&service_id=${OFFERING}`)
    expect(reply.status).toBe(200)
    const request = broker.last(e.operation)
    expect(request.offering.id).toBe(OFFERING)
    expect(request.plan.id).toBe(PLAN_FIXED)
  })

  it("DEP-1 ids of the other offering work too", async () => {
    const reply = await client.call("DELETE", `${INSTANCE}?service_id=${OTHER_OFFERING}&plan_id=${PLAN_OTHER}`)
    expect(reply.status).toBe(200)
    expect(broker.last("deprovision").plan.id).toBe(PLAN_OTHER)
  })
})

describe("GI-2 / LO-2 (decision 4) optional query hints on GET endpoints", () => {
  const broker = recording()
  const client = clientFor(broker.layer)
  afterAll(() => client.dispose())

  const gets = [
    { id: "E3", path: INSTANCE, operation: "getInstance" },
    { id: "E6", path: `${INSTANCE}/last_operation`, operation: "lastOperation" },
    { id: "E8", path: BINDING, operation: "getBinding" },
    { id: "E10", path: `${BINDING}/last_operation`, operation: "lastBindingOperation" }
  ] as const

  const bad: ReadonlyArray<readonly [string, string, RegExp]> = [
    ["unknown service_id alone", "?service_id=nope", /service_id "nope"/],
    ["unknown plan_id alone", "?plan_id=nope", /plan_id "nope"/],
    ["unknown service_id with a plan", `?service_id=nope&plan_id=${PLAN_MI}`, /service_id "nope"/],
    ["unknown plan_id with a service", `?service_id=${OFFERING}&plan_id=nope`, /plan_id "nope"/],
    ["plan of another offering", `?service_id=${OFFERING}&plan_id=${PLAN_OTHER}`, /does not belong/],
    ["empty service_id", "?service_id=", /service_id.*empty/],
    ["empty plan_id", `?service_id=${OFFERING}&plan_id=`, /plan_id.*empty/],
    ["repeated service_id", `?service_id=${OFFERING}&service_id=${OFFERING}`, /at most once/],
    ["repeated plan_id", `?plan_id=${PLAN_MI}&plan_id=${PLAN_MI}`, /at most once/]
  ]
  const cases = gets.flatMap((endpoint) => bad.map(([label, query, pattern]) => ({ endpoint, label, query, pattern })))

  it.each(cases)("GI-2 $endpoint.id GET: $label -> 400", async ({ endpoint, pattern, query }) => {
    const before = broker.recorded.length
    const reply = await client.call("GET", `${endpoint.path}${query}`)
    expect400(reply, pattern)
    expect(broker.recorded.length).toBe(before)
  })

  it.each(gets)("GI-2 $id GET without hints -> 200, the handler sees offering and plan None", async (e) => {
    const reply = await client.call("GET", e.path)
    expect(reply.status).toBe(200)
    const request = broker.last(e.operation)
    expect(Option.isNone(request.offering)).toBe(true)
    expect(Option.isNone(request.plan)).toBe(true)
  })

  it.each(gets)("GI-2 $id GET with both hints -> 200, resolved", async (e) => {
    const reply = await client.call("GET", `${e.path}?service_id=${OFFERING}&plan_id=${PLAN_PLAIN}`)
    expect(reply.status).toBe(200)
    const request = broker.last(e.operation)
    expect(some(request.offering).id).toBe(OFFERING)
    expect(some(request.plan).plan.id).toBe(PLAN_PLAIN)
  })

  it.each(gets)("GI-2 $id GET with only service_id -> 200, offering Some and plan None", async (e) => {
    const reply = await client.call("GET", `${e.path}?service_id=${OTHER_OFFERING}`)
    expect(reply.status).toBe(200)
    const request = broker.last(e.operation)
    expect(some(request.offering).id).toBe(OTHER_OFFERING)
    expect(Option.isNone(request.plan)).toBe(true)
  })

  it.each(gets)("GI-2 $id GET with only plan_id -> 200, the offering is derived from the plan", async (e) => {
    const reply = await client.call("GET", `${e.path}?plan_id=${PLAN_OTHER}`)
    expect(reply.status).toBe(200)
    const request = broker.last(e.operation)
    expect(some(request.offering).id).toBe(OTHER_OFFERING)
    expect(some(request.plan).plan.id).toBe(PLAN_OTHER)
  })
})
