// Checks of the large single migrations the benchmark measures (issue 7). Nothing here is timed.
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { LARGE_SHAPES, writeLargeMigration } from "./large-migrations.mjs";

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const PYTHON = "/usr/bin/python3";
const hasPython = spawnSync(PYTHON, ["-c", "0"]).status === 0;

describe("large-migrations", () => {
  it.each(LARGE_SHAPES.map((s) => [s.name]))("%s: valid Python, read by rollsafe without a parse error, every operation seen", (name) => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), `rollsafe-large-${name}-`));
    const migrations = writeLargeMigration(dir, name, 120);
    const files = fs.readdirSync(migrations).filter((f) => /^\d{4}_/.test(f));
    expect(files).toHaveLength(2);
    if (hasPython) {
      const check = spawnSync(PYTHON, ["-c", "import sys\nfor f in sys.argv[1:]: compile(open(f).read(), f, 'exec')", ...files.map((f) => path.join(migrations, f))], { encoding: "utf8" });
      expect(check.stderr).toBe("");
    }
    const run = spawnSync(process.execPath, [path.join(REPO, "bin/rollsafe.cjs"), "check", "--no-cache", "--format", "json", "."], { cwd: dir, encoding: "utf8" });
    const report = JSON.parse(run.stdout);
    expect(report.diagnostics.filter((d) => d.rule === "parse-error" || d.rule === "internal-error")).toEqual([]);
    const second = report.plan.preDeploy.concat(report.plan.postDeploy).find((s) => s.migration.startsWith("shop.0002"));
    expect(second.operations).toHaveLength(LARGE_SHAPES.find((s) => s.name === name).operations(120));
    // Written once: a second call with the same spec leaves the files alone.
    const before = fs.statSync(path.join(migrations, files[1])).mtimeMs;
    writeLargeMigration(dir, name, 120);
    expect(fs.statSync(path.join(migrations, files[1])).mtimeMs).toBe(before);
  });
});
