import { code, py, sqlIdent } from "../src/advice/snippets.js";
import { inStateOperations, mayCreateTable, onTable, rawStepsMay } from "../src/engine/raw-steps.js";
import type { OperationContext, Rule } from "../src/engine/rule-types.js";
import { deferUntilReplayed, makesTable, reportUnlessLater } from "../src/engine/later-migrations.js";
import { createModelTable, defaultTableName, literalString, type ModelState } from "../src/state/model-state.js";

const RULE = "pointing-model-at-missing-table";

/** A state-only model operation and the table it makes the model use. */
interface Target {
  /** The model's name after the operation. */
  name: string;
  table: string;
  /** The model before it (RenameModel, AlterModelTable), or null (CreateModel). */
  before: ModelState | null;
}

/** A column of an auto-created many-to-many table that a `RenameModel` renames with the model. */
interface JoinColumn {
  table: string;
  /** The many-to-many field, as `Model.field`. */
  field: string;
  column: string;
  renamed: string;
}

/**
 * The columns Django's `RenameModel` renames in auto-created many-to-many tables: `<model>_id`
 * in the tables of the model's own many-to-many fields and of those pointing at it (a field of
 * the model pointing at itself uses `from_`/`to_` columns, which keep their names).
 */
function joinColumns(ctx: OperationContext, model: ModelState, newName: string): JoinColumn[] {
  const self = `${model.app}.${model.key}`;
  const column = `${model.key}_id`;
  const renamed = `${newName.toLowerCase()}_id`;
  const out: JoinColumn[] = [];
  const owners = [model, ...ctx.state.modelsReferencing(self).filter((m) => m !== model)];
  for (const owner of owners) {
    for (const field of owner.fields.values()) {
      const relation = field.relation;
      if (relation?.kind !== "m2m" || relation.through || relation.to === null) continue;
      const own = owner === model;
      // Only fields that involve the model once: its own fields to other models, others' fields to it.
      if (own === (relation.to === self)) continue;
      const table = ctx.state.m2mTableOf(owner, field);
      if (table) out.push({ table, field: `${owner.name}.${field.name}`, column, renamed });
    }
  }
  return out;
}

/** The table a state-only `CreateModel`, `RenameModel` or `AlterModelTable` points a managed model at, when it changes. */
function targetOf(ctx: OperationContext): Target | null {
  const { op } = ctx;
  const app = ctx.migration.app;
  if (op.kind === "CreateModel") {
    const name = literalString(op.args.name);
    // A db_table that is not a literal (a setting, a call) names a table rollsafe cannot know.
    const table = createModelTable(op, app, true);
    return name && table ? { name, table, before: null } : null;
  }
  if (op.kind !== "RenameModel" && op.kind !== "AlterModelTable") return null;
  const model = ctx.model(literalString(op.kind === "RenameModel" ? op.args.old_name : op.args.name));
  if (!model || !model.managed || model.proxy) return null;
  const before = ctx.tableOf(model);
  if (op.kind === "RenameModel") {
    const newName = literalString(op.args.new_name);
    // db_table keeps the table whatever the model is called (many-to-many columns: see `joinColumns`).
    if (!newName || model.dbTable) return null;
    const table = defaultTableName(model.app, newName.toLowerCase());
    return table === before ? null : { name: newName, table, before: model };
  }
  if (op.args.table && op.args.table.kind !== "none" && literalString(op.args.table) === null) return null;
  const table = literalString(op.args.table) ?? defaultTableName(model.app, model.key);
  return table === before ? null : { name: model.name, table, before: model };
}

/**
 * RS512: a state-only `CreateModel`, `RenameModel` or `AlterModelTable` that points a model at a
 * table the database does not have. Django believes the table is there from then on, so every
 * query of the release that ships with the migration on the model fails.
 */
