/**
 * A column name a later operation of the same migration gives to another field: the old release
 * finds a column, but not its own (c3nav mesh 0007: a varchar `message_type_new` renamed over the
 * removed smallint `message_type`; mesh 0009: `uplink` renamed away and a new `uplink` foreign key
 * added). dropping-column and renaming-column say what the old release gets instead of "column
 * does not exist", and renaming-column's pin leaves the new field a column of its own.
 */
import { describe, expect, it } from "vitest";
import { lint } from "../../src/index.js";
import { libraryProjects } from "../support/library-project.js";

const project = libraryProjects("column-name-reused");

async function findings(rule: string, ...operations: string[]) {
  const dir = project(`import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("library", "0001_initial")]
    operations = [
${operations.map((o) => `        ${o},`).join("\n")}
    ]
`);
  const result = await lint([dir], { cwd: dir, ruleNames: [rule] });
  return result.diagnostics.map((d) => ({ help: d.help.join("\n"), fix: d.fix !== undefined }));
}

describe("a column name another field takes later in the migration", () => {
  it("dropping-column: a column renamed over the dropped one, with both types", async () => {
    const [found] = await findings(
      "dropping-column",
      'migrations.AddField("book", "pages_text", models.CharField(max_length=24, null=True))',
      'migrations.RemoveField("book", "pages")',
      'migrations.RenameField("book", "pages_text", "pages")',
    );
    expect(found?.help).toContain(
      "The old release keeps finding a `pages` column in `library_book`, but from this migration on it is another one: `pages_text` (`Book.pages_text`), renamed to `pages` later in this migration (`varchar(24)` where it was `integer`).",
    );
    expect(found?.help).not.toContain('column "pages" does not exist');
  });

  it("dropping-column: a column added back under the same name", async () => {
    const [found] = await findings("dropping-column", 'migrations.RemoveField("book", "pages")', 'migrations.AddField("book", "pages", models.BigIntegerField(null=True))');
    expect(found?.help).toContain("it is another one: the column of `Book.pages`, added under the same name later in this migration (`bigint` where it was `integer`)");
  });

  it("renaming-column: the old name taken by a new field; the pin gives that field its own column, and no automatic fix edits half of it", async () => {
    const [found] = await findings(
      "renaming-column",
      'migrations.RenameField("book", "author", "writer")',
      'migrations.AddField("book", "author", models.ForeignKey(null=True, on_delete=django.db.models.deletion.SET_NULL, related_name="+", to="library.author"))',
    );
    expect(found?.help).toContain("The old release keeps finding a `author_id` column, but from this migration on it is the new `Book.author`'s, added later in this migration");
    expect(found?.help).toContain('db_column="author_id_new"');
    expect(found?.fix).toBe(false);
    const [plain] = await findings("renaming-column", 'migrations.RenameField("book", "author", "writer")');
    expect(plain?.help).toContain('column "author_id" does not exist');
    expect(plain?.fix).toBe(true);
  });

  it("renaming-column says what the existing rows hold in the new column; adding-nullable-column-with-default leaves it alone (pretalx common 0009)", async () => {
    const operations = ['migrations.RenameField("book", "subtitle", "legacy_subtitle")', 'migrations.AddField("book", "subtitle", models.JSONField(null=True, blank=True, default=dict))'];
    const [renamed] = await findings("renaming-column", ...operations);
    expect(renamed?.help).toContain("its `subtitle` reads that field's values (`{}` in every existing row) instead of its own");
    // The old release writes its own values into `subtitle`, not NULL.
    expect(await findings("adding-nullable-column-with-default", ...operations)).toEqual([]);
    // A name no rename freed: the old release does not know the column, and its rows get NULL.
    expect(await findings("adding-nullable-column-with-default", 'migrations.RenameField("book", "pages", "page_count")', 'migrations.AddField("book", "notes", models.JSONField(null=True, blank=True, default=dict))')).toHaveLength(1);
    const [nullable] = await findings("renaming-column", operations[0] as string, 'migrations.AddField("book", "subtitle", models.TextField(null=True))');
    expect(nullable?.help).toContain("(NULL in every existing row)");
  });
});
