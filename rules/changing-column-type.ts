import type { Database, OperationContext, Rule } from "../src/engine/rule-types.js";
import { CHAR_DEFAULT_LENGTH, databaseChanges } from "../src/engine/field-changes.js";
import { columnOf, declaredClass, declaredDbType, fieldClassText, fieldFromCall, followedFieldClass, hasUnknownOptions, literalString, primaryKeyOf, unreadFieldBase, type FieldState, type ModelState } from "../src/state/model-state.js";
import type { ProjectState } from "../src/state/project-state.js";
import { addFieldSnippet, alterFieldSource, code, createIndexConcurrentlySql, djangoIndexName, dropColumnSql, fieldWith, likeIndexOpclass, migrationModule, onlineSchemaChangeTools, postDeployMarker, py, pyValue, runSqlLines, separateDatabaseAndState, sqlIdent } from "../src/advice/snippets.js";

/**
 * A column's database type as Django's backends spell it (`data_types` of each backend's
 * `DatabaseWrapper`): the base name plus the parameters that matter for a rewrite.
 */
export interface ColumnType {
  /** `varchar`, `text`, `integer`, `numeric`, `integer unsigned`, ... */
  base: string;
  /** `varchar(n)`; null for an unlimited varchar (Django 4.2+ on PostgreSQL without `max_length`). */
  length?: number | null;
  precision?: number;
  scale?: number;
  /** An array of the type (`ArrayField`): its number of dimensions. */
  dimensions?: number;
}


/** Integer-like types: same on every engine except MySQL's UNSIGNED variants. */
const INTEGER_TYPES: Record<string, { pg: string; mysql: string }> = {
  AutoField: { pg: "integer", mysql: "integer" },
  BigAutoField: { pg: "bigint", mysql: "bigint" },
  SmallAutoField: { pg: "smallint", mysql: "smallint" },
  IntegerField: { pg: "integer", mysql: "integer" },
  BigIntegerField: { pg: "bigint", mysql: "bigint" },
  SmallIntegerField: { pg: "smallint", mysql: "smallint" },
  PositiveIntegerField: { pg: "integer", mysql: "integer unsigned" },
  PositiveBigIntegerField: { pg: "bigint", mysql: "bigint unsigned" },
  PositiveSmallIntegerField: { pg: "smallint", mysql: "smallint unsigned" },
};

/**
 * contrib.postgres's case-insensitive fields: a `citext` column whatever their `max_length` (the
 * `CIText` mixin's `db_type`), known by their qualified name only (see `columnTypeOf`).
 */
export const CITEXT_FIELDS: ReadonlySet<string> = new Set(["CICharField", "CIEmailField", "CITextField"]);

/** Other fixed types per engine (PostgreSQL, MySQL, SQLite), from Django's backends. */
const FIXED_TYPES: Record<string, [string, string, string]> = {
  TextField: ["text", "longtext", "text"],
  BinaryField: ["bytea", "longblob", "BLOB"],
  BooleanField: ["boolean", "bool", "bool"],
  NullBooleanField: ["boolean", "bool", "bool"],
  DateField: ["date", "date", "date"],
  DateTimeField: ["timestamp with time zone", "datetime(6)", "datetime"],
  TimeField: ["time", "time(6)", "time"],
  DurationField: ["interval", "bigint", "bigint"],
  FloatField: ["double precision", "double precision", "real"],
  UUIDField: ["uuid", "char(32)", "char(32)"],
  JSONField: ["jsonb", "json", "text"],
  GenericIPAddressField: ["inet", "char(39)", "char(39)"],
  IPAddressField: ["inet", "char(15)", "char(15)"],
  // django.contrib.postgres (PostgreSQL only): their `db_type`s (GlitchTip performance 0005:
  // HStoreField to JSONField rewrites the table). The CI* fields' `db_type` is `citext` whatever
  // their `max_length` (the `CIText` mixin).
  HStoreField: ["hstore", "hstore", "hstore"],
  CICharField: ["citext", "citext", "citext"],
  CIEmailField: ["citext", "citext", "citext"],
  CITextField: ["citext", "citext", "citext"],
  SearchVectorField: ["tsvector", "tsvector", "tsvector"],
  IntegerRangeField: ["int4range", "int4range", "int4range"],
  BigIntegerRangeField: ["int8range", "int8range", "int8range"],
  DecimalRangeField: ["numrange", "numrange", "numrange"],
  DateTimeRangeField: ["tstzrange", "tstzrange", "tstzrange"],
  DateRangeField: ["daterange", "daterange", "daterange"],
};

