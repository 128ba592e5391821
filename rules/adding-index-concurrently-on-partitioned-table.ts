import type { OperationContext, Rule } from "../src/engine/rule-types.js";
import { createIndexDefinition, failureLeftovers, mayBePartitioned, partitionedBecause, partitionedOperationTable, partitionedOrigin, partitionedTable, type PartitionedTableInfo } from "../src/engine/partitioned-tables.js";
import { forwardStatements, resolveSqlTable, tableLabel } from "../src/engine/sql-facts-for-operation.js";
import { describeStatement, type SqlStatementFact } from "../src/sql/analyze-sql.js";
import { literalString } from "../src/state/model-state.js";
import { partitionedIndexSteps, py, pyValue, sqlIdent } from "../src/advice/snippets.js";
import { operationSource, plainIndexColumns } from "./adding-index-non-concurrently.js";

/** The first line of the help: what PostgreSQL does, and how rollsafe knows the table is partitioned. */
function why(ctx: OperationContext, info: PartitionedTableInfo): string {
  return `PostgreSQL refuses it with \`cannot create index on partitioned table "${info.table}" concurrently\`, so \`migrate\` stops here and the deploy fails${failureLeftovers(ctx)}. \`${info.table}\` is partitioned: ${partitionedBecause(info)}.`;
}

