import type { OperationContext, Rule } from "../src/engine/rule-types.js";
import { failureLeftovers, mayBePartitioned, partitionedOrigin, partitionedTable, type PartitionedTableInfo, unmetPartitionKey } from "../src/engine/partitioned-tables.js";
import { createdFields, fieldFromCall, literalString, primaryKeyOf, type FieldState, type ModelState } from "../src/state/model-state.js";
import { code, fieldWith } from "../src/advice/snippets.js";
import { forwardStatements, modelOfTable } from "../src/engine/sql-facts-for-operation.js";
import { describeStatement, isPublic } from "../src/sql/analyze-sql.js";
import { partitionedEventMigration } from "./adding-unique-constraint-without-partition-key.js";

/** The column a relation points at: its `to_field`'s, or the target's primary key's (Django's `id` when none is declared). */
function referencedColumn(ctx: OperationContext, field: FieldState, target: ModelState): string | null {
  const toField = literalString(field.kwargs.to_field);
  const pointed = toField ? target.fields.get(toField) : primaryKeyOf(target);
  if (toField && !pointed) return null;
  return pointed ? ctx.columnOf(pointed) : "id";
}

/**
 * Why PostgreSQL cannot add a foreign key to `column` of the partitioned table, or null when it may.
 * A foreign key needs a unique constraint on exactly the referenced columns, and a unique
 * constraint of a partitioned table must hold every partitioning column (at every level).
 */
function refusal(ctx: OperationContext, info: PartitionedTableInfo, columns: string[]): string | null {
  if (ctx.target.postgresVersion < 12) return `PostgreSQL ${ctx.target.postgresVersion} cannot reference a partitioned table at all (foreign keys to one arrived in PostgreSQL 12)`;
  const unmet = unmetPartitionKey(info, (c) => columns.includes(c));
  if (!unmet) return null;
  const { level, missing } = unmet;
  if (missing.length === 0) return `the partition key of \`${level.table}\` has an expression, so no unique constraint can exist there for a foreign key to reference`;
  return `a unique constraint on \`${info.table}\` must include the partitioning column${missing.length > 1 ? "s" : ""} ${missing.map((c) => `\`${c}\``).join(", ")}${level.table === info.table ? "" : ` (of partition \`${level.table}\`)`}, so none can exist on ${columns.map((c) => `\`${c}\``).join(", ")}${columns.length > 1 ? "" : " alone"} for a foreign key to reference`;
}

/** The help line that quotes PostgreSQL's refusal of a foreign key to `table` and says why. */
function refusedLine(ctx: OperationContext, table: string, why: string): string {
  const old = ctx.target.postgresVersion < 12 ? " (before PostgreSQL 12, `cannot reference partitioned table`)" : "";
  return `PostgreSQL refuses it with \`there is no unique constraint matching given keys for referenced table "${table}"\`${old}: ${why}. \`migrate\` stops here and the deploy fails${failureLeftovers(ctx)}.`;
}

