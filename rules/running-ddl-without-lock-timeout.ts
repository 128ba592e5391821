import type { OperationContext, Rule } from "../src/engine/rule-types.js";
import type { ParsedMigration } from "../src/parse/parse-migration.js";
import { lockTimeoutSetBefore } from "../src/engine/lock-timeout.js";
import { dropsTrigger, locksOf } from "../src/engine/table-locks.js";
import { literalString } from "../src/state/model-state.js";
import { parsedStatements, resolveSqlTable } from "../src/engine/sql-facts-for-operation.js";
import { code, lockTimeoutSql, py } from "../src/advice/snippets.js";


/** SQL statements that take no lock worth a timeout. */
const NOT_DDL = new Set(["select", "insert", "update", "delete", "set", "transaction-control", "comment", "create-table", "analyze", "create-extension", "do-block", "other"]);

const seen = new WeakSet<ParsedMigration>();

/** What the operation locks, or null when it takes no table lock on an existing table. */
function lockingChange(ctx: OperationContext): string | null {
  const { op } = ctx;
  if (op.unknown || ctx.effect === "state") return null;
  if (op.thirdParty && op.thirdParty.database !== "same") return null;
  // PostgreSQL 12+ renames an index under SHARE UPDATE EXCLUSIVE on the index alone: reads and
  // writes of the table go on, and nothing queues behind the wait. Before 12 the index is locked
  // ACCESS EXCLUSIVE, and every query planning on the table waits for it.
  const indexRenameIsLight = ctx.target.postgresVersion >= 12;
  if (op.kind === "RunSQL") {
    // A table created earlier in the migration is not visible to other sessions: nothing waits for it.
    const ddl = parsedStatements(ctx.sql(op)?.forward).find(
      ({ fact }) =>
        (!NOT_DDL.has(fact.kind) || dropsTrigger(fact)) &&
        !fact.concurrently &&
        !(fact.kind === "rename-index" && indexRenameIsLight) &&
        // VALIDATE CONSTRAINT takes SHARE UPDATE EXCLUSIVE (ROW SHARE on a referenced table): the
        // application's reads and writes neither wait for it nor queue behind it (Label Studio data_manager 0021).
        fact.kind !== "validate-constraint" &&
        !resolveSqlTable(ctx, fact)?.isNew,
    );
    const what = ddl ? (dropsTrigger(ddl.fact) ? "DROP TRIGGER" : ddl.fact.kind.toUpperCase().replace(/-/g, " ")) : "";
    const by = op.executedBy ? "A `RunPython`'s" : "`RunSQL`";
    if (!ddl) return null;
    // A foreign key locks the table it references too (SHARE ROW EXCLUSIVE), NOT VALID or not.
    const referenced =
      ddl.fact.kind === "add-constraint" && ddl.fact.constraintType === "foreign-key"
        ? [...new Set(ddl.fact.references.map((r) => r.name))].filter((name) => name !== ddl.fact.table)
        : [];
    const also = referenced.length > 0 ? ` (and on ${referenced.map((name) => `\`${name}\``).join(", ")}, which it references)` : "";
    return `${by} ${what}${ddl.fact.table ? ` on \`${ddl.fact.table}\`` : ""}${also}`;
  }
  if (op.kind === "RenameIndex" && !indexRenameIsLight) {
    const model = ctx.model(literalString(op.args.model_name));
    return model && ctx.hasTable(model) && !ctx.isNewTable(model) ? `\`RenameIndex\` on \`${ctx.tableOf(model)}\`` : null;
  }
  // The lock model: only modes that queue the application's queries (SHARE or stronger), so an
  // AlterField of Python-only options (on_delete, help_text) or a concurrent build takes none.
  const [lock, ...rest] = locksOf(ctx);
  if (!lock) return null;
  // The other tables it locks, such as the one a dropped foreign key references (kpi logger 0025:
  // DROP TABLE takes ACCESS EXCLUSIVE on auth_user too, confirmed in pg_locks on PostgreSQL 15).
  const others = new Map<string, string>();
  for (const l of rest) if (l.table !== lock.table && !others.has(l.table)) others.set(l.table, l.what);
  const also = [...others].map(([table, what]) => `\`${table}\`${what === lock.what ? "" : ` for ${what}`}`);
  return `\`${op.kind}\` (${lock.what}) on \`${lock.table}\`${also.length > 0 ? ` (and on ${also.join(", ")})` : ""}`;
}

/**
 * RS507 (opt-in): a migration that locks an existing table with no `lock_timeout` set before it.
 * Off by default: most teams set timeouts for the migration run (role settings, connection
 * options, django-pg-zero-downtime-migrations), which a static tool cannot see.
 */
