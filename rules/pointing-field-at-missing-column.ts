import { inStateOperations, mayCreateTable, onTable, rawStepsMay, stateAndDatabaseModel } from "../src/engine/raw-steps.js";
import type { OperationContext, Rule } from "../src/engine/rule-types.js";
import { addFieldSnippet, alterFieldSnippet, fieldWith, py, runSqlSnippet, sqlIdent } from "../src/advice/snippets.js";
import type { SqlStatementFact } from "../src/sql/sql-facts.js";
import type { Operation } from "../src/model/types.js";
import { oncePer } from "../src/util/collections.js";
import { columnOf, fieldFromCall, findField, literalString, type FieldState, type ModelState } from "../src/state/model-state.js";
import { columnTypeOf, formatColumnType } from "./changing-column-type.js";

/**
 * Whether a statement may give `table` the column `column`: adds it (or an unnamed column),
 * renames a column to it, or creates or renames a table to `table`.
 */
function mayCreateColumn(fact: SqlStatementFact, table: string, column: string): boolean {
  if (fact.kind === "add-column") return onTable(fact, table) && (fact.column === null || fact.column === column);
  if (fact.kind === "rename-column") return onTable(fact, table) && fact.newName === column;
  return mayCreateTable(fact, table);
}

/** A state-only field operation and the column it makes the field use. */
interface Target {
  model: ModelState;
  physical: ModelState;
  name: string;
  column: string;
  field: FieldState;
  /** The column the field used before (RenameField, AlterField), or null (AddField). */
  before: string | null;
}

/** What a state-only `AddField`, `RenameField` or `AlterField` points its field at, when the column changes. */
function targetOf(ctx: OperationContext): Target | null {
  const { op } = ctx;
  // The table as the database has it: a model Django's operations created there.
  const models = stateAndDatabaseModel(ctx);
  if (!models || models.physical.fieldsIncomplete || ctx.isNewTable(models.physical)) return null;
  const { model, physical } = models;
  if (op.kind === "RenameField") {
    const oldName = literalString(op.args.old_name);
    const newName = literalString(op.args.new_name);
    const old = oldName ? model.fields.get(oldName) : undefined;
    const before = old ? columnOf(old) : null;
    // `db_column` keeps the column whatever the field is called.
    if (!old || !newName || before === null || old.dbColumn) return null;
    const column = old.relation ? `${newName}_id` : newName;
    return column === before ? null : { model, physical, name: newName, column, field: { ...old, name: newName }, before };
  }
  const name = literalString(op.args.name);
  if (!name || !op.args.field) return null;
  const field = fieldFromCall(name, op.args.field, model.app, model.key, null);
  const column = columnOf(field);
  if (column === null || field.generated) return null;
  const old = op.kind === "AlterField" ? model.fields.get(name) : undefined;
  const before = old ? columnOf(old) : null;
  if (op.kind === "AlterField" && (!old || before === column)) return null;
  return { model, physical, name, column, field, before };
}

/**
 * RS510: a state-only `AddField`, `RenameField` or `AlterField` that points a field at a column
 * the database does not have. Django believes the column is there from then on, so the release
 * that ships with the migration selects and writes a column that does not exist.
 */
