/**
 * A wasm sandbox test double that reports the given per-language load states and never runs code:
 * for tests of what the service does while languages are still loading (selection, /readyz).
 */
import type { LanguageStatus, LoadingSandbox } from "../../src/sandbox/registry.js";
import type { SandboxLanguage } from "../../src/sandbox/types.js";

export function loadingSandbox(statuses: LanguageStatus[]): LoadingSandbox {
  return {
    kind: "wasm",
    availability: () => ({ available: true }),
    languages: () =>
      statuses.flatMap((s): SandboxLanguage[] =>
        s.state === "available" ? [{ language: s.language, runtime: s.runtime }] : [],
      ),
    languageStates: () => statuses,
    loaded: () => Promise.resolve(),
    execute: () => Promise.reject(new Error("not used")),
    [Symbol.asyncDispose]: () => Promise.resolve(),
  };
}
