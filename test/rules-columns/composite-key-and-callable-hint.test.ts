/**
 * Two details of djangoproject.com's migrations: Django 5.2's CompositePrimaryKey has no column
 * of its own (tracdb 0003: a backup query selected `"pk"`, and the UUID policy suggested a field
 * named `pk`, which Django refuses), and a Python callable default has no `db_default` form
 * (checklists: the Django 4.2 advice promised one from 5.0).
 */
import { describe, expect, it } from "vitest";
import { lint } from "../../src/index.js";
import { appProjects, migrationSource } from "../support/library-project.js";

const projects = appProjects("composite-key");

describe("a CompositePrimaryKey", () => {
  it("is the columns it names, and no model for the UUID policy", async () => {
    const dir = projects("tracdb", {
      "0001_initial": migrationSource("tracdb", null, [
        'migrations.CreateModel(name="Wiki", fields=[("pk", models.CompositePrimaryKey("name", "version", blank=True, editable=False, primary_key=True, serialize=False)), ("name", models.TextField()), ("version", models.IntegerField())])',
      ]),
      "0002_comment": migrationSource("tracdb", "0001_initial", ['migrations.AddField("wiki", "comment", models.TextField(null=True))']),
    });
    const found = (await lint([dir], { cwd: dir, ruleNames: ["reversing-migration-drops-data", "creating-model-without-uuid-primary-key"], target: { django: [5, 2] } })).diagnostics;
    expect(found.map((d) => d.rule)).toEqual(["reversing-migration-drops-data"]);
    expect(found[0]?.help.join("\n")).toContain('SELECT "name", "version", "comment" FROM "tracdb_wiki"');
  });
});

describe("a callable default before Django 5.0", () => {
  it("gets no promise of db_default", async () => {
    const dir = projects("checklists", {
      "0001_initial": migrationSource("checklists", null, ['migrations.CreateModel(name="Issue", fields=[("id", models.AutoField(primary_key=True, serialize=False))])']),
      "0002_series": migrationSource("checklists", "0001_initial", ['migrations.AddField("issue", "series", models.CharField(max_length=1024, default=checklists.models.series_default))'], "import checklists.models\n"),
    });
    const [finding] = (await lint([dir], { cwd: dir, ruleNames: ["adding-not-nullable-column"], target: { django: [4, 2] } })).diagnostics;
    expect(finding?.help.join("\n")).not.toContain("db_default=...");
  });
});
