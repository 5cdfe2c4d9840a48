/**
 * Security: an encryption key given in the wrong form is never printed (issue 13 item 6). The configuration error
 * for a malformed `BROKER_ENCRYPTION_KEYS` (what the quick start reports) and `Encryption.make` name the
 * entry's position, never its text; the spawned quick start refuses to start with that message.
 */
import { Cause, ConfigProvider, Effect, Either, Exit } from "effect"
import { spawn } from "node:child_process"
import { randomBytes } from "node:crypto"
import { mkdtempSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { Encryption } from "../../src/index.js"
import { freePort, killAll, PASSWORD, sleep, USERNAME } from "../support/brokerProcess.js"
import { sharedQuickstart } from "../support/build.js"

let script: string
beforeAll(async () => {
  script = await sharedQuickstart()
}, 300_000)
afterAll(() => killAll())

/** Every 8-character piece of `secret`: none may appear in what the broker prints. */
const pieces = (secret: string): ReadonlyArray<string> =>
  Array.from({ length: secret.length - 7 }, (_, i) => secret.slice(i, i + 8))

const good = () => `k1:${randomBytes(32).toString("base64")}`

const malformed: ReadonlyArray<readonly [string, (key: string) => string, string]> = [
  ["a key without its id", (key) => key, "key 1 of 1"],
  ["a second entry without its id", (key) => `${good()},${key}`, "key 2 of 2"],
  ["a key with a bad id", (key) => `bad id!:${key}`, "key 1 of 1"],
  ["a key of the wrong length", (key) => `k2:${key.slice(0, 30)}`, "key 1 of 1"],
  ["a key that is not base64", (key) => `k3:${key.replaceAll("A", "*")}*`, "key 1 of 1"]
]

const startWithKeys = async (keys: string): Promise<{ readonly code: number | null; readonly output: string }> => {
  const child = spawn(process.execPath, [script], {
    env: {
      ...process.env,
      PORT: String(await freePort()),
      HOST: "127.0.0.1",
      BROKER_USERNAME: USERNAME,
      BROKER_PASSWORD: PASSWORD,
      BROKER_STORE: `sqlite:${join(mkdtempSync(join(tmpdir(), "osb-keys-")), "broker.sqlite")}`,
      BROKER_ENCRYPTION_KEYS: keys
    },
    stdio: ["ignore", "pipe", "pipe"]
  })
  let output = ""
  child.stdout.on("data", (d) => (output += d))
  child.stderr.on("data", (d) => (output += d))
  const code = await Promise.race([
    new Promise<number | null>((resolve) => child.once("exit", (c) => resolve(c))),
    sleep(30_000).then(() => {
      child.kill("SIGKILL")
      return -1
    })
  ])
  return { code, output }
}

describe("issue 13 item 6: key parsing errors name the position, never the content", () => {
  it.each(malformed)(
    "%s: the quick start refuses to start, naming the position, not the key",
    async (_, entry, position) => {
      const key = randomBytes(32).toString("base64")
      const { code, output } = await startWithKeys(entry(key))
      expect(code).not.toBe(0)
      expect(code).not.toBe(-1)
      expect(output).toContain("BROKER_ENCRYPTION_KEYS")
      expect(output).toContain(position)
      expect(pieces(key).filter((piece) => output.includes(piece))).toEqual([])
    },
    60_000
  )

  it.each(malformed)(
    "%s: the BROKER_ENCRYPTION_KEYS configuration error names the position only",
    async (_, entry, position) => {
      const key = randomBytes(32).toString("base64")
      const exit = await Effect.runPromiseExit(
        Encryption.fromConfig.pipe(
          Effect.withConfigProvider(ConfigProvider.fromMap(new Map([["BROKER_ENCRYPTION_KEYS", entry(key)]])))
        )
      )
      expect(Exit.isFailure(exit)).toBe(true)
      const message = Exit.isFailure(exit) ? Cause.pretty(exit.cause) : ""
      expect(message).toContain("BROKER_ENCRYPTION_KEYS")
      expect(message).toContain(position)
      expect(pieces(key).filter((piece) => message.includes(piece))).toEqual([])
    }
  )

  it.each(malformed)("%s: Encryption.make names the position only", (_, entry, position) => {
    const key = randomBytes(32).toString("base64")
    const result = Encryption.make(entry(key).split(","))
    expect(Either.isLeft(result)).toBe(true)
    const message = Either.isLeft(result) ? result.left : ""
    expect(message).toContain(position)
    expect(pieces(key).filter((piece) => message.includes(piece))).toEqual([])
  })

  it("well-formed keys still parse", () => {
    expect(Either.isRight(Encryption.make([good(), `k2:${randomBytes(32).toString("base64url")}`]))).toBe(true)
  })
})
