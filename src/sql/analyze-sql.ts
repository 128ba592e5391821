/**
 * Reads the SQL of a Django `RunSQL` with PostgreSQL's own parser (libpg_query, compiled to
 * WebAssembly) and returns plain facts about each statement for the rules.
 *
 * The parser costs a WebAssembly instantiation, so it is never loaded at import time: callers
 * `await loadSqlParser()` once, only when a migration actually contains a `RunSQL`, and then call
 * the synchronous {@link analyzeSql} as often as they like.
 */
import { createRequire } from "node:module";
import type { Node } from "libpg-query";
import { replacePlaceholders, unchangedSql } from "./sql-placeholders.js";
import type { SqlAnalysis, SqlInlineKey, SqlPartitioningFact, SqlPartitionKey, SqlStatementFact } from "./sql-facts.js";
import { statementFacts, type StatementSpan } from "./statement-facts.js";
import { textOffsets } from "./text-offsets.js";

export type {
  DefaultVolatility,
  SqlColumnFact,
  SqlAnalysis,
  SqlConstraintType,
  SqlEnumValueFact,
  SqlPartitioningFact,
  SqlForeignKeyFact,
  SqlPartitionKey,
  SqlQualifiedName,
  SqlSettingFact,
  SqlStatementFact,
  SqlStatementKind,
  SqlTransactionAction,
  SqlTypeName,
} from "./sql-facts.js";

/** The parts of libpg-query this module uses once the module is loaded. */
interface LoadedParser {
  parseSync: typeof import("libpg-query").parseSync;
}

let parser: LoadedParser | null = null;
let loading: Promise<void> | null = null;

/**
 * Loads the PostgreSQL parser. Idempotent and safe to call concurrently: every call after the
 * first returns the same promise. A failed load is not cached, so a later call retries.
 */
export function loadSqlParser(): Promise<void> {
  if (parser !== null) return Promise.resolve();
  loading ??= (async () => {
    try {
      // libpg-query has no `exports` map: node's `import()` of it loads its CommonJS `main`
      // too. `require` gives the same module, and works from code compiled with node:vm (the
      // launcher's CommonJS bundle), where `import()` has no loader to call.
      const module = createRequire(import.meta.url)("libpg-query") as typeof import("libpg-query");
      await module.loadModule();
      parser = { parseSync: module.parseSync };
    } catch (error) {
      loading = null;
      const reason = error instanceof Error ? error.message : String(error);
      throw new Error(`cannot load the PostgreSQL parser (libpg-query): ${reason}`);
    }
  })();
  return loading;
}

/** Whether {@link loadSqlParser} has completed, so {@link analyzeSql} can be called. */
export function isSqlParserLoaded(): boolean {
  return parser !== null;
}

/** Options for {@link analyzeSql}. */
export interface AnalyzeSqlOptions {
  /**
   * The SQL is executed with DB-API params (`RunSQL([(sql, params)])`): `%s` and `%(name)s` are
   * placeholders and `%%` is a literal `%`. Set it whenever params is not None, even for an empty
   * list: psycopg formats `cursor.execute(sql, [])` too (`'x%%'` becomes `'x%'`). Without params
   * every `%` is literal, as in Django, which calls `cursor.execute(sql)` when params is None.
   */
  hasParams?: boolean;
}

/** Skips whitespace and SQL comments (`-- ...` and nested `/* ... *\/`) from `start`. */
function skipSpaceAndComments(sql: string, start: number, end: number): number {
  let i = start;
  while (i < end) {
    const char = sql[i] ?? "";
    if (/\s/.test(char)) {
      i += 1;
    } else if (char === "-" && sql[i + 1] === "-") {
      const newline = sql.indexOf("\n", i);
      i = newline === -1 || newline > end ? end : newline + 1;
    } else if (char === "/" && sql[i + 1] === "*") {
      let depth = 0;
      while (i < end) {
        if (sql[i] === "/" && sql[i + 1] === "*") {
          depth += 1;
          i += 2;
        } else if (sql[i] === "*" && sql[i + 1] === "/") {
          depth -= 1;
          i += 2;
          if (depth === 0) break;
        } else {
          i += 1;
        }
      }
    } else {
      break;
    }
  }
  return Math.min(i, end);
}

