/**
 * The SQL of a `RunSQL`, read once per operation with PostgreSQL's parser and placed back into
 * the migration file: each statement carries the source range of its text inside the Python
 * string literal, so findings point at the statement's own line.
 *
 * Django runs `RunSQL.sql` this way (`django/db/migrations/operations/special.py`, `_run_sql`):
 * - a list or tuple: each item is executed on its own; an item that is a 2-tuple is
 *   `(sql, params)` and is executed with those params (so `%s` are placeholders);
 * - a string: split into statements (`connection.ops.prepare_sql_script`, sqlparse) and each is
 *   executed without params (so `%` is literal);
 * - `RunSQL.noop` (the empty string) does nothing; `reverse_sql=None` makes it irreversible.
 */
import type { Operation, PyValue, SourceRange } from "../model/types.js";
import type { ParsedMigration } from "../parse/parse-migration.js";
import { LineIndex } from "../parse/source-text.js";
import { analyzeSql, isPublic, isSqlParserLoaded, loadSqlParser, type SqlStatementFact } from "../sql/analyze-sql.js";
import type { ModelState, FieldState } from "../state/model-state.js";
import { columnOf } from "../state/model-state.js";
import { oncePer } from "../util/collections.js";
import type { ProjectState } from "../state/project-state.js";
import { postgresSpellingOfMysqlQuoting } from "../sql/mysql-quoting.js";
import { postgresSpellingOfSqliteSyntax } from "../sql/sqlite-syntax.js";

/** One statement of a `RunSQL`, with where it is in the migration file. */
export interface RunSqlStatement {
  fact: SqlStatementFact;
  /** The statement's text inside the Python string (the whole string when offsets cannot be mapped). */
  range: SourceRange;
}

/** One SQL string of a `RunSQL` (a list item, a `(sql, params)` tuple, or the whole argument). */
export type RunSqlChunk =
  | {
      status: "ok";
      range: SourceRange;
      hasParams: boolean;
      /**
       * Django splits the string into statements and executes each on its own (a plain string
       * argument); false for list items and `(sql, params)` tuples, which are executed whole, so
       * several statements in one of them run as one multi-statement query (an implicit transaction).
       */
      split: boolean;
      statements: RunSqlStatement[];
      /**
       * PostgreSQL's error for SQL that parses only with MySQL's quoting respelled (backticks,
       * double-quoted strings, `\'`: valid on MySQL and SQLite), or SQLite's `PRAGMA` and
       * `AUTOINCREMENT` (`dialect: "sqlite"`), all rejected by PostgreSQL.
       */
      postgresError?: { error: string; errorRange: SourceRange; dialect: "mysql" | "sqlite" };
    }
  | { status: "unparsable"; range: SourceRange; hasParams: boolean; error: string; errorRange: SourceRange }
  /** Not a string literal (a variable, an f-string, a call): what it does cannot be read. */
  | { status: "non-literal"; range: SourceRange; text: string }
  /** The PostgreSQL parser could not be loaded. */
  | { status: "no-parser"; range: SourceRange; error: string };

/** What one side (`sql` or `reverse_sql`) of a `RunSQL` holds. */
export type RunSqlSide =
  /** Not given, or `None`: for `reverse_sql`, the operation is irreversible. */
  | { kind: "missing" }
  /** `migrations.RunSQL.noop` or an empty string/list. */
  | { kind: "noop"; range: SourceRange }
  /**
   * `migrations.RunPython.noop`, a Python function where SQL belongs (Misago threads 0019): Django
   * sends its text (`<function RunPython.noop ...>`) to the database, which rejects it.
   */
  | { kind: "python-noop"; range: SourceRange }
  | { kind: "sql"; chunks: RunSqlChunk[] };

/** Both sides of a `RunSQL`. */
export interface RunSqlFacts {
  forward: RunSqlSide;
  reverse: RunSqlSide;
}

let parserError: string | null = null;

/**
 * Every `RunSQL` of a list of operations, top level or inside `SeparateDatabaseAndState` (and
 * the SQL a `RunPython` executes), in order. A plain walk: asked of every migration of a run, a
 * generator made three more of itself per operation.
 */
