/**
 * Where a migration's `RemoveField`s drop columns in the database (top level, and inside
 * `SeparateDatabaseAndState.database_operations`), read once per migration: what an operation
 * does to a column may be undone by a drop before it or after it in the same migration.
 * - PostgreSQL drops a column's indexes with it, so a `RemoveIndex` after the drop finds nothing
 *   (Django's `DROP INDEX IF EXISTS`; Misago threads 0040).
 * - Django's `remove_field` discards the deferred statements that name the column, so the index of
 *   a field added earlier in the migration is never built (pretalx event 0002's squash adds
 *   foreign keys and removes them again).
 */
import type { Operation } from "../model/types.js";
import { literalString } from "../state/model-state.js";
import { listIn } from "../util/collections.js";
import { migrationScratch } from "./migration-scratch.js";
import { topPosition } from "./resolved-operation.js";
import type { OperationContext } from "./rule-types.js";

/** Per migration: `model.field` to the positions (in the top-level list) of the operations that drop it, in order. */
const fieldDrops = migrationScratch((ctx: OperationContext): Map<string, number[]> => {
  const drops = new Map<string, number[]>();
  const note = (op: Operation, at: number) => {
    if (op.kind !== "RemoveField" || op.unknown || (op.vendors && !op.vendors.includes(ctx.target.database))) return;
    listIn(drops, `${literalString(op.args.model_name)?.toLowerCase()}.${literalString(op.args.name)}`).push(at);
  };
  for (const [at, op] of ctx.migration.operations.entries()) {
    if (op.kind === "SeparateDatabaseAndState") for (const inner of op.databaseOperations ?? []) note(inner, at);
    else note(op, at);
  }
  return drops;
});

/** Whether an earlier operation of the migration dropped `field` of the model (`model` is its key, lowercase) from the database. */
export function fieldDroppedBefore(ctx: OperationContext, model: string, field: string): boolean {
  const first = fieldDrops(ctx).get(`${model}.${field}`)?.[0];
  return first !== undefined && first < topPosition(ctx);
}

/** Whether a later operation of the migration drops `field` of the model (`model` is its key, lowercase) from the database. */
export function fieldDroppedLater(ctx: OperationContext, model: string, field: string): boolean {
  const list = fieldDrops(ctx).get(`${model}.${field}`);
  const last = list?.[list.length - 1];
  return last !== undefined && last > topPosition(ctx);
}
