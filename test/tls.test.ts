/**
 * HTTPS and mutual TLS over real sockets: Server.layer with a certificate made in the test, client certificates
 * accepted and refused by BrokerAuth.clientCertificate (alone, or with Basic: either or both), and certificate
 * reloads (file change, SIGHUP, a broken file) without dropping open connections.
 */
import { Effect, Exit, Layer, Scope } from "effect"
import { copyFileSync, writeFileSync } from "node:fs"
import { Agent } from "node:https"
import { join } from "node:path"
import { beforeAll, describe, expect, it } from "vitest"
import { BrokerAuth, Server } from "../src/index.js"
import type * as Tls from "../src/Tls.js"
import { PASSWORD, redacted, USER } from "./support/http.js"
import { freePort } from "./support/net.js"
import { scripted } from "./support/scripted.js"
import { httpsGet, type HttpsGetOptions, makePki, type Pair, type TestPki } from "./support/tls.js"

let pki: TestPki
beforeAll(() => {
  pki = makePki()
})

const get = (port: number, options: HttpsGetOptions = {}) => httpsGet(pki, port, options)

const serving = async (tls: Tls.TlsOptions, auth: Layer.Layer<BrokerAuth.BrokerAuth>) => {
  const port = await freePort()
  const layer = Server.layer({ port, requestLog: false, tls }).pipe(Layer.provide(scripted()), Layer.provide(auth))
  const scope = Effect.runSync(Scope.make())
  await Effect.runPromise(Layer.buildWithScope(layer, scope))
  return { port, close: () => Effect.runPromise(Scope.close(scope, Exit.void)) }
}

const basicAuth = BrokerAuth.layerBasic([{ username: USER, password: redacted(PASSWORD) }])
const credentials = [{ username: USER, password: redacted(PASSWORD) }]

describe("Server.layer with TLS", () => {
  it("serves HTTPS with the configured certificate; plain HTTP on the port gets no answer", async () => {
    const server = await serving({ certFile: pki.server.cert, keyFile: pki.server.key }, basicAuth)
    try {
      const reply = await get(server.port, { basic: true })
      expect(reply.status).toBe(200)
      expect(reply.serverName).toBe("broker-one")
      expect(JSON.parse(reply.body).services).toBeDefined()
      expect((await get(server.port)).status).toBe(401)
      await expect(fetch(`http://127.0.0.1:${server.port}/v2/catalog`)).rejects.toThrow()
    } finally {
      await server.close()
    }
  })

  it("fails to start with a clear error when the key does not match the certificate", async () => {
    const port = await freePort()
    const layer = Server.layer({ port, tls: { certFile: pki.server.cert, keyFile: pki.platform.key } }).pipe(
      Layer.provide(scripted()),
      Layer.provide(basicAuth)
    )
    const exit = await Effect.runPromiseExit(Layer.launch(layer).pipe(Effect.timeout("2 seconds")))
    expect(Exit.isFailure(exit)).toBe(true)
    expect(String(exit)).toContain("do not form a valid pair")
    const missing = Server.layer({ port, tls: { certFile: join(pki.dir, "nope.crt"), keyFile: pki.server.key } })
      .pipe(Layer.provide(scripted()), Layer.provide(basicAuth))
    const exit2 = await Effect.runPromiseExit(Layer.launch(missing).pipe(Effect.timeout("2 seconds")))
    expect(String(exit2)).toContain("nope.crt could not be read")
  })
})

