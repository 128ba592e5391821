import type { OperationContext, Rule } from "../src/engine/rule-types.js";
import { operationLabel, reachesDatabase } from "../src/engine/resolved-operation.js";
import type { Operation } from "../src/model/types.js";
import { lockTimeoutSetBefore } from "../src/engine/lock-timeout.js";
import { partitionedTable } from "../src/engine/partitioned-tables.js";
import { tableListed } from "../src/engine/table-lists.js";
import { LOCK_RANK, locksOf, type TableLock } from "../src/engine/table-locks.js";
import { literalString } from "../src/state/model-state.js";
import { code, lockTimeoutSql, py, pyValue } from "../src/advice/snippets.js";

/** The `hot-tables` entry naming the lock's table, or null. */
function hotEntry(ctx: OperationContext, lock: TableLock): string | null {
  const list = ctx.target.tables.hot;
  if (lock.model) return tableListed(list, lock.model, lock.table);
  const byTable = tableListed(list, null, lock.table);
  if (byTable) return byTable;
  return lock.key ? (list.find((entry) => entry.toLowerCase() === lock.key) ?? null) : null;
}

/** Steps that avoid touching the hot table at all, for the operations where one exists. */
function avoidingStep(ctx: OperationContext, locks: TableLock[]): string | null {
  const { op } = ctx;
  const hot = locks[0]!;
  if (locks.every((l) => l.referenced) && (op.kind === "CreateModel" || op.kind === "AddField")) {
    return `Declare the foreign key with \`db_constraint=False\`: Django then creates no constraint and takes no lock on \`${hot.table}\` (the relation still works in the ORM; integrity is the application's). If the database must enforce it, add the constraint later with \`RunSQL\` as \`... REFERENCES ... NOT VALID\` (a brief SHARE ROW EXCLUSIVE, under a \`lock_timeout\`) and \`VALIDATE CONSTRAINT\` in a following migration (no lock that blocks traffic).`;
  }
  if (op.kind === "AddField" && hot.model && !hot.referenced) {
    const name = literalString(op.args.name) ?? "field";
    const field = op.args.field ? pyValue(op.args.field) : "models.CharField(max_length=100, null=True)";
    const ext = `${hot.model.name}Extension`;
    return `Keep the new column off \`${hot.table}\`: put it on a one-to-one extension model (PostHog's Team-extension pattern). \`CreateModel\` only creates a new table, and \`db_constraint=False\` keeps its foreign key from locking \`${hot.table}\`:\n${code(
      [
        "migrations.CreateModel(",
        `    name=${py(ext)},`,
        "    fields=[",
        `        (${py(hot.model.key)}, models.OneToOneField(on_delete=models.CASCADE, primary_key=True, serialize=False, to=${py(`${hot.model.app}.${hot.model.key}`)}, db_constraint=False)),`,
        `        (${py(name)}, ${field}),`,
        "    ],",
        "),",
      ].join("\n"),
    )}`;
  }
  const buildsIndex = op.kind === "AddIndex" || (locks.every((l) => l.mode === "SHARE" && !l.referenced) && op.kind !== "RunSQL");
  if ((buildsIndex || op.kind === "RemoveIndex") && partitionedTable(ctx, hot.model ?? null, hot.table)) {
    // PostgreSQL refuses CONCURRENTLY on a partitioned table: an index is built partition by partition, and dropped only with the bounded wait below.
    return buildsIndex
      ? `\`${hot.table}\` is partitioned, and PostgreSQL refuses \`CREATE INDEX CONCURRENTLY\` on it: build the index partition by partition (\`CREATE INDEX ... ON ONLY\` the parent, then per partition \`CREATE INDEX CONCURRENTLY\` and \`ALTER INDEX ... ATTACH PARTITION\`, in \`SeparateDatabaseAndState\`), as \`adding-index-non-concurrently\` spells out with the partitions' names. Only the parent's brief SHARE lock remains.`
      : null;
  }
  if (buildsIndex) {
    return "Build the index concurrently: `AddIndexConcurrently` (`django.contrib.postgres.operations`), or `SeparateDatabaseAndState` with `CREATE INDEX CONCURRENTLY` for a field's `db_index`, in a migration with `atomic = False`. Its SHARE UPDATE EXCLUSIVE lock lets reads and writes through.";
  }
  if (op.kind === "RemoveIndex") {
    return "Drop the index with `RemoveIndexConcurrently` (in a migration with `atomic = False`), which waits for the queries using it instead of blocking them.";
  }
  return null;
}

