import type { Rule } from "../src/engine/rule-types.js";
import { describeStatement } from "../src/sql/analyze-sql.js";
import { forwardStatements } from "../src/engine/sql-facts-for-operation.js";
import { nonAtomicMigration, py } from "../src/advice/snippets.js";

/** RS619: enum changes in `RunSQL` that fail or break the running code. */
export const runsqlAlteringEnum: Rule = {
  meta: {
    code: "RS619",
    name: "runsql-altering-enum",
    severity: "error",
    databases: ["postgresql"],
    claims: [],
    hazards: ["H54"],
    docs: {
      summary: "Raw SQL enum changes that fail in a transaction or break the running code",
      what: "Flags `ALTER TYPE ... RENAME VALUE` (the old release keeps writing the old label), and `ALTER TYPE ... ADD VALUE` in an atomic migration when the target is PostgreSQL before 12 (refused inside a transaction). `ADD VALUE` on PostgreSQL 12+ is not reported.",
      why: "After RENAME VALUE, the old release's writes of the old label fail with `invalid input value for enum`. Before PostgreSQL 12, ADD VALUE cannot run in a transaction block, so an atomic migration fails.",
      recipe: [
        "Never rename enum values in place: add the new value, migrate rows in batches, stop using the old one, and leave it (PostgreSQL cannot drop enum values).",
        "Add values in a migration of their own; before PostgreSQL 12, with `atomic = False`.",
      ],
      severityReason: "Error: the migration fails on deploy, or the old release's writes fail.",
      bad: `migrations.RunSQL("ALTER TYPE book_status RENAME VALUE 'draft' TO 'pending'", reverse_sql="ALTER TYPE book_status RENAME VALUE 'pending' TO 'draft'")`,
      good: `migrations.RunSQL("ALTER TYPE book_status ADD VALUE IF NOT EXISTS 'archived'", reverse_sql=migrations.RunSQL.noop)`,
    },
  },
  operationKinds: ["RunSQL"],
  operation(ctx) {
    if (ctx.target.database !== "postgresql") return;
    for (const { fact, range } of forwardStatements(ctx)) {
      const type = `\`${fact.schema ? `${fact.schema}.` : ""}${fact.objectName ?? "?"}\``;
      if (fact.kind === "alter-enum-rename-value") {
        const oldValue = fact.enumValue?.oldValue ?? "?";
        const newValue = fact.enumValue?.value ?? "?";
        ctx.report({
          range,
          message: `\`${describeStatement(fact)}\` renames enum value \`${oldValue}\` of ${type} while the old release still writes it.`,
          help: [
            `Once renamed, every write of '${oldValue}' by the old release fails with "invalid input value for enum", and a rollback to it breaks the same way.`,
            `1. Add '${newValue}' instead (\`ALTER TYPE ... ADD VALUE '${newValue}'\`), make the new release write it and read both.`,
            `2. Move the rows from '${oldValue}' to '${newValue}' in batches after the deploy; leave '${oldValue}' in the type (PostgreSQL cannot drop enum values).`,
          ],
        });
      } else if (fact.kind === "alter-enum-add-value" && ctx.migration.atomic && ctx.target.postgresVersion < 12) {
        ctx.report({
          range,
          message: `\`${describeStatement(fact)}\` cannot run inside a transaction on PostgreSQL ${ctx.target.postgresVersion}, and \`${ctx.migration.name}\` is atomic.`,
          help: [
            "Before PostgreSQL 12, `ALTER TYPE ... ADD VALUE` is refused inside a transaction block, and Django runs an atomic migration in one: the migration fails on deploy.",
            `1. Move it to a migration of its own with \`atomic = False\`:\n${nonAtomicMigration([`migrations.RunSQL(${py(fact.text)}, reverse_sql=migrations.RunSQL.noop)`])}`,
          ],
        });
      }
    }
  },
};
