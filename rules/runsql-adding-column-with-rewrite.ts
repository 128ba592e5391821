import type { Rule } from "../src/engine/rule-types.js";
import { describeStatement } from "../src/sql/analyze-sql.js";
import { forwardStatements, resolveSqlTable, tableLabel } from "../src/engine/sql-facts-for-operation.js";
import { code, py, sqlIdent } from "../src/advice/snippets.js";

/** RS615: `RunSQL` `ADD COLUMN` that rewrites an existing table. */
export const runsqlAddingColumnWithRewrite: Rule = {
  meta: {
    code: "RS615",
    name: "runsql-adding-column-with-rewrite",
    severity: "error",
    databases: ["postgresql"],
    claims: ["blocking-lock", "rewrite"],
    hazards: ["H24", "H25", "H26"],
    docs: {
      summary: "Raw SQL that adds a column in a way that rewrites the table",
      what: "Flags `ALTER TABLE ... ADD COLUMN` in `RunSQL` on an existing table (PostgreSQL) with a volatile default (`gen_random_uuid()`, `random()`, `clock_timestamp()`...), a serial or identity column, a stored generated column, or, before PostgreSQL 11, any non-NULL default. Constant and stable defaults (`0`, `'x'`, `now()`) are metadata-only on PostgreSQL 11+ and are not reported; nor are tables created in the same migration.",
      why: "PostgreSQL computes the value for every existing row by rewriting the whole table while holding ACCESS EXCLUSIVE: reads and writes wait for the rewrite.",
      recipe: [
        "Add the column without a default (or with a constant one): metadata-only.",
        "Set the volatile default for new rows with `ALTER COLUMN ... SET DEFAULT ...` (no rewrite).",
        "Backfill existing rows in batches from a non-atomic data migration.",
      ],
      severityReason: "Error: reads and writes of an existing table block for a full rewrite.",
      bad: `migrations.RunSQL("ALTER TABLE library_book ADD COLUMN token uuid DEFAULT gen_random_uuid()", reverse_sql="ALTER TABLE library_book DROP COLUMN token")`,
      good: `migrations.RunSQL("ALTER TABLE library_book ADD COLUMN token uuid", reverse_sql="ALTER TABLE library_book DROP COLUMN token")`,
    },
  },
  operationKinds: ["RunSQL"],
  operation(ctx) {
    if (ctx.target.database !== "postgresql") return;
    for (const { fact, range } of forwardStatements(ctx)) {
      if (fact.kind !== "add-column" || fact.column === null) continue;
      const oldDefault = ctx.target.postgresVersion < 11 && (fact.defaultVolatility === "constant" || fact.defaultVolatility === "stable");
      const reason = fact.serial
        ? "a serial column fills every existing row from its sequence"
        : fact.identity
          ? "an identity column fills every existing row from its sequence"
          : fact.generatedStored
            ? "a stored generated column is computed for every existing row"
            : fact.defaultVolatility === "volatile"
              ? "a volatile default is evaluated for every existing row"
              : oldDefault
                ? `PostgreSQL ${ctx.target.postgresVersion} (before 11) writes any non-NULL default into every existing row`
                : null;
      if (reason === null) continue;
      const ref = resolveSqlTable(ctx, fact);
      if (!ref || ref.isNew) continue;
      const table = sqlIdent(fact.table ?? ref.table);
      const column = sqlIdent(fact.column);
      const type = fact.dataType?.text ?? "...";
      const steps = fact.serial || fact.identity
        ? ["Create a new table with the column, copy the rows in batches, and swap the tables in a short transaction; or add a plain nullable column, attach a sequence default (`SET DEFAULT nextval(...)`, no rewrite) and backfill in batches."]
        : [
            `Add the column without the default (metadata-only):\n${code(`migrations.RunSQL(${py(`ALTER TABLE ${table} ADD COLUMN ${column} ${type === "serial" ? "integer" : type}`)}, reverse_sql=${py(`ALTER TABLE ${table} DROP COLUMN ${column}`)})`)}`,
            fact.generatedStored
              ? "Compute the value in the application (or a trigger) for new rows."
              : `Set the default for new rows only (no rewrite): \`ALTER TABLE ${table} ALTER COLUMN ${column} SET DEFAULT ...\`.`,
            "Backfill existing rows in batches from a separate, non-atomic data migration.",
          ];
      ctx.report({
        range,
        message: `\`${describeStatement(fact)}\` rewrites ${tableLabel(ref)} under an ACCESS EXCLUSIVE lock: ${reason}.`,
        help: [
          `PostgreSQL rewrites every row of \`${ref.table}\` to store the new value while holding ACCESS EXCLUSIVE, so all reads and writes wait for the rewrite.`,
          ...steps.map((s, i) => `${i + 1}. ${s}`),
        ],
      });
    }
  },
};
