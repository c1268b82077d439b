import type { ApprovalService } from "../approvals/approval-service.js";
import type { AuditLog } from "../audit/audit-log.js";
import type { LimitPolicy } from "../config.js";
import type { Executor } from "../executor/executor.js";
import type { ExecutionPipeline } from "../executor/pipeline.js";
import type { SandboxRegistry } from "../sandbox/registry.js";
import type { SandboxKind } from "../sandbox/types.js";
import type { ControlStore } from "../store/store.js";
import type { ToolRegistry } from "../tools/registry.js";

/** What the routes need once the runtimes are loaded; undefined while the server is still starting. */
export interface Services {
  readonly executor: Executor;
  readonly sandboxes: SandboxRegistry;
  readonly limits: LimitPolicy;
  readonly defaultSandbox: SandboxKind;
  /** The control plane: policy, secret scan, approvals and the audit timeline around the executor. */
  readonly pipeline: ExecutionPipeline;
  readonly tools: ToolRegistry;
  readonly approvals: ApprovalService;
  readonly audit: AuditLog;
  readonly store: ControlStore;
  /** Longest `?wait=` a client may ask for on GET /v1/executions/{id}. */
  readonly maxWaitMs: number;
}

export type ServicesProvider = () => Services | undefined;
