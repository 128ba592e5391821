/**
 * adding-foreign-key-constraint on an AlterField that makes Django drop and re-add a foreign key:
 * the recipe keeps the change in state and runs only what the column needs, written out when
 * rollsafe knows it (a NOT NULL change, or nothing for a new default).
 */
import { describe, expect, it } from "vitest";
import { lint } from "../../src/index.js";
import { libraryProjects } from "../support/library-project.js";

const project = libraryProjects("readd");

async function recipe(field: string): Promise<string> {
  const dir = project(
    `import django.db.models.deletion\nfrom django.db import migrations, models\n\n\nclass Migration(migrations.Migration):\n    dependencies = [("library", "0001_initial")]\n    operations = [\n        migrations.AlterField("book", "author", ${field}),\n    ]\n`,
  );
  const found = (await lint([dir], { cwd: dir, ruleNames: ["adding-foreign-key-constraint"] })).diagnostics;
  expect(found).toHaveLength(1);
  return found[0]?.help.join("\n") ?? "";
}

describe("the recipe for a foreign key Django would drop and re-add", () => {
  it("makes the column nullable with SQL", async () => {
    const help = await recipe('models.ForeignKey(null=True, on_delete=django.db.models.deletion.CASCADE, to="library.author")');
    expect(help).toContain(`'ALTER TABLE "library_book" ALTER COLUMN "author_id" DROP NOT NULL;'`);
    expect(help).not.toContain("sqlmigrate");
  });
  it("runs no SQL for a new default", async () => {
    const help = await recipe('models.ForeignKey(default=1, on_delete=django.db.models.deletion.CASCADE, to="library.author")');
    expect(help).toContain("run no SQL: the column itself does not change");
    expect(help).toMatch(/database_operations=\[\n\s*\],/);
  });
  it("points at sqlmigrate for what it does not write", async () => {
    const help = await recipe('models.ForeignKey(db_column="writer_id", on_delete=django.db.models.deletion.CASCADE, to="library.author")');
    // A placeholder PostgreSQL refuses, not a comment Django would strip and run as nothing.
    expect(help).toContain("<the ALTER TABLE statements sqlmigrate shows for column, without the foreign key's>");
  });

  it("re-points at a model whose key has the same type: only the constraint changes, and reversing brings the old one back", async () => {
    // Book's own foreign key to itself stands for another target with a bigint key (BookWyrm's ReadThrough.book, Book -> Edition).
    const help = await recipe('models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, to="library.book")');
    expect(help).toContain("change only the constraint (the column stays as it is)");
    expect(help).not.toContain("<the ALTER TABLE statements");
    expect(help).toContain(`reverse_sql='ALTER TABLE "library_book" ADD CONSTRAINT "library_book_author_id_d9a3b67e_fk_library_author_id" FOREIGN KEY ("author_id") REFERENCES "library_author" ("id") DEFERRABLE INITIALLY DEFERRED NOT VALID;'`);
    expect(help).toContain('FOREIGN KEY ("author_id") REFERENCES "library_book" ("id") DEFERRABLE INITIALLY DEFERRED NOT VALID;');
  });
});

