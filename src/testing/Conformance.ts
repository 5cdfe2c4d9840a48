/**
 * The conformance suite inside your own vitest: runs the same checks as `effect-osb check` against your broker
 * layer in process (no socket), and registers one test per requirement ID, each failing with what was sent,
 * expected and received.
 *
 * ```ts
 * import { Conformance } from "effect-osb/testing"
 * Conformance.suite("my broker", MyBroker.layer, { username: "u", password: "p", modes: { small: "sync" } })
 * ```
 *
 * @since 0.1.0
 * @module
 */
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import { beforeAll, describe, expect, it } from "vitest"
import * as BrokerAuth from "../BrokerAuth.js"
import type { Catalog } from "../Catalog.js"
import type { CheckOptions, CheckResult, Requirement } from "../Checker.js"
import * as Checker from "../Checker.js"
import * as OsbClient from "../OsbClient.js"
import * as Report from "../Report.js"
import type { ServiceBroker } from "../ServiceBroker.js"
import { layerClient } from "./InProcess.js"

/**
 * Suite options: the checker's options plus the credentials the broker layer expects.
 *
 * @since 0.1.0
 * @category models
 */
export interface SuiteOptions extends Omit<CheckOptions, "onProgress" | "authenticated" | "strict"> {
  /** Basic credentials; when both are given the broker is run behind `BrokerAuth.basic` with them. */
  readonly username?: string
  /** The Basic password that goes with `username`. */
  readonly password?: string
  /** Also fail on warnings (choices the spec leaves to the broker). Default false. */
  readonly strict?: boolean
  /** How long the whole run may take. Default 10 minutes. */
  readonly timeout?: number
}

/**
 * The requirement groups the suite registers tests for, in order. Each test covers the checks whose requirement
 * IDs include the group's (`VAL` covers VAL-1..VAL-4); a group no check touched (e.g. binding rules for an
 * unbindable catalog) is skipped.
 *
 * @since 0.1.0
 * @category constants
 */
export const requirements: ReadonlyArray<readonly [id: string, title: string]> = [
  ["CAT-1", "the catalog is served"],
  ["CAT-2", "conditional catalog requests"],
  ["VAL", "the catalog is valid (VAL-1..VAL-4)"],
  ["AUTH-2", "authentication on every endpoint"],
  ["VER-2", "unsupported versions answer 412"],
  ["VER-3", "a missing version header is 400, never 412"],
  ["RID-2", "the request identity is echoed"],
  ["CT-2", "malformed JSON answers 400"],
  ["CT-3", "answers are JSON objects"],
  ["ERR-1", "error bodies"],
  ["ERR-2", "concurrency refusals carry ConcurrencyError"],
  ["PRV-1", "required provision fields"],
  ["PRV-3", "unknown ids answer 400"],
  ["PRV-4", "identical provision repeats"],
  ["PRV-7", "maintenance_info conflicts"],
  ["SCH-5", "parameters that break the plan's schema answer 400"],
  ["PRV", "provision answers"],
  ["EXT-1", "unknown fields are ignored"],
  ["ASY-1", "accepts_incomplete and AsyncRequired"],
  ["ASY-4", "repeats while running answer 202 with the same operation"],
  ["ASY-5", "idempotency"],
  ["ASY-6", "concurrent operations"],
  ["GI-1", "fetch instance"],
  ["UPD-1", "plan changes where the catalog allows them"],
  ["UPD", "update"],
  ["UPD-5", "update of an unknown instance"],
  ["DEP-1", "deprovision needs service_id and plan_id"],
  ["DEP", "deprovision"],
  ["OM-1", "deleting what is gone answers 410"],
  ["LO-3", "operation values"],
  ["LO-4", "last_operation states"],
  ["LO-5", "Retry-After"],
  ["LO-7", "finished async deletes and unknown operations"],
  ["LO-9", "operations finish in time"],
  ["BND-1", "a bind without an app answers RequiresApp where the plan requires one"],
  ["BND", "bind"],
  ["BND-2", "identical bind repeats"],
  ["GB-1", "fetch binding"],
  ["UNB-1", "unbind needs service_id and plan_id"],
  ["UNB", "unbind"]
]

const groups: Readonly<Record<string, ReadonlyArray<Requirement>>> = { VAL: ["VAL-1", "VAL-2", "VAL-3", "VAL-4"] }

const mentions = (result: CheckResult, id: string): boolean =>
  (groups[id] ?? [id]).some((requirement) => (result.requirements as ReadonlyArray<string>).includes(requirement))

const describeResult = (r: CheckResult): string =>
  [
    `[${r.id}] ${r.endpoint}: ${r.title}`,
    r.sent && `  sent:     ${r.sent}`,
    r.expected && `  expected: ${r.expected}`,
    r.got && `  got:      ${r.got}`,
    r.outcome !== "pass" && `  rule:     ${Report.ruleOf(r)}`
  ]
    .filter((line) => typeof line === "string" && line.length > 0)
    .join("\n")

/**
 * Registers the conformance suite for a broker layer (catalog + broker; authentication is added from the
 * options, or give a layer that also provides `BrokerAuth`).
 *
 * @example
 * ```ts
 * import { Conformance } from "effect-osb/testing"
 * import { broker } from "./my-broker.js"
 *
 * // one vitest test per requirement ID: the checker's checks, in process, against your broker
 * Conformance.suite("quick start", broker, { modes: { small: "sync", large: "async" } })
 * ```
 *
 * @since 0.1.0
 * @category suites
 */
export const suite = <E>(
  name: string,
  broker: Layer.Layer<Catalog | ServiceBroker, E> | Layer.Layer<Catalog | ServiceBroker | BrokerAuth.BrokerAuth, E>,
  options: SuiteOptions = {}
): void => {
  const authenticated = options.username !== undefined && options.password !== undefined
  const auth = authenticated
    ? BrokerAuth.layerBasic([{ username: options.username!, password: Redacted.make(options.password!) }])
    : BrokerAuth.layerNone
  const full = Layer.merge(auth, broker) as Layer.Layer<Catalog | ServiceBroker | BrokerAuth.BrokerAuth, E>
  describe(`OSB conformance: ${name}`, () => {
    let results: ReadonlyArray<CheckResult> = []
    beforeAll(async () => {
      results = await Effect.runPromise(
        Effect.flatMap(OsbClient.OsbClient, (client) => Checker.run(client, { ...options, authenticated })).pipe(
          Effect.provide(
            layerClient(full, {
              ...(authenticated ? { username: options.username!, password: options.password! } : {})
            })
          ),
          Effect.orDie
        )
      )
    }, options.timeout ?? 600_000)
    for (const [id, title] of requirements) {
      it(`${id}: ${title}`, (context) => {
        const relevant = results.filter((r) => mentions(r, id))
        if (relevant.length === 0) return context.skip()
        const bad = relevant.filter((r) => r.outcome === "fail" || (options.strict === true && r.outcome === "warn"))
        expect(bad.map(describeResult), `${bad.length} of ${relevant.length} checks for ${id} failed`).toEqual([])
      })
    }
    it("every check passed (the whole report)", () => {
      const bad = results.filter((r) => r.outcome === "fail" || (options.strict === true && r.outcome === "warn"))
      expect(bad.map(describeResult)).toEqual([])
    })
  })
}
