import type { OperationContext, Rule } from "../src/engine/rule-types.js";
import { literalString, togetherList, togetherAdded, togetherName } from "../src/state/model-state.js";
import { code, djangoIndexName, LOCK_TIMEOUT_OPERATION, likeIndexOpclass, migrationModule, py, runSqlLines, separateDatabaseAndState, sqlIdent } from "../src/advice/snippets.js";
import { fieldOperation, keptModel, uniqueConstraintOf } from "../src/engine/resolved-operation.js";
import { columnsOfFields, fieldIndexChange, operationSource } from "./adding-index-non-concurrently.js";
import { partitionedOrigin, partitionedTable } from "../src/engine/partitioned-tables.js";
import { lockTimeoutSetBefore } from "../src/engine/lock-timeout.js";
import { forwardStatements, resolveSqlTable } from "../src/engine/sql-facts-for-operation.js";
import type { RelatedLocation } from "../src/model/types.js";
import { fieldDroppedBefore } from "../src/engine/field-drops.js";
import type { ModelState } from "../src/state/model-state.js";
import { partitionedDropStep, partitionedDropWhy } from "./removing-index-concurrently-on-partitioned-table.js";

const LOCK_TIMEOUT = code(LOCK_TIMEOUT_OPERATION);

/**
 * On a partitioned table PostgreSQL refuses every concurrent drop, so the plain drop bounded by a
 * `lock_timeout` is the recipe: the help that says so, or `quiet` when a timeout is already set
 * before the operation (nothing better can be done); null on an ordinary table.
 */
function partitionedDrop(ctx: OperationContext, model: ModelState, table: string): "quiet" | { help: string[]; related: RelatedLocation[] | undefined } | null {
  const info = partitionedTable(ctx, model, table);
  if (!info) return null;
  if (lockTimeoutSetBefore(ctx)) return "quiet";
  return { help: [partitionedDropWhy(info), `1. ${partitionedDropStep([`${operationSource(ctx.op)},`])}`], related: partitionedOrigin(ctx, info) };
}

/** RS208: an index dropped without CONCURRENTLY on an existing PostgreSQL table. */
export const removingIndexNonConcurrently: Rule = {
  meta: {
    code: "RS208",
    name: "removing-index-non-concurrently",
    severity: "warning",
    databases: ["postgresql"],
    claims: ["blocking-lock"],
    unobservable: "`DROP INDEX` holds ACCESS EXCLUSIVE without scanning the table, so on a quiet table it is released at once; the hazard is the wait: the lock request queues behind any long-running query on the table, and every new query queues behind it.",
    hazards: ["H30"],
    docs: {
      summary: "Dropping an index without CONCURRENTLY",
      what: "Flags, on an existing managed PostgreSQL table that the migration does not drop later (dropping-table reports that): `RemoveIndex` (not of an index on a column an earlier `RemoveField` of the migration dropped, which PostgreSQL dropped with the column); `AlterField` that turns `db_index` off (or `unique` off; not one that turns `db_index` into `unique`, whose plain index `adding-unique-constraint`'s recipe drops with the change); `AlterIndexTogether`/`AlterUniqueTogether` that remove a set; `RemoveConstraint` of a `UniqueConstraint`; `DROP INDEX` without `CONCURRENTLY` in a `RunSQL` (or SQL a `RunPython` runs). A drop whose only recipe is a `lock_timeout` (a unique constraint, which cannot be dropped concurrently, or any index of a partitioned table) is not flagged once the migration sets one before it.",
      why: "`DROP INDEX` and `ALTER TABLE ... DROP CONSTRAINT` take ACCESS EXCLUSIVE on the table. The drop itself is quick, but the lock request waits behind every running query on the table, and every new query queues behind it: a long report can stall all traffic.",
      recipe: [
        "For `Meta.indexes`: `RemoveIndexConcurrently` in a migration with `atomic = False` (SHARE UPDATE EXCLUSIVE).",
        "For field-level and `index_together` indexes: keep the change in state and `RunSQL('DROP INDEX CONCURRENTLY IF EXISTS ...')` with Django's index name.",
        "Unique constraints cannot be dropped concurrently: run the drop with a short `lock_timeout` so it gives up instead of queueing traffic. With one set before it (or `timeouts-set-by-runner`), such a drop is not reported.",
        "On a partitioned table (configuration `partitioned-tables`, or created by `RunSQL(\"CREATE TABLE ... PARTITION BY ...\")`) PostgreSQL refuses `DROP INDEX CONCURRENTLY` (see `removing-index-concurrently-on-partitioned-table`): keep the plain drop, in its own migration, after a `RunSQL(\"SET LOCAL lock_timeout = '5s'\")`. With a `lock_timeout` set before it (or `timeouts-set-by-runner`), an index drop on a partitioned table is not reported: nothing safer exists.",
      ],
      severityReason: "Warning: the lock is held only briefly, but while it waits it blocks every query on the table.",
      bad: `migrations.RemoveIndex(model_name="book", name="library_book_author_id_d9a3b67e")`,
      good: `migrations.SeparateDatabaseAndState(
    state_operations=[migrations.RemoveIndex(model_name="book", name="library_book_author_id_d9a3b67e")],
    database_operations=[],
)`,
    },
  },
  operationKinds: ["RemoveIndex", "RemoveConstraint", "AlterIndexTogether", "AlterUniqueTogether", "AlterField", "RunSQL"],
  operation(ctx) {
    if (ctx.target.database !== "postgresql") return;
    switch (ctx.op.kind) {
      case "RunSQL":
        return dropIndexSql(ctx);
      case "RemoveIndex":
        return removeIndex(ctx);
      case "RemoveConstraint":
        return removeConstraint(ctx);
      case "AlterIndexTogether":
      case "AlterUniqueTogether":
        return alterTogether(ctx);
      case "AlterField":
        return alterField(ctx);
    }
  },
};

