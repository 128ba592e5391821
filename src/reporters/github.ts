/**
 * The GitHub Actions reporter: one workflow command per finding, which GitHub turns into an
 * annotation on the pull request diff, plus the Markdown written to `$GITHUB_STEP_SUMMARY`.
 */

import type { Diagnostic, LintResult } from "../model/types.js";
import { regionOf } from "./diagnostic-region.js";
import { escapeWorkflowData, escapeWorkflowProperty } from "./escape-workflow-command.js";
import { renderMarkdown } from "./markdown.js";

/**
 * GitHub accepts up to 1 MiB of step summary per step; stay a little under it so the
 * summaries of other steps in the job still have room.
 */
export const STEP_SUMMARY_LIMIT = 1_000_000;

/**
 * Renders one `::error` / `::warning` workflow command per diagnostic, e.g.
 * `::error file=app/migrations/0002_x.py,line=12,endLine=12,col=9,endColumn=40,title=RS101 dropping-column::message`.
 * The help lines follow the message (as escaped newlines) so the annotation says what to do.
 * Every piece of text is escaped, so the output has exactly one line per diagnostic.
 */
export function renderGithub(result: LintResult): string {
  return [...renderGithubChunks(result)].join("");
}

/** The same commands as `renderGithub`, one per piece, so a large run's output is never one string. */
export function* renderGithubChunks(result: LintResult): Generator<string> {
  for (const d of result.diagnostics) yield `${workflowCommand(d)}\n`;
  for (const note of result.notes ?? []) yield `::notice title=rollsafe::${escapeWorkflowData(note)}\n`;
}

function workflowCommand(d: Diagnostic): string {
  const region = regionOf(d);
  const properties: [string, string | number][] = [
    ["file", d.file],
    ["line", region.line],
    ["endLine", region.endLine],
  ];
  // GitHub only honours columns on a single-line annotation (actions/toolkit: "cannot be
  // sent when startLine and endLine are different values").
  if (region.line === region.endLine) properties.push(["col", region.column], ["endColumn", region.endColumn]);
  properties.push(["title", `${d.code} ${d.rule}`]);
  const props = properties.map(([key, value]) => `${key}=${escapeWorkflowProperty(String(value))}`).join(",");
  const message = d.help.length > 0 ? `${d.message}\n\n${d.help.join("\n")}` : d.message;
  return `::${d.severity === "error" ? "error" : "warning"} ${props}::${escapeWorkflowData(message)}`;
}

/** The Markdown report for `$GITHUB_STEP_SUMMARY`: the comment report, with the step summary's larger limit. */
export function renderGithubStepSummary(result: LintResult): string {
  return renderMarkdown(result, { maxLength: STEP_SUMMARY_LIMIT, title: "rollsafe: migration safety" });
}
