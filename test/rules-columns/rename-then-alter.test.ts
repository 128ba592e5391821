/**
 * A RenameField followed, in the same migration, by an AlterField of the renamed field (galaxy_ng
 * 0051): renaming-column's pin (`db_column`) must go on that AlterField too, or it moves the
 * column to the new name after all. Followed with both pins, nothing is reported.
 */
import { describe, expect, it } from "vitest";
import { lint } from "../../src/index.js";
import { appProjects, migrationSource } from "../support/library-project.js";

const projects = appProjects("rename-then-alter");
const initial = migrationSource("galaxy", null, ['migrations.CreateModel(name="Organization", fields=[("id", models.AutoField(primary_key=True, serialize=False)), ("created_on", models.DateTimeField(null=True))])']);

async function findings(operations: string[]) {
  const dir = projects("galaxy", { "0001_initial": initial, "0002_rename": migrationSource("galaxy", "0001_initial", operations) });
  return (await lint([dir], { cwd: dir, ruleNames: ["renaming-column"] })).diagnostics;
}

describe("a rename, then an AlterField of the renamed field", () => {
  it("pins the column on both, and following that leaves no finding", async () => {
    const [finding] = await findings(['migrations.RenameField("organization", "created_on", "created")', 'migrations.AlterField("organization", "created", models.DateTimeField(null=True, help_text="When"))']);
    const help = finding?.help.join("\n") ?? "";
    expect(help).toContain("The `AlterField` of `created` later in this migration needs it too");
    // The automatic fix would pin the RenameField alone: none is offered.
    expect(finding?.fix).toBeUndefined();
    expect(help).toContain('field=models.DateTimeField(null=True, help_text="When", db_column="created_on"),');
    const operations = [
      'migrations.AlterField("organization", "created_on", models.DateTimeField(null=True, db_column="created_on"))',
      'migrations.RenameField("organization", "created_on", "created")',
      'migrations.AlterField("organization", "created", models.DateTimeField(null=True, help_text="When", db_column="created_on"))',
    ];
    expect(await findings(operations)).toEqual([]);
  });
});
