import type { OperationContext, Rule } from "../src/engine/rule-types.js";
import { isRunPythonNoop, runPythonFunctionName } from "../src/engine/run-python-facts.js";
import type { Operation } from "../src/model/types.js";
import { literalBool } from "../src/state/model-state.js";

/** A `RunPython` that passes a literal false `atomic` (`False`, `0`; `None` is the default) and runs something. */
function asksNoTransaction(op: Operation): boolean {
  return op.kind === "RunPython" && !op.unknown && literalBool(op.args.atomic) === false && op.args.atomic?.kind !== "none" && !isRunPythonNoop(op.args.code);
}

/**
 * The migration's other operations that do something, besides the `RunPython`s that ask for no
 * transaction too, alone or as all a `SeparateDatabaseAndState` runs (they move with this one): with them in the migration, `atomic = False` on the
 * class would leave them without a transaction as well.
 */
function othersIn(ctx: OperationContext): Operation[] {
  const own = ctx.parent ?? ctx.op;
  const moves = (o: Operation): boolean =>
    asksNoTransaction(o) || (o.kind === "RunPython" && isRunPythonNoop(o.args.code)) || (o.kind === "SeparateDatabaseAndState" && (o.databaseOperations ?? []).every(moves));
  return ctx.migration.operations.filter((o) => o !== own && !moves(o));
}

/** RS406: `RunPython(..., atomic=False)` in a migration Django runs in one transaction. */
export const runningNonAtomicRunpythonInAtomicMigration: Rule = {
  meta: {
    code: "RS406",
    name: "running-non-atomic-runpython-in-atomic-migration",
    severity: "warning",
    databases: ["postgresql", "sqlite"],
    claims: [],
    hazards: ["H41"],
    docs: {
      summary: "`RunPython(atomic=False)` in an atomic migration, where it still runs in the migration's transaction",
      what: "Flags a `RunPython` that passes `atomic=False` (by keyword or as its third argument; `0` too) in a migration that does not set `atomic = False`, on PostgreSQL and SQLite, also inside `SeparateDatabaseAndState.database_operations` (which Django runs inside the migration's transaction just the same). `RunPython.noop` and a migration whose `atomic` is computed as it loads are left out. Not reported on MySQL, where Django wraps no migration in a transaction and `atomic=False` does what it says.",
      why: "On databases that roll back DDL (PostgreSQL, SQLite) Django runs an atomic migration in one transaction, and an operation's own `atomic` only decides whether it gets a transaction of its own inside a migration with `atomic = False` (`Migration.apply`: `if not schema_editor.atomic_migration and atomic_operation`). In an atomic migration `atomic=False` changes nothing: every row the function writes stays locked until the whole migration commits, so the running release's writes to those rows wait, and batches that look committed one by one roll back together on a failure.",
      recipe: [
        "Put the `RunPython` in a migration of its own with `atomic = False` on the `Migration` class: each statement then commits on its own (wrap a batch in `transaction.atomic()` to commit it as one).",
        "If one transaction is what the function needs, drop `atomic=False`: it has no effect there.",
      ],
      severityReason: "Warning: harmless when the function writes a few rows, a long lock when it backfills a large table; rollsafe cannot know which.",
      bad: `from django.db import migrations


def fill_slugs(apps, schema_editor):
    Book = apps.get_model("library", "Book")
    for book in Book.objects.filter(slug="").iterator():
        book.slug = str(book.pk)
        book.save(update_fields=["slug"])


class Migration(migrations.Migration):
    dependencies = [("library", "0001_initial")]
    operations = [migrations.RunPython(fill_slugs, migrations.RunPython.noop, atomic=False)]`,
      good: `from django.db import migrations


def fill_slugs(apps, schema_editor):
    Book = apps.get_model("library", "Book")
    for book in Book.objects.filter(slug="").iterator():
        book.slug = str(book.pk)
        book.save(update_fields=["slug"])


class Migration(migrations.Migration):
    atomic = False

    dependencies = [("library", "0001_initial")]
    operations = [migrations.RunPython(fill_slugs, migrations.RunPython.noop, atomic=False)]`,
    },
  },
  operationKinds: ["RunPython"],
  operation(ctx) {
    const { op, migration } = ctx;
    if (!asksNoTransaction(op) || ctx.effect === "state") return;
    if (ctx.target.database === "mysql" || !migration.atomic || migration.atomicComputed !== undefined) return;
    const fn = runPythonFunctionName(op.args.code);
    const what = fn === null ? "This `RunPython`" : `\`RunPython(${fn}, ...)\``;
    const others = othersIn(ctx);
    const given = op.args.atomic?.kind === "int" ? "0" : "False";
    ctx.report({
      range: op.range,
      message: `${what} passes \`atomic=${given}\`, but \`${migration.name}\` is atomic: Django still runs it inside the migration's one transaction.`,
      help: [
        "An operation's `atomic` only matters in a migration with `atomic = False`. Here every row the function writes stays locked until the whole migration commits, so the running release's writes to those rows wait, and a failure rolls back everything it did, batches included.",
        others.length === 0
          ? "1. Add `atomic = False` to the `Migration` class: each statement then commits on its own (wrap a batch in `transaction.atomic()` to commit it as one)."
          : `1. Move the \`RunPython\` to a migration of its own with \`atomic = False\` on the \`Migration\` class, and keep the ${others.length === 1 ? "other operation" : `other ${others.length} operations`} here: without a transaction, a failure half-way through them leaves the ones before it applied.`,
        `2. If one transaction is what the function needs, drop \`atomic=${given}\`: it has no effect here.`,
      ],
      related: migration.classRange ? [ctx.relatedAt({ file: migration.path, range: migration.classRange }, "this migration runs in one transaction (no `atomic = False`)")] : undefined,
    });
  },
};
