import type { Rule } from "../src/engine/rule-types.js";
import type { RunSqlSide } from "../src/engine/sql-facts-for-operation.js";
import { forwardStatements } from "../src/engine/sql-facts-for-operation.js";

/** RS602: `RunSQL` whose SQL is not a literal (or is a DO block), so rollsafe cannot verify it. */
export const runsqlUnverifiable: Rule = {
  meta: {
    code: "RS602",
    name: "runsql-unverifiable",
    severity: "warning",
    databases: ["postgresql", "mysql", "sqlite"],
    claims: [],
    hazards: ["H43"],
    docs: {
      summary: "Raw SQL that cannot be read statically: a variable, an f-string, a call, or a DO block",
      what: "Reports `RunSQL.sql`/`reverse_sql` values (or list items) that are not string literals, and `DO` blocks, whose procedural body can do anything. A module constant bound once to a literal (`SQL = \"...\"`), literals joined with `+`, and f-strings whose fields are such constants or literals (Python's `str()` of them), are read like the literal.",
      why: "rollsafe reads migrations without running them. SQL built at run time (an imported or computed name, an f-string with a field that is not a module constant or a literal, `open(...).read()`) or hidden in a PL/pgSQL block may drop columns or lock tables, and nothing checks it.",
      recipe: [
        "Write the SQL as a string literal in the migration, so it is reviewed and checked with the migration.",
        "Replace `DO` blocks by plain statements where possible; otherwise review the block by hand and suppress this finding with a reason.",
      ],
      severityReason: "Warning: the SQL may be perfectly safe, but nothing verified it.",
      bad: `migrations.RunSQL(sql=open("library/sql/0002.sql").read(), reverse_sql=migrations.RunSQL.noop)`,
      good: `migrations.RunSQL("COMMENT ON TABLE library_book IS 'Books'", reverse_sql="COMMENT ON TABLE library_book IS NULL")`,
    },
  },
  operationKinds: ["RunSQL"],
  operation(ctx) {
    if (ctx.effect === "state") return;
    const facts = ctx.sql(ctx.op);
    if (!facts) return;
    const check = (side: RunSqlSide, which: "sql" | "reverse_sql") => {
      if (side.kind !== "sql") return;
      for (const chunk of side.chunks) {
        if (chunk.status !== "non-literal") continue;
        ctx.report({
          range: chunk.range,
          message: `Cannot verify this \`${which}\`: \`${chunk.text}\` is not a string literal, so rollsafe cannot read the SQL.`,
          help: [
            "rollsafe reads migrations without running them; SQL computed at run time may drop columns, rename tables or take blocking locks, and none of that is checked.",
            "1. Inline the SQL as a string literal (or a list of literals) in the migration, so it is reviewed and checked with it.",
            "2. If that is not possible, review the SQL by hand for the hazards rollsafe checks and suppress this finding with a reason.",
          ],
        });
      }
    };
    check(facts.forward, "sql");
    check(facts.reverse, "reverse_sql");
    for (const s of forwardStatements(ctx)) {
      if (s.fact.kind !== "do-block") continue;
      ctx.report({
        range: s.range,
        message: "Cannot verify this `DO` block: its PL/pgSQL body can run any statement.",
        help: [
          "A `DO` block executes procedural code (often dynamic `EXECUTE`), so rollsafe cannot tell which tables it alters or locks.",
          "1. Prefer plain SQL statements, which rollsafe checks one by one.",
          "2. Otherwise review the block by hand for dropped or renamed columns, non-concurrent index builds and table rewrites, and suppress this finding with a reason.",
        ],
      });
    }
  },
};
