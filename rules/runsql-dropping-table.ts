import type { OperationContext, Rule } from "../src/engine/rule-types.js";
import type { SourceRange } from "../src/model/types.js";
import type { ModelState } from "../src/state/model-state.js";
import { describeStatement } from "../src/sql/analyze-sql.js";
import { forwardStatements, laterSqlStatements, removedFromStateInThisMigration, resolveSqlTable, tableLabel } from "../src/engine/sql-facts-for-operation.js";
import { dropTablesStatement, postDeployMarker, runSqlSnippet, stateOnlyDeleteModel } from "../src/advice/snippets.js";
import type { ProjectState } from "../src/state/project-state.js";

/** The model owning an auto-created many-to-many join table, with the field name. */
function joinTableOwner(state: ProjectState, table: string): { model: ModelState; field: string } | null {
  for (const model of state.models.values()) {
    if (!state.hasTable(model)) continue;
    for (const field of model.fields.values()) if (state.m2mTableOf(model, field) === table) return { model, field: field.name };
  }
  return null;
}

/**
 * A `DROP TABLE` that a later statement of the same SQL makes good (a `CREATE TABLE` of the name, or
 * a table renamed to it): a hand-made rebuild, which the running release survives only while the
 * migration's transaction hides the gap, and whose new table has only what the SQL gives it.
 */
function rebuiltTable(ctx: OperationContext, drop: { statement: string; range: SourceRange; table: string; by: string; label: string }): void {
  const db = ctx.target.database;
  const hidden = ctx.migration.atomic && db !== "mysql";
  const locked =
    db === "sqlite"
      ? "the running release's writes wait for the migration's write lock until it commits"
      : `\`${drop.table}\` is locked against reads and writes from the DROP until the migration commits`;
  ctx.report({
    range: drop.range,
    severity: hidden ? "warning" : "error",
    message: `${drop.statement} and the ${drop.by} after it rebuild ${drop.label}${hidden ? `: ${locked}` : `, and between the two the running release finds no \`${drop.table}\``}.`,
    help: [
      !hidden
        ? `${db === "mysql" ? "MySQL commits each DDL statement at once" : "This migration sets `atomic = False`, so each statement commits on its own"}: from the DROP to the ${drop.by} the running release's queries fail with ${db === "mysql" ? `"Table '${drop.table}' doesn't exist"` : db === "sqlite" ? `"no such table: ${drop.table}"` : `"relation ${drop.table} does not exist"`}.`
        : db === "sqlite"
          ? `SQLite runs this migration in one transaction: other connections keep reading the old \`${drop.table}\` until it commits, and their writes wait for its write lock (or fail with "database is locked" once their timeout passes), through whatever follows the DROP.`
          : `In this atomic migration other sessions never see \`${drop.table}\` missing: the DROP takes ACCESS EXCLUSIVE, and the running release's queries of the table wait until the migration commits, through whatever follows the DROP (a copy of every row, an index build).`,
      `The new table has only what the SQL gives it: Django's indexes, unique and check constraints, defaults and NOT NULL, and the foreign keys of other tables that pointed at the old one${db === "sqlite" ? "" : " (a DROP without CASCADE fails while one still does)"} must be made again; compare the table's definition before and after (${db === "sqlite" ? `\`.schema ${drop.table}\`` : db === "mysql" ? `\`SHOW CREATE TABLE ${drop.table}\`` : `\`\\d ${drop.table}\``}) on a copy of the database.`,
      ...(db === "postgresql"
        ? [`If the copy reads a table the running release writes to, the rows it writes there after the copy has read it are not in the new table (lost, when the copy reads the dropped table itself): take \`LOCK TABLE ... IN EXCLUSIVE MODE\` on it before the copy, so those writes wait instead (reads go on).`]
        : []),
      "1. Prefer Django's own operations for the change (`AlterField`, `AddField` with the expand/contract recipes the other rules give), which keep the table, its indexes and its constraints.",
      "2. If the rebuild stays, run it at a quiet time, after checking the new table's definition against the old one's.",
    ],
  });
}

