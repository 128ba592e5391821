import { defaultSetLater, LATER_TRANSACTION } from "../src/engine/default-set-later.js";
import { fieldOperation, orderColumnChange, topPosition } from "../src/engine/resolved-operation.js";
import { migrationScratch } from "../src/engine/migration-scratch.js";
import type { OperationContext, Rule } from "../src/engine/rule-types.js";
import { autoTimestamp, declaredClass, literalBool, literalString, ORDER_COLUMN_TYPE, type FieldState } from "../src/state/model-state.js";
import { columnTypeOf } from "./changing-column-type.js";
import type { PyValue } from "../src/model/types.js";
import { EMPTY_STRING_TYPES } from "./reversing-migration-fails.js";
import {
  addFieldSnippet,
  alterFieldSnippet,
  code,
  dbDefaultFor,
  djangoHas,
  fieldWith,
  notNullViolation,
  pyValue,
  runSqlLines,
  separateDatabaseAndState,
  setDefaultStep,
  containerDefault,
  sqlConstant,
  sqlIdent,
} from "../src/advice/snippets.js";
import { dbDefaultFix, operationSource } from "../src/fix/rule-fixes.js";

/** Field classes whose MySQL column type is TEXT, BLOB or JSON (Django's `_limited_data_types`). */
const KEPT_DEFAULT_ON_MYSQL = new Set(["TextField", "BinaryField", "JSONField"]);

/** Why a NOT NULL column that Django fills with a default and then drops it breaks the old release. */
function defaultDropped(ctx: OperationContext, table: string, column: string, value: string, note = ""): string {
  return `Django adds \`${column}\` with DEFAULT ${value} to fill the existing rows, then drops the database default${note}. The old release does not know \`${column}\`, so its INSERTs into \`${table}\` fail with ${notNullViolation(ctx.target.database, table, column)} until it is replaced.`;
}

/**
 * `AlterOrderWithRespectTo` turning the option on adds the `_order` column as an `AddField` of a
 * NOT NULL IntegerField would: `database_forwards` gives the field `default=0` for the existing
 * rows, and the schema editor drops that default again. The field is Django's own, so it cannot
 * take a `db_default`: the safe form adds the same column by SQL, keeping the default.
 */
function orderColumnAdded(ctx: OperationContext): void {
  const change = orderColumnChange(ctx);
  if (!change?.added) return;
  const { model, field } = change;
  const table = ctx.tableOf(model);
  const column = ctx.columnOf(field) ?? field.name;
  const wrt = literalString(ctx.op.args.order_with_respect_to) ?? pyValue(ctx.op.args.order_with_respect_to);
  const database = ctx.target.database;
  const add = `ALTER TABLE ${sqlIdent(table, database)} ADD COLUMN ${sqlIdent(column, database)} ${ORDER_COLUMN_TYPE} DEFAULT 0 NOT NULL;`;
  const drop = `ALTER TABLE ${sqlIdent(table, database)} DROP COLUMN ${sqlIdent(column, database)};`;
  ctx.report({
    range: ctx.op.range,
    message: `Ordering \`${model.name}\` with respect to \`${wrt}\` adds NOT NULL column \`${column}\` without a database default, which breaks the old release's INSERTs into \`${table}\`.`,
    help: [
      `\`AlterOrderWithRespectTo\` gives \`${model.name}\` the \`${column}\` field Django keeps the order in. ${defaultDropped(ctx, table, column, "0")}`,
      `1. Add the column yourself with a database default that stays (the column Django adds, without its \`DROP DEFAULT\`), and let \`AlterOrderWithRespectTo\` change only the model state; the database then fills \`${column}\` for the old release:\n${code(separateDatabaseAndState([`${operationSource(ctx, ctx.op)},`], [runSqlLines(add, drop)]))}`,
      `2. Rows the old release inserts during the rollout get \`${column}\` 0, as the existing rows do (Django numbers only the rows the new release inserts). If their order matters, renumber them after the rollout with \`set_${model.key}_order()\` on their \`${wrt}\`.`,
    ],
  });
}

/**
 * Per migration: each field (`model.field`) a top-level `AlterField` makes unique or a primary key,
 * to the last position one does; read once (asked at each AddField, a scan of the rest made
 * thousands quadratic).
 */
