import { columnLeftByRemoval } from "../src/engine/resolved-operation.js";
import type { Rule } from "../src/engine/rule-types.js";
import { alterFieldSnippet, fieldWith, postDeployMarker, stateOnlyRemoveField } from "../src/advice/snippets.js";

/** RS108: a foreign key leaves the model (or its column is dropped) while its database constraint exists. */
export const removingForeignKeyWithConstraint: Rule = {
  meta: {
    code: "RS108",
    name: "removing-foreign-key-with-constraint",
    severity: "error",
    databases: ["postgresql", "mysql"],
    claims: ["new-code-breaks"],
    unobservable:
      "The new release fails when it deletes a referenced row (Django no longer cascades through the removed field, and the constraint that stays rejects the DELETE); the harness's new-code queries are INSERTs and SELECTs, which still work.",
    hazards: ["H03"],
    docs: {
      summary: "Removing a foreign key while its database constraint still exists",
      what: "Flags a state-only `RemoveField` of a `ForeignKey`/`OneToOneField` whose column keeps its foreign-key constraint, and a post-deploy `RemoveField` that drops such a column together with its constraint. (A pre-deploy `RemoveField` is reported by `dropping-column`.)",
      why: "Django emulates `on_delete` in Python: once the field is gone from the model, deleting a referenced row no longer deletes or nulls the rows that point at it, so the constraint that is still in the database rejects the DELETE and the new release's deletes fail. Dropping the column later also drops the constraint, which takes an ACCESS EXCLUSIVE lock on the referenced table as well.",
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
  operationKinds: ["RemoveField"],
  operation(ctx) {
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
          `Django applies \`on_delete\` itself: without the field, deleting a \`${targetName}\` no longer touches the \`${table}\` rows that point at it, so the constraint that is still in the database rejects the DELETE ("violates foreign key constraint"). The later \`DROP COLUMN\` also drops the constraint, which locks \`${targetTable}\` (ACCESS EXCLUSIVE) as well.`,
          `1. In a migration before this one, drop the constraint and make the column nullable, so the new release can neither be blocked by it nor have to fill it (brief locks on \`${table}\` and \`${targetTable}\`, no scan):\n${expand}`,
          `2. Then remove the field from state only, as here:\n${stateOnlyRemoveField(model.key, name)}`,
          `3. After the deploy, drop the column in a migration marked ${postDeployMarker(ctx.target.markerStyle)}.`,
        ],
        related: field.origin ? [ctx.relatedAt(field.origin, `\`${model.name}.${name}\` was defined with its constraint here`)] : undefined,
      });
      return;
    }
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
