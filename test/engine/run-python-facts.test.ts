/**
 * The functions a RunPython runs: the named one and the module functions it calls, transitively,
 * as Python binds names (a later `def` replaces an earlier one). Several questions about one
 * migration share its index of functions.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { analyze } from "../../src/engine/lint.js";
import { adviceDef, functionsRunBy } from "../../src/engine/run-python-facts.js";
import { parseMigrationSource } from "../../src/parse/parse-migration.js";

const source = `from django.db import migrations


def helper(apps):
    leaf(apps)


def leaf(apps):
    apps.get_model("shop", "Book").objects.update(pages=0)


def forwards(apps, schema_editor):
    helper(apps)
    forwards(apps, schema_editor)


def other(apps, schema_editor):
    pass


def other(apps, schema_editor):
    leaf(apps)


class Migration(migrations.Migration):
    operations = [
        migrations.RunPython(forwards, migrations.RunPython.noop),
        migrations.RunPython(other, migrations.RunPython.noop),
    ]
`;

describe("functionsRunBy", () => {
  const migration = parseMigrationSource(source, { path: "/p/shop/migrations/0002_fill.py", app: "shop", name: "0002_fill" });
  const names = (name: string) => functionsRunBy(migration, name).map((f) => `${f.name}@${f.range.line}`);

  it("follows calls transitively, once each (recursion included)", () => {
    expect(names("forwards")).toEqual(["forwards@12", "helper@4", "leaf@8"]);
    expect(names("helper")).toEqual(["helper@4", "leaf@8"]);
    expect(names("leaf")).toEqual(["leaf@8"]);
  });

  it("takes the last definition of a name, and nothing for an unknown one", () => {
    expect(names("other")).toEqual(["other@21", "leaf@8"]);
    expect(names("missing")).toEqual([]);
    // Asked again, the same answers.
    expect(names("forwards")).toEqual(["forwards@12", "helper@4", "leaf@8"]);
  });
});

describe("functions defined in the Migration class body", () => {
  // babybuddy core 0035: `def calculate_durations(apps, schema_editor)` in the class, above the
  // `operations` that name it; Python binds it in the class namespace, shadowing a module function.
  const classBody = `from django.db import migrations


def forwards(apps, schema_editor):
    pass


class Migration(migrations.Migration):
    def forwards(apps, schema_editor):
        for name in ["Feeding", "Sleep"]:
            model = apps.get_model("core", name)
            for instance in model.objects.all():
                instance.save()

    @staticmethod
    def backwards(apps, schema_editor):
        schema_editor.execute("DROP INDEX core_sleep_start_idx")

    def apply(self, project_state, schema_editor, collect_sql=False):
        return super().apply(project_state, schema_editor, collect_sql)

    dependencies = [("core", "0001_initial")]
    operations = [migrations.RunPython(forwards, backwards)]
`;

  it("are the functions a RunPython runs, the class's shadowing the module's; methods taking self are not", () => {
    const migration = parseMigrationSource(classBody, { path: "/p/core/migrations/0002_durations.py", app: "core", name: "0002_durations" });
    expect(functionsRunBy(migration, "forwards").map((f) => `${f.name}@${f.range.line}`)).toEqual(["forwards@9"]);
    expect(functionsRunBy(migration, "forwards")[0]?.calls).toContain("instance.save");
    expect(migration.functions.map((f) => f.name).sort()).toEqual(["backwards", "forwards"]);
  });

  it("are checked by the RunPython rules like module functions", async () => {
    const project = mkdtempSync(path.join(os.tmpdir(), "rollsafe-class-functions-"));
    try {
      const migrations = path.join(project, "core", "migrations");
      mkdirSync(migrations, { recursive: true });
      writeFileSync(path.join(migrations, "__init__.py"), "");
      writeFileSync(
        path.join(migrations, "0001_initial.py"),
        'from django.db import migrations, models\n\n\nclass Migration(migrations.Migration):\n    initial = True\n    operations = [\n        migrations.CreateModel(name="Feeding", fields=[("id", models.AutoField(primary_key=True)), ("duration", models.IntegerField(null=True))]),\n        migrations.CreateModel(name="Sleep", fields=[("id", models.AutoField(primary_key=True)), ("duration", models.IntegerField(null=True))]),\n    ]\n',
      );
      writeFileSync(path.join(migrations, "0002_durations.py"), classBody);
      const { result } = await analyze(["."], { cwd: project, ruleNames: ["runpython-updating-all-rows"] });
      const found = result.diagnostics.filter((d) => d.file.endsWith("0002_durations.py"));
      expect(found.map((d) => d.rule)).toEqual(["runpython-updating-all-rows"]);
      expect(found[0]?.message).toContain("forwards");
    } finally {
      rmSync(project, { recursive: true, force: true });
    }
  });
});

describe("adviceDef", () => {
  const facts = (def: string) => {
    const parsed = parseMigrationSource(`${def}\n    pass\n`, { path: "/x/shop/migrations/0002_x.py", app: "shop", name: "0002_x" });
    const fn = parsed.functions[0];
    if (!fn) throw new Error("no function read");
    return fn;
  };

  it("keeps the function's own parameters, on one line, and finds the app registry among them", () => {
    expect(adviceDef(facts("def forwards(apps, schema_editor):"), true)).toEqual({ line: "def forwards(apps, schema_editor):", apps: "apps", added: false });
    expect(facts("def forwards(apps, schema_editor):").params).toBeUndefined();
    // Django passes the registry first, whatever the function calls it.
    expect(adviceDef(facts("def forwards(registry, editor):"), true)).toEqual({ line: "def forwards(registry, editor):", apps: "registry", added: false });
    expect(adviceDef(facts('def fill(\n    value,\n    apps,  # the registry\n    sep=", ",\n):'), false)).toEqual({ line: 'def fill(value, apps, sep=", "):', apps: "apps", added: false });
    expect(adviceDef(facts("def fill(apps: Apps, *, field: str = \"x\"):"), false)).toEqual({ line: 'def fill(apps: Apps, *, field: str = "x"):', apps: "apps", added: false });
  });

  it("adds `apps` first to a function that has no parameter holding it", () => {
    expect(adviceDef(facts("def fill(value):"), false)).toEqual({ line: "def fill(apps, value):", apps: "apps", added: true });
    expect(adviceDef(facts("def fill():"), false)).toEqual({ line: "def fill(apps):", apps: "apps", added: true });
    expect(adviceDef(facts("def fill(*args):"), true)).toEqual({ line: "def fill(apps, *args):", apps: "apps", added: true });
  });

  it("shows in the rules' advice the helper's own signature and registry name", async () => {
    const project = mkdtempSync(path.join(os.tmpdir(), "rollsafe-advice-def-"));
    try {
      const migrations = path.join(project, "shop", "migrations");
      mkdirSync(migrations, { recursive: true });
      writeFileSync(path.join(migrations, "__init__.py"), "");
      writeFileSync(
        path.join(migrations, "0001_initial.py"),
        'from django.db import migrations, models\n\n\nclass Migration(migrations.Migration):\n    initial = True\n    operations = [migrations.CreateModel(name="Book", fields=[("id", models.AutoField(primary_key=True)), ("pages", models.IntegerField(null=True))])]\n',
      );
      writeFileSync(
        path.join(migrations, "0002_data.py"),
        'from django.db import migrations\n\n\ndef reset(value):\n    from shop.models import Book\n\n    Book.objects.update(pages=value)\n\n\ndef forwards(registry, editor):\n    Book = registry.get_model("shop", "Book")\n    Book.objects.update(pages=0)\n    reset(0)\n\n\nclass Migration(migrations.Migration):\n    dependencies = [("shop", "0001_initial")]\n    operations = [migrations.RunPython(forwards)]\n',
      );
      const { result } = await analyze(["."], { cwd: project });
      const help = (rule: string) => result.diagnostics.filter((d) => d.rule === rule).map((d) => d.help.join("\n"));
      const [importing] = help("runpython-importing-models");
      expect(importing).toContain("(`reset` takes no `apps`: add it, and pass it on where `reset` is called)");
      expect(importing).toContain('def reset(apps, value):\n    Book = apps.get_model("shop", "Book")');
      const [reset, forwards] = help("runpython-updating-all-rows");
      expect(forwards).toContain('def forwards(registry, editor):\n    Book = registry.get_model("shop", "Book")');
      expect(forwards).not.toContain("takes no `apps`");
      expect(reset).toContain('def reset(apps, value):\n    Book = apps.get_model("shop", "Book")');
    } finally {
      rmSync(project, { recursive: true, force: true });
    }
  });
});
