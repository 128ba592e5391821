import { columnLeftByRemoval, constrainedForeignKeys } from "../src/engine/resolved-operation.js";
import type { OperationContext, Rule } from "../src/engine/rule-types.js";
import { literalString } from "../src/state/model-state.js";
import { createsModelOnTable, deferUntilReplayed, reportUnlessLater } from "../src/engine/later-migrations.js";
import { alterFieldSnippet, codeList, dropForeignKeySnippet, fieldWith, foreignKeyViolation, postDeployMarker, stateOnlyDeleteModel, stateOnlyRemoveField } from "../src/advice/snippets.js";

const RULE = "removing-foreign-key-with-constraint";

/**
 * A state-only `DeleteModel` whose table stays with foreign keys to other tables: the new
 * release, without the model, deletes referenced rows that the kept rows still point at.
 */
function modelLeftWithForeignKeys(ctx: OperationContext): void {
  const { op } = ctx;
  if (op.unknown || ctx.effect !== "state") return;
  const name = literalString(op.args.name);
  const model = ctx.model(name);
  const physical = name ? ctx.db.model(ctx.migration.app, name) : undefined;
  if (!model || !physical || !ctx.hasTable(physical) || ctx.isNewTable(physical)) return;
  const keys = constrainedForeignKeys(ctx, physical);
  if (keys.length === 0) return;
  const table = ctx.db.tableOf(physical);
  // Moved to another app whose state-only CreateModel came first (peering-manager's bgp.Community):
  // the new release still has a model on the table, with its keys.
  if (ctx.state.modelsWithTable(table).some((other) => other !== model && ctx.state.hasTable(other))) return;
  const kept = [table, ...ctx.db.joinTablesOf(physical)];
  const targets = [...new Set(keys.map((k) => k.targetName))];
  const tables = [...new Set(keys.map((k) => k.targetTable))];
  const relax = keys.map((k) => dropForeignKeySnippet(physical.key, k.field));
  const many = keys.length > 1;
  const report = ctx.report;
  // A later migration may create the model in another app on this table (see later-migrations).
  deferUntilReplayed(RULE, { migration: ctx.migration, cancelledBy: (later) => createsModelOnTable(later, table), report: () => report({
    range: op.range,
    message: `Deleting \`${model.name}\` from the state while the database keeps its foreign key${many ? "s" : ""} (${keys.map((k) => k.holder).join(", ")}) makes the new release's deletes of ${codeList(targets)} fail.`,
    help: [
      `Django applies \`on_delete\` itself: without \`${model.name}\`, deleting rows of ${codeList(targets)} no longer touches the rows of ${codeList(kept)} that point at them, so the constraint${many ? "s" : ""} still in the database reject${many ? "" : "s"} the DELETE (${foreignKeyViolation(ctx.target.database)}) until the table is dropped.${ctx.target.database === "postgresql" ? ` Dropping it later also drops the constraint${many ? "s" : ""}, which locks ${tables.join(", ")} (ACCESS EXCLUSIVE) as well.` : ""}`,
      `1. In a migration before this one (or before this operation), drop the constraint${many ? "s" : ""} (brief locks, no scan):\n${relax.join("\n")}`,
      `2. Then delete the model from the state only, as here:\n${stateOnlyDeleteModel(model.name)}`,
      `3. After the deploy, drop ${codeList(kept)} in a migration marked ${postDeployMarker(ctx.target.markerStyle)}.`,
    ],
    related: model.origin ? [ctx.relatedAt(model.origin, `\`${model.name}\` was created here`)] : undefined,
  }) });
}

