import type { OperationContext, Rule } from "../src/engine/rule-types.js";
import { autoTimestamp, fieldClassText, literalBool, literalString, type FieldState, type ModelState } from "../src/state/model-state.js";
import { addFieldSnippet, alterFieldSnippet, fieldWith, uniqueViolation } from "../src/advice/snippets.js";
import { droppedLater } from "../src/engine/dropped-later.js";
import { migrationScratch } from "../src/engine/migration-scratch.js";

/**
 * Field classes whose `blank=True` makes Django's `_effective_default` use `""` (`b""` for
 * BinaryField), so a NOT NULL column re-added by a reversal is filled instead of failing.
 * Classes not listed (numbers, dates, relations, custom fields) get no empty-string default.
 */
export const EMPTY_STRING_TYPES = new Set([
  "CharField",
  "TextField",
  "SlugField",
  "EmailField",
  "URLField",
  "FilePathField",
  "FileField",
  "ImageField",
  "BinaryField",
  "CommaSeparatedIntegerField",
  // django.contrib.postgres: `empty_strings_allowed` stays True (Funkwhale music 0044's
  // `SearchVectorField(blank=True)` fills the rows with '', an empty tsvector).
  "SearchVectorField",
  "CICharField",
  "CIEmailField",
  "CITextField",
]);

/** Field classes MySQL stores as numbers (booleans and durations too): its implicit value for them is 0. */
const NUMBER_TYPES = [
  "IntegerField",
  "BigIntegerField",
  "SmallIntegerField",
  "PositiveIntegerField",
  "PositiveBigIntegerField",
  "PositiveSmallIntegerField",
  "DecimalField",
  "FloatField",
  "BooleanField",
  "DurationField",
];

/** Field classes Django knows (so `blank`, `auto_now` and the column type are what Django does). */
const KNOWN_TYPES = new Set([
  ...EMPTY_STRING_TYPES,
  ...NUMBER_TYPES,
  "DateField",
  "DateTimeField",
  "TimeField",
  "UUIDField",
  "JSONField",
  "GenericIPAddressField",
  "ForeignKey",
  "OneToOneField",
]);

/**
 * Field classes whose column MySQL fills with its type's implicit value ('' or 0) when a NOT NULL
 * column without a default is added to a table with rows, in strict mode too (checked on MariaDB
 * 10.11 with MySQL 8's default sql_mode; MySQL documents the implicit defaults): a reversal
 * re-adds such a column without failing. Dates are not here: their implicit value is a zero date,
 * which the default sql_mode (strict, with NO_ZERO_DATE) rejects. JSON is not here either (not
 * checked on MySQL 8, whose JSON type MariaDB does not have).
 */
const MYSQL_IMPLICIT_FILL = new Set([...EMPTY_STRING_TYPES, ...NUMBER_TYPES, "TimeField", "UUIDField", "GenericIPAddressField"]);

/**
 * How the reversal's `ADD COLUMN ... NOT NULL` without a value fails on a table with rows, per
 * database, as the rest of a sentence; null when it does not (MySQL fills the type's implicit value).
 */
function reAddFailure(ctx: OperationContext, field: FieldState, table: string, column: string): string | null {
  switch (ctx.target.database) {
    case "sqlite":
      return `; Django rebuilds the table and copies NULL into the NOT NULL column, so it fails with "NOT NULL constraint failed: new__${table}.${column}"`;
    case "mysql": {
      if (field.relation) {
        if (!field.relation.dbConstraint) return null;
        const to = field.relation.to ? ctx.state.modelByKey(field.relation.to)?.name ?? field.relation.to : "the referenced model";
        return `; MySQL fills the existing rows with 0, which no \`${to}\` row has, so adding the foreign key fails with "Cannot add or update a child row: a foreign key constraint fails"`;
      }
      if (field.type === "DateField" || field.type === "DateTimeField") {
        return `; MySQL fills the existing rows with a zero date, which its default sql_mode (strict, with NO_ZERO_DATE) rejects: "Incorrect ${field.type === "DateField" ? "date value: '0000-00-00'" : "datetime value: '0000-00-00 00:00:00'"}"`;
      }
      if (MYSQL_IMPLICIT_FILL.has(field.type)) return null;
      return `; MySQL fills the existing rows with the implicit value of the column's type if ${fieldClassText(field)}'s has one (not checked), else it fails`;
    }
    default:
      return `, so it fails with "column "${column}" of relation "${table}" contains null values"`;
  }
}

