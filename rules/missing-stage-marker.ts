import type { MigrationContext, OperationContext, Rule } from "../src/engine/rule-types.js";
import { databaseChanges } from "../src/engine/field-changes.js";
import { readableForwardStatements } from "../src/engine/sql-facts-for-operation.js";
import { locksOf } from "../src/engine/table-locks.js";
import type { ParsedMigration } from "../src/parse/parse-migration.js";
import { createsNoTable, fieldFromCall, isColumnless, literalString } from "../src/state/model-state.js";
import type { Operation } from "../src/model/types.js";
import { isRunPythonNoop } from "../src/engine/run-python-facts.js";
import { code } from "../src/advice/snippets.js";

const WHOLE_FILE = { line: 1, column: 1, endLine: 1, endColumn: 1, startOffset: 0, endOffset: 0 };

/** Whether an operation can change the database (state-only and no-op operations cannot), read without the state. */
function changesDatabase(op: Operation): boolean {
  if (op.unknown) return true;
  if (op.thirdParty) return op.thirdParty.database !== "none";
  if (op.kind === "SeparateDatabaseAndState") return (op.databaseOperations ?? []).some(changesDatabase);
  if (op.kind === "RunPython") return !isRunPythonNoop(op.args.code);
  if (op.kind === "RunSQL") {
    const sql = op.args.sql;
    return !(sql === undefined || (sql.kind === "str" && sql.value.trim() === "") || (sql.kind === "name" && /RunSQL\.noop$/.test(sql.name)) || (sql.kind === "list" && sql.items.length === 0));
  }
  return !["AlterModelOptions", "AlterModelManagers"].includes(op.kind);
}

/**
 * Whether the operation, as the replay sees it, changes the database: an `AlterField` of options
 * Django keeps in Python only (`on_delete`, `related_name`, `help_text`, a many-to-many field's
 * `through` model's...) runs no SQL (`sqlmigrate` prints `-- (no-op)`). A `SeparateDatabaseAndState`
 * is judged by its database operations, which the replay visits one by one.
 */
function operationChangesDatabase(ctx: OperationContext): boolean {
  const { op } = ctx;
  if (ctx.effect === "state" || (op.kind === "SeparateDatabaseAndState" && !op.unknown)) return false;
  if (op.kind === "AlterField" && !op.unknown && !op.thirdParty && op.args.field) {
    const model = ctx.model(literalString(op.args.model_name));
    const name = literalString(op.args.name);
    const before = name ? model?.fields.get(name) : undefined;
    if (model && name && before) {
      const after = fieldFromCall(name, op.args.field, model.app, model.key, null);
      if (before.relation?.kind === "m2m" && after.relation?.kind === "m2m" && before.relation.through && after.relation.through) return false;
      return databaseChanges(before, after, ctx.target.database).length > 0;
    }
  }
  // A `ForeignObject` has no column: adding or removing it runs no SQL (Arches 11726).
  if ((op.kind === "AddField" || op.kind === "RemoveField") && !op.unknown && !op.thirdParty) {
    const model = ctx.model(literalString(op.args.model_name));
    const name = literalString(op.args.name);
    const field = op.kind === "AddField" ? (op.args.field && model && name ? fieldFromCall(name, op.args.field, model.app, model.key, null) : undefined) : name ? model?.fields.get(name) : undefined;
    if (field && isColumnless(field)) return false;
  }
  // A rename that moves no table and rebuilds no foreign key (addons-server abuse 0042/0043: the
  // table it already has, or a model with its own db_table that nothing points at) runs no SQL.
  // A proxy or unmanaged model has no table of Django's to create or drop (evennia objects 0005).
  if ((op.kind === "CreateModel" || op.kind === "DeleteModel") && !op.unknown && !op.thirdParty) {
    const model = op.kind === "DeleteModel" ? ctx.model(literalString(op.args.name)) : undefined;
    if (model ? model.proxy || !model.managed : op.kind === "CreateModel" && createsNoTable(op)) return false;
  }
  if ((op.kind === "RenameModel" || op.kind === "AlterModelTable") && !op.unknown && !op.thirdParty) {
    const model = ctx.model(literalString(op.kind === "RenameModel" ? op.args.old_name : op.args.name));
    // RenameModel also renames the column of its join tables that is named after the model.
    const joinTables = op.kind === "RenameModel" && model ? [...model.fields.values()].some((f) => f.relation?.kind === "m2m" && !f.relation.through) : false;
    if (model && !joinTables && locksOf(ctx).length === 0) return false;
  }
  // SQL that only sets session options (`SET CONSTRAINTS ALL IMMEDIATE`, `SET LOCAL lock_timeout`)
  // changes nothing a deploy stage is about (pulpcore 0047). A SELECT may call any function: not it.
  if (op.kind === "RunSQL" && !op.unknown) {
    const statements = readableForwardStatements(ctx.sql(op));
    if (statements && statements.every((s) => s.kind === "set" || s.kind === "transaction-control" || s.nodeType === "ConstraintsSetStmt")) return false;
  }
  return changesDatabase(op);
}

/**
 * Whether every operation creates a model or changes only models created in the same migration:
 * such a migration (typically an app's `0001_initial`) is right before the deploy, the default.
 */