export function runSqlOperations(ops: readonly Operation[] | undefined, found: Operation[] = []): Operation[] {
  if (!ops) return found;
  for (const op of ops) {
    if (op.kind === "RunSQL") found.push(op);
    if (op.databaseOperations) runSqlOperations(op.databaseOperations, found);
    if (op.stateOperations) runSqlOperations(op.stateOperations, found);
    if (op.executes) runSqlOperations(op.executes, found);
  }
  return found;
}

/**
 * An operation and what it runs in the database, in order: the `database_operations` of a
 * `SeparateDatabaseAndState` (not its state side), and the SQL a `RunPython` executes itself.
 */
export function* databaseSideOperations(op: Operation): Generator<Operation> {
  if (op.kind === "SeparateDatabaseAndState") {
    for (const inner of op.databaseOperations ?? []) yield* databaseSideOperations(inner);
    return;
  }
  yield op;
  for (const executed of op.executes ?? []) yield executed;
}

/**
 * What the SQL of the migration (any `RunSQL` that reaches the database) drops: `table` and
 * `table.column` (lower case), read once per migration (every state-only removal asks).
 */
const sqlDrops = oncePer((migration: ParsedMigration): Set<string> => {
  const drops = new Set<string>();
  for (const top of migration.operations) {
    for (const op of databaseSideOperations(top)) {
      if (op.kind !== "RunSQL") continue;
      for (const fact of readableForwardStatements(runSqlFacts(op, migration)) ?? []) {
        if (fact.table === null) continue;
        if (fact.kind === "drop-table") drops.add(fact.table.toLowerCase());
        else if (fact.kind === "drop-column" && fact.column !== null) drops.add(`${fact.table.toLowerCase()}.${fact.column.toLowerCase()}`);
      }
    }
  }
  return drops;
});

/** Whether the SQL of the migration drops `table`.`column` or the whole table. */
export function migrationDropsColumn(migration: ParsedMigration, table: string, column: string): boolean {
  const drops = sqlDrops(migration);
  return drops.size > 0 && (drops.has(table.toLowerCase()) || drops.has(`${table.toLowerCase()}.${column.toLowerCase()}`));
}

/** Whether a migration holds a `RunSQL` anywhere (top level or inside `SeparateDatabaseAndState`). */
export function hasRunSql(migration: ParsedMigration): boolean {
  return runSqlOperations(migration.operations).length > 0;
}

/**
 * Loads the PostgreSQL parser when some migration has a `RunSQL` (and only then: it costs a
 * WebAssembly instantiation). A failed load is remembered and every `RunSQL` chunk becomes
 * `no-parser`, which `runsql-unparsable` reports; it never aborts the run.
 */
export async function prepareSqlParser(migrations: ParsedMigration[]): Promise<void> {
  if (isSqlParserLoaded() || !migrations.some(hasRunSql)) return;
  try {
    await loadSqlParser();
    parserError = null;
  } catch (error) {
    parserError = (error as Error).message;
  }
}

/**
 * Reads the SQL of every `RunSQL` of a freshly parsed migration and keeps it on the operation
 * (`sqlFacts`). The facts then travel with the model: from a parse worker to the main thread,
 * and into the parse cache, so the SQL of an unchanged file is parsed once, on whichever thread
 * parsed the file, and not again on every run.
 *
 * Synchronous: when the PostgreSQL parser is not loaded yet, it starts loading it (so that files
 * parsed later get their facts) and returns false; `attachSqlFacts` waits for it instead. Never
 * throws: facts it cannot work out are left for the replay to read, which then reports what went
 * wrong (or `no-parser` when the parser cannot load) as before.
 */
export function attachLoadedSqlFacts(migration: ParsedMigration): boolean {
  if (!hasRunSql(migration)) return true;
  if (!isSqlParserLoaded()) {
    if (parserError === null) void prepareSqlParser([migration]);
    return false;
  }
  let index: LineIndex | null = null;
  for (const op of runSqlOperations(migration.operations)) {
    if (op.unknown || op.sqlFacts) continue;
    index ??= new LineIndex(migration.source);
    try {
      op.sqlFacts = readFacts(op, migration.source, index);
    } catch {
      // Left to the replay.
    }
  }
  return true;
}

