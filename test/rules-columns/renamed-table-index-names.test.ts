/**
 * reusing-index-names-of-renamed-table follows which indexes keep the old table's names: those
 * made before the rename. Indexes made in the same migration as the rename are built with the
 * schema editor's deferred SQL when the migration ends, after `_alter_db_table` has renamed the
 * references in it, so they take the new table's names (Django 4.2 on PostgreSQL 15: a CreateModel,
 * a RenameModel and a CreateModel under the old name in one migration apply).
 */
import { describe, expect, it } from "vitest";
import { lint } from "../../src/index.js";
import { appProjects, migrationSource } from "../support/library-project.js";

const projects = appProjects("renamed-table-index-names");
const HEADER = "import django.db.models.deletion\n";
const author = 'migrations.CreateModel(name="Author", fields=[("id", models.BigAutoField(primary_key=True, serialize=False))])';
const book = (related: string) =>
  `migrations.CreateModel(name="Book", fields=[("id", models.BigAutoField(primary_key=True, serialize=False)), ("author", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name="${related}", to="library.author"))])`;

async function rules(migrations: Record<string, string[]>) {
  let previous: string | null = null;
  const files: Record<string, string> = {};
  for (const [name, operations] of Object.entries(migrations)) {
    files[name] = migrationSource("library", previous, operations, HEADER);
    previous = name;
  }
  const dir = projects("library", files);
  return (await lint([dir], { cwd: dir, ruleNames: ["reusing-index-names-of-renamed-table"] })).diagnostics.map((d) => d.message);
}

describe("the index names a renamed table keeps", () => {
  it("are those of indexes made before the rename's migration", async () => {
    const found = await rules({ "0001_initial": [author, book("books")], "0002_swap": ['migrations.RenameModel("Book", "Title")', book("new_books")] });
    expect(found).toEqual([expect.stringContaining("makes index `library_book_author_id_d9a3b67e`, a name `library_title` still holds")]);
  });

  it("not those of indexes made in the same migration (deferred SQL follows the rename)", async () => {
    expect(await rules({ "0001_initial": [author, book("books"), 'migrations.RenameModel("Book", "Title")', book("new_books")] })).toEqual([]);
    // A foreign key added in the rename's own migration, too.
    const added = 'migrations.AddField("book", "editor", models.ForeignKey(null=True, on_delete=django.db.models.deletion.CASCADE, related_name="+", to="library.author"))';
    const withEditor = book("new_books").replace('("author",', '("editor", models.ForeignKey(null=True, on_delete=django.db.models.deletion.CASCADE, related_name="+", to="library.author")), ("author",');
    const found = await rules({
      "0001_initial": [author, 'migrations.CreateModel(name="Book", fields=[("id", models.BigAutoField(primary_key=True, serialize=False))])'],
      "0002_swap": [added, 'migrations.RenameModel("Book", "Title")', withEditor],
    });
    expect(found).toEqual([]);
  });

  it("are no longer taken once raw SQL earlier in the migration renames or drops them", async () => {
    const rename = `migrations.RunSQL('ALTER INDEX "library_book_author_id_d9a3b67e" RENAME TO "library_title_author_id_8314997f";', migrations.RunSQL.noop)`;
    expect(await rules({ "0001_initial": [author, book("books")], "0002_title": ['migrations.RenameModel("Book", "Title")'], "0003_book": [rename, book("new_books")] })).toEqual([]);
  });
});
