/**
 * The reference model of the OSB state machine as the managed broker answers it, shared by the tests that hold a
 * system to it: `test/managed.model.property.test.ts` (the managed broker over the real router) and
 * `test/engine.model.property.test.ts` (the engine's pure decisions, with no store and no HTTP).
 *
 * The model, written from the spec checklist (docs/requirements.md §5-§15) and the library decisions
 * (docs/decisions.md 23-31), predicts the answer to every request of a random sequence of provision / update /
 * deprovision / bind / unbind / fetch / last_operation requests, interleaved with clock advances, for the quick
 * start's offering (examples/managed-broker.ts: plan `small` synchronous, plan `large` asynchronous for every
 * operation, taking DELAY seconds). Each request is an {@link Intent} (what the platform asks, in domain terms);
 * {@link httpRequest} turns it into the HTTP request a platform sends. The answer is compared as a `Reply`: every
 * status code must agree; 202 answers must carry the operation the model expects (a new one, or the running one for
 * a repeat); last_operation states, fetched plans, parameters and credentials must agree; and a final sweep (now,
 * after every operation settled, after the tombstones expired) compares the final state of every resource.
 *
 * The model does not import the engine: where the spec is silent it follows docs/decisions.md, where those are
 * silent too it states the reading it takes (comments marked "reading:").
 */
import { Effect, FastCheck as fc } from "effect"
import { expect } from "vitest"
import { LARGE_PLAN_ID, SERVICE_ID, SMALL_PLAN_ID } from "../../examples/quickstart-catalog.js"
import type { Reply } from "./http.js"

// -----------------------------------------------------------------------------
// the offering the model describes
// -----------------------------------------------------------------------------

/** Seconds every operation of plan `large` takes. */
export const DELAY = 10
/** Seconds a deleted resource answers 410 on last_operation (decision 29) before it is unknown (404). */
export const TTL = 60

export const SERVICE = SERVICE_ID
export type Plan = "small" | "large"
export const PLAN_ID: Record<Plan, string> = { small: SMALL_PLAN_ID, large: LARGE_PLAN_ID }
export const isAsyncPlan = (plan: Plan): boolean => plan === "large"

/** The dashboard URL the quick start's work gives an instance. */
export const dashboardUrl = (instanceId: string) =>
  `https://dashboard.example.com/instances/${encodeURIComponent(instanceId)}`

// -----------------------------------------------------------------------------
// commands
// -----------------------------------------------------------------------------

const INSTANCES = ["i-1", "i-2"] as const
const BINDINGS = ["b-1", "b-2"] as const
/** Parameters: absent, empty, and a few tiny objects (absent and `{}` are the same provision, decision 23). */
const PARAMETERS: ReadonlyArray<Record<string, unknown> | undefined> = [undefined, {}, { a: 1 }, { a: 2 }, { b: 1 }]
const APPS: ReadonlyArray<string | undefined> = [undefined, "app-1", "app-2"]
const ORGS = ["org-1", "org-2"] as const

/** `accepts_incomplete`: true, false, or absent (which means false). */
export type Accepts = true | false | undefined
/**
 * Which `operation` a last_operation request sends: none (the latest), one the broker named in a 202 for this
 * resource, one it named for any resource, or one it never named.
 */
type OpPick =
  | { readonly _tag: "Latest" }
  | { readonly _tag: "Own"; readonly index: number }
  | { readonly _tag: "Any"; readonly index: number }
  | { readonly _tag: "Bogus" }

export type Command =
  | {
    readonly _tag: "Provision"
    readonly i: number
    readonly plan: Plan
    readonly params: number
    readonly org: number
    /** Sent with the attributes the model's instance has now (if any) instead of plan, params and org. */
    readonly current: boolean
    readonly accepts: Accepts
  }
  | {
    readonly _tag: "Update"
    readonly i: number
    readonly plan: Plan | null
    readonly params: number | null
    readonly accepts: Accepts
  }
  | { readonly _tag: "Deprovision"; readonly i: number; readonly accepts: Accepts }
  | {
    readonly _tag: "Bind"
    readonly i: number
    readonly b: number
    /** The plan sent when the model knows no instance (otherwise the instance's plan, as a platform sends). */
    readonly plan: Plan
    readonly params: number
    readonly app: number
    readonly existing: number | null
    /** With `existing`: sent with the attributes of that binding (a re-sent PUT). */
    readonly current: boolean
    readonly accepts: Accepts
  }
  | {
    readonly _tag: "Unbind"
    readonly i: number
    readonly b: number
    /** When set and the model knows bindings: the `existing % count`-th of them instead of (i, b). */
    readonly existing: number | null
    readonly accepts: Accepts
  }
  | { readonly _tag: "GetInstance"; readonly i: number }
  | { readonly _tag: "GetBinding"; readonly i: number; readonly b: number; readonly existing: number | null }
  | { readonly _tag: "LastOperation"; readonly i: number; readonly op: OpPick }
  | {
    readonly _tag: "LastBindingOperation"
    readonly i: number
    readonly b: number
    readonly existing: number | null
    readonly op: OpPick
  }
  | { readonly _tag: "Advance"; readonly seconds: number }
  /** The platform sends again one of its last mutating requests (`back` = 0 is the latest), as retries do. */
  | { readonly _tag: "Repeat"; readonly back: number }

type Mutation = Extract<Command, { _tag: "Provision" | "Update" | "Deprovision" | "Bind" | "Unbind" }>

/** Biased towards the first ids, so requests meet the resources earlier requests made. */
const iArb = fc.constantFrom(0, 0, 0, 1)
const bArb = fc.constantFrom(0, 0, 1)
const planArb = fc.constantFrom<Plan>("small", "large")
const acceptsArb = fc.constantFrom<Accepts>(true, true, true, false, undefined)
/** Biased towards few distinct values, so identical repeats are frequent. */
const paramsArb = fc.constantFrom(0, 2, 2, 2, 3, 1, 4)
/** Often a binding the model knows, so binding requests meet bindings in every state. */
const existingArb = fc.option(fc.nat(3), { freq: 2, nil: null })
const opPickArb: fc.Arbitrary<OpPick> = fc.oneof(
  { weight: 3, arbitrary: fc.constant({ _tag: "Latest" } as const) },
  { weight: 4, arbitrary: fc.nat(7).map((index) => ({ _tag: "Own", index }) as const) },
  { weight: 1, arbitrary: fc.nat(20).map((index) => ({ _tag: "Any", index }) as const) },
  { weight: 1, arbitrary: fc.constant({ _tag: "Bogus" } as const) }
)

