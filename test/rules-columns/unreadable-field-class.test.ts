/**
 * changing-column-type on an AlterField to or from a field class rollsafe cannot read (a package
 * outside the tree: umap's DictField when only `migrations/` is checked, kolibri's DateTimeTzField):
 * the column may change type, which only sqlmigrate can show, so a warning says what to check.
 * Not a fixture case: the verification harness's Django cannot import such a package.
 */
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
