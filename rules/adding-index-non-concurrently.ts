import type { OperationContext, Rule } from "../src/engine/rule-types.js";
import { fieldDroppedLater } from "../src/engine/field-drops.js";
import { existingModel, fieldOperation } from "../src/engine/resolved-operation.js";
import { movedBackNote, movesColumnBack, pinnedColumnChange, pinnedColumnNote } from "./renaming-column.js";
import { exclusiveLockHeldBefore, otherTablesHeldBefore, runningSlowOperationUnderExclusiveLock } from "./running-slow-operation-under-exclusive-lock.js";
import { locksOf } from "../src/engine/table-locks.js";
import { partitionedBecause, partitionedOrigin, partitionedTable, type PartitionedTableInfo } from "../src/engine/partitioned-tables.js";
import { addIndexConcurrentlyFix } from "../src/fix/add-index-concurrently.js";
import type { Operation, PyValue } from "../src/model/types.js";
import { className, hasSpatialIndex, literalBool, literalInt, literalString, stringList, togetherAdded, togetherList, type FieldState, type ModelState } from "../src/state/model-state.js";
import {
  createIndexConcurrentlySql,
  djangoHas,
  djangoIndexName,
  djangoModelIndexName,
  fieldWith,
  likeIndexOpclass,
  migrationModule,
  partitionedIndexOperations,
  partitionedIndexSteps,
  py,
  pyValue,
  runSqlLines,
  separateDatabaseAndState,
  sqlIdent,
} from "../src/advice/snippets.js";

/**
 * What a field change does to the field's own indexes, following Django's schema editor:
 * `add_field` defers `_field_indexes_sql` (an index when `db_index and not unique`, plus the
 * PostgreSQL `_like` index for indexed or unique varchar/text), and `_alter_field` adds an index
 * when `(not old.db_index or old.unique) and new.db_index and not new.unique`, a unique constraint
 * when `_unique_should_be_added`, and the `_like` index when an index or uniqueness appears.
 */
export interface FieldIndexChange {
  addsIndex: boolean;
  addsUnique: boolean;
  addsLike: boolean;
  dropsIndex: boolean;
  dropsUnique: boolean;
  dropsLike: boolean;
}

/** The index changes of `AddField` (`before` null) or `AlterField` on one field. */
export function fieldIndexChange(before: FieldState | null, after: FieldState): FieldIndexChange {
  const none = { addsIndex: false, addsUnique: false, addsLike: false, dropsIndex: false, dropsUnique: false, dropsLike: false };
  if (after.relation?.kind === "m2m" || before?.relation?.kind === "m2m") return none;
  const like = likeIndexOpclass(after) !== null;
  if (!before) {
    return {
      ...none,
      addsIndex: after.dbIndex && !after.unique,
      addsUnique: after.unique && !after.primaryKey,
      addsLike: like && (after.dbIndex || after.unique) && !after.primaryKey,
    };
  }
  const oldLike = likeIndexOpclass(before) !== null;
  return {
    addsIndex: (!before.dbIndex || before.unique) && after.dbIndex && !after.unique,
    addsUnique: !after.primaryKey && after.unique && (!before.unique || before.primaryKey),
    addsLike: like && ((!(before.dbIndex || before.unique) && after.dbIndex) || (!before.unique && after.unique)),
    dropsIndex: before.dbIndex && !before.unique && (!after.dbIndex || after.unique),
    dropsUnique: before.unique && !before.primaryKey && (!after.unique || (after.primaryKey && !before.primaryKey)),
    dropsLike: oldLike && before.unique && !(after.dbIndex || after.unique),
  };
}

/**
 * Whether adding this field creates a foreign-key constraint, which `adding-foreign-key-constraint`
 * reports together with the field's index (so the index rules leave `AddField` of such fields alone).
 */
export function addsForeignKeyConstraint(ctx: OperationContext, before: FieldState | null, after: FieldState): boolean {
  if (ctx.target.database === "sqlite") return false;
  if (!after.relation || after.relation.kind === "m2m" || !after.relation.dbConstraint) return false;
  return before === null;
}

/** Column names of model fields (`-name` ordering prefixes dropped), or null if any is unknown. */
export function columnsOfFields(ctx: OperationContext, model: ModelState, fields: string[]): string[] | null {
  const out: string[] = [];
  for (const raw of fields) {
    const field = model.fields.get(raw.replace(/^-/, ""));
    const column = field ? ctx.columnOf(field) : null;
    if (!column) return null;
    out.push(column);
  }
  return out;
}