/** Whether a `RunSQL` of the migration has no facts attached yet. */
export function missingSqlFacts(migration: ParsedMigration): boolean {
  for (const op of runSqlOperations(migration.operations)) if (!op.unknown && !op.sqlFacts) return true;
  return false;
}

/** `attachLoadedSqlFacts`, after waiting for the PostgreSQL parser to load (if it can). */
export async function attachSqlFacts(migration: ParsedMigration): Promise<void> {
  if (attachLoadedSqlFacts(migration)) return;
  await prepareSqlParser([migration]);
  if (isSqlParserLoaded()) attachLoadedSqlFacts(migration);
}

const factsCache = new WeakMap<Operation, RunSqlFacts>();
const lineIndexOf = oncePer((migration: ParsedMigration) => new LineIndex(migration.source));

/**
 * The parsed SQL of a `RunSQL` operation: the facts read when the file was parsed, else read
 * now (once per operation); null for other operations.
 */
export function runSqlFacts(op: Operation, migration: ParsedMigration): RunSqlFacts | null {
  if (op.kind !== "RunSQL" || op.unknown) return null;
  if (op.sqlFacts) return op.sqlFacts;
  const cached = factsCache.get(op);
  if (cached) return cached;
  const facts = readFacts(op, migration.source, lineIndexOf(migration));
  factsCache.set(op, facts);
  return facts;
}

function readFacts(op: Operation, source: string, index: LineIndex): RunSqlFacts {
  return {
    forward: readSide(op.args.sql, source, index),
    reverse: readSide(op.args.reverse_sql, source, index),
  };
}

function isNoopName(value: PyValue): boolean {
  return value.kind === "name" && /(^|\.)RunSQL\.noop$/.test(value.name);
}

function readSide(value: PyValue | undefined, source: string, index: LineIndex): RunSqlSide {
  if (!value || value.kind === "none") return { kind: "missing" };
  if (isNoopName(value)) return { kind: "noop", range: value.range };
  if (value.kind === "name" && /(^|\.)RunPython\.noop$/.test(value.name)) return { kind: "python-noop", range: value.range };
  if (value.kind === "str" && value.value.trim() === "") return { kind: "noop", range: value.range };
  if (value.kind === "list" || value.kind === "tuple") {
    if (value.items.length === 0) return { kind: "noop", range: value.range };
    const chunks: RunSqlChunk[] = [];
    for (const item of value.items) {
      if ((item.kind === "tuple" || item.kind === "list") && item.items.length === 2) {
        const [sql, params] = item.items as [PyValue, PyValue];
        chunks.push(readChunk(sql, params.kind !== "none", false, source, index));
      } else {
        chunks.push(readChunk(item, false, false, source, index));
      }
    }
    return { kind: "sql", chunks };
  }
  return { kind: "sql", chunks: [readChunk(value, false, true, source, index)] };
}

