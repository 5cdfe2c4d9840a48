/**
 * `Server.serve`: the router's app on an `@effect/platform` `HttpServer` from the context. Loaded on demand, so
 * a broker started with `Server.layer` does not load the platform's HTTP modules.
 *
 * @internal
 */
import * as HttpMiddleware from "@effect/platform/HttpMiddleware"
import * as HttpServer from "@effect/platform/HttpServer"
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import type { BrokerAuth } from "../BrokerAuth.js"
import { drainOnClose } from "../BrokerLifecycle.js"
import type { Catalog } from "../Catalog.js"
import type { BrokerIncomplete, RouterOptions } from "../Router.js"
import * as Router from "../Router.js"
import type { ServiceBroker } from "../ServiceBroker.js"

/** @internal */
export const serve = (
  options: RouterOptions & { readonly tracing?: boolean; readonly drainTimeout?: Duration.DurationInput }
): Layer.Layer<never, BrokerIncomplete, HttpServer.HttpServer | Catalog | ServiceBroker | BrokerAuth> => {
  const served = Layer.scopedDiscard(
    Effect.gen(function*() {
      const app = yield* Router.httpApp(options)
      yield* HttpServer.serveEffect(app)
      // finalizers run in reverse: the drain runs first, while the server still answers (503 for mutations)
      yield* drainOnClose(options.drainTimeout ?? "10 seconds")
    })
  )
  const logged = HttpServer.withLogAddress(served)
  return options.tracing === true ? logged : HttpMiddleware.withTracerDisabledWhen(logged, () => true)
}
