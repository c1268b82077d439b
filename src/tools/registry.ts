/**
 * The tool registry: named inline code with a declared policy, versioned. Registering a changed
 * definition creates a new version (executions record which one ran); registering the same one again
 * changes nothing. Code with a secret in it is refused at registration, so no secret is ever stored.
 */
import type { LimitPolicy } from "../config.js";
import { ServiceError } from "../errors.js";
import { ceilingIssues } from "../policy/schema.js";
import { describeFinding, scanSources } from "../secrets/scanner.js";
import type { ControlStore, ToolVersionRecord } from "../store/store.js";
import { codeHash } from "./digest.js";
import { compileInputSchema } from "./input.js";
import { TOOL_NAME, type ToolDefinition } from "./schema.js";

export interface ToolView {
  readonly name: string;
  readonly version: number;
  readonly language: string;
  readonly description: string;
  readonly code: string;
  readonly codeHash: string;
  readonly inputSchema?: unknown;
  readonly policy: unknown;
  readonly mocks?: unknown;
  readonly createdAt: string;
  readonly createdBy: string;
}

export function toolView(record: ToolVersionRecord): ToolView {
  return {
    name: record.name,
    version: record.version,
    language: record.language,
    description: record.description,
    code: record.code,
    codeHash: record.codeHash,
    ...(record.inputSchema !== undefined ? { inputSchema: record.inputSchema } : {}),
    policy: record.policy,
    ...(record.mocks !== undefined ? { mocks: record.mocks } : {}),
    createdAt: new Date(record.createdAt).toISOString(),
    createdBy: record.createdBy,
  };
}

export function checkToolName(name: string): void {
  if (!TOOL_NAME.test(name)) {
    throw new ServiceError(
      "VALIDATION_FAILED",
      "tool names are 1-64 of a-z 0-9 . _ -, starting with a letter or digit",
      {
        issues: [{ path: "name", message: "must match ^[a-z0-9][a-z0-9._-]{0,63}$" }],
      },
    );
  }
}

export class ToolRegistry {
  constructor(
    private readonly store: ControlStore,
    private readonly limits: LimitPolicy,
    private readonly now: () => number = Date.now,
  ) {}

  async put(name: string, tool: ToolDefinition, createdBy: string) {
    checkToolName(name);
    const issues = ceilingIssues(tool.policy, this.limits.maxima);
    if (tool.inputSchema !== undefined) {
      const compiled = compileInputSchema(tool.inputSchema);
      if (!compiled.ok) issues.push({ path: "inputSchema", message: `unsupported JSON Schema: ${compiled.error}` });
    }
    if (issues.length > 0) {
      throw new ServiceError(
        "VALIDATION_FAILED",
        `invalid tool: ${issues.map((i) => `${i.path}: ${i.message}`).join("; ")}`,
        { issues },
      );
    }
    const findings = scanSources([
      { name: "code", text: tool.code },
      { name: "description", text: tool.description },
    ]);
    if (findings.length > 0) {
      throw new ServiceError(
        "SECRET_DETECTED",
        `refusing to store a tool with a secret in it: ${findings.map(describeFinding).join("; ")}`,
        { issues: findings.map((f) => ({ path: `${f.source}:${f.line}:${f.column}`, message: f.rule })) },
      );
    }
    return this.store.putTool(
      {
        name,
        language: tool.language,
        code: tool.code,
        codeHash: codeHash(tool.language, tool.code),
        description: tool.description,
        ...(tool.inputSchema !== undefined ? { inputSchema: tool.inputSchema } : {}),
        policy: tool.policy,
        ...(tool.mocks !== undefined ? { mocks: tool.mocks } : {}),
        createdBy,
      },
      this.now(),
    );
  }

  async get(name: string, version?: number): Promise<ToolVersionRecord> {
    checkToolName(name);
    const record = await this.store.getTool(name, version);
    if (!record)
      throw new ServiceError(
        "NOT_FOUND",
        version === undefined ? `no tool named ${name}` : `no version ${version} of tool ${name}`,
      );
    return record;
  }

  list(): Promise<ToolVersionRecord[]> {
    return this.store.listTools();
  }

  async delete(name: string): Promise<void> {
    checkToolName(name);
    if (!(await this.store.deleteTool(name, this.now()))) throw new ServiceError("NOT_FOUND", `no tool named ${name}`);
  }
}