function readChunk(value: PyValue, hasParams: boolean, split: boolean, source: string, index: LineIndex): RunSqlChunk {
  if (value.kind !== "str") {
    const text = source.slice(value.range.startOffset, value.range.endOffset);
    return { status: "non-literal", range: value.range, text: text.length > 80 ? `${text.slice(0, 77)}...` : text };
  }
  if (parserError !== null || !isSqlParserLoaded()) {
    return { status: "no-parser", range: value.range, error: parserError ?? "the PostgreSQL parser is not loaded" };
  }
  const map = literalOffsets(source, value.range, value.value);
  const rangeOf = (start: number, end: number): SourceRange => {
    if (map === null) return value.range;
    const from = map[Math.min(start, map.length - 1)] ?? value.range.startOffset;
    const lastChar = Math.max(start, end - 1);
    const to = (map[Math.min(lastChar, map.length - 1)] ?? from) + 1;
    return toRange(index, from, Math.max(to, from + 1));
  };
  const analysis = analyzeSql(value.value, { hasParams });
  if (!analysis.ok) {
    const at = analysis.offset ?? 0;
    const errorRange = rangeOf(at, at + 1);
    // SQL written for MySQL or SQLite: read it with its quoting, `PRAGMA`s and `AUTOINCREMENT`s
    // respelled (the same length, so the same offsets).
    const quoted = postgresSpellingOfMysqlQuoting(value.value);
    const sqlite = postgresSpellingOfSqliteSyntax(quoted ?? value.value);
    const respelled = sqlite ?? quoted;
    const read = respelled === null ? null : analyzeSql(respelled, { hasParams });
    if (read?.ok) {
      const statements = read.statements.map((fact) => {
        fact.text = value.value.slice(fact.offset, fact.offset + fact.length);
        return { fact, range: rangeOf(fact.offset, fact.offset + Math.max(1, fact.length)) };
      });
      return { status: "ok", range: value.range, hasParams, split, statements, postgresError: { error: analysis.error, errorRange, dialect: sqlite === null ? "mysql" : "sqlite" } };
    }
    return { status: "unparsable", range: value.range, hasParams, error: analysis.error, errorRange };
  }
  const statements = analysis.statements.map((fact) => ({ fact, range: rangeOf(fact.offset, fact.offset + Math.max(1, fact.length)) }));
  return { status: "ok", range: value.range, hasParams, split, statements };
}

function toRange(index: LineIndex, start: number, end: number): SourceRange {
  const a = index.position(start);
  const b = index.position(end);
  return { line: a.line, column: a.column, endLine: b.line, endColumn: b.column, startOffset: start, endOffset: end };
}

const ESCAPES: Record<string, string> = { "\\": "\\", "'": "'", '"': '"', a: "\x07", b: "\b", f: "\f", n: "\n", r: "\r", t: "\t", v: "\v" };

/**
 * Maps each UTF-16 unit of a string literal's value to the source offset it came from, through
 * prefixes, quotes, escapes, implicit concatenation and parentheses. Returns null when the
 * literal cannot be re-read to exactly `expected` (then callers point at the whole literal).
 */
