/**
 * The sandboxes this server runs, by kind. A kind that is not registered, or not available on this
 * host, is refused: there is never a fallback to another (weaker) sandbox.
 *
 * Some sandboxes load their languages one by one after they started (WasmSandbox: each language is
 * usable as soon as its own runtime loaded). The registry answers, for any sandbox, what state a
 * language is in: `available`, `loading` (an execution waits for it), or `unavailable` with the reason.
 */
import type { Language, RuntimeInfo, Sandbox, SandboxKind } from "./types.js";

export type LanguageState =
  | { readonly state: "available"; readonly runtime: RuntimeInfo }
  | { readonly state: "loading" }
  | { readonly state: "unavailable"; readonly reason: string };

export type LanguageStatus = { readonly language: Language } & LanguageState;

/** A sandbox whose languages become available after it started, each when its runtime loaded. */
export interface LoadingSandbox extends Sandbox {
  /** Every language this sandbox was configured to run, and its state now. */
  languageStates(): readonly LanguageStatus[];
  /** Resolves once every configured language finished loading (available or not); never rejects. */
  loaded(): Promise<void>;
}

export function isLoadingSandbox(sandbox: Sandbox): sandbox is LoadingSandbox {
  const candidate = sandbox as Partial<LoadingSandbox>;
  return typeof candidate.languageStates === "function" && typeof candidate.loaded === "function";
}

/** Every language a sandbox reports, with its state (a sandbox without loading: what it runs now). */
export function languageStatuses(sandbox: Sandbox): readonly LanguageStatus[] {
  if (isLoadingSandbox(sandbox)) return sandbox.languageStates();
  return sandbox.languages().map((l) => ({ language: l.language, state: "available", runtime: l.runtime }));
}

/** The state of one language on one sandbox; a language the sandbox does not run is unavailable. */
export function languageState(sandbox: Sandbox, language: Language): LanguageState {
  const found = languageStatuses(sandbox).find((s) => s.language === language);
  if (found) return found;
  return { state: "unavailable", reason: `the ${sandbox.kind} sandbox does not run ${language}` };
}

export class SandboxRegistry implements AsyncDisposable {
  private readonly byKind = new Map<SandboxKind, Sandbox>();

  constructor(sandboxes: readonly Sandbox[]) {
    for (const sandbox of sandboxes) {
      if (this.byKind.has(sandbox.kind)) throw new Error(`two sandboxes of kind ${sandbox.kind}`);
      this.byKind.set(sandbox.kind, sandbox);
    }
  }

  get(kind: SandboxKind): Sandbox | undefined {
    return this.byKind.get(kind);
  }

  all(): readonly Sandbox[] {
    return [...this.byKind.values()];
  }

  /** True while some sandbox is still loading a language. */
  loading(): boolean {
    return this.all().some((sandbox) => languageStatuses(sandbox).some((s) => s.state === "loading"));
  }

  /** Resolves once every sandbox finished loading its languages. */
  async loaded(): Promise<void> {
    await Promise.all(this.all().map((sandbox) => (isLoadingSandbox(sandbox) ? sandbox.loaded() : undefined)));
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await Promise.allSettled(this.all().map((s) => s[Symbol.asyncDispose]()));
  }
}
