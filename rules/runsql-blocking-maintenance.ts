import type { Rule } from "../src/engine/rule-types.js";
import type { SqlStatementFact } from "../src/sql/analyze-sql.js";
import { describeStatement } from "../src/sql/analyze-sql.js";
import { forwardStatements, resolveSqlTable, tableLabel } from "../src/engine/sql-facts-for-operation.js";

/** What a maintenance statement blocks, and the way around it; null when it is not one of them. */
function hazardOf(fact: SqlStatementFact, pg: number): { blocks: string; instead: string } | null {
  switch (fact.kind) {
    case "vacuum-full":
      return { blocks: "rewrites the table under ACCESS EXCLUSIVE (no reads or writes until it ends)", instead: "Use plain `VACUUM` (no blocking lock), or pg_repack / pg_squeeze outside the migration." };
    case "cluster":
      return { blocks: "rewrites the table in index order under ACCESS EXCLUSIVE (no reads or writes until it ends)", instead: "Run pg_repack outside the migration, or skip the physical reordering." };
    case "reindex":
      if (fact.concurrently) return null;
      return {
        blocks: "locks out writes to the table (and reads through the rebuilt indexes) for the whole rebuild",
        instead: pg >= 12 ? "Use `REINDEX ... CONCURRENTLY` (PostgreSQL 12+) in a migration with `atomic = False`." : `PostgreSQL ${pg} has no REINDEX CONCURRENTLY: build a new index with CREATE INDEX CONCURRENTLY, then drop the old one concurrently.`,
      };
    case "set-tablespace":
      return { blocks: "copies the table (or index) to the new tablespace under ACCESS EXCLUSIVE", instead: "Move data outside the deploy, in a maintenance window." };
    case "set-logged":
    case "set-unlogged":
      return { blocks: "rewrites the table under ACCESS EXCLUSIVE", instead: "Create a new table with the wanted persistence and copy in batches, or do it in a maintenance window." };
    case "set-access-method":
      return { blocks: "rewrites the table under ACCESS EXCLUSIVE", instead: "Do it in a maintenance window, or copy into a new table in batches." };
    case "detach-partition":
      if (fact.concurrently) return null;
      return {
        blocks: "takes ACCESS EXCLUSIVE on the partitioned table, blocking every query on all its partitions",
        instead: pg >= 14 ? "Use `DETACH PARTITION ... CONCURRENTLY` (PostgreSQL 14+) in a migration with `atomic = False`." : "Upgrade to PostgreSQL 14+ for DETACH PARTITION CONCURRENTLY, or detach in a low-traffic window with a short `lock_timeout`.",
      };
    default:
      return null;
  }
}

/** RS617: table maintenance in `RunSQL` that rewrites or blocks an existing table. */
export const runsqlBlockingMaintenance: Rule = {
  meta: {
    code: "RS617",
    name: "runsql-blocking-maintenance",
    severity: "error",
    databases: ["postgresql"],
    claims: ["blocking-lock"],
    hazards: ["H56", "H29"],
    docs: {
      summary: "Raw SQL table maintenance that blocks the table: VACUUM FULL, CLUSTER, REINDEX, tablespace and persistence changes",
      what: "Flags `VACUUM FULL`, `CLUSTER`, `REINDEX` without CONCURRENTLY, `SET TABLESPACE`, `SET LOGGED`/`UNLOGGED`, `SET ACCESS METHOD` and `DETACH PARTITION` without CONCURRENTLY in `RunSQL` (PostgreSQL). Tables created in the same migration are skipped.",
      why: "Each of these rewrites or rebuilds under a lock that blocks writes (and mostly reads) of the table for as long as it runs, which grows with the table.",
      recipe: [
        "Use the concurrent form where PostgreSQL has one (`REINDEX CONCURRENTLY` 12+, `DETACH PARTITION CONCURRENTLY` 14+) in an `atomic = False` migration.",
        "Run the rest (VACUUM FULL, CLUSTER, tablespace moves) as operations work outside deploys, with pg_repack where possible.",
      ],
      severityReason: "Error: an existing table is blocked for the duration of a rewrite or rebuild.",
      bad: `migrations.RunSQL("CLUSTER library_book USING library_book_pkey", reverse_sql=migrations.RunSQL.noop)`,
      good: `migrations.RunSQL("ANALYZE library_book", reverse_sql=migrations.RunSQL.noop)`,
    },
  },
  operationKinds: ["RunSQL"],
  operation(ctx) {
    if (ctx.target.database !== "postgresql") return;
    for (const { fact, range } of forwardStatements(ctx)) {
      const hazard = hazardOf(fact, ctx.target.postgresVersion);
      if (!hazard) continue;
      const ref = resolveSqlTable(ctx, fact);
      if (ref?.isNew) continue;
      ctx.report({
        range,
        message: `\`${describeStatement(fact)}\` ${hazard.blocks}${ref ? ` on ${tableLabel(ref)}` : ""}.`,
        help: [
          "The lock lasts as long as the rewrite or rebuild, which grows with the table: the application's queries queue behind it, and every later query queues behind them.",
          `1. ${hazard.instead}`,
          "2. Maintenance like this belongs in an operations runbook, not in a migration that runs on every deploy and every fresh database.",
        ],
      });
    }
  },
};