/**
 * Parses `sql` and returns one fact per statement (one per subcommand for ALTER TABLE, one per
 * table for multi-table DROP/TRUNCATE/LOCK). Empty, whitespace-only and comment-only SQL is valid
 * and has no statements. SQL PostgreSQL would reject is `{ ok: false }` with PostgreSQL's message
 * and the offset of the error in `sql`. Offsets in the result are UTF-16 offsets into `sql`
 * itself, even when placeholders were replaced before parsing.
 *
 * @throws Error when {@link loadSqlParser} has not completed.
 */
export function analyzeSql(sql: string, options: AnalyzeSqlOptions = {}): SqlAnalysis {
  if (parser === null) {
    throw new Error("the PostgreSQL parser is not loaded: await loadSqlParser() before analyzeSql()");
  }
  const prepared = options.hasParams === true ? replacePlaceholders(sql) : unchangedSql(sql);
  if (!("text" in prepared)) return { ok: false, error: prepared.message, offset: prepared.offset };
  // libpg_query rejects an empty query outright; SQL with nothing but whitespace has no statements.
  if (prepared.text.trim() === "") return { ok: true, statements: [] };

  const offsets = textOffsets(prepared.text);
  let result: ReturnType<LoadedParser["parseSync"]>;
  try {
    result = parser.parseSync(prepared.text);
  } catch (error) {
    const details = (error as { sqlDetails?: { message?: string; cursorPosition?: number } }).sqlDetails;
    const message = details?.message ?? (error instanceof Error ? error.message : String(error));
    const cursor = details?.cursorPosition;
    // The error cursor counts characters (code points), not bytes or UTF-16 units.
    const offset = cursor === undefined || cursor < 0 ? null : prepared.toOriginal(offsets.fromCodePoint(cursor));
    return { ok: false, error: message, offset };
  }

  const statements: SqlStatementFact[] = [];
  for (const raw of result.stmts ?? []) {
    if (raw.stmt === undefined) continue;
    // Statement locations are UTF-8 byte offsets; a missing or zero length means "to the end".
    const startByte = raw.stmt_location ?? 0;
    const preparedStart = offsets.fromUtf8Byte(startByte);
    const preparedEnd = raw.stmt_len ? offsets.fromUtf8Byte(startByte + raw.stmt_len) : prepared.text.length;
    const end = prepared.toOriginal(preparedEnd);
    const start = skipSpaceAndComments(sql, prepared.toOriginal(preparedStart), end);
    const text = sql.slice(start, end).trimEnd();
    const span: StatementSpan = { offset: start, length: text.length, text };
    for (const fact of statementFacts(span, raw.stmt)) {
      if (fact.kind === "create-table" && fact.nodeType === "CreateStmt") {
        // A statement with no `%` in it was parsed as written: its node is the one its text gives.
        const own = !options.hasParams || !fact.text.includes("%");
        fact.partitioning = partitioningOf(own ? raw.stmt : parsedAlone(parser, fact.text));
      }
      statements.push(fact);
    }
  }
  return { ok: true, statements };
}

/** Whether a schema-qualified name is in `public` (unqualified names are). */
export function isPublic(schema: string | null | undefined): boolean {
  return schema === null || schema === undefined || schema === "public";
}

/**
 * The node of a statement's text parsed alone, or undefined when it does not parse: the text of
 * a statement with placeholders, which PostgreSQL never sees as written.
 */
function parsedAlone(loaded: LoadedParser, text: string): Node | undefined {
  try {
    return loaded.parseSync(text).stmts?.[0]?.stmt;
  } catch {
    return undefined;
  }
}

/**
 * What a `CREATE TABLE` says about partitioning, from the statement's node as its own text parses
 * (a statement with placeholders says nothing: see `parsedAlone`).
 */
function partitioningOf(node: Node | undefined): SqlPartitioningFact | null {
  try {
    const create = node && "CreateStmt" in node ? node.CreateStmt : undefined;
    if (!create) return null;
    // `partbound` is what tells `PARTITION OF` apart from `INHERITS (...)`, which also fills inhRelations.
    const parentNode = create.partbound !== undefined ? create.inhRelations?.[0] : undefined;
    const parent = parentNode && "RangeVar" in parentNode ? parentNode.RangeVar : undefined;
    return {
      partitionBy: create.partspec !== undefined,
      partitionOf: parent?.relname !== undefined && isPublic(parent.schemaname) ? parent.relname : null,
      key: create.partspec ? partitionKeyOf(create.partspec.partParams ?? []) : null,
      inlineKeys: inlineKeysOf(create.tableElts ?? []),
    };
  } catch {
    return null;
  }
}

