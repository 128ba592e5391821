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
    // State only: the empty database side is left out.
    expect(help).toContain("state_operations=[");
    expect(help).not.toContain("database_operations");
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


describe("adding-unique-constraint on an AlterField that changes more than unique", () => {
  async function uniqueRecipe(field: string): Promise<string> {
    const dir = project(
      `import uuid\nfrom django.db import migrations, models\n\n\nclass Migration(migrations.Migration):\n    dependencies = [("library", "0001_initial")]\n    operations = [\n        migrations.AlterField("book", "subtitle", ${field}),\n    ]\n`,
    );
    const found = (await lint([dir], { cwd: dir, ruleNames: ["adding-unique-constraint"] })).diagnostics;
    expect(found).toHaveLength(1);
    return found[0]?.help.join("\n") ?? "";
  }

  it("runs the rest of the change first, so the state-only step leaves nothing out (BookWyrm 0037, RapidPro contacts 0214)", async () => {
    const nullable = await uniqueRecipe("models.CharField(max_length=250, null=True, unique=True)");
    expect(nullable).toMatch(/Run the rest of the change \(max_length\) first, as Django's own `AlterField` without `unique`:\n(```python\n)?\s*migrations\.AlterField\(\n\s*model_name="book",\n\s*name="subtitle",\n\s*field=models\.CharField\(max_length=250, null=True\),/);
    const notNull = await uniqueRecipe("models.CharField(max_length=200, default=uuid.uuid4, unique=True)");
    expect(notNull).toContain("Run the rest of the change (null) first");
    expect(notNull).toContain("see `setting-column-not-null`");
    expect(notNull).toContain("Django fills every NULL with one value of it (called once)");
    // Only unique: nothing else to run.
    expect(await uniqueRecipe("models.CharField(max_length=200, null=True, unique=True)")).not.toContain("Run the rest");
  });
});
