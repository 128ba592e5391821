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
import type { ParsedMigration } from "../parse/parse-migration.js";
import { literalString, type ModelState } from "../state/model-state.js";
import { oncePer } from "../util/collections.js";
import type { OperationContext } from "./rule-types.js";
import { databaseSideOperations, readableForwardStatements, runSqlFacts } from "./sql-facts-for-operation.js";

const ADD_DEFAULT_VALUE = new Set(["django_add_default_value.AddDefaultValue", "django_add_default_value.add_default_value.AddDefaultValue"]);

/** Where a default is set: the top-level operation's index and, inside a `SeparateDatabaseAndState`, the position in its database operations. */
interface Place {
  top: number;
  inner: number;
}

/**
 * Every database default the migration sets, by `table.column` (lower case) for SQL and by
 * `model.field` (the model's name lower case) for `AddDefaultValue`, and every NOT NULL its SQL
 * drops (by `nullable:table.column`), read once per migration:
 * each `AddField` asks, and a scan of the rest of the migration per question made a migration of
 * thousands of fields quadratic.
 */
const defaultsSet = oncePer((migration: ParsedMigration): Map<string, Place[]> => {
  const places = new Map<string, Place[]>();
  const add = (key: string, place: Place) => {
    const list = places.get(key);
    if (list) list.push(place);
    else places.set(key, [place]);
  };
  for (const top of migration.operations) {
    const inner = top.kind === "SeparateDatabaseAndState" ? (top.databaseOperations ?? []) : [top];
    inner.forEach((first, position) => {
      for (const op of databaseSideOperations(first)) {
        const place = { top: top.index, inner: top.kind === "SeparateDatabaseAndState" ? position : -1 };
        if (op.thirdParty && ADD_DEFAULT_VALUE.has(op.thirdParty.qualified)) {
          const model = literalString(op.args.model_name);
          const field = literalString(op.args.name);
          if (model && field) add(`field:${model.toLowerCase()}.${field}`, place);
          continue;
        }
        if (op.kind !== "RunSQL") continue;
        for (const fact of readableForwardStatements(runSqlFacts(op, migration)) ?? []) {
          if (fact.table === null || fact.column === null) continue;
          if (fact.kind === "set-default") add(`column:${fact.table.toLowerCase()}.${fact.column.toLowerCase()}`, place);
          else if (fact.kind === "drop-not-null") add(`nullable:${fact.table.toLowerCase()}.${fact.column.toLowerCase()}`, place);
        }
      }
    });
  }
  return places;
});

/** Whether `place` runs after `ctx.op`: a later top-level operation, or a later database operation of the same `SeparateDatabaseAndState`. */
function after(ctx: OperationContext, place: Place): boolean {
  const top = ctx.parent ?? ctx.op;
  if (place.top !== top.index) return place.top > top.index;
  const at = ctx.parent?.databaseOperations?.indexOf(ctx.op) ?? -1;
  return at >= 0 && place.inner > at;
}

/** Whether the migration does one of `keys` (see `defaultsSet`) after `ctx.op`. */
function setAfter(ctx: OperationContext, keys: readonly string[]): boolean {
  const places = defaultsSet(ctx.migration);
  return keys.some((key) => places.get(key)?.some((place) => after(ctx, place)) ?? false);
}

/**
 * Whether an operation after `ctx.op` sets a database default on `table`.`column` (`field` of
 * `model`), on PostgreSQL: in the same transaction (an atomic migration), in a later one (a
 * non-atomic migration commits each statement: the column has no default in between), or not.
 */
export function defaultSetLater(ctx: OperationContext, model: ModelState, field: string, table: string, column: string): "same-transaction" | "later-transaction" | null {
  if (ctx.target.database !== "postgresql") return null;
  if (!setAfter(ctx, [`field:${model.name.toLowerCase()}.${field}`, `column:${table.toLowerCase()}.${column.toLowerCase()}`])) return null;
  return ctx.migration.atomic ? "same-transaction" : "later-transaction";
}

/**
 * Whether an operation after `ctx.op` in the same migration lets the database fill `table`.`column`
 * (a `RunSQL` that drops its NOT NULL or sets a default), on PostgreSQL. For a migration that
 * runs before the deploy this is enough whether it is atomic or not: the new release starts once
 * the whole migration has run.
 */
export function columnFillableLater(ctx: OperationContext, table: string, column: string): boolean {
  if (ctx.target.database !== "postgresql") return false;
  const key = `${table.toLowerCase()}.${column.toLowerCase()}`;
  return setAfter(ctx, [`column:${key}`, `nullable:${key}`]);
}

/** The help line of a finding whose column gets its database default from a later statement of a non-atomic migration. */
export const LATER_TRANSACTION =
  "A later operation of this migration gives the column a database default, but the migration is not atomic (`atomic = False`): each statement commits on its own, so the old release's INSERTs meet the column without a default until it runs. In an atomic migration they commit together.";
