import type { OperationContext, Rule } from "../src/engine/rule-types.js";
import type { Operation, PyValue } from "../src/model/types.js";
import type { ParsedMigration } from "../src/parse/parse-migration.js";
import { orderColumnChange } from "../src/engine/resolved-operation.js";
import { parsedStatements, type RunSqlFacts } from "../src/engine/sql-facts-for-operation.js";
import { columnOf, fieldFromCall, literalBool, literalString } from "../src/state/model-state.js";
import { delayedBySafemigrate } from "../src/engine/deploy-stages.js";
import { code, dbDefaultFor, djangoHas, fieldWith, py, stageName } from "../src/advice/snippets.js";

/** A change the new release needs in the database before it starts (an expand step). */
export interface ExpandChange {
  op: Operation;
  /** E.g. "`AddField` adds column `isbn` to `library_book`". */
  what: string;
}

/** A change that breaks the old release (a contract step), found without state. */
export interface ContractChange {
  op: Operation;
  what: string;
}

function optionsOf(value: PyValue | undefined): Record<string, PyValue> {
  const out: Record<string, PyValue> = {};
  if (value?.kind !== "dict") return out;
  for (const { key, value: v } of value.entries) if (key.kind === "str") out[key.value] = v;
  return out;
}

/**
 * What an operation adds or renames in the database that the new release's code relies on:
 * new columns and tables, and renamed columns and tables. Indexes, constraints and backfills are
 * not here: they may legitimately run after the deploy. Null for anything else, for state-only
 * operations, unmanaged/proxy models and tables created earlier in the same migration.
 */
export function expandChangeOf(ctx: OperationContext): ExpandChange | null {
  const { op } = ctx;
  if (op.unknown || ctx.effect === "state") return null;
  if (op.thirdParty && op.thirdParty.database === "none") return null;
  const str = literalString;
  switch (op.kind) {
    case "CreateModel": {
      const name = str(op.args.name);
      const options = optionsOf(op.args.options);
      if (!name || literalBool(options.managed) === false || literalBool(options.proxy) === true) return null;
      const table = str(options.db_table) ?? `${ctx.migration.app}_${name.toLowerCase()}`;
      return { op, what: `\`CreateModel\` creates table \`${table}\` for \`${name}\`` };
    }
    case "AddField": {
      const model = ctx.model(str(op.args.model_name));
      const name = str(op.args.name);
      if (!model || !name || !op.args.field || !ctx.hasTable(model) || ctx.isNewTable(model)) return null;
      const field = fieldFromCall(name, op.args.field, model.app, model.key, null);
      const column = columnOf(field);
      const table = ctx.tableOf(model);
      return {
        op,
        what: column ? `\`AddField\` adds column \`${column}\` to \`${table}\`` : `\`AddField\` creates the join table of \`${model.name}.${name}\``,
      };
    }
    case "AlterOrderWithRespectTo": {
      // Turning the option on adds Django's `_order` column, which the new model selects.
      const change = orderColumnChange(ctx);
      return change?.added ? { op, what: `\`AlterOrderWithRespectTo\` adds column \`${change.field.name}\` to \`${ctx.tableOf(change.model)}\`` } : null;
    }
    case "RenameField": {
      const model = ctx.model(str(op.args.model_name));
      const oldName = str(op.args.old_name);
      const newName = str(op.args.new_name);
      if (!model || !oldName || !newName || !ctx.hasTable(model) || ctx.isNewTable(model)) return null;
      const field = model.fields.get(oldName);
      if (!field || field.dbColumn || field.relation?.kind === "m2m") return null;
      const oldColumn = columnOf(field);
      const newColumn = field.relation ? `${newName}_id` : newName;
      if (oldColumn === newColumn) return null;
      return { op, what: `\`RenameField\` renames column \`${ctx.tableOf(model)}.${oldColumn}\` to \`${newColumn}\`` };
    }
    case "AlterField": {
      const model = ctx.model(str(op.args.model_name));
      const name = str(op.args.name);
      if (!model || !name || !op.args.field || !ctx.hasTable(model) || ctx.isNewTable(model)) return null;
      const old = model.fields.get(name);
      if (!old) return null;
      const next = fieldFromCall(name, op.args.field, model.app, model.key, null);
      const before = columnOf(old);
      const after = columnOf(next);
      if (!before || !after || before === after) return null;
      return { op, what: `\`AlterField\` renames column \`${ctx.tableOf(model)}.${before}\` to \`${after}\`` };
    }
    case "RenameModel": {
      const model = ctx.model(str(op.args.old_name));
      const newName = str(op.args.new_name);
      if (!model || !newName || !ctx.hasTable(model) || ctx.isNewTable(model) || model.dbTable) return null;
      return { op, what: `\`RenameModel\` renames table \`${ctx.tableOf(model)}\` to \`${model.app}_${newName.toLowerCase()}\`` };
    }
    case "AlterModelTable": {
      const model = ctx.model(str(op.args.name));
      if (!model || !ctx.hasTable(model) || ctx.isNewTable(model)) return null;
      const table = str(op.args.table) ?? `${model.app}_${model.key}`;
      if (table === ctx.tableOf(model)) return null;
      return { op, what: `\`AlterModelTable\` renames table \`${ctx.tableOf(model)}\` to \`${table}\`` };
    }
    case "RunSQL": {
      for (const { fact } of parsedStatements(ctx.sql(op)?.forward)) {
        if (fact.kind === "add-column") return { op, what: `\`RunSQL\` adds column \`${fact.column}\` to \`${fact.table}\`` };
        if (fact.kind === "create-table") return { op, what: `\`RunSQL\` creates table \`${fact.table}\`` };
        if (fact.kind === "rename-column") return { op, what: `\`RunSQL\` renames column \`${fact.table}.${fact.column}\` to \`${fact.newName}\`` };
        if (fact.kind === "rename-table") return { op, what: `\`RunSQL\` renames table \`${fact.table}\` to \`${fact.newName}\`` };
      }
      return null;
    }
    default:
      return null;
  }
}

