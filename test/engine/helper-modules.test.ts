/**
 * Operations built by functions (in the migration or in a helper module of the project) and
 * operation classes of helper modules: read with the caller's arguments, checked by the rules
 * at the call, and reported as unknown, with the reason, when they cannot be read.
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { parseMigrationSource } from "../../src/parse/parse-migration.js";
import { analyze, type LintOptions } from "../../src/engine/lint.js";
import { moduleFile } from "../../src/engine/helper-modules.js";
import { ResultCache } from "../../src/cache/result-cache.js";
import { rules } from "../../rules/index.js";
import type { Diagnostic, Operation, PyValue } from "../../src/model/types.js";

function parse(source: string): Operation[] {
  return parseMigrationSource(source, { path: "/x/shop/migrations/0002_x.py", app: "shop", name: "0002_x" }).operations;
}

const INITIAL = `from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True
    operations = [
        migrations.CreateModel(
            name="Book",
            fields=[("id", models.AutoField(primary_key=True)), ("title", models.TextField()), ("pages", models.IntegerField(null=True))],
        ),
    ]
`;

describe("functions of the migration that return an operation", () => {
  it("are read with the caller's arguments: positional, keyword, defaults and keyword-only parameters", () => {
    const source = `from django.db import migrations, models

DEFAULT_MODEL = "book"


def rename(old, new, *, model=DEFAULT_MODEL):
    """Renames a field."""
    return migrations.RenameField(model, old, new)


def add(name, **options):
    field = models.IntegerField(**options)
    return migrations.AddField(model_name="book", name=name, field=field)


class Migration(migrations.Migration):
    operations = [
        migrations.RemoveField("book", "pages"),
        # rename it
        rename("title", new="label"),
        rename("label", "name", model="author"),
        add("year", null=True),
    ]
`;
    const [, renamed, other, added] = parse(source);
    expect(renamed).toMatchObject({ kind: "RenameField", origin: "django", index: 1, builtBy: "`rename`", comments: [{ text: "# rename it", line: 19 }] });
    expect(renamed?.unknown).toBeUndefined();
    expect(renamed?.args.model_name).toMatchObject({ kind: "str", value: "book" });
    expect(renamed?.args.old_name).toMatchObject({ kind: "str", value: "title" });
    expect(renamed?.args.new_name).toMatchObject({ kind: "str", value: "label" });
    // The caller's values keep their place; what the function contributes is at the call.
    expect(renamed?.range).toMatchObject({ line: 20, column: 9, endLine: 20 });
    expect(renamed?.args.old_name?.range).toMatchObject({ line: 20, column: 16 });
    expect(renamed?.args.model_name?.range).toEqual(renamed?.range);
    expect(other?.args.model_name).toMatchObject({ kind: "str", value: "author" });
    expect(added).toMatchObject({ kind: "AddField", args: { name: { value: "year" }, field: { kind: "call", callee: "models.IntegerField" } } });
  });

  it("follow calls between functions, locals (annotated too) and statements that change a name, which makes it opaque", () => {
    const source = `from functools import partial
from django.db import migrations


def _rename(apps, schema_editor, model, renames):
    pass


def make_renamer(model: str, renames) -> migrations.RunPython:
    def operation(apps, schema_editor):
        pass

    return migrations.RunPython(partial(operation, model, renames), reverse_code=migrations.RunPython.noop)


def make_task_renamer(task, renames):
    filters: dict = {}
    if task is not None:
        filters["task"] = task
    return make_renamer("WorkRequest", filters)


def make_index(name):
    op = migrations.RunSQL(f"CREATE INDEX {name} ON shop_book (title)", "DROP INDEX x")
    return op


class Migration(migrations.Migration):
    operations = [
        make_task_renamer("sbuild", [("a", "b")]),
        make_index("i"),
    ]
`;
    const [renamer, index] = parse(source);
    expect(renamer).toMatchObject({ kind: "RunPython", builtBy: "`make_task_renamer`", args: { code: { kind: "call", callee: "partial" }, reverse_code: { kind: "name", qualified: "django.db.migrations.RunPython.noop" } } });
    // `operation` is the function's own, named by its qualified name: not a function of the migration of that name.
    expect((renamer?.args.code as { args: { kind: string }[] }).args[0]).toMatchObject({ kind: "name", name: "operation", qualified: "make_renamer.<locals>.operation" });
    // An f-string of the function's own argument: the value the call gives it.
    expect(index).toMatchObject({ kind: "RunSQL", args: { sql: { kind: "str", value: "CREATE INDEX i ON shop_book (title)" }, reverse_sql: { kind: "str", value: "DROP INDEX x" } } });
  });

  it("spread in an operation list (`*make_operations(...)`) give the operations they return, each in its place", () => {
    const source = `from django.db import migrations, models


def add(name):
    return migrations.AddField("book", name, models.IntegerField(null=True))


def columns(*names, extra=()):
    first = [add(name) for name in names]
    return [add(names[0]), add(names[1])] + list(extra)


def pair(a, b):
    both = [add(a), add(b)]
    return both


def nested(a, b):
    return [*pair(a, b), migrations.RemoveField("book", a)]


def broken():
    return build_them()


class Migration(migrations.Migration):
    operations = [
        migrations.RunSQL("SELECT 1", migrations.RunSQL.noop),
        # columns
        *nested("x", "y"),
        *broken(),
        migrations.RunSQL("SELECT 2", migrations.RunSQL.noop),
    ]
`;
    const ops = parse(source);
    expect(ops.map((op) => [op.kind, op.index, op.args.name && "value" in op.args.name ? op.args.name.value : op.unknown?.reason])).toEqual([
      ["RunSQL", 0, undefined],
      ["AddField", 1, "x"],
      ["AddField", 2, "y"],
      ["RemoveField", 3, "x"],
      ["Unknown", 4, "operations returned by `build_them(...)` (in `broken`)"],
      ["RunSQL", 5, undefined],
    ]);
    // The comment above the spread is the first operation's; every one is at the spread's place.
    expect(ops[1]?.comments).toEqual([{ text: "# columns", line: 29 }]);
    expect(ops.slice(1, 4).map((op) => [op.range.line, op.builtBy])).toEqual([
      [30, "`nested`"],
      [30, "`nested`"],
      [30, "`nested`"],
    ]);
  });

  it("that build their list with append, extend, += and for loops that append give its operations in order", () => {
    const source = `from django.db import migrations, models

NAMES = ("x", "y")


def more():
    return [migrations.RunSQL("SELECT 3", migrations.RunSQL.noop)]


def build(model):
    operations = [migrations.RunSQL("SELECT 1", migrations.RunSQL.noop)]
    operations.append(migrations.RunSQL("SELECT 2", migrations.RunSQL.noop))
    operations += more()
    for name in NAMES:
        # one column per name
        operations.append(migrations.AddField(model, name, models.IntegerField(null=True)))
        operations.append(migrations.AlterField(model, name, models.BigIntegerField(null=True)))
    for field, kind in {"p": models.TextField}.items():
        operations.append(migrations.AddField(model, field, kind(null=True)))
    operations.extend([migrations.RemoveField(model, "pages")])
    return operations


def after_loop():
    operations = []
    for name in NAMES:
        operations.append(migrations.RemoveField("book", name))
    operations.append(migrations.RemoveField("book", name))
    return operations


class Migration(migrations.Migration):
    operations = build("book") + after_loop()
`;
    const ops = parse(source);
    const text = (v: PyValue | undefined) => (v?.kind === "str" ? v.value : v?.kind);
    expect(ops.map((op) => [op.kind, op.index, text(op.kind === "RunSQL" ? op.args.sql : op.args.name), op.builtBy])).toEqual([
      ["RunSQL", 0, "SELECT 1", "`build`"],
      ["RunSQL", 1, "SELECT 2", "`build`"],
      ["RunSQL", 2, "SELECT 3", "`build`"],
      ["AddField", 3, "x", "`build`"],
      ["AlterField", 4, "x", "`build`"],
      ["AddField", 5, "y", "`build`"],
      ["AlterField", 6, "y", "`build`"],
      ["AddField", 7, "p", "`build`"],
      ["RemoveField", 8, "pages", "`build`"],
      ["RemoveField", 9, "x", "`after_loop`"],
      ["RemoveField", 10, "y", "`after_loop`"],
      // After the loop, its name holds the last item in Python: rollsafe does not read it.
      ["RemoveField", 11, "opaque", "`after_loop`"],
    ]);
    const line = source.split("\n").findIndex((l) => l.includes('build("book") + after_loop()')) + 1;
    expect(ops.map((op) => op.range.line)).toEqual(Array(12).fill(line));
  });

  it("say which file could not be followed, whatever scope the call is read in", () => {
    // A comprehension's body and a function's body are read in scopes of their own: still in this migration.
    const ops = parse(`from django.db import migrations


def make(name):
    return build_it(name)


def both(name):
    return [make(name)]


class Migration(migrations.Migration):
    operations = [make(x) for x in ("a",)] + [make("b")] + both("c")
`);
    expect(ops.map((op) => op.unknown?.reason)).toEqual([
      "custom operation `make` (`make` returns `build_it(...)`, which rollsafe does not know, in this migration)",
      "custom operation `make` (`make` returns `build_it(...)`, which rollsafe does not know, in this migration)",
      "custom operation `make` (`make` returns `build_it(...)`, which rollsafe does not know, in this migration) (in `both`)",
    ]);
  });

  it.each([
    ["an if in the loop", "    for name in NAMES:\n        if name:\n            operations.append(migrations.RemoveField('book', name))\n"],
    ["a for-else", "    for name in NAMES:\n        operations.append(migrations.RemoveField('book', name))\n    else:\n        pass\n"],
    ["a list bound twice", "    operations = []\n    operations.append(migrations.RemoveField('book', 'x'))\n"],
    ["a list changed otherwise", "    operations.append(migrations.RemoveField('book', 'x'))\n    operations.sort()\n"],
    ["appends to two lists in one loop", "    other = []\n    for name in NAMES:\n        operations.append(migrations.RemoveField('book', name))\n        other.append(name)\n"],
  ])("that grow their list in a way not read stay unknown: %s", (_, body) => {
    const ops = parse(`from django.db import migrations\nNAMES = ("x", "y")\ndef build():\n    operations = []\n${body}    return operations\nclass Migration(migrations.Migration):\n    operations = build()\n`);
    expect(ops.map((op) => [op.kind, op.unknown?.reason])).toEqual([["Unknown", "operations returned by `build(...)` (what `build` returns is not a literal list, in this migration)"]]);
  });

  it("stay unknown, saying why, when the body or the call cannot be followed", () => {
    const source = `from django.db import migrations


def twice(flag):
    if flag:
        return migrations.RunPython(migrations.RunPython.noop)
    return migrations.RunPython(migrations.RunPython.noop)


def scoped():
    global STATE
    return migrations.RunPython(migrations.RunPython.noop)


def nothing():
    return None


def loop(n):
    return loop(n)


def one(a):
    return migrations.RunPython(a)


def other():
    return somewhere.make()


def gen():
    yield migrations.RunPython(migrations.RunPython.noop)
    return migrations.RunPython(migrations.RunPython.noop)


class Migration(migrations.Migration):
    operations = [
        twice(True),
        scoped(),
        nothing(),
        loop(1),
        one(),
        one(1, 2),
        one(b=1),
        one(*args),
        other(),
        gen(),
    ]
`;
    const reasons = parse(source).map((op) => op.unknown?.reason);
    expect(reasons).toEqual([
      "custom operation `twice` (`twice` returns in more than one place, in this migration)",
      "custom operation `scoped` (`scoped` has a `global`, in this migration)",
      "custom operation `nothing` (`nothing` returns `None`, which rollsafe does not read as an operation, in this migration)",
      "custom operation `loop` (its helper functions call each other more than 8 deep, in this migration)",
      "custom operation `one` (the call leaves `one`'s argument `a` out, in this migration)",
      "custom operation `one` (the call passes `one` more positional arguments than it takes, in this migration)",
      "custom operation `one` (`one` takes no argument `b`, in this migration)",
      "custom operation `one`",
      "custom operation `other` (`other` returns `somewhere.make(...)`, which rollsafe does not know, in this migration)",
      "custom operation `gen` (`gen` has a `yield`, in this migration)",
    ]);
  });
});

describe("helper modules of the project", () => {
  let root: string;
  let project: string;
  let migrations: string;

  beforeEach(() => {
    root = mkdtempSync(path.join(os.tmpdir(), "rollsafe-helpers-"));
    project = path.join(root, "project");
    migrations = path.join(project, "shop", "migrations");
    mkdirSync(migrations, { recursive: true });
    writeFileSync(path.join(project, "shop", "__init__.py"), "");
    writeFileSync(path.join(migrations, "__init__.py"), "");
    writeFileSync(path.join(migrations, "0001_initial.py"), INITIAL);
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  /** debusine's helpers (debusine/db/migrations/_utils.py), cut down. */
  const UTILS = `from typing import Any

from django.db import migrations
from django.db.migrations.operations.base import Operation


def make_data_renamer(model_name: str, renames: list[tuple[str, str]]) -> migrations.RunPython:
    """Rename keys in a JSON field."""

    def operation(apps, schema_editor):
        pass

    return migrations.RunPython(operation)


def make_task_renamer(task_name: str | None, renames) -> migrations.RunPython:
    filters: dict[str, Any] = {}
    if task_name is not None:
        filters["task_name"] = task_name
    return make_data_renamer("WorkRequest", renames)


def make_column_renamer(old, new):
    return migrations.RenameField("book", old, new)


class ReloadModel(Operation):
    """Reload a model's state."""

    def __init__(self, model_key):
        self.model_key = model_key

    def state_forwards(self, app_label, state):
        state.reload_model(*self.model_key)

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        """No schema change."""

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        """No schema change."""


_rename_table_sql = """
DO $$
BEGIN
    EXECUTE format('ALTER TABLE %%I RENAME TO %%I', %s, %s);
END;
$$;
"""


def make_table_renamer(from_name: str, to_name: str) -> migrations.RunSQL:
    return migrations.RunSQL(sql=[(_rename_table_sql, (from_name, to_name))], reverse_sql=[(_rename_table_sql, (to_name, from_name))])
`;

  function migration(name: string, imports: string, operations: string, deps = "0001_initial"): void {
    writeFileSync(
      path.join(migrations, `${name}.py`),
      `from django.db import migrations\n${imports}\n\n\nclass Migration(migrations.Migration):\n    dependencies = [("shop", "${deps}")]\n\n    operations = [\n${operations}\n    ]\n`,
    );
  }

  const check = async (options: LintOptions = {}) => (await analyze(["."], { cwd: project, ...options })).result;
  const byRule = (diagnostics: Diagnostic[], rule: string) => diagnostics.filter((d) => d.rule === rule);

  it("reads debusine's shapes through absolute and relative imports, checks them at the call, and offers no fix there", async () => {
    writeFileSync(path.join(migrations, "_utils.py"), UTILS);
    migration(
      "0002_helpers",
      "from shop.migrations._utils import ReloadModel, make_task_renamer\nfrom . import _utils\nfrom ._utils import make_column_renamer as rename_column",
      `        make_task_renamer("sbuild", [("a", "b")]),
        ReloadModel(("shop", "book")),
        rename_column("title", "label"),
        _utils.make_table_renamer("shop_book", "shop_volume"),`,
    );
    const result = await check();
    const here = byRule.bind(null, result.diagnostics);
    expect(here("unknown-operation")).toEqual([]);
    // The RunPython the helper returns has no reverse.
    expect(here("runpython-without-reverse-code").map((d) => [d.file, d.line])).toEqual([["shop/migrations/0002_helpers.py", 11]]);
    const [renamed] = here("renaming-column");
    expect(renamed).toMatchObject({ file: "shop/migrations/0002_helpers.py", line: 13, column: 9 });
    expect(renamed?.message).toContain("renames column `shop_book.title` to `label`");
    expect(renamed?.fix).toBeUndefined();
    expect(renamed?.help.at(-1)).toBe(
      "This operation is made by `make_column_renamer` from `shop/migrations/_utils.py`: change that function, or write the operations out in the migration (rollsafe's automatic fix cannot edit it).",
    );
    expect(here("runsql-unverifiable").map((d) => d.line)).toEqual([14]);
    expect(result.inputs).toEqual([path.join(migrations, "_utils.py")]);

    // The same rename written out in a migration gets its fix: the helper's has none because its ranges are the call's.
    migration("0003_inline", "", `        migrations.RenameField("book", "label", "name"),`, "0002_helpers");
    const inline = byRule((await check()).diagnostics, "renaming-column").find((d) => d.file.endsWith("0003_inline.py"));
    expect(inline?.fix).toBeDefined();
  });

  it("reads commcare-hq's RunSQL subclass with a router-gated mixin, and a plain RunSQL subclass, where the call passes no state_operations", async () => {
    writeFileSync(
      path.join(project, "shop", "operations.py"),
      `from django.db import migrations
from django.db.migrations.operations.special import RunSQL

from shop.routers import allow_migrate


class HqOpMixin(object):
    """Runs the operation only on the databases the router allows."""

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        db_alias = schema_editor.connection.alias
        if allow_migrate(db_alias, app_label):
            super(HqOpMixin, self).database_forwards(app_label, schema_editor, from_state, to_state)


class HqRunSQL(HqOpMixin, RunSQL):
    pass


class PlainRunSQL(migrations.RunSQL):
    pass
`,
    );
    migration(
      "0002_sql",
      "from shop.operations import HqRunSQL, PlainRunSQL",
      `        HqRunSQL("ALTER TABLE shop_book ADD CONSTRAINT pages_positive CHECK (pages > 0)", "SELECT 1"),
        PlainRunSQL("UPDATE shop_book SET pages = 1", "SELECT 1"),
        PlainRunSQL("SELECT 1", "SELECT 1", [migrations.RemoveField("book", "pages")]),`,
    );
    const result = await check();
    const here = byRule.bind(null, result.diagnostics);
    expect(here("runsql-adding-constraint-without-not-valid").map((d) => d.line)).toEqual([9]);
    expect(here("runsql-updating-all-rows").map((d) => d.line)).toEqual([10]);
    // With state operations, the class's nested operations are still not read from a helper module.
    expect(here("unknown-operation").map((d) => [d.line, d.message])).toEqual([
      [11, "Cannot verify this operation: custom operation `PlainRunSQL` (read in `shop/operations.py`: it subclasses `RunSQL`, whose nested operations rollsafe reads only where the migration defines the class)."],
    ]);
  });

  it("reads the SQL a RunSQL imports from a module of the project (GlitchTip's triggers)", async () => {
    mkdirSync(path.join(migrations, "sql"), { recursive: true });
    writeFileSync(path.join(migrations, "sql", "__init__.py"), "");
    writeFileSync(
      path.join(migrations, "sql", "statements.py"),
      `DROP_TITLE = """
ALTER TABLE shop_book DROP COLUMN title;
"""
ADD_TITLE = ["ALTER TABLE shop_book ADD COLUMN title text NULL"]


def not_sql():
    return "DROP TABLE shop_book"
`,
    );
    migration(
      "0002_sql",
      "from .sql.statements import ADD_TITLE, DROP_TITLE, not_sql",
      `        migrations.RunSQL(DROP_TITLE, ADD_TITLE),
        migrations.RunSQL(not_sql, migrations.RunSQL.noop),`,
    );
    const result = await check();
    const here = byRule.bind(null, result.diagnostics);
    expect(here("runsql-dropping-column").map((d) => [d.line, d.message])).toEqual([[9, "`ALTER TABLE shop_book DROP COLUMN title` drops column `title` of field `Book.title`, which the model still has."]]);
    // Only a constant is SQL: a function of the module is not.
    expect(here("runsql-unverifiable").map((d) => d.line)).toEqual([10]);
    expect(result.inputs).toEqual([path.join(migrations, "sql", "statements.py")]);
  });

  it("reads the operations a helper module's function returns for `*` in an operation list", async () => {
    writeFileSync(
      path.join(migrations, "_utils.py"),
      `from django.db import migrations, models\n\n\ndef drop_columns(model, *names):\n    return [migrations.RemoveField(model, name) for name in names] if settings.DROP else [migrations.RemoveField(model, names[0]), migrations.RemoveField(model, names[1])]\n\n\ndef flags(model, a, b):\n    return [\n        migrations.AddField(model, a, models.BooleanField(default=False)),\n        migrations.AddField(model, b, models.BooleanField(null=True)),\n    ]\n`,
    );
    migration("0002_spread", "from ._utils import drop_columns, flags", `        *flags("book", "featured", "archived"),\n        *drop_columns("book", "pages", "subtitle"),`);
    const result = await check();
    const seen = result.diagnostics.map((d) => `${d.line} ${d.rule}`);
    // `featured` (NOT NULL with a default) breaks the old release's INSERTs; `archived` is nullable.
    expect(seen.filter((line) => line.endsWith("adding-not-nullable-column"))).toEqual(["9 adding-not-nullable-column"]);
    expect(byRule(result.diagnostics, "adding-not-nullable-column")[0]?.message).toContain("featured");
    // Two branches that both hold operations (which one runs depends on the settings): the spread stays one unknown operation.
    expect(byRule(result.diagnostics, "unknown-operation").map((d) => [d.line, d.message])).toEqual([
      [10, "Cannot verify this operation: operations spread from `drop_columns(...)` (read in `shop/migrations/_utils.py`: what `drop_columns` returns depends on a condition rollsafe cannot evaluate, and both branches hold operations)."],
    ]);
    expect(byRule(result.diagnostics, "dropping-column")).toEqual([]);
  });

  it("reads a whole operation list a helper module's function makes, and comprehensions, with no fix on what they build", async () => {
    writeFileSync(path.join(migrations, "_ops.py"), `from django.db import migrations\n\n\ndef drop_all(model, *names):\n    return [migrations.RemoveField(model, name) for name in names]\n`);
    writeFileSync(
      path.join(migrations, "0002_whole.py"),
      `from django.db import migrations\nfrom . import _ops\n\n\nclass Migration(migrations.Migration):\n    dependencies = [("shop", "0001_initial")]\n    operations = [migrations.RemoveField("book", name) for name in ("pages",)] + _ops.drop_all("book", "title")\n`,
    );
    const result = await check();
    const dropped = byRule(result.diagnostics, "dropping-column");
    expect(dropped.map((d) => [d.line, d.column, d.message.slice(0, 30)])).toEqual([
      [7, 19, "Removing field `Book.pages` dr"],
      [7, 82, "Removing field `Book.title` dr"],
    ]);
    expect(dropped.map((d) => d.fix)).toEqual([undefined, undefined]);
    // The advice says where the recipe applies.
    expect(dropped.map((d) => d.help.at(-1))).toEqual([
      "This operation is made by a list comprehension, once for each item: change its body, or write the operations out in the migration.",
      "This operation is made by `drop_all` from `shop/migrations/_ops.py`: change that function, or write the operations out in the migration.",
    ]);
    expect(byRule(result.diagnostics, "unknown-operation")).toEqual([]);
    expect(result.inputs).toEqual([path.join(migrations, "_ops.py")]);

    // What cannot be followed stays one unknown operation at the call, saying why.
    writeFileSync(path.join(migrations, "_ops.py"), `from django.db import migrations\n\n\ndef drop_all(model, *names):\n    return [migrations.RemoveField(model, name) for name in names if name]\n`);
    const unknown = byRule((await check()).diagnostics, "unknown-operation").map((d) => [d.line, d.column, d.message]);
    expect(unknown).toEqual([
      [7, 82, "Cannot verify this operation: operations made by a list comprehension that filters its items with `if` (in `drop_all` from `shop/migrations/_ops.py`)."],
    ]);
  });

  it("reads the functions a RunPython imports from a module of the project, and the module's functions they call", async () => {
    writeFileSync(
      path.join(migrations, "_data.py"),
      `from shop.models import Book\n\n\ndef reset_pages(apps, schema_editor):\n    Book.objects.update(pages=0)\n    touch_all(apps)\n\n\ndef touch_all(apps):\n    from shop.models import Book as Current\n    for book in Current.objects.all():\n        book.save()\n`,
    );
    writeFileSync(path.join(migrations, "_broken.py"), "def reset_pages(apps, schema_editor)\n    Book.objects.update(pages=0)\n");
    migration(
      "0002_data",
      "from ._data import reset_pages\nfrom . import _data, _broken\nfrom thirdparty.migrations import forwards",
      `        migrations.RunPython(reset_pages, _data.touch_all),\n        migrations.RunPython(_broken.reset_pages, forwards),`,
    );
    const result = await check();
    const seen = (rule: string) => byRule(result.diagnostics, rule).map((d) => [d.line, d.column, d.message]);
    // At the RunPython's argument; each function once per migration, under either name.
    expect(seen("runpython-importing-models")).toEqual([
      [11, 30, "`reset_pages` (in `shop/migrations/_data.py`) uses the imported model class `Book` instead of `apps.get_model`."],
      [11, 30, "`touch_all` (in `shop/migrations/_data.py`) uses the imported model class `Current` instead of `apps.get_model`."],
    ]);
    expect(seen("runpython-updating-all-rows")).toEqual([
      [11, 30, "`reset_pages` (in `shop/migrations/_data.py`) updates every row of `Book` in one statement (`Book.objects.update`)."],
      [11, 30, "`touch_all` (in `shop/migrations/_data.py`) loads every row of a table into memory (`Current.objects.all()` without `.iterator()`) and saves them one by one."],
    ]);
    expect(byRule(result.diagnostics, "runpython-importing-models")[0]?.help.join("\n")).toContain("Remove the `Book` import from `shop/migrations/_data.py`.");
    // A module that is not valid Python, or not the project's, gives nothing to read; the run reads the project's modules it opened.
    expect(result.diagnostics.filter((d) => d.line === 12 && d.rule.startsWith("runpython-"))).toEqual([]);
    expect(result.inputs).toEqual([path.join(migrations, "_broken.py"), path.join(migrations, "_data.py")]);
  });

  it("reads the functions the migration's RunPython functions call that it imports from a module of the project", async () => {
    writeFileSync(
      path.join(migrations, "_data.py"),
      `from shop.models import Book\n\n\ndef reset_pages(apps):\n    Book.objects.update(pages=0)\n    touch_all(apps)\n\n\ndef touch_all(apps):\n    Current = apps.get_model("shop", "Book")\n    for book in Current.objects.all():\n        book.save()\n`,
    );
    migration(
      "0002_data",
      `import json\nfrom ._data import reset_pages\nfrom . import _data\n\n\ndef forwards(apps, schema_editor):\n    step(apps)\n    _data.touch_all(apps)\n\n\ndef step(apps):\n    json.dumps([])\n    reset_pages(apps)`,
      "        migrations.RunPython(forwards),",
    );
    const result = await check();
    const seen = (rule: string) => byRule(result.diagnostics, rule).map((d) => [d.line, d.message]);
    // At the def of the migration's function that makes the call: \`step\` for \`reset_pages\`, and
    // for \`touch_all\`, which \`forwards\` calls too but \`reset_pages\` first: each function once.
    expect(seen("runpython-importing-models")).toEqual([[12, "`reset_pages` (in `shop/migrations/_data.py`) uses the imported model class `Book` instead of `apps.get_model`."]]);
    expect(seen("runpython-updating-all-rows")).toEqual([
      [12, "`reset_pages` (in `shop/migrations/_data.py`) updates every row of `Book` in one statement (`Book.objects.update`)."],
      [12, "`touch_all` (in `shop/migrations/_data.py`) loads every row of a table into memory (`Current.objects.all()` without `.iterator()`) and saves them one by one."],
    ]);
    // The standard library's module (`json`) is not the project's: only the helper module is read.
    expect(result.inputs).toEqual([path.join(migrations, "_data.py")]);
  });

  it("follows a helper module's calls to functions it imports from another module of the project, however they import each other", async () => {
    writeFileSync(path.join(migrations, "_data.py"), `from ._common import touch_all\n\n\ndef reset_pages(apps, schema_editor):\n    touch_all(apps)\n`);
    mkdirSync(path.join(project, "shop", "tools"));
    writeFileSync(path.join(project, "shop", "tools", "__init__.py"), "");
    writeFileSync(
      path.join(migrations, "_common.py"),
      `from shop.tools import history\nfrom shop.migrations import _data\n\n\ndef touch_all(apps):\n    from shop.models import Book\n    Book.objects.update(pages=0)\n    history.record(apps)\n    _data.reset_pages(apps, None)\n`,
    );
    writeFileSync(path.join(project, "shop", "tools", "history.py"), `from ..migrations._common import touch_all\n\n\ndef record(apps):\n    touch_all(apps)\n    Book = apps.get_model("shop", "Book")\n    for book in Book.objects.all():\n        book.save()\n`);
    migration("0002_data", "from ._data import reset_pages", "        migrations.RunPython(reset_pages),");
    const result = await check();
    const seen = (rule: string) => byRule(result.diagnostics, rule).map((d) => [d.line, d.message]);
    // Each at the RunPython's argument, naming the module the function is in; each function once.
    expect(seen("runpython-importing-models")).toEqual([[9, "`touch_all` (in `shop/migrations/_common.py`) uses the imported model class `Book` instead of `apps.get_model`."]]);
    expect(seen("runpython-updating-all-rows")).toEqual([
      [9, "`record` (in `shop/tools/history.py`) loads every row of a table into memory (`Book.objects.all()` without `.iterator()`) and saves them one by one."],
      [9, "`touch_all` (in `shop/migrations/_common.py`) updates every row of `Book` in one statement (`Book.objects.update`)."],
    ]);
    expect(result.inputs).toEqual([path.join(migrations, "_common.py"), path.join(migrations, "_data.py"), path.join(project, "shop", "tools", "history.py")]);
  });

  it("follows functions imported inside a function's body, which hide the module's own function of that name", async () => {
    // The helper's `touch_all` imports `fill` in its body, which hides the module's harmless
    // `fill`: the imported one (in `_common.py`) is what runs.
    writeFileSync(
      path.join(migrations, "_data.py"),
      `def fill(apps):\n    pass\n\n\ndef touch_all(apps, schema_editor):\n    from ._common import fill\n\n    fill(apps)\n`,
    );
    writeFileSync(path.join(migrations, "_common.py"), `def fill(apps):\n    from shop.models import Book\n\n    Book.objects.update(pages=0)\n`);
    // The migration's own `reset` is hidden likewise by the function that imports `reset` from `_common`.
    migration(
      "0002_data",
      "\n\ndef reset(apps):\n    pass\n\n\ndef forwards(apps, schema_editor):\n    import shop.migrations._data as data\n    from ._common import fill as reset\n\n    reset(apps)\n    data.touch_all(apps, schema_editor)",
      "        migrations.RunPython(forwards),",
    );
    const result = await check();
    const seen = (rule: string) => byRule(result.diagnostics, rule).map((d) => [d.line, d.message]);
    expect(seen("runpython-importing-models")).toEqual([[8, "`fill` (in `shop/migrations/_common.py`) uses the imported model class `Book` instead of `apps.get_model`."]]);
    expect(seen("runpython-updating-all-rows")).toEqual([[8, "`fill` (in `shop/migrations/_common.py`) updates every row of `Book` in one statement (`Book.objects.update`)."]]);
    expect(result.inputs).toEqual([path.join(migrations, "_common.py"), path.join(migrations, "_data.py")]);
  });

  it("gives each function the one it imports, when two import one name from different modules in their bodies", async () => {
    writeFileSync(path.join(migrations, "_clean.py"), `def fill(apps):\n    Book = apps.get_model("shop", "Book")\n    Book.objects.filter(pages__isnull=True, pk__lt=10).update(pages=0)\n`);
    writeFileSync(path.join(migrations, "_dirty.py"), `def fill(apps):\n    from shop.models import Book\n\n    Book.objects.filter(pages__isnull=True, pk__lt=10).update(pages=0)\n`);
    migration(
      "0002_data",
      "\n\ndef first(apps, schema_editor):\n    from ._clean import fill\n\n    fill(apps)\n\n\ndef second(apps, schema_editor):\n    from ._dirty import fill\n\n    fill(apps)",
      "        migrations.RunPython(first),\n        migrations.RunPython(second),",
    );
    const result = await check();
    expect(byRule(result.diagnostics, "runpython-importing-models").map((d) => [d.line, d.message])).toEqual([
      [10, "`fill` (in `shop/migrations/_dirty.py`) uses the imported model class `Book` instead of `apps.get_model`."],
    ]);
    expect(result.inputs).toEqual([path.join(migrations, "_clean.py"), path.join(migrations, "_dirty.py")]);
  });

  it("checks the migration's function a helper is given, and never takes the helper's own function for one of the migration's", async () => {
    writeFileSync(
      path.join(migrations, "_utils.py"),
      `from django.db import migrations\n\n\ndef forwards(apps, schema_editor):\n    pass\n\n\ndef own():\n    return migrations.RunPython(forwards, migrations.RunPython.noop)\n\n\ndef given(code):\n    return migrations.RunPython(code, migrations.RunPython.noop)\n`,
    );
    const updatesAll = "\n\n\ndef forwards(apps, schema_editor):\n    Book = apps.get_model(\"shop\", \"Book\")\n    Book.objects.update(pages=0)";
    // `own()` runs the helper's `forwards`, which does nothing, not the migration's of that name.
    migration("0002_own", `from ._utils import own${updatesAll}`, "        own(),");
    migration("0003_given", `from ._utils import given${updatesAll}`, "        given(forwards),", "0002_own");
    const result = await check();
    expect(byRule(result.diagnostics, "unknown-operation")).toEqual([]);
    expect(byRule(result.diagnostics, "runpython-updating-all-rows").map((d) => `${d.file}:${d.line}`)).toEqual(["shop/migrations/0003_given.py:5"]);
  });

  it("keeps an operation unknown, with the reason, when its module cannot be read or does not build it", async () => {
    writeFileSync(path.join(migrations, "_broken.py"), "def make(:\n    pass\n");
    writeFileSync(path.join(migrations, "_binary.py"), Buffer.from([0x64, 0x65, 0x66, 0x00, 0xff]));
    writeFileSync(path.join(migrations, "_other.py"), "from django.db import migrations\n\ndef make():\n    for x in []:\n        return migrations.RunPython(migrations.RunPython.noop)\n    return migrations.RunPython(migrations.RunPython.noop)\n");
    symlinkSync(path.join(migrations, "_loop.py"), path.join(migrations, "_loop.py"));
    // A FIFO named like a module is never opened (a read would block).
    execFileSync("mkfifo", [path.join(migrations, "_missing.py")]);
    migration(
      "0002_unknown",
      "from ._broken import make\nfrom ._binary import make as binary\nfrom ._other import make as other\nfrom ._loop import make as loop\nfrom ._missing import make as missing\nfrom ._other import absent",
      "        make(),\n        binary(),\n        other(),\n        loop(),\n        missing(),\n        absent(),",
    );
    const result = await check();
    expect(byRule(result.diagnostics, "unknown-operation").map((d) => d.message)).toEqual([
      "Cannot verify this operation: custom operation `make` (read in `shop/migrations/_broken.py`: it is not valid Python).",
      "Cannot verify this operation: custom operation `binary` (read in `shop/migrations/_binary.py`: it cannot be decoded (binary file: contains a NUL byte)).",
      "Cannot verify this operation: custom operation `other` (read in `shop/migrations/_other.py`: `make` returns in more than one place).",
      // A symlink loop and a FIFO: no file to read.
      "Cannot verify this operation: custom operation `loop`.",
      "Cannot verify this operation: custom operation `missing`.",
      "Cannot verify this operation: custom operation `absent` (read in `shop/migrations/_other.py`: the module defines no function or operation class `absent`).",
    ]);
    expect(result.diagnostics.map((d) => d.rule)).not.toContain("internal-error");
  });

  it("finds modules as Python imports them from the migration's package", () => {
    const app = path.join(root, "src", "pkg", "app");
    mkdirSync(path.join(app, "migrations"), { recursive: true });
    mkdirSync(path.join(root, "src", "pkg", "common"), { recursive: true });
    writeFileSync(path.join(root, "src", "pkg", "common", "__init__.py"), "");
    writeFileSync(path.join(root, "src", "pkg", "common", "ops.py"), "");
    writeFileSync(path.join(app, "migrations", "_utils.py"), "");
    writeFileSync(path.join(app, "migrations", "__init__.py"), "");
    const dir = path.join(app, "migrations");
    expect(moduleFile(dir, "pkg.common.ops")).toBe(path.join(root, "src", "pkg", "common", "ops.py"));
    expect(moduleFile(dir, "pkg.common")).toBe(path.join(root, "src", "pkg", "common", "__init__.py"));
    expect(moduleFile(dir, "pkg.app.migrations._utils")).toBe(path.join(dir, "_utils.py"));
    expect(moduleFile(dir, "._utils")).toBe(path.join(dir, "_utils.py"));
    expect(moduleFile(dir, ".")).toBe(path.join(dir, "__init__.py"));
    expect(moduleFile(dir, "..migrations._utils")).toBe(path.join(dir, "_utils.py"));
    expect(moduleFile(dir, "...common.ops")).toBe(path.join(root, "src", "pkg", "common", "ops.py"));
    expect(moduleFile(dir, "pkg.nothing")).toBeNull();
    expect(moduleFile(dir, "pkg/../common")).toBeNull();
  });

  it("makes the result cache see an edit of a helper module", async () => {
    writeFileSync(path.join(migrations, "_utils.py"), UTILS);
    migration("0002_helpers", "from ._utils import make_column_renamer", `        make_column_renamer("title", "label"),`);
    const cacheDir = path.join(root, "cache");
    const run = async () => {
      let computed = false;
      const outcome = await new ResultCache(cacheDir, { racyMs: null }).run(["."], { cwd: project }, rules.filter((r) => !r.meta.optIn), async (walked) => {
        computed = true;
        return { result: (await analyze(["."], { cwd: project, ...(walked ? { walked } : {}) })).result, extra: null };
      });
      return { computed, renames: byRule(outcome.result.diagnostics, "renaming-column").length, drops: byRule(outcome.result.diagnostics, "dropping-column").length };
    };
    expect(await run()).toEqual({ computed: true, renames: 1, drops: 0 });
    // A walk's key does not know the helper: one miss, then the stored key holds it.
    await run();
    expect(await run()).toEqual({ computed: false, renames: 1, drops: 0 });
    writeFileSync(path.join(migrations, "_utils.py"), UTILS.replace('return migrations.RenameField("book", old, new)', 'return migrations.RemoveField("book", old)'));
    expect(await run()).toEqual({ computed: true, renames: 0, drops: 1 });
  });
});
