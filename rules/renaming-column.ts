import type { OperationContext, Rule } from "../src/engine/rule-types.js";
import type { Operation, PyValue } from "../src/model/types.js";
import { migrationScratch } from "../src/engine/migration-scratch.js";
import { addedLaterOnColumn, laterInMigration } from "../src/engine/resolved-operation.js";
import { autoJoinColumns, columnOf, fieldFromCall, literalString, targetKeyOf, type FieldState, type ModelState } from "../src/state/model-state.js";
import { addFieldSnippet, alterFieldSnippet, alterFieldSource, code, fieldWith, missingColumnError, postDeployMarker, py, pyValue } from "../src/advice/snippets.js";
import { pinColumnFix } from "../src/fix/rule-fixes.js";

/** RS103: `RenameField` or `AlterField(db_column=...)` renames a column in place. */
/** What the existing rows hold in a column Django adds for `field`: its default (Django fills them with it, then drops it), else NULL. */
function existingRowsOf(field: FieldState): string {
  if (field.hasDbDefault) return "its `db_default` in every existing row";
  const value = field.hasDefault ? field.default : null;
  if (value && value.kind !== "none") {
    if (value.kind === "name" && (value.name === "dict" || value.name === "list")) return `\`${value.name === "dict" ? "{}" : "[]"}\` in every existing row`;
    if (value.kind === "name") return `the value \`${value.name}()\` returned once, in every existing row`;
    return `\`${pyValue(value)}\` in every existing row`;
  }
  return field.null === false ? "whatever Django fills the existing rows with" : "NULL in every existing row";
}

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
      what: "Flags `RenameField` when the column name really changes (no `db_column` keeps it), and `AlterField` that changes `db_column`, on an existing managed table; also an `AlterField` that points a many-to-many field without `through` at another model, which renames the join table's column after the new model and re-adds its foreign key, validated. A column the same migration added (`AddField`, then renamed) is not flagged: the old release never used it. Nor is a column renamed back before an atomic migration commits on PostgreSQL or SQLite (a rename then a `db_column` pinning the old name, a foreign key turned into a plain field and renamed back): no other session sees the name change; a chain of renames is reported once, at the first.",
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
      if (oldTable && oldTable === newTable) {
        joinColumnsRepointed(ctx, model, fieldName, oldField, newField, oldTable);
        return;
      }
      if (!oldTable || !newTable) return;
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
    // A column an earlier rename of this migration made: the old release never used it, and the
    // first rename's finding covers the change.
    const made = renamedIn(ctx);
    const transient = made.has(`${table}.${oldColumn}`);
    made.add(`${table}.${newColumn}`);
    if (transient) return;
    // Renamed back before the migration commits (commcare-hq form_processor 0044: a foreign key
    // turned into a CharField, `case_id` to `case`, then RenameField back to `case_id`): in one
    // transaction no other session sees the name change. MySQL commits each DDL statement.
    if (ctx.migration.atomic && ctx.target.database !== "mysql" && columnAtEnd(ctx, model.key, newField) === oldColumn) return;
    const pinned = fieldWith(oldField.call, { db_column: py(oldColumn) });
    // A later AddField of the migration puts a new field's column under the old name (c3nav mesh
    // 0009: `uplink` renamed to `uplink_node`, then a new `uplink` foreign key to another table).
    const reused = op.kind === "RenameField" ? addedLaterOnColumn(ctx, model, oldColumn) : null;
    const help = [
      reused
        ? `The old release keeps finding a \`${oldColumn}\` column, but from this migration on it is the new \`${model.name}.${reused.name}\`'s, added later in this migration: until the old release is replaced, its \`${fieldName}\` reads that field's values (${existingRowsOf(fieldFromCall(reused.name, reused.call, model.app, model.key, null))}) instead of its own, and what it writes there goes to the new field (a foreign key or type check may reject it); a rollback fails.`
        : `Only one of the names exists at a time: the old release fails on every query of \`${model.name}\` (\`${missingColumnError(oldColumn, ctx.target.database)}\`) from the moment this migration runs until it is replaced, and a rollback fails the same way.`,
    ];
    // A later AlterField of the renamed field (the fix edits only this operation).
    let laterAlter: Operation | undefined;
    if (op.kind === "RenameField") {
      const newName = literalString(op.args.new_name) as string;
      // A later AlterField of the renamed field without db_column would move the column to the
      // new name after all (galaxy_ng 0051): it needs the pin too.
      laterAlter = laterInMigration(ctx).find(
        (o) => o.kind === "AlterField" && literalString(o.args.model_name)?.toLowerCase() === model.key && literalString(o.args.name) === newName && o.args.field?.kind === "call" && !("db_column" in o.args.field.kwargs),
      );
      help.push(
        `1. Keep the column and rename only the attribute: set \`db_column=${py(oldColumn)}\` on the field, so Django emits no SQL for the rename:\n${alterFieldSnippet(model.key, fieldName, pinned)}\n${code(`migrations.RenameField(model_name=${py(model.key)}, old_name=${py(fieldName)}, new_name=${py(newName)})`)}${
          laterAlter?.args.field
            ? `\n   The \`AlterField\` of \`${newName}\` later in this migration needs it too, or it renames the column after all:\n${alterFieldSnippet(model.key, newName, fieldWith(laterAlter.args.field, { db_column: py(oldColumn) }))}`
            : ""
        }${
          reused
            ? `\n   The \`AddField\` of \`${reused.name}\` later in this migration then needs a column of its own (\`${oldColumn}\` stays the renamed field's), or it fails ("column \`${oldColumn}\` already exists"):\n${addFieldSnippet(model.key, reused.name, fieldWith(reused.call, { db_column: py(`${oldColumn}_new`) }))}`
            : ""
        }`,
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
      fix: laterAlter || reused ? undefined : pinColumnFix(ctx, model, fieldName, oldField, pinned),
    });
  },
};


/** The columns the migration's renames made (`table.column`). */
const renamedIn = migrationScratch(() => new Set<string>());

/**
 * The column of the field `after` (the field as this operation leaves it) once the rest of the
 * migration's top-level operations have run: followed through later `RenameField`s and
 * `AlterField`s of it; null when something else happens to it or its model.
 */
function columnAtEnd(ctx: OperationContext, modelKey: string, after: FieldState): string | null {
  const operations = ctx.migration.operations;
  let field = after;
  for (const later of operations.slice(operations.indexOf(ctx.parent ?? ctx.op) + 1)) {
    const model = literalString(later.args.model_name)?.toLowerCase();
    if (later.kind === "RenameModel" || later.kind === "DeleteModel") {
      if (literalString(later.args.old_name ?? later.args.name)?.toLowerCase() === modelKey) return null;
      continue;
    }
    if (model !== modelKey) continue;
    if (later.kind === "RenameField" && literalString(later.args.old_name) === field.name) {
      const name = literalString(later.args.new_name);
      if (!name) return null;
      field = { ...field, name };
    } else if (later.kind === "AlterField" && literalString(later.args.name) === field.name && later.args.field) {
      field = fieldFromCall(field.name, later.args.field, ctx.migration.app, modelKey, null);
    } else if (later.kind === "RemoveField" && literalString(later.args.name) === field.name) {
      return null;
    } else if (later.unknown || later.kind === "SeparateDatabaseAndState") {
      return null;
    }
  }
  return columnOf(field);
}

/**
 * An `AlterField` that points a many-to-many field without `through` at another model: Django
 * alters the auto-created join table's key to the other side (`_alter_many_to_many`), which
 * renames its column after the new model (`tag_id` to `sumotag_id`) and drops the foreign key and
 * adds one to the new model's table, validated (sqlmigrate on PostgreSQL 15; Kitsune questions 0019).
 */
function joinColumnsRepointed(ctx: OperationContext, model: ModelState, fieldName: string, before: FieldState, after: FieldState, joinTable: string): void {
  const from = before.relation;
  const to = after.relation;
  if (from?.kind !== "m2m" || to?.kind !== "m2m" || from.through || to.through || !from.to || !to.to || from.to === to.to) return;
  const oldColumns = autoJoinColumns(model.key, targetKeyOf(from.to));
  const newColumns = autoJoinColumns(model.key, targetKeyOf(to.to));
  const renamed = (["from", "to"] as const).filter((side) => oldColumns[side] !== newColumns[side]).map((side) => [oldColumns[side], newColumns[side]] as const);
  if (renamed.length === 0) return;
  const oldTarget = ctx.state.modelByKey(from.to);
  const newTarget = ctx.state.modelByKey(to.to);
  const newName = newTarget?.name ?? to.to;
  const newTable = newTarget ? ctx.state.tableOf(newTarget) : null;
  const columns = renamed.map(([a, b]) => `\`${a}\` to \`${b}\``).join(" and ");
  ctx.report({
    range: ctx.op.range,
    message: `Pointing many-to-many field \`${model.name}.${fieldName}\` at \`${newName}\` renames column${renamed.length > 1 ? "s" : ""} ${columns} of join table \`${joinTable}\` while the old release still uses ${renamed.length > 1 ? "them" : "it"}.`,
    help: [
      `Django names the join table's columns after the two models, so repointing the field renames the column of the other side. The old release fails on every use of \`${fieldName}\` (\`${missingColumnError(renamed[0]?.[0] ?? "", ctx.target.database)}\`) from the moment this migration runs until it is replaced, and a rollback fails the same way.`,
      `Django also drops the foreign key to ${oldTarget ? `\`${ctx.state.tableOf(oldTarget)}\`` : `\`${from.to}\``} and adds one to ${newTable ? `\`${newTable}\`` : `\`${to.to}\``}, validated: every row of \`${joinTable}\` must hold an id of \`${newName}\`, or the migration fails${ctx.target.database === "postgresql" ? `; the check reads the whole join table while the migration holds ACCESS EXCLUSIVE locks on it and on the old target's table (taken to drop the old key)` : ""}.`,
      `1. Expand: add a new many-to-many field on \`${model.name}\` pointing at \`${newName}\` (with a join table of its own) next to \`${fieldName}\`, write both from the code, and fill the new one in a data migration (mapping each old target to its \`${newName}\`).`,
      `2. Switch reads to the new field in a later release.`,
      `3. Contract: remove \`${fieldName}\` from the model and its join table in a migration marked ${postDeployMarker(ctx.target.markerStyle)}.`,
    ],
    related: before.origin ? [ctx.relatedAt(before.origin, `\`${model.name}.${fieldName}\` was last defined here`)] : undefined,
  });
}

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

