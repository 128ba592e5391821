/**
 * The facts rollsafe reads from one SQL statement of a `RunSQL`. Rules consume these plain
 * objects; they never see libpg_query's syntax tree.
 */
import type { DefaultVolatility } from "./expression-volatility.js";

export type { DefaultVolatility };

/** What a statement (or one ALTER TABLE subcommand) does. */
export type SqlStatementKind =
  // ALTER TABLE subcommands and renames
  | "add-column"
  | "drop-column"
  | "rename-column"
  | "rename-table"
  | "rename-index"
  | "rename-constraint"
  | "set-schema"
  | "add-constraint"
  | "validate-constraint"
  | "drop-constraint"
  | "set-not-null"
  | "drop-not-null"
  | "alter-column-type"
  | "set-default"
  | "drop-default"
  | "attach-partition"
  | "detach-partition"
  | "set-tablespace"
  | "set-logged"
  | "set-unlogged"
  | "set-access-method"
  // tables and indexes
  | "create-table"
  | "drop-table"
  | "create-index"
  | "drop-index"
  | "reindex"
  | "truncate"
  | "lock-table"
  | "vacuum"
  | "vacuum-full"
  | "analyze"
  | "cluster"
  | "create-trigger"
  | "comment"
  // data
  | "select"
  | "insert"
  | "update"
  | "delete"
  // session and transaction
  | "transaction-control"
  | "set"
  // types, schemas, databases, extensions
  | "alter-enum-add-value"
  | "alter-enum-rename-value"
  | "create-extension"
  | "drop-schema"
  | "drop-database"
  | "do-block"
  | "other";

/** The kind of a table constraint. */
export type SqlConstraintType = "check" | "unique" | "primary-key" | "foreign-key" | "exclusion" | "not-null";

/** A possibly schema-qualified name; names are as PostgreSQL stores them (unquoted ones lower-cased). */
export interface SqlQualifiedName {
  schema: string | null;
  name: string;
}

/** A column type as written in ADD COLUMN or ALTER COLUMN ... TYPE. */
export interface SqlTypeName {
  /** Schema when written qualified (`public.citext`); `pg_catalog` is dropped. */
  schema: string | null;
  /** The catalog name: `int8` for `bigint`, `varchar` for `character varying`, `timestamptz`... */
  name: string;
  /** Type modifiers: `[20]` for `varchar(20)`, `[12, 2]` for `numeric(12,2)`. */
  modifiers: (number | string)[];
  /** Number of array dimensions (`int[]` is 1). */
  arrayDimensions: number;
  /** A readable rendering: `varchar(20)`, `numeric(12,2)`, `bigint`, `text`, `integer[]`. */
  text: string;
}

/** One column written in CREATE TABLE (its inline constraints folded in). */
export interface SqlColumnFact {
  name: string;
  dataType: SqlTypeName | null;
  /** Of type serial, bigserial or smallserial (a nextval() default). */
  serial: boolean;
  /** GENERATED { ALWAYS | BY DEFAULT } AS IDENTITY. */
  identity: boolean;
  /** Part of the primary key (inline PRIMARY KEY, or a table-level PRIMARY KEY (...) naming it). */
  primaryKey: boolean;
}

/** ALTER TYPE ... ADD VALUE / RENAME VALUE details. The enum type itself is in `schema`/`objectName`. */
export interface SqlEnumValueFact {
  /** The added value, or the new name of a renamed value. */
  value: string;
  /** The old name for RENAME VALUE; null for ADD VALUE. */
  oldValue: string | null;
  /** Whether BEFORE or AFTER was written (null: appended at the end). */
  position: "before" | "after" | null;
  /** The neighbour named by BEFORE/AFTER. */
  neighbor: string | null;
}

/** A SET / SET LOCAL / RESET, or `SELECT set_config(name, value, is_local)` with constant arguments. */
export interface SqlSettingFact {
  /** Parameter name, lower-cased (`lock_timeout`, `statement_timeout`, `all` for RESET ALL). */
  name: string;
  /** The value as text (`2s`, `0`, `on`; lists joined with `, `); null for RESET and SET ... TO DEFAULT. */
  value: string | null;
  /** SET LOCAL (or `set_config(..., true)`): lasts until the end of the current transaction. */
  local: boolean;
  /** RESET or SET ... TO DEFAULT. */
  reset: boolean;
}

