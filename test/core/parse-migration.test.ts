import { describe, expect, it } from "vitest";
import { decodeString, parseMigrationSource } from "../../src/parse/parse-migration.js";
import { decodePythonSource, UndecodableSource } from "../../src/parse/source-text.js";
import { functionsRunBy } from "../../src/engine/run-python-facts.js";

const parse = (source: string) => parseMigrationSource(source, { path: "/x/app/migrations/0002_x.py", app: "app", name: "0002_x" });

/** A test of CPython's verdict: `source` parses without an error when valid, else with `message` alone. */
const cpythonVerdict = (message: string) => (source: string, valid: boolean) => {
  expect(parse(`${source}\n`).syntaxErrors.map((e) => e.message)).toEqual(valid ? [] : [message]);
};

describe("parseMigrationSource", () => {
  it("resolves aliases and maps positional arguments by the operation's signature", () => {
    const m = parse(`from django.db import migrations as m, models as mo
from django.contrib.postgres.operations import AddIndexConcurrently as AIC

class Migration(m.Migration):
    atomic = False
    operations = [
        m.AddField("book", "isbn", mo.CharField("ISBN", max_length=13)),
        AIC("book", mo.Index(fields=["isbn"], name="book_isbn_idx")),
    ]
`);
    expect(m.atomic).toBe(false);
    const [add, index] = m.operations;
    expect(add).toMatchObject({ kind: "AddField", origin: "django", callee: "django.db.migrations.AddField" });
    expect(Object.keys(add?.args ?? {})).toEqual(["model_name", "name", "field"]);
    expect(add?.args.field).toMatchObject({ kind: "call", qualified: "django.db.models.CharField", kwargs: { max_length: { kind: "int", value: 13 } } });
    expect(index).toMatchObject({ kind: "AddIndexConcurrently", origin: "postgres" });
    expect(index?.unknown).toBeUndefined();
  });

  it("keeps SeparateDatabaseAndState sides apart, by keyword or position", () => {
    const m = parse(`from django.db import migrations
class Migration(migrations.Migration):
    operations = [
        migrations.SeparateDatabaseAndState(
            [migrations.RunSQL("DROP TABLE x")],
            [migrations.DeleteModel("X")],
        ),
        migrations.SeparateDatabaseAndState(state_operations=[migrations.RemoveField("a", "b")]),
    ]
`);
    const [positional, keyword] = m.operations;
    expect(positional?.databaseOperations?.map((o) => o.kind)).toEqual(["RunSQL"]);
    expect(positional?.stateOperations?.map((o) => o.kind)).toEqual(["DeleteModel"]);
    expect(keyword?.databaseOperations).toEqual([]);
    expect(keyword?.stateOperations?.[0]?.args.name).toMatchObject({ kind: "str", value: "b" });
  });

  it("turns what it cannot read into explicit unknown entries with locations", () => {
    const m = parse(`from django.db import migrations
from app.ops import Custom
class Migration(migrations.Migration):
    operations = [
        Custom("x"),
        *more_ops(),
        make_op(),
        migrations.RemoveField(**kwargs),
        *OTHERS,
    ]
`);
    expect(m.operations.map((o) => [o.kind, o.unknown?.reason])).toEqual([
      ["Custom", "custom operation `Custom`"],
      ["Unknown", "operations spread from `more_ops(...)`"],
      ["make_op", "custom operation `make_op`"],
      ["RemoveField", "arguments are unpacked with `*` or `**`"],
      ["Unknown", "operations spread from another list (`*...`)"],
    ]);
    expect(m.operations[1]?.range).toMatchObject({ line: 6, column: 9 });
    // A call that makes the whole list stands for the operations it returns: unknown, at the call.
    const dynamic = parse("class Migration(migrations.Migration):\n    operations = build()\n");
    expect(dynamic.operationsUnknown).toBeNull();
    expect(dynamic.operations.map((o) => [o.kind, o.unknown?.reason, o.range.line, o.range.column])).toEqual([["Unknown", "operations returned by `build(...)`", 2, 18]]);
    const subscripted = parse("class Migration(migrations.Migration):\n    operations = OPS[0]\n");
    expect(subscripted.operationsUnknown?.reason).toContain("not a literal list");
  });

  it("reads dependencies, swappable dependencies, replaces, run_before and initial", () => {
    const m = parse(`from django.conf import settings
from django.db import migrations
class Migration(migrations.Migration):
    initial = True
    replaces = [("app", "0001_a"), ("app", "0002_b")]
    run_before = [("other", "0003_c")]
    dependencies = [
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
        ("contenttypes", "__latest__"),
        ("app", "0001_initial"),
    ]
    operations = []
`);
    expect(m.initial).toBe(true);
    expect(m.replaces.map((d) => d.name)).toEqual(["0001_a", "0002_b"]);
    expect(m.runBefore).toMatchObject([{ app: "other", name: "0003_c" }]);
    expect(m.dependencies.map((d) => [d.app, d.name, d.swappable])).toEqual([
      ["__setting__", "__first__", "AUTH_USER_MODEL"],
      ["contenttypes", "__latest__", undefined],
      ["app", "0001_initial", undefined],
    ]);
  });

  it("reads the lists `__init__` sets or changes on the instance after the base's `__init__`", () => {
    // djangorestframework-simplejwt's token_blacklist 0011_linearizes_history, as Debian ships it:
    // no class-level dependencies, the real one set in __init__ and another added under a condition.
    const linearized = parse(`import fnmatch
import os
from pathlib import Path

from django.db import migrations, models  # noqa F401

parent_dir = Path(__file__).resolve(strict=True).parent


class Migration(migrations.Migration):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.dependencies = [("token_blacklist", "0010_fix_migrate_to_bigautofield")]
        _m = sorted(fnmatch.filter(os.listdir(parent_dir), "000*.py"))
        if len(_m) == 9:
            self.dependencies.insert(0, ("token_blacklist", os.path.splitext(_m[8])[0]))

    operations = []
`);
    expect(linearized.dependencies).toMatchObject([{ app: "token_blacklist", name: "0010_fix_migrate_to_bigautofield", range: { line: 13 } }]);
    expect(linearized.operationsUnknown).toBeNull();

    const m = parse(`from django.conf import settings
from django.db import migrations, models
class Migration(migrations.Migration):
    dependencies = [("app", "0001_initial")]
    run_before = [("x", "0001_overwritten")]
    operations = [migrations.AddField("thing", "a", models.IntegerField(null=True))]

    @classmethod
    def helper(cls):
        pass

    def __init__(self, name, app_label):
        self.dependencies = [("ignored", "0001_before_super")]
        migrations.Migration.__init__(self, name, app_label)
        self.dependencies.append(("app", "0002_b"))
        self.dependencies += [migrations.swappable_dependency(settings.AUTH_USER_MODEL)]
        self.dependencies.extend([("other", "0003_c")])
        self.run_before = [("y", "0001_z")]
        try:
            self.replaces.insert(0, ("app", "0001_squashed"))
        except AttributeError:
            pass
        self.operations.append(migrations.AddField("thing", "b", models.IntegerField(null=True)))
        self.operations += [migrations.RemoveField("thing", "a")]
        self.atomic = False
`);
    expect(m.dependencies.map((d) => `${d.app}.${d.name}`)).toEqual(["app.0001_initial", "app.0002_b", "__setting__.__first__", "other.0003_c"]);
    expect(m.runBefore.map((d) => `${d.app}.${d.name}`)).toEqual(["y.0001_z"]);
    expect(m.atomic).toBe(false);
    expect(m.replaces.map((d) => `${d.app}.${d.name}`)).toEqual(["app.0001_squashed"]);
    expect(m.operationsUnknown).toBeNull();
    expect(m.operations.map((o) => [o.kind, o.index, o.range.line])).toEqual([["AddField", 0, 6], ["AddField", 1, 23], ["RemoveField", 2, 24]]);

    // Operations changed under a condition, or in a way not read, are unknown; the ones read stay.
    for (const change of ["if settings.X:\n            self.operations = []", "self.operations.insert(0, migrations.RunSQL('x'))", "self.operations = build()"]) {
      const dynamic = parse(`from django.db import migrations
class Migration(migrations.Migration):
    operations = [migrations.RunSQL("SELECT 1")]
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        ${change}
`);
      // A call's operations replace the list: an unknown operation, where `build()` is.
      if (change.endsWith("build()")) expect(dynamic.operations.map((o) => [o.kind, o.range.line]), change).toEqual([["Unknown", 6]]);
      else expect(dynamic.operationsUnknown, change).not.toBeNull();
    }
    // An __init__ that changes nothing rollsafe reads leaves the class's lists as they are.
    const plain = parse(`from django.db import migrations
class Migration(migrations.Migration):
    dependencies = [("app", "0001_initial")]
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.label = "x"
        self.dependencies[0]
`);
    expect(plain.dependencies.map((d) => d.name)).toEqual(["0001_initial"]);
    expect(plain.operationsUnknown).toBeNull();
  });

  it("reads the class body's changes to its lists, and a change to `operations` it may not run makes them unknown", () => {
    const m = parse(`from django.conf import settings
from django.db import migrations, models
class Migration(migrations.Migration):
    dependencies = [("app", "0001_initial")]
    if settings.DEBUG:
        dependencies.append(("debug", "0001_initial"))
    operations = [migrations.AddField("thing", "a", models.IntegerField(null=True))]
    operations.append(migrations.AddField("thing", "b", models.IntegerField(null=True)))
    operations.extend([migrations.RemoveField("thing", "a")])
    print("not a list")
`);
    expect(m.dependencies.map((d) => `${d.app}.${d.name}`)).toEqual(["app.0001_initial", "debug.0001_initial"]);
    expect(m.operationsUnknown).toBeNull();
    expect(m.operations.map((o) => [o.kind, o.index, o.range.line])).toEqual([["AddField", 0, 7], ["AddField", 1, 8], ["RemoveField", 2, 9]]);

    // A loop that only appends is read as in a function: an operation per item, at its body.
    const loop = parse(`from django.db import migrations
class Migration(migrations.Migration):
    operations = [migrations.RunSQL("SELECT 1")]
    for name in ["a", "b"]:
        operations.append(migrations.RemoveField("thing", name))
`);
    expect(loop.operationsUnknown).toBeNull();
    expect(loop.operations.map((o) => [o.kind, o.index, o.range.line, o.builtBy, o.args.name?.kind === "str" ? o.args.name.value : null])).toEqual([
      ["RunSQL", 0, 3, undefined, null],
      ["RemoveField", 1, 5, "a for loop", "a"],
      ["RemoveField", 2, 5, "a for loop", "b"],
    ]);

    // allauth's account 0001_initial and 0002 (as Debian ships them): operations added under a
    // setting are read as added, as for a conditional expression; so are those of a `with`.
    for (const change of ["if not UNIQUE_EMAIL:\n        operations += [migrations.RunSQL('x')]", "with settings.lock:\n        operations.append(migrations.RunSQL('x'))"]) {
      const added = parse(`from django.conf import settings
from django.db import migrations
UNIQUE_EMAIL = getattr(settings, "ACCOUNT_UNIQUE_EMAIL", True)
class Migration(migrations.Migration):
    operations = [migrations.RunSQL("SELECT 1")]
    ${change}
`);
      expect(added.operationsUnknown, change).toBeNull();
      expect(added.operations.map((o) => [o.kind, o.range.line]), change).toEqual([["RunSQL", 5], ["RunSQL", 7]]);
    }

    // One branch of an if/else runs: operations added in both are not all applied.
    const either = parse(`from django.conf import settings
from django.db import migrations
class Migration(migrations.Migration):
    operations = [migrations.RunSQL("SELECT 1")]
    if settings.X:
        operations += [migrations.RunSQL("SELECT 2")]
    elif settings.Y:
        pass
    else:
        operations.append(migrations.RunSQL("SELECT 3"))
`);
    expect(either.operationsUnknown).toMatchObject({ reason: "`operations` is changed in the class body in more than one branch of an `if`, of which one runs", range: { line: 9 } });
    expect(either.operations.map((o) => o.range.line)).toEqual([4]);

    // Branches on the database (KoboToolbox logger 0017: `if not settings.USE_POSTGRESQL:`) run
    // on the vendors their conditions give: each operation keeps them, and the replay applies it
    // only there; an assignment in one branch replaces the list on that branch's vendors.
    const byVendor = parse(`from django.conf import settings
from django.db import connection, migrations
class Migration(migrations.Migration):
    operations = [migrations.RunSQL("SELECT 1")]
    if not settings.USE_POSTGRESQL:
        operations.append(migrations.RunSQL("SELECT 2"))
    if connection.vendor == "mysql":
        operations = [migrations.RunSQL("SELECT 3")]
    elif "sqlite" in settings.DATABASES["default"]["ENGINE"]:
        pass
    else:
        operations += [migrations.RunSQL("SELECT 4")]
`);
    expect(byVendor.operationsUnknown).toBeNull();
    expect(byVendor.operations.map((o) => [o.range.line, o.vendors ?? "all"])).toEqual([
      [4, ["postgresql", "sqlite", "oracle"]],
      [6, ["sqlite", "oracle"]],
      [8, ["mysql"]],
      [12, ["postgresql", "oracle"]],
    ]);

    // An operation class imported differently on each database (Label Studio tasks 0045:
    // `if IS_SQLITE:` the plain AddIndex, else AddIndexConcurrently as AddIndex) is read once per
    // import, each kept for its vendors, whichever branch comes last; `atomic = IS_SQLITE` holds on SQLite.
    const importedByVendor = (flag: string, first: string, second: string) =>
      parse(`from django.conf import settings
from django.db import migrations, models
IS_SQLITE = settings.DJANGO_DB == settings.DJANGO_DB_SQLITE
IS_POSTGRES = not IS_SQLITE
if ${flag}:
    ${first}
else:
    ${second}
class Migration(migrations.Migration):
    atomic = IS_SQLITE
    operations = [
        AddIndex(model_name="book", index=models.Index(fields=["title"], name="book_title_idx")),
        migrations.RunSQL("SELECT 1"),
    ]
`);
    const plain = "from django.db.migrations import AddIndex";
    const concurrent = "from django.contrib.postgres.operations import AddIndexConcurrently as AddIndex";
    const sqliteFirst = importedByVendor("IS_SQLITE", plain, concurrent);
    expect(sqliteFirst.operations.map((o) => [o.kind, o.index, o.vendors ?? "all"])).toEqual([
      ["AddIndex", 0, ["sqlite"]],
      ["AddIndexConcurrently", 1, ["postgresql", "mysql", "oracle"]],
      ["RunSQL", 2, "all"],
    ]);
    const postgresFirst = importedByVendor("IS_POSTGRES", concurrent, plain);
    expect(postgresFirst.operations.map((o) => [o.kind, o.index, o.vendors ?? "all"])).toEqual([
      ["AddIndexConcurrently", 0, ["postgresql"]],
      ["AddIndex", 1, ["mysql", "sqlite", "oracle"]],
      ["RunSQL", 2, "all"],
    ]);
    for (const m of [sqliteFirst, postgresFirst]) {
      expect(m.atomic).toBe(true);
      expect(m.atomicOn).toEqual(["sqlite"]);
      expect(m.atomicComputed).toBeUndefined();
    }
    // The same name imported alike in both branches is one operation.
    expect(importedByVendor("IS_SQLITE", plain, plain).operations.map((o) => [o.kind, o.vendors ?? "all"])).toEqual([
      ["AddIndex", "all"],
      ["RunSQL", "all"],
    ]);

    // `operations = [...]` under a condition rollsafe cannot evaluate, over an empty list
    // (django-filer 0007): read like `[...] if settings.X else []`.
    const onlyIf = parse(`from django.conf import settings
from django.db import migrations
class Migration(migrations.Migration):
    if not getattr(settings, "IMAGE_MODEL", None):
        operations = [migrations.AlterModelOptions(name="image", options={})]
`);
    expect(onlyIf.operationsUnknown).toBeNull();
    expect(onlyIf.operations.map((o) => o.kind)).toEqual(["AlterModelOptions"]);

    // A try body runs whole (then its else), or stops at an exception and one handler runs:
    // operations added in a handler and elsewhere but `finally` are not all applied.
    const tryExcept = (clauses: string) =>
      parse(`from django.db import migrations
class Migration(migrations.Migration):
    operations = [migrations.RunSQL("SELECT 1")]
    try:
        import foo
${clauses}`);
    const bodyAndHandler = tryExcept(`        operations += [migrations.RunSQL("SELECT 2")]
    except ImportError:
        operations.append(migrations.RunSQL("SELECT 3"))
`);
    expect(bodyAndHandler.operationsUnknown).toMatchObject({ reason: "`operations` is changed in the class body both in a `try` and in one of its `except` clauses, of which not all run", range: { line: 7 } });
    const elseAndHandler = tryExcept(`    except* ImportError:
        operations.append(migrations.RunSQL("SELECT 3"))
    else:
        operations.append(migrations.RunSQL("SELECT 4"))
`);
    expect(elseAndHandler.operationsUnknown).toMatchObject({ reason: "`operations` is changed in the class body both in a `try` and in one of its `except` clauses, of which not all run", range: { line: 6 } });
    const twoHandlers = tryExcept(`    except ImportError:
        operations.append(migrations.RunSQL("SELECT 3"))
    except Exception:
        operations.append(migrations.RunSQL("SELECT 4"))
`);
    expect(twoHandlers.operationsUnknown).toMatchObject({ reason: "`operations` is changed in the class body in more than one `except` clause of a `try`, of which at most one runs", range: { line: 8 } });
    // One handler (with or without `finally`, which always runs), or `except*`: read as added.
    for (const handler of ["except ImportError:", "except* ImportError:"]) {
      const added = tryExcept(`    ${handler}
        operations.append(migrations.RunSQL("SELECT 3"))
    finally:
        operations.append(migrations.RunSQL("SELECT 4"))
`);
      expect(added.operationsUnknown, handler).toBeNull();
      expect(added.operations.map((o) => o.range.line), handler).toEqual([3, 7, 9]);
    }

    // Before, these changes were not seen at all: the migration looked as if it had none of them.
    for (const [change, line] of [
      ['for name in ["a", "b"]:\n        if name:\n            operations.append(migrations.RemoveField("thing", name))', 7],
      ["if settings.X:\n        operations = []", 6],
      ["operations.insert(0, migrations.RunSQL('x'))", 5],
      ["while settings.X:\n        operations += [migrations.RunSQL('x')]", 6],
    ] as const) {
      const dynamic = parse(`from django.conf import settings
from django.db import migrations
class Migration(migrations.Migration):
    operations = [migrations.RunSQL("SELECT 1")]
    ${change}
`);
      expect(dynamic.operationsUnknown?.reason, change).toMatch(/^`operations` is changed in the class body in a way rollsafe does not read/);
      expect(dynamic.operationsUnknown?.range.line, change).toBe(line);
    }
  });

  it("reads lists joined with `+`, chosen by a condition, or extended with `+=` (every branch that can hold items)", () => {
    const m = parse(`from django.conf import settings
from django.db import migrations, models
class Migration(migrations.Migration):
    dependencies = [("app", "0001_initial")] + ([("sites", "0001_initial")] if settings.SITES else [])
    dependencies += [migrations.swappable_dependency(settings.AUTH_USER_MODEL)]
    run_before = ([("a", "0001_x")] if settings.A else [("b", "0001_y")])
    operations = [
        migrations.CreateModel(
            "Thing",
            [("id", models.AutoField(primary_key=True))] + ([("site", models.ForeignKey("sites.Site", models.CASCADE))] if settings.SITES else []),
            options={"db_table": "legacy_" + "thing"},
        ),
    ] + ([migrations.AddField("thing", "x", models.IntegerField(default=0))] if settings.X else [])
    operations += (migrations.RemoveField("thing", "x"),)
`);
    expect(m.dependencies.map((d) => `${d.app}.${d.name}`)).toEqual(["app.0001_initial", "sites.0001_initial", "__setting__.__first__"]);
    // Python's precedence: the condition picks between the first list and the rest.
    expect(m.runBefore.map((d) => d.app)).toEqual(["a", "b"]);
    expect(m.operationsUnknown).toBeNull();
    expect(m.operations.map((o) => [o.kind, o.index])).toEqual([["CreateModel", 0], ["AddField", 1], ["RemoveField", 2]]);
    const fields = m.operations[0]?.args.fields;
    expect(fields?.kind === "list" ? fields.items.map((f) => (f.kind === "tuple" ? f.items[0] : f)) : fields).toMatchObject([{ value: "id" }, { value: "site" }]);
    expect(m.operations[0]?.args.options).toMatchObject({ entries: [{ value: { kind: "str", value: "legacy_thing" } }] });
    // Numbers do not add up: only lists, tuples and strings.
    const sum = parse(`from django.db import migrations, models
class Migration(migrations.Migration):
    operations = [migrations.AddField("t", "f", models.CharField(max_length=10 + 5))]
`);
    expect(sum.operations[0]?.args.field).toMatchObject({ kwargs: { max_length: { kind: "opaque", text: "10 + 5" } } });
  });

  it("reads the lists itertools.chain joins, and strings sliced by literal integers (TabbyCat draw 0010, adjfeedback 0016)", () => {
    const m = parse(`from itertools import chain
from django.db import migrations, models

RENAMES = [[migrations.RenameModel(t, t[3:]), migrations.AlterModelTable(t[3:].lower(), None)] for t in ["OldBook", "OldAuthor"]]


class Migration(migrations.Migration):
    operations = [
        migrations.RunSQL("SELECT 1"),
        *chain.from_iterable(RENAMES),
        *chain([migrations.RunSQL("SELECT 2")], *[[migrations.DeleteModel(n[:-1])] for n in ["Pages", "Notes"]]),
    ] + list(chain([migrations.RunSQL("SELECT 3")]))
`);
    expect(m.operationsUnknown).toBeNull();
    expect(m.operations.map((o) => [o.kind, o.index, o.unknown ? "unknown" : ""])).toEqual([
      ["RunSQL", 0, ""],
      ["RenameModel", 1, ""],
      ["AlterModelTable", 2, ""],
      ["RenameModel", 3, ""],
      ["AlterModelTable", 4, ""],
      ["RunSQL", 5, ""],
      ["DeleteModel", 6, ""],
      ["DeleteModel", 7, ""],
      ["RunSQL", 8, ""],
    ]);
    const renames = m.operations.filter((o) => o.kind === "RenameModel").map((o) => [o.args.old_name, o.args.new_name].map((v) => (v?.kind === "str" ? v.value : "?")));
    expect(renames).toEqual([["OldBook", "Book"], ["OldAuthor", "Author"]]);
    expect(m.operations.filter((o) => o.kind === "DeleteModel").map((o) => (o.args.name?.kind === "str" ? o.args.name.value : "?"))).toEqual(["Page", "Note"]);
    // Negative indexes, a single character, and what stays unread: a step, a non-literal bound.
    const values = parse(`from django.db import migrations
class Migration(migrations.Migration):
    operations = [migrations.RunSQL("abcdef"[-3:], "abcdef"[1]), migrations.RunSQL("abcdef"[::2], "abcdef"[x:])]
`).operations.map((o) => [o.args.sql, o.args.reverse_sql].map((v) => (v?.kind === "str" ? v.value : v?.kind)));
    expect(values).toEqual([["def", "b"], ["opaque", "opaque"]]);
  });

  it("reads a list comprehension over a literal iterable as the operation its body makes for each item", () => {
    const m = parse(`from django.db import migrations, models
NAMES = ("a", "b")
FIELDS = {"c": models.IntegerField(), "d": models.TextField(null=True)}
def drop(name):
    return migrations.RemoveField("thing", name)
class Migration(migrations.Migration):
    operations = [
        migrations.RunSQL("SELECT 1"),
    ] + [migrations.AddField("thing", name, models.IntegerField(null=True)) for name in NAMES] + [
        migrations.AddField(model_name="thing", name=n, field=f) for (n, f) in FIELDS.items()
    ] + [drop(k) for k in FIELDS] + [migrations.AlterField("thing", "c", f) for f in FIELDS.values()] + [
        migrations.DeleteModel(m) for m in ["X", "Y"] if m
    ]
`);
    const named = (o: (typeof m.operations)[number]) => {
      const v = o.args.name;
      return v && "value" in v ? v.value : o.unknown?.reason;
    };
    expect(m.operationsUnknown).toBeNull();
    expect(m.operations.map((o) => [o.kind, o.index, named(o)])).toEqual([
      ["RunSQL", 0, undefined],
      ["AddField", 1, "a"],
      ["AddField", 2, "b"],
      ["AddField", 3, "c"],
      ["AddField", 4, "d"],
      ["RemoveField", 5, "c"],
      ["RemoveField", 6, "d"],
      ["AlterField", 7, "c"],
      ["AlterField", 8, "c"],
      ["Unknown", 9, "operations made by a list comprehension that filters its items with `if`"],
    ]);
    // Each operation is at the body; the loop's values are where the iterable writes them.
    expect(m.operations[2]?.range).toMatchObject({ line: 9, column: 10 });
    expect(m.operations[2]?.args.name?.range).toMatchObject({ line: 2, column: 15 });
    expect(m.operations[4]?.args.field).toMatchObject({ kind: "call", callee: "models.TextField", range: { line: 3 } });
    expect(m.operations[8]?.args.field).toMatchObject({ callee: "models.TextField" });
    // No fix can be placed in a body every item shares.
    expect(m.operations.slice(1, 9).map((o) => o.builtBy !== undefined)).toEqual(Array(8).fill(true));
    expect(m.operations[0]?.builtBy).toBeUndefined();
  });

  it.each([
    ["[migrations.DeleteModel(m) for m in {'X', 'Y'}]", "over `{'X', 'Y'}`, which is not a literal list, tuple or dict"],
    ["[migrations.DeleteModel(m) for m in models_to_drop()]", "over `models_to_drop()`, which is not a literal list, tuple or dict"],
    ["[migrations.DeleteModel(m) for m in 'XY']", "over `'XY'`, which is not a literal list, tuple or dict"],
    ["[migrations.DeleteModel(a + b) for a in 'X' for b in 'Y']", "with more than one `for`"],
    ["[migrations.DeleteModel(a) for a, b in [('X', 1), ('Y',)]]", "whose items do not all unpack into `a, b`"],
    ["[migrations.DeleteModel(a) for (a) in ['X']]", "whose loop target (`(a)`) is not a name or a flat tuple of names"],
    ["[migrations.DeleteModel(a) for a, a in [('X', 'Y')]]", "whose loop target (`a, a`) is not a name or a flat tuple of names"],
    ["[migrations.DeleteModel(k) for k in {'X': 1, 'X': 2}]", "over `{'X': 1, 'X': 2}`, which is not a literal list, tuple or dict"],
    [`[migrations.DeleteModel(str(i)) for i in [${Array.from({ length: 1001 }, (_, i) => i).join(", ")}]]`, "over more than 1000 items"],
  ])("leaves a list comprehension it cannot follow as one unknown operation: %s", (comprehension, why) => {
    const m = parse(`from django.db import migrations\nclass Migration(migrations.Migration):\n    operations = ${comprehension}\n`);
    expect(m.operations.map((o) => [o.kind, o.unknown?.reason, o.range.line, o.range.column])).toEqual([["Unknown", `operations made by a list comprehension ${why}`, 3, 18]]);
  });

  it("reads a list comprehension in a value (a model's fields) as the list it makes; one it cannot follow is opaque", () => {
    const m = parse(`from django.db import migrations, models
COUNTERS = {"views": 0, "likes": 1}
class Migration(migrations.Migration):
    operations = [
        migrations.CreateModel("Item", [("id", models.AutoField(primary_key=True))] + [(name, models.IntegerField(default=d)) for name, d in COUNTERS.items()]),
        migrations.CreateModel("Other", [(name, models.IntegerField()) for name in COUNTERS if name]),
    ]
`);
    const fields = m.operations[0]?.args.fields;
    expect(fields?.kind).toBe("list");
    const items = fields?.kind === "list" ? fields.items : [];
    expect(items.map((f) => (f.kind === "tuple" && f.items[0]?.kind === "str" ? f.items[0].value : f.kind))).toEqual(["id", "views", "likes"]);
    expect(items[2]).toMatchObject({ kind: "tuple", items: [{ kind: "str", value: "likes", range: { line: 2 } }, { kind: "call", kwargs: { default: { kind: "int", value: 1 } } }] });
    expect(m.operations[1]?.args.fields?.kind).toBe("opaque");
  });

  it("reads a comprehension in a function with the function's names as they are before the loop binds its own", () => {
    const m = parse(`from django.db import migrations, models
def add_all(model, *names):
    name = "x"
    suffix = name + "_flag"
    return [migrations.AddField(model, name + suffix, models.BooleanField(null=True)) for name in names]
class Migration(migrations.Migration):
    operations = add_all("thing", "a", "b")
    operations += [migrations.RunSQL("SELECT 1")] if False else [migrations.RunSQL("SELECT 2")]
    operations += [migrations.RunSQL("SELECT 3")] if 1 else []
`);
    const texts = m.operations.map((o) => {
      const v = o.kind === "RunSQL" ? o.args.sql : o.args.name;
      return [o.kind, v?.kind === "str" ? v.value : v?.kind, o.builtBy];
    });
    // \`suffix\` is "x_flag": bound before the comprehension's \`name\` hides the function's.
    expect(texts).toEqual([
      ["AddField", "ax_flag", "`add_all`"],
      ["AddField", "bx_flag", "`add_all`"],
      ["RunSQL", "SELECT 2", undefined],
      ["RunSQL", "SELECT 3", undefined],
    ]);
    expect(m.operations.map((o) => o.range.line)).toEqual([7, 7, 8, 9]);
  });


  it("reads a function a factory defines for the RunPython it returns as the migration's, once, by its qualified name", () => {
    const m = parse(`from django.db import migrations
def make_renamer(old, new):
    def operation(apps, schema_editor):
        from app.models import Item
        Item.objects.filter(name=old).update(name=new)
    def reverse(apps, schema_editor):
        pass
    def reverse(apps, schema_editor):
        pass
    return migrations.RunPython(operation, reverse)
def make_both():
    return [make_renamer("a", "b"), migrations.RunPython(top)]
def top(apps, schema_editor):
    pass
class Migration(migrations.Migration):
    operations = [make_renamer("a", "b"), *make_both()]
`);
    const code = m.operations.map((o) => o.args.code);
    expect(code.map((v) => (v?.kind === "name" ? [v.name, v.qualified] : v?.kind))).toEqual([
      ["operation", "make_renamer.<locals>.operation"],
      ["operation", "make_renamer.<locals>.operation"],
      ["top", "top"],
    ]);
    // \`reverse\` is defined twice in the body: which one runs is not followed.
    expect(m.operations[0]?.args.reverse_code?.kind).toBe("opaque");
    const nested = m.functions.filter((f) => f.nestedIn !== undefined);
    expect(nested.map((f) => [f.nestedIn, f.name, f.modelImports, f.calls, f.range.line])).toEqual([
      ["make_renamer", "operation", ["Item"], ["Item.objects.filter().update", "Item.objects.filter"], 3],
      ["make_renamer", "reverse", [], [], 6],
    ]);
    expect(m.functions.filter((f) => f.nestedIn === undefined).map((f) => f.name)).toEqual(["make_renamer", "make_both", "top"]);
  });

  it("follows a nested function's calls to the functions its factory defines, which shadow the module's", () => {
    const m = parse(`from django.db import migrations
def fill(apps, value):
    apps.get_model("app", "Item").objects.update(name=value)
def make_filler(value):
    def fill(apps, value):
        from app.models import Item
        Item.objects.update(name=value)
        log(value)
    def log(value):
        fill(None, value)
    def operation(apps, schema_editor):
        fill(apps, value)
    return migrations.RunPython(operation)
class Migration(migrations.Migration):
    operations = [make_filler("a")]
`);
    const run = functionsRunBy(m, "make_filler.<locals>.operation");
    // The factory's \`fill\` (line 5), not the module's (line 2), and \`log\`, which calls it back.
    expect(run.map((f) => [f.nestedIn, f.name, f.range.line, f.modelImports, f.calls])).toEqual([
      ["make_filler", "operation", 11, [], ["make_filler.<locals>.fill"]],
      ["make_filler", "fill", 5, ["Item"], ["Item.objects.update", "make_filler.<locals>.log"]],
      ["make_filler", "log", 9, [], ["make_filler.<locals>.fill"]],
    ]);
  });
  it("reads module constants bound once and settings read with a default, at the place they are used", () => {
    const m = parse(`from django.conf import settings
from django.db import migrations, models
import choices
LENGTH = 40
UNIQUE = getattr(settings, "APP_UNIQUE", True)
USER = getattr(settings, "APP_USER", None) or getattr(settings, "AUTH_USER_MODEL", "auth.User")
EMPTY = "" and LENGTH
TWICE = 1
TWICE = 2
if settings.DEBUG:
    BRANCHED = 5
BRANCHED = 6
A = B
B = A
choices = 3
def helper(): pass
helper = 4
class Migration(migrations.Migration):
    operations = [
        migrations.AddField("t", "f", models.CharField(
            max_length=LENGTH, unique=UNIQUE, to=USER, default=EMPTY, a=TWICE, b=BRANCHED, c=A, d=choices, e=helper,
            g=getattr(settings, "APP_G"), h=getattr(other, "X", 1),
        )),
    ]
`);
    const kwargs = m.operations[0]?.args.field?.kind === "call" ? m.operations[0].args.field.kwargs : {};
    expect(kwargs.max_length).toMatchObject({ kind: "int", value: 40, range: { line: 21, column: 24 } });
    expect(kwargs.unique).toMatchObject({ kind: "bool", value: true });
    expect(kwargs.to).toMatchObject({ kind: "name", qualified: "django.conf.settings.AUTH_USER_MODEL" });
    expect(kwargs.default).toMatchObject({ kind: "str", value: "" });
    // Bound twice, in an `if` block, in a loop, by an import or a def: not read.
    for (const name of ["a", "b", "c", "d", "e"]) expect(kwargs[name]?.kind, name).toBe("name");
    // Without a default, or on anything but settings: a call, as before.
    expect(kwargs.g).toMatchObject({ kind: "call", callee: "getattr" });
    expect(kwargs.h).toMatchObject({ kind: "call", callee: "getattr" });
  });

  it("reads set(...), frozenset(...), tuple(...) and list(...) of a literal as the collection Python makes", () => {
    const together = (source: string, head = "") =>
      parse(`from django.db import migrations
${head}
class Migration(migrations.Migration):
    operations = [migrations.AlterUniqueTogether("book", ${source})]
`).operations[0]?.args.unique_together;
    expect(together(`set([("title", "author")])`)).toMatchObject({ kind: "set", items: [{ kind: "tuple", items: [{ value: "title" }, { value: "author" }] }] });
    expect(together(`frozenset({("title", "author")})`)).toMatchObject({ kind: "set", items: [{ kind: "tuple" }] });
    expect(together(`tuple([("title", "author")])`)).toMatchObject({ kind: "tuple", items: [{ kind: "tuple" }] });
    expect(together(`list((("title", "author"),))`)).toMatchObject({ kind: "list", items: [{ kind: "tuple" }] });
    expect(together(`set()`)).toMatchObject({ kind: "set", items: [] });
    // The range is the call's, where a finding points.
    expect(together(`set([("title", "author")])`)?.range.column).toBe(58);
    // Not Python's builtin, or not a literal: the call it is.
    expect(together(`set([("a", "b")])`, "from shop.util import set")).toMatchObject({ kind: "call", qualified: "shop.util.set" });
    expect(together(`set([("a", "b")])`, "def set(items):\n    return items\n")).toMatchObject({ kind: "call" });
    expect(together(`set([("a", "b")])`, "set = frozenset\n")).toMatchObject({ kind: "call" });
    expect(together(`set(TOGETHER)`)).toMatchObject({ kind: "call" });
    expect(together(`tuple("ab")`)).toMatchObject({ kind: "call" });
    expect(together(`sorted([("a", "b")])`)).toMatchObject({ kind: "call" });
  });

  it("reads the SQL a RunPython's function executes itself as RunSQL operations of that RunPython", () => {
    const m = parse(`from django.db import connection, migrations

SQL = "UPDATE shop_order SET state = 'new'"

def forwards(apps, editor):
    editor.execute("ALTER TABLE shop_order DROP COLUMN note")
    with editor.connection.cursor() as cursor, open("x") as (a, b):
        cursor.execute("UPDATE shop_order SET total = %s", [0])
    cur = connection.cursor()
    cur.execute(sql="DELETE FROM shop_log", params=None)
    connection.cursor().execute("TRUNCATE shop_tmp")
    editor.execute(f"UPDATE {table} SET x = 1")
    editor.execute(SQL)
    other.execute("DROP TABLE shop_user")
    editor.quote_name("x")

def backwards(apps, schema_editor):
    schema_editor.execute("DROP TABLE shop_audit")

class Migration(migrations.Migration):
    operations = [
        migrations.RunPython(forwards, backwards),
        migrations.RunPython(lambda apps, editor: editor.execute("DROP TABLE shop_x")),
        migrations.RunPython(code=backwards),
    ]
`);
    const [first, lambda, byKeyword] = m.operations;
    const executed = (op: typeof first) => (op?.executes ?? []).map((e) => [e.kind, e.executedBy, e.args.sql?.kind === "str" ? e.args.sql.value : e.args.sql?.kind, e.range.line]);
    // SQL written out (here, or as a module constant), on the editor (by its own parameter name)
    // and on cursors the function opens; SQL built at run time (an f-string of a local) is run
    // too, unread (runsql-unverifiable says so).
    expect(executed(first)).toEqual([
      ["RunSQL", "\`editor.execute\` in \`forwards\`", "ALTER TABLE shop_order DROP COLUMN note", 6],
      ["RunSQL", "\`cursor.execute\` in \`forwards\`", "list", 8],
      ["RunSQL", "\`cur.execute\` in \`forwards\`", "DELETE FROM shop_log", 10],
      ["RunSQL", "\`connection.cursor().execute\` in \`forwards\`", "TRUNCATE shop_tmp", 11],
      ["RunSQL", "\`editor.execute\` in \`forwards\`", "opaque", 12],
      ["RunSQL", "\`editor.execute\` in \`forwards\`", "UPDATE shop_order SET state = 'new'", 13],
    ]);
    // With params, the SQL is read as RunSQL reads (sql, params); the reverse is the RunPython's.
    const withParams = first?.executes?.[1]?.args.sql;
    expect(withParams).toMatchObject({ kind: "list", items: [{ kind: "tuple", items: [{ value: "UPDATE shop_order SET total = %s" }, { kind: "list" }] }] });
    expect(first?.executes?.[0]?.args.reverse_sql).toMatchObject({ kind: "name", qualified: "django.db.migrations.RunSQL.noop" });
    // The reverse function's SQL runs only on rollback; a lambda is not a function of the module.
    expect(lambda?.executes).toBeUndefined();
    expect(executed(byKeyword)).toEqual([["RunSQL", "\`schema_editor.execute\` in \`backwards\`", "DROP TABLE shop_audit", 18]]);
  });

  it("reads SQL a RunPython's function names, binds once, or loops over, as Python finds the names there", () => {
    const m = parse(`from django.db import migrations

BACKFILL = "UPDATE shop_order SET total = 0"
STATEMENTS = [
    "CREATE INDEX shop_order_total_idx ON shop_order (total)",
    "ALTER TABLE shop_order ALTER COLUMN note SET NOT NULL",
]
MIXED = ["SELECT 1", build()]

def forwards(apps, schema_editor):
    schema_editor.execute(BACKFILL)
    with schema_editor.connection.cursor() as cursor:
        sql = "ALTER TABLE shop_order ADD COLUMN flag integer NOT NULL"
        cursor.execute(sql)
    for statement in STATEMENTS:
        schema_editor.execute(statement)
    for item in ("DELETE FROM shop_log", BACKFILL):
        schema_editor.execute(item)
    schema_editor.execute(statement)
    for part in MIXED:
        schema_editor.execute(part)

def shadowed(apps, schema_editor, BACKFILL=None):
    schema_editor.execute(BACKFILL)
    for s in STATEMENTS:
        pass
    s = "DROP TABLE shop_x"
    schema_editor.execute(s)
    twice = "DROP TABLE shop_a"
    twice = "DROP TABLE shop_b"
    schema_editor.execute(twice)
    total = "DROP TABLE shop_c"
    total += " CASCADE"
    schema_editor.execute(total)
    STATEMENTS = []
    for statement in STATEMENTS:
        schema_editor.execute(statement)
    def helper():
        inner = "DROP TABLE shop_d"
    schema_editor.execute(inner)
    [late for late in STATEMENTS]
    schema_editor.execute(late)

def changed(apps, schema_editor):
    STATEMENTS.append("DROP TABLE shop_y")
    for statement in STATEMENTS:
        schema_editor.execute(statement)

class Migration(migrations.Migration):
    operations = [
        migrations.RunPython(forwards),
        migrations.RunPython(shadowed),
        migrations.RunPython(changed),
    ]
`);
    const [forwards, shadowed, changed] = m.operations;
    const executed = (op: typeof forwards) => (op?.executes ?? []).map((e) => [e.args.sql?.kind === "str" ? e.args.sql.value : e.args.sql?.kind, e.range.line, e.args.sql?.range.line]);
    // A module constant, a local bound once (inside a \`with\`), and each item of a loop over a
    // constant or a literal, at the place it runs; not the loop variable after its loop, nor a
    // loop over items that are not all SQL.
    // What is not read still runs: one statement rollsafe cannot read (runsql-unverifiable), at its call.
    const read = (op: typeof forwards) => executed(op).filter(([kind]) => kind !== "name" && kind !== "opaque" && kind !== "call");
    const unread = (op: typeof forwards) => executed(op).filter(([kind]) => kind === "name" || kind === "opaque" || kind === "call").map(([, line]) => line);
    expect(read(forwards)).toEqual([
      ["UPDATE shop_order SET total = 0", 11, 11],
      ["ALTER TABLE shop_order ADD COLUMN flag integer NOT NULL", 14, 14],
      ["CREATE INDEX shop_order_total_idx ON shop_order (total)", 16, 16],
      ["ALTER TABLE shop_order ALTER COLUMN note SET NOT NULL", 16, 16],
      ["DELETE FROM shop_log", 18, 18],
      ["UPDATE shop_order SET total = 0", 18, 18],
    ]);
    expect(unread(forwards)).toEqual([19, 21]);
    // A parameter hides the constant; a loop variable bound again, a name bound twice or changed
    // with \`+=\`, a list rebound in the function, a nested function's local and a
    // comprehension's variable are not read.
    expect(read(shadowed)).toEqual([]);
    expect(unread(shadowed)).toEqual([24, 28, 31, 34, 37, 40, 42]);
    // A list the function changes holds more than its literal: not read.
    expect(read(changed)).toEqual([]);
    expect(unread(changed)).toEqual([47]);
  });

  it("reads at most a bounded number of statements from one RunPython function", () => {
    // Loops over one list at many call sites: a small file that would hold millions of statements.
    const items = Array.from({ length: 600 }, (_, i) => `    "UPDATE shop_x SET a = ${i}",`).join("\n");
    const loops = Array.from({ length: 50 }, (_, j) => `    for s${j} in L:\n        schema_editor.execute(s${j})`).join("\n");
    const m = parse(`from django.db import migrations\n\nL = [\n${items}\n]\n\ndef forwards(apps, schema_editor):\n${loops}\n\nclass Migration(migrations.Migration):\n    operations = [migrations.RunPython(forwards)]\n`);
    const executes = m.operations[0]?.executes ?? [];
    expect(executes).toHaveLength(1000);
    // In order: the first loop whole, then the second until the bound.
    expect(executes.map((e) => (e.args.sql?.kind === "str" ? e.args.sql.value : null)).slice(598, 602)).toEqual([
      "UPDATE shop_x SET a = 598",
      "UPDATE shop_x SET a = 599",
      "UPDATE shop_x SET a = 0",
      "UPDATE shop_x SET a = 1",
    ]);
  });

  it("reads the indexes a RunPython's function adds or drops with the schema editor as AddIndex and RemoveIndex", () => {
    const m = parse(`from django.db import migrations, models

def forwards(apps, schema_editor):
    Order = apps.get_model("app", "Order")
    User = apps.get_model("auth", "User")
    schema_editor.add_index(Order, models.Index(fields=["state"], name="order_state_idx"))
    schema_editor.remove_index(Order, models.Index(fields=["total"], name="order_total_idx"))
    schema_editor.add_index(User, models.Index(fields=["email"], name="user_email_idx"))
    schema_editor.add_index(model_for(apps), models.Index(fields=["x"], name="x_idx"))

class Migration(migrations.Migration):
    operations = [migrations.RunPython(forwards)]
`);
    const executes = m.operations[0]?.executes ?? [];
    // Only a model of the migration's own app, fetched by name: the operation's model_name is relative to it.
    expect(executes.map((e) => [e.kind, e.args.model_name?.kind === "str" ? e.args.model_name.value : null, e.executedBy, e.range.line])).toEqual([
      ["AddIndex", "order", "\`schema_editor.add_index\` in \`forwards\`", 6],
      ["RemoveIndex", "order", "\`schema_editor.remove_index\` in \`forwards\`", 7],
    ]);
    expect(executes[0]?.args.index).toMatchObject({ kind: "call", qualified: "django.db.models.Index" });
    expect(executes[1]?.args.name).toMatchObject({ kind: "str", value: "order_total_idx" });
  });

  it("says why operations chosen by a condition or built by a call cannot be read", () => {
    const both = parse(`from django.db import migrations
class Migration(migrations.Migration):
    operations = [migrations.RunSQL("SELECT 1")] if settings.X else [migrations.RunSQL("SELECT 2")]
`);
    expect(both.operations).toEqual([]);
    expect(both.operationsUnknown?.reason).toContain("both branches hold operations");
    const built = parse(`from django.db import migrations
class Migration(migrations.Migration):
    operations = [migrations.RunSQL("SELECT 1")]
    operations += build()
`);
    // The readable part is kept and still checked; the call's is an unknown operation.
    expect(built.operations.map((o) => [o.kind, o.index, o.unknown?.reason])).toEqual([["RunSQL", 0, undefined], ["Unknown", 1, "operations returned by `build(...)`"]]);
    expect(built.operationsUnknown).toBeNull();
    const extended = parse(`from django.db import migrations
class Migration(migrations.Migration):
    operations = [migrations.RunSQL("SELECT 1")]
    operations += OTHER.ops
`);
    expect(extended.operations.map((o) => o.kind)).toEqual(["RunSQL"]);
    expect(extended.operationsUnknown?.reason).toContain("not a literal list (`OTHER.ops`)");
    const nested = parse(`from django.db import migrations
class Migration(migrations.Migration):
    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.DeleteModel("A")] + [migrations.DeleteModel("B")],
            database_operations=ops(),
        ),
    ]
`);
    expect(nested.operations[0]?.stateOperations?.map((o) => [o.args.name, o.index])).toMatchObject([[{ value: "A" }, 0], [{ value: "B" }, 1]]);
    // The call stands for the operations it makes: the database side is one unknown operation.
    expect(nested.operations[0]?.unknown).toBeUndefined();
    expect(nested.operations[0]?.databaseOperations?.map((o) => [o.kind, o.unknown?.reason])).toEqual([["Unknown", "operations returned by `ops(...)`"]]);
    const constant = parse(`from django.db import migrations
STATE = [migrations.DeleteModel("A")]
OPERATIONS = [migrations.SeparateDatabaseAndState(state_operations=STATE)] + LOOP
LOOP = OPERATIONS
class Migration(migrations.Migration):
    operations = OPERATIONS[:1]
    operations = [migrations.SeparateDatabaseAndState(state_operations=STATE)]
    operations += LOOP
`);
    // A module constant bound to a list is read where it is bound; a loop through names is not.
    expect(constant.operations[0]?.stateOperations?.map((o) => o.kind)).toEqual(["DeleteModel"]);
    expect(constant.operationsUnknown?.reason).toBe("`operations` is not a literal list (`LOOP`)");
  });

  it.each([
    ["safe = Safe.after_deploy()", "post", "safemigrate"],
    ["safe = Safe.after_deploy(delay=timedelta(days=7))", "post", "safemigrate"],
    ["safe = Safe.before_deploy", "pre", "safemigrate"],
    ["safe = Safe.always()", "always", "safemigrate"],
    ["stage = Stage.POST_DEPLOY", "post", "syzygy"],
    ["stage = Stage.PRE_DEPLOY", "pre", "syzygy"],
    ["is_post_deployment = True", "post", "sentry"],
    ["is_post_deployment = False", "pre", "sentry"],
  ])("reads the stage marker `%s`", (line, stage, source) => {
    const m = parse(`class Migration(migrations.Migration):\n    ${line}\n    operations = []\n`);
    expect(m.stage).toMatchObject({ stage, source });
  });

  it("collects comments around operations for suppressions", () => {
    const m = parse(`class Migration(migrations.Migration):
    operations = [
        # rollsafe: ignore[dropping-column] the table is empty
        migrations.RemoveField("a", "b"),  # trailing
        migrations.RemoveField("a", "c"),
    ]
`);
    expect(m.operations[0]?.comments.map((c) => c.text)).toEqual(["# rollsafe: ignore[dropping-column] the table is empty", "# trailing"]);
    expect(m.operations[1]?.comments).toEqual([]);
  });

  it("records syntax errors with their locations and keeps what it could read", () => {
    const m = parse("class Migration(migrations.Migration):\n    operations = [\n        migrations.RemoveField('a', 'b'\n    ]\n");
    expect(m.syntaxErrors.length).toBeGreaterThan(0);
    expect(m.syntaxErrors[0]?.line).toBeGreaterThanOrEqual(3);
    expect(m.syntaxErrors[0]?.message).toBe("expected `)`");
  });

  it("places what ends at the end of a line at the same column with CRLF line ends as with LF (found by the fuzzer)", () => {
    // An unclosed call followed by a comment: the error and the operation's range end where the
    // comment ends, which tree-sitter's comment token puts after the `\r` of a CRLF.
    const lf = "from django.db import migrations\nclass Migration(migrations.Migration):\n    operations = [\n        migrations.RemoveField('a', 'b'  # why\n    ]\n";
    const where = (m: ReturnType<typeof parse>) => ({
      errors: m.syntaxErrors.map(({ line, column, endLine, endColumn }) => [line, column, endLine, endColumn]),
      operations: m.operations.map(({ range: { line, column, endLine, endColumn } }) => [line, column, endLine, endColumn]),
    });
    const expected = where(parse(lf));
    expect(expected.errors.length).toBeGreaterThan(0);
    expect(expected.operations).toEqual([[4, 9, 4, 47]]);
    expect(where(parse(lf.replace(/\n/g, "\r\n")))).toEqual(expected);
  });

  it("says what is wrong at each syntax error", () => {
    const messages = (source: string) => parse(source).syntaxErrors.map((e) => e.message);
    expect(messages('print "hello"\n')).toEqual(["Python 2 `print` statement"]);
    expect(messages("x = 1 +\n")).toEqual(["invalid syntax at `x = 1 +`"]);
    expect(messages("def f(:\n    pass\n")).toEqual(["expected `)`"]);
    // Quoted source is one line, bounded, and cannot close its own quotes.
    const [long] = messages(`x = (${"`a`".repeat(30)} +\n`);
    expect(long).toMatch(/^invalid syntax at `[^`\n]{1,40}…`$/);
  });

  it("reads arguments across a backslash line continuation as CPython does (the continuation is no argument)", () => {
    const body = (join: string) => `from django.db import migrations, models
class Migration(migrations.Migration):
    dependencies = [("app",${join}"0001_initial")]
    operations = [
        migrations.AddField("book",${join}"pages",${join}models.IntegerField(null=True)),
        migrations.RemoveField(${join}model_name="book", name="title"),
    ]
`;
    const joined = parse(body(" \\\n        "));
    expect(joined.syntaxErrors).toEqual([]);
    expect(joined.operations[0]?.args.field).toMatchObject({ kind: "call", qualified: "django.db.models.IntegerField" });
    expect(joined.operations[0]?.args.preserve_default).toBeUndefined();
    const strip = (m: ReturnType<typeof parse>) => JSON.parse(JSON.stringify({ deps: m.dependencies, ops: m.operations }, (k, v) => (k === "range" ? undefined : v)));
    expect(strip(joined)).toEqual(strip(parse(body(" "))));
  });

  // Each verdict checked against CPython 3.11's compile(): tree-sitter-python skips a line break
  // as whitespace wherever the grammar cannot end the statement, so these parse without an error.
  it.each([
    ["class Migration(migrations.Migration):\n    initial = \n\n    dependencies = []\n", true],
    ["def f():\n    return 1 +\n    2\n", true],
    ["x = y =\n    z\n", true],
    ["x = 1 +\r\n    2\r\n", true],
    ["x = 1 + # a comment's backslash joins nothing \\\n    2\n", true],
    ["x = 1 + \\\n    2\n", false],
    ["x = 1 + \\\r\n    2\r\n", false],
    ["x = (1 +\n    2)\n", false],
    ["x = {\n  'a': [\n    1,  # c\n  ]\n}[\n  'a'\n]\n", false],
    ["x = '''a\nb''' + f'''{1 +\n1}'''\n", false],
    ["raise ValueError(\n    'x') from \\\n    e\n", false],
    ["print(1,\n      2); y = \\\n  3\n", false],
    ["if x:\n    y = 1; \\\n        z = 2\n", false],
    ["if x:\n    # a comment's backslash \\\n    y = 1\n", false],
  ])("a line break outside brackets ends the statement: %j (invalid: %s)", (source, invalid) => {
    const messages = parse(source).syntaxErrors.map((e) => e.message);
    expect(messages).toEqual(invalid ? ["line break inside a statement, outside brackets and without a backslash: invalid syntax"] : []);
  });

  // Found by the fuzzer (a flipped byte made a vertical tab). Each verdict checked against
  // CPython 3.11's compile(): between tokens it takes only space, tab and form feed; tree-sitter
  // skips every Unicode space (and U+200B, U+2060, U+FEFF), so these parsed without an error.
  it.each(["\v", "\u0085", "\u00a0", "\u1680", "\u2000", "\u200a", "\u200b", "\u2028", "\u2029", "\u202f", "\u205f", "\u2060", "\u3000", "\ufeff"])(
    "%j between tokens is an invalid non-printable character, as in CPython; in a string or a comment it is not",
    (space) => {
      const code = `U+${(space.codePointAt(0) as number).toString(16).toUpperCase().padStart(4, "0")}`;
      const where = (source: string) => parse(source).syntaxErrors.map((e) => [e.line, e.column, e.message]);
      // CPython: line 6 column 13 ("invalid non-printable character U+00A0" ...), and line 1 column 1.
      const call = `from django.db import migrations\n\nclass Migration(migrations.Migration):\n    operations = [\n        migrations.RunSQL(\n            ${space}"SELECT 1", f"{1}"),\n    ]\n`;
      // tree-sitter's scanner may stumble on some of them too: its own errors come beside.
      expect(where(call)).toContainEqual([6, 13, `invalid non-printable character ${code}`]);
      expect(where(`${space}x = 1\n`)).toContainEqual([1, 1, `invalid non-printable character ${code}`]);
      expect(where(`x = '${space}' + f"{1}${space}"  # ${space}\n`)).toEqual([]);
    },
  );

  // Found by the fuzzer (seed 5151, case 42699: `initial:= True` in a Migration class). Each
  // verdict checked against CPython 3.11's compile().
  it.each([
    ["initial := True", false],
    ["x = y := 1", false],
    ["x += y := 1", false],
    ["x: int = y := 1", false],
    ["f(a=b := 1)", false],
    ["def f(a=b := 1): pass", false],
    ["g = lambda: y := 1", false],
    ["assert x := 1", false],
    ["x := 1, 2", false],
    ["x = [a for a in b if c := 1]", false],
    ["for x in y := [1]: pass", false],
    ["x = not y := 1", false],
    ["raise x := 1", false],
    ["x = y[a := 1 : 2]", false],
    ["x = {a: y := 1}", false],
    ["def f():\n    return y := 1", false],
    ["x = (y := 1)", true],
    ["f(a := 1)", true],
    ["foo(x := 1, y=2)", true],
    ["f(x := 1 for a in b)", true],
    ["class A(x := object): pass", true],
    ["x = [y := 1, 2]", true],
    ["x = {y := 1, 2}", true],
    ["x = (y := 1, 2)", true],
    ["a[b := 1]", true],
    ["a[x := 1, 2]", true],
    ["y = [x := 1 for a in b]", true],
    ["if x := 1: pass", true],
    ["if a: pass\nelif b := 1: pass", true],
    ["while x := 1: pass", true],
    ["@x := d\ndef f(): pass", true],
    ["match x := 1:\n    case _: pass", true],
    ["match x:\n    case _ if y := 1: pass", true],
    ["assert (x := 1)", true],
    ["print(f'{x:=1}')", true],
  ])("an unparenthesized `:=` in %j is valid: %s", cpythonVerdict("an assignment expression (`:=`) is not allowed here without parentheses: invalid syntax"));

  // A format spec after `:=` in an f-string (`=` as the fill or the alignment): tree-sitter-python
  // reads an assignment expression there and failed on the spec. Each verdict checked against
  // CPython 3.11's compile().
  it.each([
    ['L = f"{x:=}"', true],
    ['L = f"{x:=^10}"', true],
    ["L = f'{x :=<{w}}'", true],
    ['L = f"a {x:=} b {y:=>3}"', true],
    ['L = f"""{x:=^10}\n"""', true],
    ['N = "é😀"\nL = f"😀{x:=^10}"', true],
    ['class A:\n    x = f(a=\nb, c=f"{d:=^4}")', true],
    ['L = rf"{x:=}"', true],
  ])("a format spec after `:=` in %j is valid: %s", cpythonVerdict(""));

  it("keeps the file's real errors, not the format specs, when it has both", () => {
    expect(parse('L = f"{x:=}"\nM = f"{y +}"\n').syntaxErrors.map((e) => [e.line, e.column])).toEqual([[2, 10]]);
    expect(parse('L = f"{x:=^4}" + (\n').syntaxErrors).toHaveLength(1);
  });

  it("reads an operation whose arguments hold such an f-string, at its own offsets", () => {
    const m = parse(`from django.db import migrations, models

NOTE = "é😀"


class Migration(migrations.Migration):
    operations = [
        migrations.AddField("book", "code", models.CharField(max_length=20, help_text=f"{NOTE:=^20}")),
        migrations.RemoveField("book", "title"),
    ]
`);
    expect(m.syntaxErrors).toEqual([]);
    expect(m.operations.map((op) => [op.kind, op.range.line, op.range.column])).toEqual([
      ["AddField", 8, 9],
      ["RemoveField", 9, 9],
    ]);
    expect(m.operations[0]?.args.field).toMatchObject({ kind: "call", kwargs: { max_length: { kind: "int", value: 20 } } });
  });

  // Found by the fuzzer (seed 777001, case 67066: `models.DateField(,)`); checked against CPython 3.11.
  it.each([
    ["f(,)", false],
    ["f( , )", false],
    ["class A(,): pass", false],
    ["f()", true],
    ["f(  # a, b\n)", true],
    ["f(a,)", true],
    ["f('a,b')", true],
  ])("a lone comma as the arguments of %j is valid: %s", cpythonVerdict("a comma without an argument: invalid syntax"));

  // Noticed by the fuzzer (seed 777001); each verdict checked against CPython 3.11's compile().
  it.each([
    ["c as d", false],
    ["f(c as d)", false],
    ["x = (c as d)", false],
    ["x = c as d", false],
    ["[c as d]", false],
    ["[x as y for x in z]", false],
    ["lambda: (a as b)", false],
    ["assert a as b", false],
    ["with ((a as b)): pass", false],
    ["try: pass\nexcept (E as e): pass", false],
    ["with a as b: pass", true],
    ["with a as b, c as d: pass", true],
    ["with (a as b, c as d): pass", true],
    ["with (a as b): pass", true],
    ["with (a as b, c): pass", true],
    ["with a as b[0]: pass", true],
    ["try: pass\nexcept (E, F) as e: pass", true],
    ["try: pass\nexcept* E as e: pass", true],
    ["match x:\n    case [a] as y: pass", true],
    ["match x:\n    case [a as b]: pass", true],
    ["match x:\n    case A(b=c as d): pass", true],
    ["import a as b", true],
    ["from a import b as c", true],
    // tree-sitter binds `as` tighter than Python: these put the `as_pattern` inside an operator or a tuple.
    ["with open(p) if p else s as t: pass", true],
    ["with a or b as c: pass", true],
    ["with not a as b: pass", true],
    ["with lambda: x as y: pass", true],
    ["with (a as b,): pass", true],
    ["with (\n    f(\n        1,\n    ) as g,\n): pass", true],
    ["try: pass\nexcept A or B as e: pass", true],
    ["with a if b as c else d: pass", false],
    ["x = a if b else c as d", false],
    ["f(a or b as c)", false],
    ["x = (a, b as c)", false],
    ["with ((a, b as c)): pass", false],
  ])("`as` in %j is valid: %s", cpythonVerdict("`as` outside `with`, `except` and `case`: invalid syntax"));

  // A keyword argument's value on a line indented less than its statement (found by the fuzzer,
  // seed 777001): valid Python that tree-sitter-python's scanner fails on. Checked against CPython 3.11.
  it.each([
    ["class A:\n    x = f(a=\nb)", true],
    ["def g():\n    return h(a=\n1)", true],
    ["class A:\n    x = f(a=\n  b)", true],
    ["class A:\n    x = f(a=\r\nb)", true],
    ["class A:\n    x = f(a=\nb)\n    y = 2", true],
    ["class A:\n    s = \"\"\"\nx\"\"\"\n    t = f(a=\nb)", true],
    ["class Migration:\n    operations = [\n        f(name=\n'x'),\n    ]", true],
  ])("a value on a dedented line inside brackets in %j is valid: %s", cpythonVerdict(""));

  it("reads a migration with such a line whole, at the lines of the file", () => {
    const m = parse(`from django.db import migrations, models

class Migration(migrations.Migration):
    operations = [
        migrations.AddField("book", "pages", field=
models.IntegerField(null=True)),
        migrations.RemoveField("book", "title"),
    ]
`);
    expect(m.syntaxErrors).toEqual([]);
    expect(m.operations.map((op) => [op.kind, op.range.line, op.range.endLine])).toEqual([
      ["AddField", 5, 6],
      ["RemoveField", 7, 7],
    ]);
    expect(m.operations[0]?.args.field).toMatchObject({ kind: "call", callee: "models.IntegerField", range: { line: 6, column: 1 } });
  });

  it("keeps a line break inside an unterminated string an error (found by the fuzzer, seed 23004: a flipped byte made a CR there)", () => {
    // CPython: "unterminated string literal"; joining the lines would have closed the string.
    for (const source of ['class A:\n    x = f("a\nb")\n', 'class Migration:\n    dependencies = [("library", "0001_i\ritial")]\n']) {
      expect(parse(source).syntaxErrors.length, source).toBeGreaterThan(0);
    }
  });

  it("reports a try without except or finally, which tree-sitter accepts (a file cut after it, fuzz slice case 331)", () => {
    // CPython: "expected 'except' or 'finally' block".
    expect(parse("class Migration:\n    operations = []\n    try:\n        import x\n").syntaxErrors.map((e) => e.message)).toEqual(["expected 'except' or 'finally' block"]);
    for (const ending of ["except ImportError:\n        pass\n", "finally:\n        pass\n", "except* ValueError:\n        pass\n"]) {
      expect(parse(`class Migration:\n    try:\n        import x\n    ${ending}`).syntaxErrors, ending).toEqual([]);
    }
  });

  it.each([
    ["class A:\n    x = f(a=\nb\n", ["expected an indented block", "invalid syntax at `x = f(a=`"]],
    ["class A:\n    x = f(a=\nb c)", ["expected an indented block", "invalid syntax at `x = f(a=`", "invalid syntax at `b c)`"]],
  ])("a dedented line inside brackets in %j stays an error where CPython says so", (source, messages) => {
    expect(parse(`${source}\n`).syntaxErrors.map((e) => e.message)).toEqual(messages);
  });

  // A line break in a compound statement's header, outside brackets: noticed by the fuzzer (seed
  // 777001, reachable through a lone CR). Each verdict checked against CPython 3.11's compile().
  it.each([
    ["class\nMigration(object):\n    pass", false],
    ["class Migration\n(object):\n    pass", false],
    ["class Migration(object)\n:\n    pass", false],
    ["def\nf():\n    pass", false],
    ["def f()\n:\n    pass", false],
    ["def f() ->\nint:\n    pass", false],
    ["if a and\nb:\n    pass", false],
    ["if a:\n    pass\nelif\nb:\n    pass", false],
    ["if a:\n    pass\nelse\n:\n    pass", false],
    ["for x in\ny:\n    pass", false],
    ["while\na:\n    pass", false],
    ["with a as\nb:\n    pass", false],
    ["try:\n    pass\nexcept\nE:\n    pass", false],
    ["try\n:\n    pass\nfinally:\n    pass", false],
    ["@d\ndef f():\n    pass", true],
    ["class A(\n    B,\n):\n    pass", true],
    ["def f(\n    a,\n) -> int:\n    pass", true],
    ["if (a and\n        b):\n    pass", true],
    ["if a and \\\n        b:\n    pass", true],
    ["class A(B):  # c: d\n    pass", true],
    ["def f(): pass\n", true],
    ["class A: x = 1\n", true],
    ["with (a as b,\n      c as d):\n    pass", true],
    ["async def f():\n    pass", true],
    ["for x in (1,\n 2): pass", true],
  ])("a compound statement's header in %j is valid: %s", cpythonVerdict("line break inside a statement, outside brackets and without a backslash: invalid syntax"));

  it("takes a form feed between tokens, as CPython does", () => {
    expect(parse("\fx = 1\f+ 2\n").syntaxErrors).toEqual([]);
  });

  it("survives deep nesting without recursion limits", () => {
    const deep = `class Migration(migrations.Migration):\n    operations = [migrations.RunSQL(${"f(".repeat(5000)}${")".repeat(5000)})]\n`;
    const m = parse(deep);
    expect(m.operations[0]?.kind).toBe("RunSQL");
  });
});

