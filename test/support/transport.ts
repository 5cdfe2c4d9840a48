/**
 * Test support: the transport the HTTP tests speak through. By default the router's web handler in process;
 * with EFFECT_OSB_TEST_TRANSPORT=node the same tests go over a loopback socket to `Server.layer` (the
 * `node:http` adapter), each request forwarded with `node:http`'s client: the body is buffered and sent with a
 * Content-Length (the one the test declared, if it declared one).
 */
import { Effect, Layer, ManagedRuntime } from "effect"
import { request as httpRequest } from "node:http"
import { Router, Server } from "../../src/index.js"
import type { BrokerAuth, Catalog, ServiceBroker } from "../../src/index.js"
import { freePort } from "./net.js"

export interface WebHandler {
  readonly handler: (request: Request) => Promise<Response>
  readonly dispose: () => Promise<void>
}

export const transport: "web" | "node" = process.env["EFFECT_OSB_TEST_TRANSPORT"] === "node" ? "node" : "web"

const overNode = (
  layer: Layer.Layer<Catalog.Catalog | ServiceBroker.ServiceBroker | BrokerAuth.BrokerAuth, unknown>,
  options: Router.RouterOptions
): WebHandler => {
  let started: Promise<{ readonly url: string; readonly dispose: () => Promise<void> }> | undefined
  const start = async () => {
    const port = await freePort()
    const runtime = ManagedRuntime.make(
      // the router tests send hundreds of wrong credentials on purpose; test/security/ tests the login throttle
      Server.layer({ loginThrottle: false, ...options, host: "127.0.0.1", port }).pipe(Layer.provide(layer))
    )
    await runtime.runPromise(Effect.void)
    return { url: `http://127.0.0.1:${port}`, dispose: () => runtime.dispose() }
  }
  const handler = async (request: Request): Promise<Response> => {
    const server = await (started ??= start())
    const target = new URL(request.url)
    const body = request.body === null ? undefined : Buffer.from(await request.arrayBuffer())
    const headers: Record<string, string> = {}
    request.headers.forEach((value, name) => {
      headers[name] = value
    })
    if (body !== undefined && headers["content-length"] === undefined) headers["content-length"] = String(body.length)
    return new Promise<Response>((resolve, reject) => {
      const outgoing = httpRequest(`${server.url}${target.pathname}${target.search}`, {
        method: request.method,
        headers
      }, (incoming) => {
        const chunks: Array<Buffer> = []
        incoming.on("data", (chunk: Buffer) => chunks.push(chunk))
        incoming.on("error", reject)
        incoming.on("end", () => {
          const status = incoming.statusCode ?? 0
          const replyHeaders = new Headers()
          for (const [name, value] of Object.entries(incoming.headers)) {
            if (value !== undefined) replyHeaders.set(name, Array.isArray(value) ? value.join(", ") : value)
          }
          const nullBody = status === 204 || status === 304
          resolve(new Response(nullBody ? null : Buffer.concat(chunks), { status, headers: replyHeaders }))
        })
      })
      // a server may answer (413) before reading a body it refuses
      outgoing.on("error", reject)
      outgoing.end(body)
    })
  }
  const dispose = async () => {
    if (started !== undefined) await (await started).dispose()
  }
  return { handler, dispose }
}

/** A `Request => Response` handler for a broker given as layers, over the selected transport. */
export const handlerFor = (
  layer: Layer.Layer<Catalog.Catalog | ServiceBroker.ServiceBroker | BrokerAuth.BrokerAuth, unknown>,
  options: Router.RouterOptions
): WebHandler => (transport === "node" ? overNode(layer, options) : Router.toWebHandler(layer, options))
