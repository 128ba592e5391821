import type { Rule } from "../src/engine/rule-types.js";
import { describeStatement } from "../src/sql/analyze-sql.js";
import { fieldOfColumn, forwardStatements, resolveSqlTable, tableLabel } from "../src/engine/sql-facts-for-operation.js";
import { code, py } from "../src/advice/snippets.js";

/** RS605: `RunSQL` `ALTER TABLE ... RENAME COLUMN` of a column deployed code uses. */
export const runsqlRenamingColumn: Rule = {
  meta: {
    code: "RS605",
    name: "runsql-renaming-column",
    severity: "error",
    databases: ["postgresql", "mysql", "sqlite"],
    claims: ["old-code-breaks"],
    hazards: ["H05"],
    docs: {
      summary: "Raw SQL that renames a column the running code uses",
      what: "Flags `ALTER TABLE ... RENAME COLUMN` in `RunSQL` on an existing table when the column belongs to a model field (error), or when no model maps the table (warning). Tables created in the same migration are skipped.",
      why: "Whichever release uses the other name breaks: the old release keeps selecting the old column name until it is replaced, and rolling back breaks the new one.",
      recipe: [
        "Do not rename the column in the database: rename the Python attribute and keep the column with `db_column='<old name>'` (Django's `RenameField` is then state-only).",
        "Otherwise expand/contract: add the new column, write both, backfill in batches, switch reads, stop writing the old one, drop it in a later post-deploy migration.",
      ],
      severityReason: "Error: one of the two releases that serve traffic during the rollout fails on every query of the table.",
      bad: `migrations.RunSQL("ALTER TABLE library_book RENAME COLUMN subtitle TO tagline", reverse_sql="ALTER TABLE library_book RENAME COLUMN tagline TO subtitle")`,
      good: `migrations.RunSQL("COMMENT ON COLUMN library_book.subtitle IS 'Shown under the title'", reverse_sql="COMMENT ON COLUMN library_book.subtitle IS NULL")`,
    },
  },
  operationKinds: ["RunSQL"],
  operation(ctx) {
    for (const { fact, range } of forwardStatements(ctx)) {
      if (fact.kind !== "rename-column" || fact.column === null) continue;
      const ref = resolveSqlTable(ctx, fact);
      if (!ref || ref.isNew) continue;
      const field = fieldOfColumn(ref.model, fact.column) ?? fieldOfColumn(ref.dbModel, fact.column);
      const model = ref.model ?? ref.dbModel;
      if (model && !field) continue;
      const statement = `\`${describeStatement(fact)}\``;
      const newName = fact.newName ?? "?";
      ctx.report({
        range,
        severity: model ? "error" : "warning",
        message: model && field
          ? `${statement} renames the column of \`${model.name}.${field.name}\` while the old release still uses \`${fact.column}\`.`
          : `${statement} renames a column of ${tableLabel(ref)}, which no model in the linted migrations maps; code that uses \`${fact.column}\` breaks.`,
        help: [
          `Until the rollout completes, the old release's queries name \`${fact.column}\` and fail with "column ${fact.column} does not exist"; after a rollback, the new release's queries on \`${newName}\` fail the same way.`,
          model && field
            ? `1. Keep the database column and rename only in Python: give the field \`db_column=${py(fact.column)}\`, so Django's \`RenameField\` changes nothing in the database:\n${code(`migrations.RenameField(model_name=${py(model.key)}, old_name=${py(field.name)}, new_name=${py(newName)})  # with db_column=${py(fact.column)} on the field`)}`
            : "1. Keep the old column name, or make the code that uses it read both names before renaming.",
          `2. If the database column must change: add \`${newName}\`, write both columns, backfill in batches, switch reads, then drop \`${fact.column}\` in a later post-deploy migration.`,
        ],
      });
    }
  },
};