/** RS212: a concurrent index build on a partitioned table, which PostgreSQL refuses. */
export const addingIndexConcurrentlyOnPartitionedTable: Rule = {
  meta: {
    code: "RS212",
    name: "adding-index-concurrently-on-partitioned-table",
    severity: "error",
    databases: ["postgresql"],
    claims: ["migration-fails"],
    hazards: ["H31"],
    docs: {
      summary: "Building an index CONCURRENTLY on a partitioned table, which PostgreSQL refuses",
      what: "Flags `AddIndexConcurrently` (and the known third-party equivalents: django-pg-migration-tools' `SaferAddIndexConcurrently`, PostHog's `SafeAddIndexConcurrently`), django-pg-migration-tools' `SaferAddUniqueConstraint`, `SaferAddFieldForeignKey` and `SaferAddFieldOneToOne` (they build their index concurrently, and add the constraint `USING INDEX` or the foreign key `NOT VALID`, all refused on a partitioned table), and `RunSQL` `CREATE [UNIQUE] INDEX CONCURRENTLY` on a partitioned table. A table is partitioned when the configuration lists it in `partitioned-tables`, or when a `RunSQL` created it with `CREATE TABLE ... PARTITION BY` (in an earlier migration of any app, or earlier in the same migration); a table named as the parent in `PARTITION OF` or `ATTACH PARTITION` is partitioned too. Partitions themselves are ordinary tables and are not flagged, nor is a table that `CreateModel` creates in the same migration.",
      why: 'PostgreSQL cannot build an index concurrently on a partitioned table: `CREATE INDEX CONCURRENTLY` on the parent (also with `ON ONLY`) fails with `cannot create index on partitioned table "..." concurrently`. The deploy\'s `migrate` stops at that operation; in the `atomic = False` migration that concurrent builds need, the operations before it stay applied and the migration is not recorded. A plain `CREATE INDEX` on the parent works but holds a SHARE lock on every partition for the whole build, blocking writes.',
      recipe: [
        "In a migration with `atomic = False`, create the parent's index with `CREATE INDEX <name> ON ONLY <parent> (...)`: it is created INVALID and reads no rows (a brief SHARE lock on the parent alone).",
        "For each partition, `CREATE INDEX CONCURRENTLY <partition>_<name> ON <partition> (...)` then `ALTER INDEX <name> ATTACH PARTITION <partition>_<name>`; the parent's index becomes valid once every partition's index is attached, and partitions created later get it automatically.",
        "Put those `RunSQL` (one statement each) in `SeparateDatabaseAndState(state_operations=[AddIndex(...)])` so Django's state still knows the index.",
      ],
      severityReason:
        "Error: the migration fails on PostgreSQL, so the deploy stops half-way. The verification harness runs the fixtures whose table a `RunSQL` partitioned on PostgreSQL 15 with Django 4.2 and sees the refusal (a table partitioned only in the configuration is a plain table there).",
      bad: `# whole file
from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import migrations, models


class Migration(migrations.Migration):

    atomic = False

    dependencies = [("library", "0001_initial")]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="Event",
                    fields=[
                        ("id", models.BigIntegerField(primary_key=True)),
                        ("kind", models.CharField(max_length=20)),
                    ],
                    options={"db_table": "library_event"},
                ),
            ],
            database_operations=[
                migrations.RunSQL(
                    "CREATE TABLE IF NOT EXISTS library_event (id bigint NOT NULL, kind varchar(20) NOT NULL) PARTITION BY HASH (id)",
                    reverse_sql="DROP TABLE IF EXISTS library_event",
                ),
            ],
        ),
        AddIndexConcurrently(model_name="event", index=models.Index(fields=["kind"], name="event_kind_idx")),
    ]
`,
      good: `# whole file
from django.db import migrations, models


class Migration(migrations.Migration):

    atomic = False

    dependencies = [("library", "0001_initial")]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="Event",
                    fields=[
                        ("id", models.BigIntegerField(primary_key=True)),
                        ("kind", models.CharField(max_length=20)),
                    ],
                    options={"db_table": "library_event"},
                ),
            ],
            database_operations=[
                migrations.RunSQL(
                    "CREATE TABLE IF NOT EXISTS library_event (id bigint NOT NULL, kind varchar(20) NOT NULL) PARTITION BY HASH (id)",
                    reverse_sql="DROP TABLE IF EXISTS library_event",
                ),
                migrations.RunSQL(
                    "CREATE TABLE IF NOT EXISTS library_event_0 PARTITION OF library_event FOR VALUES WITH (MODULUS 2, REMAINDER 0)",
                    reverse_sql=migrations.RunSQL.noop,
                ),
                migrations.RunSQL(
                    "CREATE TABLE IF NOT EXISTS library_event_1 PARTITION OF library_event FOR VALUES WITH (MODULUS 2, REMAINDER 1)",
                    reverse_sql=migrations.RunSQL.noop,
                ),
            ],
        ),
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AddIndex(model_name="event", index=models.Index(fields=["kind"], name="event_kind_idx")),
            ],
            database_operations=[
                migrations.RunSQL(
                    'CREATE INDEX IF NOT EXISTS "event_kind_idx" ON ONLY "library_event" ("kind")',
                    reverse_sql='DROP INDEX IF EXISTS "event_kind_idx"',
                ),
                migrations.RunSQL(
                    'CREATE INDEX CONCURRENTLY IF NOT EXISTS "library_event_0_event_kind_idx" ON "library_event_0" ("kind")',
                    reverse_sql=migrations.RunSQL.noop,
                ),
                migrations.RunSQL(
                    'ALTER INDEX "event_kind_idx" ATTACH PARTITION "library_event_0_event_kind_idx"',
                    reverse_sql=migrations.RunSQL.noop,
                ),
                migrations.RunSQL(
                    'CREATE INDEX CONCURRENTLY IF NOT EXISTS "library_event_1_event_kind_idx" ON "library_event_1" ("kind")',
                    reverse_sql=migrations.RunSQL.noop,
                ),
                migrations.RunSQL(
                    'ALTER INDEX "event_kind_idx" ATTACH PARTITION "library_event_1_event_kind_idx"',
                    reverse_sql=migrations.RunSQL.noop,
                ),
            ],
        ),
    ]
`,
    },
  },
  operationKinds: ["AddIndexConcurrently", "RunSQL", "AddConstraint", "AddField"],
  operation(ctx) {
    if (ctx.target.database !== "postgresql" || ctx.op.unknown || !mayBePartitioned(ctx)) return;
    // The engine sees a third-party operation that changes the database safely as state-only (its
    // lock rules do not apply); it does run its SQL, unless it sits in state_operations.
    const safer = ctx.op.thirdParty ? SAFER_CONCURRENT_BUILDS.get(ctx.op.thirdParty.qualified) : undefined;
    if (safer) return ctx.parent?.kind === "SeparateDatabaseAndState" && ctx.effect === "state" ? undefined : saferOperation(ctx, safer);
    if (ctx.effect === "state") return;
    if (ctx.op.kind === "AddIndexConcurrently") return addIndexConcurrently(ctx);
    if (ctx.op.kind === "RunSQL") return runSql(ctx);
  },
};

/**
 * django-pg-migration-tools operations whose SQL PostgreSQL refuses on a partitioned table (they
 * build their index concurrently, and attach a constraint `USING INDEX` or add a foreign key
 * `NOT VALID`), with the Django operation whose advice gives the per-partition recipe instead.
 */
