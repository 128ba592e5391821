/**
 * The GitLab Code Quality reporter (a subset of the Code Climate issue format), shown in merge
 * request widgets and diffs. GitLab requires `description`, `check_name`, `fingerprint`,
 * `severity` and `location.path` with `location.lines.begin`; paths are relative to the
 * repository root, which is where CI runs rollsafe.
 */

import { createHash } from "node:crypto";

import type { Diagnostic, LintResult } from "../model/types.js";
import { regionOf } from "./diagnostic-region.js";
import { jsonArrayChunks, mapItems } from "./json-chunks.js";
import { sanitizeLine, sanitizeText } from "./sanitize-text.js";

/** GitLab's severities, most severe first. */
export type CodeQualitySeverity = "blocker" | "critical" | "major" | "minor" | "info";

/** One Code Quality issue. */
export interface CodeQualityIssue {
  type: "issue";
  check_name: string;
  description: string;
  content: { body: string };
  categories: string[];
  severity: CodeQualitySeverity;
  fingerprint: string;
  location: { path: string; lines: { begin: number; end: number } };
}

/**
 * Renders the Code Quality JSON array. An error means the release breaks running code or
 * blocks the table (`critical`); a warning is a risk to review (`minor`). The fingerprint is
 * an MD5 of rule, file and message (not the line) plus an ordinal for identical findings, so
 * GitLab matches the same finding across commits that move it.
 */
export function renderGitlab(result: LintResult): string {
  return [...renderGitlabChunks(result)].join("");
}

/** The same array as `renderGitlab`, byte for byte, one issue at a time. */
export function* renderGitlabChunks(result: LintResult): Generator<string> {
  const seen = new Map<string, number>();
  const issue = (d: Diagnostic): CodeQualityIssue => {
    const key = `${d.code}\0${d.file}\0${d.message}`;
    const ordinal = (seen.get(key) ?? 0) + 1;
    seen.set(key, ordinal);
    const region = regionOf(d);
    return {
      type: "issue",
      check_name: d.code,
      description: sanitizeLine(`${d.code} ${d.rule}: ${d.message}`),
      content: { body: sanitizeText(d.help.join("\n\n")) },
      categories: ["Bug Risk"],
      severity: severityOf(d),
      fingerprint: createHash("md5").update(`${key}\0${ordinal}`).digest("hex"),
      location: { path: d.file, lines: { begin: region.line, end: region.endLine } },
    };
  };
  yield* jsonArrayChunks(mapItems(result.diagnostics, issue), 0, 1);
  yield "\n";
}

function severityOf(d: Diagnostic): CodeQualitySeverity {
  return d.severity === "error" ? "critical" : "minor";
}