/**
 * The columns and expressions of a `PARTITION BY` list. Like PostgreSQL (`ComputePartitionAttrs`),
 * a parenthesised column reference, with or without `COLLATE`, counts as the column itself.
 */
function partitionKeyOf(params: readonly unknown[]): SqlPartitionKey {
  const key: SqlPartitionKey = { columns: [], expressions: false };
  for (const param of params) {
    const elem = (param as { PartitionElem?: { name?: string; expr?: unknown } }).PartitionElem;
    const column = elem?.name ?? plainColumn(elem?.expr);
    if (column === null || column === undefined) key.expressions = true;
    else key.columns.push(column);
  }
  return key;
}

/** libpg-query's shape of a constraint node, as far as `inlineKeysOf` reads it. */
interface ConstraintNode {
  contype?: string;
  keys?: { String?: { sval?: string } }[];
  exclusions?: { List?: { items?: [{ IndexElem?: { name?: string; expr?: unknown } }, { List?: { items?: { String?: { sval?: string } }[] } }] } }[];
}

/** The `PRIMARY KEY`, `UNIQUE` and `EXCLUDE` constraints among a `CREATE TABLE`'s elements. */
function inlineKeysOf(elements: readonly unknown[]): SqlInlineKey[] {
  const keys: SqlInlineKey[] = [];
  const add = (constraint: ConstraintNode | undefined, column: string | null) => {
    if (constraint?.contype === "CONSTR_PRIMARY" || constraint?.contype === "CONSTR_UNIQUE") {
      const columns = column !== null ? [column] : (constraint.keys ?? []).map((k) => k.String?.sval ?? null);
      keys.push({ type: constraint.contype === "CONSTR_PRIMARY" ? "primary-key" : "unique", elements: columns.map((c) => ({ column: c, operator: null })) });
    } else if (constraint?.contype === "CONSTR_EXCLUSION") {
      const parts = (constraint.exclusions ?? []).map((item) => {
        const [elem, operator] = item.List?.items ?? [];
        const index = elem?.IndexElem;
        // `WITH OPERATOR(pg_catalog.=)` is a qualified name: the operator is its last part.
        const names = operator?.List?.items ?? [];
        return { column: index?.name ?? plainColumn(index?.expr), operator: names[names.length - 1]?.String?.sval ?? null };
      });
      keys.push({ type: "exclusion", elements: parts });
    }
  };
  for (const element of elements) {
    const node = element as { ColumnDef?: { colname?: string; constraints?: { Constraint?: ConstraintNode }[] }; Constraint?: ConstraintNode };
    if (node.ColumnDef) for (const c of node.ColumnDef.constraints ?? []) add(c.Constraint, node.ColumnDef.colname ?? null);
    else add(node.Constraint, null);
  }
  return keys;
}

/** The column an expression is, when it is only a column reference (under any `COLLATE`); null otherwise. */
function plainColumn(expr: unknown): string | null {
  const node = expr as { ColumnRef?: { fields?: { String?: { sval?: string } }[] }; CollateClause?: { arg?: unknown } } | undefined;
  if (node?.CollateClause) return plainColumn(node.CollateClause.arg);
  const fields = node?.ColumnRef?.fields;
  return fields?.length === 1 ? (fields[0]?.String?.sval ?? null) : null;
}

function nameOf(schema: string | null, name: string | null): string {
  const shown = name ?? "?";
  return schema === null ? shown : `${schema}.${shown}`;
}

const CONSTRAINT_WORDS: Record<string, string> = {
  check: "CHECK",
  unique: "UNIQUE",
  "primary-key": "PRIMARY KEY",
  "foreign-key": "FOREIGN KEY",
  exclusion: "EXCLUDE",
  "not-null": "NOT NULL",
};

/**
 * A short SQL-like phrase for messages, e.g. `ALTER TABLE app_book DROP COLUMN title` or
 * `CREATE INDEX CONCURRENTLY app_book_title_idx ON app_book`. Names are shown as PostgreSQL
 * stores them, without quoting; clauses that do not change the meaning of a message (column
 * lists, expressions) are left out.
 */