function removeIndex(ctx: OperationContext): void {
  const model = keptModel(ctx, "model_name");
  const name = literalString(ctx.op.args.name);
  if (!model || !name) return;
  const index = model.indexes.find((i) => i.name === name);
  // PostgreSQL dropped the index with a column of it earlier in the migration (Misago threads 0040):
  // Django's `DROP INDEX IF EXISTS` finds nothing to lock.
  if (index?.fields.some((field) => fieldDroppedBefore(ctx, model.key, field.replace(/^-/, "")))) return;
  const table = ctx.tableOf(model);
  const partitioned = partitionedDrop(ctx, model, table);
  if (partitioned === "quiet") return;
  const why = `\`DROP INDEX\` needs ACCESS EXCLUSIVE on \`${table}\`: it waits for every running query on the table, and every new query waits behind it.`;
  ctx.report({
    range: ctx.op.range,
    message: `\`RemoveIndex\` drops \`${name}\` with an ACCESS EXCLUSIVE lock on \`${table}\`; queries queue behind it while it waits.`,
    ...(partitioned ? { help: [why, ...partitioned.help], related: partitioned.related } : { help: [why, concurrentRemoveIndex(model, name)] }),
  });
}

/**
 * `DROP INDEX` without CONCURRENTLY in a `RunSQL` (authentik oauth2 0023): the same ACCESS
 * EXCLUSIVE lock as `RemoveIndex` (pg_locks, PostgreSQL 15). The statement names the index only:
 * its table is found among the models' named indexes when it is one of them. An index of a
 * partitioned table is left alone (PostgreSQL refuses CONCURRENTLY there).
 */
function dropIndexSql(ctx: OperationContext): void {
  const statements = forwardStatements(ctx);
  for (const { fact, range } of statements) {
    if (fact.kind !== "drop-index" || fact.concurrently || fact.index === null) continue;
    const name = fact.index;
    // An index the same SQL builds again on a table this migration creates (koku
    // reporting_common 0001: CREATE TABLE, DROP INDEX IF EXISTS, CREATE INDEX): nothing to lock.
    const rebuilt = statements.find((s) => s.fact.kind === "create-index" && s.fact.index === name);
    if (rebuilt && resolveSqlTable(ctx, rebuilt.fact)?.isNew) continue;
    let owner: ModelState | null = null;
    for (const model of ctx.state.models.values()) {
      if (model.indexes.some((i) => i.name === name) || model.constraints.some((c) => c.name === name)) owner = model;
    }
    // A table this migration creates holds nothing yet.
    if (owner && ctx.isNewTable(owner)) continue;
    const table = owner ? ctx.tableOf(owner) : null;
    if (table !== null && ctx.db.partitionedTables.has(table)) continue;
    const where = table === null ? "its table" : `\`${table}\``;
    const concurrent = `DROP INDEX CONCURRENTLY${fact.ifExists ? " IF EXISTS" : ""} ${sqlIdent(name)};`;
    ctx.report({
      range,
      message: `\`DROP INDEX\` drops \`${name}\` without CONCURRENTLY, with an ACCESS EXCLUSIVE lock on ${where}; queries queue behind it while it waits.`,
      help: [
        `\`DROP INDEX\` needs ACCESS EXCLUSIVE on ${where}: it waits for every running query on the table, and every new query waits behind it${ctx.migration.atomic ? " (held until the migration commits)" : ""}.`,
        `1. Drop it concurrently (SHARE UPDATE EXCLUSIVE: reads and writes go on), one statement per \`RunSQL\`, in a migration with \`atomic = False\`:\n${migrationModule([runSqlLines(concurrent, null)], { atomic: false, note: "DROP INDEX CONCURRENTLY cannot run in a transaction" })}`,
      ],
    });
  }
}