describe("BrokerAuth.clientCertificate (mTLS)", () => {
  const tls = () => ({ certFile: pki.server.cert, keyFile: pki.server.key, caFile: pki.ca.cert })

  it("accepts a verified certificate meeting a rule; refuses none, another subject and an unverified one", async () => {
    const server = await serving(
      tls(),
      BrokerAuth.layerClientCertificate([{ subject: { CN: "cf-platform", O: "Example" } }])
    )
    try {
      expect((await get(server.port, { client: pki.platform })).status).toBe(200)
      const none = await get(server.port)
      expect(none.status).toBe(401)
      expect(JSON.parse(none.body)).toEqual({ description: expect.any(String) })
      expect((await get(server.port, { client: pki.other })).status).toBe(401)
      // same subject, but signed by a CA the server does not trust
      expect((await get(server.port, { client: pki.stranger })).status).toBe(401)
      // Basic credentials alone do not pass a certificate-only broker
      expect((await get(server.port, { basic: true })).status).toBe(401)
    } finally {
      await server.close()
    }
  })

  it("several rules (any may match): by SAN, by issuer", async () => {
    const server = await serving(
      tls(),
      BrokerAuth.layerClientCertificate([
        { san: "URI:spiffe://example/platform" },
        { subject: { CN: "someone-else" }, issuer: { CN: "test-ca" } }
      ])
    )
    try {
      expect((await get(server.port, { client: pki.platform })).status).toBe(200)
      expect((await get(server.port, { client: pki.other })).status).toBe(200)
      expect((await get(server.port, { client: pki.stranger })).status).toBe(401)
    } finally {
      await server.close()
    }
    const wrongIssuer = await serving(
      tls(),
      BrokerAuth.layerClientCertificate([{ subject: { CN: "cf-platform" }, issuer: { CN: "stranger-ca" } }])
    )
    try {
      expect((await get(wrongIssuer.port, { client: pki.platform })).status).toBe(401)
    } finally {
      await wrongIssuer.close()
    }
  })

  it("with Basic, require either: a certificate or credentials", async () => {
    const server = await serving(
      tls(),
      BrokerAuth.layerClientCertificate([{ subject: { CN: "cf-platform" } }], { basic: credentials })
    )
    try {
      expect((await get(server.port, { client: pki.platform })).status).toBe(200)
      expect((await get(server.port, { basic: true })).status).toBe(200)
      expect((await get(server.port, { client: pki.other, basic: true })).status).toBe(200)
      expect((await get(server.port, { client: pki.other })).status).toBe(401)
      expect((await get(server.port)).status).toBe(401)
    } finally {
      await server.close()
    }
  })

  it("with Basic, require both: a certificate and credentials", async () => {
    const server = await serving(
      tls(),
      BrokerAuth.layerClientCertificate([{ subject: { CN: "cf-platform" } }], { basic: credentials, require: "both" })
    )
    try {
      expect((await get(server.port, { client: pki.platform, basic: true })).status).toBe(200)
      expect((await get(server.port, { client: pki.platform })).status).toBe(401)
      expect((await get(server.port, { basic: true })).status).toBe(401)
      expect((await get(server.port, { client: pki.stranger, basic: true })).status).toBe(401)
    } finally {
      await server.close()
    }
  })
})

describe("certificate reload", () => {
  const live = () => {
    const files = {
      certFile: join(pki.dir, `live-${Math.random()}.crt`),
      keyFile: join(pki.dir, `live-${Math.random()}.key`)
    }
    copyFileSync(pki.server.cert, files.certFile)
    copyFileSync(pki.server.key, files.keyFile)
    return files
  }
  const install = (files: { certFile: string; keyFile: string }, pair: Pair) => {
    copyFileSync(pair.key, files.keyFile)
    copyFileSync(pair.cert, files.certFile)
  }
  const until = async (check: () => Promise<boolean>) => {
    for (let i = 0; i < 100; i++) {
      if (await check()) return
      await new Promise((r) => setTimeout(r, 50))
    }
    throw new Error("condition not met within 5 s")
  }

  it("a changed file is picked up for new connections; an open keep-alive connection stays", async () => {
    const files = live()
    const server = await serving({ ...files, watchInterval: "50 millis" }, basicAuth)
    const agent = new Agent({ keepAlive: true, maxSockets: 1 })
    try {
      const first = await get(server.port, { basic: true, agent })
      expect(first.serverName).toBe("broker-one")
      install(files, pki.server2)
      await until(async () => (await get(server.port, { basic: true })).serverName === "broker-two")
      // the connection opened before the reload still answers
      const again = await get(server.port, { basic: true, agent })
      expect(again.status).toBe(200)
      expect(again.reused).toBe(true)
      expect(again.serverName).toBe("broker-one")
      // a broken file is refused: the current certificate stays
      writeFileSync(files.certFile, "not a certificate")
      await new Promise((r) => setTimeout(r, 400))
      const after = await get(server.port, { basic: true })
      expect(after.status).toBe(200)
      expect(after.serverName).toBe("broker-two")
    } finally {
      agent.destroy()
      await server.close()
    }
  })

  it("SIGHUP reloads the files", async () => {
    const files = live()
    const listeners = process.listenerCount("SIGHUP")
    const server = await serving({ ...files, watchInterval: "1 hour" }, basicAuth)
    expect(process.listenerCount("SIGHUP")).toBe(listeners + 1)
    try {
      expect((await get(server.port, { basic: true })).serverName).toBe("broker-one")
      install(files, pki.server2)
      // without the signal (and with the file check an hour away) nothing changes
      await new Promise((r) => setTimeout(r, 200))
      expect((await get(server.port, { basic: true })).serverName).toBe("broker-one")
      process.emit("SIGHUP", "SIGHUP")
      await until(async () => (await get(server.port, { basic: true })).serverName === "broker-two")
    } finally {
      await server.close()
    }
    expect(process.listenerCount("SIGHUP")).toBe(listeners)
  })
})
