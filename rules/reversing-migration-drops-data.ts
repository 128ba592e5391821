import { droppedLater } from "../src/engine/dropped-later.js";
import { fieldDroppedLater } from "../src/engine/field-drops.js";
import { laterInMigration } from "../src/engine/resolved-operation.js";
import type { Database, OperationContext, Rule } from "../src/engine/rule-types.js";
import type { Operation, PyValue } from "../src/model/types.js";
import {
  defaultTableName,
  fieldFromCall,
  hasUnknownOptions,
  isColumnless,
  literalString,
  primaryKeyOf,
  stringList,
  togetherAdded,
  togetherList,
  truncateName,
  type FieldState,
  type ModelState,
} from "../src/state/model-state.js";
import { isRunPythonNoop } from "../src/engine/run-python-facts.js";
import { code, djangoHas, py, sqlIdent, uniqueViolation } from "../src/advice/snippets.js";
import { classifyTypeChange, columnTypeOf, formatColumnType, integerDigits, type ColumnType } from "./changing-column-type.js";
import { uniqueIndexOnly } from "./adding-unique-constraint.js";
import { fillsExistingRows, forwardFixStep, placeholderFor, previousMigration, unapplyRefused, type Problem } from "./reversing-migration-fails.js";

/** Field classes `get_internal_type()` reports as another class (Django compares those for USING casts). */
const INTERNAL_TYPE: Record<string, string> = { EmailField: "CharField", URLField: "CharField" };

function collectStrings(value: PyValue | undefined, out: string[]): string[] {
  if (!value) return out;
  if (value.kind === "str") out.push(value.value);
  else if (value.kind === "list" || value.kind === "tuple") for (const item of value.items) collectStrings(item, out);
  return out;
}

/**
 * Whether a later top-level operation of the migration prepares the data for this reversal.
 * Django unapplies a migration's operations last to first, so a `RunPython` with a
 * `reverse_code` (or a `RunSQL` whose `reverse_sql` names the table) placed after this operation
 * runs before its reversal: that is the documented way to make a reversal succeed.
 */
function reversePreparedLater(ctx: OperationContext, table: string): boolean {
  return laterInMigration(ctx).some((o) => {
    if (o.kind === "RunPython") return o.args.reverse_code !== undefined && o.args.reverse_code.kind !== "none" && !isRunPythonNoop(o.args.reverse_code);
    if (o.kind === "RunSQL") return collectStrings(o.args.reverse_sql, []).some((sql) => sql.toLowerCase().includes(table.toLowerCase()));
    return false;
  });
}

/** `def <name>(apps, schema_editor): ...` plus the reverse-only `RunPython` that runs it. */
function reverseOnlyRunPython(fn: string, body: string[]): string {
  return code(
    [
      `def ${fn}(apps, schema_editor):`,
      ...body.map((line) => `    ${line}`),
      "",
      "",
      "# in operations, right after the operation above (Django reverses operations last to first):",
      `migrations.RunPython(migrations.RunPython.noop, reverse_code=${fn}),`,
    ].join("\n"),
  );
}

/** `Model = apps.get_model("app", "Model")`. */
function getModel(model: ModelState): string {
  return `${model.name} = apps.get_model(${py(model.app)}, ${py(model.name)})`;
}



/** The statement Django's schema editor runs to give a column back its previous type, per engine (SQLite rebuilds the table). */
function alterType(db: Database, table: string, column: string, type: string): string {
  return db === "mysql" ? `ALTER TABLE ${table} MODIFY ${column} ${type}` : `ALTER TABLE ${table} ALTER COLUMN ${column} TYPE ${type}`;
}

/**
 * What the reversal does to a column that has NULLs and must be NOT NULL again, per engine
 * (checked with Django 4.2 on PostgreSQL 15, SQLite 3.40 and MariaDB 10.11 under MySQL 8's
 * default sql_mode: verify/mysql_facts.py).
 */
