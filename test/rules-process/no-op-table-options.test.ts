/**
 * `AlterModelTable(table=None)` gives the model Django's default table name: when the table
 * already has it (allianceauth teamspeak3 0002), `sqlmigrate` prints "(no-op)", so nothing is
 * locked and the migration changes nothing a deploy stage is about.
 */
import { describe, expect, it } from "vitest";
import { lint } from "../../src/index.js";
import { appProjects, libraryProjects, migrationSource } from "../support/library-project.js";

const project = libraryProjects("no-op-table");

const migration = (operation: string) => `from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("library", "0001_initial")]
    operations = [
        ${operation},
    ]
`;

const RULES = ["running-ddl-without-lock-timeout", "missing-stage-marker", "renaming-table"];

describe("AlterModelTable to Django's default name", () => {
  it("is a no-op on a table that has it", async () => {
    const dir = project(migration('migrations.AlterModelTable(name="book", table=None)'));
    expect((await lint([dir], { cwd: dir, ruleNames: RULES })).diagnostics).toEqual([]);
  });

  it("still renames a table that has another name", async () => {
    const dir = project(migration('migrations.AlterModelTable(name="book", table="library_volume"),\n        migrations.AlterModelTable(name="book", table=None)'));
    const rules = (await lint([dir], { cwd: dir, ruleNames: RULES })).diagnostics.map((d) => `${d.line} ${d.rule}`);
    expect(rules.sort()).toEqual(["4 missing-stage-marker", "7 renaming-table", "7 running-ddl-without-lock-timeout", "8 renaming-table"]);
  });
});

describe("running-ddl-without-lock-timeout on a dropped foreign key", () => {
  // DROP TABLE and DROP COLUMN drop the foreign keys with them: ACCESS EXCLUSIVE on the tables
  // they reference too (pg_locks on PostgreSQL 15, KoboToolbox logger 0013 and 0025).
  it("names the referenced tables the operation locks as well", async () => {
    const dropTable = project(migration('migrations.DeleteModel(name="book")'));
    expect((await lint([dropTable], { cwd: dropTable, ruleNames: ["running-ddl-without-lock-timeout"] })).diagnostics.map((d) => d.message)).toEqual([
      "`DeleteModel` (dropping the table) on `library_book` (and on `library_author` for dropping `Book` and its foreign key `author`) takes a table lock in `0002_fk`, and no `lock_timeout` is set before it.",
    ]);
    const dropColumn = project(migration('migrations.RemoveField(model_name="book", name="author")'));
    expect((await lint([dropColumn], { cwd: dropColumn, ruleNames: ["running-ddl-without-lock-timeout"] })).diagnostics.map((d) => d.message)).toEqual([
      expect.stringMatching(/^`RemoveField` \(.*\) on `library_book` \(and on `library_author`.*\) takes a table lock/),
    ]);
  });
});

describe("renaming-table's recipe for a model other tables reference", () => {
  // Before Django 5.0, RenameModel drops and re-creates every foreign key to the model even when
  // db_table keeps its table (dit-helpdesk rules_of_origin 0012; renaming-model-rebuilds-foreign-keys).
  const shop = appProjects("rename-referenced");
  const initial = migrationSource("shop", null, [
    'migrations.CreateModel(name="Vendor", fields=[("id", models.BigAutoField(primary_key=True, serialize=False))])',
    'migrations.CreateModel(name="Item", fields=[("id", models.BigAutoField(primary_key=True, serialize=False)), ("vendor", models.ForeignKey(on_delete=models.CASCADE, to="shop.vendor"))])',
  ]);

  it("renames the model in state only when foreign keys point at it (Django 4.2)", async () => {
    const dir = shop("shop", { "0001_initial": initial, "0002_rename": migrationSource("shop", "0001_initial", ['migrations.RenameModel(old_name="Vendor", new_name="Supplier")']) });
    const [finding] = (await lint([dir], { cwd: dir, ruleNames: ["renaming-table"], target: { django: [4, 2] } })).diagnostics;
    const help = finding?.help.join("\n") ?? "";
    expect(help).toContain('`migrations.SeparateDatabaseAndState(state_operations=[migrations.RenameModel(old_name="Vendor", new_name="Supplier")])`');
    expect(help).toContain("the foreign key of `Item.vendor`, which keeps pointing at `shop_vendor` anyway");
  });

  it("keeps the plain rename when a join table is named after the model (a state-only rename would leave its column behind)", async () => {
    const dir = project(migration('migrations.RenameModel(old_name="Author", new_name="Writer")'));
    const help = (await lint([dir], { cwd: dir, ruleNames: ["renaming-table"] })).diagnostics[0]?.help.join("\n") ?? "";
    expect(help).toContain("`RenameModel` then emits no SQL for the table.");
    expect(help).not.toContain("SeparateDatabaseAndState");
  });
});
