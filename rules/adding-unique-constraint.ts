import type { Database, OperationContext, Rule } from "../src/engine/rule-types.js";
import type { PyValue, SourceRange } from "../src/model/types.js";
import { migrationScratch } from "../src/engine/migration-scratch.js";
import { callOf, literalString, stringList, togetherAdded, togetherList, togetherName, type FieldState, type ModelState } from "../src/state/model-state.js";
import {
  alterFieldSnippet,
  code,
  createIndexConcurrentlySql,
  djangoIndexName,
  fieldWith,
  likeIndexOpclass,
  migrationModule,
  partitionedIndexOperations,
  partitionedUniqueConstraintOperations,
  py,
  pyValue,
  runSqlLines,
  separateDatabaseAndState,
  sqlCode,
  sqlIdent,
} from "../src/advice/snippets.js";
import { existingModel, fieldOperation } from "../src/engine/resolved-operation.js";
import { databaseChanges } from "../src/engine/field-changes.js";
import { addsForeignKeyConstraint, columnsOfFields, fieldIndexChange, operationSource } from "./adding-index-non-concurrently.js";
import { conditionSql } from "../src/advice/condition-sql.js";
import { fillsExistingRows } from "./reversing-migration-fails.js";
import { notNullWithoutScan } from "./changing-column-type.js";
import { partitionedBecause, partitionedOrigin, partitionedTable, type PartitionedTableInfo } from "../src/engine/partitioned-tables.js";

/** Keyword arguments that make Django emit `CREATE UNIQUE INDEX` instead of a UNIQUE constraint. */
const INDEX_ONLY_KWARGS = ["condition", "include", "opclasses"];

/**
 * Whether Django makes a `UniqueConstraint` call as a unique index (`CREATE UNIQUE INDEX`, and
 * `DROP INDEX` to remove it) rather than `ADD CONSTRAINT ... UNIQUE`: expressions, a condition,
 * `include` or `opclasses` (`UniqueConstraint.create_sql`).
 */
export function uniqueIndexOnly(call: { args: readonly PyValue[]; kwargs: Readonly<Record<string, PyValue>> }): boolean {
  return call.args.length > 0 || INDEX_ONLY_KWARGS.some((k) => call.kwargs[k] !== undefined && call.kwargs[k]?.kind !== "none");
}

/** One unique thing being added: its name, columns (null when expressions), and whether it is a plain constraint. */
interface UniqueTarget {
  name: string;
  columns: string[] | null;
  /** Django emits `ADD CONSTRAINT ... UNIQUE`: the concurrent path ends with `USING INDEX`. */
  constraint: boolean;
  deferrable: string | null;
  /** A conditional constraint's condition as SQL (the partial index's WHERE), when it can be written. */
  where?: string | null;
}

