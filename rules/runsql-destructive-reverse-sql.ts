import type { Rule } from "../src/engine/rule-types.js";
import { describeStatement } from "../src/sql/analyze-sql.js";
import { parsedStatements } from "../src/engine/sql-facts-for-operation.js";

/** RS621: `reverse_sql` that destroys data the forward SQL did not create. */
export const runsqlDestructiveReverseSql: Rule = {
  meta: {
    code: "RS621",
    name: "runsql-destructive-reverse-sql",
    severity: "warning",
    databases: ["postgresql", "mysql", "sqlite"],
    claims: [],
    hazards: ["H45"],
    docs: {
      summary: "A `reverse_sql` that destroys data when the migration is rolled back",
      what: "Reads `RunSQL.reverse_sql` with the same parser and flags DROP TABLE, DROP COLUMN, TRUNCATE, DROP SCHEMA/DATABASE, and UPDATE/DELETE without WHERE, unless the forward SQL creates that very table or column (then the reverse is its exact inverse). The other SQL rules only look at the forward direction: a rollback runs rarely and on purpose, so its hazards are a warning here rather than a second set of errors.",
      why: "Rolling back (`migrate app <previous>`) then deletes data the application wrote in the meantime, or that existed before the migration, and the data cannot be recovered by rolling forward again.",
      recipe: [
        "Make the reverse keep data: `RunSQL.noop` when the forward change is harmless to leave in place, or a reverse that restores the previous shape without dropping rows.",
        "If the loss on rollback is intended, document it in the migration and suppress this finding with a reason.",
      ],
      severityReason: "Warning: it only matters on rollback, which is deliberate, but then it loses data.",
      bad: `migrations.RunSQL("UPDATE library_book SET pages = 0 WHERE pages IS NULL", reverse_sql="TRUNCATE library_book")`,
      good: `migrations.RunSQL("ALTER TABLE library_book ADD COLUMN isbn text", reverse_sql="ALTER TABLE library_book DROP COLUMN isbn")`,
    },
  },
  operationKinds: ["RunSQL"],
  operation(ctx) {
    if (ctx.effect === "state") return;
    const facts = ctx.sql(ctx.op);
    if (!facts) return;
    const forward = parsedStatements(facts.forward).map((s) => s.fact);
    const createdTables = new Set<string | null>();
    for (const f of forward) {
      if (f.kind === "create-table") createdTables.add(f.table);
      if (f.kind === "rename-table" && createdTables.has(f.table)) createdTables.add(f.newName);
    }
    const createdColumns = new Set(forward.filter((f) => f.kind === "add-column").map((f) => `${f.table}.${f.column}`));
    for (const { fact, range } of parsedStatements(facts.reverse)) {
      let what: string | null = null;
      switch (fact.kind) {
        case "drop-table":
          if (!createdTables.has(fact.table)) what = `drops table \`${fact.table ?? "?"}\`, which the forward SQL did not create`;
          break;
        case "drop-column":
          if (!createdColumns.has(`${fact.table}.${fact.column}`) && !createdTables.has(fact.table)) {
            what = `drops column \`${fact.column ?? "?"}\` of \`${fact.table ?? "?"}\`, which the forward SQL did not add`;
          }
          break;
        case "truncate":
          if (!createdTables.has(fact.table)) what = `deletes every row of \`${fact.table ?? "?"}\``;
          break;
        case "update":
        case "delete":
          if (!fact.hasWhere && !createdTables.has(fact.table)) what = `${fact.kind === "update" ? "overwrites" : "deletes"} every row of \`${fact.table ?? "?"}\``;
          break;
        case "drop-schema":
        case "drop-database":
          what = `drops ${fact.kind === "drop-schema" ? "schema" : "database"} \`${fact.objectName ?? "?"}\``;
          break;
        default:
          break;
      }
      if (what === null) continue;
      ctx.report({
        range,
        message: `Rolling back \`${ctx.migration.name}\` runs \`${describeStatement(fact)}\`, which ${what}.`,
        help: [
          `\`python manage.py migrate ${ctx.migration.app} <previous migration>\` runs this reverse SQL; the data it removes (written before the migration or since) cannot be recovered by migrating forward again.`,
          "1. Make the reverse keep data: `reverse_sql=migrations.RunSQL.noop` when leaving the forward change in place is harmless, or SQL that restores the old shape without deleting rows.",
          "2. If the loss on rollback is intended, say so in the migration and suppress this finding with a reason.",
        ],
      });
    }
  },
};
