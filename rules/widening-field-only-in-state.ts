import { alterFieldSnippet, fieldWith, runSqlSnippet, sqlIdent } from "../src/advice/snippets.js";
import { mayRedefineColumn, rawStepsMay, stateOnlyAlteredField } from "../src/engine/raw-steps.js";
import type { Database, Rule } from "../src/engine/rule-types.js";
import { classifyTypeChange, columnTypeOf, formatColumnType, integerDigits, integerRank, textCapacity, type ColumnType } from "./changing-column-type.js";

/**
 * The error the database raises when the new release writes a value its field allows into a
 * column of type `stored`, or null when every such value fits (same type, narrower, another family).
 */
function refusal(stored: ColumnType, wanted: ColumnType, column: string, database: Database): string | null {
  const from = textCapacity(stored);
  const to = textCapacity(wanted);
  if (from !== undefined && to !== undefined) {
    if (to <= from) return null;
    return database === "postgresql" ? `value too long for type character varying(${from})` : `Data too long for column '${column}'`;
  }
  const outOfRange = `Out of range value for column '${column}'`;
  const r1 = integerRank(stored);
  const r2 = integerRank(wanted);
  if (r1 !== undefined && r2 !== undefined) {
    if (r2 <= r1) return null;
    return database === "postgresql" ? `${stored.base} out of range` : outOfRange;
  }
  if (stored.base === "numeric" && wanted.base === "numeric") {
    // More digits before the point: larger values overflow. More after it: values are rounded, not refused.
    if (integerDigits(wanted) <= integerDigits(stored)) return null;
    return database === "postgresql" ? "numeric field overflow" : outOfRange;
  }
  return null;
}

/**
 * RS513: a state-only `AlterField` that gives a field a wider type (a longer `max_length`, a
 * larger integer, more digits) while its column keeps the narrower one. The release that ships
 * with the migration accepts values the database refuses.
 */
export const wideningFieldOnlyInState: Rule = {
  meta: {
    code: "RS513",
    name: "widening-field-only-in-state",
    severity: "error",
    databases: ["postgresql", "mysql"],
    claims: ["new-code-breaks"],
    hazards: ["H52"],
    docs: {
      summary: "Widening a field in the model state only, while its column keeps the narrower type",
      what: "Flags an `AlterField` in the `state_operations` of a `SeparateDatabaseAndState` or a `RunSQL` that makes a field accept values its column cannot hold: a longer `max_length` (or a `TextField`) on a varchar column, a larger integer type (`IntegerField` to `BigIntegerField`), or a `DecimalField` with more digits before the point. The column is taken as Django's operations left it, and nothing is reported when a `RunSQL` so far changes, re-creates or renames it. SQL that cannot be read (a `DO` block, a non-literal string) and operations rollsafe cannot read in the same app count as possibly doing so. Primary keys, relations and fields whose type rollsafe cannot work out (custom fields, a non-literal `max_length`) are left out. SQLite does not enforce these types, so nothing is reported there.",
      why: "Django records the new type without running `ALTER COLUMN ... TYPE`. The release that ships with the migration validates against the new field, so forms, serializers and `full_clean()` accept the longer string or the larger number, and the database refuses the row: PostgreSQL with `value too long for type character varying(100)`, `integer out of range` or `numeric field overflow`, MySQL in strict mode (its default) with `Data too long for column` or `Out of range value for column`. The failures come later, with the first large value, which makes them hard to trace back to the migration. `makemigrations` cannot see the difference: it compares the models with the migration state, not with the database.",
      recipe: [
        "Let Django change the column with a plain `AlterField` outside `SeparateDatabaseAndState`. On PostgreSQL, a longer varchar, a varchar to text, and more digits at the same scale change only the catalog; an integer to bigint rewrites the table (see `changing-column-type` for the expand/contract steps).",
        "If the SQL must be hand-written, put `ALTER TABLE ... ALTER COLUMN ... TYPE ...` in the `database_operations` of the same `SeparateDatabaseAndState`, or in the `RunSQL` whose `state_operations` hold the `AlterField`.",
      ],
      severityReason: "Error: the first value that uses the new width is refused, in production, long after the deploy.",
      bad: `migrations.SeparateDatabaseAndState(
    state_operations=[
        migrations.AlterField(model_name="book", name="title", field=models.CharField(max_length=300)),
    ],
)`,
      good: `migrations.AlterField(model_name="book", name="title", field=models.CharField(max_length=300))`,
    },
  },
  operationKinds: ["AlterField"],
  operation(ctx) {
    const database = ctx.target.database;
    const altered = database === "sqlite" ? null : stateOnlyAlteredField(ctx);
    if (!altered) return;
    const { model, physical, name, field, column, stored } = altered;
    if (field.primaryKey || field.relation || field.generated) return;
    if (stored.primaryKey || stored.relation || stored.generated) return;
    const storedType = columnTypeOf(stored, ctx.db, database);
    const wantedType = columnTypeOf(field, ctx.state, database);
    if (!storedType || !wantedType) return;
    const error = refusal(storedType, wantedType, column, database);
    if (!error) return;
    const table = ctx.db.tableOf(physical);
    if (rawStepsMay(ctx, [physical.app, ctx.migration.app], table, (fact) => mayRedefineColumn(fact, table, column))) return;
    const storedText = formatColumnType(storedType);
    const wantedText = formatColumnType(wantedType);
    const rewrites = classifyTypeChange(storedType, wantedType, database) === "rewrite";
    const alter = (type: string) => `ALTER TABLE ${sqlIdent(table)} ALTER COLUMN ${sqlIdent(column)} TYPE ${type};`;
    ctx.report({
      range: ctx.op.range,
      message: `This state-only \`AlterField\` widens \`${model.name}.${name}\` to ${wantedText}, but column \`${table}.${column}\` stays ${storedText} in the database.`,
      help: [
        `Django records the new type without changing the column. The release that ships with this migration takes \`${name}\` for ${wantedText}: its forms, serializers and \`full_clean()\` accept values that do not fit the column, and the database refuses each such INSERT or UPDATE with "${error}".`,
        `1. Let Django change the column with a plain \`AlterField\` outside \`SeparateDatabaseAndState\`${
          rewrites ? ` (this change rewrites the table under an exclusive lock: \`changing-column-type\` then gives the expand/contract steps)` : ""
        }:\n${alterFieldSnippet(model.key, name, fieldWith(field.call, {}))}`,
        database === "postgresql"
          ? `2. Or run the SQL yourself in the same \`SeparateDatabaseAndState\`'s \`database_operations\`:\n${runSqlSnippet(alter(wantedText), alter(storedText))}`
          : "2. Or change the column with hand-written SQL (`ALTER TABLE ... MODIFY`, with the column's full definition) in the same `SeparateDatabaseAndState`'s `database_operations`.",
      ],
      related: stored.origin ? [ctx.relatedAt(stored.origin, `\`${column}\` was defined as ${storedText} here`)] : undefined,
    });
  },
};
