/**
 * adding-existing-column: an `AddField` of a column the table has (Django's state replaces the
 * field; the database's second ADD COLUMN fails). The merged-branches shape is a fixture; these are
 * the other ways a column can be there or not.
 */
import { describe, expect, it } from "vitest";
import { analyze } from "../../src/engine/lint.js";
import { libraryProjects } from "../support/library-project.js";

const project = libraryProjects("existing-column");

async function findings(operations: string, database: "postgresql" | "mysql" | "sqlite" = "postgresql"): Promise<string[]> {
  const dir = project(`import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("library", "0001_initial")]

    operations = [
${operations}
    ]
`);
  const { result } = await analyze(["."], { cwd: dir, ruleNames: ["adding-existing-column"], target: { database } });
  return result.diagnostics.map((d) => `${d.line}: ${d.message}`);
}

describe("adding-existing-column", () => {
  it("reports the same AddField twice in one migration (a draft of Tandoor cookbook 0159)", async () => {
    const add = `        migrations.AddField("book", "isbn", models.CharField(max_length=13, null=True)),`;
    expect(await findings(`${add}\n${add}`)).toEqual([
      '10: `AddField` adds column `isbn` to `library_book`, which already has it (`Book.isbn`, added earlier in this migration): `migrate` fails here with `column "isbn" of relation "library_book" already exists`.',
    ]);
    expect(await findings(`${add}\n${add}`, "mysql")).toEqual([
      "10: `AddField` adds column `isbn` to `library_book`, which already has it (`Book.isbn`, added earlier in this migration): `migrate` fails here with `Duplicate column name 'isbn'`.",
    ]);
    // SQLite runs ADD COLUMN for a nullable field without a default; for others it remakes the
    // table from the state, where the second field replaced the first (both checked with Django 4.2).
    expect(await findings(`${add}\n${add}`, "sqlite")).toEqual([
      "10: `AddField` adds column `isbn` to `library_book`, which already has it (`Book.isbn`, added earlier in this migration): `migrate` fails here with `duplicate column name: isbn`.",
    ]);
    const withDefault = `        migrations.AddField("book", "isbn", models.CharField(max_length=13, default="")),`;
    expect(await findings(`${withDefault}\n${withDefault}`, "sqlite")).toEqual([]);
    expect(await findings(`${withDefault}\n${withDefault}`)).toHaveLength(1);
  });

  it("compares columns: db_column, a foreign key's _id, a field the setup migration made", async () => {
    expect(await findings(`        migrations.AddField("book", "heading", models.CharField(max_length=200, db_column="title", null=True)),`)).toEqual([
      '9: `AddField` adds column `title` to `library_book`, which already has it (`Book.title`\'s column): `migrate` fails here with `column "title" of relation "library_book" already exists`.',
    ]);
    expect(await findings(`        migrations.AddField("book", "author_id", models.IntegerField(null=True)),`)).toHaveLength(1);
  });

  it("is quiet when the column was dropped or renamed away first, or the first add was state-only", async () => {
    const add = `        migrations.AddField("book", "pages", models.IntegerField(null=True)),`;
    expect(await findings(`        migrations.RemoveField("book", "pages"),\n${add}`)).toEqual([]);
    expect(await findings(`        migrations.RenameField("book", "pages", "page_count"),\n${add}`)).toEqual([]);
    expect(
      await findings(`        migrations.SeparateDatabaseAndState(state_operations=[migrations.AddField("book", "isbn", models.CharField(max_length=13, null=True))]),
        migrations.AddField("book", "isbn", models.CharField(max_length=13, null=True)),`),
    ).toEqual([]);
    // A many-to-many field makes a table of its own.
    expect(await findings(`        migrations.AddField("book", "editors", models.ManyToManyField(to="library.author", related_name="edited")),`)).toEqual([]);
  });
});
