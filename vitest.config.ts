import { defineConfig } from "vitest/config"

export default defineConfig({
  test: {
    projects: [
      {
        // every test; HTTP tests speak to the router's web handler in process
        test: {
          name: "in-process",
          include: ["test/**/*.test.ts"],
          testTimeout: 30_000,
          globalSetup: ["test/support/globalSetup.ts"]
        }
      },
      {
        // the router's rule, body, header, id, auth, fuzz and parameters tests again, over a socket to Server.layer
        test: {
          name: "node-http",
          include: ["test/router.*.test.ts", "test/fuzz.property.test.ts", "test/parameters.*.test.ts"],
          testTimeout: 30_000,
          env: { EFFECT_OSB_TEST_TRANSPORT: "node" }
        }
      }
    ]
  }
})