export function describeStatement(fact: SqlStatementFact): string {
  const table = `ALTER TABLE ${fact.only ? "ONLY " : ""}${nameOf(fact.schema, fact.table)}`;
  const column = fact.column ?? "?";
  const ifExists = fact.ifExists ? "IF EXISTS " : "";
  const ifNotExists = fact.ifNotExists ? "IF NOT EXISTS " : "";
  const concurrently = fact.concurrently ? "CONCURRENTLY " : "";
  switch (fact.kind) {
    case "add-column":
      return `${table} ADD COLUMN ${ifNotExists}${column}${fact.dataType ? ` ${fact.dataType.text}` : ""}`;
    case "drop-column":
      return `${table} DROP COLUMN ${ifExists}${column}`;
    case "rename-column":
      return `${table} RENAME COLUMN ${column} TO ${fact.newName ?? "?"}`;
    case "rename-table":
      return `${table} RENAME TO ${fact.newName ?? "?"}`;
    case "rename-index":
      return `ALTER INDEX ${nameOf(fact.schema, fact.index)} RENAME TO ${fact.newName ?? "?"}`;
    case "rename-constraint":
      return `${table} RENAME CONSTRAINT ${fact.constraint ?? "?"} TO ${fact.newName ?? "?"}`;
    case "set-schema":
      return `${table} SET SCHEMA ${fact.newName ?? "?"}`;
    case "add-constraint": {
      const name = fact.constraint === null ? "" : `CONSTRAINT ${fact.constraint} `;
      const kind = CONSTRAINT_WORDS[fact.constraintType ?? ""] ?? "";
      const usingIndex = fact.usingIndex ? ` USING INDEX ${fact.index ?? "?"}` : "";
      const notValid = fact.notValid ? " NOT VALID" : "";
      if (fact.inline) {
        const target = fact.references[0];
        const inlineKind =
          fact.constraintType === "foreign-key" && target !== undefined ? `REFERENCES ${nameOf(target.schema, target.name)}` : kind;
        return `${table} ADD COLUMN ${column} ... ${name}${inlineKind}`;
      }
      return `${table} ADD ${name}${kind}${usingIndex}${notValid}`;
    }
    case "validate-constraint":
      return `${table} VALIDATE CONSTRAINT ${fact.constraint ?? "?"}`;
    case "drop-constraint":
      return `${table} DROP CONSTRAINT ${ifExists}${fact.constraint ?? "?"}`;
    case "set-not-null":
      return `${table} ALTER COLUMN ${column} SET NOT NULL`;
    case "drop-not-null":
      return `${table} ALTER COLUMN ${column} DROP NOT NULL`;
    case "alter-column-type":
      return `${table} ALTER COLUMN ${column} TYPE ${fact.dataType?.text ?? "?"}${fact.usingExpression ? " USING ..." : ""}`;
    case "set-default":
      return `${table} ALTER COLUMN ${column} SET DEFAULT ...`;
    case "drop-default":
      return `${table} ALTER COLUMN ${column} DROP DEFAULT`;
    case "attach-partition":
      return `${table} ATTACH PARTITION ${fact.objectName ?? "?"}`;
    case "detach-partition":
      return `${table} DETACH PARTITION ${fact.objectName ?? "?"}${fact.concurrently ? " CONCURRENTLY" : ""}`;
    case "set-tablespace":
      return fact.index !== null
        ? `ALTER INDEX ${nameOf(fact.schema, fact.index)} SET TABLESPACE ${fact.objectName ?? "?"}`
        : `${table} SET TABLESPACE ${fact.objectName ?? "?"}`;
    case "set-logged":
      return `${table} SET LOGGED`;
    case "set-unlogged":
      return `${table} SET UNLOGGED`;
    case "set-access-method":
      return `${table} SET ACCESS METHOD ${fact.objectName ?? "?"}`;
    case "create-table":
      return `CREATE TABLE ${ifNotExists}${nameOf(fact.schema, fact.table)}`;
    case "drop-table":
      return `DROP TABLE ${ifExists}${nameOf(fact.schema, fact.table)}${fact.cascade ? " CASCADE" : ""}`;
    case "create-index": {
      const name = fact.index === null ? "" : `${fact.index} `;
      return `CREATE ${fact.unique ? "UNIQUE " : ""}INDEX ${concurrently}${ifNotExists}${name}ON ${fact.only ? "ONLY " : ""}${nameOf(fact.schema, fact.table)}`;
    }
    case "drop-index":
      return `DROP INDEX ${concurrently}${ifExists}${nameOf(fact.schema, fact.index)}`;
    case "reindex": {
      const target =
        fact.index !== null
          ? `INDEX ${concurrently}${nameOf(fact.schema, fact.index)}`
          : fact.table !== null
            ? `TABLE ${concurrently}${nameOf(fact.schema, fact.table)}`
            : `${(fact.objectType ?? "").toUpperCase()} ${concurrently}${fact.objectName ?? ""}`.trimEnd();
      return `REINDEX ${target}`;
    }
    case "truncate":
      return `TRUNCATE ${fact.only ? "ONLY " : ""}${nameOf(fact.schema, fact.table)}${fact.cascade ? " CASCADE" : ""}`;
    case "lock-table":
      return `LOCK TABLE ${nameOf(fact.schema, fact.table)}${fact.lockMode === null ? "" : ` IN ${fact.lockMode} MODE`}`;
    case "vacuum":
    case "vacuum-full":
    case "analyze": {
      const verb = fact.kind === "vacuum" ? "VACUUM" : fact.kind === "vacuum-full" ? "VACUUM FULL" : "ANALYZE";
      return fact.table === null ? verb : `${verb} ${nameOf(fact.schema, fact.table)}`;
    }
    case "cluster":
      return fact.table === null
        ? "CLUSTER"
        : `CLUSTER ${nameOf(fact.schema, fact.table)}${fact.index === null ? "" : ` USING ${fact.index}`}`;
    case "create-trigger":
      return `CREATE TRIGGER ${fact.objectName ?? "?"} ON ${nameOf(fact.schema, fact.table)}`;
    case "comment": {
      const target =
        fact.objectType === "column"
          ? `${nameOf(fact.schema, fact.table)}.${column}`
          : fact.table !== null
            ? nameOf(fact.schema, fact.table)
            : (fact.objectName ?? "?");
      return `COMMENT ON ${(fact.objectType ?? "").toUpperCase()} ${target}`;
    }
    case "select":
      return "SELECT ...";
    case "insert":
      return `INSERT INTO ${nameOf(fact.schema, fact.table)}`;
    case "update":
      return `UPDATE ${nameOf(fact.schema, fact.table)}${fact.hasWhere ? " ... WHERE ..." : ""}`;
    case "delete":
      return `DELETE FROM ${nameOf(fact.schema, fact.table)}${fact.hasWhere ? " WHERE ..." : ""}`;
    case "transaction-control": {
      const words: Record<string, string> = {
        begin: "BEGIN",
        commit: "COMMIT",
        rollback: "ROLLBACK",
        savepoint: "SAVEPOINT",
        release: "RELEASE SAVEPOINT",
        "rollback-to": "ROLLBACK TO SAVEPOINT",
        prepare: "PREPARE TRANSACTION",
        "commit-prepared": "COMMIT PREPARED",
        "rollback-prepared": "ROLLBACK PREPARED",
      };
      const word = words[fact.transaction ?? ""] ?? "transaction control";
      return fact.objectName === null ? word : `${word} ${fact.objectName}`;
    }
    case "set": {
      const setting = fact.setting;
      if (setting === null) return "SET";
      if (setting.reset) return setting.name === "all" ? "RESET ALL" : `RESET ${setting.name}`;
      const value = setting.value === null ? "" : ` = '${setting.value}'`;
      return `SET ${setting.local ? "LOCAL " : ""}${setting.name}${value}`;
    }
    case "alter-enum-add-value": {
      const value = fact.enumValue;
      const position = value?.position ? ` ${value.position.toUpperCase()} '${value.neighbor ?? ""}'` : "";
      return `ALTER TYPE ${nameOf(fact.schema, fact.objectName)} ADD VALUE ${ifNotExists}'${value?.value ?? ""}'${position}`;
    }
    case "alter-enum-rename-value":
      return `ALTER TYPE ${nameOf(fact.schema, fact.objectName)} RENAME VALUE '${fact.enumValue?.oldValue ?? ""}' TO '${fact.enumValue?.value ?? ""}'`;
    case "create-extension":
      return `CREATE EXTENSION ${ifNotExists}${fact.objectName ?? "?"}`;
    case "drop-schema":
      return `DROP SCHEMA ${ifExists}${fact.objectName ?? "?"}${fact.cascade ? " CASCADE" : ""}`;
    case "drop-database":
      return `DROP DATABASE ${ifExists}${fact.objectName ?? "?"}`;
    case "do-block":
      return "DO block";
    case "other": {
      const firstLine = fact.text.split("\n", 1)[0] ?? "";
      const shown = firstLine.length > 60 ? `${firstLine.slice(0, 57)}...` : firstLine;
      return shown === "" ? fact.nodeType : shown;
    }
  }
}