/**
 * Field classes whose `get_internal_type` is another class's: Django's PostgreSQL backend looks
 * their data type up under that name (EmailField and URLField inherit CharField's).
 */
const INTERNAL_TYPE: Readonly<Record<string, string>> = { EmailField: "CharField", URLField: "CharField", ImageField: "FileField" };

/** `connection.data_types` of Django's PostgreSQL backend where a template stands for the type (CharField's is a function). */
const PG_DATA_TYPE_TEMPLATES: Readonly<Record<string, string>> = {
  SlugField: "varchar(%(max_length)s)",
  FileField: "varchar(%(max_length)s)",
  FilePathField: "varchar(%(max_length)s)",
  DecimalField: "numeric(%(max_digits)s, %(decimal_places)s)",
};

/**
 * What Django's PostgreSQL schema editor compares to decide whether `ALTER COLUMN ... TYPE` gets a
 * `USING col::type` cast (`_using_sql`, `_field_data_type`): a relation's resolved column type
 * (`rel_db_type`), else the backend's data type entry for the field's internal type, a template
 * or, for CharField, a function of its own.
 */
function pgDataTypeKey(field: FieldState, state: ProjectState): string | null {
  if (field.relation) {
    const type = columnTypeOf(field, state, "postgresql");
    return type ? formatColumnType(type) : null;
  }
  const internal = INTERNAL_TYPE[field.type] ?? field.type;
  if (internal === "CharField") return "<CharField>";
  const integer = INTEGER_TYPES[internal];
  return integer?.pg ?? FIXED_TYPES[internal]?.[0] ?? PG_DATA_TYPE_TEMPLATES[internal] ?? null;
}

/**
 * Whether PostgreSQL cuts values too long for the new `varchar(n)` without an error: Django casts
 * with `USING col::varchar(n)` when the two fields' data types differ (text, uuid or a foreign key
 * to CharField, CharField to SlugField...), and an explicit cast to `varchar(n)` truncates
 * (checked on PostgreSQL 15: text 'abcdefghijklmnop' becomes 'abcde'). Without the cast
 * (CharField to a shorter CharField) the assignment fails instead ("value too long").
 */
export function truncatesOnCast(facts: Pick<TypeChangeFacts, "before" | "after" | "afterType">, state: ProjectState): boolean {
  if (facts.afterType.base !== "varchar" || facts.afterType.length === null || facts.afterType.length === undefined) return false;
  const before = pgDataTypeKey(facts.before, state);
  const after = pgDataTypeKey(facts.after, state);
  return before !== null && after !== null && before !== after;
}

const INTEGER_RANK: Record<string, number> = { smallint: 1, integer: 2, bigint: 3 };

/** The size rank of an integer type (smallint 1, integer 2, bigint 3; MySQL's UNSIGNED alike); undefined for others. */
export function integerRank(type: ColumnType): number | undefined {
  return INTEGER_RANK[type.base.replace(/ unsigned$/, "")];
}

/** How many digits a `numeric` column holds before the decimal point (precision less scale). */
export function integerDigits(type: ColumnType): number {
  return (type.precision ?? 0) - (type.scale ?? 0);
}

/** How many characters a textual column holds (Infinity for text, citext and an unlimited varchar); undefined for other types. */
export function textCapacity(type: ColumnType): number | undefined {
  if (type.base === "text" || type.base === "longtext" || type.base === "citext") return Infinity;
  if (type.base === "varchar") return type.length ?? Infinity;
  return undefined;
}

/**
 * The column type Django gives a field on `database`, or null for fields whose type rollsafe
 * cannot know statically (custom fields, non-literal `max_length`). Relations take the type of
 * the field they point at, `to_field` or the target's primary key, as Django's `rel_db_type` does.
 */
