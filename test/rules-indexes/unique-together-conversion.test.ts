/**
 * Django 5's move of `unique_together` to `Meta.constraints`: makemigrations writes
 * `AlterUniqueTogether(..., set())` and then `AddConstraint(UniqueConstraint(...))` over the same
 * columns (Tabbycat participants 0022, results 0016). The table cannot hold duplicates, and the
 * old constraint can be renamed instead of built again: the recipe does that, and was run with
 * Django 4.2 on PostgreSQL 15 forwards, backwards and forwards again (RENAME CONSTRAINT renames
 * the index with it).
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { lint } from "../../src/index.js";

const root = mkdtempSync(path.join(tmpdir(), "rollsafe-together-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const INITIAL = `from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True
    dependencies = []
    operations = [
        migrations.CreateModel(
            name="Institution",
            fields=[("id", models.BigAutoField(primary_key=True)), ("name", models.CharField(max_length=100)), ("code", models.CharField(max_length=20))],
            options={"unique_together": {("name", "code")}},
        ),
    ]
`;

let counter = 0;
function project(operations: string): string {
  const dir = path.join(root, `case${counter++}`);
  const migrations = path.join(dir, "inst", "migrations");
  mkdirSync(migrations, { recursive: true });
  writeFileSync(path.join(migrations, "__init__.py"), "");
  writeFileSync(path.join(migrations, "0001_initial.py"), INITIAL);
  writeFileSync(
    path.join(migrations, "0002_convert.py"),
    `from django.db import migrations, models\n\n\nclass Migration(migrations.Migration):\n    dependencies = [("inst", "0001_initial")]\n    operations = [\n${operations.replace(/^/gm, "        ")}\n    ]\n`,
  );
  return dir;
}

const CONVERSION = `migrations.AlterUniqueTogether(name="institution", unique_together=set()),
migrations.AddConstraint(model_name="institution", constraint=models.UniqueConstraint(fields=("name", "code"), name="inst_name_code_uniq")),`;

const RULES = ["adding-unique-constraint", "removing-index-non-concurrently", "reversing-migration-drops-data"];

describe("unique_together converted to a UniqueConstraint over the same columns", () => {
  it("cannot fail on duplicates, and the recipe renames the old constraint in place of a build", async () => {
    const { diagnostics } = await lint(["."], { cwd: project(CONVERSION), ruleNames: RULES });
    const unique = diagnostics.find((d) => d.rule === "adding-unique-constraint");
    expect(unique?.message).toBe(
      "Adding `UniqueConstraint` `inst_name_code_uniq` builds a unique index on `inst_institution` under an ACCESS EXCLUSIVE lock (reads and writes blocked), though `inst_institution_name_code_34794699_uniq` over the same columns was dropped just before.",
    );
    const help = unique?.help.join("\n") ?? "";
    expect(help).not.toContain("IntegrityError");
    expect(help).toContain(`'ALTER TABLE "inst_institution" RENAME CONSTRAINT "inst_institution_name_code_34794699_uniq" TO "inst_name_code_uniq";'`);
    // Reversing it cannot meet duplicates either: the new constraint holds until the reversal drops it.
    expect(diagnostics.filter((d) => d.rule === "reversing-migration-drops-data")).toEqual([]);

    // The recipe, as the migration's operations: nothing is built, dropped or re-validated.
    const recipe = (help.match(/```python\n([\s\S]*?)\n```/)?.[1] ?? "").replace(/,$/, "");
    expect(recipe).toMatch(/^migrations\.SeparateDatabaseAndState\(/);
    expect(recipe).toContain("unique_together=set(),");
    const followed = await lint(["."], { cwd: project(`${recipe},`), ruleNames: RULES });
    expect(followed.diagnostics).toEqual([]);
  });

  it("still says a constraint over other columns fails on duplicates", async () => {
    const other = CONVERSION.replace('fields=("name", "code")', 'fields=("code",)');
    const { diagnostics } = await lint(["."], { cwd: project(other), ruleNames: ["adding-unique-constraint"] });
    expect(diagnostics.map((d) => d.message)).toEqual([expect.stringMatching(/, and fails if rows are duplicates\.$/)]);
  });

  it("drops the constraint of a set the new unique_together leaves out, as Django does (django CMS 0008: run forwards, backwards, forwards on PostgreSQL 15)", async () => {
    const { diagnostics } = await lint(["."], { cwd: project(`migrations.AlterUniqueTogether(name="institution", unique_together={("name",)}),`), ruleNames: ["adding-unique-constraint"] });
    const help = diagnostics[0]?.help.join("\n") ?? "";
    expect(help).toContain("The `AlterUniqueTogether` also removes (name, code): Django drops its constraint");
    const drop = `'ALTER TABLE "inst_institution" DROP CONSTRAINT IF EXISTS "inst_institution_name_code_34794699_uniq";'`;
    expect(help).toContain(drop);
    expect(help).toContain(`reverse_sql='ALTER TABLE "inst_institution" ADD CONSTRAINT "inst_institution_name_code_34794699_uniq" UNIQUE ("name", "code");'`);
    // After the new constraint is attached, so the table is never without one.
    expect(help.indexOf(drop)).toBeGreaterThan(help.indexOf("UNIQUE USING INDEX"));
    // A set only added drops nothing.
    const added = await lint(["."], { cwd: project(`migrations.AlterUniqueTogether(name="institution", unique_together={("name", "code"), ("code",)}),`), ruleNames: ["adding-unique-constraint"] });
    expect(added.diagnostics[0]?.help.join("\n")).not.toContain(drop);
  });

  it("has nothing to report on MySQL, whose finding is only about duplicates", async () => {
    const { diagnostics } = await lint(["."], { cwd: project(CONVERSION), ruleNames: ["adding-unique-constraint"], target: { database: "mysql" } });
    expect(diagnostics).toEqual([]);
  });
});
