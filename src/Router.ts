/**
 * The HTTP edge: an `HttpRouter` with the ten OSB endpoints, built from the `Catalog`, `ServiceBroker` and
 * `BrokerAuth` services. It authenticates, checks the version header, decodes and checks every request, calls
 * the broker and renders its typed answer or error through the one error table. `Server.layer` serves the same
 * handler on `node:http` directly.
 *
 * @since 0.1.0
 * @module
 */
import * as HttpApp from "@effect/platform/HttpApp"
import * as HttpIncomingMessage from "@effect/platform/HttpIncomingMessage"
import * as HttpRouter from "@effect/platform/HttpRouter"
import * as HttpServer from "@effect/platform/HttpServer"
import * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import type { BrokerAuth } from "./BrokerAuth.js"
import type { Catalog } from "./Catalog.js"
import type { OsbHttpResponse } from "./internal/core.js"
import * as Core from "./internal/core.js"
import * as Observe from "./internal/observe.js"
import type { OsbHttpRequest } from "./internal/request.js"
import { bodyReadError } from "./internal/request.js"
import type { ErrorBody } from "./Model.js"
import type { OsbError } from "./OsbError.js"
import { internalErrorResponse } from "./OsbError.js"
import * as Protocol from "./Protocol.js"
import type { ServiceBroker } from "./ServiceBroker.js"

/**
 * Router options. Every field has a documented default.
 *
 * @since 0.1.0
 * @category models
 */
export type RouterOptions = Core.RouterOptions

/**
 * The router option `validateParameters`: `true` (default), `false`, or a predicate on the plan.
 *
 * @since 0.1.0
 * @category models
 */
export type { ValidateParameters } from "./internal/parameters.js"

/**
 * The router could not be built: the catalog promises an endpoint the broker does not implement.
 *
 * @since 0.1.0
 * @category errors
 */
export const BrokerIncomplete = Core.BrokerIncomplete

/**
 * The router could not be built: the catalog promises an endpoint the broker does not implement.
 *
 * @since 0.1.0
 * @category errors
 */
export type BrokerIncomplete = Core.BrokerIncomplete

/**
 * A broker answered something the protocol forbids (e.g. 202 without `accepts_incomplete=true`). A defect.
 *
 * @since 0.1.0
 * @category errors
 */
export const BrokerContractViolation = Core.BrokerContractViolation

/**
 * A broker answered something the protocol forbids (e.g. 202 without `accepts_incomplete=true`). A defect.
 *
 * @since 0.1.0
 * @category errors
 */
export type BrokerContractViolation = Core.BrokerContractViolation

/**
 * Classifies a path (without query) as one of the OSB routes, for 405 answers and log lines.
 *
 * @since 0.1.0
 * @category utils
 */
export const classifyPath = Core.classifyPath

/**
 * The built router.
 *
 * @since 0.1.0
 * @category models
 */
export interface OsbRouter {
  /** The ten endpoints, each wrapped with auth, version and identity handling: mount it in your own app. */
  readonly router: HttpRouter.HttpRouter<never, never>
  /** A complete app: the router plus JSON 404/405 answers for other paths and methods. */
  readonly app: HttpApp.Default<never, never>
}

// -----------------------------------------------------------------------------
// @effect/platform adapter
// -----------------------------------------------------------------------------

const isSizeLimit = (error: { readonly cause?: unknown }): boolean =>
  error.cause instanceof Error && error.cause.message.includes("maxBytes")

const fromPlatform = (request: HttpServerRequest.HttpServerRequest, maxBytes: number): OsbHttpRequest => ({
  method: request.method,
  url: request.url,
  headers: request.headers,
  text: request.text.pipe(
    HttpIncomingMessage.withMaxBodySize(Option.some(maxBytes)),
    Effect.mapError((error) => bodyReadError(isSizeLimit(error), maxBytes))
  )
})

const toPlatform = (response: OsbHttpResponse): HttpServerResponse.HttpServerResponse => {
  const { "content-type": contentType, ...headers } = response.headers
  return response.body === undefined
    ? HttpServerResponse.empty({ status: response.status, headers })
    : HttpServerResponse.text(response.body, {
      status: response.status,
      headers,
      ...(contentType === undefined ? {} : { contentType })
    })
}

