/**
 * Whether a later operation of the migration drops a model's table. Django unapplies a migration's
 * operations last to first (`Migration.unapply`), and the reversal of `DeleteModel` re-creates the
 * table (`DeleteModel.database_backwards` -> `schema_editor.create_model`), empty, before the
 * operations before it are reversed: their reversals then run on a table without rows.
 */
import type { Operation } from "../model/types.js";
import { thirdPartyEffect } from "../model/third-party-operations.js";
import { literalString, type FieldState, type ModelState } from "../state/model-state.js";
import type { ProjectState } from "../state/project-state.js";
import { schemaEditorChanges } from "./partitioned-tables.js";
import { oncePer } from "../util/collections.js";
import type { OperationContext } from "./rule-types.js";

/** A `DeleteModel` that reaches the database: at the top level or in `database_operations`. */
function deletesInDatabase(op: Operation): boolean {
  if (op.kind === "SeparateDatabaseAndState") return (op.databaseOperations ?? []).some(deletesInDatabase);
  return op.kind === "DeleteModel" && !op.unknown && !op.thirdParty;
}

/** The index of the last operation of `list` that deletes a table in the database; -1 when none does. */
const lastDeleteOf = oncePer((list: readonly Operation[]): number => {
  for (let i = list.length - 1; i >= 0; i--) if (deletesInDatabase(list[i] as Operation)) return i;
  return -1;
});

/**
 * Whether a `DeleteModel` after the operation, in the same migration, drops the table the model
 * has before it, followed through the renames Django's schema editor makes (`RenameModel`,
 * `AlterModelTable`, also in `SeparateDatabaseAndState.database_operations`). Only a delete that
 * reaches the database counts: not a state-only one, and not one of a model Django no longer
 * manages by then (its reversal creates nothing). Third-party operations are not followed.
 *
 * The rest of the migration is replayed on copies of the state as the engine's replay does
 * (src/engine/lint.ts). For an operation inside `SeparateDatabaseAndState.database_operations`,
 * only the rest of that list is followed: the context does not hold the state the operations after
 * it start from.
 */
export function droppedLater(ctx: OperationContext, model: ModelState): Operation | null {
  const { migration, op, parent } = ctx;
  const list = parent === null ? migration.operations : parent.kind === "SeparateDatabaseAndState" ? (parent.databaseOperations ?? []) : [];
  // Asked for each removal: finding the operation and the list's last delete once keeps a
  // migration of thousands of removals linear.
  const at = list[op.index] === op ? op.index : list.indexOf(op);
  if (at < 0 || at >= lastDeleteOf(list)) return null;
  const later = list.slice(at + 1);
  const app = migration.app;
  const applyCtx = { app, migration: migration.id, file: migration.path };
  let table = ctx.tableOf(model);
  const state = ctx.state.shadow();
  state.apply(op, applyCtx);
  // Applies one database-side operation; true when it drops the table.
  const follow = (o: Operation, logical: ProjectState): boolean => {
    const changes = o.unknown || o.thirdParty ? null : schemaEditorChanges(o, logical, app);
    logical.apply(o, applyCtx);
    for (const change of changes?.(logical) ?? []) {
      if (change.table !== table) continue;
      if (change.kind === "drop-table") return true;
      if (change.kind === "rename-table" && change.newName !== null) table = change.newName;
    }
    return false;
  };
  for (const o of later) {
    if (o.thirdParty && !o.unknown) {
      if (thirdPartyEffect(o.thirdParty).applyState) state.apply(o, applyCtx);
    } else if (o.kind === "SeparateDatabaseAndState" && !o.unknown) {
      // Django runs the database operations against a copy of the state before it.
      const shadow = state.shadow();
      for (const inner of o.databaseOperations ?? []) if (follow(inner, shadow)) return inner;
      state.apply(o, applyCtx);
    } else if (follow(o, state)) return o;
  }
  return null;
}

/**
 * The `DeleteModel` of `model` later in the same migration that drops its table (`droppedLater`),
 * when it deletes the model under the same name: what Django's autodetector writes after removing
 * a deleted model's relations. Null after a rename, or when a `RemoveField` drops the table.
 */
export function deletedWithTable(ctx: OperationContext, model: ModelState): Operation | null {
  const dropper = droppedLater(ctx, model);
  return dropper?.kind === "DeleteModel" && literalString(dropper.args.name)?.toLowerCase() === model.key ? dropper : null;
}

/**
 * Whether `RemoveField` of `field` drops a column that a `DeleteModel` of the same model later in
 * the migration would drop with its table (dropping-table takes the removal in): not a join
 * table, which the delete leaves to the removal.
 */
export function removedWithTable(ctx: OperationContext, model: ModelState, field: FieldState): boolean {
  return field.relation?.kind !== "m2m" && deletedWithTable(ctx, model) !== null;
}
