/**
 * A OneToOneField added to an existing table (Plane 0109): Django 4.2 writes `ADD COLUMN ... NULL
 * UNIQUE ... REFERENCES`, so the unique index is built by that statement and PostgreSQL names it
 * `<table>_<column>_key` (pg_indexes after migrate). A OneToOneField is always unique, so the
 * recipe's database side is a ForeignKey without an index (sqlmigrate: no UNIQUE, no index).
 */
import { describe, expect, it } from "vitest";
import { analyze } from "../../src/engine/lint.js";
import { libraryProjects } from "../support/library-project.js";

const project = libraryProjects("one-to-one-add");

describe("a OneToOneField added to an existing table", () => {
  it("names the inline unique constraint PostgreSQL makes, and adds a plain foreign key on the database side", async () => {
    const dir = project(`import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("library", "0001_initial")]

    operations = [
        migrations.AddField(
            "book",
            "mentor",
            models.OneToOneField(null=True, on_delete=django.db.models.deletion.SET_NULL, related_name="+", to="library.author"),
        ),
    ]
`);
    const { result } = await analyze(["."], { cwd: dir, ruleNames: ["adding-foreign-key-constraint"] });
    const [finding] = result.diagnostics;
    expect(finding?.message).toContain("builds its unique index `library_book_mentor_id_key`");
    const help = finding?.help.join("\n") ?? "";
    expect(help).toContain("the `ADD COLUMN` itself builds the unique index");
    expect(help).toContain('field=models.ForeignKey(null=True, on_delete=django.db.models.deletion.SET_NULL, related_name="+", to="library.author", db_index=False)');
    expect(help).not.toContain("unique=False");
    expect(help).toContain('ADD CONSTRAINT "library_book_mentor_id_key" UNIQUE USING INDEX "library_book_mentor_id_key"');
  });
});
