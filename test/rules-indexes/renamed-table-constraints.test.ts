/**
 * A foreign key's constraint keeps the name it was made with when its table, or the table it
 * references, is renamed without Django making it again (`AlterModelTable`, or `RenameModel` of
 * the model that holds it): Django finds the constraint it drops by introspection. The names below
 * are Django 4.2's sqlmigrate output on PostgreSQL 15, after migrating to the rename.
 */
import { describe, expect, it } from "vitest";
import { lint } from "../../src/index.js";
import { libraryProjects } from "../support/library-project.js";

const project = libraryProjects("renamed-table-constraints");

async function messages(operations: string[]): Promise<string[]> {
  const dir = project(`import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("library", "0001_initial")]
    operations = [
${operations.map((op) => `        ${op},`).join("\n")}
    ]
`);
  return (await lint([dir], { cwd: dir, ruleNames: ["adding-foreign-key-constraint"] })).diagnostics.map((d) => d.message);
}

describe("constraint names after table renames", () => {
  it("AlterModelTable of both tables: the dropped constraint has the old names, the new one the current ones", async () => {
    expect(
      await messages([
        'migrations.AlterModelTable(name="author", table="writers")',
        'migrations.AlterModelTable(name="book", table="volumes")',
        'migrations.AlterField("book", "author", models.ForeignKey(null=True, on_delete=django.db.models.deletion.CASCADE, to="library.author"))',
      ]),
    ).toEqual([
      "Altering foreign key `Book.author` drops constraint `library_book_author_id_d9a3b67e_fk_library_author_id` and adds `volumes_author_id_88b9a724_fk_writers_id`, checking every row of `volumes` while reads and writes of `volumes` and `writers` are blocked.",
    ]);
  });

  it("RenameModel of the model that holds the foreign key keeps it; RenameModel of the referenced model makes it again", async () => {
    // Book -> Volume renames library_book; its constraint to library_author keeps its name.
    expect(
      await messages([
        'migrations.RenameModel(old_name="Book", new_name="Volume")',
        'migrations.AlterField("volume", "author", models.ForeignKey(null=True, on_delete=django.db.models.deletion.CASCADE, to="library.author"))',
      ]),
    ).toEqual([
      "Altering foreign key `Volume.author` drops constraint `library_book_author_id_d9a3b67e_fk_library_author_id` and adds `library_volume_author_id_3e9ce15e_fk_library_author_id`, checking every row of `library_volume` while reads and writes of `library_volume` and `library_author` are blocked.",
    ]);
    // Author -> Writer: Django alters Book.author to point at it, making the constraint again
    // under the new table's name; a later change drops that one.
    const [, later] = await messages([
      'migrations.RenameModel(old_name="Author", new_name="Writer")',
      'migrations.AlterField("book", "author", models.ForeignKey(null=True, on_delete=django.db.models.deletion.CASCADE, to="library.writer"))',
    ]).then((found) => [found.length, found.find((m) => m.startsWith("Altering foreign key `Book.author`"))]);
    expect(later).toContain("drops and re-adds constraint `library_book_author_id_");
    expect(later).toContain("_fk_library_writer_id`");
  });
});
