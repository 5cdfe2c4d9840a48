/**
 * The `effect-osb` CLI end to end (the shared build of src/, test/support/build.ts): `check` (text, `--json`,
 * `--strict`, `--api-version`, plan options) against the toy broker (test/support/toyBroker.ts) and against the
 * quick start process (`npm start`), usage and transport errors, and `catalog`.
 */
import { type ChildProcess, spawn } from "node:child_process"
import { createServer } from "node:http"
import { join } from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { Catalog, Checker } from "../src/index.js"
import { freePort, sleep } from "./support/brokerProcess.js"
import { builtFile } from "./support/build.js"
import { type CheckResult, leftovers, nothingLeft } from "./support/checker.js"
import * as Toy from "./support/toyBroker.js"

interface CliRun {
  readonly code: number | null
  readonly stdout: string
  readonly stderr: string
}

describe("the effect-osb CLI", () => {
  const root = new URL("..", import.meta.url).pathname
  let bin = ""
  let quickstartScript = ""
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
    bin = await builtFile(join("src", "bin", "effect-osb.js"))
    quickstartScript = await builtFile(join("examples", "quickstart.js"))
    clean = await Toy.start()
    brokers.push(clean)
  }, 300_000)

  afterAll(async () => {
    quickstart?.kill("SIGKILL")
    await Promise.all(brokers.map((b) => b.close()))
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
    quickstart = spawn(process.execPath, [quickstartScript], {
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
