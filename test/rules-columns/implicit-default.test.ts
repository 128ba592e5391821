/**
 * adding-not-nullable-column on fields Django fills without a `default` (Weblate accounts 0016,
 * authentik oauth2 0029, duo 0006): sqlmigrate on Django 4.2 shows ADD COLUMN ... DEFAULT '' NOT
 * NULL (or the migration's time) then DROP DEFAULT, and the migration runs on a table with rows;
 * only the old release's INSERTs fail. And a one-off default (preserve_default=False) is not
 * carried into the field the recipe's last step writes.
 */
import { describe, expect, it } from "vitest";
import { analyze } from "../../src/engine/lint.js";
import { libraryProjects } from "../support/library-project.js";

const project = libraryProjects("implicit-default");

async function helpOf(operation: string, django: [number, number] = [4, 2]): Promise<string> {
  const dir = project(`import datetime
import ckeditor.fields
import akvo.rsr.fields
import django.contrib.postgres.search
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("library", "0001_initial")]
    operations = [
        ${operation},
    ]
`);
  const { result } = await analyze(["."], { cwd: dir, ruleNames: ["adding-not-nullable-column"], target: { django } });
  expect(result.diagnostics).toHaveLength(1);
  return [result.diagnostics[0]?.message, ...(result.diagnostics[0]?.help ?? [])].join("\n");
}

describe("a NOT NULL field Django fills itself", () => {
  it("blank=True on a string field: the rows get '', and the recipe keeps '' as the database default", async () => {
    const help = await helpOf('migrations.AddField("book", "homepage", models.URLField(blank=True))');
    expect(help).toContain("Django adds `homepage` with DEFAULT '' to fill the existing rows");
    expect(help).not.toContain("the migration fails");
    expect(help).toContain(`ALTER COLUMN \\"homepage\\" SET DEFAULT '';`);
    expect(await helpOf('migrations.AddField("book", "homepage", models.URLField(blank=True))', [5, 0])).toContain('models.URLField(blank=True, db_default="")');
  });

  it("a known package's string field, and the doubt about a class rollsafe cannot place (akvo rsr 0178, 0203)", async () => {
    // ckeditor's RichTextField is a TextField: blank=True fills the rows with ''.
    expect(await helpOf('migrations.AddField("book", "body", ckeditor.fields.RichTextField(blank=True))')).toContain("Django adds `body` with DEFAULT '' to fill the existing rows");
    const unknown = await helpOf('migrations.AddField("book", "note", akvo.rsr.fields.ValidXMLTextField(blank=True))');
    expect(unknown).toContain("(unless `ValidXMLTextField`, a class rollsafe does not know, is a string field: Django then fills the existing rows with '' for `blank=True`, and only the old release's INSERTs fail)");
    expect(await helpOf('migrations.AddField("book", "score", models.IntegerField(blank=True))')).not.toContain("a class rollsafe does not know");
  });

  it("blank=True on contrib.postgres's SearchVectorField: '' is an empty tsvector (Funkwhale music 0044)", async () => {
    const help = await helpOf('migrations.AddField("book", "body_text", django.contrib.postgres.search.SearchVectorField(blank=True))');
    expect(help).toContain("Django adds `body_text` with DEFAULT '' to fill the existing rows, then drops the database default (Django's own value for `blank=True` on a field that allows empty strings, with no `default`)");
    expect(help).not.toContain("the migration fails");
  });

  it("auto_now_add: the rows get the migration's time, and the recipe sets DEFAULT now()", async () => {
    const help = await helpOf('migrations.AddField("book", "added", models.DateTimeField(auto_now_add=True))');
    expect(help).toContain("with DEFAULT the migration's time");
    expect(help).toContain(`SET DEFAULT now();`);
  });

  it("a one-off default stays out of the field the last step writes", async () => {
    const help = await helpOf(
      'migrations.AddField("book", "created", models.DateTimeField(auto_now_add=True, default=datetime.datetime(1, 1, 1, tzinfo=datetime.timezone.utc)), preserve_default=False)',
    );
    const last = help.slice(help.indexOf("3. "));
    expect(last).toContain("models.DateTimeField(auto_now_add=True)");
    expect(last).not.toContain("datetime.datetime(1, 1, 1");
  });
});

