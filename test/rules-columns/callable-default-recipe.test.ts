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

  it("makes the column NOT NULL at the end only when the field is NOT NULL (koku reporting_common 0036 adds it nullable)", async () => {
    const nullable = await advice("models.DateTimeField(default=django.utils.timezone.now, null=True)", "import django.utils.timezone\n");
    expect(nullable).not.toContain("make the column NOT NULL");
    const required = await advice("models.UUIDField(default=uuid.uuid4, unique=True)", "import uuid\n");
    expect(required).toContain("Finally make the column NOT NULL post-deploy");
  });

  it("imports the module of another callable, as the migration's own operations are imported", async () => {
    expect(await advice("models.UUIDField(default=uuid.uuid4, null=True)", "import uuid\n")).toContain("import uuid\n\ndef backfill(apps, schema_editor):");
    // A dotted path needs its module imported, not its package (Debian's lava and django-otp:
    // `import django` left `django.utils.timezone` unbound).
    expect(await advice("models.DateTimeField(default=django.utils.timezone.now, null=True)", "import django.utils.timezone\n")).toContain("import django.utils.timezone\n\ndef backfill(apps, schema_editor):");
  });
});

describe("adding-column-with-callable-default's recipe for a foreign key (pulpcore 0102)", () => {
  it("attaches the default in Django's state only: an AlterField of a foreign key drops and re-adds its constraint", async () => {
    const field = 'models.ForeignKey(default=library.picks.pick, on_delete=models.CASCADE, to="library.author")';
    const dir = project(`from django.db import migrations, models
import library.picks


class Migration(migrations.Migration):
    dependencies = [("library", "0001_initial")]
    operations = [
        migrations.AddField("book", "editor", ${field}),
    ]
`);
    const [found] = (await lint([dir], { cwd: dir, ruleNames: ["adding-column-with-callable-default"] })).diagnostics;
    const help = found?.help.join("\n") ?? "";
    expect(help).toContain("an `AlterField` of a foreign key drops and re-adds its constraint, validating every row, even when only `default` changes");
    // The recipe's two operations, as a migration: nothing validates the constraint again.
    const snippets = [...help.matchAll(/```python\n([\s\S]*?)\n```/g)].map((m) => m[1] as string).slice(0, 2);
    expect(snippets[1]).toMatch(/^migrations\.SeparateDatabaseAndState\(\n    state_operations=\[\n        migrations\.AlterField\(/);
    const followed = project(`from django.db import migrations, models
import library.picks


class Migration(migrations.Migration):
    dependencies = [("library", "0001_initial")]
    operations = [
${snippets.map((s) => `${s.replace(/,$/, "")},`.replace(/^/gm, "        ")).join("\n")}
    ]
`);
    const rules = ["adding-foreign-key-constraint", "adding-column-with-callable-default", "adding-not-nullable-column"];
    // What is left is the nullable AddField's own index build (its own finding), not a re-validation.
    expect((await lint([followed], { cwd: followed, ruleNames: rules })).diagnostics.map((d) => `${d.rule}: ${d.message}`)).toEqual([
      expect.stringMatching(/^adding-foreign-key-constraint: Adding foreign key `Book.editor` builds its index /),
    ]);
  });

  it("keeps a plain AlterField for a column that is not a foreign key, which Django alters with no SQL", async () => {
    const plain = await advice("models.UUIDField(default=uuid.uuid4, null=True)", "import uuid\n");
    expect(plain).toContain("an `AlterField` that only changes `default` emits no SQL");
    expect(plain).not.toContain("SeparateDatabaseAndState");
  });
});

describe("defaults that return equal values every call", () => {
  async function reported(field: string, imports: string, modules: Record<string, string> = {}): Promise<string[]> {
    const dir = project(`${imports}from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("library", "0001_initial")]
    operations = [
        migrations.AddField("book", "settings", ${field}),
    ]
`);
    const { writeFileSync } = await import("node:fs");
    for (const [file, source] of Object.entries(modules)) writeFileSync(`${dir}/library/${file}`, source);
    return (await lint([dir], { cwd: dir, ruleNames: ["adding-column-with-callable-default"] })).diagnostics.map((d) => d.message);
  }

  it("are not flagged: timedelta, and a project function that returns one literal (Pontoon's active_users_default)", async () => {
    expect(await reported("models.DurationField(null=True, default=datetime.timedelta)", "import datetime\n")).toEqual([]);
    const constant = 'def settings_default():\n    """The settings a new book starts with."""\n    return {"public": False, "tags": ["a", "b"], "limit": -1}\n';
    expect(await reported("models.JSONField(null=True, default=library.defaults.settings_default)", "import library.defaults\n", { "defaults.py": constant })).toEqual([]);
  });

  it("are not flagged: a project function that returns a setting or a named constant (umap's get_default_edit_status)", async () => {
    const setting = "from django.conf import settings\n\n\ndef default_status():\n    return settings.DEFAULT_EDIT_STATUS or Book.OWNER\n\n\nclass Book:\n    OWNER = 3\n";
    expect(await reported("models.SmallIntegerField(null=True, default=library.defaults.default_status)", "import library.defaults\n", { "defaults.py": setting })).toEqual([]);
    const named = "LIMIT = 10\n\n\ndef default_limit():\n    return (LIMIT if True else 5)\n";
    expect(await reported("models.SmallIntegerField(null=True, default=library.defaults.default_limit)", "import library.defaults\n", { "defaults.py": named })).toEqual([]);
  });

  it("are not flagged when a later UPDATE of the migration sets the column on every row (umap 0018); one with a WHERE leaves rows sharing the value", async () => {
    const dir = (update: string) =>
      project(`import uuid
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("library", "0001_initial")]
    operations = [
        migrations.AddField("book", "uuid", models.UUIDField(default=uuid.uuid4, null=True)),
        migrations.RunSQL(${JSON.stringify(update)}, migrations.RunSQL.noop),
    ]
`);
    const messages = async (update: string) => {
      const at = dir(update);
      return (await lint([at], { cwd: at, ruleNames: ["adding-column-with-callable-default"] })).diagnostics.map((d) => d.message);
    };
    expect(await messages("UPDATE library_book SET uuid = gen_random_uuid()")).toEqual([]);
    expect(await messages("UPDATE library_book SET uuid = gen_random_uuid() WHERE id < 10")).toHaveLength(1);
    expect(await messages("UPDATE library_book SET title = upper(title)")).toHaveLength(1);
  });

  it("a bare name imported from a module: a function unless the module binds it to a value (wger weight 0005's uuid7)", async () => {
    // The module is outside the tree: a lower-case name a module exports is read as a function.
    expect(await reported("models.UUIDField(null=True, default=uuid7)", "from wger.utils.uuid import uuid7\n")).toEqual([
      "Adding `Book.settings` with `default=uuid7` gives every existing row of `library_book` the same value.",
    ]);
    // In the tree: a function that computes its value, a name bound to a constant, a function returning one.
    const module = 'import uuid\n\ndefault_color = "red"\n\n\ndef make_id():\n    return uuid.uuid4()\n\n\ndef fixed():\n    return "x"\n';
    expect(await reported("models.UUIDField(null=True, default=make_id)", "from library.defaults import make_id\n", { "defaults.py": module })).toHaveLength(1);
    expect(await reported('models.CharField(max_length=10, null=True, default=default_color)', "from library.defaults import default_color\n", { "defaults.py": module })).toEqual([]);
    expect(await reported('models.CharField(max_length=10, null=True, default=fixed)', "from library.defaults import fixed\n", { "defaults.py": module })).toEqual([]);
  });

  it("are flagged when the function computes its value", async () => {
    const computed = 'import secrets\n\n\ndef settings_default():\n    return {"token": secrets.token_hex(8)}\n';
    expect(await reported("models.JSONField(null=True, default=library.defaults.settings_default)", "import library.defaults\n", { "defaults.py": computed })).toHaveLength(1);
    // An attribute read that is no setting and no upper-case constant may change between calls.
    const counter = "class State:\n    counter = 0\n\n\ndef next_value():\n    return State.counter\n";
    expect(await reported("models.SmallIntegerField(null=True, default=library.defaults.next_value)", "import library.defaults\n", { "defaults.py": counter })).toHaveLength(1);
  });
});