const SAFER_CONCURRENT_BUILDS = new Map<string, { refused: string; instead: string; rule: string }>([
  [
    "django_pg_migration_tools.operations.SaferAddUniqueConstraint",
    { refused: "its `CREATE UNIQUE INDEX CONCURRENTLY` and `ADD CONSTRAINT ... USING INDEX`", instead: "AddConstraint", rule: "adding-unique-constraint" },
  ],
  [
    "django_pg_migration_tools.operations.SaferAddFieldForeignKey",
    { refused: "its `CREATE INDEX CONCURRENTLY` of the column's index and its `NOT VALID` foreign key", instead: "AddField", rule: "adding-foreign-key-constraint" },
  ],
  [
    "django_pg_migration_tools.operations.SaferAddFieldOneToOne",
    { refused: "its `CREATE UNIQUE INDEX CONCURRENTLY`, `ADD CONSTRAINT ... USING INDEX` and `NOT VALID` foreign key", instead: "AddField", rule: "adding-foreign-key-constraint" },
  ],
]);

function saferOperation(ctx: OperationContext, safer: { refused: string; instead: string; rule: string }): void {
  const { op } = ctx;
  const found = partitionedOperationTable(ctx);
  if (!found) return;
  const { table, info } = found;
  const what = op.thirdParty?.qualified.slice(op.thirdParty.qualified.lastIndexOf(".") + 1) ?? op.kind;
  ctx.report({
    range: op.range,
    message: `\`${what}\` fails on \`${table}\`: the table is partitioned, and PostgreSQL refuses ${safer.refused} on a partitioned table.`,
    help: [
      `\`migrate\` stops at this operation and the deploy fails${failureLeftovers(ctx)}. \`${table}\` is partitioned: ${partitionedBecause(info)}.`,
      `1. Write it with Django's own \`${safer.instead}\` instead: rollsafe's \`${safer.rule}\` then gives the recipe that works on a partitioned table, partition by partition, with the names of \`${table}\`'s partitions.`,
    ],
    related: partitionedOrigin(ctx, info),
  });
}

function addIndexConcurrently(ctx: OperationContext): void {
  const { op } = ctx;
  const index = op.args.index;
  const found = index ? partitionedOperationTable(ctx) : null;
  if (!index || !found) return;
  const { model, table, info } = found;
  const name = index.kind === "call" ? literalString(index.kwargs.name) : null;
  const plain = plainIndexColumns(ctx, model, index);
  const definition = plain ? `(${plain.columns.map((c, i) => `${sqlIdent(c)}${plain.desc[i] ? " DESC" : ""}`).join(", ")})` : null;
  const state = `migrations.AddIndex(\n    model_name=${py(model.key)},\n    index=${pyValue(index)},\n),`;
  const steps = partitionedIndexSteps({ parent: info.table, partitions: info.partitions, index: name ?? "<index name>", definition, unique: false }, [state]);
  const what = op.thirdParty ? op.thirdParty.qualified.slice(op.thirdParty.qualified.lastIndexOf(".") + 1) : "AddIndexConcurrently";
  ctx.report({
    range: op.range,
    message: `\`${what}\` cannot build ${name ? `\`${name}\`` : "its index"} on \`${table}\`: the table is partitioned, and PostgreSQL refuses \`CREATE INDEX CONCURRENTLY\` on a partitioned table, so the migration fails.`,
    help: [why(ctx, info), ...steps.map((s, i) => `${i + 1}. ${s}`)],
    related: partitionedOrigin(ctx, info),
  });
}

function runSql(ctx: OperationContext): void {
  for (const { fact, range } of forwardStatements(ctx)) {
    if (fact.kind !== "create-index" || !fact.concurrently || fact.table === null) continue;
    const ref = resolveSqlTable(ctx, fact);
    if (!ref) continue;
    const info = partitionedTable(ctx, ref.model ?? ref.dbModel, fact.schema === null || fact.schema === "public" ? fact.table : ref.table, fact);
    if (!info) continue;
    report(ctx, fact, range, info, tableLabel(ref));
  }
}

function report(ctx: OperationContext, fact: SqlStatementFact, range: OperationContext["op"]["range"], info: PartitionedTableInfo, label: string): void {
  const name = fact.index ?? `${info.table}_${fact.columns.join("_") || "<column>"}_idx`;
  // The state this RunSQL (or its SeparateDatabaseAndState) records stays as it is.
  const parent = ctx.parent?.kind === "SeparateDatabaseAndState" ? ctx.parent.stateOperations : ctx.op.stateOperations;
  const state = (parent ?? []).map((o) => `${operationSource(o)},`);
  const steps = partitionedIndexSteps({ parent: info.table, partitions: info.partitions, index: name, definition: createIndexDefinition(fact.text), unique: fact.unique }, state);
  ctx.report({
    range,
    message: `\`${describeStatement(fact)}\` fails: ${label} is partitioned, and PostgreSQL refuses \`CREATE INDEX CONCURRENTLY\` on a partitioned table.`,
    help: [why(ctx, info), ...steps.map((s, i) => `${i + 1}. ${s}`)],
    related: partitionedOrigin(ctx, info),
  });
}
