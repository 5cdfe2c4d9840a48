/**
 * The quick start's catalog, as a plain value (no runtime imports, so the benchmark's baseline can share it).
 */
import type { CatalogBody } from "../src/Model.js"

export const SERVICE_ID = "5b2c7e1c-6a3f-4d8e-9a51-0c7f1f0d2a10"
export const SMALL_PLAN_ID = "0f4e4a8e-8d54-4f6b-a3a9-3b8f52f6c5a1"
export const LARGE_PLAN_ID = "9c1d3f7a-2b6e-4c8d-8f0a-5e4b3a2c1d0e"

/**
 * Plan `small`'s parameters, for provision and update: an optional integer `size` from 1 to 100; other properties
 * are allowed. The router checks requests against it before the broker runs (`parameters.size: must be <= 100`).
 */
export const smallParameters = {
  $schema: "http://json-schema.org/draft-04/schema#",
  type: "object",
  properties: {
    size: { type: "integer", minimum: 1, maximum: 100, description: "The instance's size, from 1 to 100." }
  }
}

export const catalog: CatalogBody = {
  services: [{
    id: SERVICE_ID,
    name: "quickstart-db",
    description: "A demonstration database service kept in memory.",
    bindable: true,
    plan_updateable: true,
    instances_retrievable: true,
    bindings_retrievable: true,
    tags: ["demo"],
    metadata: { displayName: "Quickstart DB" },
    plans: [
      {
        id: SMALL_PLAN_ID,
        name: "small",
        description: "A small instance; every operation completes synchronously.",
        free: true,
        maintenance_info: { version: "1.0.0", description: "Initial release." },
        schemas: {
          service_instance: { create: { parameters: smallParameters }, update: { parameters: smallParameters } }
        }
      },
      {
        id: LARGE_PLAN_ID,
        name: "large",
        description: "A large instance; every operation runs asynchronously.",
        free: false,
        bindable: true,
        maintenance_info: { version: "1.0.0", description: "Initial release." }
      }
    ]
  }]
}
