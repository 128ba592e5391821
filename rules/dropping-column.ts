import { addedLaterOnColumn, orderColumnChange } from "../src/engine/resolved-operation.js";
import type { OperationContext, Rule } from "../src/engine/rule-types.js";
import { fieldFromCall, isAutoIncrement, isColumnless, literalString, type FieldState, type ModelState } from "../src/state/model-state.js";
import { columnTypeOf, formatColumnType } from "./changing-column-type.js";
import {
  addFieldSnippet,
  code,
  dbDefaultFor,
  djangoHas,
  dropColumnSql,
  missingColumnError,
  missingTableError,
  dropTablesSql,
  fieldWith,
  alterFieldSnippet,
  pinnedRenameSource,
  postDeployMarker,
  py,
  runSqlLines,
  schemaEditorDropField,
  separateDatabaseAndState,
  sqlIdent,
  stateOnlyRemoveField,
} from "../src/advice/snippets.js";
import { operationSource, stateOnlyRemovalFix } from "../src/fix/rule-fixes.js";
import { removedWithTable } from "../src/engine/dropped-later.js";
import type { Operation, PyValue } from "../src/model/types.js";
import type { ParsedMigration } from "../src/parse/parse-migration.js";
import { oncePer } from "../src/util/collections.js";

/** The migration's top-level `RenameField`s, last first, found once per migration (each `RemoveField` asks). */
const renamesOf = oncePer((migration: ParsedMigration): Operation[] => migration.operations.filter((op) => op.kind === "RenameField" && !op.unknown).reverse());

/**
 * The field's name and column before `RenameField`s earlier in this migration renamed it to
 * `name` (followed back through several), when the renames changed its column; null otherwise.
 */
function renamedEarlier(ctx: OperationContext, model: ModelState, name: string, column: string | null): { field: string; column: string } | null {
  const top = ctx.parent ?? ctx.op;
  let current = name;
  for (const op of renamesOf(ctx.migration)) {
    if (op.index >= top.index) continue;
    if (literalString(op.args.model_name)?.toLowerCase() !== model.key || literalString(op.args.new_name) !== current) continue;
    current = literalString(op.args.old_name) ?? current;
  }
  if (current === name || column === null) return null;
  const renamedColumn = column === name ? current : column === `${name}_id` ? `${current}_id` : null;
  return renamedColumn ? { field: current, column: renamedColumn } : null;
}

/**
 * A `RenameField` later in the migration that moves another field onto `name`, and its column
 * onto the column this removal frees (Tabbycat tournaments 0011: `starts_at` removed, then
 * `starts_at_` renamed to `starts_at`): with the column kept, that rename would fail ("column
 * already exists"), so the recipe pins the other field to its own column instead.
 */
function renamedOnto(ctx: OperationContext, model: ModelState, name: string, column: string | null): { field: string; column: string; call: PyValue | null } | null {
  const top = ctx.parent ?? ctx.op;
  for (const op of renamesOf(ctx.migration)) {
    if (op.index <= top.index || literalString(op.args.model_name)?.toLowerCase() !== model.key || literalString(op.args.new_name) !== name) continue;
    const other = literalString(op.args.old_name);
    const field = other ? model.fields.get(other) : undefined;
    if (!other || !field || field.relation?.kind === "m2m" || field.dbColumn) return null;
    const otherColumn = ctx.columnOf(field);
    const lands = field.relation ? `${name}_id` : name;
    return otherColumn && lands === column ? { field: other, column: otherColumn, call: field.call } : null;
  }
  return null;
}


/**
 * The primary key removed (Alliance Auth mumble 0007: `id` removed, `user` made the primary key):
 * a state-only removal keeps the database's primary key, and the next one cannot be added while
 * it stands ("multiple primary keys for table ... are not allowed", PostgreSQL 15). The old
 * release selects and writes the old key and the new one the new key: no order of steps serves
 * both, so the finding offers no rolling recipe.
 */
