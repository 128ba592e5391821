/**
 * JSON written in pieces that add up to exactly what `JSON.stringify(value, null, 2)` writes,
 * so a large report is never built as one string (V8 puts a string that size in old space).
 */

/** Whether JSON.stringify writes an object member with this value (it skips these). */
export function isSerialised(value: unknown): boolean {
  return value !== undefined && typeof value !== "function" && typeof value !== "symbol";
}

/**
 * `value` as `JSON.stringify(value, null, 2)` lays it out `depth` levels deep in a document,
 * in pieces: arrays and plain objects are opened `levels` levels down, and what lies below is
 * stringified whole (JSON escapes newlines inside strings, so indenting every line break of
 * that text indents exactly the lines JSON.stringify would). With `compact`, the pieces add up
 * to `JSON.stringify(value)` instead (`depth` is then ignored).
 */
export function* jsonChunks(value: unknown, depth: number, levels: number, compact = false): Generator<string> {
  const plain = value !== null && typeof value === "object" && typeof (value as { toJSON?: unknown }).toJSON !== "function";
  const open = (bracket: string) => (compact ? bracket : `${bracket}\n${"  ".repeat(depth + 1)}`);
  const next = compact ? "," : `,\n${"  ".repeat(depth + 1)}`;
  const close = (bracket: string) => (compact ? bracket : `\n${"  ".repeat(depth)}${bracket}`);
  if (levels > 0 && plain && Array.isArray(value) && value.length > 0) {
    for (let i = 0; i < value.length; i++) {
      yield i === 0 ? open("[") : next;
      // Array holes, undefined and functions are written as null, as JSON.stringify does.
      yield* jsonChunks(isSerialised(value[i]) ? value[i] : null, depth + 1, levels - 1, compact);
    }
    yield close("]");
    return;
  }
  const entries = levels > 0 && plain && !Array.isArray(value) ? Object.entries(value).filter(([, v]) => isSerialised(v)) : [];
  if (entries.length > 0) {
    for (let i = 0; i < entries.length; i++) {
      const [key, v] = entries[i] as [string, unknown];
      yield `${i === 0 ? open("{") : next}${JSON.stringify(key)}${compact ? ":" : ": "}`;
      yield* jsonChunks(v, depth + 1, levels - 1, compact);
    }
    yield close("}");
    return;
  }
  const text = (compact ? JSON.stringify(value) : JSON.stringify(value, null, 2)) ?? "null";
  yield compact || depth === 0 || !text.includes("\n") ? text : text.replaceAll("\n", `\n${"  ".repeat(depth)}`);
}
