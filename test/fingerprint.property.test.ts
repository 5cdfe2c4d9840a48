/**
 * PRV-4 / decision 23: the provision fingerprint (what makes a repeated PUT "identical") built directly in key
 * order is the canonical JSON of the same attributes, so fingerprints stored by earlier versions still match.
 */
import { FastCheck } from "effect"
import { describe, expect, it } from "vitest"
import { canonicalJson, provisionFingerprint } from "../src/internal/engine/identity.js"

const json: FastCheck.Arbitrary<unknown> = FastCheck.jsonValue()
const parameters = FastCheck.dictionary(FastCheck.string(), json)
const guid = FastCheck.option(FastCheck.string(), { nil: undefined })

describe("PRV-4 provision fingerprint", () => {
  it("equals canonicalJson of { service_id, plan_id, parameters, organization_guid, space_guid }", () => {
    FastCheck.assert(
      FastCheck.property(
        FastCheck.string(),
        FastCheck.string(),
        parameters,
        guid,
        guid,
        (serviceId, planId, params, org, space) => {
          expect(provisionFingerprint(serviceId, planId, params as never, org, space)).toBe(
            canonicalJson({
              service_id: serviceId,
              plan_id: planId,
              parameters: params,
              organization_guid: org ?? null,
              space_guid: space ?? null
            })
          )
        }
      ),
      { numRuns: 500 }
    )
  })

  it("differs when any attribute differs, and ignores the parameters' key order", () => {
    const base = provisionFingerprint("s", "p", { a: 1, b: [1, { y: 2, x: 1 }] }, "o", undefined)
    expect(provisionFingerprint("s", "p", { b: [1, { x: 1, y: 2 }], a: 1 }, "o", undefined)).toBe(base)
    expect(provisionFingerprint("s", "p", { a: 1, b: [1, { y: 2, x: 1 }] }, "o", "space")).not.toBe(base)
    expect(provisionFingerprint("s", "p2", { a: 1, b: [1, { y: 2, x: 1 }] }, "o", undefined)).not.toBe(base)
    expect(provisionFingerprint("s", "p", { a: 2, b: [1, { y: 2, x: 1 }] }, "o", undefined)).not.toBe(base)
  })
})