/** `owner.field` (on the model named `owner`) makes a foreign-key constraint: reports it when PostgreSQL cannot. */
function check(ctx: OperationContext, owner: string, field: FieldState): void {
  const rel = field.relation;
  if (!rel || rel.to === null || !rel.dbConstraint || (rel.kind === "m2m" && rel.through !== null)) return;
  const target = ctx.state.modelByKey(rel.to) ?? ctx.db.modelByKey(rel.to);
  if (!target || !ctx.hasTable(target)) return;
  const table = ctx.tableOf(target);
  const info = partitionedTable(ctx, target, table);
  if (!info || (info.keys.length === 0 && ctx.target.postgresVersion >= 12)) return;
  const column = referencedColumn(ctx, field, target);
  if (column === null) return;
  const why = refusal(ctx, info, [column]);
  if (!why) return;
  const join = rel.kind === "m2m" ? " (through the join table Django creates for it)" : "";
  const steps: string[] = [];
  if (field.call?.kind === "call") {
    const written = fieldWith(field.call, { db_constraint: "False" });
    steps.push(
      `Keep the relation without a database constraint: Django still joins, and cascades deletes in Python, but the database no longer checks that the \`${target.name}\` row exists:\n${code(ctx.op.kind === "CreateModel" ? `(${JSON.stringify(field.name)}, ${written}),` : `field=${written},`)}`,
    );
  } else {
    steps.push("Keep the relation without a database constraint (`db_constraint=False`): Django still joins, and cascades deletes in Python, but the database no longer checks that the row exists.");
  }
  if (rel.kind !== "m2m" && ctx.target.postgresVersion >= 12 && info.keys.every((k) => !k.key.expressions)) {
    const keyColumns = [...new Set(info.keys.flatMap((k) => k.key.columns))].filter((c) => c !== column);
    const copies = keyColumns.map((c) => `${field.name}_${c}`);
    const own = ctx.columnOf(field) ?? `${field.name}_id`;
    steps.push(
      `Or reference the whole key (PostgreSQL 12 and later): keep a copy of ${keyColumns.map((c) => `\`${c}\``).join(", ")} on \`${owner}\` (${copies.map((c) => `\`${c}\``).join(", ")}), and add the constraint with \`RunSQL\` as \`FOREIGN KEY (${[own, ...copies].join(", ")}) REFERENCES ${table} (${[column, ...keyColumns].join(", ")})\`, which a unique key of \`${table}\` holding every partitioning column can match.`,
    );
  }
  ctx.report({
    range: ctx.op.range,
    message: `\`${owner}.${field.name}\` is a foreign key to \`${target.name}\`${join}, whose table \`${table}\` is partitioned: PostgreSQL cannot reference \`${table}\` (\`${column}\`), and the migration fails.`,
    help: [refusedLine(ctx, table, why), ...steps.map((s, i) => `${i + 1}. ${s}`)],
    related: partitionedOrigin(ctx, info),
  });
}

