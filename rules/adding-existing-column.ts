import type { Rule } from "../src/engine/rule-types.js";
import { operationSource } from "./adding-index-non-concurrently.js";
import { code, separateDatabaseAndState } from "../src/advice/snippets.js";
import { migrationScratch } from "../src/engine/migration-scratch.js";
import { autoTimestamp, columnOf, fieldFromCall, isColumnless, literalString, type FieldState } from "../src/state/model-state.js";

/**
 * Operations that change no table's columns in Django's database state: raw SQL is not in it, and
 * a `SeparateDatabaseAndState`'s own operations are seen one by one.
 */
const KEEPS_COLUMNS = new Set([
  "AddIndex", "RemoveIndex", "RenameIndex", "AddConstraint", "RemoveConstraint", "AlterUniqueTogether", "AlterIndexTogether",
  "AlterModelOptions", "AlterModelManagers", "RunPython", "RunSQL", "SeparateDatabaseAndState",
]);

/** Per migration: the columns of each model's table the database has (`app.model` to column to field), as the rule has followed them. */
const columnsOf = migrationScratch(() => new Map<string, Map<string, FieldState>>());

/**
 * RS516: an `AddField` whose column the table already has. Django's state takes the second
 * `AddField` of a field as a replacement, but the database runs `ADD COLUMN` again: two branches
 * that each add the same field and a merge migration (BookWyrm 0173), or the same `AddField`
 * twice in one migration (a draft of Tandoor cookbook 0159).
 */
export const addingExistingColumn: Rule = {
  meta: {
    code: "RS516",
    name: "adding-existing-column",
    severity: "error",
    databases: ["postgresql", "mysql", "sqlite"],
    claims: ["migration-fails"],
    hazards: [],
    docs: {
      summary: "Adding a field whose column the table already has",
      what: "Flags an `AddField` (also in `SeparateDatabaseAndState.database_operations`) whose column, by `db_column` or by the field's name (with `_id` for a foreign key), is already a column of the table in the database: an earlier `AddField` of this migration or of one before it in Django's plan added it, and nothing dropped or renamed it since. Many-to-many fields (a table of their own) and state-only operations are left out, and on SQLite every field but a nullable one without a default, `unique` or `primary_key`: Django remakes the table for those, from the state, where the second field replaced the first.",
      why: "Django's migration state replaces a field that is added again, so `makemigrations` and `migrate --plan` see nothing wrong; the database runs `ALTER TABLE ... ADD COLUMN` a second time and refuses (`column \"...\" of relation \"...\" already exists` on PostgreSQL, `Duplicate column name` on MySQL, `duplicate column name` on SQLite). The migration rolls back (or, where DDL is not transactional, stops half-applied), and the deploy stops. Two branches that each add the same field, joined by a merge migration, are the usual cause.",
      recipe: [
        "Keep one `AddField` of the field. Make the other state-only (`SeparateDatabaseAndState(state_operations=[AddField(...)])`), so databases that ran either branch end with the column once.",
        "If the second one changes the field's definition, write it as an `AlterField` after the first.",
      ],
      severityReason: "Error: `migrate` fails on every database that ran the first `AddField`.",
      bad: `migrations.AddField("book", "isbn", models.CharField(max_length=13, null=True)),
migrations.AddField("book", "isbn", models.CharField(max_length=13, null=True)),`,
      good: `migrations.AddField("book", "isbn", models.CharField(max_length=13, null=True)),
migrations.SeparateDatabaseAndState(
    state_operations=[migrations.AddField("book", "isbn", models.CharField(max_length=13, null=True))],
),`,
    },
  },
  // Called for every operation: any other that reaches the database may change a table's columns,
  // and what is known of them is read again.
  operation(ctx) {
    const { op } = ctx;
    if (op.kind !== "AddField" || op.unknown || op.thirdParty) {
      if (ctx.effect === "state" || (!op.unknown && !op.thirdParty && KEEPS_COLUMNS.has(op.kind))) return;
      // The model it names, or every model when it names none.
      const touched = op.unknown || op.thirdParty ? undefined : literalString(op.args.model_name ?? op.args.name ?? op.args.old_name)?.toLowerCase();
      if (touched && op.kind !== "RenameModel") columnsOf(ctx).delete(`${ctx.migration.app}.${touched}`);
      else columnsOf(ctx).clear();
      return;
    }
    if (ctx.effect === "state") return;
    const modelName = literalString(op.args.model_name);
    const name = literalString(op.args.name);
    const model = ctx.model(modelName);
    if (!model || !name || !op.args.field || !ctx.hasTable(model)) return;
    const physical = ctx.db.model(model.app, model.key);
    if (!physical || physical.fieldsIncomplete) return;
    const added = fieldFromCall(name, op.args.field, model.app, model.key, null);
    if (added.relation?.kind === "m2m" || isColumnless(added)) return;
    const column = columnOf(added);
    // The table's columns, read once per model and migration and kept up to date by the AddFields
    // of the migration (each one compared every field's column: 10,000 AddFields on one model, quadratic).
    const known = columnsOf(ctx);
    const key = `${physical.app}.${physical.key}`;
    let columns = known.get(key);
    if (!columns) {
      columns = new Map();
      for (const f of physical.fields.values()) {
        const c = f.relation?.kind === "m2m" || isColumnless(f) ? null : columnOf(f);
        if (c !== null && !columns.has(c)) columns.set(c, f);
      }
      known.set(key, columns);
    }
    const existing = column === null ? undefined : columns.get(column);
    if (column !== null && !existing) columns.set(column, { ...added, addedIn: ctx.migration.id });
    // SQLite adds only a nullable column without a default, unique or key with `ADD COLUMN`; for any
    // other it remakes the table from the state, where the second field replaced the first, and
    // the migration runs (checked with Django 4.2).
    if (ctx.target.database === "sqlite" && !(added.null === true && !added.hasDefault && !added.hasDbDefault && !autoTimestamp(added) && !added.unique && !added.primaryKey)) return;
    if (!existing) return;
    const table = ctx.tableOf(model);
    const where = existing.addedIn === undefined ? "" : existing.addedIn === ctx.migration.id ? ", added earlier in this migration" : `, added by \`${existing.addedIn}\``;
    const same = existing.name === name ? `\`${model.name}.${name}\`` : `\`${model.name}.${existing.name}\`'s column`;
    const error =
      ctx.target.database === "mysql" ? `Duplicate column name '${column}'` : ctx.target.database === "sqlite" ? `duplicate column name: ${column}` : `column "${column}" of relation "${table}" already exists`;
    ctx.report({
      range: op.range,
      message: `\`AddField\` adds column \`${column}\` to \`${table}\`, which already has it (${same}${where}): \`migrate\` fails here with \`${error}\`.`,
      help: [
        "Django's migration state takes a field added again as a replacement, so neither `makemigrations` nor `migrate --plan` notices; the database runs `ADD COLUMN` a second time and refuses, and the deploy stops. Two branches that each add the same field, joined by a merge migration, are the usual cause.",
        `1. Keep the first \`AddField\` and make this one state-only, so the state still gets the field's definition and the database keeps its one column:\n${code(separateDatabaseAndState([`${operationSource(op)},`], []))}`,
        "2. If this one changes the field's definition, write it as an `AlterField` instead.",
      ],
    });
  },
};
