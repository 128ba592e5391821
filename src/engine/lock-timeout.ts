/**
 * Whether a migration bounds its lock waits: a `RunSQL` that sets `lock_timeout` before an
 * operation makes that operation's lock request give up instead of queueing the table's traffic.
 */
import type { Operation } from "../model/types.js";
import type { ParsedMigration } from "../parse/parse-migration.js";
import type { OperationContext } from "./rule-types.js";
import { parsedStatements, type RunSqlFacts } from "./sql-facts-for-operation.js";
import { oncePer } from "../util/collections.js";

/**
 * Whether `op` sets a non-zero lock timeout that lasts for the rest of this migration: PostgreSQL's
 * `lock_timeout`, or MySQL's `lock_wait_timeout` (seconds, for metadata locks; `SET [SESSION]`
 * or `SET LOCAL`, its synonym, which holds for the connection).
 */
export function setsLockTimeout(op: Operation, migration: ParsedMigration, sql: (op: Operation) => RunSqlFacts | null, database: "postgresql" | "mysql" = "postgresql"): boolean {
  if (op.kind !== "RunSQL" || op.unknown) return false;
  const name = database === "mysql" ? "lock_wait_timeout" : "lock_timeout";
  return parsedStatements(sql(op)?.forward).some(({ fact }) => {
    const s = fact.setting;
    if (fact.kind !== "set" || !s || s.name !== name || s.reset || s.value === null) return false;
    if (/^0+(ms|s|min)?$/i.test(s.value.trim())) return false; // 0 disables the timeout
    // MySQL reads SET LOCAL as SET SESSION.
    if (database === "mysql") return true;
    // SET LOCAL ends with the transaction: outside one (atomic = False) it has no effect.
    return !s.local || migration.atomic;
  });
}

/**
 * Whether `lock_timeout` is set before `ctx.op`: by an earlier `RunSQL` (top level, or on the
 * database side of a SeparateDatabaseAndState before it), or by the runner
 * (`timeouts-set-by-runner`). An operation outside those lists (a state-only one) counts every
 * `RunSQL` of the migration.
 */
export function lockTimeoutSetBefore(ctx: OperationContext): boolean {
  if (ctx.target.timeoutsSetByRunner) return true;
  const { before, atEnd } = lockTimeouts(ctx.migration, ctx.sql, ctx.target.database === "mysql" ? "mysql" : "postgresql");
  return before.get(ctx.op) ?? atEnd;
}

/**
 * For each operation of a migration (in the order `lockTimeoutSetBefore` reads them), whether a
 * lock_timeout is set before it, and whether one is by the end. One walk per migration: rules ask
 * for each operation, and a walk per question made a migration of thousands quadratic.
 */
const lockTimeouts = oncePer((migration: ParsedMigration, sql: (op: Operation) => RunSqlFacts | null, database: "postgresql" | "mysql") => {
  const before = new Map<Operation, boolean>();
  let set = false;
  const walk = (ops: Operation[] | undefined): void => {
    for (const op of ops ?? []) {
      before.set(op, set);
      if (op.kind === "SeparateDatabaseAndState") walk(op.databaseOperations);
      set ||= setsLockTimeout(op, migration, sql, database);
    }
  };
  walk(migration.operations);
  return { before, atEnd: set };
});