function notNullAgain(db: Database, table: string, column: string, field: string): string {
  const noFill = `the restored \`${field}\` has no default, so Django does not fill NULLs first`;
  switch (db) {
    case "mysql":
      return `runs \`ALTER TABLE ${table} MODIFY ${column} ... NOT NULL\`; ${noFill}. Once any release has saved a row without it, MySQL's strict mode (its default sql_mode) rejects the change (MariaDB: "Data truncated for column '${column}' at row 1") and the rollback stops; without strict mode, MySQL writes the type's implicit value ('' or 0) over every NULL without an error.`;
    case "sqlite":
      return `rebuilds \`${table}\` with the column NOT NULL and copies every row into it; ${noFill}, and the copy fails with "NOT NULL constraint failed: new__${table}.${column}" once any release has saved a row without it.`;
    default:
      return `runs \`ALTER TABLE ${table} ALTER COLUMN ${column} SET NOT NULL\`; ${noFill}, and the rollback fails with "column "${column}" of relation "${table}" contains null values" once any release has saved a row without it.`;
  }
}

/** `AlterField`: the reversal alters the column back to the previous definition. */
function alteredField(ctx: OperationContext, model: ModelState, name: string, before: FieldState, after: FieldState): Problem | null {
  if (before.generated || after.generated || before.primaryKey || after.primaryKey) return null;
  if (before.relation?.kind === "m2m" || after.relation?.kind === "m2m") return null;
  const table = ctx.tableOf(model);
  const column = ctx.columnOf(before) ?? name;
  const prev = previousMigration(ctx);
  const fn = (verb: string) => `${verb}_${name}_for_rollback`;
  const db = ctx.target.database;

  // NOT NULL dropped: the reversal sets it again. Django first fills NULLs with the restored
  // field's default when it has one (its four-step NOT NULL change), so only no default fails.
  // A `db_default` on the restored field is left out: Django 4.2 cannot show what 5.x does.
  if (before.null === false && after.null === true && !before.hasDbDefault && fillsExistingRows(before) === false) {
    const placeholder = placeholderFor(before);
    return {
      message: `sets \`${table}.${column}\` NOT NULL again, which fails once a NULL has been written`,
      why: `\`migrate ${ctx.migration.app} ${prev}\` ${notNullAgain(db, table, column, `${model.name}.${name}`)}`,
      steps: [
        `Let the reversal fill the NULLs first with a reverse-only data step${placeholder ? "" : " (choose the value the previous release should see)"}:\n${reverseOnlyRunPython(fn("fill"), [
          getModel(model),
          `${model.name}.objects.filter(${name}__isnull=True).update(${name}=${placeholder?.value ?? "..."})`,
        ])}`,
        forwardFixStep(ctx, `: the previous release works with the nullable column, but it must cope with the NULLs the new release wrote`),
      ],
    };
  }

  // unique dropped: the reversal adds the unique constraint back, over duplicates written since.
  if (before.unique && !after.unique) {
    return {
      message: `adds the unique constraint on \`${table}.${column}\` back, which fails once duplicates have been written`,
      why: `\`migrate ${ctx.migration.app} ${prev}\` ${db === "sqlite" ? `rebuilds \`${table}\` with the column unique and copies every row into it` : `runs \`ALTER TABLE ${table} ADD CONSTRAINT ... UNIQUE (${column})\``}; once the new release has saved two rows with the same \`${name}\` it fails with ${db === "sqlite" ? `"UNIQUE constraint failed: new__${table}.${column}"` : uniqueViolation(db)} and the rollback stops there.`,
      steps: [
        `Resolve duplicates in the reversal itself with a reverse-only data step (decide what to keep: merge, delete or rename):\n${reverseOnlyRunPython(fn("dedupe"), [
          getModel(model),
          `duplicates = ${model.name}.objects.values(${py(name)}).annotate(n=models.Count("pk")).filter(n__gt=1)`,
          `for row in duplicates:`,
          `    ...  # keep one ${model.name} per ${name}`,
        ])}`,
        forwardFixStep(ctx, `: the previous release works without the constraint, but no longer gets an IntegrityError for a duplicate \`${name}\``),
      ],
    };
  }

  // FK constraint dropped (`db_constraint=False`): the reversal adds it back, validated.
  if (before.relation && after.relation && before.relation.dbConstraint && !after.relation.dbConstraint && db !== "sqlite") {
    return {
      message: `adds the foreign key constraint on \`${table}.${column}\` back, which fails once a row points at a missing \`${(before.relation.to && ctx.state.modelByKey(before.relation.to)?.name) ?? before.relation.to ?? "target"}\``,
      why: `\`migrate ${ctx.migration.app} ${prev}\` runs \`ALTER TABLE ${table} ADD CONSTRAINT ... FOREIGN KEY (${column}) ...\`, which checks every row: once a row references a deleted or never-existing target it fails with ${db === "mysql" ? '"Cannot add or update a child row: a foreign key constraint fails"' : '"violates foreign key constraint"'}.`,
      steps: [
        `Clear dangling references in the reversal with a reverse-only data step (\`${name}\` is ${before.null ? "nullable, so set it to NULL" : "NOT NULL, so delete or repoint those rows"}):\n${reverseOnlyRunPython(fn("clear_dangling"), [
          getModel(model),
          `dangling = ${model.name}.objects.exclude(${name}__in=${model.name}._meta.get_field(${py(name)}).related_model.objects.all())`,
          before.null ? `dangling.update(${name}=None)` : `dangling.delete()  # or repoint them`,
        ])}`,
        forwardFixStep(ctx, ""),
      ],
    };
  }

  // A wider column: the reversal narrows it over values written since.
  if (db === "sqlite") return null;
  const restored = columnTypeOf(before, ctx.state, db);
  const current = columnTypeOf(after, ctx.state, db);
  if (!restored || !current) return null;
  if (classifyTypeChange(current, restored, db) !== "narrowing") {
    // Another kind of column: Django casts back explicitly on PostgreSQL (`USING col::type`),
    // which loses or refuses what the new type holds (wger weight 0004, gym 0002 and 0004).
    const lossy = db === "postgresql" ? lossyCastBack(current, restored) : null;
    if (!lossy) return null;
    const from = formatColumnType(current);
    const to = formatColumnType(restored);
    return {
      message: `changes \`${table}.${column}\` from \`${from}\` back to \`${to}\`, which ${lossy}`,
      why: `\`migrate ${ctx.migration.app} ${prev}\` restores \`${model.name}.${name}\` as it was before: Django runs \`${alterType(db, table, column, to)} USING ${column}::${to}\`, whose explicit cast ${lossy}.`,
      steps: [forwardFixStep(ctx, `, if the previous release works with a \`${from}\` column (check its reads and writes of \`${column}\`)`, true)],
    };
  }
  const from = formatColumnType(current);
  const to = formatColumnType(restored);
  const steps: string[] = [];
  let outcome: string;
  let how: string;
  if (restored.base === "varchar") {
    const internal = (f: FieldState) => INTERNAL_TYPE[f.type] ?? f.type;
    // PostgreSQL: Django adds `USING col::varchar(n)` when the field class changes (text to
    // varchar, or any class change on 4.2+ where CharField's type is computed); that explicit
    // cast cuts longer values silently. Without it the assignment cast fails instead.
    const cast = db === "postgresql" && (current.base === "text" || (internal(before) !== internal(after) && djangoHas(ctx.target, 4, 2)));
    outcome = cast ? "silently cuts longer values written since" : "fails on longer values written since";
    how = db === "postgresql"
      ? cast
        ? `Django runs \`ALTER TABLE ${table} ALTER COLUMN ${column} TYPE ${to} USING ${column}::${to}\`, and PostgreSQL's explicit cast truncates every longer value to ${restored.length} characters without an error.`
        : `Django runs \`ALTER TABLE ${table} ALTER COLUMN ${column} TYPE ${to}\`, which fails with "value too long for type character varying(${restored.length})" on the first longer value.`
      : `MySQL fails with "Data too long for column" in strict mode (Django's recommended setting) and truncates the values without it.`;
    // Cutting unique values can make two equal (the reversal then fails on the constraint:
    // python.org users 0011, PostgreSQL 15) and changes identifiers; a cut address or URL is
    // invalid. Only the forward fix is offered for those.
    const unique = before.unique || before.primaryKey || after.unique || after.primaryKey;
    const structured = ["EmailField", "URLField"].includes(after.type);
    if (unique || structured) {
      how += unique
        ? ` Shortening the longer values first is no way out: \`${column}\` is unique, so values that share their first ${restored.length} characters would collide, and the values (logins, slugs, codes) would change under their users.`
        : ` Shortening the longer values first is no way out: a cut ${after.type === "EmailField" ? "address" : "URL"} is no longer valid.`;
    } else steps.push(
      `Shorten longer values in the reversal yourself, so the outcome is chosen rather than an error${cast ? " or a silent cut" : ""}:\n${reverseOnlyRunPython(fn("shorten"), [
        "from django.db.models.functions import Length, Left",
        "",
        getModel(model),
        `${model.name}.objects.annotate(n=Length(${py(name)})).filter(n__gt=${restored.length}).update(${name}=Left(${py(name)}, ${restored.length}))`,
      ])}`,
    );
  } else if (restored.base === "numeric" && current.base === "numeric") {
    const digitsLost = integerDigits(restored) < integerDigits(current);
    outcome = digitsLost ? "fails on larger values written since" : "silently rounds values written since";
    how = digitsLost
      ? `Django runs \`${alterType(db, table, column, to)}\`, which fails with ${db === "postgresql" ? '"numeric field overflow"' : '"Out of range value" (strict mode)'} on the first value with more integer digits than \`${to}\` holds.`
      : `Django runs \`${alterType(db, table, column, to)}\`, which rounds every value to ${restored.scale} decimal places without an error.`;
  } else {
    outcome = "fails on larger values written since";
    how = `Django runs \`${alterType(db, table, column, to)}${db === "postgresql" ? ` USING ${column}::${to}` : ""}\`, which fails with ${db === "postgresql" ? `"${restored.base} out of range"` : '"Out of range value" (strict mode)'} on the first value \`${to}\` cannot hold.`;
  }
  steps.push(forwardFixStep(ctx, `: the previous release reads the wider \`${from}\` column and only writes values that fit \`${to}\``, steps.length === 0));
  return {
    message: `narrows \`${table}.${column}\` from \`${from}\` back to \`${to}\`, which ${outcome}`,
    why: `\`migrate ${ctx.migration.app} ${prev}\` restores \`${model.name}.${name}\` as it was before. ${how}`,
    steps,
  };
}

