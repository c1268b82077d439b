import { describe, expect, it } from "vitest";
import { loadingSandbox } from "../../../test/support/loading-sandbox.js";
import { SandboxRegistry } from "../../sandbox/registry.js";
import type { Sandbox } from "../../sandbox/types.js";
import type { Services } from "../services.js";
import { healthRoutes } from "./health.js";

const RUNTIME = { name: "quickjs", version: "1" };

const processSandbox: Sandbox = {
  kind: "process",
  availability: () => ({ available: true }),
  languages: () => [{ language: "python", runtime: { name: "python3", version: "3.11" } }],
  execute: () => Promise.reject(new Error("not used")),
  [Symbol.asyncDispose]: () => Promise.resolve(),
};

function probe(sandboxes: Sandbox[] | undefined) {
  const services = sandboxes ? ({ sandboxes: new SandboxRegistry(sandboxes) } as unknown as Services) : undefined;
  return healthRoutes(() => services);
}

describe("/readyz", () => {
  it("answers 503 loading before the sandboxes started", async () => {
    const response = await probe(undefined).request("/readyz");
    expect(response.status).toBe(503);
    expect(await response.json()).toEqual({ status: "loading" });
  });

  it("answers 503 with each language's state while one still loads, without failure reasons", async () => {
    const wasm = loadingSandbox([
      { language: "javascript", state: "available", runtime: RUNTIME },
      { language: "ruby", state: "loading" },
      { language: "bash", state: "unavailable", reason: "secret path /opt/x" },
    ]);
    const response = await probe([wasm, processSandbox]).request("/readyz");
    expect(response.status).toBe(503);
    const body = await response.json();
    expect(body).toEqual({
      status: "loading",
      sandboxes: {
        wasm: { javascript: "available", ruby: "loading", bash: "unavailable" },
        process: { python: "available" },
      },
    });
    expect(JSON.stringify(body)).not.toContain("secret path");
  });

  it("answers 200 once no language is loading, a failed one included", async () => {
    const wasm = loadingSandbox([
      { language: "javascript", state: "available", runtime: RUNTIME },
      { language: "ruby", state: "unavailable", reason: "boom" },
    ]);
    const response = await probe([wasm]).request("/readyz");
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({
      status: "ok",
      sandboxes: { wasm: { javascript: "available", ruby: "unavailable" } },
    });
  });

  it("/healthz answers 200 while loading", async () => {
    const response = await probe(undefined).request("/healthz");
    expect(response.status).toBe(200);
  });
});
