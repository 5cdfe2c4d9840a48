/**
 * The soak's processes: a throw-away PostgreSQL cluster (test/support/pgCluster.ts: own directory, free port) and
 * replicas of the compiled quick start (dist/examples/quickstart.js), each on a fixed port so a restarted replica
 * answers where it did before.
 */
import { type ChildProcess, spawn } from "node:child_process"
import { createWriteStream, mkdtempSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { freePort } from "../test/support/net.js"
import { type PgCluster, startPgCluster } from "../test/support/pgCluster.js"

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))

export { freePort }

/** The soak's PostgreSQL cluster. */
export type Cluster = PgCluster

/** Starts the soak's PostgreSQL cluster under `root`. */
export const startCluster = (root: string): Promise<Cluster> => startPgCluster(join(root, "pg"))

export const makeRoot = (): string => mkdtempSync(join(tmpdir(), "osb-soak-"))

export interface ReplicaSettings {
  readonly script: string
  readonly store: string
  readonly delayMs: number
  readonly leaseTtlMs: number
  readonly takeoverIntervalMs: number
  readonly username: string
  readonly password: string
  readonly logDir: string
}

/** One replica slot: a port and the process currently serving it (if any). */
export class Replica {
  child: ChildProcess | undefined
  exited: Promise<void> = Promise.resolve()
  starts = 0
  output = ""
  constructor(readonly index: number, readonly port: number, readonly settings: ReplicaSettings) {}

  get alive(): boolean {
    return this.child !== undefined
  }

  async start(): Promise<void> {
    const log = createWriteStream(join(this.settings.logDir, `replica-${this.index}.log`), { flags: "a" })
    const child = spawn(process.execPath, [this.settings.script], {
      env: {
        ...process.env,
        PORT: String(this.port),
        HOST: "127.0.0.1",
        BROKER_USERNAME: this.settings.username,
        BROKER_PASSWORD: this.settings.password,
        BROKER_STORE: this.settings.store,
        QUICKSTART_DELAY_MS: String(this.settings.delayMs),
        BROKER_LEASE_TTL_MS: String(this.settings.leaseTtlMs),
        BROKER_TAKEOVER_INTERVAL_MS: String(this.settings.takeoverIntervalMs),
        BROKER_REQUEST_LOG: "false"
      },
      stdio: ["ignore", "pipe", "pipe"]
    })
    this.starts++
    this.child = child
    let startOutput = ""
    const onData = (d: Buffer) => {
      const text = d.toString()
      startOutput += text
      this.output += text
      log.write(text)
    }
    child.stdout!.on("data", onData)
    child.stderr!.on("data", onData)
    this.exited = new Promise((resolve) =>
      child.once("exit", () => {
        if (this.child === child) this.child = undefined
        log.end()
        resolve()
      })
    )
    const deadline = Date.now() + 30_000
    while (!startOutput.includes("Listening on") && this.child === child && Date.now() < deadline) await sleep(25)
    if (!startOutput.includes("Listening on")) {
      throw new Error(`replica ${this.index} did not start:\n${startOutput}`)
    }
  }

  /** kill -9, and wait until the process is gone. */
  async kill9(): Promise<void> {
    this.child?.kill("SIGKILL")
    await this.exited
  }

  /** SIGTERM (the replica drains, then exits); resolves when it exited. */
  async terminate(): Promise<void> {
    this.child?.kill("SIGTERM")
    await this.exited
  }
}