export function literalOffsets(source: string, range: SourceRange, expected: string): number[] | null {
  const map: number[] = [];
  let value = "";
  let i = range.startOffset;
  const end = range.endOffset;
  const push = (text: string, at: number) => {
    for (let k = 0; k < text.length; k++) map.push(at);
    value += text;
  };
  while (i < end) {
    const ch = source[i] ?? "";
    if (/\s/.test(ch) || ch === "(" || ch === ")") {
      i++;
      continue;
    }
    if (ch === "\\" && (source[i + 1] === "\n" || source[i + 1] === "\r")) {
      i += 2;
      continue;
    }
    if (ch === "#") {
      while (i < end && source[i] !== "\n") i++;
      continue;
    }
    const head = /^([rRbBuU]{0,2})('''|"""|'|")/.exec(source.slice(i, i + 5));
    if (!head) return null;
    const raw = (head[1] ?? "").toLowerCase().includes("r");
    const quote = head[2] ?? "'";
    i += head[0].length;
    for (;;) {
      if (i >= end) return null;
      if (source.startsWith(quote, i)) {
        i += quote.length;
        break;
      }
      const c = source[i] ?? "";
      if (c !== "\\") {
        push(c, i);
        i++;
        continue;
      }
      const next = source[i + 1] ?? "";
      if (raw) {
        push(c + next, i);
        i += 2;
        continue;
      }
      if (next === "\n") {
        i += 2;
        continue;
      }
      if (next === "\r") {
        i += source[i + 2] === "\n" ? 3 : 2;
        continue;
      }
      const simple = ESCAPES[next];
      if (simple !== undefined) {
        push(simple, i);
        i += 2;
        continue;
      }
      const hexLength = next === "x" ? 2 : next === "u" ? 4 : next === "U" ? 8 : 0;
      const hex = source.slice(i + 2, i + 2 + hexLength);
      if (hexLength > 0 && hex.length === hexLength && /^[0-9a-fA-F]+$/.test(hex)) {
        push(String.fromCodePoint(Math.min(parseInt(hex, 16), 0x10ffff)), i);
        i += 2 + hexLength;
        continue;
      }
      const octal = /^[0-7]{1,3}/.exec(source.slice(i + 1, i + 4));
      if (octal) {
        push(String.fromCharCode(parseInt(octal[0], 8)), i);
        i += 1 + octal[0].length;
        continue;
      }
      push(c, i);
      i++;
    }
  }
  return value === expected ? map : null;
}

/** A SQL table resolved against the model state. */
export interface SqlTableRef {
  /** The table as written (schema-qualified when it was). */
  table: string;
  /** The model whose table it is, in Django's state (what the code knows). */
  model: ModelState | null;
  /** The model in the physical schema: differs after state-only removals (staged drops). */
  dbModel: ModelState | null;
  /** Created earlier in the same migration (by `CreateModel` or `CREATE TABLE`): empty and unused. */
  isNew: boolean;
}

/** The managed model whose table is `table` in `state`, if any (`public` or unqualified only). */
export function modelOfTable(state: ProjectState, schema: string | null, table: string): ModelState | null {
  if (schema !== null && schema !== "public") return null;
  return state.modelsWithTable(table)[0] ?? null;
}

/** The model and many-to-many field whose auto-created join table is `table` (public schema), if any. */
export function joinTableOwner(state: ProjectState, schema: string | null, table: string): { model: ModelState; field: FieldState } | null {
  if (schema !== null && schema !== "public") return null;
  for (const model of state.models.values()) {
    if (!state.hasTable(model)) continue;
    for (const field of model.fields.values()) {
      if (field.relation?.kind === "m2m" && state.m2mTableOf(model, field) === table) return { model, field };
    }
  }
  return null;
}

/** The field of a model stored in `column`, if any. */
export function fieldOfColumn(model: ModelState | null, column: string | null): FieldState | null {
  if (!model || column === null) return null;
  for (const field of model.fields.values()) if (columnOf(field) === column) return field;
  return null;
}

/** The facts a SQL rule needs about its operation (a subset of `OperationContext`). */
export interface SqlRuleContext {
  op: Operation;
  migration: ParsedMigration;
  state: ProjectState;
  db: ProjectState;
  sql(op: Operation): RunSqlFacts | null;
}

/**
 * Every forward statement the migration's `RunSQL` operations run (also inside
 * `SeparateDatabaseAndState.database_operations`), in order, with each statement's position and
 * the position where each public table is first created. Rules ask what ran before a statement
 * for every statement; walking the migration each time made a `RunSQL` of thousands of
 * statements quadratic.
 */
interface StatementOrder {
  facts: SqlStatementFact[];
  position: Map<SqlStatementFact, number>;
  firstCreated: Map<string, number>;
  /** How many of `facts` run up to the end of each operation (with what it contains and executes). */
  after: Map<Operation, number>;
  /** Public tables an `ALTER TABLE ... RENAME TO` gives their name. */
  renamedTo: Set<string>;
  /** The migration changes the database in a way rollsafe does not read whole (a `RunPython`, an unknown operation, SQL it cannot parse). */
  unread: boolean;
}

/** The table a `CREATE TABLE` in the public schema makes, or null. */
function publicTableCreated(fact: SqlStatementFact): string | null {
  return fact.kind === "create-table" && isPublic(fact.schema) ? fact.table : null;
}

const statementOrder = oncePer((migration: ParsedMigration, sql: (op: Operation) => RunSqlFacts | null): StatementOrder => {
  const order: StatementOrder = { facts: [], position: new Map(), firstCreated: new Map(), after: new Map(), renamedTo: new Set(), unread: false };
  const add = (ops: Operation[] | undefined) => {
    for (const op of ops ?? []) {
      if (op.kind === "SeparateDatabaseAndState") add(op.databaseOperations);
      const forward = op.kind === "RunSQL" ? sql(op)?.forward : undefined;
      if (op.unknown || op.kind === "RunPython" || (op.kind === "RunSQL" && readableForwardStatements(sql(op)) === null)) order.unread = true;
      for (const { fact } of parsedStatements(forward)) {
        if (!order.position.has(fact)) order.position.set(fact, order.facts.length);
        const created = publicTableCreated(fact);
        if (created !== null && !order.firstCreated.has(created)) order.firstCreated.set(created, order.facts.length);
        if (fact.kind === "rename-table" && fact.newName !== null && isPublic(fact.schema)) order.renamedTo.add(fact.newName);
        order.facts.push(fact);
      }
      // The SQL a RunPython's function executes itself runs right after it starts.
      add(op.executes);
      order.after.set(op, order.facts.length);
    }
  };
  add(migration.operations);
  return order;
});

/**
 * Whether a table that a `CreateModel` of the migration makes in Django's state only (a model the
 * database state does not have) existed before the migration: an `ALTER TABLE ... RENAME TO` of the
 * migration gives an existing table its name (Tandoor cookbook 0191: an auto-created join table
 * becomes a `through` model), or nothing the migration runs could have created it (state-only
 * `CreateModel` over an existing table). False when its SQL creates the table, or when part of
 * what it runs is not read (a `RunPython`, SQL rollsafe cannot parse).
 */
export function tableExistedBefore(migration: ParsedMigration, sql: (op: Operation) => RunSqlFacts | null, table: string): boolean {
  const order = statementOrder(migration, sql);
  if (order.firstCreated.has(table)) return false;
  return order.renamedTo.has(table) || !order.unread;
}

/**
 * The SQL statements this migration runs before `before` (a statement of `ctx.op`): those of
 * earlier `RunSQL` operations (also inside `SeparateDatabaseAndState.database_operations`, and
 * those a `RunPython`'s function executes) and the earlier statements of this one.
 */
export function statementsBefore(ctx: SqlRuleContext, before: SqlStatementFact): SqlStatementFact[] {
  const order = statementOrder(ctx.migration, (op) => ctx.sql(op));
  const at = order.position.get(before);
  if (at !== undefined) return order.facts.slice(0, at);
  // Not a forward statement of the migration: everything up to the end of this operation.
  const out: SqlStatementFact[] = [];
  let done = false;
  const walk = (ops: Operation[] | undefined) => {
    for (const op of ops ?? []) {
      if (done) return;
      if (op.kind === "SeparateDatabaseAndState") walk(op.databaseOperations);
      const facts = op.kind === "RunSQL" ? ctx.sql(op) : null;
      if (facts?.forward.kind === "sql") {
        for (const chunk of facts.forward.chunks) {
          if (chunk.status !== "ok") continue;
          for (const s of chunk.statements) out.push(s.fact);
        }
      }
      if (op === ctx.op) done = true;
      walk(op.executes);
    }
  };
  walk(ctx.migration.operations);
  return out;
}

/**
 * Tables created before statement `before` of `op` in the same migration by `CREATE TABLE`.
 * `CreateModel` tables are found through `ModelState.createdIn` instead.
 */
export function tablesCreatedBefore(ctx: SqlRuleContext, before: SqlStatementFact): { has(table: string): boolean } {
  const order = statementOrder(ctx.migration, (op) => ctx.sql(op));
  const at = order.position.get(before);
  if (at !== undefined) {
    return { has: (table) => (order.firstCreated.get(table) ?? Infinity) < at };
  }
  const created = new Set<string>();
  for (const fact of statementsBefore(ctx, before)) {
    const table = publicTableCreated(fact);
    if (table !== null) created.add(table);
  }
  return created;
}

/** Resolves the table a statement acts on. */
export function resolveSqlTable(ctx: SqlRuleContext, fact: SqlStatementFact): SqlTableRef | null {
  if (fact.table === null) return null;
  const model = modelOfTable(ctx.state, fact.schema, fact.table);
  const dbModel = modelOfTable(ctx.db, fact.schema, fact.table);
  const createdByModel = [model, dbModel].some((m) => m !== null && m.createdIn === ctx.migration.id);
  const isNew = createdByModel || (fact.schema === null || fact.schema === "public" ? tablesCreatedBefore(ctx, fact).has(fact.table) : false);
  return { table: fact.schema ? `${fact.schema}.${fact.table}` : fact.table, model, dbModel, isNew };
}

/**
 * The model whose index (`Meta.indexes`, `AddIndex`) or index-backed unique constraint is named
 * `index`: in Django's state, or in the database's (they differ after `SeparateDatabaseAndState`,
 * the usual home of a `RunSQL` drop). `DROP INDEX` and `REINDEX INDEX` name no table, so this is
 * how their table is known. Only tables that exist (managed, not proxies) count.
 */
export function modelOfIndex(ctx: SqlRuleContext & { hasTable(model: ModelState): boolean }, index: string): ModelState | null {
  for (const state of [ctx.state, ctx.db]) {
    for (const model of state.models.values()) {
      if (!ctx.hasTable(model)) continue;
      if (model.indexes.some((i) => i.name === index) || model.constraints.some((c) => c.name === index)) return model;
    }
  }
  return null;
}

/** The statements PostgreSQL's parser read from one side of a `RunSQL`, in order (chunks it could not read are left out). */
export function parsedStatements(side: RunSqlSide | undefined): RunSqlStatement[] {
  if (side?.kind !== "sql") return [];
  return side.chunks.flatMap((c) => (c.status === "ok" ? c.statements : []));
}

/**
 * Every forward statement of a `RunSQL`, or null when any part of its SQL cannot be read (no
 * facts, a non-literal string, an unparsable chunk): for rules that must know all it does.
 */
export function readableForwardStatements(facts: RunSqlFacts | null): SqlStatementFact[] | null {
  if (facts?.forward.kind === "noop") return [];
  if (facts?.forward.kind !== "sql" || facts.forward.chunks.some((c) => c.status !== "ok")) return null;
  return parsedStatements(facts.forward).map((s) => s.fact);
}

/** Every forward statement of a `RunSQL` that reaches the database, in order; empty otherwise. */
export function forwardStatements(ctx: SqlRuleContext & { effect: string }): RunSqlStatement[] {
  if (ctx.effect === "state") return [];
  return parsedStatements(ctx.sql(ctx.op)?.forward);
}

/**
 * The SQL statements of the migration's `RunSQL`s after the current operation (after the
 * `SeparateDatabaseAndState` it is in; for SQL a `RunPython`'s function executes, after that
 * `cursor.execute`), top-level, in `database_operations` or run by a `RunPython`'s function (each
 * `cursor.execute` its own: ArchiveBox crawls 0002), in the order they run.
 */
export function laterSqlStatements(ctx: SqlRuleContext & { parent: Operation | null }): SqlStatementFact[] {
  const order = statementOrder(ctx.migration, (op) => ctx.sql(op));
  const executed = ctx.parent?.executes?.includes(ctx.op) ?? false;
  const at = order.after.get(executed ? ctx.op : (ctx.parent ?? ctx.op));
  return at === undefined ? [] : order.facts.slice(at);
}

/** `Model` (`table`) when the table belongs to a model, else `table`, for messages. */
export function tableLabel(ref: SqlTableRef): string {
  const model = ref.model ?? ref.dbModel;
  return model ? `\`${model.name}\` (table \`${ref.table}\`)` : `table \`${ref.table}\``;
}

/**
 * Whether this migration removes the model (or its field) from Django's state only, in an
 * earlier operation or in the state side of the one that runs this SQL: then the state removal
 * ships in the same release as the SQL, so the release still serving traffic uses what it drops.
 */
export function removedFromStateInThisMigration(ctx: SqlRuleContext, modelName: string, field: string | null): boolean {
  const key = modelName.toLowerCase();
  const literal = (value: { kind: string; value?: unknown } | undefined) =>
    value?.kind === "str" && typeof value.value === "string" ? value.value.toLowerCase() : null;
  for (const op of ctx.migration.operations) {
    // The state side of the operation that runs this SQL counts too (`SeparateDatabaseAndState`,
    // `RunSQL(state_operations=...)`): it ships with it.
    for (const inner of op.stateOperations ?? []) {
      if (field === null && inner.kind === "DeleteModel" && literal(inner.args.name) === key) return true;
      if (field !== null && inner.kind === "RemoveField" && literal(inner.args.model_name) === key && literal(inner.args.name) === field.toLowerCase()) {
        return true;
      }
    }
    if (op === ctx.op || op.databaseOperations?.includes(ctx.op)) return false;
  }
  return false;
}
