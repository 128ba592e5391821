import type { OperationContext, Rule } from "../src/engine/rule-types.js";
import type { SourceRange } from "../src/model/types.js";
import { failureLeftovers, partitionedOrigin, partitionedTable, touchesPartitions, type PartitionedTableInfo } from "../src/engine/partitioned-tables.js";
import { forwardStatements, resolveSqlTable } from "../src/engine/sql-facts-for-operation.js";
import { describeStatement, isPublic } from "../src/sql/analyze-sql.js";
import { fieldFromCall, literalString, type FieldState, type ModelState } from "../src/state/model-state.js";
import { classifyTypeChange, columnTypeOf, formatColumnType } from "./changing-column-type.js";
import { partitionedEventMigration } from "./adding-unique-constraint-without-partition-key.js";

/** The partitioned table (of any level) whose partition key holds `column`, or null. */
function keyHolding(info: PartitionedTableInfo, column: string): string | null {
  return info.keys.find((level) => level.key.columns.includes(column))?.table ?? null;
}

/** What the change does to the column, for messages: dropping it or changing its type. */
type Change = { kind: "drop" } | { kind: "type"; from: string | null; to: string | null };

function report(ctx: OperationContext, range: SourceRange, subject: string, info: PartitionedTableInfo, column: string, change: Change, model: ModelState | null): void {
  const owner = keyHolding(info, column);
  if (owner === null) return;
  const verb = change.kind === "drop" ? "drop" : "alter";
  const types = change.kind === "type" && change.from && change.to ? ` from \`${change.from}\` to \`${change.to}\`` : "";
  const what = change.kind === "drop" ? `drops column \`${column}\`` : `changes the type of column \`${column}\`${types}`;
  const name = model ? `\`${model.name}\`` : `\`${info.table}\``;
  ctx.report({
    range,
    message: `${subject} ${what}, which is part of the partition key of \`${owner}\`: PostgreSQL refuses it, and the migration fails.`,
    help: [
      `PostgreSQL refuses it with \`cannot ${verb} column "${column}" because it is part of the partition key of relation "${owner}"\` (checked on PostgreSQL 15, for every type change, even \`varchar(20)\` to \`varchar(40)\`), so \`migrate\` stops here and the deploy fails${failureLeftovers(ctx)}. The partition key decides which partition each row is in, so its columns stay as they are while the table is partitioned by them.`,
      change.kind === "drop"
        ? `1. Keep the column. If the code no longer needs the field, keep it in the model (or keep the column filled by a database default), since every row needs a value to find its partition.`
        : `1. Keep the column's type, and convert in the application where the new type is needed.`,
      `2. To partition ${name} differently, create a new partitioned table with the key you want, copy the rows over in batches (a partition at a time), keep both written during the copy, and swap the tables by renaming them in one transaction; a \`RunSQL\` per step, with \`SeparateDatabaseAndState\` where Django's state must follow.`,
    ],
    related: partitionedOrigin(ctx, info),
  });
}

/**
 * The field a `RemoveField`/`AlterField` that reaches the database changes, with its column. A
 * table created earlier in this migration counts too: PostgreSQL refuses the change all the same.
 */
function changedField(ctx: OperationContext): { model: ModelState; name: string; field: FieldState; column: string } | null {
  const { op } = ctx;
  if (ctx.effect === "state" || op.unknown) return null;
  const model = ctx.model(literalString(op.args.model_name));
  const name = literalString(op.args.name);
  const field = name ? model?.fields.get(name) : undefined;
  const column = field ? ctx.columnOf(field) : null;
  return model && name && field && column !== null && ctx.hasTable(model) ? { model, name, field, column } : null;
}

/** Reports the change when the model's table is partitioned (looked up last: it reads the migration's SQL). */
function reportOnPartitioned(ctx: OperationContext, target: { model: ModelState; name: string; column: string }, verb: string, change: Change): void {
  const info = partitionedTable(ctx, target.model, ctx.tableOf(target.model));
  if (info) report(ctx, ctx.op.range, `${verb} \`${target.model.name}.${target.name}\``, info, target.column, change, target.model);
}