/**
 * What PostgreSQL's explicit cast does to values written since when a reversal changes a column
 * back to another kind (Django adds `USING col::type` when the data types differ), or null when
 * the cast keeps them: a date of a timestamp drops its time, a number from text fails on anything
 * else, an integer from a decimal or float rounds.
 */
function lossyCastBack(current: ColumnType, restored: ColumnType): string | null {
  const integer = ["smallint", "integer", "bigint"].includes(restored.base);
  if (restored.base === "date" && current.base === "timestamp with time zone") return "drops the time of day of every value written since";
  if (integer && (current.base === "numeric" || current.base === "double precision" || current.base === "real")) return "rounds every value written since to a whole number (and fails on one out of range)";
  const textual = current.base === "varchar" || current.base === "text";
  if (textual && (integer || ["numeric", "double precision", "uuid", "boolean", "date", "timestamp with time zone", "jsonb", "inet"].includes(restored.base))) return `fails on the first value written since that is no valid \`${formatColumnType(restored)}\``;
  return null;
}

/** The error a CHECK constraint added over a violating row gets, per engine (MySQL's checked on MariaDB 10.11, whose text MySQL 8 does not share). */
const CHECK_VIOLATION: Record<Database, string> = {
  postgresql: '"check constraint ... is violated by some row"',
  mysql: "an error (MariaDB: \"CONSTRAINT `...` failed\")",
  sqlite: '"CHECK constraint failed"',
};

