/**
 * The project's own use of the test kit: the conformance suite on the quick start broker (both plans), in process.
 */
import * as Managed from "../examples/managed-broker.js"
import { Conformance } from "../src/testing/index.js"

Conformance.suite("quick start broker", Managed.layerWith("200 millis"), {
  username: "admin",
  password: "admin",
  modes: { small: "sync", large: "async" }
})
