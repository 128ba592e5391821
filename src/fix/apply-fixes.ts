/**
 * Applying fixes: unified diffs for `check --diff`, and the files `check --fix` writes. Edits are
 * offsets into the decoded source; a file is only rewritten when it is plain UTF-8 (what was read
 * is exactly what is on disk), lies under the working directory, and no other chosen fix touches
 * the same text.
 */
import { promises as fs } from "node:fs";
import path from "node:path";
import { createTwoFilesPatch } from "diff";
import type { Diagnostic, Fix, TextEdit } from "../model/types.js";
import { displayPath } from "../engine/lint.js";
import { listIn } from "../util/collections.js";
import { leavesBase } from "../util/paths.js";

/** Applies non-overlapping edits to a source string. Throws on overlap (a bug in a fix builder). */
export function applyEdits(source: string, edits: TextEdit[]): string {
  const sorted = [...edits].sort((a, b) => b.startOffset - a.startOffset || b.endOffset - a.endOffset);
  let out = source;
  let limit = Infinity;
  for (const e of sorted) {
    if (e.endOffset > limit || e.startOffset > e.endOffset || e.endOffset > source.length) throw new Error(`overlapping or out-of-range edits in ${e.file}`);
    out = out.slice(0, e.startOffset) + e.text + out.slice(e.endOffset);
    limit = e.startOffset;
  }
  return out;
}

function overlaps(a: TextEdit, b: TextEdit): boolean {
  if (a.file !== b.file) return false;
  // Two insertions at the same point would depend on their order: treat them as a conflict.
  if (a.startOffset === a.endOffset && b.startOffset === b.endOffset) return a.startOffset === b.startOffset;
  return a.startOffset < b.endOffset && b.startOffset < a.endOffset;
}

/** Reads a file's text for a fix; null when it is not plain UTF-8 (an encoding cookie, a BOM) . */
async function readPlain(file: string): Promise<string | null> {
  let bytes: Buffer;
  try {
    bytes = await fs.readFile(file);
  } catch {
    return null;
  }
  const text = bytes.toString("utf8");
  if (!Buffer.from(text, "utf8").equals(bytes) || text.startsWith("\uFEFF")) return null;
  return text;
}

/** The unified diff of one fix: edited files, then new files (against /dev/null). */
export async function fixPatch(fix: Fix, cwd: string): Promise<string> {
  const byFile = groupEdits(fix.edits);
  let out = "";
  for (const [file, edits] of byFile) {
    const before = await readPlain(file);
    if (before === null) continue;
    const shown = displayPath(cwd, file);
    out += createTwoFilesPatch(`a/${shown}`, `b/${shown}`, before, applyEdits(before, edits), undefined, undefined, { context: 3 }).replace(/^=+\n/, "");
  }
  for (const created of fix.newFiles ?? []) {
    const shown = displayPath(cwd, created.file);
    out += createTwoFilesPatch("/dev/null", `b/${shown}`, "", created.content, undefined, undefined, { context: 3 }).replace(/^=+\n/, "");
  }
  return out;
}

function groupEdits(edits: TextEdit[]): Map<string, TextEdit[]> {
  const byFile = new Map<string, TextEdit[]>();
  for (const e of edits) listIn(byFile, e.file).push(e);
  return byFile;
}

/** Renders `check --diff`: one header line and one patch per fixable finding. */
export async function renderFixDiffs(diagnostics: Diagnostic[], cwd: string): Promise<string> {
  let out = "";
  for (const d of diagnostics) {
    if (!d.fix) continue;
    const patch = await fixPatch(d.fix, cwd);
    if (!patch) continue;
    out += `# ${d.code} ${d.rule} ${d.file}:${d.line}: ${d.fix.title} (${d.fix.applicability})\n${patch}`;
  }
  return out;
}

/** What one `--fix` pass did. */
export interface FixPass {
  applied: Diagnostic[];
  /** Fixes left for a later pass or refused, with the reason. */
  skipped: { diagnostic: Diagnostic; reason: string }[];
  /** Absolute paths written (edited or created). */
  written: string[];
}

function isInside(cwd: string, file: string): boolean {
  const rel = path.relative(cwd, file);
  return rel !== "" && !leavesBase(rel);
}

async function realOrSelf(file: string): Promise<string> {
  try {
    return await fs.realpath(file);
  } catch {
    // A new file: resolve its directory.
    try {
      return path.join(await fs.realpath(path.dirname(file)), path.basename(file));
    } catch {
      return file;
    }
  }
}

/**
 * Applies the fixes of `diagnostics` whose applicability is allowed, in one pass: fixes that touch
 * the same text or create the same migration number as an earlier one wait for the next pass
 * (the caller re-lints and calls again).
 */
export async function applyFixes(diagnostics: Diagnostic[], cwd: string, options: { unsafe?: boolean } = {}): Promise<FixPass> {
  const allowed = new Set<Fix["applicability"]>(options.unsafe ? ["safe", "unsafe"] : ["safe"]);
  const realCwd = await realOrSelf(cwd);
  const chosenEdits: TextEdit[] = [];
  const claimedNew = new Set<string>();
  const sources = new Map<string, string | null>();
  const pass: FixPass = { applied: [], skipped: [], written: [] };
  const plans: { edits: TextEdit[]; newFiles: { file: string; content: string }[] }[] = [];

  for (const d of diagnostics) {
    const fix = d.fix;
    if (!fix || !allowed.has(fix.applicability)) continue;
    const files = [...new Set([...fix.edits.map((e) => e.file), ...(fix.newFiles ?? []).map((f) => f.file)])];
    let reason: string | null = null;
    for (const file of files) {
      if (!isInside(realCwd, await realOrSelf(file))) reason = `${displayPath(cwd, file)} is outside the working directory`;
    }
    for (const file of new Set(fix.edits.map((e) => e.file))) {
      if (!sources.has(file)) sources.set(file, await readPlain(file));
      if (sources.get(file) === null) reason ??= `${displayPath(cwd, file)} is not plain UTF-8 text`;
    }
    for (const created of fix.newFiles ?? []) {
      const key = newMigrationKey(created.file);
      if (claimedNew.has(key)) reason ??= "another fix creates the same migration number; run --fix again";
      else if (await exists(created.file)) reason ??= `${displayPath(cwd, created.file)} already exists`;
    }
    if (fix.edits.some((e) => chosenEdits.some((c) => overlaps(c, e)))) reason ??= "another fix changes the same text; run --fix again";
    if (reason) {
      pass.skipped.push({ diagnostic: d, reason });
      continue;
    }
    chosenEdits.push(...fix.edits);
    for (const created of fix.newFiles ?? []) claimedNew.add(newMigrationKey(created.file));
    plans.push({ edits: fix.edits, newFiles: fix.newFiles ?? [] });
    pass.applied.push(d);
  }

  for (const [file, edits] of groupEdits(plans.flatMap((p) => p.edits))) {
    await fs.writeFile(file, applyEdits(sources.get(file) as string, edits));
    pass.written.push(file);
  }
  for (const created of plans.flatMap((p) => p.newFiles)) {
    await fs.writeFile(created.file, created.content, { flag: "wx" });
    pass.written.push(created.file);
  }
  return pass;
}

/** Two new migrations in one app with the same number would be two leaves. */
function newMigrationKey(file: string): string {
  const number = /^(\d+)_/.exec(path.basename(file))?.[1];
  return number ? `${path.dirname(file)}\0${number}` : file;
}

async function exists(file: string): Promise<boolean> {
  try {
    await fs.lstat(file);
    return true;
  } catch {
    return false;
  }
}
