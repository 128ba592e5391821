/**
 * `--format json`: one document that other tools rely on. Version 1 of the shape:
 * `{"version": 1, "diagnostics": [...], "summary": {"files", "migrations", "errors", "warnings"}}`,
 * and `"notes"` (strings) when the run assumed something it says once.
 */
import type { Diagnostic, LintResult } from "../model/types.js";
import { isSerialised, jsonArrayChunks, jsonChunks, mapItems } from "./json-chunks.js";

/** The serialised form of a diagnostic (no internal fields). */
export function diagnosticJson(d: Diagnostic): Record<string, unknown> {
  return {
    code: d.code,
    rule: d.rule,
    severity: d.severity,
    file: d.file,
    line: d.line,
    column: d.column,
    endLine: d.endLine,
    endColumn: d.endColumn,
    message: d.message,
    help: d.help,
    migration: d.migration,
    ...(d.related ? { related: d.related } : {}),
    ...(d.fix ? { fix: { title: d.fix.title, applicability: d.fix.applicability } } : {}),
  };
}

/** Renders the JSON document (with a trailing newline). */
export function renderJson(result: LintResult, extra: Record<string, unknown> = {}): string {
  return [...renderJsonChunks(result, extra)].join("");
}

/**
 * The same document as `renderJson`, byte for byte (`JSON.stringify(doc, null, 2)` and a newline),
 * one diagnostic at a time: a large run's report (90 MB at 20,000 migrations) is written out
 * as it is rendered instead of being built as one string first.
 */
export function* renderJsonChunks(result: LintResult, extra: Record<string, unknown> = {}): Generator<string> {
  yield '{\n  "version": 1,\n  "diagnostics": ';
  yield* jsonArrayChunks(mapItems(result.diagnostics, diagnosticJson), 1, 1);
  yield ",\n";
  const rest: [string, unknown][] = [["summary", result.summary], ...(result.notes?.length ? [["notes", result.notes] as [string, unknown]] : []), ...Object.entries(extra)];
  const present = rest.filter(([key, value]) => key === "summary" || isSerialised(value));
  for (let i = 0; i < present.length; i++) {
    const [key, value] = present[i] as [string, unknown];
    yield `  ${JSON.stringify(key)}: `;
    // The release plan lists every pending migration (25 MB at 20,000 migrations): it is
    // written an element at a time down to its steps, like the findings.
    yield* jsonChunks(value, 1, 3);
    yield i < present.length - 1 ? ",\n" : "\n";
  }
  yield "}\n";
}
