/**
 * The admin listener (`AdminServer.layer`): `/healthz`, `/readyz` and `/metrics` on `node:http`. Loaded on demand.
 *
 * @internal
 */
import type { ServeError } from "@effect/platform/HttpServerError"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Runtime from "effect/Runtime"
import type * as Scope from "effect/Scope"
import { createServer, type IncomingMessage, type ServerResponse } from "node:http"
import type { AddressInfo } from "node:net"
import type { AdminOptions } from "../AdminServer.js"
import * as Metrics from "../Metrics.js"
import { listenOn } from "./listen.js"
import type { Serving } from "./observe.js"
import { AdminRegistry, MetricsObserver } from "./observe.js"

/**
 * Why the broker is not ready (empty when it is): no server serving (starting: the store and its migrations are
 * not done yet; or stopped), draining, or the store not answering.
 *
 * @internal
 */
export const readiness = (serving: ReadonlyArray<Serving>): Effect.Effect<ReadonlyArray<string>> => {
  if (serving.length === 0) return Effect.succeed(["not serving: starting (store and migrations) or stopped"])
  return Effect.map(
    Effect.forEach(serving, (entry) => {
      if (Option.isNone(entry.lifecycle)) return Effect.succeed<ReadonlyArray<string>>([])
      const lifecycle = entry.lifecycle.value
      const draining = lifecycle.isDraining?.() === true ? ["draining: the broker is shutting down"] : []
      const probe = lifecycle.storeProbe
      if (probe === undefined) return Effect.succeed(draining)
      return Effect.map(
        Effect.exit(probe),
        (exit): ReadonlyArray<string> => Exit.isSuccess(exit) ? draining : [...draining, `store: ${describe(exit)}`]
      )
    }),
    (reasons) => reasons.flat()
  )
}

const describe = (exit: Exit.Exit<unknown, unknown>): string => {
  if (Exit.isSuccess(exit)) return "ok"
  const failure = exit.cause._tag === "Fail" ? exit.cause.error : undefined
  if (typeof failure === "object" && failure !== null && "message" in failure) {
    const message = String((failure as { message: unknown }).message)
    if (message.length > 0) return message.slice(0, 300)
  }
  return "the store failed"
}

const send = (res: ServerResponse, status: number, contentType: string, body: string) => {
  res.writeHead(status, { "content-type": contentType, "content-length": Buffer.byteLength(body) })
  res.end(body)
}
const json = (res: ServerResponse, status: number, body: unknown) =>
  send(res, status, "application/json", JSON.stringify(body))

const listen = (
  options: AdminOptions,
  handle: (req: IncomingMessage, res: ServerResponse) => void
): Effect.Effect<AddressInfo, ServeError, Scope.Scope> =>
  Effect.acquireRelease(
    Effect.suspend(() => {
      const server = createServer(handle)
      return Effect.map(listenOn(server, options.port, options.host ?? "127.0.0.1"), (address) => ({ server, address }))
    }),
    ({ server }) =>
      Effect.async<void>((resume) => {
        server.close(() => resume(Effect.void))
        server.closeAllConnections()
      })
  ).pipe(Effect.map(({ address }) => address))

/**
 * The admin listener and the services it provides (metrics on, the readiness registry).
 *
 * @internal
 */
export const layer = (options: AdminOptions): Layer.Layer<never, ServeError> =>
  Layer.scopedContext(
    Effect.gen(function*() {
      const serving = new Set<Serving>()
      const runPromise = Runtime.runPromise(yield* Effect.runtime<never>())
      const handle = (req: IncomingMessage, res: ServerResponse) => {
        const path = (req.url ?? "/").split("?")[0]
        if (req.method !== "GET" && req.method !== "HEAD") {
          return json(res, 405, { description: "The admin endpoints answer GET only." })
        }
        switch (path) {
          case "/healthz":
            return json(res, 200, { status: "ok" })
          case "/readyz":
            return void runPromise(readiness([...serving])).then((reasons) =>
              reasons.length === 0
                ? json(res, 200, { status: "ready" })
                : json(res, 503, { status: "not ready", reasons })
            )
          case "/metrics":
            return void runPromise(Metrics.prometheus).then(
              (text) => send(res, 200, "text/plain; version=0.0.4; charset=utf-8", text),
              () => json(res, 500, { description: "The metrics could not be rendered." })
            )
          default:
            return json(res, 404, { description: "Not found: the admin endpoints are /healthz, /readyz and /metrics." })
        }
      }
      const address = yield* listen(options, handle)
      const host = address.family === "IPv6" ? `[${address.address}]` : address.address
      yield* Effect.logInfo(`Admin listener on http://${host}:${address.port} (/healthz, /readyz, /metrics)`)
      const observer = Context.get(yield* Layer.build(Metrics.layer as Layer.Layer<MetricsObserver>), MetricsObserver)
      return Context.make(AdminRegistry, {
        register: (entry) =>
          Effect.acquireRelease(Effect.sync(() => serving.add(entry)), () => Effect.sync(() => serving.delete(entry)))
      }).pipe(Context.add(MetricsObserver, observer))
    })
  ) as Layer.Layer<never, ServeError>
