// The @example of testing/Conformance.suite (src/testing/Conformance.ts); test/doc-examples.test.ts checks it.
import { Conformance } from "../../src/testing/index.js"
import { broker } from "./fixtures.js"

// one vitest test per requirement ID: the checker's checks, in process, against your broker
Conformance.suite("quick start", broker, { modes: { small: "sync", large: "async" } })
