/**
 * Field classes a project defines (Sentry's `BoundedPositiveIntegerField`, AWX's `JSONBlob` and
 * `ImplicitRoleField`): a migration calls them by their module's path, and the column Django
 * makes is that of the Django class they reach along their bases, or of the class their
 * `get_internal_type` names. rollsafe reads the class in the project's module (never runs it) and
 * gives the field that type; a class that computes its own column keeps its name, a type the
 * rules do not know.
 */
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { analyze } from "../../src/engine/lint.js";
import { ResultCache } from "../../src/cache/result-cache.js";
import { rules } from "../../rules/index.js";
import { libraryProjects } from "../support/library-project.js";

const project = libraryProjects("project-field-classes");

/** A project whose `library/fields/` package holds `modules` (name → source), with a migration adding `field` to Book as `extra`. */
async function typeOf(field: string, modules: Record<string, string>, imports = "import library.fields", operation = `migrations.AddField("book", "extra", ${field})`) {
  const dir = project(`${imports}
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("library", "0001_initial")]
    operations = [
        ${operation},
    ]
`);
  mkdirSync(path.join(dir, "library/fields"), { recursive: true });
  for (const [name, source] of Object.entries({ "__init__.py": "", ...modules })) writeFileSync(path.join(dir, "library/fields", name), source);
  const { state, result } = await analyze(["."], { cwd: dir, ruleNames: ["adding-check-constraint", "adding-foreign-key-constraint", "creating-model-with-integer-primary-key", "pointing-relation-at-missing-model"] });
  const extra = state.model("library", "book")?.fields.get("extra");
  return { type: extra?.type, relation: extra?.relation?.to ?? null, findings: result.diagnostics.map((d) => d.rule), inputs: result.inputs ?? [] };
}

const HEADER = "from django.db import models\n\n\n";

