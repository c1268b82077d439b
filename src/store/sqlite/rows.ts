/** SQLite rows and their mapping to the store's records (snake_case columns, JSON text columns). */
import type {
  ApprovalRecord,
  ApprovalStatus,
  EffectDetail,
  ExecutionRecord,
  ExecutionStatus,
  RecordError,
  ToolVersionRecord,
} from "../store.js";

export interface ToolRow {
  name: string;
  version: number;
  language: string;
  code: string;
  code_hash: string;
  definition: string;
  created_at: number;
  created_by: string;
}

export interface ExecutionRow {
  id: string;
  owner: string;
  status: string;
  kind: string;
  tool_name: string | null;
  tool_version: number | null;
  dry_run: number;
  request_id: string;
  created_at: number;
  updated_at: number;
  subject: string | null;
  result: string | null;
  error: string | null;
}

export interface ApprovalRow {
  id: string;
  execution_id: string;
  kind: string;
  effect: string | null;
  status: string;
  requested_by: string;
  tool_name: string | null;
  tool_version: number | null;
  code_hash: string;
  input_hash: string;
  reason: string;
  created_at: number;
  expires_at: number;
  decided_by: string | null;
  decided_at: number | null;
  decision_reason: string | null;
}

const parse = (text: string | null): unknown => (text === null ? undefined : JSON.parse(text));

export function toTool(row: ToolRow): ToolVersionRecord {
  const definition = JSON.parse(row.definition) as {
    description: string;
    inputSchema?: unknown;
    policy: unknown;
    mocks?: unknown;
  };
  return {
    name: row.name,
    version: row.version,
    language: row.language,
    code: row.code,
    codeHash: row.code_hash,
    description: definition.description,
    ...(definition.inputSchema !== undefined ? { inputSchema: definition.inputSchema } : {}),
    policy: definition.policy,
    ...(definition.mocks !== undefined ? { mocks: definition.mocks } : {}),
    createdAt: row.created_at,
    createdBy: row.created_by,
  };
}

export function toExecution(row: ExecutionRow): ExecutionRecord {
  const subject = parse(row.subject);
  const result = parse(row.result);
  const error = parse(row.error) as RecordError | undefined;
  return {
    id: row.id,
    owner: row.owner,
    status: row.status as ExecutionStatus,
    kind: row.kind === "tool" ? "tool" : "adhoc",
    ...(row.tool_name !== null ? { toolName: row.tool_name } : {}),
    ...(row.tool_version !== null ? { toolVersion: row.tool_version } : {}),
    dryRun: row.dry_run === 1,
    requestId: row.request_id,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    ...(subject !== undefined ? { subject } : {}),
    ...(result !== undefined ? { result } : {}),
    ...(error !== undefined ? { error } : {}),
  };
}

export function toApproval(row: ApprovalRow): ApprovalRecord {
  const effect = parse(row.effect) as EffectDetail | undefined;
  return {
    id: row.id,
    kind: row.kind === "effect" ? "effect" : "run",
    executionId: row.execution_id,
    status: row.status as ApprovalStatus,
    requestedBy: row.requested_by,
    ...(row.tool_name !== null ? { toolName: row.tool_name } : {}),
    ...(row.tool_version !== null ? { toolVersion: row.tool_version } : {}),
    codeHash: row.code_hash,
    inputHash: row.input_hash,
    ...(effect !== undefined ? { effect } : {}),
    reason: row.reason,
    createdAt: row.created_at,
    expiresAt: row.expires_at,
    ...(row.decided_by !== null ? { decidedBy: row.decided_by } : {}),
    ...(row.decided_at !== null ? { decidedAt: row.decided_at } : {}),
    ...(row.decision_reason !== null ? { decisionReason: row.decision_reason } : {}),
  };
}
