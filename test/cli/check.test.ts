import { cpSync, mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { runCli } from "../support/run-cli.js";

const EXAMPLE = "fixtures/example-project";

describe("rollsafe check (end to end)", () => {
  it("reports the example project's unsafe migrations with advice, exit 1", async () => {
    const run = runCli(["check", EXAMPLE]);
    expect(run.code).toBe(1);
    expect(run.stderr).toBe("");
    await expect(run.stdout).toMatchFileSnapshot("__snapshots__/example-project.txt");
  });

  it("prints one JSON document with the documented shape", () => {
    const run = runCli(["check", EXAMPLE, "--format", "json"]);
    expect(run.code).toBe(1);
    const doc = JSON.parse(run.stdout);
    expect(doc.version).toBe(1);
    expect(Object.keys(doc.summary).sort()).toEqual(["errors", "files", "migrations", "warnings"]);
    expect(doc.summary.errors).toBe(doc.diagnostics.filter((d: { severity: string }) => d.severity === "error").length);
    for (const d of doc.diagnostics) {
      for (const key of ["code", "rule", "severity", "file", "line", "column", "endLine", "endColumn", "message", "help", "migration"]) {
        expect(d, key).toHaveProperty(key);
      }
      expect(d.file).not.toContain("\\");
      expect(d.file.startsWith(EXAMPLE)).toBe(true);
      expect(["error", "warning"]).toContain(d.severity);
      expect(Array.isArray(d.help)).toBe(true);
      expect(d.migration).toMatch(/^[a-z_]+\.\d{4}_\w+$/);
      expect(d.line).toBeGreaterThanOrEqual(1);
      expect(d.endLine).toBeGreaterThanOrEqual(d.line);
    }
    const rules = doc.diagnostics.map((d: { rule: string }) => d.rule).sort();
    expect(rules).toEqual([
      "adding-not-nullable-column",
      "dropping-column",
      "removing-not-null-column-from-state",
      "renaming-column",
      "renaming-table",
      "reversing-migration-fails",
      "setting-column-not-null",
    ]);
  });

  it("uses the app label from apps.py in migration ids", () => {
    const doc = JSON.parse(runCli(["check", EXAMPLE, "--format", "json"]).stdout);
    const shop = doc.diagnostics.find((d: { file: string }) => d.file.includes("/shop/"));
    expect(shop.migration).toBe("store.0003_remove_order_note_state");
  });

  it("reports only the files given, with state from their whole app", () => {
    const file = `${EXAMPLE}/library/migrations/0004_rename_title_headline.py`;
    const doc = JSON.parse(runCli(["check", file, "--format", "json"]).stdout);
    expect(doc.summary.files).toBe(1);
    expect(doc.diagnostics.map((d: { rule: string; file: string }) => `${d.file} ${d.rule}`)).toEqual([`${file} renaming-column`]);
    // The message needs the state from 0001: the column name comes from there.
    expect(doc.diagnostics[0].message).toContain("`library_book.title`");
  });

  it("exits 0 with a summary on a clean project", () => {
    const run = runCli(["check", `${EXAMPLE}/library/migrations/0006_author_display_name.py`]);
    expect(run.code).toBe(0);
    expect(run.stdout).toBe("Checked 1 migration: no problems found.\n");
  });

  it("exits 2 with one line for an unknown format", () => {
    const run = runCli(["check", EXAMPLE, "--format", "yaml"]);
    expect(run.code).toBe(2);
    expect(run.stderr.trim().split("\n")).toHaveLength(1);
    expect(run.stderr).toContain("unknown --format `yaml`");
    expect(run.stdout).toBe("");
  });

  it("exits 2 with one line for a path that does not exist, and still checks the others", () => {
    const run = runCli(["check", "no/such/dir", `${EXAMPLE}/library`, "--format", "json"]);
    expect(run.code).toBe(2);
    expect(run.stderr).toBe("rollsafe: no/such/dir: no such file or directory\n");
    expect(JSON.parse(run.stdout).summary.migrations).toBe(6);
  });

  it("exits 2 for an unknown option or command, without a stack trace", () => {
    for (const args of [["check", "--nope"], ["frobnicate"]]) {
      const run = runCli(args);
      expect(run.code).toBe(2);
      expect(run.stderr).not.toMatch(/\n\s+at /);
    }
  });

  it("reports a syntax error as a parse-error diagnostic with its location", () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), "rollsafe-cli-"));
    cpSync(path.resolve(EXAMPLE, "library"), path.join(dir, "library"), { recursive: true });
    writeFileSync(path.join(dir, "library/migrations/0007_broken.py"), "from django.db import migrations\n\nclass Migration(migrations.Migration:\n    operations = []\n");
    const run = runCli(["check", "library/migrations/0007_broken.py", "--format", "json"], { cwd: dir });
    expect(run.code).toBe(1);
    const [d] = JSON.parse(run.stdout).diagnostics;
    expect(d).toMatchObject({ rule: "parse-error", code: "RS001", file: "library/migrations/0007_broken.py", line: 3, message: "Syntax error: expected `)`; this file is not valid Python." });
  });

  it("keeps columns right on lines with non-ASCII text", () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), "rollsafe-cli-"));
    mkdirSync(path.join(dir, "café/migrations"), { recursive: true });
    writeFileSync(path.join(dir, "café/__init__.py"), "");
    writeFileSync(path.join(dir, "café/migrations/__init__.py"), "");
    writeFileSync(
      path.join(dir, "café/migrations/0001_initial.py"),
      'from django.db import migrations, models\n\nclass Migration(migrations.Migration):\n    operations = [migrations.CreateModel("Crème", [("id", models.AutoField(primary_key=True)), ("brûlée", models.TextField(verbose_name="ünïcödé 😀"))])]\n',
    );
    writeFileSync(
      path.join(dir, "café/migrations/0002_drop.py"),
      'from django.db import migrations\n\nclass Migration(migrations.Migration):\n    dependencies = [("café", "0001_initial")]\n    operations = [migrations.AddField("crème", "x", migrations.Foo()), migrations.RemoveField("crème", "brûlée")]  # ✓ é\n',
    );
    const doc = JSON.parse(runCli(["check", ".", "--format", "json"], { cwd: dir }).stdout);
    const drop = doc.diagnostics.find((d: { rule: string }) => d.rule === "dropping-column");
    const line = 'operations = [migrations.AddField("crème", "x", migrations.Foo()), migrations.RemoveField("crème", "brûlée")]';
    expect(drop.column).toBe(5 + line.indexOf("migrations.RemoveField"));
    expect(drop.endColumn).toBe(5 + line.indexOf(")]") + 1);
    expect(drop.file).toBe("café/migrations/0002_drop.py");
  });

  it("writes the same bytes when stdout is a file (`> report`) as through a pipe, in every streamed format", () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), "rollsafe-cli-"));
    for (const format of ["text", "json"]) {
      const piped = runCli(["check", EXAMPLE, "--format", format, "--no-cache"]);
      const result = runCli(["check", EXAMPLE, "--format", format, "--no-cache"], { stdoutFile: path.join(dir, `report.${format}`) });
      expect(result.code).toBe(1);
      expect(piped.stdout.length).toBeGreaterThan(1000);
      expect(result.stdout).toBe(piped.stdout);
    }
  });
});

describe("rollsafe rules / explain", () => {
  it("lists every rule with its code", () => {
    const run = runCli(["rules"]);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^RS101 {2}dropping-column/m);
    expect(run.stdout).toMatch(/^RS105 {2}adding-not-nullable-column/m);
  });

  it("explains a rule by name or code", () => {
    const byName = runCli(["explain", "dropping-column"]);
    const byCode = runCli(["explain", "rs101"]);
    expect(byName.code).toBe(0);
    expect(byName.stdout).toBe(byCode.stdout);
    for (const heading of ["What it does", "Why it matters", "Safe recipe", "Flagged", "Instead"]) expect(byName.stdout).toContain(heading);
  });

  it("exits 2 with one line for an unknown rule", () => {
    const run = runCli(["explain", "no-such-rule"]);
    expect(run.code).toBe(2);
    expect(run.stderr).toBe("rollsafe: unknown rule `no-such-rule` (see `rollsafe rules`)\n");
  });
});
