/**
 * A virtual client of the soak: random lifecycles against random replicas, retrying what a platform retries
 * (503, a lost connection, 422 ConcurrencyError while an earlier operation finishes), recording in the ledger what
 * the broker acknowledged.
 */
import type { BindingEntry, InstanceEntry, Ledger } from "./ledger.js"
import type { Replica } from "./processes.js"
import { sleep } from "./processes.js"
import type { Random } from "./random.js"

export const SERVICE_ID = "5b2c7e1c-6a3f-4d8e-9a51-0c7f1f0d2a10"
export const PLAN_IDS = {
  small: "0f4e4a8e-8d54-4f6b-a3a9-3b8f52f6c5a1",
  large: "9c1d3f7a-2b6e-4c8d-8f0a-5e4b3a2c1d0e"
} as const

export interface Client {
  readonly replicas: ReadonlyArray<Replica>
  readonly ledger: Ledger
  readonly authorization: string
  readonly seed: number
}

export interface Reply {
  readonly status: number
  readonly body: any
  readonly text: string
  readonly replica: number
}

/** One HTTP request to one replica; `undefined` when the connection failed (the replica is down or was killed). */
export const call = async (
  client: Client,
  replica: number,
  method: string,
  path: string,
  body?: unknown
): Promise<Reply | undefined> => {
  const { ledger } = client
  const headers: Record<string, string> = { authorization: client.authorization, "x-broker-api-version": "2.17" }
  if (body !== undefined) headers["content-type"] = "application/json"
  ledger.requests++
  try {
    const response = await fetch(`http://127.0.0.1:${client.replicas[replica]!.port}${path}`, {
      method,
      headers,
      signal: AbortSignal.timeout(15_000),
      ...(body === undefined ? {} : { body: JSON.stringify(body) })
    })
    const text = await response.text()
    ledger.count(ledger.statuses, String(response.status))
    if (response.status >= 500) {
      ledger.serverErrors.push({
        at: Date.now(),
        replica,
        status: response.status,
        request: `${method} ${path}`,
        body: text.slice(0, 200)
      })
    }
    let json: unknown = undefined
    try {
      json = JSON.parse(text)
    } catch {
      // not JSON: kept as text
    }
    return { status: response.status, body: json, text, replica }
  } catch {
    ledger.connectionErrors++
    return undefined
  }
}

const retryable = (reply: Reply | undefined) =>
  reply === undefined || reply.status === 503 ||
  (reply.status === 422 && reply.body?.error === "ConcurrencyError")

/**
 * Sends a request until it gets an answer that is not retryable, on a random replica each time, with backoff;
 * gives up at `deadline` (returns the last answer).
 */
export const persist = async (
  client: Client,
  random: Random,
  method: string,
  path: string,
  body: unknown,
  deadline: number
): Promise<Reply | undefined> => {
  let wait = 100
  for (;;) {
    const reply = await call(client, random.int(0, client.replicas.length - 1), method, path, body)
    if (!retryable(reply) || Date.now() >= deadline) return reply
    await sleep(wait)
    wait = Math.min(wait * 2, 2000)
  }
}

const query = (plan: "small" | "large", async: boolean) =>
  `service_id=${SERVICE_ID}&plan_id=${PLAN_IDS[plan]}${async ? "&accepts_incomplete=true" : ""}`

const instancePath = (id: string) => `/v2/service_instances/${id}`
const bindingPath = (id: string, bindingId: string) => `/v2/service_instances/${id}/service_bindings/${bindingId}`

/** Polls last_operation until the operation is final: "succeeded", "failed", "gone" (410), or undefined. */
const pollFinal = async (
  client: Client,
  random: Random,
  path: string,
  operation: string,
  deadline: number
): Promise<string | undefined> => {
  while (Date.now() < deadline) {
    const reply = await persist(
      client,
      random,
      "GET",
      `${path}/last_operation?operation=${operation}`,
      undefined,
      deadline
    )
    if (reply?.status === 410) return "gone"
    if (reply?.status === 200 && reply.body?.state !== "in progress") return reply.body?.state
    await sleep(200)
  }
  return undefined
}

