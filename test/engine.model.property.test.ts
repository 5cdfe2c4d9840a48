/**
 * The engine's pure decisions (src/internal/engine/{provision,update,deprovision,bind,unbind,poll}.ts) held to the
 * reference model of test/support/osbModel.ts, with no store, no fiber, no router and no HTTP.
 *
 * A tiny shell below does what the runner does, and no more: it keeps one `InstanceSnapshot` per instance id,
 * calls a decision with the snapshot, the request and the time, applies the changes the decision returns
 * (`applyChanges`), finishes synchronous work at once with the finish function of its kind, and finishes
 * asynchronous work DELAY seconds later (or drops it when a decision says to interrupt it). Its answers are built
 * from what the decisions return: a refusal's status and code come from the protocol's error table, a 202 names
 * the operation the decision started or found running, a 200/201 carries the record the decision answered with.
 * The same random sequences as the HTTP model test, and the same branch coverage check, so a decision that
 * disagrees with the model fails here without a store or a router in the way.
 */
import { it } from "@effect/vitest"
import { Duration, Effect, Either, Option } from "effect"
import { describe, expect } from "vitest"
import * as Managed from "../examples/managed-broker.js"
import type { Change, InstanceSnapshot, OperationRecord } from "../src/BrokerStore.js"
import { applyChanges, emptySnapshot } from "../src/BrokerStore.js"
import type { ResolvedPlan } from "../src/Catalog.js"
import { effectivePlan } from "../src/Catalog.js"
import { decideBind } from "../src/internal/engine/bind.js"
import type { Decision, Env, StepName } from "../src/internal/engine/decision.js"
import { succeeded } from "../src/internal/engine/decision.js"
import { decideDeprovision } from "../src/internal/engine/deprovision.js"
import { defaultFingerprints } from "../src/internal/engine/identity.js"
import {
  defaultFetchInstance,
  fetchableBinding,
  fetchableInstance,
  pollBinding,
  pollInstance
} from "../src/internal/engine/poll.js"
import { decideProvision } from "../src/internal/engine/provision.js"
import { finishChanges } from "../src/internal/engine/runner.js"
import { decideUnbind } from "../src/internal/engine/unbind.js"
import { decideUpdate } from "../src/internal/engine/update.js"
import type { BindingOutput, InstanceOutput, ProvisionContext } from "../src/ManagedBroker.js"
import type { OsbError } from "../src/OsbError.js"
import * as Protocol from "../src/Protocol.js"
import type { Reply } from "./support/http.js"
import type { Intent, System } from "./support/osbModel.js"
import { commandsArb, DELAY, missedBranches, PLAN_ID, replay, SERVICE, sweep, TTL } from "./support/osbModel.js"

// -----------------------------------------------------------------------------
// the broker as the decisions see it: the quick start's catalog and work
// -----------------------------------------------------------------------------

const work = Managed.work(Duration.seconds(DELAY))
const offering = Managed.catalog.services.find((s) => s.id === SERVICE)!

const planOf = (planId: string): ResolvedPlan => {
  const plan = offering.plans.find((p) => p.id === planId)
  if (plan === undefined) throw new Error(`plan ${planId} is not in the catalog`)
  return { offering, plan, effective: effectivePlan(offering, plan) }
}

/** The step of a plan, as the managed broker resolves it: the plan's own (by id or name), else the offering's. */
const stepOf = (planId: string, name: StepName) => {
  const plan = planOf(planId).plan
  return work.plans?.[planId]?.[name] ?? work.plans?.[plan.name]?.[name] ?? work[name]
}

const env: Env = {
  serves: (serviceId) => serviceId === SERVICE,
  step: (serviceId, planId, name) => (serviceId === SERVICE ? stepOf(planId, name) : undefined),
  plan: planOf,
  fingerprints: () => defaultFingerprints,
  owner: "replica-1",
  leaseTtl: 30_000,
  tombstoneTtl: TTL * 1000
}

// -----------------------------------------------------------------------------
// the shell: snapshots, the clock, running work
// -----------------------------------------------------------------------------

/** Asynchronous work running: it finishes (succeeds) at `finishAt`. */
interface Running {
  readonly key: string
  readonly instanceId: string
  readonly operation: OperationRecord
  readonly finishAt: number
  readonly seq: number
  readonly output: unknown
}

const json = (status: number, body: unknown): Reply => {
  const text = JSON.stringify(body)
  return { status, headers: new Headers({ "content-type": "application/json" }), text, body: JSON.parse(text) }
}