/** `RemoveConstraint`/`AlterUniqueTogether`: the reversal adds the constraint back, validated. */
function removedConstraint(ctx: OperationContext, model: ModelState, label: string, kind: "unique" | "check" | "exclusion", indexOnly = false): Problem {
  const table = ctx.tableOf(model);
  const prev = previousMigration(ctx);
  const violation = kind === "unique" ? "duplicates" : kind === "check" ? "rows that violate it" : "conflicting rows";
  const db = ctx.target.database;
  const error = kind === "unique" ? uniqueViolation(db) : kind === "check" ? CHECK_VIOLATION[db] : '"could not create exclusion constraint"';
  const how =
    db === "sqlite"
      ? `adds the constraint back (SQLite has no ADD CONSTRAINT: Django rebuilds \`${table}\` and copies every row into it, or creates a unique index), which checks every row`
      : indexOnly
        ? `adds the constraint back as a unique index with \`CREATE UNIQUE INDEX ... ON ${table}\`, which checks every row`
        : `adds the constraint back with \`ALTER TABLE ${table} ADD CONSTRAINT ...\`, which checks every row`;
  return {
    message: `adds ${label} on \`${table}\` back, which fails once ${violation} have been written`,
    why: `\`migrate ${ctx.migration.app} ${prev}\` ${how}: once the new release has saved ${violation}, it fails with ${error} and the rollback stops there.`,
    steps: [
      `Fix the offending rows in the reversal with a reverse-only data step placed after this operation (decide what to keep):\n${reverseOnlyRunPython(`fix_${model.key}_for_rollback`, [
        getModel(model),
        `...  # update or delete the ${model.name} rows that ${label} rejects`,
      ])}`,
      forwardFixStep(ctx, `: the previous release works without the constraint`),
    ],
  };
}

/** The steps every finding shares: a forward-only rollback, and a copy of the data if it must be unapplied. */
function steps(ctx: OperationContext, keep: string, copySql: string): string[] {
  const { app, name } = ctx.migration;
  return [
    `Keep the rollback plan forward-only: if the release has to be rolled back, redeploy the previous release and leave \`${app}.${name}\` applied (the previous release ignores ${keep}); fix problems with a new migration rather than \`migrate ${app} ${previousMigration(ctx)}\`.`,
    `If it must be unapplied, copy the data out first, so it can be restored when the release is deployed again:\n\`\`\`sql\n${copySql}\n\`\`\``,
    `Write the plan into the release's rollback notes (the migration to stop at, and which data a reversal would lose), then silence this finding on the operation with \`# rollsafe: ignore[reversing-migration-drops-data] <where the plan is>\`.`,
  ];
}

