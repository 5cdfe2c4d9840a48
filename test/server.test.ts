/**
 * Serving over a real socket: start-up, the quick start process (PORT/HOST/BROKER_* env, log lines, SIGTERM),
 * and graceful shutdown with a request in flight.
 */
import * as NodeHttpServer from "@effect/platform-node/NodeHttpServer"
import { Cause, Effect, Exit, Layer, Option, Scope } from "effect"
import { type ChildProcess, execFileSync, spawn } from "node:child_process"
import { mkdtempSync, readFileSync } from "node:fs"
import { Agent, createServer, request as httpRequest } from "node:http"
import { connect } from "node:net"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { BrokerAuth, OsbError, Server, ServiceBroker } from "../src/index.js"
import { sharedQuickstart } from "./support/build.js"
import { AUTH, PASSWORD, redacted, USER } from "./support/http.js"
import { freePort } from "./support/net.js"
import { provisionBody, scripted } from "./support/scripted.js"

const headers = { authorization: AUTH, "x-broker-api-version": "2.17", "content-type": "application/json" }

describe("Server.layer over a loopback socket", () => {
  it("serves the router and finishes in-flight requests on shutdown", async () => {
    const port = await freePort()
    let started = 0
    const slow = scripted({
      provision: () =>
        Effect.sync(() => started++).pipe(
          Effect.zipRight(Effect.promise(() => new Promise((r) => setTimeout(r, 400)))),
          Effect.as(ServiceBroker.Result.created())
        )
    })
    const layer = Server.layer({ port, requestLog: false }).pipe(
      Layer.provide(slow),
      Layer.provide(BrokerAuth.layerBasic([{ username: USER, password: redacted(PASSWORD) }]))
    )
    const scope = Effect.runSync(Scope.make())
    await Effect.runPromise(Layer.buildWithScope(layer, scope))
    const catalog = await fetch(`http://127.0.0.1:${port}/v2/catalog`, { headers })
    expect(catalog.status).toBe(200)

    const inFlight = fetch(`http://127.0.0.1:${port}/v2/service_instances/slow-1`, {
      method: "PUT",
      headers,
      body: JSON.stringify(provisionBody())
    })
    while (started === 0) await new Promise((r) => setTimeout(r, 10))
    const closing = Effect.runPromise(Scope.close(scope, Exit.void))
    const response = await inFlight
    expect(response.status).toBe(201)
    await closing
    await expect(fetch(`http://127.0.0.1:${port}/v2/catalog`, { headers })).rejects.toThrow()
  })
})