export const pointingModelAtMissingTable: Rule = {
  meta: {
    code: "RS512",
    name: "pointing-model-at-missing-table",
    severity: "error",
    databases: ["postgresql", "mysql", "sqlite"],
    claims: ["new-code-breaks"],
    hazards: ["H52"],
    docs: {
      summary: "Changing the model state only, so that a model uses a table the database does not have",
      what: "Flags a `CreateModel` of a managed model, a `RenameModel` of a model without `db_table`, and an `AlterModelTable` that changes the table, in the `state_operations` of a `SeparateDatabaseAndState` without database operations (`mismatching-database-and-state-operations` compares the two sides otherwise) or of a `RunSQL`, when no earlier Django operation made that table (a model moved between apps keeps the table its `db_table` names, and the old model's table counts) and no `RunSQL` so far creates it or renames a table to it, nor does a later migration of the run (a model moved to this app before the old app renames its table: `CreateModel`, `AlterModelTable` or SQL on the database side making the table). SQL that cannot be read (a `DO` block, a non-literal string) and operations rollsafe cannot read in the same app count as possibly creating it, so nothing is reported then. A state-only `RenameModel` that keeps the table is reported when an auto-created many-to-many table names a column after the model (`book_id` in `library_book_tags`): Django's state renames that column with the model.",
      why: "Django records the change without touching the database. The release that ships with the migration queries the model's table by its new name, so each SELECT, INSERT and UPDATE on the model fails (PostgreSQL: `relation \"library_volume\" does not exist`) until someone changes the database by hand. A state-only `RenameModel` is the usual slip: without `db_table`, the table's name comes from the model's, so renaming the model in the state alone points it at a table nobody created. `makemigrations` cannot see the difference: it compares the models with the migration state, not with the database.",
      recipe: [
        "A renamed model whose table must stay: give it `db_table` set to the current table first (an `AlterModelTable` that keeps the name runs no SQL), then rename the model; Django leaves the table alone.",
        "A new model: let Django create its table with a plain `CreateModel`, or put the `RunSQL` that creates it in the same `SeparateDatabaseAndState`'s `database_operations`. A model for a table made outside migrations takes `managed = False`.",
      ],
      severityReason: "Error: every query of the new release on the model fails.",
      bad: `migrations.SeparateDatabaseAndState(
    state_operations=[
        migrations.CreateModel(
            name="Locker",
            fields=[("id", models.BigAutoField(primary_key=True)), ("label", models.CharField(max_length=20))],
        ),
    ],
)`,
      good: `migrations.CreateModel(
    name="Locker",
    fields=[("id", models.BigAutoField(primary_key=True)), ("label", models.CharField(max_length=20))],
)`,
    },
  },
  operationKinds: ["CreateModel", "RenameModel", "AlterModelTable"],
  operation(ctx) {
    const { op } = ctx;
    if (!inStateOperations(ctx, true)) return;
    const target = targetOf(ctx);
    if (!target) {
      if (op.kind === "RenameModel") renamedJoinColumns(ctx);
      return;
    }
    const { name, table, before } = target;
    // Any model Django's operations gave that table, managed or not (a table made outside
    // migrations, then adopted), or whose model moved to another app with `db_table`.
    // Django's auto-created join tables count too: turning a many-to-many field into one with an
    // explicit `through` model keeps its table (authentik events 0019: a state-only CreateModel
    // with `db_table` naming it, the documented way; migrate runs it).
    for (const model of ctx.db.models.values()) if (ctx.db.tableOf(model) === table || ctx.db.joinTablesOf(model).includes(table)) return;
    // The database state knows only what Django's operations did.
    if (rawStepsMay(ctx, [ctx.migration.app, ...(before ? [before.app] : [])], table, (fact) => mayCreateTable(fact, table))) return;
    const current = before ? ctx.tableOf(before) : null;
    const what =
      op.kind === "CreateModel"
        ? `adds model \`${name}\``
        : op.kind === "RenameModel"
          ? `renames \`${before?.name}\` to \`${name}\``
          : `moves \`${name}\` to table \`${table}\``;
    const steps = current
      ? [
          `1. To keep the rows where they are, keep the model on table \`${current}\`: ${op.kind === "RenameModel" ? "give it that `db_table` before the rename (an `AlterModelTable` that keeps the name runs no SQL)" : "leave `db_table` naming it"}:\n${code(`migrations.AlterModelTable(name=${py((before as ModelState).key)}, table=${py(current)})`)}`,
          "2. To really rename the table, use the expand/contract recipe of `renaming-table`: renaming it in one step breaks the release still running.",
        ]
      : [
          "1. If the table should be created now, let Django create it with a plain `CreateModel` outside `SeparateDatabaseAndState`, or put the `RunSQL` that creates it in the same `SeparateDatabaseAndState`'s `database_operations`.",
          `2. If the model is for a table made outside migrations, say so with \`options={"managed": False}\`: Django then never expects to create or change it.`,
        ];
    // A later migration may make the table: the old app renaming it for a model moved here
    // (peering-manager's bgp 0003 before peering 0108; see later-migrations).
    const report = ctx.report;
    deferUntilReplayed(RULE, { migration: ctx.migration, cancelledBy: (later) => makesTable(later, table), report: () => report({
      range: op.range,
      message: `This state-only \`${op.kind}\` ${what}, but no operation ever created table \`${table}\`.`,
      help: [
        `Django records the change without touching the database. The release that ships with this migration queries \`${table}\` for \`${name}\`, so each SELECT, INSERT and UPDATE on it fails (on PostgreSQL: \`relation ${sqlIdent(table)} does not exist\`) until the database is changed by hand.`,
        ...steps,
        `${steps.length + 1}. If the table was really made outside migrations, suppress this finding with that reason.`,
      ],
      related: before?.origin ? [ctx.relatedAt(before.origin, `\`${before.name}\` was created here, on table \`${current}\``)] : undefined,
    }) });
  },
  project(ctx) {
    reportUnlessLater(RULE, ctx);
  },
};

