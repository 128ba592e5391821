/**
 * adding-column-with-callable-default's recipe adds the column without the value Django would
 * compute once: for a package class that turns `auto_now_add` on in its `__init__`
 * (django-extensions' CreationDateTimeField, Read the Docs builds 0029), leaving the argument out
 * keeps it on, so the recipe turns it off explicitly; and the backfill imports what it calls.
 */
import { describe, expect, it } from "vitest";
import { lint } from "../../src/index.js";
import { libraryProjects } from "../support/library-project.js";

const project = libraryProjects("callable-default-recipe");

async function advice(field: string, imports = ""): Promise<string> {
  const dir = project(`${imports}from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("library", "0001_initial")]
    operations = [
        migrations.AddField("book", "created", ${field}),
    ]
`);
  const [found] = (await lint([dir], { cwd: dir, ruleNames: ["adding-column-with-callable-default"] })).diagnostics;
  return found?.help.join("\n") ?? "";
}

describe("adding-column-with-callable-default's recipe", () => {
  it("turns auto_now_add off explicitly on a class that may set it itself, and imports timezone", async () => {
    const extensions = await advice("django_extensions.db.fields.CreationDateTimeField(auto_now_add=True, null=True)", "import django_extensions.db.fields\n");
    expect(extensions).toContain("field=django_extensions.db.fields.CreationDateTimeField(null=True, auto_now_add=False)");
    expect(extensions).toContain("from django.utils import timezone");
    const plain = await advice("models.DateTimeField(auto_now_add=True, null=True)");
    expect(plain).toContain("field=models.DateTimeField(null=True),");
  });

  it("imports the module of another callable, as the migration's own operations are imported", async () => {
    expect(await advice("models.UUIDField(default=uuid.uuid4, null=True)", "import uuid\n")).toContain("import uuid\n\ndef backfill(apps, schema_editor):");
    // A dotted path needs its module imported, not its package (Debian's lava and django-otp:
    // `import django` left `django.utils.timezone` unbound).
    expect(await advice("models.DateTimeField(default=django.utils.timezone.now, null=True)", "import django.utils.timezone\n")).toContain("import django.utils.timezone\n\ndef backfill(apps, schema_editor):");
  });
});
