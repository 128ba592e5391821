import type { Rule } from "../src/engine/rule-types.js";
import type { SqlTypeName } from "../src/sql/analyze-sql.js";
import { forwardStatements, resolveSqlTable, tableLabel } from "../src/engine/sql-facts-for-operation.js";
import { py, sqlIdent } from "../src/advice/snippets.js";

function isJson(type: SqlTypeName | null): boolean {
  return type !== null && type.schema === null && type.name === "json";
}

/** RS906 (opt-in): raw SQL that creates a `json` (not `jsonb`) column on PostgreSQL. */
export const runsqlAddingJsonColumn: Rule = {
  meta: {
    code: "RS906",
    name: "runsql-adding-json-column",
    severity: "warning",
    databases: ["postgresql"],
    optIn: true,
    claims: [],
    hazards: ["H59"],
    docs: {
      summary: "Raw SQL that creates a `json` column instead of `jsonb` (opt-in)",
      what: "Flags, in `RunSQL` on PostgreSQL, `ALTER TABLE ... ADD COLUMN ... json`, `ALTER COLUMN ... TYPE json` and `CREATE TABLE` columns of type `json` (or `json[]`). Django's `JSONField` is `jsonb` on PostgreSQL and is never flagged.",
      why: "The `json` type has no equality operator: `SELECT DISTINCT`, `GROUP BY`, `UNION` (without ALL) and `count(DISTINCT ...)` over the column fail with \"could not identify an equality operator for type json\", and `WHERE col = ...` with \"operator does not exist: json = ...\" (checked on PostgreSQL 15), and so does Django's `.distinct()` on a model that maps the column. `json` also cannot be indexed with GIN and is re-parsed on every access; `jsonb` has none of these problems.",
      recipe: ["Use `jsonb` (what Django's `JSONField` creates), unless the exact text, key order and duplicate keys of the input must be kept."],
      severityReason: "Warning: a schema-quality problem that surfaces later in queries, not at deploy time.",
      bad: `migrations.RunSQL("ALTER TABLE library_book ADD COLUMN metadata json", reverse_sql="ALTER TABLE library_book DROP COLUMN metadata")`,
      good: `migrations.RunSQL("ALTER TABLE library_book ADD COLUMN metadata jsonb", reverse_sql="ALTER TABLE library_book DROP COLUMN metadata")`,
    },
  },
  operationKinds: ["RunSQL"],
  operation(ctx) {
    if (ctx.target.database !== "postgresql") return;
    for (const { fact, range } of forwardStatements(ctx)) {
      const columns =
        fact.kind === "add-column" || fact.kind === "alter-column-type"
          ? fact.column !== null && isJson(fact.dataType)
            ? [{ name: fact.column, type: fact.dataType }]
            : []
          : fact.kind === "create-table"
            ? fact.tableColumns.filter((c) => isJson(c.dataType)).map((c) => ({ name: c.name, type: c.dataType }))
            : [];
      if (columns.length === 0 || fact.table === null) continue;
      const ref = resolveSqlTable(ctx, fact);
      const where = ref ? tableLabel(ref) : `table \`${fact.table}\``;
      for (const column of columns) {
        const typeText = column.type?.text ?? "json";
        const jsonb = typeText.replace(/^json/, "jsonb");
        const fix =
          fact.kind === "alter-column-type"
            ? `ALTER TABLE ${sqlIdent(fact.table)} ALTER COLUMN ${sqlIdent(column.name)} TYPE ${jsonb}`
            : fact.kind === "add-column"
              ? `ALTER TABLE ${sqlIdent(fact.table)} ADD COLUMN ${sqlIdent(column.name)} ${jsonb}`
              : null;
        ctx.report({
          range,
          message: `Column \`${column.name}\` of ${where} is made \`${typeText}\`, which has no equality operator: DISTINCT, GROUP BY and UNION over it fail.`,
          help: [
            `PostgreSQL cannot compare \`json\` values: \`SELECT DISTINCT\`, \`GROUP BY\`, \`UNION\` and \`count(DISTINCT ...)\` on \`${column.name}\` fail with "could not identify an equality operator for type json", and \`=\` has no operator at all (Django's \`.distinct()\` too, once a model maps the column), and the column cannot get a GIN index.`,
            fix
              ? `1. Use \`jsonb\` (what Django's \`JSONField\` creates):\n\`\`\`python\nmigrations.RunSQL(${py(fix)}, reverse_sql=...),\n\`\`\``
              : `1. Declare the column as \`${jsonb}\` in the \`CREATE TABLE\` (what Django's \`JSONField\` creates).`,
            "2. Keep `json` only if the exact input text (whitespace, key order, duplicate keys) must be preserved.",
          ],
        });
      }
    }
  },
};
