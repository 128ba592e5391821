/**
 * Operations resolved against the state for the rules that share them: "the field an
 * `AddField`/`AlterField` changes on an existing table", "the model an operation names", "the
 * column a removal leaves in the database". One place, so every rule skips the same cases
 * (state-only operations, unknown ones, unmanaged/proxy models, tables created in this migration).
 */
import { listIn } from "../util/collections.js";
import { migrationScratch } from "./migration-scratch.js";
import type { OperationContext } from "./rule-types.js";
import type { Operation, PyValue } from "../model/types.js";
import { columnOf, fieldFromCall, hasUnknownOptions, isColumnless, literalString, ORDER_FIELD, orderField, orderFieldChange, type FieldState, type ModelState } from "../state/model-state.js";
import { migrationDropsColumn } from "./sql-facts-for-operation.js";
import { droppedLater } from "./dropped-later.js";

/** What `fieldOperation` resolves. */
export interface FieldOperation {
  model: ModelState;
  name: string;
  before: FieldState | null;
  after: FieldState;
  /** The field call as written in the operation. */
  call: PyValue;
}

/** Per operation context: sixteen rules resolve the same operation (read-only results). */
const fieldOperations = new WeakMap<OperationContext, FieldOperation | null>();

/** The model and the field before/after of an `AddField`/`AlterField` on an existing, managed table. */
export function fieldOperation(ctx: OperationContext): FieldOperation | null {
  let resolved = fieldOperations.get(ctx);
  if (resolved === undefined) fieldOperations.set(ctx, (resolved = resolveFieldOperation(ctx)));
  return resolved;
}

function resolveFieldOperation(ctx: OperationContext): FieldOperation | null {
  const { op } = ctx;
  if ((op.kind !== "AddField" && op.kind !== "AlterField") || ctx.effect === "state" || op.unknown) return null;
  const model = ctx.model(literalString(op.args.model_name));
  const name = literalString(op.args.name);
  if (!model || !name || !op.args.field || !ctx.hasTable(model) || ctx.isNewTable(model)) return null;
  const before = op.kind === "AlterField" ? (model.fields.get(name) ?? null) : null;
  if (op.kind === "AlterField" && !before) return null;
  const after = fieldFromCall(name, op.args.field, model.app, model.key, null);
  // A `ForeignObject` has no column: adding or altering it runs no SQL.
  if (isColumnless(after) || (before && isColumnless(before))) return null;
  // Options unpacked from a value rollsafe cannot read (`CharField(**app_settings.OPTIONS)`,
  // OpenWISP config 0014): which the field has is unknown, so nothing is judged from their absence.
  if (hasUnknownOptions(op.args.field, before?.call)) return null;
  return { model, name, before, after, call: op.args.field };
}

/**
 * A `RenameField` on an existing, managed table, as the `alter_field` Django runs for it
 * (`RenameField.database_forwards`): the field before, and the same field under its new name
 * (a new column, unless `db_column` keeps it).
 */
export function renamedField(ctx: OperationContext): { model: ModelState; name: string; before: FieldState; after: FieldState } | null {
  const { op } = ctx;
  if (op.kind !== "RenameField" || ctx.effect === "state" || op.unknown) return null;
  const model = existingModel(ctx, "model_name");
  const name = literalString(op.args.old_name);
  const newName = literalString(op.args.new_name);
  const before = name ? model?.fields.get(name) : undefined;
  if (!model || !name || !newName || !before) return null;
  return { model, name, before, after: { ...before, name: newName } };
}

/** The model of a model-level operation (`model_name`/`name`, `old_name` of a `RenameModel`) on an existing, managed table. */
export function existingModel(ctx: OperationContext, arg: "model_name" | "name" | "old_name"): ModelState | null {
  if (ctx.effect === "state" || ctx.op.unknown) return null;
  const model = ctx.model(literalString(ctx.op.args[arg]));
  if (!model || !ctx.hasTable(model) || ctx.isNewTable(model)) return null;
  return model;
}

/**
 * `existingModel`, unless a later operation of the migration drops the model's table: dropping an
 * index or constraint just before `DROP TABLE` adds nothing the drop does not do (dit-helpdesk
 * rules_of_origin 0016: unique_together emptied, then DeleteModel, as makemigrations writes it),
 * and dropping-table reports the drop.
 */
export function keptModel(ctx: OperationContext, arg: "model_name" | "name"): ModelState | null {
  const model = existingModel(ctx, arg);
  return model && !droppedLater(ctx, model) ? model : null;
}

/** The `_order` column an `AlterOrderWithRespectTo` adds or drops (see `orderColumnChange`). */
export interface OrderColumnChange {
  model: ModelState;
  /** The `_order` field: as the model had it (dropped), or as Django adds it. */
  field: FieldState;
  added: boolean;
}

/**
 * The `_order` column an `AlterOrderWithRespectTo` adds (the option goes on) or drops (it goes
 * off) on an existing, managed table: the column change of an `AddField`/`RemoveField` of
 * `_order`, which the rules report as such.
 */
