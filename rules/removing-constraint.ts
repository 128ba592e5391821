import type { OperationContext, Rule } from "../src/engine/rule-types.js";
import type { Operation, SourceRange } from "../src/model/types.js";
import {
  constraintFromValue,
  fieldFromCall,
  literalString,
  togetherList,
  type ConstraintState,
  type ModelState,
} from "../src/state/model-state.js";
import { fieldOperation, keptModel } from "../src/engine/resolved-operation.js";
import { forwardStatements, resolveSqlTable, tableLabel } from "../src/engine/sql-facts-for-operation.js";
import { code, py, pyValue } from "../src/advice/snippets.js";

/** The database-side operations of a migration, in order (`SeparateDatabaseAndState` unwrapped). */
function databaseOperations(ops: Operation[]): Operation[] {
  return ops.flatMap((op) => (op.kind === "SeparateDatabaseAndState" ? databaseOperations(op.databaseOperations ?? []) : [op]));
}

function sameModel(op: Operation, arg: "model_name" | "name", model: ModelState): boolean {
  return literalString(op.args[arg])?.toLowerCase() === model.key;
}

/**
 * The field sets the migration leaves unique on `model` besides the one being removed: what the
 * model state already enforces plus what this migration adds (a `unique_together` moved to a
 * `UniqueConstraint` in the same migration keeps the guarantee).
 */
function uniqueSetsKept(ctx: OperationContext, model: ModelState, removed: { constraint?: string; together?: string; field?: string }): string[][] {
  const sets: string[][] = [];
  for (const c of model.constraints) if (c.kind === "unique" && !c.hasCondition && c.fields.length && c.name !== removed.constraint) sets.push(c.fields);
  for (const t of model.uniqueTogether) if (t.join(",") !== removed.together) sets.push(t);
  for (const f of model.fields.values()) if (f.unique && f.name !== removed.field) sets.push([f.name]);
  for (const op of databaseOperations(ctx.migration.operations)) {
    if (op === ctx.op || op.unknown) continue;
    if ((op.kind === "AddConstraint" || op.kind === "AddConstraintNotValid") && sameModel(op, "model_name", model) && op.args.constraint) {
      const c = constraintFromValue(op.args.constraint);
      if (c.kind === "unique" && !c.hasCondition && c.fields.length) sets.push(c.fields);
    } else if (op.kind === "AlterUniqueTogether" && sameModel(op, "name", model)) {
      sets.push(...togetherList(op.args.unique_together));
    } else if ((op.kind === "AddField" || op.kind === "AlterField") && sameModel(op, "model_name", model) && op.args.field) {
      const name = literalString(op.args.name);
      if (name && fieldFromCall(name, op.args.field, model.app, model.key, null).unique) sets.push([name]);
    }
  }
  return sets;
}

/** Whether a kept unique set is a subset of `fields`, so rows stay unique on `fields`. */
function stillUnique(kept: string[][], fields: string[]): boolean {
  const wanted = new Set(fields);
  return kept.some((set) => set.length > 0 && set.every((f) => wanted.has(f)));
}

/** Whether the migration adds a constraint of the same name back on the model (a replacement). */
function replacedInMigration(ctx: OperationContext, model: ModelState, name: string): boolean {
  return databaseOperations(ctx.migration.operations).some(
    (op) =>
      op !== ctx.op &&
      (op.kind === "AddConstraint" || op.kind === "AddConstraintNotValid") &&
      sameModel(op, "model_name", model) &&
      op.args.constraint !== undefined &&
      constraintFromValue(op.args.constraint).name === name,
  );
}

const KIND_LABEL: Record<ConstraintState["kind"], string> = {
  unique: "unique constraint",
  check: "check constraint",
  exclusion: "exclusion constraint",
  other: "constraint",
};

function reliance(kind: "unique" | "check" | "exclusion" | "fk" | "other"): string {
  switch (kind) {
    case "unique":
      return "Code may rely on the `IntegrityError` it raises: `get_or_create`/`update_or_create` races, `bulk_create(ignore_conflicts=True)` or `update_conflicts=True` (ON CONFLICT needs a unique index), and `try: ... except IntegrityError` used for de-duplication all silently start writing duplicates";
    case "fk":
      return "Code may rely on the database rejecting dangling references (an `IntegrityError` on inserting a row that points at a deleted parent, or the database cascading deletes); without the constraint such rows are accepted and joins silently lose them";
    case "check":
    case "exclusion":
      return "Code (and other consumers of the table) may rely on the database rejecting rows that break the rule with an `IntegrityError`; without it such rows are stored";
    default:
      return "Code may rely on the guarantee it enforces, and on the `IntegrityError` raised when a write breaks it";
  }
}

