/**
 * Every fix is applied, re-parsed and re-linted: over a temporary copy of each bad fixture case
 * and of the example project, each finding's fix is applied alone; then the finding is gone, no
 * new finding appears, and every written file compiles as Python.
 */
import { execFileSync } from "node:child_process";
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { analyze } from "../../src/engine/lint.js";
import { resolveRun } from "../../src/config/resolve-options.js";
import { applyFixes, applyEdits, renderFixDiffs } from "../../src/fix/apply-fixes.js";
import { runFixLoop } from "../../src/fix/fix-loop.js";
import { rules as allRules } from "../../rules/index.js";
import type { Diagnostic } from "../../src/model/types.js";
import type { Rule } from "../../src/engine/rule-types.js";
import { fixtureCases, FIXTURES } from "../support/fixture-cases.js";

const temps: string[] = [];
afterAll(() => {
  for (const t of temps) rmSync(t, { recursive: true, force: true });
});

function copyOf(dir: string): string {
  const tmp = mkdtempSync(path.join(os.tmpdir(), "rollsafe-fix-"));
  temps.push(tmp);
  cpSync(dir, tmp, { recursive: true });
  return tmp;
}

/** A finding's identity across a rewrite (lines move, messages and migrations do not). */
const key = (d: Diagnostic) => `${d.rule} ${d.migration} ${d.message}`;