describe("a nullable string field with blank=True", () => {
  // Django's `_effective_default` fills '' only when `not field.null and field.blank`: a nullable
  // field is re-added with NULLs (Django 4.2's sqlmigrate --backwards: ADD COLUMN "subtitle"
  // varchar(200) NULL UNIQUE), so its unique constraint holds (Baserow database 0053).
  async function reversal(field: string): Promise<string[]> {
    const dir = project(`from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("library", "0001_initial")]
    operations = [
        migrations.AlterField("book", "subtitle", ${field}),
        migrations.RemoveField("book", "subtitle"),
    ]
`);
    const { result } = await analyze(["."], { cwd: dir, ruleNames: ["reversing-migration-fails"] });
    return result.diagnostics.map((d) => d.message);
  }

  it("is re-added with NULLs by the reversal of its removal, not one '' in every row", async () => {
    expect(await reversal("models.CharField(max_length=200, null=True, blank=True, unique=True)")).toEqual([]);
    expect(await reversal("models.CharField(max_length=200, blank=True, unique=True)")).toEqual([
      "Reversing this `RemoveField` re-adds unique column `library_book.subtitle` with one default value for every row, which fails once `library_book` has two rows.",
    ]);
  });
});

describe("on MySQL, a TEXT, BLOB or JSON column added with a default", () => {
  // Django 4.2's MySQL schema editor: `skip_default_on_alter` is true for `_limited_data_types`
  // (longtext, longblob, json), so add_field keeps the `DEFAULT (...)` it added the column with.
  it("keeps its default: the old release's INSERTs get it, nothing to report", async () => {
    const dir = project(`from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("library", "0001_initial")]
    operations = [
        migrations.AddField("book", "notes", models.TextField(blank=True)),
        migrations.AddField("book", "tags", models.JSONField(default=list)),
        migrations.AddField("book", "code", models.CharField(max_length=10, default="x")),
    ]
`);
    const found = async (database: "mysql" | "postgresql") =>
      (await analyze(["."], { cwd: dir, ruleNames: ["adding-not-nullable-column"], target: { database } })).result.diagnostics.map((d) => d.message.split("`")[1]);
    expect(await found("mysql")).toEqual(["Book.code"]);
    expect(await found("postgresql")).toEqual(["Book.notes", "Book.tags", "Book.code"]);
  });
});

describe("the database default the recipe gives (La Suite meet 0007, people 0010)", () => {
  it("keeps the field's Python default beside db_default, as models.py has it; a one-off default goes", async () => {
    expect(await helpOf('migrations.AddField("book", "mode", models.CharField(default="screen", max_length=20))', [5, 0])).toContain(
      'models.CharField(default="screen", max_length=20, db_default="screen")',
    );
    expect(await helpOf('migrations.AddField("book", "mode", models.CharField(default="screen", max_length=20), preserve_default=False)', [5, 0])).toContain(
      'models.CharField(max_length=20, db_default="screen")',
    );
  });

  it("gives a unique column no constant default, also when a later AlterField of the migration makes it unique", async () => {
    for (const operations of [
      'migrations.AddField("book", "path", models.CharField(default="", max_length=40, unique=True))',
      'migrations.AddField("book", "path", models.CharField(default="", max_length=40), preserve_default=False),\n        migrations.AlterField("Book", "path", models.CharField(max_length=40, unique=True))',
    ]) {
      for (const django of [[4, 2], [5, 0]] as [number, number][]) {
        const help = await helpOf(operations, django);
        expect(help).toContain("no constant database default can fill it for the old release: its second INSERT would repeat the first one's value.");
        expect(help).not.toContain("db_default=");
        expect(help).not.toContain("SET DEFAULT");
        expect(help).toContain("1. Add the column as nullable in this release:");
      }
    }
  });
});
