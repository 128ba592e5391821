/**
 * RunPython findings name what the migration wrote: a `partial(...)` as it is, and a model held
 * in a variable (a loop over models) as that variable, without inventing a model called `model`.
 */
import { writeFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { lint } from "../../src/index.js";
import { appProjects, libraryProjects, migrationSource } from "../support/library-project.js";

const project = libraryProjects("run-python");
const labelProjects = appProjects("run-python-label");

/**
 * A migration of the library app whose one `RunPython` runs `forwards`, with `body` as its
 * statements (indented here), `imports` after Django's, and `atomic = False` when asked.
 */
function runPythonMigration(body: string[], options: { imports?: string[]; atomic?: boolean } = {}): string {
  return [
    "from django.db import migrations, models",
    ...(options.imports ?? []),
    "",
    "",
    "def forwards(apps, schema_editor):",
    ...body.map((line) => `    ${line}`),
    "",
    "",
    "class Migration(migrations.Migration):",
    ...(options.atomic === false ? ["    atomic = False"] : []),
    '    dependencies = [("library", "0001_initial")]',
    "    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]",
    "",
  ].join("\n");
}

describe("RunPython findings name what the migration wrote", () => {
  it("a partial, and a model in a loop variable", async () => {
    const dir = project(
      [
        "from functools import partial",
        "",
        "from django.db import migrations",
        "",
        "",
        "def fix(table, apps, schema_editor):",
        "    pass",
        "",
        "",
        "def update_all(apps, schema_editor):",
        '    for model in (apps.get_model("library", "Book"), apps.get_model("library", "Author")):',
        '        model.objects.update(name="x")',
        "",
        "",
        "class Migration(migrations.Migration):",
        '    dependencies = [("library", "0001_initial")]',
        "    operations = [",
        '        migrations.RunPython(partial(fix, "library_book")),',
        "        migrations.RunPython(update_all, migrations.RunPython.noop),",
        "    ]",
        "",
      ].join("\n"),
    );
    const found = (await lint([dir], { cwd: dir, ruleNames: ["runpython-without-reverse-code", "runpython-updating-all-rows"] })).diagnostics;
    const reverse = found.find((d) => d.rule === "runpython-without-reverse-code");
    expect(reverse?.message).toBe('`RunPython(partial(fix, "library_book"))` has no `reverse_code`, so `0002_fk` cannot be rolled back.');
    expect(reverse?.help.join("\n")).toContain('migrations.RunPython(partial(fix, "library_book"), reverse_code=migrations.RunPython.noop)');
    const all = found.find((d) => d.rule === "runpython-updating-all-rows");
    expect(all?.message).toBe("`update_all` updates every row of the model in `model` in one statement (`model.objects.update`).");
    expect(all?.help.join("\n")).not.toContain('get_model("library", "model")');
  });

  it("the model whose rows a loop loads and saves, as the function names it (pretix sendmail 0004)", async () => {
    const source = (bind: string, name: string) => runPythonMigration([bind, `for book in ${name}.objects.all():`, "    book.save()"]);
    const adviceFor = async (bind: string, name: string) => {
      const dir = project(source(bind, name));
      const [found] = (await lint([dir], { cwd: dir, ruleNames: ["runpython-updating-all-rows"] })).diagnostics;
      return found?.help.join("\n") ?? "";
    };
    const variable = await adviceFor('book_model = apps.get_model("library", "Book")', "book_model");
    // A loop that saves row by row is not one statement; its memory and its row locks are what cost.
    expect(variable).toContain("Every row is loaded into the migration process at once");
    expect(variable).not.toContain("A single statement");
    expect(variable).toContain("...  # bind book_model as the function does");
    expect(variable).toContain("for pk in book_model.objects.order_by(");
    expect(variable).not.toContain('"Model"');
    const named = await adviceFor('Book = apps.get_model("library", "Book")', "Book");
    expect(named).toContain('Book = apps.get_model("library", "Book")');
    // A class-like name that is no model of the app (netbox ipam 0088's `ChildModel`, bound from a parameter).
    const bound = await adviceFor('ChildModel = apps.get_model("library", "Book")', "ChildModel");
    expect(bound).toContain("...  # bind ChildModel as the function does");
    expect(bound).not.toContain('get_model("library", "ChildModel")');
  });

  it("a manager named like objects, and a model imported from a module of a models package (ephios core 0023, guests 0007)", async () => {
    const dir = project(
      [
        "from django.db import migrations",
        "",
        "from library.models.books import Book",
        "from library.models.fields import Upper",
        "",
        "",
        "def lower(apps, schema_editor):",
        '    Author = apps.get_model("library", "Author")',
        "    for author in Author.all_objects.using(schema_editor.connection.alias).all():",
        "        author.name = Upper(author.name)",
        "        author.save()",
        "    Book.objects.filter(pages=None).update(pages=0)",
        "",
        "",
        "class Migration(migrations.Migration):",
        '    dependencies = [("library", "0001_initial")]',
        "    operations = [migrations.RunPython(lower, migrations.RunPython.noop)]",
        "",
      ].join("\n"),
    );
    const found = (await lint([dir], { cwd: dir, ruleNames: ["runpython-importing-models", "runpython-updating-all-rows"] })).diagnostics;
    expect(found.map((d) => `${d.rule}: ${d.message}`)).toEqual([
      "runpython-importing-models: `lower` uses the imported model class `Book` instead of `apps.get_model`.",
      "runpython-updating-all-rows: `lower` loads every row of a table into memory (`Author.all_objects.using(...).all()` without `.iterator()`) and saves them one by one.",
    ]);
  });

  it("every row saved through .iterator() in an atomic migration: locks, not memory (Read the Docs builds 0032)", async () => {
    const source = (atomic: string) =>
      [
        "from django.db import migrations",
        "",
        "",
        "def forwards(apps, schema_editor):",
        '    Book = apps.get_model("library", "Book")',
        "    for book in Book.objects.all().iterator():",
        "        book.save()",
        "",
        "",
        "class Migration(migrations.Migration):",
        atomic,
        '    dependencies = [("library", "0001_initial")]',
        "    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]",
        "",
      ].join("\n");
    const atomicDir = project(source(""));
    const found = (await lint([atomicDir], { cwd: atomicDir, ruleNames: ["runpython-updating-all-rows"] })).diagnostics;
    expect(found.map((d) => d.message)).toEqual(["`forwards` saves every row of `Book` one by one inside this atomic migration's transaction."]);
    const batched = project(source("    atomic = False"));
    expect((await lint([batched], { cwd: batched, ruleNames: ["runpython-updating-all-rows"] })).diagnostics).toEqual([]);
  });

  it("names the model iterated, not a lookup table read first, and not a loop that saves new rows (IETF datatracker meeting 0023)", async () => {
    const source = (body: string[]) =>
      [
        "from django.db import migrations",
        "",
        "",
        "def forwards(apps, schema_editor):",
        '    Book = apps.get_model("library", "Book")',
        '    Author = apps.get_model("library", "Author")',
        "    names = {a.pk: a for a in Author.objects.all()}",
        ...body,
        "",
        "",
        "class Migration(migrations.Migration):",
        '    dependencies = [("library", "0001_initial")]',
        "    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]",
        "",
      ].join("\n");
    const messages = async (body: string[]) => {
      const dir = project(source(body));
      return (await lint([dir], { cwd: dir, ruleNames: ["runpython-updating-all-rows"] })).diagnostics.map((d) => d.message);
    };
    expect(await messages(["    for book in Book.objects.iterator():", "        book.subtitle = names[book.author_id].name", "        book.save()"])).toEqual([
      "`forwards` saves every row of `Book` one by one inside this atomic migration's transaction.",
    ]);
    expect(await messages(["    for book in Book.objects.iterator():", "        copy = Book()", "        copy.title = book.title", "        copy.save()"])).toEqual([]);
  });

  it("leaves out an imported class the function rebinds to apps.get_model (Tandoor cookbook 0157)", async () => {
    const source = (rebind: boolean) =>
      [
        "from django.db import migrations",
        "from library.models import Book",
        "",
        "",
        "def forwards(apps, schema_editor):",
        ...(rebind ? ['    Book = apps.get_model("library", "Book")'] : []),
        "    Book.objects.filter(pages__isnull=True).update(pages=0)",
        "",
        "",
        "class Migration(migrations.Migration):",
        '    dependencies = [("library", "0001_initial")]',
        "    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]",
        "",
      ].join("\n");
    const rules = async (rebind: boolean) => {
      const dir = project(source(rebind));
      return (await lint([dir], { cwd: dir, ruleNames: ["runpython-importing-models"] })).diagnostics.map((d) => d.rule);
    };
    expect(await rules(false)).toEqual(["runpython-importing-models"]);
    expect(await rules(true)).toEqual([]);
  });

  it("names the class as its module does, and the app whose state has it (kolibri: `Facility as RealFacility` of `kolibriauth`)", async () => {
    const source = [
      "from django.db import migrations",
      "from library.models import Book as LiveBook",
      "",
      "",
      "def forwards(apps, schema_editor):",
      "    LiveBook.objects.filter(pages__isnull=True).update(pages=0)",
      "",
      "",
      "class Migration(migrations.Migration):",
      '    dependencies = [("library", "0001_initial")]',
      "    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]",
      "",
    ].join("\n");
    const dir = project(source);
    const [finding] = (await lint([dir], { cwd: dir, ruleNames: ["runpython-importing-models"] })).diagnostics;
    expect(finding?.help.join("\n")).toContain('LiveBook = apps.get_model("library", "Book")');
  });

  it("takes the label of the app whose state has the class, not its package's directory (kolibri's `kolibri.core.auth` is `kolibriauth`)", async () => {
    const dir = labelProjects("auth", {
      "0001_initial": migrationSource("kolibriauth", null, ['migrations.CreateModel(name="Facility", fields=[("id", models.AutoField(primary_key=True, serialize=False))])']),
      "0002_data": [
        "from django.db import migrations",
        "from kolibri.core.auth.models import Facility as RealFacility",
        "",
        "",
        "def forwards(apps, schema_editor):",
        "    RealFacility.objects.filter(pk=1).delete()",
        "",
        "",
        "class Migration(migrations.Migration):",
        '    dependencies = [("kolibriauth", "0001_initial")]',
        "    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]",
        "",
      ].join("\n"),
    });
    writeFileSync(path.join(dir, "auth", "apps.py"), 'from django.apps import AppConfig\n\n\nclass KolibriAuthConfig(AppConfig):\n    name = "kolibri.core.auth"\n    label = "kolibriauth"\n');
    const [finding] = (await lint([dir], { cwd: dir, ruleNames: ["runpython-importing-models"] })).diagnostics;
    expect(finding?.help.join("\n")).toContain('RealFacility = apps.get_model("kolibriauth", "Facility")');
  });
});

describe("a class imported from a models module", () => {
  it("is advised with the label of the package the models module is in, with a doubt when no migration of that app creates it (pretalx person 0046)", async () => {
    const source = (module: string, name: string) => runPythonMigration([`${name}().refresh()`], { imports: ["", `from ${module} import ${name}`] });
    const advice = async (module: string, name: string) => {
      const dir = project(source(module, name));
      return (await lint([dir], { cwd: dir, ruleNames: ["runpython-importing-models"] })).diagnostics.map((d) => d.help.join("\n"));
    };
    // A model of an app outside the run: the label is the package's, not the module file's.
    expect((await advice("shop.models.settings", "ShopSettings"))[0]).toContain('ShopSettings = apps.get_model("shop", "ShopSettings")');
    // The library app is in the run and no migration of it creates `GlobalSettings`: maybe a wrapper, not a model.
    const [wrapper] = await advice("library.models.settings", "GlobalSettings");
    expect(wrapper).toContain("No migration of `library` before this one creates a model `GlobalSettings`: if `GlobalSettings` is no model");
    expect(wrapper).toContain('apps.get_model("library", "GlobalSettings")');
    // A model the library app's migrations create is reported, with its label.
    const [book] = await advice("library.models.books", "Book");
    expect(book).toContain('Book = apps.get_model("library", "Book")');
    expect(book).not.toContain("No migration of");
  });
});

describe("runpython-updating-all-rows on the shapes of pontoon base 0108 and 0111", () => {
  const run = async (body: string[], atomic = true) => {
    const dir = project(runPythonMigration(['Book = apps.get_model("library", "Book")', ...body], { atomic }));
    return (await lint([dir], { cwd: dir, ruleNames: ["runpython-updating-all-rows"] })).diagnostics.map((d) => [d.message, ...d.help].join("\n"));
  };

  it("reads a manager of another name on the model class, and keeps it in the recipe (PeeringDB's handleref)", async () => {
    const [loop] = await run(["for book in Book.handleref.all():", "    book.pages = 1", "    book.save()"]);
    expect(loop).toContain("`forwards` loads every row of a table into memory (`Book.handleref.all()` without `.iterator()`) and saves them one by one.");
    expect(loop).toContain('for pk in Book.handleref.order_by("pk").values_list("pk", flat=True)');
    expect(loop).not.toContain("Book.objects");
    expect(await run(['Book.handleref.update(pages=1)'])).toEqual([expect.stringContaining("updates every row of `Book` in one statement (`Book.handleref.update`)")]);
    // A class attribute that is no manager: nothing.
    expect(await run(["Book._meta.get_field('pages')"])).toEqual([]);
  });

  it("deletes in batches in the recipe for a whole-table delete", async () => {
    const [found] = await run(["Book.objects.all().delete()"]);
    expect(found).toContain("Book.objects.filter(pk__in=batch).delete()");
    expect(found).not.toContain(".update(...)");
    expect(found).toContain("2. Put the deletion in its own migration");
  });

  it("reads .annotate() as narrowing no rows, and a batched bulk_update over an iterator in an atomic migration as locking every row", async () => {
    const loop = ["batch = []", "for book in Book.objects.annotate(n=models.Value(1)).iterator():", "    book.pages = 1", "    batch.append(book)", "    if len(batch) == 3000:", '        Book.objects.bulk_update(batch, ["pages"])', "        batch.clear()", 'Book.objects.bulk_update(batch, ["pages"])'];
    const [found] = await run(loop);
    expect(found).toContain("`forwards` writes back every row of `Book` in batches (`bulk_update`) inside this atomic migration's transaction.");
    expect(found).toContain("each row written back stays locked until the migration commits");
    // Without the migration's transaction each batch commits on its own.
    expect(await run(loop, false)).toEqual([]);
  });
});
