/**
 * A column added with a Python default and given a database default later in the same atomic
 * migration (RunSQL ... SET DEFAULT, django-add-default-value's AddDefaultValue) keeps the old
 * release's INSERTs working on PostgreSQL; the advice for Django before 5.0 writes that step, and
 * following it clears the finding.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { lint } from "../../src/index.js";
import type { Target } from "../../src/engine/rule-types.js";
import { RULE_FIXTURES } from "../support/fixture-cases.js";

const SETUP = readFileSync(path.join(RULE_FIXTURES, "adding-not-nullable-column/good/same-migration/library/migrations/0001_initial.py"), "utf8");
const root = mkdtempSync(path.join(tmpdir(), "rollsafe-set-default-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

let counter = 0;
async function lintOps(operations: string[], target: Partial<Target> = {}, atomic = true) {
  const dir = path.join(root, `case${counter++}`);
  const migrations = path.join(dir, "library", "migrations");
  mkdirSync(migrations, { recursive: true });
  writeFileSync(path.join(dir, "library", "__init__.py"), "");
  writeFileSync(path.join(migrations, "__init__.py"), "");
  writeFileSync(path.join(migrations, "0001_initial.py"), SETUP);
  const body = operations.map((o) => o.replace(/^/gm, "        ")).join("\n");
  writeFileSync(
    path.join(migrations, "0002_change.py"),
    `import datetime\n\nimport django.contrib.postgres.fields\nfrom django.db import migrations, models\n\n\nclass Migration(migrations.Migration):\n${atomic ? "" : "    atomic = False\n"}    dependencies = [("library", "0001_initial")]\n    operations = [\n${body}\n    ]\n`,
  );
  const result = await lint([dir], { cwd: dir, target: { django: [4, 2], ...target } });
  return result.diagnostics.filter((d) => d.rule === "adding-not-nullable-column" || d.rule === "adding-nullable-column-with-default");
}

/** The `migrations.RunSQL(...)` a finding's help writes. */
function runSqlOf(help: string[]): string {
  const match = /migrations\.RunSQL\([\s\S]*?\n\s*\),/.exec(help.join("\n"));
  expect(match).not.toBeNull();
  return (match?.[0] ?? "").replace(/^ {11}/gm, "");
}