function primaryKeyDropped(ctx: OperationContext, model: ModelState, name: string, table: string, column: string): void {
  ctx.report({
    range: ctx.op.range,
    message: `Removing primary key \`${model.name}.${name}\` drops column \`${column}\` from \`${table}\` while the old release still uses it.`,
    help: [
      oldReleaseSelects(ctx, model, table, column),
      `\`${name}\` is the primary key: removing it from the state only would keep the database's primary key on \`${column}\`, and Django could not add another one while it stands (PostgreSQL: "multiple primary keys for table ... are not allowed"). The old release identifies \`${model.name}\` rows by \`${column}\`, the new one by the new key: no order of rolling steps serves both.`,
      `1. Keep \`${name}\` as the primary key, and make the other field unique (\`unique=True\`, built concurrently: see \`adding-unique-constraint\`), so the new release can look rows up by it.`,
      "2. If the key itself must change, do it in a maintenance window: stop the old release, run the migration, start the new one.",
    ],
  });
}

/**
 * Why dropping a column the old release selects breaks it, when a later operation of the migration
 * puts another field's column under the same name (c3nav mesh 0007: a varchar `message_type_new`
 * renamed over the smallint `message_type`): the old release finds a column, but not its own.
 */
function replacedColumn(ctx: OperationContext, model: ModelState, table: string, column: string, before: FieldState, by: { field: FieldState; how: string }): string {
  const db = ctx.target.database;
  const was = columnTypeOf(before, ctx.state, db);
  const now = columnTypeOf(by.field, ctx.state, db);
  const types = was && now && formatColumnType(was) !== formatColumnType(now) ? ` (\`${formatColumnType(now)}\` where it was \`${formatColumnType(was)}\`)` : "";
  return `The old release keeps finding a \`${column}\` column in \`${table}\`, but from this migration on it is another one: ${by.how}${types}. Until the new release is fully live, the old release's \`${model.name}.${before.name}\` reads that column's values (NULL in the rows it never filled), and its filters and writes of the old values${types ? " may fail on the type or be stored converted" : " go to the other field"}; the old values are gone, so rolling back cannot bring them back.`;
}

/** Why dropping a column (or join table) the old release selects breaks it. */
function oldReleaseSelects(ctx: OperationContext, model: ModelState, table: string, column: string): string {
  return `Django selects every field of \`${model.name}\` by name, so until the new release is fully live every query of the old release on \`${table}\` fails (\`${missingColumnError(column, ctx.target.database)}\`), and rolling back fails the same way.`;
}

/** The steps after the state-only removal: wait for the rollout, then drop what is left. */
function contractSteps(ctx: OperationContext, drop: string, how = ""): string[] {
  return ["Deploy this release and wait until no instance of the old release runs.", `In a later release, drop it${how} in a migration marked ${postDeployMarker(ctx.target.markerStyle)}:\n${drop}`];
}

/**
 * How the contract step drops a column on SQLite, whose `ALTER TABLE ... DROP COLUMN` refuses a
 * unique, indexed or foreign-key column (checked on SQLite 3.40): by Django's schema editor, which
 * rebuilds the table for those (`schemaEditorDropField`, checked with Django 4.2).
 */
const SQLITE_REBUILD_DROPS =
  "On SQLite, Django rebuilds a table from the model state for most `AlterField`s (and some `AddField`s): one on this table after the state-only removal, and before the column is dropped, drops the column with its data while the old release still uses it (checked with Django 4.2). Put such operations before the removal.";
const SQLITE_DROP =
  " with Django's schema editor, which rebuilds the table where SQLite's `ALTER TABLE` cannot drop the column (a unique, indexed or foreign-key one; a rebuild also drops every other column of the table the state no longer has, whose own drops must then be left out),";

/**
 * The expand step for taking `_order` away: the column stays with a database default, so the new
 * release (which no longer sets it) can INSERT, while `AlterOrderWithRespectTo` changes only the
 * state. `_order` is Django's own field, out of reach of `AlterField`, so the default is SQL.
 */
export function keepOrderColumn(ctx: OperationContext, table: string, column: string): string {
  if (ctx.target.database === "sqlite") {
    return `SQLite's ALTER TABLE cannot give an existing column a default; only rebuilding the table can. Rebuild \`${table}\` with \`${column}\` DEFAULT 0 (SQLite's table rebuild procedure, in a \`RunSQL\` in the \`database_operations\` of a \`SeparateDatabaseAndState\` whose \`state_operations\` hold the \`AlterOrderWithRespectTo\`), or take it away in a maintenance window.`;
  }
  const alter = `ALTER TABLE ${sqlIdent(table, ctx.target.database)} ALTER COLUMN ${sqlIdent(column, ctx.target.database)}`;
  const setDefault = runSqlLines(`${alter} SET DEFAULT 0;`, `${alter} DROP DEFAULT;`);
  return `Keep the column, give it a database default, and let \`AlterOrderWithRespectTo\` change only the model state:\n${code(separateDatabaseAndState([`${operationSource(ctx, ctx.op)},`], [setDefault]))}`;
}

