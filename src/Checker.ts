/**
 * The conformance checker: runs the OSB v2.17 checks over any `OsbClient` (a broker in any language over HTTP,
 * or one in process) and reports one result per check with its requirement IDs, what was sent, what was
 * expected and what came back. Where the spec says MUST / MUST NOT a check fails, and so do the classic mistakes
 * platforms trip over (a missing request-identity echo, a non-JSON success body); where the spec leaves the
 * choice to the broker (LIB) it only warns. It creates resources only with fresh random ids and deletes what it
 * created, also when a check fails or the run is interrupted.
 *
 * @since 0.1.0
 */
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import * as CatalogModule from "./Catalog.js"
import type { CatalogBody, ServiceOffering, ServicePlan } from "./Model.js"
import {
  BindingResponseBody,
  CatalogBody as CatalogBodySchema,
  FetchBindingBody,
  FetchInstanceBody,
  LastOperationBody,
  ProvisionResponseBody
} from "./Model.js"
import type { OsbClientService, RawResponse } from "./OsbClient.js"

/**
 * The outcome of one check.
 *
 * @since 0.1.0
 * @category models
 */
export type Outcome = "pass" | "fail" | "warn" | "skip"

/**
 * One check's result.
 *
 * @since 0.1.0
 * @category models
 */
export interface CheckResult {
  /** Requirement IDs of the checklist, e.g. `PRV-4`. */
  readonly id: string
  /** The endpoint, e.g. `E2 PUT /v2/service_instances/:instance_id`. */
  readonly endpoint: string
  readonly title: string
  readonly outcome: Outcome
  readonly sent?: string
  readonly expected?: string
  readonly got?: string
  readonly note?: string
}

/**
 * Checker options.
 *
 * @since 0.1.0
 * @category models
 */
export interface CheckOptions {
  /** Plans to exercise (names or ids); all plans of all offerings when empty. */
  readonly plans?: ReadonlyArray<string>
  /** How long an asynchronous operation may take before the check gives up. Default 5 minutes. */
  readonly operationTimeout?: Duration.DurationInput
  /** Longest wait between polls, whatever `Retry-After` says. Default 10 seconds. */
  readonly maxPollInterval?: Duration.DurationInput
  /** Whether the broker is expected to require authentication (checks 401s). Default true. */
  readonly authenticated?: boolean
  /**
   * How each plan (by name or id) is expected to run: `sync` plans must answer 201 without
   * `accepts_incomplete`, `async` plans must ask for it (422 AsyncRequired). Plans not listed are discovered.
   */
  readonly modes?: Readonly<Record<string, "sync" | "async">>
  /** Called when a check starts (for progress output). */
  readonly onProgress?: (title: string, done: number) => Effect.Effect<void>
}

/**
 * A summary of results.
 *
 * @since 0.1.0
 * @category models
 */
export interface Summary {
  readonly passed: number
  readonly failed: number
  readonly warned: number
  readonly skipped: number
}

/**
 * Counts results by outcome.
 *
 * @since 0.1.0
 * @category utils
 */
export const summarize = (results: ReadonlyArray<CheckResult>): Summary => ({
  passed: results.filter((r) => r.outcome === "pass").length,
  failed: results.filter((r) => r.outcome === "fail").length,
  warned: results.filter((r) => r.outcome === "warn").length,
  skipped: results.filter((r) => r.outcome === "skip").length
})

const E = {
  catalog: "E1 GET /v2/catalog",
  provision: "E2 PUT /v2/service_instances/:instance_id",
  getInstance: "E3 GET /v2/service_instances/:instance_id",
  update: "E4 PATCH /v2/service_instances/:instance_id",
  deprovision: "E5 DELETE /v2/service_instances/:instance_id",
  lastOperation: "E6 GET /v2/service_instances/:instance_id/last_operation",
  bind: "E7 PUT /v2/service_instances/:instance_id/service_bindings/:binding_id",
  getBinding: "E8 GET /v2/service_instances/:instance_id/service_bindings/:binding_id",
  unbind: "E9 DELETE /v2/service_instances/:instance_id/service_bindings/:binding_id",
  lastBindingOperation: "E10 GET /v2/service_instances/:instance_id/service_bindings/:binding_id/last_operation"
} as const

/**
 * The endpoints in report order.
 *
 * @since 0.1.0
 * @category constants
 */
export const endpoints: ReadonlyArray<string> = Object.values(E)

const errorCodes = new Set(["AsyncRequired", "ConcurrencyError", "RequiresApp", "MaintenanceInfoConflict"])

const isObject = (u: unknown): u is Record<string, unknown> => typeof u === "object" && u !== null && !Array.isArray(u)

const show = (r: RawResponse): string => {
  const body = r.text.length === 0 ? "(empty body)" : r.text.length > 300 ? `${r.text.slice(0, 300)}...` : r.text
  return `${r.status} ${body}`
}

const sentOf = (r: RawResponse, body?: unknown): string =>
  `${r.method} ${r.path}${body === undefined ? "" : ` ${JSON.stringify(body).slice(0, 300)}`}`

const validBody = <A, I>(schema: Schema.Schema<A, I>, json: unknown): Either.Either<A, string> =>
  Either.mapLeft(
    Schema.decodeUnknownEither(schema, { onExcessProperty: "ignore" })(json),
    (e) => e.message.split("\n")[0] ?? ""
  )

