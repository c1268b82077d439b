/**
 * JSON as the repository's formatter (biome, 2 spaces, line width 120) writes it, so the generated
 * results file passes `npm run lint` unchanged: objects one key per line; arrays of primitives on
 * one line when they fit, one item per line otherwise.
 */
const LINE_WIDTH = 120;

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

function isPrimitive(value: Json): value is null | boolean | number | string {
  return value === null || typeof value !== "object";
}

function format(value: Json, indent: string, prefixLength: number): string {
  if (isPrimitive(value)) return JSON.stringify(value);
  const inner = `${indent}  `;
  if (Array.isArray(value)) {
    if (value.length === 0) return "[]";
    if (value.every(isPrimitive)) {
      const flat = `[${value.map((v) => JSON.stringify(v)).join(", ")}]`;
      // +1 for a trailing comma after the value.
      if (prefixLength + flat.length + 1 <= LINE_WIDTH) return flat;
    }
    return `[\n${value.map((v) => `${inner}${format(v, inner, inner.length)}`).join(",\n")}\n${indent}]`;
  }
  const entries = Object.entries(value).filter(([, v]) => v !== undefined);
  if (entries.length === 0) return "{}";
  const lines = entries.map(([key, v]) => {
    const head = `${inner}${JSON.stringify(key)}: `;
    return `${head}${format(v, inner, head.length)}`;
  });
  return `{\n${lines.join(",\n")}\n${indent}}`;
}

export function formatJson(value: unknown): string {
  return `${format(JSON.parse(JSON.stringify(value)) as Json, "", 0)}\n`;
}
