/**
 * Test support for the router tests: a raw client that sends any `Request` body (bytes, streams, no
 * Content-Type, a declared Content-Length), the ten endpoints as a table, and a recording broker.
 */
import { Layer, Logger, LogLevel } from "effect"
import { BrokerAuth } from "../../src/index.js"
import type { Catalog, Router, ServiceBroker } from "../../src/index.js"
import { AUTH, PASSWORD, redacted, toReply, USER } from "./http.js"
import type { Reply } from "./http.js"
import { bindBody, ids, OFFERING, provisionBody, scripted } from "./scripted.js"
import type { Recorded, Script } from "./scripted.js"
import { handlerFor } from "./transport.js"

export const basicLayer = BrokerAuth.layerBasic([{ username: USER, password: redacted(PASSWORD) }])

export { toReply }

export interface RawInit {
  readonly method?: string
  /** Extra or overriding headers; `null` removes a default header (authorization, x-broker-api-version). */
  readonly headers?: Record<string, string | null>
  /** Sent as is: a `Uint8Array` or a stream carries no Content-Type, unlike a string. */
  readonly body?: Uint8Array | ReadableStream<Uint8Array> | string
}

export interface RawClient {
  readonly send: (path: string, init?: RawInit) => Promise<Reply>
  readonly dispose: () => Promise<void>
}

/** A client that builds each `Request` exactly as asked: no Content-Type is added. */
export const rawClientFor = (
  services: Layer.Layer<Catalog.Catalog | ServiceBroker.ServiceBroker, unknown>,
  options: Router.RouterOptions = {},
  auth: Layer.Layer<BrokerAuth.BrokerAuth> = basicLayer
): RawClient => {
  const { dispose, handler } = handlerFor(Layer.merge(services, auth), { requestLog: false, ...options })
  const send = async (path: string, init: RawInit = {}): Promise<Reply> => {
    const headers = new Headers()
    const all = { authorization: AUTH, "x-broker-api-version": "2.17", ...init.headers }
    for (const [k, v] of Object.entries(all)) {
      if (v !== null) headers.set(k, v)
    }
    const streaming = init.body instanceof ReadableStream
    const request = new Request(`http://broker.test${path}`, {
      method: init.method ?? "GET",
      headers,
      ...(init.body === undefined ? {} : { body: init.body }),
      ...(streaming ? { duplex: "half" } : {})
    } as RequestInit)
    return toReply(await handler(request))
  }
  return { send, dispose }
}

/** UTF-8 bytes of a JSON value (a body without an implied Content-Type). */
export const jsonBytes = (value: unknown): Uint8Array => new TextEncoder().encode(JSON.stringify(value))

/** A stream of the given bytes in small chunks, with no length known in advance. */
export const chunkedStream = (bytes: Uint8Array, chunk = 64 * 1024): ReadableStream<Uint8Array> => {
  let offset = 0
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      if (offset >= bytes.length) {
        controller.close()
        return
      }
      controller.enqueue(bytes.slice(offset, offset + chunk))
      offset += chunk
    }
  })
}

/** A recording scripted broker: `last(op)` is the request the router handed to `op` most recently. */
export const recording = (script: Script = {}) => {
  const recorded: Recorded = []
  // the router logs defects at level Error; the tests provoke many of them on purpose
  const layer = Layer.merge(scripted(script, recorded), Logger.minimumLogLevel(LogLevel.None))
  const calls = (operation: string): Array<any> =>
    recorded.filter((r) => r.operation === operation).map((r) => r.request)
  const last = (operation: string): any => {
    const all = calls(operation)
    if (all.length === 0) throw new Error(`the broker's ${operation} was never called`)
    return all[all.length - 1]
  }
  return { recorded, layer, calls, last }
}

export interface Endpoint {
  /** E1..E10 of the checklist. */
  readonly id: string
  readonly method: string
  readonly path: string
  readonly body?: unknown
  /** The broker operation the endpoint calls (none for the catalog). */
  readonly operation?: string
  /** The status a valid request gets from the default scripted broker. */
  readonly ok: number
}

export const INSTANCE = "/v2/service_instances/inst-1"
export const BINDING = `${INSTANCE}/service_bindings/bind-1`

/** One valid request per OSB endpoint (against `testCatalog` and the default script). */
export const endpoints: ReadonlyArray<Endpoint> = [
  { id: "E1", method: "GET", path: "/v2/catalog", ok: 200 },
  { id: "E2", method: "PUT", path: INSTANCE, body: provisionBody(), operation: "provision", ok: 201 },
  { id: "E3", method: "GET", path: INSTANCE, operation: "getInstance", ok: 200 },
  {
    id: "E4",
    method: "PATCH",
    path: INSTANCE,
    body: { service_id: OFFERING, parameters: { a: 1 } },
    operation: "update",
    ok: 200
  },
  { id: "E5", method: "DELETE", path: `${INSTANCE}?${ids}`, operation: "deprovision", ok: 200 },
  { id: "E6", method: "GET", path: `${INSTANCE}/last_operation`, operation: "lastOperation", ok: 200 },
  { id: "E7", method: "PUT", path: BINDING, body: bindBody(), operation: "bind", ok: 201 },
  { id: "E8", method: "GET", path: BINDING, operation: "getBinding", ok: 200 },
  { id: "E9", method: "DELETE", path: `${BINDING}?${ids}`, operation: "unbind", ok: 200 },
  { id: "E10", method: "GET", path: `${BINDING}/last_operation`, operation: "lastBindingOperation", ok: 200 }
]

/** Paths that are no OSB endpoint, or an OSB path with a method it does not have. */
export const strayRequests: ReadonlyArray<{ readonly label: string; readonly method: string; readonly path: string }> =
  [
    { label: "unknown path /v2/nothing", method: "GET", path: "/v2/nothing" },
    { label: "unknown path /", method: "GET", path: "/" },
    { label: "wrong method POST /v2/catalog", method: "POST", path: "/v2/catalog" }
  ]
