/**
 * `--format json`: one document that other tools rely on. Version 1 of the shape:
 * `{"version": 1, "diagnostics": [...], "summary": {"files", "migrations", "errors", "warnings"}}`.
 */
import type { Diagnostic, LintResult } from "../model/types.js";

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
  // A value nested `depth` levels deep is laid out by stringifying it inside `depth` one-element
  // arrays (JSON.stringify indents it exactly as it would inside the whole document) and
  // cutting the arrays' own lines off again.
  const nested = (value: unknown, depth: 1 | 2) =>
    depth === 1 ? JSON.stringify([value], null, 2).slice(4, -2) : JSON.stringify([[value]], null, 2).slice(10, -6);
  yield '{\n  "version": 1,\n  "diagnostics": [';
  for (let i = 0; i < result.diagnostics.length; i++) {
    yield `${i === 0 ? "\n" : ",\n"}    ${nested(diagnosticJson(result.diagnostics[i] as Diagnostic), 2)}`;
  }
  yield result.diagnostics.length > 0 ? "\n  ],\n" : "],\n";
  const rest: [string, unknown][] = [["summary", result.summary], ...Object.entries(extra)];
  const present = rest.filter(([key, value]) => key === "summary" || (value !== undefined && typeof value !== "function" && typeof value !== "symbol"));
  for (let i = 0; i < present.length; i++) {
    const [key, value] = present[i] as [string, unknown];
    yield `  ${JSON.stringify(key)}: ${nested(value, 1)}${i < present.length - 1 ? ",\n" : "\n"}`;
  }
  yield "}\n";
}
