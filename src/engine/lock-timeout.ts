/**
 * Whether a migration bounds its lock waits: a `RunSQL` that sets `lock_timeout` before an
 * operation makes that operation's lock request give up instead of queueing the table's traffic.
 */
import type { Operation } from "../model/types.js";
import type { ParsedMigration } from "../parse/parse-migration.js";
import type { OperationContext } from "./rule-types.js";
import { parsedStatements, type RunSqlFacts } from "./sql-facts-for-operation.js";

/** Whether `op` sets a non-zero `lock_timeout` that lasts for the rest of this migration. */
export function setsLockTimeout(op: Operation, migration: ParsedMigration, sql: (op: Operation) => RunSqlFacts | null): boolean {
  if (op.kind !== "RunSQL" || op.unknown) return false;
  return parsedStatements(sql(op)?.forward).some(({ fact }) => {
    const s = fact.setting;
    if (fact.kind !== "set" || !s || s.name !== "lock_timeout" || s.reset || s.value === null) return false;
    if (/^0+(ms|s|min)?$/i.test(s.value.trim())) return false; // 0 disables the timeout
    // SET LOCAL ends with the transaction: outside one (atomic = False) it has no effect.
    return !s.local || migration.atomic;
  });
}

/** The operations of the migration before `ctx.op` (top level, and the database side of SeparateDatabaseAndState). */
export function operationsBefore(ctx: OperationContext): Operation[] {
  const earlier: Operation[] = [];
  const walk = (ops: Operation[] | undefined): boolean => {
    for (const op of ops ?? []) {
      if (op === ctx.op) return true;
      if (op.kind === "SeparateDatabaseAndState" && walk(op.databaseOperations)) return true;
      earlier.push(op);
    }
    return false;
  };
  walk(ctx.migration.operations);
  return earlier;
}

/** Whether `lock_timeout` is set before `ctx.op`: by an earlier `RunSQL`, or by the runner (`timeouts-set-by-runner`). */
export function lockTimeoutSetBefore(ctx: OperationContext): boolean {
  return ctx.target.timeoutsSetByRunner || operationsBefore(ctx).some((op) => setsLockTimeout(op, ctx.migration, ctx.sql));
}