/** What a transaction-control statement does. */
export type SqlTransactionAction =
  | "begin"
  | "commit"
  | "rollback"
  | "savepoint"
  | "release"
  | "rollback-to"
  | "prepare"
  | "commit-prepared"
  | "rollback-prepared";

/**
 * One fact about one statement. Every field is always present: a field that does not apply to
 * the statement's kind is null, false, an empty list, or `none`. An ALTER TABLE with several
 * subcommands gives one fact per subcommand, sharing `offset`, `length` and `text`.
 */
export interface SqlStatementFact {
  kind: SqlStatementKind;
  /** libpg_query's node type, e.g. `AlterTableStmt`, `IndexStmt`, `CreateFunctionStmt`. */
  nodeType: string;
  /** For ALTER TABLE: the subcommand type, e.g. `AT_DropColumn`, `AT_SetStorage`. */
  subcommand: string | null;
  /** Schema of the table (or of the index/type named by the statement), when written. */
  schema: string | null;
  /** The table the statement acts on. */
  table: string | null;
  /** `ONLY` was written (ALTER TABLE ONLY, CREATE INDEX ON ONLY, TRUNCATE ONLY). */
  only: boolean;
  column: string | null;
  /** Columns of an index or constraint (plain column references only; expressions are left out); for UPDATE, the columns it sets. */
  columns: string[];
  /** The new name of a rename. */
  newName: string | null;
  /** Index name (CREATE/DROP INDEX, REINDEX, CLUSTER ... USING, ADD CONSTRAINT ... USING INDEX). */
  index: string | null;
  constraint: string | null;
  constraintType: SqlConstraintType | null;
  /** The constraint was written inside ADD COLUMN (`ADD COLUMN x int REFERENCES y`). */
  inline: boolean;
  /** Tables referenced by foreign keys (ADD CONSTRAINT ... FOREIGN KEY, CREATE TABLE). */
  references: SqlQualifiedName[];
  /**
   * The foreign keys the statement adds (ADD CONSTRAINT ... FOREIGN KEY, and each of a CREATE
   * TABLE): the referenced table and columns as written (no columns: its primary key).
   */
  foreignKeys: SqlForeignKeyFact[];
  /** For `other`, `comment` and non-table statements: the object type, e.g. `view`, `function`, `column`. */
  objectType: string | null;
  /** Name of the non-table object: trigger, extension, schema, database, enum type, partition, tablespace. */
  objectName: string | null;
  /** CONCURRENTLY (CREATE/DROP INDEX, REINDEX, DETACH PARTITION; FINALIZE counts as concurrent). */
  concurrently: boolean;
  /**
   * IF EXISTS of the dropped or renamed object (DROP COLUMN/CONSTRAINT/TABLE/INDEX...); for other
   * ALTER TABLE subcommands, `ALTER TABLE IF EXISTS`.
   */
  ifExists: boolean;
  /** IF NOT EXISTS (ADD COLUMN, CREATE TABLE/INDEX/EXTENSION, ALTER TYPE ... ADD VALUE). */
  ifNotExists: boolean;
  /** NOT VALID: the constraint skips validating existing rows. */
  notValid: boolean;
  /** ADD CONSTRAINT ... UNIQUE/PRIMARY KEY USING INDEX. */
  usingIndex: boolean;
  /** CASCADE was written. */
  cascade: boolean;
  /** UPDATE/DELETE with a WHERE clause. */
  hasWhere: boolean;
  /** CREATE UNIQUE INDEX. */
  unique: boolean;
  /** CREATE INDEX ... WHERE (a partial index). */
  partial: boolean;
  /** ADD COLUMN ... NOT NULL (or PRIMARY KEY). */
  notNull: boolean;
  /** ADD COLUMN / SET DEFAULT: how the default expression behaves. */
  defaultVolatility: DefaultVolatility;
  /** ADD COLUMN ... GENERATED { ALWAYS | BY DEFAULT } AS IDENTITY. */
  identity: boolean;
  /** ADD COLUMN of type serial, bigserial or smallserial (a nextval() default). */
  serial: boolean;
  /** ADD COLUMN ... GENERATED ALWAYS AS (...) STORED. */
  generatedStored: boolean;
  /** Column type for ADD COLUMN; the new type for ALTER COLUMN ... TYPE. */
  dataType: SqlTypeName | null;
  /** CREATE TABLE: the columns defined in the statement (empty for other statements and CREATE TABLE AS). */
  tableColumns: SqlColumnFact[];
  /** ALTER COLUMN ... TYPE ... USING expr. */
  usingExpression: boolean;
  enumValue: SqlEnumValueFact | null;
  setting: SqlSettingFact | null;
  transaction: SqlTransactionAction | null;
  /** LOCK TABLE mode, e.g. `ACCESS EXCLUSIVE`. */
  lockMode: string | null;
  /**
   * PostgreSQL refuses to run this statement inside a transaction block ("cannot run inside a
   * transaction block"): CREATE/DROP INDEX CONCURRENTLY, REINDEX CONCURRENTLY, VACUUM, DETACH
   * PARTITION CONCURRENTLY, CREATE/DROP DATABASE, CLUSTER without a table, and a few more. Checked
   * against PostgreSQL 15. (ALTER TYPE ... ADD VALUE is also refused before PostgreSQL 12; that
   * depends on the target version, so it is not folded in here.)
   */
  notInTransaction: boolean;
  /**
   * For a `CREATE TABLE`: whether it makes a partitioned parent (`PARTITION BY`) and the parent it
   * is a partition of (`PARTITION OF parent`, unqualified or `public` only), read from the
   * statement's own text; null for other statements, and for a `CREATE TABLE` whose text alone
   * does not parse (placeholders).
   */
  partitioning: SqlPartitioningFact | null;
  /** UTF-16 offset of the statement in the original SQL string. */
  offset: number;
  /** Length of the statement in UTF-16 units (without the terminating semicolon). */
  length: number;
  /** The statement text as written (the original, with any placeholders). */
  text: string;
}

