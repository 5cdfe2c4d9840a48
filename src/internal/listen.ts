/**
 * Listening on an address with a `node:http` (or `node:https`) server: the bound address once it listens, or the
 * platform's `ServeError` when it cannot (port in use, permission, address not local), which `Server.runMain`
 * turns into its one start-up line. The platform's error module is loaded only when listening fails.
 *
 * @internal
 */
import type { ServeError } from "@effect/platform/HttpServerError"
import * as Effect from "effect/Effect"
import type { AddressInfo, Server } from "node:net"

/**
 * Starts `server` listening on `port` and `host`; succeeds with the bound address (the real port for port 0).
 *
 * @internal
 */
export const listenOn = (server: Server, port: number, host: string): Effect.Effect<AddressInfo, ServeError> =>
  Effect.async<AddressInfo, ServeError>((resume) => {
    const onError = (cause: Error) =>
      resume(
        Effect.flatMap(
          Effect.promise(() => import("@effect/platform/HttpServerError")),
          (module) => Effect.fail(new module.ServeError({ cause }))
        )
      )
    server.once("error", onError)
    server.listen(port, host, () => {
      server.off("error", onError)
      resume(Effect.succeed(server.address() as AddressInfo))
    })
  })
