import type { OperationContext, Rule } from "../src/engine/rule-types.js";
import { TABLE_ALTERING_OPERATIONS } from "../src/model/django-operations.js";
import { databaseChanges } from "../src/engine/field-changes.js";
import type { Operation } from "../src/model/types.js";
import type { ParsedMigration } from "../src/parse/parse-migration.js";
import type { SqlStatementFact } from "../src/sql/analyze-sql.js";
import { parsedStatements } from "../src/engine/sql-facts-for-operation.js";
import { describeStatement } from "../src/sql/analyze-sql.js";
import { columnOf, fieldFromCall, literalString } from "../src/state/model-state.js";
import { code } from "../src/advice/snippets.js";

const CONCURRENT_OPERATIONS = new Set(["AddIndexConcurrently", "RemoveIndexConcurrently"]);

/** Ordinary DDL statements: applied once, a re-run fails ("already exists", "does not exist"). */
const ORDINARY_SQL = new Set([
  "add-column",
  "drop-column",
  "rename-column",
  "rename-table",
  "rename-index",
  "rename-constraint",
  "set-schema",
  "add-constraint",
  "drop-constraint",
  "set-not-null",
  "alter-column-type",
  "create-table",
  "drop-table",
  "create-index",
  "drop-index",
  "create-trigger",
  "alter-enum-add-value",
  "alter-enum-rename-value",
]);

/** What one operation is, for this rule: part of the concurrent recipe, ordinary DDL, or neither. */
interface Seen {
  concurrent: { op: Operation; what: string } | null;
  ordinary: { op: Operation; what: string } | null;
  reported: boolean;
}

const byMigration = new WeakMap<ParsedMigration, Seen>();

function statementsOf(ctx: OperationContext): SqlStatementFact[] {
  return parsedStatements(ctx.sql(ctx.op)?.forward).map((s) => s.fact);
}

/** An ordinary DDL statement that a re-run would fail on (not part of the concurrent recipe, not idempotent). */
function isOrdinaryStatement(fact: SqlStatementFact): boolean {
  if (!ORDINARY_SQL.has(fact.kind) || fact.concurrently) return false;
  // The concurrent recipe: attach a concurrently built index, add a constraint without a scan.
  if (fact.kind === "add-constraint" && (fact.usingIndex || fact.notValid)) return false;
  // Written to be re-run: ADD COLUMN IF NOT EXISTS, CREATE ... IF NOT EXISTS, DROP ... IF EXISTS.
  if (fact.ifNotExists) return false;
  if (fact.ifExists && fact.kind.startsWith("drop-")) return false;
  return true;
}

/** The concurrent part of the operation, described for a message; null when it has none. */
function concurrentPart(ctx: OperationContext): string | null {
  const { op } = ctx;
  if (CONCURRENT_OPERATIONS.has(op.kind)) return `\`${op.thirdParty ? op.thirdParty.qualified.split(".").pop() : op.kind}\``;
  if (op.kind !== "RunSQL") return null;
  const fact = statementsOf(ctx).find((f) => f.concurrently);
  return fact ? `\`${describeStatement(fact)}\`` : null;
}

/** The ordinary schema change the operation makes on an existing table; null when it makes none. */
function ordinaryPart(ctx: OperationContext): string | null {
  const { op } = ctx;
  // Known third-party operations are written to be re-run (django-pg-migration-tools' Safer*).
  if (op.thirdParty) return null;
  if (op.kind === "AddConstraintNotValid") return null;
  const arg = TABLE_ALTERING_OPERATIONS[op.kind];
  if (arg !== undefined) {
    const model = ctx.model(literalString(op.args[arg]));
    if (!model || !ctx.hasTable(model) || ctx.isNewTable(model)) return null;
    if (op.kind === "AlterField" || op.kind === "RenameField") {
      // A field change Django emits no SQL for (help_text, a pinned db_column...) is not DDL.
      const name = literalString(op.kind === "AlterField" ? op.args.name : op.args.old_name);
      const before = name ? model.fields.get(name) : undefined;
      if (before && before.relation?.kind !== "m2m") {
        if (op.kind === "RenameField") {
          const newName = literalString(op.args.new_name);
          if (newName && columnOf(before) === columnOf({ ...before, name: newName })) return null;
        } else if (op.args.field && databaseChanges(before, fieldFromCall(before.name, op.args.field, model.app, model.key, null)).length === 0) {
          return null;
        }
      }
    }
    return `\`${op.kind}\` on \`${ctx.tableOf(model)}\``;
  }
  // Hand-written DDL counts wherever it stands, also on the database side of
  // SeparateDatabaseAndState (statements written with IF [NOT] EXISTS are retry-safe).
  if (op.kind === "RunSQL") {
    const fact = statementsOf(ctx).find(isOrdinaryStatement);
    return fact ? `\`${describeStatement(fact)}\`` : null;
  }
  return null;
}

/**
 * RS210: an `atomic = False` migration that mixes a concurrent index operation with ordinary
 * schema changes. Without a transaction, a failure half-way leaves the earlier operations applied
 * but the migration unrecorded, and the retry fails on them ("already exists").
 */
