/**
 * The conformance checker against a broker written without effect-osb (test/support/toyBroker.ts, plain
 * `node:http`): with no defect every check passes; each common broker mistake (requirements §19), switched on
 * alone, is reported under its requirement and nothing else fails or warns; whatever the checker created is gone
 * afterwards, also when checks fail or the run is interrupted. Then the `effect-osb` CLI end to end: `check` (text
 * and `--json`) against the toy broker and against the quick start process (`npm start`), and `catalog`.
 */
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import { Effect, Exit, Fiber } from "effect"
import { type ChildProcess, execFileSync, spawn } from "node:child_process"
import { randomBytes } from "node:crypto"
import { rmSync } from "node:fs"
import { createServer } from "node:http"
import { join } from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { Catalog, Checker, OsbClient, Report } from "../src/index.js"
import { freePort, sleep } from "./support/brokerProcess.js"
import * as Toy from "./support/toyBroker.js"

type CheckResult = Checker.CheckResult

const checkerRun = (url: string, options: Checker.CheckOptions = {}) =>
  Effect.flatMap(
    OsbClient.make({ url, username: Toy.USERNAME, password: Toy.PASSWORD }),
    // the toy's async plan requires an app to bind (the catalog cannot say it)
    (client) => Checker.run(client, { operationTimeout: "20 seconds", requiresApp: ["async"], ...options })
  ).pipe(Effect.provide(NodeHttpClient.layerUndici))

/** The requirement ids of a result. */
const idsOf = (r: CheckResult): ReadonlyArray<string> => r.requirements
/** `E5 DELETE /v2/...` -> `E5`. */
const endpointOf = (r: CheckResult) => r.endpoint.split(" ")[0]
const failures = (results: ReadonlyArray<CheckResult>) => results.filter((r) => r.outcome === "fail")
const failuresAndWarnings = (results: ReadonlyArray<CheckResult>) =>
  results.filter((r) => r.outcome === "fail" || r.outcome === "warn")

/** What the checker left behind on the toy broker (empty when it cleaned up). */
const leftovers = (broker: Toy.ToyBroker) => ({
  instances: [...broker.instances].map(([id, i]) => `${id} (${i.state})`),
  bindings: [...broker.bindings].map(([id, b]) => `${id} on ${b.instanceId}`)
})
const nothingLeft = { instances: [], bindings: [] }

const withBroker = async <A>(options: Toy.ToyBrokerOptions, f: (broker: Toy.ToyBroker) => Promise<A>) => {
  const broker = await Toy.start(options)
  try {
    return await f(broker)
  } finally {
    await broker.close()
  }
}

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

interface DefectCase {
  readonly defect: Toy.Defect
  /** The requirement every failure (or, for a deviation, every warning) names. */
  readonly requirement: Checker.Requirement
  /** The endpoints that get failures (or warnings) (exactly these). */
  readonly endpoints: ReadonlyArray<string>
  /** What a failure shows (its title and what came back). */
  readonly shows: RegExp
}