/** The query that lists duplicates of `columns` in `table`, quoted for `database` (MySQL reads "x" as a string). */
function duplicatesQuery(table: string, columns: string[], database: Database, where: string | null = null): string {
  const cols = columns.map((c) => sqlIdent(c, database)).join(", ");
  const terms = columns.map((c) => `${sqlIdent(c, database)} IS NOT NULL`);
  // A condition's own `IS NOT NULL` of a column is said once (RapidPro msgs: the condition is
  // `external_identifier IS NOT NULL`); a condition with OR or parentheses stays whole.
  const extra = where === null ? [] : /\(| OR /i.test(where) ? [where] : where.split(" AND ").filter((t) => !terms.includes(t.trim()));
  return `SELECT ${cols}, COUNT(*) FROM ${sqlIdent(table, database)} WHERE ${[...terms, ...extra].join(" AND ")} GROUP BY ${cols} HAVING COUNT(*) > 1 LIMIT 10;`;
}

/** The statements of {@link concurrentStatements} for a partitioned table, where PostgreSQL refuses both on the parent. */
function partitionedStatements(info: PartitionedTableInfo, target: UniqueTarget): string[] {
  if (target.constraint && target.columns) {
    return partitionedUniqueConstraintOperations({ parent: info.table, partitions: info.partitions, name: target.name, columns: target.columns, deferrable: target.deferrable });
  }
  const definition = target.columns ? `(${target.columns.map((c) => sqlIdent(c)).join(", ")})` : null;
  return partitionedIndexOperations({ parent: info.table, partitions: info.partitions, index: target.name, definition, unique: true });
}

function concurrentStatements(table: string, target: UniqueTarget): string[] {
  if (!target.columns) {
    return [runSqlLines(`CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS ${sqlIdent(target.name)} ON ${sqlIdent(table)} (...);`, `DROP INDEX CONCURRENTLY IF EXISTS ${sqlIdent(target.name)};`)];
  }
  const { sql, reverse } = createIndexConcurrentlySql(target.name, table, target.columns, { unique: true, where: target.where });
  const out = [runSqlLines(sql, reverse)];
  if (target.constraint) {
    out.push(
      runSqlLines(
        `ALTER TABLE ${sqlIdent(table)} ADD CONSTRAINT ${sqlIdent(target.name)} UNIQUE USING INDEX ${sqlIdent(target.name)}${target.deferrable ? ` DEFERRABLE INITIALLY ${target.deferrable}` : ""};`,
        `ALTER TABLE ${sqlIdent(table)} DROP CONSTRAINT IF EXISTS ${sqlIdent(target.name)};`,
      ),
    );
  }
  return out;
}

/** RS202: a unique constraint or unique index built without CONCURRENTLY on an existing table. */
export const addingUniqueConstraint: Rule = {
  meta: {
    code: "RS202",
    name: "adding-unique-constraint",
    severity: "error",
    databases: ["postgresql", "mysql", "sqlite"],
    claims: ["blocking-lock"],
    hazards: ["H18", "H14", "H17"],
    docs: {
      summary: "Adding a unique constraint or unique index to an existing table",
      what: "Flags, on an existing managed table: `AddConstraint(UniqueConstraint(...))` (with or without `condition`), `AddField`/`AlterField` that turns on `unique=True` (one-to-one fields included), and `AlterUniqueTogether` that adds a set. On PostgreSQL it is an error (blocking build); on MySQL and SQLite a warning, only when existing rows can hold duplicates (the build itself is online on InnoDB). Foreign keys added with `AddField` are reported by `adding-foreign-key-constraint`.",
      why: "PostgreSQL builds the index of `ADD CONSTRAINT ... UNIQUE` while holding ACCESS EXCLUSIVE on the table (no reads, no writes) for the whole build; a unique index (`UniqueConstraint` with `condition`, expressions, `include` or `opclasses`) holds SHARE (no writes). On every database the migration fails if existing rows are duplicates, which tests on an empty database never show.",
      recipe: [
        "Make the new release reject duplicates (form/model validation), and remove existing duplicates in a data migration; check with `SELECT cols, COUNT(*) ... GROUP BY cols HAVING COUNT(*) > 1`.",
        "In a migration with `atomic = False`, keep the constraint in state and build it with `SeparateDatabaseAndState`: `CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS` (SHARE UPDATE EXCLUSIVE), then `ALTER TABLE ... ADD CONSTRAINT ... UNIQUE USING INDEX` (a brief lock, no scan). A conditional `UniqueConstraint` is only the unique index.",
        "For field-level `unique=True` on varchar/text columns, also build Django's `<name>_like` index concurrently.",
        "When the same columns were unique until an earlier operation of the migration (Django 5's move of `unique_together` to `Meta.constraints`: `AlterUniqueTogether(..., set())`, then `AddConstraint`), rename the old constraint instead of building a new one: both operations in `state_operations`, and `ALTER TABLE ... RENAME CONSTRAINT <old> TO <new>` in `database_operations`.",
        "On a partitioned table (configuration `partitioned-tables`, or created by `RunSQL(\"CREATE TABLE ... PARTITION BY ...\")`) PostgreSQL refuses both `CREATE INDEX CONCURRENTLY` and `USING INDEX` on the parent: build each partition's unique index concurrently and make it that partition's constraint with `USING INDEX`, then `ALTER TABLE <parent> ADD CONSTRAINT ... UNIQUE (...)`, which adopts the partitions' constraints without building an index. The unique key must include every partitioning column.",
      ],
      severityReason: "Error on PostgreSQL: the table is locked for the whole index build. Warning elsewhere: the build is online, but duplicates make the migration fail.",
      bad: `migrations.AddConstraint(
    model_name="book",
    constraint=models.UniqueConstraint(fields=["title", "author"], name="book_title_author_uniq"),
)`,
      good: `from django.db import migrations, models


class Migration(migrations.Migration):
    atomic = False  # CREATE INDEX CONCURRENTLY cannot run in a transaction

    dependencies = [("library", "0001_initial")]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AddConstraint(
                    model_name="book",
                    constraint=models.UniqueConstraint(fields=["title", "author"], name="book_title_author_uniq"),
                ),
            ],
            database_operations=[
                migrations.RunSQL(
                    'CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS "book_title_author_uniq" ON "library_book" ("title", "author_id");',
                    reverse_sql='DROP INDEX CONCURRENTLY IF EXISTS "book_title_author_uniq";',
                ),
                migrations.RunSQL(
                    'ALTER TABLE "library_book" ADD CONSTRAINT "book_title_author_uniq" UNIQUE USING INDEX "book_title_author_uniq";',
                    reverse_sql='ALTER TABLE "library_book" DROP CONSTRAINT IF EXISTS "book_title_author_uniq";',
                ),
            ],
        ),
    ]`,
    },
  },
  operationKinds: ["AddConstraint", "AlterUniqueTogether", "AddField", "AlterField", "RemoveConstraint"],
  operation(ctx) {
    const { op } = ctx;
    if (op.kind === "AlterUniqueTogether" || op.kind === "RemoveConstraint") noteDroppedUnique(ctx);
    if (op.kind === "AddConstraint") return addConstraint(ctx);
    if (op.kind === "AlterUniqueTogether") return alterUniqueTogether(ctx);
    if (op.kind === "AddField" || op.kind === "AlterField") return fieldUnique(ctx);
  },
};

/**
 * A unique column set an earlier operation of the migration dropped (`AlterUniqueTogether` without
 * it, `RemoveConstraint` of a plain `UniqueConstraint`): Django 5's conversion of
 * `unique_together` to `Meta.constraints` writes `AlterUniqueTogether(..., set())` and then
 * `AddConstraint(UniqueConstraint(...))` over the same columns (Tabbycat participants 0022).
 */
interface DroppedUnique {
  modelKey: string;
  columns: string[];
  /** The dropped constraint's name in the database. */
  name: string;
  /** The operation that dropped it, as written, and its kind. */
  source: string;
  kind: string;
  /** How many unique sets that operation dropped. */
  sets: number;
}

const droppedUnique = migrationScratch((): DroppedUnique[] => []);

/** The unique sets an `AlterUniqueTogether` leaves out of the model's, with the constraints Django drops for them. */
function removedTogether(ctx: OperationContext, model: ModelState, table: string): { columns: string[]; name: string }[] {
  return togetherAdded(togetherList(ctx.op.args.unique_together), model.uniqueTogether).flatMap((set) => {
    const columns = columnsOfFields(ctx, model, set);
    return columns ? [{ columns, name: togetherName(model, true, set, table, columns) }] : [];
  });
}

function noteDroppedUnique(ctx: OperationContext): void {
  const { op } = ctx;
  const model = existingModel(ctx, op.kind === "AlterUniqueTogether" ? "name" : "model_name");
  if (!model || ctx.effect === "state") return;
  const table = ctx.tableOf(model);
  let dropped: { columns: string[]; name: string }[] = [];
  if (op.kind === "AlterUniqueTogether") {
    dropped = removedTogether(ctx, model, table);
  } else {
    const name = literalString(op.args.name);
    const constraint = model.constraints.find((c) => c.name === name);
    const value = constraint?.kind === "unique" && !constraint.hasCondition ? constraint.value : null;
    if (constraint && value?.kind === "call" && value.args.length === 0 && !value.kwargs.include && !value.kwargs.opclasses && !value.kwargs.deferrable) {
      const columns = columnsOfFields(ctx, model, constraint.fields);
      if (columns) dropped = [{ columns, name: constraint.name }];
    }
  }
  const list = droppedUnique(ctx);
  for (const d of dropped) list.push({ modelKey: `${model.app}.${model.key}`, ...d, source: operationSource(op), kind: op.kind, sets: dropped.length });
}

function addConstraint(ctx: OperationContext): void {
  const model = existingModel(ctx, "model_name");
  const value = ctx.op.args.constraint;
  if (!model || !callOf(value, "UniqueConstraint")) return;
  const kwargs = value.kwargs;
  const name = literalString(kwargs.name) ?? "<constraint name>";
  const expressions = value.args.length > 0;
  const indexOnly = uniqueIndexOnly(value);
  const fields = stringList(kwargs.fields);
  const columns = expressions || kwargs.opclasses || kwargs.include ? null : columnsOfFields(ctx, model, fields);
  // `models.Deferrable.DEFERRED`, or `models.Deferrable["DEFERRED"]` as some migrations write it (Arches 10555).
  const deferrableText = kwargs.deferrable?.kind === "name" ? kwargs.deferrable.name : kwargs.deferrable?.kind === "opaque" ? kwargs.deferrable.text.replace(/\[\s*(['"])(\w+)\1\s*\]$/, ".$2") : null;
  const deferrable = deferrableText === null || !/(^|\.)(DEFERRED|IMMEDIATE)$/.test(deferrableText) ? null : deferrableText.endsWith("DEFERRED") ? "DEFERRED" : "IMMEDIATE";
  const hasCondition = kwargs.condition !== undefined && kwargs.condition.kind !== "none";
  const where = hasCondition ? conditionSql(kwargs.condition, (field) => fieldColumn(ctx, model, field)) : null;
  // The same columns were unique until an earlier operation of this migration: no duplicates, and
  // the old constraint can be renamed instead of built again (the same column order keeps its index).
  const plain = columns !== null && !hasCondition && !indexOnly && deferrable === null;
  const renamed = plain ? droppedUnique(ctx).find((d) => d.modelKey === `${model.app}.${model.key}` && sameColumns(d.columns, columns)) : undefined;
  if (renamed && ctx.target.database !== "postgresql") return;
  report(ctx, model, {
    subject: `\`UniqueConstraint\` \`${name}\``,
    target: { name, columns: hasCondition && !where ? null : columns, constraint: !indexOnly, deferrable, where },
    // A condition rollsafe cannot write leaves the duplicates query to the reader: without it the
    // query would count rows the constraint does not cover.
    dupColumns: hasCondition && !where ? null : columns,
    dupWhere: where,
    stateOp: operationSource(ctx.op),
    noteIndexOnly: indexOnly,
    noDuplicates: renamed ? `The same columns were unique until the \`${renamed.kind}\` earlier in this migration dropped \`${renamed.name}\`, so there are no duplicates: the lock is the problem, and the index need not be built again.` : null,
    renamed: renamed && columns && renamed.columns.join(",") === columns.join(",") ? renamed : null,
  });
}

/** Whether two column lists hold the same columns (uniqueness does not depend on their order). */
function sameColumns(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((c) => b.includes(c));
}

/** The column of `field` (a field's name, or a foreign key's `<name>_id` attribute) in `model`, or null. */
function fieldColumn(ctx: OperationContext, model: ModelState, field: string): string | null {
  const direct = model.fields.get(field);
  if (direct) return ctx.columnOf(direct);
  const relation = field.endsWith("_id") ? model.fields.get(field.slice(0, -3)) : undefined;
  return relation?.relation && relation.relation.kind !== "m2m" ? ctx.columnOf(relation) : null;
}

function alterUniqueTogether(ctx: OperationContext): void {
  const model = existingModel(ctx, "name");
  if (!model) return;
  const added = togetherAdded(model.uniqueTogether, togetherList(ctx.op.args.unique_together));
  const first = added[0];
  if (!first) return;
  const table = ctx.tableOf(model);
  const columns = columnsOfFields(ctx, model, first);
  // A set with a column this migration added nullable and left NULL in every existing row holds
  // no duplicates: NULLs never collide in a unique index (pretalx submission 0089).
  const nullIn = (set: string[]) =>
    set.map((f) => model.fields.get(f)).find((f) => f?.addedIn === ctx.migration.id && f.null === true && fillsExistingRows(f) === false);
  const nullFields = added.map(nullIn);
  const nullField = nullFields.every((f) => f !== undefined) ? nullFields[0] : undefined;
  if (nullField && ctx.target.database !== "postgresql") return;
  report(ctx, model, {
    subject: `\`unique_together\` (${added.map((t) => t.join(", ")).join("; ")})`,
    noDuplicates: nullField ? `\`${ctx.columnOf(nullField) ?? nullField.name}\`, added in this migration, is NULL in every existing row, and NULLs never collide in a unique index, so there are no duplicates yet; the lock is the problem.` : null,
    target: { name: columns ? djangoIndexName(table, columns, "_uniq") : "<name>", columns, constraint: true, deferrable: null },
    extraTargets: added.slice(1).flatMap((t) => {
      const cols = columnsOfFields(ctx, model, t);
      return cols ? [{ name: djangoIndexName(table, cols, "_uniq"), columns: cols, constraint: true, deferrable: null }] : [];
    }),
    dupColumns: columns,
    stateOp: operationSource(ctx.op),
    noteIndexOnly: false,
    // Sets the new value leaves out: Django's AlterUniqueTogether drops their constraints, and a
    // state-only change would leave them in the database for good (django CMS 0008 and 0018).
    dropConstraints: removedTogether(ctx, model, table),
  });
}

function fieldUnique(ctx: OperationContext): void {
  const found = fieldOperation(ctx);
  if (!found) return;
  const { model, name, before, after } = found;
  if (addsForeignKeyConstraint(ctx, before, after)) return;
  const change = fieldIndexChange(before, after);
  if (!change.addsUnique) return;
  const table = ctx.tableOf(model);
  const column = ctx.columnOf(after) ?? name;
  const like = likeIndexOpclass(after);
  const isAdd = ctx.op.kind === "AddField";
  // A new column holds NULL in every existing row (no duplicates) unless a default fills it
  // (`default=None` fills nothing: authentik's `managed` fields).
  const filled = isAdd && (after.null === false || (fillsExistingRows(after) ?? true));
  if (isAdd && !filled && ctx.target.database !== "postgresql") return;
  // Elsewhere the finding is only about duplicates, and a former primary key has none.
  if (before?.primaryKey && ctx.target.database !== "postgresql") return;
  // What else the AlterField changes in the column (null, type, size...): Django's own AlterField
  // without `unique` runs it first, so the state-only step does not leave it out (BookWyrm 0037:
  // unique and nullable at once; RapidPro contacts 0214: unique and NOT NULL).
  const others = !isAdd && before ? databaseChanges(before, after, ctx.target.database).filter((k) => k !== "unique" && k !== "db_index") : [];
  const rest = others.length > 0 ? { changes: others, source: alterFieldSnippet(model.key, name, fieldWith(after.call, {}, ["unique"])), setsNotNull: others.includes("null") && after.null === false, fillsNulls: others.includes("null") && before?.null === true && after.null === false && after.hasDefault } : null;
  report(ctx, model, {
    subject: `\`${model.name}.${name}\` with \`unique=True\``,
    ...(isAdd ? {} : { lead: `Making \`${model.name}.${name}\` unique` }),
    target: { name: djangoIndexName(table, [column], "_uniq"), columns: [column], constraint: true, deferrable: null },
    like: like ? { name: djangoIndexName(table, [column], "_like"), column, opclass: like.opclass } : null,
    dupColumns: isAdd ? null : [column],
    // A primary key made a plain unique field: its values are already distinct (AWX main 0180).
    noDuplicates: before?.primaryKey ? `\`${column}\` was the primary key, so its values are already distinct: the lock is the problem (Django drops the primary key and builds the unique constraint's index anew).` : null,
    stateOp: operationSource(ctx.op),
    noteIndexOnly: false,
    addField: isAdd ? { name, field: after.call, filled, notNull: after.null === false, defaultText: defaultPerRow(after) } : null,
    rest,
    // db_index -> unique: Django drops the plain index too, so the recipe does (seahub organizations 0003).
    dropIndex: change.dropsIndex && !isAdd ? { name: djangoIndexName(table, [ctx.columnOf(before ?? after) ?? column]), column: ctx.columnOf(before ?? after) ?? column } : null,
    relatedOrigin: before?.origin ?? null,
  });
}

interface ReportInput {
  subject: string;
  /** How the message opens when not "Adding <subject>" (an `AlterField`: "Making `Model.field` unique"; umap's studies 0007). */
  lead?: string;
  target: UniqueTarget;
  extraTargets?: UniqueTarget[];
  /** The field's plain index, which the AlterField drops as it turns `db_index` into `unique`. */
  dropIndex?: { name: string; column: string } | null;
  /** The unique constraints of the sets an `AlterUniqueTogether` removes, which it drops. */
  dropConstraints?: { name: string; columns: string[] }[];
  like?: { name: string; column: string; opclass: string } | null;
  /** Why existing rows cannot hold duplicates (a column NULL in every row, a former primary key), as the help says it. */
  noDuplicates?: string | null;
  /** The unique constraint over the same columns, in the same order, that an earlier operation of the migration dropped: renamed, it is this one. */
  renamed?: DroppedUnique | null;
  /** Columns for the duplicates check, or null when it cannot be written (or there can be none). */
  dupColumns: string[] | null;
  /** The condition the duplicates query keeps to (a conditional constraint's). */
  dupWhere?: string | null;
  stateOp: string;
  noteIndexOnly: boolean;
  /** The `AddField` of a new column: whether existing rows get a value, whether it is NOT NULL, its default as a per-row value. */
  addField?: { name: string; field: PyValue | null; filled: boolean; notNull: boolean; defaultText: string | null } | null;
  /** An AlterField's other changes to the column, run by Django before the unique index (`source`: the AlterField without `unique`). */
  rest?: { changes: string[]; source: string; setsNotNull: boolean; fillsNulls: boolean } | null;
  relatedOrigin?: { file: string; range: SourceRange } | null;
}

/** A callable default as the call that gives a row its value (`uuid.uuid4()`), or null for a constant. */
function defaultPerRow(field: FieldState): string | null {
  return field.hasDefault && field.default?.kind === "name" ? `${pyValue(field.default)}()` : null;
}

function report(ctx: OperationContext, model: ModelState, input: ReportInput): void {
  const table = ctx.tableOf(model);
  const pg = ctx.target.database === "postgresql";
  const help: string[] = [];
  const steps: string[] = [];
  const filledAdd = input.addField?.filled === true;
  if (pg) {
    help.push(
      input.noteIndexOnly
        ? `Django creates this as a unique index: \`CREATE UNIQUE INDEX\` without CONCURRENTLY holds a SHARE lock on \`${table}\`, so every write waits for the whole build.`
        : `\`ADD CONSTRAINT ... UNIQUE\` builds its index while holding an ACCESS EXCLUSIVE lock on \`${table}\`: every read and write waits for the whole build.`,
    );
  }
  if (filledAdd) {
    help.push(
      `Every existing row gets the same default value in the new column, so the unique index fails as soon as \`${table}\` has two rows. Add the column nullable without a default, backfill distinct values, then make it unique.`,
    );
  } else if (input.addField) {
    help.push("The new column is NULL in every existing row, so there are no duplicates yet; the lock is the problem.");
  } else if (input.noDuplicates) {
    help.push(input.noDuplicates);
  } else {
    help.push(`The migration fails with an IntegrityError if existing rows of \`${table}\` already hold duplicates, which a test database never shows.`);
  }
  if (input.rest?.fillsNulls) {
    help.push(`The field also becomes NOT NULL with a default: Django fills every NULL with one value of it (called once) before the constraint is added, so two rows that are NULL now become duplicates. Fill them with distinct values first.`);
  }
  if (!input.addField && !input.noDuplicates) {
    steps.push(
      `Make the new release reject duplicates, and remove existing ones in a data migration before this one${input.dupColumns ? `; find them with:\n${sqlCode(duplicatesQuery(table, input.dupColumns, ctx.target.database, input.dupWhere))}` : "."}`,
    );
  }
  if (input.rest && pg) {
    steps.push(`Run the rest of the change (${input.rest.changes.join(", ")}) first, as Django's own \`AlterField\` without \`unique\`${input.rest.setsNotNull ? " (a NOT NULL change scans the table under ACCESS EXCLUSIVE: see `setting-column-not-null` for a large one)" : ""}:\n${input.rest.source}`);
  }
  if (!pg) {
    ctx.report({
      range: ctx.op.range,
      severity: "warning",
      message: `${input.lead ? `${input.lead} on \`${table}\`` : `Adding ${input.subject} to \`${table}\``} fails if existing rows hold duplicates.`,
      help: [...help, ...steps.map((s, i) => `${i + 1}. ${s}`)],
    });
    return;
  }
  if (input.renamed) {
    const { name, source, sets } = input.renamed;
    const to = input.target.name;
    const rename = (a: string, b: string) => `ALTER TABLE ${sqlIdent(table)} RENAME CONSTRAINT ${sqlIdent(a)} TO ${sqlIdent(b)};`;
    ctx.report({
      range: ctx.op.range,
      message: `${input.lead ?? `Adding ${input.subject}`} builds a unique index on \`${table}\` under an ACCESS EXCLUSIVE lock (reads and writes blocked), though \`${name}\` over the same columns was dropped just before.`,
      help: [
        ...help,
        `1. Keep the old constraint and rename it (PostgreSQL renames its index with it: ACCESS EXCLUSIVE for a catalog change only, no build), with both operations in state only${sets > 1 ? `; rename the other unique sets the \`AlterUniqueTogether\` drops the same way, in the same \`database_operations\`` : ""}:\n${code(
          separateDatabaseAndState([`${source},`, `${input.stateOp},`], [runSqlLines(rename(name, to), rename(to, name))]),
        )}`,
        `2. \`${name}\` is the name Django gave the old constraint; if the table's constraints were made otherwise, check it with \`\\d ${table}\` first.`,
      ],
    });
    return;
  }
  const targets = [input.target, ...(input.extraTargets ?? [])];
  const partitioned = partitionedTable(ctx, model, table);
  const statements = targets.flatMap((t) => (partitioned ? partitionedStatements(partitioned, t) : concurrentStatements(table, t)));
  if (input.dropIndex && !partitioned) {
    // The unique index serves the lookups the plain one did: drop that one once the new one is there.
    const { sql } = createIndexConcurrentlySql(input.dropIndex.name, table, [input.dropIndex.column]);
    statements.push(runSqlLines(`DROP INDEX CONCURRENTLY IF EXISTS ${sqlIdent(input.dropIndex.name)};`, sql));
  }
  for (const dropped of input.dropConstraints ?? []) {
    // Once the new set's constraint is in place: a catalog change under a brief ACCESS EXCLUSIVE lock.
    statements.push(runSqlLines(`ALTER TABLE ${sqlIdent(table)} DROP CONSTRAINT IF EXISTS ${sqlIdent(dropped.name)};`, `ALTER TABLE ${sqlIdent(table)} ADD CONSTRAINT ${sqlIdent(dropped.name)} UNIQUE (${dropped.columns.map((c) => sqlIdent(c)).join(", ")});`));
  }
  if (input.dropConstraints?.length) {
    help.push(`The \`AlterUniqueTogether\` also removes ${input.dropConstraints.map((d) => `(${d.columns.join(", ")})`).join(", ")}: Django drops ${input.dropConstraints.length === 1 ? "its constraint" : "their constraints"}, so the recipe does too, after the new one is in place (${input.dropConstraints.map((d) => `\`${d.name}\``).join(", ")}: a catalog change under a brief lock).`);
  }
  if (partitioned) {
    const constraints = targets.some((t) => t.constraint && t.columns);
    help.push(
      `\`${table}\` is partitioned (${partitionedBecause(partitioned)}): PostgreSQL refuses \`CREATE INDEX CONCURRENTLY\` and \`ADD CONSTRAINT ... USING INDEX\` on a partitioned table, so the recipe builds the unique index${constraints ? " and its constraint" : ""} partition by partition${constraints ? ", and the parent's `ADD CONSTRAINT` then adopts the partitions' constraints without building anything" : ", then attaches each to the parent's index"}. PostgreSQL also requires a unique key on a partitioned table to include every partitioning column.`,
    );
  }
  if (input.like) {
    if (partitioned) {
      statements.push(...partitionedIndexOperations({ parent: table, partitions: partitioned.partitions, index: input.like.name, definition: `(${sqlIdent(input.like.column)} ${input.like.opclass})`, unique: false }));
    } else {
      const { sql, reverse } = createIndexConcurrentlySql(input.like.name, table, [input.like.column], { opclass: input.like.opclass });
      statements.push(runSqlLines(sql, reverse));
    }
    help.push(`Django also builds \`${input.like.name}\` (\`${input.like.opclass}\`) for this varchar/text column; the recipe builds it concurrently too.`);
  }
  const how = partitioned
    ? "build the unique index partition by partition (SHARE UPDATE EXCLUSIVE on each partition: reads and writes go on)"
    : `build the unique index concurrently (SHARE UPDATE EXCLUSIVE: reads and writes go on)`;
  const unknownColumns = targets.some((t) => !t.columns);
  if (input.addField) {
    // A column a default fills gets one value in every row: add it empty and nullable, give each
    // row its own value, then make it NOT NULL (as the field says) and unique.
    const { field, name, notNull } = input.addField;
    const column = input.target.columns?.[0] ?? name;
    steps.push(
      `Add the column without the constraint (cheap)${filledAdd ? ", nullable and without the default, so no row gets the same value" : ""}, keeping the unique field in state:\n${migrationModule(
        [
          separateDatabaseAndState(
            [input.stateOp + ","],
            [`migrations.AddField(\n    model_name=${py(model.key)},\n    name=${py(name)},\n    field=${fieldWith(field, filledAdd ? { unique: "False", null: "True" } : { unique: "False" }, filledAdd ? ["default", "db_default"] : [])},\n),`],
          ),
        ],
        { atomic: true },
      )}`,
    );
    if (filledAdd) {
      steps.push(
        `Deploy (the new release fills \`${name}\` in the rows it writes), then give every other row its own value in a data migration, in batches (\`atomic = False\`)${input.addField.defaultText ? `, e.g. \`${input.addField.defaultText}\` per row` : ""}.`,
      );
      if (notNull) statements.unshift(...notNullWithoutScan(table, column));
    }
    steps.push(
      `In the next migration (\`atomic = False\`), ${filledAdd && notNull ? `make \`${column}\` NOT NULL as the field says (a validated CHECK first: PostgreSQL 12+ then sets NOT NULL without a scan), then ` : ""}${how} and attach it as the constraint (brief lock, no scan), one \`RunSQL\` per statement:\n${migrationModule(statements, { atomic: false, note: "CREATE INDEX CONCURRENTLY cannot run in a transaction" })}`,
    );
  } else {
    steps.push(
      `In a migration with \`atomic = False\`, keep the change in state and ${how}${input.target.constraint ? `, then attach it as the constraint (${partitioned ? "on each partition, then on the parent" : "`USING INDEX`"}: brief lock, no scan)` : ""}, one \`RunSQL\` per statement${unknownColumns ? " (`python manage.py sqlmigrate` shows Django's statement: add `CONCURRENTLY IF NOT EXISTS` to it)" : ""}:\n${migrationModule(
        [separateDatabaseAndState([input.stateOp + ","], statements)],
        { atomic: false, note: "CREATE INDEX CONCURRENTLY cannot run in a transaction" },
      )}`,
    );
  }
  steps.push("If the concurrent build fails (for example on a duplicate), it leaves an INVALID index: drop it with `DROP INDEX CONCURRENTLY IF EXISTS` before retrying.");
  ctx.report({
    range: ctx.op.range,
    message: `${input.lead ?? `Adding ${input.subject}`} builds a unique index on \`${table}\` under ${input.noteIndexOnly ? "a SHARE lock (writes blocked)" : "an ACCESS EXCLUSIVE lock (reads and writes blocked)"}${(input.addField && !filledAdd) || input.noDuplicates ? "" : ", and fails if rows are duplicates"}.`,
    help: [...help, ...steps.map((s, i) => `${i + 1}. ${s}`)],
    related: [...(input.relatedOrigin ? [ctx.relatedAt(input.relatedOrigin, "the field was last defined here")] : []), ...((partitioned && partitionedOrigin(ctx, partitioned)) || [])],
  });
}
