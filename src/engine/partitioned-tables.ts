/**
 * Which tables are partitioned. Django's model state cannot say so (Django never creates a
 * partitioned table), but PostgreSQL treats a partitioned parent differently: it refuses
 * `CREATE INDEX CONCURRENTLY` on it ("cannot create index on partitioned table ... concurrently").
 * A table is partitioned when the configuration lists it (`partitioned-tables`), or when a
 * `RunSQL` created it with `PARTITION BY` (in an earlier migration of any app, in replay order, or
 * earlier in the same migration). The replay keeps what earlier migrations did in the physical
 * schema (`ProjectState.partitionedTables`), following the renames and drops that `RunSQL` and
 * Django's schema editor make (`schemaEditorChanges`); the statements of the current migration are
 * read here, up to the operation a rule is looking at.
 */
import type { Operation, RelatedLocation, SourceRange } from "../model/types.js";
import type { ParsedMigration } from "../parse/parse-migration.js";
import { isPublic, type SqlPartitioningFact, type SqlPartitionKey, type SqlStatementFact } from "../sql/analyze-sql.js";
import { columnOf, createModelTable, literalString, type ModelState, type Origin } from "../state/model-state.js";
import type { PartitionedTable, ProjectState } from "../state/project-state.js";
import type { OperationContext } from "./rule-types.js";
import type { RunSqlFacts } from "./sql-facts-for-operation.js";
import { tableListed } from "./table-lists.js";
import { oncePer } from "../util/collections.js";
import { sourceMentionsPartition } from "../parse/source-text.js";

const NOT_PARTITIONED: SqlPartitioningFact = { partitionBy: false, partitionOf: null, key: null, inlineKeys: [] };

/**
 * What a statement does to partitioned tables: a `RunSQL` statement's fact, or a rename or drop
 * Django's schema editor makes, written the same way (see `schemaEditorChanges`).
 */
export type PartitionFact = Pick<SqlStatementFact, "kind" | "schema" | "table" | "objectName" | "column" | "newName" | "partitioning">;

/** What a `CREATE TABLE` says about partitioning (read when its SQL was parsed). */
export function createTablePartitioning(fact: PartitionFact): SqlPartitioningFact {
  return (fact.kind === "create-table" && fact.partitioning) || NOT_PARTITIONED;
}

function bareName(dotted: string | null): { schema: string | null; name: string } | null {
  if (dotted === null) return null;
  const dot = dotted.lastIndexOf(".");
  return dot < 0 ? { schema: null, name: dotted } : { schema: dotted.slice(0, dot), name: dotted.slice(dot + 1) };
}

// Renames and drops, from `RunSQL` or from Django's schema editor. Entries of the map are replaced,
// never changed in place: a rule's working copy shares them with the replay's map.

/** PostgreSQL renames a partition key's column with the column. */
function renameColumn(tables: Map<string, PartitionedTable>, table: string, from: string, to: string): void {
  const entry = tables.get(table);
  const key = entry?.key;
  if (entry && key && key.columns.includes(from)) tables.set(table, { ...entry, key: { ...key, columns: key.columns.map((c) => (c === from ? to : c)) } });
}

/** A renamed table keeps its partitions and its place among its parent's partitions. */
function renameTable(tables: Map<string, PartitionedTable>, from: string, to: string): void {
  const entry = tables.get(from);
  if (entry) {
    tables.delete(from);
    tables.set(to, entry);
  }
  for (const [parent, e] of tables) if (e.partitions.includes(from)) tables.set(parent, { ...e, partitions: e.partitions.map((p) => (p === from ? to : p)) });
}

/** A dropped table is neither partitioned nor anyone's partition any more. */
function dropTable(tables: Map<string, PartitionedTable>, table: string): void {
  tables.delete(table);
  for (const [parent, entry] of tables) if (entry.partitions.includes(table)) tables.set(parent, { ...entry, partitions: entry.partitions.filter((p) => p !== table) });
}

/** A rename or drop of the schema editor, as a statement fact. */
function change(kind: "rename-column" | "rename-table" | "drop-table", table: string, column: string | null = null, newName: string | null = null): PartitionFact {
  return { kind, schema: null, table, objectName: null, column, newName, partitioning: null };
}

/**
 * What Django's schema editor does to a table that may be partitioned (a `RunSQL` can make it so):
 * `RenameField`, and `AlterField` that changes `db_column`, rename a column (PostgreSQL renames
 * the partition key's column with it); `RenameModel` and `AlterModelTable` rename the table;
 * `DeleteModel` drops it. The names come from the model state around the operation: call this
 * before the state applies the operation, and the function it returns with the state after,
 * which gives the changes as statement facts (none for other operations).
 */