const commandArb: fc.Arbitrary<Command> = fc.oneof(
  {
    weight: 5,
    arbitrary: fc.record({
      _tag: fc.constant("Provision" as const),
      i: iArb,
      plan: planArb,
      params: paramsArb,
      org: fc.constantFrom(0, 0, 0, 1),
      current: fc.boolean(),
      accepts: acceptsArb
    })
  },
  {
    weight: 3,
    arbitrary: fc.record({
      _tag: fc.constant("Update" as const),
      i: iArb,
      plan: fc.constantFrom<Plan | null>(null, null, "small", "large"),
      params: fc.constantFrom<number | null>(null, 2, 3, 4, 1),
      accepts: acceptsArb
    })
  },
  { weight: 3, arbitrary: fc.record({ _tag: fc.constant("Deprovision" as const), i: iArb, accepts: acceptsArb }) },
  {
    weight: 5,
    arbitrary: fc.record({
      _tag: fc.constant("Bind" as const),
      i: iArb,
      b: bArb,
      plan: planArb,
      params: paramsArb,
      app: fc.constantFrom(0, 1, 1, 1, 2),
      existing: fc.option(fc.nat(3), { freq: 3, nil: null }),
      current: fc.boolean(),
      accepts: acceptsArb
    })
  },
  {
    weight: 4,
    arbitrary: fc.record({
      _tag: fc.constant("Unbind" as const),
      i: iArb,
      b: bArb,
      existing: existingArb,
      accepts: acceptsArb
    })
  },
  { weight: 1, arbitrary: fc.record({ _tag: fc.constant("GetInstance" as const), i: iArb }) },
  {
    weight: 2,
    arbitrary: fc.record({ _tag: fc.constant("GetBinding" as const), i: iArb, b: bArb, existing: existingArb })
  },
  { weight: 2, arbitrary: fc.record({ _tag: fc.constant("LastOperation" as const), i: iArb, op: opPickArb }) },
  {
    weight: 2,
    arbitrary: fc.record({
      _tag: fc.constant("LastBindingOperation" as const),
      i: iArb,
      b: bArb,
      existing: existingArb,
      op: opPickArb
    })
  },
  {
    weight: 5,
    arbitrary: fc.record({
      _tag: fc.constant("Advance" as const),
      seconds: fc.constantFrom(1, 5, 9, 10, 10, 11, 30, 61)
    })
  },
  { weight: 6, arbitrary: fc.record({ _tag: fc.constant("Repeat" as const), back: fc.constantFrom(0, 0, 0, 0, 1, 2) }) }
)

/**
 * Up to 25 requests and clock moves. Most sequences start by provisioning the first instance (and often binding
 * to it once it is ready), so that what follows meets resources more often than not.
 */
export const commandsArb: fc.Arbitrary<ReadonlyArray<Command>> = fc.tuple(
  fc.option(
    fc.record({
      _tag: fc.constant("Provision" as const),
      i: fc.constant(0),
      plan: planArb,
      params: paramsArb,
      org: fc.constant(0),
      current: fc.constant(false),
      accepts: fc.constant<Accepts>(true)
    }),
    { freq: 4, nil: undefined }
  ),
  fc.option(fc.constant({ _tag: "Advance" as const, seconds: DELAY }), { freq: 2, nil: undefined }),
  fc.option(
    fc.record({
      _tag: fc.constant("Bind" as const),
      i: fc.constant(0),
      b: fc.constant(0),
      plan: planArb,
      params: paramsArb,
      app: fc.constant(1),
      existing: fc.constant(null),
      current: fc.constant(false),
      accepts: fc.constant<Accepts>(true)
    }),
    { freq: 2, nil: undefined }
  ),
  fc.array(commandArb, { minLength: 1, maxLength: 22, size: "max" })
).map(([provision, advance, bind, rest]): ReadonlyArray<Command> =>
  provision === undefined
    ? rest
    : [provision, ...(advance === undefined ? [] : [advance]), ...(bind === undefined ? [] : [bind]), ...rest]
)

/** After the sequence: every resource, now, once every operation settled, and once every tombstone expired. */
export const sweep = (): ReadonlyArray<Command> => {
  const once: Array<Command> = []
  // the latest operation, and the first two the broker named, of every resource
  const picks: ReadonlyArray<OpPick> = [{ _tag: "Latest" }, { _tag: "Own", index: 0 }, { _tag: "Own", index: 1 }]
  for (let i = 0; i < INSTANCES.length; i++) {
    once.push({ _tag: "GetInstance", i }, ...picks.map((op): Command => ({ _tag: "LastOperation", i, op })))
    for (let b = 0; b < BINDINGS.length; b++) {
      once.push(
        { _tag: "GetBinding", i, b, existing: null },
        ...picks.map((op): Command => ({ _tag: "LastBindingOperation", i, b, existing: null, op }))
      )
    }
  }
  return [
    ...once,
    { _tag: "Advance", seconds: DELAY + 1 },
    ...once,
    { _tag: "Advance", seconds: TTL + 1 },
    ...once
  ]
}

// -----------------------------------------------------------------------------
// the reference model
// -----------------------------------------------------------------------------

type OpState = "in progress" | "succeeded" | "failed"
type OpKind = "provision" | "update" | "deprovision" | "bind" | "unbind"

interface ModelOp {
  readonly kind: OpKind
  readonly instance: string
  readonly binding: string | undefined
  readonly async: boolean
  readonly seq: number
  /** When a running asynchronous operation finishes (ms on the model clock). */
  readonly finishAt: number
  state: OpState
  /** The id the broker gave it in its 202 answer (synchronous operations are never named to the client). */
  id: string | undefined
}

