/**
 * The conformance checker against the toy broker (test/support/toyBroker.ts) with one defect at a time: every
 * defect it can make is covered (the MUST violations in checker.violations.test.ts); each SHOULD deviation warns
 * under its requirement (a failure with strict) and nothing fails; effect-osb's suggestion, a catalog without
 * plan_updateable, RequiresApp declarations, and a failure in the middle of a lifecycle that still cleans up.
 */
import { Effect } from "effect"
import { describe, expect, it } from "vitest"
import { Report } from "../src/index.js"
import {
  checkerRun,
  deviationCases,
  endpointOf,
  failures,
  failuresAndWarnings,
  leftovers,
  names,
  nothingLeft,
  violationCases,
  withBroker
} from "./support/checker.js"
import * as Toy from "./support/toyBroker.js"

describe("the checker reports each defect of the toy broker, one at a time", () => {
  it("covers every violation and deviation the toy broker can make", () => {
    expect(violationCases.map((c) => c.defect).sort()).toEqual([...Toy.violationNames].sort())
    expect(deviationCases.map((c) => c.defect).sort()).toEqual([...Toy.deviationNames].sort())
    expect([...Toy.suggestionNames]).toEqual(["plan-id-is-offering-id"])
  })

  it("plan-id-is-offering-id: only effect-osb's suggestion, so one LIB warning on the catalog, nothing fails", async () => {
    await withBroker({ defects: ["plan-id-is-offering-id"] }, async (broker) => {
      const results = await Effect.runPromise(checkerRun(broker.url))
      const report = Report.text(failuresAndWarnings(results))
      expect(failures(results), report).toEqual([])
      const warned = results.filter((r) => r.outcome === "warn")
      expect(warned.map((r) => [r.check, r.level, endpointOf(r), r.title]), report).toEqual([[
        "catalog.suggestions",
        "LIB",
        "E1",
        `catalog: services[0].plans[0].id: plan id "${Toy.SERVICE_ID}" is also an offering id (a suggestion of ` +
        "effect-osb, VAL-2)"
      ]])
      // the catalog is still valid, and both plans went through their lifecycle
      expect(results.some((r) => r.check === "catalog.valid" && r.outcome === "pass")).toBe(true)
      expect(results.some((r) => r.outcome === "pass" && r.title.startsWith("plan sync (toy-db): provision"))).toBe(
        true
      )
      expect(leftovers(broker)).toEqual(nothingLeft)
      const strict = await Effect.runPromise(checkerRun(broker.url, { strict: true }))
      expect(failures(strict).map((r) => r.check)).toEqual(["catalog.suggestions"])
    })
  })

  it("a catalog without plan_updateable: no plan change is sent (Platforms MUST NOT), a skip with the reason", async () => {
    const patches: Array<string> = []
    await withBroker({
      planUpdateable: false,
      beforeReply: (x) => {
        if (x.method === "PATCH") patches.push(`${x.status} ${x.path}`)
      }
    }, async (broker) => {
      const results = await Effect.runPromise(checkerRun(broker.url))
      const report = Report.text(failuresAndWarnings(results))
      expect(failuresAndWarnings(results), report).toEqual([])
      const planChanges = results.filter((r) => r.check === "update.plan-change")
      expect(planChanges.map((r) => [r.outcome, r.title, r.note])).toEqual(["sync", "async"].map((plan) => [
        "skip",
        `plan ${plan} (toy-db): a change to another plan of the offering answers 200, 202 or 422`,
        "the plan is not plan_updateable: Platforms MUST NOT request a plan change, so the broker's answer is undefined"
      ]))
      // parameter-only updates are still sent: platforms may update parameters whatever plan_updateable says
      expect(results.filter((r) => r.check === "update.parameters" && r.outcome === "pass")).toHaveLength(2)
      expect(broker.requests()).toBeGreaterThan(0)
      expect(leftovers(broker)).toEqual(nothingLeft)
    })
    // the plan-change PATCHes of a normal run are missing: 6 (sync: to async 200, back 422 AsyncRequired + 202;
    // async: to sync 422 AsyncRequired + 202, back 200)
    const withChanges: Array<string> = []
    await withBroker({
      beforeReply: (x) => {
        if (x.method === "PATCH") withChanges.push(`${x.status} ${x.path}`)
      }
    }, async (broker) => {
      await Effect.runPromise(checkerRun(broker.url))
    })
    expect(withChanges.length - patches.length).toBe(6)
  })

  it("RequiresApp: skipped with the reason when no plan is declared; a wrong declaration fails and cleans up", async () => {
    await withBroker({}, async (broker) => {
      const undeclared = await Effect.runPromise(checkerRun(broker.url, { requiresApp: [] }))
      expect(failuresAndWarnings(undeclared)).toEqual([])
      expect(undeclared.filter((r) => r.outcome === "skip").map((r) => [r.check, r.note])).toEqual([[
        "bind.requires-app",
        "no plan declared with --requires-app: the catalog cannot say which plans require an app"
      ]])
      // the sync plan binds without an app: declared to require one, its 201 fails the check
      const wrong = await Effect.runPromise(checkerRun(broker.url, { requiresApp: ["sync"] }))
      const report = Report.text(failuresAndWarnings(wrong))
      expect(failures(wrong).map((r) => [r.check, r.title, r.got?.slice(0, 4)]), report).toEqual([[
        "bind.requires-app",
        "plan sync (toy-db): a bind without app_guid answers 422 RequiresApp",
        "201 "
      ]])
      expect(leftovers(broker)).toEqual(nothingLeft)
    })
  })

  for (const c of deviationCases) {
    it(`${c.defect}: warns ${c.requirement} on ${c.endpoints.join(", ")}, fails nothing, and cleans up`, async () => {
      await withBroker({ defects: [c.defect] }, async (broker) => {
        const results = await Effect.runPromise(checkerRun(broker.url))
        const warned = results.filter((r) => r.outcome === "warn")
        const report = Report.text(failuresAndWarnings(results))
        expect(failures(results), report).toEqual([])
        expect(warned.some((r) => c.shows.test(names(r))), report).toBe(true)
        expect(warned.every((r) => r.level === "SHOULD" && r.requirements.includes(c.requirement)), report).toBe(true)
        expect([...new Set(warned.map(endpointOf))].sort(), report).toEqual([...c.endpoints].sort())
        expect(leftovers(broker)).toEqual(nothingLeft)
        // with strict, the same deviations are failures
        const strict = await Effect.runPromise(checkerRun(broker.url, { strict: true }))
        expect(failures(strict).map((r) => r.check).sort()).toEqual(warned.map((r) => r.check).sort())
      })
    })
  }

  it("a failed check in the middle of a lifecycle still deletes what it created (LO-4 leaves the instance)", async () => {
    // with an invalid last_operation state the checker gives up on the async plan right after provisioning it
    const exchanges: Array<string> = []
    await withBroker({
      defects: ["invalid-last-operation-state"],
      beforeReply: (x) => {
        exchanges.push(`${x.method} ${x.status} ${x.path}?${x.query}`)
      }
    }, async (broker) => {
      const results = await Effect.runPromise(checkerRun(broker.url))
      const gaveUp = results.find((r) => r.outcome === "fail" && r.title.includes("the provision succeeds"))
      expect(gaveUp, Report.text(failures(results))).toBeDefined()
      expect(results.some((r) => r.title.startsWith("plan async (toy-db): bind"))).toBe(false)
      expect(results.some((r) => r.title.startsWith("plan async (toy-db): deprovision"))).toBe(false)
      // the async instance was created, and only the clean-up deleted it
      const created = new Set(
        exchanges.filter((e) => e.startsWith("PUT 202 /v2/service_instances/")).map((e) => e.split(/[ ?]/)[2])
      )
      expect(created.size, exchanges.join("\n")).toBe(1)
      const [instancePath] = created
      expect(exchanges.filter((e) => e.startsWith(`DELETE 202 ${instancePath}?`))).toHaveLength(1)
      expect(leftovers(broker)).toEqual(nothingLeft)
    })
  })
})
