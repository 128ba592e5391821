/**
 * A ForeignKey made a OneToOneField to the same model (python.org users 0006): the column keeps
 * its type and only becomes unique. Django's AlterField drops and re-adds the foreign key (which
 * adding-foreign-key-constraint reports), and adding-unique-constraint's state-only recipe, which
 * builds the unique index concurrently, never touches the foreign key: checked on PostgreSQL 15.
 */
import { describe, expect, it } from "vitest";
import { lint } from "../../src/index.js";
import { libraryProjects } from "../support/library-project.js";

const project = libraryProjects("fk-to-o2o");

const SOURCE = `from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("library", "0001_initial")]

    operations = [
        migrations.AlterField("book", "author", models.OneToOneField(on_delete=models.CASCADE, to="library.author")),
    ]
`;

describe("ForeignKey to OneToOneField", () => {
  it("is a new unique constraint, not a type change, and the foreign-key finding points at its recipe", async () => {
    const dir = project(SOURCE);
    const { diagnostics } = await lint([dir], { cwd: dir, ruleNames: ["adding-unique-constraint", "adding-foreign-key-constraint", "changing-column-type"] });
    const found = diagnostics.filter((d) => d.file.endsWith("0002_fk.py"));
    expect(found.map((d) => d.rule).sort()).toEqual(["adding-foreign-key-constraint", "adding-unique-constraint"]);
    const unique = found.find((d) => d.rule === "adding-unique-constraint")?.help.join("\n") ?? "";
    // No step that runs Django's own AlterField for "the rest of the change".
    expect(unique).not.toContain("Run the rest of the change");
    expect(unique).toContain('CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS "library_book_author_id_');
    const fk = found.find((d) => d.rule === "adding-foreign-key-constraint")?.help.join("\n") ?? "";
    expect(fk).toContain("as `adding-unique-constraint`'s recipe for this `AlterField` does");
    expect(fk).not.toContain("<the ALTER TABLE statements");
  });
});
