import type { Rule } from "../src/engine/rule-types.js";
import { callOf, className, fieldClassText, literalString } from "../src/state/model-state.js";
import type { FieldState } from "../src/state/model-state.js";
import { djangoHas, djangoIndexName, migrationModule, py, pyValue, runSqlLines, separateDatabaseAndState, sqlIdent } from "../src/advice/snippets.js";
import { existingModel, fieldOperation } from "../src/engine/resolved-operation.js";
import { operationSource } from "./adding-index-non-concurrently.js";

/** Field classes whose PostgreSQL column carries Django's `"col" >= 0` check (`data_type_check_constraints`). */
const POSITIVE_FIELDS = new Set(["PositiveIntegerField", "PositiveSmallIntegerField", "PositiveBigIntegerField"]);

/**
 * Django's `CHECK ("col" >= 0)` of a Positive*IntegerField, under the name Django gives it in an
 * `AlterField`: the `RunSQL` that adds it NOT VALID, and the step that validates it in the next
 * migration.
 */
function positiveCheck(table: string, column: string): { constraint: string; addNotValid: string; validateStep: string } {
  const constraint = djangoIndexName(table, [column], "_check");
  const [t, c] = [sqlIdent(table), sqlIdent(constraint)];
  return {
    constraint,
    addNotValid: runSqlLines(`ALTER TABLE ${t} ADD CONSTRAINT ${c} CHECK (${sqlIdent(column)} >= 0) NOT VALID;`, `ALTER TABLE ${t} DROP CONSTRAINT IF EXISTS ${c};`),
    validateStep: `2. In the next migration, validate it (SHARE UPDATE EXCLUSIVE: reads and writes go on):\n${migrationModule([runSqlLines(`ALTER TABLE ${t} VALIDATE CONSTRAINT ${c};`, null)], { atomic: true })}`,
  };
}

/** RS203: a CHECK constraint added with validation on an existing PostgreSQL table. */
/** What a new column holds in every existing row: its default (database or Python), else NULL. */
function filledBy(field: FieldState): string {
  if (field.hasDbDefault) return "that holds its `db_default` in every row";
  if (field.hasDefault && field.default?.kind !== "none") return "that holds its default in every row";
  return "that is NULL in every row";
}