/** MUST violations: each fails its requirement, nothing else fails or warns. */
const violationCases: ReadonlyArray<DefectCase> = [
  {
    defect: "deprovision-missing-404",
    requirement: "OM-1",
    endpoints: ["E5"],
    shows: /answers 410 \| 404 /
  },
  { defect: "identical-repeat-409", requirement: "PRV-4", endpoints: ["E2"], shows: /identical repeat .*\| 409 / },
  {
    defect: "202-without-accepts-incomplete",
    requirement: "ASY-1",
    endpoints: ["E2"],
    shows: /plan async .*no 202 without accepts_incomplete=true \| 202 /
  },
  {
    defect: "malformed-json-500",
    requirement: "CT-2",
    endpoints: ["E2", "E4", "E7"],
    shows: /malformed JSON answers 400 \| 500 /
  },
  {
    defect: "empty-unbind-body",
    requirement: "CT-3",
    endpoints: ["E9"],
    shows: /the unbind answer is a JSON object \| 200 \(empty body\)/
  },
  {
    defect: "endpoint-without-auth",
    requirement: "AUTH-2",
    endpoints: ["E8"],
    shows: /without credentials answers 401 \| 404 /
  },
  {
    defect: "duplicate-plan-ids",
    requirement: "VAL-2",
    endpoints: ["E1"],
    shows: new RegExp(
      `plans\\[1\\]\\.id: plan id "${Toy.SYNC_PLAN_ID}" is already used at services\\[0\\]\\.plans\\[0\\]`
    )
  },
  {
    defect: "invalid-last-operation-state",
    requirement: "LO-4",
    endpoints: ["E6"],
    shows: /last_operation has a valid state \| 200 \{"state":"done"\}/
  },
  {
    defect: "async-required-without-code-update",
    requirement: "ASY-1",
    endpoints: ["E4"],
    shows: /plan async .*an update without accepts_incomplete answers 422 AsyncRequired.* \| 422 \{"description"/
  },
  {
    defect: "async-required-without-code-deprovision",
    requirement: "ASY-1",
    endpoints: ["E5"],
    shows: /plan async .*a deprovision without accepts_incomplete answers 422 AsyncRequired.* \| 422 \{"description"/
  },
  {
    defect: "concurrency-without-code-update",
    requirement: "ERR-2",
    endpoints: ["E4"],
    shows: /plan async .*an update during the provision is refused with 422 ConcurrencyError.* \| 422 \{"description"/
  },
  {
    defect: "concurrency-without-code-deprovision",
    requirement: "ERR-2",
    endpoints: ["E5"],
    shows: /plan async .*a deprovision during the update answers 422 ConcurrencyError.* \| 422 \{"description"/
  },
  {
    defect: "concurrency-without-code-fetch",
    requirement: "ERR-2",
    endpoints: ["E3"],
    shows: /plan async .*a fetch during the update answers 200 or 422 ConcurrencyError \| 422 \{"description"/
  },
  {
    defect: "malformed-json-update-422",
    requirement: "CT-2",
    endpoints: ["E4"],
    shows: /malformed JSON to an update answers 400 \| 422 /
  },
  {
    defect: "malformed-json-bind-422",
    requirement: "CT-2",
    endpoints: ["E7"],
    shows: /malformed JSON to a bind answers 400 \| 422 /
  },
  {
    defect: "empty-description-last-operation-410",
    requirement: "LO-4",
    endpoints: ["E6"],
    shows: /description in the answer is a non-empty string \| 410 \{"description":""\}/
  },
  {
    defect: "plan-change-400",
    requirement: "UPD-1",
    endpoints: ["E4"],
    shows: /plan sync .*a change to plan async answers 200, 202 or 422 \| 400 /
  },
  {
    defect: "requires-app-without-code",
    requirement: "BND-1",
    endpoints: ["E7"],
    shows: /plan async .*a bind without app_guid answers 422 RequiresApp \| 422 \{"description"/
  },
  {
    defect: "maintenance-conflict-update-ignored",
    requirement: "UPD-2",
    endpoints: ["E4"],
    shows: /plan async .*an update with another maintenance_info.version answers 422 MaintenanceInfoConflict \| 202 /
  }
]

/** SHOULD deviations: each warns under its requirement, nothing fails, nothing else warns. */
const deviationCases: ReadonlyArray<DefectCase> = [
  {
    defect: "no-request-identity-echo",
    requirement: "RID-2",
    // the unauthenticated probes reach every endpoint, so every endpoint reports the missing echo once
    endpoints: ["E1", "E2", "E3", "E4", "E5", "E6", "E7", "E8", "E9", "E10"],
    shows: /is echoed on the response \| \d{3} with no such header/
  },
  {
    defect: "identical-repeat-201",
    requirement: "PRV-4",
    endpoints: ["E2"],
    shows: /plan sync .*an identical repeat answers 200 \| 201 /
  },
  {
    defect: "no-parameters-validation",
    requirement: "SCH-5",
    endpoints: ["E2"],
    shows: /plan sync .*parameters that break the plan's create schema answer 400 .*\| 201 /
  },
  {
    defect: "plan-change-422-without-description",
    requirement: "UPD",
    endpoints: ["E4"],
    shows: /plan sync .*a refused change to plan async says why \| 422 \{\}/
  }
]

const names = (r: CheckResult) => `${r.title} | ${r.got ?? ""}`

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

// --- the CLI, end to end ----------------------------------------------------------------------------------------

interface CliRun {
  readonly code: number | null
  readonly stdout: string
  readonly stderr: string
}

describe("the effect-osb CLI", () => {
  const root = new URL("..", import.meta.url).pathname
  // a private build of src/ and the quick start (tsconfig.build.json's options, test/support/tsconfig.cli.json):
  // parallel test files never read a half-written dist/, and unrelated examples do not break it
  const outDir = join(root, "dist", `.checker-${randomBytes(4).toString("hex")}`)
  const bin = join(outDir, "src", "bin", "effect-osb.js")
  const auth = ["--username", Toy.USERNAME, "--password", Toy.PASSWORD]
  /** What a run against the toy broker needs to leave nothing skipped: credentials, and its plan requiring an app. */
  const toy = [...auth, "--requires-app", "async"]
  const brokers: Array<Toy.ToyBroker> = []
  let clean: Toy.ToyBroker
  let quickstart: ChildProcess | undefined

  const cli = (args: ReadonlyArray<string>, env: Record<string, string> = {}): Promise<CliRun> =>
    new Promise((resolve, reject) => {
      const child = spawn(process.execPath, [bin, ...args], {
        cwd: root,
        env: { ...process.env, ...env },
        stdio: ["ignore", "pipe", "pipe"]
      })
      let stdout = ""
      let stderr = ""
      child.stdout.on("data", (d) => (stdout += d))
      child.stderr.on("data", (d) => (stderr += d))
      child.once("error", reject)
      child.once("close", (code) => resolve({ code, stdout, stderr }))
    })
  const shown = (run: CliRun) => `exit ${run.code}\n--- stdout\n${run.stdout}\n--- stderr\n${run.stderr}`
  const summary = /^(\d+) passed, (\d+) failed, (\d+) skipped( \(\d+ warnings\))?$/m
  const defective = async (defect: Toy.Defect) => {
    const broker = await Toy.start({ defects: [defect] })
    brokers.push(broker)
    return broker
  }

  beforeAll(async () => {
    execFileSync(
      "npx",
      ["tsc", "-p", "test/support/tsconfig.cli.json", "--outDir", outDir],
      { cwd: root, stdio: "inherit" }
    )
    clean = await Toy.start()
    brokers.push(clean)
  }, 180_000)

  afterAll(async () => {
    quickstart?.kill("SIGKILL")
    await Promise.all(brokers.map((b) => b.close()))
    rmSync(outDir, { recursive: true, force: true })
  })

  it("check against the conformant toy broker: exit 0, `N passed, 0 failed, N skipped`", async () => {
    const run = await cli(["check", clean.url, ...toy])
    expect(run.code, shown(run)).toBe(0)
    const line = summary.exec(run.stdout)
    expect(line, shown(run)).not.toBeNull()
    expect(line?.[2]).toBe("0")
    expect(Number(line?.[1])).toBeGreaterThan(0)
    expect(line?.[4], "no warnings").toBeUndefined()
    expect(run.stdout).toContain("E1 GET /v2/catalog")
    expect(run.stdout).toContain("  PASS  [CAT-1] GET /v2/catalog answers 200")
    expect(run.stdout).not.toContain("FAIL")
    expect(leftovers(clean)).toEqual(nothingLeft)
  }, 60_000)

  it("check against a defective broker: exit 1, the failing requirement with sent/expected/got", async () => {
    const broker = await defective("deprovision-missing-404")
    const run = await cli(["check", broker.url, ...toy])
    expect(run.code, shown(run)).toBe(1)
    expect(run.stdout).toContain("E5 DELETE /v2/service_instances/:instance_id")
    expect(run.stdout).toContain("  FAIL  [OM-1, DEP] DELETE of an unknown instance answers 410")
    expect(run.stdout).toMatch(/ {8}sent: {5}DELETE \/v2\/service_instances\/effect-osb-check-[^?]+\?service_id=/)
    expect(run.stdout).toContain("        expected: 410")
    expect(run.stdout).toContain("        got:      404 {\"description\":\"no such instance\"}")
    expect(run.stdout).toContain("        rule:     MUST: 410 Gone MUST be returned if the instance does not exist.")
    const line = summary.exec(run.stdout)
    expect(line, shown(run)).not.toBeNull()
    expect(Number(line?.[2])).toBeGreaterThan(0)
    expect(leftovers(broker)).toEqual(nothingLeft)
  }, 60_000)

  it("check --json prints a parseable report (exit 0 clean, exit 0 with warnings for a SHOULD deviation)", async () => {
    const ok = await cli(["check", clean.url, ...toy, "--json"])
    expect(ok.code, shown(ok)).toBe(0)
    const report = JSON.parse(ok.stdout)
    expect(report.schema).toBe("effect-osb-check/1")
    expect(report.broker).toBe(clean.url)
    expect(report.apiVersion).toBe("2.17")
    expect(report.strict).toBe(false)
    expect(report.skips).toEqual([])
    expect(report.summary).toEqual({
      passed: report.results.length,
      failed: 0,
      warned: 0,
      skipped: 0
    })
    for (const r of report.results) {
      expect(Object.keys(r)).toEqual(
        expect.arrayContaining(["check", "id", "requirements", "level", "endpoint", "title", "outcome"])
      )
      expect(Checker.checkIds).toContain(r.check)
    }

    const broker = await defective("no-request-identity-echo")
    const deviating = await cli(["check", broker.url, ...toy, "--json"])
    expect(deviating.code, shown(deviating)).toBe(0)
    const warned = JSON.parse(deviating.stdout)
    const warnings = warned.results.filter((r: CheckResult) => r.outcome === "warn")
    expect(warned.summary.failed).toBe(0)
    expect(warned.summary.warned).toBe(warnings.length)
    expect(warnings.length).toBe(10)
    expect(warnings.every((r: CheckResult) => r.check === "identity.echo" && r.level === "SHOULD")).toBe(true)
    expect(warnings[0]).toMatchObject({
      expected: "the same header and value on the response",
      rule: expect.stringMatching(/^SHOULD: The broker SHOULD return the X-Broker-API-Request-Identity/)
    })
  }, 60_000)

  it("check --strict: a SHOULD deviation (identical repeat 201) warns with exit 0, fails with --strict", async () => {
    const broker = await defective("identical-repeat-201")
    const lenient = await cli(["check", broker.url, ...toy])
    expect(lenient.code, shown(lenient)).toBe(0)
    expect(lenient.stdout).toContain("  WARN  [PRV-4] plan sync (toy-db): an identical repeat answers 200")
    expect(lenient.stdout).toContain(
      "        rule:     SHOULD: An identical repeat of a finished synchronous provision"
    )
    expect(lenient.stdout).toMatch(/^\d+ passed, 0 failed, 0 skipped \(1 warnings\)$/m)
    const strict = await cli(["check", broker.url, ...toy, "--strict"])
    expect(strict.code, shown(strict)).toBe(1)
    expect(strict.stdout).toContain("  FAIL  [PRV-4] plan sync (toy-db): an identical repeat answers 200")
    expect(strict.stdout).toMatch(/^\d+ passed, 1 failed, 0 skipped$/m)
  }, 60_000)

  it("check --api-version 2.13 skips the rules of newer versions, with the reason", async () => {
    const run = await cli(["check", clean.url, ...toy, "--api-version", "2.13", "--json"])
    expect(run.code, shown(run)).toBe(0)
    const report = JSON.parse(run.stdout)
    expect(report.apiVersion).toBe("2.13")
    const skipped = report.results.filter((r: CheckResult) => r.outcome === "skip")
    const gated = Checker.checkIds.filter((id) => !Checker.appliesTo(id, "2.13"))
    // every check of a newer rule that the run reached is skipped once, naming the version it came with
    expect(skipped.map((r: CheckResult) => r.check).sort()).toEqual(
      gated.filter((id) => skipped.some((r: CheckResult) => r.check === id)).sort()
    )
    expect(skipped.map((r: CheckResult) => r.check)).toEqual(
      expect.arrayContaining(["identity.echo", "instance.fetch", "lastOperation.unknown", "catalog.etag"])
    )
    for (const r of skipped) expect(r.note).toMatch(/^the rule came with OSB API 2\.1[4-7]; checking 2\.13/)
    expect(report.results.some((r: CheckResult) => r.outcome === "pass" && r.check === "identity.echo")).toBe(false)
    expect(report.skips.reduce((n: number, s: { count: number }) => n + s.count, 0)).toBe(skipped.length)
  }, 60_000)

  it("check --async-plan / --sync-plan declare modes; a wrong declaration fails", async () => {
    const right = await cli(["check", clean.url, ...auth, "--async-plan", "async", "--sync-plan", "sync"])
    expect(right.code, shown(right)).toBe(0)
    expect(right.stdout).toContain("PASS  [ASY-1, ASY-3] plan async (toy-db): provisions asynchronously as configured")
    expect(right.stdout).toContain("PASS  [ASY-1, ASY-3] plan sync (toy-db): provisions synchronously as configured")
    const wrong = await cli(["check", clean.url, ...auth, "--plan", "sync", "--async-plan", "sync"])
    expect(wrong.code, shown(wrong)).toBe(1)
    expect(wrong.stdout).toContain("FAIL  [ASY-1, ASY-3] plan sync (toy-db): provisions asynchronously as configured")
  }, 60_000)

  it("usage errors: one line and the usage on stderr, exit 2, no JSON dump", async () => {
    for (
      const [args, message] of [
        [["check"], "effect-osb: check: missing the broker's URL"],
        [["check", "127.0.0.1:8080"], "is not an http:// or https:// URL"],
        [["check", clean.url, "--api-version", "3.0"], "--api-version 3.0: use one of 2.13, 2.14, 2.15, 2.16, 2.17"],
        [["check", clean.url, "--bogus"], "Unknown option '--bogus'"],
        [["frobnicate"], "unknown command \"frobnicate\""]
      ] as const
    ) {
      const run = await cli(args)
      expect(run.code, shown(run)).toBe(2)
      expect(run.stderr, shown(run)).toContain(message)
      expect(run.stderr).toContain("effect-osb check <url> [options]")
      expect(run.stderr).not.toContain("{")
      expect(run.stdout).toBe("")
    }
  }, 60_000)

  it("--help: usage that reads effect-osb check, every option described with its default, plain text", async () => {
    const run = await cli(["--help"])
    expect(run.code, shown(run)).toBe(0)
    expect(run.stdout).toContain("effect-osb check <url> [options]")
    expect(run.stdout).toMatch(/-u, --username <name> +Basic auth user name/)
    expect(run.stdout).toMatch(/-p, --password <password> +Basic auth password/)
    expect(run.stdout).toMatch(
      /--api-version <version> +X-Broker-API-Version to send: 2\.13, 2\.14, 2\.15, 2\.16 or 2\.17/
    )
    expect(run.stdout).toContain("(default 2.17)")
    expect(run.stdout).toMatch(/--plan <name\|id> +exercise this plan \(repeatable; default: every plan/)
    expect(run.stdout).toContain("--timeout <seconds>")
    expect(run.stdout).toContain("(default 300)")
    expect(run.stdout).not.toContain("\x1b")
    expect((await cli(["check", "--help"])).stdout).toBe(run.stdout)
  }, 60_000)

  it("transport errors name their cause and exit 2; a 401 gives a hint", async () => {
    const port = await freePort()
    const refused = await cli(["check", `http://127.0.0.1:${port}`, ...auth])
    expect(refused.code, shown(refused)).toBe(2)
    expect(refused.stderr).toContain(`effect-osb: cannot reach http://127.0.0.1:${port}: connect ECONNREFUSED`)
    expect(refused.stderr).toContain("is the broker running")
    const unknownHost = await cli(["catalog", "http://effect-osb-no-such-host.invalid:8080"])
    expect(unknownHost.code, shown(unknownHost)).toBe(2)
    expect(unknownHost.stderr).toMatch(/ENOTFOUND effect-osb-no-such-host\.invalid \(the host name does not resolve/)
    const noCredentials = await cli(["check", clean.url])
    expect(noCredentials.code, shown(noCredentials)).toBe(2)
    expect(noCredentials.stderr).toContain("answered 401 to GET /v2/catalog: it requires credentials; give them with")
    const wrong = await cli(["check", clean.url, "-u", Toy.USERNAME, "-p", "wrong"])
    expect(wrong.code, shown(wrong)).toBe(2)
    expect(wrong.stderr).toContain(`it refused user "${Toy.USERNAME}"; check -u/--username and -p/--password`)
    expect(wrong.stdout).toBe("")
  }, 60_000)

  it("a broker answering multi-line HTML: every body is cut to one line; NO_COLOR output is plain", async () => {
    const html = createServer((_req, res) => {
      res.writeHead(500, { "content-type": "text/html" }).end(
        "<html>\n  <body>\n    <h1>Oops</h1>\n  </body>\n</html>\n"
      )
    })
    await new Promise<void>((resolve) => html.listen(0, "127.0.0.1", resolve))
    try {
      const address = html.address()
      const url = `http://127.0.0.1:${typeof address === "object" && address !== null ? address.port : 0}`
      const run = await cli(["check", url, ...auth], { NO_COLOR: "1" })
      expect(run.code, shown(run)).toBe(1)
      expect(run.stdout).toContain("        got:      500 <html> <body> <h1>Oops</h1> </body> </html>")
      expect(run.stdout.split("\n").filter((l) => l.trim().startsWith("<"))).toEqual([])
      expect(run.stdout).not.toContain("\x1b")
      expect(run.stderr).not.toContain("\x1b")
    } finally {
      await new Promise<void>((resolve) => html.close(() => resolve()))
    }
  }, 60_000)

  it("check --plan exercises only the named plan", async () => {
    const run = await cli(["check", clean.url, ...auth, "--plan", "sync"])
    expect(run.code, shown(run)).toBe(0)
    expect(run.stdout).toContain("plan sync (toy-db)")
    expect(run.stdout).not.toContain("plan async (toy-db)")
    const unknown = await cli(["check", clean.url, ...auth, "--plan", "no-such-plan"])
    expect(unknown.code, shown(unknown)).toBe(1)
    expect(unknown.stdout).toContain("FAIL  [--plan] plan no-such-plan is in the catalog")
  }, 60_000)

  it("catalog prints the catalog and says it is valid", async () => {
    const run = await cli(["catalog", clean.url, ...auth])
    expect(run.code, shown(run)).toBe(0)
    expect(JSON.parse(run.stdout)).toEqual(clean.catalog)
    expect(run.stderr).toContain("the catalog is valid (0 warnings)")
  }, 60_000)

  it("catalog lists every problem of the duplicate-plan-ids catalog and exits 1", async () => {
    const broker = await defective("duplicate-plan-ids")
    const run = await cli(["catalog", broker.url, ...auth])
    expect(run.code, shown(run)).toBe(1)
    expect(JSON.parse(run.stdout)).toEqual(broker.catalog)
    const { problems } = Catalog.validate(broker.catalog)
    expect(problems.map((p) => p.path)).toContain("services[0].plans[1].id")
    const listed = run.stderr.split("\n").filter((l) => l.startsWith("problem: "))
    expect(listed).toEqual(problems.map((p) => `problem: ${p.path}: ${p.message}`))
    expect(listed.join("\n")).toContain(`plan id "${Toy.SYNC_PLAN_ID}" is already used at services[0].plans[0].id`)
    expect(run.stderr).toContain(`the catalog has ${problems.length} problems`)
  }, 60_000)

  it("check against the quick start (npm start: examples/quickstart.ts, in-memory store): 0 failures", async () => {
    const port = await freePort()
    let output = ""
    quickstart = spawn(process.execPath, [join(outDir, "examples", "quickstart.js")], {
      cwd: root,
      env: {
        ...process.env,
        PORT: String(port),
        HOST: "127.0.0.1",
        BROKER_STORE: "memory",
        QUICKSTART_DELAY_MS: "300",
        BROKER_USERNAME: "quick",
        BROKER_PASSWORD: "start:pa55"
      },
      stdio: ["ignore", "pipe", "pipe"]
    })
    quickstart.stdout!.on("data", (d) => (output += d))
    quickstart.stderr!.on("data", (d) => (output += d))
    const url = `http://127.0.0.1:${port}`
    const deadline = Date.now() + 20_000
    while (!output.includes(`Listening on ${url}`) && Date.now() < deadline) await sleep(25)
    expect(output).toContain(`Listening on ${url}`)
    const run = await cli(["check", url, "--username", "quick", "--password", "start:pa55"])
    expect(run.code, shown(run)).toBe(0)
    const line = summary.exec(run.stdout)
    expect(line, shown(run)).not.toBeNull()
    expect(line?.[2]).toBe("0")
    expect(run.stdout).toContain("plan small (quickstart-db)")
    expect(run.stdout).toContain("plan large (quickstart-db)")
  }, 90_000)
})