function steps(model: string, removal: string, kind: Parameters<typeof reliance>[0]): string[] {
  // The first step searches for what each kind of constraint is relied on for.
  const first =
    kind === "unique"
      ? `search for \`get_or_create\`, \`update_or_create\`, \`ignore_conflicts\`, \`update_conflicts\` and \`except IntegrityError\` around \`${model}\`, and replace de-duplication by the constraint with an explicit check under a lock (\`select_for_update()\`), or keep the constraint`
      : kind === "fk"
        ? `search for \`except IntegrityError\` around writes of \`${model}\` and for code that counts on the database to reject or cascade, and check the referenced rows in code (or keep the constraint)`
        : `validate in the model or form what the constraint checks (\`Model.clean()\`, a validator), search for \`except IntegrityError\` around writes of \`${model}\`, and make sure reports and other services do not assume the rule holds (or keep the constraint)`;
  return [
    `1. Before dropping it, make sure no code path needs it: ${first}.`,
    `2. Ship that code first; drop the constraint in a later release, in a post-deploy migration, once no running release relies on it:\n${code(removal)}`,
  ];
}

/** RS903 (opt-in): a constraint dropped while deployed code may still rely on it. */
export const removingConstraint: Rule = {
  meta: {
    code: "RS903",
    name: "removing-constraint",
    severity: "warning",
    databases: ["postgresql", "mysql", "sqlite"],
    optIn: true,
    claims: [],
    hazards: ["H58"],
    docs: {
      summary: "Dropping a constraint that deployed code may rely on (opt-in)",
      what: "Flags, on an existing managed table that the migration does not drop later (dropping-table reports that), in a migration that is not post-deploy: `RemoveConstraint`; `AlterField` that turns `unique=True` off (a one-to-one field made a `ForeignKey` included) or sets `db_constraint=False` on a foreign key; `AlterUniqueTogether` that removes a set; and `ALTER TABLE ... DROP CONSTRAINT` in `RunSQL` (PostgreSQL, MySQL). Not flagged: a uniqueness that stays enforced by another unique constraint, `unique_together` set or unique field (e.g. `unique_together` moved to a `UniqueConstraint` in the same migration), a constraint re-added under the same name in the same migration, and a helper constraint added earlier in the same migration.",
      why: "A constraint is a guarantee the running code may depend on without saying so: `get_or_create`/`update_or_create` are only race-free with a unique constraint, `bulk_create(ignore_conflicts=True)` and upserts need it, and `except IntegrityError` blocks use it for de-duplication. Once it is dropped, the release still serving traffic silently writes duplicates, dangling references or invalid rows, and they stay after a rollback.",
      recipe: [
        "Make sure no code path relies on the constraint (`get_or_create`, upserts, `except IntegrityError`); ship that change first.",
        "Drop the constraint in a later release, in a post-deploy migration.",
      ],
      severityReason: "Warning: nothing fails at deploy time; whether code relies on the constraint needs a look.",
      bad: `migrations.AlterField(
    model_name="book",
    name="author",
    field=models.ForeignKey(db_constraint=False, on_delete=models.deletion.CASCADE, to="library.author"),
)`,
      good: `# whole file
from django.db import migrations, models
from django_safemigrate import Safe


class Migration(migrations.Migration):
    safe = Safe.after_deploy()
    dependencies = [("library", "0001_initial")]
    operations = [
        migrations.AlterField(
            model_name="book",
            name="author",
            field=models.ForeignKey(db_constraint=False, on_delete=models.deletion.CASCADE, to="library.author"),
        ),
    ]`,
    },
  },
  operationKinds: ["RemoveConstraint", "AlterField", "AlterUniqueTogether", "RunSQL"],
  operation(ctx) {
    if (ctx.stage === "post" || ctx.effect === "state" || ctx.op.unknown) return;
    switch (ctx.op.kind) {
      case "RemoveConstraint":
        return removeConstraint(ctx);
      case "AlterField":
        return alterField(ctx);
      case "AlterUniqueTogether":
        return alterUniqueTogether(ctx);
      case "RunSQL":
        return runSql(ctx);
    }
  },
};

function report(ctx: OperationContext, range: SourceRange, model: string, message: string, kind: Parameters<typeof reliance>[0], removal: string): void {
  ctx.report({ range, message, help: [`${reliance(kind)}.`, ...steps(model, removal, kind)] });
}

