/**
 * adding-foreign-key-constraint's recipes for cases a sweep of real migrations found wrong.
 *
 * A NOT NULL foreign key added without a default (authentik core 0002's
 * `Provider.authorization_flow`): `ADD COLUMN ... NOT NULL` fails on a table with rows before the
 * constraint matters (PostgreSQL 15: "contains null values"), so adding-foreign-key-constraint's
 * recipe adds the column nullable, and makes it NOT NULL after a backfill. A renamed foreign key
 * on MySQL: RENAME COLUMN keeps the constraint (Tandoor 0035).
 */
import { describe, expect, it } from "vitest";
import { analyze } from "../../src/engine/lint.js";
import { libraryProjects } from "../support/library-project.js";

const project = libraryProjects("foreign-key-recipes");

describe("a NOT NULL foreign key added without a default", () => {
  it("is added nullable in the recipe, then made NOT NULL through a validated CHECK", async () => {
    const dir = project(`import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("library", "0001_initial")]

    operations = [
        migrations.AddField("book", "editor", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name="+", to="library.author")),
    ]
`);
    const { result } = await analyze(["."], { cwd: dir, ruleNames: ["adding-foreign-key-constraint", "adding-not-nullable-column"] });
    expect(result.diagnostics.map((d) => d.rule).sort()).toEqual(["adding-foreign-key-constraint", "adding-not-nullable-column"]);
    const help = result.diagnostics.find((d) => d.rule === "adding-foreign-key-constraint")?.help.join("\n") ?? "";
    expect(help).toContain('`ADD COLUMN` itself fails ("column "editor_id" contains null values"');
    expect(help).not.toContain("The constraint itself costs no scan");
    expect(help).toContain('to="library.author", db_index=False, null=True)');
    expect(help).toContain('ALTER TABLE "library_book" ALTER COLUMN "editor_id" SET NOT NULL;');
  });
});

describe("a foreign key renamed on MySQL", () => {
  it("is renamed alone, with RENAME COLUMN and its reverse, not a placeholder", async () => {
    const dir = project(`from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("library", "0001_initial")]

    operations = [
        migrations.RenameField(model_name="book", old_name="author", new_name="writer"),
    ]
`);
    const { result } = await analyze(["."], { cwd: dir, ruleNames: ["adding-foreign-key-constraint"], target: { database: "mysql" } });
    const help = result.diagnostics[0]?.help.join("\n") ?? "";
    // Tandoor 0035: the MySQL advice was "<the ALTER TABLE statement sqlmigrate shows ...>" with a no-op reverse.
    expect(help).toContain('"ALTER TABLE `library_book` RENAME COLUMN `author_id` TO `writer_id`;"');
    expect(help).toContain('reverse_sql="ALTER TABLE `library_book` RENAME COLUMN `writer_id` TO `author_id`;"');
    expect(help).not.toContain("sqlmigrate shows");
  });
});