function concurrentRemoveIndex(model: ModelState, name: string): string {
  return `1. Drop it concurrently (SHARE UPDATE EXCLUSIVE: reads and writes go on) in its own migration:\n${migrationModule(
    [`RemoveIndexConcurrently(model_name=${py(model.key)}, name=${py(name)}),`],
    { atomic: false, imports: ["from django.contrib.postgres.operations import RemoveIndexConcurrently"], note: "DROP INDEX CONCURRENTLY cannot run in a transaction" },
  )}`;
}

function removeConstraint(ctx: OperationContext): void {
  const model = keptModel(ctx, "model_name");
  const name = literalString(ctx.op.args.name);
  if (!model || !name) return;
  const constraint = model.constraints.find((c) => c.name === name);
  if (constraint?.kind !== "unique") return;
  const table = ctx.tableOf(model);
  const value = constraint.value;
  const indexOnly = value.kind === "call" && (value.args.length > 0 || ["condition", "include", "opclasses"].some((k) => value.kwargs[k] && value.kwargs[k]?.kind !== "none"));
  const help = [`Dropping \`${name}\` needs ACCESS EXCLUSIVE on \`${table}\`: it waits for every running query on the table, and every new query waits behind it. Old code that relies on the constraint (IntegrityError-based upserts) loses that guarantee.`];
  const partitioned = indexOnly ? partitionedDrop(ctx, model, table) : null;
  if (partitioned === "quiet") return;
  if (partitioned) {
    help.push(...partitioned.help);
  } else if (indexOnly) {
    help.push(
      `1. Django created \`${name}\` as a unique index, so it can go concurrently:\n${migrationModule(
        [separateDatabaseAndState([operationSource(ctx.op) + ","], [runSqlLines(`DROP INDEX CONCURRENTLY IF EXISTS ${sqlIdent(name)};`, null)])],
        { atomic: false, note: "DROP INDEX CONCURRENTLY cannot run in a transaction" },
      )}`,
    );
  } else {
    // The advice is the lock timeout: nothing to say once one bounds the drop.
    if (lockTimeoutSetBefore(ctx)) return;
    help.push(`1. A unique constraint cannot be dropped concurrently. Put the drop in its own migration and make it give up instead of queueing traffic, with this as the first operation:\n${LOCK_TIMEOUT}`);
  }
  ctx.report({
    range: ctx.op.range,
    message: `Removing unique constraint \`${name}\` takes an ACCESS EXCLUSIVE lock on \`${table}\`; queries queue behind it while it waits.`,
    help,
    ...(partitioned?.related ? { related: partitioned.related } : {}),
  });
}

