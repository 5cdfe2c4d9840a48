/**
 * Checks of the catalog (E1) and of the headers every endpoint shares: authentication and the version header.
 *
 * @since 0.2.0
 */
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Option from "effect/Option"
import * as CatalogModule from "../Catalog.js"
import type { CatalogBody } from "../Model.js"
import { CatalogBody as CatalogBodySchema } from "../Model.js"
import type { Context } from "./context.js"
import { bindingPath, instancePath, newId, show, validBody } from "./context.js"
import type { Endpoint } from "./model.js"
import { E } from "./model.js"

/** Fetches and checks the catalog; none when there is no usable catalog (the run stops there). */
export const catalog = (ctx: Context): Effect.Effect<Option.Option<CatalogBody>> =>
  Effect.gen(function*() {
    const response = yield* ctx.send(E.catalog, "GET", "/v2/catalog")
    const served = yield* ctx.expectStatus("catalog.served", E.catalog, "GET /v2/catalog answers 200", response, [200])
    if (!served) return Option.none()
    const body = validBody(CatalogBodySchema, response.json)
    const validation = CatalogModule.validate(response.json)
    if (Either.isLeft(body)) {
      yield* ctx.miss("catalog.served", E.catalog, "the catalog is a valid catalog object", {
        got: `${show(response)} (${body.left})`
      })
    } else if (validation.problems.length === 0) {
      yield* ctx.pass("catalog.valid", E.catalog, "the catalog is valid")
    }
    for (const problem of validation.problems) {
      yield* ctx.miss("catalog.valid", E.catalog, `catalog: ${problem.path}: ${problem.message}`)
    }
    for (const warning of validation.warnings) {
      yield* ctx.miss("catalog.names", E.catalog, `catalog: ${warning.path}: ${warning.message}`)
    }
    if (Either.isLeft(body)) return Option.none()
    const etag = response.headers["etag"]
    if (etag === undefined) {
      yield* ctx.skip(
        "catalog.etag",
        E.catalog,
        "conditional GET with If-None-Match answers 304",
        "the broker sends no ETag"
      )
    } else {
      const conditional = yield* ctx.send(E.catalog, "GET", "/v2/catalog", { headers: { "if-none-match": etag } })
      yield* ctx.expectStatus(
        "catalog.etag",
        E.catalog,
        "conditional GET with If-None-Match answers 304",
        conditional,
        [304]
      )
    }
    return Option.some(body.right)
  })

/** 401 on all ten endpoints without credentials, and on the catalog with wrong ones; the version header. */
export const headers = (ctx: Context): Effect.Effect<void> =>
  Effect.gen(function*() {
    const someId = newId()
    const probes: ReadonlyArray<readonly [Endpoint, string, string]> = [
      [E.catalog, "GET", "/v2/catalog"],
      [E.provision, "PUT", instancePath(someId)],
      [E.getInstance, "GET", instancePath(someId)],
      [E.update, "PATCH", instancePath(someId)],
      [E.deprovision, "DELETE", instancePath(someId)],
      [E.lastOperation, "GET", `${instancePath(someId)}/last_operation`],
      [E.bind, "PUT", bindingPath(someId, someId)],
      [E.getBinding, "GET", bindingPath(someId, someId)],
      [E.unbind, "DELETE", bindingPath(someId, someId)],
      [E.lastBindingOperation, "GET", `${bindingPath(someId, someId)}/last_operation`]
    ]
    if (ctx.options.authenticated ?? true) {
      for (const [endpoint, method, path] of probes) {
        const response = yield* ctx.send(endpoint, method, path, {
          headers: { authorization: undefined },
          ...(method === "PUT" || method === "PATCH" ? { body: {} } : {})
        })
        yield* ctx.expectStatus("auth.required", endpoint, "a request without credentials answers 401", response, [401])
      }
      const wrong = yield* ctx.send(E.catalog, "GET", "/v2/catalog", {
        headers: { authorization: `Basic ${Buffer.from("effect-osb-check:wrong-password").toString("base64")}` }
      })
      yield* ctx.expectStatus("auth.required", E.catalog, "wrong credentials answer 401", wrong, [401])
    } else {
      yield* ctx.skip(
        "auth.required",
        E.catalog,
        "a request without credentials answers 401",
        "no credentials were given (--username/--password)"
      )
    }
    const noVersion = yield* ctx.send(E.catalog, "GET", "/v2/catalog", {
      headers: { "x-broker-api-version": undefined }
    })
    yield* ctx.verdict(
      "version.missing",
      E.catalog,
      "a missing X-Broker-API-Version is a 400 (or accepted), never 412",
      noVersion.status !== 412 && noVersion.status < 500 && noVersion.status !== 0,
      { sent: "GET /v2/catalog without X-Broker-API-Version", expected: "400 (or 200)", got: show(noVersion) }
    )
    const oldVersion = yield* ctx.send(E.catalog, "GET", "/v2/catalog", { headers: { "x-broker-api-version": "1.0" } })
    yield* ctx.expectStatus(
      "version.unsupported",
      E.catalog,
      "an unsupported major version (1.0) answers 412",
      oldVersion,
      [
        412
      ]
    )
  })