/** RS119 (opt-in): an operation whose reversal deletes, cuts or rejects data written since the deploy. */
export const reversingMigrationDropsData: Rule = {
  meta: {
    code: "RS119",
    name: "reversing-migration-drops-data",
    severity: "warning",
    databases: ["postgresql", "mysql", "sqlite"],
    optIn: true,
    claims: [],
    hazards: ["H45"],
    docs: {
      summary: "An operation whose reversal deletes, cuts or rejects data written since the deploy",
      what: "Looks at the backward direction Django runs on `migrate <app> <previous>`, for operations whose reversal the previous release does not need (it runs against the new schema). Flags, on existing managed tables and on the database side only: `AddField` (the reversal drops the column, or the join table of a `ManyToManyField`) and `CreateModel` of a managed, non-proxy model (drops the table and its join tables); `AlterField` whose reversal narrows the column (longer `max_length`, `CharField` to `TextField`, more `max_digits`/`decimal_places`, a bigger integer type; not on SQLite), or, on PostgreSQL, casts it back to another kind that loses or refuses values written since (`USING col::type`: a timestamp to a date drops the time, text to a number or a uuid fails on other values, a decimal or float to an integer rounds), sets NOT NULL again on a field without a default, or adds back `unique=True` or a foreign key constraint (`db_constraint=False`); `RemoveConstraint` of a unique, check or exclusion constraint and `AlterUniqueTogether` that drops a set (the reversal adds them back, validated). An `AlterField`/constraint finding is not reported when a later operation of the migration prepares the reversal: a `RunPython` with a `reverse_code`, or a `RunSQL` whose `reverse_sql` names the table (Django unapplies operations last to first, so it runs first). A field added to a model created in the same migration is covered by the `CreateModel` finding, a field a later `RemoveField` of the migration drops again holds nothing the new release wrote, and an app's first migration is not checked (reversing it is `migrate <app> zero`, which removes the app rather than rolling back a release). An operation on a table that a `DeleteModel` later in the same migration drops is not reported: the reversal re-creates the table empty before reversing it. Nor is an operation class of the project with a `database_backwards` of its own, or a migration with a top-level `RunPython` without `reverse_code` or `RunSQL` without `reverse_sql`: Django raises `IrreversibleError` before reversing any of it. `RemoveField` reversals that cannot work at all are `reversing-migration-fails` (on by default).",
      why: "A rollback that unapplies the migration runs each reversal against the data the new release wrote. Reversing `AddField`/`CreateModel` runs `DROP COLUMN`/`DROP TABLE ... CASCADE` and deletes that data without an error. Reversing `CharField` to `TextField` casts with `USING col::varchar(n)`, which cuts longer values, and fewer `decimal_places` rounds them, silently. The other reversals abort the rollback on the first row the old schema rejects (\"value too long\", \"numeric field overflow\", \"integer out of range\", \"contains null values\", \"could not create unique index\", \"violates foreign key constraint\").",
      recipe: [
        "Roll back forward-only: redeploy the previous release and leave the migration applied (it works with the extra column or table, the wider or nullable column, the missing constraint), and fix problems with a new migration.",
        "If the migration must be unapplied, prepare the data in the reversal: a reverse-only `migrations.RunPython(migrations.RunPython.noop, reverse_code=...)` right after the operation fills NULLs, shortens values or resolves duplicates; copy dropped columns or tables out first.",
        "Document the rollback plan (the migration to stop at) and suppress the finding with a reason that points at it.",
      ],
      severityReason: "Warning, opt-in: every expand step (a new column or table, a wider or nullable column) has it, and a team that rolls back forward-only never runs these reversals. Not a verification-harness claim (it checks the forward direction): checked by hand on PostgreSQL 15 + Django 4.2 with `sqlmigrate --backwards` and `migrate library <previous>` after writing rows (DROP COLUMN / DROP TABLE CASCADE; text to varchar(200) truncates to 200 characters; numeric(7, 4) to numeric(5, 2) rounds; varchar(300) to varchar(200), numeric(7, 2) to numeric(5, 2) and bigint to integer fail; SET NOT NULL fails on NULLs unless the restored field has a default, which Django writes into them first; unique, check and foreign key constraints fail on violating rows; a reverse-only RunPython placed after the operation runs first). The same reversals checked on SQLite 3.40 (Django rebuilds the table: NOT NULL, UNIQUE and CHECK constraint failed) and on MariaDB 10.11 under MySQL 8's default sql_mode (`verify/mysql_facts.py`: MODIFY ... NOT NULL, Duplicate entry, the foreign key error).",
      bad: `migrations.AddField(
    model_name="book",
    name="isbn",
    field=models.CharField(max_length=13, null=True),
)`,
      good: `# whole file
from django.db import migrations, models


def fill_title_for_rollback(apps, schema_editor):
    Book = apps.get_model("library", "Book")
    Book.objects.filter(title__isnull=True).update(title="")


class Migration(migrations.Migration):
    dependencies = [("library", "0001_initial")]

    operations = [
        migrations.AlterField(model_name="book", name="title", field=models.CharField(max_length=200, null=True)),
        # Django unapplies operations last to first: this fills the NULLs before SET NOT NULL.
        migrations.RunPython(migrations.RunPython.noop, reverse_code=fill_title_for_rollback),
    ]
`,
    },
  },
  operationKinds: ["AlterField", "RemoveConstraint", "AlterUniqueTogether", "AddField", "CreateModel"],
  operation(ctx) {
    const { op } = ctx;
    // An operation class with a `database_backwards` of its own reverses its own way (kolibri auth 0019).
    if (ctx.effect === "state" || op.unknown || op.thirdParty?.ownBackwards) return;
    // Reversing an app's first migration is `migrate <app> zero`: removing the app, not rolling
    // back a release. A migration Django refuses to unapply reverses nothing.
    if (previousMigration(ctx) === "zero" || unapplyRefused(ctx)) return;
    // A table a later DeleteModel of the migration drops is re-created empty by the reversal
    // before this operation's reversal runs (Django unapplies last to first).
    const onModel = op.kind === "CreateModel" ? undefined : ctx.model(literalString(modelArg(op)));
    if (onModel && droppedLater(ctx, onModel)) return;
    if (op.kind === "AlterField" || op.kind === "RemoveConstraint" || op.kind === "AlterUniqueTogether") {
      reportRejectedData(ctx);
      return;
    }
    if (op.kind === "AddField") {
      const model = ctx.model(literalString(op.args.model_name));
      const name = literalString(op.args.name);
      // On a table created in this migration the CreateModel finding already covers the column.
      if (!model || !name || !op.args.field || !ctx.hasTable(model) || ctx.isNewTable(model)) return;
      // Dropped again later in the migration: after it, the column holds nothing the new release wrote.
      if (fieldDroppedLater(ctx, model.key, name)) return;
      const field = fieldFromCall(name, op.args.field, model.app, model.key, null);
      const table = ctx.tableOf(model);
      const m2m = field.relation?.kind === "m2m" ? ctx.state.m2mTableOf(model, field) : null;
      if (m2m) {
        reportTable(ctx, `\`${model.name}.${name}\`'s join table \`${m2m}\``, [m2m], `the join table \`${m2m}\``);
        return;
      }
      // A many-to-many field through a model of its own (taggit's TaggableManager): its reversal
      // drops no column and no table; the through model's rows stay.
      if (field.relation?.kind === "m2m" || isColumnless(field)) return;
      const column = ctx.columnOf(field) ?? name;
      const backup = truncateName(`${table}_${column}_backup`);
      const pk = primaryKeyOf(model);
      // A CompositePrimaryKey (Django 5.2) has no column: the key is the columns it names (djangoproject.com tracdb 0003).
      const composite = pk && isColumnless(pk) && pk.call?.kind === "call" ? pk.call.args.flatMap((a) => (a.kind === "str" ? [a.value] : [])) : [];
      const keyColumns = composite.length > 0 ? composite.map((f) => { const part = model.fields.get(f); return (part && ctx.columnOf(part)) ?? f; }) : [(pk && ctx.columnOf(pk)) ?? "id"];
      const database = ctx.target.database;
      ctx.report({
        range: op.range,
        message: `Reversing this \`AddField\` drops column \`${table}.${column}\` with every value written to it since the deploy.`,
        help: [
          `\`migrate ${ctx.migration.app} ${previousMigration(ctx)}\` runs \`ALTER TABLE ${sqlIdent(table, database)} DROP COLUMN ${sqlIdent(column, database)}${database === "postgresql" ? " CASCADE" : ""}\`: whatever the new release stored in \`${model.name}.${name}\` is deleted without an error.`,
          ...steps(ctx, `column \`${column}\``, `CREATE TABLE ${sqlIdent(backup, database)} AS SELECT ${[...keyColumns, column].map((c) => sqlIdent(c, database)).join(", ")} FROM ${sqlIdent(table, database)};`).map((s, i) => `${i + 1}. ${s}`),
        ],
      });
      return;
    }
    if (op.kind === "CreateModel") {
      const model = ctx.model(literalString(op.args.name));
      // Before the operation the model is not in state yet: read what it creates from the arguments.
      if (model || !op.args.name) return;
      const created = createdModel(ctx);
      if (!created) return;
      reportTable(ctx, `table \`${created.table}\``, created.tables, `table \`${created.table}\``);
    }
  },
};

