/**
 * What the database steps Django's operations do not describe (`ProjectState.rawSteps`: every
 * `RunSQL` that reached the database, and every operation rollsafe cannot read) may have done.
 */
import type { SqlStatementFact } from "../sql/sql-facts.js";
import type { OperationContext } from "./rule-types.js";

/** Statement kinds whose effect on tables cannot be read from their facts (a `DO` block, a function call). */
const OPAQUE_KINDS = new Set<SqlStatementFact["kind"]>(["other", "select"]);

/** Whether a statement names `table`, unqualified or in `public` (the schema Django's tables are in). */
export function onTable(fact: SqlStatementFact, table: string): boolean {
  return fact.table === table && (fact.schema === null || fact.schema === "public");
}

/**
 * Whether a step so far may have done what `does` says: a readable statement for which it holds,
 * a statement whose effect cannot be read (in any app), or a step that cannot be read at all in
 * one of `apps` (the model's and the migration's: SQL or an operation elsewhere rarely reaches
 * another app's tables, and counting them would silence the rules on any project that has one).
 */
export function rawStepsMay(ctx: OperationContext, apps: readonly string[], does: (fact: SqlStatementFact) => boolean): boolean {
  for (const step of ctx.db.rawSteps) {
    const statements = step.statements();
    if (statements === null) {
      if (apps.includes(step.app)) return true;
      continue;
    }
    if (statements.some((fact) => OPAQUE_KINDS.has(fact.kind) || does(fact))) return true;
  }
  return false;
}