/**
 * `AlterOrderWithRespectTo` turning the option off drops the `_order` column as a `RemoveField`
 * of it would (`database_forwards` calls `remove_field`).
 */
function orderColumnDropped(ctx: OperationContext): void {
  const change = orderColumnChange(ctx);
  if (!change || change.added) return;
  const { model, field } = change;
  const table = ctx.tableOf(model);
  const column = ctx.columnOf(field) ?? field.name;
  const steps = [
    `Column \`${column}\` is NOT NULL without a database default, so the new release (which no longer sets it) could not INSERT into \`${table}\`. ${keepOrderColumn(ctx, table, column)}`,
    ...contractSteps(ctx, dropColumnSql(table, column, ctx.target.database)),
  ];
  ctx.report({
    range: ctx.op.range,
    message: `Setting \`order_with_respect_to\` of \`${model.name}\` to None drops column \`${column}\` from \`${table}\` while the old release still uses it.`,
    help: [
      `\`AlterOrderWithRespectTo\` takes away the \`${column}\` field Django kept \`${model.name}\`'s order in. ${oldReleaseSelects(ctx, model, table, column)}`,
      ...steps.map((s, i) => `${i + 1}. ${s}`),
    ],
    related: field.origin ? [ctx.relatedAt(field.origin, `\`${model.name}\` was ordered with respect to a field here`)] : undefined,
  });
}

