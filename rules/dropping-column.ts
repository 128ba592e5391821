import type { Rule } from "../src/engine/rule-types.js";
import { isAutoIncrement, literalString } from "../src/state/model-state.js";
import {
  djangoHas,
  dropColumnSql,
  dropTablesSql,
  fieldWith,
  alterFieldSnippet,
  pyValue,
  postDeployMarker,
  stateOnlyRemoveField,
} from "../src/advice/snippets.js";
import { stateOnlyRemovalFix } from "../src/fix/rule-fixes.js";

/** RS101: `RemoveField` drops a column that the running release still selects. */
export const droppingColumn: Rule = {
  meta: {
    code: "RS101",
    name: "dropping-column",
    severity: "error",
    databases: ["postgresql", "mysql", "sqlite"],
    claims: ["old-code-breaks"],
    hazards: ["H01"],
    docs: {
      summary: "Dropping a column that the running release still reads and writes",
      what: "Flags `RemoveField` (also inside `SeparateDatabaseAndState.database_operations`) on an existing, managed table, in a migration that runs before the new release is live.",
      why: "Django names every model field in its SELECT and INSERT statements. While the old release still serves traffic, each of its queries on the model fails with `column ... does not exist`, and a rollback to the old release fails the same way.",
      recipe: [
        "Remove the field from the model and ship a state-only removal (`SeparateDatabaseAndState(state_operations=[RemoveField(...)], database_operations=[])`). If the column is NOT NULL without a database default, make it nullable (or give it a `db_default`) first, so the new release's INSERTs work.",
        "Deploy, and wait until no old release runs.",
        "In a later release, drop the column with `RunSQL('ALTER TABLE ... DROP COLUMN IF EXISTS ...')` in a migration marked post-deploy.",
      ],
      severityReason: "Error: the old release fails on every query of the model during the rollout.",
      bad: `migrations.RemoveField(model_name="book", name="subtitle")`,
      good: `migrations.SeparateDatabaseAndState(
    state_operations=[migrations.RemoveField(model_name="book", name="subtitle")],
    database_operations=[],
)`,
    },
  },
  operationKinds: ["RemoveField"],
  operation(ctx) {
    const { op } = ctx;
    if (op.kind !== "RemoveField" || ctx.effect === "state" || op.unknown) return;
    if (ctx.stage === "post") return;
    const model = ctx.model(literalString(op.args.model_name));
    const name = literalString(op.args.name);
    if (!model || !name || !ctx.hasTable(model) || ctx.isNewTable(model)) return;
    const field = model.fields.get(name);
    if (!field) return;
    const table = ctx.tableOf(model);
    const m2mTable = ctx.state.m2mTableOf(model, field);
    const column = ctx.columnOf(field);
    const steps: string[] = [];
    // An auto-increment column (an identity, or serial) is filled by the database like a db_default.
    const notNullNoDefault = field.null === false && !field.hasDbDefault && !isAutoIncrement(field) && field.relation?.kind !== "m2m";
    // A foreign key constraint left behind would reject the new release's deletes of referenced
    // rows (it no longer knows the field, so nothing cascades); `db_constraint=False` drops it
    // without a scan. Altering a constrained foreign key otherwise re-adds the constraint, validated.
    const keepsConstraint = (field.relation?.kind === "fk" || field.relation?.kind === "o2o") && field.relation.dbConstraint;
    let expandField: string | null = null;
    if (notNullNoDefault || keepsConstraint) {
      const fill: Record<string, string> = !notNullNoDefault ? {} : djangoHas(ctx.target, 5, 0) && field.hasDefault ? { db_default: pyValue(field.default) } : { null: "True" };
      const expand = fieldWith(field.call, { ...(keepsConstraint ? { db_constraint: "False" } : {}), ...fill });
      expandField = expand;
      const to = field.relation?.to ?? null;
      const target = `\`${(to && ctx.state.modelByKey(to)?.name) ?? to ?? "the referenced model"}\``;
      const constraintWhy = `its foreign key constraint stays with the column and would make the new release's deletes of still-referenced ${target} rows fail`;
      const why = notNullNoDefault
        ? `Column \`${column}\` is NOT NULL without a database default, so the new release (which no longer sets it) could not INSERT into \`${table}\`${keepsConstraint ? `, and ${constraintWhy}` : ""}.`
        : `The ${constraintWhy.replace(/^its /, "")}.`;
      const first = [...(notNullNoDefault ? ["let the database fill it"] : []), ...(keepsConstraint ? ["drop the constraint (`db_constraint=False`: no scan)"] : [])].join(" and ");
      steps.push(`${why} First ${first}:\n${alterFieldSnippet(model.key, name, expand)}`);
    }
    steps.push(
      `Remove \`${name}\` from the \`${model.name}\` model and replace this operation with a state-only removal, so the ${m2mTable ? `join table \`${m2mTable}\`` : `column`} stays:\n${stateOnlyRemoveField(model.key, name)}`,
    );
    steps.push("Deploy this release and wait until no instance of the old release runs.");
    steps.push(
      `In a later release, drop it in a migration marked ${postDeployMarker(ctx.target.markerStyle)}:\n${m2mTable ? dropTablesSql([m2mTable]) : dropColumnSql(table, column ?? name)}`,
    );
    const what = m2mTable ? `drops the join table \`${m2mTable}\`` : `drops column \`${column}\` from \`${table}\``;
    ctx.report({
      range: op.range,
      message: `Removing field \`${model.name}.${name}\` ${what} while the old release still uses it.`,
      help: [
        `Django selects every field of \`${model.name}\` by name, so until the new release is fully live every query of the old release on \`${table}\` fails ("column ${column ?? name} does not exist"), and rolling back fails the same way.`,
        ...steps.map((s, i) => `${i + 1}. ${s}`),
      ],
      related: field.origin ? [ctx.relatedAt(field.origin, `\`${model.name}.${name}\` was last defined here`)] : undefined,
      fix: stateOnlyRemovalFix(ctx, model, name, field, { table, column, m2mTable }, expandField),
    });
  },
};