/** One foreign key a statement adds. */
export interface SqlForeignKeyFact {
  references: SqlQualifiedName;
  /** The referenced columns as written; empty when left to the referenced table's primary key. */
  columns: string[];
}

/** What a `CREATE TABLE` says about partitioning (libpg-query's `partspec` and `partbound`). */
export interface SqlPartitioningFact {
  /** `PARTITION BY ...`: the new table is a partitioned parent. */
  partitionBy: boolean;
  /** `PARTITION OF parent`: the new table is a partition of `parent` (unqualified or `public` only). */
  partitionOf: string | null;
  /** The `PARTITION BY` key (null without `PARTITION BY`). */
  key: SqlPartitionKey | null;
  /** The primary key, unique and exclusion constraints written inside the `CREATE TABLE`. */
  inlineKeys: SqlInlineKey[];
}

/** A `PRIMARY KEY`, `UNIQUE` or `EXCLUDE` constraint written in a `CREATE TABLE` (on a column or the table). */
export interface SqlInlineKey {
  type: "primary-key" | "unique" | "exclusion";
  /** Its elements: a plain column (null for an expression) and, for `EXCLUDE`, the operator (`=`, `&&`). */
  elements: { column: string | null; operator: string | null }[];
}

/**
 * A partition key as PostgreSQL keeps it: the columns written as plain references (`created`,
 * `(created)`, `created COLLATE "C"`), and whether any element is an expression. Every unique
 * constraint and unique index on a partitioned table must include each key column as a plain
 * column, and none is accepted at all when the key has an expression (PostgreSQL 15).
 */
export interface SqlPartitionKey {
  columns: string[];
  expressions: boolean;
}

/** The result of reading one SQL string. */
export type SqlAnalysis =
  | { ok: true; statements: SqlStatementFact[] }
  | {
      ok: false;
      /** PostgreSQL's message, e.g. `syntax error at or near "TABL"`. */
      error: string;
      /** UTF-16 offset of the error in the original SQL string, when PostgreSQL reports one. */
      offset: number | null;
    };
