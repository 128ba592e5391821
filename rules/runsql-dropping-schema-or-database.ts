import type { Rule } from "../src/engine/rule-types.js";
import { describeStatement } from "../src/sql/analyze-sql.js";
import { forwardStatements } from "../src/engine/sql-facts-for-operation.js";

/** RS620: `DROP SCHEMA` / `DROP DATABASE` in a migration. */
export const runsqlDroppingSchemaOrDatabase: Rule = {
  meta: {
    code: "RS620",
    name: "runsql-dropping-schema-or-database",
    severity: "error",
    databases: ["postgresql", "mysql", "sqlite"],
    claims: [],
    hazards: ["H55"],
    docs: {
      summary: "Raw SQL that drops a whole schema or database",
      what: "Flags `DROP SCHEMA` and `DROP DATABASE` in `RunSQL` (a schema created earlier in the same `RunSQL` is not reported).",
      why: "Every table, view and function in the schema (with CASCADE) or database is gone, for both releases, and no rollback brings them back. A migration also runs on every environment, including ones where the schema holds data you did not mean to lose.",
      recipe: ["Drop the objects you mean to drop, one by one, in a post-deploy migration after the code that uses them is gone; keep schema and database lifecycle out of migrations."],
      severityReason: "Error: irreversible loss of everything in the schema or database.",
      bad: `migrations.RunSQL("DROP SCHEMA reporting CASCADE", reverse_sql=migrations.RunSQL.noop)`,
      good: `migrations.RunSQL("CREATE SCHEMA IF NOT EXISTS reporting", reverse_sql=migrations.RunSQL.noop)`,
    },
  },
  operationKinds: ["RunSQL"],
  operation(ctx) {
    const statements = forwardStatements(ctx);
    statements.forEach(({ fact, range }, i) => {
      if (fact.kind !== "drop-schema" && fact.kind !== "drop-database") return;
      const createdHere = statements
        .slice(0, i)
        .some((s) => s.fact.nodeType === "CreateSchemaStmt" && new RegExp(`^create\\s+schema\\s+(if\\s+not\\s+exists\\s+)?"?${(fact.objectName ?? "").replace(/\W/g, "")}"?(\\s|$)`, "i").test(s.fact.text));
      if (createdHere) return;
      const what = fact.kind === "drop-schema" ? `schema \`${fact.objectName ?? "?"}\`` : `database \`${fact.objectName ?? "?"}\``;
      ctx.report({
        range,
        message: `\`${describeStatement(fact)}\` drops ${what} and everything in it.`,
        help: [
          `Every object in ${what} is lost for both releases${fact.kind === "drop-schema" && !fact.cascade ? " (without CASCADE it fails if the schema is not empty)" : ""}; a rollback cannot restore it, and the migration does the same on every environment it runs on.`,
          "1. Drop the objects you mean to drop explicitly, in a post-deploy migration after no code uses them.",
          "2. Keep creating and dropping schemas or databases out of migrations (provisioning, runbooks).",
        ],
      });
    });
  },
};
