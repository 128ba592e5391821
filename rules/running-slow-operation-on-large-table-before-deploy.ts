import type { OperationContext, Rule } from "../src/engine/rule-types.js";
import { operationLabel, reachesDatabase } from "../src/engine/resolved-operation.js";
import { dropsForeignKey } from "../src/engine/field-changes.js";
import type { Operation, SourceRange } from "../src/model/types.js";
import { describeStatement } from "../src/sql/analyze-sql.js";
import { forwardStatements, resolveSqlTable } from "../src/engine/sql-facts-for-operation.js";
import { functionsRunBy, isRunPythonNoop, runPythonFunctionName } from "../src/engine/run-python-facts.js";
import { getModelCalls } from "../src/parse/get-model-calls.js";
import { tableListed } from "../src/engine/table-lists.js";
import { className, fieldFromCall, literalString, togetherAdded, togetherList, type ModelState } from "../src/state/model-state.js";
import { code, postDeployMarker } from "../src/advice/snippets.js";
import { postDeployMarkerLines } from "../src/fix/new-migrations.js";
import { operationSource, stageSource } from "./adding-in-post-deploy-migration.js";

/** One slow piece of work on a large table. */
interface SlowWork {
  model: ModelState | null;
  table: string;
  /** What it does, for messages: "builds index `x`", "updates rows". */
  what: string;
  kind: "index" | "validation" | "backfill";
  range: SourceRange;
}

/** The model of a model-level operation, when its table exists before this migration and Django manages it. */
function existing(ctx: OperationContext, name: string | null): ModelState | null {
  const model = ctx.model(name);
  return model && ctx.hasTable(model) && !ctx.isNewTable(model) ? model : null;
}

/** The models the functions a `RunPython` runs fetch with `apps.get_model` or import. */
function modelsTouchedBy(ctx: OperationContext, op: Operation): ModelState[] {
  const forward = runPythonFunctionName(op.args.code);
  if (forward === null) return [];
  const found = new Map<string, ModelState>();
  const add = (model: ModelState | undefined) => {
    if (model && ctx.hasTable(model) && !ctx.isNewTable(model)) found.set(`${model.app}.${model.key}`, model);
  };
  for (const fn of functionsRunBy(ctx.migration, forward)) {
    // An imported function's text is in its own module: the parse read its `get_model` calls there.
    const fetched = fn.imported?.getModels ?? getModelCalls(ctx.migration.source.slice(fn.range.startOffset, fn.range.endOffset));
    for (const [app, model] of fetched) add(ctx.state.model(app, model));
    // `from shop.models import Order` inside the function: the model of that name, in whichever app has it.
    for (const name of fn.modelImports) {
      const matches = [...ctx.state.models.values()].filter((model) => model.name === name);
      if (matches.length === 1) add(matches[0]);
    }
  }
  return [...found.values()];
}

