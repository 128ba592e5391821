import type { OperationContext, Rule } from "../src/engine/rule-types.js";
import { failureLeftovers, mayBePartitioned, partitionedBecause, partitionedOperationTable, partitionedOrigin, partitionedTable, type PartitionedTableInfo } from "../src/engine/partitioned-tables.js";
import { forwardStatements, modelOfIndex } from "../src/engine/sql-facts-for-operation.js";
import { describeStatement } from "../src/sql/analyze-sql.js";
import { literalString } from "../src/state/model-state.js";
import { LOCK_TIMEOUT_OPERATION, migrationModule, py, runSqlLines, separateDatabaseAndState, sqlIdent } from "../src/advice/snippets.js";
import { operationSource } from "./adding-index-non-concurrently.js";

/**
 * Why a concurrent drop cannot be used on a partitioned table, and what a plain drop costs there:
 * a help line shared with `removing-index-non-concurrently`, which would otherwise advise it.
 */
export function partitionedDropWhy(info: PartitionedTableInfo): string {
  return `\`${info.table}\` is partitioned (${partitionedBecause(info)}): PostgreSQL refuses \`DROP INDEX CONCURRENTLY\` (and so \`RemoveIndexConcurrently\`) on a partitioned index, and the partitions' own indexes cannot be dropped one by one while attached to it. A plain \`DROP INDEX\` takes ACCESS EXCLUSIVE on \`${info.table}\` and on every partition; it reads no rows, so it is held for a moment, but the request waits behind every running query on any partition and every new query waits behind it.`;
}

/** The step that replaces a concurrent drop on a partitioned table: a plain drop that gives up after 5 s. */
export function partitionedDropStep(operations: string[]): string {
  return `Drop it without CONCURRENTLY, in a migration of its own that gives up instead of queueing traffic (if it times out, run \`migrate\` again at a quieter moment):\n${migrationModule(
    [LOCK_TIMEOUT_OPERATION, ...operations],
    { atomic: true },
  )}`;
}

/** The first line of the help: what PostgreSQL does, and how rollsafe knows the table is partitioned. */
function why(ctx: OperationContext, info: PartitionedTableInfo, index: string | null): string {
  return `PostgreSQL refuses it with \`cannot drop partitioned index "${index ?? "..."}" concurrently\`, so \`migrate\` stops here and the deploy fails${failureLeftovers(ctx)}. ${partitionedDropWhy(info)}`;
}