/**
 * Whether Django's schema editor has a value for every existing row when it adds this field as a
 * column (`BaseDatabaseSchemaEditor._effective_default`): a Python default, a database default,
 * `blank=True` on a NOT NULL string field, or `auto_now`/`auto_now_add`. Null when it cannot be known.
 */
export function fillsExistingRows(field: FieldState): boolean | null {
  if (field.hasDbDefault) return true;
  if (field.hasDefault) return field.default?.kind !== "none";
  if (autoTimestamp(field)) return true;
  const blank = field.kwargs.blank ? literalBool(field.kwargs.blank) : false;
  if (blank === null) return null;
  // `_effective_default`: '' only for a NOT NULL string field (`not field.null and field.blank`).
  if (blank && field.null !== true && EMPTY_STRING_TYPES.has(field.type)) return true;
  return KNOWN_TYPES.has(field.type) || field.relation ? false : null;
}

/** A value of the field's type the previous release accepts, as a Python default and as an update value. */
export function placeholderFor(field: FieldState): { default: string; value: string } | null {
  if (field.relation) return null;
  if (EMPTY_STRING_TYPES.has(field.type)) return field.type === "BinaryField" ? { default: 'b""', value: 'b""' } : { default: '""', value: '""' };
  if (/IntegerField$/.test(field.type) || field.type === "FloatField" || field.type === "DecimalField") return { default: "0", value: "0" };
  if (field.type === "BooleanField") return { default: "False", value: "False" };
  if (field.type === "JSONField") return { default: "dict", value: "{}" };
  if (field.type === "DateTimeField") return { default: "django.utils.timezone.now", value: "django.utils.timezone.now()" };
  return null;
}

/** The migration `migrate` goes back to when this one is reversed (`zero` for the app's first). */
export function previousMigration(ctx: OperationContext): string {
  const dep = ctx.migration.dependencies.find((d) => d.app === ctx.migration.app && !d.name.startsWith("__"));
  return dep ? dep.name : "zero";
}

/**
 * Whether Django refuses to unapply the migration before reversing anything: `Migration.unapply`
 * first checks every top-level operation's `reversible` and raises `IrreversibleError` for a
 * `RunPython` without `reverse_code` or a `RunSQL` without `reverse_sql` (or `None`), so none of
 * its reversals run (runpython-without-reverse-code and runsql-without-reverse-sql report that).
 * Operations under a condition rollsafe cannot evaluate, or for another database, do not count.
 * Worked out once per migration: the reversal rules ask at each of its operations.
 */
export const unapplyRefused = migrationScratch((ctx: OperationContext): boolean =>
  ctx.migration.operations.some((o) => {
    if (o.unknown || o.condition !== undefined || (o.vendors && !o.vendors.includes(ctx.target.database))) return false;
    const reverse = o.kind === "RunPython" ? o.args.reverse_code : o.kind === "RunSQL" ? o.args.reverse_sql : null;
    return reverse !== null && (reverse === undefined || reverse.kind === "none");
  }),
);

/** What a reversal does wrong, for a finding. */
export interface Problem {
  /** What the reversal runs and how it fails, for the message (after "Reversing this ..."). */
  message: string;
  /** Why: the statement, the error, and which data written since causes it. */
  why: string;
  steps: string[];
}

/** The step every finding ends with: a rollback that does not run this reversal. */
export function forwardFixStep(ctx: OperationContext, detail: string, first = false): string {
  return `${first ? "Plan" : "Or plan"} the rollback without reversing this migration, and write it into the release's rollback notes: redeploy the previous release and leave \`${ctx.migration.app}.${ctx.migration.name}\` applied${detail}.`;
}

