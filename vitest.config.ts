import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: [
      "src/**/*.test.ts",
      "runtimes/**/*.test.ts",
      "wasm/host/**/*.test.ts",
      "test/**/*.test.ts",
      "benchmarks/**/*.test.ts",
    ],
    exclude: ["node_modules/**", "dist/**", ".scratch/**"],
    // Each test file runs in its own process: security suites never share a host realm.
    pool: "forks",
    testTimeout: 60_000,
    hookTimeout: 120_000,
  },
});
