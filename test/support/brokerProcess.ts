/**
 * Test support for durability tests on real processes: spawns the compiled quick start (test/support/build.ts) on
 * a store with lease settings, speaks HTTP to it with Basic auth, polls, and kills every process it started.
 */
import { type ChildProcess, spawn } from "node:child_process"
import { LARGE_PLAN_ID, SERVICE_ID, SMALL_PLAN_ID } from "../../examples/managed-broker.js"

export { LARGE_PLAN_ID, SERVICE_ID, SMALL_PLAN_ID }

export const USERNAME = "durable-ops"
export const PASSWORD = "durable:pa55"
const AUTHORIZATION = `Basic ${Buffer.from(`${USERNAME}:${PASSWORD}`).toString("base64")}`
/** The `Authorization` header the spawned brokers accept. */
export const AUTHORIZATION_OF = AUTHORIZATION

import { type Reply, toReply } from "./http.js"
import { freePort } from "./net.js"
export { freePort }

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))

export type { Reply }

export interface BrokerProcess {
  readonly name: string
  readonly port: number
  readonly child: ChildProcess
  /** Everything the process wrote so far (stdout and stderr). */
  readonly output: () => string
  readonly running: () => boolean
  /** Resolves when the process has exited. */
  readonly exited: Promise<{ readonly code: number | null; readonly signal: NodeJS.Signals | null }>
  readonly call: (method: string, path: string, body?: unknown) => Promise<Reply>
}

const started: Array<BrokerProcess> = []

/** SIGKILLs every process started here that is still running (afterEach/afterAll). */
export const killAll = async (): Promise<void> => {
  const alive = started.splice(0).filter((p) => p.running())
  for (const p of alive) p.child.kill("SIGKILL")
  await Promise.all(alive.map((p) => p.exited))
}

/** SIGKILL, and wait until the process is gone. */
export const kill9 = async (broker: BrokerProcess): Promise<void> => {
  broker.child.kill("SIGKILL")
  await broker.exited
}

export interface StartOptions {
  readonly name: string
  readonly script: string
  /** BROKER_STORE */
  readonly store: string
  readonly delayMs: number
  readonly leaseTtlMs: number
  readonly takeoverIntervalMs: number
  /** More environment variables (limits, throttle, log intervals, ...). */
  readonly env?: Readonly<Record<string, string>>
}

/** Spawns the compiled quick start on a fresh port and waits for its "Listening on" line. */
export const startBroker = async (options: StartOptions): Promise<BrokerProcess> => {
  const port = await freePort()
  const child = spawn(process.execPath, [options.script], {
    env: {
      ...process.env,
      PORT: String(port),
      HOST: "127.0.0.1",
      BROKER_USERNAME: USERNAME,
      BROKER_PASSWORD: PASSWORD,
      BROKER_STORE: options.store,
      QUICKSTART_DELAY_MS: String(options.delayMs),
      BROKER_LEASE_TTL_MS: String(options.leaseTtlMs),
      BROKER_TAKEOVER_INTERVAL_MS: String(options.takeoverIntervalMs),
      ...options.env
    },
    stdio: ["ignore", "pipe", "pipe"]
  })
  let output = ""
  let alive = true
  child.stdout!.on("data", (d) => (output += d))
  child.stderr!.on("data", (d) => (output += d))
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once("exit", (code, signal) => {
      alive = false
      resolve({ code, signal })
    })
  )
  const base = `http://127.0.0.1:${port}`
  const call = async (method: string, path: string, body?: unknown): Promise<Reply> => {
    const headers: Record<string, string> = { authorization: AUTHORIZATION, "x-broker-api-version": "2.17" }
    if (body !== undefined) headers["content-type"] = "application/json"
    const response = await fetch(`${base}${path}`, {
      method,
      headers,
      ...(body === undefined ? {} : { body: JSON.stringify(body) })
    })
    return toReply(response)
  }
  const broker: BrokerProcess = {
    name: options.name,
    port,
    child,
    output: () => output,
    running: () => alive,
    exited,
    call
  }
  started.push(broker)
  const deadline = Date.now() + 20_000
  while (!output.includes("Listening on") && alive && Date.now() < deadline) await sleep(20)
  if (!output.includes(`Listening on ${base}`)) {
    throw new Error(`broker ${options.name} did not start (alive=${alive}); its output:\n${output}`)
  }
  return broker
}

/**
 * Calls `probe` every `everyMs` until `done` holds for its result, or fails after `timeoutMs` with the last result.
 * Connection errors count as "not yet".
 */
export const pollUntil = async <A>(
  what: string,
  probe: () => Promise<A>,
  done: (a: A) => boolean,
  timeoutMs: number,
  everyMs = 100
): Promise<A> => {
  const deadline = Date.now() + timeoutMs
  let last: A | undefined
  let lastError: unknown
  while (Date.now() < deadline) {
    try {
      last = await probe()
      if (done(last)) return last
    } catch (error) {
      lastError = error
    }
    await sleep(everyMs)
  }
  throw new Error(
    `timed out after ${timeoutMs} ms waiting for ${what}; last result: ${JSON.stringify(last)}${
      lastError === undefined ? "" : `; last error: ${String(lastError)}`
    }`
  )
}

// --- the quick start's requests --------------------------------------------------------------------------------

export const AI = "accepts_incomplete=true"

export const provisionBody = (planId: string, parameters: Record<string, unknown> = {}) => ({
  service_id: SERVICE_ID,
  plan_id: planId,
  organization_guid: "org-durable",
  space_guid: "space-durable",
  parameters
})

export const bindBody = (planId: string) => ({
  service_id: SERVICE_ID,
  plan_id: planId,
  bind_resource: { app_guid: "app-durable" }
})

export const instancePath = (id: string, query?: string) =>
  `/v2/service_instances/${id}${query === undefined ? "" : `?${query}`}`
export const lastOperationPath = (id: string, operation: string) =>
  `/v2/service_instances/${id}/last_operation?operation=${encodeURIComponent(operation)}`
export const bindingPath = (id: string, bindingId: string, query?: string) =>
  `/v2/service_instances/${id}/service_bindings/${bindingId}${query === undefined ? "" : `?${query}`}`
export const bindingLastOperationPath = (id: string, bindingId: string, operation: string) =>
  `/v2/service_instances/${id}/service_bindings/${bindingId}/last_operation?operation=${encodeURIComponent(operation)}`
export const deleteQuery = (planId: string) => `service_id=${SERVICE_ID}&plan_id=${planId}`

/** Polls an operation (instance or binding) on `broker` until it is no longer in progress; returns when. */
export const settle = async (
  broker: BrokerProcess,
  path: string,
  timeoutMs: number
): Promise<{ readonly reply: Reply; readonly at: number }> => {
  const reply = await pollUntil(
    `${path} on ${broker.name} to finish`,
    () => broker.call("GET", path),
    (r) => r.status !== 200 || r.body?.state !== "in progress",
    timeoutMs
  )
  return { reply, at: Date.now() }
}
