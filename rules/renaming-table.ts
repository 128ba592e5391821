import type { OperationContext, Rule } from "../src/engine/rule-types.js";
import type { ModelState } from "../src/state/model-state.js";
import { defaultTableName, literalString, truncateName } from "../src/state/model-state.js";
import { djangoHas, py } from "../src/advice/snippets.js";
import { pinTableFix } from "../src/fix/rule-fixes.js";
import { describeTaker, tableTakenLater } from "../src/engine/dropped-later.js";

/** RS104: `RenameModel` or `AlterModelTable` renames a table in place. */
export const renamingTable: Rule = {
  meta: {
    code: "RS104",
    name: "renaming-table",
    severity: "error",
    databases: ["postgresql", "mysql", "sqlite"],
    claims: ["old-code-breaks"],
    hazards: ["H06"],
    docs: {
      summary: "Renaming a table that the running release still uses",
      what: "Flags `RenameModel` when the table name really changes (no `Meta.db_table` keeps it) and `AlterModelTable` that changes the table, on an existing managed model.",
      why: "The old release keeps querying the old table name and fails on every query of the model from the moment the migration runs until it is replaced; many-to-many join tables are renamed too.",
      recipe: [
        "Rename only the Python class: set `Meta.db_table` to the current table name before renaming the model, so `RenameModel` emits no SQL.",
        "If the table must really change name: create the new table, write both from the code, backfill, switch reads, and drop the old table in a post-deploy migration (or use an updatable view under the old name for one release).",
      ],
      severityReason: "Error: one of the two releases fails on every query of the model during the rollout.",
      bad: `migrations.RenameModel(old_name="Author", new_name="Writer")`,
      good: `migrations.AlterModelTable(name="publisher", table="library_publisher"),
migrations.RenameModel(old_name="Publisher", new_name="Imprint")`,
    },
  },
  operationKinds: ["RenameModel", "AlterModelTable"],
  operation(ctx) {
    const { op } = ctx;
    if ((op.kind !== "RenameModel" && op.kind !== "AlterModelTable") || ctx.effect === "state" || op.unknown) return;
    // In a post-deploy migration the old release is gone; the new release is what breaks, which
    // adding-in-post-deploy-migration reports.
    if (ctx.stage === "post") return;
    const modelName = literalString(op.kind === "RenameModel" ? op.args.old_name : op.args.name);
    const model = ctx.model(modelName);
    if (!model || !ctx.hasTable(model) || ctx.isNewTable(model)) return;
    const oldTable = ctx.tableOf(model);
    let newTable: string;
    if (op.kind === "RenameModel") {
      const newName = literalString(op.args.new_name);
      if (!newName) return;
      newTable = model.dbTable ?? defaultTableName(model.app, newName.toLowerCase());
    } else {
      if (op.args.table && op.args.table.kind !== "str" && op.args.table.kind !== "none") return;
      newTable = literalString(op.args.table) ?? defaultTableName(model.app, model.key);
    }
    if (newTable === oldTable) {
      if (op.kind === "RenameModel") reportPinnedRename(ctx, model, literalString(op.args.new_name) ?? model.name);
      return;
    }
    // Django renames the auto-created join tables named after the table with it (`<table>_<field>`),
    // and RenameModel also their column named after the model (`_alter_many_to_many`); a
    // self-referential one is left to the related fields' alteration.
    const newKey = op.kind === "RenameModel" ? (literalString(op.args.new_name) ?? model.name).toLowerCase() : model.key;
    const joinTables = [...model.fields.values()].flatMap((f) => {
      const t = ctx.state.m2mTableOf(model, f);
      if (!t || f.relation?.dbTable) return [];
      const column = newKey !== model.key && f.relation?.to !== `${model.app}.${model.key}` ? ` (its column \`${model.key}_id\` to \`${newKey}_id\`)` : "";
      return [`\`${t}\` to \`${truncateName(`${newTable}_${f.name}`)}\`${column}`];
    });
    // Other models' many-to-many relations to it: their join tables keep their names, but
    // RenameModel renames the column named after the model (EvaP evaluation 0145).
    const inboundColumns = op.kind === "RenameModel" ? joinColumnsRenamed(ctx, model, literalString(op.args.new_name) ?? model.name, true) : [];
    const help = [
      `The old release keeps querying \`${oldTable}\` and fails with "relation ${oldTable} does not exist" from the moment this migration runs until it is replaced; a rollback fails the same way.${joinTables.length ? ` The join table${joinTables.length > 1 ? "s are" : " is"} renamed too: ${joinTables.join(", ")}.` : ""}${
        inboundColumns.length ? ` It also renames the join-table column${inboundColumns.length > 1 ? "s" : ""} ${inboundColumns.join(", ")}.` : ""
      }`,
    ];
    if (op.kind === "RenameModel") {
      // Before Django 5.0, RenameModel also drops and re-creates every foreign key pointing at the
      // model, pinned table or not (renaming-model-rebuilds-foreign-keys: dit-helpdesk
      // rules_of_origin 0012): with such keys, and no join table named after the model, rename in
      // state only. Django 5.0 leaves them alone when the table keeps its name.
      const key = `${model.app}.${model.key}`;
      const referencing = [...ctx.state.models.values()].flatMap((other) =>
        [...other.fields.values()].filter((f) => f.relation?.to === key && f.relation.kind !== "m2m" && f.relation.dbConstraint && !(other === model)).map((f) => `\`${other.name}.${f.name}\``),
      );
      const joinTablesNamedAfter = [...ctx.state.models.values()].some((other) => [...other.fields.values()].some((f) => f.relation?.kind === "m2m" && !f.relation.through && (other === model || f.relation.to === key)));
      const newName = literalString(op.args.new_name) ?? model.name;
      help.push(
        referencing.length > 0 && !joinTablesNamedAfter && !djangoHas(ctx.target, 5, 0)
          ? `1. Keep the table and rename only the class, in state only: add \`db_table = ${py(oldTable)}\` to \`${model.name}\`'s \`Meta\` (an \`AlterModelTable(name=${py(model.key)}, table=${py(oldTable)})\` that changes nothing in the database) before the rename, and rename the model with \`migrations.SeparateDatabaseAndState(state_operations=[migrations.RenameModel(old_name=${py(model.name)}, new_name=${py(newName)})])\`: a plain \`RenameModel\` would still drop and re-create, validating every row, the foreign key${referencing.length > 1 ? "s" : ""} of ${referencing.join(", ")}, which ${referencing.length > 1 ? "keep" : "keeps"} pointing at \`${oldTable}\` anyway.`
          : `1. Keep the table and rename only the class: add \`db_table = ${py(oldTable)}\` to \`${model.name}\`'s \`Meta\` (an \`AlterModelTable(name=${py(model.key)}, table=${py(oldTable)})\` that changes nothing in the database) before the rename; \`RenameModel\` then emits no SQL for the table.`,
        `2. If the table must change name, expand and contract: create \`${newTable}\`, write both tables from the code, backfill, switch reads, and drop \`${oldTable}\` in a post-deploy migration.`,
      );
      // Pinning the table keeps the join tables' columns named after the model renamed: their
      // relations need `through` models first (the pinned rename's own finding says so).
      const ownColumns = joinColumnsRenamed(ctx, model, newName);
      if (ownColumns.length > 0) {
        help.splice(
          help.length - 1,
          0,
          `   \`RenameModel\` still renames ${ownColumns.length > 1 ? "the join-table columns" : "the join-table column"} ${ownColumns.join(", ")} with the table pinned: first give ${ownColumns.length > 1 ? "those many-to-many relations" : "that many-to-many relation"} an explicit \`through\` model whose foreign keys pin the current columns with \`db_column\` (state-only, the join table stays as it is).`,
        );
      }
      // A model made later in the migration under the old name (mathesar 0007) takes the old table
      // by default: keeping it for the renamed model needs that one to have another.
      const taken = tableTakenLater(ctx, oldTable);
      if (taken) {
        help.splice(
          help.length - 1,
          0,
          `   ${describeTaker(taken)} later in this migration takes \`${oldTable}\`${taken.kind === "CreateModel" ? " by default" : ""}: give ${taken.kind === "CreateModel" ? "the new model" : "that model"} another table (\`db_table\`) for step 1 to work.`,
        );
      }
    } else {
      help.push(
        `1. Keep \`db_table = ${py(oldTable)}\`: the table name does not need to follow the model name.`,
        `2. If the table must change name, expand and contract: create \`${newTable}\`, write both, backfill, switch reads, and drop \`${oldTable}\` in a post-deploy migration.`,
      );
    }
    ctx.report({
      range: op.range,
      message: `${op.kind === "RenameModel" ? `Renaming model \`${model.name}\`` : `Changing the table of \`${model.name}\``} renames table \`${oldTable}\` to \`${newTable}\` while the old release still uses it.`,
      help,
      related: model.origin ? [ctx.relatedAt(model.origin, `\`${model.name}\` was created here`)] : undefined,
      fix: pinTableFix(ctx, model, oldTable),
    });
  },
};

