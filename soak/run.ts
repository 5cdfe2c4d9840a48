/**
 * `npm run soak`: a fault soak of the managed broker (never part of `npm test`).
 *
 * Three replicas of the compiled quick start share a throw-away PostgreSQL cluster; virtual clients run random
 * lifecycles (provision, bind, unbind, deprovision; plan `small` synchronous, plan `large` asynchronous) and
 * duplicate-id races, against random replicas, retrying 503s and lost connections as a platform does; meanwhile
 * replicas are killed (kill -9) and stopped (SIGTERM) and restarted, PostgreSQL is restarted and stopped for ~10 s.
 * At the end, with every fault healed and the recovery bound waited out, the client-side ledger is checked against
 * the API and the database. Exit code 1 when a check failed.
 *
 * Environment: SOAK_SEED (default: random, printed), SOAK_PROFILE (`full`, default, or `short`, what CI runs),
 * SOAK_DURATION (seconds of load), SOAK_CLIENTS. Logs of every replica stay in the printed directory.
 */
import { existsSync } from "node:fs"
import pg from "pg"
import { checkApi, checkDatabase, checkServerErrors } from "./checks.js"
import { type Client, runClient } from "./client.js"
import { type Fault, profiles, runFaults } from "./faults.js"
import { Ledger } from "./ledger.js"
import { freePort, makeRoot, Replica, sleep, startCluster } from "./processes.js"
import { rng } from "./random.js"

const profileName = process.env["SOAK_PROFILE"] ?? "full"
const profile = profiles[profileName]
if (profile === undefined) throw new Error(`SOAK_PROFILE must be one of ${Object.keys(profiles).join(", ")}`)
const seed = Number(process.env["SOAK_SEED"] ?? Math.floor(Math.random() * 2 ** 31))
const durationMs = Number(process.env["SOAK_DURATION"] ?? profile.durationSeconds) * 1000
const clients = Number(process.env["SOAK_CLIENTS"] ?? profile.clients)
const delayMs = 400
const leaseTtlMs = 3000
const takeoverIntervalMs = 1000
/** The stated recovery bound: lease TTL + takeover interval + the work itself, plus the drain of a SIGTERM. */
const boundMs = leaseTtlMs + takeoverIntervalMs + delayMs
const username = "soak"
const password = "soak-password"

const main = async () => {
  const root = makeRoot()
  console.log(`soak: profile ${profileName}, seed ${seed} (SOAK_SEED=${seed} repeats the same choices)`)
  console.log(`soak: ${clients} clients for ${durationMs / 1000} s; faults: ${profile.describe}; logs in ${root}`)
  const script = new URL("../../dist/examples/quickstart.js", import.meta.url).pathname
  if (!existsSync(script)) throw new Error(`${script} is missing: run npm run build first (npm run soak does)`)
  const cluster = await startCluster(root)
  const ledger = new Ledger()
  const replicas: Array<Replica> = []
  for (let i = 0; i < 3; i++) {
    replicas.push(
      new Replica(i, await freePort(), {
        script,
        store: cluster.url,
        delayMs,
        leaseTtlMs,
        takeoverIntervalMs,
        username,
        password,
        logDir: root
      })
    )
  }
  let exitCode = 1
  try {
    await Promise.all(replicas.map((r) => r.start()))
    const started = Date.now()
    const end = started + durationMs
    const random = rng(seed)
    const client: Client = {
      replicas,
      ledger,
      authorization: `Basic ${Buffer.from(`${username}:${password}`).toString("base64")}`,
      seed
    }
    const workers = Array.from({ length: clients }, (_, i) => runClient(client, i, rng(seed + 1 + i), end))
    const faults: Array<Fault> = []
    const faulting = runFaults(profile, random, replicas, cluster, ledger, end, faults)
    await faulting
    await Promise.all(workers)
    // every fault healed: PostgreSQL up, every replica up
    for (const replica of replicas) if (!replica.alive) await replica.start()
    console.log(`soak: load done after ${((Date.now() - started) / 1000).toFixed(0)} s; waiting out the bound`)
    await sleep(boundMs + 3000)

    const db = new pg.Client({ connectionString: cluster.url })
    await db.connect()
    try {
      await checkDatabase(db, ledger, boundMs)
    } finally {
      await db.end()
    }
    await checkApi(client, ledger)
    checkServerErrors(ledger, 3000)
    exitCode = report(ledger, faults, replicas, started)
  } finally {
    for (const replica of replicas) await replica.kill9()
    cluster.stop("immediate")
  }
  process.exit(exitCode)
}

const sorted = (map: Map<string, number>) =>
  [...map.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => `${k}=${v}`).join(" ")

const report = (ledger: Ledger, faults: ReadonlyArray<Fault>, replicas: ReadonlyArray<Replica>, started: number) => {
  const instances = [...ledger.instances.values()]
  const bindings = instances.flatMap((i) => [...i.bindings.values()])
  const byState = <A extends { state: string }>(items: ReadonlyArray<A>) =>
    sorted(items.reduce((m, i) => m.set(i.state, (m.get(i.state) ?? 0) + 1), new Map<string, number>()))
  const logs = replicas.map((r) => r.output).join("")
  console.log("")
  console.log(`== soak report (seed ${seed}, profile ${profileName}, ${((Date.now() - started) / 1000).toFixed(0)} s)`)
  console.log(`requests: ${ledger.requests} (connection errors ${ledger.connectionErrors})`)
  console.log(`statuses: ${sorted(ledger.statuses)}`)
  console.log(`lifecycles: ${ledger.lifecycles}; races: ${ledger.races}; 202s: ${ledger.accepted.length}`)
  console.log(`outcomes: ${sorted(ledger.outcomes)}`)
  console.log(`instances: ${byState(instances)}; bindings: ${byState(bindings)}`)
  console.log(`faults: ${sorted(ledger.faults)} (${faults.map((f) => f.kind).join(", ")})`)
  console.log(
    `replica starts: ${replicas.map((r) => r.starts).join("/")}; replica log lines: store down ${
      (logs.match(/store down/g) ?? []).length
    }, store back ${(logs.match(/store back/g) ?? []).length}, ERROR ${(logs.match(/level=ERROR/g) ?? []).length}`
  )
  const kinds = new Map<string, number>()
  for (const v of ledger.violations) kinds.set(v.kind, (kinds.get(v.kind) ?? 0) + 1)
  console.log(`violations: ${ledger.violations.length}${kinds.size > 0 ? ` (${sorted(kinds)})` : ""}`)
  const shown = new Map<string, number>()
  for (const v of ledger.violations) {
    const n = shown.get(v.kind) ?? 0
    shown.set(v.kind, n + 1)
    if (n < 5) console.log(`  ${v.kind}: ${v.detail}`)
    else if (n === 5) console.log(`  ${v.kind}: ...`)
  }
  return ledger.violations.length === 0 ? 0 : 1
}

main().catch((error) => {
  console.error("soak: aborted:", error)
  process.exit(2)
})