export const mixingConcurrentAndOrdinaryDdl: Rule = {
  meta: {
    code: "RS210",
    name: "mixing-concurrent-and-ordinary-ddl",
    severity: "warning",
    databases: ["postgresql"],
    claims: [],
    hazards: ["H39"],
    docs: {
      summary: "Concurrent index operation and ordinary schema changes in one `atomic = False` migration",
      what: "Flags a migration with `atomic = False` that holds both a concurrent index operation (`AddIndexConcurrently`, `RemoveIndexConcurrently`, or a `RunSQL` with `CREATE/DROP INDEX CONCURRENTLY`) and an ordinary schema change of an existing table (`AddField`, `AlterField`, `RemoveField`, `AddIndex`, `AddConstraint`..., or DDL in a `RunSQL`). The operations of the concurrent recipe are not ordinary: `SET lock_timeout`, `ADD CONSTRAINT ... USING INDEX`, `NOT VALID` constraints and `VALIDATE CONSTRAINT`, statements written with `IF [NOT] EXISTS`, and the state side of `SeparateDatabaseAndState`. Changes Django emits no SQL for (`help_text`, a pinned `db_column`), changes to tables created in the same migration, and (for now) `RunSQL` DDL on the database side of `SeparateDatabaseAndState` are not counted. Reported once per migration.",
      why: "`atomic = False` runs every operation in its own transaction (autocommit), and Django records the migration as applied only after the last one. When a later operation fails (a `lock_timeout`, a cancelled or failed `CREATE INDEX CONCURRENTLY`, a deploy killed half-way), the earlier ones stay applied but the migration is not recorded; the next `migrate` runs them again and fails on `column ... already exists` (or `does not exist`), so the deploy stays stuck until someone repairs the schema by hand.",
      recipe: [
        "Move the ordinary schema changes to an atomic migration of their own (before or after, as the dependency requires).",
        "Keep only the concurrent operations (and their recipe: `SET lock_timeout`, `ADD CONSTRAINT ... USING INDEX`) in the `atomic = False` migration.",
        "Write any raw SQL left there so that a re-run succeeds: `IF NOT EXISTS` / `IF EXISTS`.",
      ],
      severityReason: "Warning: the migration works when nothing fails; the hazard is a stuck deploy after a partial failure, which needs a look rather than blocking every change.",
      bad: `from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import migrations, models


class Migration(migrations.Migration):

    atomic = False

    dependencies = [("library", "0001_initial")]

    operations = [
        migrations.AddField(model_name="book", name="isbn", field=models.CharField(max_length=20, null=True)),
        AddIndexConcurrently(model_name="book", index=models.Index(fields=["pages"], name="book_pages_idx")),
    ]
`,
      good: `from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import migrations, models


class Migration(migrations.Migration):

    atomic = False

    dependencies = [("library", "0001_initial")]

    operations = [
        migrations.RunSQL("SET lock_timeout = '5s'", reverse_sql=migrations.RunSQL.noop),
        AddIndexConcurrently(model_name="book", index=models.Index(fields=["pages"], name="book_pages_idx")),
    ]
`,
    },
  },
  operation(ctx) {
    const { op, migration } = ctx;
    if (ctx.target.database !== "postgresql" || migration.atomic) return;
    if (op.unknown || ctx.effect === "state" || op.kind === "SeparateDatabaseAndState") return;
    let seen = byMigration.get(migration);
    if (!seen) {
      seen = { concurrent: null, ordinary: null, reported: false };
      byMigration.set(migration, seen);
    }
    if (seen.reported) return;
    const concurrent = concurrentPart(ctx);
    const ordinary = ordinaryPart(ctx);
    if (concurrent && !seen.concurrent) seen.concurrent = { op, what: concurrent };
    if (ordinary && !seen.ordinary) seen.ordinary = { op, what: ordinary };
    if (!seen.concurrent || !seen.ordinary) return;
    seen.reported = true;
    // Reported at the operation that completes the mix; the other one is a related location.
    const other = seen.concurrent.op === op ? seen.ordinary : seen.concurrent;
    ctx.report({
      range: op.range,
      message: `\`${migration.name}\` has \`atomic = False\` and mixes ${seen.concurrent.what} with ${seen.ordinary.what}: a failure half-way leaves the schema changes applied and the retry fails.`,
      help: [
        "Without a transaction each operation commits on its own, and Django records the migration only after the last one; if a later operation fails (lock timeout, cancelled concurrent build), `migrate` re-runs the applied ones and stops on `already exists`.",
        "1. Move the ordinary schema changes to an atomic migration of their own, and make this one depend on it (or the reverse):\n" +
          code("class Migration(migrations.Migration):\n    # atomic (the default): all or nothing\n    operations = [\n        # the AddField/AlterField/... operations\n    ]"),
        "2. Keep only the concurrent index operations (with `SET lock_timeout` and `ADD CONSTRAINT ... USING INDEX`) in the `atomic = False` migration.",
        "3. Write any raw SQL that stays there with `IF NOT EXISTS` / `IF EXISTS`, so that a re-run succeeds.",
      ],
      related: other.op !== op ? [ctx.relatedAt({ file: migration.path, range: other.op.range }, `${other.what} runs in the same non-atomic migration`)] : undefined,
    });
  },
};