/** The slow work an operation does on existing tables. */
function slowWorkOf(ctx: OperationContext): SlowWork[] {
  const { op } = ctx;
  const out: SlowWork[] = [];
  const push = (model: ModelState | null, what: string, kind: SlowWork["kind"], range: SourceRange = op.range) => {
    if (model) out.push({ model, table: ctx.tableOf(model), what, kind, range });
  };
  const name = literalString(op.args.name);
  switch (op.kind) {
    case "AddIndex":
    case "AddIndexConcurrently": {
      const index = op.args.index;
      const indexName = index?.kind === "call" ? literalString(index.kwargs.name) : null;
      push(existing(ctx, literalString(op.args.model_name)), `builds index${indexName ? ` \`${indexName}\`` : ""}`, "index");
      break;
    }
    case "AddField":
    case "AlterField": {
      const model = existing(ctx, literalString(op.args.model_name));
      if (!model || !name || !op.args.field) break;
      const after = fieldFromCall(name, op.args.field, model.app, model.key, null);
      if (after.relation?.kind === "m2m") break;
      const before = op.kind === "AlterField" ? model.fields.get(name) : undefined;
      if (op.kind === "AlterField" && !before) break;
      if ((after.unique && !after.primaryKey && !before?.unique) || (after.dbIndex && !before?.dbIndex && !after.unique)) {
        push(model, `builds an index for \`${model.name}.${name}\`${after.unique ? " (unique)" : ""}`, "index");
      } else if (before && dropsForeignKey(before, after) && after.relation?.dbConstraint) {
        // Django drops and re-adds the foreign key of an altered FK column, which checks every row.
        push(model, `re-adds the foreign key of \`${model.name}.${name}\`, checking every row`, "validation");
      }
      break;
    }
    case "AddConstraint": {
      const model = existing(ctx, literalString(op.args.model_name));
      const constraint = op.args.constraint;
      if (!model || constraint?.kind !== "call") break;
      const constraintName = literalString(constraint.kwargs.name);
      const label = constraintName ? ` \`${constraintName}\`` : "";
      if (className(constraint).endsWith("CheckConstraint")) push(model, `validates check constraint${label} against every row`, "validation");
      else push(model, `builds the index of constraint${label}`, "index");
      break;
    }
    case "ValidateConstraint":
      push(existing(ctx, literalString(op.args.model_name)), `validates constraint${name ? ` \`${name}\`` : ""} against every row`, "validation");
      break;
    case "AlterUniqueTogether":
    case "AlterIndexTogether": {
      const model = existing(ctx, name);
      if (!model) break;
      const unique = op.kind === "AlterUniqueTogether";
      const before = unique ? model.uniqueTogether : model.indexTogether;
      const after = togetherList(unique ? op.args.unique_together : op.args.index_together);
      // Ordered, as Django compares them: a reordered set drops and builds the index again.
      const added = togetherAdded(before, after);
      for (const set of added) push(model, `builds ${unique ? "a unique " : "an "}index on (${set.join(", ")})`, "index");
      break;
    }
    case "RunPython":
      if (isRunPythonNoop(op.args.code)) break;
      for (const model of modelsTouchedBy(ctx, op)) push(model, `runs a data migration over \`${model.name}\``, "backfill");
      break;
    case "RunSQL":
      for (const { fact, range } of forwardStatements(ctx)) {
        let what: string | null = null;
        let kind: SlowWork["kind"] = "index";
        if (fact.kind === "create-index" && !fact.only) what = "builds an index";
        else if (fact.kind === "add-constraint" && !fact.notValid && !fact.usingIndex && fact.constraintType !== "not-null") {
          const scansOnly = fact.constraintType === "check" || fact.constraintType === "foreign-key";
          what = scansOnly ? "validates a constraint against every row" : "builds the index of a constraint";
          kind = scansOnly ? "validation" : "index";
        } else if (fact.kind === "validate-constraint") {
          what = "validates a constraint against every row";
          kind = "validation";
        } else if (fact.kind === "update" || fact.kind === "delete") {
          what = `${fact.kind === "update" ? "updates" : "deletes"} rows${fact.hasWhere ? "" : " (all of them)"}`;
          kind = "backfill";
        }
        if (what === null) continue;
        const ref = resolveSqlTable(ctx, fact);
        if (!ref || ref.isNew) continue;
        out.push({ model: ref.dbModel ?? ref.model, table: ref.table, what: `\`${describeStatement(fact)}\` ${what}`, kind, range });
      }
      break;
  }
  return out;
}

const WHY: Record<SlowWork["kind"], string> = {
  index: "An index build reads and sorts every row of the table",
  validation: "Validating a constraint reads every row of the table",
  backfill: "A backfill reads and writes row after row",
};

/**
 * RS509: an index build, a constraint validation or a backfill on a table listed in
 * `large-tables`, in a migration that runs before the deploy.
 */