function onlyCreatesTables(ops: Operation[]): boolean {
  const created = new Set<string>();
  return ops.every((op) => {
    if (op.unknown) return false;
    if (op.kind === "CreateModel") {
      const name = op.args.name;
      if (name?.kind === "str") created.add(name.value.toLowerCase());
      return true;
    }
    const target = op.args.model_name ?? op.args.name;
    return target?.kind === "str" && created.has(target.value.toLowerCase()) && !["DeleteModel", "RenameModel"].includes(op.kind);
  });
}

/**
 * RS508 (opt-in): a migration that changes the database without declaring its deploy stage,
 * the check django-safemigrate's pre-commit hook makes. Off by default: projects without stage
 * markers would be flagged on every migration.
 */
export const missingStageMarker: Rule = {
  meta: {
    code: "RS508",
    name: "missing-stage-marker",
    severity: "warning",
    databases: ["postgresql", "mysql", "sqlite"],
    optIn: true,
    claims: [],
    hazards: ["H47"],
    docs: {
      summary: "A migration that changes the database without a deploy-stage marker (opt-in)",
      what: "Flags a migration that changes the database but declares no stage: no `stage = Stage.PRE_DEPLOY/POST_DEPLOY` (django-syzygy), `safe = Safe.before_deploy()/after_deploy()/always()` (django-safemigrate) or `is_post_deployment = ...` (Sentry). Operations that change nothing in the database (state-only `SeparateDatabaseAndState`, `RunPython.noop`/`RunSQL.noop`, a `RunSQL` that only sets session options (`SET`, `SET CONSTRAINTS`), `AlterModelOptions`, `AlterModelManagers`, an `AlterField` of options Django keeps in Python only such as `on_delete`, `related_name` or `help_text`, an `AlterModelTable` or `RenameModel` that moves no table and rebuilds no foreign key) do not count, and a migration that only creates tables (an app's `0001_initial`) needs no marker when the default stage is pre-deploy, its only right stage. Opt-in: select it in projects that require every migration to say when it runs.",
      why: "When stages are declared per migration, an unmarked one runs at the default stage whatever it does: a drop meant for after the deploy runs before it and breaks the release still serving traffic, or an added column meant for before it arrives too late. A required marker makes the author decide, the way django-safemigrate's `check` hook does.",
      recipe: ["Add the marker in the project's style to the `Migration` class: pre-deploy for expand steps (new tables and columns), post-deploy for contract steps (drops) and slow work the new release does not need."],
      severityReason: "Warning: the migration may well be right at the default stage; the marker records that someone decided.",
      bad: `migrations.AddField(model_name="book", name="isbn", field=models.CharField(max_length=20, null=True))`,
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
  // Judged operation by operation (an AlterField needs the state before it), reported once per
  // migration at its class; a migration whose operations cannot be read is judged as a whole.
  operation(ctx) {
    const { migration } = ctx;
    if (reported.has(migration) || ctx.stageMarker || !migration.hasMigrationClass) return;
    if (!operationChangesDatabase(ctx)) return;
    reported.add(migration);
    report(ctx);
  },
  migration(ctx) {
    const { migration } = ctx;
    if (!migration.operationsUnknown || ctx.stageMarker || !migration.hasMigrationClass) return;
    reported.add(migration);
    report(ctx);
  },
};

/** Migrations already reported in this run (their first operation that changes the database). */
const reported = new WeakSet<ParsedMigration>();

function report(ctx: OperationContext | MigrationContext): void {
  const { migration } = ctx;
  if (ctx.stage !== "post" && !migration.operationsUnknown && onlyCreatesTables(migration.operations)) return;
  const style = ctx.target.markerStyle;
  const example =
    style === "syzygy"
      ? "from syzygy import Stage\n\nclass Migration(migrations.Migration):\n    stage = Stage.PRE_DEPLOY  # or Stage.POST_DEPLOY"
      : style === "sentry"
        ? "class Migration(CheckedMigration):\n    is_post_deployment = False  # True to run after the deploy"
        : "from django_safemigrate import Safe\n\nclass Migration(migrations.Migration):\n    safe = Safe.before_deploy()  # or Safe.after_deploy(), Safe.always()";
  ctx.report({
    range: migration.classRange ?? WHOLE_FILE,
    message: `\`${migration.name}\` changes the database but does not declare when it runs (before or after the deploy).`,
    help: [
      style === "safemigrate" && ctx.target.defaultStage !== "post"
        ? `Without a marker django-safemigrate treats it as \`Safe.always()\` (its default since 5.0; \`Safe.after_deploy()\` before): \`safemigrate\` runs it before the deploy unless a post-deploy migration it depends on delays it${ctx.stage === "post" ? ", as one does here," : ""} until after, whatever it does: drops meant for after the deploy break the release still serving traffic, additions meant for before it arrive after the new release starts.`
        : `Without a marker it runs at the default stage (${ctx.stage === "post" ? "post-deploy" : "pre-deploy"}) whatever it does: drops meant for after the deploy break the release still serving traffic, additions meant for before it arrive after the new release starts.`,
      `1. Declare the stage${style ? ` in the style the project uses (${style})` : ""}:\n${code(example)}`,
    ],
  });
}