/** The `Index(...)` call's SQL columns when it is plain `fields=[...]` (no expressions/condition/opclasses...). */
export function plainIndexColumns(ctx: OperationContext, model: ModelState, index: PyValue): { columns: string[]; desc: boolean[] } | null {
  if (index.kind !== "call" || index.args.length > 0) return null;
  const allowed = new Set(["fields", "name", "db_tablespace"]);
  if (className(index) !== "Index" || Object.keys(index.kwargs).some((k) => !allowed.has(k))) return null;
  const fields = stringList(index.kwargs.fields);
  const columns = columnsOfFields(ctx, model, fields);
  if (!columns || columns.length === 0) return null;
  return { columns, desc: fields.map((f) => f.startsWith("-")) };
}

/** Renders an operation call as written (values re-rendered from the model). */
export function operationSource(op: Operation, module = "migrations"): string {
  const args = Object.entries(op.args).map(([k, v]) => `    ${k}=${pyValue(v)},`);
  const callee = op.origin === "postgres" ? op.kind : `${module}.${op.kind}`;
  return [`${callee}(`, ...args, ")"].join("\n");
}

const SQLMIGRATE = "`python manage.py sqlmigrate <app> <migration>` prints the statement Django would run";

const WHY =
  "`CREATE INDEX` without `CONCURRENTLY` holds a SHARE lock on the table for the whole build: reads go on, but every INSERT, UPDATE and DELETE waits until the index is built (and, in an atomic migration, until the transaction commits).";

/** How `whyFor` opens when a lock that blocks reads is held through the build. */
const LOCKED_WHY = "`CREATE INDEX` without `CONCURRENTLY` holds a SHARE lock on the table for the whole build, which alone blocks every INSERT, UPDATE and DELETE; here reads wait too: ";

/**
 * `WHY`, or, in an atomic migration, why reads wait for the build too: the operation takes
 * ACCESS EXCLUSIVE on the table itself for the rest of its change (`own`: dropping a unique
 * constraint, a type change; OSF 0223), or an earlier operation holds it (`exclusiveLockHeldBefore`).
 */
function whyFor(ctx: OperationContext, table: string, own: string | null = null): { why: string; blocking: string } {
  if (own !== null && ctx.migration.atomic) {
    return {
      why: `${LOCKED_WHY}the same \`AlterField\` takes ACCESS EXCLUSIVE on \`${table}\` first (for ${own}), held until COMMIT, through the build.`,
      blocking: `reads and writes (its ACCESS EXCLUSIVE lock for ${own} is held)`,
    };
  }
  const held = exclusiveLockHeldBefore(ctx, table);
  if (!held) return { why: WHY, blocking: "writes" };
  const others = otherTablesHeldBefore(ctx, table);
  return {
    why: `${LOCKED_WHY}the ACCESS EXCLUSIVE lock an earlier operation of this atomic migration took on \`${table}\` (for ${held}) is held until COMMIT, through the build${others > 0 ? `, as are the migration's locks on ${others} more table${others > 1 ? "s" : ""}, whose reads wait too` : ""} (\`running-slow-operation-under-exclusive-lock\`).`,
    blocking: `reads and writes (the ACCESS EXCLUSIVE lock taken earlier for ${held} is still held)`,
  };
}

/** Why the usual concurrent recipe does not apply: PostgreSQL refuses CONCURRENTLY on a partitioned table. */
function partitionedWhy(info: PartitionedTableInfo): string {
  return `\`${info.table}\` is partitioned (${partitionedBecause(info)}): PostgreSQL refuses \`CREATE INDEX CONCURRENTLY\` (and so \`AddIndexConcurrently\`) on a partitioned table, so the index is built partition by partition instead.`;
}

/**
 * The `RunSQL` that build one index concurrently: `CREATE INDEX CONCURRENTLY` on an ordinary table,
 * the per-partition recipe on a partitioned one.
 */