function removeField(ctx: OperationContext): void {
  const target = changedField(ctx);
  if (target) reportOnPartitioned(ctx, target, "Removing", { kind: "drop" });
}

function alterField(ctx: OperationContext): void {
  const target = changedField(ctx);
  const call = ctx.op.args.field;
  if (!target || target.field.generated || !call) return;
  const after = fieldFromCall(target.name, call, target.model.app, target.model.key, null);
  const from = columnTypeOf(target.field, ctx.state, ctx.target.database);
  const to = columnTypeOf(after, ctx.state, ctx.target.database);
  if (after.generated || !from || !to || classifyTypeChange(from, to, ctx.target.database) === "same") return;
  reportOnPartitioned(ctx, target, "Altering", { kind: "type", from: formatColumnType(from), to: formatColumnType(to) });
}

function runSql(ctx: OperationContext): void {
  for (const { fact, range } of forwardStatements(ctx)) {
    if ((fact.kind !== "drop-column" && fact.kind !== "alter-column-type") || fact.table === null || fact.column === null || !isPublic(fact.schema)) continue;
    const ref = resolveSqlTable(ctx, fact);
    const model = ref?.dbModel ?? ref?.model ?? null;
    const info = partitionedTable(ctx, model, fact.table, fact);
    if (!info) continue;
    const change: Change = fact.kind === "drop-column" ? { kind: "drop" } : { kind: "type", from: null, to: fact.dataType?.text ?? null };
    report(ctx, range, `\`${describeStatement(fact)}\``, info, fact.column, change, model);
  }
}

/** RS218: dropping a partition key column, or changing its type, which PostgreSQL refuses. */
export const changingPartitionKeyColumn: Rule = {
  meta: {
    code: "RS218",
    name: "changing-partition-key-column",
    severity: "error",
    databases: ["postgresql"],
    claims: ["migration-fails"],
    hazards: [],
    docs: {
      summary: "Dropping a column of a partitioned table's partition key, or changing its type, which PostgreSQL refuses",
      what: "Flags, on a table that a `RunSQL` created with `CREATE TABLE ... PARTITION BY` (in an earlier migration of any app, or earlier in the same migration): `RemoveField` of a field whose column is in the partition key (its own or a sub-partitioned partition's), `AlterField` that changes that column's type, and `RunSQL` `DROP COLUMN` or `ALTER COLUMN ... TYPE` of such a column. The key follows later renames (`RenameField`, `AlterField` of `db_column`, `RENAME COLUMN`). State-only removals, which leave the column in place, and tables listed only in the configuration's `partitioned-tables` (whose key is unknown) are not reported.",
      why: "PostgreSQL refuses to drop a partition key column or change its type, with `cannot drop column \"created\" because it is part of the partition key of relation \"library_event\"` or `cannot alter column ...` (checked on PostgreSQL 15: every type change is refused, `varchar(20)` to `varchar(40)` included). The deploy's `migrate` stops there. The usual recipes do not help: the later `DROP COLUMN` of a state-only removal fails the same way, and so does the column swap of an expand/contract type change.",
      recipe: [
        "Keep the column and its type: the partition key decides which partition every row is in.",
        "To partition by something else, create a new partitioned table with the new key, copy the rows in batches, and swap the tables by renaming them in one transaction.",
      ],
      severityReason: "Error: the migration fails on PostgreSQL, so the deploy stops half-way. The verification harness runs the fixtures on PostgreSQL 15 with Django 4.2 and sees the refusal.",
      bad: partitionedEventMigration(`        migrations.RemoveField(model_name="event", name="created"),`),
      good: partitionedEventMigration(`        migrations.AlterField(model_name="event", name="created", field=models.DateField(help_text="When it happened")),`),
    },
  },
  operationKinds: ["RemoveField", "AlterField", "RunSQL"],
  operation(ctx) {
    // Only a partition key made by RunSQL is known, so nothing to check before a migration can involve one.
    if (ctx.target.database !== "postgresql" || !touchesPartitions(ctx.db, ctx.migration)) return;
    const { op } = ctx;
    if (op.kind === "RemoveField") return removeField(ctx);
    if (op.kind === "AlterField") return alterField(ctx);
    if (op.kind === "RunSQL") return runSql(ctx);
  },
};
