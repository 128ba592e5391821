import type { Rule } from "../src/engine/rule-types.js";
import { describeStatement } from "../src/sql/analyze-sql.js";
import { forwardStatements, resolveSqlTable, tableLabel } from "../src/engine/sql-facts-for-operation.js";
import { code, notNullViolation, py, sqlIdent } from "../src/advice/snippets.js";

/**
 * What `ADD COLUMN ... NOT NULL` without a default does to a table with rows, per database
 * (MySQL's checked on MariaDB 10.11, SQLite's on SQLite 3.40).
 */
const ADD_FAILURE: Record<"postgresql" | "mysql" | "sqlite", (column: string) => string> = {
  postgresql: (column) => `On a table with rows the statement fails ("column ${column} contains null values"); where it succeeds,`,
  mysql: () => "On a table with rows MySQL fills the column with its type's implicit value ('' or 0), even in strict mode; then",
  sqlite: () => `On a table with rows the statement fails ("Cannot add a NOT NULL column with default value NULL"); where it succeeds,`,
};

/** RS616: `RunSQL` `ADD COLUMN ... NOT NULL` without a default on an existing table. */
export const runsqlAddingRequiredColumn: Rule = {
  meta: {
    code: "RS616",
    name: "runsql-adding-required-column",
    severity: "error",
    databases: ["postgresql", "mysql", "sqlite"],
    claims: ["old-code-breaks"],
    hazards: ["H36", "H07"],
    docs: {
      summary: "Raw SQL that adds a NOT NULL column without a default to an existing table",
      what: "Flags `ALTER TABLE ... ADD COLUMN ... NOT NULL` (or PRIMARY KEY) without a DEFAULT, identity or serial in `RunSQL` on a table that exists before the migration. Tables created in the same migration are skipped.",
      why: "The statement fails on a table that has rows (`column ... contains null values`). Where it succeeds (an empty table in staging), every INSERT of the old release, which does not know the column, fails with a NOT NULL violation.",
      recipe: [
        "Add the column with a constant default (metadata-only on PostgreSQL 11+), which also covers the old release's INSERTs; or add it nullable.",
        "Backfill, then make it NOT NULL with the CHECK ... NOT VALID / VALIDATE recipe once no code writes NULL.",
      ],
      severityReason: "Error: the migration fails on real data, or the old release's INSERTs fail.",
      bad: `migrations.RunSQL("ALTER TABLE library_book ADD COLUMN isbn text NOT NULL", reverse_sql="ALTER TABLE library_book DROP COLUMN isbn")`,
      good: `migrations.RunSQL("ALTER TABLE library_book ADD COLUMN isbn text NOT NULL DEFAULT ''", reverse_sql="ALTER TABLE library_book DROP COLUMN isbn")`,
    },
  },
  operationKinds: ["RunSQL"],
  operation(ctx) {
    for (const { fact, range } of forwardStatements(ctx)) {
      if (fact.kind !== "add-column" || !fact.notNull || fact.column === null) continue;
      if (fact.defaultVolatility !== "none" || fact.identity || fact.serial || fact.generatedStored) continue;
      const ref = resolveSqlTable(ctx, fact);
      if (!ref || ref.isNew) continue;
      const table = sqlIdent(fact.table ?? ref.table, ctx.target.database);
      const column = sqlIdent(fact.column, ctx.target.database);
      const type = fact.dataType?.text ?? "...";
      ctx.report({
        range,
        message: `\`${describeStatement(fact)} NOT NULL\` adds a required column without a default to ${tableLabel(ref)}.`,
        help: [
          `${ADD_FAILURE[ctx.target.database](fact.column)} every INSERT of the old release into \`${ref.table}\` fails, because the old release does not set \`${fact.column}\`${ctx.target.database === "mysql" ? `: ${notNullViolation("mysql", ref.table, fact.column)}` : ""}.`,
          `1. Give the column a constant default (${ctx.target.database === "postgresql" ? "metadata-only on PostgreSQL 11+; " : ""}the old release's INSERTs get the default):\n${code(`migrations.RunSQL(\n    ${py(`ALTER TABLE ${table} ADD COLUMN ${column} ${type} NOT NULL DEFAULT ...`)},\n    reverse_sql=${py(`ALTER TABLE ${table} DROP COLUMN ${column}`)},\n)`)}`,
          ctx.target.database === "postgresql"
            ? "2. Or add it nullable, backfill in batches, and make it NOT NULL later with the CHECK ... NOT VALID / VALIDATE recipe."
            : "2. Or add it nullable, backfill in batches, and make it NOT NULL in a later release, once no release writes NULL.",
        ],
      });
    }
  },
};