function concurrentIndexStatements(partitioned: PartitionedTableInfo | null, name: string, table: string, columns: string[], options: { opclass?: string; using?: string; expression?: string } = {}): string[] {
  if (!partitioned) {
    const { sql, reverse } = createIndexConcurrentlySql(name, table, columns, options);
    return [runSqlLines(sql, reverse)];
  }
  const definition = `${options.using ? `USING ${options.using} ` : ""}(${options.expression ?? columns.map((c) => `${sqlIdent(c)}${options.opclass ? ` ${options.opclass}` : ""}`).join(", ")})`;
  return partitionedIndexOperations({ parent: table, partitions: partitioned.partitions, index: name, definition, unique: false });
}

/** RS201: an index built without `CONCURRENTLY` on an existing PostgreSQL table. */
export const addingIndexNonConcurrently: Rule = {
  meta: {
    code: "RS201",
    name: "adding-index-non-concurrently",
    severity: "error",
    databases: ["postgresql"],
    claims: ["blocking-lock"],
    hazards: ["H16", "H17"],
    docs: {
      summary: "Building an index on an existing table without CONCURRENTLY",
      what: "Flags, on an existing managed PostgreSQL table: `AddIndex`; `AddField`/`AlterField` that turns on `db_index=True` (including fields indexed by default: `SlugField`, `ForeignKey` with `db_constraint=False`, and GeoDjango's geometry and raster fields, whose `spatial_index=True` PostGIS builds as a GiST index); and `AlterIndexTogether` that adds an index. For indexed `CharField`/`TextField` (and other varchar columns) it also counts the extra `<name>_like` index (`varchar_pattern_ops`/`text_pattern_ops`) that Django builds on PostgreSQL. Unique indexes are reported by `adding-unique-constraint`, foreign keys with their index by `adding-foreign-key-constraint`. Tables created in the same migration, unmanaged and proxy models, and MySQL/SQLite targets are not flagged (InnoDB builds secondary indexes online).",
      why: "`CREATE INDEX` takes a SHARE lock: reads continue but all writes to the table wait for the whole build, which on a large table takes minutes. In an atomic migration the lock is held until the migration commits.",
      recipe: [
        "Build the index in its own migration with `atomic = False` using `AddIndexConcurrently` (Django 3.0+), which takes only SHARE UPDATE EXCLUSIVE: reads and writes continue.",
        "For field-level indexes (`db_index=True`), keep the field change as state and build Django's own index names concurrently with `SeparateDatabaseAndState` + `RunSQL('CREATE INDEX CONCURRENTLY IF NOT EXISTS ...')`, one `RunSQL` per statement, including the `_like` index for varchar/text columns.",
        "On a partitioned table (configuration `partitioned-tables`, or created by `RunSQL(\"CREATE TABLE ... PARTITION BY ...\")`) PostgreSQL refuses CONCURRENTLY: the advice is then `CREATE INDEX ... ON ONLY <parent>`, and per partition `CREATE INDEX CONCURRENTLY` + `ALTER INDEX ... ATTACH PARTITION`, as `RunSQL` in `SeparateDatabaseAndState` (see `adding-index-concurrently-on-partitioned-table`).",
      ],
      severityReason: "Error: writes to an existing table are blocked for the duration of the build.",
      bad: `migrations.AddIndex(
    model_name="book",
    index=models.Index(fields=["pages"], name="book_pages_idx"),
)`,
      good: `from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import migrations, models


class Migration(migrations.Migration):
    atomic = False  # CREATE INDEX CONCURRENTLY cannot run in a transaction

    dependencies = [("library", "0001_initial")]

    operations = [
        AddIndexConcurrently(
            model_name="book",
            index=models.Index(fields=["pages"], name="book_pages_idx"),
        ),
    ]`,
    },
  },
  operationKinds: ["AddIndex", "AlterIndexTogether", "AddField", "AlterField"],
  // The locks the migration holds so far (`exclusiveLockHeldBefore`), whether or not RS214 is selected.
  uses: [runningSlowOperationUnderExclusiveLock],
  operation(ctx) {
    if (ctx.target.database !== "postgresql") return;
    const { op } = ctx;
    if (op.kind === "AddIndex") return addIndex(ctx);
    if (op.kind === "AlterIndexTogether") return alterIndexTogether(ctx);
    if (op.kind === "AddField" || op.kind === "AlterField") return fieldIndex(ctx);
  },
};

