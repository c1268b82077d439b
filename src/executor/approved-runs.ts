/**
 * The executor's side of approvals: checking that an approval still matches exactly what would run
 * (tool version, code hash, input hash, and a policy that still allows it), and running an approved
 * execution in the background once its approval wins. Failures of a background run are recorded in
 * the execution's timeline and logged, never thrown.
 */
import type { ApprovalBinding } from "../approvals/approval-service.js";
import { isServiceError } from "../errors.js";
import type { Logger } from "../logger.js";
import type { ApprovalRecord, ControlStore, ExecutionRecord } from "../store/store.js";
import type { ExecutionPipeline } from "./pipeline.js";
import type { ExecutionPlan } from "./plan.js";

export class ApprovedRuns implements ApprovalBinding {
  constructor(
    private readonly pipeline: ExecutionPipeline,
    private readonly store: ControlStore,
    private readonly logger: Logger,
  ) {}

  /** Why `approval` no longer matches what would run, or undefined when it still does. */
  async mismatch(execution: ExecutionRecord, approval: ApprovalRecord): Promise<string | undefined> {
    if (execution.kind === "tool") {
      const current = await this.store.getTool(approval.toolName ?? "");
      if (!current) return "the tool was deleted";
      if (current.version !== approval.toolVersion) {
        return `the tool changed from version ${approval.toolVersion ?? "?"} to ${current.version}`;
      }
    }
    let plan: ExecutionPlan;
    try {
      plan = await this.pipeline.rebuild(execution, execution.requestId);
    } catch (error) {
      if (isServiceError(error) && error.code === "STORE_UNAVAILABLE") throw error;
      return isServiceError(error) ? error.message : "the execution cannot be rebuilt";
    }
    if (plan.codeHash !== approval.codeHash) return "the code changed";
    if (plan.inputHash !== approval.inputHash) return "the input changed";
    if (this.pipeline.evaluate(plan).decision === "deny") return "the policy now denies this run";
    return undefined;
  }

  /** Starts the approved run; the approver's request id goes on its events. */
  launch(executionId: string, requestId: string): void {
    const log = this.logger.child({ executionId, requestId });
    void (async () => {
      const execution = await this.store.getExecution(executionId);
      if (!execution) throw new Error("approved execution vanished");
      let plan: ExecutionPlan;
      try {
        plan = await this.pipeline.rebuild(execution, requestId);
      } catch (error) {
        const message = isServiceError(error) ? error.message : "cannot rebuild the approved execution";
        await this.pipeline.deny(executionId, requestId, "APPROVAL_MISMATCH", message);
        return;
      }
      await this.pipeline.run(plan, { requestId });
    })().catch((error: unknown) => log.error({ err: error }, "approved execution failed"));
  }
}