describe("Server.layer: the node:http adapter's edges", () => {
  const brokerAuth = BrokerAuth.layerBasic([{ username: USER, password: redacted(PASSWORD) }])
  const serving = async (options: { readonly maxBodyBytes?: number } = {}) => {
    const port = await freePort()
    const layer = Server.layer({ port, requestLog: false, ...options }).pipe(
      Layer.provide(scripted()),
      Layer.provide(brokerAuth)
    )
    const scope = Effect.runSync(Scope.make())
    await Effect.runPromise(Layer.buildWithScope(layer, scope))
    return { port, close: () => Effect.runPromise(Scope.close(scope, Exit.void)) }
  }

  /** Sends raw bytes on a fresh connection and returns everything the server wrote before closing. */
  const raw = (port: number, bytes: string | Buffer) =>
    new Promise<string>((resolve, reject) => {
      const socket = connect(port, "127.0.0.1", () => socket.end(bytes))
      let received = ""
      socket.on("data", (chunk) => (received += chunk.toString("utf8")))
      socket.on("error", reject)
      socket.on("close", () => resolve(received))
    })

  it("CT-2 a chunked body over maxBodyBytes (no Content-Length) -> JSON 413, and the connection closes", async () => {
    const server = await serving({ maxBodyBytes: 300 })
    try {
      const reply = await new Promise<{ status: number; body: string; connection: string | undefined }>(
        (resolve, reject) => {
          const request = httpRequest({
            host: "127.0.0.1",
            port: server.port,
            method: "PUT",
            path: "/v2/service_instances/chunked-1",
            headers: { ...headers, "transfer-encoding": "chunked" }
          }, (response) => {
            let body = ""
            response.on("data", (chunk) => (body += chunk))
            response.on(
              "end",
              () => resolve({ status: response.statusCode ?? 0, body, connection: response.headers.connection })
            )
          })
          request.on("error", reject)
          request.write(JSON.stringify(provisionBody()))
          request.write(" ".repeat(400))
          request.end()
        }
      )
      expect(reply.status).toBe(413)
      expect(JSON.parse(reply.body)).toEqual({ description: expect.stringContaining("300") })
      expect(reply.connection).toBe("close")
    } finally {
      await server.close()
    }
  })

  it("bytes that are not HTTP get a JSON 400 and the connection closes", async () => {
    const server = await serving()
    try {
      const received = await raw(server.port, "this is not HTTP at all\r\n\r\n")
      expect(received).toMatch(/^HTTP\/1\.1 400 /)
      expect(received).toContain("content-type: application/json")
      expect(JSON.parse(received.slice(received.indexOf("\r\n\r\n") + 4))).toEqual({
        description: "The request is not valid HTTP/1.1."
      })
    } finally {
      await server.close()
    }
  })

  it("many requests on one keep-alive connection; an idle keep-alive connection does not hold the shutdown", async () => {
    const server = await serving()
    const agent = new Agent({ keepAlive: true, maxSockets: 1 })
    const get = () =>
      new Promise<number>((resolve, reject) => {
        const request = httpRequest(
          { host: "127.0.0.1", port: server.port, path: "/v2/catalog", headers, agent },
          (response) => {
            response.resume()
            response.on("end", () => resolve(response.statusCode ?? 0))
          }
        )
        request.on("error", reject)
        request.end()
      })
    const statuses = []
    for (let i = 0; i < 20; i++) statuses.push(await get())
    expect(statuses.every((s) => s === 200)).toBe(true)
    expect(Object.values(agent.freeSockets).flat()).toHaveLength(1)
    const began = Date.now()
    await server.close()
    expect(Date.now() - began).toBeLessThan(2000)
    agent.destroy()
  })

  it("Server.serve runs the same handler on a platform HttpServer (NodeHttpServer.layer)", async () => {
    const port = await freePort()
    const layer = Server.serve({ requestLog: false }).pipe(
      Layer.provide(NodeHttpServer.layer(createServer, { host: "127.0.0.1", port })),
      Layer.provide(scripted()),
      Layer.provide(brokerAuth)
    )
    const scope = Effect.runSync(Scope.make())
    await Effect.runPromise(Layer.buildWithScope(layer, scope))
    try {
      const catalog = await fetch(`http://127.0.0.1:${port}/v2/catalog`, { headers })
      expect(catalog.status).toBe(200)
      expect(catalog.headers.get("etag")).toMatch(/^"/)
      const denied = await fetch(`http://127.0.0.1:${port}/v2/catalog`, { headers: { ...headers, authorization: "x" } })
      expect(denied.status).toBe(401)
      const provisioned = await fetch(`http://127.0.0.1:${port}/v2/service_instances/serve-1`, {
        method: "PUT",
        headers,
        body: JSON.stringify(provisionBody())
      })
      expect(provisioned.status).toBe(201)
    } finally {
      await Effect.runPromise(Scope.close(scope, Exit.void))
    }
  })

  it("an asynchronous authenticator: bodies of admitted requests are read and decoded, refused ones get 401", async () => {
    // the adapter learns synchronously whether a body is worth reading; an authenticator that answers later makes
    // it hand the handler a body read on demand instead: both must behave the same
    const port = await freePort()
    const checked: Array<string> = []
    const auth = BrokerAuth.layerCustom((request) =>
      Effect.sleep("5 millis").pipe(
        Effect.zipRight(Effect.sync(() => checked.push(request.headers.authorization ?? ""))),
        Effect.zipRight(
          request.headers.authorization === "Bearer good"
            ? Effect.void
            : Effect.fail(new OsbError.Unauthorized({ description: "Bad token." }))
        )
      )
    )
    const layer = Server.layer({ port, requestLog: false }).pipe(Layer.provide(scripted()), Layer.provide(auth))
    const scope = Effect.runSync(Scope.make())
    await Effect.runPromise(Layer.buildWithScope(layer, scope))
    try {
      const put = (id: string, authorization: string, body: string) =>
        fetch(`http://127.0.0.1:${port}/v2/service_instances/${id}`, {
          method: "PUT",
          headers: { ...headers, authorization },
          body
        })
      expect((await put("async-1", "Bearer good", JSON.stringify(provisionBody()))).status).toBe(201)
      const malformed = await put("async-2", "Bearer good", "{not json")
      expect(malformed.status).toBe(400)
      expect(((await malformed.json()) as { description: string }).description).toMatch(/not valid JSON/)
      expect((await put("async-3", "Bearer bad", JSON.stringify(provisionBody()))).status).toBe(401)
      expect(checked).toEqual(["Bearer good", "Bearer good", "Bearer bad"])
    } finally {
      await Effect.runPromise(Scope.close(scope, Exit.void))
    }
  })

  it("a port already in use fails the layer with ServeError", async () => {
    const server = await serving()
    try {
      const second = Server.layer({ port: server.port, requestLog: false }).pipe(
        Layer.provide(scripted()),
        Layer.provide(brokerAuth)
      )
      const exit = await Effect.runPromiseExit(Effect.scoped(Layer.build(second)))
      expect(Exit.isFailure(exit)).toBe(true)
      const failure = Exit.isFailure(exit) ? Cause.failureOption(exit.cause) : Option.none()
      expect(Option.getOrThrow(failure)).toMatchObject({ _tag: "ServeError" })
    } finally {
      await server.close()
    }
  })
})

describe("the quick start process (npm start)", () => {
  let child: ChildProcess | undefined
  let output = ""
  let port = 0

  beforeAll(async () => {
    const quickstart = await sharedQuickstart()
    port = await freePort()
    child = spawn(process.execPath, [quickstart], {
      env: {
        ...process.env,
        PORT: String(port),
        HOST: "127.0.0.1",
        BROKER_USERNAME: "ops",
        BROKER_PASSWORD: "pa:ss",
        QUICKSTART_DELAY_MS: "0",
        BROKER_STORE: `sqlite:${join(mkdtempSync(join(tmpdir(), "osb-qs-")), "broker.sqlite")}`
      },
      stdio: ["ignore", "pipe", "pipe"]
    })
    child.stdout!.on("data", (d) => (output += d))
    child.stderr!.on("data", (d) => (output += d))
    const deadline = Date.now() + 15_000
    while (!output.includes("Listening on") && Date.now() < deadline) await new Promise((r) => setTimeout(r, 25))
  }, 300_000)

  afterAll(() => {
    child?.kill("SIGKILL")
  })

  it("logs its address, uses BROKER_USERNAME/BROKER_PASSWORD, logs one line per request without secrets", async () => {
    expect(output).toContain(`Listening on http://127.0.0.1:${port}`)
    expect(output).not.toContain("admin/admin")
    const ops = `Basic ${Buffer.from("ops:pa:ss").toString("base64")}`
    const denied = await fetch(`http://127.0.0.1:${port}/v2/catalog`, { headers })
    expect(denied.status).toBe(401)
    const ok = await fetch(`http://127.0.0.1:${port}/v2/service_instances/q1`, {
      method: "PUT",
      headers: { ...headers, authorization: ops, "x-broker-api-request-identity": "rid-42" },
      body: JSON.stringify({
        service_id: "5b2c7e1c-6a3f-4d8e-9a51-0c7f1f0d2a10",
        plan_id: "0f4e4a8e-8d54-4f6b-a3a9-3b8f52f6c5a1",
        organization_guid: "o",
        space_guid: "s",
        parameters: { secret_param: "hunter2" }
      })
    })
    expect(ok.status).toBe(201)
    await new Promise((r) => setTimeout(r, 100))
    const line = output.split("\n").find((l) => l.includes("rid-42"))
    expect(line).toBeDefined()
    expect(line).toContain("status=201")
    expect(line).toContain("method=PUT")
    expect(line).toContain("route=/v2/service_instances/:instance_id")
    expect(line).toMatch(/ms=\d/)
    expect(output).not.toContain("hunter2")
    expect(output).not.toContain(ops.slice(6))
    expect(output).not.toContain("pa:ss")
  })

  it("the README's curl sessions (plan small, then the async lifecycle of plan large) work word for word", () => {
    const readme = readFileSync(new URL("../README.md", import.meta.url), "utf8")
    const blocks = [...readme.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1]!)
    const small = blocks.find((b) => b.startsWith("H="))!
    const large = blocks.find((b) => b.startsWith("LIDS="))!
    const script = (small + large)
      .replaceAll("admin:admin", "ops:pa:ss")
      .replaceAll("127.0.0.1:8080", `127.0.0.1:${port}`)
      .split("\n")
      .map((line) => (line.startsWith("curl") ? `${line}; echo " -> $?"` : line))
      .join("\n")
    const out = execFileSync("bash", ["-c", script], { encoding: "utf8" })
    const lines = out.split("\n").filter((l) => l.length > 0)
    expect(lines.every((l) => !l.includes(" -> ") || l.endsWith(" -> 0"))).toBe(true)
    expect(out).toContain("\"services\"")
    expect(out).toContain("\"credentials\"")
    expect(out).toContain("\"error\":\"AsyncRequired\"")
    expect(out).toMatch(/"operation":"provision-[^"]+"/)
    expect(out).toMatch(/"operation":"bind-[^"]+"/)
    expect(out).toMatch(/"operation":"deprovision-[^"]+"/)
    expect(out).toContain("HTTP/1.1 200")
    // the last command polls the deleted instance: gone (410 {}) or, if still running, in progress
    expect(lines.at(-1)).toMatch(/^(\{\}|\{"state":"(in progress|succeeded)"\}) -> 0$/)
  })

  it("exits cleanly on SIGTERM", async () => {
    const exited = new Promise<number | null>((resolve) => child!.once("exit", (code) => resolve(code)))
    child!.kill("SIGTERM")
    const code = await exited
    expect(code).toBe(0)
  })
})
