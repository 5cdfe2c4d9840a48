/**
 * Test and soak support: a throw-away PostgreSQL cluster of one's own (own directory, free loopback port), started,
 * stopped and resumed with its data through scripts/pg-test-cluster.sh, for fault tests and the soak, which stop
 * the database.
 */
import { execFileSync } from "node:child_process"
import { existsSync, mkdtempSync } from "node:fs"
import { tmpdir } from "node:os"
import { dirname, join } from "node:path"
import { fileURLToPath } from "node:url"
import { freePort } from "./net.js"

export interface PgCluster {
  readonly url: string
  readonly port: number
  /** The cluster's data directory. */
  readonly dir: string
  /** Stops the server: `fast` (clients disconnected, clean shutdown) or `immediate` (like a crash). */
  readonly stop: (mode?: "fast" | "immediate") => void
  /** Starts the stopped server again with its data; returns when it accepts connections. */
  readonly resume: () => void
}

/**
 * scripts/pg-test-cluster.sh, found from this module upwards: it runs from test/support/ and compiled from
 * dist-soak/test/support/ alike.
 */
const clusterScript = (): string => {
  for (let dir = dirname(fileURLToPath(import.meta.url)); dirname(dir) !== dir; dir = dirname(dir)) {
    const script = join(dir, "scripts", "pg-test-cluster.sh")
    if (existsSync(script)) return script
  }
  throw new Error("scripts/pg-test-cluster.sh not found above test/support/pgCluster")
}

/** Starts a cluster in `dir` (default: a fresh temporary directory) on a free port. */
export const startPgCluster = async (
  dir: string = join(mkdtempSync(join(tmpdir(), "osb-pg-own-")), "cluster")
): Promise<PgCluster> => {
  const port = await freePort()
  const script = clusterScript()
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
    dir,
    stop: (mode = "fast") => void run("stop", { PGSTOP_MODE: mode }),
    resume: () => void run("resume")
  }
}
