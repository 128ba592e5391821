/**
 * A table the recipe keeps where it is, while a later operation of the same migration gives its
 * name to another model: patchwork 0043 deletes Patch, then renames Submission to Patch (its table
 * becomes patchwork_patch); mathesar 0007 renames Database, then creates a new Database (whose
 * table is mathesar_database by default). Keeping the old table collides with the new one
 * ("relation ... already exists"), so the findings say what else has to change.
 */
import { describe, expect, it } from "vitest";
import { lint } from "../../src/index.js";
import { appProjects, migrationSource } from "../support/library-project.js";

const projects = appProjects("table-taken-later");
const model = (name: string) => `migrations.CreateModel(name="${name}", fields=[("id", models.BigAutoField(primary_key=True, serialize=False)), ("name", models.CharField(max_length=100))])`;

async function findings(operations: string[], rule: string) {
  const dir = projects("tracker", {
    "0001_initial": migrationSource("tracker", null, [model("Patch"), model("Submission"), model("Database")]),
    "0002_change": migrationSource("tracker", "0001_initial", operations),
  });
  return (await lint([dir], { cwd: dir, ruleNames: [rule] })).diagnostics.map((d) => d.help.join("\n"));
}

describe("a table whose name a later operation gives to another model", () => {
  it("dropping-table says the other model's table must keep its name before the deletion is made state-only", async () => {
    const [renamed] = await findings(['migrations.DeleteModel("Patch")', 'migrations.RenameModel("Submission", "Patch")'], "dropping-table");
    expect(renamed).toContain("1. `RenameModel` of `Submission` to `Patch` later in this migration gives `tracker_patch` to another model, so the table cannot stay under its name");
    expect(renamed).toContain("keep that model's table under its current name (`db_table`");
    const [created] = await findings(['migrations.DeleteModel("Patch")', model("Patch")], "dropping-table");
    expect(created).toContain("`CreateModel` of `Patch` later in this migration gives `tracker_patch` to another model");
    expect(created).toContain("give the new model another table (`db_table` in its options)");
    // An operation before the deletion, or another table's name, takes nothing.
    const [plain] = await findings(['migrations.RenameModel("Submission", "Entry")', 'migrations.DeleteModel("Patch")'], "dropping-table");
    expect(plain).not.toContain("later in this migration gives");
  });

  it("renaming-table says a model created later under the old name needs another table", async () => {
    const [help] = await findings(['migrations.RenameModel("Database", "Connection")', model("Database")], "renaming-table");
    expect(help).toContain("`CreateModel` of `Database` later in this migration takes `tracker_database` by default: give the new model another table (`db_table`) for step 1 to work.");
    const [alone] = await findings(['migrations.RenameModel("Database", "Connection")'], "renaming-table");
    expect(alone).not.toContain("later in this migration");
  });
});

describe("renaming a model that other models' many-to-many relations point at", () => {
  it("names the join-table column RenameModel renames, pinned table or not (EvaP evaluation 0145)", async () => {
    const dir = projects("evaluation", {
      "0001_initial": migrationSource("evaluation", null, [
        model("Degree"),
        'migrations.CreateModel(name="Course", fields=[("id", models.BigAutoField(primary_key=True, serialize=False)), ("degrees", models.ManyToManyField(to="evaluation.Degree"))])',
      ]),
      "0002_rename": migrationSource("evaluation", "0001_initial", ['migrations.RenameModel("Degree", "Program")']),
    });
    const [finding] = (await lint([dir], { cwd: dir, ruleNames: ["renaming-table"] })).diagnostics;
    const help = finding?.help.join("\n") ?? "";
    expect(help).toContain("It also renames the join-table column `evaluation_course_degrees.degree_id` to `program_id`.");
    expect(help).toContain("`RenameModel` still renames the join-table column `evaluation_course_degrees.degree_id` to `program_id` with the table pinned: first give that many-to-many relation an explicit `through` model");
  });
});