export const pointingFieldAtMissingColumn: Rule = {
  meta: {
    code: "RS510",
    name: "pointing-field-at-missing-column",
    severity: "error",
    databases: ["postgresql", "mysql", "sqlite"],
    claims: ["new-code-breaks"],
    hazards: ["H52"],
    docs: {
      summary: "Changing the model state only, so that a field uses a column the database does not have",
      what: "Flags an `AddField`, a `RenameField` (of a field without `db_column`) or an `AlterField` that changes the field's column (`db_column`, or a foreign key's `_id`), in the `state_operations` of a `SeparateDatabaseAndState` without database operations (`mismatching-database-and-state-operations` compares the two sides otherwise) or of a `RunSQL`, on an existing table that lacks the column: no earlier Django operation made it (a state-only removal leaves a column in place, so taking such a field back is fine), and no `RunSQL` so far adds or renames a column to it (or creates the table). SQL that cannot be read (a `DO` block, a non-literal string) and operations rollsafe cannot read in the same app count as possibly creating it, so nothing is reported then. A state-only `RenameField` or `AlterField` of an auto-created many-to-many field is reported when it changes the name of the field's table (`<model table>_<field>`, or its `db_table`).",
      why: "Django records the change without touching the database. The release that ships with the migration lists every field's column in its queries, so each SELECT, INSERT and UPDATE on the model fails (PostgreSQL: `column \"isbn\" of relation \"library_book\" does not exist`) until someone changes the database by hand. A state-only `RenameField` is the usual slip: without `db_column`, the field's column is its name, so renaming the field in the state alone points it at a column nobody created. `makemigrations` cannot see the difference: it compares the models with the migration state, not with the database.",
      recipe: [
        "A new column: let Django create it, with a plain `AddField` outside `SeparateDatabaseAndState` (nullable, or with a database default, it is instant on PostgreSQL), or put the `RunSQL` that creates it in the same `SeparateDatabaseAndState`'s `database_operations`.",
        "A renamed field whose column must stay: give the field `db_column` set to the current column first (an `AlterField` that changes no column runs no SQL), then rename the field; Django leaves the column alone.",
      ],
      severityReason: "Error: every query of the new release on the model fails.",
      bad: `migrations.SeparateDatabaseAndState(
    state_operations=[
        migrations.RenameField(model_name="book", old_name="title", new_name="name"),
    ],
)`,
      good: `migrations.AlterField(
    model_name="book",
    name="title",
    field=models.CharField(max_length=200, db_column="title"),
),
migrations.RenameField(model_name="book", old_name="title", new_name="name"),`,
    },
  },
  operationKinds: ["AddField", "RenameField", "AlterField"],
  operation(ctx) {
    const { op } = ctx;
    if (!inStateOperations(ctx, true)) return;
    const target = targetOf(ctx);
    if (!target) {
      movedJoinTable(ctx);
      return;
    }
    const { model, physical, name, column, field, before } = target;
    if (findField(physical, (f) => columnOf(f) === column)) return;
    if (settledLater(ctx, model, field, physical)) return;
    const table = ctx.db.tableOf(physical);
    // The database state knows only what Django's operations did.
    if (rawStepsMay(ctx, [physical.app, ctx.migration.app], table, (fact) => mayCreateColumn(fact, table, column))) return;
    const what = op.kind === "AddField" ? `adds \`${model.name}.${name}\` to the model` : op.kind === "RenameField" ? `renames \`${model.name}.${literalString(op.args.old_name)}\` to \`${name}\`` : `moves \`${model.name}.${name}\` to column \`${column}\``;
    const keep = before
      ? [
          `1. To keep the data where it is, keep the field on column \`${before}\`: ${op.kind === "RenameField" ? "give it" : "leave"} \`db_column=${py(before)}\`${op.kind === "RenameField" ? " before the rename, with a plain `AlterField` (no SQL runs when the column does not change)" : " in the field"}:\n${alterFieldSnippet(model.key, op.kind === "RenameField" ? (literalString(op.args.old_name) ?? name) : name, fieldWith(field.call, { db_column: py(before) }))}`,
          `2. To really rename the column, use the expand/contract recipe of \`renaming-column\` (a new column, written by both releases, then the old one dropped): renaming it in one step breaks the release still running.`,
        ]
      : [
          `1. If the column should be created now, let Django create it with a plain \`AddField\` outside \`SeparateDatabaseAndState\`${field.null ? " (a nullable column is instant on PostgreSQL)" : ""}:\n${addFieldSnippet(model.key, name, fieldWith(field.call, {}))}`,
          sqlStep(ctx, field, table, column),
        ];
    ctx.report({
      range: op.range,
      message: `This state-only \`${op.kind}\` ${what}, but no operation ever created column \`${table}.${column}\`.`,
      help: [
        `Django records the change without touching the database. The release that ships with this migration lists \`${column}\` in every query on \`${model.name}\`, so each SELECT, INSERT and UPDATE fails (on PostgreSQL: \`column "${column}" of relation "${table}" does not exist\`) until the database is changed by hand.`,
        ...keep,
        `${keep.length + 1}. If the column was really made outside migrations, suppress this finding with that reason.`,
      ],
      related: physical.origin ? [ctx.relatedAt(physical.origin, `table \`${table}\` was created here, without \`${column}\``)] : undefined,
    });
  },
};

/**
 * The operations of a state-only list by the field they name (`model.field`, the model's name in
 * lower case): `RenameField` by its old name, `AlterField` and `RemoveField` by theirs, with their
 * positions; unknown operations under `*`. Read once per list: each flagged operation asks.
 */
const byField = oncePer((list: readonly Operation[]): Map<string, number[]> => {
  const out = new Map<string, number[]>();
  list.forEach((op, at) => {
    const model = literalString(op.args.model_name)?.toLowerCase();
    const field = op.kind === "RenameField" ? literalString(op.args.old_name) : op.kind === "AlterField" || op.kind === "RemoveField" ? literalString(op.args.name) : null;
    const key = op.unknown ? "*" : model && field ? `${model}.${field}` : null;
    if (key === null) return;
    const places = out.get(key);
    if (places) places.push(at);
    else out.set(key, [at]);
  });
  return out;
});

/**
 * Whether a later operation of the same state-only list points the field back at a column the
 * table has: InvenTree renames `icon` to `_icon` and then gives it `db_column="icon"` in the same
 * `state_operations` (sqlmigrate: no SQL; the new release's queries use `icon`). The list is
 * applied as a whole before any query runs, so only where it leaves the field counts.
 */
