import type { Rule } from "../src/engine/rule-types.js";
import { code } from "../src/advice/snippets.js";

/** RS402: `RunSQL` without `reverse_sql`: the migration cannot be rolled back. */
export const runsqlWithoutReverseSql: Rule = {
  meta: {
    code: "RS402",
    name: "runsql-without-reverse-sql",
    severity: "warning",
    databases: ["postgresql", "mysql", "sqlite"],
    claims: [],
    hazards: ["H44"],
    docs: {
      summary: "`RunSQL` without `reverse_sql`, which makes the migration irreversible",
      what: "Flags `RunSQL` (also inside `SeparateDatabaseAndState.database_operations`) whose `reverse_sql` is missing or `None`. `reverse_sql=migrations.RunSQL.noop` is an explicit choice and is not reported; `reverse_sql=migrations.RunPython.noop` is, because Django cannot split a function into SQL statements and the reversal fails with a `TypeError`.",
      why: "Django refuses to unapply the migration (`IrreversibleError`), so a release cannot be rolled back past it with `migrate`, exactly when a bad deploy needs it.",
      recipe: [
        "Give `reverse_sql` the SQL that undoes the change, or `migrations.RunSQL.noop` when leaving the change in place on rollback is harmless.",
      ],
      severityReason: "Warning: nothing breaks during the deploy, but the rollback path is gone.",
      bad: `migrations.RunSQL("COMMENT ON TABLE library_book IS 'Books'")`,
      good: `migrations.RunSQL("COMMENT ON TABLE library_book IS 'Books'", reverse_sql="COMMENT ON TABLE library_book IS NULL")`,
    },
  },
  operationKinds: ["RunSQL"],
  operation(ctx) {
    if (ctx.effect === "state") return;
    const facts = ctx.sql(ctx.op);
    if (facts?.reverse.kind === "python-noop") {
      ctx.report({
        range: facts.reverse.range,
        message: `\`reverse_sql\` is \`RunPython.noop\`, a Python function, so unapplying \`${ctx.migration.name}\` fails with a \`TypeError\`.`,
        help: [
          "`RunSQL` splits what `reverse_sql` holds into SQL statements before it runs any: a function is not text, so Django raises `TypeError: Expected text or file-like object, got <class 'function'>` (sqlparse, checked with Django 4.2), and `migrate` stops when a release has to be rolled back.",
          `1. Use the SQL no-op:\n${code("reverse_sql=migrations.RunSQL.noop,")}`,
        ],
      });
      return;
    }
    if (!facts || facts.reverse.kind !== "missing") return;
    ctx.report({
      range: ctx.op.range,
      message: `\`RunSQL\` in \`${ctx.migration.name}\` has no \`reverse_sql\`, so the migration cannot be rolled back.`,
      help: [
        "Django raises `IrreversibleError` when asked to unapply it, so `migrate` cannot take the database back past this migration when a release has to be rolled back.",
        `1. Add the SQL that undoes it, or \`RunSQL.noop\` when leaving the change in place on rollback is harmless:\n${code("migrations.RunSQL(\n    sql=...,\n    reverse_sql=migrations.RunSQL.noop,  # or the undoing SQL\n)")}`,
      ],
    });
  },
};