export function schemaEditorChanges(op: Operation, before: ProjectState, app: string): ((after: ProjectState) => PartitionFact[]) | null {
  const a = op.args;
  const modelName = literalString(op.kind === "RenameModel" ? a.old_name : op.kind === "DeleteModel" || op.kind === "AlterModelTable" ? a.name : a.model_name);
  const model = modelName === null ? undefined : before.model(app, modelName);
  if (!model || !before.hasTable(model)) return null;
  const table = before.tableOf(model);
  switch (op.kind) {
    case "DeleteModel":
      return () => [change("drop-table", table)];
    case "RenameModel":
    case "AlterModelTable": {
      const newName = literalString(op.kind === "RenameModel" ? a.new_name : a.name);
      return (after) => {
        const renamed = newName === null ? undefined : after.model(app, newName);
        return renamed && after.hasTable(renamed) && after.tableOf(renamed) !== table ? [change("rename-table", table, null, after.tableOf(renamed))] : [];
      };
    }
    case "RenameField":
    case "AlterField": {
      const oldName = literalString(op.kind === "RenameField" ? a.old_name : a.name);
      const newName = literalString(op.kind === "RenameField" ? a.new_name : a.name);
      const field = oldName === null ? undefined : model.fields.get(oldName);
      const from = field ? columnOf(field) : null;
      if (from === null || newName === null) return null;
      return (after) => {
        const changed = after.model(app, modelName as string)?.fields.get(newName);
        const to = changed ? columnOf(changed) : null;
        return to !== null && to !== from ? [change("rename-column", table, from, to)] : [];
      };
    }
    default:
      return null;
  }
}

/** Applies one statement to a map of partitioned tables (the replay's and a rule's working copy). */
export function applyPartitionStatement(tables: Map<string, PartitionedTable>, fact: PartitionFact, origin: Origin | null): void {
  const addPartition = (parent: string, child: string) => {
    // PostgreSQL accepts PARTITION OF / ATTACH PARTITION only on a partitioned parent.
    // Entries are replaced, never changed in place: a rule's working copy shares them with the replay's map.
    const entry = tables.get(parent) ?? { partitions: [], origin, key: null };
    if (!entry.partitions.includes(child)) tables.set(parent, { ...entry, partitions: [...entry.partitions, child] });
    else tables.set(parent, entry);
  };
  if (!isPublic(fact.schema) || fact.table === null) return;
  switch (fact.kind) {
    case "create-table": {
      const { partitionBy, partitionOf, key } = createTablePartitioning(fact);
      if (partitionBy && !tables.has(fact.table)) tables.set(fact.table, { partitions: [], origin, key });
      if (partitionOf !== null) addPartition(partitionOf, fact.table);
      break;
    }
    case "attach-partition": {
      // `ALTER INDEX ... ATTACH PARTITION` has no table (its parent is an index).
      const child = bareName(fact.objectName);
      if (child && isPublic(child.schema)) addPartition(fact.table, child.name);
      break;
    }
    case "detach-partition": {
      const child = bareName(fact.objectName);
      const entry = tables.get(fact.table);
      if (child && entry) tables.set(fact.table, { ...entry, partitions: entry.partitions.filter((p) => p !== child.name) });
      break;
    }
    case "drop-table":
      dropTable(tables, fact.table);
      break;
    case "rename-column":
      if (fact.column !== null && fact.newName !== null) renameColumn(tables, fact.table, fact.column, fact.newName);
      break;
    case "rename-table":
      if (fact.newName !== null) renameTable(tables, fact.table, fact.newName);
      break;
    default:
      break;
  }
}

/** The renames and drops the schema editor made for the operations replayed so far in a migration. */
export type SchemaEditorChanges = ReadonlyMap<Operation, readonly PartitionFact[]>;

/**
 * The forward statements that reach the database, in the order Django runs them: top-level
 * `RunSQL` (also with `state_operations`), `RunSQL` inside `SeparateDatabaseAndState.database_operations`,
 * and the renames and drops of Django operations (`changes`).
 * Stops before `stop` (a statement) or after the operation `stopAfter`.
 */
