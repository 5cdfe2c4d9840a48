// The @example of testing/Arbitraries.module (src/testing/Arbitraries.ts); test/doc-examples.test.ts checks it.
import { FastCheck } from "effect"
import { Arbitraries } from "../../src/testing/index.js"
import { catalog } from "./fixtures.js"

// valid provision requests for the catalog's plans, parameters generated from each plan's schema
export const requests = FastCheck.sample(Arbitraries.provisionRequest(catalog), 20)
  .map((request) => `PUT /v2/service_instances/${request.instanceId} ${JSON.stringify(request.body)}`)
