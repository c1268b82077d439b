/**
 * Declared answers for a dry run: `mocks: [{ method?, url | urlPrefix, status, headers?, body }]`.
 * The first mock whose method (any method when absent) and URL match answers the request; `url`
 * matches the whole normalised URL including the query, `urlPrefix` matches like an egress rule's
 * prefix (scheme, host, port, path on a segment boundary).
 *
 * The tool registry's mocks (`{ method, url, response: { status, headers, body } }`,
 * src/tools/schema.ts) convert with `fromToolMocks`.
 */
import { z } from "zod";
import { type CompiledRule, compileRule, ruleMatches } from "./match.js";
import { EGRESS_METHODS } from "./policy.js";
import { type EgressTarget, parseEgressUrl } from "./url.js";

export const MAX_MOCK_BODY_BYTES = 1024 * 1024;

export const egressMockSchema = z
  .object({
    method: z.enum(EGRESS_METHODS).optional(),
    url: z.string().min(1).max(8192).optional(),
    urlPrefix: z.string().min(1).max(2048).optional(),
    status: z.number().int().min(200).max(599).default(200),
    headers: z.record(z.string(), z.string()).default({}),
    body: z
      .string()
      .refine((b) => Buffer.byteLength(b) <= MAX_MOCK_BODY_BYTES, { message: "at most 1 MiB" })
      .default(""),
  })
  .strict()
  .superRefine((mock, ctx) => {
    if ((mock.url === undefined) === (mock.urlPrefix === undefined)) {
      ctx.addIssue({ code: "custom", message: "give exactly one of url and urlPrefix" });
      return;
    }
    if (mock.url !== undefined && !parseEgressUrl(mock.url).ok) {
      ctx.addIssue({ code: "custom", path: ["url"], message: "must be an http(s) URL without credentials" });
    }
    if (mock.urlPrefix !== undefined && !compileRule({ urlPrefix: mock.urlPrefix }, 0).ok) {
      ctx.addIssue({
        code: "custom",
        path: ["urlPrefix"],
        message: "must be an http(s) URL without query or fragment",
      });
    }
  });

export type EgressMock = z.infer<typeof egressMockSchema>;
export type EgressMockInput = z.input<typeof egressMockSchema>;

function identity(target: EgressTarget): string {
  return `${target.scheme}://${target.hostname}:${target.port}${target.pathAndQuery}`;
}

interface CompiledMock {
  readonly mock: EgressMock;
  readonly url?: string;
  readonly prefix?: CompiledRule;
}

export class MockTable {
  private readonly compiled: readonly CompiledMock[];

  constructor(mocks: readonly EgressMock[]) {
    const compiled: CompiledMock[] = [];
    for (const mock of mocks) {
      if (mock.url !== undefined) {
        const parsed = parseEgressUrl(mock.url);
        if (parsed.ok) compiled.push({ mock, url: identity(parsed.target) });
      } else if (mock.urlPrefix !== undefined) {
        const rule = compileRule({ urlPrefix: mock.urlPrefix, methods: [...EGRESS_METHODS] }, 0);
        if (rule.ok) compiled.push({ mock, prefix: rule.rule });
      }
    }
    this.compiled = compiled;
  }

  find(target: EgressTarget, method: string): EgressMock | undefined {
    const id = identity(target);
    return this.compiled.find(
      (c) =>
        (c.mock.method === undefined || c.mock.method === method) &&
        (c.url !== undefined ? c.url === id : c.prefix !== undefined && ruleMatches(c.prefix, target, method)),
    )?.mock;
  }
}

export interface ToolMockShape {
  readonly method?: string;
  readonly url: string;
  readonly response?: {
    readonly status?: number;
    readonly headers?: Readonly<Record<string, string>>;
    readonly body?: string;
  };
}

/** The tool registry's mock shape -> ours (invalid entries are dropped: they answer nothing). */
export function fromToolMocks(mocks: readonly ToolMockShape[]): EgressMock[] {
  const out: EgressMock[] = [];
  for (const m of mocks) {
    const parsed = egressMockSchema.safeParse({
      ...(m.method !== undefined ? { method: m.method } : {}),
      url: m.url,
      status: m.response?.status ?? 200,
      headers: m.response?.headers ?? {},
      body: m.response?.body ?? "",
    });
    if (parsed.success) out.push(parsed.data);
  }
  return out;
}
