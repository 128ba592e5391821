/**
 * The real-world corpus (issue 5): every migration shipped by Debian's Django app packages goes
 * through the real CLI. rollsafe must not crash, report no internal error, report a parse error
 * only where Python itself rejects the file, and its findings per rule are kept as a snapshot so
 * any change in behaviour shows in review.
 *
 * Needs apt (the packages are fetched with `apt-get download`, see scripts/debian-corpus.mjs) and
 * Debian's /usr/bin/python3. Run with `npm run test:corpus`.
 */
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import {
  type CliRun,
  type CorpusPackage,
  loadCorpus,
  migrationModules,
  pythonSyntaxErrors,
  REPO_ROOT,
  runRollsafe,
  STACK_TRACE_LINE,
} from "./corpus-support.js";

/** The fields of a JSON diagnostic this test relies on (src/model/types.ts `Diagnostic`). */
interface JsonDiagnostic {
  rule: string;
  code: string;
  file: string;
  line: number;
  message: string;
}

let corpus: CorpusPackage[];
let migrationFiles: string[];
let invalidPython: Map<string, string>;
let run: CliRun;
let diagnostics: JsonDiagnostic[];
let summary: { files?: number; migrations?: number } | undefined;

beforeAll(async () => {
  corpus = await loadCorpus();
  migrationFiles = [];
  for (const pkg of corpus) {
    for (const app of pkg.apps) migrationFiles.push(...(await migrationModules(app.migrationsDir)));
  }
  invalidPython = await pythonSyntaxErrors(migrationFiles);
});

/** Absolute path of a diagnostic's file (the JSON gives it relative to the working directory). */
function absolute(file: string): string {
  return path.resolve(REPO_ROOT, file);
}

describe("Debian corpus", () => {
  it("holds the packages and migrations it is meant to", () => {
    const withApps = corpus.filter((pkg) => pkg.apps.length > 0).map((pkg) => pkg.name);
    expect(withApps).toEqual(corpus.map((pkg) => pkg.name));
    expect(withApps.length).toBeGreaterThanOrEqual(37);
    expect(migrationFiles.length).toBeGreaterThan(220);
  });

  it("every migration is valid Python (so any parse-error is rollsafe's fault)", () => {
    expect(Object.fromEntries(invalidPython)).toEqual({});
  });

});

describe("rollsafe check over the Debian corpus", () => {
  beforeAll(async () => {
    // The packages' dist-packages directories, not their roots: rollsafe (rightly) does not descend
    // into a dist-packages directory it meets while walking, as that is installed third-party code.
    run = await runRollsafe(["check", ...corpus.map((pkg) => pkg.sitePackages), "--format", "json"]);
    let parsed: unknown;
    try {
      parsed = JSON.parse(run.stdout);
    } catch {
      throw new Error(`rollsafe check exited ${run.code} without JSON output; stderr: ${run.stderr.trim()}`);
    }
    const result = parsed as { diagnostics?: JsonDiagnostic[]; summary?: { migrations?: number } };
    diagnostics = (Array.isArray(parsed) ? (parsed as JsonDiagnostic[]) : result.diagnostics) ?? [];
    summary = Array.isArray(parsed) ? undefined : result.summary;
  });

  it("exits 0 or 1 without a stack trace", () => {
    expect(run.stderr).not.toMatch(STACK_TRACE_LINE);
    expect([0, 1], `exit ${run.code}; stderr: ${run.stderr.trim()}`).toContain(run.code);
  });

  it("reads every migration module Django would load, and nothing else", () => {
    // Django's own django/db/migrations/ package (the framework) must not count as migrations.
    expect(summary?.migrations).toBe(migrationFiles.length);
  });

  it("reports no internal error", () => {
    const internal = diagnostics.filter((d) => d.rule === "internal-error" || d.code === "internal-error");
    expect(internal.map((d) => `${d.file}:${d.line}: ${d.message}`)).toEqual([]);
  });

  it("reports a parse error only on files Python rejects", () => {
    const parseErrors = diagnostics.filter((d) => d.rule === "parse-error" && !invalidPython.has(absolute(d.file)));
    expect(parseErrors.map((d) => `${d.file}:${d.line}: ${d.message}`)).toEqual([]);
  });

  it("reports I/O errors only on Python files (it has no business opening static assets)", () => {
    // Debian packages hold dangling symlinks to assets shipped by other packages (jquery.js,
    // fonts); rollsafe reads .py files only, so those must not become io-error findings.
    const nonPython = diagnostics.filter((d) => d.rule === "io-error" && !d.file.endsWith(".py"));
    expect(nonPython.map((d) => `${d.file}: ${d.message}`)).toEqual([]);
  });

  it("reports only on the corpus's own files", () => {
    const roots = corpus.map((pkg) => pkg.root + path.sep);
    const outside = diagnostics.filter((d) => !roots.some((root) => absolute(d.file).startsWith(root)));
    expect(outside.map((d) => `${d.file}: ${d.rule}`)).toEqual([]);
  });

  it("keeps the findings per rule, per package, as a snapshot", async () => {
    const perRule: Record<string, number> = {};
    const perPackage: Record<string, Record<string, number>> = {};
    for (const d of diagnostics) {
      perRule[d.rule] = (perRule[d.rule] ?? 0) + 1;
      const pkg = corpus.find((p) => absolute(d.file).startsWith(p.root + path.sep));
      const bucket = (perPackage[pkg?.name ?? "(outside the corpus)"] ??= {});
      bucket[d.rule] = (bucket[d.rule] ?? 0) + 1;
    }
    const snapshot = {
      migrations: migrationFiles.length,
      findings: diagnostics.length,
      perRule: sortKeys(perRule),
      perPackage: Object.fromEntries(
        Object.keys(perPackage)
          .sort()
          .map((name) => [name, sortKeys(perPackage[name] ?? {})]),
      ),
    };
    await expect(`${JSON.stringify(snapshot, null, 2)}\n`).toMatchFileSnapshot("__snapshots__/corpus-findings.json");
  });
});

function sortKeys(counts: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(counts).sort(([a], [b]) => a.localeCompare(b)));
}
