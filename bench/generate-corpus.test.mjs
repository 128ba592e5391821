// Checks of the benchmark's corpus generator and statistics (issue 7). Nothing here is timed.
import { spawnSync } from "node:child_process";
import crypto from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import Parser from "tree-sitter";
import Python from "tree-sitter-python";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { corpusSpecFor, generateProject } from "./generate-corpus.mjs";
import { cpuReading, linearFit, median, otherCpuShare } from "./measure.mjs";
import { findMigrationFiles } from "./parse-limit.mjs";

const BENCH_DIR = path.dirname(fileURLToPath(import.meta.url));
const PYTHON = "/usr/bin/python3";
const djangoAvailable = spawnSync(PYTHON, ["-c", "import django"], { encoding: "utf8" }).status === 0;

function treeDigest(dir) {
  const hash = crypto.createHash("sha256");
  const walk = (d) => {
    for (const name of fs.readdirSync(d).sort()) {
      const full = path.join(d, name);
      if (fs.statSync(full).isDirectory()) walk(full);
      else hash.update(`${path.relative(dir, full)}\0${fs.readFileSync(full)}\0`);
    }
  };
  walk(dir);
  return hash.digest("hex");
}

/** Top-level operations: the calls indented one level inside `operations = [`. */
function operationKinds(source) {
  const body = source.slice(source.indexOf("    operations = ["));
  return [...body.matchAll(/^ {8}([\w.]+)\($/gm)].map((m) => m[1].replace(/^migrations\./, ""));
}

describe("generate-corpus", () => {
  let tmp;
  let manifest;
  let dir;

  beforeAll(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), "rollsafe-bench-test-"));
    dir = path.join(tmp, "a");
    manifest = generateProject({ out: dir, apps: 14, migrations: 40, seed: 5 });
  });
  afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it("writes exactly apps × migrations migration files, plus the package files", () => {
    expect(manifest.files).toBe(14 * 40);
    const files = findMigrationFiles(dir);
    expect(files.filter((f) => !f.endsWith("__init__.py"))).toHaveLength(14 * 40);
    for (const app of fs.readdirSync(dir).filter((d) => fs.existsSync(path.join(dir, d, "migrations")))) {
      expect(fs.existsSync(path.join(dir, app, "__init__.py"))).toBe(true);
      expect(fs.readFileSync(path.join(dir, app, "apps.py"), "utf8")).toContain(`name = '${app}'`);
      expect(fs.existsSync(path.join(dir, app, "migrations", "0001_initial.py"))).toBe(true);
    }
  });

  it("is deterministic for a seed and differs across seeds", () => {
    const again = path.join(tmp, "b");
    generateProject({ out: again, apps: 14, migrations: 40, seed: 5 });
    expect(treeDigest(again)).toBe(treeDigest(dir));
    const other = path.join(tmp, "c");
    generateProject({ out: other, apps: 14, migrations: 40, seed: 6 });
    expect(treeDigest(other)).not.toBe(treeDigest(dir));
  });

  it("writes Python that tree-sitter parses without errors", () => {
    const parser = new Parser();
    parser.setLanguage(Python);
    const broken = findMigrationFiles(dir).filter((f) => parser.parse(fs.readFileSync(f, "utf8")).rootNode.hasError);
    expect(broken).toEqual([]);
  });

  it("follows the operation mix of issue 7", () => {
    const counts = new Map();
    for (const file of findMigrationFiles(dir)) {
      const source = fs.readFileSync(file, "utf8");
      if (source.includes("    replaces = [")) continue;
      for (const kind of operationKinds(source)) counts.set(kind, (counts.get(kind) ?? 0) + 1);
    }
    const total = [...counts.values()].reduce((a, b) => a + b, 0);
    const share = (kind) => (100 * (counts.get(kind) ?? 0)) / total;
    expect(total).toBeGreaterThan(1000);
    expect(share("AlterField")).toBeGreaterThan(24);
    expect(share("AlterField")).toBeLessThan(36);
    expect(share("AddField")).toBeGreaterThan(22);
    expect(share("AddField")).toBeLessThan(34);
    expect(share("CreateModel")).toBeGreaterThan(9);
    expect(share("CreateModel")).toBeLessThan(21);
    for (const kind of ["RunPython", "RemoveField"]) {
      expect(share(kind)).toBeGreaterThan(3);
      expect(share(kind)).toBeLessThan(9);
    }
    for (const kind of ["AddIndex", "RunSQL", "AlterUniqueTogether", "AddConstraint", "RenameField", "DeleteModel", "SeparateDatabaseAndState", "BackfillOp"]) {
      expect(counts.get(kind) ?? 0, kind).toBeGreaterThan(0);
    }
  });

  it("writes squashed migrations, cross-app dependencies and swappable dependencies", () => {
    const sources = findMigrationFiles(dir).map((f) => [f, fs.readFileSync(f, "utf8")]);
    const squashes = sources.filter(([f]) => /_squashed_/.test(f));
    expect(squashes.length).toBeGreaterThan(0);
    for (const [, text] of squashes) expect(text).toMatch(/replaces = \[\n\s+\(['"]\w+['"], ['"]0001_initial['"]\),/);
    const crossApp = sources.filter(([f, text]) => {
      const app = path.basename(path.dirname(path.dirname(f)));
      return [...text.matchAll(/^ {8}\(['"](\w+)['"], ['"]\w+['"]\),$/gm)].some((m) => m[1] !== app);
    });
    expect(crossApp.length).toBeGreaterThan(0);
    expect(sources.some(([, text]) => text.includes("migrations.swappable_dependency(settings.AUTH_USER_MODEL)"))).toBe(true);
    expect(sources.some(([, text]) => text.includes("from myproject.ops import BackfillOp"))).toBe(true);
    expect(sources.some(([, text]) => /^def \w+\(apps, schema_editor\):$/m.test(text))).toBe(true);
  });

  it.skipIf(!djangoAvailable)("is consistent for Django's MigrationLoader, squashed and unsquashed", () => {
    const run = spawnSync(PYTHON, [path.join(BENCH_DIR, "validate-corpus.py"), dir], { encoding: "utf8" });
    expect(run.stderr.trim()).toBe("");
    expect(run.status).toBe(0);
    expect(JSON.parse(run.stdout).migrations).toBe(14 * 40);
  });

  it("picks N × M splits that give the benchmark sizes", () => {
    for (const files of [1000, 5000, 20000]) {
      const { apps, migrations } = corpusSpecFor(files);
      expect(apps * migrations).toBe(files);
    }
  });
});

describe("measure statistics", () => {
  it("takes the median of odd and even lists, ignoring non-numbers", () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([5, NaN, 1, 3])).toBe(3);
  });

  it("fits a line exactly through collinear points", () => {
    const fit = linearFit([
      [1000, 300],
      [5000, 1100],
      [20000, 4100],
    ]);
    expect(fit.slope).toBeCloseTo(0.2, 10);
    expect(fit.intercept).toBeCloseTo(100, 8);
    expect(fit.r2).toBeCloseTo(1, 10);
  });

  it("counts other processes' CPU time, not the benchmark's own runs", () => {
    // Between the readings the machine was busy 1,500 ms, 500 of them this process and its children:
    // the other 1,000 ms over 1 s of 2 cores is half the machine.
    const start = { at: 0, busyMs: 1000, ownMs: 100 };
    expect(otherCpuShare(start, { at: 1000, busyMs: 2500, ownMs: 600 }, 2)).toBeCloseTo(0.5, 10);
    // Only our own work: nothing shared (rounding of the tick counts never makes it negative).
    expect(otherCpuShare(start, { at: 1000, busyMs: 1490, ownMs: 600 }, 2)).toBe(0);
    expect(otherCpuShare(start, null, 2)).toBeNull();
    expect(otherCpuShare(start, start, 2)).toBeNull();
  });

  it.runIf(process.platform === "linux")("reads the machine's and its own CPU time from /proc, and its children's once waited for", () => {
    const before = cpuReading();
    expect(before).not.toBeNull();
    const child = spawnSync(process.execPath, ["-e", "const t = Date.now(); while (Date.now() - t < 300) {}"]);
    expect(child.status).toBe(0);
    const after = cpuReading();
    // The child's 300 ms of CPU count as this process's own (ticks are 10 ms).
    expect(after.ownMs - before.ownMs).toBeGreaterThanOrEqual(250);
    expect(after.busyMs - before.busyMs).toBeGreaterThanOrEqual(after.ownMs - before.ownMs - 20);
  });
});
