/**
 * Test support: a throw-away PostgreSQL cluster of one's own (own directory, free loopback port), started,
 * stopped and resumed with its data through scripts/pg-test-cluster.sh, for fault tests that stop the database.
 */
import { execFileSync } from "node:child_process"
import { mkdtempSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { freePort } from "./net.js"

export interface PgCluster {
  readonly url: string
  readonly port: number
  /** Stops the server: `fast` (clients disconnected, clean shutdown) or `immediate` (like a crash). */
  readonly stop: (mode?: "fast" | "immediate") => void
  /** Starts the stopped server again with its data; returns when it accepts connections. */
  readonly resume: () => void
}

const script = new URL("../../scripts/pg-test-cluster.sh", import.meta.url).pathname

export const startPgCluster = async (): Promise<PgCluster> => {
  const dir = join(mkdtempSync(join(tmpdir(), "osb-pg-own-")), "cluster")
  const port = await freePort()
  const run = (command: string, extra: Record<string, string> = {}) =>
    execFileSync("bash", [script, command], {
      encoding: "utf8",
      env: { ...process.env, PGPORT: String(port), PGTEST_DIR: dir, ...extra },
      stdio: ["ignore", "pipe", "ignore"]
    }).trim()
  const url = run("start")
  return {
    url,
    port,
    stop: (mode = "fast") => void run("stop", { PGSTOP_MODE: mode }),
    resume: () => void run("resume")
  }
}
