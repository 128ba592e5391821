/**
 * The human format: `file:line:col`, the rule, a code frame, the why and the numbered steps,
 * then a summary line. Colour only when asked (the CLI decides from TTY, NO_COLOR, FORCE_COLOR).
 * All migration text is sanitised: a migration cannot inject terminal escape sequences.
 */
import { Chalk, type ChalkInstance } from "chalk";
import { lastAnswer } from "../util/collections.js";
import type { Diagnostic, LintResult } from "../model/types.js";
import { sanitizeLine, sanitizeText } from "./sanitize-text.js";

export interface TextOptions {
  color?: boolean;
  /** Omit the help and code frames (`--quiet`-style one line per finding). */
  concise?: boolean;
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? "" : "s"}`;
}

/** The summary line shared by the text reporter and others. */
export function summaryLine(result: LintResult): string {
  const { errors, warnings, migrations } = result.summary;
  const checked = `Checked ${plural(migrations, "migration")}`;
  if (errors === 0 && warnings === 0) return `${checked}: no problems found.`;
  return `${checked}: ${plural(errors, "error")}, ${plural(warnings, "warning")}.`;
}


function codeFrame(c: ChalkInstance, d: Diagnostic, lines: string[] | undefined): string[] {
  if (lines === undefined) return [];
  const last = Math.min(d.endLine, d.line + 2, lines.length);
  const width = String(last).length;
  const out: string[] = [`${" ".repeat(width)} ${c.blue("|")}`];
  for (let n = d.line; n <= last; n++) {
    const text = sanitizeLine((lines[n - 1] ?? "").replace(/\t/g, "    "));
    out.push(`${c.blue(String(n).padStart(width))} ${c.blue("|")} ${text.length > 160 ? `${text.slice(0, 160)}…` : text}`);
    if (n === d.line) {
      const lineText = lines[n - 1] ?? "";
      const startCol = Math.max(1, d.column);
      const endCol = d.endLine === d.line ? Math.max(startCol + 1, d.endColumn) : lineText.length + 1;
      const pad = lineText.slice(0, startCol - 1).replace(/\t/g, "    ").length;
      const len = Math.max(1, Math.min(endCol - startCol, 160 - pad));
      const color = d.severity === "error" ? c.red : c.yellow;
      out.push(`${" ".repeat(width)} ${c.blue("|")} ${" ".repeat(pad)}${color("^".repeat(len))}`);
    }
  }
  if (d.endLine > last) out.push(`${" ".repeat(width)} ${c.blue("|")} ${c.dim("...")}`);
  return out;
}

/** Renders help entries: prose wrapped as is, fenced code shown indented. */
function renderHelp(c: ChalkInstance, help: string[]): string[] {
  const out: string[] = [];
  help.forEach((entry, i) => {
    const label = i === 0 && !/^\d+\./.test(entry) ? c.bold.cyan("  why: ") : "       ";
    let inCode = false;
    let first = true;
    // A newline inside a migration's name must not start a line that a CI runner reads as a
    // workflow command (GitHub trims leading blanks, then looks for `::`).
    for (const raw of sanitizeText(entry).split("\n").map((l) => l.replace(/^(\s*)::/, "$1: :"))) {
      if (raw.startsWith("```")) {
        inCode = !inCode;
        continue;
      }
      const line = inCode ? c.green(`    ${raw}`) : raw;
      out.push(`${first ? label : "       "}${line}`);
      first = false;
    }
  });
  return out;
}

/** Renders the whole result as text. */
export function renderText(result: LintResult, options: TextOptions = {}): string {
  return [...renderTextChunks(result, options)].join("");
}

/** The same text as `renderText`, one finding at a time (a large run's report is written as it is rendered). */
export function* renderTextChunks(result: LintResult, options: TextOptions = {}): Generator<string> {
  const c = new Chalk({ level: options.color ? 1 : 0 });
  const lines = (out: string[]) => `${out.join("\n")}\n`;
  // A file's lines, split once for all of its findings (they come sorted by file; splitting per
  // finding made a file with thousands of findings quadratic).
  const sourceLines = lastAnswer((source: string) => source.split(/\r?\n/));
  for (const d of result.diagnostics) {
    const out: string[] = [];
    const severity = d.severity === "error" ? c.bold.red("error") : c.bold.yellow("warning");
    const location = `${sanitizeLine(d.file)}:${d.line}:${d.column}`;
    if (options.concise) {
      yield lines([`${location}: ${severity} ${c.dim(`[${d.code} ${d.rule}]`)} ${sanitizeLine(d.message)}`]);
      continue;
    }
    out.push(`${severity}${c.dim(`[${d.code} ${d.rule}]`)}: ${c.bold(sanitizeLine(d.message))}`);
    out.push(`  ${c.blue("-->")} ${location}${d.migration ? c.dim(` (${sanitizeLine(d.migration)})`) : ""}`);
    const source = result.sources?.get(d.file);
    out.push(...codeFrame(c, d, source === undefined ? undefined : sourceLines(source)).map((l) => `  ${l}`));
    for (const r of d.related ?? []) out.push(`  ${c.blue("note:")} ${sanitizeLine(r.message)} (${sanitizeLine(r.file)}:${r.line}:${r.column})`);
    out.push(...renderHelp(c, d.help));
    out.push(`  ${c.dim(`see: rollsafe explain ${d.rule}`)}`);
    out.push("");
    yield lines(out);
  }
  if (result.notes?.length) yield lines(result.notes.map((n) => `${c.blue("note:")} ${sanitizeLine(n)}`));
  const line = summaryLine(result);
  yield lines([result.summary.errors > 0 ? c.bold.red(line) : result.summary.warnings > 0 ? c.bold.yellow(line) : c.bold.green(line)]);
}
