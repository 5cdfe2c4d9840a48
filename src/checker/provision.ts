/**
 * Checks of one plan's provision (E2), its asynchronous lifecycle (E6), repeats, and the fetch (E3).
 *
 * @since 0.2.0
 */
import * as Effect from "effect/Effect"
import * as FastCheck from "effect/FastCheck"
import { FetchInstanceBody, ProvisionResponseBody } from "../Model.js"
import type { RawResponse } from "../OsbClient.js"
import type { InvalidParameters } from "../testing/InvalidParameters.js"
import { invalidParametersFor } from "../testing/InvalidParameters.js"
import type { Context } from "./context.js"
import { field, instanceOperationPath, instancePath, newId, sentOf, show, status } from "./context.js"
import { E } from "./model.js"
import type { PlanTarget } from "./plans.js"

/** A provisioned instance, for the checks that follow. */
export interface Provisioned {
  readonly instanceId: string
  readonly async: boolean
  /** The organization and space the instance was provisioned in. */
  readonly org: string
  readonly space: string
  /** A 422 without an error code to an update while the provision ran: a ConcurrencyError if updates work. */
  readonly refusedUpdate: RawResponse | undefined
}

/** The provision body the checker sends for a plan (with an unknown extra field, EXT-1). */
const provisionBody = (target: PlanTarget) => {
  const org = newId()
  const space = newId()
  return {
    ...target.ids,
    organization_guid: org,
    space_guid: space,
    context: { platform: "cloudfoundry", organization_guid: org, space_guid: space, instance_name: "osb-check" },
    ...(target.plan.maintenance_info === undefined
      ? {}
      : { maintenance_info: { version: target.plan.maintenance_info.version } }),
    "x-effect-osb-check": true
  }
}

interface Learned {
  readonly async: boolean
  readonly answer: RawResponse
}

/**
 * Sends the provision without accepts_incomplete first, to learn whether the plan is asynchronous; a 422 that
 * lacks AsyncRequired is retried with accepts_incomplete=true, and a 202 then shows the code was missing.
 */
const learnMode = (ctx: Context, target: PlanTarget, path: string, body: unknown) =>
  Effect.gen(function*() {
    const provision = { operation: "provision" } as const
    const first = yield* ctx.send(E.provision, "PUT", path, { body }, provision)
    const label = target.label
    if (first.status === status.accepted) {
      yield* ctx.miss(
        "async.no-202-without-accepts-incomplete",
        E.provision,
        `${label}: no 202 without accepts_incomplete=true`,
        {
          sent: sentOf(first, body),
          expected: "201 (or 422 AsyncRequired)",
          got: show(first)
        }
      )
      return { first, learned: { async: true, answer: first } satisfies Learned }
    }
    if (first.status === status.unprocessable && field(first, "error") === "AsyncRequired") {
      yield* ctx.pass(
        "async.required-code",
        E.provision,
        `${label}: async-only without accepts_incomplete answers 422 AsyncRequired`
      )
      const answer = yield* ctx.send(
        E.provision,
        "PUT",
        path,
        { body, query: { accepts_incomplete: "true" } },
        provision
      )
      return { first, learned: { async: true, answer } satisfies Learned }
    }
    if (first.status < 400 || first.status >= 500) return { first, learned: { async: false, answer: first } }
    const retry = yield* ctx.send(E.provision, "PUT", path, { body, query: { accepts_incomplete: "true" } }, provision)
    if (retry.status === status.accepted) {
      yield* ctx.miss(
        "async.required-code",
        E.provision,
        `${label}: async-only without accepts_incomplete answers 422 AsyncRequired`,
        {
          sent: sentOf(first, body),
          expected: "422 {\"error\":\"AsyncRequired\"} (the same request with accepts_incomplete=true answered 202)",
          got: show(first)
        }
      )
      return { first, learned: { async: true, answer: retry } }
    }
    return { first, learned: retry.status === status.created ? { async: false, answer: retry } : undefined, retry }
  })

/** The seed of the invalid parameters the checker sends: the same parameters on every run. */
const parametersSeed = 20261206

/**
 * Parameters that break one keyword of the plan's create schema (the test kit's generator, a fixed seed): undefined
 * when the plan declares no create schema, a reason when none can be generated for it.
 */