/**
 * A state-only `RenameModel` that keeps the model's table: Django's state now names the model's
 * column in auto-created many-to-many tables after the new name, while the database keeps the old.
 */
function renamedJoinColumns(ctx: OperationContext): void {
  const { op } = ctx;
  const model = ctx.model(literalString(op.args.old_name));
  const newName = literalString(op.args.new_name);
  if (!model || !newName || !model.managed || model.proxy) return;
  const columns = joinColumns(ctx, model, newName).filter(
    (join) => !rawStepsMay(ctx, [ctx.migration.app, model.app], join.table, (fact) => fact.kind === "rename-column" && onTable(fact, join.table) && fact.newName === join.renamed),
  );
  const first = columns[0];
  if (!first) return;
  const others = columns.slice(1).map((j) => `\`${j.table}.${j.column}\``);
  ctx.report({
    range: op.range,
    message: `This state-only \`RenameModel\` renames \`${model.name}\` to \`${newName}\`, so Django's state expects column \`${first.renamed}\` in many-to-many table \`${first.table}\`, which still has \`${first.column}\`${others.length ? ` (and ${others.length} more)` : ""}.`,
    help: [
      `The table of an auto-created many-to-many field (\`${first.field}\`) names its column after the model. Django's \`RenameModel\` renames that column with the model; in the state alone it does not, so the release that ships with this migration reads and writes \`${first.renamed}\`, and each query on the relation fails (on PostgreSQL: \`column "${first.renamed}" does not exist\`)${others.length ? `. The same holds for ${others.join(", ")}` : ""}.`,
      `1. Before the rename, give \`${first.field}\` an explicit \`through\` model on the existing table (\`db_table=${py(first.table)}\`, with \`db_column=${py(first.column)}\` on its foreign key to \`${model.name}\`), in \`state_operations\` only: the database does not change, and the rename then changes nothing in it either.`,
      "2. A plain `RenameModel` renames the column in the database instead, which breaks the release still running on it: see `renaming-column` for the expand/contract recipe.",
    ],
  });
}