/**
 * An `AlterField` that also moves its column (an `IntegerField` made a `ForeignKey`: `role` to
 * `role_id`, DefectDojo dojo 0106; a new `db_column`): Django renames the column first, under
 * ACCESS EXCLUSIVE until the migration commits. Other rules' recipes for the same operation keep
 * the column where it is, as this rule's first step does: the altered field pinned to the old
 * column (`db_column`), as state and as the `AlterField` their state operations hold. Null when the
 * column does not move, or moves back to where the migration found it.
 */
export function pinnedColumnChange(
  ctx: OperationContext,
  found: { model: ModelState; name: string; before: FieldState | null; after: FieldState; call: PyValue },
): { column: string; renamedTo: string; after: FieldState; source: string } | null {
  if (ctx.op.kind !== "AlterField" || !found.before) return null;
  // The column as the migration found it: an earlier operation of the migration may have moved it
  // already, and this one may move it back (ArchiveBox crawls 0014), which the old release never sees.
  const since = found.before.columnBefore;
  const current = ctx.columnOf(found.before);
  const column = since?.migration === ctx.migration.id ? since.column : current;
  const renamedTo = ctx.columnOf(found.after);
  if (!column || !renamedTo || current === renamedTo || column === renamedTo) return null;
  return {
    column,
    renamedTo,
    after: { ...found.after, dbColumn: column },
    source: alterFieldSource(found.model.key, found.name, fieldWith(found.call, { db_column: py(column) })),
  };
}