/**
 * Whether an operation after this one in the migration makes `fields` of the model unique again
 * (a plain `UniqueConstraint` or a `unique_together` set over the same fields): until the
 * reversal drops that one, no duplicate can be written.
 */
function uniqueAgainLater(ctx: OperationContext, modelKey: string, fields: readonly string[]): boolean {
  const same = (other: readonly string[]) => other.length === fields.length && other.every((f) => fields.includes(f));
  const at = ctx.migration.operations.indexOf(ctx.parent ?? ctx.op);
  return ctx.migration.operations.slice(at + 1).some((later) => {
    if (literalString(modelArg(later))?.toLowerCase() !== modelKey) return false;
    if (later.kind === "AlterUniqueTogether") return togetherList(later.args.unique_together).some(same);
    const value = later.kind === "AddConstraint" ? later.args.constraint : undefined;
    if (value?.kind !== "call" || !/(^|\.)UniqueConstraint$/.test(value.callee) || value.args.length > 0) return false;
    const condition = value.kwargs.condition;
    return (condition === undefined || condition.kind === "none") && same(stringList(value.kwargs.fields));
  });
}

/** The argument that names the operation's model: `name` for `AlterUniqueTogether` (a model option), `model_name` for the rest. */
function modelArg(op: Operation): PyValue | undefined {
  return op.kind === "AlterUniqueTogether" ? op.args.name : op.args.model_name;
}

