/**
 * Test support: speak HTTP to the real router, in process (a web handler, no socket), or to a broker listening on a
 * loopback port.
 */
import { Layer, Redacted } from "effect"
import { BrokerAuth } from "../../src/index.js"
import type { Catalog, Model, Router, ServiceBroker } from "../../src/index.js"
import { handlerFor } from "./transport.js"

export const USER = "broker-user"
export const PASSWORD = "s3cret:with:colons"
export const basicAuth = (user: string, password: string) =>
  `Basic ${Buffer.from(`${user}:${password}`, "utf8").toString("base64")}`
export const AUTH = basicAuth(USER, PASSWORD)

/** What every HTTP test looks at: status, headers, the body text, and the body parsed as JSON. */
export interface Reply {
  readonly status: number
  readonly headers: Headers
  readonly text: string
  /** The body parsed as JSON; `undefined` when it is empty or not JSON. */
  readonly body: any
}

/** The one way tests turn an answer into a `Reply` (the body parsed as JSON when it is JSON). */
export const replyOf = (status: number, headers: Headers, text: string): Reply => {
  let body: unknown = undefined
  try {
    body = text.length === 0 ? undefined : JSON.parse(text)
  } catch {
    body = undefined
  }
  return { status, headers, text, body }
}

/** Reads a web `Response` into a `Reply`. */
export const toReply = async (response: Response): Promise<Reply> =>
  replyOf(response.status, response.headers, await response.text())

export interface CallOptions {
  readonly body?: unknown
  /** Raw body text; wins over `body`. */
  readonly raw?: string
  /** Extra or overriding headers; `null` removes a default header. */
  readonly headers?: Record<string, string | null>
}

export interface Client {
  readonly call: (method: string, path: string, options?: CallOptions) => Promise<Reply>
  readonly dispose: () => Promise<void>
}

export const defaultHeaders: Record<string, string> = {
  authorization: AUTH,
  "x-broker-api-version": "2.17"
}

/** The request a client sends: the default headers with the call's own, and its body as JSON (or raw). */
const requestInit = (method: string, options: CallOptions): RequestInit => {
  const headers = new Headers()
  for (const [k, v] of Object.entries({ ...defaultHeaders, ...options.headers })) {
    if (v !== null) headers.set(k, v)
  }
  let body: string | undefined = options.raw
  if (body === undefined && options.body !== undefined) body = JSON.stringify(options.body)
  if (body !== undefined && !headers.has("content-type") && options.headers?.["content-type"] !== null) {
    headers.set("content-type", "application/json")
  }
  return { method, headers, ...(body === undefined ? {} : { body }) }
}

/** Calls a broker listening on `127.0.0.1:port` over a real socket, as `clientFor` calls one in process. */
export const socketCall = (port: number) => async (method: string, path: string, options: CallOptions = {}) =>
  toReply(await fetch(`http://127.0.0.1:${port}${path}`, requestInit(method, options)))

/** A client for any broker layer (Catalog + ServiceBroker), with Basic auth USER/PASSWORD. */
export const clientFor = (
  services: Layer.Layer<Catalog.Catalog | ServiceBroker.ServiceBroker, unknown>,
  options: Router.RouterOptions = {},
  auth: Layer.Layer<BrokerAuth.BrokerAuth> = BrokerAuth.layerBasic([{ username: USER, password: redacted(PASSWORD) }])
): Client => {
  const { dispose, handler } = handlerFor(Layer.merge(services, auth), { requestLog: false, ...options })
  const call = async (method: string, path: string, options: CallOptions = {}): Promise<Reply> =>
    toReply(await handler(new Request(`http://broker.test${path}`, requestInit(method, options))))
  return { call, dispose }
}

export const redacted = (s: string) => Redacted.make(s)

/** Whether a reply is a JSON object with a JSON content type. */
export const isJsonObject = (reply: Reply): boolean =>
  (reply.headers.get("content-type") ?? "").startsWith("application/json") &&
  typeof reply.body === "object" && reply.body !== null && !Array.isArray(reply.body)

export type CatalogBody = Model.CatalogBody