const outcome = (client: Client, step: string, result: string) =>
  client.ledger.count(client.ledger.outcomes, `${step}:${result}`)

/** Provision; records the instance as present when acknowledged. */
const provision = async (
  client: Client,
  random: Random,
  entry: InstanceEntry,
  parameters: Record<string, unknown>,
  deadline: number
) => {
  const async = entry.plan === "large"
  const reply = await persist(
    client,
    random,
    "PUT",
    `${instancePath(entry.id)}${async ? "?accepts_incomplete=true" : ""}`,
    {
      service_id: SERVICE_ID,
      plan_id: PLAN_IDS[entry.plan],
      organization_guid: "soak-org",
      space_guid: "soak-space",
      parameters
    },
    deadline
  )
  if (reply?.status === 201 || reply?.status === 200) {
    entry.state = "present"
    entry.parameters = parameters
    outcome(client, "provision", String(reply.status))
    return true
  }
  if (reply?.status === 202) {
    const operation = String(reply.body?.operation ?? "")
    client.ledger.accepted.push({
      instanceId: entry.id,
      bindingId: undefined,
      kind: "provision",
      operation,
      at: Date.now()
    })
    const final = await pollFinal(client, random, instancePath(entry.id), operation, deadline)
    outcome(client, "provision", `202-${final ?? "unfinished"}`)
    if (final === "succeeded") {
      entry.state = "present"
      entry.parameters = parameters
      return true
    }
    return false
  }
  outcome(client, "provision", reply === undefined ? "no-answer" : String(reply.status))
  return false
}

const bind = async (client: Client, random: Random, entry: InstanceEntry, binding: BindingEntry, deadline: number) => {
  const async = entry.plan === "large"
  const path = bindingPath(entry.id, binding.id)
  const reply = await persist(client, random, "PUT", `${path}${async ? "?accepts_incomplete=true" : ""}`, {
    service_id: SERVICE_ID,
    plan_id: PLAN_IDS[entry.plan],
    bind_resource: { app_guid: "soak-app" }
  }, deadline)
  if (reply?.status === 201 || reply?.status === 200) {
    binding.state = "present"
    binding.credentials = reply.body?.credentials
    outcome(client, "bind", String(reply.status))
    return
  }
  if (reply?.status === 202) {
    const operation = String(reply.body?.operation ?? "")
    client.ledger.accepted.push({
      instanceId: entry.id,
      bindingId: binding.id,
      kind: "bind",
      operation,
      at: Date.now()
    })
    const final = await pollFinal(client, random, path, operation, deadline)
    outcome(client, "bind", `202-${final ?? "unfinished"}`)
    if (final === "succeeded") {
      const fetched = await persist(client, random, "GET", path, undefined, deadline)
      if (fetched?.status === 200) {
        binding.state = "present"
        binding.credentials = fetched.body?.credentials
      }
    }
    return
  }
  outcome(client, "bind", reply === undefined ? "no-answer" : String(reply.status))
}

/** Unbind or deprovision: absent when acknowledged (200, 410, or a 202 whose operation ended in 410/succeeded). */
const remove = async (
  client: Client,
  random: Random,
  step: "unbind" | "deprovision",
  path: string,
  plan: "small" | "large",
  ids: { instanceId: string; bindingId: string | undefined },
  deadline: number
): Promise<boolean> => {
  const async = plan === "large"
  const reply = await persist(client, random, "DELETE", `${path}?${query(plan, async)}`, undefined, deadline)
  if (reply?.status === 200 || reply?.status === 410) {
    outcome(client, step, String(reply.status))
    return true
  }
  if (reply?.status === 202) {
    const operation = String(reply.body?.operation ?? "")
    client.ledger.accepted.push({ ...ids, kind: step, operation, at: Date.now() })
    const final = await pollFinal(client, random, path, operation, deadline)
    outcome(client, step, `202-${final ?? "unfinished"}`)
    return final === "gone" || final === "succeeded"
  }
  outcome(client, step, reply === undefined ? "no-answer" : String(reply.status))
  return false
}

