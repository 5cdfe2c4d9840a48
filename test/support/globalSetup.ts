/**
 * Starts a throw-away PostgreSQL cluster (own directory, free loopback port) for this test run, unless
 * EFFECT_OSB_TEST_PG_URL already names one (as .ci/run does).
 */
import { execFileSync } from "node:child_process"
import { mkdtempSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { freePort } from "./net.js"

let cluster: { readonly dir: string; readonly port: string } | undefined

export const setup = async () => {
  if (process.env["EFFECT_OSB_TEST_PG_URL"]) return
  const dir = join(mkdtempSync(join(tmpdir(), "osb-pg-")), "cluster")
  const port = String(await freePort())
  const url = execFileSync("bash", ["scripts/pg-test-cluster.sh", "start"], {
    encoding: "utf8",
    env: { ...process.env, PGPORT: port, PGTEST_DIR: dir },
    stdio: ["ignore", "pipe", "ignore"]
  }).trim()
  process.env["EFFECT_OSB_TEST_PG_URL"] = url
  cluster = { dir, port }
}

export const teardown = () => {
  if (cluster === undefined) return
  execFileSync("bash", ["scripts/pg-test-cluster.sh", "stop"], {
    env: { ...process.env, PGPORT: cluster.port, PGTEST_DIR: cluster.dir },
    stdio: "ignore"
  })
}
