/**
 * The OSB handler on `node:http` without `@effect/platform-node`'s server. A request is handed to the handler as
 * soon as its headers arrived; its body is read only when the handler asks for it, which is after
 * authentication and the version check, so an unauthenticated client gets its 401 at once and its body is never
 * buffered (a large unread body closes the connection instead of being drained). What authenticated clients can
 * hold is bounded: header, request and body timeouts, a total of body bytes in flight, a cap on connections, and
 * failed logins per address are throttled. Answers known at once (`Exit`s) are written in the request callback,
 * everything else runs as one fiber on the layer's runtime. Closing waits for in-flight requests.
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
import { ServiceUnavailable } from "../OsbError.js"
import type { RequestLogEntry } from "../RequestLog.js"
import type { Handler, OsbHttpResponse } from "./core.js"
import { internalError } from "./core.js"
import { listenOn } from "./listen.js"
import type { LoginThrottle } from "./loginThrottle.js"
import type { BodyText, OsbHttpRequest } from "./request.js"
import { bodyReadError } from "./request.js"

/**
 * What the server lets a client hold.
 *
 * @internal
 */
export interface NodeServerLimits {
  /** Time to receive a request's headers (Node's `headersTimeout`); then 408 and the connection closes. */
  readonly headersTimeoutMs: number
  /** Time to receive a whole request, headers and body (Node's `requestTimeout`). */
  readonly requestTimeoutMs: number
  /** Time to receive a body once the handler asks for it; then 408 and the connection closes. */
  readonly bodyTimeoutMs: number
  /** Body bytes buffered across all connections at once; beyond it 503 with `Retry-After`. */
  readonly maxBodyBytesInFlight: number
  /** Open connections at most; further ones are closed at once. */
  readonly maxConnections: number
}

/** @internal */
export interface NodeServerOptions {
  readonly host: string
  readonly port: number
  readonly tracing: boolean
  readonly limits: NodeServerLimits
  /** Failed logins per client address; none when undefined. */
  readonly throttle: LoginThrottle | undefined
  /** Where the adapter logs the answers it gives itself (408, 429); the handler logs everything else. */
  readonly log: ((entry: RequestLogEntry) => void) | undefined
  /** A server to listen with instead of a new `node:http` one (e.g. HTTPS): the handler is added to it. */
  readonly server?: Server | undefined
}

/** A body declared at most this large is dumped when unread (keep-alive stays); a larger one closes the connection. */
const smallBody = 64 * 1024

const emptyBody: BodyText = Exit.succeed("")
/** The body of a request asked about before its body is read (`Handler.admit` does not read it). */
const unread: BodyText = Effect.dieMessage("the request body is not read before the request is admitted")

const rawAnswer = (status: string, description: string): string => {
  const body = JSON.stringify({ description })
  return `HTTP/1.1 ${status}\r\ncontent-type: application/json\r\ncontent-length: ${
    Buffer.byteLength(body)
  }\r\nconnection: close\r\n\r\n${body}`
}
const notHttp = rawAnswer("400 Bad Request", "The request is not valid HTTP/1.1.")
const headersTooLarge = rawAnswer("431 Request Header Fields Too Large", "The request headers are too large.")
const requestTimedOut = rawAnswer("408 Request Timeout", "The request was not received in time.")

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

const jsonAnswer = (
  status: number,
  description: string,
  req: IncomingMessage,
  headers: Record<string, string> = {}
): OsbHttpResponse => {
  const identity = requestIdentity(req)
  return {
    status,
    headers: {
      "content-type": "application/json",
      ...headers,
      ...(identity === "" ? {} : { "x-broker-api-request-identity": identity })
    },
    body: JSON.stringify({ description })
  }
}

const requestIdentity = (req: IncomingMessage): string => {
  const identity = req.headers["x-broker-api-request-identity"]
  return typeof identity === "string" ? identity : ""
}