const lifecycle = async (client: Client, index: number, random: Random, n: number, end: number) => {
  const { ledger } = client
  const plan = random.chance(0.5) ? "small" : "large"
  const entry = ledger.instance(`soak-${client.seed}-c${index}-${n}`, plan)
  const deadline = Math.max(end, Date.now()) + 45_000
  const parameters = { n, client: index, size: random.int(1, 64), tag: random.next().toString(36).slice(2, 8) }
  ledger.lifecycles++
  if (!(await provision(client, random, entry, parameters, deadline))) return
  if (random.chance(0.7)) {
    const binding: BindingEntry = { id: `b-${n}`, state: "unknown", credentials: undefined }
    entry.bindings.set(binding.id, binding)
    await bind(client, random, entry, binding, deadline)
    if (binding.state === "present" && random.chance(0.4)) {
      const path = bindingPath(entry.id, binding.id)
      if (
        await remove(client, random, "unbind", path, plan, { instanceId: entry.id, bindingId: binding.id }, deadline)
      ) {
        binding.state = "absent"
      } else binding.state = "unknown"
    }
  }
  if (random.chance(0.6)) {
    const ok = await remove(client, random, "deprovision", instancePath(entry.id), plan, {
      instanceId: entry.id,
      bindingId: undefined
    }, deadline)
    entry.state = ok ? "absent" : "unknown"
    // the quick start's deprovision removes the remaining bindings
    for (const binding of entry.bindings.values()) binding.state = ok ? "absent" : "unknown"
  }
}

/**
 * Two provisions of one new id at once, on two different replicas (plan small), identical or not: one creates it,
 * the other answers 200 (identical) or 409 (different). Judged only when neither needed a retry.
 */
const race = async (client: Client, index: number, random: Random, n: number) => {
  const { ledger } = client
  ledger.races++
  const entry = ledger.instance(`soak-${client.seed}-c${index}-${n}-race`, "small")
  const identical = random.chance(0.5)
  const a = random.int(0, client.replicas.length - 1)
  const b = (a + random.int(1, client.replicas.length - 1)) % client.replicas.length
  const body = (size: number) => ({
    service_id: SERVICE_ID,
    plan_id: PLAN_IDS.small,
    organization_guid: "soak-org",
    space_guid: "soak-space",
    parameters: { size }
  })
  const [first, second] = await Promise.all([
    call(client, a, "PUT", instancePath(entry.id), body(1)),
    call(client, b, "PUT", instancePath(entry.id), body(identical ? 1 : 2))
  ])
  if (first === undefined || second === undefined || first.status >= 500 || second.status >= 500) {
    outcome(client, "race", "interrupted")
    entry.state = "unknown"
    return
  }
  const statuses = [first.status, second.status].sort().join("+")
  outcome(client, "race", `${identical ? "identical" : "different"}:${statuses}`)
  const expected = identical ? "200+201" : "201+409"
  if (statuses !== expected) {
    ledger.violation("race-not-single", `${entry.id} (${identical ? "identical" : "different"} bodies): ${statuses}`)
    entry.state = "unknown"
    return
  }
  entry.state = "present"
  entry.parameters = { size: first.status === 201 ? 1 : identical ? 1 : 2 }
}

/** Runs lifecycles until `end`. */
export const runClient = async (client: Client, index: number, random: Random, end: number): Promise<void> => {
  let n = 0
  while (Date.now() < end) {
    n++
    if (random.chance(0.1)) await race(client, index, random, n)
    else await lifecycle(client, index, random, n, end)
  }
}
