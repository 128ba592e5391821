import { describe, expect, it } from "vitest";
import { parseMigrationSource } from "../../src/parse/parse-migration.js";
import type { Operation } from "../../src/model/types.js";

function ops(body: string, imports: string): Operation[] {
  const source = `${imports}\nfrom django.db import migrations, models\n\nclass Migration(migrations.Migration):\n    operations = [\n${body}\n    ]\n`;
  return parseMigrationSource(source, { path: "/x/shop/migrations/0002_x.py", app: "shop", name: "0002_x" }).operations;
}

describe("third-party operations are resolved, not unknown", () => {
  it("django-pg-migration-tools maps to the built-in it behaves like, positional arguments included", () => {
    const [index, fk] = ops(
      `        operations.SaferAddIndexConcurrently("book", models.Index(fields=["title"], name="i")),
        operations.SaferAddFieldForeignKey(model_name="book", name="editor", field=models.ForeignKey(null=True, on_delete=models.SET_NULL, to="shop.author")),`,
      "from django_pg_migration_tools import operations",
    );
    expect(index).toMatchObject({ kind: "AddIndexConcurrently", origin: "third-party", thirdParty: { source: "django-pg-migration-tools", database: "same", state: "same", nonAtomic: true } });
    expect(index?.unknown).toBeUndefined();
    expect(Object.keys(index?.args ?? {})).toEqual(["model_name", "index"]);
    expect(fk).toMatchObject({ kind: "AddField", thirdParty: { database: "safe", state: "same" } });
  });

  it("Sentry's deletion actions: pending is state-only, DELETE is database-only, anything else is unknown", () => {
    const [pending, drop, unreadable] = ops(
      `        SafeRemoveField(model_name="book", name="pages", deletion_action=DeletionAction.MOVE_TO_PENDING),
        SafeDeleteModel(name="Book", deletion_action=DeletionAction.DELETE),
        SafeRemoveField(model_name="book", name="pages", deletion_action=action),`,
      "from sentry.new_migrations.monkey.fields import SafeRemoveField\nfrom sentry.new_migrations.monkey.models import SafeDeleteModel\nfrom sentry.new_migrations.monkey.state import DeletionAction",
    );
    expect(pending).toMatchObject({ kind: "RemoveField", thirdParty: { state: "same", database: "none" } });
    expect(drop).toMatchObject({ kind: "DeleteModel", thirdParty: { state: "none", database: "same" } });
    expect(unreadable?.unknown?.reason).toBe(
      "`SafeRemoveField` has a `deletion_action` rollsafe cannot read (expected `DeletionAction.MOVE_TO_PENDING` or `DeletionAction.DELETE`)",
    );
  });

  it("AddDefaultValue, IgnoreMigration and PostHog's helpers", () => {
    const [dflt, ignore, posthog] = ops(
      `        AddDefaultValue(model_name="book", name="title", value=""),
        IgnoreMigration(),
        SafeAddIndexConcurrently(model_name="book", index=models.Index(fields=["title"], name="i")),`,
      "from django_add_default_value import AddDefaultValue\nfrom django_migration_linter import IgnoreMigration\nfrom posthog.migration_helpers import SafeAddIndexConcurrently",
    );
    expect(dflt).toMatchObject({ kind: "AddDefaultValue", origin: "third-party", thirdParty: { sameAs: null, state: "none", database: "safe" } });
    expect(Object.keys(dflt?.args ?? {})).toEqual(["model_name", "name", "value"]);
    expect(ignore).toMatchObject({ kind: "IgnoreMigration", thirdParty: { state: "none", database: "none" } });
    expect(posthog).toMatchObject({ kind: "AddIndexConcurrently", thirdParty: { source: "posthog" } });
    for (const op of [dflt, ignore, posthog]) expect(op?.unknown).toBeUndefined();
  });

  it("django-pgtrigger's AddTrigger and RemoveTrigger, as makemigrations writes them", () => {
    const [add, remove] = ops(
      `        pgtrigger.migrations.AddTrigger(
            model_name="book",
            trigger=pgtrigger.compiler.Trigger(name="protect", sql=pgtrigger.compiler.UpsertTriggerSql(func="RAISE EXCEPTION 'no';", hash="x", operation='UPDATE OR DELETE', pgid="pgtrigger_protect_1", table="shop_book", when="BEFORE")),
        ),
        pgtrigger.migrations.RemoveTrigger("book", "protect"),`,
      "import pgtrigger.compiler\nimport pgtrigger.migrations",
    );
    expect(add).toMatchObject({ kind: "AddTrigger", origin: "third-party", thirdParty: { source: "django-pgtrigger", sameAs: null, state: "none", database: "safe" } });
    expect(Object.keys(add?.args ?? {})).toEqual(["model_name", "trigger"]);
    expect(remove).toMatchObject({ kind: "RemoveTrigger", thirdParty: { source: "django-pgtrigger" } });
    expect(Object.keys(remove?.args ?? {})).toEqual(["model_name", "name"]);
    for (const op of [add, remove]) expect(op?.unknown).toBeUndefined();
  });

  it("operation classes the migration defines by subclassing a built-in one", () => {
    // django-celery-results 0009 and 0010 and hyperkitty 0013, as Debian ships them, shortened.
    const classes = `from django.db import DatabaseError, migrations, models


class FakeAddIndex(migrations.AddIndex):
    """Fake AddIndex to correct for duplicate index"""
    def database_forwards(self, *args, **kwargs):
        """Don't do anything"""

    def database_backwards(self, *args, **kwargs):
        pass


class TryRemoveIndex(migrations.RemoveIndex):
    def database_forwards(self, *args, **kwargs):
        """Remove the index on the database if it exists"""
        try:
            super().database_forwards(*args, **kwargs)
        except DatabaseError:
            pass


class StateOnly(FakeAddIndex):
    pass


class Logged(migrations.RemoveField):
    def state_forwards(self, app_label, state):
        print("removing")
        super().state_forwards(app_label, state)


def forwards(self, app_label, schema_editor, from_state, to_state):
    pass


class Assigned(migrations.AddIndex):
    database_forwards = forwards


class MailingListPrimaryKey(migrations.AlterField):
    def __init__(self):
        super().__init__("mailinglist", "name", field=models.CharField(max_length=254))
`;
    const [fake, tryRemove, stateOnly, logged, primaryKey, assigned] = ops(
      `        FakeAddIndex(model_name="book", index=models.Index(fields=["title"], name="book_title_idx")),
        TryRemoveIndex("book", "book_title_idx"),
        StateOnly(model_name="book", index=models.Index(fields=["pages"], name="book_pages_idx")),
        Logged("book", "pages"),
        MailingListPrimaryKey(),
        Assigned(model_name="book", index=models.Index(fields=["title"], name="i")),`,
      classes,
    );
    expect(fake).toMatchObject({ kind: "AddIndex", thirdParty: { source: "this migration", sameAs: "AddIndex", state: "same", database: "none" } });
    expect(Object.keys(fake?.args ?? {})).toEqual(["model_name", "index"]);
    expect(tryRemove).toMatchObject({ kind: "RemoveIndex", thirdParty: { sameAs: "RemoveIndex", state: "same", database: "same" } });
    expect(Object.keys(tryRemove?.args ?? {})).toEqual(["model_name", "name"]);
    expect(stateOnly).toMatchObject({ kind: "AddIndex", thirdParty: { state: "same", database: "none" } });
    for (const op of [fake, tryRemove, stateOnly]) expect(op?.unknown).toBeUndefined();
    expect(logged?.unknown?.reason).toBe("`Logged` is a subclass of `migrations.RemoveField` defined in this migration whose `state_forwards` rollsafe does not read");
    expect(assigned?.unknown?.reason).toBe("`Assigned` is a subclass of `migrations.AddIndex` defined in this migration whose `database_forwards` rollsafe does not read");
    expect(primaryKey?.unknown?.reason).toBe("`MailingListPrimaryKey` is a subclass of `migrations.AlterField` defined in this migration with its own `__init__`");
  });

  it("mixins of the migration before the operation base: their methods come first, and a router gate runs the built-in", () => {
    const classes = `from django.db import router


class Routed(object):
    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        alias = schema_editor.connection.alias
        if router.allow_migrate(alias, app_label):
            super().database_forwards(app_label, schema_editor, from_state, to_state)


class Quiet:
    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        pass


class Checked(object):
    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if column_missing(schema_editor):
            super().database_forwards(app_label, schema_editor, from_state, to_state)


class RoutedRemoveIndex(Routed, migrations.RemoveIndex):
    pass


class QuietRemoveIndex(Quiet, Routed, migrations.RemoveIndex):
    pass


class CheckedRemoveIndex(Checked, migrations.RemoveIndex):
    pass


class ImportedMixinRemoveIndex(ImportedMixin, migrations.RemoveIndex):
    pass
`;
    const [routed, quiet, checked, imported] = ops(
      `        RoutedRemoveIndex("book", "book_title_idx"),
        QuietRemoveIndex("book", "book_title_idx"),
        CheckedRemoveIndex("book", "book_title_idx"),
        ImportedMixinRemoveIndex("book", "book_title_idx"),`,
      classes,
    );
    expect(routed).toMatchObject({ kind: "RemoveIndex", thirdParty: { sameAs: "RemoveIndex", state: "same", database: "same" } });
    expect(quiet).toMatchObject({ kind: "RemoveIndex", thirdParty: { state: "same", database: "none" } });
    // Another condition decides whether the SQL runs: not read.
    expect(checked?.unknown?.reason).toBe("`CheckedRemoveIndex` is a subclass of `migrations.RemoveIndex` defined in this migration whose `database_forwards` rollsafe does not read");
    // A mixin from elsewhere may define anything.
    expect(imported?.unknown?.reason).toBe("custom operation `ImportedMixinRemoveIndex`");
  });

  it("a class of the same name from another module stays unknown", () => {
    const [op] = ops(`        SafeRemoveField(model_name="book", name="pages"),`, "from shop.ops import SafeRemoveField");
    expect(op?.unknown?.reason).toBe("custom operation `SafeRemoveField`");
  });
});
