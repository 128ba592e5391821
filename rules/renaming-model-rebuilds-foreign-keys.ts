import type { Rule } from "../src/engine/rule-types.js";
import { code, djangoHas, separateDatabaseAndState } from "../src/advice/snippets.js";
import { defaultTableName, literalString, type FieldState } from "../src/state/model-state.js";
import { operationSource } from "./adding-index-non-concurrently.js";

/**
 * RS117: `RenameModel` of a model whose table is pinned still alters every foreign key pointing
 * at it (Django 4.2 `RenameModel.database_forwards`, "Alter the fields pointing to us"): on
 * PostgreSQL each constraint is dropped and added again, re-validating all referencing rows; on
 * MySQL adding it back copies the referencing table (ALGORITHM=COPY).
 */
export const renamingModelRebuildsForeignKeys: Rule = {
  meta: {
    code: "RS117",
    name: "renaming-model-rebuilds-foreign-keys",
    severity: "warning",
    databases: ["postgresql", "mysql"],
    claims: ["blocking-lock"],
    hazards: ["H06", "H21"],
    docs: {
      summary: "Renaming a model re-creates the foreign keys that point at it",
      what: "Flags, before Django 5.0, `RenameModel` of a model whose table name does not change (pinned `db_table`) when foreign keys of other existing tables point at it. Django 5.0 no longer alters a field whose referenced table keeps its name (`_field_should_be_altered` leaves `to` out then; django/django#17085), so the rename touches none of them. On MySQL too, where adding each foreign key back copies the referencing table (addons-server abuse 0043).",
      why: "Django 4.2 and earlier alter every field that points at the renamed model. On PostgreSQL that drops each foreign-key constraint, which takes ACCESS EXCLUSIVE on the referencing table (reads blocked too, until the migration commits), and adds it again: the new constraint is validated by scanning the referencing table, with SHARE ROW EXCLUSIVE on both tables. On MySQL, `ADD FOREIGN KEY` with `foreign_key_checks` on (Django's default) runs only with ALGORITHM=COPY: each referencing table is copied while its writes wait.",
      recipe: [
        "Rename the model in state only (`SeparateDatabaseAndState(state_operations=[RenameModel(...)])`): the table keeps its name and the constraints already reference it, so the database needs nothing. Not when the model has an auto-created many-to-many join table, or another model has one to it: its column is named after the model, and the rename renames it.",
        "Otherwise, on small tables, accept the brief lock or run the rename at a quiet time.",
        "On large tables, keep the class name and change only `verbose_name`, or rename in a migration marked post-deploy at a quiet time.",
      ],
      severityReason: "Warning: the lock lasts as long as the validation scan, which is short on small tables.",
      config: `django-version = "4.2"\n`,
      bad: `migrations.AlterModelTable(name="shelf", table="library_shelf"),
migrations.RenameModel(old_name="Shelf", new_name="Rack")`,
      good: `migrations.AlterModelTable(name="publisher", table="library_publisher"),
migrations.RenameModel(old_name="Publisher", new_name="Imprint")`,
    },
  },
  operationKinds: ["RenameModel"],
  operation(ctx) {
    const { op } = ctx;
    if (op.kind !== "RenameModel" || ctx.effect === "state" || op.unknown || ctx.target.database === "sqlite") return;
    // Django 5.0's `_field_should_be_altered` leaves out `to` when the referenced table keeps its
    // name (django/django#17085, refs #24686): the fields pointing at the model are not altered.
    if (djangoHas(ctx.target, 5, 0)) return;
    const model = ctx.model(literalString(op.args.old_name));
    const newName = literalString(op.args.new_name);
    if (!model || !newName || !ctx.hasTable(model) || ctx.isNewTable(model)) return;
    const table = ctx.tableOf(model);
    if ((model.dbTable ?? defaultTableName(model.app, newName.toLowerCase())) !== table) return;
    const foreignKeys: string[] = [];
    const tables = new Set<string>();
    for (const { model: other, field } of ctx.state.foreignKeyConstraintsTo(`${model.app}.${model.key}`)) {
      if (!ctx.hasTable(other) || ctx.isNewTable(other)) continue;
      foreignKeys.push(`\`${other.name}.${field.name}\``);
      tables.add(`\`${ctx.tableOf(other)}\``);
    }
    if (foreignKeys.length === 0) return;
    // An auto-created many-to-many join table has a column named after the model (`layer_id`),
    // which the rename renames: then the database has to change, and a state-only rename would
    // leave the state naming a column that does not exist.
    const key = `${model.app}.${model.key}`;
    const autoJoin = (field: FieldState) => field.relation?.kind === "m2m" && !field.relation.through;
    const joinColumns = [...model.fields.values()].some(autoJoin) || ctx.state.modelsReferencing(key).some((other) => [...other.fields.values()].some((f) => autoJoin(f) && f.relation?.to === key));
    const steps = joinColumns
      ? ["On small tables this is brief: run it at a quiet time.", `On large tables, keep the class name \`${model.name}\` and change only \`verbose_name\`, or rename in a migration marked post-deploy at a quiet time.`]
      : [
          `Rename the model in state only: its table keeps its name and every constraint already references \`${table}\`, so the database needs no change at all (Django finds constraints by introspection, not by name):\n${code(separateDatabaseAndState([operationSource(op) + ","], []))}`,
        ];
    ctx.report({
      range: op.range,
      message: `Renaming model \`${model.name}\` keeps table \`${table}\` but drops and re-creates the foreign key${foreignKeys.length > 1 ? "s" : ""} of ${foreignKeys.join(", ")}.`,
      help: [
        ctx.target.database === "mysql"
          ? `Django alters every field pointing at the renamed model: MySQL drops each foreign key and adds it again, and \`ADD FOREIGN KEY\` with \`foreign_key_checks\` on runs only with ALGORITHM=COPY: ${[...tables].join(", ")} ${tables.size > 1 ? "are each" : "is"} copied row by row while ${tables.size > 1 ? "their" : "its"} writes wait.`
          : `Django alters every field pointing at the renamed model: PostgreSQL drops each constraint, which takes ACCESS EXCLUSIVE on ${[...tables].join(", ")} and \`${table}\`, and adds it again, scanning ${[...tables].join(", ")} to validate it while reads and writes of those tables wait.`,
        ...steps.map((step, i) => `${i + 1}. ${step}`),
      ],
    });
  },
};
