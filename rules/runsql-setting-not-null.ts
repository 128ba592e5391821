import type { Rule } from "../src/engine/rule-types.js";
import { describeStatement } from "../src/sql/analyze-sql.js";
import { fieldOfColumn, forwardStatements, resolveSqlTable, statementsBefore, tableLabel } from "../src/engine/sql-facts-for-operation.js";
import { code, py, sqlIdent } from "../src/advice/snippets.js";
import { validatedNotNullCheck } from "../src/state/model-state.js";

/** RS609: `RunSQL` `ALTER COLUMN ... SET NOT NULL` on an existing table. */
export const runsqlSettingNotNull: Rule = {
  meta: {
    code: "RS609",
    name: "runsql-setting-not-null",
    severity: "error",
    databases: ["postgresql"],
    claims: ["blocking-lock"],
    unobservable: "The ACCESS EXCLUSIVE lock is observable; the length of the scan is not, on a small table.",
    hazards: ["H09"],
    docs: {
      summary: "Raw SQL that makes an existing column NOT NULL with a full-table scan under ACCESS EXCLUSIVE",
      what: "Flags `ALTER TABLE ... ALTER COLUMN ... SET NOT NULL` in `RunSQL` on an existing table (PostgreSQL). Not reported on tables created in the same migration, and on PostgreSQL 12+ when a `CHECK (col IS NOT NULL)` was validated earlier in the same migration or is in the model state validated (`AddConstraint`, or `AddConstraintNotValid` and then `ValidateConstraint`: the recipe), because PostgreSQL then skips the scan.",
      why: "PostgreSQL scans every row to prove there is no NULL while holding ACCESS EXCLUSIVE: reads and writes of the table wait for the whole scan. The old release, if it still writes NULL, starts failing.",
      recipe: [
        "After the new release no longer writes NULL, backfill the NULLs in batches.",
        "`ALTER TABLE ... ADD CONSTRAINT ... CHECK (col IS NOT NULL) NOT VALID` (brief lock).",
        "In a separate migration, `VALIDATE CONSTRAINT` (reads and writes continue).",
        "Then `SET NOT NULL` (PostgreSQL 12+ uses the validated check and skips the scan), and drop the check.",
      ],
      severityReason: "Error: reads and writes of an existing table block for a full scan.",
      bad: `migrations.RunSQL("ALTER TABLE library_book ALTER COLUMN pages SET NOT NULL", reverse_sql="ALTER TABLE library_book ALTER COLUMN pages DROP NOT NULL")`,
      good: `migrations.RunSQL("ALTER TABLE library_book ADD CONSTRAINT pages_not_null CHECK (pages IS NOT NULL) NOT VALID", reverse_sql="ALTER TABLE library_book DROP CONSTRAINT pages_not_null")`,
    },
  },
  operationKinds: ["RunSQL"],
  operation(ctx) {
    if (ctx.target.database !== "postgresql") return;
    for (const { fact, range } of forwardStatements(ctx)) {
      if (fact.kind !== "set-not-null" || fact.column === null) continue;
      const ref = resolveSqlTable(ctx, fact);
      if (!ref || ref.isNew) continue;
      const field = fieldOfColumn(ref.model, fact.column);
      if (ctx.target.postgresVersion >= 12) {
        const validated = statementsBefore(ctx, fact).some((f) => f.kind === "validate-constraint" && f.table === fact.table);
        if (validated || (ref.model && field && validatedNotNullCheck(ref.model, field.name))) continue;
      }
      const table = sqlIdent(fact.table ?? ref.table);
      const column = sqlIdent(fact.column);
      const check = sqlIdent(`${fact.table ?? "t"}_${fact.column}_not_null`);
      const steps = ctx.target.postgresVersion >= 12
        ? [
            `Once no deployed code writes NULL, backfill the existing NULLs in batches (a separate, non-atomic data migration).`,
            `Add a check without scanning (brief lock):\n${code(`migrations.RunSQL(\n    ${py(`ALTER TABLE ${table} ADD CONSTRAINT ${check} CHECK (${column} IS NOT NULL) NOT VALID`)},\n    reverse_sql=${py(`ALTER TABLE ${table} DROP CONSTRAINT IF EXISTS ${check}`)},\n)`)}`,
            `In a separate migration, validate it (reads and writes continue):\n${code(`migrations.RunSQL(${py(`ALTER TABLE ${table} VALIDATE CONSTRAINT ${check}`)}, reverse_sql=migrations.RunSQL.noop)`)}`,
            `Then set NOT NULL, which PostgreSQL ${ctx.target.postgresVersion} proves from the validated check without a scan, and drop the check:\n${code(`migrations.RunSQL(\n    [${py(`ALTER TABLE ${table} ALTER COLUMN ${column} SET NOT NULL`)}, ${py(`ALTER TABLE ${table} DROP CONSTRAINT ${check}`)}],\n    reverse_sql=${py(`ALTER TABLE ${table} ALTER COLUMN ${column} DROP NOT NULL`)},\n)`)}`,
          ]
        : [
            "Once no deployed code writes NULL, backfill the existing NULLs in batches.",
            `PostgreSQL ${ctx.target.postgresVersion} always scans for SET NOT NULL; keep a validated \`CHECK (${fact.column} IS NOT NULL)\` constraint (added NOT VALID, validated separately) instead, or run SET NOT NULL in a low-traffic window.`,
          ];
      ctx.report({
        range,
        message: `\`${describeStatement(fact)}\` scans all of ${tableLabel(ref)} under an ACCESS EXCLUSIVE lock${field ? ` (field \`${ref.model?.name}.${field.name}\`)` : ""}.`,
        help: [
          `PostgreSQL checks every row of \`${ref.table}\` for NULL while holding ACCESS EXCLUSIVE, so all reads and writes wait for the scan; if the old release still writes NULL into \`${fact.column}\`, its INSERTs start failing.`,
          ...steps.map((s, i) => `${i + 1}. ${s}`),
        ],
      });
    }
  },
};