function runSql(ctx: OperationContext): void {
  for (const { fact, range } of forwardStatements(ctx)) {
    for (const foreignKey of fact.foreignKeys) {
      if (!isPublic(foreignKey.references.schema)) continue;
      const table = foreignKey.references.name;
      // A table referencing itself is not partitioned before the statement that creates it.
      if (fact.kind === "create-table" && table === fact.table) continue;
      const target = modelOfTable(ctx.db, null, table) ?? modelOfTable(ctx.state, null, table);
      const info = partitionedTable(ctx, target, table, fact);
      if (!info || (info.keys.length === 0 && ctx.target.postgresVersion >= 12)) continue;
      // Without a column list PostgreSQL references the table's primary key, which only the state can tell.
      const pk = target ? primaryKeyOf(target) : undefined;
      const pkColumn = pk ? ctx.columnOf(pk) : null;
      const columns = foreignKey.columns.length > 0 ? foreignKey.columns : pkColumn ? [pkColumn] : null;
      if (!columns) continue;
      const why = refusal(ctx, info, columns);
      if (!why) continue;
      ctx.report({
        range,
        message: `\`${describeStatement(fact)}\` references \`${table}\` (${columns.map((c) => `\`${c}\``).join(", ")}), which is partitioned: PostgreSQL cannot reference it there, and the migration fails.`,
        help: [
          refusedLine(ctx, table, why),
          "1. Reference every partitioning column too (a copy of each on the referencing table), or leave the relation unenforced by the database.",
        ],
        related: partitionedOrigin(ctx, info),
      });
    }
  }
}

function createModel(ctx: OperationContext): void {
  const name = literalString(ctx.op.args.name);
  if (!name) return;
  // An unmanaged model (`managed: False`) gets no table, so no constraint.
  const options = ctx.op.args.options;
  if (options?.kind === "dict" && options.entries.some((e) => e.key.kind === "str" && e.key.value === "managed" && e.value.kind === "bool" && !e.value.value)) return;
  for (const { name: fieldName, call } of createdFields(ctx.op.args.fields)) {
    check(ctx, name, fieldFromCall(fieldName, call, ctx.migration.app, name.toLowerCase(), null));
  }
}

function fieldOperation(ctx: OperationContext): void {
  const { op } = ctx;
  const model = ctx.model(literalString(op.args.model_name));
  const name = literalString(op.args.name);
  if (!model || !name || !op.args.field || !ctx.hasTable(model)) return;
  const after = fieldFromCall(name, op.args.field, model.app, model.key, null);
  if (op.kind === "AlterField") {
    // Only a constraint this change creates: a new target, a new to_field, or db_constraint turned on.
    const before = model.fields.get(name);
    const same = before?.relation?.dbConstraint && before.relation.to === after.relation?.to && literalString(before.kwargs.to_field) === literalString(after.kwargs.to_field);
    if (!before || same) return;
  }
  check(ctx, model.name, after);
}

/** RS217: a foreign key to a partitioned table that PostgreSQL cannot create (no unique constraint can match it). */
export const addingForeignKeyToPartitionedTable: Rule = {
  meta: {
    code: "RS217",
    name: "adding-foreign-key-to-partitioned-table",
    severity: "error",
    databases: ["postgresql"],
    claims: ["migration-fails"],
    hazards: [],
    docs: {
      summary: "Adding a foreign key to a partitioned table on a column that no unique constraint there can cover, which PostgreSQL refuses",
      what: "Flags `CreateModel`, `AddField` and `AlterField` that create a foreign-key constraint (`ForeignKey`, `OneToOneField`, or the join table of a `ManyToManyField` without `through`) pointing at a model whose table a `RunSQL` created with `CREATE TABLE ... PARTITION BY` (in an earlier migration of any app, or earlier in the same migration), when the referenced column (`to_field`, or the target's primary key) is not the whole partition key. Before PostgreSQL 12 (`postgres-version`), every foreign key to a partitioned table is flagged. `RunSQL` foreign keys (`ALTER TABLE ... ADD CONSTRAINT ... FOREIGN KEY ... REFERENCES`, and those of a `CREATE TABLE`) are flagged the same way, by their column lists or, without one, the primary key the state gives the referenced table. Relations with `db_constraint=False` and tables known only from the configuration's `partitioned-tables` are not.",
      why: 'A foreign key needs a unique constraint on exactly the columns it references, and a unique constraint on a partitioned table must include every partitioning column (see `adding-unique-constraint-without-partition-key`). A Django model on a table partitioned by `created` usually declares `id` as its primary key while the table\'s real key is `(id, created)`, so a `ForeignKey` to it references `id` alone and PostgreSQL fails with `there is no unique constraint matching given keys for referenced table` (checked on PostgreSQL 15). The deploy\'s `migrate` stops there; tests on a database whose table Django created unpartitioned never show it.',
      recipe: [
        "Keep the relation without a database constraint: `ForeignKey(..., db_constraint=False)`. Django still joins and cascades deletes in Python; the database no longer checks that the row exists.",
        "Or reference the whole key: copy the partitioning columns onto the referencing model and add `FOREIGN KEY (event_id, event_created) REFERENCES <table> (id, created)` with `RunSQL` (PostgreSQL 12 and later).",
      ],
      severityReason: "Error: the migration fails on PostgreSQL, so the deploy stops half-way. The verification harness runs the fixtures on PostgreSQL 15 with Django 4.2 and sees the refusal.",
      bad: partitionedEventMigration(`        migrations.CreateModel(
            name="Ticket",
            fields=[
                ("id", models.BigAutoField(primary_key=True)),
                ("event", models.ForeignKey(on_delete=models.CASCADE, to="library.event")),
            ],
        ),`, { kind: false }),
      good: partitionedEventMigration(`        migrations.CreateModel(
            name="Ticket",
            fields=[
                ("id", models.BigAutoField(primary_key=True)),
                ("event", models.ForeignKey(on_delete=models.CASCADE, to="library.event", db_constraint=False)),
            ],
        ),`, { kind: false }),
    },
  },
  operationKinds: ["CreateModel", "AddField", "AlterField", "RunSQL"],
  operation(ctx) {
    // Before building a field's state for every field of every CreateModel: no partitioned table, nothing to refuse.
    if (ctx.target.database !== "postgresql" || ctx.effect === "state" || ctx.op.unknown || !mayBePartitioned(ctx)) return;
    if (ctx.op.kind === "CreateModel") return createModel(ctx);
    if (ctx.op.kind === "RunSQL") return runSql(ctx);
    return fieldOperation(ctx);
  },
};