/** `AlterField`/`RemoveConstraint`/`AlterUniqueTogether` whose reversal cuts or rejects data written since. */
function reportRejectedData(ctx: OperationContext): void {
  const { op } = ctx;
  const model = ctx.model(literalString(modelArg(op)));
  if (!model || !ctx.hasTable(model) || ctx.isNewTable(model)) return;
  let problem: Problem | null = null;
  if (op.kind === "AlterField") {
    const name = literalString(op.args.name);
    const before = name ? model.fields.get(name) : undefined;
    if (!name || !before || !op.args.field || hasUnknownOptions(op.args.field, before.call)) return;
    problem = alteredField(ctx, model, name, before, fieldFromCall(name, op.args.field, model.app, model.key, null));
  } else if (op.kind === "RemoveConstraint") {
    const name = literalString(op.args.name);
    const constraint = model.constraints.find((c) => c.name === name);
    if (!constraint || constraint.kind === "other") return;
    if (constraint.kind === "unique" && !constraint.hasCondition && constraint.value.kind === "call" && constraint.value.args.length === 0 && uniqueAgainLater(ctx, model.key, constraint.fields)) return;
    const indexOnly = constraint.kind === "unique" && constraint.value.kind === "call" && uniqueIndexOnly(constraint.value);
    problem = removedConstraint(ctx, model, `${constraint.kind} constraint \`${constraint.name}\``, constraint.kind, indexOnly);
  } else {
    if (!op.args.unique_together) return;
    // A set a later operation makes unique again (Django 5's move to `Meta.constraints`:
    // AlterUniqueTogether(set()) then AddConstraint(UniqueConstraint(...))) cannot gain duplicates.
    const dropped = togetherAdded(togetherList(op.args.unique_together), model.uniqueTogether).filter((set) => !uniqueAgainLater(ctx, model.key, set));
    if (dropped.length === 0) return;
    problem = removedConstraint(ctx, model, `\`unique_together\` ${dropped.map((t) => `(${t.join(", ")})`).join(", ")}`, "unique");
  }
  if (!problem || reversePreparedLater(ctx, ctx.tableOf(model))) return;
  ctx.report({
    range: op.range,
    message: `Reversing this \`${op.kind}\` ${problem.message}.`,
    help: [problem.why, ...problem.steps.map((s, i) => `${i + 1}. ${s}`)],
  });
}

