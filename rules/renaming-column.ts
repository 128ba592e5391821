import type { Rule } from "../src/engine/rule-types.js";
import { columnOf, fieldFromCall, literalString, type FieldState } from "../src/state/model-state.js";
import { alterFieldSnippet, code, fieldWith, missingColumnError, py } from "../src/advice/snippets.js";
import { pinColumnFix } from "../src/fix/rule-fixes.js";

/** RS103: `RenameField` or `AlterField(db_column=...)` renames a column in place. */
export const renamingColumn: Rule = {
  meta: {
    code: "RS103",
    name: "renaming-column",
    severity: "error",
    databases: ["postgresql", "mysql", "sqlite"],
    claims: ["old-code-breaks"],
    hazards: ["H05"],
    docs: {
      summary: "Renaming a column that the running release still uses",
      what: "Flags `RenameField` when the column name really changes (no `db_column` keeps it), and `AlterField` that changes `db_column`, on an existing managed table. A column the same migration added (`AddField`, then renamed) is not flagged: the old release never used it.",
      why: "A rename is instant, but only one name exists at a time: the old release keeps using the old column name and fails on every query of the model until it is gone; the new release fails if the migration runs late.",
      recipe: [
        "Rename only the Python attribute: keep the column by setting `db_column` to the old column name on the field, then rename the field. Django sees the same column and emits no SQL.",
        "If the column must really change name: add a new nullable column, write both columns from the code, backfill in batches, switch reads, stop writing the old column, and drop it in a post-deploy migration.",
      ],
      severityReason: "Error: one of the two releases fails on every query of the model during the rollout.",
      bad: `migrations.RenameField(model_name="book", old_name="title", new_name="headline")`,
      good: `migrations.AlterField(
    model_name="book",
    name="title",
    field=models.CharField(max_length=200, db_column="title"),
),
migrations.RenameField(model_name="book", old_name="title", new_name="headline")`,
    },
  },
  operationKinds: ["RenameField", "AlterField"],
  operation(ctx) {
    const { op } = ctx;
    if ((op.kind !== "RenameField" && op.kind !== "AlterField") || ctx.effect === "state" || op.unknown) return;
    // In a post-deploy migration the old release is gone; the new release is what breaks, which
    // adding-in-post-deploy-migration reports.
    if (ctx.stage === "post") return;
    const model = ctx.model(literalString(op.args.model_name));
    if (!model || !ctx.hasTable(model) || ctx.isNewTable(model)) return;
    let oldField: FieldState | undefined;
    let newField: FieldState;
    let fieldName: string;
    if (op.kind === "RenameField") {
      const oldName = literalString(op.args.old_name);
      const newName = literalString(op.args.new_name);
      oldField = oldName ? model.fields.get(oldName) : undefined;
      if (!oldField || !newName) return;
      newField = { ...oldField, name: newName };
      fieldName = oldName as string;
    } else {
      const name = literalString(op.args.name);
      oldField = name ? model.fields.get(name) : undefined;
      if (!oldField || !name || !op.args.field) return;
      newField = fieldFromCall(name, op.args.field, model.app, model.key, null);
      fieldName = name;
    }
    // A column (or join table) this migration added: the old release never used it.
    if (oldField.addedIn === ctx.migration.id) return;
    const table = ctx.tableOf(model);
    // Many-to-many fields have no column; renaming one renames its join table instead.
    if (oldField.relation?.kind === "m2m") {
      const oldTable = ctx.state.m2mTableOf(model, oldField);
      const newTable = ctx.state.m2mTableOf(model, newField);
      if (!oldTable || !newTable || oldTable === newTable) return;
      ctx.report({
        range: op.range,
        message: `Renaming many-to-many field \`${model.name}.${fieldName}\` renames join table \`${oldTable}\` to \`${newTable}\` while the old release still uses it.`,
        help: [
          `The old release keeps querying \`${oldTable}\` and fails with "relation ${oldTable} does not exist" until it is gone.`,
          `1. Keep the join table: add \`db_table=${py(oldTable)}\` to the field before renaming it, so Django emits no SQL.`,
        ],
      });
      return;
    }
    const oldColumn = columnOf(oldField);
    const newColumn = columnOf(newField);
    if (!oldColumn || !newColumn || oldColumn === newColumn) return;
    const pinned = fieldWith(oldField.call, { db_column: py(oldColumn) });
    const help = [
      `Only one of the names exists at a time: the old release fails on every query of \`${model.name}\` (\`${missingColumnError(oldColumn, ctx.target.database)}\`) from the moment this migration runs until it is replaced, and a rollback fails the same way.`,
    ];
    if (op.kind === "RenameField") {
      const newName = literalString(op.args.new_name) as string;
      help.push(
        `1. Keep the column and rename only the attribute: set \`db_column=${py(oldColumn)}\` on the field, so Django emits no SQL for the rename:\n${alterFieldSnippet(model.key, fieldName, pinned)}\n${code(`migrations.RenameField(model_name=${py(model.key)}, old_name=${py(fieldName)}, new_name=${py(newName)})`)}`,
        `2. If the database column must change name too, expand and contract instead: add \`${newColumn}\` as a new nullable column, write both from the code, backfill in batches, switch reads, stop writing \`${oldColumn}\`, then drop it in a post-deploy migration.`,
      );
    } else {
      help.push(
        `1. Keep \`db_column=${py(oldColumn)}\` so the column stays where it is; the Python attribute name does not need to match the column.`,
        `2. If the column must change name, expand and contract: add \`${newColumn}\` as a new nullable column, write both, backfill in batches, switch reads, then drop \`${oldColumn}\` in a post-deploy migration.`,
      );
    }
    ctx.report({
      range: op.range,
      message: `${renameCause(op.kind, oldField, newField)} \`${model.name}.${fieldName}\`${oldField.relation && !newField.relation ? ` into a \`${newField.type}\`` : !oldField.relation && newField.relation ? " into a foreign key" : ""} renames column \`${table}.${oldColumn}\` to \`${newColumn}\` while the old release still uses it.`,
      help,
      related: oldField.origin ? [ctx.relatedAt(oldField.origin, `\`${model.name}.${fieldName}\` was last defined here`)] : undefined,
      fix: pinColumnFix(ctx, model, fieldName, oldField, pinned),
    });
  },
};

/**
 * What renames the column, as the message names it: a `RenameField`; an `AlterField` that turns a
 * foreign key into a plain field or back (Django names a foreign key's column `<name>_id`); or
 * one that changes `db_column`.
 */
function renameCause(kind: string, before: FieldState, after: FieldState): string {
  if (kind === "RenameField") return "Renaming field";
  if (before.relation && !after.relation) return "Turning foreign key";
  if (!before.relation && after.relation) return "Turning";
  return "Changing `db_column` of";
}
