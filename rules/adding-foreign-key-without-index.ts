import type { OperationContext, Rule } from "../src/engine/rule-types.js";
import type { Operation, PyValue } from "../src/model/types.js";
import {
  callOf,
  constraintFromValue,
  fieldFromCall,
  indexFromValue,
  literalBool,
  literalString,
  togetherList,
  type FieldState,
  type ModelState,
  createdFields,
  dictOf,
  listItems,
} from "../src/state/model-state.js";
import { code, djangoModelIndexName, fieldWith, migrationModule, py } from "../src/advice/snippets.js";

/** The database-side operations of a migration, in order (`SeparateDatabaseAndState` unwrapped). */
function databaseOperations(ops: Operation[]): Operation[] {
  return ops.flatMap((op) => (op.kind === "SeparateDatabaseAndState" ? databaseOperations(op.databaseOperations ?? []) : [op]));
}

/**
 * The leading field of every index and unique constraint that can serve a lookup by that field
 * alone: `Meta.indexes`, `unique_together`, `index_together` and `UniqueConstraint`s without a
 * condition (a partial index only covers some rows). Descending fields (`-name`) count too.
 */
function leadingFields(indexes: PyValue[], constraints: PyValue[], together: string[][]): Set<string> {
  const out = new Set<string>();
  for (const value of indexes) {
    const index = indexFromValue(value);
    const first = index.fields[0];
    if (first && !index.hasCondition) out.add(first.replace(/^-/, ""));
  }
  for (const value of constraints) {
    const constraint = constraintFromValue(value);
    const first = constraint.fields[0];
    if (constraint.kind === "unique" && first && !constraint.hasCondition) out.add(first);
  }
  for (const set of together) if (set[0]) out.add(set[0]);
  return out;
}

/** The first field of a Django 5.2 `CompositePrimaryKey("a", "b")`: its primary key index leads with it. */
function compositeKeyLead(call: PyValue | null | undefined): string | null {
  if (!callOf(call, "CompositePrimaryKey")) return null;
  return literalString(call.args[0]);
}

/** What the model state (and the rest of this migration) indexes by leading field. */
function coveredFields(ctx: OperationContext, model: ModelState): Set<string> {
  const covered = leadingFields(
    [...model.indexes.map((i) => i.value)],
    model.constraints.map((c) => c.value),
    [...model.uniqueTogether, ...model.indexTogether],
  );
  for (const field of model.fields.values()) {
    const lead = compositeKeyLead(field.call);
    if (lead) covered.add(lead);
  }
  // An index added later in the same migration serves the column as soon as the migration is done.
  for (const op of databaseOperations(ctx.migration.operations)) {
    if (op.unknown) continue;
    const target = literalString(op.args.model_name ?? op.args.name)?.toLowerCase();
    if (target !== model.key) continue;
    const found =
      op.kind === "AddIndex" || op.kind === "AddIndexConcurrently"
        ? leadingFields(op.args.index ? [op.args.index] : [], [], [])
        : op.kind === "AddConstraint" || op.kind === "AddConstraintNotValid"
          ? leadingFields([], op.args.constraint ? [op.args.constraint] : [], [])
          : op.kind === "AlterUniqueTogether"
            ? leadingFields([], [], togetherList(op.args.unique_together))
            : op.kind === "AlterIndexTogether"
              ? leadingFields([], [], togetherList(op.args.index_together))
              : new Set<string>();
    found.forEach((f) => covered.add(f));
  }
  return covered;
}

/** Whether a deleted or re-keyed parent row makes anything look the child rows up by this column. */
function parentDeletesScan(ctx: OperationContext, field: FieldState): boolean {
  const onDelete = field.kwargs.on_delete;
  const doNothing = onDelete?.kind === "name" && /(^|\.)DO_NOTHING$/.test(onDelete.name);
  const dbConstraint = field.relation?.dbConstraint ?? true;
  // Without a database constraint and with DO_NOTHING, neither PostgreSQL's referential check nor
  // Django's deletion collector ever queries the child table by this column.
  if (!dbConstraint && doNothing) return false;
  // InnoDB creates an index for every FOREIGN KEY constraint whose columns no index leads with.
  if (ctx.target.database === "mysql" && dbConstraint) return false;
  return true;
}

function candidate(field: FieldState): boolean {
  return field.relation?.kind === "fk" && !field.dbIndex && !field.unique && !field.primaryKey && literalBool(field.kwargs.db_index) === false;
}

