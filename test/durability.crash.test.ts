/**
 * Durability across a crash, on real processes: the compiled quick start on a SQLite file and on PostgreSQL is
 * killed with SIGKILL while asynchronous operations of plan `large` run, then restarted on the same store. Every
 * earlier instance and binding is still there with the same credentials, and the interrupted operations (the
 * quick start marks its `large` steps resumable) are taken over after the restart and finish `succeeded` within
 * the lease TTL + takeover interval + the work's own time. Nothing stays "in progress".
 */
import { mkdtempSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest"
import {
  AI,
  bindBody,
  bindingLastOperationPath,
  bindingPath,
  type BrokerProcess,
  instancePath,
  kill9,
  killAll,
  LARGE_PLAN_ID,
  lastOperationPath,
  provisionBody,
  settle,
  sleep,
  SMALL_PLAN_ID,
  startBroker
} from "./support/brokerProcess.js"
import { sharedQuickstart } from "./support/build.js"
import { freshDatabase } from "./support/pg.js"

const DELAY_MS = 3000
const LEASE_TTL_MS = 1000
const TAKEOVER_INTERVAL_MS = 500
/** Process start-up, polling granularity and a loaded machine (2 shared cores). */
const SLACK_MS = 4000

let built: string | undefined
const script = () => built!

beforeAll(async () => {
  built = await sharedQuickstart()
}, 300_000)

afterEach(killAll)

afterAll(async () => {
  await killAll()
})

const stores: ReadonlyArray<{ readonly name: string; readonly store: () => Promise<string> }> = [
  { name: "SQLite", store: async () => `sqlite:${join(mkdtempSync(join(tmpdir(), "osb-crash-")), "broker.sqlite")}` },
  { name: "PostgreSQL", store: freshDatabase }
]

describe.each(stores)("a SIGKILLed quick start on $name, restarted on the same store", ({ store: makeStore }) => {
  it("keeps every instance and binding with the same credentials and finishes the interrupted operations", async () => {
    const store = await makeStore()
    const start = (name: string) =>
      startBroker({
        name,
        script: script(),
        store,
        delayMs: DELAY_MS,
        leaseTtlMs: LEASE_TTL_MS,
        takeoverIntervalMs: TAKEOVER_INTERVAL_MS
      })
    const first = await start("first")

    // synchronous instances and bindings (plan small), their credentials recorded
    const credentials = new Map<string, unknown>()
    for (const i of [1, 2, 3]) {
      const put = await first.call("PUT", instancePath(`small-${i}`), provisionBody(SMALL_PLAN_ID, { n: i }))
      expect(put.status).toBe(201)
      for (const j of [1, 2]) {
        const bound = await first.call("PUT", bindingPath(`small-${i}`, `bind-${i}-${j}`), bindBody(SMALL_PLAN_ID))
        expect(bound.status).toBe(201)
        expect(bound.body.credentials).toEqual(
          expect.objectContaining({ username: expect.any(String), password: expect.any(String) })
        )
        credentials.set(`small-${i}/bind-${i}-${j}`, bound.body.credentials)
      }
    }
    // a large instance provisioned before the crash (asynchronously, to the end)
    const large0 = await first.call("PUT", instancePath("large-0", AI), provisionBody(LARGE_PLAN_ID))
    expect(large0.status).toBe(202)
    const done0 = await settle(first, lastOperationPath("large-0", large0.body.operation), DELAY_MS + SLACK_MS)
    expect(done0.reply.body).toEqual({ state: "succeeded" })

    // in flight at the crash: an asynchronous provision and an asynchronous bind
    const large1 = await first.call("PUT", instancePath("large-1", AI), provisionBody(LARGE_PLAN_ID, { x: 1 }))
    expect(large1.status).toBe(202)
    const provisionOp: string = large1.body.operation
    const bindLarge = await first.call("PUT", bindingPath("large-0", "bind-large", AI), bindBody(LARGE_PLAN_ID))
    expect(bindLarge.status).toBe(202)
    const bindOp: string = bindLarge.body.operation
    await sleep(DELAY_MS / 4)
    expect((await first.call("GET", lastOperationPath("large-1", provisionOp))).body).toEqual({ state: "in progress" })
    expect((await first.call("GET", bindingLastOperationPath("large-0", "bind-large", bindOp))).body).toEqual({
      state: "in progress"
    })

    await kill9(first)
    const killedAt = Date.now()

    const second = await start("second")
    const readyAt = Date.now()

    // every earlier instance and binding, with the same credentials
    await expectIntact(second, credentials)
    const fetched0 = await second.call("GET", instancePath("large-0"))
    expect(fetched0.status).toBe(200)
    expect(fetched0.body.plan_id).toBe(LARGE_PLAN_ID)

    // the interrupted operations: taken over (resumed), finished, within lease + takeover + the work's time
    const deadline = Math.max(killedAt + LEASE_TTL_MS, readyAt) + TAKEOVER_INTERVAL_MS + DELAY_MS + SLACK_MS
    const provisioned = await settle(second, lastOperationPath("large-1", provisionOp), deadline - Date.now() + 10_000)
    expect(provisioned.reply.status).toBe(200)
    expect(provisioned.reply.body).toEqual({ state: "succeeded" })
    expect(provisioned.at).toBeLessThanOrEqual(deadline)
    const bound = await settle(
      second,
      bindingLastOperationPath("large-0", "bind-large", bindOp),
      deadline - Date.now() + 10_000
    )
    expect(bound.reply.status).toBe(200)
    expect(bound.reply.body).toEqual({ state: "succeeded" })
    expect(bound.at).toBeLessThanOrEqual(deadline)
    expect(second.output()).toContain(`took over operation ${provisionOp}: resumed`)
    expect(second.output()).toContain(`took over operation ${bindOp}: resumed`)

    const fetched1 = await second.call("GET", instancePath("large-1"))
    expect(fetched1.status).toBe(200)
    expect(fetched1.body).toEqual(expect.objectContaining({ plan_id: LARGE_PLAN_ID, parameters: { x: 1 } }))
    const fetchedBinding = await second.call("GET", bindingPath("large-0", "bind-large"))
    expect(fetchedBinding.status).toBe(200)
    expect(fetchedBinding.body.credentials).toEqual(
      expect.objectContaining({ username: expect.any(String), password: expect.any(String) })
    )
    credentials.set("large-0/bind-large", fetchedBinding.body.credentials)

    // and once more: a second crash (nothing running) and restart loses nothing, the resumed bind included
    await kill9(second)
    const third = await start("third")
    await expectIntact(third, credentials)
    expect((await third.call("GET", lastOperationPath("large-1", provisionOp))).body).toEqual({ state: "succeeded" })
    expect(third.output()).not.toContain("took over operation")
  }, 90_000)
})

const expectIntact = async (broker: BrokerProcess, credentials: ReadonlyMap<string, unknown>) => {
  for (const [key, expected] of credentials) {
    const [instanceId, bindingId] = key.split("/") as [string, string]
    const instance = await broker.call("GET", instancePath(instanceId))
    expect(instance.status, `GET ${instanceId} on ${broker.name}`).toBe(200)
    const binding = await broker.call("GET", bindingPath(instanceId, bindingId))
    expect(binding.status, `GET ${key} on ${broker.name}`).toBe(200)
    expect(binding.body.credentials, `credentials of ${key} on ${broker.name}`).toEqual(expected)
  }
  for (const i of [1, 2, 3]) {
    const instance = await broker.call("GET", instancePath(`small-${i}`))
    expect(instance.body).toEqual(expect.objectContaining({ plan_id: SMALL_PLAN_ID, parameters: { n: i } }))
  }
}
