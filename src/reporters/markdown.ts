/**
 * The Markdown reporter: a pull-request comment body (and the GitHub step summary).
 *
 * GitHub rejects comment bodies over 65,536 characters, so the report degrades in whole blocks
 * when it would be longer: first the per-finding `<details>` go, then the findings table is
 * cut to its first rows with counts per rule and per file. It never cuts inside markup.
 */

import type { Diagnostic, LintResult, RuleMeta } from "../model/types.js";
import { ruleHelpUri } from "./rule-links.js";
import { sanitizeLine, sanitizeText } from "./sanitize-text.js";

/** GitHub's limit on the body of an issue or pull-request comment. */
export const GITHUB_COMMENT_LIMIT = 65_536;

/** Options of {@link renderMarkdown}. */
export interface MarkdownOptions {
  /** Longest output allowed, in UTF-16 code units (never fewer than characters). */
  maxLength?: number;
  /** Text of the top heading. */
  title?: string;
}

/**
 * Renders a lint result as a Markdown comment body: heading, summary line, a table of
 * findings, then one `<details>` per finding with its help and safe steps. The result is at
 * most `maxLength` long; see the module comment for how it shrinks.
 */
export function renderMarkdown(result: LintResult, options: MarkdownOptions = {}): string {
  const maxLength = options.maxLength ?? GITHUB_COMMENT_LIMIT;
  const title = options.title ?? "rollsafe";
  const rules = new Map(result.rules.map((rule) => [rule.code, rule]));
  const diagnostics = result.diagnostics;

  // What the run assumed (an inferred user model or Django version), a quoted line each, short by nature.
  const notes = (result.notes ?? []).flatMap((note) => [`> ${escapeInline(sanitizeLine(note))}`, ""]);
  const header = [`## ${escapeInline(sanitizeLine(title))}`, "", summaryLine(result), "", ...notes];
  if (diagnostics.length === 0) return fitOrFallback(joinBlocks(header), result, title, maxLength);

  const rows = diagnostics.map((d) => findingRow(d, rules));
  // Lengths are summed before joining, so a huge run never builds a report it cannot use.
  const rowsLength = totalLength(rows);
  if (rowsLength <= maxLength) {
    const details = diagnostics.map((d) => findingDetails(d, rules));
    if (rowsLength + totalLength(details) <= maxLength) {
      const full = joinBlocks(header, findingsTable(rows), details);
      if (full.length <= maxLength) return full;
    }
    const withoutDetails = joinBlocks(header, findingsTable(rows), [DETAILS_OMITTED]);
    if (withoutDetails.length <= maxLength) return withoutDetails;
  }

  // Summarised: counts per rule and per file, then as many findings as fit.
  const ruleCounts = countBy(diagnostics, (d) => ruleLabel(d, rules));
  const fileCounts = countBy(diagnostics, (d) => `<code>${escapeInline(sanitizeLine(d.file))}</code>`);
  const summarised = (shown: number, fileRows: number): string => {
    const blocks: string[][] = [header, [SUMMARISED], countTable("Rule", ruleCounts, ruleCounts.length)];
    blocks.push(countTable("File", fileCounts, fileRows));
    if (shown > 0) blocks.push(findingsTable(rows.slice(0, shown)));
    blocks.push([`_${diagnostics.length - shown} more findings not shown._`]);
    return joinBlocks(...blocks);
  };
  const fileTableRows = Math.min(fileCounts.length, MAX_FILE_ROWS);
  // No more rows than fit on their own, so every rendering tried stays near maxLength.
  let fittingRows = 0;
  let used = 0;
  while (fittingRows < rows.length && used + rows[fittingRows]!.length + 1 <= maxLength) {
    used += rows[fittingRows]!.length + 1;
    fittingRows++;
  }
  const shown = largestFitting(fittingRows, (k) => summarised(k, fileTableRows), maxLength);
  if (shown !== null) return summarised(shown, fileTableRows);
  const fileRows = largestFitting(fileCounts.length, (k) => summarised(0, k), maxLength);
  if (fileRows !== null) return summarised(0, fileRows);
  return fitOrFallback(joinBlocks(header), result, title, maxLength);
}

/** Files listed in the per-file counts before the findings table gets the remaining room. */
const MAX_FILE_ROWS = 50;

const DETAILS_OMITTED =
  "_Details omitted to stay under the comment size limit; run `rollsafe check` locally for the full advice._";
const SUMMARISED =
  "_Too many findings for one comment: the counts below cover all of them; run `rollsafe check` locally for the full list._";

/** The header alone, or as a last resort the plain summary sentence cut to length (it holds no markup). */
function fitOrFallback(text: string, result: LintResult, title: string, maxLength: number): string {
  if (text.length <= maxLength) return text;
  const plain = `${sanitizeLine(title)}: ${countsSentence(result)}\n`;
  if (plain.length <= maxLength) return plain;
  // Cut between code points, never inside a surrogate pair.
  const cut = plain.slice(0, Math.max(0, maxLength));
  return /[\ud800-\udbff]$/.test(cut) ? cut.slice(0, -1) : cut;
}

function totalLength(parts: string[]): number {
  return parts.reduce((sum, part) => sum + part.length + 1, 0);
}

/** The largest k in [0, n] whose rendering fits, or null when even k = 0 does not (length grows with k). */
function largestFitting(n: number, render: (k: number) => string, maxLength: number): number | null {
  if (render(0).length > maxLength) return null;
  let low = 0;
  let high = n;
  while (low < high) {
    const mid = Math.ceil((low + high) / 2);
    if (render(mid).length <= maxLength) low = mid;
    else high = mid - 1;
  }
  return low;
}

