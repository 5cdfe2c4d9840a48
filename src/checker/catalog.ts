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
import * as Protocol from "../Protocol.js"
import type { CheckId } from "./checks.js"
import type { Context } from "./context.js"
import { newId, show, status, validBody } from "./context.js"
import { E } from "./model.js"

/** The check a catalog warning falls under: a name (VAL-3, a RECOMMENDED of the spec) or an effect-osb suggestion. */
const warningCheck = (warning: CatalogModule.CatalogProblem): CheckId =>
  /\.name$/.test(warning.path) ? "catalog.names" : "catalog.suggestions"

/** Fetches and checks the catalog; none when there is no usable catalog (the run stops there). */
export const catalog = (ctx: Context): Effect.Effect<Option.Option<CatalogBody>> =>
  Effect.gen(function*() {
    const response = yield* ctx.call("catalog", [])
    const served = yield* ctx.expectStatus("catalog.served", E.catalog, "GET /v2/catalog answers 200", response, [
      status.ok
    ])
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
      yield* ctx.miss(warningCheck(warning), E.catalog, `catalog: ${warning.path}: ${warning.message}`)
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
      const conditional = yield* ctx.call("catalog", [], { headers: { "if-none-match": etag } })
      yield* ctx.expectStatus(
        "catalog.etag",
        E.catalog,
        "conditional GET with If-None-Match answers 304",
        conditional,
        [status.notModified]
      )
    }
    return Option.some(body.right)
  })

/** 401 on all ten endpoints without credentials, and on the catalog with wrong ones; the version header. */
export const headers = (ctx: Context): Effect.Effect<void> =>
  Effect.gen(function*() {
    const someId = newId()
    if (ctx.options.authenticated ?? true) {
      for (const name of Protocol.endpointNames) {
        const response = yield* ctx.call(name, [someId, someId], {
          headers: { authorization: undefined },
          ...("body" in Protocol.endpoints[name] ? { body: {} } : {})
        })
        yield* ctx.expectStatus("auth.required", E[name], "a request without credentials answers 401", response, [
          status.unauthorized
        ])
      }
      const wrong = yield* ctx.call("catalog", [], {
        headers: { authorization: `Basic ${Buffer.from("effect-osb-check:wrong-password").toString("base64")}` }
      })
      yield* ctx.expectStatus("auth.required", E.catalog, "wrong credentials answer 401", wrong, [status.unauthorized])
    } else {
      yield* ctx.skip(
        "auth.required",
        E.catalog,
        "a request without credentials answers 401",
        "no credentials were given (--username/--password)"
      )
    }
    const noVersion = yield* ctx.call("catalog", [], {
      headers: { "x-broker-api-version": undefined }
    })
    yield* ctx.verdict(
      "version.missing",
      E.catalog,
      "a missing X-Broker-API-Version is a 400 (or accepted), never 412",
      noVersion.status !== status.preconditionFailed && noVersion.status < 500 && noVersion.status !== 0,
      { sent: "GET /v2/catalog without X-Broker-API-Version", expected: "400 (or 200)", got: show(noVersion) }
    )
    const oldVersion = yield* ctx.call("catalog", [], { headers: { "x-broker-api-version": "1.0" } })
    yield* ctx.expectStatus(
      "version.unsupported",
      E.catalog,
      "an unsupported major version (1.0) answers 412",
      oldVersion,
      [status.preconditionFailed]
    )
  })