export function columnTypeOf(field: FieldState, state: ProjectState, database: Database, seen = 0): ColumnType | null {
  if (field.relation) {
    if (field.relation.kind === "m2m" || !field.relation.to || seen > 4) return null;
    const target = state.modelByKey(field.relation.to);
    if (!target) return null;
    const toField = field.kwargs.to_field;
    const name = toField === undefined || toField.kind === "none" ? null : literalString(toField);
    if (name === null && toField !== undefined && toField.kind !== "none") return null;
    const referenced = name === null ? primaryKeyOf(target) : target.fields.get(name);
    if (!referenced) return null;
    // `rel_db_type` of a PositiveIntegerField drops MySQL's UNSIGNED only for auto fields; keep it simple.
    return columnTypeOf(referenced, state, database, seen + 1);
  }
  const name = field.type;
  // contrib.postgres's ArrayField: its base field's type, as an array (`varchar(50)[]`).
  if (name === "ArrayField" && /^django\.contrib\.postgres\.fields\b/.test(field.qualified)) {
    const base = field.kwargs.base_field ?? (field.call?.kind === "call" ? field.call.args[0] : undefined);
    if (database !== "postgresql" || base?.kind !== "call" || seen > 4) return null;
    const element = columnTypeOf(fieldFromCall(field.name, base, "", "", null), state, database, seen + 1);
    return element && { ...element, dimensions: (element.dimensions ?? 0) + 1 };
  }
  const integer = INTEGER_TYPES[name];
  if (integer) return { base: database === "mysql" ? integer.mysql : integer.pg };
  if (name in CHAR_DEFAULT_LENGTH) {
    const explicit = field.kwargs.max_length;
    if (explicit && field.maxLength === null && explicit.kind !== "none") return null;
    const length = field.maxLength ?? CHAR_DEFAULT_LENGTH[name] ?? null;
    // MySQL and SQLite have no unlimited varchar; Django requires max_length there.
    if (length === null && database !== "postgresql") return null;
    return { base: "varchar", length };
  }
  if (name === "DecimalField") {
    if (field.maxDigits === null || field.decimalPlaces === null) return null;
    return { base: "numeric", precision: field.maxDigits, scale: field.decimalPlaces };
  }
  const fixed = FIXED_TYPES[name];
  // A project class of the same name (BookWyrm's own `CICharField`) may make another column,
  // unless rollsafe read it and followed it to contrib.postgres' class.
  if (CITEXT_FIELDS.has(name) && !/^django\.contrib\.postgres\.fields\b/.test(field.qualified) && !followedFieldClass(field)) return null;
  if (fixed) return { base: database === "postgresql" ? fixed[0] : database === "mysql" ? fixed[1] : fixed[2] };
  // A project class whose `db_type` returns one literal for every connection: that type.
  const declared = /^\s*([a-z][a-z ]*?)\s*(?:\(\s*(\d+)\s*\))?\s*$/i.exec(declaredDbType(field) ?? "");
  if (declared) {
    const base = (declared[1] as string).toLowerCase().replace(/^character varying$/, "varchar");
    return declared[2] !== undefined ? { base, length: Number(declared[2]) } : base === "varchar" ? { base, length: null } : { base };
  }
  return null;
}

/** `varchar(200)`, `numeric(7, 2)`, `bigint`, `integer[]`. */
export function formatColumnType(type: ColumnType): string {
  const brackets = "[]".repeat(type.dimensions ?? 0);
  if (type.base === "varchar") return `${type.length === null || type.length === undefined ? "varchar" : `varchar(${type.length})`}${brackets}`;
  if (type.base === "numeric") return `numeric(${type.precision}, ${type.scale})${brackets}`;
  return `${type.base}${brackets}`;
}

/**
 * Whether PostgreSQL has a cast between an array and a scalar type or between arrays of different
 * depth: only through text (`integer[]` to `jsonb` fails with "cannot cast type integer[] to
 * jsonb", mathesar 0008, whatever the rows). Null when neither is an array.
 */
export function arrayCastExists(before: ColumnType, after: ColumnType): boolean | null {
  const d1 = before.dimensions ?? 0;
  const d2 = after.dimensions ?? 0;
  if (d1 === 0 && d2 === 0) return null;
  if (d1 === d2) return true;
  const scalar = d1 === 0 ? before : d2 === 0 ? after : null;
  return scalar !== null && (scalar.base === "varchar" || scalar.base === "text");
}

/**
 * How the database carries out a change from one column type to another:
 * - `same`: no type change at all;
 * - `in-place`: catalog-only (PostgreSQL) or in-place without a table copy (MySQL);
 * - `narrowing`: the new type holds less, so existing values may not fit (also a rewrite);
 * - `rewrite`: the table is rewritten (PostgreSQL), copied (MySQL) or remade (SQLite).
 */
export type TypeChange = "same" | "in-place" | "narrowing" | "rewrite";

/** The longest varchar whose byte length still fits MySQL's 1-byte length prefix in utf8mb4. */
const MYSQL_ONE_BYTE_CHARS = 63;