/** RS215: a concurrent index drop on a partitioned table, which PostgreSQL refuses. */
export const removingIndexConcurrentlyOnPartitionedTable: Rule = {
  meta: {
    code: "RS215",
    name: "removing-index-concurrently-on-partitioned-table",
    severity: "error",
    databases: ["postgresql"],
    claims: ["migration-fails"],
    hazards: ["H31"],
    docs: {
      summary: "Dropping an index CONCURRENTLY on a partitioned table, which PostgreSQL refuses",
      what: "Flags `RemoveIndexConcurrently` (and the known third-party equivalents: django-pg-migration-tools' `SaferRemoveIndexConcurrently`, PostHog's `SafeRemoveIndexConcurrently`) on a partitioned table, and `RunSQL` `DROP INDEX CONCURRENTLY` of an index that the model state places on a partitioned table (`Meta.indexes`, `AddIndex`). A table is partitioned when the configuration lists it in `partitioned-tables`, or when a `RunSQL` created it with `CREATE TABLE ... PARTITION BY` (in an earlier migration of any app, or earlier in the same migration); a table named as the parent in `PARTITION OF` or `ATTACH PARTITION` is partitioned too. State-only removals are not flagged.",
      why: 'An index on a partitioned table is a partitioned index, and PostgreSQL cannot drop one concurrently: `DROP INDEX CONCURRENTLY` (Django\'s `RemoveIndexConcurrently` runs `DROP INDEX CONCURRENTLY IF EXISTS`) fails with `cannot drop partitioned index "..." concurrently`. The deploy\'s `migrate` stops at that operation; in the `atomic = False` migration that concurrent operations need, the operations before it stay applied and the migration is not recorded. Unapplying it fails too: the reverse builds the index with `CREATE INDEX CONCURRENTLY`, also refused on a partitioned table. The partitions\' indexes cannot be dropped one at a time instead (`cannot drop index ... because index ... requires it`).',
      recipe: [
        "Use `RemoveIndex` (a plain `DROP INDEX`) in a migration of its own. It takes ACCESS EXCLUSIVE on the parent and every partition, but reads no rows, so the lock lasts a moment once granted.",
        "Make that migration's first operation `RunSQL(\"SET LOCAL lock_timeout = '5s'\")`, so the drop gives up instead of queueing all traffic behind a long query; if it times out, run `migrate` again at a quieter moment.",
      ],
      severityReason:
        "Error: the migration fails on PostgreSQL, so the deploy stops half-way. The verification harness runs the fixtures whose table a `RunSQL` partitioned on PostgreSQL 15 with Django 4.2 and sees the refusal (a table partitioned only in the configuration is a plain table there).",
      config: 'partitioned-tables = ["library_book"]\n',
      bad: `# whole file
from django.contrib.postgres.operations import RemoveIndexConcurrently
from django.db import migrations, models


class Migration(migrations.Migration):

    atomic = False

    dependencies = [("library", "0001_initial")]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AddIndex(model_name="book", index=models.Index(fields=["title"], name="book_title_idx")),
            ],
        ),
        RemoveIndexConcurrently(model_name="book", name="book_title_idx"),
    ]
`,
      good: `# whole file
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [("library", "0001_initial")]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AddIndex(model_name="book", index=models.Index(fields=["title"], name="book_title_idx")),
            ],
        ),
        migrations.RunSQL("SET LOCAL lock_timeout = '5s'", migrations.RunSQL.noop),
        migrations.RemoveIndex(model_name="book", name="book_title_idx"),
    ]
`,
    },
  },
  operationKinds: ["RemoveIndexConcurrently", "RunSQL"],
  operation(ctx) {
    if (ctx.target.database !== "postgresql" || ctx.effect === "state" || ctx.op.unknown || !mayBePartitioned(ctx)) return;
    if (ctx.op.kind === "RemoveIndexConcurrently") return removeIndexConcurrently(ctx);
    if (ctx.op.kind === "RunSQL") return runSql(ctx);
  },
};

function removeIndexConcurrently(ctx: OperationContext): void {
  const { op } = ctx;
  const found = partitionedOperationTable(ctx);
  if (!found) return;
  const { model, table, info } = found;
  const name = literalString(op.args.name);
  const what = op.thirdParty ? op.thirdParty.qualified.slice(op.thirdParty.qualified.lastIndexOf(".") + 1) : "RemoveIndexConcurrently";
  const replacement = `migrations.RemoveIndex(model_name=${py(model.key)}, name=${name === null ? "..." : py(name)}),`;
  ctx.report({
    range: op.range,
    message: `\`${what}\` cannot drop ${name ? `\`${name}\`` : "its index"} from \`${table}\`: the table is partitioned, and PostgreSQL refuses \`DROP INDEX CONCURRENTLY\` on a partitioned index, so the migration fails.`,
    help: [why(ctx, info, name), `1. ${partitionedDropStep([replacement])}`],
    related: partitionedOrigin(ctx, info),
  });
}

function runSql(ctx: OperationContext): void {
  for (const { fact, range } of forwardStatements(ctx)) {
    if (fact.kind !== "drop-index" || !fact.concurrently || fact.index === null) continue;
    if (fact.schema !== null && fact.schema !== "public") continue;
    const model = modelOfIndex(ctx, fact.index);
    if (!model) continue;
    const table = ctx.tableOf(model);
    const info = partitionedTable(ctx, model, table, fact);
    if (!info) continue;
    // The state this RunSQL (or its SeparateDatabaseAndState) records stays as it is.
    const parent = ctx.parent?.kind === "SeparateDatabaseAndState" ? ctx.parent.stateOperations : ctx.op.stateOperations;
    const state = (parent ?? []).map((o) => `${operationSource(o)},`);
    const drop = runSqlLines(`DROP INDEX IF EXISTS ${sqlIdent(fact.index)}`, null);
    ctx.report({
      range,
      message: `\`${describeStatement(fact)}\` fails: \`${fact.index}\` is an index of \`${table}\`, which is partitioned, and PostgreSQL refuses \`DROP INDEX CONCURRENTLY\` on a partitioned index.`,
      help: [why(ctx, info, fact.index), `1. ${partitionedDropStep([state.length > 0 ? separateDatabaseAndState(state, [drop]) : drop])}`],
      related: partitionedOrigin(ctx, info),
    });
  }
}
