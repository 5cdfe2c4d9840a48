// The @example of Router.make (src/Router.ts); test/doc-examples.test.ts checks it.
import { HttpRouter, HttpServerResponse } from "@effect/platform"
import { Effect } from "effect"
import { Router } from "../../src/index.js"

// the ten OSB endpoints next to routes of your own, in one @effect/platform router
export const app = Effect.map(
  Router.make(),
  ({ router }) => router.pipe(HttpRouter.get("/healthz", HttpServerResponse.text("ok")))
)