/**
 * Operations of a migration that remove what the old release uses: `RemoveField`, `DeleteModel`,
 * `AlterOrderWithRespectTo` to None (Django drops `_order`) (top level or on the database side of
 * `SeparateDatabaseAndState`) and SQL `DROP COLUMN` / `DROP TABLE`. State-only removals (also
 * third-party ones) are not here.
 */
export function contractChangesOf(migration: ParsedMigration, sql: (op: Operation) => RunSqlFacts | null): ContractChange[] {
  const out: ContractChange[] = [];
  const walk = (ops: Operation[] | undefined) => {
    for (const op of ops ?? []) {
      if (op.unknown) continue;
      if (op.kind === "SeparateDatabaseAndState") {
        walk(op.databaseOperations);
        continue;
      }
      if (op.thirdParty && op.thirdParty.database === "none") continue;
      if (op.kind === "RemoveField") {
        out.push({ op, what: `\`RemoveField\` of \`${literalString(op.args.model_name) ?? "?"}.${literalString(op.args.name) ?? "?"}\`` });
      } else if (op.kind === "DeleteModel") {
        out.push({ op, what: `\`DeleteModel\` of \`${literalString(op.args.name) ?? "?"}\`` });
      } else if (op.kind === "AlterOrderWithRespectTo" && op.args.order_with_respect_to?.kind === "none") {
        out.push({ op, what: `\`AlterOrderWithRespectTo\` of \`${literalString(op.args.name) ?? "?"}\` to None` });
      } else if (op.kind === "RunSQL") {
        const drop = parsedStatements(sql(op)?.forward).find((s) => s.fact.kind === "drop-column" || s.fact.kind === "drop-table");
        if (drop) {
          out.push({
            op,
            what: drop.fact.kind === "drop-column" ? `\`RunSQL\` DROP COLUMN \`${drop.fact.table}.${drop.fact.column}\`` : `\`RunSQL\` DROP TABLE \`${drop.fact.table}\``,
          });
        }
      }
    }
  };
  walk(migration.operations);
  return out;
}

/** The operation's source text, for "move this" snippets. */
export function operationSource(migration: ParsedMigration, op: Operation): string {
  const text = migration.source.slice(op.range.startOffset, op.range.endOffset);
  // Continuation lines are indented relative to the operation's first column.
  const base = op.range.column - 1;
  return text
    .split("\n")
    .map((line, i) => (i === 0 ? line : line.slice(Math.min(base, /^ */.exec(line)?.[0].length ?? 0))))
    .join("\n");
}

/**
 * Moved before the deploy, a NOT NULL column without a database default breaks the old release's
 * INSERTs, which leave it out (Read the Docs builds 0011: `BooleanField(default=False)`): the
 * moved operation needs what `adding-not-nullable-column` advises.
 */
function oldReleaseInserts(ctx: OperationContext): string[] {
  const { op } = ctx;
  if (op.kind !== "AddField" || !op.args.field) return [];
  const name = literalString(op.args.name);
  const model = ctx.model(literalString(op.args.model_name));
  if (!name || !model) return [];
  const field = fieldFromCall(name, op.args.field, model.app, model.key, null);
  if (field.null !== false || field.hasDbDefault || field.relation?.kind === "m2m" || field.primaryKey) return [];
  const dbDefault = field.hasDefault ? dbDefaultFor(field.default) : null;
  const fix =
    djangoHas(ctx.target, 5, 0) && dbDefault !== null
      ? `give it \`db_default=${dbDefault}\`, so the database fills it for them:\n${code(`migrations.AddField(model_name=${py(model.key)}, name=${py(name)}, field=${fieldWith(field.call, { db_default: dbDefault })})`)}`
      : "add it nullable (or with a database default), as `adding-not-nullable-column` describes.";
  return [`   Before the deploy the old release still inserts into \`${ctx.tableOf(model)}\` without \`${name}\`, which is NOT NULL with no database default: ${fix}`];
}

/** How the stage was decided, for messages. */
type StageContext = { migration: ParsedMigration; stageMarker: OperationContext["stageMarker"]; stage: OperationContext["stage"]; target: OperationContext["target"] };