/** Whether a request carries a body (declared, or chunked). */
const hasBody = (req: IncomingMessage): boolean => {
  const length = req.headers["content-length"]
  return req.headers["transfer-encoding"] !== undefined || (length !== undefined && length !== "0")
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
    const { limits, log, throttle } = options

    let inFlight = 0
    let closing = false
    let idle: (() => void) | undefined
    /** Body bytes being received (buffered by bodies whose read is not over). */
    let bodyBytes = 0
    const busy = new ServiceUnavailable({
      description: "The broker is receiving too many request bodies at once; retry shortly.",
      retryAfterSeconds: 2
    })

    const logAnswer = (req: IncomingMessage, status: number, started: number) => {
      if (log === undefined) return
      log({
        method: req.method ?? "GET",
        route: "",
        status,
        ms: Math.round((performance.now() - started) * 10) / 10,
        requestIdentity: requestIdentity(req),
        address: req.socket.remoteAddress ?? ""
      })
    }

    /**
     * Reads a body with plain stream events, bounded by `maxBodyBytes` (413), the bytes in flight across
     * connections (503) and the body timeout (408, answered here; `done` then gets an interruption). Returns a
     * function that abandons the read.
     */
    const readBody = (
      req: IncomingMessage,
      res: ServerResponse,
      started: number,
      done: (text: BodyText) => void
    ): () => void => {
      const declared = Number(req.headers["content-length"] ?? 0)
      if (declared > maxBytes) {
        res.shouldKeepAlive = false
        done(Exit.fail(bodyReadError(true, maxBytes)))
        return () => {}
      }
      if (bodyBytes + declared > limits.maxBodyBytesInFlight) {
        done(Exit.fail(busy))
        return () => {}
      }
      const chunks: Array<Buffer> = []
      let size = 0
      let over = false
      const finish = (text: BodyText) => {
        if (over) return
        over = true
        clearTimeout(timer)
        req.off("data", onData)
        req.off("end", onEnd)
        req.off("error", onError)
        req.off("close", onError)
        // the bytes stop counting once the read is over, whatever ended it (a listener on the response could
        // be added after the response closed, and leak)
        bodyBytes -= size
        done(text)
      }
      const onData = (chunk: Buffer) => {
        if (over) return
        size += chunk.length
        bodyBytes += chunk.length
        if (size > maxBytes) {
          res.shouldKeepAlive = false
          finish(Exit.fail(bodyReadError(true, maxBytes)))
        } else if (bodyBytes > limits.maxBodyBytesInFlight) {
          res.shouldKeepAlive = false
          finish(Exit.fail(busy))
        } else {
          chunks.push(chunk)
        }
      }
      const onEnd = () =>
        finish(Exit.succeed((chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size)).toString("utf8")))
      const onError = () => finish(Exit.fail(bodyReadError(false, maxBytes)))
      const timer = setTimeout(() => {
        // answered here: there is no OSB error for a client that does not send its body
        res.shouldKeepAlive = false
        write(res, jsonAnswer(408, `The request body was not received within ${limits.bodyTimeoutMs} ms.`, req))
        logAnswer(req, 408, started)
        finish(Effect.interrupt)
      }, limits.bodyTimeoutMs)
      req.on("data", onData)
      req.on("end", onEnd)
      req.on("error", onError)
      req.on("close", onError)
      return onError
    }

    /** The body as an effect that reads it when run: for handlers that decide asynchronously whether to read. */
    const lazyBody = (req: IncomingMessage, res: ServerResponse, started: number): BodyText =>
      Effect.async((resume, signal) => {
        const abandon = readBody(req, res, started, resume)
        signal.addEventListener("abort", abandon)
      })

    const settle = (req: IncomingMessage, res: ServerResponse, exit: Exit.Exit<OsbHttpResponse>) => {
      if (closing) res.shouldKeepAlive = false
      // a body nobody read: a small one is dumped, a large or chunked one closes the connection
      if (!req.complete && hasBody(req) && !(Number(req.headers["content-length"] ?? Infinity) <= smallBody)) {
        res.shouldKeepAlive = false
      }
      if (Exit.isSuccess(exit)) {
        const response = exit.value
        if (throttle !== undefined) {
          const address = req.socket.remoteAddress ?? ""
          // a failed login is a 401 to a request that carried credentials; a request without them is not a guess
          if (response.status === 401 && req.headers.authorization !== undefined) {
            const delay = throttle.failed(address, Date.now())
            if (delay > 0) {
              setTimeout(() => write(res, response), delay)
              return
            }
          } else if (response.status !== 401) {
            throttle.succeeded(address)
          }
        }
        write(res, response)
      } else if (!res.headersSent) {
        runFork(Effect.logError("unexpected failure while serving an OSB request", exit.cause))
        write(res, internalError)
      }
    }

    const requestOf = (req: IncomingMessage, text: BodyText): OsbHttpRequest => ({
      method: req.method ?? "GET",
      url: req.url ?? "/",
      headers: req.headers as Readonly<Record<string, string | undefined>>,
      text,
      remoteAddress: req.socket.remoteAddress ?? "",
      socket: req.socket
    })

    const dispatch = (req: IncomingMessage, res: ServerResponse, text: BodyText): void => {
      const request = requestOf(req, text)
      let effect: Effect.Effect<OsbHttpResponse>
      try {
        effect = handler.handle(request)
      } catch (defect) {
        settle(req, res, Exit.die(defect))
        return
      }
      if (!options.tracing && Exit.isExit(effect)) {
        settle(req, res, effect as Exit.Exit<OsbHttpResponse>)
        return
      }
      inFlight++
      const traced = options.tracing
        ? Effect.withSpan(effect, `http.server ${request.method}`, { kind: "server" })
        : effect
      runFork(traced).addObserver((exit) => {
        inFlight--
        settle(req, res, exit)
        if (inFlight === 0 && idle !== undefined) idle()
      })
    }

    const onRequest = (req: IncomingMessage, res: ServerResponse): void => {
      const started = performance.now()
      if (throttle !== undefined) {
        const refused = throttle.refusedFor(req.socket.remoteAddress ?? "", Date.now())
        if (refused > 0) {
          if (hasBody(req)) res.shouldKeepAlive = false
          const seconds = String(Math.ceil(refused / 1000))
          write(
            res,
            jsonAnswer(429, "Too many failed logins from this address; retry later.", req, { "retry-after": seconds })
          )
          logAnswer(req, 429, started)
          return
        }
      }
      if (!hasBody(req)) return dispatch(req, res, emptyBody)
      // a body is read only for a request the handler admits (route, auth, version): known at once, the body is
      // read with stream events and the handler may still answer in this callback, without a fiber (measured:
      // sync provision 2x the requests per second of reading every body through a lazy effect in a fiber)
      const admitted = handler.admit(requestOf(req, unread))
      if (!Exit.isExit(admitted) || Exit.isFailure(admitted) || !admitted.value) {
        return dispatch(req, res, lazyBody(req, res, started))
      }
      inFlight++
      readBody(req, res, started, (text) => {
        dispatch(req, res, text)
        inFlight--
        if (inFlight === 0 && idle !== undefined) idle()
      })
    }

    const server = options.server === undefined ? createServer(onRequest) : options.server.on("request", onRequest)
    // the same limits on a server given to us (HTTPS): Node reads these properties when it starts listening;
    // it checks the two timeouts every `connectionsCheckingInterval` (its default, 30 s, let slow headers live
    // ~80 s)
    Object.assign(server, {
      headersTimeout: limits.headersTimeoutMs,
      requestTimeout: limits.requestTimeoutMs,
      connectionsCheckingInterval: Math.max(100, Math.min(1000, limits.headersTimeoutMs / 4)),
      maxConnections: limits.maxConnections
    })
    // a request the HTTP parser refuses, or one not received in time, gets a JSON answer too, then the
    // connection closes
    server.on("clientError", (error: Error & { readonly code?: string }, socket: Duplex) => {
      if (!socket.writable || error.code === "ECONNRESET") {
        socket.destroy()
        return
      }
      socket.end(
        error.code === "HPE_HEADER_OVERFLOW"
          ? headersTooLarge
          : error.code === "ERR_HTTP_REQUEST_TIMEOUT"
          ? requestTimedOut
          : notHttp
      )
      // a client that stops reading must not keep the socket
      setTimeout(() => socket.destroy(), 1000).unref()
    })

    const address = yield* listenOn(server, options.port, options.host)

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
