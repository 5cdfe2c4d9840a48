/**
 * The OSB handler on `node:http` without `@effect/platform-node`'s server: the body is read with plain stream
 * events, answers known at once (`Exit`s) are written in the request callback, everything else runs as one fiber
 * on the layer's runtime. Closing waits for in-flight requests.
 *
 * @internal
 */
import type { ServeError } from "@effect/platform/HttpServerError"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Runtime from "effect/Runtime"
import type * as Scope from "effect/Scope"
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http"
import type { AddressInfo } from "node:net"
import type { Duplex } from "node:stream"
import type { BadRequest, PayloadTooLarge } from "../OsbError.js"
import type { Handler, OsbHttpResponse } from "./core.js"
import { internalError } from "./core.js"
import type { OsbHttpRequest } from "./request.js"
import { bodyReadError } from "./request.js"

/** @internal */
export interface NodeServerOptions {
  readonly host: string
  readonly port: number
  readonly tracing: boolean
  /** A server to listen with instead of a new `node:http` one (e.g. HTTPS): the handler is added to it. */
  readonly server?: Server | undefined
}

type BodyText = Effect.Effect<string, BadRequest | PayloadTooLarge>

const emptyBody: BodyText = Exit.succeed("")

const rawAnswer = (status: string, description: string): string => {
  const body = JSON.stringify({ description })
  return `HTTP/1.1 ${status}\r\ncontent-type: application/json\r\ncontent-length: ${
    Buffer.byteLength(body)
  }\r\nconnection: close\r\n\r\n${body}`
}
const notHttp = rawAnswer("400 Bad Request", "The request is not valid HTTP/1.1.")
const headersTooLarge = rawAnswer("431 Request Header Fields Too Large", "The request headers are too large.")

const write = (res: ServerResponse, response: OsbHttpResponse): void => {
  if (res.headersSent || res.destroyed) return
  const body = response.body
  if (body === undefined) {
    res.writeHead(response.status, response.headers)
    res.end()
    return
  }
  // the literal key first: V8 adds keys to a spread copy slowly
  res.writeHead(response.status, { "content-length": String(Buffer.byteLength(body)), ...response.headers })
  res.end(body)
}

/**
 * Listens on `host:port` and serves the handler until the scope closes; then stops accepting connections, lets
 * in-flight requests finish and closes the remaining keep-alive connections.
 *
 * @internal
 */
export const serve = (
  handler: Handler,
  options: NodeServerOptions
): Effect.Effect<AddressInfo, ServeError, Scope.Scope> =>
  Effect.gen(function*() {
    const runtime = yield* Effect.runtime<never>()
    const runFork = Runtime.runFork(runtime)
    const maxBytes = handler.maxBodyBytes
    const tooLarge: BodyText = Exit.fail(bodyReadError(true, maxBytes))
    const unreadable: BodyText = Exit.fail(bodyReadError(false, maxBytes))

    let inFlight = 0
    let closing = false
    let idle: (() => void) | undefined

    const settle = (res: ServerResponse, exit: Exit.Exit<OsbHttpResponse>) => {
      if (closing) res.shouldKeepAlive = false
      if (Exit.isSuccess(exit)) {
        write(res, exit.value)
      } else {
        runFork(Effect.logError("unexpected failure while serving an OSB request", exit.cause))
        write(res, internalError)
      }
    }

    const dispatch = (req: IncomingMessage, res: ServerResponse, text: BodyText): void => {
      const request: OsbHttpRequest = {
        method: req.method ?? "GET",
        url: req.url ?? "/",
        headers: req.headers as Readonly<Record<string, string | undefined>>,
        text,
        socket: req.socket
      }
      let effect: Effect.Effect<OsbHttpResponse>
      try {
        effect = handler.handle(request)
      } catch (defect) {
        settle(res, Exit.die(defect))
        return
      }
      if (!options.tracing && Exit.isExit(effect)) {
        settle(res, effect as Exit.Exit<OsbHttpResponse>)
        return
      }
      inFlight++
      const traced = options.tracing
        ? Effect.withSpan(effect, `http.server ${request.method}`, { kind: "server" })
        : effect
      runFork(traced).addObserver((exit) => {
        inFlight--
        settle(res, exit)
        if (inFlight === 0 && idle !== undefined) idle()
      })
    }

    const onRequest = (req: IncomingMessage, res: ServerResponse): void => {
      const length = req.headers["content-length"]
      const chunked = req.headers["transfer-encoding"] !== undefined
      if (!chunked && (length === undefined || length === "0")) return dispatch(req, res, emptyBody)
      if (length !== undefined && Number(length) > maxBytes) {
        // the body is not read: the connection closes after the answer
        res.shouldKeepAlive = false
        return dispatch(req, res, tooLarge)
      }
      const chunks: Array<Buffer> = []
      let size = 0
      let done = false
      const finish = (text: BodyText) => {
        if (done) return
        done = true
        dispatch(req, res, text)
      }
      req.on("data", (chunk: Buffer) => {
        if (done) return
        size += chunk.length
        if (size > maxBytes) {
          res.shouldKeepAlive = false
          finish(tooLarge)
        } else {
          chunks.push(chunk)
        }
      })
      req.on("end", () =>
        finish(Exit.succeed((chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size)).toString("utf8"))))
      req.on("error", () =>
        finish(unreadable))
    }

    const server = options.server === undefined ? createServer(onRequest) : options.server.on("request", onRequest)
    // a request the HTTP parser refuses gets a JSON answer too, then the connection closes
    server.on("clientError", (error: Error & { readonly code?: string }, socket: Duplex) => {
      if (!socket.writable || error.code === "ECONNRESET") {
        socket.destroy()
        return
      }
      socket.end(error.code === "HPE_HEADER_OVERFLOW" ? headersTooLarge : notHttp)
    })

    const address = yield* Effect.async<AddressInfo, ServeError>((resume) => {
      // the platform's error module is loaded only when listening fails
      const onError = (cause: Error) =>
        resume(
          Effect.flatMap(
            Effect.promise(() => import("@effect/platform/HttpServerError")),
            (module) => Effect.fail(new module.ServeError({ cause }))
          )
        )
      server.once("error", onError)
      server.listen(options.port, options.host, () => {
        server.off("error", onError)
        resume(Effect.succeed(server.address() as AddressInfo))
      })
    })

    yield* Effect.addFinalizer(() =>
      Effect.async<void>((resume) => {
        closing = true
        let closed = false
        let drained = inFlight === 0
        const done = () => {
          if (closed && drained) resume(Effect.void)
        }
        server.close(() => {
          closed = true
          done()
        })
        server.closeIdleConnections()
        // a client that never finishes its request must not hold the shutdown forever
        setTimeout(() => server.closeAllConnections(), 30_000).unref()
        if (!drained) {
          idle = () => {
            drained = true
            // connections that answered their last request close now
            server.closeIdleConnections()
            done()
          }
        }
      })
    )
    return address
  })
