import { it } from "@effect/vitest"
import { Duration, Effect, TestClock } from "effect"
import { expect } from "vitest"
import * as Managed from "../examples/managed-broker.js"
import { makeEffectClient } from "./support/effectClient.js"

const S = Managed.SERVICE_ID
const L = Managed.LARGE_PLAN_ID
const body = { service_id: S, plan_id: L, organization_guid: "o", space_guid: "s" }

it.scoped("LO async provision on plan large finishes after the delay on the TestClock", () =>
  Effect.gen(function*() {
    const client = yield* makeEffectClient(Managed.layerWith(Duration.seconds(5)))
    const accepted = yield* client.call("PUT", "/v2/service_instances/x?accepts_incomplete=true", { body })
    expect(accepted.status).toBe(202)
    const polling = yield* client.call("GET", "/v2/service_instances/x/last_operation")
    expect(polling.body).toEqual({ state: "in progress" })
    yield* TestClock.adjust("5 seconds")
    const finished = yield* client.call("GET", "/v2/service_instances/x/last_operation")
    expect(finished.body).toEqual({ state: "succeeded" })
  }))
