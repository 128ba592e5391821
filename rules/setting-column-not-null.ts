import { fieldOperation } from "../src/engine/resolved-operation.js";
import type { OperationContext, Rule } from "../src/engine/rule-types.js";
import { alterFieldSnippet, alterFieldSource, code, djangoHas, fieldWith, nullabilityRunSql, postDeployMarker, py, pyValue, separateDatabaseAndState } from "../src/advice/snippets.js";
import { databaseChanges } from "../src/engine/field-changes.js";
import { literalBool, literalString, validatedNotNullCheck, type FieldState } from "../src/state/model-state.js";
import { fillsExistingRows } from "./reversing-migration-fails.js";
import { perRowCallable } from "./adding-column-with-callable-default.js";

/** Options Django's field comparison counts that change nothing in the column itself. */
const NO_COLUMN_OPTIONS = new Set(["serialize", "auto_created", "parent_link", "db_tablespace", "class"]);


/** RS106: `AlterField` from `null=True` to `null=False` on an existing table. */
export const settingColumnNotNull: Rule = {
  meta: {
    code: "RS106",
    name: "setting-column-not-null",
    severity: "error",
    databases: ["postgresql", "mysql", "sqlite"],
    claims: ["blocking-lock"],
    hazards: ["H09", "H10"],
    docs: {
      summary: "Making an existing column NOT NULL",
      what: "Flags `AlterField` that changes a field from `null=True` to `null=False` on an existing managed table; on PostgreSQL 12+, not when the model has a validated `CheckConstraint(condition=Q(<field>__isnull=False))` (added with `AddConstraint`, or with `AddConstraintNotValid` and then `ValidateConstraint`) and the altered field has no `default` (with one, Django first runs `UPDATE ... WHERE <column> IS NULL`, a scan under the lock).",
      why: "`SET NOT NULL` scans the whole table under an ACCESS EXCLUSIVE lock, blocking every read and write; the migration fails if any row is NULL; and the old release, which may still write NULL, starts failing. With a `default`, Django also runs `UPDATE ... WHERE col IS NULL` inside the same locked transaction.",
      recipe: [
        "Make sure the new release never writes NULL, and backfill existing NULLs in batches in a separate, non-atomic data migration.",
        "After the deploy, add `CheckConstraint(condition=Q(col__isnull=False))` with `AddConstraintNotValid` (instant), and validate it with `ValidateConstraint` in the next migration (SHARE UPDATE EXCLUSIVE: reads and writes continue).",
        "Then `AlterField(null=False)` without a `default` (Django would first UPDATE the NULL rows): PostgreSQL 12+ uses the validated constraint and skips the scan. For a foreign key, put the `AlterField` in `state_operations` and run `ALTER TABLE ... ALTER COLUMN ... SET NOT NULL` as the database operation: Django's `AlterField` would drop and re-add the foreign key, validated. Finally drop the helper constraint, and give the field its `default` back with one more `AlterField` (a default alone runs no SQL).",
      ],
      severityReason: "Error: a full-table scan under ACCESS EXCLUSIVE blocks all traffic on the table, and old-release writes of NULL fail.",
      bad: `migrations.AlterField(
    model_name="book",
    name="pages",
    field=models.IntegerField(),
)`,
      good: `migrations.AlterField(
    model_name="book",
    name="pages",
    field=models.IntegerField(null=True, help_text="Number of pages"),
)`,
    },
  },
  operationKinds: ["AlterField"],
  operation(ctx) {
    const { op } = ctx;
    if (op.kind !== "AlterField" || ctx.effect === "state" || op.unknown) return;
    const altered = fieldOperation(ctx);
    if (!altered?.before) return;
    const { model, name, before, after, call } = altered;
    if (before.null !== true || before.relation?.kind === "m2m") return;
    if (after.null !== false) return;
    // The last step of the recipe: a validated CHECK (col IS NOT NULL) lets PostgreSQL 12+ skip
    // the scan, and it already rejects NULL writes. A field with a default is another matter:
    // Django then runs `UPDATE ... WHERE col IS NULL` first (its four-way NOT NULL change), a scan.
    if (!after.hasDefault && ctx.target.database === "postgresql" && ctx.target.postgresVersion >= 12 && validatedNotNullCheck(model, name)) return;
    const table = ctx.tableOf(model);
    const column = ctx.columnOf(after) ?? name;
    if (!after.hasDefault && addedEmptyJustBefore(ctx, before, name)) {
      // babybuddy core 0015: AddField(null=True) then AlterField(null=False), nothing in between:
      // every existing row holds NULL, so SET NOT NULL fails on any table with rows (IntegrityError
      // with Django 4.2 on PostgreSQL 15), and no release of the old code could have filled it.
      ctx.report({
        range: op.range,
        message: `Making \`${model.name}.${name}\` NOT NULL right after adding it without a default fails on any \`${table}\` that has rows: every existing row holds NULL.`,
        help: [
          `The \`AddField\` earlier in this migration added \`${column}\` with no default and nothing fills it before this \`AlterField\`, so ${ctx.target.database === "postgresql" ? `\`ALTER COLUMN ${column} SET NOT NULL\`` : "making it NOT NULL"} meets NULL in every row that was already there, and the migration fails unless the table is empty. The old release does not know \`${column}\`: its INSERTs leave it out, so they fail too once the column is NOT NULL without a database default.`,
          `1. Add the field NOT NULL in one step, with a database default that fills the existing rows and the old release's INSERTs (\`adding-not-nullable-column\` gives the recipe for this Django version), instead of \`AddField(null=True)\` and this \`AlterField\`.`,
          `2. Or keep \`${name}\` nullable in this release, fill the existing rows in a data migration, and make it NOT NULL in a later release, after no running code writes NULL.`,
        ],
        related: before.origin ? [ctx.relatedAt(before.origin, `\`${model.name}.${name}\` was added here`)] : undefined,
      });
      return;
    }
    const constraint = `${table}_${column}_not_null`.slice(0, 63);
    const help: string[] = [];
    const pg = ctx.target.database === "postgresql";
    const mysql = ctx.target.database === "mysql";
    help.push(
      pg
        ? `\`ALTER COLUMN ${column} SET NOT NULL\` scans all of \`${table}\` under an ACCESS EXCLUSIVE lock: every read and write on the table waits for the scan, and the migration fails if any row is NULL.`
        : ctx.target.database === "mysql"
          ? `MySQL rebuilds \`${table}\` to make \`${column}\` NOT NULL (online, in place: writes continue but the rebuild reads every row), and in strict mode the migration fails if any row is NULL; without strict mode NULLs silently become '' or 0.`
          : `Django's SQLite backend remakes \`${table}\` (copies every row into a new table) while holding the database's write lock, and the migration fails if any row is NULL.`,
    );
    if (ctx.stage !== "post") {
      help.push(`The old release may still write NULL to \`${column}\`; its INSERTs and UPDATEs fail once the constraint is in place.`);
    }
    if (after.hasDefault) {
      // A callable is called once (`effective_default`): every NULL row gets that one value (EvaP evaluation 0105's uuid4).
      const callable = perRowCallable(after.default);
      const once = callable ? ` (\`${callable}()\` is called once, so every NULL row gets the same value)` : "";
      help.push(
        mysql
          ? `Because the field has a default (${pyValue(after.default)}), Django first runs \`UPDATE ${table} SET ${column} = ... WHERE ${column} IS NULL\`${once}: one statement (MySQL runs migrations outside a transaction) that locks every row it changes until it ends.`
          : `Because the field has a default (${pyValue(after.default)}), Django also runs \`UPDATE ${table} SET ${column} = ... WHERE ${column} IS NULL\`${once} inside the same transaction, holding the lock for the whole update.`,
      );
    }
    const foreignKey = after.relation?.dbConstraint === true;
    // `preserve_default=False`: the default fills the NULLs once and the model has none after.
    const oneOff = literalBool(op.args.preserve_default) === false;
    // What else the AlterField changes (unique, a type...): the NOT NULL step changes only the
    // nullability (from the field as it was), and the rest is left to its own finding.
    // `serialize` and the like count for Django's comparison (a foreign key's constraint is
    // re-added for them) but change no column and have no finding of their own (EvaP 0105).
    const others = databaseChanges(before, after, ctx.target.database).filter((key) => key !== "null" && key !== "default" && !NO_COLUMN_OPTIONS.has(key));
    const notNullField = others.length > 0 && before.call ? fieldWith(before.call, {}, ["null", "default"]) : fieldWith(call, {}, ["default"]);
    const steps: string[] = [
      `Ship a release that never writes NULL to \`${name}\`, and backfill existing NULLs in batches in a separate data migration with \`atomic = False\`.`,
    ];
    if (pg && djangoHas(ctx.target, 4, 0) && ctx.target.postgresVersion >= 12) {
      steps.push(
        `In a migration marked ${postDeployMarker(ctx.target.markerStyle)}, add the constraint without checking existing rows (instant):\n${code(
          [
            "from django.contrib.postgres.operations import AddConstraintNotValid",
            "",
            "AddConstraintNotValid(",
            `    model_name=${py(model.key)},`,
            `    constraint=models.CheckConstraint(${djangoHas(ctx.target, 5, 1) ? "condition" : "check"}=models.Q(${name}__isnull=False), name=${py(constraint)}),`,
            ")",
          ].join("\n"),
        )}`,
        `In the next migration, validate it; this takes SHARE UPDATE EXCLUSIVE, so reads and writes go on:\n${code(`from django.contrib.postgres.operations import ValidateConstraint\n\nValidateConstraint(model_name=${py(model.key)}, name=${py(constraint)})`)}`,
        foreignKey
          ? `Then make the column NOT NULL with SQL and the field in state only: PostgreSQL ${ctx.target.postgresVersion} sees the validated constraint and skips the scan, while an \`AlterField\` of a foreign key would drop and re-add \`${model.name}.${name}\`'s constraint, checking every row. Drop the helper constraint in the same migration:\n${code(
              separateDatabaseAndState(
                // State only: no UPDATE runs, so the field keeps its default (none when it was one-off).
                [`${alterFieldSource(model.key, name, others.length > 0 ? notNullField : fieldWith(call, {}, oneOff ? ["default"] : []))},`],
                [nullabilityRunSql(table, column, false)],
              ),
            )}\n${code(`migrations.RemoveConstraint(model_name=${py(model.key)}, name=${py(constraint)})`)}`
          : `Then make the column NOT NULL; PostgreSQL ${ctx.target.postgresVersion} sees the validated constraint and skips the scan, so drop the helper constraint in the same migration:\n${alterFieldSnippet(model.key, name, notNullField)}\n${code(`migrations.RemoveConstraint(model_name=${py(model.key)}, name=${py(constraint)})`)}`,
      );
      if (others.length > 0) {
        steps.push(
          `Then make the rest of this change (${others.join(", ")}) as its own finding says (\`adding-unique-constraint\` for a unique constraint, \`changing-column-type\` for a type): the step above changed only the nullability, and the field ends as written here.`,
        );
      } else if (after.hasDefault && !foreignKey && !oneOff) {
        // The field lost its default for the step above; the model still has it.
        steps.push(
          `Then give the field its \`default=${pyValue(after.default)}\` back with one more \`AlterField\` after it (a default alone changes no column: Django runs no SQL for it), so the migration state matches the model and \`makemigrations\` has nothing left to write:\n${alterFieldSnippet(model.key, name, fieldWith(call, {}))}`,
        );
      }
    } else {
      steps.push(
        `Then run this \`AlterField\` in a migration marked ${postDeployMarker(ctx.target.markerStyle)}, at a quiet time: ${mysql ? `the rebuild reads and copies every row of \`${table}\`` : `the lock lasts as long as the scan of \`${table}\``}.`,
      );
    }
    ctx.report({
      range: op.range,
      message: `Making \`${model.name}.${name}\` NOT NULL ${mysql ? `rebuilds \`${table}\`` : `scans \`${table}\` under an exclusive lock`}${ctx.stage !== "post" ? " and breaks old-release writes of NULL" : ""}.`,
      help: [...help, ...steps.map((s, i) => `${i + 1}. ${s}`)],
      related: before.origin ? [ctx.relatedAt(before.origin, `\`${model.name}.${name}\` was made nullable here`)] : undefined,
    });
  },
};

/**
 * Whether `before` is a field an `AddField` earlier in this migration added without filling the
 * existing rows (no default, no database default), with no `RunPython` or `RunSQL` between it
 * and this operation that could fill them.
 */
function addedEmptyJustBefore(ctx: OperationContext, before: FieldState, name: string): boolean {
  if (ctx.parent !== null || before.addedIn !== ctx.migration.id || fillsExistingRows(before) !== false) return false;
  const ops = ctx.migration.operations;
  const here = ops.indexOf(ctx.op);
  const modelName = literalString(ctx.op.args.model_name)?.toLowerCase();
  for (let i = here - 1; i >= 0; i--) {
    const op = ops[i];
    if (!op || op.unknown || op.kind === "RunPython" || op.kind === "RunSQL" || op.kind === "SeparateDatabaseAndState" || op.origin !== "django") return false;
    if (op.kind === "AddField" && literalString(op.args.model_name)?.toLowerCase() === modelName && literalString(op.args.name) === name) return true;
  }
  return false;
}