export function classifyTypeChange(before: ColumnType, after: ColumnType, database: Database): TypeChange {
  if (formatColumnType(before) === formatColumnType(after)) return "same";
  if (database === "sqlite") return "rewrite";
  // PostgreSQL rewrites an array column for any change of its element type, a longer varchar
  // included (relfilenode changes on PostgreSQL 15); a shorter element still narrows.
  if ((before.dimensions ?? 0) > 0 || (after.dimensions ?? 0) > 0) {
    if (before.dimensions !== after.dimensions) return "rewrite";
    const element = classifyTypeChange({ ...before, dimensions: 0 }, { ...after, dimensions: 0 }, database);
    return element === "narrowing" ? "narrowing" : "rewrite";
  }
  const from = textCapacity(before);
  const to = textCapacity(after);
  if (from !== undefined && to !== undefined) {
    if (to < from) return "narrowing";
    // citext and text/varchar are binary-coercible: the rows stay, but the indexes on the column
    // are built again, as `citextIndexRebuild` says (citext to varchar(n) narrows and rewrites,
    // checked on PostgreSQL 15 with pg_relation_filenode).
    if (database === "postgresql") return "in-place";
    // MySQL: in place only while the varchar keeps the same number of length bytes.
    if (before.base !== "varchar" || after.base !== "varchar") return "rewrite";
    const oneByte = (n: number) => n <= MYSQL_ONE_BYTE_CHARS;
    return oneByte(from) === oneByte(to) ? "in-place" : "rewrite";
  }
  if (before.base === "numeric" && after.base === "numeric") {
    const s1 = before.scale ?? 0;
    const s2 = after.scale ?? 0;
    if (s2 < s1 || integerDigits(after) < integerDigits(before)) return "narrowing";
    // PostgreSQL keeps numeric data as is when only the precision grows at the same scale.
    return database === "postgresql" && s2 === s1 ? "in-place" : "rewrite";
  }
  const r1 = integerRank(before);
  const r2 = integerRank(after);
  if (r1 !== undefined && r2 !== undefined && r2 < r1) return "narrowing";
  return "rewrite";
}

/**
 * Whether a change between two column types PostgreSQL makes in place still builds the column's
 * indexes again: one side is citext and the other text or varchar, whose operator classes differ
 * (the table keeps its relfilenode, each index gets a new one; PostgreSQL 15).
 */
export function citextIndexRebuild(before: ColumnType, after: ColumnType): boolean {
  return (before.base === "citext") !== (after.base === "citext") && (before.dimensions ?? 0) === 0 && (after.dimensions ?? 0) === 0 && classifyTypeChange(before, after, "postgresql") === "in-place";
}

/** Everything the type-change rules need about one `AlterField`. */
export interface TypeChangeFacts {
  model: ModelState;
  name: string;
  before: FieldState;
  after: FieldState;
  beforeType: ColumnType;
  afterType: ColumnType;
  change: TypeChange;
  table: string;
  column: string;
}

/** The field before and after an `AlterField` of the database on a table the old release uses; null otherwise. */
function alteredExistingField(ctx: OperationContext): { model: ModelState; name: string; before: FieldState; after: FieldState } | null {
  const { op } = ctx;
  if (op.kind !== "AlterField" || ctx.effect === "state" || op.unknown) return null;
  const model = ctx.model(literalString(op.args.model_name));
  const name = literalString(op.args.name);
  if (!model || !name || !op.args.field || !ctx.hasTable(model) || ctx.isNewTable(model)) return null;
  const before = model.fields.get(name);
  return before ? { model, name, before, after: fieldFromCall(name, op.args.field, model.app, model.key, null) } : null;
}

/** Reads an `AlterField` that changes a column's type on an existing table; null otherwise. */
export function readTypeChange(ctx: OperationContext): TypeChangeFacts | null {
  const altered = alteredExistingField(ctx);
  if (!altered || altered.before.generated || altered.after.generated || hasUnknownOptions(ctx.op.args.field, altered.before.call)) return null;
  const { model, name, before, after } = altered;
  const beforeType = columnTypeOf(before, ctx.state, ctx.target.database);
  const afterType = columnTypeOf(after, ctx.state, ctx.target.database);
  if (!beforeType || !afterType) return null;
  const change = classifyTypeChange(beforeType, afterType, ctx.target.database);
  if (change === "same") return null;
  return { model, name, before, after, beforeType, afterType, change, table: ctx.tableOf(model), column: ctx.columnOf(after) ?? name };
}

