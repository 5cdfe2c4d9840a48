/**
 * The conformance checker against a broker written without effect-osb (test/support/toyBroker.ts, plain
 * `node:http`): with no defect every check passes and nothing is left behind; an interrupted run (Ctrl-C) deletes
 * what it created. The defects: checker.violations.test.ts and checker.defects.test.ts; the CLI: checker.cli.test.ts.
 */
import { Effect, Exit, Fiber } from "effect"
import { describe, expect, it } from "vitest"
import { Checker, Report } from "../src/index.js"
import { sleep } from "./support/brokerProcess.js"
import {
  checkerRun,
  type CheckResult,
  failures,
  failuresAndWarnings,
  idsOf,
  leftovers,
  nothingLeft,
  withBroker
} from "./support/checker.js"
import type * as Toy from "./support/toyBroker.js"

describe("the checker against a conformant broker written without effect-osb", () => {
  it("passes every check, exercises all ten endpoints and both plans, and leaves nothing behind", async () => {
    await withBroker({}, async (broker) => {
      const results = await Effect.runPromise(checkerRun(broker.url))
      expect(failures(results), Report.text(failures(results))).toEqual([])
      expect(failuresAndWarnings(results), Report.text(failuresAndWarnings(results))).toEqual([])
      expect(results.filter((r) => r.outcome === "skip")).toEqual([])
      // every endpoint got at least one passing check; both plans went through their lifecycle
      expect(Checker.endpoints.filter((e) => !results.some((r) => r.endpoint === e && r.outcome === "pass")))
        .toEqual([])
      const passed = (id: string, title: string) =>
        results.some((r) => r.outcome === "pass" && idsOf(r).includes(id) && r.title.includes(title))
      expect(passed("CAT-2", "If-None-Match")).toBe(true)
      expect(passed("PRV", "plan sync (toy-db): provision")).toBe(true)
      expect(passed("ASY-1", "plan async (toy-db): async-only without accepts_incomplete answers 422")).toBe(true)
      expect(passed("ASY-4", "plan async (toy-db): a repeat while running")).toBe(true)
      expect(passed("LO-4", "plan async (toy-db): the async provision succeeds")).toBe(true)
      expect(passed("LO-7", "a finished async delete answers 410")).toBe(true)
      expect(passed("UNB", "plan async (toy-db): unbind answers 200")).toBe(true)
      // plan changes both ways on both plans (sync: applied at once; async: 202, polled), the async bind, RequiresApp
      for (const [plan, other] of [["sync", "async"], ["async", "sync"]]) {
        expect(passed("UPD-1", `plan ${plan} (toy-db): a change to plan ${other} answers 200, 202 or 422`)).toBe(true)
        expect(passed("UPD-1", `plan ${plan} (toy-db): a change to plan ${plan} answers 200, 202 or 422`)).toBe(true)
      }
      expect(passed("BND", "plan async (toy-db): bind answers 202")).toBe(true)
      expect(passed("ASY-4", "plan async (toy-db): a bind repeat while running")).toBe(true)
      expect(passed("BND-1", "plan async (toy-db): a bind without app_guid answers 422 RequiresApp")).toBe(true)
      expect(passed("LO-7", "last_operation of an unknown binding answers 404")).toBe(true)
      expect(passed("UPD-2", "plan async (toy-db): an update with another maintenance_info.version answers 422")).toBe(
        true
      )
      expect(leftovers(broker)).toEqual(nothingLeft)
    })
  })
})

describe("an interrupted run (Ctrl-C) deletes what it created", () => {
  let current: Toy.ToyBroker
  /** Runs the checker and interrupts it from inside the broker, at the first exchange `when` selects. */
  const interruptAt = async (when: (x: Toy.Exchange, broker: Toy.ToyBroker) => boolean) => {
    let fiber: Fiber.RuntimeFiber<ReadonlyArray<CheckResult>> | undefined
    let statesAtInterrupt: Array<string> = []
    let interrupted = false
    return withBroker({
      beforeReply: async (x) => {
        if (interrupted || fiber === undefined || !when(x, current)) return
        interrupted = true
        statesAtInterrupt = [...current.instances.values()].map((i) => i.state)
        Effect.runFork(Fiber.interrupt(fiber))
        // the answer leaves only after the checker's request was interrupted
        await sleep(100)
      }
    }, async (broker) => {
      current = broker
      fiber = Effect.runFork(checkerRun(broker.url))
      const exit = await Effect.runPromise(Fiber.await(fiber))
      return { exit, statesAtInterrupt, interrupted, leftovers: leftovers(broker) }
    })
  }

  it("interrupted while an asynchronous provision runs: the instance is deleted", async () => {
    // the checker's update during the provision is answered 422 ConcurrencyError: interrupt right there (the sync
    // plan's change back to itself, earlier, is a PATCH answered 422 AsyncRequired while nothing is provisioning)
    const run = await interruptAt((x, broker) =>
      x.method === "PATCH" && x.status === 422 && [...broker.instances.values()].some((i) => i.state === "provisioning")
    )
    expect(run.interrupted).toBe(true)
    expect(run.statesAtInterrupt).toEqual(["provisioning"])
    expect(Exit.isInterrupted(run.exit)).toBe(true)
    expect(run.leftovers).toEqual(nothingLeft)
  })

  it("interrupted while its provision request is in flight: the instance is deleted", async () => {
    // the broker has created the instance; the 201 is not yet on its way when the checker is interrupted
    const run = await interruptAt((x) =>
      x.method === "PUT" && x.status === 201 && x.path.startsWith("/v2/service_instances/") &&
      !x.path.includes("/service_bindings/")
    )
    expect(run.interrupted).toBe(true)
    expect(run.statesAtInterrupt).toEqual(["ready"])
    expect(Exit.isInterrupted(run.exit)).toBe(true)
    expect(run.leftovers).toEqual(nothingLeft)
  })
})
