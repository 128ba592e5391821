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

  it("a class of the same name from another module stays unknown", () => {
    const [op] = ops(`        SafeRemoveField(model_name="book", name="pages"),`, "from shop.ops import SafeRemoveField");
    expect(op?.unknown?.reason).toBe("custom operation `SafeRemoveField`");
  });
});