describe("Python literals", () => {
  it.each([
    [`"a\\nb"`, "a\nb"],
    [`r"a\\nb"`, "a\\nb"],
    [`'it\\'s'`, "it's"],
    [`"""x"y"""`, 'x"y'],
    [`"\\u00e9\\x41\\101"`, "éAA"],
    [`u"plain"`, "plain"],
  ])("decodes %s", (text, value) => {
    expect(decodeString(text)?.value).toBe(value);
  });

  it("leaves f-strings opaque", () => {
    expect(decodeString('f"{x}"')).toBeNull();
  });

  it("expands ** and * of literals it knows into the call's arguments, and marks others unknown (OpenWISP config 0014)", () => {
    const m = parse(`from django.db import migrations, models
from app import app_settings

OPTIONS = {"max_length": 32, "null": True}
ARGS = ("book", "isbn")


class Migration(migrations.Migration):
    operations = [
        migrations.AddField(*ARGS, field=models.CharField(**OPTIONS, unique=False)),
        migrations.AddField("book", "code", models.CharField(**app_settings.CODE_OPTIONS)),
    ]
`);
    const [known, unknown] = m.operations;
    expect(known?.args).toMatchObject({ model_name: { value: "book" }, name: { value: "isbn" } });
    expect(known?.args.field).toMatchObject({ kind: "call", hasSplat: false, kwargs: { max_length: { value: 32 }, null: { value: true }, unique: { value: false } } });
    expect(unknown?.args.field).toMatchObject({ kind: "call", hasSplat: true });
  });

  it("keeps the SQL a RunPython runs only on some vendors with those vendors (patchwork 0042, 0043)", () => {
    const m = parse(`from django.db import connection, migrations


def forwards(apps, schema_editor):
    if connection.vendor == "mysql":
        schema_editor.execute("CREATE INDEX a ON t (x)")
    elif schema_editor.connection.vendor in ("postgresql", "sqlite"):
        schema_editor.execute("CREATE INDEX CONCURRENTLY b ON t (x)")
    else:
        schema_editor.execute("CREATE INDEX c ON t (x)")
    schema_editor.execute("UPDATE t SET x = 1")
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("ANALYZE t")


class Migration(migrations.Migration):
    operations = [migrations.RunPython(forwards)]
`);
    const executed = (m.operations[0]?.executes ?? []).map((e) => [e.args.sql?.kind === "str" ? e.args.sql.value : "?", e.vendors ?? "all"]);
    expect(executed).toEqual([
      ["CREATE INDEX a ON t (x)", ["mysql"]],
      ["CREATE INDEX CONCURRENTLY b ON t (x)", ["postgresql", "sqlite"]],
      ["CREATE INDEX c ON t (x)", ["oracle"]],
      ["UPDATE t SET x = 1", "all"],
      ["ANALYZE t", ["postgresql"]],
    ]);
  });

  it("reads an f-string whose fields are module constants or literals (treeherder perf 0036)", () => {
    const m = parse(`from django.db import migrations

SYMBOL = "perf_fk"
TABLE = "perf" + "_datum"
N = 3
if flag:
    MAYBE = "a"


class Migration(migrations.Migration):
    operations = [
        migrations.RunSQL(f"ALTER TABLE {TABLE} DROP CONSTRAINT {SYMBOL!s}; -- {{braces}} {N}\\n" rf"\\d{SYMBOL}"),
        migrations.RunSQL(f"{MAYBE}"),
        migrations.RunSQL(f"{SYMBOL!r}"),
        migrations.RunSQL(f"{N:>4}"),
        migrations.RunSQL(f"{SYMBOL=}"),
        migrations.RunSQL(f"{settings.X}"),
    ]
`);
    const sql = m.operations.map((op) => (op.args.sql?.kind === "str" ? op.args.sql.value : op.args.sql?.kind));
    expect(sql).toEqual(["ALTER TABLE perf_datum DROP CONSTRAINT perf_fk; -- {braces} 3\n\\dperf_fk", "opaque", "opaque", "opaque", "opaque", "opaque"]);
  });
});

