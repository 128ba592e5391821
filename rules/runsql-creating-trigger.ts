import type { Rule } from "../src/engine/rule-types.js";
import { describeStatement } from "../src/sql/analyze-sql.js";
import { forwardStatements, resolveSqlTable, tableLabel } from "../src/engine/sql-facts-for-operation.js";

/** RS618: `RunSQL` `CREATE TRIGGER` on an existing table. */
export const runsqlCreatingTrigger: Rule = {
  meta: {
    code: "RS618",
    name: "runsql-creating-trigger",
    severity: "warning",
    databases: ["postgresql"],
    claims: ["blocking-lock"],
    unobservable: "`CREATE TRIGGER` takes SHARE ROW EXCLUSIVE (which blocks every INSERT, UPDATE and DELETE) without scanning the table, so on a quiet table it is released at once; the hazard is the wait: the lock request queues behind any long-running write on the table, and every new write queues behind it, and the trigger then slows every later write.",
    hazards: ["H56"],
    docs: {
      summary: "Raw SQL that creates a trigger on an existing table",
      what: "Flags `CREATE [OR REPLACE] TRIGGER` in `RunSQL` on a table that exists before the migration (PostgreSQL). Triggers on tables created in the same migration are not reported.",
      why: "CREATE TRIGGER takes a SHARE ROW EXCLUSIVE lock, which blocks every write to the table while it waits in the lock queue; and from then on the trigger runs inside the old release's writes too, which may not expect it.",
      recipe: [
        "Set a short `lock_timeout` first (`SET LOCAL lock_timeout = '2s'`) so the lock request fails fast instead of queueing writes, and retry.",
        "Make sure the trigger function works for rows written by both releases.",
      ],
      severityReason: "Warning: the lock is brief once granted; the risk is queueing behind long transactions and the trigger's effect on the old release.",
      bad: `migrations.RunSQL("CREATE TRIGGER book_touch BEFORE UPDATE ON library_book FOR EACH ROW EXECUTE FUNCTION touch()", reverse_sql="DROP TRIGGER book_touch ON library_book")`,
      good: `migrations.RunSQL(
    "CREATE TABLE library_audit (id bigint); CREATE TRIGGER audit_touch BEFORE UPDATE ON library_audit FOR EACH ROW EXECUTE FUNCTION touch()",
    reverse_sql="DROP TABLE library_audit",
)`,
    },
  },
  operationKinds: ["RunSQL"],
  operation(ctx) {
    if (ctx.target.database !== "postgresql") return;
    const statements = forwardStatements(ctx);
    for (const { fact, range } of statements) {
      if (fact.kind !== "create-trigger") continue;
      const ref = resolveSqlTable(ctx, fact);
      if (!ref || ref.isNew) continue;
      const timeout = statements.some((s) => s.fact.kind === "set" && s.fact.setting?.name === "lock_timeout" && !s.fact.setting.reset);
      ctx.report({
        range,
        message: `\`${describeStatement(fact)}\` takes a SHARE ROW EXCLUSIVE lock on ${tableLabel(ref)}, blocking its writes while it waits.`,
        help: [
          `The lock conflicts with every INSERT, UPDATE and DELETE on \`${ref.table}\`: if a long transaction holds the table, the request waits and all writes queue behind it. Once created, the trigger also fires for the old release's writes.`,
          timeout ? "1. A `lock_timeout` is set in this SQL; keep it short and retry on timeout." : "1. Put `SET LOCAL lock_timeout = '2s'` before the statement so it fails fast instead of queueing writes, and retry the deploy on timeout.",
          "2. Check that the trigger function handles rows written by the old release.",
        ],
      });
    }
  },
};