const PYTHON = ["/usr/bin/python3", "python3"].find((p) => {
  try {
    execFileSync(p, ["--version"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
});

function compiles(file: string): void {
  if (!PYTHON) return;
  // compile() only: nothing is imported or executed.
  execFileSync(PYTHON, ["-c", "import sys; compile(open(sys.argv[1], encoding='utf-8').read(), sys.argv[1], 'exec')", file]);
}

const RULES = allRules.filter((r) => !r.meta.optIn);

interface Checked {
  rule: string;
  title: string;
}

/**
 * Runs every rule that is not opt-in over `dir` with the case's own configuration, as the CLI
 * would: a migration before `start-after` is deployed already, and its findings (and fixes) are
 * not offered.
 */
function lintCase(dir: string) {
  return analyze(["."], { ...resolveRun(["."], {}, dir).options, cwd: dir, rules: RULES });
}

/** Applies each fixable finding's fix alone on a fresh copy and re-lints. */
async function checkEveryFix(dir: string): Promise<Checked[]> {
  const before = await lintCase(dir);
  const checked: Checked[] = [];
  for (const [i, d] of before.result.diagnostics.entries()) {
    if (!d.fix) continue;
    const copy = copyOf(dir);
    const again = await lintCase(copy);
    const target = again.result.diagnostics[i] as Diagnostic;
    expect(key(target)).toBe(key(d));
    const pass = await applyFixes([target], copy, { unsafe: true });
    expect(pass.skipped).toEqual([]);
    expect(pass.applied).toHaveLength(1);
    for (const file of pass.written) compiles(file);
    const after = await lintCase(copy);
    const remaining = after.result.diagnostics.map(key);
    expect(remaining, `${d.code} fix "${d.fix.title}" in ${d.file}: the finding is gone`).not.toContain(key(d));
    // A fix may settle another finding too (db_default also answers a callable-default warning),
    // or change what one says (a state-only removal takes away the lock a later index build was
    // said to wait behind): no rule reports more in a migration than it did.
    const counts = (keys: string[]) => keys.reduce((m, k) => m.set(k, (m.get(k) ?? 0) + 1), new Map<string, number>());
    const site = (k: string) => k.split(" ").slice(0, 2).join(" ");
    const was = counts(before.result.diagnostics.filter((x) => x !== d).map((x) => site(key(x))));
    const now = counts(after.result.diagnostics.map((x) => site(key(x))));
    const added = [...now].filter(([k, n]) => n > (was.get(k) ?? 0)).map(([k]) => remaining.find((r) => site(r) === k) ?? k);
    expect(added, `${d.code} fix "${d.fix.title}" in ${d.file}: no new finding`).toEqual([]);
    checked.push({ rule: d.rule, title: d.fix.title });
  }
  return checked;
}

describe("every fix, applied alone, removes its finding and adds none", () => {
  const cases = fixtureCases().filter((c) => c.kind === "bad");
  const seen = new Set<string>();

  for (const c of cases) {
    it(`${c.rule}/${c.name}`, async () => {
      for (const done of await checkEveryFix(c.dir)) seen.add(done.rule);
    });
  }

  it("example project", async () => {
    const checked = await checkEveryFix(path.join(FIXTURES, "example-project"));
    expect(checked.map((c) => c.rule).sort()).toEqual(["adding-not-nullable-column", "dropping-column", "renaming-column", "renaming-table"]);
    for (const done of checked) seen.add(done.rule);
  });

  it("covers each kind of fix", () => {
    for (const rule of ["dropping-column", "renaming-column", "renaming-table", "adding-not-nullable-column", "adding-index-non-concurrently"]) {
      expect(seen, rule).toContain(rule);
    }
  });
});

describe("fix contents", () => {
  it("wraps a removal and writes a post-deploy follow-up in the project's marker style", async () => {
    const dir = copyOf(path.join(FIXTURES, "example-project"));
    const { result } = await analyze(["."], { cwd: dir });
    const drop = result.diagnostics.find((d) => d.rule === "dropping-column");
    expect(drop?.fix?.applicability).toBe("safe");
    const created = drop?.fix?.newFiles ?? [];
    expect(created.map((f) => path.relative(dir, f.file))).toEqual(["library/migrations/0007_drop_book_subtitle.py"]);
    expect(created[0]?.content).toContain("stage = Stage.POST_DEPLOY");
    expect(created[0]?.content).toContain('("library", "0006_author_display_name")');
    expect(created[0]?.content).toContain(`'ALTER TABLE "library_book" DROP COLUMN IF EXISTS "subtitle"'`);
  });

  it("without a marker convention, only wraps the removal and says what is left", async () => {
    const dir = path.join(FIXTURES, "rules/dropping-column/bad/basic");
    const { result } = await analyze(["."], { cwd: dir });
    const fix = result.diagnostics.find((d) => d.rule === "dropping-column")?.fix;
    expect(fix?.newFiles ?? []).toEqual([]);
    expect(fix?.title).toMatch(/later migration marked post-deploy/);
  });

  it("offers no db_default before Django 5.0", async () => {
    const dir = path.join(FIXTURES, "example-project");
    const { result } = await analyze(["."], { cwd: dir, target: { django: [4, 2] } });
    const finding = result.diagnostics.find((d) => d.rule === "adding-not-nullable-column");
    expect(finding).toBeDefined();
    expect(finding?.fix).toBeUndefined();
  });

  it("moves an AddIndex that shares its migration into a new non-atomic migration", async () => {
    const dir = copyOf(path.join(FIXTURES, "integration/index-fix"));
    const { result } = await analyze(["."], { cwd: dir, rules: RULES });
    const index = result.diagnostics.filter((d) => d.rule === "adding-index-non-concurrently");
    expect(index).toHaveLength(1);
    const created = index[0]?.fix?.newFiles?.[0];
    expect(path.relative(dir, created?.file ?? "")).toBe("library/migrations/0003_book_title_idx_concurrently.py");
    expect(created?.content).toContain("atomic = False");
    expect(created?.content).toContain("AddIndexConcurrently(");
    expect(created?.content).toContain('("library", "0002_book_isbn_and_index")');
  });

  it("--fix loop applies safe fixes only, and only writes the files it reports", async () => {
    const dir = copyOf(path.join(FIXTURES, "example-project"));
    const run = await runFixLoop(["."], { cwd: dir });
    expect(run.written.map((f) => path.relative(dir, f))).toEqual(["library/migrations/0003_remove_book_subtitle.py", "library/migrations/0007_drop_book_subtitle.py"]);
    expect(run.fixed).toBe(1);
    expect(run.analysis.result.diagnostics.some((d) => d.rule === "dropping-column")).toBe(false);
    // The unsafe ones (they need models.py too) are left alone.
    expect(readFileSync(path.join(dir, "library/migrations/0002_book_isbn.py"), "utf8")).not.toContain("db_default=\"\"");
    const unsafe = await runFixLoop(["."], { cwd: dir }, { unsafe: true });
    expect(unsafe.fixed).toBe(3);
    expect(unsafe.analysis.result.diagnostics.filter((d) => d.fix)).toEqual([]);
  });

  it("never writes outside the working directory", async () => {
    const dir = copyOf(path.join(FIXTURES, "example-project"));
    const inner = path.join(dir, "library");
    const { result } = await analyze([dir], { cwd: path.join(dir, "shop") });
    const drop = result.diagnostics.find((d) => d.rule === "dropping-column") as Diagnostic;
    const pass = await applyFixes([drop], path.join(dir, "shop"));
    expect(pass.applied).toEqual([]);
    expect(pass.skipped[0]?.reason).toMatch(/outside the working directory/);
    expect(existsSync(path.join(inner, "migrations/0007_drop_book_subtitle.py"))).toBe(false);
  });

  it("diff output is a unified diff per fixable finding", async () => {
    const dir = path.join(FIXTURES, "example-project");
    const { result } = await analyze(["."], { cwd: dir });
    const text = await renderFixDiffs(result.diagnostics, dir);
    await expect(text).toMatchFileSnapshot("./__snapshots__/example-project.diff");
  });

  it("refuses overlapping edits", () => {
    expect(() =>
      applyEdits("abcdef", [
        { file: "f", startOffset: 1, endOffset: 3, text: "x" },
        { file: "f", startOffset: 2, endOffset: 4, text: "y" },
      ]),
    ).toThrow(/overlapping/);
  });
});