function addIndex(ctx: OperationContext): void {
  const model = existingModel(ctx, "model_name");
  const index = ctx.op.args.index;
  if (!model || !index) return;
  const table = ctx.tableOf(model);
  const name = index.kind === "call" ? (literalString(index.kwargs.name) ?? "<index name>") : "<index name>";
  const steps: string[] = [];
  const partitioned = partitionedTable(ctx, model, table);
  if (partitioned) {
    const plain = plainIndexColumns(ctx, model, index);
    const definition = plain ? `(${plain.columns.map((c, i) => `${sqlIdent(c)}${plain.desc[i] ? " DESC" : ""}`).join(", ")})` : null;
    const state = `migrations.AddIndex(\n    model_name=${py(model.key)},\n    index=${pyValue(index)},\n),`;
    steps.push(...partitionedIndexSteps({ parent: table, partitions: partitioned.partitions, index: name, definition, unique: false }, [state]));
  } else if (djangoHas(ctx.target, 3, 0)) {
    steps.push(
      `Move this operation into its own migration with \`atomic = False\`, and build the index concurrently (SHARE UPDATE EXCLUSIVE: reads and writes go on):\n${migrationModule(
        [`AddIndexConcurrently(\n    model_name=${py(model.key)},\n    index=${pyValue(index)},\n),`],
        { atomic: false, imports: ["from django.contrib.postgres.operations import AddIndexConcurrently"], note: "CREATE INDEX CONCURRENTLY cannot run in a transaction" },
      )}`,
    );
  } else {
    const plain = plainIndexColumns(ctx, model, index);
    const sql = plain
      ? `CREATE INDEX CONCURRENTLY IF NOT EXISTS ${sqlIdent(name)} ON ${sqlIdent(table)} (${plain.columns.map((c, i) => `${sqlIdent(c)}${plain.desc[i] ? " DESC" : ""}`).join(", ")});`
      : `CREATE INDEX CONCURRENTLY IF NOT EXISTS ${sqlIdent(name)} ON ${sqlIdent(table)} (...);`;
    steps.push(
      `Django ${ctx.target.django.join(".")} has no \`AddIndexConcurrently\` (3.0+): keep the index in state and build it with SQL in a migration with \`atomic = False\`${plain ? "" : ` (${SQLMIGRATE}; add \`CONCURRENTLY IF NOT EXISTS\`)`}:\n${migrationModule(
        [separateDatabaseAndState([`migrations.AddIndex(\n    model_name=${py(model.key)},\n    index=${pyValue(index)},\n),`], [runSqlLines(sql, `DROP INDEX CONCURRENTLY IF EXISTS ${sqlIdent(name)};`)])],
        { atomic: false },
      )}`,
    );
  }
  steps.push("Keep other schema changes out of that migration: with `atomic = False` a failure half-way leaves the earlier operations applied.");
  const { why, blocking } = whyFor(ctx, table);
  ctx.report({
    range: ctx.op.range,
    message: `\`AddIndex\` builds \`${name}\` on \`${table}\` without CONCURRENTLY, blocking ${blocking === "writes" ? `writes to \`${table}\`` : blocking} during the build.`,
    help: [why, ...(partitioned ? [partitionedWhy(partitioned)] : []), ...steps.map((s, i) => `${i + 1}. ${s}`)],
    // The fix turns the operation into AddIndexConcurrently, which fails on a partitioned table.
    fix: partitioned ? undefined : addIndexConcurrentlyFix(ctx),
    related: partitioned ? partitionedOrigin(ctx, partitioned) : undefined,
  });
}

function alterIndexTogether(ctx: OperationContext): void {
  const model = existingModel(ctx, "name");
  if (!model) return;
  const table = ctx.tableOf(model);
  const added = togetherAdded(model.indexTogether, togetherList(ctx.op.args.index_together));
  if (added.length === 0) return;
  const statements: string[] = [];
  const partitioned = partitionedTable(ctx, model, table);
  for (const fields of added) {
    const columns = columnsOfFields(ctx, model, fields);
    if (!columns) continue;
    statements.push(...concurrentIndexStatements(partitioned, djangoIndexName(table, columns, "_idx"), table, columns));
  }
  const inState = `Keep the change in state and build Django's indexes concurrently, in a migration with \`atomic = False\` (one \`RunSQL\` per statement: a multi-statement string runs as one transaction, where CONCURRENTLY is refused):\n${migrationModule(
    [separateDatabaseAndState([operationSource(ctx.op) + ","], statements.length ? statements : [runSqlLines("CREATE INDEX CONCURRENTLY IF NOT EXISTS ...;", null)])],
    { atomic: false },
  )}`;
  const steps: string[] = [];
  if (djangoHas(ctx.target, 5, 1) && !partitioned) {
    // index_together is gone from Meta: the model can only declare these indexes in Meta.indexes.
    const indexes = added.map((fields) => {
      const columns = columnsOfFields(ctx, model, fields);
      const name = columns ? djangoModelIndexName(table, columns) : "...";
      return `models.Index(fields=[${fields.map(py).join(", ")}], name=${py(name)})`;
    });
    steps.push(
      `Django ${ctx.target.django.join(".")} has no \`index_together\` (removed in 5.1; the operation stays only for old migrations): declare the indexes in \`Meta.indexes\` (\`indexes = [${indexes.join(", ")}]\`) and build them without blocking writes, in a migration of their own:\n${migrationModule(
        indexes.map((index) => `AddIndexConcurrently(\n    model_name=${py(model.key)},\n    index=${index},\n),`),
        { atomic: false, imports: ["from django.contrib.postgres.operations import AddIndexConcurrently"], note: "CREATE INDEX CONCURRENTLY cannot run in a transaction" },
      )}`,
    );
  } else {
    steps.push(inState);
    if (djangoHas(ctx.target, 4, 2)) {
      steps.push("`index_together` is deprecated since Django 4.2 and removed in 5.1: prefer `Meta.indexes` with `AddIndexConcurrently`.");
    }
  }
  const { why, blocking } = whyFor(ctx, table);
  ctx.report({
    range: ctx.op.range,
    message: `\`AlterIndexTogether\` builds ${added.length === 1 ? "an index" : `${added.length} indexes`} on \`${table}\` (${added.map((t) => `(${t.join(", ")})`).join(", ")}) without CONCURRENTLY, blocking ${blocking} during the build.`,
    help: [why, ...(partitioned ? [partitionedWhy(partitioned)] : []), ...steps.map((s, i) => `${i + 1}. ${s}`)],
    related: partitioned ? partitionedOrigin(ctx, partitioned) : undefined,
  });
}