/** The tables a `CreateModel` creates (its own and its M2M join tables), unless unmanaged or a proxy. */
function createdModel(ctx: OperationContext): { table: string; tables: string[] } | null {
  const { op } = ctx;
  const name = literalString(op.args.name);
  if (!name) return null;
  const options = op.args.options;
  const option = (key: string) => (options?.kind === "dict" ? options.entries.find((e) => e.key.kind === "str" && e.key.value === key)?.value : undefined);
  const managed = option("managed");
  const proxy = option("proxy");
  if ((managed?.kind === "bool" && !managed.value) || (proxy?.kind === "bool" && proxy.value)) return null;
  if (managed && managed.kind !== "bool") return null;
  const dbTable = literalString(option("db_table"));
  const table = dbTable ?? defaultTableName(ctx.migration.app, name.toLowerCase());
  const tables = [table];
  const fields = op.args.fields;
  if (fields?.kind === "list" || fields?.kind === "tuple") {
    for (const item of fields.items) {
      if (item.kind !== "tuple" || item.items.length < 2) continue;
      const [fieldName, call] = item.items;
      if (fieldName?.kind !== "str" || !call) continue;
      const field = fieldFromCall(fieldName.value, call, ctx.migration.app, name.toLowerCase(), null);
      if (field.relation?.kind === "m2m" && !field.relation.through) tables.push(field.relation.dbTable ?? truncateName(`${table}_${fieldName.value}`));
    }
  }
  return { table, tables };
}

function reportTable(ctx: OperationContext, what: string, tables: string[], keep: string): void {
  const database = ctx.target.database;
  const copy = tables.map((t) => `CREATE TABLE ${sqlIdent(truncateName(`${t}_backup`), database)} AS SELECT * FROM ${sqlIdent(t, database)};`).join("\n");
  ctx.report({
    range: ctx.op.range,
    message: `Reversing this \`${ctx.op.kind}\` drops ${what} with every row written to it since the deploy.`,
    help: [
      `\`migrate ${ctx.migration.app} ${previousMigration(ctx)}\` runs \`DROP TABLE ${tables.join(", ")}${database === "postgresql" ? " CASCADE" : ""}\`: whatever the new release stored there is deleted without an error.`,
      ...steps(ctx, keep, copy).map((s, i) => `${i + 1}. ${s}`),
    ],
  });
}
