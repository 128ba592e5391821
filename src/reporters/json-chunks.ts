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
  const plain = levels > 0 && value !== null && typeof value === "object" && typeof (value as { toJSON?: unknown }).toJSON !== "function";
  if (plain && Array.isArray(value)) {
    // Array holes, undefined and functions are written as null, as JSON.stringify does.
    yield* members(serialisedItems(value), "[", "]", depth, levels, compact);
    return;
  }
  if (plain) {
    // Members JSON.stringify leaves out are left out; an object left empty is written `{}`.
    const entries = Object.entries(value).filter(([, v]) => isSerialised(v));
    yield* members(entries, "{", "}", depth, levels, compact, true);
    return;
  }
  const text = (compact ? JSON.stringify(value) : JSON.stringify(value, null, 2)) ?? "null";
  yield compact || depth === 0 || !text.includes("\n") ? text : text.replaceAll("\n", `\n${"  ".repeat(depth)}`);
}

/**
 * An array given as `items` (taken one at a time, so they can be made as they are written),
 * laid out as `jsonChunks` lays out an array `depth` levels deep, each item opened `levels - 1`
 * levels down.
 */
export function jsonArrayChunks(items: Iterable<unknown>, depth: number, levels: number, compact = false): Generator<string> {
  return members(items, "[", "]", depth, levels, compact);
}

function* serialisedItems(array: readonly unknown[]): Generator<unknown> {
  for (let i = 0; i < array.length; i++) yield isSerialised(array[i]) ? array[i] : null;
}

/** An array's items, or an object's `[key, value]` entries (`keyed`), between brackets. */
function* members(items: Iterable<unknown>, open: string, close: string, depth: number, levels: number, compact: boolean, keyed = false): Generator<string> {
  const indent = compact ? "" : `\n${"  ".repeat(depth + 1)}`;
  let first = true;
  for (const item of items) {
    const [key, value] = keyed ? (item as [string, unknown]) : [null, item];
    const separator = first ? `${open}${indent}` : `,${indent}`;
    yield key === null ? separator : `${separator}${JSON.stringify(key)}${compact ? ":" : ": "}`;
    first = false;
    yield* jsonChunks(value, depth + 1, levels - 1, compact);
  }
  yield first ? `${open}${close}` : `${compact ? "" : `\n${"  ".repeat(depth)}`}${close}`;
}

/** `items` mapped one at a time, as they are taken (a report's findings, rendered as they are written). */
export function* mapItems<T, U>(items: readonly T[], map: (item: T) => U): Generator<U> {
  for (let i = 0; i < items.length; i++) yield map(items[i] as T);
}
