import type { Rule } from "../src/engine/rule-types.js";
import { describeStatement } from "../src/sql/analyze-sql.js";
import { code, nonAtomicMigration, py } from "../src/advice/snippets.js";

/** RS611: a statement PostgreSQL refuses inside a transaction, where Django runs it in one. */
export const runsqlConcurrentlyInAtomicMigration: Rule = {
  meta: {
    code: "RS611",
    name: "runsql-concurrently-in-atomic-migration",
    severity: "error",
    databases: ["postgresql"],
    claims: [],
    hazards: ["H16", "H57"],
    docs: {
      summary: "`CONCURRENTLY` (or another statement PostgreSQL refuses in a transaction) inside an atomic migration",
      what: "Flags statements that cannot run inside a transaction block (CREATE/DROP INDEX CONCURRENTLY, REINDEX CONCURRENTLY, VACUUM, DETACH PARTITION CONCURRENTLY, CREATE/DROP DATABASE...) in a `RunSQL` of a migration that is atomic (Django's default). In an `atomic = False` migration, it also flags such a statement sharing one list item or `(sql, params)` tuple with other statements: Django executes an item whole, and PostgreSQL runs a multi-statement query as one implicit transaction. A plain string is split by Django into separate statements, so it is fine.",
      why: "PostgreSQL rejects the statement (`cannot run inside a transaction block`), so the migration fails on deploy and everything before it in the migration is rolled back.",
      recipe: [
        "Put the statement in a migration of its own with `atomic = False`.",
        "Give each such statement its own list item (or use a plain string, which Django splits).",
      ],
      severityReason: "Error: the migration fails when it runs, stopping the deploy.",
      bad: `migrations.RunSQL("CREATE INDEX CONCURRENTLY library_book_pages_idx ON library_book (pages)", reverse_sql="DROP INDEX CONCURRENTLY library_book_pages_idx")`,
      good: `migrations.RunSQL("SET LOCAL lock_timeout = '5s'", reverse_sql=migrations.RunSQL.noop)`,
    },
  },
  operationKinds: ["RunSQL"],
  operation(ctx) {
    if (ctx.target.database !== "postgresql" || ctx.effect === "state") return;
    const facts = ctx.sql(ctx.op);
    if (facts?.forward.kind !== "sql") return;
    for (const chunk of facts.forward.chunks) {
      if (chunk.status !== "ok") continue;
      for (const { fact, range } of chunk.statements) {
        if (!fact.notInTransaction) continue;
        const statement = `\`${describeStatement(fact)}\``;
        if (ctx.migration.atomic) {
          ctx.report({
            range,
            message: `${statement} cannot run inside a transaction block, and \`${ctx.migration.name}\` is atomic, so the migration fails.`,
            help: [
              "Django runs an atomic migration (the default) in one transaction on PostgreSQL; PostgreSQL then rejects this statement with \"cannot run inside a transaction block\", the migration fails and the deploy stops.",
              `1. Move the statement to a migration of its own that runs outside a transaction:\n${nonAtomicMigration([`migrations.RunSQL(${py(fact.text)}, reverse_sql=migrations.RunSQL.noop)`])}`,
              "2. Keep other operations out of that migration: without a transaction, a failure half-way leaves the earlier ones applied.",
            ],
          });
        } else if (!chunk.split && chunk.statements.length > 1 && new Set(chunk.statements.map((s) => s.fact.offset)).size > 1) {
          ctx.report({
            range,
            message: `${statement} shares one list item with other statements; PostgreSQL runs them as one implicit transaction, so it fails.`,
            help: [
              "Django executes each list item (and each `(sql, params)` tuple) with a single `cursor.execute`; PostgreSQL runs a multi-statement query in an implicit transaction block and rejects this statement inside it.",
              `1. Give the statement its own list item:\n${code(`migrations.RunSQL([${py(fact.text)}, ...], reverse_sql=...)`)}`,
            ],
          });
        }
      }
    }
  },
};
