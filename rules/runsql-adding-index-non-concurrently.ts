import type { Rule } from "../src/engine/rule-types.js";
import { describeStatement } from "../src/sql/analyze-sql.js";
import { forwardStatements, resolveSqlTable, tableLabel } from "../src/engine/sql-facts-for-operation.js";
import { code, nonAtomicMigration, partitionedIndexSteps, py, sqlIdent } from "../src/advice/snippets.js";
import { createIndexDefinition, partitionedBecause, partitionedOrigin, partitionedTable } from "../src/engine/partitioned-tables.js";

/** `CREATE [UNIQUE] INDEX ...` with CONCURRENTLY inserted after INDEX. */
function concurrentVersion(text: string): string | null {
  const match = /^(\s*create\s+(?:unique\s+)?index)(\s+)/i.exec(text);
  return match ? `${match[1]} CONCURRENTLY${match[2]}${text.slice(match[0].length)}` : null;
}

/** RS607: `RunSQL` `CREATE INDEX` without CONCURRENTLY on an existing table. */
export const runsqlAddingIndexNonConcurrently: Rule = {
  meta: {
    code: "RS607",
    name: "runsql-adding-index-non-concurrently",
    severity: "error",
    databases: ["postgresql"],
    claims: ["blocking-lock"],
    hazards: ["H16"],
    docs: {
      summary: "Raw SQL that builds an index without CONCURRENTLY on an existing table",
      what: "Flags `CREATE [UNIQUE] INDEX` without `CONCURRENTLY` in `RunSQL` on a table that exists before the migration (PostgreSQL). Indexes on tables created earlier in the same migration (by `CreateModel` or `CREATE TABLE`) and `CREATE INDEX ON ONLY <partitioned parent>` (which builds nothing) are not reported.",
      why: "A plain `CREATE INDEX` holds a SHARE lock on the table for the whole build: every INSERT, UPDATE and DELETE waits until the index is built, which takes minutes on a large table.",
      recipe: [
        "Move the statement to its own migration with `atomic = False` (PostgreSQL refuses CONCURRENTLY inside a transaction).",
        "Write `CREATE INDEX CONCURRENTLY ...` with `reverse_sql='DROP INDEX CONCURRENTLY IF EXISTS ...'`.",
        "If a concurrent build fails it leaves an INVALID index: drop it (`DROP INDEX CONCURRENTLY IF EXISTS ...`) before retrying.",
        "On a partitioned table PostgreSQL refuses CONCURRENTLY: write `CREATE INDEX ... ON ONLY <parent>`, then per partition `CREATE INDEX CONCURRENTLY` + `ALTER INDEX ... ATTACH PARTITION` (see `adding-index-concurrently-on-partitioned-table`).",
      ],
      severityReason: "Error: writes to an existing table block for the whole index build.",
      bad: `migrations.RunSQL("CREATE INDEX library_book_pages_idx ON library_book (pages)", reverse_sql="DROP INDEX library_book_pages_idx")`,
      good: `migrations.RunSQL(
    "CREATE TABLE library_shelf (id bigint PRIMARY KEY, code text); CREATE INDEX library_shelf_code_idx ON library_shelf (code)",
    reverse_sql="DROP TABLE library_shelf",
)`,
    },
  },
  operationKinds: ["RunSQL"],
  operation(ctx) {
    if (ctx.target.database !== "postgresql") return;
    for (const { fact, range } of forwardStatements(ctx)) {
      if (fact.kind !== "create-index" || fact.concurrently || fact.only) continue;
      const ref = resolveSqlTable(ctx, fact);
      if (!ref || ref.isNew) continue;
      const partitioned = partitionedTable(ctx, ref.model ?? ref.dbModel, fact.schema === null || fact.schema === "public" ? (fact.table ?? ref.table) : ref.table, fact);
      if (partitioned) {
        // PostgreSQL refuses CONCURRENTLY on a partitioned table: the advice is the per-partition recipe.
        const definition = createIndexDefinition(fact.text);
        const steps = partitionedIndexSteps(
          { parent: partitioned.table, partitions: partitioned.partitions, index: fact.index ?? `${partitioned.table}_${fact.columns.join("_") || "<column>"}_idx`, definition, unique: fact.unique },
          [],
        );
        ctx.report({
          range,
          message: `\`${describeStatement(fact)}\` builds an index on ${tableLabel(ref)} without CONCURRENTLY, blocking writes for the whole build.`,
          help: [
            `A plain CREATE INDEX on a partitioned table builds the index on every partition, holding a SHARE lock on each until the build ends: every INSERT, UPDATE and DELETE of both releases waits. \`${partitioned.table}\` is partitioned (${partitionedBecause(partitioned)}), and PostgreSQL refuses CONCURRENTLY there.`,
            ...steps.map((s, i) => `${i + 1}. ${s}`),
          ],
          related: partitionedOrigin(ctx, partitioned),
        });
        continue;
      }
      const concurrent = concurrentVersion(fact.text) ?? `CREATE INDEX CONCURRENTLY ... ON ${fact.table ?? "?"} (...)`;
      const reverse = fact.index ? `DROP INDEX CONCURRENTLY IF EXISTS ${sqlIdent(fact.index)}` : null;
      const runSql = `migrations.RunSQL(\n    sql=${py(concurrent)},\n    reverse_sql=${reverse ? py(reverse) : "migrations.RunSQL.noop"},\n)`;
      ctx.report({
        range,
        message: `\`${describeStatement(fact)}\` builds an index on ${tableLabel(ref)} without CONCURRENTLY, blocking writes for the whole build.`,
        help: [
          `A plain CREATE INDEX holds a SHARE lock on \`${ref.table}\` until the build ends: every INSERT, UPDATE and DELETE of both releases waits, for minutes on a large table.`,
          "1. Move the statement to a migration of its own that runs outside a transaction, and build the index concurrently:\n" + nonAtomicMigration([runSql]),
          `2. A failed concurrent build leaves an INVALID index; drop it before retrying:\n${code(`migrations.RunSQL(${py(reverse ?? "DROP INDEX CONCURRENTLY IF EXISTS <index>")}, reverse_sql=migrations.RunSQL.noop)`)}`,
        ],
      });
    }
  },
};