function removeConstraint(ctx: OperationContext): void {
  const model = keptModel(ctx, "model_name");
  const name = literalString(ctx.op.args.name);
  if (!model || !name || replacedInMigration(ctx, model, name)) return;
  const constraint = model.constraints.find((c) => c.name === name);
  if (constraint?.kind === "unique" && !constraint.hasCondition && constraint.fields.length > 0 && stillUnique(uniqueSetsKept(ctx, model, { constraint: name }), constraint.fields)) return;
  const kind = constraint?.kind ?? "other";
  report(
    ctx,
    ctx.op.range,
    model.name,
    `\`RemoveConstraint\` drops the ${KIND_LABEL[kind]} \`${name}\` of \`${model.name}\` (table \`${ctx.tableOf(model)}\`) while deployed code may rely on it.`,
    kind,
    `migrations.RemoveConstraint(model_name=${py(model.key)}, name=${py(name)}),`,
  );
}

function alterField(ctx: OperationContext): void {
  const change = fieldOperation(ctx);
  if (!change?.before) return;
  const { model, name, before, after } = change;
  const table = ctx.tableOf(model);
  const column = ctx.columnOf(before) ?? name;
  const removal = `migrations.AlterField(model_name=${py(model.key)}, name=${py(name)}, field=${pyValue(change.call)}),`;
  if (before.unique && !after.unique && !before.primaryKey && !stillUnique(uniqueSetsKept(ctx, model, { field: name }), [name])) {
    const how = before.relation?.kind === "o2o" && after.relation?.kind !== "o2o" ? "turns the one-to-one field into a non-unique one" : "turns `unique=True` off";
    report(ctx, ctx.op.range, model.name, `\`AlterField\` ${how} on \`${model.name}.${name}\`, dropping the unique constraint on \`${table}.${column}\` while deployed code may rely on it.`, "unique", removal);
    return;
  }
  if (before.relation && before.relation.kind !== "m2m" && before.relation.dbConstraint && after.relation && !after.relation.dbConstraint) {
    report(
      ctx,
      ctx.op.range,
      model.name,
      `\`AlterField\` sets \`db_constraint=False\` on \`${model.name}.${name}\`, dropping the foreign key constraint on \`${table}.${column}\` while deployed code may rely on it.`,
      "fk",
      removal,
    );
  }
}

function alterUniqueTogether(ctx: OperationContext): void {
  const model = keptModel(ctx, "name");
  if (!model) return;
  const kept = new Set(togetherList(ctx.op.args.unique_together).map((t) => t.join(",")));
  for (const set of model.uniqueTogether) {
    const key = set.join(",");
    if (kept.has(key) || set.length === 0 || stillUnique(uniqueSetsKept(ctx, model, { together: key }), set)) continue;
    const remaining = togetherList(ctx.op.args.unique_together).map((t) => `(${t.map(py).join(", ")})`);
    report(
      ctx,
      ctx.op.range,
      model.name,
      `\`AlterUniqueTogether\` removes the unique set (${set.map((f) => `\`${f}\``).join(", ")}) of \`${model.name}\` (table \`${ctx.tableOf(model)}\`) while deployed code may rely on it.`,
      "unique",
      `migrations.AlterUniqueTogether(name=${py(model.key)}, unique_together={${remaining.join(", ")}}),`,
    );
  }
}

function runSql(ctx: OperationContext): void {
  // SQLite has no ALTER TABLE ... DROP CONSTRAINT; MySQL has it from 8.0.19 with the same meaning.
  if (ctx.target.database === "sqlite") return;
  const statements = forwardStatements(ctx);
  if (statements.length === 0) return;
  // Every constraint this migration adds in SQL: a helper constraint dropped again (the NOT NULL
  // recipe's CHECK) or a constraint dropped and re-added (a changed definition) keeps the guarantee.
  const added = new Set<string>();
  const collect = (op: Operation) => {
    for (const { fact } of forwardStatements({ ...ctx, op, effect: "both" })) {
      if (fact.kind === "add-constraint" && fact.constraint) added.add(`${fact.table}.${fact.constraint}`);
    }
  };
  databaseOperations(ctx.migration.operations).filter((op) => op.kind === "RunSQL" && !op.unknown).forEach(collect);
  for (const { fact, range } of statements) {
    if (fact.kind !== "drop-constraint" || fact.constraint === null) continue;
    if (added.has(`${fact.table}.${fact.constraint}`)) continue;
    const ref = resolveSqlTable(ctx, fact);
    if (!ref || ref.isNew) continue;
    const model = ref.model ?? ref.dbModel;
    const known = model?.constraints.find((c) => c.name === fact.constraint);
    const kind = known?.kind ?? "other";
    report(
      ctx,
      range,
      model?.name ?? fact.table ?? "the table",
      `\`ALTER TABLE ... DROP CONSTRAINT ${fact.constraint}\` drops a ${KIND_LABEL[kind]} of ${tableLabel(ref)} while deployed code may rely on it.`,
      kind,
      `migrations.RunSQL(${py(`ALTER TABLE ${fact.table} DROP CONSTRAINT ${fact.constraint}`)}, reverse_sql=...),`,
    );
  }
}