function* databaseStatements(
  operations: Operation[],
  sql: (op: Operation) => RunSqlFacts | null,
  changes: SchemaEditorChanges,
  stop: { fact?: SqlStatementFact; after?: Operation } = {},
): Generator<{ fact: PartitionFact; range: SourceRange }, boolean> {
  for (const op of operations) {
    if (op.kind === "SeparateDatabaseAndState" && !op.unknown) {
      if (yield* databaseStatements(op.databaseOperations ?? [], sql, changes, stop)) return true;
    }
    for (const fact of changes.get(op) ?? []) yield { fact, range: op.range };
    const facts = op.kind === "RunSQL" ? sql(op) : null;
    if (facts?.forward.kind === "sql") {
      for (const chunk of facts.forward.chunks) {
        if (chunk.status !== "ok") continue;
        for (const statement of chunk.statements) {
          if (statement.fact === stop.fact) return true;
          yield statement;
        }
      }
    }
    if (op === stop.after) return true;
  }
  return false;
}

/**
 * Whether a migration can change which tables are partitioned: without the word PARTITION no
 * statement makes a partitioned table or a partition, and drops or renames only matter once one
 * exists. Most migrations skip parsing SQL they were not reported for, and reading the schema
 * editor's renames.
 */
export function touchesPartitions(db: ProjectState, migration: ParsedMigration): boolean {
  return db.partitionedTables.size > 0 || mentionsPartition(migration);
}

/** Rules ask for each operation: each source is searched once (per operation, a migration of thousands was quadratic). */
const mentionsPartition = oncePer((migration: ParsedMigration) => migration.mentionsPartition ?? sourceMentionsPartition(migration.source));

/**
 * Records, after the replay applied a migration, the partitioned tables its `RunSQL` made and
 * what its `RunSQL` and Django operations (`changes`) renamed and dropped, in the order they ran.
 */
export function recordPartitionedTables(db: ProjectState, migration: ParsedMigration, sql: (op: Operation) => RunSqlFacts | null, changes: SchemaEditorChanges): void {
  if (!touchesPartitions(db, migration)) return;
  // Models a package creates partitioned (django-postgres-extra's PostgresCreatePartitionedModel).
  const created = (ops: readonly Operation[]): void => {
    for (const op of ops) {
      if (op.kind === "SeparateDatabaseAndState") created(op.databaseOperations ?? []);
      const table = op.kind === "CreateModel" && op.thirdParty?.partitioned ? createModelTable(op, migration.app, true) : null;
      if (table !== null && !db.partitionedTables.has(table)) db.partitionedTables.set(table, { partitions: [], origin: { migration: migration.id, file: migration.path, range: op.range }, key: null, by: `\`${op.callee.split(".").pop() ?? op.kind}\`` });
    }
  };
  created(migration.operations);
  for (const statement of databaseStatements(migration.operations, sql, changes)) {
    applyPartitionStatement(db.partitionedTables, statement.fact, { migration: migration.id, file: migration.path, range: statement.range });
  }
}

/** Why rollsafe treats a table as partitioned. */
export type PartitionedSource =
  /** `RunSQL` created it with `PARTITION BY` (or named it as the parent of a partition). */
  | { kind: "sql"; origin: Origin | null; by?: string }
  /** The configuration lists it in `partitioned-tables`. */
  | { kind: "config"; entry: string };

/** A partitioned table as a rule sees it before an operation. */
export interface PartitionedTableInfo {
  table: string;
  source: PartitionedSource;
  /** Its partitions known from `RunSQL` (empty when they come from outside the migrations). */
  partitions: string[];
  /**
   * The partition keys a unique constraint on it must satisfy: its own and those of its
   * partitions that are partitioned in turn (PostgreSQL checks each level); empty when a key is
   * not known (a table from the configuration, or known only as a parent).
   */
  keys: PartitionKeyOf[];
}

/** The partition key of one partitioned table. */
export interface PartitionKeyOf {
  table: string;
  key: SqlPartitionKey;
}

/** A partition key that a unique key does not satisfy: the key columns it lacks (none when the key has an expression). */
export interface UnmetPartitionKey {
  level: PartitionKeyOf;
  missing: string[];
}

/**
 * The first partition key of `info` (the table's own, then its partitioned partitions') that a
 * unique key covering the columns `covers` accepts does not satisfy, or null when all are. A key
 * with an expression is never satisfied: PostgreSQL then accepts no unique key at all. Shared by
 * the unique-constraint rule and the foreign-key rule (a foreign key needs such a unique key).
 */
export function unmetPartitionKey(info: PartitionedTableInfo, covers: (column: string) => boolean): UnmetPartitionKey | null {
  for (const level of info.keys) {
    if (level.key.expressions) return { level, missing: [] };
    const missing = level.key.columns.filter((c) => !covers(c));
    if (missing.length > 0) return { level, missing };
  }
  return null;
}

