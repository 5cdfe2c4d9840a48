import { availableParallelism } from "node:os"
import { defineConfig } from "vitest/config"

export default defineConfig({
  test: {
    // test files at once: vitest's default, availableParallelism - 1, is one on a 2-core CI machine, where most test
    // files wait on I/O, timers and child processes. Measured there (vitest run, wall): 2 workers ~290 s, 3 ~260 s,
    // 4 ~195 s (the default's one worker: ~640 s). `vitest run --maxWorkers N` overrides it.
    maxWorkers: Math.max(4, availableParallelism() - 1),
    minWorkers: 1,
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
