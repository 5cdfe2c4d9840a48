/**
 * JSON helpers shared by the arbitraries: clean JSON values and small JSON objects.
 *
 * @since 0.2.0
 */
import * as FastCheck from "effect/FastCheck"
import type { JsonObject } from "../../Model.js"

// -----------------------------------------------------------------------------
// JSON helpers
// -----------------------------------------------------------------------------

/** @internal */
export const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value)

const dropProto = (key: string, value: unknown): unknown => (key === "__proto__" ? undefined : value)

/**
 * A JSON round trip: no `-0`, no `undefined`, no null prototypes, no `__proto__` keys.
 *
 * @internal
 */
export const clean = <A>(value: A): A => JSON.parse(JSON.stringify(value) ?? "null", dropProto)

/** @internal */
export const safeKey = FastCheck.string({ maxLength: 12 }).filter((key) => key !== "__proto__")

/** @internal */
export const anyJson: FastCheck.Arbitrary<unknown> = FastCheck.jsonValue({ maxDepth: 2 }).map(clean)

/**
 * A small JSON object (at most four keys, values nested at most two levels, no `__proto__` keys): the parameters
 * of a plan without a parameters schema.
 *
 * @since 0.1.0
 * @category arbitraries
 */
export const jsonObject: FastCheck.Arbitrary<JsonObject> = FastCheck.dictionary(
  safeKey,
  FastCheck.jsonValue({ maxDepth: 2 }),
  { maxKeys: 4 }
).map((value) => clean(value) as JsonObject)
