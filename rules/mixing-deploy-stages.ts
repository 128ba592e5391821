import type { OperationContext, Rule } from "../src/engine/rule-types.js";
import type { ParsedMigration } from "../src/parse/parse-migration.js";
import { code, dropColumnStatement, pinnedRenameSource, postDeployMarker, py, separateDatabaseAndState } from "../src/advice/snippets.js";
import { columnOf, literalString } from "../src/state/model-state.js";
import { contractChangesOf, expandChangeOf, operationSource, stageSource } from "./adding-in-post-deploy-migration.js";

/** Migrations already reported in this run (one finding per migration). */
const reported = new WeakSet<ParsedMigration>();

/**
 * RS502: a post-deploy migration that both adds what the new release needs (expand) and drops
 * what the old release used (contract). No stage is right for it: before the deploy the drop
 * breaks the old release, after it the addition is missing for the new one.
 *
 * In a pre-deploy (or any-time) migration the contract operations are already errors of their
 * own rules (`dropping-column`, `dropping-table`, `runsql-dropping-*`), whose recipes split them
 * out; this rule covers the post-deploy side, where those rules are silent.
 */
export const mixingDeployStages: Rule = {
  meta: {
    code: "RS502",
    name: "mixing-deploy-stages",
    severity: "error",
    databases: ["postgresql", "mysql", "sqlite"],
    claims: ["new-code-breaks"],
    hazards: ["H47"],
    docs: {
      summary: "A post-deploy migration that mixes expand operations (needed by the new release) with contract operations (drops)",
      what: "Flags a migration that runs after the deploy (post-deploy marker, or unmarked with `default-stage = \"post\"`) and contains both an expand operation (`CreateModel`, `AddField`, `AlterOrderWithRespectTo` that adds `_order`, a column or table rename, `RunSQL` ADD COLUMN / CREATE TABLE) and a contract operation (`RemoveField`, `DeleteModel`, `AlterOrderWithRespectTo` to None, `RunSQL` DROP COLUMN / DROP TABLE). Reported once, at the first expand operation. Pre-deploy migrations with drops are reported by the drop rules themselves.",
      why: "Such a migration has no correct stage, the way django-syzygy calls it ambiguous: run before the deploy, its drops break the old release still serving traffic; run after, the new release starts without the columns or tables it queries. Marked post-deploy, the second happens.",
      recipe: [
        "Split the migration: the expand operations go into a pre-deploy migration that runs before the new release starts.",
        "The contract operations stay in a post-deploy migration that depends on it.",
      ],
      severityReason: "Error: the new release's queries fail until the post-deploy migration runs.",
      bad: `# whole file
from django.db import migrations, models
from django_safemigrate import Safe


class Migration(migrations.Migration):
    safe = Safe.after_deploy()
    dependencies = [("library", "0001_initial")]
    operations = [
        migrations.AddField(model_name="book", name="isbn", field=models.CharField(max_length=20, null=True)),
        migrations.RemoveField(model_name="book", name="subtitle"),
    ]`,
      good: `# whole file
from django.db import migrations
from django_safemigrate import Safe


class Migration(migrations.Migration):
    safe = Safe.after_deploy()
    dependencies = [("library", "0001_initial")]
    operations = [
        migrations.RemoveField(model_name="book", name="subtitle"),
    ]`,
    },
  },
  operation(ctx) {
    if (ctx.stage !== "post" || reported.has(ctx.migration)) return;
    const change = expandChangeOf(ctx);
    if (!change) return;
    const contract = contractChangesOf(ctx.migration, ctx.sql);
    const first = contract[0];
    if (!first) return;
    reported.add(ctx.migration);
    const { migration } = ctx;
    const swap = columnSwap(ctx, contract);
    if (swap) {
      ctx.report({
        range: ctx.op.range,
        message: `\`${migration.name}\` is ${stageSource(ctx)} but swaps column \`${swap.table}.${swap.removedColumn}\` for \`${swap.renamedColumn}\` under the same name (${first.what}, then ${change.what}).`,
        help: [
          `No deploy stage is right for this migration, and moving the rename earlier cannot work: the column name is taken until the \`RemoveField\` drops it. Before the deploy the old release reads the new column's data as \`${swap.removedColumn}\`; after it the new release reads the old one until the migration runs.`,
          `1. Before the deploy, keep both columns and rename only the Python attribute: take \`${swap.removed}\` out of the model state (its column stays), and pin \`${swap.renamed}\` to its column so the rename emits no SQL (if \`${swap.removedColumn}\` is NOT NULL without a database default, make it nullable first, or the new release's INSERTs fail: see \`removing-not-null-column-from-state\`):\n${code(
            [
              separateDatabaseAndState([`migrations.RemoveField(model_name=${py(swap.model)}, name=${py(swap.removed)}),`], []),
              pinnedRenameSource(swap.model, swap.renamed, swap.call, swap.renamedColumn, swap.removed),
            ].join("\n"),
          )}`,
          `2. After the deploy, in a migration marked ${postDeployMarker(ctx.target.markerStyle)}, drop the old column, which no field maps any more:\n${code(`migrations.RunSQL(${py(dropColumnStatement(swap.table, swap.removedColumn, ctx.target.database))}, migrations.RunSQL.noop)`)}`,
        ],
      });
      return;
    }
    ctx.report({
      range: ctx.op.range,
      message: `\`${migration.name}\` is ${stageSource(ctx)} but mixes an expand step the new release needs (${change.what}) with a contract step (${first.what}).`,
      help: [
        "No deploy stage is right for this migration: before the deploy its drops break the old release, which still queries those columns; after the deploy (as marked) the new release starts without the columns or tables it queries, and fails until the migration runs.",
        `1. Move the expand operations into a new migration that runs before the deploy (no post-deploy marker):\n${code(operationSource(migration, ctx.op))}`,
        `2. Keep ${contract.map((c) => c.what).join(", ")} in \`${migration.name}\`, ${postDeployMarker(ctx.target.markerStyle)}, and add the new migration to its \`dependencies\`.`,
      ],
      related: [
        ctx.relatedAt({ file: migration.path, range: first.op.range }, `${first.what} is here`),
        ...(ctx.stageMarker?.stage === "post" ? [ctx.relatedAt({ file: migration.path, range: ctx.stageMarker.range }, "the migration is marked post-deploy here")] : []),
      ],
    });
  },
};