export function orderColumnChange(ctx: OperationContext): OrderColumnChange | null {
  const { op } = ctx;
  if (op.kind !== "AlterOrderWithRespectTo") return null;
  const model = existingModel(ctx, "name");
  const change = model ? orderFieldChange(model, op.args.order_with_respect_to) : null;
  if (!model || !change) return null;
  if (change === "remove") {
    const field = model.fields.get(ORDER_FIELD);
    return field ? { model, field, added: false } : null;
  }
  return { model, field: orderField({ migration: ctx.migration.id, file: ctx.migration.path, range: op.range }), added: true };
}

/**
 * The name of the constraint that makes a field's column unique (PRIMARY KEY or UNIQUE), as the
 * database holds it: from the physical schema, which a change made in the state alone does not
 * give a constraint. Null when no operation rollsafe follows made one.
 */
export function uniqueConstraintOf(ctx: OperationContext, model: ModelState, field: FieldState): string | null {
  const physical = ctx.db.model(model.app, model.key)?.fields.get(field.name);
  return physical ? physical.uniqueConstraint : field.uniqueConstraint;
}

/**
 * A `RemoveField` (or an `AlterOrderWithRespectTo` that takes `_order` away) that takes a field
 * out of the model while its column stays in the database for a while: state-only
 * (`SeparateDatabaseAndState`, `RunSQL(state_operations=...)`), or in a post-deploy migration
 * (the new release runs before it). Returns the column as the physical schema has it, on an
 * existing managed table.
 */
export function columnLeftByRemoval(ctx: OperationContext): {
  model: ModelState;
  physical: ModelState;
  name: string;
  column: FieldState;
  stateOnly: boolean;
} | null {
  const { op } = ctx;
  if ((op.kind !== "RemoveField" && op.kind !== "AlterOrderWithRespectTo") || op.unknown) return null;
  const stateOnly = ctx.effect === "state";
  if (!stateOnly && ctx.stage !== "post") return null;
  const modelName = literalString(op.kind === "RemoveField" ? op.args.model_name : op.args.name);
  const model = ctx.model(modelName);
  const name =
    op.kind === "RemoveField" ? literalString(op.args.name) : model && orderFieldChange(model, op.args.order_with_respect_to) === "remove" ? ORDER_FIELD : null;
  // The column as the database has it, which a state-only change leaves behind.
  const physical = modelName ? ctx.db.model(ctx.migration.app, modelName) : undefined;
  if (!model || !name || !physical || !ctx.hasTable(physical) || ctx.isNewTable(physical)) return null;
  const column = physical.fields.get(name);
  if (!column) return null;
  // The migration's own SQL drops the column (`SeparateDatabaseAndState` with a RunSQL DROP
  // COLUMN as its database side) before the new release runs: it does not stay. Whether that
  // drop is safe for the old release is runsql-dropping-column's question. A post-deploy
  // migration runs after the new release is live, so until then the column does stay.
  if (stateOnly && ctx.stage !== "post" && migrationDropsColumn(ctx.migration, ctx.db.tableOf(physical), ctx.columnOf(column) ?? name)) return null;
  // The model leaves the state later in the migration (`DeleteModel` after its relations, as
  // makemigrations writes it; a model moved to another app, TabbyCat adjfeedback 0017): the new
  // release does not use the table through it, and what the table keeps is the deletion's question.
  if (stateOnly && deletedFromStateLater(ctx, model.key)) return null;
  return { model, physical, name, column, stateOnly };
}

/**
 * Per migration: the top-level AddFields by `model.column` they add, in order (`addedLaterOnColumn`),
 * read once (asked at each RemoveField and RenameField, a scan of the rest made thousands of them quadratic).
 */
const columnsAdded = migrationScratch((ctx: OperationContext): Map<string, { at: number; name: string; call: PyValue }[]> => {
  const added = new Map<string, { at: number; name: string; call: PyValue }[]>();
  for (const [at, op] of ctx.migration.operations.entries()) {
    const modelKey = literalString(op.args.model_name)?.toLowerCase();
    const name = literalString(op.args.name);
    const call = op.args.field;
    if (op.kind !== "AddField" || op.unknown || !modelKey || !name || call?.kind !== "call") continue;
    listIn(added, `${modelKey}.${columnOf(fieldFromCall(name, call, ctx.migration.app, modelKey, null))}`).push({ at, name, call });
  }
  return added;
});

/** Per migration: the models a state-side `DeleteModel` removes, to the last top-level position it is at. */
const stateDeletes = migrationScratch((ctx: OperationContext): Map<string, number> => {
  const last = new Map<string, number>();
  for (const [position, op] of ctx.migration.operations.entries()) {
    for (const inner of [op, ...(op.stateOperations ?? [])]) {
      const name = inner.kind === "DeleteModel" && !inner.unknown ? literalString(inner.args.name)?.toLowerCase() : undefined;
      if (name) last.set(name, position);
    }
  }
  return last;
});

