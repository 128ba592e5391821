import type { Rule } from "../src/engine/rule-types.js";
import { describeStatement } from "../src/sql/analyze-sql.js";
import {
  fieldOfColumn,
  forwardStatements,
  removedFromStateInThisMigration,
  resolveSqlTable,
  tableLabel,
} from "../src/engine/sql-facts-for-operation.js";
import { dropColumnStatement, postDeployMarker, runSqlSnippet, stateOnlyRemoveField } from "../src/advice/snippets.js";

/** RS603: `RunSQL` `ALTER TABLE ... DROP COLUMN` of a column that deployed code still uses. */
export const runsqlDroppingColumn: Rule = {
  meta: {
    code: "RS603",
    name: "runsql-dropping-column",
    severity: "error",
    databases: ["postgresql", "mysql", "sqlite"],
    claims: ["old-code-breaks"],
    unobservable: "When the field left the model state in an earlier migration (the warning), old code breaks only if that migration ships in the same release as the drop; the harness takes the code of the migration just before the drop as the old release, which no longer maps the column.",
    hazards: ["H01"],
    docs: {
      summary: "Raw SQL that drops a column the running code still reads and writes",
      what: "Flags `ALTER TABLE ... DROP COLUMN` in `RunSQL` when the column belongs to a field that is still in the model state (error), or when the field was removed from the state only in this migration (the same release). A column already removed from the model state in an earlier migration is the staged-drop recipe: it is not reported in a post-deploy migration and is a warning otherwise (the state removal may ship in the same release). Tables created in the same migration are skipped; a table no model maps to is a warning.",
      why: "Django names every model field in its SELECT and INSERT statements. A column still in the model is used by the old release and by the new one, so their queries fail with `column ... does not exist`.",
      recipe: [
        "Remove the field from the model and ship a state-only `SeparateDatabaseAndState(state_operations=[RemoveField(...)], database_operations=[])` (make the column nullable first if it is NOT NULL without a database default).",
        "Deploy, and wait until no old release runs.",
        "In a later release, `RunSQL('ALTER TABLE ... DROP COLUMN IF EXISTS ...')` in a migration marked post-deploy (without `IF EXISTS` on MySQL and SQLite).",
      ],
      severityReason: "Error when a deployed release still maps the column: its queries fail. Warning when the field is already gone from the model but the migration is not marked post-deploy, because rollsafe cannot tell whether the state removal shipped in an earlier release.",
      bad: `migrations.RunSQL("ALTER TABLE library_book DROP COLUMN subtitle", reverse_sql=migrations.RunSQL.noop)`,
      good: `migrations.SeparateDatabaseAndState(
    state_operations=[migrations.RemoveField(model_name="book", name="subtitle")],
    database_operations=[],
)`,
    },
  },
  operationKinds: ["RunSQL"],
  operation(ctx) {
    for (const { fact, range } of forwardStatements(ctx)) {
      if (fact.kind !== "drop-column" || fact.column === null) continue;
      const ref = resolveSqlTable(ctx, fact);
      if (!ref || ref.isNew) continue;
      const statement = `\`${describeStatement(fact)}\``;
      const dropLater = runSqlSnippet(dropColumnStatement(fact.table ?? ref.table, fact.column, ctx.target.database), null);
      const field = fieldOfColumn(ref.model, fact.column);
      if (ref.model && field && !removedFromStateInThisMigration(ctx, ref.model.name, field.name)) {
        const model = ref.model;
        ctx.report({
          range,
          message: `${statement} drops column \`${fact.column}\` of field \`${model.name}.${field.name}\`, which the model still has.`,
          help: [
            `Django selects every field of \`${model.name}\` by name, so every query of the old release (and of this one, whose model still has \`${field.name}\`) on \`${ref.table}\` fails with "column ${fact.column} does not exist".`,
            `1. Remove \`${field.name}\` from the \`${model.name}\` model and ship a state-only removal, so the column stays:\n${stateOnlyRemoveField(model.key, field.name)}`,
            "2. Deploy this release and wait until no instance of the old release runs.",
            `3. In a later release, drop the column in a migration marked ${postDeployMarker(ctx.target.markerStyle)}:\n${dropLater}`,
          ],
          related: field.origin ? [ctx.relatedAt(field.origin, `\`${model.name}.${field.name}\` was last defined here`)] : undefined,
        });
        continue;
      }
      const dbModel = ref.model ?? ref.dbModel;
      const dbField = fieldOfColumn(ref.dbModel, fact.column);
      if (dbModel && (dbField || !ref.model)) {
        // The staged-drop recipe: the state no longer has the field (or the model).
        const fieldName = dbField?.name ?? fact.column;
        const sameRelease = ref.model
          ? removedFromStateInThisMigration(ctx, dbModel.name, fieldName)
          : removedFromStateInThisMigration(ctx, dbModel.name, null);
        if (!sameRelease && ctx.stage === "post") continue;
        ctx.report({
          range,
          severity: sameRelease ? "error" : "warning",
          message: sameRelease
            ? `${statement} drops column \`${fact.column}\` in the same migration that removes \`${dbModel.name}.${fieldName}\` from the model state.`
            : `${statement} drops column \`${fact.column}\` of ${tableLabel(ref)} in a migration not marked post-deploy.`,
          help: [
            sameRelease
              ? "The state removal and the drop ship in the same release, so the old release, which still maps the field, fails on every query of the table during the rollout."
              : "The field is already gone from the model state, which is the staged drop; but unless the state removal shipped in an earlier release, the release still serving traffic maps the column and fails once it is dropped.",
            sameRelease
              ? "1. Keep the state-only removal in this release, and move the DROP to a migration of a later release."
              : "1. Make sure the state-only removal was deployed in an earlier release.",
            `2. Run the drop in a migration marked ${postDeployMarker(ctx.target.markerStyle)}:\n${dropLater}`,
          ],
        });
        continue;
      }
      if (!ref.model && !ref.dbModel) {
        ctx.report({
          range,
          severity: "warning",
          message: `${statement} drops a column of ${tableLabel(ref)}, which no model in the linted migrations maps; rollsafe cannot tell whether deployed code reads it.`,
          help: [
            "If any deployed code (another app, raw SQL, a view) still reads the column, its queries fail once it is dropped.",
            "1. Check who reads the column; drop it only after the code that uses it is gone everywhere.",
            `2. Run the drop in a migration marked ${postDeployMarker(ctx.target.markerStyle)}.`,
          ],
        });
      }
    }
  },
};