const invalidCreateParameters = (target: PlanTarget): InvalidParameters | string | undefined => {
  try {
    const arbitrary = invalidParametersFor(target.plan, "create")
    if (arbitrary === undefined) return undefined
    const [sample] = FastCheck.sample(arbitrary, { seed: parametersSeed, numRuns: 1 })
    return sample ?? "the generator gave no value"
  } catch (error) {
    return error instanceof Error ? error.message : String(error)
  }
}

/** A provision whose parameters break the plan's create schema answers 400 (SCH-5; a SHOULD, so a warning). */
const parametersSchema = (ctx: Context, target: PlanTarget) =>
  Effect.gen(function*() {
    const invalid = invalidCreateParameters(target)
    if (invalid === undefined) return
    const title = `${target.label}: parameters that break the plan's create schema answer 400`
    if (typeof invalid === "string") {
      return yield* ctx.skip("provision.parameters-schema", E.provision, title, `no invalid parameters: ${invalid}`)
    }
    const instanceId = newId()
    const body = { ...provisionBody(target), parameters: invalid.parameters }
    ctx.created.instances.set(instanceId, { serviceId: target.offering.id, planId: target.plan.id })
    const answer = yield* ctx.send(E.provision, "PUT", instancePath(instanceId), {
      body,
      query: { accepts_incomplete: "true" }
    }, { operation: "provision" })
    yield* ctx.expectStatus(
      "provision.parameters-schema",
      E.provision,
      `${title} (${invalid.keyword} at ${invalid.path})`,
      answer,
      [status.badRequest],
      body
    )
  })

/** Provisions a fresh instance of the plan and checks everything up to its fetch; undefined when it did not. */
export const provision = (ctx: Context, target: PlanTarget): Effect.Effect<Provisioned | undefined> =>
  Effect.gen(function*() {
    const { label, offering, plan } = target
    yield* parametersSchema(ctx, target)
    const instanceId = newId()
    const path = instancePath(instanceId)
    const body = provisionBody(target)
    ctx.created.instances.set(instanceId, { serviceId: offering.id, planId: plan.id })
    const { first, learned, retry } = yield* learnMode(ctx, target, path, body)
    if (learned === undefined) {
      yield* ctx.skip(
        "provision.created",
        E.provision,
        `${label}: provision and the plan's lifecycle`,
        `the provision was refused (without accepts_incomplete: ${show(first)}; with it: ${
          retry === undefined ? "not sent" : show(retry)
        }), so the plan's mode is unknown and its lifecycle cannot run`
      )
      return undefined
    }
    const { answer, async } = learned
    if (target.declared !== undefined) {
      yield* ctx.verdict(
        "provision.mode",
        E.provision,
        `${label}: provisions ${target.declared === "async" ? "asynchronously" : "synchronously"} as configured`,
        target.declared === (async ? "async" : "sync"),
        {
          sent: sentOf(first, body),
          expected: target.declared === "async"
            ? "422 AsyncRequired without accepts_incomplete"
            : "201 without accepts_incomplete",
          got: show(first)
        }
      )
    }
    const created = yield* ctx.expectStatus(
      "provision.created",
      E.provision,
      `${label}: provision (with an unknown extra field) answers ${async ? "202" : "201"}`,
      answer,
      async ? [status.created, status.accepted] : [status.created],
      body
    )
    if (!created) return undefined
    yield* ctx.expectSchema(
      "provision.body",
      E.provision,
      `${label}: the provision body is valid`,
      answer,
      ProvisionResponseBody
    )
    let refusedUpdate: RawResponse | undefined = undefined
    if (answer.status === status.accepted) {
      const running = yield* whileRunning(ctx, target, instanceId, body, answer)
      if (running.done === false) return undefined
      refusedUpdate = running.refusedUpdate
    }
    yield* repeats(ctx, target, path, body, async)
    yield* fetch(ctx, target, instanceId)
    return { instanceId, async, refusedUpdate, org: body.organization_guid, space: body.space_guid }
  })

