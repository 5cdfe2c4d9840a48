/**
 * The client's transport: the headers every request carries (the API version, HTTP Basic authorization, the
 * configured ones), a request built from a method, a path, a query, a body and headers, and the answer read back
 * as a `RawResponse` (its text, and its JSON when it is JSON).
 *
 * @internal
 */
import type * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as Effect from "effect/Effect"
import * as Redacted from "effect/Redacted"
import type { OsbClientConfig, OsbClientService, RawResponse } from "../OsbClient.js"

/**
 * The client's `raw`: any request to the broker at `config.url`, with the configured headers (a header given as
 * `undefined` in the request's options is not sent), unchecked.
 *
 * @internal
 */
export const makeRaw = (http: HttpClient.HttpClient, config: OsbClientConfig): OsbClientService["raw"] => {
  const base = config.url.replace(/\/+$/, "")
  const authorization = config.username === undefined
    ? undefined
    : `Basic ${
      Buffer.from(
        `${config.username}:${
          typeof config.password === "string" ? config.password : Redacted.value(config.password ?? Redacted.make(""))
        }`,
        "utf8"
      ).toString("base64")
    }`
  const defaults: Record<string, string> = {
    "x-broker-api-version": config.apiVersion ?? "2.17",
    ...(authorization === undefined ? {} : { authorization }),
    ...config.headers
  }

  return (method, path, options = {}) => {
    const query = Object.entries(options.query ?? {}).filter((e): e is [string, string] => e[1] !== undefined)
    const search = query.length === 0 ? "" : `?${new URLSearchParams(query).toString()}`
    const headers: Record<string, string> = { ...defaults }
    for (const [k, v] of Object.entries(options.headers ?? {})) {
      if (v === undefined) delete headers[k.toLowerCase()]
      else headers[k.toLowerCase()] = v
    }
    const text = options.rawBody ?? (options.body === undefined ? undefined : JSON.stringify(options.body))
    let request = HttpClientRequest.make(method as "GET")(`${base}${path}${search}`).pipe(
      HttpClientRequest.setHeaders(headers)
    )
    if (text !== undefined) {
      request = HttpClientRequest.bodyText(request, text, headers["content-type"] ?? "application/json")
    }
    return Effect.flatMap(http.execute(request), (response) =>
      Effect.map(response.text, (body): RawResponse => {
        let json: unknown = undefined
        try {
          json = body.length === 0 ? undefined : JSON.parse(body)
        } catch {
          json = undefined
        }
        return {
          method,
          path: `${path}${search}`,
          status: response.status,
          headers: response.headers,
          text: body,
          json
        }
      }))
  }
}