/** `RemoveField`: Django's reversal re-adds the column as the field was defined before. */
function removedField(ctx: OperationContext, model: ModelState, name: string, field: FieldState): Problem | null {
  if (field.relation?.kind === "m2m" || field.generated || field.primaryKey || /AutoField$/.test(field.type)) return null;
  const table = ctx.tableOf(model);
  const column = ctx.columnOf(field) ?? name;
  const prev = previousMigration(ctx);
  const fills = fillsExistingRows(field);
  if (field.null === false && fills === false) {
    const failure = reAddFailure(ctx, field, table, column);
    // MySQL fills a unique column's existing rows with one implicit value: a duplicate from the second row.
    if (failure === null) return field.unique ? uniqueReAdded(ctx, model, name, field) : null;
    const placeholder = placeholderFor(field);
    const steps: string[] = [];
    if (placeholder) {
      steps.push(
        `Give the field a Python default just before removing it, in this migration. Django keeps Python defaults out of the database (no SQL), but its reversal fills the re-added column with it (\`ADD COLUMN ... DEFAULT ... NOT NULL\`, then \`DROP DEFAULT\`):\n${alterFieldSnippet(model.key, name, fieldWith(field.call, { default: placeholder.default }))}`,
      );
    } else {
      steps.push(
        `Make \`${name}\` nullable in a migration that is applied before this one and is not rolled back with it (the expand step of a column removal); the reversal then re-adds a nullable column:\n${alterFieldSnippet(model.key, name, fieldWith(field.call, { null: "True" }))}`,
      );
    }
    steps.push(
      forwardFixStep(
        ctx,
        `, and give the old release its column back with a new migration instead:\n${addFieldSnippet(model.key, name, fieldWith(field.call, { null: "True" }))}`,
      ),
    );
    return {
      message: `re-adds \`${table}.${column}\` NOT NULL without a default, which fails once \`${table}\` has rows`,
      why: `\`migrate ${ctx.migration.app} ${prev}\` re-adds the column as \`${model.name}.${name}\` was defined before: \`ALTER TABLE ${table} ADD COLUMN ${column} ... NOT NULL\` with no value for existing rows${failure} and the rollback stops there. The values the column held are gone either way; the reversal can only fill it with a placeholder.`,
      steps,
    };
  }
  // A unique column re-added with one default value for every row violates its own constraint.
  if (field.unique && fills === true && !field.hasDbDefault) return uniqueReAdded(ctx, model, name, field);
  return null;
}

/** A unique column the reversal re-adds with one value in every row (on MySQL without a default, the type's implicit value). */
function uniqueReAdded(ctx: OperationContext, model: ModelState, name: string, field: FieldState): Problem {
  const value = ctx.target.database === "mysql" && !field.hasDefault ? "the type's implicit value" : "its default";
  const table = ctx.tableOf(model);
  const column = ctx.columnOf(field) ?? name;
  return {
    message: `re-adds unique column \`${table}.${column}\` with one default value for every row, which fails once \`${table}\` has two rows`,
    why: `\`migrate ${ctx.migration.app} ${previousMigration(ctx)}\` re-adds the column with ${value} filled into every existing row and a UNIQUE constraint, so it fails with ${uniqueViolation(ctx.target.database)} as soon as two rows exist.`,
    steps: [
      `Make the restored field non-unique just before removing it, in this migration, so the reversal only adds a plain column (a later migration can make it unique again after filling distinct values):\n${alterFieldSnippet(model.key, name, fieldWith(field.call, { unique: "False" }))}`,
      forwardFixStep(ctx, ""),
    ],
  };
}

