import type { LimitPolicy } from "../config.js";
import type { Executor } from "../executor/executor.js";
import type { SandboxRegistry } from "../sandbox/registry.js";
import type { SandboxKind } from "../sandbox/types.js";

/** What the routes need once the runtimes are loaded; undefined while the server is still starting. */
export interface Services {
  readonly executor: Executor;
  readonly sandboxes: SandboxRegistry;
  readonly limits: LimitPolicy;
  readonly defaultSandbox: SandboxKind;
}

export type ServicesProvider = () => Services | undefined;
