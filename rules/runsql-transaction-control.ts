import type { Rule } from "../src/engine/rule-types.js";
import { describeStatement } from "../src/sql/analyze-sql.js";
import { forwardStatements } from "../src/engine/sql-facts-for-operation.js";

/** RS614: BEGIN/COMMIT/ROLLBACK in `RunSQL`, fighting the transaction Django manages. */
export const runsqlTransactionControl: Rule = {
  meta: {
    code: "RS614",
    name: "runsql-transaction-control",
    severity: "error",
    databases: ["postgresql"],
    claims: [],
    hazards: ["H57"],
    docs: {
      summary: "Transaction control (BEGIN, COMMIT, ROLLBACK) inside `RunSQL`",
      what: "In an atomic migration, flags BEGIN, COMMIT, ROLLBACK, PREPARE TRANSACTION and COMMIT/ROLLBACK PREPARED in `RunSQL` (SAVEPOINT, RELEASE and ROLLBACK TO work inside Django's transaction and are not reported). In an `atomic = False` migration, flags a BEGIN that the same `RunSQL` never commits.",
      why: "Django wraps an atomic migration in one transaction. A COMMIT inside it ends that transaction half-way: what ran so far is committed, the rest runs without the all-or-nothing guarantee, and a failure leaves the migration half-applied and unrecorded. A ROLLBACK silently undoes the earlier operations. A BEGIN left open keeps every lock until the connection ends.",
      recipe: [
        "Remove BEGIN/COMMIT from the SQL and let Django manage the transaction.",
        "If statements must commit separately, set `atomic = False` on the migration and split the operations.",
      ],
      severityReason: "Error: the migration's atomicity breaks, so a failure leaves the database in a state no migration describes.",
      bad: `migrations.RunSQL("UPDATE library_book SET pages = 1 WHERE id = 1; COMMIT;", reverse_sql=migrations.RunSQL.noop)`,
      good: `migrations.RunSQL("UPDATE library_book SET pages = 1 WHERE id = 1", reverse_sql=migrations.RunSQL.noop)`,
    },
  },
  operationKinds: ["RunSQL"],
  operation(ctx) {
    if (ctx.target.database !== "postgresql") return;
    const statements = forwardStatements(ctx);
    if (ctx.migration.atomic) {
      for (const { fact, range } of statements) {
        const action = fact.transaction;
        if (fact.kind !== "transaction-control" || action === null || action === "savepoint" || action === "release" || action === "rollback-to") continue;
        const what =
          action === "begin"
            ? "starts a transaction inside the one Django already opened for this atomic migration (PostgreSQL only warns, and the matching COMMIT then ends Django's)"
            : action === "commit"
              ? "commits Django's migration transaction half-way, so the rest of the migration runs without its all-or-nothing guarantee"
              : action === "rollback"
                ? "rolls back Django's migration transaction, silently undoing the operations before it"
                : "manages a prepared transaction inside Django's migration transaction";
        ctx.report({
          range,
          message: `\`${describeStatement(fact)}\` ${what}.`,
          help: [
            `Django runs \`${ctx.migration.name}\` in one transaction (\`atomic\` is True by default). Ending it from SQL means a later failure leaves the migration half-applied and not recorded, and the next \`migrate\` re-runs statements that already took effect.`,
            "1. Remove the transaction statements and let Django's transaction cover the SQL.",
            "2. If parts must commit separately, set `atomic = False` on the migration and split it into operations that are each safe to re-run.",
          ],
        });
      }
      return;
    }
    let open: (typeof statements)[number] | null = null;
    for (const s of statements) {
      if (s.fact.kind !== "transaction-control") continue;
      if (s.fact.transaction === "begin") open ??= s;
      if (s.fact.transaction === "commit" || s.fact.transaction === "rollback" || s.fact.transaction === "prepare") open = null;
    }
    if (open) {
      ctx.report({
        range: open.range,
        severity: "warning",
        message: `\`${describeStatement(open.fact)}\` opens a transaction that this \`RunSQL\` never commits.`,
        help: [
          "In an `atomic = False` migration nothing commits it for you: the transaction, and every lock taken in it, stays open until Django closes the connection, and later operations run inside it.",
          "1. End the SQL with `COMMIT`, or drop the BEGIN and let each statement commit on its own.",
        ],
      });
    }
  },
};