/**
 * `RenameModel` keeps a pinned table, but Django 4.2's `RenameModel.database_forwards` still
 * alters every field pointing at the model: auto-created many-to-many join tables get their
 * `<model>_id` column renamed, so the old release's queries on those relations fail. Seen on
 * PostgreSQL 15 with Django 4.2 by the verification harness.
 */
function reportPinnedRename(ctx: OperationContext, model: ModelState, newName: string): void {
  const renamedColumns = joinColumnsRenamed(ctx, model, newName);
  const table = ctx.tableOf(model);
  if (renamedColumns.length > 0) {
    ctx.report({
      range: ctx.op.range,
      message: `Renaming model \`${model.name}\` keeps table \`${table}\` but renames join-table column${renamedColumns.length > 1 ? "s" : ""} ${renamedColumns.join(", ")} while the old release still uses ${renamedColumns.length > 1 ? "them" : "it"}.`,
      help: [
        "`Meta.db_table` keeps the model's own table, but Django names the columns of auto-created many-to-many tables after the model, and `RenameModel` renames them: the old release's queries on those relations fail until it is replaced.",
        `1. Give each many-to-many relation of \`${model.name}\` an explicit \`through\` model whose foreign keys pin the current columns with \`db_column\` (a state-only change: \`SeparateDatabaseAndState(state_operations=[...])\`, the join table stays as it is).`,
        "2. Then rename the model: no column changes any more.",
        "3. Or keep the class name and change only `verbose_name`.",
      ],
    });
    return;
  }
  // Foreign keys pointing at a pinned model are reported by renaming-model-rebuilds-foreign-keys.
}

/**
 * The columns of auto-created many-to-many join tables that `RenameModel` renames after the
 * model (`_alter_many_to_many`), pinned table or not: `<model>_id` in the join tables of its own
 * relations and of other models' relations to it (EvaP evaluation 0145, `degree_id` to
 * `program_id`), `from_`/`to_` for a relation to itself. `inbound` keeps only other models'.
 */
function joinColumnsRenamed(ctx: OperationContext, model: ModelState, newName: string, inbound = false): string[] {
  const key = `${model.app}.${model.key}`;
  const newKey = newName.toLowerCase();
  const renamed: string[] = [];
  for (const other of ctx.state.models.values()) {
    for (const field of other.fields.values()) {
      const relation = field.relation;
      if (relation?.kind !== "m2m" || relation.through) continue;
      const onThis = other === model;
      if (inbound && onThis) continue;
      const joinTable = ctx.state.m2mTableOf(other, field);
      if (!joinTable) continue;
      if (onThis && relation.to === key) renamed.push(`\`${joinTable}.from_${model.key}_id\` and \`to_${model.key}_id\``);
      else if (onThis || relation.to === key) renamed.push(`\`${joinTable}.${model.key}_id\` to \`${newKey}_id\``);
    }
  }
  return renamed;
}
