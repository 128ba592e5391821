/**
 * The real-world corpus (issue 5): every migration shipped by Debian's Django app packages, and by
 * the Django projects Debian ships (debusine, lava-server, mini-buildd ...), goes through the real
 * CLI. rollsafe must not crash, report no internal error, report a parse error only where Python
 * itself rejects the file, and its findings per rule are kept as a snapshot so any change in
 * behaviour shows in review.
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
  PROJECT_PACKAGES,
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
/**
 * One rollsafe run: the packages it checks, those whose findings it contributes (a project's run
 * also reads Django's apps, whose findings the apps' run already has), what it printed and how
 * many migrations it read.
 */
interface CorpusRun {
  name: string;
  packages: CorpusPackage[];
  own: CorpusPackage[];
  run: CliRun;
  diagnostics: JsonDiagnostic[];
  migrations: number | undefined;
}

let runs: CorpusRun[];
/** The findings of every run on its own packages. */
let diagnostics: JsonDiagnostic[];

beforeAll(async () => {
  corpus = await loadCorpus({ projects: true });
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
    expect(withApps.length).toBeGreaterThanOrEqual(47);
    expect(migrationFiles.length).toBeGreaterThan(500);
  });

  it("every migration is valid Python (so any parse-error is rollsafe's fault)", () => {
    expect(Object.fromEntries(invalidPython)).toEqual({});
  });

});

describe("rollsafe check over the Debian corpus", () => {
  beforeAll(async () => {
    // The apps (reusable, installed side by side) in one run; each Django project in its own,
    // with Django's apps, as its repository would be checked (two projects may each have an app
    // labelled `db`).
    const apps = corpus.filter((pkg) => !PROJECT_PACKAGES.has(pkg.name));
    const django = corpus.filter((pkg) => pkg.name === "python3-django");
    const groups = [
      { name: "the apps", packages: apps, own: apps },
      ...corpus.filter((pkg) => PROJECT_PACKAGES.has(pkg.name)).map((pkg) => ({ name: pkg.name, packages: [...django, pkg], own: [pkg] })),
    ];
    runs = [];
    for (const group of groups) {
      // The packages' dist-packages directories, not their roots: rollsafe (rightly) does not descend
      // into a dist-packages directory it meets while walking, as that is installed third-party code.
      const run = await runRollsafe(["check", ...group.packages.map((pkg) => pkg.sitePackages), "--format", "json"]);
      let parsed: unknown;
      try {
        parsed = JSON.parse(run.stdout);
      } catch {
        throw new Error(`rollsafe check of ${group.name} exited ${run.code} without JSON output; stderr: ${run.stderr.trim()}`);
      }
      const result = parsed as { diagnostics?: JsonDiagnostic[]; summary?: { migrations?: number } };
      runs.push({ ...group, run, diagnostics: result.diagnostics ?? [], migrations: result.summary?.migrations });
    }
    diagnostics = runs.flatMap(({ own, diagnostics: found }) => found.filter((d) => own.some((pkg) => absolute(d.file).startsWith(pkg.root + path.sep))));
  });

  it("exits 0 or 1 without a stack trace", () => {
    for (const { name, run } of runs) {
      expect(run.stderr, name).not.toMatch(STACK_TRACE_LINE);
      expect([0, 1], `${name}: exit ${run.code}; stderr: ${run.stderr.trim()}`).toContain(run.code);
    }
  });

  it("reads every migration module Django would load, and nothing else", async () => {
    // Django's own django/db/migrations/ package (the framework) must not count as migrations.
    for (const { name, packages, migrations } of runs) {
      let expected = 0;
      for (const pkg of packages) for (const app of pkg.apps) expected += (await migrationModules(app.migrationsDir)).length;
      expect(migrations, name).toBe(expected);
    }
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

  it("reports only on the files of the packages each run checks", () => {
    for (const { name, packages, diagnostics: found } of runs) {
      const outside = found.filter((d) => !packages.some((pkg) => absolute(d.file).startsWith(pkg.root + path.sep)));
      expect(outside.map((d) => `${d.file}: ${d.rule}`), name).toEqual([]);
    }
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