function alterTogether(ctx: OperationContext): void {
  const model = keptModel(ctx, "name");
  if (!model) return;
  const unique = ctx.op.kind === "AlterUniqueTogether";
  const current = unique ? model.uniqueTogether : model.indexTogether;
  const removed = togetherAdded(togetherList(unique ? ctx.op.args.unique_together : ctx.op.args.index_together), current);
  if (removed.length === 0) return;
  const table = ctx.tableOf(model);
  const names = removed.map((t) => {
    const cols = columnsOfFields(ctx, model, t);
    // The name Django gave it when it made it: a RenameField since keeps it (Funkwhale federation 0014).
    return cols ? togetherName(model, unique, t, table, cols) : null;
  });
  const help = [`Dropping ${unique ? "a unique constraint" : "an index"} needs ACCESS EXCLUSIVE on \`${table}\`: it waits for every running query on the table, and every new query waits behind it.`];
  const partitioned = unique ? null : partitionedDrop(ctx, model, table);
  if (partitioned === "quiet") return;
  if (partitioned) {
    help.push(...partitioned.help);
  } else if (!unique && names.every((n) => n)) {
    help.push(
      `1. Keep the change in state and drop Django's index${names.length > 1 ? "es" : ""} concurrently:\n${migrationModule(
        [separateDatabaseAndState([operationSource(ctx.op) + ","], names.map((n) => runSqlLines(`DROP INDEX CONCURRENTLY IF EXISTS ${sqlIdent(n as string)};`, null)))],
        { atomic: false, note: "DROP INDEX CONCURRENTLY cannot run in a transaction" },
      )}`,
    );
  } else {
    // The advice is the lock timeout: nothing to say once one bounds the drop.
    if (lockTimeoutSetBefore(ctx)) return;
    help.push(`1. A unique constraint cannot be dropped concurrently. Put the drop in its own migration and make it give up instead of queueing traffic, with this as the first operation:\n${LOCK_TIMEOUT}`);
  }
  ctx.report({
    range: ctx.op.range,
    message: `\`${ctx.op.kind}\` drops ${names.map((n, i) => (n ? `\`${n}\`` : `(${removed[i]?.join(", ")})`)).join(", ")} from \`${table}\` with an ACCESS EXCLUSIVE lock; queries queue behind it while it waits.`,
    help,
    ...(partitioned?.related ? { related: partitioned.related } : {}),
  });
}

function alterField(ctx: OperationContext): void {
  const found = fieldOperation(ctx);
  if (!found?.before) return;
  const { model, name, before, after } = found;
  const change = fieldIndexChange(before, after);
  if (!change.dropsIndex && !change.dropsUnique) return;
  // db_index -> unique: the plain index goes with the unique constraint's change, whose finding
  // (adding-unique-constraint) drops it in its recipe; two recipes would each leave out the other's SQL.
  if (change.addsUnique && !change.dropsUnique) return;
  // A foreign key's own drop-and-re-add is reported by adding-foreign-key-constraint.
  const table = ctx.tableOf(model);
  const column = ctx.columnOf(before) ?? name;
  const base = djangoIndexName(table, [column]);
  const drops: string[] = [];
  if (change.dropsIndex) drops.push(base);
  if ((change.dropsIndex && !after.unique && likeIndexOpclass(before)) || change.dropsLike) drops.push(djangoIndexName(table, [column], "_like"));
  const dropped = drops.map((n) => `\`${n}\``);
  if (change.dropsUnique) {
    // Django finds the constraint by introspection: PostgreSQL's name when the column was created
    // unique, Django's `_uniq` when an AlterField made it so.
    const unique = uniqueConstraintOf(ctx, model, before);
    dropped.push(unique ? `\`${unique}\`` : `the unique constraint of \`${column}\``);
  }
  const help = [`Dropping the index needs ACCESS EXCLUSIVE on \`${table}\`: it waits for every running query on the table, and every new query waits behind it.`];
  const partitioned = change.dropsUnique ? null : partitionedDrop(ctx, model, table);
  if (partitioned === "quiet") return;
  if (partitioned) {
    help.push(...partitioned.help);
  } else if (!change.dropsUnique) {
    help.push(
      `1. Keep the change in state and drop Django's index${drops.length > 1 ? "es" : ""} concurrently (one \`RunSQL\` per statement):\n${migrationModule(
        [separateDatabaseAndState([operationSource(ctx.op) + ","], drops.map((n) => runSqlLines(`DROP INDEX CONCURRENTLY IF EXISTS ${sqlIdent(n)};`, null)))],
        { atomic: false, note: "DROP INDEX CONCURRENTLY cannot run in a transaction" },
      )}`,
    );
  } else {
    if (lockTimeoutSetBefore(ctx)) return;
    help.push(`1. A unique constraint cannot be dropped concurrently. Put this change in its own migration and make it give up instead of queueing traffic, with this as the first operation:\n${LOCK_TIMEOUT}`);
  }
  ctx.report({
    range: ctx.op.range,
    message: `Altering \`${model.name}.${name}\` drops ${dropped.join(" and ")} from \`${table}\` with an ACCESS EXCLUSIVE lock; queries queue behind it while it waits.`,
    help,
    related: [...(before.origin ? [ctx.relatedAt(before.origin, `\`${model.name}.${name}\` was last defined here`)] : []), ...(partitioned?.related ?? [])],
  });
}
