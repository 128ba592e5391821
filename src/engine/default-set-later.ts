/**
 * Whether the migration gives a column it adds a database default later, in the same transaction.
 *
 * Before Django 5.0 (`db_default`), the common way to keep a new NOT NULL column insertable for
 * the old release is to add the field and then set a database default in the same migration: a
 * `RunSQL` with `ALTER TABLE ... ALTER COLUMN ... SET DEFAULT ...`, or django-add-default-value's
 * `AddDefaultValue`. On PostgreSQL an atomic migration commits both together, so no other session
 * ever sees the column without its default (checked on PostgreSQL 15: an INSERT that leaves the
 * column out, after the migration, gets the default).
 */
import type { Operation } from "../model/types.js";
import { literalString, type ModelState } from "../state/model-state.js";
import type { OperationContext } from "./rule-types.js";
import { databaseSideOperations, readableForwardStatements, runSqlFacts } from "./sql-facts-for-operation.js";

const ADD_DEFAULT_VALUE = new Set(["django_add_default_value.AddDefaultValue", "django_add_default_value.add_default_value.AddDefaultValue"]);

/** The operations after `ctx.op` in its migration, its own `database_operations` siblings first. */
function* operationsAfter(ctx: OperationContext): Generator<Operation> {
  if (ctx.parent) {
    const siblings = ctx.parent.databaseOperations ?? [];
    const at = siblings.indexOf(ctx.op);
    if (at >= 0) for (const op of siblings.slice(at + 1)) yield* databaseSideOperations(op);
  }
  const top = ctx.parent ?? ctx.op;
  for (const op of ctx.migration.operations) if (op.index > top.index) yield* databaseSideOperations(op);
}

const same = (a: string | null, b: string): boolean => a !== null && a.toLowerCase() === b.toLowerCase();

/**
 * Whether an operation after `ctx.op` sets a database default on `table`.`column` (`field` of
 * `model`), on PostgreSQL: in the same transaction (an atomic migration), in a later one (a
 * non-atomic migration commits each statement: the column has no default in between), or not.
 */
export function defaultSetLater(ctx: OperationContext, model: ModelState, field: string, table: string, column: string): "same-transaction" | "later-transaction" | null {
  if (ctx.target.database !== "postgresql") return null;
  for (const op of operationsAfter(ctx)) {
    if (op.thirdParty && ADD_DEFAULT_VALUE.has(op.thirdParty.qualified)) {
      if (same(literalString(op.args.model_name), model.name) && literalString(op.args.name) === field) return ctx.migration.atomic ? "same-transaction" : "later-transaction";
      continue;
    }
    if (op.kind !== "RunSQL") continue;
    for (const fact of readableForwardStatements(runSqlFacts(op, ctx.migration)) ?? []) {
      if (fact.kind === "set-default" && same(fact.table, table) && same(fact.column, column)) return ctx.migration.atomic ? "same-transaction" : "later-transaction";
    }
  }
  return null;
}

/** The help line of a finding whose column gets its database default from a later statement of a non-atomic migration. */
export const LATER_TRANSACTION =
  "A later operation of this migration gives the column a database default, but the migration is not atomic (`atomic = False`): each statement commits on its own, so the old release's INSERTs meet the column without a default until it runs. In an atomic migration they commit together.";