/** The expand/contract steps that replace an in-place type change with a new column. */
export function newColumnSteps(ctx: OperationContext, facts: TypeChangeFacts): string[] {
  const { model, name, table, column } = facts;
  const temp = `${name}_new`;
  // The new field's own column (`<name>_new_id` for a foreign key), not the old one's db_column.
  const tempColumn = columnOf({ ...facts.after, name: temp, dbColumn: null }) ?? temp;
  const post = postDeployMarker(ctx.target.markerStyle);
  const newField = fieldWith(ctx.op.args.field ?? null, { null: "True" }, ["default", "unique", "db_index", "primary_key", "db_column"]);
  const finish = finishNewColumn(ctx, facts.after, table, tempColumn);
  return [
    `Add the new type as a separate nullable column (instant):\n${addFieldSnippet(model.key, temp, newField)}`,
    `Ship a release that writes both \`${name}\` and \`${temp}\` on every save (or a database trigger does it), then backfill \`${tempColumn}\` from \`${column}\` in batches in a data migration with \`atomic = False\`, marked ${post}.`,
    ...(finish ? [finish] : []),
    `Switch the model to the new column without touching the database: point the field at it with \`db_column\` and drop the old one from state only:\n${code(
      [
        "migrations.SeparateDatabaseAndState(",
        "    state_operations=[",
        `        migrations.RemoveField(model_name=${py(model.key)}, name=${py(temp)}),`,
        `        migrations.AlterField(model_name=${py(model.key)}, name=${py(name)}, field=${fieldWith(ctx.op.args.field ?? null, { db_column: py(tempColumn) })}),`,
        "    ],",
        "    database_operations=[],",
        ")",
      ].join("\n"),
    )}`,
    `After that release is live everywhere, drop the old column in a migration marked ${post}:\n${dropColumnSql(table, column, ctx.target.database)}`,
  ];
}

/**
 * The `RunSQL`s that make a filled column NOT NULL without a long lock on PostgreSQL: a CHECK added
 * NOT VALID, validated (SHARE UPDATE EXCLUSIVE: reads and writes go on), which lets PostgreSQL 12+
 * set NOT NULL without scanning the table, then dropped. They belong in a migration with
 * `atomic = False` (`NOT_NULL_NOTE`): in one transaction the ADD's ACCESS EXCLUSIVE lock would be
 * held through the VALIDATE's scan (runsql-adding-constraint-without-not-valid reports that).
 */
export const NOT_NULL_NOTE = "each statement commits on its own, so the VALIDATE does not scan under the ADD's lock";

export function notNullWithoutScan(table: string, column: string): string[] {
  const t = sqlIdent(table);
  const c = sqlIdent(column);
  const check = sqlIdent(djangoIndexName(table, [column], "_notnull"));
  return [
    runSqlLines(`ALTER TABLE ${t} ADD CONSTRAINT ${check} CHECK (${c} IS NOT NULL) NOT VALID;`, `ALTER TABLE ${t} DROP CONSTRAINT IF EXISTS ${check};`),
    runSqlLines(`ALTER TABLE ${t} VALIDATE CONSTRAINT ${check};`, null),
    runSqlLines(`ALTER TABLE ${t} ALTER COLUMN ${c} SET NOT NULL;`, `ALTER TABLE ${t} ALTER COLUMN ${c} DROP NOT NULL;`),
    runSqlLines(`ALTER TABLE ${t} DROP CONSTRAINT ${check};`, null),
  ];
}

/**
 * The step that gives the new column what the field asks of it (NOT NULL, unique, an index) before
 * the model switches to it: the state-only switch says the column has them, and nothing would
 * make them otherwise (Pontoon insights 0025, RapidPro flows 0405). Null when the field asks none.
 */
