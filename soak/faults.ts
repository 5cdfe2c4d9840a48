/**
 * The soak's faults, one at a time, at seeded random intervals until the load ends: kill -9 of a replica (restarted
 * after a pause), SIGTERM of a replica (it drains; restarted when it exited), a PostgreSQL restart, a PostgreSQL
 * crash (immediate stop) and restart, a ~10 s PostgreSQL stop. Each opens a fault window in the ledger, during
 * which 503s are expected.
 */
import type { Ledger } from "./ledger.js"
import type { Cluster, Replica } from "./processes.js"
import { sleep } from "./processes.js"
import type { Random } from "./random.js"

export type FaultKind = "kill9" | "sigterm" | "pg-restart" | "pg-crash" | "pg-stop-10s"

export interface Fault {
  readonly kind: FaultKind
  readonly at: number
  readonly replica: number | undefined
}

export interface Profile {
  readonly durationSeconds: number
  readonly clients: number
  /** Seconds between faults (min, max). */
  readonly gap: readonly [number, number]
  /** Relative weights of the fault kinds; the first faults are one of each kind with a weight, in seeded order. */
  readonly mix: Partial<Record<FaultKind, number>>
  readonly describe: string
}

export const profiles: Record<string, Profile> = {
  full: {
    durationSeconds: 180,
    clients: 20,
    gap: [5, 10],
    mix: { kill9: 3, sigterm: 2, "pg-restart": 2, "pg-crash": 1, "pg-stop-10s": 2 },
    describe: "kill -9, SIGTERM, PostgreSQL restart, crash and 10 s stop"
  },
  short: {
    durationSeconds: 60,
    clients: 8,
    gap: [5, 9],
    mix: { kill9: 3, sigterm: 2 },
    describe: "kill -9 and SIGTERM of replicas (no PostgreSQL faults: see README, Fault soak)"
  }
}

const choose = (random: Random, mix: Profile["mix"]): FaultKind => {
  const entries = Object.entries(mix) as Array<[FaultKind, number]>
  const total = entries.reduce((sum, [, w]) => sum + w, 0)
  let x = random.next() * total
  for (const [kind, weight] of entries) {
    x -= weight
    if (x < 0) return kind
  }
  return entries[entries.length - 1]![0]
}

const inject = async (
  kind: FaultKind,
  random: Random,
  replicas: ReadonlyArray<Replica>,
  cluster: Cluster,
  ledger: Ledger
): Promise<number | undefined> => {
  switch (kind) {
    case "kill9": {
      const replica = random.pick(replicas)
      await replica.kill9()
      await sleep(random.int(300, 2500))
      await replica.start()
      return replica.index
    }
    case "sigterm": {
      const replica = random.pick(replicas)
      const window = ledger.openWindow("drain", replica.index)
      await replica.terminate()
      window.end = Date.now()
      await sleep(random.int(200, 1500))
      await replica.start()
      return replica.index
    }
    case "pg-restart":
    case "pg-crash": {
      const window = ledger.openWindow("store")
      cluster.stop(kind === "pg-crash" ? "immediate" : "fast")
      cluster.resume()
      window.end = Date.now()
      return undefined
    }
    case "pg-stop-10s": {
      const window = ledger.openWindow("store")
      cluster.stop("fast")
      await sleep(10_000)
      cluster.resume()
      window.end = Date.now()
      return undefined
    }
  }
}

/** Injects faults until `end`; records them in `faults` (and their counts in the ledger). */
export const runFaults = async (
  profile: Profile,
  random: Random,
  replicas: ReadonlyArray<Replica>,
  cluster: Cluster,
  ledger: Ledger,
  end: number,
  faults: Array<Fault>
): Promise<void> => {
  // one of each kind first (seeded order), then by weight
  const first = (Object.keys(profile.mix) as Array<FaultKind>).sort(() => random.next() - 0.5)
  while (Date.now() < end) {
    await sleep(random.int(profile.gap[0] * 1000, profile.gap[1] * 1000))
    if (Date.now() >= end) break
    const kind = first.shift() ?? choose(random, profile.mix)
    const at = Date.now()
    const replica = await inject(kind, random, replicas, cluster, ledger)
    ledger.count(ledger.faults, kind)
    faults.push({ kind, at, replica })
  }
}