/** While the asynchronous provision runs: its operation, a repeat, an update; then polls it to the end. */
const whileRunning = (ctx: Context, target: PlanTarget, instanceId: string, body: unknown, answer: RawResponse) =>
  Effect.gen(function*() {
    const path = instancePath(instanceId)
    const operationPath = instanceOperationPath(instanceId)
    const { ids, label } = target
    yield* ctx.checkOperation(E.provision, answer, label)
    const operation = field(answer, "operation")
    const repeat = yield* ctx.send(E.provision, "PUT", path, { body, query: { accepts_incomplete: "true" } }, {
      operation: "provision"
    })
    yield* ctx.checkRepeatWhileRunning(E.provision, `${label}: a repeat`, repeat, {
      operation,
      poll: E.lastOperation,
      path: operationPath,
      ids
    }, body)
    const title = `${label}: an update during the provision is refused with 422 ConcurrencyError (or queued)`
    const during = yield* ctx.send(E.update, "PATCH", path, {
      body: { service_id: target.offering.id },
      query: { accepts_incomplete: "true" }
    })
    let refusedUpdate: RawResponse | undefined = undefined
    if (during.status === status.unprocessable && field(during, "error") !== undefined) {
      yield* ctx.expectCode("concurrency.code", E.update, title, during, "ConcurrencyError")
    } else if (during.status === status.unprocessable) {
      // a 422 without a code is also how an unsupported update answers: decided once the update is tried
      refusedUpdate = during
    } else {
      yield* ctx.expectStatus("concurrency.update-during-provision", E.update, title, during, [
        status.accepted,
        status.ok
      ])
      if (during.status === status.accepted) {
        yield* ctx.poll(E.lastOperation, operationPath, ids, false, label)
      }
    }
    const done = yield* ctx.awaitOperation(
      E.lastOperation,
      operationPath,
      ids,
      operation,
      `${label}: the provision`,
      label
    )
    if (done) yield* ctx.pass("operation.finishes", E.lastOperation, `${label}: the async provision succeeds`)
    return { done, refusedUpdate }
  })

/** An identical repeat (200, never 409) and a different one (409). */
const repeats = (ctx: Context, target: PlanTarget, path: string, body: Record<string, unknown>, async: boolean) =>
  Effect.gen(function*() {
    const { label, offering, plan } = target
    const query = async ? { query: { accepts_incomplete: "true" } } : {}
    const identical = yield* ctx.send(E.provision, "PUT", path, { body, ...query }, { operation: "provision" })
    const allowed = async ? [status.ok, status.created, status.accepted] : [status.ok, status.created]
    const title = `${label}: an identical repeat answers 200`
    if (yield* ctx.expectStatus("provision.identical", E.provision, title, identical, allowed, body)) {
      if (!async) yield* ctx.expectStatus("provision.identical-200", E.provision, title, identical, [status.ok], body)
    }
    const other = offering.plans.find((p) => p.id !== plan.id)
    const { maintenance_info: _, ...rest } = body
    const different = other === undefined
      ? { ...body, parameters: { "x-effect-osb-check": newId() } }
      : {
        ...rest,
        plan_id: other.id,
        ...(other.maintenance_info === undefined
          ? {}
          : { maintenance_info: { version: other.maintenance_info.version } })
      }
    const conflict = yield* ctx.send(E.provision, "PUT", path, {
      body: different,
      query: { accepts_incomplete: "true" }
    }, { operation: "provision" })
    yield* ctx.expectStatus(
      other === undefined ? "provision.different-parameters" : "provision.different",
      E.provision,
      `${label}: a repeat with ${
        other === undefined ? "other parameters" : `another plan (${other.name})`
      } answers 409`,
      conflict,
      [status.conflict],
      different
    )
  })

/** The fetch of the provisioned instance (E3), where the offering has instances_retrievable. */
const fetch = (ctx: Context, target: PlanTarget, instanceId: string) =>
  Effect.gen(function*() {
    const title = `${target.label}: fetch after provision answers 200`
    if (target.offering.instances_retrievable !== true) {
      return yield* ctx.skip("instance.fetch", E.getInstance, title, "the offering has no instances_retrievable: true")
    }
    const fetched = yield* ctx.send(E.getInstance, "GET", instancePath(instanceId), { query: target.ids })
    if (yield* ctx.expectStatus("instance.fetch", E.getInstance, title, fetched, [status.ok])) {
      yield* ctx.expectSchema(
        "instance.fetch",
        E.getInstance,
        `${target.label}: the fetched instance is valid`,
        fetched,
        FetchInstanceBody
      )
    }
  })