function finishNewColumn(ctx: OperationContext, after: FieldState, table: string, column: string): string | null {
  const notNull = after.null === false;
  const unique = after.unique && !after.primaryKey;
  const indexed = !unique && after.dbIndex;
  if (!notNull && !unique && !indexed) return null;
  const asks = [notNull ? "NOT NULL" : null, unique ? "unique" : null, indexed ? "indexed" : null].filter((x) => x !== null).join(", ");
  if (ctx.target.database !== "postgresql") {
    return `Once the backfill is done, make \`${column}\` ${asks} (the switch below tells Django it is; \`python manage.py sqlmigrate\` shows the statements for the field)${ctx.target.database === "mysql" ? ", with an online schema change tool on a large table" : ""}.`;
  }
  const t = sqlIdent(table);
  const operations: string[] = [];
  if (notNull) operations.push(...notNullWithoutScan(table, column));
  if (unique) {
    const name = djangoIndexName(table, [column], "_uniq");
    const { sql, reverse } = createIndexConcurrentlySql(name, table, [column], { unique: true });
    operations.push(runSqlLines(sql, reverse), runSqlLines(`ALTER TABLE ${t} ADD CONSTRAINT ${sqlIdent(name)} UNIQUE USING INDEX ${sqlIdent(name)};`, `ALTER TABLE ${t} DROP CONSTRAINT IF EXISTS ${sqlIdent(name)};`));
  } else if (indexed) {
    const { sql, reverse } = createIndexConcurrentlySql(djangoIndexName(table, [column]), table, [column]);
    operations.push(runSqlLines(sql, reverse));
  }
  const like = (unique || indexed) && !after.relation ? likeIndexOpclass(after) : null;
  if (like) {
    const { sql, reverse } = createIndexConcurrentlySql(djangoIndexName(table, [column], "_like"), table, [column], { opclass: like.opclass });
    operations.push(runSqlLines(sql, reverse));
  }
  const concurrent = unique || indexed;
  return `Once the backfill is done, make \`${column}\` ${asks} as the field asks (the switch below tells Django it is), without long locks: one \`RunSQL\` per statement, in a migration with \`atomic = False\`${notNull ? " (the validated CHECK lets PostgreSQL 12+ set NOT NULL without a scan)" : ""}:\n${migrationModule(operations, { atomic: false, note: concurrent ? "CREATE INDEX CONCURRENTLY cannot run in a transaction" : NOT_NULL_NOTE })}`;
}

/**
 * Whether rollsafe cannot tell a field's column type because its class is one it cannot read: not
 * one of Django's, and not a project class it followed to one (a package's class whose module is
 * not in the tree, umap's `DictField` when only `migrations/` is checked, kolibri's
 * `DateTimeTzField`; or one that decides its column itself).
 */
function unreadableClass(field: FieldState, state: ProjectState, database: Database): boolean {
  if (field.relation || field.generated || columnTypeOf(field, state, database) !== null) return false;
  const knownByName = field.type in INTEGER_TYPES || field.type in CHAR_DEFAULT_LENGTH || (field.type in FIXED_TYPES && !CITEXT_FIELDS.has(field.type)) || field.type === "DecimalField";
  return !/^django\./.test(field.qualified) && !knownByName;
}

/**
 * An `AlterField` that moves a column between field classes when one of them is a class rollsafe
 * cannot read (`unreadableClass`): the type may change, so a warning says what to check instead of
 * the silence a known type change would not get (umap 0006: a `DictField` that is a `TextField`,
 * made a `JSONField`, rewrites the table as `text` to `jsonb`). True when it reported.
 */
/** A field's class as messages name it, qualified when the other side's class has the same name (BookWyrm 0178: `CICharField` to a project's `CICharField`). */
function classText(field: FieldState, other: FieldState): string {
  const text = fieldClassText(field);
  return text === fieldClassText(other) && field.qualified ? `\`${field.qualified}\`` : text;
}

function unreadableClassChange(ctx: OperationContext): boolean {
  const altered = alteredExistingField(ctx);
  if (!altered || altered.before.primaryKey || altered.after.primaryKey || altered.before.qualified === altered.after.qualified) return false;
  const { model, name, before, after } = altered;
  const { op } = ctx;
  const db = ctx.target.database;
  const unread = [before, after].filter((f) => unreadableClass(f, ctx.state, db));
  if (unread.length === 0) return false;
  const table = ctx.tableOf(model);
  const column = ctx.columnOf(after) ?? name;
  const known = [before, after].find((f) => !unread.includes(f));
  const knownType = known ? columnTypeOf(known, ctx.state, db) : null;
  const classes = unread.map((f) => `\`${f.qualified || declaredClass(f)}\``).join(" and ");
  // Classes read in their modules whose bases are in none of the run's: when every unread class is one, the finding says where each stopped.
  const bases = unread.flatMap((f) => unreadFieldBase(f) ?? []);
  const followedOut = bases.length === unread.length;
  const sqlmigrate = `python manage.py sqlmigrate ${model.app} ${ctx.migration.name}`;
  ctx.report({
    range: op.range,
    severity: "warning",
    message: `Changing \`${model.name}.${name}\` from ${classText(before, after)} to ${classText(after, before)} may change the type of \`${table}.${column}\`${knownType ? ` (\`${formatColumnType(knownType)}\` ${known === before ? "before" : "after"})` : ""}, and rollsafe cannot ${followedOut ? "follow" : "read"} ${classes}${followedOut ? " to a Django field" : ""}.`,
    help: [
      `${
        followedOut
          ? `rollsafe read ${bases.map((b) => `\`${b.name}\` in ${b.file}`).join(" and ")}, but ${bases.length === 1 ? "it derives" : "they derive"} from ${bases.map((b) => `\`${b.base}\``).join(" and ")}, in no module of the run (a package outside the tree, or a module left out of it), so it cannot tell which Django field ${bases.length === 1 ? "makes the column" : "make the columns"}`
          : `rollsafe follows field classes into the project's modules it is given; ${classes} ${unread.length === 1 ? "is" : "are"} not among them (a package outside the tree, a module left out of the run, or a class that decides its column itself)`
      }. If the column type changes, ${
        db === "postgresql"
          ? `PostgreSQL rewrites \`${table}\` under an ACCESS EXCLUSIVE lock (reads and writes wait), or the migration fails when there is no cast`
          : db === "mysql"
            ? `MySQL copies \`${table}\` while its writes wait`
            : `Django's SQLite backend remakes \`${table}\``
        }.`,
      `1. Run \`${sqlmigrate}\`: no \`ALTER COLUMN ${sqlIdent(column)} TYPE\` (or, on SQLite, no new table) means only the state changes, and this warning can be suppressed with that reason.`,
      "2. If the type changes, add the new type as a new column instead, as `changing-column-type`'s recipe does: write both, backfill in batches, switch with `db_column`, drop the old column after the deploy.",
      followedOut
        ? `3. Or, if ${bases.map((b) => `\`${b.base}\``).join(" and ")} ${bases.length === 1 ? "is" : "are"} the project's, check the directory that holds ${bases.length === 1 ? "its module" : "their modules"} too, so rollsafe can compare the real types (it does not read installed packages).`
        : "3. Or give rollsafe the module that defines the class (check the project's root rather than `migrations/` alone), so it can compare the real types.",
    ],
  });
  return true;
}