/**
 * Builds the router from the `Catalog`, `ServiceBroker` and `BrokerAuth` services. Fails with
 * `BrokerIncomplete` when the catalog promises endpoints the broker lacks. With `Metrics.layer` (or an
 * `AdminServer` layer) in the context it records the request metrics; with a `Tracing` layer, the request spans.
 *
 * @example
 * ```ts
 * import { HttpRouter, HttpServerResponse } from "@effect/platform"
 * import { Effect } from "effect"
 * import { Router } from "effect-osb"
 *
 * // the ten OSB endpoints next to routes of your own, in one @effect/platform router
 * export const app = Effect.map(
 *   Router.make(),
 *   ({ router }) => router.pipe(HttpRouter.get("/healthz", HttpServerResponse.text("ok")))
 * )
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (
  options: RouterOptions = {}
): Effect.Effect<OsbRouter, BrokerIncomplete, Catalog | ServiceBroker | BrokerAuth> =>
  // request metrics and spans wrap the handler when `Metrics.layer` / `AdminServer` / `Tracing` are in the context
  Effect.map(Effect.flatMap(Core.makeHandler(options), Observe.wrapHandler), (handler) => {
    const app: HttpApp.Default<never, never> = Effect.flatMap(
      HttpServerRequest.HttpServerRequest,
      (request) => Effect.map(handler.handle(fromPlatform(request, handler.maxBodyBytes)), toPlatform)
    )
    const route = (name: Protocol.RouteName) =>
      Effect.flatMap(
        Effect.all([HttpServerRequest.HttpServerRequest, HttpRouter.RouteContext]),
        ([request, context]) => {
          const ids: Array<string> = []
          if (context.params["instance_id"] !== undefined) ids.push(context.params["instance_id"])
          if (context.params["binding_id"] !== undefined) ids.push(context.params["binding_id"])
          return Effect.map(
            handler.handleRoute(name, ids, fromPlatform(request, handler.maxBodyBytes)),
            toPlatform
          )
        }
      )
    const mutating = { uninterruptible: true } as const
    const router: HttpRouter.HttpRouter<never, never> = Protocol.endpointNames.reduce(
      (router: HttpRouter.HttpRouter<never, never>, name) => {
        const endpoint = Protocol.endpoints[name]
        return HttpRouter.route(endpoint.method)(
          router,
          Protocol.routes[endpoint.route],
          route(endpoint.route),
          Protocol.isMutating(name) ? mutating : undefined
        )
      },
      HttpRouter.empty
    )
    return { app, router }
  })

/**
 * The router as a layer-built value, for `HttpServer.serve` or `toWebHandler`.
 *
 * @since 0.1.0
 * @category constructors
 */
export const httpApp = (
  options?: RouterOptions
): Effect.Effect<HttpApp.Default<never, never>, BrokerIncomplete, Catalog | ServiceBroker | BrokerAuth> =>
  Effect.map(make(options), (built) => built.app)

/**
 * An in-process web handler (`Request => Promise<Response>`) for a broker given as layers: no socket needed.
 * Call `dispose` when done.
 *
 * @example
 * ```ts
 * import { Layer } from "effect"
 * import { BrokerAuth, Router } from "effect-osb"
 * import { broker } from "./my-broker.js"
 *
 * // a fetch-style handler (Deno, Bun, workers, tests): no socket
 * const { dispose, handler } = Router.toWebHandler(Layer.merge(broker, BrokerAuth.layerNone))
 * const response = await handler(
 *   new Request("http://broker.test/v2/catalog", { headers: { "X-Broker-API-Version": "2.17" } })
 * )
 * export const status = response.status // 200
 * await dispose()
 * ```
 *
 * @since 0.1.0
 * @category conversions
 */
export const toWebHandler = <E>(
  layer: Layer.Layer<Catalog | ServiceBroker | BrokerAuth, E>,
  options?: RouterOptions
): {
  /** Answers one web `Request` (Deno, Bun, Cloudflare Workers, a test...). */
  readonly handler: (request: Request) => Promise<Response>
  /** Releases the layer (its scope, background work included). */
  readonly dispose: () => Promise<void>
} =>
  HttpApp.toWebHandlerLayerWith(Layer.merge(layer, HttpServer.layerContext), {
    toHandler: (runtime) => Effect.provide(httpApp(options), runtime)
  })

/**
 * JSON headers used on every answer.
 *
 * @since 0.1.0
 * @category constants
 */
export const responseHeaders: Readonly<Record<string, string>> = { "content-type": "application/json" }

/**
 * Renders an error body the way the router does (for custom endpoints next to the OSB ones).
 *
 * @since 0.1.0
 * @category rendering
 */
export const errorResponse = (error: OsbError): HttpServerResponse.HttpServerResponse =>
  toPlatform(Core.renderError(error))

/**
 * The JSON body the router uses for a defect.
 *
 * @since 0.1.0
 * @category constants
 */
export const internalErrorBody: ErrorBody = internalErrorResponse.body
