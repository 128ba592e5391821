/**
 * changing-column-type on an AlterField to or from a field class rollsafe cannot read (a package
 * outside the tree: umap's DictField when only `migrations/` is checked, kolibri's DateTimeTzField):
 * the column may change type, which only sqlmigrate can show, so a warning says what to check.
 * Not a fixture case: the verification harness's Django cannot import such a package.
 */
import { writeFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { lint } from "../../src/index.js";
import { libraryProjects } from "../support/library-project.js";

const project = libraryProjects("unreadable-field-class");

async function findingsOf(...operations: string[]) {
  const dir = project(`import markupfield.fields
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("library", "0001_initial")]
    operations = [
${operations.map((o) => `        ${o},`).join("\n")}
    ]
`);
  const result = await lint([dir], { cwd: dir, ruleNames: ["changing-column-type"] });
  return result.diagnostics.map((d) => ({ severity: d.severity, message: d.message, help: d.help.join("\n") }));
}

describe("a field class rollsafe cannot read", () => {
  it("to or from a known class: a warning naming the known type and the class, with sqlmigrate to check", async () => {
    const [to] = await findingsOf('migrations.AlterField("book", "subtitle", markupfield.fields.MarkupField(null=True))');
    expect(to?.severity).toBe("warning");
    expect(to?.message).toBe(
      "Changing `Book.subtitle` from `CharField` to `MarkupField` may change the type of `library_book.subtitle` (`varchar(200)` before), and rollsafe cannot read `markupfield.fields.MarkupField`.",
    );
    expect(to?.help).toContain("python manage.py sqlmigrate library 0002_fk");
    expect(to?.help).toContain('no `ALTER COLUMN "subtitle" TYPE`');
    const [from] = await findingsOf('migrations.AddField("book", "notes", markupfield.fields.MarkupField(null=True))', 'migrations.AlterField("book", "notes", models.TextField(null=True))');
    expect(from?.message).toContain("may change the type of `library_book.notes` (`text` after)");
  });

  it("the same class on both sides, or a table made in the same migration: nothing to say", async () => {
    expect(
      await findingsOf('migrations.AddField("book", "notes", markupfield.fields.MarkupField(null=True))', 'migrations.AlterField("book", "notes", markupfield.fields.MarkupField(null=True, help_text="Shown under the title"))'),
    ).toEqual([]);
    expect(
      await findingsOf('migrations.CreateModel("Shelf", [("id", models.BigAutoField(primary_key=True)), ("label", models.CharField(max_length=20))])', 'migrations.AlterField("shelf", "label", markupfield.fields.MarkupField())'),
    ).toEqual([]);
  });
});

describe("a project field class read in its module, whose base is in no module of the run", () => {
  it("says which class it read and which base it could not follow, and to check that base's directory", async () => {
    const dir = project(`import library.fields
from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("library", "0001_initial")]
    operations = [
        migrations.AlterField("book", "subtitle", library.fields.TagField(max_length=200, null=True)),
    ]
`);
    writeFileSync(path.join(dir, "library", "fields.py"), "from taggit_like.fields import ExternalTagField\n\n\nclass TagField(ExternalTagField):\n    pass\n");
    const [found] = (await lint([dir], { cwd: dir, ruleNames: ["changing-column-type"] })).diagnostics;
    expect(found?.message).toBe(
      "Changing `Book.subtitle` from `CharField` to `TagField` may change the type of `library_book.subtitle` (`varchar(200)` before), and rollsafe cannot follow `library.fields.TagField` to a Django field.",
    );
    const help = found?.help.join("\n") ?? "";
    expect(help).toContain("rollsafe read `TagField` in library/fields.py, but it derives from `taggit_like.fields.ExternalTagField`, in no module of the run");
    expect(help).toContain("3. Or, if `taggit_like.fields.ExternalTagField` is the project's, check the directory that holds its module too");
    expect(help).not.toContain("give rollsafe the module that defines the class");
  });

  it("a class followed to contrib.postgres' CICharField is citext (BookWyrm's own CICharField, read)", async () => {
    const dir = project(`import bookwyrm_fields
import django.contrib.postgres.fields.citext
from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("library", "0001_initial")]
    operations = [
        migrations.AddField("book", "tag", django.contrib.postgres.fields.citext.CICharField(max_length=256, null=True)),
        migrations.AlterField("book", "tag", bookwyrm_fields.CICharField(max_length=256, null=True)),
    ]
`);
    writeFileSync(
      path.join(dir, "bookwyrm_fields.py"),
      "from django.contrib.postgres.fields import CICharField as DjangoCICharField\n\n\nclass ActivitypubFieldMixin:\n    pass\n\n\nclass CICharField(ActivitypubFieldMixin, DjangoCICharField):\n    pass\n",
    );
    expect((await lint([dir], { cwd: dir, ruleNames: ["changing-column-type"] })).diagnostics).toEqual([]);
  });
});