/** Whether a state-side `DeleteModel` of the model comes after the current operation in the migration. */
function deletedFromStateLater(ctx: OperationContext, modelKey: string): boolean {
  const deletes = (op: Operation) => op.kind === "DeleteModel" && !op.unknown && literalString(op.args.name)?.toLowerCase() === modelKey;
  const siblings = ctx.parent?.stateOperations ?? [];
  const at = siblings.indexOf(ctx.op);
  if (at >= 0 && siblings.slice(at + 1).some(deletes)) return true;
  return (stateDeletes(ctx).get(modelKey) ?? -1) > topPosition(ctx);
}

/** The position in the migration's list of the top-level operation `ctx` is in (the `SeparateDatabaseAndState` of a nested one). */
export function topPosition(ctx: OperationContext): number {
  const list = ctx.migration.operations;
  const top = ctx.parent ?? ctx.op;
  return list[top.index] === top ? top.index : list.indexOf(top);
}

/**
 * How a message names an operation: by its class (a third-party one by its own name), and SQL or
 * an index a `RunPython`'s function runs itself (`Operation.executedBy`) by the `RunPython`.
 */
export function operationLabel(op: Operation): string {
  if (op.executedBy) return "RunPython";
  return op.thirdParty ? op.callee.slice(op.callee.lastIndexOf(".") + 1) : op.kind;
}

/**
 * The foreign-key constraints a model's table (and the join tables of its many-to-many fields)
 * hold on other existing tables, as the physical schema has them: what keeps rejecting the new
 * release's deletes of referenced rows when the model leaves the code while its tables stay
 * (Django applies `on_delete` itself, through the fields it knows). `holder` names where the
 * constraint is: the column, or the join table. `AlterField(..., db_constraint=False)` of the
 * field drops it (for a many-to-many field, both of its join table's; checked on PostgreSQL 15).
 * `fields` are the model's by default (also fields it had earlier in the migration).
 * `targetTable` is as a message names it: the table in backticks, or, for a model outside the
 * run, what rollsafe knows of it.
 */
export function constrainedForeignKeys(
  ctx: OperationContext,
  physical: ModelState,
  fields: Iterable<FieldState> = physical.fields.values(),
): { field: FieldState; holder: string; targetName: string; targetTable: string }[] {
  const keys: { field: FieldState; holder: string; targetName: string; targetTable: string }[] = [];
  for (const field of fields) {
    const relation = field.relation;
    if (!relation || !relation.dbConstraint || !relation.to) continue;
    // A key to the table itself: the new release, without the model, deletes none of its rows.
    if (relation.to === `${physical.app}.${physical.key}`) continue;
    // A model of an app outside the run (`settings.AUTH_USER_MODEL`, a third-party app) has its
    // table as far as rollsafe knows.
    const target = ctx.db.modelByKey(relation.to);
    if (target && !ctx.db.hasTable(target)) continue;
    const joinTable = relation.kind === "m2m" ? ctx.db.m2mTableOf(physical, field) : null;
    // A many-to-many field through a model of its own: that model's table holds the keys.
    if (relation.kind === "m2m" && joinTable === null) continue;
    const holder = joinTable !== null ? `join table \`${joinTable}\`` : `\`${ctx.columnOf(field) ?? `${field.name}_id`}\``;
    keys.push({ field, holder, targetName: target?.name ?? relation.to, targetTable: target ? `\`${ctx.db.tableOf(target)}\`` : `the table of \`${relation.to}\`` });
  }
  return keys;
}

/**
 * The top-level operations of the migration after this one (after the `SeparateDatabaseAndState`
 * holding it, for one inside): Django applies them after it and unapplies them before it.
 */
export function laterInMigration(ctx: OperationContext): Operation[] {
  const top = ctx.parent ?? ctx.op;
  return ctx.migration.operations.filter((o) => o.index > top.index);
}

/**
 * Whether the operation runs SQL. The engine shows third-party operations that do their database
 * side "safely" (django-pg-migration-tools' `Safer*`) as state-only, so that long-lock rules stay
 * quiet; they still run their brief ALTER TABLE steps (which queue on a hot table) and their index
 * builds and validations (which take long on a large table).
 */
export function reachesDatabase(ctx: OperationContext): boolean {
  const { op } = ctx;
  if (op.thirdParty?.database === "none") return false;
  if (ctx.effect !== "state") return true;
  const inStateSide = ctx.parent?.stateOperations?.includes(op) ?? false;
  return op.thirdParty?.database === "safe" && !inStateSide;
}

/**
 * An `AddField` later in the same migration that adds a column under the name `column` of the
 * model's table: a drop and re-add (akvo rsr 0175: `piwik_id` removed, then added back as a uuid),
 * or a name a rename frees (c3nav mesh 0009). With the old column kept, that AddField would fail
 * ("column ... already exists"), so recipes give the new field a column of its own. The field
 * added, or null.
 */
export function addedLaterOnColumn(ctx: OperationContext, model: ModelState, column: string | null): { name: string; call: PyValue } | null {
  if (column === null) return null;
  const here = topPosition(ctx);
  const found = columnsAdded(ctx).get(`${model.key}.${column}`)?.find((a) => a.at > here);
  return found ? { name: found.name, call: found.call } : null;
}