/** RS101: `RemoveField` drops a column that the running release still selects. */
export const droppingColumn: Rule = {
  meta: {
    code: "RS101",
    name: "dropping-column",
    severity: "error",
    databases: ["postgresql", "mysql", "sqlite"],
    claims: ["old-code-breaks"],
    hazards: ["H01"],
    docs: {
      summary: "Dropping a column that the running release still reads and writes",
      what: "Flags `RemoveField` (also inside `SeparateDatabaseAndState.database_operations`) on an existing, managed table, in a migration that runs before the new release is live, and `AlterOrderWithRespectTo` that sets `order_with_respect_to` to None there: Django then drops the model's `_order` column. A `RemoveField` whose column goes with its table, dropped by a `DeleteModel` of the model later in the same migration (what `makemigrations` writes for a deleted model's relations), is left to `dropping-table`, whose state-only deletion takes it in; the removal of a many-to-many field (its join table is not the model's) is still reported, unless it has a `through` model (then nothing is dropped). A column the same migration added is not flagged: the old release never used it. The removal of a primary key gets no state-only recipe: the database would keep the old key, and the new one could not be added beside it (Alliance Auth mumble 0007, django-q 0003).",
      why: "Django names every model field in its SELECT and INSERT statements. While the old release still serves traffic, each of its queries on the model fails with `column ... does not exist`, and a rollback to the old release fails the same way.",
      recipe: [
        "Remove the field from the model and ship a state-only removal (`SeparateDatabaseAndState(state_operations=[RemoveField(...)], database_operations=[])`). If the column is NOT NULL without a database default, make it nullable (or give it a `db_default`) first, so the new release's INSERTs work.",
        "Deploy, and wait until no old release runs.",
        "In a later release, drop the column with `RunSQL('ALTER TABLE ... DROP COLUMN IF EXISTS ...')` in a migration marked post-deploy (MySQL and SQLite have no `IF EXISTS` there; on SQLite, which cannot drop a unique, indexed or foreign-key column with `ALTER TABLE`, let Django's schema editor drop it: the finding shows how).",
        "`AlterOrderWithRespectTo(..., order_with_respect_to=None)`: `_order` is Django's own field, out of reach of `AlterField`. Put the operation in the `state_operations` of a `SeparateDatabaseAndState` whose `database_operations` give the column a default (`RunSQL('ALTER TABLE ... ALTER COLUMN \"_order\" SET DEFAULT 0')`), then drop `_order` in a later post-deploy migration.",
      ],
      severityReason: "Error: the old release fails on every query of the model during the rollout.",
      bad: `migrations.RemoveField(model_name="book", name="subtitle")`,
      good: `migrations.SeparateDatabaseAndState(
    state_operations=[migrations.RemoveField(model_name="book", name="subtitle")],
    database_operations=[],
)`,
    },
  },
  operationKinds: ["RemoveField", "AlterOrderWithRespectTo"],
  operation(ctx) {
    const { op } = ctx;
    if (ctx.effect === "state" || op.unknown || ctx.stage === "post") return;
    if (op.kind === "AlterOrderWithRespectTo") {
      orderColumnDropped(ctx);
      return;
    }
    if (op.kind !== "RemoveField") return;
    const model = ctx.model(literalString(op.args.model_name));
    const name = literalString(op.args.name);
    if (!model || !name || !ctx.hasTable(model) || ctx.isNewTable(model)) return;
    const field = model.fields.get(name);
    // A column the same migration's DeleteModel drops with its table: dropping-table reports
    // both, and its state-only deletion takes this removal in.
    if (!field || removedWithTable(ctx, model, field)) return;
    // A column this migration added: the old release never used it.
    if (field.addedIn === ctx.migration.id) return;
    // A many-to-many field with an explicit `through` model has neither a column nor a join
    // table of its own: removing it changes nothing in the database (sqlmigrate: no-op, pretix 0268).
    if ((field.relation?.kind === "m2m" && field.relation.through) || isColumnless(field)) return;
    const table = ctx.tableOf(model);
    const m2mTable = ctx.state.m2mTableOf(model, field);
    const column = ctx.columnOf(field);
    if (field.primaryKey && !m2mTable) {
      primaryKeyDropped(ctx, model, name, table, column ?? name);
      return;
    }
    const steps: string[] = [];
    // An auto-increment column (an identity, or serial) is filled by the database like a db_default.
    const notNullNoDefault = field.null === false && !field.hasDbDefault && !isAutoIncrement(field) && field.relation?.kind !== "m2m";
    // A foreign key constraint left behind would reject the new release's deletes of referenced
    // rows (it no longer knows the field, so nothing cascades); `db_constraint=False` drops it
    // without a scan. Altering a constrained foreign key otherwise re-adds the constraint, validated.
    const keepsConstraint = (field.relation?.kind === "fk" || field.relation?.kind === "o2o") && field.relation.dbConstraint;
    let expandField: string | null = null;
    if (notNullNoDefault || keepsConstraint) {
      // A default with a database twin (a constant, `timezone.now` as `Now()`); a Python callable
      // (`list`, `uuid.uuid4`) has none: `db_default=list` fails when Django compiles it (Label Studio data_export 0002).
      const dbDefault = djangoHas(ctx.target, 5, 0) && field.hasDefault ? dbDefaultFor(field.default) : null;
      const fill: Record<string, string> = !notNullNoDefault ? {} : dbDefault !== null ? { db_default: dbDefault } : { null: "True" };
      const expand = fieldWith(field.call, { ...(keepsConstraint ? { db_constraint: "False" } : {}), ...fill });
      expandField = expand;
      const to = field.relation?.to ?? null;
      const target = `\`${(to && ctx.state.modelByKey(to)?.name) ?? to ?? "the referenced model"}\``;
      const constraintWhy = `its foreign key constraint stays with the column and would make the new release's deletes of still-referenced ${target} rows fail`;
      const why = notNullNoDefault
        ? `Column \`${column}\` is NOT NULL without a database default, so the new release (which no longer sets it) could not INSERT into \`${table}\`${keepsConstraint ? `, and ${constraintWhy}` : ""}.`
        : `The ${constraintWhy.replace(/^its /, "")}.`;
      const filling = "db_default" in fill ? "give it a database default" : `make it nullable${ctx.target.database === "postgresql" ? " (instant on PostgreSQL)" : ""}`;
      const first = [...(notNullNoDefault ? [filling] : []), ...(keepsConstraint ? ["drop the constraint (`db_constraint=False`: no scan)"] : [])].join(" and ");
      steps.push(`${why} First ${first}:\n${alterFieldSnippet(model.key, name, expand)}`);
    }
    // A field renamed earlier in this migration: the old release knows it, and its column, by the old name.
    const renamed = m2mTable ? null : renamedEarlier(ctx, model, name, column);
    steps.push(
      renamed
        ? `Leave out the \`RenameField\` to \`${name}\` as well: remove \`${renamed.field}\` from the \`${model.name}\` model and replace both operations with a state-only removal, so the column stays as \`${renamed.column}\`, the name the old release uses:\n${stateOnlyRemoveField(model.key, renamed.field)}${ctx.target.database === "sqlite" ? `\n${SQLITE_REBUILD_DROPS}` : ""}`
        : `Remove \`${name}\` from the \`${model.name}\` model and replace this operation with a state-only removal, so the ${m2mTable ? `join table \`${m2mTable}\`` : `column`} stays:\n${stateOnlyRemoveField(model.key, name)}${!m2mTable && ctx.target.database === "sqlite" ? `\n${SQLITE_REBUILD_DROPS}` : ""}`,
    );
    const onto = m2mTable || renamed ? null : renamedOnto(ctx, model, name, column);
    const readded = m2mTable || renamed || onto ? null : addedLaterOnColumn(ctx, model, column);
    if (readded) {
      steps.push(
        `The \`AddField\` of \`${readded.name}\` later in this migration puts a new \`${column}\` column in place of this one (a type change by drop and re-add). With the old column kept, that AddField would fail ("column \`${column}\` already exists"): give the new field a column of its own (and fill it from \`${column}\` if the values carry over):\n${addFieldSnippet(model.key, readded.name, fieldWith(readded.call, { db_column: py(`${column}_new`) }))}`,
      );
    }
    if (onto) {
      steps.push(
        `The \`RenameField\` of \`${onto.field}\` to \`${name}\` later in this migration would then fail (\`${column}\` still exists): keep \`${onto.column}\` where it is and rename only the attribute, pinning the column so the rename emits no SQL:\n${code(pinnedRenameSource(model.key, onto.field, onto.call, onto.column, name))}`,
      );
    }
    if (m2mTable) steps.push(...contractSteps(ctx, dropTablesSql([m2mTable], ctx.target.database)));
    else if (ctx.target.database === "sqlite") steps.push(...contractSteps(ctx, schemaEditorDropField(model.key, name, expandField ?? fieldWith(field.call, {})), SQLITE_DROP));
    else steps.push(...contractSteps(ctx, dropColumnSql(table, renamed?.column ?? column ?? name, ctx.target.database)));
    // Another field's column put under the dropped one's name later in this migration.
    const ontoField = onto ? model.fields.get(onto.field) : undefined;
    const replacement: { field: FieldState; how: string } | null =
      ontoField && onto
        ? { field: ontoField, how: `\`${onto.column}\` (\`${model.name}.${onto.field}\`), renamed to \`${column}\` later in this migration` }
        : readded
          ? { field: fieldFromCall(readded.name, readded.call, model.app, model.key, null), how: `the column of \`${model.name}.${readded.name}\`, added under the same name later in this migration` }
          : null;
    const what = m2mTable
      ? `drops the join table \`${m2mTable}\``
      : `drops column \`${column}\` from \`${table}\`${renamed ? ` (the old release's \`${renamed.column}\`, renamed earlier in this migration)` : ""}`;
    ctx.report({
      range: op.range,
      message: `Removing field \`${model.name}.${name}\` ${what} while the old release still uses it.`,
      help: [
        m2mTable
          ? `A many-to-many field has no column in \`${table}\`: the old release reads and writes \`${model.name}.${name}\` through the join table \`${m2mTable}\`, so until the new release is fully live each of its uses of \`${name}\` (the related manager, \`prefetch_related\`, filters across it, admin forms) fails (\`${missingTableError(m2mTable, ctx.target.database)}\`), and rolling back fails the same way.`
          : replacement && column
            ? replacedColumn(ctx, model, table, column, field, replacement)
            : oldReleaseSelects(ctx, model, table, renamed?.column ?? column ?? name),
        ...steps.map((s, i) => `${i + 1}. ${s}`),
      ],
      related: field.origin ? [ctx.relatedAt(field.origin, `\`${model.name}.${name}\` was last defined here`)] : undefined,
      // The fix edits this operation only; the RenameField before it would still rename the column.
      fix: renamed || onto || readded ? undefined : stateOnlyRemovalFix(ctx, model, name, field, { table, column, m2mTable }, expandField),
    });
  },
};