describe("field classes of the project", () => {
  it("take the Django class they subclass, through classes of the module and of other modules of the project", async () => {
    const bounded = await typeOf("library.fields.BoundedPositiveIntegerField(null=True)", {
      "__init__.py": `${HEADER}class BoundedPositiveIntegerField(models.PositiveIntegerField):\n    MAX_VALUE = 2**31 - 1\n\n    def get_prep_value(self, value):\n        return super().get_prep_value(value)\n`,
    });
    expect(bounded).toMatchObject({ type: "PositiveIntegerField", findings: ["adding-check-constraint"] });
    expect(bounded.inputs.some((f) => f.endsWith(path.join("library", "fields", "__init__.py")))).toBe(true);
    // A base in the same module, then one a relative import brings from another module.
    const chained = await typeOf("library.fields.counts.PageCount(null=True)", {
      "counts.py": "from .base import CountField\n\n\nclass Counter(CountField):\n    pass\n\n\nclass PageCount(Counter):\n    pass\n",
      "base.py": `${HEADER}class CountField(models.PositiveSmallIntegerField):\n    pass\n`,
    });
    expect(chained).toMatchObject({ type: "PositiveSmallIntegerField", findings: ["adding-check-constraint"] });
    // A package that re-exports the class (`from .counts import PageCount`), imported by name.
    const reexported = await typeOf(
      "PageCount(null=True)",
      { "__init__.py": "from .counts import PageCount\n", "counts.py": `${HEADER}class PageCount(models.PositiveIntegerField):\n    pass\n` },
      "from library.fields import PageCount",
    );
    expect(reexported.type).toBe("PositiveIntegerField");
  });

  it("take the class get_internal_type returns, and a mixin before the field class does not hide it", async () => {
    const blob = await typeOf("library.fields.JSONBlob(default=dict)", {
      "__init__.py": `${HEADER}class JSONBlob(models.JSONField):\n    def get_internal_type(self):\n        """Text in the database."""\n        return "TextField"\n`,
    });
    expect(blob.type).toBe("TextField");
    const mixed = await typeOf("library.fields.Lower(max_length=20, null=True)", {
      "__init__.py": `${HEADER}class LowerMixin:\n    def get_prep_value(self, value):\n        return value.lower()\n\n\nclass Lower(LowerMixin, models.CharField):\n    pass\n`,
    });
    expect(mixed.type).toBe("CharField");
    // A subclass of Django's abstract Field is the class its get_internal_type names (wagtail's StreamField).
    const stream = await typeOf("library.fields.StreamField([])", {
      "__init__.py": `${HEADER}class StreamField(models.Field):\n    def get_internal_type(self):\n        return "JSONField"\n`,
    });
    expect(stream.type).toBe("JSONField");
  });

  it("a subclass of ForeignKey is a foreign key whatever its name (AWX's ImplicitRoleField), with its own deconstruct", async () => {
    const role = await typeOf('library.fields.RoleField(null=True, on_delete=models.SET_NULL, to="library.author", parent_role="x")', {
      "__init__.py": `${HEADER}class RoleField(models.ForeignKey):\n    def __init__(self, *args, parent_role=None, **kwargs):\n        self.parent_role = parent_role\n        super().__init__(*args, **kwargs)\n\n    def deconstruct(self):\n        name, path, args, kwargs = super().deconstruct()\n        kwargs["parent_role"] = self.parent_role\n        return name, path, args, kwargs\n`,
    });
    expect(role).toMatchObject({ type: "ForeignKey", relation: "library.author", findings: ["adding-foreign-key-constraint"] });
  });

  it("are read by the rules that look at a new model's fields: its primary key, its relations", async () => {
    const fields = { "__init__.py": `${HEADER}class BoundedAutoField(models.AutoField):\n    MAX_VALUE = 2**31 - 1\n\n\nclass Link(models.ForeignKey):\n    pass\n` };
    const created = (link: string) => `migrations.CreateModel(name="Loan", fields=[("id", library.fields.BoundedAutoField(primary_key=True, serialize=False)), ("link", library.fields.Link(on_delete=models.CASCADE, to=${link}))])`;
    expect((await typeOf("", fields, undefined, created('"library.author"'))).findings).toEqual(["creating-model-with-integer-primary-key"]);
    expect((await typeOf("", fields, undefined, created('"library.nowhere"'))).findings.sort()).toEqual(["creating-model-with-integer-primary-key", "pointing-relation-at-missing-model"]);
  });

  it("read a mixin before the field class for what it decides (PostHog's encrypted fields), and a generic alias as its class", async () => {
    const encrypted = await typeOf("library.fields.EncryptedCharField(max_length=255, null=True)", {
      "__init__.py": `${HEADER}class EncryptedFieldMixin:\n    def get_internal_type(self):\n        return "TextField"\n\n\nclass EncryptedCharField(EncryptedFieldMixin, models.CharField):\n    pass\n`,
    });
    expect(encrypted.type).toBe("TextField");
    // Sentry's HybridCloudForeignKey: `models.BigIntegerField[FieldSetType, FieldGetType]`, not a foreign key.
    const hybrid = await typeOf('library.fields.HybridCloudForeignKey("library.author", on_delete="CASCADE", null=True)', {
      "__init__.py": `from typing import Generic, TypeVar\n\n${HEADER}T = TypeVar("T")\n\n\nclass HybridCloudForeignKey(models.BigIntegerField[T, T], Generic[T]):\n    def deconstruct(self):\n        return super().deconstruct()\n`,
    });
    expect(hybrid).toMatchObject({ type: "BigIntegerField", relation: null, findings: [] });
  });

  it("keep their own name when the class decides its column, or may leave its size out of the migration", async () => {
    const cases: Record<string, string> = {
      // Its own column type.
      "db_type": `class Custom(models.PositiveIntegerField):\n    def db_type(self, connection):\n        return "integer"\n`,
      // Its own CHECK (none).
      "db_check": `class Custom(models.PositiveIntegerField):\n    def db_check(self, connection):\n        return None\n`,
      // An internal type computed at run time.
      "get_internal_type": `class Custom(models.PositiveIntegerField):\n    def get_internal_type(self):\n        return self.kind\n`,
      // A CharField whose deconstruct may drop max_length: the migration's call does not give the column.
      "deconstruct": `class Custom(models.CharField):\n    def deconstruct(self):\n        name, path, args, kwargs = super().deconstruct()\n        del kwargs["max_length"]\n        return name, path, args, kwargs\n`,
      // A URLField whose __init__ sets its length only under a condition, or to what it computes.
      "__init__ if": `class Custom(models.URLField):\n    def __init__(self, **kwargs):\n        if settings.LONG:\n            kwargs["max_length"] = 2000\n        super().__init__(**kwargs)\n`,
      "__init__ computed": `class Custom(models.CharField):\n    def __init__(self, *args, **kwargs):\n        super().__init__(*args, max_length=LENGTH * 2, **kwargs)\n`,
    };
    for (const [what, source] of Object.entries(cases)) {
      const found = await typeOf("library.fields.Custom(null=True)", { "__init__.py": HEADER + source });
      // Typed by its qualified name, which no rule knows.
      expect({ what, ...found }).toMatchObject({ what, type: "library.fields.Custom", findings: [] });
    }
    // A size that is only a parameter's default, passed on (BookWyrm's RemoteIdField): the call's.
    const defaulted = `class Custom(models.CharField):\n    def __init__(self, *args, max_length=255, validators=None, **kwargs):\n        validators = validators or []\n        super().__init__(*args, max_length=max_length, validators=validators, **kwargs)\n`;
    expect(await typeOf("library.fields.Custom(max_length=255, null=True)", { "__init__.py": HEADER + defaulted })).toMatchObject({ type: "CharField" });
    // Bases that lead nowhere rollsafe can read (a cycle, Django's abstract Field, a base chosen at
    // run time like django-organizations' SlugField) keep the name the class is called by.
    const nowhere: Record<string, string> = {
      cycle: `class Custom(Other):\n    pass\n\n\nclass Other(Custom):\n    pass\n`,
      Field: `class Custom(models.Field):\n    pass\n`,
      "run time": `Base = getattr(models, "PositiveIntegerField")\n\n\nclass Custom(Base):\n    pass\n`,
    };
    for (const [what, source] of Object.entries(nowhere)) {
      const found = await typeOf("library.fields.Custom(null=True)", { "__init__.py": HEADER + source });
      expect({ what, ...found }).toMatchObject({ what, type: "Custom", findings: [] });
    }
    // A class named like one of Django's that decides its column, through a mixin of another
    // module (Sentry's `fields.text.CharField`, a text column): not Django's CharField.
    const named = await typeOf("library.fields.text.CharField(max_length=20, null=True)", {
      "text.py": `from .types import TextType\n\n${HEADER}class CharField(TextType, models.CharField):\n    pass\n`,
      "types.py": `class TextType:\n    def db_type(self, connection):\n        return "text"\n`,
    });
    expect(named.type).toBe("library.fields.text.CharField");
    // A package that is not a file of the project keeps the name it is called by.
    const outside = await typeOf("elsewhere.fields.Custom(null=True)", {}, "import elsewhere.fields");
    expect(outside).toMatchObject({ type: "Custom", findings: [] });
  });

  it("a size or a constraint the class's __init__ sets to a literal is the field's, whatever the call says (InvenTree's URL field, BookWyrm's UsernameField)", async () => {
    const url = await typeOf("library.fields.Custom(null=True)", {
      "__init__.py": `${HEADER}class Custom(models.URLField):\n    def __init__(self, **kwargs):\n        kwargs["max_length"] = 2000\n        super().__init__(**kwargs)\n`,
    });
    expect(url.type).toBe("URLField");
    // A module constant bound to a literal (hyperkitty's ColorField: `kwargs['max_length'] = MAX_COLOR_LENGTH`).
    const color = `MAX_COLOR_LENGTH = 7\n\n\nclass Custom(models.CharField):\n    def __init__(self, *args, **kwargs):\n        kwargs['max_length'] = MAX_COLOR_LENGTH\n        super().__init__(*args, **kwargs)\n`;
    expect((await typeOf("library.fields.Custom(null=True)", { "__init__.py": HEADER + color })).type).toBe("CharField");
    // The same name bound in __init__ itself, or a constant bound twice, is not that literal.
    const shadowed = color.replace("def __init__(self, *args, **kwargs):", "def __init__(self, *args, MAX_COLOR_LENGTH=9, **kwargs):");
    expect((await typeOf("library.fields.Custom(null=True)", { "__init__.py": HEADER + shadowed })).type).toBe("library.fields.Custom");
    const rebound = color.replace("MAX_COLOR_LENGTH = 7\n", "MAX_COLOR_LENGTH = 7\nMAX_COLOR_LENGTH = 9\n");
    expect((await typeOf("library.fields.Custom(null=True)", { "__init__.py": HEADER + rebound })).type).toBe("library.fields.Custom");
    // BookWyrm's UsernameField passes its keywords to CharField's __init__ and leaves them out of
    // its migrations: `UsernameField()` is varchar(150) UNIQUE NOT NULL, as the CharField it replaces.
    const dir = project(`import library.fields
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("library", "0001_initial")]
    operations = [
        migrations.AlterField("author", "name", library.fields.UsernameField()),
    ]
`);
    const first = path.join(dir, "library/migrations/0001_initial.py");
    writeFileSync(first, readFileSync(first, "utf8").replace('("name", models.CharField(max_length=100)),', '("name", models.CharField(max_length=150, unique=True)),'));
    mkdirSync(path.join(dir, "library/fields"), { recursive: true });
    writeFileSync(
      path.join(dir, "library/fields/__init__.py"),
      `from django.db import models
from django.utils.translation import gettext_lazy as _


class ActivitypubFieldMixin:
    def __init__(self, *args, activitypub_field=None, **kwargs):
        self.activitypub_field = activitypub_field
        super().__init__(*args, **kwargs)


class UsernameField(ActivitypubFieldMixin, models.CharField):
    def __init__(self, activitypub_field="preferredUsername", **kwargs):
        self.activitypub_field = activitypub_field
        super(ActivitypubFieldMixin, self).__init__(
            _("username"),
            max_length=150,
            unique=True,
            error_messages={"unique": _("A user with that username already exists.")},
        )

    def deconstruct(self):
        name, path, args, kwargs = super().deconstruct()
        del kwargs["unique"]
        del kwargs["error_messages"]
        del kwargs["max_length"]
        return name, path, args, kwargs
`,
    );
    const { state, result } = await analyze(["."], { cwd: dir, rules });
    const name = state.model("library", "author")?.fields.get("name");
    expect({ type: name?.type, null: name?.null, unique: name?.unique, maxLength: name?.maxLength }).toEqual({ type: "CharField", null: false, unique: true, maxLength: 150 });
    expect(result.diagnostics.filter((d) => d.file.endsWith("0002_fk.py")).map((d) => d.rule)).toEqual([]);
  });

  it("a class whose db_type returns one literal makes that column: a DateTimeField moved to it is a type change (Kolibri's DateTimeTzField)", async () => {
    const dir = project(`import library.fields
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("library", "0001_initial")]
    operations = [
        migrations.AddField("book", "stamp", models.DateTimeField(null=True)),
        migrations.AlterField("book", "title", library.fields.Text()),
    ]
`);
    const third = path.join(dir, "library/migrations/0003_tz.py");
    writeFileSync(third, `import library.fields\nfrom django.db import migrations\n\n\nclass Migration(migrations.Migration):\n    dependencies = [("library", "0002_fk")]\n    operations = [\n        migrations.AlterField("book", "stamp", library.fields.DateTimeTzField(null=True)),\n    ]\n`);
    mkdirSync(path.join(dir, "library/fields"), { recursive: true });
    writeFileSync(
      path.join(dir, "library/fields/__init__.py"),
      `${HEADER}class DateTimeTzField(models.Field):\n    """A datetime stored as text."""\n\n    def db_type(self, connection):\n        return "varchar"\n\n\nclass Text(models.Field):\n    def db_type(self, connection):\n        return "varchar(200)"\n`,
    );
    const { state, result } = await analyze(["."], { cwd: dir, ruleNames: ["changing-column-type"] });
    expect(state.model("library", "book")?.fields.get("stamp")?.type).toBe("library.fields.DateTimeTzField");
    // varchar(200) -> a class declaring varchar(200): the same column, no finding.
    expect(result.diagnostics.map((d) => `${path.basename(d.file)}: ${d.message}`)).toEqual(["0003_tz.py: Changing `Book.stamp` from `timestamp with time zone` to `varchar` rewrites `library_book` while blocking reads and writes."]);
  });

  it("a class whose __init__ forces null=True is nullable, and a deconstruct that only drops other keywords keeps its size (django-oscar's NullCharField)", async () => {
    const dir = project(`import library.fields
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("library", "0001_initial")]
    operations = [
        migrations.AddField("book", "code", library.fields.NullCharField(max_length=255, unique=True)),
    ]
`);
    mkdirSync(path.join(dir, "library/fields"), { recursive: true });
    writeFileSync(
      path.join(dir, "library/fields/__init__.py"),
      `from django.core.exceptions import ImproperlyConfigured
from django.db.models.fields import CharField


class NullCharField(CharField):
    def __init__(self, *args, **kwargs):
        if not kwargs.get("null", True) or not kwargs.get("blank", True):
            raise ImproperlyConfigured("NullCharField implies null==blank==True")
        kwargs["null"] = kwargs["blank"] = True
        super().__init__(*args, **kwargs)

    def deconstruct(self):
        name, path, args, kwargs = super().deconstruct()
        del kwargs["null"]
        del kwargs["blank"]
        return name, path, args, kwargs
`,
    );
    const { state, result } = await analyze(["."], { cwd: dir, ruleNames: ["adding-not-nullable-column", "adding-unique-constraint"] });
    const code = state.model("library", "book")?.fields.get("code");
    expect({ type: code?.type, null: code?.null, maxLength: code?.maxLength }).toEqual({ type: "CharField", null: true, maxLength: 255 });
    // Django 4.2's sqlmigrate: ADD COLUMN "code" varchar(255) NULL UNIQUE: no NOT NULL, no duplicates to fail on.
    const found = result.diagnostics.filter((d) => d.file.endsWith("0002_fk.py"));
    expect(found.map((d) => d.rule)).toEqual(["adding-unique-constraint"]);
    expect(found[0]?.message).not.toContain("fails if rows are duplicates");
  });

  it("a default the class's __init__ forces is the column's, whatever deconstruct writes back (KoboToolbox's LazyDefaultBooleanField)", async () => {
    const dir = project(`import library.fields
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("library", "0001_initial")]
    operations = [
        migrations.AddField("book", "synced", library.fields.LazyDefaultBooleanField(default=False)),
    ]
`);
    mkdirSync(path.join(dir, "library/fields"), { recursive: true });
    writeFileSync(
      path.join(dir, "library/fields/__init__.py"),
      `from django.db import models


class LazyDefaultBooleanField(models.PositiveSmallIntegerField):
    def __init__(self, *args, **kwargs):
        self.lazy_default = kwargs.get("default")
        kwargs["null"] = True
        kwargs["default"] = None
        super().__init__(*args, **kwargs)

    def deconstruct(self):
        name, path, args, kwargs = super().deconstruct()
        kwargs["default"] = self.lazy_default
        del kwargs["null"]
        return name, path, args, kwargs
`,
    );
    const { state, result } = await analyze(["."], { cwd: dir, ruleNames: ["adding-nullable-column-with-default", "adding-not-nullable-column"] });
    const synced = state.model("library", "book")?.fields.get("synced");
    expect({ null: synced?.null, hasDefault: synced?.hasDefault, default: synced?.default?.kind }).toEqual({ null: true, hasDefault: true, default: "none" });
    // Django 4.2's sqlmigrate on PostgreSQL 15: ADD COLUMN "synced" smallint NULL CHECK ("synced" >= 0), no DEFAULT, no backfill.
    expect(result.diagnostics.filter((d) => d.file.endsWith("0002_fk.py")).map((d) => d.rule)).toEqual([]);
  });

  it("make the result cache see an edit of the field's module", async () => {
    const dir = project(`import library.fields
from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("library", "0001_initial")]
    operations = [
        migrations.AddField("book", "copies", library.fields.Count(null=True)),
    ]
`);
    const module = path.join(dir, "library/fields.py");
    writeFileSync(module, `${HEADER}class Count(models.PositiveIntegerField):\n    pass\n`);
    const cacheDir = `${dir}-cache`;
    const run = async () => {
      let computed = false;
      const outcome = await new ResultCache(cacheDir, { racyMs: null }).run(["."], { cwd: dir }, rules.filter((r) => !r.meta.optIn), async (walked) => {
        computed = true;
        return { result: (await analyze(["."], { cwd: dir, ...(walked ? { walked } : {}) })).result, extra: null };
      });
      return { computed, checks: outcome.result.diagnostics.filter((d) => d.rule === "adding-check-constraint").length };
    };
    expect(await run()).toEqual({ computed: true, checks: 1 });
    // A walk's key does not know the module: one miss, then the stored key holds it.
    await run();
    expect(await run()).toEqual({ computed: false, checks: 1 });
    writeFileSync(module, `${HEADER}class Count(models.IntegerField):\n    pass\n`);
    expect(await run()).toEqual({ computed: true, checks: 0 });
  });
});

describe("field classes of packages outside the project", () => {
  it("the JSON fields written before Django 3.1 keep JSON as text: moving to models.JSONField changes the type", async () => {
    const dir = project(`import jsonfield.fields
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("library", "0001_initial")]
    operations = [
        migrations.AddField("book", "meta", jsonfield.fields.JSONField(default=dict)),
    ]
`);
    writeFileSync(
      path.join(dir, "library/migrations/0003_jsonb.py"),
      `from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("library", "0002_fk")]
    operations = [
        migrations.AlterField("book", "meta", models.JSONField(default=dict)),
    ]
`,
    );
    const { state, result } = await analyze(["."], { cwd: dir, ruleNames: ["changing-column-type"] });
    expect(state.model("library", "book")?.fields.get("meta")?.type).toBe("JSONField");
    const change = result.diagnostics.filter((d) => d.rule === "changing-column-type");
    expect(change.map((d) => d.message)).toEqual(["Changing `Book.meta` from `text` to `jsonb` rewrites `library_book` while blocking reads and writes."]);
  });
});