/** The keys of `table` and of its partitioned partitions, or [] when any of them is unknown. */
function partitionKeys(tables: ReadonlyMap<string, PartitionedTable>, table: string): PartitionKeyOf[] {
  const keys: PartitionKeyOf[] = [];
  const seen = new Set<string>();
  const visit = (name: string): boolean => {
    const entry = tables.get(name);
    if (!entry) return true;
    if (seen.has(name)) return true;
    seen.add(name);
    if (!entry.key) return false;
    keys.push({ table: name, key: entry.key });
    return entry.partitions.every(visit);
  };
  return visit(table) ? keys : [];
}

/**
 * Whether `table` (of `model`, when known) is partitioned in the database just before the
 * operation of `ctx` (or before its statement `before`, for a `RunSQL`). A table created in this
 * migration by `CreateModel` is a plain table whatever the configuration says.
 */
export function partitionedTable(ctx: OperationContext, model: ModelState | null, table: string, before?: SqlStatementFact): PartitionedTableInfo | null {
  // No partitioned table known, none this migration can make, and none in the configuration:
  // nothing to read.
  const listed = tableListed(ctx.target.tables.partitioned, model, table);
  if (!touchesPartitions(ctx.db, ctx.migration) && listed === null) return null;
  const operations = ctx.migration.operations;
  const { tables, created, from, to } = tablesBeforeOperation(ctx);
  let createdBySql = created.has(table);
  const stop = before ? { fact: before } : { after: ctx.op };
  const made = (name: string) => {
    if (name === table) createdBySql = true;
  };
  // From the cursor through the operation; when the stop is not in there (a statement of another
  // operation, or an operation outside the database's list), on to the end as a whole walk would.
  if (!applyStatements(ctx, operations.slice(from, to), tables, made, stop) && to < operations.length) applyStatements(ctx, operations.slice(to), tables, made, stop);
  const known = tables.get(table);
  if (known) return { table, source: { kind: "sql", origin: known.origin, ...(known.by ? { by: known.by } : {}) }, partitions: known.partitions, keys: partitionKeys(tables, table) };
  const createdByModel = model !== null && model.createdIn === ctx.migration.id;
  if (createdByModel || createdBySql) return null;
  return listed === null ? null : { table, source: { kind: "config", entry: listed }, partitions: [], keys: [] };
}

/**
 * Whether `partitionedTable` can find any table partitioned for this operation: a `RunSQL` made
 * one earlier (in any app), this migration mentions partitioning, or the configuration lists
 * partitioned tables. Rules ask it first where working out the operation's table and fields
 * costs more than the answer (a field's state for each field of every `CreateModel`).
 */
export function mayBePartitioned(ctx: OperationContext): boolean {
  return ctx.target.tables.partitioned.length > 0 || touchesPartitions(ctx.db, ctx.migration);
}

/**
 * How far a migration's statements have been applied for its rules: the partitioned tables after
 * its top-level operations before `next` (all replayed, so their schema editor changes are known),
 * and the public tables those statements created. Rules ask about each operation in turn, and
 * each reads on from here: reading from the first operation for every index or key made a
 * migration of thousands of them quadratic.
 */
interface StatementCursor {
  db: ProjectState;
  changes: SchemaEditorChanges;
  next: number;
  tables: Map<string, PartitionedTable>;
  created: Set<string>;
}

const cursors = new WeakMap<ParsedMigration, StatementCursor>();

/** For each operation `databaseStatements` walks, the index of the top-level operation that holds it. */
const topLevelIndex = oncePer((migration: ParsedMigration): ReadonlyMap<Operation, number> => {
  const index = new Map<Operation, number>();
  const add = (op: Operation, i: number): void => {
    index.set(op, i);
    if (op.kind === "SeparateDatabaseAndState" && !op.unknown) for (const inner of op.databaseOperations ?? []) add(inner, i);
  };
  migration.operations.forEach((op, i) => add(op, i));
  return index;
});

/**
 * A working copy of the partitioned tables before the top-level operations `from` onwards, the
 * public tables created before them, and where the operation of `ctx` ends (`to`). Without a
 * usable cursor (an operation outside the database's list, or one the cursor is past), from the
 * migration's start.
 */