interface ModelInstance {
  state: "provisioning" | "ready" | "updating" | "deprovisioning"
  plan: Plan
  parameters: Record<string, unknown>
  readonly org: string
  /**
   * What makes a provision identical (decision 23, README): plan, parameters (absent = {}), organization, space, as
   * the instance has them now (a finished update changes them).
   */
  provisionKey: string
  /** The latest operation. */
  op: ModelOp
  pending: { readonly plan: Plan; readonly parameters: Record<string, unknown>; readonly key: string } | undefined
}

interface ModelBinding {
  state: "binding" | "ready" | "unbinding"
  readonly plan: Plan
  readonly parameters: Record<string, unknown>
  /** What makes a bind identical (decision 24): plan, parameters (absent = {}), app guid. */
  readonly key: string
  /** What the bind sent. */
  readonly sent: { readonly parameters: Record<string, unknown> | undefined; readonly app: string | undefined }
  op: ModelOp
  /** The bind finished (the binding was complete at least once). */
  complete: boolean
  /** The credentials, once the client has seen them (they must never change afterwards). */
  credentials: unknown
}

/** What the model expects a request to be answered with. */
export interface Expectation {
  readonly status: number
  /** For 422: the `error` codes the model accepts (several when more than one condition holds at once). */
  readonly codes?: ReadonlyArray<string>
  /** Checks of the answer's body; may teach the model the ids and credentials the broker chose. */
  readonly then?: (reply: Reply) => void
}

/**
 * What a request asks, in domain terms (ids, plan, parameters, `accepts_incomplete`), as the model resolved a
 * command: {@link httpRequest} makes the HTTP request of it, the engine test the decision's input.
 */
export type Intent =
  | {
    readonly _tag: "Provision"
    readonly instanceId: string
    readonly plan: Plan
    readonly parameters: Record<string, unknown> | undefined
    readonly org: string
    readonly space: string
    readonly accepts: Accepts
  }
  | {
    readonly _tag: "Update"
    readonly instanceId: string
    readonly plan: Plan | undefined
    readonly parameters: Record<string, unknown> | undefined
    readonly accepts: Accepts
  }
  /** `plan`: the plan the DELETE's query names. */
  | { readonly _tag: "Deprovision"; readonly instanceId: string; readonly plan: Plan; readonly accepts: Accepts }
  | {
    readonly _tag: "Bind"
    readonly instanceId: string
    readonly bindingId: string
    readonly plan: Plan
    readonly parameters: Record<string, unknown> | undefined
    readonly app: string | undefined
    readonly accepts: Accepts
  }
  | {
    readonly _tag: "Unbind"
    readonly instanceId: string
    readonly bindingId: string
    readonly plan: Plan
    readonly accepts: Accepts
  }
  | { readonly _tag: "GetInstance"; readonly instanceId: string }
  | { readonly _tag: "GetBinding"; readonly instanceId: string; readonly bindingId: string }
  | { readonly _tag: "LastOperation"; readonly instanceId: string; readonly operation: string | undefined }
  | {
    readonly _tag: "LastBindingOperation"
    readonly instanceId: string
    readonly bindingId: string
    readonly operation: string | undefined
  }

/** An HTTP request of the OSB API (path with its query string). */
export interface HttpRequest {
  readonly method: string
  readonly path: string
  readonly body?: unknown
}

const query = (entries: Record<string, string | undefined>): string => {
  const parts = Object.entries(entries).filter(([, v]) => v !== undefined).map(([k, v]) =>
    `${k}=${encodeURIComponent(v!)}`
  )
  return parts.length === 0 ? "" : `?${parts.join("&")}`
}
const acceptsQuery = (accepts: Accepts): string | undefined => accepts === undefined ? undefined : String(accepts)

const instancePath = (instanceId: string) => `/v2/service_instances/${instanceId}`
const bindingPath = (instanceId: string, bindingId: string) =>
  `${instancePath(instanceId)}/service_bindings/${bindingId}`

/** The HTTP request a platform sends for an intent. */
export const httpRequest = (intent: Intent): HttpRequest => {
  switch (intent._tag) {
    case "Provision":
      return {
        method: "PUT",
        path: `${instancePath(intent.instanceId)}${query({ accepts_incomplete: acceptsQuery(intent.accepts) })}`,
        body: {
          service_id: SERVICE,
          plan_id: PLAN_ID[intent.plan],
          organization_guid: intent.org,
          space_guid: intent.space,
          ...(intent.parameters === undefined ? {} : { parameters: intent.parameters })
        }
      }
    case "Update":
      return {
        method: "PATCH",
        path: `${instancePath(intent.instanceId)}${query({ accepts_incomplete: acceptsQuery(intent.accepts) })}`,
        body: {
          service_id: SERVICE,
          ...(intent.plan === undefined ? {} : { plan_id: PLAN_ID[intent.plan] }),
          ...(intent.parameters === undefined ? {} : { parameters: intent.parameters })
        }
      }
    case "Deprovision":
    case "Unbind":
      return {
        method: "DELETE",
        path: `${
          intent._tag === "Deprovision"
            ? instancePath(intent.instanceId)
            : bindingPath(intent.instanceId, intent.bindingId)
        }${
          query({
            service_id: SERVICE,
            plan_id: PLAN_ID[intent.plan],
            accepts_incomplete: acceptsQuery(intent.accepts)
          })
        }`
      }
    case "Bind":
      return {
        method: "PUT",
        path: `${bindingPath(intent.instanceId, intent.bindingId)}${
          query({ accepts_incomplete: acceptsQuery(intent.accepts) })
        }`,
        body: {
          service_id: SERVICE,
          plan_id: PLAN_ID[intent.plan],
          ...(intent.parameters === undefined ? {} : { parameters: intent.parameters }),
          ...(intent.app === undefined ? {} : { bind_resource: { app_guid: intent.app } })
        }
      }
    case "GetInstance":
      return { method: "GET", path: instancePath(intent.instanceId) }
    case "GetBinding":
      return { method: "GET", path: bindingPath(intent.instanceId, intent.bindingId) }
    case "LastOperation":
      return {
        method: "GET",
        path: `${instancePath(intent.instanceId)}/last_operation${query({ operation: intent.operation })}`
      }
    case "LastBindingOperation":
      return {
        method: "GET",
        path: `${bindingPath(intent.instanceId, intent.bindingId)}/last_operation${
          query({ operation: intent.operation })
        }`
      }
  }
}

