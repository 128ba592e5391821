import type { OperationContext, Rule } from "../src/engine/rule-types.js";
import { TABLE_ALTERING_OPERATIONS } from "../src/model/django-operations.js";
import type { Operation } from "../src/model/types.js";
import type { ParsedMigration } from "../src/parse/parse-migration.js";
import type { SqlStatementFact, SqlStatementKind } from "../src/sql/analyze-sql.js";
import { literalString } from "../src/state/model-state.js";
import { parsedStatements, resolveSqlTable } from "../src/engine/sql-facts-for-operation.js";
import { isRunPythonNoop } from "../src/engine/run-python-facts.js";
import { oncePer } from "../src/util/collections.js";

/** SQL statements that only read or write rows, or change nothing lockable. */
const NOT_SCHEMA: ReadonlySet<SqlStatementKind> = new Set<SqlStatementKind>([
  "select", "insert", "update", "delete", "set", "transaction-control", "comment", "create-table", "analyze", "vacuum",
  "validate-constraint", "create-extension", "do-block", "other",
]);

/** Top-level operations and the database side of `SeparateDatabaseAndState`, in order. */
function databaseOperations(ops: Operation[]): Operation[] {
  return ops.flatMap((op) => (op.kind === "SeparateDatabaseAndState" ? (op.databaseOperations ?? []) : [op]));
}

/**
 * A migration's database operations, the position of each, and the positions of those that
 * can change an existing table's schema in some state (`schemaChangeOf` says which do in the
 * state at hand). Worked out once per migration: each backfill asks, and a walk of the whole
 * migration per backfill made a migration of thousands of them quadratic.
 */
interface Layout {
  ops: Operation[];
  position: Map<Operation, number>;
  candidates: number[];
}

const layoutOf = oncePer((migration: ParsedMigration, ctx: OperationContext): Layout => {
  const ops = databaseOperations(migration.operations);
  const candidates: number[] = [];
  ops.forEach((op, i) => {
    if (mayChangeSchema(ctx, op)) candidates.push(i);
  });
  return { ops, position: new Map(ops.map((op, i) => [op, i] as const)), candidates };
});

/** Whether `schemaChangeOf` can find a change in the operation in any state. */
function mayChangeSchema(ctx: OperationContext, op: Operation): boolean {
  if (op.unknown) return false;
  if (TABLE_ALTERING_OPERATIONS[op.kind] !== undefined) return true;
  return op.kind === "RunSQL" && parsedStatements(ctx.sql(op)?.forward).some(({ fact }) => isDdl(fact));
}

/** A statement that changes a table's schema under a lock (not a row change, not CONCURRENTLY). */
function isDdl(fact: SqlStatementFact): boolean {
  return !NOT_SCHEMA.has(fact.kind) && !fact.concurrently;
}

/** A description of what the data operation does, or null when it is not a backfill. */
function backfillOf(ctx: OperationContext, op: Operation): string | null {
  if (op.unknown) return null;
  if (op.kind === "RunPython") return isRunPythonNoop(op.args.code) ? null : "`RunPython`";
  if (op.kind !== "RunSQL") return null;
  const dml = parsedStatements(ctx.sql(op)?.forward).find((s) => ["insert", "update", "delete"].includes(s.fact.kind));
  return dml ? `\`RunSQL\` ${dml.fact.kind.toUpperCase()}` : null;
}

/** What an operation changes on an existing table, or null. */
function schemaChangeOf(ctx: OperationContext, op: Operation): string | null {
  if (op.unknown) return null;
  const arg = TABLE_ALTERING_OPERATIONS[op.kind];
  if (arg !== undefined) {
    const model = ctx.model(literalString(op.args[arg]));
    if (!model || !ctx.hasTable(model) || ctx.isNewTable(model)) return null;
    return `\`${op.kind}\` on \`${model.name}\``;
  }
  if (op.kind !== "RunSQL") return null;
  for (const { fact } of parsedStatements(ctx.sql(op)?.forward)) {
    if (!isDdl(fact)) continue;
    const ref = resolveSqlTable({ ...ctx, op }, fact);
    if (!ref || ref.isNew) continue;
    return `\`RunSQL\` DDL on \`${ref.table}\``;
  }
  return null;
}

