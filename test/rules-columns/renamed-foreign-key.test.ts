/**
 * A constrained foreign key renamed with RenameField (DefectDojo dojo 0111): Django drops the
 * constraint and adds it back, validated. The first step of adding-foreign-key-constraint's recipe
 * is renaming-column's: keep the column with db_column, so the rename changes only the attribute.
 * Followed, it leaves neither finding.
 */
import { describe, expect, it } from "vitest";
import { lint } from "../../src/index.js";
import { appProjects, migrationSource } from "../support/library-project.js";

const projects = appProjects("renamed-foreign-key");
const HEADER = "import django.db.models.deletion\n";
const initial = migrationSource(
  "dojo",
  null,
  [
    'migrations.CreateModel(name="Group", fields=[("id", models.AutoField(primary_key=True, serialize=False))])',
    'migrations.CreateModel(name="Member", fields=[("id", models.AutoField(primary_key=True, serialize=False)), ("dojo_group", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, to="dojo.group"))])',
  ],
  HEADER,
);
const RULES = ["adding-foreign-key-constraint", "renaming-column"];

async function findings(operations: string[]) {
  const dir = projects("dojo", { "0001_initial": initial, "0002_rename": migrationSource("dojo", "0001_initial", operations, HEADER) });
  return (await lint([dir], { cwd: dir, ruleNames: RULES })).diagnostics;
}

describe("a constrained foreign key renamed", () => {
  it("first keeps the column, and following that step leaves no finding", async () => {
    const found = await findings(['migrations.RenameField(model_name="member", old_name="dojo_group", new_name="group")']);
    expect(found.map((d) => d.rule).sort()).toEqual(RULES);
    const steps = found.find((d) => d.rule === "adding-foreign-key-constraint")?.help.filter((h) => /^\d\. /.test(h)) ?? [];
    expect(steps[0]).toContain('Keep the column, as `renaming-column` advises: with `db_column="dojo_group_id"`');
    expect(steps[1]).toContain("Or, if the column must take the new name");
    const operations = [...(steps[0] ?? "").matchAll(/^\s+(migrations\.(?:AlterField|RenameField)\(.*\)),?$/gm)].map((m) => m[1] as string);
    expect(operations).toHaveLength(2);
    expect(await findings(operations)).toEqual([]);
  });
});