/** RS904 (opt-in): a foreign key column without an index. */
export const addingForeignKeyWithoutIndex: Rule = {
  meta: {
    code: "RS904",
    name: "adding-foreign-key-without-index",
    severity: "warning",
    databases: ["postgresql", "mysql", "sqlite"],
    optIn: true,
    claims: [],
    hazards: ["H62"],
    docs: {
      summary: "A foreign key column with `db_index=False` and no other index leading with it (opt-in)",
      what: "Flags `ForeignKey(db_index=False)` in `AddField`, `CreateModel` and `AlterField` (turning the index off) on a managed model, unless an index or unique constraint already leads with the column: `Meta.indexes` (first field, no condition), `unique_together`/`index_together` (first field), a `UniqueConstraint` without condition (first field), a `CompositePrimaryKey` (first field), in the model state or added by the same migration. On MySQL only foreign keys with `db_constraint=False` are flagged (InnoDB indexes every FOREIGN KEY constraint itself); foreign keys with `db_constraint=False` and `on_delete=DO_NOTHING` are never flagged (nothing looks them up on delete).",
      why: "Deleting a parent row (or changing its key) makes the database check the child table for referencing rows, and Django's deletion collector (`CASCADE`, `PROTECT`, `SET_NULL`...) queries the child table by the foreign key column too. Without an index each such lookup is a sequential scan of the whole child table, so deletes on the parent slow down as the child grows; joins and `parent.children.all()` scan it as well.",
      recipe: [
        "Drop `db_index=False` (new tables), or add an index leading with the column.",
        "On an existing PostgreSQL table, build it with `AddIndexConcurrently` in a non-atomic migration.",
      ],
      severityReason: "Warning: a performance hazard that grows with the table, not a deploy failure.",
      bad: `migrations.AddField(
    model_name="book",
    name="publisher",
    field=models.ForeignKey(db_index=False, null=True, on_delete=models.deletion.SET_NULL, to="library.publisher"),
)`,
      good: `migrations.CreateModel(
    name="Loan",
    fields=[
        ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
        ("book", models.ForeignKey(db_index=False, on_delete=models.deletion.CASCADE, to="library.book")),
        ("due", models.DateField()),
    ],
    options={"indexes": [models.Index(fields=["book", "due"], name="loan_book_due_idx")]},
)`,
    },
  },
  operationKinds: ["CreateModel", "AddField", "AlterField"],
  operation(ctx) {
    const { op } = ctx;
    if (op.unknown || ctx.effect === "state") return;
    if (op.kind === "CreateModel") return createModel(ctx);
    if (op.kind !== "AddField" && op.kind !== "AlterField") return;
    const model = ctx.model(literalString(op.args.model_name));
    const name = literalString(op.args.name);
    if (!model || !name || !op.args.field || !ctx.hasTable(model)) return;
    const after = fieldFromCall(name, op.args.field, model.app, model.key, null);
    if (!candidate(after) || !parentDeletesScan(ctx, after)) return;
    if (op.kind === "AlterField") {
      const before = model.fields.get(name);
      // Only a change that turns the index off: an unchanged db_index=False was reported when added.
      if (!before || !before.dbIndex) return;
    }
    if (coveredFields(ctx, model).has(name)) return;
    report(ctx, model, after, op.args.field, ctx.isNewTable(model));
  },
};

function createModel(ctx: OperationContext): void {
  const { op } = ctx;
  const options = dictOf(op.args.options);
  if (literalBool(options.managed) === false || literalBool(options.proxy) === true) return;
  const modelName = literalString(op.args.name);
  if (!modelName) return;
  const covered = leadingFields(listItems(options.indexes), listItems(options.constraints), [
    ...togetherList(options.unique_together),
    ...togetherList(options.index_together),
  ]);
  const shell: ModelState = {
    app: ctx.migration.app,
    name: modelName,
    key: modelName.toLowerCase(),
    fields: new Map(),
    dbTable: literalString(options.db_table),
    managed: true,
    proxy: false,
    bases: [],
    uniqueTogether: [],
    indexTogether: [],
    indexes: [],
    constraints: [],
    createdIn: ctx.migration.id,
    origin: null,
  };
  coveredFields(ctx, shell).forEach((f) => covered.add(f));
  for (const item of listItems(op.args.fields)) {
    const lead = (item.kind === "tuple" || item.kind === "list") ? compositeKeyLead(item.items[1]) : null;
    if (lead) covered.add(lead);
  }
  for (const { name, call } of createdFields(op.args.fields)) {
    const field = fieldFromCall(name, call, shell.app, shell.key, null);
    if (!candidate(field) || !parentDeletesScan(ctx, field) || covered.has(name)) continue;
    report(ctx, shell, field, call, true);
  }
}

function report(ctx: OperationContext, model: ModelState, field: FieldState, call: PyValue, newTable: boolean): void {
  const table = ctx.tableOf(model);
  const column = ctx.columnOf(field) ?? `${field.name}_id`;
  const parent = field.relation?.to ?? "the parent model";
  const why =
    ctx.target.database === "mysql"
      ? `Without a FOREIGN KEY constraint InnoDB creates no index, and Django's deletion collector looks up \`${table}\` by \`${column}\` for every deleted \`${parent}\` row (on_delete), scanning the whole table each time; joins from the parent scan it too.`
      : `Deleting a \`${parent}\` row (or changing its key) looks up \`${table}\` by \`${column}\`: the database's foreign key check and Django's deletion collector (on_delete) both do, and without an index each lookup scans the whole table; joins from the parent scan it too.`;
  const index = `models.Index(fields=[${py(field.name)}], name=${py(djangoModelIndexName(table, [column]))})`;
  const steps = newTable
    ? [
        `1. Let Django index the column (drop \`db_index=False\`):\n${code(`(${py(field.name)}, ${fieldWith(call, {}, ["db_index"])}),`)}`,
        `2. Or, when a composite index is wanted, make the foreign key its first field: \`Meta.indexes = [models.Index(fields=[${py(field.name)}, ...], name=...)]\`.`,
      ]
    : ctx.target.database === "postgresql"
      ? [
          `1. Keep \`db_index=False\` on the field and build the index without blocking writes, in its own migration:\n${migrationModule([`AddIndexConcurrently(model_name=${py(model.key)}, index=${index}),`], {
            atomic: false,
            imports: ["from django.contrib.postgres.operations import AddIndexConcurrently"],
            note: "CREATE INDEX CONCURRENTLY cannot run in a transaction",
          })}`,
        ]
      : [`1. Add an index leading with the column:\n${code(`migrations.AddIndex(model_name=${py(model.key)}, index=${index}),`)}`];
  ctx.report({
    range: call.range,
    message: `Foreign key \`${model.name}.${field.name}\` has \`db_index=False\` and no index leads with \`${table}.${column}\`.`,
    help: [why, ...steps],
  });
}
