/**
 * An IntegerField turned into a ForeignKey (DefectDojo dojo 0106: `role` to `role_id`): Django's
 * AlterField renames the column first, under ACCESS EXCLUSIVE, then builds the index and adds the
 * constraint. The index and constraint recipes keep the column where it is (`db_column`, as
 * renaming-column advises) instead of naming `role_id`, which the database would not have; each
 * points at the other, since each leaves the other's part out. Followed on PostgreSQL 15 with
 * Django 4.2, the two recipes (then VALIDATE) give the model's state with no change left for
 * makemigrations.
 */
import { describe, expect, it } from "vitest";
import { lint } from "../../src/index.js";
import { appProjects, migrationSource } from "../support/library-project.js";

const projects = appProjects("integer-to-fk");
const initial = migrationSource("shop", null, [
  'migrations.CreateModel(name="Role", fields=[("id", models.AutoField(primary_key=True, serialize=False)), ("name", models.CharField(max_length=255))])',
  'migrations.CreateModel(name="Member", fields=[("id", models.AutoField(primary_key=True, serialize=False)), ("role", models.IntegerField(default=0)), ("team", models.IntegerField(default=0, db_column="team_id"))])',
]);

async function findings(operation: string) {
  const dir = projects("shop", {
    "0001_initial": initial,
    "0002_fk": migrationSource("shop", "0001_initial", [operation], "import django.db.models.deletion\n"),
  });
  return (await lint([dir], { cwd: dir, ruleNames: ["adding-index-non-concurrently", "adding-foreign-key-constraint", "renaming-column"], target: { django: [4, 2] } })).diagnostics;
}

describe("an integer field turned into a foreign key", () => {
  it("renamed in the migration, then moved back by db_column: names and recipes on the column where it ends (ArchiveBox crawls 0014)", async () => {
    const found = await findings(
      'migrations.RenameField("member", "role", "crew"),\n        migrations.AlterField("member", "crew", models.ForeignKey(db_column="role", on_delete=django.db.models.deletion.CASCADE, to="shop.role"))',
    );
    expect(found.map((d) => d.rule).sort()).toEqual(["adding-foreign-key-constraint", "adding-index-non-concurrently"]);
    const index = found.find((d) => d.rule === "adding-index-non-concurrently");
    const fk = found.find((d) => d.rule === "adding-foreign-key-constraint");
    // Django 4.2's _create_index_name("shop_member", ["role"]) and its FK name.
    expect(index?.message).toContain("builds `shop_member_role_7275254d` on `shop_member`");
    expect(index?.message).toContain("blocking reads and writes (the column rename's ACCESS EXCLUSIVE lock is still held)");
    expect(fk?.message).toContain("adds constraint `shop_member_role_7275254d_fk_shop_role_id`");
    for (const help of [index?.help.join("\n") ?? "", fk?.help.join("\n") ?? ""]) {
      expect(help).toContain('("role")');
      expect(help).not.toContain('db_column="crew"');
      expect(help).toContain("An earlier operation of this migration renamed `shop_member.role` to `crew`, and this `AlterField` renames it back");
    }
  });

  it("keeps the column in the index and constraint recipes, and says reads wait", async () => {
    const found = await findings('migrations.AlterField("member", "role", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, to="shop.role"))');
    expect(found.map((d) => d.rule).sort()).toEqual(["adding-foreign-key-constraint", "adding-index-non-concurrently", "renaming-column"]);
    const index = found.find((d) => d.rule === "adding-index-non-concurrently");
    const fk = found.find((d) => d.rule === "adding-foreign-key-constraint");
    const indexHelp = index?.help.join("\n") ?? "";
    const fkHelp = fk?.help.join("\n") ?? "";
    // Django's names for the field with db_column="role", on the column the table has.
    expect(indexHelp).toContain(`ON "shop_member" ("role");`);
    expect(fkHelp).toContain(`FOREIGN KEY ("role") REFERENCES "shop_role" ("id")`);
    for (const help of [indexHelp, fkHelp]) {
      expect(help).not.toContain('"role_id"');
      expect(help).toContain('to="shop.role", db_column="role")');
      expect(help).toContain("also renames `shop_member.role` to `role_id` (`renaming-column`)");
    }
    expect(index?.message).toContain("blocking reads and writes (the column rename's ACCESS EXCLUSIVE lock is still held)");
    expect(fk?.message).toContain("while reads and writes of `shop_member` and writes to `shop_role` are blocked (the column rename's ACCESS EXCLUSIVE lock is held)");
    expect(indexHelp).toContain("`adding-foreign-key-constraint`'s recipe adds it NOT VALID");
    expect(fkHelp).toContain("`adding-index-non-concurrently`'s recipe builds it concurrently");
  });

  it("names the column as it is when the column does not move", async () => {
    const found = await findings('migrations.AlterField("member", "team", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, to="shop.role"))');
    expect(found.map((d) => d.rule).sort()).toEqual(["adding-foreign-key-constraint", "adding-index-non-concurrently"]);
    for (const d of found) {
      expect(d.help.join("\n")).not.toContain("also renames");
      expect(d.message).not.toContain("column rename");
    }
    expect(found.find((d) => d.rule === "adding-foreign-key-constraint")?.help.join("\n")).toContain('FOREIGN KEY ("team_id")');
  });

  it("says nothing of an index for a one-to-one field, which Django does not index (galaxy_ng 0011)", async () => {
    const found = await findings('migrations.AlterField("member", "team", models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, to="shop.role", db_column="team_id"))');
    const fk = found.find((d) => d.rule === "adding-foreign-key-constraint");
    expect(fk).toBeDefined();
    expect(fk?.help.join("\n")).not.toContain("builds the foreign key's index");
  });
});
