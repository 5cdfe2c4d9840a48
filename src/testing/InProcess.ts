/**
 * Run a broker in process and talk to it through the typed `OsbClient`, with no socket: every request is turned
 * into an `HttpServerRequest`, handed to the router app and run **in the calling fiber**, and the answer is
 * turned back into an `HttpClientResponse`. Background work of the broker (async operations) runs in the scope
 * the layer was built in, so under `it.effect` it follows the `TestClock`: `TestClock.adjust` moves async
 * operations forward, no sleeps needed.
 *
 * @since 0.1.0
 * @module
 */
import type * as HttpApp from "@effect/platform/HttpApp"
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientError from "@effect/platform/HttpClientError"
import type * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import * as HttpServerError from "@effect/platform/HttpServerError"
import * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import type * as Redacted from "effect/Redacted"
import type * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import type { BrokerAuth } from "../BrokerAuth.js"
import type { Catalog } from "../Catalog.js"
import * as OsbClient from "../OsbClient.js"
import * as Router from "../Router.js"
import type { ServiceBroker } from "../ServiceBroker.js"

/**
 * Options of the in-process client.
 *
 * @since 0.1.0
 * @category models
 */
export interface InProcessOptions {
  /** Options of the router; `requestLog` defaults to `false` here (no log line per test request). */
  readonly routerOptions?: Router.RouterOptions
  /** Basic auth user name sent with every request; no `Authorization` header when absent. */
  readonly username?: string
  /** Basic auth password (with `username`). */
  readonly password?: Redacted.Redacted<string> | string
  /** `X-Broker-API-Version` sent with every request. Default `2.17`. */
  readonly apiVersion?: string
  /** Headers sent with every request. */
  readonly headers?: Readonly<Record<string, string>>
  /** The base URL the requests claim to go to (never contacted). Default `http://broker.test`. */
  readonly baseUrl?: string
}

/**
 * The base URL used when none is given. Nothing listens there: requests never leave the process.
 *
 * @since 0.1.0
 * @category constants
 */
export const defaultBaseUrl = "http://broker.test"

const transportError = (request: HttpClientRequest.HttpClientRequest, cause: unknown, description: string) =>
  new HttpClientError.RequestError({ request, reason: "Transport", cause, description })

const concat = (chunks: ReadonlyArray<Uint8Array>): Uint8Array<ArrayBuffer> => {
  const out = new Uint8Array(chunks.reduce((n, chunk) => n + chunk.length, 0))
  let at = 0
  for (const chunk of chunks) {
    out.set(chunk, at)
    at += chunk.length
  }
  return out
}

const bodyOf = (
  request: HttpClientRequest.HttpClientRequest
): Effect.Effect<BodyInit | undefined, HttpClientError.RequestError> => {
  const body = request.body
  switch (body._tag) {
    case "Empty":
      return Effect.succeed(undefined)
    case "Raw":
      return Effect.succeed(body.body as BodyInit)
    case "Uint8Array":
      return Effect.succeed(body.body as Uint8Array<ArrayBuffer>)
    case "FormData":
      return Effect.succeed(body.formData)
    case "Stream":
      return body.stream.pipe(
        Stream.runCollect,
        Effect.map((chunks): BodyInit => concat(Array.from(chunks))),
        Effect.mapError((cause) =>
          new HttpClientError.RequestError({
            request,
            reason: "Encode",
            cause,
            description: "the request body stream failed"
          })
        )
      )
  }
}

/**
 * An `HttpClient` that answers every request by running `app` in the calling fiber: the request becomes an
 * `HttpServerRequest` (method, URL, headers and body), a defect of the app becomes the 500 a server would send,
 * and the `HttpServerResponse` becomes an `HttpClientResponse`. No socket is opened.
 *
 * @since 0.1.0
 * @category constructors
 */
export const fromApp = (app: HttpApp.Default<never, Scope.Scope>): HttpClient.HttpClient =>
  HttpClient.make((request, url) =>
    Effect.gen(function*() {
      const body = yield* bodyOf(request)
      const web = yield* Effect.try({
        try: () =>
          new Request(url, {
            method: request.method,
            headers: request.headers,
            body: body ?? null,
            // a ReadableStream body (a Raw body may be one) needs half duplex
            ...(body instanceof ReadableStream ? { duplex: "half" } : {})
          } as RequestInit),
        catch: (cause) => transportError(request, cause, "the request cannot be built (e.g. a body on GET)")
      })
      const response = yield* app.pipe(
        Effect.catchAllCause((cause) => Effect.map(HttpServerError.causeResponse(cause), ([response]) => response)),
        Effect.provideService(HttpServerRequest.HttpServerRequest, HttpServerRequest.fromWeb(web)),
        Effect.scoped
      )
      const runtime = yield* Effect.runtime<never>()
      return HttpClientResponse.fromWeb(
        request,
        HttpServerResponse.toWeb(response, { withoutBody: request.method === "HEAD", runtime })
      )
    })
  )

