import { mayRedefineColumn, rawStepsDid, rawStepsMay } from "../src/engine/raw-steps.js";
import { columnLeftByRemoval } from "../src/engine/resolved-operation.js";
import type { Rule } from "../src/engine/rule-types.js";
import type { SqlStatementFact } from "../src/sql/sql-facts.js";
import { alterFieldSnippet, dbDefaultFor, djangoHas, dropColumnSql, fieldWith, notNullViolation } from "../src/advice/snippets.js";
import { columnFillableLater } from "../src/engine/default-set-later.js";
import { keepOrderColumn } from "./dropping-column.js";

/** RS107: a field leaves the model while its column stays NOT NULL without a database default. */
export const removingNotNullColumnFromState: Rule = {
  meta: {
    code: "RS107",
    name: "removing-not-null-column-from-state",
    severity: "error",
    databases: ["postgresql", "mysql", "sqlite"],
    claims: ["new-code-breaks"],
    hazards: ["H02"],
    docs: {
      summary: "Removing a field from the model while its column is still NOT NULL without a database default",
      what: "Flags a state-only `RemoveField` (in `SeparateDatabaseAndState.state_operations` or `RunSQL(state_operations=...)`), and a `RemoveField` in a post-deploy migration, when the column that stays in the database is NOT NULL and has no database default (a column the migration's own SQL drops does not stay, unless the migration runs after the deploy). Likewise an `AlterOrderWithRespectTo` that sets `order_with_respect_to` to None (taking Django's `_order` field away). A state-only removal of a field whose model a later state-side `DeleteModel` of the migration deletes (its relations removed first, as `makemigrations` writes it, or a model moved to another app) is left to the deletion. In a migration that runs before the deploy, not when a `RunSQL` so far (such as one in the same `SeparateDatabaseAndState`'s `database_operations`) or later in the same migration may have given the column a default or dropped its NOT NULL (for `_order`, a `RunSQL` so far in any migration).",
      why: "The new release no longer knows the field, so its INSERTs leave the column out; the database then has no value for a NOT NULL column and every INSERT fails until the column is finally dropped.",
      recipe: [
        "Before (or in the same migration as) the state-only removal, let the database fill the column: `AlterField(null=True)`, or `db_default=...` on Django 5.0+.",
        "Then remove the field from state, deploy, and drop the column later in a post-deploy migration.",
      ],
      severityReason: "Error: every INSERT of the new release into the table fails until the column is dropped.",
      bad: `migrations.SeparateDatabaseAndState(
    state_operations=[migrations.RemoveField(model_name="book", name="title")],
    database_operations=[],
)`,
      good: `migrations.AlterField(
    model_name="book",
    name="title",
    field=models.CharField(max_length=200, null=True),
),
migrations.SeparateDatabaseAndState(
    state_operations=[migrations.RemoveField(model_name="book", name="title")],
    database_operations=[],
)`,
    },
  },
  operationKinds: ["RemoveField", "AlterOrderWithRespectTo"],
  operation(ctx) {
    const removal = columnLeftByRemoval(ctx);
    if (!removal) return;
    const { op } = ctx;
    const { model, physical, name, column, stateOnly } = removal;
    if (column.relation?.kind === "m2m" || column.generated || column.primaryKey) return;
    if (column.null !== false || column.hasDbDefault || /AutoField$/.test(column.type)) return;
    const table = ctx.db.tableOf(physical);
    const columnName = ctx.columnOf(column) ?? name;
    const ordering = op.kind === "AlterOrderWithRespectTo";
    // SQL the state does not show may have let the database fill the column (or dropped it): a
    // RunSQL so far (such as one in the same SeparateDatabaseAndState's database_operations), or,
    // in a migration that runs before the deploy, one later in the same migration (the new release
    // starts after it). Only SQL rollsafe can read counts: a custom operation somewhere in the
    // app's history must not silence the error. A post-deploy removal is reported whatever this
    // migration's SQL does: the new release has been inserting since the deploy, before any of it
    // ran. (`_order` keeps its earlier exemption, unreadable steps included: its default comes
    // from SQL alone.)
    const fillable = (fact: SqlStatementFact) => mayRedefineColumn(fact, table, columnName, ["set-default", "drop-not-null"]);
    if (ordering ? rawStepsMay(ctx, [physical.app, ctx.migration.app], table, fillable) : ctx.stage !== "post" && rawStepsDid(ctx, table, fillable)) return;
    if (ctx.stage !== "post" && columnFillableLater(ctx, table, columnName)) return;
    let steps: string[];
    if (ordering) {
      steps = [
        `${stateOnly ? "" : "Before the deploy: "}${keepOrderColumn(ctx, table, columnName)}`,
        `Deploy, and drop the column in a later post-deploy migration:\n${dropColumnSql(table, columnName, ctx.target.database)}`,
      ];
    } else {
      // A default evaluated in Python (`dict`, `uuid.uuid4`) has no database twin: `db_default=dict`
      // fails ("Object of type type is not JSON serializable" on a JSONField).
      const dbDefault = djangoHas(ctx.target, 5, 0) && column.hasDefault ? dbDefaultFor(column.default) : null;
      const expand = dbDefault !== null ? fieldWith(column.call, { db_default: dbDefault }) : fieldWith(column.call, { null: "True" });
      steps = [
        `Let the database fill the column first, in a migration that runs before this one (it is instant on PostgreSQL):\n${alterFieldSnippet(model.key, name, expand)}`,
        `Then remove \`${name}\` from the model state, deploy, and drop the column in a later post-deploy migration.`,
      ];
    }
    const subject = ordering ? `Setting \`order_with_respect_to\` of \`${model.name}\` to None` : `Removing \`${model.name}.${name}\` from the model`;
    ctx.report({
      range: op.range,
      message: `${subject} ${stateOnly ? "while keeping" : "before dropping"} NOT NULL column \`${table}.${columnName}\` breaks the new release's INSERTs.`,
      help: [
        `${stateOnly ? "The column stays in the database" : "This migration runs after the new release is live, so until then the column is still there"}, NOT NULL and without a database default. The new release no longer sets \`${name}\`, so each of its INSERTs into \`${table}\` fails with ${notNullViolation(ctx.target.database, table, columnName)}.`,
        ...steps.map((step, i) => `${i + 1}. ${step}`),
      ],
      related: column.origin ? [ctx.relatedAt(column.origin, `\`${columnName}\` was defined NOT NULL here`)] : undefined,
    });
  },
};
