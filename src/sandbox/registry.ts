/**
 * The sandboxes this server runs, by kind. A kind that is not registered, or not available on this
 * host, is refused: there is never a fallback to another (weaker) sandbox.
 */
import type { Sandbox, SandboxKind } from "./types.js";

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

  async [Symbol.asyncDispose](): Promise<void> {
    await Promise.allSettled(this.all().map((s) => s[Symbol.asyncDispose]()));
  }
}