export const runningSlowOperationOnLargeTableBeforeDeploy: Rule = {
  meta: {
    code: "RS509",
    name: "running-slow-operation-on-large-table-before-deploy",
    severity: "error",
    databases: ["postgresql", "mysql", "sqlite"],
    claims: [],
    unobservable:
      "The hazard is duration: an index build or backfill on a table with many rows outlasting the deploy's statement timeout. A test table is small, so every operation finishes at once; the rule's finding depends on the `large-tables` configuration, not on anything a database shows.",
    hazards: ["H50"],
    docs: {
      summary: "An index build, constraint validation or backfill on a table listed in `large-tables`, in a migration that runs before the deploy",
      what: "Reads the `large-tables` configuration (table names or `app_label.ModelName`) and flags, in a migration that runs before the new release goes live (marked pre-deploy, any-time, or unmarked with the default stage `pre`), work that grows with the table on one of those tables: index builds (`AddIndex`, `AddIndexConcurrently`, a field's new `db_index`/`unique`, `AddConstraint` with a unique or exclusion constraint, new `unique_together`/`index_together` entries, `CREATE INDEX` in `RunSQL`), constraint validation (`AddConstraint` with a check constraint, `ValidateConstraint`, an altered foreign key that Django drops and re-adds, `ADD CONSTRAINT` without NOT VALID and `VALIDATE CONSTRAINT` in `RunSQL`), and backfills (`RunPython` whose functions fetch the model with `apps.get_model` or import it, `UPDATE`/`DELETE` in `RunSQL`). django-pg-migration-tools' `Safer*` operations count too: they avoid long locks, not the reads. Tables created in the same migration, unmanaged models, state-only operations and post-deploy migrations are not reported.",
      why: "Pre-deploy migrations run inside the deploy, usually under a short statement timeout (Sentry uses 5 s) so that a slow statement cannot hold the release hostage. On a large table an index build or a full scan takes minutes: the statement is cancelled, the migration fails and the deploy fails with it, or, without a timeout, the deploy waits for the whole build. None of this work is needed by the new release to start, so it belongs after the deploy.",
      recipe: [
        "Move the operation into a migration of its own, marked post-deploy in the project's convention (`safe = Safe.after_deploy()` with django-safemigrate, `stage = Stage.POST_DEPLOY` with django-syzygy, `is_post_deployment = True` at Sentry), and run it without the deploy's statement timeout.",
        "Keep what the new release needs (new columns, nullable changes) in the pre-deploy migration; make the new code work while the index, constraint or backfill is not there yet.",
      ],
      severityReason: "Error: on a table big enough to be listed, the statement outlasts the deploy's timeout and fails the deploy.",
      config: 'large-tables = ["library_book"]\n',
      bad: `# whole file
from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import migrations, models


class Migration(migrations.Migration):
    atomic = False
    dependencies = [("library", "0001_initial")]
    operations = [
        AddIndexConcurrently(model_name="book", index=models.Index(fields=["pages"], name="library_book_pages_idx")),
    ]`,
      good: `# whole file
from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import migrations, models
from django_safemigrate import Safe


class Migration(migrations.Migration):
    safe = Safe.after_deploy()
    atomic = False
    dependencies = [("library", "0001_initial")]
    operations = [
        AddIndexConcurrently(model_name="book", index=models.Index(fields=["pages"], name="library_book_pages_idx")),
    ]`,
    },
  },
  operation(ctx) {
    const { op } = ctx;
    if (ctx.stage === "post" || ctx.target.tables.large.length === 0) return;
    if (op.unknown || !reachesDatabase(ctx)) return;
    const large = ctx.target.tables.large;
    // By offsets: statements of one string whose own offsets cannot be mapped share its range.
    const reported = new Set<string>();
    for (const work of slowWorkOf(ctx)) {
      const entry = tableListed(large, work.model, work.table);
      const at = `${work.range.startOffset}:${work.range.endOffset}`;
      if (entry === null || reported.has(at)) continue;
      reported.add(at);
      const { migration } = ctx;
      const marker = postDeployMarkerLines(ctx.target.markerStyle);
      const others = migration.operations.length > 1;
      const markerOnly = code(
        marker
          ? [...marker.imports, ...(marker.imports.length ? [""] : []), "class Migration(migrations.Migration):", `    ${marker.attribute}`, "    ..."].join("\n")
          : "# run this migration only after the new release is live (a post-deploy step of the deploy)",
      );
      const moved = code(
        [
          ...(marker?.imports ?? []),
          "from django.db import migrations, models",
          "",
          "",
          "class Migration(migrations.Migration):",
          marker ? `    ${marker.attribute}` : "    # mark this migration post-deploy in your deploy process",
          ...(migration.atomic ? [] : ["    atomic = False"]),
          `    dependencies = [(${JSON.stringify(migration.app)}, ${JSON.stringify(migration.name)})]`,
          "    operations = [",
          ...`${operationSource(migration, op)},`.split("\n").map((line) => `        ${line}`),
          "    ]",
        ].join("\n"),
      );
      ctx.report({
        range: work.range,
        message: `\`${operationLabel(op)}\` ${work.what.replace(/^`RunSQL` /, "")} on large table \`${work.table}\` in \`${migration.name}\`, which runs before the deploy.`,
        help: [
          `\`${work.table}\` is listed in \`large-tables\` (as \`${entry}\`). ${WHY[work.kind]}, which takes minutes at that size, and \`${migration.name}\` is ${stageSource(ctx)}, so it runs inside the deploy: a statement timeout on the deploy's \`migrate\` (5 s at Sentry) cancels it and fails the deploy, and without one the release waits for it.`,
          others
            ? `1. Move this operation into a migration of its own, marked ${postDeployMarker(ctx.target.markerStyle)}; the rest of \`${migration.name}\` stays pre-deploy:\n${moved}`
            : `1. Mark \`${migration.name}\` ${postDeployMarker(ctx.target.markerStyle)}:\n${markerOnly}`,
          `2. Run post-deploy migrations without the deploy's statement timeout (or with one sized for the table)${work.kind === "backfill" ? ", in batches that commit on their own (`atomic = False`)" : ""}.`,
          `3. Until it has run, the new release must not depend on it${work.kind === "index" ? " (queries are slower, a unique index is not yet enforced)" : work.kind === "backfill" ? " (rows not yet backfilled keep their old values)" : ""}.`,
        ],
      });
    }
  },
};
