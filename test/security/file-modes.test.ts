/**
 * Private files (issue 13 item 5): the SQLite store's directory is 0700, the database and its WAL/SHM files 0600,
 * whatever the umask. Read from the real files of a spawned quick start (under umask 022) and of store layers
 * built under umasks 022 and 000.
 */
import { Effect, Layer } from "effect"
import { spawn } from "node:child_process"
import { chmodSync, existsSync, mkdirSync, mkdtempSync, statSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { beforeAll, describe, expect, it } from "vitest"
import { BrokerStore, SqlStore } from "../../src/index.js"
import { StoreContract } from "../../src/testing/index.js"
import {
  bindBody,
  bindingPath,
  freePort,
  instancePath,
  PASSWORD,
  provisionBody,
  sleep,
  SMALL_PLAN_ID,
  USERNAME
} from "../support/brokerProcess.js"
import { sharedQuickstart } from "../support/build.js"

const modeOf = (path: string) => (statSync(path).mode & 0o777).toString(8).padStart(4, "0")

const root = mkdtempSync(join(tmpdir(), "osb-modes-"))

/** Writes one instance through a store layer, so SQLite creates its WAL and SHM files, then closes the store. */
const writeThrough = (file: string) =>
  Effect.runPromise(Effect.scoped(
    Effect.gen(function*() {
      const store = yield* BrokerStore.BrokerStore
      yield* store.transact(
        "i",
        () => Effect.succeed([undefined, [BrokerStore.Change.putInstance(StoreContract.instance("i"))]] as const)
      )
      // the files as they are while the store is open
      return [modeOf(file), modeOf(`${file}-wal`), modeOf(`${file}-shm`)]
    }).pipe(Effect.provide(Layer.orDie(SqlStore.layerSqlite(file))))
  ))

const underUmask = async <A>(mask: number, f: () => Promise<A>): Promise<A> => {
  const previous = process.umask(mask)
  try {
    return await f()
  } finally {
    process.umask(previous)
  }
}

describe("SQLite store files are private", () => {
  for (const mask of [0o022, 0o000]) {
    it(`umask ${mask.toString(8).padStart(3, "0")}: new directories 0700, database, WAL and SHM 0600`, async () => {
      const file = join(root, `umask-${mask}`, "nested", "broker.sqlite")
      const modes = await underUmask(mask, () => writeThrough(file))
      expect(modes).toEqual(["0600", "0600", "0600"])
      expect(modeOf(join(root, `umask-${mask}`))).toBe("0700")
      expect(modeOf(join(root, `umask-${mask}`, "nested"))).toBe("0700")
    })
  }

  it("a database created 0644 by an earlier version is made 0600, with its side files", async () => {
    const dir = join(root, "earlier")
    mkdirSync(dir, { mode: 0o755 })
    chmodSync(dir, 0o755)
    const file = join(dir, "broker.sqlite")
    await underUmask(0o022, () => writeThrough(file))
    for (const path of [file, `${file}-wal`, `${file}-shm`]) if (existsSync(path)) chmodSync(path, 0o644)
    writeFileSync(`${file}-journal`, "")
    chmodSync(`${file}-journal`, 0o644)
    const modes = await underUmask(0o022, () => writeThrough(file))
    expect(modes).toEqual(["0600", "0600", "0600"])
    expect(modeOf(`${file}-journal`)).toBe("0600")
    // a directory the store did not create is left as it is
    expect(modeOf(dir)).toBe("0755")
  })

  describe("the quick start, spawned under umask 022", () => {
    let built = ""
    beforeAll(async () => {
      built = await sharedQuickstart()
    }, 300_000)

    it("creates ./data 0700 and broker.sqlite, -wal, -shm 0600", async () => {
      const cwd = join(root, "quickstart")
      mkdirSync(cwd)
      const port = await freePort()
      const child = spawn("sh", ["-c", "umask 022 && exec \"$0\" \"$1\"", process.execPath, built], {
        cwd,
        env: {
          ...process.env,
          PORT: String(port),
          BROKER_USERNAME: USERNAME,
          BROKER_PASSWORD: PASSWORD,
          BROKER_STORE: "sqlite:./data/broker.sqlite",
          BROKER_REQUEST_LOG: "false"
        },
        stdio: ["ignore", "pipe", "pipe"]
      })
      let output = ""
      child.stdout.on("data", (d) => (output += d))
      child.stderr.on("data", (d) => (output += d))
      const exited = new Promise((resolve) => child.once("exit", resolve))
      try {
        const deadline = Date.now() + 20_000
        while (!output.includes("Listening on") && Date.now() < deadline) await sleep(20)
        expect(output).toContain("Listening on")
        const headers = {
          authorization: `Basic ${Buffer.from(`${USERNAME}:${PASSWORD}`).toString("base64")}`,
          "x-broker-api-version": "2.17",
          "content-type": "application/json"
        }
        const put = (path: string, body: unknown) =>
          fetch(`http://127.0.0.1:${port}${path}`, { method: "PUT", headers, body: JSON.stringify(body) })
        expect((await put(instancePath("modes-1"), provisionBody(SMALL_PLAN_ID))).status).toBe(201)
        expect((await put(bindingPath("modes-1", "b-1"), bindBody(SMALL_PLAN_ID))).status).toBe(201)
        const data = join(cwd, "data")
        expect({
          directory: modeOf(data),
          database: modeOf(join(data, "broker.sqlite")),
          wal: modeOf(join(data, "broker.sqlite-wal")),
          shm: modeOf(join(data, "broker.sqlite-shm"))
        }).toEqual({ directory: "0700", database: "0600", wal: "0600", shm: "0600" })
      } finally {
        child.kill("SIGTERM")
        await exited
      }
    }, 60_000)
  })
})
