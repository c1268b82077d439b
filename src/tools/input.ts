/**
 * Checks an invocation's input against the tool's declared JSON Schema (converted with zod's
 * `fromJSONSchema`). A schema zod cannot convert is refused when the tool is registered, so every
 * stored tool's schema converts here.
 */
import { type ZodType, z } from "zod";

export type InputIssue = { path: string; message: string };

export function compileInputSchema(
  schema: Record<string, unknown>,
): { ok: true; schema: ZodType } | { ok: false; error: string } {
  try {
    return { ok: true, schema: z.fromJSONSchema(schema as Parameters<typeof z.fromJSONSchema>[0]) };
  } catch (error) {
    return { ok: false, error: (error as Error).message.split("\n")[0]?.slice(0, 200) ?? "unsupported JSON Schema" };
  }
}

export function checkInput(schema: Record<string, unknown> | undefined, input: unknown): InputIssue[] {
  if (schema === undefined) return [];
  const compiled = compileInputSchema(schema);
  if (!compiled.ok) return [{ path: "input", message: "the tool's input schema cannot be used" }];
  const result = compiled.schema.safeParse(input);
  if (result.success) return [];
  return result.error.issues.slice(0, 20).map((issue) => ({
    path: ["input", ...issue.path.map(String)].join("."),
    message: issue.message,
  }));
}

/** Deeper input is refused before anything walks it (the scan and the hash recurse over it). */
export const MAX_INPUT_DEPTH = 64;

/** Nesting depth of a JSON value, computed without recursion (a scalar is 0, `[]` is 1). */
export function jsonDepth(value: unknown): number {
  let deepest = 0;
  const stack: Array<[unknown, number]> = [[value, 0]];
  while (stack.length > 0) {
    const [current, depth] = stack.pop() as [unknown, number];
    if (current === null || typeof current !== "object") continue;
    deepest = Math.max(deepest, depth + 1);
    if (deepest > MAX_INPUT_DEPTH) return deepest;
    for (const child of Object.values(current as Record<string, unknown>)) stack.push([child, depth + 1]);
  }
  return deepest;
}