/**
 * A `RenameField` onto the name (and column) a `RemoveField` earlier in the migration frees
 * (Read the Docs builds 0040: `_config` removed, `_config_json` renamed to `_config`; Tabbycat
 * draw 0005): the database swaps one column for another under one name.
 */
function columnSwap(ctx: OperationContext, contract: ReturnType<typeof contractChangesOf>) {
  const { op } = ctx;
  if (op.kind !== "RenameField") return null;
  const modelName = literalString(op.args.model_name);
  const renamed = literalString(op.args.old_name);
  const removed = literalString(op.args.new_name);
  const model = ctx.model(modelName);
  const field = renamed ? model?.fields.get(renamed) : undefined;
  if (!model || !renamed || !removed || !field || field.relation?.kind === "m2m") return null;
  const removal = contract.find((c) => c.op.kind === "RemoveField" && literalString(c.op.args.model_name)?.toLowerCase() === model.key && literalString(c.op.args.name) === removed);
  if (!removal || ctx.migration.operations.indexOf(removal.op) > ctx.migration.operations.indexOf(ctx.op)) return null;
  const renamedColumn = columnOf(field);
  if (!renamedColumn) return null;
  const removedColumn = field.relation ? `${removed}_id` : removed;
  return {
    model: model.key,
    table: ctx.tableOf(model),
    removed,
    renamed,
    removedColumn,
    renamedColumn,
    call: field.call,
  };
}