export const addingCheckConstraint: Rule = {
  meta: {
    code: "RS203",
    name: "adding-check-constraint",
    severity: "error",
    databases: ["postgresql"],
    claims: ["blocking-lock"],
    unobservable: "The lock is held for a scan of every row; on a small table the scan is instant, but the ACCESS EXCLUSIVE lock itself is observable.",
    hazards: ["H19"],
    docs: {
      summary: "Adding a CHECK constraint that validates existing rows under an exclusive lock",
      what: "Flags `AddConstraint(CheckConstraint(...))` on an existing managed PostgreSQL table, and `AddField` of a `PositiveIntegerField`/`PositiveSmallIntegerField`/`PositiveBigIntegerField` to one, or `AlterField` that turns a field into one (Django adds `CHECK (col >= 0)`, which PostgreSQL validates with a scan of the table even for a new, all-NULL column). `AddConstraintNotValid` is the safe form and is not flagged.",
      why: "`ALTER TABLE ... ADD CONSTRAINT ... CHECK` takes an ACCESS EXCLUSIVE lock and scans every row to validate it: no reads or writes on the table until the scan ends (and, in an atomic migration, until commit). The migration also fails if any row violates the condition.",
      recipe: [
        "Add the constraint with `AddConstraintNotValid` (Django 4.0+, django.contrib.postgres): a brief lock, no scan; new rows are checked from then on.",
        "Validate it with `ValidateConstraint` in a later migration: it scans under SHARE UPDATE EXCLUSIVE, so reads and writes continue.",
      ],
      severityReason: "Error: the table is locked against reads and writes for the whole validation scan.",
      bad: `migrations.AddConstraint(
    model_name="book",
    constraint=models.CheckConstraint(check=models.Q(pages__gte=0), name="book_pages_gte_0"),
)`,
      good: `django.contrib.postgres.operations.AddConstraintNotValid(
    model_name="book",
    constraint=models.CheckConstraint(check=models.Q(pages__gte=0), name="book_pages_gte_0"),
)`,
    },
  },
  operationKinds: ["AddField", "AlterField", "AddConstraint"],
  operation(ctx) {
    if (ctx.target.database !== "postgresql") return;
    const { op } = ctx;
    if (op.kind === "AddField") {
      const found = fieldOperation(ctx);
      if (!found || !POSITIVE_FIELDS.has(found.after.type) || found.call.kind !== "call") return;
      const { model, name, after, call } = found;
      const table = ctx.tableOf(model);
      const column = ctx.columnOf(after) ?? name;
      const plainType = after.type.replace(/^Positive/, "");
      // A project's subclass (Sentry's `BoundedPositiveIntegerField`) becomes Django's plain class.
      const plain = pyValue({ ...call, callee: className(call) === after.type ? call.callee.replace(/Positive(\w*IntegerField)$/, "$1") : `models.${plainType}` });
      const check = positiveCheck(table, column);
      ctx.report({
        range: op.range,
        message: `Adding ${fieldClassText(after)} \`${model.name}.${name}\` adds \`CHECK (${column} >= 0)\` with the column, and PostgreSQL scans every row of \`${table}\` to validate it under the ACCESS EXCLUSIVE lock.`,
        help: [
          `Django writes the check into the column definition (\`ADD COLUMN ... CHECK (${column} >= 0)\`): even for a new column ${filledBy(after)}, PostgreSQL validates a new CHECK constraint by scanning the whole table, and \`${table}\` is locked against reads and writes until the scan ends (and, in an atomic migration, until commit).`,
          `1. Keep the field in state, and add the column as \`${plainType}\` (the same column type, no check) with the constraint NOT VALID (brief lock, no scan):\n${migrationModule(
            [separateDatabaseAndState([operationSource(op) + ","], [`migrations.AddField(\n    model_name=${py(model.key)},\n    name=${py(name)},\n    field=${plain},\n),`, check.addNotValid])],
            { atomic: true },
          )}`,
          check.validateStep,
        ],
      });
      return;
    }
    if (op.kind === "AlterField") {
      const found = fieldOperation(ctx);
      if (!found?.before || POSITIVE_FIELDS.has(found.before.type) || !POSITIVE_FIELDS.has(found.after.type)) return;
      const { model, name, before, after } = found;
      const table = ctx.tableOf(model);
      const column = ctx.columnOf(after) ?? name;
      const check = positiveCheck(table, column);
      ctx.report({
        range: op.range,
        message: `Making \`${model.name}.${name}\` a ${fieldClassText(after)} adds \`CHECK (${column} >= 0)\` to \`${table}\`, validated under an ACCESS EXCLUSIVE lock.`,
        help: [
          `Django adds \`${check.constraint}\` with \`ALTER TABLE ... ADD CONSTRAINT ... CHECK\`, which scans every row of \`${table}\` while reads and writes wait; it fails if any row is negative.`,
          `1. Keep the field change in state and add the constraint NOT VALID (brief lock, no scan):\n${migrationModule([separateDatabaseAndState([operationSource(op) + ","], [check.addNotValid])], { atomic: true })}`,
          check.validateStep,
        ],
        related: before.origin ? [ctx.relatedAt(before.origin, `\`${model.name}.${name}\` was last defined here`)] : undefined,
      });
      return;
    }
    if (op.kind !== "AddConstraint") return;
    const model = existingModel(ctx, "model_name");
    const value = op.args.constraint;
    if (!model || !callOf(value, "CheckConstraint")) return;
    const table = ctx.tableOf(model);
    const name = literalString(value.kwargs.name) ?? "<constraint name>";
    const steps: string[] = [];
    if (djangoHas(ctx.target, 4, 0)) {
      steps.push(
        `Add it without validating existing rows (a brief ACCESS EXCLUSIVE lock, no scan; new and updated rows are checked from now on):\n${migrationModule(
          [`AddConstraintNotValid(\n    model_name=${py(model.key)},\n    constraint=${pyValue(value)},\n),`],
          { atomic: true, imports: ["from django.contrib.postgres.operations import AddConstraintNotValid"] },
        )}`,
        `Fix rows that violate the condition, then validate in a later migration (SHARE UPDATE EXCLUSIVE: reads and writes go on):\n${migrationModule(
          [`ValidateConstraint(model_name=${py(model.key)}, name=${py(name)}),`],
          { atomic: true, imports: ["from django.contrib.postgres.operations import ValidateConstraint"] },
        )}`,
      );
    } else {
      steps.push(
        `Django ${ctx.target.django.join(".")} has no \`AddConstraintNotValid\` (4.0+): keep the constraint in state and add it with SQL (\`python manage.py sqlmigrate\` shows Django's \`CHECK (...)\`; append \`NOT VALID\`):\n${migrationModule(
          [separateDatabaseAndState([operationSource(op) + ","], [runSqlLines(`ALTER TABLE ${sqlIdent(table)} ADD CONSTRAINT ${sqlIdent(name)} CHECK (...) NOT VALID;`, `ALTER TABLE ${sqlIdent(table)} DROP CONSTRAINT IF EXISTS ${sqlIdent(name)};`)])],
          { atomic: true },
        )}`,
        `In a later migration: ${"`"}RunSQL('ALTER TABLE ${sqlIdent(table)} VALIDATE CONSTRAINT ${sqlIdent(name)};')${"`"} (SHARE UPDATE EXCLUSIVE: reads and writes go on).`,
      );
    }
    ctx.report({
      range: op.range,
      message: `\`AddConstraint\` validates CHECK \`${name}\` against every row of \`${table}\` under an ACCESS EXCLUSIVE lock.`,
      help: [
        `\`ALTER TABLE ... ADD CONSTRAINT ... CHECK\` holds ACCESS EXCLUSIVE on \`${table}\` while it scans all rows: every read and write waits, and the migration fails if a row violates the condition.`,
        ...steps.map((s, i) => `${i + 1}. ${s}`),
      ],
    });
  },
};