const madeUnique = migrationScratch((ctx: OperationContext): Map<string, number> => {
  const last = new Map<string, number>();
  for (const [at, o] of ctx.migration.operations.entries()) {
    if (o.kind !== "AlterField") continue;
    const field = o.args.field;
    if (field?.kind === "call" && (literalBool(field.kwargs.unique) === true || literalBool(field.kwargs.primary_key) === true)) {
      last.set(`${literalString(o.args.model_name)?.toLowerCase()}.${literalString(o.args.name)}`, at);
    }
  }
  return last;
});

/** Whether a later `AlterField` of the migration makes the field unique (or its primary key). */
function uniqueLater(ctx: OperationContext, modelKey: string, name: string): boolean {
  return (madeUnique(ctx).get(`${modelKey}.${name}`) ?? -1) > topPosition(ctx);
}

/** RS105: `AddField` of a NOT NULL column without `db_default` on an existing table. */
export const addingNotNullableColumn: Rule = {
  meta: {
    code: "RS105",
    name: "adding-not-nullable-column",
    severity: "error",
    databases: ["postgresql", "mysql", "sqlite"],
    claims: ["old-code-breaks"],
    hazards: ["H07", "H36"],
    docs: {
      summary: "Adding a NOT NULL column without a database default",
      what: "Flags `AddField` of a field with `null=False` and no `db_default` on an existing managed table (many-to-many and generated fields have no such column; on PostgreSQL, not a field with a default whose column a later operation of the same atomic migration gives a database default: `RunSQL` with `ALTER COLUMN ... SET DEFAULT`, or django-add-default-value's `AddDefaultValue`), and `AlterOrderWithRespectTo` that turns `order_with_respect_to` on for such a table: Django then adds the model's `_order` column, NOT NULL, the same way. On MySQL a `TextField`, `BinaryField` or `JSONField` added with a default is not flagged: Django 4.2 on MySQL 8.0.13+ leaves its `DEFAULT (...)` in place (`skip_default_on_alter`; MariaDB, where Django drops it, is not told apart).",
      why: "Django fills existing rows with the Python `default` and then drops the database default again, so the column ends up NOT NULL with no default. The old release does not know the column, so each of its INSERTs fails with a NOT NULL violation until it is replaced. Without any default the migration itself fails on a table with rows.",
      recipe: [
        "Django 5.0+: give the field a database default with `db_default=...` (keep `default=` beside it, as models.py has it: new instances then hold the value); the database then fills the column for the old release's INSERTs. Not for a unique column (or one a later operation of the migration makes unique): a constant default would repeat in the old release's second INSERT; add it nullable, backfill, and make it NOT NULL after the deploy.",
        "Before Django 5.0, on PostgreSQL: keep the `AddField` and give the column the same default in the database right after it, in the same atomic migration (`RunSQL('ALTER TABLE ... ALTER COLUMN ... SET DEFAULT ...')`, catalog-only): both commit together.",
        "Before Django 5.0, elsewhere (or for a default that is not a constant): add the field with `null=True`, deploy, backfill in batches, then make it NOT NULL in a post-deploy migration (see setting-column-not-null).",
        "`AlterOrderWithRespectTo`: `_order` is Django's own field and takes no `db_default`. Put the operation in the `state_operations` of a `SeparateDatabaseAndState` whose `database_operations` add the column with a default that stays: `RunSQL('ALTER TABLE ... ADD COLUMN \"_order\" integer DEFAULT 0 NOT NULL')`.",
      ],
      severityReason: "Error: every INSERT of the old release into the table fails during the rollout.",
      bad: `migrations.AddField(
    model_name="book",
    name="isbn",
    field=models.CharField(default="", max_length=13),
)`,
      good: `migrations.AddField(
    model_name="book",
    name="isbn",
    field=models.CharField(db_default="", max_length=13),
)`,
    },
  },
  operationKinds: ["AddField", "AlterOrderWithRespectTo"],
  operation(ctx) {
    const { op } = ctx;
    if (ctx.effect === "state" || op.unknown || ctx.stage === "post") return;
    if (op.kind === "AlterOrderWithRespectTo") {
      orderColumnAdded(ctx);
      return;
    }
    if (op.kind !== "AddField") return;
    const added = fieldOperation(ctx);
    if (!added) return;
    const { model, name, after: field, call } = added;
    if (field.null !== false || field.hasDbDefault || field.relation?.kind === "m2m" || field.generated) return;
    // Auto-increment columns fill themselves (they have their own rule for the rewrite).
    if (/AutoField$/.test(field.type)) return;
    const table = ctx.tableOf(model);
    const column = ctx.columnOf(field) ?? name;
    // Existing rows filled by the default, and a database default set before the transaction commits.
    // What Django fills the existing rows with when the field has no default (its
    // `_effective_default`): "" for `blank=True` on a string field, the migration's time for
    // `auto_now`/`auto_now_add` (sqlmigrate on Django 4.2: ADD COLUMN ... DEFAULT '' NOT NULL, then
    // DROP DEFAULT). Weblate accounts 0016, authentik oauth2 0029.
    // `default=None` fills nothing: `effective_default` is None, so Django writes no DEFAULT at all
    // (pulpcore 0049's FileField(default=None): ADD COLUMN ... NOT NULL, "contains null values").
    const hasDefault = field.hasDefault && field.default?.kind !== "none";
    const implicit = field.hasDefault ? null : implicitDefault(field);
    const filled = hasDefault ? field.default : implicit;
    // MySQL 8.0.13+ (Django 4.2's MySQL backend, not MariaDB's): a TEXT, BLOB or JSON column keeps
    // the default it was added with, written as an expression (`DEFAULT ('')`), because MySQL has
    // no ALTER COLUMN ... DROP DEFAULT form Django uses for them (`skip_default_on_alter`): the old
    // release's INSERTs get it (addons-server abuse 0058).
    if (ctx.target.database === "mysql" && filled && KEPT_DEFAULT_ON_MYSQL.has(field.type)) return;
    const setLater = filled ? defaultSetLater(ctx, model, name, table, column) : null;
    if (setLater === "same-transaction") return;
    const oneOff = literalBool(op.args.preserve_default) === false;
    const defaultText = filled ? pyValue(filled) : null;
    const help: string[] = [];
    if (hasDefault) {
      // The SQL literal when the default is one (`''`, not Python's `""`), else the Python value Django evaluates.
      const value = containerDefault(field.default ?? null, field.type) ?? sqlConstant(field.default) ?? (field.default?.kind === "name" ? `\`${pyValue(field.default)}()\`'s value (called once)` : `\`${pyValue(field.default)}\``);
      help.push(defaultDropped(ctx, table, column, value, oneOff ? " (and `preserve_default=False` makes the default one-off)" : ""));
    } else if (implicit) {
      // contrib.postgres's SearchVectorField takes '' too (an empty tsvector): not a string field, but `empty_strings_allowed`.
      const why = implicit.kind === "str" ? (field.type === "SearchVectorField" ? "`blank=True` on a field that allows empty strings" : "`blank=True` on a string field") : "`auto_now`/`auto_now_add`";
      help.push(defaultDropped(ctx, table, column, implicit.kind === "str" ? "''" : "the migration's time", ` (Django's own value for ${why}, with no \`default\`)`));
    } else {
      const none = field.hasDefault ? "With `default=None` (Django writes no DEFAULT for None)" : "With no default";
      // A class rollsafe cannot place (its module is not in the tree: akvo's ValidXMLTextField) may be a string field.
      const unknownBlank = !field.hasDefault && literalBool(field.kwargs.blank) === true && columnTypeOf(field, ctx.state, ctx.target.database) === null;
      help.push(
        ctx.target.database === "postgresql"
          ? `${none}, PostgreSQL cannot fill the existing rows: the migration fails on a table that has rows ("column "${column}" contains null values"), and the old release's INSERTs could not fill it either${unknownBlank ? ` (unless \`${declaredClass(field)}\`, a class rollsafe does not know, is a string field: Django then fills the existing rows with '' for \`blank=True\`, and only the old release's INSERTs fail)` : ""}.`
          : ctx.target.database === "mysql"
            ? `${none}, MySQL fills the existing rows with the type's implicit value ('' or 0), which is rarely right, and the old release's INSERTs fail with ${notNullViolation("mysql", table, column)}.`
            : `${none}, Django's SQLite backend remakes \`${table}\` and cannot copy the existing rows into the NOT NULL column: the migration fails on a table that has rows.`,
      );
    }
    if (setLater === "later-transaction") help.push(LATER_TRANSACTION);
    // A unique column takes no constant database default: the old release's second INSERT would
    // repeat the first one's value (La Suite people 0010 makes `Team.path` unique right after).
    const unique = field.unique || uniqueLater(ctx, model.key, name);
    if (unique) help.push(`\`${name}\` is unique${field.unique ? "" : " after a later operation of this migration"}, so no constant database default can fill it for the old release: its second INSERT would repeat the first one's value.`);
    const dbDefault = unique ? null : dbDefaultFor(filled);
    const setDefault = !unique && ctx.target.database === "postgresql" && ctx.migration.atomic && filled ? setDefaultStep(table, column, filled, field.type) : null;
    if (!unique && djangoHas(ctx.target, 5, 0) && (dbDefault !== null || !filled)) {
      const value = dbDefault ?? "<value>";
      // The Python default stays beside it, as in models.py (new instances hold the value, not a
      // DatabaseDefault placeholder); a one-off default (`preserve_default=False`) was never there.
      help.push(
        `1. Give the column a database default, so the database fills it for the old release:\n${addFieldSnippet(model.key, name, fieldWith(call, { db_default: value }, oneOff ? ["default"] : []))}${dbDefault === null ? "\n   Replace `<value>` with the value existing and old-release rows should get." : ""}`,
      );
    } else if (setDefault) {
      help.push(`1. ${setDefault}`);
      if (dbDefault !== null && !djangoHas(ctx.target, 5, 0)) help.push(`(From Django 5.0, \`db_default=${dbDefault}\` on the field does this in one step.)`);
    } else {
      const nullable = fieldWith(call, { null: "True" }, ["default"]);
      help.push(
        `1. Add the column as nullable in this release:\n${addFieldSnippet(model.key, name, nullable)}`,
        `2. Deploy, then backfill existing rows in batches in a separate data migration (\`atomic = False\`, ${defaultText !== null ? (filled?.kind === "name" ? `value \`${defaultText}()\`` : `value \`${defaultText}\``) : "your value"}).`,
        `3. After the new release is live and always sets \`${name}\`, make it NOT NULL in a post-deploy migration${djangoHas(ctx.target, 4, 0) && ctx.target.database === "postgresql" ? " (on PostgreSQL via a validated CHECK constraint first, to avoid a long lock)" : ""}:\n${alterFieldSnippet(model.key, name, fieldWith(call, {}, oneOff ? ["null", "default"] : ["null"]))}`,
      );
      // db_default holds a constant or a database expression, not a Python callable (djangoproject.com checklists).
      if (unique) {
        // Said above.
      } else if (!djangoHas(ctx.target, 5, 0)) {
        if (dbDefault !== null || !filled) help.push(`(Django ${ctx.target.django.join(".")} has no \`db_default\`; from Django 5.0, \`db_default=${dbDefault ?? "..."}\` does this in one step.)`);
      } else if (filled?.kind !== "list" && filled?.kind !== "tuple" && filled?.kind !== "dict") help.push(`(\`${defaultText}\` is evaluated in Python, so it has no database twin for \`db_default\`.)`);
    }
    ctx.report({
      range: op.range,
      message: `Adding NOT NULL field \`${model.name}.${name}\` without a database default breaks the old release's INSERTs into \`${table}\`.`,
      help,
      fix: djangoHas(ctx.target, 5, 0) && dbDefault !== null ? dbDefaultFix(ctx, call, dbDefault) : undefined,
    });
  },
};

/** Django's value for the existing rows of a field with no `default`: "" or now (see `fillsExistingRows`), else null. */
function implicitDefault(field: FieldState): PyValue | null {
  const range = field.call?.range ?? { line: 1, column: 1, endLine: 1, endColumn: 1, startOffset: 0, endOffset: 0 };
  if (autoTimestamp(field)) {
    return { kind: "name", name: "timezone.now", qualified: "django.utils.timezone.now", range };
  }
  if (literalBool(field.kwargs.blank) === true && EMPTY_STRING_TYPES.has(field.type) && field.type !== "BinaryField") return { kind: "str", value: "", range };
  return null;
}