describe("decodePythonSource", () => {
  it("drops a UTF-8 BOM and honours PEP 263 cookies", () => {
    expect(decodePythonSource(Buffer.from("\ufeffx = 1\n"))).toBe("x = 1\n");
    // Once: a second BOM is a character to CPython ("invalid non-printable character U+FEFF";
    // found by the fuzzer, seed 777001 case 6681), which TextDecoder dropped as well.
    expect(decodePythonSource(Buffer.from("\ufeff\ufeffx = 1\n"))).toBe("\ufeffx = 1\n");
    expect(parseMigrationSource(decodePythonSource(Buffer.from("\ufeff\ufeff")), { path: "/x/app/migrations/0001_x.py", app: "app", name: "0001_x" }).syntaxErrors.map((e) => [e.line, e.column, e.message])).toEqual([
      [1, 1, "invalid non-printable character U+FEFF"],
    ]);
    expect(decodePythonSource(Buffer.from("# -*- coding: latin-1 -*-\n# \xe9\n", "latin1"))).toContain("é");
  });

  // Found by the fuzzer (seed 5151, case 35352). Each verdict checked against CPython 3.11's
  // compile() of the bytes (what importing the migration does): "encoding problem: utf8 with BOM".
  it.each([
    ["utf-8", true],
    ["UTF-8", true],
    ["utf_8", true],
    ["utf-8-sig", true],
    ["utf8", false],
    ["u8", false],
    ["latin-1", false],
    ["ascii", false],
  ])("after a UTF-8 BOM, a coding declaration of %s is %s as in CPython", (name, accepted) => {
    for (const [text, line] of [[`# -*- coding: ${name} -*-\nx = 1\n`, 1], [`\n# coding: ${name}\nx = 1\n`, 2]] as const) {
      const bytes = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(text)]);
      if (accepted) {
        expect(decodePythonSource(bytes)).toBe(text);
        continue;
      }
      expect(() => decodePythonSource(bytes)).toThrow(`encoding problem: the coding declaration says \`${name.toLowerCase()}\` after a UTF-8 BOM`);
      try {
        decodePythonSource(bytes);
      } catch (error) {
        expect((error as UndecodableSource).line).toBe(line);
      }
    }
  });

  it("reads a lone CR as a line break, as CPython does (found by the fuzzer, seed 777001 case 74623)", () => {
    // Same length, so every offset holds; CRLF stays as it is.
    expect(decodePythonSource(Buffer.from("x = 1\ry = 'a\rb'\r\nz = 3\n"))).toBe("x = 1\ny = 'a\nb'\r\nz = 3\n");
    // CPython: line 1, "invalid syntax" (a statement ends at the lone CR); tree-sitter skipped it as a space.
    const m = parseMigrationSource(decodePythonSource(Buffer.from("x = 1 +\r2\n")), { path: "/x/app/migrations/0001_x.py", app: "app", name: "0001_x" });
    expect(m.syntaxErrors.map((e) => e.line)).toEqual([1]);
  });

  it("rejects binary files and invalid UTF-8 with a location", () => {
    expect(() => decodePythonSource(Buffer.from("x = 1\0\n"))).toThrow(UndecodableSource);
    try {
      decodePythonSource(Buffer.from([0x78, 0x0a, 0x79, 0xff, 0x0a]));
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(UndecodableSource);
      expect((error as UndecodableSource).line).toBe(2);
    }
  });

  it("accepts invalid UTF-8 inside comments only, as importing the module does", () => {
    // Each case was imported with Debian's Python 3.11 (`import m`): comments are never decoded.
    const latin1 = (text: string) => Buffer.from(text, "latin1");
    const accepted = [
      "x = 1  # caf\xe9\n",
      "# -*- coding: utf-8 -*-\nx = 1  # caf\xe9\n",
      'x = 1  # caf\xe9 and \xff\xfe more\n"""doc # not a comment"""\n',
      'x = "#"  # caf\xe9\n',
      "x = 1 \\\n  # \xe9\r\ny = 2\n",
    ];
    for (const text of accepted) {
      const decoded = decodePythonSource(latin1(text));
      expect(decoded, JSON.stringify(text)).toContain("\ufffd");
      expect(decoded.replace(/\ufffd/g, "")).not.toMatch(/[\x80-\xff]/);
    }
    const refused: [string, number][] = [
      ['x = "caf\xe9"\n', 1],
      ['s = """\n# \xe9\n"""\n', 2],
      ["x = 'a\\'# \xe9'\n", 1],
      ["# ok \xe9\nna\xefve = 1\n", 2],
    ];
    for (const [text, line] of refused) {
      try {
        decodePythonSource(latin1(text));
        expect.unreachable(JSON.stringify(text));
      } catch (error) {
        expect(error, JSON.stringify(text)).toBeInstanceOf(UndecodableSource);
        expect((error as UndecodableSource).line, JSON.stringify(text)).toBe(line);
      }
    }
  });
});