describe("a database default set later in the migration", () => {
  const cases = [
    ['migrations.AddField("book", "isbn", models.CharField(max_length=13, default="n\'a")),', "adding-not-nullable-column"],
    ['migrations.AddField("book", "copies", models.IntegerField(null=True, default=1)),', "adding-nullable-column-with-default"],
    ['migrations.AddField("book", "in_print", models.BooleanField(default=True, db_column="printed")),', "adding-not-nullable-column"],
    // An empty container has no literal for db_default; PostgreSQL's own empty value does (PostHog 1114, 1128).
    ['migrations.AddField("book", "tags", models.JSONField(default=list)),', "adding-not-nullable-column"],
    ['migrations.AddField("book", "labels", django.contrib.postgres.fields.ArrayField(models.CharField(max_length=20), default=list)),', "adding-not-nullable-column"],
    ['migrations.AddField("book", "extra", models.JSONField(default=dict)),', "adding-not-nullable-column"],
    // A literal list or dict: Django writes ADD COLUMN ... DEFAULT ARRAY['draft', ...] (Arches 11042), or its JSON.
    ['migrations.AddField("book", "states", django.contrib.postgres.fields.ArrayField(models.CharField(max_length=200), default=["draft", "it\'s"])),', "adding-not-nullable-column"],
    ['migrations.AddField("book", "meta", models.JSONField(default={"kind": "novel", "tags": ["a", 1, True, None]})),', "adding-not-nullable-column"],
    ['migrations.AddField("book", "label", models.JSONField(default="plain")),', "adding-not-nullable-column"],
    // A literal timedelta: the interval Django writes as the column's DEFAULT (healthchecks' timeouts).
    ['migrations.AddField("book", "loan", models.DurationField(default=datetime.timedelta(days=14))),', "adding-not-nullable-column"],
    ['migrations.AddField("book", "grace", models.DurationField(null=True, default=datetime.timedelta(minutes=-1.5))),', "adding-nullable-column-with-default"],
    // A nullable JSON column with a container default: the old release's rows get NULL, not {} (koku reporting_common 0032).
    ['migrations.AddField("book", "notes", models.JSONField(null=True, default=dict)),', "adding-nullable-column-with-default"],
  ] as const;

  it.each(cases)("following the advice for %s clears the finding", async (addField, rule) => {
    const found = await lintOps([addField]);
    expect(found.map((d) => d.rule)).toEqual([rule]);
    const step = runSqlOf(found[0]?.help ?? []);
    expect(step).toContain("SET DEFAULT");
    expect(await lintOps([addField, step])).toEqual([]);
  });

  it("names the column by its db_column and writes PostgreSQL constants", async () => {
    const [finding] = await lintOps([cases[2][0]]);
    expect(finding?.help.join("\n")).toContain(`ALTER COLUMN "printed" SET DEFAULT true;`);
    const [text] = await lintOps([cases[0][0]]);
    expect(text?.help.join("\n")).toContain(`SET DEFAULT 'n''a';`);
    const [json] = await lintOps([cases[3][0]]);
    expect(json?.help.join("\n")).toContain(`SET DEFAULT '[]'::jsonb;`);
    const [array] = await lintOps([cases[4][0]]);
    expect(array?.help.join("\n")).toContain(`SET DEFAULT '{}';`);
    const [states] = await lintOps([cases[6][0]]);
    expect(states?.help.join("\n")).toContain(`SET DEFAULT ARRAY['draft', 'it''s'];`);
    const [meta] = await lintOps([cases[7][0]], { django: [5, 2] });
    expect(meta?.help.join("\n")).toContain(`old release's INSERTs get '{"kind": "novel", "tags": ["a", 1, true, null]}'::jsonb`);
    expect(meta?.help.join("\n")).not.toContain("no database twin");
    // A JSON string is a JSON value, not SQL text.
    const [label] = await lintOps([cases[8][0]]);
    expect(label?.help.join("\n")).toContain(`old release's INSERTs get '"plain"'::jsonb`);
    // Whatever Django's version: db_default has no form for a callable.
    const [later] = await lintOps([cases[5][0]], { django: [5, 2] });
    expect(later?.help.join("\n")).toContain(`SET DEFAULT '{}'::jsonb;`);
    expect(later?.help.join("\n")).not.toContain("db_default=null");
    // The interval psycopg2 writes for Django's ADD COLUMN ... DEFAULT (sqlmigrate on Django 4.2),
    // normalised as Python's timedelta is; Django 5's db_default takes the timedelta itself.
    const [loan] = await lintOps([cases[9][0]]);
    expect(loan?.help.join("\n")).toContain(`SET DEFAULT '14 days 0.000000 seconds'::interval;`);
    expect(loan?.help.join("\n")).toContain("`db_default=datetime.timedelta(days=14)`");
    const [grace] = await lintOps([cases[10][0]]);
    expect(grace?.help.join("\n")).toContain(`SET DEFAULT '-1 days 86310.000000 seconds'::interval;`);
    // Any Django version: db_default takes no container, SET DEFAULT does.
    const [notes] = await lintOps([cases[11][0]], { django: [5, 2] });
    expect(notes?.help.join("\n")).toContain(`SET DEFAULT '{}'::jsonb;`);
    expect(notes?.help.join("\n")).not.toContain("db_default=");
    const [loan5] = await lintOps([cases[9][0]], { django: [5, 2] });
    expect(loan5?.help.join("\n")).toContain("db_default=datetime.timedelta(days=14)");
  });

  it("does not count a default set outside the transaction, on another column, or off PostgreSQL", async () => {
    const add = cases[0][0];
    const set = `migrations.RunSQL("ALTER TABLE library_book ALTER COLUMN isbn SET DEFAULT ''", migrations.RunSQL.noop),`;
    const nonAtomic = await lintOps([add, set], {}, false);
    expect(nonAtomic).toHaveLength(1);
    expect(nonAtomic[0]?.help.join("\n")).toContain("the migration is not atomic");
    expect(nonAtomic[0]?.help.join("\n")).not.toContain("in the same (atomic) migration");
    expect(await lintOps([add, set.replace("isbn", "title")])).toHaveLength(1);
    // A default set before the column exists is not this column's.
    expect(await lintOps([set.replace("isbn", "pages"), add])).toHaveLength(1);
    const mysql = await lintOps([add, set], { database: "mysql" });
    expect(mysql).toHaveLength(1);
    expect(mysql[0]?.help.join("\n")).not.toContain("SET DEFAULT");
  });

  it("leaves the Django 5.0 advice to db_default", async () => {
    const [finding] = await lintOps([cases[0][0]], { django: [5, 0] });
    expect(finding?.help.join("\n")).toContain(`db_default="n'a"`);
    expect(finding?.help.join("\n")).not.toContain("SET DEFAULT");
  });
});