/** RS118: a `RemoveField` whose reversal (`migrate <app> <previous>`) fails on any populated table. */
export const reversingMigrationFails: Rule = {
  meta: {
    code: "RS118",
    name: "reversing-migration-fails",
    severity: "warning",
    databases: ["postgresql", "mysql", "sqlite"],
    claims: [],
    hazards: ["H45"],
    docs: {
      summary: "Removing a field whose reversal cannot re-add the column to a table with rows",
      what: "Looks at the backward direction Django runs on `migrate <app> <previous>` (`RemoveField.database_backwards` re-adds the column with the field as it was defined before). Flags a `RemoveField` on an existing managed table (also inside `SeparateDatabaseAndState.database_operations`) when Django has no value for the existing rows: the field is NOT NULL and has no `default`, no `db_default`, no `blank=True` on a string field and no `auto_now`/`auto_now_add`; or it is unique and its one default would go into every row. On MySQL, which fills a NOT NULL column added without a default with its type's implicit value ('' or 0) in strict mode too, only the reversals that still fail are flagged: a date or datetime (a zero date, which MySQL's default sql_mode rejects), a unique column (one implicit value in every row), a foreign key with its constraint (0 matches no row), and types whose implicit value was not checked (`JSONField`, custom fields). State-only removals change no schema when reversed, a table created in the same migration is dropped by the same reversal, and a table that a later `DeleteModel` of the same migration drops in the database (followed through `RenameModel` and `AlterModelTable`, also in `SeparateDatabaseAndState.database_operations`; the shape `makemigrations` writes for deleting a model) is re-created empty by the reversal before the column is re-added. An operation class of the project with a `database_backwards` of its own is not checked (it reverses its own way), nor is a migration with a top-level `RunPython` without `reverse_code` or `RunSQL` without `reverse_sql` is not checked: Django raises `IrreversibleError` before reversing any of it (`runpython-without-reverse-code`, `runsql-without-reverse-sql`). This rule reports the reversals a rollback needs, because the previous release cannot run without the column. Reversals that fail only on some data written since (a widened column, a dropped NOT NULL or constraint) are left to the opt-in `reversing-migration-drops-data`, since the previous release runs without unapplying them.",
      why: "A rollback that unapplies the migration runs `ALTER TABLE ... ADD COLUMN ... NOT NULL` with no default. PostgreSQL fails with \"column ... contains null values\" as soon as the table has a row (SQLite: \"NOT NULL constraint failed\" while remaking the table; MySQL for dates, foreign keys and unique columns, see above), so the rollback stops in the middle of an incident and the previous release, which selects the column, cannot run.",
      recipe: [
        "Before the `RemoveField`, in the same migration, give the field a Python `default` with `AlterField`: Django keeps Python defaults out of the database (no SQL), but its reversal of the removal fills the re-added column with it.",
        "For a field without a sensible placeholder (a foreign key), make it nullable in an earlier migration (the expand step `dropping-column` recommends), so the reversal re-adds a nullable column.",
        "Or plan the rollback forward-only: keep the migration applied and give the previous release its column back with a new `AddField(null=True)` migration.",
      ],
      severityReason: "Warning: the forward migration runs; only a rollback by `migrate` fails, and then always (any row suffices). The same operation usually also gets an error from `dropping-column` or `removing-not-null-column-from-state` about the running release; this finding is kept separate because its cause and fix differ (a Python `default` fixes the reversal, not the running release), and following their nullable-first recipe resolves both. Not a verification-harness claim (it checks the forward direction): checked by hand on PostgreSQL 15 + Django 4.2 with `sqlmigrate --backwards` and `migrate library <previous>` after inserting rows (CharField and ForeignKey fail; a Python `default`, `blank=True` string, `auto_now_add` or `null=True` succeed), and on SQLite; on MySQL's side with Django 4.2 on MariaDB 10.11 under MySQL 8's default sql_mode (strings, numbers, booleans, UUIDs, times and a foreign key without constraint re-added with implicit values; dates, a unique column and a constrained foreign key fail).",
      bad: `# rollsafe: ignore[dropping-column] no running release reads Book.title any more
migrations.RemoveField(model_name="book", name="title")`,
      good: `migrations.AlterField(model_name="book", name="title", field=models.CharField(max_length=200, default="")),
# rollsafe: ignore[dropping-column] no running release reads Book.title any more
migrations.RemoveField(model_name="book", name="title")`,
    },
  },
  operationKinds: ["RemoveField"],
  operation(ctx) {
    const { op } = ctx;
    // An operation class with a `database_backwards` of its own reverses its own way (kolibri auth 0019).
    if (op.kind !== "RemoveField" || ctx.effect === "state" || op.unknown || op.thirdParty?.ownBackwards) return;
    const model = ctx.model(literalString(op.args.model_name));
    const name = literalString(op.args.name);
    if (!model || !name || !ctx.hasTable(model) || ctx.isNewTable(model)) return;
    const field = model.fields.get(name);
    if (!field) return;
    const problem = removedField(ctx, model, name, field);
    // A table a later DeleteModel drops is re-created empty by the reversal before this one runs.
    if (!problem || droppedLater(ctx, model) || unapplyRefused(ctx)) return;
    ctx.report({
      range: op.range,
      message: `Reversing this \`RemoveField\` ${problem.message}.`,
      help: [problem.why, ...problem.steps.map((s, i) => `${i + 1}. ${s}`)],
      related: field.origin ? [ctx.relatedAt(field.origin, `\`${model.name}.${name}\` was defined here`)] : undefined,
    });
  },
};
