/**
 * The configuration and run flags through the real CLI (`bin/rollsafe.cjs` over `dist/`; run
 * `npx tsc -p tsconfig.json` first): exit codes, one-line errors, flags overriding the file.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { REPO, runCli } from "../support/run-cli.js";

const CONFIG = path.join(REPO, "fixtures/config");

interface JsonReport {
  diagnostics: { file: string; line: number; rule: string; severity: string; message: string }[];
}

function check(dir: string, args: string[] = []) {
  const run = runCli(["check", ".", "--format", "json", ...args], { cwd: path.join(CONFIG, dir) });
  const report = run.stdout ? (JSON.parse(run.stdout) as JsonReport) : { diagnostics: [] };
  return { ...run, found: report.diagnostics.map((d) => `${d.file}:${d.line} ${d.rule} ${d.severity}`) };
}

const DROP_PAGES = "project/library/migrations/0002_remove_pages.py:8 dropping-column";

describe("flags", () => {
  it("without configuration reports the default rules and fails on errors", () => {
    const run = check("basic", ["--no-config"]);
    expect(run.found).toEqual([`${DROP_PAGES} error`, "project/library/migrations/0003_backfill.py:10 unknown-operation warning"]);
    expect(run.code).toBe(1);
  });

  it("--select runs only the named rules (by code or name)", () => {
    expect(check("basic", ["--select", "RS101"]).found).toEqual([`${DROP_PAGES} error`]);
    expect(check("basic", ["--select", "unknown-operation"]).found).toEqual(["project/library/migrations/0003_backfill.py:10 unknown-operation warning"]);
  });

  it("--ignore leaves rules out; --fail-on decides the exit code", () => {
    const ignored = check("basic", ["--ignore", "dropping-column"]);
    expect(ignored.found).toEqual(["project/library/migrations/0003_backfill.py:10 unknown-operation warning"]);
    expect(ignored.code).toBe(0);
    expect(check("basic", ["--ignore", "dropping-column", "--fail-on", "warning"]).code).toBe(1);
    expect(check("basic", ["--fail-on", "never"]).code).toBe(0);
    expect(check("basic", ["--select", "unknown-operation", "--fail-on", "error"]).code).toBe(0);
  });

  it.each([
    [["--select", "nope"], "rollsafe: --select: unknown rule `nope` (`rollsafe rules` lists them)"],
    [["--ignore", "RS999"], "rollsafe: --ignore: unknown rule `RS999` (`rollsafe rules` lists them)"],
    [["--select", "RS101", "--ignore", "dropping-column"], "rollsafe: --select and --ignore both name `dropping-column`"],
    [["--database", "oracle"], "rollsafe: --database must be one of postgresql, mysql, sqlite, not `oracle`"],
    [["--postgres-version", "9"], "rollsafe: --postgres-version must be a PostgreSQL major version such as 15 (10 or later), not `9`"],
    [["--django", "four"], "rollsafe: --django must be a Django version such as 4.2, not `four`"],
    [["--fail-on", "info"], "rollsafe: --fail-on must be one of error, warning, never, not `info`"],
    [["--config", "missing.toml"], "rollsafe: missing.toml: cannot read the configuration file (it does not exist)"],
  ])("%j is one line on stderr and exit 2", (args, line) => {
    const run = check("basic", args);
    expect(run.stderr).toBe(`${line}\n`);
    expect(run.stdout).toBe("");
    expect(run.code).toBe(2);
  });
});

describe("configuration files", () => {
  it("finds [tool.rollsafe] in pyproject.toml by walking up from the checked path", () => {
    const run = runCli(["check", "project/library", "--format", "json"], { cwd: path.join(CONFIG, "pyproject") });
    const report = JSON.parse(run.stdout) as JsonReport;
    // severity = { dropping-column = "warning" } downgrades the finding, so the check passes.
    expect(report.diagnostics.map((d) => `${d.rule} ${d.severity}`)).toEqual(["dropping-column warning"]);
    expect(run.code).toBe(0);
  });

  it("flags override the file: --fail-on warning fails the downgraded finding; --no-config restores the default", () => {
    expect(check("pyproject", ["--fail-on", "warning"]).code).toBe(1);
    expect(check("pyproject", ["--no-config"]).found).toEqual([`${DROP_PAGES} error`]);
  });

  it("rollsafe config shows the resolved settings and the source of the Django version", () => {
    const run = runCli(["config", "project"], { cwd: path.join(CONFIG, "pyproject") });
    const shown = JSON.parse(run.stdout) as Record<string, unknown>;
    expect(shown).toMatchObject({
      config: "pyproject.toml",
      database: "postgresql",
      postgresVersion: 13,
      django: "4.2",
      djangoSource: { from: "pyproject.toml", requirement: "Django>=4.2,<5.1" },
      severity: { "dropping-column": "warning" },
      failOn: "error",
    });
    const flagged = JSON.parse(runCli(["config", "project", "--django", "5.0", "--postgres-version", "16", "--database", "mysql"], { cwd: path.join(CONFIG, "pyproject") }).stdout);
    expect(flagged).toMatchObject({ django: "5.0", djangoSource: { from: "--django" }, postgresVersion: 16, database: "mysql" });
  });

  it("detects Django from requirements/*.txt, at the lowest version the constraint allows", () => {
    const shown = JSON.parse(runCli(["config", "project"], { cwd: path.join(CONFIG, "requirements") }).stdout);
    expect(shown).toMatchObject({ config: null, django: "4.1", djangoSource: { from: "requirements/base.txt", requirement: "Django~=4.1.3" } });
  });

  it("custom operations: state-only, safe, same-as and unsafe", () => {
    const run = check("custom-operations");
    // Only the operation declared unsafe is reported; the state-only removal of the nullable
    // `subtitle` and the concurrent index in a non-atomic migration are fine.
    expect(run.found).toEqual(["project/library/migrations/0002_custom.py:15 unknown-operation warning"]);
    const report = JSON.parse(run.stdout) as JsonReport;
    expect(report.diagnostics[0]?.message).toBe("Cannot verify this operation: `DropEverything` is declared `unsafe` in the configuration.");
    const state = JSON.parse(runCli(["state", "project"], { cwd: path.join(CONFIG, "custom-operations") }).stdout);
    expect(JSON.stringify(state)).not.toContain('"subtitle"');
    expect(JSON.stringify(state)).toContain("book_title_idx");
  });

  it("start-after, exclude and exclude-apps leave migrations unreported", () => {
    const run = check("baseline");
    expect(run.found).toEqual(["project/library/migrations/0003_remove_subtitle.py:8 dropping-column error"]);
    // Without the configuration, the baselined and excluded migrations are reported.
    const all = check("baseline", ["--no-config"]);
    expect(all.found).toEqual([
      `${DROP_PAGES} error`,
      "project/library/migrations/0003_remove_subtitle.py:8 dropping-column error",
      "project/legacy/oldapp/migrations/0002_drop.py:8 dropping-table error",
      "project/vendored/migrations/0002_drop.py:8 dropping-column error",
      "project/vendored/migrations/0002_drop.py:8 reversing-migration-fails warning",
    ].sort());
  });

  it("require-suppression-reason reports an ignore without a reason (and it still suppresses)", () => {
    const run = check("suppression-reason");
    expect(run.found).toEqual(["project/library/migrations/0002_remove.py:8 missing-suppression-reason error"]);
    expect(run.code).toBe(1);
    expect(check("suppression-reason", ["--no-config"]).found).toEqual([]);
  });
});

describe("configuration errors: one line naming the file and the key, exit 2", () => {
  const dir = mkdtempSync(path.join(tmpdir(), "rollsafe-config-"));
  const cases: [string, string, string][] = [
    ["unknown key", 'databse = "mysql"\n', "`databse` is not a rollsafe setting (see docs/configuration.md)"],
    [
      "pyproject's table in rollsafe.toml",
      '[tool.rollsafe]\ndatabase = "mysql"\n',
      "`tool` is not a rollsafe setting: in rollsafe.toml the settings are at the top level, without pyproject.toml's `[tool.rollsafe]` header (see docs/configuration.md)",
    ],
    ["bad database", 'database = "oracle"\n', '`database` must be one of postgresql, mysql, sqlite, not "oracle"'],
    ["wrong type", "select = \"RS101\"\n", '`select` must be an array of strings, not "RS101"'],
    ["unknown rule in select", 'select = ["dropping-colum"]\n', '`select` names an unknown rule "dropping-colum" (`rollsafe rules` lists them)'],
    ["unknown rule in ignore", 'ignore = ["RS999"]\n', '`ignore` names an unknown rule "RS999" (`rollsafe rules` lists them)'],
    ["select and ignore", 'select = ["RS101"]\nignore = ["dropping-column"]\n', "`ignore` and `select` both name `dropping-column`"],
    ["severity value", '[severity]\ndropping-column = "fatal"\n', '`severity.dropping-column` must be one of error, warning, off, not "fatal"'],
    ["severity rule", '[severity]\nnope = "off"\n', '`severity.nope` names an unknown rule "nope" (`rollsafe rules` lists them)'],
    ["postgres version", "postgres-version = 9\n", "`postgres-version` must be a PostgreSQL major version such as 15 (10 or later), not 9"],
    ["django version string", 'django-version = "four"\n', '`django-version` must be a Django version such as "4.2", not "four"'],
    ["django version float", "django-version = 4.2\n", '`django-version` must be a string such as "4.2" (a number loses digits: 5.10 reads as 5.1)'],
    ["default stage", 'default-stage = "always"\n', '`default-stage` must be one of pre, post, not "always"'],
    ["boolean", 'require-suppression-reason = "yes"\n', '`require-suppression-reason` must be true or false, not "yes"'],
    ["exclude-apps", 'exclude-apps = ["not an app"]\n', '`exclude-apps` must list app labels; "not an app" is not one'],
    ["start-after", "[start-after]\nlibrary = 42\n", "`start-after.library` must be a string, not 42"],
    ["auth-user-model", 'auth-user-model = "User"\n', '`auth-user-model` must be "app_label.ModelName", like Django\'s AUTH_USER_MODEL, not "User"'],
    ["hot-tables type", 'hot-tables = "shop_order"\n', '`hot-tables` must be an array of strings, not "shop_order"'],
    ["large-tables entry", 'large-tables = ["shop order"]\n', '`large-tables` must list table names or "app_label.ModelName" entries; "shop order" is neither'],
    ["operation effect", '[operations."a.b.Op"]\neffect = "maybe"\n', '`operations."a.b.Op".effect` must be one of same, safe, state-only, database-only, unsafe, not "maybe"'],
    ["operation same-as", '[operations."a.b.Op"]\nsame-as = "DropColumn"\n', '`operations."a.b.Op".same-as` must name a built-in operation such as "AddIndexConcurrently" or "RemoveField", not "DropColumn"'],
    ["operation needs same-as", '[operations."a.b.Op"]\neffect = "state-only"\n', '`operations."a.b.Op".same-as` is missing: effect "state-only" needs the built-in operation it behaves like'],
    ["operation key", '[operations."a.b.Op"]\nkind = "safe"\n', '`operations."a.b.Op".kind` is not an operation setting (effect, same-as, params, note)'],
    ["migration-modules type", 'migration-modules = "dojo.db_migrations"\n', '`migration-modules` must be a table of app_label = "package.module" (as in MIGRATION_MODULES) or "directory", not "dojo.db_migrations"'],
    ["migration-modules label", '[migration-modules]\n"not a label" = "x"\n', '`migration-modules."not a label"` must be keyed by an app label'],
    ["invalid TOML", "database = \n", "1:12: invalid TOML: invalid value"],
  ];
  it.each(cases)("%s", (name, text, problem) => {
    const file = path.join(dir, `${name.replace(/\W+/g, "-")}.toml`);
    writeFileSync(file, text);
    const run = runCli(["check", ".", "--config", file], { cwd: path.join(CONFIG, "basic") });
    expect(run.stderr).toBe(problem.startsWith("1:") ? `rollsafe: ${file}:${problem}\n` : `rollsafe: ${file}: ${problem}\n`);
    expect(run.stdout).toBe("");
    expect(run.code).toBe(2);
  });

  it("keys of [tool.rollsafe] are named with their table", () => {
    const project = mkdtempSync(path.join(tmpdir(), "rollsafe-pyproject-"));
    writeFileSync(path.join(project, "pyproject.toml"), '[tool.rollsafe]\nfail_on = "warning"\n');
    const run = runCli(["check", "."], { cwd: project });
    expect(run.stderr).toBe("rollsafe: pyproject.toml: `tool.rollsafe.fail_on` is not a rollsafe setting (see docs/configuration.md)\n");
    expect(run.code).toBe(2);
  });

  it("a start-after migration that does not exist is named", () => {
    const file = path.join(dir, "start-after-missing.toml");
    writeFileSync(file, '[start-after]\nlibrary = "0009_nope"\n');
    const run = runCli(["check", ".", "--config", file], { cwd: path.join(CONFIG, "basic") });
    expect(run.stderr).toBe(`rollsafe: ${file}: \`start-after.library\` names \`0009_nope\`, which is not a migration of app \`library\`\n`);
    expect(run.code).toBe(2);
  });
});

describe("migration-modules: migrations Django loads from another package (MIGRATION_MODULES)", () => {
  const migration = (name: string, deps: string, ops: string) =>
    `from django.db import migrations, models\n\n\nclass Migration(migrations.Migration):\n    dependencies = [${deps}]\n    operations = [\n        ${ops},\n    ]\n`;
  const initial = migration("0001_initial", "", 'migrations.CreateModel(name="Endpoint", fields=[("id", models.AutoField(primary_key=True)), ("mitigated", models.BooleanField(null=True))])');
  const removal = migration("0002", '("dojo", "0001_initial")', 'migrations.RemoveField(model_name="endpoint", name="mitigated")');

  /** DefectDojo's layout: `dojo/db_migrations/`, and a stale `dojo/migrations/` Django does not load. */
  function project(config: string | null): string {
    const dir = mkdtempSync(path.join(tmpdir(), "rollsafe-migration-modules-"));
    const write = (file: string, text: string) => {
      mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
      writeFileSync(path.join(dir, file), text);
    };
    write("dojo/__init__.py", "");
    write("dojo/db_migrations/__init__.py", "");
    write("dojo/db_migrations/0001_initial.py", initial);
    write("dojo/db_migrations/0002_remove_endpoint_mitigated.py", removal);
    write("dojo/migrations/__init__.py", "");
    write("dojo/migrations/0001_initial.py", initial);
    write("dojo/migrations/0002_other.py", migration("0002", '("dojo", "0001_initial")', 'migrations.RemoveField(model_name="endpoint", name="id")'));
    if (config !== null) write("rollsafe.toml", config);
    return dir;
  }
  const findings = (dir: string, args: string[] = []) => {
    const run = runCli(["check", ...(args.length ? args : ["."]), "--format", "json", "--no-cache"], { cwd: dir });
    return { ...run, found: (JSON.parse(run.stdout) as JsonReport).diagnostics.map((d) => `${d.file}:${d.line} ${d.rule}`) };
  };

  it("reads the configured package, by dotted module or by directory, and not the app's own migrations/", () => {
    for (const config of ['[migration-modules]\ndojo = "dojo.db_migrations"\n', '[migration-modules]\ndojo = "dojo/db_migrations"\n']) {
      const dir = project(config);
      const run = findings(dir);
      expect(run.found).toEqual(["dojo/db_migrations/0002_remove_endpoint_mitigated.py:7 dropping-column"]);
      // A file of the package named on the command line (as pre-commit passes it) is checked too.
      expect(findings(dir, ["dojo/db_migrations/0002_remove_endpoint_mitigated.py"]).found).toEqual(run.found);
    }
  });

  it("without it, a tree with no migrations package says so in one line, and the exit code stays 0", () => {
    const dir = project(null);
    rmSync(path.join(dir, "dojo/migrations"), { recursive: true });
    const run = runCli(["check", "."], { cwd: dir });
    expect(run.stdout).toBe("Checked 0 migrations: no problems found.\n");
    // The line names the directory that holds migrations, and the configuration that reads it.
    expect(run.stderr).toBe(
      "rollsafe: no migration file found under . (rollsafe reads `migrations` packages), but dojo/db_migrations holds migrations: if MIGRATION_MODULES maps an app to it, add `migration-modules = { dojo = \"dojo.db_migrations\" }` to rollsafe.toml (or under [tool.rollsafe] in pyproject.toml), with the app labels of your settings\n",
    );
    expect(run.code).toBe(0);
    // The same from the result cache's stored report.
    expect(runCli(["check", "."], { cwd: dir }).stderr).toBe(run.stderr);
    // Following it checks them.
    writeFileSync(path.join(dir, "rollsafe.toml"), 'migration-modules = { dojo = "dojo.db_migrations" }\n');
    expect(findings(dir).found).toEqual(["dojo/db_migrations/0002_remove_endpoint_mitigated.py:7 dropping-column"]);
    // With nothing that looks like a migration, the line says where rollsafe looks.
    rmSync(path.join(dir, "dojo/db_migrations"), { recursive: true });
    rmSync(path.join(dir, "rollsafe.toml"));
    expect(runCli(["check", "."], { cwd: dir }).stderr).toContain("rollsafe: no migration file found under . (rollsafe reads `migrations` packages; migrations Django loads from another package, through MIGRATION_MODULES, need `migration-modules` in the configuration)");
  });

  it("a package that is not a directory is a configuration error naming it", () => {
    const dir = project('[migration-modules]\ndojo = "dojo.nowhere"\n');
    const run = runCli(["check", "."], { cwd: dir });
    expect(run.stderr).toBe("rollsafe: rollsafe.toml: `migration-modules.dojo` names \"dojo.nowhere\", but there is no directory `dojo/nowhere` beside rollsafe.toml\n");
    expect(run.code).toBe(2);
  });
});

