/**
 * Test support for the security tests: the shared compiled quick start (test/support/build.ts), spawned on the memory store; raw
 * HTTP over sockets (slow clients, bodies that never come, chosen source addresses); the RSS of a process.
 */
import { readFileSync } from "node:fs"
import { connect, type Socket } from "node:net"
import { AUTHORIZATION_OF, type BrokerProcess, startBroker } from "./brokerProcess.js"
import { sharedQuickstart } from "./build.js"

/** Spawns the compiled quick start on the memory store with more environment. */
export const spawnQuickstart = async (name: string, env: Readonly<Record<string, string>> = {}) =>
  startBroker({
    name,
    script: await sharedQuickstart(),
    store: "memory",
    delayMs: 0,
    leaseTtlMs: 30_000,
    takeoverIntervalMs: 10_000,
    env
  })

/** Resident set size of a process, in bytes (Linux). */
export const rss = (pid: number): number => {
  const line = readFileSync(`/proc/${pid}/status`, "utf8").split("\n").find((l) => l.startsWith("VmRSS:"))
  return Number(/(\d+)/.exec(line ?? "")?.[1] ?? 0) * 1024
}

/** The Basic authorization header of the spawned brokers. */
export const AUTHORIZATION = AUTHORIZATION_OF

/** What a raw socket received, and when it closed (ms after it connected), if it did. */
export interface RawConnection {
  readonly socket: Socket
  readonly received: () => string
  /** Resolves with the ms after connecting at which the server closed (or reset) the connection. */
  readonly closed: Promise<number>
  readonly status: () => number | undefined
}

/** Opens a socket to the broker (optionally from a chosen local address) and collects what comes back. */
export const openRaw = (broker: BrokerProcess, localAddress?: string): Promise<RawConnection> =>
  new Promise((resolve, reject) => {
    const started = Date.now()
    const socket = connect({
      host: "127.0.0.1",
      port: broker.port,
      ...(localAddress === undefined ? {} : { localAddress })
    })
    let received = ""
    socket.setEncoding("latin1")
    socket.on("data", (d: string) => (received += d))
    const closed = new Promise<number>((done) => socket.once("close", () => done(Date.now() - started)))
    socket.on("error", () => {})
    socket.once("connect", () =>
      resolve({
        socket,
        received: () => received,
        closed,
        status: () => {
          const match = /^HTTP\/1\.1 (\d{3})/.exec(received)
          return match === null ? undefined : Number(match[1])
        }
      }))
    socket.once("error", reject)
  })

/** Writes without failing when the peer has closed. */
export const writeQuietly = (socket: Socket, data: string | Buffer): Promise<void> =>
  new Promise((resolve) => {
    if (socket.destroyed || !socket.writable) return resolve()
    socket.write(data, () => resolve())
  })

/** The head of a request. */
export const head = (method: string, path: string, headers: Readonly<Record<string, string>>): string =>
  `${method} ${path} HTTP/1.1\r\nhost: 127.0.0.1\r\n${
    Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join("")
  }\r\n`

/** A valid provision body of the quick start's synchronous plan, with extra JSON text for its parameters. */
export const provisionText = (parameters: string): string =>
  `{"service_id":"5b2c7e1c-6a3f-4d8e-9a51-0c7f1f0d2a10","plan_id":"0f4e4a8e-8d54-4f6b-a3a9-3b8f52f6c5a1",` +
  `"organization_guid":"o","space_guid":"s","parameters":${parameters}}`
