import type { OperationContext, Rule } from "../src/engine/rule-types.js";
import { describeStatement } from "../src/sql/analyze-sql.js";
import { forwardStatements, resolveSqlTable, tableLabel, type SqlTableRef } from "../src/engine/sql-facts-for-operation.js";

/**
 * Why the target database refuses the statement, or null: SQLite has no TRUNCATE, MySQL's takes
 * no CASCADE and refuses a table a foreign key constraint references (checked on SQLite 3.40 and
 * MariaDB 10.11).
 */
function refusal(ctx: OperationContext, ref: SqlTableRef, cascade: boolean): { database: string; why: string; error: string } | null {
  if (ctx.target.database === "sqlite") return { database: "SQLite", why: "SQLite has no TRUNCATE", error: `SQLite reports \`near "TRUNCATE": syntax error\`; it empties a table with \`DELETE FROM\`` };
  if (ctx.target.database !== "mysql") return null;
  if (cascade) return { database: "MySQL", why: "MySQL's TRUNCATE takes no CASCADE", error: "MySQL reports a syntax error near `CASCADE`" };
  const model = ref.dbModel ?? ref.model;
  if (!model) return null;
  const target = `${model.app}.${model.key}`;
  const holders = ctx.db
    .foreignKeyConstraintsTo(target)
    // A key from the table to itself does not stop it (MySQL's documentation; checked).
    .filter((k) => k.model !== model)
    .map((k) => `\`${ctx.db.tableOf(k.model)}.${ctx.columnOf(k.field) ?? k.field.name}\``);
  // Auto-created join tables hold a foreign key to each side: the model's own, and those of other models' many-to-many fields to it.
  const joins = [
    ...ctx.db.joinTablesOf(model),
    ...ctx.db.modelsReferencing(target).flatMap((m) => ctx.db.joinTablesOf(m, [...m.fields.values()].filter((f) => f.relation?.kind === "m2m" && f.relation.to === target))),
  ];
  holders.push(...[...new Set(joins)].map((t) => `join table \`${t}\``));
  if (holders.length === 0) return null;
  return {
    database: "MySQL",
    why: `a foreign key constraint references \`${ref.table}\` (${holders.join(", ")})`,
    error: "MySQL refuses with `Cannot truncate a table referenced in a foreign key constraint`, even when the referencing table is empty",
  };
}

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
      const refused = refusal(ctx, ref, fact.cascade);
      if (refused) {
        ctx.report({
          range,
          severity: "error",
          message: `\`${describeStatement(fact)}\` fails on ${refused.database}: ${refused.why}, so \`migrate\` stops here.`,
          help: [`${refused.error}.`, "1. Delete the rows in batches from a data migration (`DELETE FROM ... WHERE id BETWEEN ...`), or leave them."],
        });
        continue;
      }
      ctx.report({
        range,
        severity: fact.cascade ? "error" : "warning",
        message: fact.cascade
          ? `\`${describeStatement(fact)}\` empties ${tableLabel(ref)} and every table with a foreign key to it.`
          : `\`${describeStatement(fact)}\` deletes every row of ${tableLabel(ref)}.`,
        help: [
          // SQLite has no TRUNCATE (`refusal`); MySQL's drops and re-creates the table.
          `TRUNCATE takes ${ctx.target.database === "mysql" ? "an exclusive metadata lock" : "an ACCESS EXCLUSIVE lock"} on \`${ref.table}\` and removes all its rows; rolling the release back does not bring them back.${fact.cascade ? " CASCADE also truncates every table that references it, which this migration does not name." : ""}`,
          "1. If only some rows must go, delete them in batches from a data migration (`DELETE ... WHERE id BETWEEN ...`).",
          fact.cascade
            ? "2. If emptying is intended, list every table explicitly instead of CASCADE, so the migration says what it deletes."
            : "2. If emptying the table is intended, say so in a comment and suppress this finding with a reason.",
        ],
      });
    }
  },
};
