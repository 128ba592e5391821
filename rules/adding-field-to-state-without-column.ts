import { onTable, rawStepsMay } from "../src/engine/raw-steps.js";
import type { Rule } from "../src/engine/rule-types.js";
import { addFieldSnippet, fieldWith, runSqlSnippet, sqlIdent } from "../src/advice/snippets.js";
import type { SqlStatementFact } from "../src/sql/sql-facts.js";
import { columnOf, fieldFromCall, literalString, type ModelState } from "../src/state/model-state.js";
import { columnTypeOf, formatColumnType } from "./changing-column-type.js";

/**
 * Whether a statement may give `table` the column `column`: adds it (or an unnamed column),
 * renames a column to it, or creates or renames a table to `table`.
 */
function mayCreateColumn(fact: SqlStatementFact, table: string, column: string): boolean {
  switch (fact.kind) {
    case "add-column":
      return onTable(fact, table) && (fact.column === null || fact.column === column);
    case "rename-column":
      return onTable(fact, table) && fact.newName === column;
    case "create-table":
      return onTable(fact, table);
    case "rename-table":
      return (fact.schema === null || fact.schema === "public") && fact.newName === table;
    default:
      return false;
  }
}

/**
 * RS510: a state-only `AddField` for a column no operation created. Django believes the field
 * exists from then on, so the release that ships with the migration selects and writes a column
 * the database does not have.
 */
export const addingFieldToStateWithoutColumn: Rule = {
  meta: {
    code: "RS510",
    name: "adding-field-to-state-without-column",
    severity: "error",
    databases: ["postgresql", "mysql", "sqlite"],
    claims: ["new-code-breaks"],
    hazards: ["H52"],
    docs: {
      summary: "Adding a field to the model state only, when no operation ever created its column",
      what: "Flags an `AddField` in the `state_operations` of a `SeparateDatabaseAndState` without database operations (`mismatching-database-and-state-operations` compares the two sides otherwise), or of a `RunSQL`, on an existing table whose column the database side never created: no earlier Django operation made it (a state-only removal leaves it in place, so re-adding such a field is fine), and no `RunSQL` so far adds it (or a table of that name). SQL that cannot be read (a `DO` block, a non-literal string) and operations rollsafe cannot read in the same app count as possibly creating it, so nothing is reported then.",
      why: "Django records the field without touching the database. The release that ships with the migration lists every field in its queries, so each SELECT, INSERT and UPDATE on the model fails (PostgreSQL: `column \"isbn\" of relation \"library_book\" does not exist`) until someone adds the column by hand. `makemigrations` cannot see the difference: it compares the models with the migration state, not with the database.",
      recipe: [
        "If the column does not exist yet, let Django create it: a plain `AddField` outside `SeparateDatabaseAndState` (nullable, or with a database default, it is instant on PostgreSQL).",
        "If it must be created by hand-written SQL, put that `RunSQL` in the same `SeparateDatabaseAndState`'s `database_operations`, or in a migration before it.",
      ],
      severityReason: "Error: every query of the new release on the model fails.",
      bad: `migrations.SeparateDatabaseAndState(
    state_operations=[
        migrations.AddField(model_name="book", name="isbn", field=models.CharField(max_length=20, null=True)),
    ],
    database_operations=[],
)`,
      good: `migrations.AddField(model_name="book", name="isbn", field=models.CharField(max_length=20, null=True))`,
    },
  },
  operationKinds: ["AddField"],
  operation(ctx) {
    const { op, parent } = ctx;
    if (op.kind !== "AddField" || op.unknown || !parent?.stateOperations?.includes(op)) return;
    // A database side that does something else is mismatching-database-and-state-operations' case.
    if (parent.kind === "SeparateDatabaseAndState" && (parent.databaseOperations?.length ?? 0) > 0) return;
    const modelName = literalString(op.args.model_name);
    const name = literalString(op.args.name);
    const model = ctx.model(modelName);
    // The table as the database has it: a model Django's operations created there.
    const physical: ModelState | undefined = modelName ? ctx.db.model(ctx.migration.app, modelName) : undefined;
    if (!model || !physical || !name || !op.args.field || physical.fieldsIncomplete) return;
    if (!model.managed || model.proxy || !ctx.hasTable(physical) || ctx.isNewTable(physical)) return;
    const field = fieldFromCall(name, op.args.field, model.app, model.key, null);
    const column = columnOf(field);
    if (column === null || field.generated) return;
    if ([...physical.fields.values()].some((f) => columnOf(f) === column)) return;
    const table = ctx.db.tableOf(physical);
    // The database state knows only what Django's operations did.
    if (rawStepsMay(ctx, [physical.app, ctx.migration.app], (fact) => mayCreateColumn(fact, table, column))) return;
    const type = ctx.target.database === "postgresql" ? columnTypeOf(field, ctx.state, ctx.target.database) : null;
    const sql = type ? `ALTER TABLE ${sqlIdent(table)} ADD COLUMN ${sqlIdent(column)} ${formatColumnType(type)} NULL;` : null;
    ctx.report({
      range: op.range,
      message: `This state-only \`AddField\` adds \`${model.name}.${name}\` to the model, but no operation ever created column \`${table}.${column}\`.`,
      help: [
        `Django records the field without touching the database. The release that ships with this migration lists \`${column}\` in every query on \`${model.name}\`, so each SELECT, INSERT and UPDATE fails (on PostgreSQL: \`column "${column}" of relation "${table}" does not exist\`) until the column is added by hand.`,
        `1. If the column should be created now, let Django create it with a plain \`AddField\` outside \`SeparateDatabaseAndState\`${field.null ? " (a nullable column is instant on PostgreSQL)" : ""}:\n${addFieldSnippet(model.key, name, fieldWith(field.call, {}))}`,
        sql
          ? `2. Or create it with SQL in the same \`SeparateDatabaseAndState\`'s \`database_operations\` (keep the column nullable, or give it a database default, so the old release's INSERTs still work):\n${runSqlSnippet(sql, `ALTER TABLE ${sqlIdent(table)} DROP COLUMN ${sqlIdent(column)};`)}`
          : "2. Or create it with SQL in the same `SeparateDatabaseAndState`'s `database_operations`, keeping it nullable or with a database default so the old release's INSERTs still work.",
        "3. If the column was really added outside migrations, suppress this finding with that reason.",
      ],
      related: physical.origin ? [ctx.relatedAt(physical.origin, `table \`${table}\` was created here, without \`${column}\``)] : undefined,
    });
  },
};
