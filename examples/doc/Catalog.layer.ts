// The @example of Catalog.layer (src/Catalog.ts); test/doc-examples.test.ts checks it.
import { Effect } from "effect"
import { Catalog } from "../../src/index.js"

// validated once, when the layer is built: an invalid catalog fails with every problem and its path
const catalog = Catalog.layer({
  services: [{
    id: "svc-db",
    name: "database",
    description: "Databases on demand",
    bindable: true,
    plans: [{ id: "plan-small", name: "small", description: "1 GB" }]
  }]
})

export const planNames = Effect.gen(function*() {
  const service = yield* Catalog.Catalog
  return service.services.flatMap((offering) => offering.plans.map((plan) => plan.name)) // ["small"]
}).pipe(Effect.provide(catalog))