function tablesBeforeOperation(ctx: OperationContext): { tables: Map<string, PartitionedTable>; created: ReadonlySet<string>; from: number; to: number } {
  const { migration } = ctx;
  const at = topLevelIndex(migration).get(ctx.op);
  let cursor = cursors.get(migration);
  if (cursor && (cursor.db !== ctx.db || cursor.changes !== ctx.schemaChanges)) cursor = undefined;
  if (at === undefined || (cursor && cursor.next > at)) return { tables: new Map(ctx.db.partitionedTables), created: new Set(), from: 0, to: migration.operations.length };
  if (!cursor) {
    cursor = { db: ctx.db, changes: ctx.schemaChanges, next: 0, tables: new Map(ctx.db.partitionedTables), created: new Set() };
    cursors.set(migration, cursor);
  }
  if (cursor.next < at) {
    const created = cursor.created;
    applyStatements(ctx, migration.operations.slice(cursor.next, at), cursor.tables, (name) => created.add(name));
    cursor.next = at;
  }
  return { tables: new Map(cursor.tables), created: cursor.created, from: at, to: at + 1 };
}

/**
 * Applies the database statements of `operations` (of the migration of `ctx`) to `tables`, up to
 * `stop`, and names each public table they create; whether the stop was reached.
 */
function applyStatements(
  ctx: Pick<OperationContext, "migration" | "sql" | "schemaChanges">,
  operations: Operation[],
  tables: Map<string, PartitionedTable>,
  created: (table: string) => void,
  stop?: { fact?: SqlStatementFact; after?: Operation },
): boolean {
  const { migration } = ctx;
  const statements = databaseStatements(operations, ctx.sql, ctx.schemaChanges, stop);
  for (let next = statements.next(); ; next = statements.next()) {
    if (next.done) return next.value;
    const { fact, range } = next.value;
    if (fact.kind === "create-table" && fact.table !== null && isPublic(fact.schema)) created(fact.table);
    applyPartitionStatement(tables, fact, { migration: migration.id, file: migration.path, range });
  }
}

/**
 * The table of the operation's `model_name` when it exists and is partitioned just before the
 * operation, with how rollsafe knows; null otherwise.
 */
export function partitionedOperationTable(ctx: OperationContext): { model: ModelState; table: string; info: PartitionedTableInfo } | null {
  const model = ctx.model(literalString(ctx.op.args.model_name));
  if (!model || !ctx.hasTable(model)) return null;
  const table = ctx.tableOf(model);
  const info = partitionedTable(ctx, model, table);
  return info ? { model, table, info } : null;
}

/** What a failed statement leaves behind in the migration, as a clause for help texts ("" when atomic). */
export function failureLeftovers(ctx: OperationContext): string {
  return ctx.migration.atomic ? "" : " (with `atomic = False`, any operation before it stays applied and the migration is not recorded)";
}

/** How rollsafe knows the table is partitioned, as a clause for help texts. */
export function partitionedBecause(info: PartitionedTableInfo): string {
  return info.source.kind === "config"
    ? `the configuration lists it in \`partitioned-tables\` as \`${info.source.entry}\``
    : `${info.source.by ? `a ${info.source.by}` : "a `RunSQL`"}${info.source.origin ? ` in \`${info.source.origin.migration}\`` : ""} created it partitioned`;
}

/** The related location of the statement that made the table partitioned, when a migration did. */
export function partitionedOrigin(ctx: OperationContext, info: PartitionedTableInfo): RelatedLocation[] | undefined {
  if (info.source.kind !== "sql" || !info.source.origin) return undefined;
  return [ctx.relatedAt(info.source.origin, `\`${info.table}\` is created as a partitioned table here`)];
}

/**
 * What follows `ON [ONLY] <table>` in a `CREATE [UNIQUE] INDEX [CONCURRENTLY] [IF NOT EXISTS] [name]`
 * statement, as written (`USING gin (...) WHERE ...`), to rebuild it on each partition; null when
 * it cannot be found.
 */
export function createIndexDefinition(text: string): string | null {
  const ident = String.raw`(?:"(?:[^"]|"")+"|[\p{L}_][\p{L}\p{N}_$]*)`;
  const head = new RegExp(
    String.raw`^\s*create\s+(?:unique\s+)?index\s+(?:concurrently\s+)?(?:if\s+not\s+exists\s+)?(?:${ident}\s+)?on\s+(?:only\s+)?(?:${ident}\s*\.\s*)?${ident}\s*`,
    "iu",
  );
  const match = head.exec(text);
  const rest = match ? text.slice(match[0].length).trim().replace(/;$/, "").trim() : "";
  return rest === "" ? null : rest;
}