type PlanTarget = {
  readonly offering: ServiceOffering
  readonly plan: ServicePlan
  readonly bindable: boolean
  readonly updateable: boolean
}

/**
 * Runs every check against the broker behind `client`. Never fails: problems are results.
 *
 * @since 0.1.0
 * @category running
 */
export const run = (client: OsbClientService, options: CheckOptions = {}): Effect.Effect<ReadonlyArray<CheckResult>> =>
  Effect.suspend(() => {
    const created: Created = { instances: new Map(), bindings: new Map() }
    return Effect.ensuring(checks(client, options, created), cleanUp(client, created))
  })

interface Created {
  readonly instances: Map<string, { readonly serviceId: string; readonly planId: string }>
  readonly bindings: Map<string, { readonly instanceId: string; readonly serviceId: string; readonly planId: string }>
}

/**
 * Deletes whatever the checks created and did not delete themselves (bindings first), waiting a bounded time
 * for asynchronous deletes. Runs when the checks end, fail or are interrupted (Ctrl-C).
 */
const cleanUp = (client: OsbClientService, created: Created): Effect.Effect<void> =>
  Effect.gen(function*() {
    const waitGone = (path: string, query: Record<string, string>) =>
      Effect.gen(function*() {
        for (let i = 0; i < 60; i++) {
          const r = yield* Effect.orElseSucceed(client.raw("GET", path, { query }), () => undefined)
          if (r === undefined || r.status !== 200) return
          if (!isObject(r.json) || r.json["state"] !== "in progress") return
          yield* Effect.sleep("1 second")
        }
      })
    for (const [bindingId, b] of created.bindings) {
      const path = `/v2/service_instances/${encodeURIComponent(b.instanceId)}/service_bindings/${
        encodeURIComponent(bindingId)
      }`
      const query = { service_id: b.serviceId, plan_id: b.planId }
      const r = yield* Effect.orElseSucceed(
        client.raw("DELETE", path, { query: { ...query, accepts_incomplete: "true" } }),
        () => undefined
      )
      if (r?.status === 202) yield* waitGone(`${path}/last_operation`, query)
    }
    for (const [instanceId, i] of created.instances) {
      const path = `/v2/service_instances/${encodeURIComponent(instanceId)}`
      const query = { service_id: i.serviceId, plan_id: i.planId }
      // an async create may still run: deleting it then is allowed (DEP-4) or answered 422; retry a few times
      for (let attempt = 0; attempt < 10; attempt++) {
        const r = yield* Effect.orElseSucceed(
          client.raw("DELETE", path, { query: { ...query, accepts_incomplete: "true" } }),
          () => undefined
        )
        if (r?.status === 202) yield* waitGone(`${path}/last_operation`, query)
        if (r?.status !== 422) break
        yield* Effect.sleep("1 second")
      }
    }
  }).pipe(Effect.uninterruptible)