/**
 * RS213: an operation that takes a traffic-blocking lock (SHARE or stronger) on a table listed in
 * `hot-tables`, directly or through a foreign key referencing it.
 */
export const alteringHotTable: Rule = {
  meta: {
    code: "RS213",
    name: "altering-hot-table",
    severity: "error",
    databases: ["postgresql"],
    claims: [],
    unobservable:
      "The hazard is the traffic that queues behind the lock request while it waits for long-running queries on a busy table; a test database has no such traffic. The locks themselves are ordinary (the same operations on tables not listed in `hot-tables` are fine), so there is no database claim to check.",
    hazards: ["H32"],
    docs: {
      summary: "DDL that locks a table listed in `hot-tables`, directly or through a foreign key to it",
      what: "Reads the `hot-tables` configuration (table names or `app_label.ModelName`) and flags every operation that requests a lock conflicting with the application's traffic (SHARE or stronger) on one of those tables, when the table exists before the migration and Django manages it: `AddField`, `AlterField` (when it emits SQL), `RemoveField`, `RenameField`, `AddIndex`, `RemoveIndex`, `AddConstraint`, `AddConstraintNotValid`, `RemoveConstraint`, `AlterUniqueTogether`, `AlterIndexTogether`, `AlterModelTable`, `AlterOrderWithRespectTo`, `RenameModel`, `DeleteModel`, and DDL in `RunSQL`. Foreign keys count from the other side: a `CreateModel` or `AddField` whose foreign key references a hot table takes SHARE ROW EXCLUSIVE on it; an `AlterField` or `RenameField` of such a foreign key (Django drops the constraint and adds it again) and dropping one (`RemoveField`, `DeleteModel`, `DROP TABLE`) take ACCESS EXCLUSIVE on it; and a `RenameModel` takes ACCESS EXCLUSIVE on each hot table whose foreign key points at the renamed model (Django rebuilds the constraint). Third-party operations that avoid long locks (django-pg-migration-tools' `Safer*`) are reported too: their brief ALTER TABLE steps still queue. Not reported: `AddIndexConcurrently`, `RemoveIndexConcurrently`, `ValidateConstraint`, `RenameIndex` and `COMMENT` (SHARE UPDATE EXCLUSIVE or weaker: reads and writes go on), foreign keys with `db_constraint=False`, state-only operations, unmanaged and proxy models, and tables created in the same migration.",
      why: "A hot table is read or written by nearly every request. PostgreSQL grants table locks in queue order: an ALTER TABLE's ACCESS EXCLUSIVE request waits behind every running query on the table, and every query that arrives after it, reads included, queues behind the waiting request. Even a metadata-only change such as adding a nullable column then stalls all traffic to the table until the longest open transaction ends, and each retry repeats the stall. SHARE (index builds) and SHARE ROW EXCLUSIVE (adding a foreign key, on the referenced table) do the same to every INSERT, UPDATE and DELETE.",
      recipe: [
        "Avoid the lock: put new columns on a one-to-one extension model (a `CreateModel` with a `OneToOneField(..., primary_key=True, db_constraint=False)` to the hot model), declare foreign keys to hot tables with `db_constraint=False`, build indexes with `AddIndexConcurrently`.",
        "When the change must touch the table, bound the wait: make the migration's first operation `RunSQL(\"SET LOCAL lock_timeout = '2s'\")` (or have the runner set `lock_timeout`), and retry `migrate` when it fails with a lock timeout.",
        "Run it in a low-traffic window, after checking `pg_stat_activity` for long-running transactions on the table.",
        "Acknowledge the reviewed migration with `# rollsafe: ignore[altering-hot-table] <reason>` on the operation.",
      ],
      severityReason: "Error: a lock request on a table every request uses can stall the whole site, even for a change that takes milliseconds.",
      config: 'hot-tables = ["library.Book"]\n',
      bad: `migrations.AddField(model_name="book", name="isbn", field=models.CharField(max_length=20, null=True))`,
      good: `migrations.CreateModel(
    name="BookExtension",
    fields=[
        ("book", models.OneToOneField(on_delete=models.CASCADE, primary_key=True, serialize=False, to="library.book", db_constraint=False)),
        ("isbn", models.CharField(max_length=20, null=True)),
    ],
)`,
    },
  },
  operation(ctx) {
    const { op } = ctx;
    if (ctx.target.database !== "postgresql" || ctx.target.tables.hot.length === 0) return;
    if (op.unknown || !reachesDatabase(ctx)) return;
    const all = locksOf(ctx) as (TableLock & { range?: Operation["range"] })[];
    const hot = all.filter((lock) => hotEntry(ctx, lock) !== null);
    if (hot.length === 0) return;
    // One finding per statement range (RunSQL) or per operation, naming each hot table once with its strongest lock.
    // Keyed by offsets: statements of one string whose own offsets cannot be mapped share its range.
    const byRange = new Map<string, { range: Operation["range"]; locks: TableLock[] }>();
    for (const lock of hot) {
      const range = lock.range ?? op.range;
      const key = `${range.startOffset}:${range.endOffset}`;
      const group = byRange.get(key) ?? { range, locks: [] };
      const list = group.locks;
      const same = list.find((l) => l.table === lock.table);
      if (!same) list.push(lock);
      else if (LOCK_RANK[lock.mode] > LOCK_RANK[same.mode]) list.splice(list.indexOf(same), 1, lock);
      byRange.set(key, group);
    }
    const timeoutSet = lockTimeoutSetBefore(ctx);
    const opName = operationLabel(op);
    for (const { range, locks } of byRange.values()) {
      const first = locks[0]!;
      const tables = locks.map((l) => `\`${l.table}\``).join(" and ");
      const strongest = locks.reduce((a, b) => (LOCK_RANK[b.mode] > LOCK_RANK[a.mode] ? b : a));
      const blocks = strongest.mode === "ACCESS EXCLUSIVE" ? "every query of the table (reads included)" : "every INSERT, UPDATE and DELETE on the table";
      const how = locks.map((l) => `${l.what} takes ${l.mode} on \`${l.table}\``).join("; ");
      const steps: string[] = [];
      const avoid = avoidingStep(ctx, locks);
      if (avoid) steps.push(avoid);
      if (timeoutSet) {
        steps.push(
          ctx.target.timeoutsSetByRunner
            ? "If the change must stay, the runner's `lock_timeout` bounds the wait: make the deploy retry `migrate` (with a pause) when it fails with `canceling statement due to lock timeout`, instead of failing the release. An atomic migration rolls back whole, so a retry starts clean."
            : "If the change must stay, the `lock_timeout` this migration sets bounds the wait: retry `migrate` (with a pause) when it fails with `canceling statement due to lock timeout`. An atomic migration rolls back whole, so a retry starts clean.",
        );
      } else {
        const statement = ctx.migration.atomic ? lockTimeoutSql("2s") : "SET lock_timeout = '2s'";
        steps.push(
          `If the change must stay, bound the wait: make the first operation of \`${ctx.migration.name}\` set a lock timeout${ctx.migration.atomic ? "" : " (`atomic = False`: SET LOCAL would have no effect)"}, or have the migration runner set it for every migration (then declare \`timeouts-set-by-runner = true\`):\n${code(`migrations.RunSQL(${py(statement)}, reverse_sql=migrations.RunSQL.noop),`)}\nand retry \`migrate\` (with a pause) when it fails with \`canceling statement due to lock timeout\`${ctx.migration.atomic ? "; an atomic migration rolls back whole, so a retry starts clean" : ""}.`,
        );
      }
      steps.push(
        `Run it in a low-traffic window, after checking for long-running transactions on the table:\n\`\`\`sql\nSELECT pid, now() - xact_start AS age, state, left(query, 60) FROM pg_stat_activity WHERE xact_start < now() - interval '30 seconds' ORDER BY age DESC;\n\`\`\``,
      );
      steps.push(`Once reviewed, acknowledge it on the operation: \`# rollsafe: ignore[altering-hot-table] <reason>\`.`);
      const entry = hotEntry(ctx, first);
      ctx.report({
        range,
        message: `${op.kind === "RunSQL" ? `\`${opName}\` ${first.what.replace(/ \(a foreign key referencing it\)$/, "")}` : `\`${opName}\``} takes ${strongest.mode} on hot table${locks.length > 1 ? "s" : ""} ${tables}: while the request waits for running queries, ${blocks} queues behind it.`,
        help: [
          `${tables} ${locks.length > 1 ? "are" : "is"} listed in \`hot-tables\`${entry && locks.length === 1 ? ` (as \`${entry}\`)` : ""}: ${how}. The request waits behind every running query on the table, and ${blocks} arriving after it waits behind the request, so even a change that takes milliseconds stalls the traffic of ${tables} until the longest open transaction ends${locks.some((l) => l.mode === "SHARE") ? "; an index build then keeps its SHARE lock until the build (and, in an atomic migration, the transaction) ends" : ""}.`,
          ...steps.map((s, i) => `${i + 1}. ${s}`),
        ],
      });
    }
  },
};