/**
 * Whether an `AlterField` moves its column back to where the migration found it, after an earlier
 * operation of the migration moved it (`pinnedColumnChange` is null then): still a rename, under
 * ACCESS EXCLUSIVE, which the old release never sees.
 */
export function movesColumnBack(ctx: OperationContext, found: { before: FieldState | null; after: FieldState }): boolean {
  if (ctx.op.kind !== "AlterField" || !found.before || found.before.columnBefore?.migration !== ctx.migration.id) return false;
  const current = ctx.columnOf(found.before);
  const renamedTo = ctx.columnOf(found.after);
  return current !== renamedTo && found.before.columnBefore.column === renamedTo;
}

/** The help line of a finding on an `AlterField` that `movesColumnBack`: the recipe's SQL needs the earlier move out of the database too. */
export function movedBackNote(ctx: OperationContext, found: { before: FieldState | null; after: FieldState }, table: string): string {
  const current = found.before ? ctx.columnOf(found.before) : null;
  const column = ctx.columnOf(found.after);
  return `An earlier operation of this migration renamed \`${table}.${column}\` to \`${current}\`, and this \`AlterField\` renames it back (both under ACCESS EXCLUSIVE): put that operation in the \`state_operations\` too, so that the database keeps \`${column}\` throughout, as the recipe's SQL assumes.`;
}

/** The help line of a finding whose recipe keeps the column `pinnedColumnChange` found moving. */
export function pinnedColumnNote(pinned: { column: string; renamedTo: string }, table: string): string {
  return `This \`AlterField\` also renames \`${table}.${pinned.column}\` to \`${pinned.renamedTo}\` (\`renaming-column\`), first and under an ACCESS EXCLUSIVE lock, so as written even reads of \`${table}\` wait; the recipe keeps the column where it is with \`db_column=${py(pinned.column)}\`, as that finding advises.`;
}