/** RS604: `RunSQL` `DROP TABLE` of a table that deployed code still uses. */
export const runsqlDroppingTable: Rule = {
  meta: {
    code: "RS604",
    name: "runsql-dropping-table",
    severity: "error",
    databases: ["postgresql", "mysql", "sqlite"],
    claims: ["old-code-breaks"],
    hazards: ["H04", "H55"],
    docs: {
      summary: "Raw SQL that drops a table the running code still uses",
      what: "Flags `DROP TABLE` in `RunSQL` when a model in the state (or an auto-created many-to-many join table) still uses the table (error), or when the model was deleted from the state only in this same migration. A drop that a later statement of the same SQL makes good (`CREATE TABLE` of the name, `CREATE TABLE ... AS SELECT`, or another table renamed to it: a hand-made rebuild) is a warning about the lock held from the DROP to the commit, what the new table lacks and, on PostgreSQL, the rows written during the copy; an error when the migration is not atomic (or on MySQL), where the running release finds no table between the two. A table whose model left the state in an earlier migration is the staged-drop recipe: fine in a post-deploy migration, a warning otherwise. Tables created in the same migration are skipped; tables no model maps to are a warning.",
      why: "The old release keeps querying the model's table until it is replaced; each query fails with `relation ... does not exist`, and the data is gone, so a rollback cannot help.",
      recipe: [
        "Remove the model from the code and ship a state-only `SeparateDatabaseAndState(state_operations=[DeleteModel(...)], database_operations=[])`.",
        "Deploy, and wait until no old release runs.",
        "In a later release, `RunSQL('DROP TABLE IF EXISTS ...')` in a migration marked post-deploy.",
      ],
      severityReason: "Error when a model still uses the table: every query on it fails. Warning for the staged drop outside a post-deploy migration and for unknown tables, where rollsafe cannot tell who still reads it.",
      bad: `migrations.RunSQL("DROP TABLE library_book", reverse_sql=migrations.RunSQL.noop)`,
      good: `migrations.RunSQL(
    "CREATE TABLE library_scratch (id bigint); DROP TABLE library_scratch",
    reverse_sql=migrations.RunSQL.noop,
)`,
    },
  },
  operationKinds: ["RunSQL"],
  operation(ctx) {
    const statements = forwardStatements(ctx);
    for (const [i, { fact, range }] of statements.entries()) {
      if (fact.kind !== "drop-table" || fact.table === null) continue;
      const ref = resolveSqlTable(ctx, fact);
      if (!ref || ref.isNew) continue;
      const statement = `\`${describeStatement(fact)}\``;
      const dropLater = runSqlSnippet(dropTablesStatement([fact.table], ctx.target.database), null);
      const owner = ref.model ? null : fact.schema === null || fact.schema === "public" ? joinTableOwner(ctx.state, fact.table) : null;
      // A later statement of the same SQL puts a table back under the name (ArchiveBox crawls 0002:
      // copy into a `_new` table, drop, rename; OSF 0183: drop, CREATE TABLE ... AS SELECT).
      const schema = fact.schema ?? "public";
      const rebuild = [...statements.slice(i + 1).map((s) => s.fact), ...laterSqlStatements(ctx)]
        .find((later) => (later.schema ?? "public") === schema && ((later.kind === "create-table" && later.table === fact.table) || (later.kind === "rename-table" && later.newName === fact.table)));
      if (rebuild && (ref.model || owner)) {
        rebuiltTable(ctx, { statement, range, table: fact.table, by: `\`${describeStatement(rebuild)}\``, label: ref.model ? `the table of model \`${ref.model.name}\`` : `the join table of \`${owner?.model.name}.${owner?.field}\`` });
        continue;
      }
      if (ref.model || owner) {
        const name = ref.model ? ref.model.name : `${owner?.model.name}.${owner?.field}`;
        ctx.report({
          range,
          message: `${statement} drops ${ref.model ? `the table of model \`${name}\`` : `the join table of \`${name}\``}, which the code still uses.`,
          help: [
            `Every query of the old release (and of this one, whose models still include \`${name}\`) on \`${ref.table}\` fails with "relation ${fact.table} does not exist", and the data is gone.`,
            ref.model
              ? `1. Delete \`${name}\` from the code (remove foreign keys that point at it first) and ship a state-only deletion, so the table stays:\n${stateOnlyDeleteModel(ref.model.name)}`
              : `1. Remove the field \`${name}\` from the model and ship a state-only \`RemoveField\` (\`SeparateDatabaseAndState\`), so the join table stays.`,
            "2. Deploy this release and wait until no instance of the old release runs.",
            `3. In a later release, drop the table in a migration marked ${postDeployMarker(ctx.target.markerStyle)}:\n${dropLater}`,
          ],
          related: ref.model?.origin ? [ctx.relatedAt(ref.model.origin, `\`${name}\` was created here`)] : undefined,
        });
        continue;
      }
      if (ref.dbModel) {
        const sameRelease = removedFromStateInThisMigration(ctx, ref.dbModel.name, null);
        if (!sameRelease && ctx.stage === "post") continue;
        ctx.report({
          range,
          severity: sameRelease ? "error" : "warning",
          message: sameRelease
            ? `${statement} drops the table of \`${ref.dbModel.name}\` in the same migration that deletes the model from the state.`
            : `${statement} drops ${tableLabel(ref)} in a migration not marked post-deploy.`,
          help: [
            sameRelease
              ? "The state deletion and the drop ship in the same release, so the old release, which still has the model, fails on every query of the table during the rollout."
              : "The model is already gone from the state, which is the staged drop; but unless that deletion shipped in an earlier release, the release still serving traffic uses the table.",
            sameRelease ? "1. Keep the state-only deletion in this release and move the DROP to a later release." : "1. Make sure the state-only deletion was deployed in an earlier release.",
            `2. Run the drop in a migration marked ${postDeployMarker(ctx.target.markerStyle)}:\n${dropLater}`,
          ],
        });
        continue;
      }
      ctx.report({
        range,
        severity: "warning",
        message: `${statement} drops ${tableLabel(ref)}, which no model in the linted migrations maps; rollsafe cannot tell whether deployed code uses it.`,
        help: [
          "If any deployed code (another app, raw SQL, a view, a foreign key) still uses the table, it fails once the table is dropped, and the data cannot be restored by a rollback.",
          "1. Check who uses the table; drop it only after that code is gone everywhere.",
          `2. Run the drop in a migration marked ${postDeployMarker(ctx.target.markerStyle)}.`,
        ],
      });
    }
  },
};
