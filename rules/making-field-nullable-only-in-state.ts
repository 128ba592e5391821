import { alterFieldSnippet, explicitNullViolation, fieldWith, runSqlSnippet, sqlIdent } from "../src/advice/snippets.js";
import { mayRedefineColumn, rawStepsMay, stateOnlyAlteredField } from "../src/engine/raw-steps.js";
import type { Rule } from "../src/engine/rule-types.js";

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
    const altered = stateOnlyAlteredField(ctx);
    if (!altered) return;
    const { model, physical, name, field, column, stored } = altered;
    if (field.null !== true || field.primaryKey) return;
    // The column as the database has it: NOT NULL, and nothing fills it.
    if (stored.null !== false || stored.hasDbDefault || stored.primaryKey || stored.generated) return;
    const table = ctx.db.tableOf(physical);
    if (rawStepsMay(ctx, [physical.app, ctx.migration.app], table, (fact) => mayRedefineColumn(fact, table, column, ["drop-not-null"]))) return;
    const drop = `ALTER TABLE ${sqlIdent(table)} ALTER COLUMN ${sqlIdent(column)} DROP NOT NULL;`;
    const restore = `ALTER TABLE ${sqlIdent(table)} ALTER COLUMN ${sqlIdent(column)} SET NOT NULL;`;
    ctx.report({
      range: ctx.op.range,
      message: `This state-only \`AlterField\` makes \`${model.name}.${name}\` nullable, but column \`${table}.${column}\` stays NOT NULL in the database.`,
      help: [
        `Django records \`null=True\` without running \`DROP NOT NULL\`. The release that ships with this migration saves None for \`${name}\` wherever it is left empty, and each such INSERT or UPDATE fails with ${explicitNullViolation(ctx.target.database, table, column)}.`,
        `1. Let Django drop NOT NULL with a plain \`AlterField\` outside \`SeparateDatabaseAndState\` (it only changes the catalog on PostgreSQL):\n${alterFieldSnippet(model.key, name, fieldWith(field.call, {}))}`,
        ctx.target.database === "postgresql"
          ? `2. Or run the SQL yourself in the same \`SeparateDatabaseAndState\`'s \`database_operations\`:\n${runSqlSnippet(drop, restore)}`
          : "2. Or drop NOT NULL with hand-written SQL in the same `SeparateDatabaseAndState`'s `database_operations`.",
      ],
      related: stored.origin ? [ctx.relatedAt(stored.origin, `\`${column}\` was defined NOT NULL here`)] : undefined,
    });
  },
};