/** RS404: a data backfill in the same atomic migration as schema changes to existing tables. */
export const mixingBackfillWithSchemaChanges: Rule = {
  meta: {
    code: "RS404",
    name: "mixing-backfill-with-schema-changes",
    severity: "error",
    databases: ["postgresql", "sqlite"],
    claims: ["blocking-lock"],
    unobservable: "The lock is held for as long as the backfill runs, which only matters on a table with many rows.",
    hazards: ["H41"],
    docs: {
      summary: "A data backfill in the same atomic migration as a schema change of an existing table",
      what: "Flags a `RunPython` (other than `RunPython.noop`) or a `RunSQL` with INSERT/UPDATE/DELETE in an atomic migration that also changes the schema of an existing table (`AddField`, `AlterField`, `AddIndex`, `AddConstraint`... or DDL in `RunSQL`). An error when the schema change comes first (its lock is held during the whole backfill), a warning when it comes after. Schema operations on tables created in the same migration, `atomic = False` migrations and MySQL (whose DDL commits implicitly) are not reported.",
      why: "On PostgreSQL, Django runs an atomic migration in one transaction, so the ACCESS EXCLUSIVE lock of the schema change is held until COMMIT, through the whole backfill: every read and write of the table waits for the backfill. Backfill first, and its row locks are held while the DDL waits and runs.",
      recipe: [
        "Put the schema change in its own migration.",
        "Put the backfill in a separate data migration with `atomic = False`, working in batches; post-deploy for large tables.",
      ],
      severityReason: "Error when the schema lock is held during the backfill: reads and writes of the table block for its whole duration. Warning when the backfill comes first: its row locks and the long transaction still delay the DDL.",
      bad: `migrations.AddField(model_name="book", name="isbn", field=models.CharField(max_length=20, null=True)),
migrations.RunSQL("UPDATE library_book SET isbn = '' WHERE isbn IS NULL", reverse_sql=migrations.RunSQL.noop)`,
      good: `migrations.RunSQL("UPDATE library_book SET pages = 0 WHERE pages IS NULL", reverse_sql=migrations.RunSQL.noop)`,
    },
  },
  operation(ctx) {
    const { op, migration } = ctx;
    if (!migration.atomic || ctx.effect === "state" || ctx.target.database === "mysql") return;
    const backfill = backfillOf(ctx, op);
    if (backfill === null) return;
    const layout = layoutOf(migration, ctx);
    const at = layout.position.get(op);
    if (at === undefined) return;
    // The first schema change before the backfill, else the first after it.
    let schema: { op: Operation; what: string; first: boolean } | null = null;
    for (const i of layout.candidates) {
      if (i === at) continue;
      const other = layout.ops[i] as Operation;
      const what = schemaChangeOf(ctx, other);
      if (what === null) continue;
      schema = { op: other, what, first: i < at };
      break;
    }
    if (!schema) return;
    const first = schema.first;
    ctx.report({
      range: op.range,
      severity: first ? "error" : "warning",
      message: first
        ? `${backfill} backfills data while ${schema.what} earlier in this atomic migration still holds its lock.`
        : `${backfill} backfills data in the same atomic migration as ${schema.what}, which runs after it.`,
      help: [
        first
          ? `Django runs \`${migration.name}\` in one transaction, so the ACCESS EXCLUSIVE lock taken by ${schema.what} is held until COMMIT, through the whole backfill: every read and write of the table waits until the backfill ends.`
          : `Django runs \`${migration.name}\` in one transaction: the backfill's row locks are held until COMMIT, through the schema change, and the transaction lasts as long as the backfill.`,
        "1. Keep the schema change alone in its migration.",
        "2. Move the backfill to a separate data migration with `atomic = False` that works in batches; run it post-deploy if the table is large.",
      ],
      related: [ctx.relatedAt({ file: migration.path, range: schema.op.range }, `${schema.what} is here`)],
    });
  },
};