function settledLater(ctx: OperationContext, model: ModelState, field: FieldState, physical: ModelState): boolean {
  const list = ctx.parent?.stateOperations;
  let at = list ? list.indexOf(ctx.op) : -1;
  if (!list || at < 0) return false;
  const index = byField(list);
  const unknown = index.get("*")?.find((p) => p > at);
  const exists = (f: FieldState) => {
    const column = columnOf(f);
    return column !== null && findField(physical, (p) => columnOf(p) === column) !== undefined;
  };
  let current = field;
  for (;;) {
    const next = index.get(`${model.name.toLowerCase()}.${current.name}`)?.find((p) => p > at);
    if (next === undefined || (unknown !== undefined && unknown < next)) return false;
    const later = list[next] as Operation;
    at = next;
    if (later.kind === "RenameField") {
      // Renamed, a field without `db_column` takes its column from its new name (Sentry's
      // `AlterField` to a plain integer `user`, then `RenameField` to `user_id`: the foreign key's column).
      current = { ...current, name: literalString(later.args.new_name) ?? current.name };
      if (exists(current)) return true;
      continue;
    }
    if (later.kind === "RemoveField") return true;
    if (!later.args.field) return false;
    current = fieldFromCall(current.name, later.args.field, model.app, model.key, null);
    if (exists(current)) return true;
  }
}

/** The `RunSQL` that creates the column by hand, with the real table, column and type. */
function sqlStep(ctx: OperationContext, field: FieldState, table: string, column: string): string {
  const type = ctx.target.database === "postgresql" ? columnTypeOf(field, ctx.state, ctx.target.database) : null;
  const advice = "2. Or create it with SQL in the same `SeparateDatabaseAndState`'s `database_operations` (keep the column nullable, or give it a database default, so the old release's INSERTs still work)";
  if (!type) return `${advice}.`;
  const sql = `ALTER TABLE ${sqlIdent(table)} ADD COLUMN ${sqlIdent(column)} ${formatColumnType(type)} NULL;`;
  return `${advice}:\n${runSqlSnippet(sql, `ALTER TABLE ${sqlIdent(table)} DROP COLUMN ${sqlIdent(column)};`)}`;
}

/**
 * A state-only `RenameField` or `AlterField` of an auto-created many-to-many field that changes
 * its table's name (`<table>_<field>`, or its `db_table`): Django's `alter_field` renames that
 * table, the state alone does not.
 */
function movedJoinTable(ctx: OperationContext): void {
  const { op } = ctx;
  if (op.kind !== "RenameField" && op.kind !== "AlterField") return;
  const model = ctx.model(literalString(op.args.model_name));
  const oldName = literalString(op.kind === "RenameField" ? op.args.old_name : op.args.name);
  const old = oldName ? model?.fields.get(oldName) : undefined;
  if (!model || !old || old.relation?.kind !== "m2m" || old.relation.through || !model.managed || model.proxy) return;
  const newName = op.kind === "RenameField" ? literalString(op.args.new_name) : oldName;
  if (!newName) return;
  const after = op.kind === "RenameField" ? { ...old, name: newName } : op.args.field ? fieldFromCall(newName, op.args.field, model.app, model.key, null) : null;
  if (after?.relation?.kind !== "m2m" || after.relation.through) return;
  const before = ctx.state.m2mTableOf(model, old);
  const table = ctx.state.m2mTableOf(model, after);
  if (!before || !table || before === table) return;
  if (rawStepsMay(ctx, [model.app, ctx.migration.app], table, (fact) => mayCreateTable(fact, table))) return;
  const field = `${model.name}.${oldName}`;
  ctx.report({
    range: op.range,
    message: `This state-only \`${op.kind}\` ${op.kind === "RenameField" ? `renames many-to-many \`${field}\` to \`${newName}\`` : `moves many-to-many \`${field}\` to table \`${table}\``}, but no operation ever created its table \`${table}\` (the rows are in \`${before}\`).`,
    help: [
      `An auto-created many-to-many table is named after its field (\`<model table>_<field>\`) unless \`db_table\` names it. Django renames it with the field; in the state alone it does not, so the release that ships with this migration queries \`${table}\`, and each query on the relation fails (on PostgreSQL: \`relation ${sqlIdent(table)} does not exist\`).`,
      `1. To keep the rows where they are, give the field \`db_table=${py(before)}\` ${op.kind === "RenameField" ? "before the rename, with a plain `AlterField` (it runs no SQL when the table keeps its name)" : "in this `AlterField`"}:\n${alterFieldSnippet(model.key, oldName ?? newName, fieldWith(old.call, { db_table: py(before) }))}`,
      "2. To really rename the table, use the expand/contract recipe of `renaming-table`: renaming it in one step breaks the release still running.",
    ],
  });
}
