/**
 * The store a server gets when its real store could not be opened: every operation rejects with
 * STORE_UNAVAILABLE, so nothing that needs a record (every execution does) runs. Fail closed.
 */
import { ServiceError } from "../errors.js";
import type { ControlStore } from "./store.js";

const refuse = (): Promise<never> => Promise.reject(new ServiceError("STORE_UNAVAILABLE"));

export class UnavailableStore implements ControlStore {
  putTool = refuse;
  getTool = refuse;
  listTools = refuse;
  deleteTool = refuse;
  createExecution = refuse;
  getExecution = refuse;
  updateExecution = refuse;
  listExecutions = refuse;
  requestApproval = refuse;
  requestEffectApproval = refuse;
  getApproval = refuse;
  getApprovalForExecution = refuse;
  listApprovalsForExecution = refuse;
  listApprovals = refuse;
  listOverdueApprovals = refuse;
  decideApproval = refuse;
  decideEffectApproval = refuse;
  appendEvents = refuse;
  listEvents = refuse;
  flush = refuse;
  close(): void {}
}