/**
 * Builds the router over the broker services in the current scope and returns an `HttpClient` wired to it.
 *
 * @since 0.1.0
 * @category constructors
 */
export const makeHttpClient = (
  routerOptions?: Router.RouterOptions
): Effect.Effect<HttpClient.HttpClient, Router.BrokerIncomplete, Catalog | ServiceBroker | BrokerAuth> =>
  Effect.map(Router.httpApp({ requestLog: false, ...routerOptions }), fromApp)

const clientConfig = (options: InProcessOptions): OsbClient.OsbClientConfig => ({
  url: options.baseUrl ?? defaultBaseUrl,
  ...(options.username === undefined ? {} : { username: options.username }),
  ...(options.password === undefined ? {} : { password: options.password }),
  ...(options.apiVersion === undefined ? {} : { apiVersion: options.apiVersion }),
  ...(options.headers === undefined ? {} : { headers: options.headers })
})

/**
 * Builds the router over the broker services in the current scope and returns the typed client wired to it.
 *
 * @since 0.1.0
 * @category constructors
 */
export const makeClient = (
  options: InProcessOptions = {}
): Effect.Effect<OsbClient.OsbClientService, Router.BrokerIncomplete, Catalog | ServiceBroker | BrokerAuth> =>
  Effect.flatMap(
    makeHttpClient(options.routerOptions),
    (http) => Effect.provideService(OsbClient.make(clientConfig(options)), HttpClient.HttpClient, http)
  )

/**
 * An `HttpClient` answered in process by the router over `brokerLayer` (built once, in the layer's scope).
 * Every request goes to the broker whatever its host; use it for `raw` exchanges or your own clients.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerHttpClient = <E>(
  brokerLayer: Layer.Layer<Catalog | ServiceBroker | BrokerAuth, E>,
  options: Pick<InProcessOptions, "routerOptions"> = {}
): Layer.Layer<HttpClient.HttpClient, E | Router.BrokerIncomplete> =>
  Layer.effect(HttpClient.HttpClient, makeHttpClient(options.routerOptions)).pipe(Layer.provide(brokerLayer))

/**
 * The typed `OsbClient` wired to the router over `brokerLayer`, in process, no socket. The broker is built once,
 * in the layer's scope; requests run in the calling fiber, so the broker's background work follows the caller's
 * clock (`TestClock` under `it.effect`).
 *
 * Layers are memoized by reference: `Layer.merge(layerClient(broker), broker)` shares one broker between the
 * client and the test, so the test can also reach the broker's services (e.g. its store).
 *
 * @example
 * ```ts
 * import { expect, it } from "@effect/vitest"
 * import { Effect, Layer } from "effect"
 * import { BrokerAuth, OsbClient } from "effect-osb"
 * import { InProcess } from "effect-osb/testing"
 * import { broker } from "./my-broker.js"
 *
 * const Client = InProcess.layerClient(Layer.merge(broker, BrokerAuth.layerNone))
 *
 * it.effect("an unknown instance is gone", () =>
 *   Effect.gen(function*() {
 *     const client = yield* OsbClient.OsbClient
 *     const catalog = yield* client.catalog()
 *     const offering = catalog.services[0]!
 *     const ids = { serviceId: offering.id, planId: offering.plans[0].id }
 *     const error = yield* Effect.flip(client.deprovision("never-created", ids))
 *     expect(error._tag).toBe("Gone")
 *   }).pipe(Effect.provide(Client)))
 * ```
 *
 * @since 0.1.0
 * @category layers
 */
export const layerClient = <E>(
  brokerLayer: Layer.Layer<Catalog | ServiceBroker | BrokerAuth, E>,
  options: InProcessOptions = {}
): Layer.Layer<OsbClient.OsbClient, E | Router.BrokerIncomplete> =>
  Layer.effect(OsbClient.OsbClient, makeClient(options)).pipe(Layer.provide(brokerLayer))
