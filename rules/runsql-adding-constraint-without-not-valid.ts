import type { Rule } from "../src/engine/rule-types.js";
import { describeStatement } from "../src/sql/analyze-sql.js";
import { forwardStatements, resolveSqlTable, statementsBefore, tableLabel } from "../src/engine/sql-facts-for-operation.js";
import { code, nonAtomicMigration, py, sqlIdent } from "../src/advice/snippets.js";

/** RS608: `RunSQL` `ADD CONSTRAINT` that validates every row (or builds an index) under a blocking lock. */
export const runsqlAddingConstraintWithoutNotValid: Rule = {
  meta: {
    code: "RS608",
    name: "runsql-adding-constraint-without-not-valid",
    severity: "error",
    databases: ["postgresql"],
    claims: ["blocking-lock"],
    unobservable: "The lock is observable; the length of the validating scan or index build is not, on a small table.",
    hazards: ["H18", "H19", "H20", "H21", "H27", "H28"],
    docs: {
      summary: "Raw SQL that adds a constraint by scanning or indexing the table under a blocking lock",
      what: "Flags `ALTER TABLE ... ADD CONSTRAINT` in `RunSQL` on an existing table (PostgreSQL): CHECK and FOREIGN KEY without `NOT VALID`, UNIQUE and PRIMARY KEY without `USING INDEX`, EXCLUDE (which cannot be NOT VALID), and UNIQUE/PRIMARY KEY written inside `ADD COLUMN`; and `VALIDATE CONSTRAINT` of a constraint added `NOT VALID` earlier in the same atomic migration (the add's lock is still held, which defeats NOT VALID). Not reported: `NOT VALID` constraints, `VALIDATE CONSTRAINT` on its own, `USING INDEX`, and tables created in the same migration.",
      why: "ALTER TABLE holds an ACCESS EXCLUSIVE lock (a foreign key: SHARE ROW EXCLUSIVE on both tables) while PostgreSQL checks every existing row or builds the unique index, so reads and writes of the table wait for the whole scan.",
      recipe: [
        "CHECK / FOREIGN KEY: `ADD CONSTRAINT ... NOT VALID` (a brief lock, no scan), then `VALIDATE CONSTRAINT ...` in a separate migration (it takes only SHARE UPDATE EXCLUSIVE, so reads and writes continue).",
        "UNIQUE / PRIMARY KEY: `CREATE UNIQUE INDEX CONCURRENTLY` in an `atomic = False` migration, then `ADD CONSTRAINT ... UNIQUE USING INDEX ...`.",
        "EXCLUDE: cannot be added without a scan; build it on a new table and copy, or run it in a maintenance window.",
      ],
      severityReason: "Error: reads and writes of an existing table block while the constraint is validated or its index is built.",
      bad: `migrations.RunSQL("ALTER TABLE library_book ADD CONSTRAINT pages_positive CHECK (pages > 0)", reverse_sql="ALTER TABLE library_book DROP CONSTRAINT pages_positive")`,
      good: `migrations.RunSQL("ALTER TABLE library_book ADD CONSTRAINT pages_positive CHECK (pages > 0) NOT VALID", reverse_sql="ALTER TABLE library_book DROP CONSTRAINT pages_positive")`,
    },
  },
  operationKinds: ["RunSQL"],
  operation(ctx) {
    if (ctx.target.database !== "postgresql") return;
    for (const { fact, range } of forwardStatements(ctx)) {
      if (fact.kind === "validate-constraint" && ctx.migration.atomic) {
        const added = statementsBefore(ctx, fact).find(
          (f) => f.kind === "add-constraint" && f.notValid && f.constraint === fact.constraint && f.table === fact.table,
        );
        const ref = added ? resolveSqlTable(ctx, fact) : null;
        if (!added || !ref || ref.isNew) continue;
        ctx.report({
          range,
          message: `\`${describeStatement(fact)}\` validates a constraint added NOT VALID earlier in the same atomic migration, so the add's lock on ${tableLabel(ref)} is held during the scan.`,
          help: [
            `Django runs the whole migration in one transaction: the ACCESS EXCLUSIVE (or SHARE ROW EXCLUSIVE) lock taken by ADD CONSTRAINT ... NOT VALID is kept until COMMIT, so reads and writes of \`${ref.table}\` wait for the whole validation scan, just as without NOT VALID.`,
            "1. Move the `VALIDATE CONSTRAINT` statement to a separate, later migration (or set `atomic = False` on this one, so the add commits first).",
          ],
        });
        continue;
      }
      if (fact.kind !== "add-constraint" || fact.notValid || fact.usingIndex) continue;
      const type = fact.constraintType;
      const indexed = type === "unique" || type === "primary-key";
      // Inline CHECK / REFERENCES on a new column are validated against a column that is all
      // NULL (or one default); only the index build of an inline UNIQUE/PRIMARY KEY is costly.
      if (fact.inline && !indexed) continue;
      if (type !== "check" && type !== "foreign-key" && !indexed && type !== "exclusion") continue;
      const ref = resolveSqlTable(ctx, fact);
      if (!ref || ref.isNew) continue;
      const table = sqlIdent(fact.table ?? ref.table);
      const name = fact.constraint ?? `${fact.table ?? "t"}_${fact.columns.join("_") || "x"}_${type === "check" ? "check" : type === "foreign-key" ? "fk" : "uniq"}`;
      const statement = `\`${describeStatement(fact)}\``;
      let steps: string[];
      let why: string;
      if (type === "check" || type === "foreign-key") {
        const notValid = `${fact.text.replace(/\s*;?\s*$/, "")} NOT VALID`;
        why = type === "foreign-key"
          ? `Adding a validated FOREIGN KEY locks \`${ref.table}\` and the referenced table (SHARE ROW EXCLUSIVE: writes to both wait) while every row is checked.`
          : `Adding a validated CHECK holds an ACCESS EXCLUSIVE lock on \`${ref.table}\` while every row is checked: reads and writes wait for the whole scan.`;
        steps = [
          `Add the constraint without checking existing rows (a brief lock):\n${code(`migrations.RunSQL(\n    ${py(notValid)},\n    reverse_sql=${py(`ALTER TABLE ${table} DROP CONSTRAINT IF EXISTS ${sqlIdent(name)}`)},\n)`)}`,
          `In a separate migration, validate it (SHARE UPDATE EXCLUSIVE: reads and writes continue):\n${code(`migrations.RunSQL(${py(`ALTER TABLE ${table} VALIDATE CONSTRAINT ${sqlIdent(name)}`)}, reverse_sql=migrations.RunSQL.noop)`)}`,
        ];
      } else if (indexed) {
        const index = `${name}_idx`;
        const columns = fact.columns.length ? fact.columns.map((c) => sqlIdent(c)).join(", ") : fact.column ? sqlIdent(fact.column) : "...";
        why = `Adding a ${type === "unique" ? "UNIQUE" : "PRIMARY KEY"} constraint builds its unique index while holding an ACCESS EXCLUSIVE lock on \`${ref.table}\`: reads and writes wait for the whole build${type === "primary-key" ? " (and for the NOT NULL scans of its columns)" : ""}.`;
        steps = [
          `Build the unique index concurrently in a migration of its own:\n${nonAtomicMigration([
            `migrations.RunSQL(\n    sql=${py(`CREATE UNIQUE INDEX CONCURRENTLY ${sqlIdent(index)} ON ${table} (${columns})`)},\n    reverse_sql=${py(`DROP INDEX CONCURRENTLY IF EXISTS ${sqlIdent(index)}`)},\n)`,
          ])}`,
          `Then attach it (a brief lock):\n${code(`migrations.RunSQL(\n    ${py(`ALTER TABLE ${table} ADD CONSTRAINT ${sqlIdent(name)} ${type === "unique" ? "UNIQUE" : "PRIMARY KEY"} USING INDEX ${sqlIdent(index)}`)},\n    reverse_sql=${py(`ALTER TABLE ${table} DROP CONSTRAINT IF EXISTS ${sqlIdent(name)}`)},\n)`)}`,
        ];
      } else {
        why = `An EXCLUDE constraint cannot be NOT VALID: PostgreSQL builds its index and checks every row under an ACCESS EXCLUSIVE lock on \`${ref.table}\`.`;
        steps = ["Create a new table with the constraint, copy the rows in batches and swap, or run it in a maintenance window."];
      }
      ctx.report({
        range,
        message: `${statement} ${indexed ? "builds a unique index" : type === "exclusion" ? "builds an exclusion index and checks every row" : "checks every row"} of ${tableLabel(ref)} under a blocking lock.`,
        help: [why, ...steps.map((s, i) => `${i + 1}. ${s}`)],
      });
    }
  },
};