function fieldIndex(ctx: OperationContext): void {
  const found = fieldOperation(ctx);
  if (!found) return;
  const { model, name, before } = found;
  if (addsForeignKeyConstraint(ctx, before, found.after)) return;
  const change = fieldIndexChange(before, found.after);
  // Unique fields are reported by adding-unique-constraint (their `_like` index included).
  if (change.addsUnique || (!change.addsIndex && !change.addsLike)) return;
  // Django builds an added field's index at the end of the migration, and a `RemoveField` of the
  // field before then discards it (pretalx event 0002's squash).
  if (ctx.op.kind === "AddField" && fieldDroppedLater(ctx, model.key, name)) return;
  const table = ctx.tableOf(model);
  // An AlterField that also moves the column: the recipe keeps it where it is (renaming-column).
  const pinned = pinnedColumnChange(ctx, found);
  const after = pinned?.after ?? found.after;
  const stateOperation = pinned?.source ?? operationSource(ctx.op);
  const column = ctx.columnOf(after) ?? name;
  // GeoDjango's spatial index: GiST, named with `_id` (PostGIS's `_create_index_sql`); a raster's
  // is on its convex hull, a 3D geometry's uses the n-dimensional operator class.
  const spatial = hasSpatialIndex(after);
  const base = djangoIndexName(table, [column], spatial ? "_id" : "");
  const like = likeIndexOpclass(after);
  const names: string[] = [];
  const statements: string[] = [];
  const partitioned = partitionedTable(ctx, model, table);
  if (change.addsIndex) {
    names.push(base);
    const gist = !spatial
      ? {}
      : after.type === "RasterField"
        ? { using: "GIST", expression: `ST_ConvexHull(${sqlIdent(column)})` }
        : literalInt(after.kwargs.dim) === 3 && literalBool(after.kwargs.geography) !== true
          ? { using: "GIST", opclass: "GIST_GEOMETRY_OPS_ND" }
          : { using: "GIST" };
    statements.push(...concurrentIndexStatements(partitioned, base, table, [column], gist));
  }
  if (change.addsLike && like) {
    // Django shortens a long name with the suffix counted (`_create_index_name`), not `<base>_like`.
    const likeName = djangoIndexName(table, [column], "_like");
    names.push(likeName);
    statements.push(...concurrentIndexStatements(partitioned, likeName, table, [column], { opclass: like.opclass }));
  }
  const isAdd = ctx.op.kind === "AddField";
  const renames = pinned !== null || movesColumnBack(ctx, found);
  // The operation's own ACCESS EXCLUSIVE for adding the column or renaming it is said below.
  const { why, blocking } =
    isAdd || renames ? { why: WHY, blocking: "writes" } : whyFor(ctx, table, locksOf(ctx).find((l) => l.table === table && l.mode === "ACCESS EXCLUSIVE")?.what ?? null);
  const help: string[] = [why, ...(partitioned ? [partitionedWhy(partitioned)] : []), ...(pinned ? [pinnedColumnNote(pinned, table)] : movesColumnBack(ctx, found) ? [movedBackNote(ctx, found, table)] : [])];
  if (isAdd) {
    help.push(
      `Django adds the column and then builds the index at the end of the migration, while the ACCESS EXCLUSIVE lock from \`ADD COLUMN\` is still held, so in an atomic migration even reads of \`${table}\` wait for the build.`,
    );
  }
  if (change.addsLike && like) {
    help.push(
      `On PostgreSQL Django builds a second index, \`${djangoIndexName(table, [column], "_like")}\` (\`${like.opclass}\`, for \`LIKE\` lookups), so a recipe that only creates \`${base}\` leaves that one to a blocking build${like.certain ? "" : " (Django skips it if `db_collation` is non-deterministic)"}.`,
    );
  }
  // An AlterField that also turns on a foreign-key constraint: that finding's recipe adds it.
  if (!isAdd && after.relation && after.relation.kind !== "m2m" && after.relation.dbConstraint && !(before?.relation && before.relation.kind !== "m2m" && before.relation.dbConstraint)) {
    help.push("The same `AlterField` turns on a foreign-key constraint, which this recipe leaves out: `adding-foreign-key-constraint`'s recipe adds it NOT VALID. Follow both, each in a migration of its own (the state change they repeat is a no-op the second time).");
  }
  const steps: string[] = [];
  if (isAdd) {
    const noIndex = fieldWith(ctx.op.args.field ?? null, spatial ? { spatial_index: "False" } : { db_index: "False" }, spatial ? ["db_index"] : []);
    steps.push(
      `Add the column without the index (cheap), keeping the indexed field in state:\n${migrationModule(
        [separateDatabaseAndState([operationSource(ctx.op) + ","], [`migrations.AddField(\n    model_name=${py(model.key)},\n    name=${py(name)},\n    field=${noIndex},\n),`])],
        { atomic: true },
      )}`,
    );
  }
  const db = separateDatabaseAndState(isAdd ? [] : [stateOperation + ","], statements);
  steps.push(
    `${isAdd ? "In the next migration, build" : "Keep the change in state and build"} Django's own index${names.length > 1 ? "es" : ""} concurrently with \`atomic = False\`, one \`RunSQL\` per statement (a multi-statement string runs in one transaction, where CONCURRENTLY is refused):\n${migrationModule(
      [isAdd ? statements.join("\n") : db],
      { atomic: false, note: "CREATE INDEX CONCURRENTLY cannot run in a transaction" },
    )}`,
  );
  steps.push("If a concurrent build fails it leaves an INVALID index behind: drop it with `DROP INDEX CONCURRENTLY IF EXISTS` before running the migration again.");
  const what = ctx.op.args.field?.kind === "call" && ctx.op.args.field.kwargs.db_index ? "`db_index=True`" : spatial ? "its spatial index" : "its default index";
  ctx.report({
    range: ctx.op.range,
    message: `${isAdd ? "Adding" : "Altering"} \`${model.name}.${name}\` with ${what} builds ${names.map((n) => `\`${n}\``).join(" and ")} on \`${table}\` without CONCURRENTLY, blocking ${isAdd && ctx.migration.atomic ? "reads and writes (the new column's ACCESS EXCLUSIVE lock is still held)" : renames && ctx.migration.atomic ? "reads and writes (the column rename's ACCESS EXCLUSIVE lock is still held)" : blocking} during the build.`,
    help: [...help, ...steps.map((s, i) => `${i + 1}. ${s}`)],
    related: before?.origin ? [ctx.relatedAt(before.origin, `\`${model.name}.${name}\` was last defined here`)] : undefined,
  });
}
