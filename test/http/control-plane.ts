/**
 * Test support for the control-plane suites: a server on a fresh data directory with one key per
 * role, and a small client that sends a given key. Keys:
 *   admin (admin)   agent, other (execute)   approver, approver2 (approve)   boss (every scope)
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ServerDependencies } from "../../src/server.js";
import { startTestServer, type TestServer } from "../support/server.js";

export const KEYS = {
  admin: "admin-key-0123456789abcdef",
  agent: "agent-key-0123456789abcdef",
  other: "other-key-0123456789abcdef",
  approver: "approver-key-0123456789abcd",
  approver2: "approver2-key-0123456789abc",
  boss: "boss-key-0123456789abcdefgh",
} as const;
export type Role = keyof typeof KEYS;

const SCOPES: Record<Role, string[]> = {
  admin: ["admin"],
  agent: ["execute"],
  other: ["execute"],
  approver: ["approve"],
  approver2: ["approve"],
  boss: ["execute", "approve", "admin"],
};

export interface ControlPlane {
  readonly server: TestServer;
  readonly dataDir: string;
  call(role: Role, method: string, path: string, body?: unknown): Promise<ApiResponse>;
  close(options?: { keepData?: boolean }): Promise<void>;
}

export interface AuditEventBody {
  readonly type: string;
  readonly seq: number;
  readonly requestId: string;
  readonly executionId: string;
  readonly [field: string]: unknown;
}

export interface RunBody {
  readonly id: string;
  readonly exitCode: number | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly files: Array<{ path: string; content: string; encoding: string; size: number }>;
  readonly tool?: { name: string; version: number };
  readonly dryRun?: boolean;
  readonly manifest?: {
    files: Array<{ path: string; size: number; sha256: string }>;
    secrets: Array<{ name: string }>;
    egress: Array<{
      method: string;
      url: string;
      decision: string;
      answeredBy: string;
      status?: number;
      code?: string;
    }>;
  };
  readonly error?: { code: string; message: string };
}

/** Every field a control-plane response may carry, loosely: tests read what they need. */
export interface Body extends Partial<Omit<RunBody, "error">> {
  readonly status?: string;
  readonly version?: number;
  readonly code?: string;
  readonly codeHash?: string;
  readonly approval?: { id: string; expiresAt: string; status?: string; executionId?: string; decidedBy?: string };
  readonly approvals?: Array<{
    id: string;
    status: string;
    executionId: string;
    requestedBy: string;
    subject?: Record<string, unknown>;
  }>;
  readonly execution?: { id: string; status: string };
  readonly events?: AuditEventBody[];
  readonly result?: RunBody;
  readonly owner?: string;
  readonly tools?: Array<{ name: string; version: number }>;
  readonly error?: {
    code: string;
    message: string;
    requestId?: string;
    details?: Array<{ path: string; message: string }>;
  };
}

export interface ApiResponse {
  readonly status: number;
  readonly headers: Headers;
  readonly body: Body;
}

/** A fresh data directory with the keys file in it. */
export function createDataDir(): string {
  const dataDir = mkdtempSync(join(tmpdir(), "control-plane-"));
  const keys = Object.entries(KEYS).map(([name, key]) => ({ name, key, scopes: SCOPES[name as Role] }));
  writeFileSync(join(dataDir, "keys.json"), JSON.stringify(keys), { mode: 0o600 });
  return dataDir;
}

export async function startControlPlane(
  env: Record<string, string> = {},
  deps: ServerDependencies = {},
  dataDir = createDataDir(),
): Promise<ControlPlane> {
  const server = await startTestServer(
    {
      SANDBOX_API_KEY: "",
      SANDBOX_API_KEYS_FILE: join(dataDir, "keys.json"),
      SANDBOX_DATA_DIR: dataDir,
      SANDBOX_PROCESS_SANDBOX: "false",
      ...env,
    },
    deps,
  );
  return {
    server,
    dataDir,
    async call(role, method, path, body) {
      const response = await fetch(`${server.url}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${KEYS[role]}`,
          ...(body !== undefined ? { "content-type": "application/json" } : {}),
        },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      });
      const text = await response.text();
      return { status: response.status, headers: response.headers, body: (text ? JSON.parse(text) : {}) as Body };
    },
    async close(options = {}) {
      await server.close();
      if (!options.keepData) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** The timeline of a run that waited for a human and was approved, in order. */
export const APPROVED_RUN_EVENTS = [
  "received",
  "policy_decision",
  "secret_scan",
  "approval_requested",
  "approval_approved",
  "sandbox_started",
  "completed",
] as const;

/** The event types of an execution's timeline, in order. */
export function eventTypes(record: Body): string[] {
  return (record.events ?? []).map((e) => e.type);
}

/** Polls the record until it is terminal (long poll on the server). */
export async function waitFor(cp: ControlPlane, role: Role, id: string): Promise<Body> {
  const { status, body } = await cp.call(role, "GET", `/v1/executions/${id}?wait=10s`);
  if (status !== 200) throw new Error(`GET execution ${id}: ${status} ${JSON.stringify(body)}`);
  return body;
}
