import type { Rule } from "../src/engine/rule-types.js";
import { describeStatement } from "../src/sql/analyze-sql.js";
import { forwardStatements, joinTableOwner, resolveSqlTable, tableLabel } from "../src/engine/sql-facts-for-operation.js";
import { py } from "../src/advice/snippets.js";

/** RS606: `RunSQL` `ALTER TABLE ... RENAME TO` / `SET SCHEMA` of a table deployed code uses. */
export const runsqlRenamingTable: Rule = {
  meta: {
    code: "RS606",
    name: "runsql-renaming-table",
    severity: "error",
    databases: ["postgresql", "mysql", "sqlite"],
    claims: ["old-code-breaks"],
    hazards: ["H06"],
    docs: {
      summary: "Raw SQL that renames (or moves to another schema) a table the running code uses",
      what: "Flags `ALTER TABLE ... RENAME TO` and `ALTER TABLE ... SET SCHEMA` in `RunSQL` on an existing table: an error when a model maps it (or it is a many-to-many field's join table), a warning when nothing does. Tables created in the same migration are skipped, and so is a name no model maps that ends in `_seq` (PostgreSQL accepts ALTER TABLE on a sequence; column defaults call `nextval()` by its OID, so renaming one breaks nothing).",
      why: "The old release keeps querying the table by its old name until it is replaced; each query fails with `relation ... does not exist`, and after a rollback the new release fails the same way.",
      recipe: [
        "Keep the table: rename the model in Python and pin `Meta.db_table = '<old table>'`, so `RenameModel` is state-only.",
        "Otherwise create the new table, write both, backfill, switch reads, and drop the old table in a later post-deploy migration (or rename and leave an updatable view with the old name for one release).",
      ],
      severityReason: "Error: one of the two releases that serve traffic during the rollout fails on every query of the table.",
      bad: `migrations.RunSQL("ALTER TABLE library_book RENAME TO library_volume", reverse_sql="ALTER TABLE library_volume RENAME TO library_book")`,
      good: `migrations.RunSQL("ALTER INDEX IF EXISTS library_book_title_idx RENAME TO library_book_title_ix", reverse_sql="ALTER INDEX IF EXISTS library_book_title_ix RENAME TO library_book_title_idx")`,
    },
  },
  operationKinds: ["RunSQL"],
  operation(ctx) {
    for (const { fact, range } of forwardStatements(ctx)) {
      if ((fact.kind !== "rename-table" && fact.kind !== "set-schema") || fact.table === null) continue;
      const ref = resolveSqlTable(ctx, fact);
      if (!ref || ref.isNew) continue;
      const model = ref.model ?? ref.dbModel;
      // The join table of a many-to-many field is mapped too (pretalx submission 0078).
      const join = model ? null : (joinTableOwner(ctx.state, fact.schema, fact.table) ?? joinTableOwner(ctx.db, fact.schema, fact.table));
      // PostgreSQL takes ALTER TABLE on a sequence too, and Django's serial and identity columns
      // name theirs `<table>_<column>_seq`: a column default calls nextval() by the sequence's
      // OID, so INSERTs go on after a rename (checked on PostgreSQL 15). No model maps such a name.
      if (!model && fact.table.endsWith("_seq")) continue;
      const statement = `\`${describeStatement(fact)}\``;
      const moved = fact.kind === "set-schema" ? `moves ${tableLabel(ref)} to schema \`${fact.newName ?? "?"}\`` : `renames ${tableLabel(ref)} to \`${fact.newName ?? "?"}\``;
      ctx.report({
        range,
        severity: model || join ? "error" : "warning",
        message: `${statement} ${moved} while the old release still queries \`${ref.table}\`.`,
        help: [
          `Until the rollout completes, every query of the old release on \`${ref.table}\` fails with "relation ${fact.table} does not exist"; after a rollback the new release fails the same way.`,
          model
            ? `1. Keep the table name: set \`db_table = ${py(fact.table)}\` in \`${model.name}.Meta\`, so a Django \`RenameModel\` changes nothing in the database.`
            : join
              ? `1. Keep the table name: it is the join table of \`${join.model.name}.${join.field.name}\`; a through model made for it can keep it with \`db_table = ${py(fact.table)}\` in its \`Meta\`.`
              : "1. Keep the table name, or make every reader use the new name before renaming.",
          "2. If the table must move: create the new table, write both, backfill, switch reads, then drop the old one in a later post-deploy migration; or rename it and create a view with the old name that you drop in the next release.",
        ],
      });
    }
  },
};