/** A refusal as the protocol's error table answers it. */
const refused = (error: OsbError): Reply => {
  const spec: Protocol.ErrorSpec = Protocol.errors[error._tag]
  const description = "description" in error ? error.description : undefined
  return json(spec.status, {
    ...(spec.code === undefined ? {} : { error: spec.code }),
    ...(description === undefined ? {} : { description })
  })
}

/** What the work of an operation returns: the quick start's work, with credentials named after the operation. */
const outputOf = (operation: OperationRecord): unknown =>
  operation.kind === "bind" ?
    { credentials: { username: `u-${operation.id}` } } satisfies BindingOutput :
    operation.kind === "provision" || operation.kind === "update"
    ? {} satisfies InstanceOutput
    : undefined

/** A fresh broker made of the decisions alone. */
const decisions = (): System => {
  let now = 0
  let ids = 0
  let seq = 0
  const snapshots = new Map<string, InstanceSnapshot>()
  const running = new Map<string, Running>()
  const snapshot = (instanceId: string) => snapshots.get(instanceId) ?? emptySnapshot(instanceId)
  const apply = (instanceId: string, changes: ReadonlyArray<Change>) =>
    snapshots.set(instanceId, applyChanges(snapshot(instanceId), changes))
  const finish = (instanceId: string, operation: OperationRecord, output: unknown) =>
    apply(instanceId, finishChanges(env, snapshot(instanceId), operation, succeeded(output as never), now))

  /**
   * Decides on the instance's snapshot and runs what the decision says; `answer` turns what happened into the
   * reply (`Done` with its value, a 202 with its operation, or `Completed` once sync work finished).
   */
  const run = <S>(
    instanceId: string,
    decide: (snapshot: InstanceSnapshot, operationId: string) => Either.Either<Decision<S, unknown>, OsbError>,
    answer: (ran: { readonly _tag: "Done"; readonly value: S } | { readonly _tag: "Completed" }) => Reply
  ): Reply => {
    const decided = decide(snapshot(instanceId), `op-${++ids}`)
    if (Either.isLeft(decided)) return refused(decided.left)
    const decision = decided.right
    switch (decision._tag) {
      case "Done":
        return answer(decision)
      case "Running":
        return json(202, { operation: decision.operationId })
      case "Start": {
        const { operation } = decision
        apply(instanceId, decision.changes)
        if (Option.isSome(decision.interrupt)) running.delete(decision.interrupt.value)
        if (!operation.async) {
          finish(instanceId, operation, outputOf(operation))
          return answer({ _tag: "Completed" })
        }
        // running work is known by its operation (a decision names the operation it stops)
        const key = operation.id
        running.set(key, {
          key,
          instanceId,
          operation,
          finishAt: now + DELAY * 1000,
          seq: seq++,
          output: outputOf(operation)
        })
        return json(202, { operation: operation.id })
      }
    }
  }

  const dashboard = (instanceId: string) => {
    const url = Option.getOrUndefined(snapshot(instanceId).instance)?.dashboardUrl
    return url === undefined ? {} : { dashboard_url: url }
  }
  /** A 202 for an instance also names its dashboard (PRV 5.3). */
  const withDashboard = (instanceId: string, reply: Reply) =>
    reply.status === 202 ? json(202, { ...reply.body, ...dashboard(instanceId) }) : reply

  const send = (intent: Intent): Reply => {
    switch (intent._tag) {
      case "Provision": {
        const target = planOf(PLAN_ID[intent.plan])
        const parameters = intent.parameters ?? {}
        const ctx: ProvisionContext = {
          instanceId: intent.instanceId,
          offering,
          target,
          parameters,
          context: Option.none(),
          organizationGuid: Option.some(intent.org),
          spaceGuid: Option.some(intent.space),
          originatingIdentity: Option.none()
        }
        const reply = run(
          intent.instanceId,
          (s, id) =>
            decideProvision(
              env,
              s,
              {
                instanceId: intent.instanceId,
                target,
                parameters,
                organizationGuid: intent.org,
                spaceGuid: intent.space,
                context: undefined,
                maintenanceInfo: undefined,
                originatingIdentity: undefined,
                acceptsIncomplete: intent.accepts === true,
                mode: stepOf(target.plan.id, "provision")!.mode,
                dashboardUrl: work.dashboardUrl?.(ctx),
                ctx
              },
              now,
              id
            ),
          (ran) => json(ran._tag === "Done" ? 200 : 201, dashboard(intent.instanceId))
        )
        return withDashboard(intent.instanceId, reply)
      }
      case "Update":
        return run(
          intent.instanceId,
          (s, id) =>
            decideUpdate(
              env,
              s,
              {
                instanceId: intent.instanceId,
                serviceId: SERVICE,
                planId: intent.plan === undefined ? undefined : PLAN_ID[intent.plan],
                parameters: intent.parameters,
                maintenanceInfo: undefined,
                context: undefined,
                originatingIdentity: undefined,
                acceptsIncomplete: intent.accepts === true
              },
              now,
              id
            ),
          () => json(200, {})
        )
      case "Deprovision":
        return run(
          intent.instanceId,
          (s, id) =>
            decideDeprovision(
              env,
              s,
              {
                instanceId: intent.instanceId,
                originatingIdentity: undefined,
                acceptsIncomplete: intent.accepts === true
              },
              now,
              id
            ),
          () => json(200, {})
        )
      case "Bind": {
        const target = planOf(PLAN_ID[intent.plan])
        return run(
          intent.instanceId,
          (s, id) =>
            decideBind(
              env,
              s,
              {
                instanceId: intent.instanceId,
                bindingId: intent.bindingId,
                target,
                serviceId: SERVICE,
                planId: target.plan.id,
                parameters: intent.parameters,
                appGuid: intent.app,
                route: undefined,
                bindResource: intent.app === undefined ? undefined : { app_guid: intent.app },
                context: undefined,
                predecessorBindingId: undefined,
                originatingIdentity: undefined,
                acceptsIncomplete: intent.accepts === true,
                mode: stepOf(target.plan.id, "bind")!.mode
              },
              now,
              id
            ),
          (ran) =>
            json(
              ran._tag === "Done" ? 200 : 201,
              ran._tag === "Done"
                ? ran.value.response
                : snapshot(intent.instanceId).bindings.get(intent.bindingId)?.response
            )
        )
      }
      case "Unbind":
        return run(
          intent.instanceId,
          (s, id) =>
            decideUnbind(
              env,
              s,
              {
                instanceId: intent.instanceId,
                bindingId: intent.bindingId,
                originatingIdentity: undefined,
                acceptsIncomplete: intent.accepts === true
              },
              now,
              id
            ),
          () => json(200, {})
        )
      case "GetInstance":
        return Either.match(fetchableInstance(env, snapshot(intent.instanceId)), {
          onLeft: refused,
          onRight: (record) => json(200, defaultFetchInstance(record))
        })
      case "GetBinding":
        return Either.match(fetchableBinding(env, snapshot(intent.instanceId), intent.bindingId), {
          onLeft: refused,
          onRight: (binding) => json(200, { ...binding.response, parameters: binding.parameters })
        })
      case "LastOperation":
        return Either.match(
          pollInstance(env, snapshot(intent.instanceId), Option.fromNullable(intent.operation), now),
          { onLeft: refused, onRight: (state) => json(200, state) }
        )
      case "LastBindingOperation":
        return Either.match(
          pollBinding(env, snapshot(intent.instanceId), intent.bindingId, Option.fromNullable(intent.operation), now),
          { onLeft: refused, onRight: (state) => json(200, state) }
        )
    }
  }

  /** Moves the clock; running work finishes in the order of its end times. */
  const advance = (seconds: number) => {
    const target = now + seconds * 1000
    for (;;) {
      const next = [...running.values()]
        .filter((r) => r.finishAt <= target)
        .sort((a, b) => a.finishAt - b.finishAt || a.seq - b.seq)[0]
      if (next === undefined) break
      running.delete(next.key)
      now = next.finishAt
      finish(next.instanceId, next.operation, next.output)
    }
    now = target
  }

  return {
    send: (intent) => Effect.sync(() => send(intent)),
    advance: (seconds) => Effect.sync(() => advance(seconds))
  }
}

// -----------------------------------------------------------------------------
// the properties
// -----------------------------------------------------------------------------

describe("engine decisions vs the OSB model (no store, no HTTP)", () => {
  it.effect.prop(
    "the decisions agree with the model on random request sequences (status, error code, operations, state)",
    { commands: commandsArb },
    ({ commands }) => Effect.asVoid(replay(decisions(), [...commands, ...sweep()])),
    { fastCheck: { numRuns: 300 } }
  )

  it.effect("the generated sequences reach every branch of the model (the property is not vacuous)", () =>
    Effect.gen(function*() {
      const missing = yield* missedBranches(Effect.sync(decisions), 200, 17)
      expect(missing, `branches no sequence reached: ${missing.join("; ")}`).toEqual([])
    }))
})
