/**
 * The conformance checker against the toy broker (test/support/toyBroker.ts) with one MUST violation switched on at
 * a time (requirements §19): each fails its requirement on the expected endpoints, nothing else fails or warns,
 * and whatever the checker created is gone afterwards. The deviations and other cases: checker.defects.test.ts.
 */
import { Effect } from "effect"
import { describe, expect, it } from "vitest"
import { Checker, Report } from "../src/index.js"
import {
  checkerRun,
  endpointOf,
  failures,
  failuresAndWarnings,
  leftovers,
  names,
  nothingLeft,
  violationCases,
  withBroker
} from "./support/checker.js"

describe("the checker reports each MUST violation of the toy broker, one at a time", () => {
  for (const c of violationCases) {
    it(`${c.defect}: fails ${c.requirement} on ${c.endpoints.join(", ")}, nothing else, and cleans up`, async () => {
      await withBroker({ defects: [c.defect] }, async (broker) => {
        const results = await Effect.runPromise(checkerRun(broker.url))
        const failed = failures(results)
        const report = Report.text(failuresAndWarnings(results))
        expect(failed.length, report).toBeGreaterThan(0)
        expect(failed.some((r) => c.shows.test(names(r))), report).toBe(true)
        // every failure is a MUST, and shows the rule behind it
        expect(failed.every((r) => r.level === "MUST"), report).toBe(true)
        expect(report).toContain(`rule:     MUST: ${Checker.checks[failed[0]!.check].rule}`)
        // no unrelated check fails or warns: every failure names the requirement, on the expected endpoints only
        expect(failuresAndWarnings(results).filter((r) => !r.requirements.includes(c.requirement)), report).toEqual([])
        expect([...new Set(failed.map(endpointOf))].sort(), report).toEqual([...c.endpoints].sort())
        expect(leftovers(broker)).toEqual(nothingLeft)
      })
    })
  }
})