/** RS108: a foreign key leaves the model (or its column is dropped) while its database constraint exists. */
export const removingForeignKeyWithConstraint: Rule = {
  meta: {
    code: "RS108",
    name: "removing-foreign-key-with-constraint",
    severity: "error",
    databases: ["postgresql", "mysql", "sqlite"],
    claims: ["new-code-breaks"],
    unobservable:
      "The new release fails when it deletes a referenced row (Django no longer cascades through the removed field, and the constraint that stays rejects the DELETE); the harness's new-code queries are INSERTs and SELECTs, which still work.",
    hazards: ["H03"],
    docs: {
      summary: "Removing a foreign key while its database constraint still exists",
      what: "Flags a state-only `RemoveField` of a `ForeignKey`/`OneToOneField` whose column keeps its foreign-key constraint (not when a later state-side `DeleteModel` of the migration deletes the model, whose finding then covers the table; not when the migration's own SQL drops the column and the migration runs before the deploy), a state-only `DeleteModel` whose table keeps foreign-key constraints to other tables (unless another model in the state, or one a later migration of the run creates, is on that table: the model moved to another app, Django's documented way, and keeps its keys), and, on PostgreSQL, a post-deploy `RemoveField` that drops such a column together with its constraint (MariaDB 10.11 drops a foreign key without waiting for transactions on the referenced table; MySQL is not reported for it). (A pre-deploy `RemoveField` is reported by `dropping-column`, a pre-deploy `DeleteModel` by `dropping-table`.)",
      why: "Django emulates `on_delete` in Python: once the field is gone from the model, deleting a referenced row no longer deletes or nulls the rows that point at it, so the constraint that is still in the database rejects the DELETE and the new release's deletes fail. On PostgreSQL, dropping the column later also drops the constraint, which takes an ACCESS EXCLUSIVE lock on the referenced table as well.",
      recipe: [
        "First drop the database constraint and make the column nullable: `AlterField(..., db_constraint=False, null=True)`, in its own migration.",
        "Then remove the field from state only, deploy, and drop the column in a later post-deploy migration.",
      ],
      severityReason: "Error for a state-only removal: the new release's deletes of referenced rows fail. A warning for the final post-deploy drop, whose lock on the referenced table is brief but queues behind any long query on it.",
      bad: `migrations.SeparateDatabaseAndState(
    state_operations=[migrations.RemoveField(model_name="slot", name="book")],
    database_operations=[],
)`,
      good: `migrations.AlterField(
    model_name="book",
    name="author",
    field=models.ForeignKey(db_constraint=False, null=True, on_delete=django.db.models.deletion.CASCADE, to="library.author"),
),
migrations.SeparateDatabaseAndState(
    state_operations=[migrations.RemoveField(model_name="book", name="author")],
    database_operations=[],
)`,
    },
  },
  operationKinds: ["RemoveField", "DeleteModel"],
  project(ctx) {
    reportUnlessLater(RULE, ctx);
  },
  operation(ctx) {
    if (ctx.op.kind === "DeleteModel") {
      modelLeftWithForeignKeys(ctx);
      return;
    }
    const removal = columnLeftByRemoval(ctx);
    if (!removal) return;
    const { op } = ctx;
    const { model, physical, name, column: field, stateOnly } = removal;
    const relation = field.relation;
    if (!relation || relation.kind === "m2m" || !relation.dbConstraint) return;
    const table = ctx.db.tableOf(physical);
    const column = ctx.columnOf(field) ?? `${name}_id`;
    const target = relation.to ? ctx.db.modelByKey(relation.to) : undefined;
    if (target && !ctx.db.hasTable(target)) return;
    const targetTable = target ? ctx.db.tableOf(target) : "the referenced table";
    const targetName = target?.name ?? relation.to ?? "the referenced model";
    const expand = alterFieldSnippet(model.key, name, fieldWith(field.call, { db_constraint: "False", null: "True" }));
    if (stateOnly) {
      ctx.report({
        range: op.range,
        message: `Removing \`${model.name}.${name}\` from the model while the foreign key on \`${table}.${column}\` stays makes the new release's deletes of \`${targetName}\` fail.`,
        help: [
          `Django applies \`on_delete\` itself: without the field, deleting a \`${targetName}\` no longer touches the \`${table}\` rows that point at it, so the constraint that is still in the database rejects the DELETE (${foreignKeyViolation(ctx.target.database)}).${ctx.target.database === "postgresql" ? ` The later \`DROP COLUMN\` also drops the constraint, which locks \`${targetTable}\` (ACCESS EXCLUSIVE) as well.` : ""}`,
          `1. In a migration before this one, drop the constraint and make the column nullable, so the new release can neither be blocked by it nor have to fill it (brief locks on \`${table}\` and \`${targetTable}\`, no scan):\n${expand}`,
          `2. Then remove the field from state only, as here:\n${stateOnlyRemoveField(model.key, name)}`,
          `3. After the deploy, drop the column in a migration marked ${postDeployMarker(ctx.target.markerStyle)}.`,
        ],
        related: field.origin ? [ctx.relatedAt(field.origin, `\`${model.name}.${name}\` was defined with its constraint here`)] : undefined,
      });
      return;
    }
    // The lock on the referenced table is PostgreSQL's (its constraint triggers live there); on
    // MariaDB 10.11 dropping a foreign key does not wait for transactions on the referenced table.
    if (ctx.target.database !== "postgresql") return;
    ctx.report({
      range: op.range,
      message: `Dropping \`${table}.${column}\` also drops its foreign key, which locks \`${targetTable}\` as well as \`${table}\`.`,
      help: [
        `Dropping the constraint removes its triggers from \`${targetTable}\`, which takes an ACCESS EXCLUSIVE lock on \`${targetTable}\` too. The lock is brief, but it waits behind every long query on \`${targetTable}\`, and all traffic on that table queues behind it.`,
        `1. Drop the constraint first, in its own small migration (with a \`lock_timeout\`, so a busy \`${targetTable}\` makes it fail and retry instead of queueing traffic):\n${expand}`,
        `2. Then drop the column in a later migration; it then locks only \`${table}\`.`,
      ],
      severity: "warning",
      related: field.origin ? [ctx.relatedAt(field.origin, `\`${model.name}.${name}\` was defined with its constraint here`)] : undefined,
    });
  },
};