function summaryLine(result: LintResult): string {
  const { files, migrations } = result.summary;
  const checked = `${plural(migrations, "migration")} in ${plural(files, "file")} checked`;
  if (result.summary.errors === 0 && result.summary.warnings === 0) return `No unsafe migration operations found (${checked}).`;
  return `${countsSentence(result, true)} (${checked}).`;
}

function countsSentence(result: LintResult, bold = false): string {
  const { errors, warnings } = result.summary;
  const strong = (text: string) => (bold ? `**${text}**` : text);
  return `${strong(plural(errors, "error"))} and ${strong(plural(warnings, "warning"))}`;
}

function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? "" : "s"}`;
}

function findingsTable(rows: string[]): string[] {
  return ["| Location | Rule | Severity | Message |", "| --- | --- | --- | --- |", ...rows];
}

function findingRow(d: Diagnostic, rules: Map<string, RuleMeta>): string {
  return `| ${locationCode(d.file, d.line)} | ${ruleLabel(d, rules)} | ${d.severity} | ${inlineMarkdown(sanitizeLine(d.message))} |`;
}

function countTable(heading: string, counts: [string, number][], rows: number): string[] {
  const lines = [`| ${heading} | Findings |`, "| --- | ---: |"];
  for (const [label, count] of counts.slice(0, rows)) lines.push(`| ${label} | ${count} |`);
  if (rows < counts.length) {
    const rest = counts.slice(rows).reduce((sum, [, count]) => sum + count, 0);
    lines.push(`| _${counts.length - rows} more_ | ${rest} |`);
  }
  return lines;
}

function countBy(diagnostics: Diagnostic[], key: (d: Diagnostic) => string): [string, number][] {
  const counts = new Map<string, number>();
  for (const d of diagnostics) {
    const label = key(d);
    counts.set(label, (counts.get(label) ?? 0) + 1);
  }
  return [...counts].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
}

/** A `<details>` block with the help, related locations and fix of a finding; empty when it has none. */
function findingDetails(d: Diagnostic, rules: Map<string, RuleMeta>): string {
  if (d.help.length === 0 && !d.related?.length && !d.fix) return "";
  const lines = [
    "<details>",
    `<summary>${locationCode(d.file, d.line, d.column)} ${ruleLabel(d, rules, true)}: ${inlineMarkdown(sanitizeLine(d.message))}</summary>`,
    "",
  ];
  for (const help of d.help) lines.push(blockMarkdown(help), "");
  for (const related of d.related ?? []) {
    lines.push(`Related: ${locationCode(related.file, related.line, related.column)} ${inlineMarkdown(sanitizeLine(related.message))}`, "");
  }
  if (d.fix) lines.push(`Fix available (${d.fix.applicability}): ${inlineMarkdown(sanitizeLine(d.fix.title))}`, "");
  lines.push("</details>", "");
  return lines.join("\n");
}

/**
 * The rule's code and name, the code linking to the rule's page. Inside `<summary>` the line is
 * part of an HTML block, where Markdown links are not parsed, so it takes an `<a>` element.
 */
function ruleLabel(d: Diagnostic, rules: Map<string, RuleMeta>, html = false): string {
  const code = escapeInline(sanitizeLine(d.code));
  const name = escapeInline(sanitizeLine(d.rule));
  const meta = rules.get(d.code);
  if (!meta) return `${code} ${name}`;
  const uri = escapeInline(ruleHelpUri(meta.name));
  return html ? `<a href="${uri}">${code}</a> ${name}` : `[${code}](${uri}) ${name}`;
}

function locationCode(file: string, line: number, column?: number): string {
  const position = column === undefined ? `${line}` : `${line}:${column}`;
  return `<code>${escapeInline(sanitizeLine(file))}:${position}</code>`;
}

function joinBlocks(...blocks: string[][]): string {
  return blocks.map((block) => block.join("\n")).join("\n\n").replace(/\n{3,}/g, "\n\n").trimEnd() + "\n";
}

/**
 * Characters that mean something to GitHub Flavored Markdown or HTML anywhere in a line, written
 * as numeric character references so they print literally (in table cells, `|` would otherwise
 * end the cell even inside a code span). `$` starts GitHub's math; `#` a heading or reference.
 */
const INLINE_SPECIAL = /[&<>"'|`*_[\]\\~#$!]/g;

/** Escapes untrusted text so it renders as literal characters in Markdown and HTML. */
export function escapeInline(text: string): string {
  return text.replace(INLINE_SPECIAL, (ch) => `&#${ch.codePointAt(0)};`);
}

/**
 * One line of message text as Markdown: backtick-quoted names become `<code>` elements (the
 * rules quote model, field and column names that way), everything else is escaped.
 */
function inlineMarkdown(text: string): string {
  let out = "";
  let last = 0;
  for (const match of text.matchAll(/`([^`]+)`/g)) {
    out += escapeInline(text.slice(last, match.index));
    out += `<code>${escapeInline(match[1]!)}</code>`;
    last = match.index + match[0].length;
  }
  return out + escapeInline(text.slice(last));
}

/**
 * A help entry as one Markdown paragraph. Its own line breaks become `<br>` (so a snippet
 * keeps its shape without opening a code block the text could escape from), and characters
 * that start a block (`-`, `+`, `=`) are escaped at the start of the paragraph.
 */
function blockMarkdown(text: string): string {
  const lines = sanitizeText(text)
    .replace(/\t/g, "    ")
    .split("\n")
    .map((line) => {
      const indent = /^ */.exec(line)![0].length;
      return "&nbsp;".repeat(indent) + inlineMarkdown(line.slice(indent));
    });
  return lines.join("<br>").replace(/^[-+=]/, (ch) => `&#${ch.codePointAt(0)};`);
}
