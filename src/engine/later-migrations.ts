/**
 * Findings that depend on what a later migration of the plan does, held until the replay ends.
 *
 * The replay shows the rules one operation at a time, in plan order. A model moved to another app
 * spans migrations of two apps, and which comes first depends on their dependencies: the old app
 * deletes the model from its state and renames its table, the new app creates it in its state on
 * that table (CVAT's quality models, peering-manager's bgp and devices models). A finding on the
 * first half holds only if no later migration of the run does the second. Rules hold such a
 * finding with `deferUntilReplayed` and let it go from their `project` hook with
 * `reportUnlessLater`, which runs right after the replay, in the same synchronous step, and reads
 * the whole plan (a later migration the run does not report counts too).
 */
import type { Operation } from "../model/types.js";
import type { ParsedMigration } from "../parse/parse-migration.js";
import type { ProjectContext } from "./rule-types.js";
import { createModelTable, literalString } from "../state/model-state.js";
import { databaseSideOperations, readableForwardStatements, runSqlFacts } from "./sql-facts-for-operation.js";
import { mayCreateTable } from "./raw-steps.js";

interface Deferred {
  migration: ParsedMigration;
  /** Whether a migration after `migration` in the plan makes the finding moot (none when omitted). */
  cancelledBy?: (later: ParsedMigration) => boolean;
  /** Emits the finding; it may read the whole plan and the state at the replay's end. */
  report: (end: ProjectContext) => void;
}

/** Per rule, the findings held during the current replay. */
const held = new Map<string, Deferred[]>();

/** Holds a finding of `rule` until the replay ends; `report` emits it (an operation context's `report`, kept). */
export function deferUntilReplayed(rule: string, finding: Deferred): void {
  const list = held.get(rule);
  if (list) list.push(finding);
  else held.set(rule, [finding]);
}

/** Emits the held findings of `rule` that no later migration of the plan cancels, and forgets them all. */
export function reportUnlessLater(rule: string, end: ProjectContext): void {
  const list = held.get(rule);
  held.delete(rule);
  if (!list) return;
  const plan = end.graph.plan;
  const position = new Map(plan.map((m, i) => [m, i] as const));
  for (const finding of list) {
    const at = position.get(finding.migration);
    // A finding of another run (one that ended before its rules' `project` ran) is dropped.
    if (at === undefined) continue;
    const { cancelledBy } = finding;
    if (!cancelledBy || !plan.slice(at + 1).some(cancelledBy)) finding.report(end);
  }
}

/** Whether `migration` creates a model in Django's state whose table is `table` (a model moved to another app). */
export function createsModelOnTable(migration: ParsedMigration, table: string): boolean {
  const walk = (ops: readonly Operation[] | undefined): boolean =>
    (ops ?? []).some((op) => (op.kind === "CreateModel" ? createModelTable(op, migration.app) === table : walk(op.stateOperations)));
  return walk(migration.operations);
}

/**
 * Whether `migration` makes `table` exist in the database: a `CreateModel` on it, an
 * `AlterModelTable` to it, or SQL that creates it or renames a table to it (top level, or on the
 * database side of a `SeparateDatabaseAndState`).
 */
export function makesTable(migration: ParsedMigration, table: string): boolean {
  for (const top of migration.operations) {
    for (const op of databaseSideOperations(top)) {
      if (op.kind === "CreateModel" && createModelTable(op, migration.app, true) === table) return true;
      if (op.kind === "AlterModelTable" && literalString(op.args.table) === table) return true;
      if (op.kind === "RunSQL" && (readableForwardStatements(runSqlFacts(op, migration)) ?? []).some((fact) => mayCreateTable(fact, table))) return true;
    }
  }
  return false;
}