const checks = (
  client: OsbClientService,
  options: CheckOptions,
  created: Created
): Effect.Effect<ReadonlyArray<CheckResult>> =>
  Effect.gen(function*() {
    const results: Array<CheckResult> = []
    const operationTimeout = Duration.decode(options.operationTimeout ?? "5 minutes")
    const maxPoll = Duration.decode(options.maxPollInterval ?? "10 seconds")
    const authenticated = options.authenticated ?? true
    const echoFailures = new Set<string>()
    const echoSeen = new Set<string>()
    const errorBodiesSeen = new Set<string>()
    const errorBodyProblems = new Set<string>()
    const retryAfterPassed = new Set<string>()

    const record = (result: CheckResult) =>
      Effect.suspend(() => {
        results.push(result)
        return options.onProgress === undefined ? Effect.void : options.onProgress(result.title, results.length)
      })

    const pass = (id: string, endpoint: string, title: string, extra: Partial<CheckResult> = {}) =>
      record({ id, endpoint, title, outcome: "pass", ...extra })
    const fail = (id: string, endpoint: string, title: string, extra: Partial<CheckResult> = {}) =>
      record({ id, endpoint, title, outcome: "fail", ...extra })
    const warn = (id: string, endpoint: string, title: string, extra: Partial<CheckResult> = {}) =>
      record({ id, endpoint, title, outcome: "warn", ...extra })
    const skip = (id: string, endpoint: string, title: string, note: string) =>
      record({ id, endpoint, title, outcome: "skip", note })

    /** One exchange, with the cross-cutting checks every answer gets (request identity echo, error bodies). */
    const send = (
      endpoint: string,
      method: string,
      path: string,
      init: Parameters<OsbClientService["raw"]>[2] = {},
      context: { readonly operation?: "provision" | "other" } = {}
    ): Effect.Effect<RawResponse> =>
      Effect.gen(function*() {
        const identity = `effect-osb-check-${crypto.randomUUID()}`
        const response = yield* client.raw(method, path, {
          ...init,
          headers: { "x-broker-api-request-identity": identity, ...init.headers }
        }).pipe(
          Effect.catchAll((error) =>
            Effect.succeed<RawResponse>({
              method,
              path,
              status: 0,
              headers: {},
              text: `transport error: ${error.message}`,
              json: undefined
            })
          )
        )
        if (response.status > 0) echoSeen.add(endpoint)
        if (response.status >= 400) errorBodiesSeen.add(endpoint)
        if (response.status > 0 && response.headers["x-broker-api-request-identity"] !== identity) {
          if (!echoFailures.has(endpoint)) {
            echoFailures.add(endpoint)
            yield* fail("RID-2", endpoint, "X-Broker-API-Request-Identity is echoed on the response", {
              sent: `${method} ${path} with X-Broker-API-Request-Identity: ${identity}`,
              expected: "the same header and value on the response",
              got: `${response.status} with ${
                response.headers["x-broker-api-request-identity"] === undefined
                  ? "no such header"
                  : `"${response.headers["x-broker-api-request-identity"]}"`
              }`
            })
          }
        }
        if (response.status >= 400) {
          if (!isObject(response.json)) {
            errorBodyProblems.add(endpoint)
            yield* warn("CT-3, ERR-1", endpoint, `the ${response.status} answer has a JSON object body`, {
              sent: sentOf(response),
              expected: "a JSON object (at least {})",
              got: show(response)
            })
          } else {
            const code = response.json["error"]
            if (
              code !== undefined && (typeof code !== "string" || (!errorCodes.has(code) && response.status === 422))
            ) {
              errorBodyProblems.add(endpoint)
              yield* warn("ERR-1", endpoint, "an error code is one of the spec's codes", {
                sent: sentOf(response),
                expected: "AsyncRequired, ConcurrencyError, RequiresApp or MaintenanceInfoConflict",
                got: show(response)
              })
            }
            if (
              context.operation === "provision" &&
              (response.json["instance_usable"] !== undefined || response.json["update_repeatable"] !== undefined)
            ) {
              yield* fail("§3", endpoint, "a provision error carries no instance_usable/update_repeatable", {
                sent: sentOf(response),
                expected: "neither field (MUST NOT)",
                got: show(response)
              })
            }
          }
        }
        return response
      })

    /** Checks a status against the allowed ones: MUST level fails, LIB level warns (a 5xx always fails). */
    const expectStatus = (
      id: string,
      endpoint: string,
      title: string,
      response: RawResponse,
      allowed: ReadonlyArray<number>,
      level: "must" | "lib",
      sentBody?: unknown
    ) => {
      const extra = {
        sent: sentOf(response, sentBody),
        expected: allowed.join(" or "),
        got: show(response)
      }
      if (allowed.includes(response.status)) return Effect.as(pass(id, endpoint, title, extra), true)
      if (level === "lib" && response.status > 0 && response.status < 500) {
        return Effect.as(warn(id, endpoint, title, extra), false)
      }
      return Effect.as(fail(id, endpoint, title, extra), false)
    }

    const expectJsonObject = (id: string, endpoint: string, title: string, response: RawResponse) =>
      isObject(response.json)
        ? pass(id, endpoint, title, { got: show(response) })
        : fail(id, endpoint, title, {
          sent: sentOf(response),
          expected: "a JSON object body",
          got: show(response)
        })

    const expectSchema = <A, I>(
      id: string,
      endpoint: string,
      title: string,
      response: RawResponse,
      schema: Schema.Schema<A, I>
    ): Effect.Effect<Option.Option<A>> =>
      Either.match(validBody(schema, response.json), {
        onLeft: (problem) =>
          Effect.as(
            fail(id, endpoint, title, {
              sent: sentOf(response),
              expected: "a valid body",
              got: `${show(response)} (${problem})`
            }),
            Option.none()
          ),
        onRight: (value) => Effect.as(pass(id, endpoint, title), Option.some(value))
      })

    const checkOperation = (endpoint: string, response: RawResponse, label: string) => {
      const operation = isObject(response.json) ? response.json["operation"] : undefined
      return operation === undefined ||
          (typeof operation === "string" && operation.length > 0 && operation.length <= 10_000)
        ? pass("PRV, LO-3", endpoint, `${label}: the 202 operation is a non-empty string of at most 10,000 characters`)
        : fail(
          "PRV, LO-3",
          endpoint,
          `${label}: the 202 operation is a non-empty string of at most 10,000 characters`,
          {
            got: show(response)
          }
        )
    }

    /** ASY-4: an identical repeat while an async operation runs answers 202 with the same operation. */
    const checkRepeatWhileRunning = (
      endpoint: string,
      what: string,
      repeat: RawResponse,
      operation: unknown,
      sentBody: unknown
    ) => {
      if (repeat.status !== 202) {
        return expectStatus(
          "ASY-4",
          endpoint,
          `${what} while running answers 202 (200 once finished)`,
          repeat,
          [
            200,
            202
          ],
          "must",
          sentBody
        )
      }
      const same = isObject(repeat.json) && repeat.json["operation"] === operation
      return (same ? pass : fail)("ASY-4", endpoint, `${what} while running answers 202 with the same operation`, {
        sent: sentOf(repeat, sentBody),
        expected: `202 {"operation": ${JSON.stringify(operation)}}`,
        got: show(repeat)
      })
    }

    /** Polls a last_operation endpoint until done; checks every answer's body (LO-4) and Retry-After (LO-5). */
    const poll = (
      endpoint: string,
      path: string,
      query: Record<string, string | undefined>,
      deleting: boolean,
      label: string
    ): Effect.Effect<"succeeded" | "failed" | "gone" | "broken"> =>
      Effect.gen(function*() {
        const started = Date.now()
        let checkedBody = false
        while (Date.now() - started < Duration.toMillis(operationTimeout)) {
          const response = yield* send(endpoint, "GET", path, { query })
          if (response.status === 410 && deleting) {
            yield* pass("LO-7", endpoint, "a finished async delete answers 410 (or 200 succeeded)", {
              got: show(response)
            })
            return "gone"
          }
          if (response.status !== 200) {
            yield* fail("LO-4", endpoint, `${label}: last_operation answers 200 while the operation is known`, {
              sent: sentOf(response),
              expected: deleting ? "200 (or 410 once the delete finished)" : "200",
              got: show(response)
            })
            return "broken"
          }
          const body = validBody(LastOperationBody, response.json)
          if (Either.isLeft(body)) {
            yield* fail("LO-4", endpoint, `${label}: last_operation has a valid state`, {
              sent: sentOf(response),
              expected: "{\"state\": \"in progress\" | \"succeeded\" | \"failed\", \"description\"?: string}",
              got: `${show(response)} (${body.left})`
            })
            return "broken"
          }
          if (!checkedBody) {
            checkedBody = true
            yield* pass("LO-4", endpoint, `${label}: last_operation has a valid state`, { got: show(response) })
          }
          if (body.right.state !== "in progress") return body.right.state
          const retryAfter = response.headers["retry-after"]
          if (retryAfter !== undefined && !retryAfterPassed.has(endpoint) && /^\d+$/.test(retryAfter.trim())) {
            retryAfterPassed.add(endpoint)
            yield* pass("LO-5", endpoint, `${label}: Retry-After is a number of seconds`, { got: retryAfter })
          }
          if (retryAfter !== undefined && !/^\d+$/.test(retryAfter.trim()) && Number.isNaN(Date.parse(retryAfter))) {
            yield* warn("LO-5", endpoint, `${label}: Retry-After is a number of seconds or an HTTP date`, {
              got: retryAfter
            })
          }
          const wait = retryAfter !== undefined && /^\d+$/.test(retryAfter.trim())
            ? Duration.min(Duration.seconds(Number(retryAfter)), maxPoll)
            : Duration.millis(500)
          yield* Effect.sleep(Duration.max(wait, Duration.millis(100)))
        }
        yield* fail("LO-9", endpoint, `${label}: the operation finishes within the checker's time limit`, {
          expected: `a final state within ${Duration.format(operationTimeout)}`
        })
        return "broken"
      })

    const instancePath = (id: string) => `/v2/service_instances/${encodeURIComponent(id)}`
    const bindingPath = (id: string, bid: string) => `${instancePath(id)}/service_bindings/${encodeURIComponent(bid)}`
    const newId = () => `effect-osb-check-${crypto.randomUUID()}`

    // --- E1 catalog and the catalog's own validity ------------------------------------------------------------

    const catalogResponse = yield* send(E.catalog, "GET", "/v2/catalog")
    const catalogOk = yield* expectStatus(
      "CAT-1",
      E.catalog,
      "GET /v2/catalog answers 200",
      catalogResponse,
      [200],
      "must"
    )
    const catalogBody = catalogOk ? validBody(CatalogBodySchema, catalogResponse.json) : Either.left("no catalog")
    if (!catalogOk || Either.isLeft(catalogBody)) {
      if (catalogOk) {
        yield* fail("CAT-1, VAL-1", E.catalog, "the catalog is a valid catalog object", {
          got: `${show(catalogResponse)} (${Either.isLeft(catalogBody) ? catalogBody.left : ""})`
        })
      }
      if (catalogOk) {
        for (const problem of CatalogModule.validate(catalogResponse.json).problems) {
          yield* fail("VAL", E.catalog, `catalog: ${problem.path}: ${problem.message}`)
        }
      }
      return results
    }
    const catalog: CatalogBody = catalogBody.right
    const validation = CatalogModule.validate(catalogResponse.json)
    if (validation.problems.length === 0) yield* pass("VAL-1..VAL-4", E.catalog, "the catalog is valid")
    for (const problem of validation.problems) {
      yield* fail(
        problem.message.match(/\((VAL-\d|SCH-\d)\)/)?.[1] ?? "VAL-1",
        E.catalog,
        `catalog: ${problem.path}: ${problem.message}`
      )
    }
    for (const warning of validation.warnings) {
      yield* warn("VAL-3", E.catalog, `catalog: ${warning.path}: ${warning.message}`)
    }
    const etag = catalogResponse.headers["etag"]
    if (etag === undefined) {
      yield* skip("CAT-2", E.catalog, "conditional GET with If-None-Match answers 304", "the broker sends no ETag")
    } else {
      const conditional = yield* send(E.catalog, "GET", "/v2/catalog", { headers: { "if-none-match": etag } })
      yield* expectStatus(
        "CAT-2",
        E.catalog,
        "conditional GET with If-None-Match answers 304",
        conditional,
        [304],
        "lib"
      )
    }

    // --- headers: authentication, version ----------------------------------------------------------------------

    const someId = newId()
    const probes: ReadonlyArray<readonly [string, string, string]> = [
      [E.catalog, "GET", "/v2/catalog"],
      [E.provision, "PUT", instancePath(someId)],
      [E.getInstance, "GET", instancePath(someId)],
      [E.update, "PATCH", instancePath(someId)],
      [E.deprovision, "DELETE", instancePath(someId)],
      [E.lastOperation, "GET", `${instancePath(someId)}/last_operation`],
      [E.bind, "PUT", bindingPath(someId, someId)],
      [E.getBinding, "GET", bindingPath(someId, someId)],
      [E.unbind, "DELETE", bindingPath(someId, someId)],
      [E.lastBindingOperation, "GET", `${bindingPath(someId, someId)}/last_operation`]
    ]
    if (authenticated) {
      for (const [endpoint, method, path] of probes) {
        const response = yield* send(endpoint, method, path, {
          headers: { authorization: undefined },
          ...(method === "PUT" || method === "PATCH" ? { body: {} } : {})
        })
        yield* expectStatus("AUTH-2", endpoint, "a request without credentials answers 401", response, [401], "must")
      }
      const wrong = yield* send(E.catalog, "GET", "/v2/catalog", {
        headers: { authorization: `Basic ${Buffer.from("effect-osb-check:wrong-password").toString("base64")}` }
      })
      yield* expectStatus("AUTH-2", E.catalog, "wrong credentials answer 401", wrong, [401], "must")
    } else {
      yield* skip("AUTH-2", E.catalog, "a request without credentials answers 401", "no credentials were given")
    }
    const noVersion = yield* send(E.catalog, "GET", "/v2/catalog", { headers: { "x-broker-api-version": undefined } })
    if (noVersion.status === 412 || noVersion.status >= 500 || noVersion.status === 0) {
      yield* fail("VER-3", E.catalog, "a missing X-Broker-API-Version is a 400 (or accepted), never 412", {
        sent: "GET /v2/catalog without X-Broker-API-Version",
        expected: "400 (or 200)",
        got: show(noVersion)
      })
    } else {
      yield* pass("VER-3", E.catalog, "a missing X-Broker-API-Version is a 400 (or accepted), never 412", {
        got: show(noVersion)
      })
    }
    const oldVersion = yield* send(E.catalog, "GET", "/v2/catalog", { headers: { "x-broker-api-version": "1.0" } })
    yield* expectStatus("VER-2", E.catalog, "an unsupported major version (1.0) answers 412", oldVersion, [412], "lib")

    // --- plans to exercise ---------------------------------------------------------------------------------------

    const wanted = options.plans ?? []
    const targets: Array<PlanTarget> = []
    for (const offering of catalog.services) {
      for (const plan of offering.plans) {
        if (wanted.length > 0 && !wanted.includes(plan.name) && !wanted.includes(plan.id)) continue
        const effective = CatalogModule.effectivePlan(offering, plan)
        targets.push({ offering, plan, bindable: effective.bindable, updateable: effective.planUpdateable })
      }
    }
    for (const name of wanted) {
      if (!catalog.services.some((o) => o.plans.some((p) => p.name === name || p.id === name))) {
        yield* fail("--plan", E.catalog, `plan ${name} is in the catalog`)
      }
    }
    const first = targets[0]

    // --- malformed input (once) ----------------------------------------------------------------------------------

    if (first !== undefined) {
      const id = newId()
      // recorded before anything may create it, so an interrupted run still cleans it up (a 410 is harmless)
      created.instances.set(id, { serviceId: first.offering.id, planId: first.plan.id })
      const malformed = yield* send(E.provision, "PUT", instancePath(id), { rawBody: "{\"service_id\": " }, {
        operation: "provision"
      })
      yield* expectStatus("CT-2, PRV-1", E.provision, "malformed JSON answers 400", malformed, [400], "must")
      const missing = yield* send(E.provision, "PUT", instancePath(id), {
        body: { plan_id: first.plan.id, organization_guid: newId(), space_guid: newId() }
      }, { operation: "provision" })
      yield* expectStatus("PRV-1", E.provision, "a provision without service_id answers 400", missing, [400], "must")
      const unknownPlan = yield* send(E.provision, "PUT", instancePath(id), {
        body: {
          service_id: first.offering.id,
          plan_id: `effect-osb-check-no-such-plan-${crypto.randomUUID()}`,
          organization_guid: newId(),
          space_guid: newId()
        }
      }, { operation: "provision" })
      yield* expectStatus("PRV-3", E.provision, "an unknown plan_id answers 400", unknownPlan, [400], "lib")
      const unknownInstance = newId()
      const getUnknown = yield* send(E.getInstance, "GET", instancePath(unknownInstance))
      if (catalog.services.some((o) => o.instances_retrievable === true)) {
        yield* expectStatus("GI-1", E.getInstance, "GET of an unknown instance answers 404", getUnknown, [404], "must")
      }
      const patchUnknown = yield* send(E.update, "PATCH", instancePath(unknownInstance), {
        body: { service_id: first.offering.id }
      })
      yield* expectStatus("UPD-5", E.update, "PATCH of an unknown instance answers 404", patchUnknown, [404], "lib")
      const deleteUnknown = yield* send(E.deprovision, "DELETE", instancePath(unknownInstance), {
        query: { service_id: first.offering.id, plan_id: first.plan.id, accepts_incomplete: "true" }
      })
      yield* expectStatus(
        "OM-1, DEP",
        E.deprovision,
        "DELETE of an unknown instance answers 410",
        deleteUnknown,
        [410],
        "must"
      )
    }

    // --- lifecycle per plan -------------------------------------------------------------------------------------

    for (const target of targets) {
      const { offering, plan } = target
      const label = `plan ${plan.name} (${offering.name})`
      const ids = { service_id: offering.id, plan_id: plan.id }
      const instanceId = newId()
      const org = newId()
      const space = newId()
      const provisionBody = {
        ...ids,
        organization_guid: org,
        space_guid: space,
        context: { platform: "cloudfoundry", organization_guid: org, space_guid: space, instance_name: "osb-check" },
        ...(plan.maintenance_info === undefined
          ? {}
          : { maintenance_info: { version: plan.maintenance_info.version } }),
        "x-effect-osb-check": true
      }

      // E2 without accepts_incomplete: learns whether the plan is async-only
      created.instances.set(instanceId, { serviceId: offering.id, planId: plan.id })
      const firstTry = yield* send(E.provision, "PUT", instancePath(instanceId), { body: provisionBody }, {
        operation: "provision"
      })
      let async = false
      let provision = firstTry
      if (firstTry.status === 422 && isObject(firstTry.json) && firstTry.json["error"] === "AsyncRequired") {
        async = true
        yield* pass("ASY-1", E.provision, `${label}: async-only without accepts_incomplete answers 422 AsyncRequired`)
        provision = yield* send(E.provision, "PUT", instancePath(instanceId), {
          body: provisionBody,
          query: { accepts_incomplete: "true" }
        }, { operation: "provision" })
      } else if (firstTry.status === 202) {
        async = true
        yield* fail("ASY-1", E.provision, `${label}: no 202 without accepts_incomplete=true`, {
          sent: sentOf(firstTry, provisionBody),
          expected: "201 (or 422 AsyncRequired)",
          got: show(firstTry)
        })
      }
      const mode = options.modes?.[plan.name] ?? options.modes?.[plan.id]
      if (mode !== undefined) {
        const actual = async ? "async" : "sync"
        yield* (mode === actual ? pass : fail)(
          "ASY-1, ASY-3",
          E.provision,
          `${label}: provisions ${mode === "async" ? "asynchronously" : "synchronously"} as configured`,
          {
            sent: sentOf(firstTry, provisionBody),
            expected: mode === "async"
              ? "422 AsyncRequired without accepts_incomplete"
              : "201 without accepts_incomplete",
            got: show(firstTry)
          }
        )
      }
      const provisioned = yield* expectStatus(
        "PRV, EXT-1",
        E.provision,
        `${label}: provision (with an unknown extra field) answers ${async ? "202" : "201"}`,
        provision,
        async ? [201, 202] : [201],
        "must",
        provisionBody
      )
      if (!provisioned) continue
      yield* expectSchema("PRV", E.provision, `${label}: the provision body is valid`, provision, ProvisionResponseBody)
      if (provision.status === 202) {
        yield* checkOperation(E.provision, provision, label)
        const operation = isObject(provision.json) ? provision.json["operation"] : undefined
        const repeat = yield* send(E.provision, "PUT", instancePath(instanceId), {
          body: provisionBody,
          query: { accepts_incomplete: "true" }
        }, { operation: "provision" })
        yield* checkRepeatWhileRunning(E.provision, `${label}: a repeat`, repeat, operation, provisionBody)
        const during = yield* send(E.update, "PATCH", instancePath(instanceId), {
          body: { service_id: offering.id },
          query: { accepts_incomplete: "true" }
        })
        if (during.status === 422) {
          const code = isObject(during.json) ? during.json["error"] : undefined
          yield* (code === "ConcurrencyError" ? pass : warn)(
            "ASY-6, ERR-2",
            E.update,
            `${label}: an update during the provision is refused with 422 ConcurrencyError (or queued)`,
            { sent: sentOf(during), expected: "422 {\"error\":\"ConcurrencyError\"} or 202", got: show(during) }
          )
        } else {
          yield* expectStatus(
            "ASY-6",
            E.update,
            `${label}: an update during the provision is refused with 422 ConcurrencyError (or queued)`,
            during,
            [202, 200],
            "lib"
          )
          if (during.status === 202) {
            yield* poll(E.lastOperation, `${instancePath(instanceId)}/last_operation`, ids, false, label)
          }
        }
        const state = yield* poll(
          E.lastOperation,
          `${instancePath(instanceId)}/last_operation`,
          {
            ...ids,
            ...(typeof operation === "string" ? { operation } : {})
          },
          false,
          label
        )
        if (state !== "succeeded") {
          yield* fail("LO-4", E.lastOperation, `${label}: the provision succeeds`, { got: state })
          continue
        }
        yield* pass("LO-4", E.lastOperation, `${label}: the async provision succeeds`)
      }

      // identical and different repeats
      const identical = yield* send(E.provision, "PUT", instancePath(instanceId), {
        body: provisionBody,
        ...(async ? { query: { accepts_incomplete: "true" } } : {})
      }, { operation: "provision" })
      yield* expectStatus(
        "PRV-4, ASY-5",
        E.provision,
        `${label}: an identical repeat answers 200`,
        identical,
        [200],
        "must",
        provisionBody
      )
      const different = { ...provisionBody, organization_guid: newId(), space_guid: newId() }
      const conflict = yield* send(E.provision, "PUT", instancePath(instanceId), {
        body: different,
        ...(async ? { query: { accepts_incomplete: "true" } } : {})
      }, { operation: "provision" })
      yield* expectStatus(
        "PRV, ASY-5",
        E.provision,
        `${label}: a different repeat answers 409`,
        conflict,
        [409],
        "lib",
        different
      )

      // E3
      if (offering.instances_retrievable === true) {
        const fetched = yield* send(E.getInstance, "GET", instancePath(instanceId), { query: ids })
        if (
          yield* expectStatus(
            "GI-1",
            E.getInstance,
            `${label}: fetch after provision answers 200`,
            fetched,
            [200],
            "must"
          )
        ) {
          yield* expectSchema(
            "GI-1",
            E.getInstance,
            `${label}: the fetched instance is valid`,
            fetched,
            FetchInstanceBody
          )
        }
      }
      if (async) {
        const unknownLo = yield* send(E.lastOperation, "GET", `${instancePath(newId())}/last_operation`, { query: ids })
        yield* expectStatus(
          "LO (2.16)",
          E.lastOperation,
          "last_operation of an unknown instance answers 404",
          unknownLo,
          [404],
          "must"
        )
      }

      // E4
      if (
        target.updateable || offering.allow_context_updates === true ||
        plan.schemas?.service_instance?.update !== undefined
      ) {
        const update = yield* send(E.update, "PATCH", instancePath(instanceId), {
          body: { service_id: offering.id },
          ...(async ? { query: { accepts_incomplete: "true" } } : {})
        })
        if (
          yield* expectStatus(
            "UPD",
            E.update,
            `${label}: a no-op update answers 200 (or 202)`,
            update,
            [200, 202],
            "must"
          )
        ) {
          yield* expectJsonObject("CT-3", E.update, `${label}: the update answer is a JSON object`, update)
          if (update.status === 202) {
            yield* checkOperation(E.update, update, label)
            yield* poll(E.lastOperation, `${instancePath(instanceId)}/last_operation`, ids, false, label)
          }
        }
      } else {
        yield* skip("UPD", E.update, `${label}: update`, "the plan is not updateable")
      }

      // E7-E10
      if (target.bindable) {
        const bindingId = newId()
        const appGuid = newId()
        const bindBody = {
          ...ids,
          app_guid: appGuid,
          bind_resource: { app_guid: appGuid },
          context: { platform: "cloudfoundry", organization_guid: org, space_guid: space }
        }
        created.bindings.set(bindingId, { instanceId, serviceId: offering.id, planId: plan.id })
        const bindFirst = yield* send(E.bind, "PUT", bindingPath(instanceId, bindingId), { body: bindBody })
        let bindAsync = false
        let bind = bindFirst
        if (bindFirst.status === 422 && isObject(bindFirst.json) && bindFirst.json["error"] === "AsyncRequired") {
          bindAsync = true
          bind = yield* send(E.bind, "PUT", bindingPath(instanceId, bindingId), {
            body: bindBody,
            query: { accepts_incomplete: "true" }
          })
        } else if (bindFirst.status === 202) {
          bindAsync = true
          yield* fail("ASY-1", E.bind, `${label}: no 202 without accepts_incomplete=true`, {
            sent: sentOf(bindFirst, bindBody),
            expected: "201 (or 422 AsyncRequired)",
            got: show(bindFirst)
          })
        }
        const bound = yield* expectStatus(
          "BND",
          E.bind,
          `${label}: bind answers ${bindAsync ? "202" : "201"}`,
          bind,
          bindAsync ? [201, 202] : [201],
          "must",
          bindBody
        )
        if (bound) {
          let credentials: unknown = undefined
          if (bind.status === 202) {
            yield* checkOperation(E.bind, bind, label)
            if (isObject(bind.json) && (bind.json["credentials"] !== undefined)) {
              yield* fail("BND (9.2)", E.bind, `${label}: a 202 bind carries no binding data`, { got: show(bind) })
            }
            const operation = isObject(bind.json) ? bind.json["operation"] : undefined
            const repeat = yield* send(E.bind, "PUT", bindingPath(instanceId, bindingId), {
              body: bindBody,
              query: { accepts_incomplete: "true" }
            })
            yield* checkRepeatWhileRunning(E.bind, `${label}: a bind repeat`, repeat, operation, bindBody)
            const state = yield* poll(
              E.lastBindingOperation,
              `${bindingPath(instanceId, bindingId)}/last_operation`,
              {
                ...ids,
                ...(typeof operation === "string" ? { operation } : {})
              },
              false,
              label
            )
            if (state !== "succeeded") {
              yield* fail("LO-4", E.lastBindingOperation, `${label}: the bind succeeds`, { got: state })
            }
          } else {
            const body = yield* expectSchema(
              "BND",
              E.bind,
              `${label}: the binding body is valid`,
              bind,
              BindingResponseBody
            )
            credentials = Option.getOrUndefined(body)?.credentials
            const repeat = yield* send(E.bind, "PUT", bindingPath(instanceId, bindingId), { body: bindBody })
            if (
              yield* expectStatus(
                "BND-2, ASY-5",
                E.bind,
                `${label}: an identical bind repeat answers 200`,
                repeat,
                [200],
                "must",
                bindBody
              )
            ) {
              const same = isObject(repeat.json) &&
                JSON.stringify(repeat.json["credentials"]) === JSON.stringify(credentials)
              yield* (same ? pass : warn)("BND-2", E.bind, `${label}: the repeat returns the same credentials`, {
                got: show(repeat)
              })
            }
          }
          if (offering.bindings_retrievable === true) {
            const fetched = yield* send(E.getBinding, "GET", bindingPath(instanceId, bindingId), { query: ids })
            if (
              yield* expectStatus("GB-1", E.getBinding, `${label}: fetch binding answers 200`, fetched, [200], "must")
            ) {
              yield* expectSchema(
                "GB-1",
                E.getBinding,
                `${label}: the fetched binding is valid`,
                fetched,
                FetchBindingBody
              )
            }
            const unknown = yield* send(E.getBinding, "GET", bindingPath(instanceId, newId()), { query: ids })
            yield* expectStatus("GB-1", E.getBinding, `${label}: fetch of an unknown binding answers 404`, unknown, [
              404
            ], "must")
          }
          const noIds = yield* send(E.unbind, "DELETE", bindingPath(instanceId, bindingId))
          yield* expectStatus("UNB-1", E.unbind, `${label}: unbind without service_id/plan_id answers 400`, noIds, [
            400
          ], "must")
          if (noIds.status >= 200 && noIds.status < 300) created.bindings.delete(bindingId)
          if (created.bindings.has(bindingId)) {
            const unbind = yield* send(E.unbind, "DELETE", bindingPath(instanceId, bindingId), {
              query: { ...ids, ...(bindAsync ? { accepts_incomplete: "true" } : {}) }
            })
            if (
              yield* expectStatus("UNB", E.unbind, `${label}: unbind answers 200 (or 202)`, unbind, [200, 202], "must")
            ) {
              yield* expectJsonObject("CT-3", E.unbind, `${label}: the unbind answer is a JSON object`, unbind)
              if (unbind.status === 202) {
                yield* checkOperation(E.unbind, unbind, label)
                yield* poll(
                  E.lastBindingOperation,
                  `${bindingPath(instanceId, bindingId)}/last_operation`,
                  ids,
                  true,
                  label
                )
              }
              created.bindings.delete(bindingId)
              const again = yield* send(E.unbind, "DELETE", bindingPath(instanceId, bindingId), {
                query: { ...ids, accepts_incomplete: "true" }
              })
              yield* expectStatus("UNB, OM-1", E.unbind, `${label}: unbind of a deleted binding answers 410`, again, [
                410
              ], "must")
            }
          }
        }
      } else {
        yield* skip("BND", E.bind, `${label}: bind`, "the plan is not bindable")
      }

      // E5
      const noIds = yield* send(E.deprovision, "DELETE", instancePath(instanceId))
      yield* expectStatus(
        "DEP-1",
        E.deprovision,
        `${label}: deprovision without service_id/plan_id answers 400`,
        noIds,
        [400],
        "must"
      )
      if (noIds.status >= 200 && noIds.status < 300) {
        created.instances.delete(instanceId)
        continue
      }
      const deprovision = yield* send(E.deprovision, "DELETE", instancePath(instanceId), {
        query: { ...ids, ...(async ? { accepts_incomplete: "true" } : {}) }
      })
      if (
        yield* expectStatus(
          "DEP",
          E.deprovision,
          `${label}: deprovision answers 200 (or 202)`,
          deprovision,
          [200, 202],
          "must"
        )
      ) {
        yield* expectJsonObject("CT-3", E.deprovision, `${label}: the deprovision answer is a JSON object`, deprovision)
        if (deprovision.status === 202) {
          yield* checkOperation(E.deprovision, deprovision, label)
          const operation = isObject(deprovision.json) ? deprovision.json["operation"] : undefined
          yield* poll(
            E.lastOperation,
            `${instancePath(instanceId)}/last_operation`,
            {
              ...ids,
              ...(typeof operation === "string" ? { operation } : {})
            },
            true,
            label
          )
        }
        created.instances.delete(instanceId)
        const again = yield* send(E.deprovision, "DELETE", instancePath(instanceId), {
          query: { ...ids, accepts_incomplete: "true" }
        })
        yield* expectStatus(
          "DEP, OM-1",
          E.deprovision,
          `${label}: deprovision of a deleted instance answers 410`,
          again,
          [410],
          "must"
        )
        if (again.status === 410 && !isObject(again.json)) {
          yield* warn("CT-3", E.deprovision, `${label}: the 410 body is a JSON object`, { got: show(again) })
        }
      }
    }
    // the cross-cutting checks that only report problems as they happen get one pass per endpoint when all was well
    for (const endpoint of endpoints) {
      if (echoSeen.has(endpoint) && !echoFailures.has(endpoint)) {
        yield* pass("RID-2", endpoint, "X-Broker-API-Request-Identity is echoed on every response")
      }
      if (errorBodiesSeen.has(endpoint) && !errorBodyProblems.has(endpoint)) {
        yield* pass("ERR-1", endpoint, "error answers carry JSON object bodies with the spec's codes")
      }
    }
    return results
  })