export const runningDdlWithoutLockTimeout: Rule = {
  meta: {
    code: "RS507",
    name: "running-ddl-without-lock-timeout",
    severity: "warning",
    databases: ["postgresql", "mysql"],
    optIn: true,
    claims: [],
    hazards: ["H33"],
    docs: {
      summary: "A migration that locks an existing table without a `lock_timeout` (opt-in)",
      what: "Flags the first operation of a migration that takes a lock on an existing table that queues the application's queries (SHARE or stronger, as `altering-hot-table` reads them: `AddField`, an `AlterField` that changes the column, `AddIndex`, `AddConstraint`, a foreign key of a new model on the table it references, ..., DDL in `RunSQL`; not an `AlterField` of Python-only options such as `on_delete`, concurrent index builds, `RenameIndex` and `ALTER INDEX ... RENAME` on PostgreSQL 12+, which lock the index alone with SHARE UPDATE EXCLUSIVE, or `VALIDATE CONSTRAINT`, whose SHARE UPDATE EXCLUSIVE no read or write waits for) when no earlier `RunSQL` of the migration sets a non-zero `lock_timeout` (`SET LOCAL lock_timeout = '5s'` in an atomic migration, `SET lock_timeout` in one with `atomic = False`, where SET LOCAL has no effect). On MySQL, where every ALTER TABLE takes an exclusive metadata lock (briefly, even INSTANT or online), the same operations are flagged unless an earlier `RunSQL` sets a non-zero `lock_wait_timeout` (`SET SESSION lock_wait_timeout = 5`). Opt-in, and silent when the configuration says `timeouts-set-by-runner = true`.",
      why: "A DDL statement waits for its lock behind every running query of the table, and every later query of the table waits behind it: a long report or an idle transaction turns a metadata-only change into an outage. `lock_timeout` makes the migration fail fast instead, so it can be retried. It is opt-in because the usual place for the timeout is the migration runner (`ALTER ROLE ... SET lock_timeout`, the connection's `options`, django-pg-zero-downtime-migrations' `ZERO_DOWNTIME_MIGRATIONS_LOCK_TIMEOUT`), which rollsafe cannot see; asking for a `SET` in every migration is the noise squawk users complain about (squawk #678). Select it when migrations are expected to set their own timeouts; note that django-pg-zero-downtime-migrations applies its timeout to schema-editor statements only, not to `RunSQL`/`RunPython` (the Sentry incident behind their `LOCK_TIMEOUT_FORCE`).",
      recipe: [
        "Start the migration with `migrations.RunSQL(\"SET LOCAL lock_timeout = '5s'\", reverse_sql=migrations.RunSQL.noop)` (atomic migrations), or `SET lock_timeout` in one with `atomic = False`.",
        "Or set the timeout for every migration in the runner and declare it: `timeouts-set-by-runner = true`.",
      ],
      severityReason: "Warning: without a timeout a lock wait can queue all traffic to the table, but whether it happens depends on the runner's settings rollsafe cannot see.",
      bad: `migrations.AddField(model_name="book", name="isbn", field=models.CharField(max_length=20, null=True))`,
      good: `migrations.RunSQL("SET LOCAL lock_timeout = '5s'", reverse_sql=migrations.RunSQL.noop),
migrations.AddField(model_name="book", name="isbn", field=models.CharField(max_length=20, null=True))`,
    },
  },
  operation(ctx) {
    if (ctx.target.database === "sqlite") return;
    if (ctx.target.timeoutsSetByRunner) return;
    const { migration } = ctx;
    if (seen.has(migration)) return;
    const change = lockingChange(ctx);
    if (!change) return;
    seen.add(migration);
    if (lockTimeoutSetBefore(ctx)) return;
    if (ctx.target.database === "mysql") {
      ctx.report({
        range: ctx.op.range,
        message: `${change} takes a metadata lock on the table in \`${migration.name}\`, and no \`lock_wait_timeout\` is set before it.`,
        help: [
          "Every ALTER TABLE takes an exclusive metadata lock on its table, briefly even when the change is INSTANT or online; it waits for every open transaction that touched the table, and every new query of the table queues behind it: one long transaction turns this change into an outage until it ends. MySQL's `lock_wait_timeout` defaults to 31536000 seconds (a year); a short one makes the migration fail fast instead, and it can be retried.",
          `1. Make the first operation of the migration set the timeout for the session (it holds for the rest of the migration run's connection):\n${code(`migrations.RunSQL("SET SESSION lock_wait_timeout = 5", reverse_sql=migrations.RunSQL.noop),`)}`,
          "2. Or, when the runner already sets it for every migration (`\"OPTIONS\": {\"init_command\": \"SET SESSION lock_wait_timeout = 5\"}` in the migration database settings), declare it in the configuration: `timeouts-set-by-runner = true`.",
        ],
      });
      return;
    }
    const statement = migration.atomic ? lockTimeoutSql("5s") : "SET lock_timeout = '5s'";
    ctx.report({
      range: ctx.op.range,
      message: `${change} takes a table lock in \`${migration.name}\`, and no \`lock_timeout\` is set before it.`,
      help: [
        "The statement waits for its lock behind every running query of the table, and every new query of the table queues behind it: one long transaction turns this change into an outage until it ends. A `lock_timeout` makes the migration fail fast instead, and it can be retried.",
        `1. Make the first operation of the migration set the timeout${migration.atomic ? " for its transaction" : " for the session (`atomic = False`: SET LOCAL would have no effect)"}:\n${code(`migrations.RunSQL(${py(statement)}, reverse_sql=migrations.RunSQL.noop),`)}`,
        "2. Or, when the runner already sets it for every migration (`ALTER ROLE <migrator> SET lock_timeout = '5s'`, or `\"OPTIONS\": {\"options\": \"-c lock_timeout=5s\"}` in the migration database settings), declare it in the configuration: `timeouts-set-by-runner = true`.",
      ],
    });
  },
};
