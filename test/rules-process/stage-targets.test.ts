/**
 * Process rules under non-default targets and runs: the configured default stage, other
 * engines, runner-set timeouts, and a partial run (`--base`) that checks only some files.
 */
import { cpSync, mkdtempSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { lint } from "../../src/index.js";
import { rules } from "../../rules/index.js";
import { FIXTURES } from "../support/fixture-cases.js";

function project(files: Record<string, string>): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), "rollsafe-process-"));
  cpSync(path.join(FIXTURES, "docs-setup"), dir, { recursive: true });
  for (const [name, body] of Object.entries(files)) writeFileSync(path.join(dir, "library/migrations", name), body);
  return dir;
}

const migration = (deps: string[], ops: string[], extra = "") =>
  `from django.db import migrations, models\n\n\nclass Migration(migrations.Migration):\n${extra}    dependencies = [${deps.map((d) => `("library", "${d}")`).join(", ")}]\n    operations = [\n${ops.map((o) => `        ${o},`).join("\n")}\n    ]\n`;

const ADD = 'migrations.AddField("book", "isbn", models.CharField(max_length=20, null=True))';
const REMOVE = 'migrations.RemoveField("book", "subtitle")';
const rule = (name: string) => rules.filter((r) => r.meta.name === name);

describe("deploy-stage rules with default-stage = post", () => {
  it("treats an unmarked migration as post-deploy: additions are reported, drops are not", async () => {
    const dir = project({ "0002_isbn.py": migration(["0001_initial"], [ADD]), "0003_drop.py": migration(["0002_isbn"], [REMOVE]) });
    const result = await lint([dir], { cwd: dir, target: { defaultStage: "post" }, startAfter: { library: "0001_initial" } });
    expect(result.diagnostics.map((d) => `${d.file}:${d.line} ${d.rule}`)).toEqual(["library/migrations/0002_isbn.py:7 adding-in-post-deploy-migration"]);
    expect(result.diagnostics[0]?.message).toContain("the configured `default-stage`");
  });

  it("reports a mixed unmarked migration once, as mixing-deploy-stages", async () => {
    const dir = project({ "0002_mixed.py": migration(["0001_initial"], [ADD, REMOVE]) });
    const result = await lint([dir], { cwd: dir, target: { defaultStage: "post" }, startAfter: { library: "0001_initial" } });
    expect(result.diagnostics.map((d) => d.rule)).toEqual(["mixing-deploy-stages"]);
    expect(result.diagnostics[0]?.related?.[0]?.message).toContain("`RemoveField` of `book.subtitle`");
  });

  it("reports an explicitly pre-deploy migration that depends on an unmarked (post) one", async () => {
    const dir = project({
      "0002_drop.py": migration(["0001_initial"], [REMOVE]),
      "0003_isbn.py": migration(["0002_drop"], [ADD], "    stage = Stage.PRE_DEPLOY\n"),
    });
    const result = await lint([dir], { cwd: dir, target: { defaultStage: "post" }, startAfter: { library: "0001_initial" } });
    const inversion = result.diagnostics.filter((d) => d.rule === "depending-on-post-deploy-migration");
    expect(inversion.map((d) => `${d.file}:${d.line}`)).toEqual(["library/migrations/0003_isbn.py:6"]);
    expect(inversion[0]?.help[0]).toContain("the configured `default-stage`");
  });
});

describe("targets", () => {
  it("checks identifier lengths on PostgreSQL only", async () => {
    const long = "x".repeat(64);
    const dir = project({ "0002_long.py": migration(["0001_initial"], [`migrations.AddField("book", "x", models.TextField(null=True, db_column="${long}"))`]) });
    const pg = await lint([dir], { cwd: dir });
    expect(pg.diagnostics.map((d) => d.rule)).toEqual(["naming-identifier-too-long"]);
    const mysql = await lint([dir], { cwd: dir, target: { database: "mysql" }, rules: rule("naming-identifier-too-long") });
    expect(mysql.diagnostics).toEqual([]);
  });

  it("does not ask for a lock_timeout when the runner sets it", async () => {
    const dir = project({ "0002_isbn.py": migration(["0001_initial"], [ADD]) });
    const selected = rule("running-ddl-without-lock-timeout");
    expect((await lint([dir], { cwd: dir, rules: selected })).diagnostics.map((d) => d.rule)).toEqual(["running-ddl-without-lock-timeout"]);
    expect((await lint([dir], { cwd: dir, rules: selected, target: { timeoutsSetByRunner: true } })).diagnostics).toEqual([]);
    // MySQL's own timeout for metadata locks (lock_wait_timeout), and the runner's there too.
    expect((await lint([dir], { cwd: dir, rules: selected, target: { database: "mysql" } })).diagnostics.map((d) => d.rule)).toEqual(["running-ddl-without-lock-timeout"]);
    expect((await lint([dir], { cwd: dir, rules: selected, target: { database: "mysql", timeoutsSetByRunner: true } })).diagnostics).toEqual([]);
    expect((await lint([dir], { cwd: dir, rules: selected, target: { database: "sqlite" } })).diagnostics).toEqual([]);
  });
});

describe("multiple-leaf-migrations in a partial run", () => {
  const files = {
    "0002_a.py": migration(["0001_initial"], []),
    "0002_b.py": migration(["0001_initial"], []),
  };

  it("reports at the checked leaf when only one leaf is checked", async () => {
    const dir = project(files);
    const result = await lint([dir], { cwd: dir, reportFilter: (p) => p.endsWith("0002_a.py") });
    expect(result.diagnostics.map((d) => `${d.file} ${d.rule}`)).toEqual(["library/migrations/0002_a.py multiple-leaf-migrations"]);
    expect(result.diagnostics[0]?.help[1]).toContain('("library", "0002_b")');
  });

  it("is silent when no leaf is among the checked files", async () => {
    const dir = project(files);
    const result = await lint([dir], { cwd: dir, reportFilter: (p) => p.endsWith("0001_initial.py") });
    expect(result.diagnostics).toEqual([]);
  });
});