/** Whether the migration is post-deploy only because django-safemigrate delays an `always` migration behind a post-deploy one. */
function delayed(ctx: StageContext): boolean {
  return delayedBySafemigrate(ctx.migration, ctx.target, ctx.stage);
}

export function stageSource(ctx: StageContext): string {
  const marker = ctx.stageMarker;
  if (delayed(ctx)) {
    return `delayed until after the deploy (${marker ? `marked \`${marker.text.trim()}\`` : "unmarked, so `Safe.always()` for django-safemigrate"}, behind a post-deploy migration it depends on)`;
  }
  return ctx.stageMarker ? `marked ${stageName(ctx.stage)} (\`${ctx.stageMarker.text.trim()}\`)` : `${stageName(ctx.stage)} (the configured \`default-stage\`)`;
}

/**
 * RS503: a post-deploy migration that adds or renames columns or tables. The new release
 * starts before it runs, so the new code's queries fail until it does.
 */
export const addingInPostDeployMigration: Rule = {
  meta: {
    code: "RS503",
    name: "adding-in-post-deploy-migration",
    severity: "error",
    databases: ["postgresql", "mysql", "sqlite"],
    claims: ["new-code-breaks"],
    hazards: ["H49"],
    docs: {
      summary: "A post-deploy migration that adds or renames columns or tables the new release needs",
      what: "Flags, in a migration that runs after the new release is live (marked `stage = Stage.POST_DEPLOY`, `safe = Safe.after_deploy()`, `is_post_deployment = True`, or unmarked with `default-stage = \"post\"`), operations that create what the new code queries: `CreateModel` (managed), `AddField`, `AlterOrderWithRespectTo` that turns the option on (it adds the `_order` column), `RenameField`/`RenameModel`/`AlterModelTable`/`AlterField(db_column=...)` when the database name changes, and `RunSQL` ADD COLUMN / CREATE TABLE / RENAME. Indexes, constraints and backfills are not flagged: they are what post-deploy migrations are for. Migrations that also drop something are reported by `mixing-deploy-stages` instead.",
      why: "A post-deploy migration runs only after every instance of the new release serves traffic. Django names every model field in its SELECT and INSERT statements, so until the migration runs, each query of the new release on the model fails with `column ... does not exist` (or `relation ... does not exist`): an outage for the length of the deploy.",
      recipe: [
        "Move the operation into a migration that runs before the deploy (remove the post-deploy marker, or split it into its own pre-deploy migration that the post-deploy one depends on).",
        "Keep only what the new release does not need (dropping old columns, building indexes on large tables, backfills) in the post-deploy migration.",
      ],
      severityReason: "Error: the new release's queries on the model fail until the migration runs.",
      bad: `# whole file
from django.db import migrations, models
from django_safemigrate import Safe


class Migration(migrations.Migration):
    safe = Safe.after_deploy()
    dependencies = [("library", "0001_initial")]
    operations = [
        migrations.AddField(model_name="book", name="isbn", field=models.CharField(max_length=20, null=True)),
    ]`,
      good: `# whole file
from django.db import migrations, models
from django_safemigrate import Safe


class Migration(migrations.Migration):
    safe = Safe.before_deploy()
    dependencies = [("library", "0001_initial")]
    operations = [
        migrations.AddField(model_name="book", name="isbn", field=models.CharField(max_length=20, null=True)),
    ]`,
    },
  },
  operation(ctx) {
    if (ctx.stage !== "post") return;
    const change = expandChangeOf(ctx);
    if (!change) return;
    if (contractChangesOf(ctx.migration, ctx.sql).length > 0) return; // mixing-deploy-stages reports it
    const { migration } = ctx;
    ctx.report({
      range: ctx.op.range,
      message: `${change.what} in \`${migration.name}\`, which is ${stageSource(ctx)}, so the new release runs before it exists.`,
      help: [
        "A post-deploy migration runs after every instance of the new release serves traffic. Django names every model field in its queries, so until it runs the new release's queries on this model fail (`column ... does not exist` / `relation ... does not exist`).",
        delayed(ctx)
          ? `1. Run this operation before the deploy: move it into its own migration marked \`Safe.before_deploy()\` whose dependencies stop before the post-deploy migration that delays \`${migration.name}\` (\`safemigrate\` blocks a pre-deploy migration behind one), and make \`${migration.name}\` depend on it:\n${code(operationSource(migration, ctx.op))}`
          : `1. Run this operation before the deploy: move it into its own migration without the post-deploy marker (or marked pre-deploy), and make \`${migration.name}\` depend on it:\n${code(operationSource(migration, ctx.op))}`,
        ...oldReleaseInserts(ctx),
        "2. Keep in the post-deploy migration only what the new release does not need: drops of columns the old release used, index builds on large tables, backfills.",
      ],
      related: ctx.stageMarker?.stage === "post" ? [ctx.relatedAt({ file: migration.path, range: ctx.stageMarker.range }, "the migration is marked post-deploy here")] : undefined,
    });
  },
};
