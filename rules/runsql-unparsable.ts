import type { Rule } from "../src/engine/rule-types.js";
import type { RunSqlSide } from "../src/engine/sql-facts-for-operation.js";

/** RS601: `RunSQL` whose SQL PostgreSQL's parser rejects, so nothing in it is checked. */
export const runsqlUnparsable: Rule = {
  meta: {
    code: "RS601",
    name: "runsql-unparsable",
    severity: "warning",
    databases: ["postgresql", "mysql", "sqlite"],
    claims: [],
    hazards: ["H43"],
    docs: {
      summary: "SQL in a `RunSQL` that cannot be parsed, so it cannot be checked",
      what: "Reads `RunSQL.sql` and `reverse_sql` (strings, lists, `(sql, params)` tuples) with PostgreSQL's own parser (libpg_query) and reports each string it rejects, at the position PostgreSQL names. SQL quoted the MySQL way (backtick identifiers, double-quoted strings, `\\'` escapes), which MySQL and SQLite accept, is read with that quoting respelled and checked like any other; on a PostgreSQL target it is still reported, since PostgreSQL rejects it. On a MySQL or SQLite target, the rest of MySQL's own syntax (`MODIFY`, `CHANGE`, `#` comments) stays unread and is reported for review.",
      why: "rollsafe checks raw SQL statement by statement (dropped columns, blocking locks, rewrites). SQL it cannot parse is not checked at all; on PostgreSQL it usually means the migration itself fails when it runs.",
      recipe: [
        "Fix the SQL; `python manage.py sqlmigrate <app> <migration>` prints what Django will send, and running it on a scratch database shows PostgreSQL's error.",
        "If the SQL uses `%s` placeholders, pass params (`RunSQL([(sql, params)])`); without params Django sends `%` literally.",
        "If the SQL is written for another database engine, set the target database (`--database`) so the advice fits; rollsafe still cannot check it.",
      ],
      severityReason: "Warning: rollsafe cannot tell what the SQL does; a human has to look.",
      bad: `migrations.RunSQL("ALTER TABLE library_book ADD COLUM isbn text", reverse_sql=migrations.RunSQL.noop)`,
      good: `migrations.RunSQL("COMMENT ON TABLE library_book IS 'Books'", reverse_sql="COMMENT ON TABLE library_book IS NULL")`,
    },
  },
  operationKinds: ["RunSQL"],
  operation(ctx) {
    if (ctx.effect === "state") return;
    const facts = ctx.sql(ctx.op);
    if (!facts) return;
    const pg = ctx.target.database === "postgresql";
    const engine = pg ? "" : ` (rollsafe reads SQL with PostgreSQL's parser; the target is ${ctx.target.database})`;
    const check = (side: RunSqlSide, which: "sql" | "reverse_sql") => {
      if (side.kind !== "sql") return;
      for (const chunk of side.chunks) {
        if (chunk.status === "no-parser") {
          ctx.report({
            range: chunk.range,
            message: `Cannot check this \`${which}\`: ${chunk.error}.`,
            help: ["Without the PostgreSQL parser rollsafe cannot read raw SQL, so this `RunSQL` is not checked.", "1. Reinstall the dependencies (`npm ci`) so `libpg-query` is present, and run rollsafe again."],
          });
        }
        // SQL in MySQL's quoting, or with SQLite's PRAGMA/AUTOINCREMENT, was read respelled: PostgreSQL itself still rejects it.
        if (chunk.status === "ok" && chunk.postgresError?.dialect === "sqlite" && pg) {
          ctx.report({
            range: chunk.postgresError.errorRange,
            message: `PostgreSQL cannot run this \`${which}\`: it reports \`${chunk.postgresError.error}\`; the SQL is written for SQLite.`,
            help: [
              "`PRAGMA` statements and `AUTOINCREMENT` are SQLite's, so the migration fails when it runs on PostgreSQL, unless the code runs this SQL only on SQLite (a `connection.vendor` check rollsafe does not follow). rollsafe read the statements with them respelled to check what they do.",
              "1. Run SQLite-only SQL only on SQLite (`if schema_editor.connection.vendor == \"sqlite\":`), or write what PostgreSQL needs (`information_schema.columns` for `PRAGMA table_info`, an identity column for `AUTOINCREMENT`).",
              "2. If the project runs on SQLite, set the target database (`--database sqlite`), and this is not reported.",
            ],
          });
        } else if (chunk.status === "ok" && chunk.postgresError && pg) {
          ctx.report({
            range: chunk.postgresError.errorRange,
            message: `PostgreSQL cannot run this \`${which}\`: it reports \`${chunk.postgresError.error}\`; the SQL is quoted for MySQL.`,
            help: [
              "PostgreSQL quotes identifiers with double quotes and strings with single quotes; backticks, double-quoted strings and `\\'` escapes are MySQL's, so the migration fails when it runs. rollsafe read the statements with MySQL's quoting to check what they do.",
              "1. Quote identifiers with double quotes (or not at all) and strings with single quotes (`''` for a quote inside one).",
              "2. If the project runs on MySQL, set the target database (`--database mysql`), and this is not reported.",
            ],
          });
        }
        if (chunk.status !== "unparsable") continue;
        const placeholders = !chunk.hasParams && /%s|%\(\w+\)s/.test(ctx.migration.source.slice(chunk.range.startOffset, chunk.range.endOffset));
        // SQL a RunPython executes has no sqlmigrate output (Django prints "THIS OPERATION CANNOT BE WRITTEN AS SQL").
        const see = ctx.op.executedBy
          ? "Run the SQL on a scratch database to see the error in context"
          : "Run `python manage.py sqlmigrate " + `${ctx.migration.app} ${ctx.migration.name}` + "` and try the SQL on a scratch database to see the error in context";
        ctx.report({
          range: chunk.errorRange,
          message: `Cannot parse this \`${which}\`: PostgreSQL reports \`${chunk.error}\`${engine}.`,
          help: [
            `rollsafe checks raw SQL statement by statement; SQL it cannot parse is not checked for dropped columns, locks or rewrites${pg ? ", and PostgreSQL will most likely reject it when the migration runs" : ""}.`,
            pg
              ? `1. ${see}; fix the statement.`
              : `1. The SQL may well be valid ${ctx.target.database === "mysql" ? "MySQL" : "SQLite"} that PostgreSQL's grammar does not have (rollsafe reads MySQL's quoting, not its other syntax): review what it does by hand. ${see}.`,
            placeholders
              ? "2. The SQL has `%s` placeholders but no params: Django only formats placeholders when params are given, so pass them as `RunSQL([(sql, params)])`."
              : pg
                ? "2. Once it parses, rollsafe checks what it does."
                : "2. Once reviewed, silence it on the operation with `# rollsafe: ignore[runsql-unparsable] <what the SQL does>`.",
          ],
        });
      }
    };
    check(facts.forward, "sql");
    check(facts.reverse, "reverse_sql");
  },
};
