/**
 * Starts a throw-away PostgreSQL cluster (own directory, free loopback port) for this test run, unless
 * EFFECT_OSB_TEST_PG_URL already names one (as .ci/run does).
 */
import { execFileSync } from "node:child_process"
import { mkdtempSync } from "node:fs"
import { createServer } from "node:net"
import { tmpdir } from "node:os"
import { join } from "node:path"

let cluster: { readonly dir: string; readonly port: string } | undefined

const freePort = () =>
  new Promise<number>((resolve, reject) => {
    const server = createServer()
    server.once("error", reject)
    server.listen(0, "127.0.0.1", () => {
      const address = server.address()
      server.close(() => resolve(typeof address === "object" && address !== null ? address.port : 0))
    })
  })

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
