import { alterFieldSnippet, fieldWith, runSqlSnippet, sqlIdent } from "../src/advice/snippets.js";
import { inStateOperations, mayCreateTable, onTable, rawStepsMay, stateAndDatabaseModel } from "../src/engine/raw-steps.js";
import type { Rule } from "../src/engine/rule-types.js";
import type { SqlStatementFact } from "../src/sql/sql-facts.js";
import { columnOf, fieldFromCall, literalString } from "../src/state/model-state.js";

/** Whether a statement may let `table.column` hold NULL: drops its NOT NULL, changes its type, or drops and re-adds it. */
function mayAllowNull(fact: SqlStatementFact, table: string, column: string): boolean {
  if (fact.kind === "rename-table") return mayCreateTable(fact, table);
  if (!onTable(fact, table)) return false;
  switch (fact.kind) {
    case "drop-not-null":
    case "alter-column-type":
    case "add-column":
    case "drop-column":
    case "rename-column":
      return fact.column === null || fact.column === column || fact.newName === column;
    case "create-table":
      return true;
    default:
      return false;
  }
}

/**
 * RS511: a state-only `AlterField` that makes a field nullable while its column stays NOT NULL.
 * The release that ships with the migration saves None for the field, and the database refuses
 * every such row.
 */
export const makingFieldNullableOnlyInState: Rule = {
  meta: {
    code: "RS511",
    name: "making-field-nullable-only-in-state",
    severity: "error",
    databases: ["postgresql", "mysql", "sqlite"],
    claims: ["new-code-breaks"],
    hazards: ["H52"],
    docs: {
      summary: "Making a field nullable in the model state only, while its column stays NOT NULL",
      what: "Flags an `AlterField` with `null=True` in the `state_operations` of a `SeparateDatabaseAndState` or a `RunSQL`, when the column as Django's operations left it is NOT NULL without a database default, and no `RunSQL` so far drops its NOT NULL (or changes, re-creates or renames it). SQL that cannot be read (a `DO` block, a non-literal string) and operations rollsafe cannot read in the same app count as possibly doing so.",
      why: "Django records `null=True` without running `DROP NOT NULL`. The release that ships with the migration saves None for the field wherever it is left empty (Django writes every field in its INSERTs and UPDATEs), and the database refuses each such row with `null value in column ... violates not-null constraint`. `makemigrations` cannot see the difference: it compares the models with the migration state, not with the database.",
      recipe: [
        "Let Django drop NOT NULL: a plain `AlterField` outside `SeparateDatabaseAndState` (`ALTER COLUMN ... DROP NOT NULL` changes only the catalog on PostgreSQL).",
        "If the SQL must be hand-written, put `ALTER TABLE ... ALTER COLUMN ... DROP NOT NULL` in the `database_operations` of the same `SeparateDatabaseAndState`, or in the `RunSQL` whose `state_operations` hold the `AlterField`.",
      ],
      severityReason: "Error: every row the new release saves without a value for the field is refused.",
      bad: `migrations.SeparateDatabaseAndState(
    state_operations=[
        migrations.AlterField(model_name="book", name="title", field=models.CharField(max_length=200, null=True)),
    ],
)`,
      good: `migrations.AlterField(model_name="book", name="title", field=models.CharField(max_length=200, null=True))`,
    },
  },
  operationKinds: ["AlterField"],
  operation(ctx) {
    const { op } = ctx;
    if (op.kind !== "AlterField" || !inStateOperations(ctx)) return;
    const name = literalString(op.args.name);
    const models = stateAndDatabaseModel(ctx);
    if (!models || !name || !op.args.field) return;
    const { model, physical } = models;
    const field = fieldFromCall(name, op.args.field, model.app, model.key, null);
    const column = columnOf(field);
    if (field.null !== true || column === null || field.primaryKey) return;
    // The column as the database has it: NOT NULL, and nothing fills it.
    const stored = [...physical.fields.values()].find((f) => columnOf(f) === column);
    if (!stored || stored.null !== false || stored.hasDbDefault || stored.primaryKey || stored.generated) return;
    const table = ctx.db.tableOf(physical);
    if (rawStepsMay(ctx, [physical.app, ctx.migration.app], (fact) => mayAllowNull(fact, table, column))) return;
    const drop = `ALTER TABLE ${sqlIdent(table)} ALTER COLUMN ${sqlIdent(column)} DROP NOT NULL;`;
    const restore = `ALTER TABLE ${sqlIdent(table)} ALTER COLUMN ${sqlIdent(column)} SET NOT NULL;`;
    ctx.report({
      range: op.range,
      message: `This state-only \`AlterField\` makes \`${model.name}.${name}\` nullable, but column \`${table}.${column}\` stays NOT NULL in the database.`,
      help: [
        `Django records \`null=True\` without running \`DROP NOT NULL\`. The release that ships with this migration saves None for \`${name}\` wherever it is left empty, and each such INSERT or UPDATE fails with "null value in column "${column}" of relation "${table}" violates not-null constraint".`,
        `1. Let Django drop NOT NULL with a plain \`AlterField\` outside \`SeparateDatabaseAndState\` (it only changes the catalog on PostgreSQL):\n${alterFieldSnippet(model.key, name, fieldWith(field.call, {}))}`,
        ctx.target.database === "postgresql"
          ? `2. Or run the SQL yourself in the same \`SeparateDatabaseAndState\`'s \`database_operations\`:\n${runSqlSnippet(drop, restore)}`
          : "2. Or drop NOT NULL with hand-written SQL in the same `SeparateDatabaseAndState`'s `database_operations`.",
      ],
      related: stored.origin ? [ctx.relatedAt(stored.origin, `\`${column}\` was defined NOT NULL here`)] : undefined,
    });
  },
};
