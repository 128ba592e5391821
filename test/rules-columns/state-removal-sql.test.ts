/**
 * removing-not-null-column-from-state counts SQL that lets the database fill the column (DROP
 * NOT NULL, SET DEFAULT) only when rollsafe can read it: an operation it cannot read elsewhere in
 * the app's history does not silence the error (the benchmark's corpus, whose apps each run a
 * custom operation, lost three quarters of its findings to that doubt).
 */
import { describe, expect, it } from "vitest";
import { analyze } from "../../src/engine/lint.js";
import { appProjects, libraryProjects, migrationSource } from "../support/library-project.js";

const project = libraryProjects("state-removal-sql");
const appProject = appProjects("state-removal-default");

async function rulesFor(before: string): Promise<string[]> {
  const dir = project(`from django.db import migrations, models
from myproject.ops import Backfill


class Migration(migrations.Migration):
    dependencies = [("library", "0001_initial")]

    operations = [
${before}
        migrations.SeparateDatabaseAndState(state_operations=[migrations.RemoveField("book", "title")]),
    ]
`);
  const { result } = await analyze(["."], { cwd: dir, ruleNames: ["removing-not-null-column-from-state"] });
  return result.diagnostics.map((d) => d.rule);
}

describe("SQL before a state-only removal of a NOT NULL column", () => {
  it("an operation rollsafe cannot read does not count", async () => {
    expect(await rulesFor('        Backfill("book"),')).toEqual(["removing-not-null-column-from-state"]);
    expect(await rulesFor("        migrations.RunSQL(SQL_FROM_ELSEWHERE),")).toEqual(["removing-not-null-column-from-state"]);
  });

  it("a readable DROP NOT NULL or SET DEFAULT on the column does", async () => {
    expect(await rulesFor(`        Backfill("book"),\n        migrations.RunSQL('ALTER TABLE library_book ALTER COLUMN title DROP NOT NULL'),`)).toEqual([]);
    expect(await rulesFor(`        migrations.RunSQL("ALTER TABLE library_book ALTER COLUMN title SET DEFAULT ''"),`)).toEqual([]);
    expect(await rulesFor(`        migrations.RunSQL('ALTER TABLE library_book ALTER COLUMN subtitle DROP NOT NULL'),`)).toEqual(["removing-not-null-column-from-state"]);
  });
});

describe("the recipe's database default (Read the Docs builds 0040)", () => {
  it("is the default itself when it has a database twin, and a nullable column when Python computes it", async () => {
    const dir = appProject("builds", {
      "0001_initial": migrationSource("builds", null, [
        'migrations.CreateModel(name="Build", fields=[("id", models.BigAutoField(primary_key=True)), ("_config", models.JSONField(default=dict)), ("state", models.CharField(max_length=20, default="triggered"))])',
      ]),
      "0002_remove": migrationSource("builds", "0001_initial", ['migrations.SeparateDatabaseAndState(state_operations=[migrations.RemoveField("build", "_config"), migrations.RemoveField("build", "state")])']),
    });
    const { result } = await analyze(["."], { cwd: dir, ruleNames: ["removing-not-null-column-from-state"], target: { django: [5, 2] } });
    const [config, state] = result.diagnostics.map((d) => d.help.join("\n"));
    // `db_default=dict` fails on Django 5.2 ("Object of type type is not JSON serializable").
    expect(config).toContain("field=models.JSONField(default=dict, null=True),");
    expect(config).not.toContain("db_default");
    expect(state).toContain(`field=models.CharField(max_length=20, default="triggered", db_default="triggered"),`);
  });
});