/** RS110: `AlterField` that changes a column's database type, rewriting or copying the table. */
export const changingColumnType: Rule = {
  meta: {
    code: "RS110",
    name: "changing-column-type",
    severity: "error",
    databases: ["postgresql", "mysql", "sqlite"],
    claims: ["rewrite", "blocking-lock"],
    hazards: ["H12", "H22", "H35", "H37"],
    docs: {
      summary: "Changing a column's type in a way that rewrites the table",
      what: "Flags `AlterField` on an existing managed table when the field's database type changes (a different field class or `max_digits`/`decimal_places`/`max_length` that changes the type; for a foreign key, the type of the field it points at, `to_field` or the target's primary key) and the engine cannot do it in place. On PostgreSQL the exceptions that are catalog-only are not flagged: a longer or removed `max_length` (`varchar(n)` to a larger `n`, to `varchar` or `text`), `text` to `varchar` without limit, and a larger `max_digits` at the same `decimal_places`. An `ArrayField` has its base field's type as an array: PostgreSQL rewrites the table for any change of the element type (a longer varchar included), and a change between an array and a scalar type other than text fails outright (no cast). On MySQL a longer `varchar` is in place only while it stays on the same side of 63 characters (255 bytes in utf8mb4). Narrowing changes are reported by `narrowing-column` and primary keys by `changing-primary-key-type`. When the field moves to or from a class rollsafe cannot read (a package outside the checked tree, or a class that decides its column itself), the type may change or not: a warning says so and how to check (`sqlmigrate`).",
      why: "PostgreSQL runs `ALTER COLUMN ... TYPE ... USING ...`, which rewrites the whole table and rebuilds its indexes while holding an ACCESS EXCLUSIVE lock: every read and write on the table waits until the rewrite is done. MySQL copies the table (ALGORITHM=COPY), blocking writes for the whole copy; SQLite remakes the table. A cast that some row cannot take (text to integer) fails the migration, and the old release may write values of the old type that the new column rejects.",
      recipe: [
        "Add a new nullable column with the new type.",
        "Ship a release that writes both columns; backfill the new one in batches.",
        "Switch the model to the new column with `db_column` in a state-only change.",
        "Drop the old column in a post-deploy migration.",
      ],
      severityReason: "Error on PostgreSQL and MySQL: the table is locked against writes (PostgreSQL: reads too) for as long as the rewrite takes. Warning on SQLite, which remakes the table but rarely serves a rolling deploy, and for a class rollsafe cannot read, whose column may not change.",
      bad: `migrations.AlterField(
    model_name="book",
    name="pages",
    field=models.BigIntegerField(null=True),
)`,
      good: `migrations.AlterField(
    model_name="book",
    name="title",
    field=models.CharField(max_length=300),
)`,
    },
  },
  operationKinds: ["AlterField"],
  operation(ctx) {
    if (unreadableClassChange(ctx)) return;
    const facts = readTypeChange(ctx);
    if (!facts || facts.change !== "rewrite" || facts.before.primaryKey || facts.after.primaryKey) return;
    const { model, name, table, column, beforeType, afterType } = facts;
    const from = formatColumnType(beforeType);
    const to = formatColumnType(afterType);
    const db = ctx.target.database;
    const help: string[] = [];
    const noCast = db === "postgresql" && arrayCastExists(beforeType, afterType) === false;
    if (noCast) {
      help.push(`PostgreSQL has no cast from \`${from}\` to \`${to}\`: \`ALTER TABLE ${table} ALTER COLUMN ${column} TYPE ${to} USING ${column}::${to}\` fails with "cannot cast type ${from} to ${to}" whatever the rows, so the change can only be made through a new column.`);
    } else if (db === "postgresql") {
      help.push(
        `PostgreSQL runs \`ALTER TABLE ${table} ALTER COLUMN ${column} TYPE ${to} USING ${column}::${to}\`: it rewrites every row of \`${table}\` and rebuilds its indexes under an ACCESS EXCLUSIVE lock, so every read and write on the table waits for the rewrite.`,
      );
    } else if (db === "mysql") {
      help.push(
        `MySQL cannot change \`${column}\` from \`${from}\` to \`${to}\` in place: it copies the whole of \`${table}\` (ALGORITHM=COPY), and writes to the table are blocked for the whole copy.`,
      );
    } else {
      help.push(
        `Django's SQLite backend remakes \`${table}\`: it creates a new table, copies every row and swaps it in, holding the database's write lock for the whole copy. This matters only if a SQLite database serves traffic during the deploy.`,
      );
    }
    const textual = (base: string) => base === "varchar" || base === "text" || base === "longtext";
    if (noCast) {
      // Said above.
    } else if (db === "postgresql" && truncatesOnCast(facts, ctx.state)) {
      // A uuid's text is 36 characters: a shorter varchar cuts every value.
      help.push(
        beforeType.base === "uuid" && (afterType.length ?? 36) < 36
          ? `The cast cuts every existing value: a uuid's text is 36 characters, \`${to}\` keeps ${afterType.length}, and PostgreSQL truncates on an explicit cast without an error. The data is lost and the migration succeeds.`
          : `The cast cuts existing values longer than ${afterType.length} characters without an error (PostgreSQL truncates on an explicit cast to \`${to}\`): the data is lost and the migration succeeds.`,
      );
    } else if (!(textual(beforeType.base) && textual(afterType.base)) && beforeType.base !== afterType.base) {
      help.push(`Every existing value must convert from \`${from}\` to \`${to}\`; one that does not fails the migration, and the old release keeps writing \`${from}\` values while it runs.`);
    }
    // SQLite stores every varchar and text value with TEXT affinity and checks no length: the
    // column is the same, and only Django's state needs the change (kolibri auth 0010).
    const sqliteText =
      db === "sqlite" &&
      textual(beforeType.base) &&
      textual(afterType.base) &&
      databaseChanges(facts.before, facts.after, "sqlite").every((key) => key === "max_length" || key === "type" || key === "class");
    const steps = sqliteText
      ? [
          `SQLite does not enforce a varchar's length: \`${from}\` and \`${to}\` are the same TEXT column, so make the change in Django's state only, and SQLite keeps the table:\n${code(separateDatabaseAndState([`${alterFieldSource(model.key, name, pyValue(ctx.op.args.field))},`], []))}`,
        ]
      : newColumnSteps(ctx, facts);
    if (db === "mysql") steps.push(`Or, instead of these steps, run this change with an online schema-change tool (${onlineSchemaChangeTools(ctx.state.hasForeignKeys(model))}) and keep the migration state-only.`);
    ctx.report({
      range: ctx.op.range,
      message: noCast
        ? `Changing \`${model.name}.${name}\` from \`${from}\` to \`${to}\` fails: PostgreSQL has no cast between them.`
        : `Changing \`${model.name}.${name}\` from \`${from}\` to \`${to}\` ${db === "sqlite" ? "remakes" : db === "mysql" ? "copies" : "rewrites"} \`${table}\`${db === "sqlite" ? "" : db === "mysql" ? " while blocking writes" : " while blocking reads and writes"}.`,
      help: [...help, ...steps.map((s, i) => `${i + 1}. ${s}`)],
      severity: db === "sqlite" ? "warning" : undefined,
      related: facts.before.origin ? [ctx.relatedAt(facts.before.origin, `\`${model.name}.${name}\` was defined as \`${from}\` here`)] : undefined,
    });
  },
};