/** A request the model made of a command, and the answer it expects. */
export interface Step {
  readonly request: Intent
  readonly expect: Expectation
}

/** Canonical JSON (sorted keys), to compare request attributes. */
const canonical = (value: unknown): string => {
  if (value === null || typeof value !== "object") return JSON.stringify(value) ?? "null"
  if (Array.isArray(value)) return `[${value.map(canonical).join(",")}]`
  const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined)
  entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(",")}}`
}

const provisionKey = (plan: Plan, parameters: Record<string, unknown>, org: string) =>
  canonical({ plan, parameters, org, space: "space-1" })

const CONCURRENCY = "ConcurrencyError"
const ASYNC_REQUIRED = "AsyncRequired"

/**
 * The branches of the model; the coverage test checks that the generated sequences reach every one of them, so
 * the property cannot pass by never getting anywhere.
 */
export const BRANCHES = [
  "provision: created (sync)",
  "provision: accepted (async)",
  "provision: identical, exists",
  "provision: identical, still provisioning, repeated",
  "provision: identical, still provisioning, no accepts_incomplete",
  "provision: different attributes",
  "provision: while updating",
  "provision: while deprovisioning",
  "provision: async without accepts_incomplete",
  "provision: again after a delete",
  "update: unknown instance",
  "update: sync",
  "update: async",
  "update: plan change",
  "update: repeated while running",
  "update: instance busy",
  "update: async without accepts_incomplete",
  "deprovision: unknown instance",
  "deprovision: sync",
  "deprovision: async",
  "deprovision: repeated while running",
  "deprovision: stops a running provision",
  "deprovision: while updating",
  "deprovision: bindings busy",
  "deprovision: takes bindings with it",
  "deprovision: async without accepts_incomplete",
  "bind: unknown instance",
  "bind: instance busy",
  "bind: created (sync)",
  "bind: accepted (async)",
  "bind: identical, exists",
  "bind: identical, still binding, repeated",
  "bind: different attributes",
  "bind: while unbinding",
  "bind: async without accepts_incomplete",
  "unbind: unknown binding",
  "unbind: sync",
  "unbind: async",
  "unbind: repeated while running",
  "unbind: stops a running bind",
  "unbind: instance being deprovisioned",
  "unbind: async without accepts_incomplete",
  "get instance: unknown",
  "get instance: provisioning",
  "get instance: updating",
  "get instance: deprovisioning",
  "get instance: ready",
  "get binding: unknown",
  "get binding: bind in progress or stopped",
  "get binding: ready",
  "get binding: unbinding",
  "last_operation: unknown",
  "last_operation: gone",
  "last_operation: latest",
  "last_operation: named",
  "last_operation: named, unknown",
  "last_operation: named, instance gone",
  "binding last_operation: unknown",
  "binding last_operation: gone",
  "binding last_operation: latest",
  "binding last_operation: named",
  "binding last_operation: named, unknown",
  "binding last_operation: named, binding gone",
  "finished: provision",
  "finished: update",
  "finished: deprovision",
  "finished: bind",
  "finished: unbind",
  "tombstone expired"
] as const
export type Branch = typeof BRANCHES[number]

class Model {
  /** Model clock, ms since the start of the run. */
  now = 0
  private seq = 0
  readonly instances = new Map<string, ModelInstance>()
  readonly bindings = new Map<string, ModelBinding>()
  /** When each deleted instance was deleted. */
  readonly instanceTombstones = new Map<string, number>()
  /**
   * When each deleted binding was deleted: by its unbind, or with its instance (decision 31). Reading: a binding
   * that existed is "gone" (410) for the tombstone time, and a binding id never seen is unknown (404) (decision 29,
   * LO: "resource never existed -> 404"), also when its instance is gone.
   */
  readonly bindingTombstones = new Map<string, number>()
  readonly ops: Array<ModelOp> = []
  /** Operation ids in the order the broker named them in 202 answers. */
  readonly seen: Array<string> = []
  readonly covered = new Set<Branch>()

  private bkey = (i: string, b: string) => `${i}/${b}`

  private at(branch: Branch, status: number, rest: Omit<Expectation, "status"> = {}): Expectation {
    this.covered.add(branch)
    return { status, ...rest }
  }

  private newOp(kind: OpKind, instance: string, binding: string | undefined, async: boolean): ModelOp {
    const op: ModelOp = {
      kind,
      instance,
      binding,
      async,
      seq: this.seq++,
      finishAt: async ? this.now + DELAY * 1000 : this.now,
      state: async ? "in progress" : "succeeded",
      id: undefined
    }
    this.ops.push(op)
    return op
  }

  /** Whether a tombstone still answers 410: kept for TTL seconds after the delete. */
  private live(deletedAt: number | undefined): boolean {
    if (deletedAt === undefined) return false
    if (this.now - deletedAt <= TTL * 1000) return true
    this.covered.add("tombstone expired")
    return false
  }

  /** A new asynchronous operation: the 202 names a fresh, non-empty operation id. */
  private learn(op: ModelOp) {
    return (reply: Reply) => {
      const id = reply.body?.operation
      expect(typeof id === "string" && id.length > 0, "a 202 answer names its operation").toBe(true)
      expect(this.seen.includes(id), `operation ${id} is new`).toBe(false)
      op.id = id
      this.seen.push(id)
    }
  }

  /** A repeat of a running operation: the 202 names the same operation (ASY-4). */
  private same(op: ModelOp) {
    return (reply: Reply) => {
      expect(reply.body?.operation, "a repeated request names the running operation").toBe(op.id)
    }
  }

  private bindingsOf(i: string): Array<[string, ModelBinding]> {
    return [...this.bindings].filter(([key]) => key.startsWith(`${i}/`))
  }

  private deleteInstance(i: string) {
    this.instances.delete(i)
    this.instanceTombstones.set(i, this.now)
    for (const [key] of this.bindingsOf(i)) {
      this.covered.add("deprovision: takes bindings with it")
      this.bindings.delete(key)
      this.bindingTombstones.set(key, this.now)
    }
  }

  private complete(op: ModelOp) {
    op.state = "succeeded"
    this.covered.add(`finished: ${op.kind}`)
    const instance = this.instances.get(op.instance)
    switch (op.kind) {
      case "provision":
        instance!.state = "ready"
        break
      case "update":
        instance!.state = "ready"
        instance!.plan = instance!.pending!.plan
        instance!.parameters = instance!.pending!.parameters
        instance!.provisionKey = provisionKey(instance!.plan, instance!.parameters, instance!.org)
        instance!.pending = undefined
        break
      case "deprovision":
        this.deleteInstance(op.instance)
        break
      case "bind": {
        const binding = this.bindings.get(this.bkey(op.instance, op.binding!))!
        binding.state = "ready"
        binding.complete = true
        break
      }
      case "unbind": {
        const key = this.bkey(op.instance, op.binding!)
        this.bindings.delete(key)
        this.bindingTombstones.set(key, this.now)
        break
      }
    }
  }

  /** Moves the clock; running operations finish in the order of their end times. */
  advance(ms: number) {
    const target = this.now + ms
    for (;;) {
      const next = this.ops
        .filter((op) => op.state === "in progress" && op.finishAt <= target)
        .sort((a, b) => a.finishAt - b.finishAt || a.seq - b.seq)[0]
      if (next === undefined) break
      this.now = next.finishAt
      this.complete(next)
    }
    this.now = target
  }

  /** The request a command makes, and the answer the model expects; the model moves as the request asks. */
  step(command: Exclude<Command, { _tag: "Advance" | "Repeat" }>): Step {
    switch (command._tag) {
      case "Provision":
        return this.provision(command)
      case "Update":
        return this.update(command)
      case "Deprovision":
        return this.deprovision(command)
      case "Bind":
        return this.bind(command)
      case "Unbind":
        return this.unbind(command)
      case "GetInstance":
        return this.getInstance(command)
      case "GetBinding":
        return this.getBinding(command)
      case "LastOperation":
        return this.lastOperation(command)
      case "LastBindingOperation":
        return this.lastBindingOperation(command)
    }
  }

  private provision(c: Extract<Command, { _tag: "Provision" }>): Step {
    const i = INSTANCES[c.i]!
    const now = c.current ? this.instances.get(i) : undefined
    const plan = now?.plan ?? c.plan
    const parameters = now?.parameters ?? PARAMETERS[c.params]
    const org = now?.org ?? ORGS[c.org]!
    const request: Intent = {
      _tag: "Provision",
      instanceId: i,
      plan,
      parameters,
      org,
      space: "space-1",
      accepts: c.accepts
    }
    const key = provisionKey(plan, parameters ?? {}, org)
    const dashboard = (reply: Reply) =>
      expect(reply.body?.dashboard_url, "dashboard_url (PRV 5.3)").toBe(dashboardUrl(i))
    const accepts = c.accepts === true
    const existing = this.instances.get(i)
    if (existing !== undefined) {
      // decision 27: a PUT while the instance is being deprovisioned is refused for concurrency, whatever its
      // attributes (it may succeed once the delete is done)
      if (existing.state === "deprovisioning") {
        return { request, expect: this.at("provision: while deprovisioning", 422, { codes: [CONCURRENCY] }) }
      }
      // exists or is being provisioned with different attributes: 409 (PRV, spec MUST)
      if (existing.provisionKey !== key) return { request, expect: this.at("provision: different attributes", 409) }
      switch (existing.state) {
        case "ready":
          return { request, expect: this.at("provision: identical, exists", 200, { then: dashboard }) }
        case "provisioning":
          // re-sent PUT while provisioning: 202 with the same operation (ASY-4); without accepts_incomplete the
          // broker can neither answer 202 nor finish synchronously
          return accepts
            ? {
              request,
              expect: this.at("provision: identical, still provisioning, repeated", 202, {
                then: (r) => (dashboard(r), this.same(existing.op)(r))
              })
            }
            : {
              request,
              expect: this.at("provision: identical, still provisioning, no accepts_incomplete", 422, {
                codes: [ASYNC_REQUIRED, CONCURRENCY]
              })
            }
        case "updating":
          // reading: an identical PUT while an update runs is refused for concurrency (ASY-6)
          return { request, expect: this.at("provision: while updating", 422, { codes: [CONCURRENCY] }) }
      }
    }
    if (isAsyncPlan(plan) && !accepts) {
      return {
        request,
        expect: this.at("provision: async without accepts_incomplete", 422, { codes: [ASYNC_REQUIRED] })
      }
    }
    if (this.instanceTombstones.has(i)) this.covered.add("provision: again after a delete")
    const op = this.newOp("provision", i, undefined, isAsyncPlan(plan))
    this.instances.set(i, {
      state: op.async ? "provisioning" : "ready",
      plan,
      parameters: parameters ?? {},
      org,
      provisionKey: key,
      op,
      pending: undefined
    })
    // reading (IDS-1): an id provisioned again after its delete is a new instance, which knows nothing of the
    // old instance or its bindings (their ids are unknown to it: 404)
    this.instanceTombstones.delete(i)
    for (const key of [...this.bindingTombstones.keys()]) {
      if (key.startsWith(`${i}/`)) this.bindingTombstones.delete(key)
    }
    return op.async
      ? {
        request,
        expect: this.at("provision: accepted (async)", 202, { then: (r) => (dashboard(r), this.learn(op)(r)) })
      }
      : { request, expect: this.at("provision: created (sync)", 201, { then: dashboard }) }
  }

  private update(c: Extract<Command, { _tag: "Update" }>): Step {
    const i = INSTANCES[c.i]!
    const parameters = c.params === null ? undefined : PARAMETERS[c.params]
    const request: Intent = {
      _tag: "Update",
      instanceId: i,
      plan: c.plan ?? undefined,
      parameters,
      accepts: c.accepts
    }
    const accepts = c.accepts === true
    const instance = this.instances.get(i)
    if (instance === undefined) return { request, expect: this.at("update: unknown instance", 404) } // decision 25
    const target = c.plan ?? instance.plan
    // reading: the target plan's work decides sync or async; a re-sent PATCH is the same body
    const asyncRequired = isAsyncPlan(target) && !accepts
    const busy = (): Step => ({
      request,
      expect: this.at("update: instance busy", 422, {
        codes: asyncRequired ? [CONCURRENCY, ASYNC_REQUIRED] : [CONCURRENCY]
      })
    })
    const key = canonical({ plan: c.plan, parameters: parameters ?? null })
    switch (instance.state) {
      case "provisioning":
      case "deprovisioning":
        return busy()
      case "updating":
        return accepts && instance.pending?.key === key
          ? { request, expect: this.at("update: repeated while running", 202, { then: this.same(instance.op) }) }
          : busy()
      case "ready":
        break
    }
    if (asyncRequired) {
      return { request, expect: this.at("update: async without accepts_incomplete", 422, { codes: [ASYNC_REQUIRED] }) }
    }
    if (target !== instance.plan) this.covered.add("update: plan change")
    // reading: parameters given are merged into the current ones (shallow), absent ones change nothing (UPD)
    const merged = { ...instance.parameters, ...parameters }
    const op = this.newOp("update", i, undefined, isAsyncPlan(target))
    instance.op = op
    if (op.async) {
      instance.state = "updating"
      instance.pending = { plan: target, parameters: merged, key }
      return { request, expect: this.at("update: async", 202, { then: this.learn(op) }) }
    }
    instance.plan = target
    instance.parameters = merged
    instance.provisionKey = provisionKey(target, merged, instance.org)
    return { request, expect: this.at("update: sync", 200) }
  }

  private deprovision(c: Extract<Command, { _tag: "Deprovision" }>): Step {
    const i = INSTANCES[c.i]!
    const instance = this.instances.get(i)
    const request: Intent = { _tag: "Deprovision", instanceId: i, plan: instance?.plan ?? "small", accepts: c.accepts }
    const accepts = c.accepts === true
    if (instance === undefined) return { request, expect: this.at("deprovision: unknown instance", 410) }
    // reading: the work of the plan the instance has decides sync or async
    const async = isAsyncPlan(instance.plan)
    const asyncRequired = async && !accepts
    const busy = (branch: Branch): Step => ({
      request,
      expect: this.at(branch, 422, { codes: asyncRequired ? [CONCURRENCY, ASYNC_REQUIRED] : [CONCURRENCY] })
    })
    switch (instance.state) {
      case "deprovisioning":
        return accepts
          ? { request, expect: this.at("deprovision: repeated while running", 202, { then: this.same(instance.op) }) }
          : busy("deprovision: repeated while running")
      case "updating":
        return busy("deprovision: while updating")
      case "provisioning": {
        // DEP-4: a delete accepted during provisioning stops the creation (the provision reports failed)
        if (!accepts) return busy("deprovision: stops a running provision")
        this.covered.add("deprovision: stops a running provision")
        instance.op.state = "failed"
        break
      }
      case "ready":
        // reading: bindings being created or deleted make the instance busy (ASY-6)
        if (this.bindingsOf(i).some(([, b]) => b.state !== "ready")) return busy("deprovision: bindings busy")
        if (asyncRequired) {
          return {
            request,
            expect: this.at("deprovision: async without accepts_incomplete", 422, { codes: [ASYNC_REQUIRED] })
          }
        }
        break
    }
    const op = this.newOp("deprovision", i, undefined, async)
    instance.op = op
    if (op.async) {
      instance.state = "deprovisioning"
      return { request, expect: this.at("deprovision: async", 202, { then: this.learn(op) }) }
    }
    this.deleteInstance(i) // decision 31: the bindings go with it
    return { request, expect: this.at("deprovision: sync", 200, { then: (r) => expect(r.body).toEqual({}) }) }
  }

  private bind(c: Extract<Command, { _tag: "Bind" }>): Step {
    const [i, b] = this.target(c)
    const instance = this.instances.get(i)
    const resent = c.current ? this.bindings.get(this.bkey(i, b)) : undefined
    // reading: a platform binds with the instance's plan
    const plan = resent?.plan ?? instance?.plan ?? c.plan
    const parameters = resent === undefined ? PARAMETERS[c.params] : resent.sent.parameters
    const app = resent === undefined ? APPS[c.app] : resent.sent.app
    const request: Intent = { _tag: "Bind", instanceId: i, bindingId: b, plan, parameters, app, accepts: c.accepts }
    const accepts = c.accepts === true
    const async = isAsyncPlan(plan)
    const asyncRequired = async && !accepts
    const busy = (branch: Branch): Step => ({
      request,
      expect: this.at(branch, 422, { codes: asyncRequired ? [CONCURRENCY, ASYNC_REQUIRED] : [CONCURRENCY] })
    })
    if (instance === undefined) return { request, expect: this.at("bind: unknown instance", 404) } // decision 26
    if (instance.state === "provisioning" || instance.state === "deprovisioning") {
      return busy("bind: instance busy") // decision 26
    }
    const key = canonical({ plan, parameters: parameters ?? {}, app: app ?? null })
    const existing = this.bindings.get(this.bkey(i, b))
    if (existing !== undefined) {
      // BND: exists or is being created with different attributes
      if (existing.key !== key) return { request, expect: this.at("bind: different attributes", 409) }
      switch (existing.state) {
        case "ready":
          return { request, expect: this.at("bind: identical, exists", 200, { then: this.credentials(existing) }) }
        case "binding":
          return accepts
            ? {
              request,
              expect: this.at("bind: identical, still binding, repeated", 202, { then: this.same(existing.op) })
            }
            : busy("bind: identical, still binding, repeated")
        case "unbinding":
          return busy("bind: while unbinding")
      }
    }
    if (asyncRequired) {
      return { request, expect: this.at("bind: async without accepts_incomplete", 422, { codes: [ASYNC_REQUIRED] }) }
    }
    const op = this.newOp("bind", i, b, async)
    const binding: ModelBinding = {
      state: async ? "binding" : "ready",
      plan,
      parameters: parameters ?? {},
      key,
      sent: { parameters, app },
      op,
      complete: !async,
      credentials: undefined
    }
    this.bindings.set(this.bkey(i, b), binding)
    if (async) {
      // BND 9.2: a 202 carries no binding data
      return {
        request,
        expect: this.at("bind: accepted (async)", 202, {
          then: (r) => (this.learn(op)(r), expect(r.body?.credentials, "no credentials in a 202").toBeUndefined())
        })
      }
    }
    return { request, expect: this.at("bind: created (sync)", 201, { then: this.credentials(binding) }) }
  }

  /** The credentials of a binding never change once seen (an identical bind returns the same ones). */
  private credentials(binding: ModelBinding) {
    return (reply: Reply) => {
      const credentials = reply.body?.credentials
      expect(typeof credentials === "object" && credentials !== null, "the answer carries credentials").toBe(true)
      if (binding.credentials === undefined) binding.credentials = credentials
      else expect(credentials, "the same credentials as before").toEqual(binding.credentials)
    }
  }

  /** The binding a command means: one the model knows (`existing`), or (i, b). */
  private target(c: { readonly i: number; readonly b: number; readonly existing: number | null }): [string, string] {
    const known = [...this.bindings.keys()]
    return c.existing !== null && known.length > 0
      ? known[c.existing % known.length]!.split("/") as [string, string]
      : [INSTANCES[c.i]!, BINDINGS[c.b]!]
  }

  private unbind(c: Extract<Command, { _tag: "Unbind" }>): Step {
    const [i, b] = this.target(c)
    const instance = this.instances.get(i)
    const binding = this.bindings.get(this.bkey(i, b))
    const request: Intent = {
      _tag: "Unbind",
      instanceId: i,
      bindingId: b,
      plan: binding?.plan ?? instance?.plan ?? "small",
      accepts: c.accepts
    }
    const accepts = c.accepts === true
    if (binding === undefined) return { request, expect: this.at("unbind: unknown binding", 410) }
    // reading: the work of the plan the binding was made with decides sync or async
    const async = isAsyncPlan(binding.plan)
    const asyncRequired = async && !accepts
    const busy = (branch: Branch): Step => ({
      request,
      expect: this.at(branch, 422, { codes: asyncRequired ? [CONCURRENCY, ASYNC_REQUIRED] : [CONCURRENCY] })
    })
    if (instance?.state === "deprovisioning") return busy("unbind: instance being deprovisioned")
    switch (binding.state) {
      case "unbinding":
        return accepts
          ? { request, expect: this.at("unbind: repeated while running", 202, { then: this.same(binding.op) }) }
          : busy("unbind: repeated while running")
      case "binding":
        // UNB-3: an unbind accepted while the bind runs stops the bind (the bind reports failed)
        if (!accepts) return busy("unbind: stops a running bind")
        this.covered.add("unbind: stops a running bind")
        binding.op.state = "failed"
        break
      case "ready":
        if (asyncRequired) {
          return {
            request,
            expect: this.at("unbind: async without accepts_incomplete", 422, { codes: [ASYNC_REQUIRED] })
          }
        }
        break
    }
    const op = this.newOp("unbind", i, b, async)
    binding.op = op
    if (async) {
      binding.state = "unbinding"
      return { request, expect: this.at("unbind: async", 202, { then: this.learn(op) }) }
    }
    this.bindings.delete(this.bkey(i, b))
    this.bindingTombstones.set(this.bkey(i, b), this.now)
    return { request, expect: this.at("unbind: sync", 200, { then: (r) => expect(r.body).toEqual({}) }) }
  }

  private getInstance(c: Extract<Command, { _tag: "GetInstance" }>): Step {
    const i = INSTANCES[c.i]!
    const request: Intent = { _tag: "GetInstance", instanceId: i }
    const instance = this.instances.get(i)
    if (instance === undefined) return { request, expect: this.at("get instance: unknown", 404) }
    switch (instance.state) {
      case "provisioning": // GI: provisioning still in progress
        return { request, expect: this.at("get instance: provisioning", 404) }
      case "updating": // GI: being updated
        return { request, expect: this.at("get instance: updating", 422, { codes: [CONCURRENCY] }) }
      case "deprovisioning": // decision 28
        return { request, expect: this.at("get instance: deprovisioning", 422, { codes: [CONCURRENCY] }) }
      case "ready":
        return {
          request,
          expect: this.at("get instance: ready", 200, {
            then: (r) => {
              expect(r.body?.service_id).toBe(SERVICE)
              expect(r.body?.plan_id, "the instance's plan").toBe(PLAN_ID[instance.plan])
              expect(r.body?.parameters, "the instance's parameters").toEqual(instance.parameters)
              expect(r.body?.dashboard_url).toBe(dashboardUrl(i))
            }
          })
        }
    }
  }

  private getBinding(c: Extract<Command, { _tag: "GetBinding" }>): Step {
    const [i, b] = this.target(c)
    const request: Intent = { _tag: "GetBinding", instanceId: i, bindingId: b }
    const binding = this.bindings.get(this.bkey(i, b))
    if (binding === undefined) return { request, expect: this.at("get binding: unknown", 404) }
    // GB: the bind is still in progress: 404. Reading: while an unbind runs, a binding that was complete still
    // exists (GB-2 allows 404 or 200); one whose bind the unbind stopped never was complete (UNB-3): 404
    if (!binding.complete) return { request, expect: this.at("get binding: bind in progress or stopped", 404) }
    return {
      request,
      expect: this.at(binding.state === "unbinding" ? "get binding: unbinding" : "get binding: ready", 200, {
        then: (r) => {
          expect(r.body?.parameters, "the binding's parameters").toEqual(binding.parameters)
          this.credentials(binding)(r)
        }
      })
    }
  }

  /** The `operation` a last_operation request sends, and the model's operation of that id (if any). */
  private pick(pick: OpPick, own: (op: ModelOp) => boolean): string | undefined {
    const named = (ops: ReadonlyArray<ModelOp>) => ops.flatMap((op) => (op.id === undefined ? [] : [op.id]))
    switch (pick._tag) {
      case "Latest":
        return undefined
      case "Bogus":
        return "no-such-operation"
      case "Own": {
        const ids = named(this.ops.filter(own))
        return ids.length === 0 ? undefined : ids[pick.index % ids.length]
      }
      case "Any":
        return this.seen.length === 0 ? undefined : this.seen[pick.index % this.seen.length]
    }
  }

  private stateIs(op: ModelOp) {
    return (reply: Reply) => expect(reply.body?.state, "last_operation state").toBe(op.state)
  }

  private lastOperation(c: Extract<Command, { _tag: "LastOperation" }>): Step {
    const i = INSTANCES[c.i]!
    const own = (op: ModelOp) => op.instance === i && op.binding === undefined
    const operation = this.pick(c.op, own)
    const request: Intent = { _tag: "LastOperation", instanceId: i, operation }
    const instance = this.instances.get(i)
    // decision 30: a known operation of this instance answers its own state
    const op = operation === undefined ? undefined : this.ops.find((o) => o.id === operation && own(o))
    if (instance === undefined) {
      if (!this.live(this.instanceTombstones.get(i))) {
        return { request, expect: this.at("last_operation: unknown", 404) } // decision 29
      }
      // decision 29: once deleted, 410 for the delete's operation (or none); DEP-4 / decision 30: an operation the
      // delete did not name (e.g. the create it stopped) still answers its own state
      return op === undefined || op.kind === "deprovision"
        ? { request, expect: this.at("last_operation: gone", 410) }
        : { request, expect: this.at("last_operation: named, instance gone", 200, { then: this.stateIs(op) }) }
    }
    if (operation === undefined) {
      return { request, expect: this.at("last_operation: latest", 200, { then: this.stateIs(instance.op) }) }
    }
    return op === undefined
      ? { request, expect: this.at("last_operation: named, unknown", 400) }
      : { request, expect: this.at("last_operation: named", 200, { then: this.stateIs(op) }) }
  }

  private lastBindingOperation(c: Extract<Command, { _tag: "LastBindingOperation" }>): Step {
    const [i, b] = this.target(c)
    const own = (op: ModelOp) => op.instance === i && op.binding === b
    const operation = this.pick(c.op, own)
    const request: Intent = { _tag: "LastBindingOperation", instanceId: i, bindingId: b, operation }
    const binding = this.bindings.get(this.bkey(i, b))
    const op = operation === undefined ? undefined : this.ops.find((o) => o.id === operation && own(o))
    if (binding === undefined) {
      if (!this.live(this.bindingTombstones.get(this.bkey(i, b)))) {
        return { request, expect: this.at("binding last_operation: unknown", 404) }
      }
      // as for instances (UNB-3 / decision 30): the unbind's operation (or none) answers 410, another one its state
      return op === undefined || op.kind === "unbind"
        ? { request, expect: this.at("binding last_operation: gone", 410) }
        : { request, expect: this.at("binding last_operation: named, binding gone", 200, { then: this.stateIs(op) }) }
    }
    if (operation === undefined) {
      return { request, expect: this.at("binding last_operation: latest", 200, { then: this.stateIs(binding.op) }) }
    }
    return op === undefined
      ? { request, expect: this.at("binding last_operation: named, unknown", 400) }
      : { request, expect: this.at("binding last_operation: named", 200, { then: this.stateIs(op) }) }
  }
}

// -----------------------------------------------------------------------------
// replay
// -----------------------------------------------------------------------------

/** The system a sequence is replayed against: it answers intents and moves its clock. */
export interface System<R = never> {
  readonly send: (request: Intent) => Effect.Effect<Reply, never, R>
  readonly advance: (seconds: number) => Effect.Effect<void, never, R>
}

const isMutation = (c: Command): c is Mutation =>
  c._tag === "Provision" || c._tag === "Update" || c._tag === "Deprovision" || c._tag === "Bind" || c._tag === "Unbind"

const describeCommand = (c: Command): string => {
  const { _tag, ...rest } = c
  return `${_tag} ${JSON.stringify(rest)}`
}

/**
 * Replays commands against a system and the model; fails at the first disagreement, with the trace. Returns the
 * model's branches the sequence reached.
 */
export const replay = <R>(system: System<R>, commands: ReadonlyArray<Command>) =>
  Effect.gen(function*() {
    const model = new Model()
    const trace: Array<string> = []
    const sent: Array<Mutation> = []
    for (const next of commands) {
      const command = next._tag === "Repeat" ? sent[sent.length - 1 - next.back] : next
      if (command === undefined) continue
      if (command._tag === "Advance") {
        yield* system.advance(command.seconds)
        model.advance(command.seconds * 1000)
        trace.push(`+${command.seconds}s (t=${model.now / 1000}s)`)
        continue
      }
      if (next._tag !== "Repeat" && isMutation(command)) sent.push(command)
      const { expect: expected, request } = model.step(command)
      const reply = yield* system.send(request)
      const http = httpRequest(request)
      trace.push(`${describeCommand(command)}: ${http.method} ${http.path} -> ${reply.status} ${reply.text}`)
      const where = `step ${trace.length} (expected ${expected.status}${
        expected.codes === undefined ? "" : ` ${expected.codes.join("|")}`
      })\n${trace.join("\n")}`
      expect(reply.status, where).toBe(expected.status)
      if (expected.codes !== undefined) expect(expected.codes, where).toContain(reply.body?.error)
      try {
        expected.then?.(reply)
      } catch (e) {
        throw new Error(`${String(e instanceof Error ? e.message : e)}\nat ${where}`)
      }
    }
    return model.covered
  })

/**
 * Replays `count` sequences from a fixed seed, each against a fresh system (in its own scope), and returns the branches of the model no
 * sequence reached (the coverage check: the property cannot pass by never getting anywhere).
 */
export const missedBranches = <R, E, R2>(
  fresh: Effect.Effect<System<R>, E, R2>,
  count: number,
  seed: number
) =>
  Effect.gen(function*() {
    const covered = new Set<Branch>()
    for (const commands of fc.sample(commandsArb, { numRuns: count, seed })) {
      const branches = yield* Effect.scoped(
        Effect.flatMap(fresh, (system) => replay(system, [...commands, ...sweep()]))
      )
      for (const branch of branches) covered.add(branch)
    }
    return BRANCHES.filter((branch) => !covered.has(branch))
  })
