/**
 * Starts the throw-away PostgreSQL test cluster unless EFFECT_OSB_TEST_PG_URL already names one.
 */
import { execFileSync } from "node:child_process"

let started = false

export const setup = () => {
  if (process.env["EFFECT_OSB_TEST_PG_URL"]) return
  const url = execFileSync("bash", ["scripts/pg-test-cluster.sh", "start"], { encoding: "utf8" }).trim()
  process.env["EFFECT_OSB_TEST_PG_URL"] = url
  started = true
}

export const teardown = () => {
  if (started) execFileSync("bash", ["scripts/pg-test-cluster.sh", "stop"], { stdio: "ignore" })
}
