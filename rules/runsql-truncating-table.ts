import type { Rule } from "../src/engine/rule-types.js";
import { describeStatement } from "../src/sql/analyze-sql.js";
import { forwardStatements, resolveSqlTable, tableLabel } from "../src/engine/sql-facts-for-operation.js";

/** The lock TRUNCATE takes, per database (MySQL's TRUNCATE drops and re-creates the table; SQLite locks the whole database for a write). */
const TRUNCATE_LOCK: Record<"postgresql" | "mysql" | "sqlite", string> = {
  postgresql: "an ACCESS EXCLUSIVE lock",
  mysql: "an exclusive metadata lock",
  sqlite: "the database's write lock",
};

/** RS612: `RunSQL` `TRUNCATE` of an existing table (an error with CASCADE). */
export const runsqlTruncatingTable: Rule = {
  meta: {
    code: "RS612",
    name: "runsql-truncating-table",
    severity: "warning",
    databases: ["postgresql", "mysql", "sqlite"],
    claims: ["blocking-lock"],
    hazards: ["H55"],
    docs: {
      summary: "Raw SQL that empties an existing table (`TRUNCATE`, worst with `CASCADE`)",
      what: "Flags `TRUNCATE` in `RunSQL` on a table that exists before the migration: a warning, or an error with `CASCADE`, which also empties every table with a foreign key to it. Tables created in the same migration are skipped.",
      why: "TRUNCATE deletes every row without a way back (a rollback of the release does not restore data) and takes an ACCESS EXCLUSIVE lock. With CASCADE it silently empties other tables too, ones the statement does not name.",
      recipe: [
        "Delete only the rows you mean to, in batches, from a data migration.",
        "If emptying the table is really intended, name every table explicitly (no CASCADE) and document why in the migration.",
      ],
      severityReason: "Warning for TRUNCATE: it may be intended (a cache table) but loses data. Error with CASCADE: it empties tables the migration does not name.",
      bad: `migrations.RunSQL("TRUNCATE library_book", reverse_sql=migrations.RunSQL.noop)`,
      good: `migrations.RunSQL("DELETE FROM library_book WHERE pages = 0", reverse_sql=migrations.RunSQL.noop)`,
    },
  },
  operationKinds: ["RunSQL"],
  operation(ctx) {
    for (const { fact, range } of forwardStatements(ctx)) {
      if (fact.kind !== "truncate") continue;
      const ref = resolveSqlTable(ctx, fact);
      if (!ref || ref.isNew) continue;
      ctx.report({
        range,
        severity: fact.cascade ? "error" : "warning",
        message: fact.cascade
          ? `\`${describeStatement(fact)}\` empties ${tableLabel(ref)} and every table with a foreign key to it.`
          : `\`${describeStatement(fact)}\` deletes every row of ${tableLabel(ref)}.`,
        help: [
          `TRUNCATE takes ${TRUNCATE_LOCK[ctx.target.database]} on \`${ref.table}\` and removes all its rows; rolling the release back does not bring them back.${fact.cascade ? " CASCADE also truncates every table that references it, which this migration does not name." : ""}`,
          "1. If only some rows must go, delete them in batches from a data migration (`DELETE ... WHERE id BETWEEN ...`).",
          fact.cascade
            ? "2. If emptying is intended, list every table explicitly instead of CASCADE, so the migration says what it deletes."
            : "2. If emptying the table is intended, say so in a comment and suppress this finding with a reason.",
        ],
      });
    }
  },
};
