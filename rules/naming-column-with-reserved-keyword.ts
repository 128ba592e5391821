import type { Database, OperationContext, Rule } from "../src/engine/rule-types.js";
import type { SourceRange } from "../src/model/types.js";
import { columnOf, createdFields, defaultTableName, fieldFromCall, literalBool, literalString, type FieldState, dictOf } from "../src/state/model-state.js";
import { addFieldSnippet, code, fieldWith, py } from "../src/advice/snippets.js";

/**
 * PostgreSQL 15's reserved key words: `SELECT word FROM pg_get_keywords() WHERE catcode IN ('R', 'T')`
 * ("reserved" and "reserved (can be function or type)" in Appendix C), read from PostgreSQL 15.18.
 * Each was checked there: `CREATE TABLE t (<word> int)` fails unquoted, and for `user`,
 * `current_date`, `null`, `true`... `SELECT <word> FROM t` silently returns the key word's value
 * instead of the column. Non-reserved and "C" (column name) key words work unquoted and are left out.
 */
const POSTGRESQL = new Set(
  "all analyse analyze and any array as asc asymmetric authorization binary both case cast check collate collation column concurrently constraint create cross current_catalog current_date current_role current_schema current_time current_timestamp current_user default deferrable desc distinct do else end except false fetch for foreign freeze from full grant group having ilike in initially inner intersect into is isnull join lateral leading left like limit localtime localtimestamp natural not notnull null offset on only or order outer overlaps placing primary references returning right select session_user similar some symmetric table tablesample then to trailing true union unique user using variadic verbose when where window with".split(
    " ",
  ),
);

/**
 * MySQL 8.0's reserved words: the words marked (R) in the manual's "Keywords and Reserved Words in
 * MySQL 8.0" (MySQL Server Version Reference, section 7.2), including those added during 8.0
 * (`lateral` 8.0.14, `intersect` 8.0.31) and `_filename`, cross-checked against skeema's curated
 * per-version list (internal/tengo/keyword.go). Words reserved only from 8.2/8.4 on (`manual`,
 * `parallel`, `qualify`, `tablesample`) are left out. Not checked on a MySQL server (none here).
 */
const MYSQL = new Set(
  "_filename accessible add all alter analyze and as asc asensitive before between bigint binary blob both by call cascade case change char character check collate column condition constraint continue convert create cross cube cume_dist current_date current_time current_timestamp current_user cursor database databases day_hour day_microsecond day_minute day_second dec decimal declare default delayed delete dense_rank desc describe deterministic distinct distinctrow div double drop dual each else elseif empty enclosed escaped except exists exit explain false fetch first_value float float4 float8 for force foreign from fulltext function generated get grant group grouping groups having high_priority hour_microsecond hour_minute hour_second if ignore in index infile inner inout insensitive insert int int1 int2 int3 int4 int8 integer intersect interval into io_after_gtids io_before_gtids is iterate join json_table key keys kill lag last_value lateral lead leading leave left like limit linear lines load localtime localtimestamp lock long longblob longtext loop low_priority master_bind master_ssl_verify_server_cert match maxvalue mediumblob mediumint mediumtext middleint minute_microsecond minute_second mod modifies natural no_write_to_binlog not nth_value ntile null numeric of on optimize optimizer_costs option optionally or order out outer outfile over partition percent_rank precision primary procedure purge range rank read read_write reads real recursive references regexp release rename repeat replace require resignal restrict return revoke right rlike row row_number rows schema schemas second_microsecond select sensitive separator set show signal smallint spatial specific sql sql_big_result sql_calc_found_rows sql_small_result sqlexception sqlstate sqlwarning ssl starting stored straight_join system table terminated then tinyblob tinyint tinytext to trailing trigger true undo union unique unlock unsigned update usage use using utc_date utc_time utc_timestamp values varbinary varchar varcharacter varying virtual when where while window with write xor year_month zerofill".split(
    " ",
  ),
);

/**
 * SQLite's key words (`sqlite3_keyword_name`, 147 in SQLite 3.40) that break when used unquoted,
 * checked on SQLite 3.40.1: those that fail as a column name in CREATE TABLE, SELECT, INSERT or
 * WHERE/ORDER BY, plus `current_date`, `current_time` and `current_timestamp`, which parse but
 * silently read the clock instead of the column. SQLite accepts the other key words as identifiers.
 */
const SQLITE = new Set(
  "add all alter and as autoincrement between case cast check collate commit constraint create current_date current_time current_timestamp default deferrable delete distinct drop else escape except exists foreign from group having if in index insert intersect into is isnull join limit not nothing notnull null on or order primary raise references returning select set table then to transaction union unique update using values when where".split(
    " ",
  ),
);

const LISTS: Record<Database, { words: Set<string>; label: string; quote: (name: string) => string }> = {
  postgresql: { words: POSTGRESQL, label: "PostgreSQL", quote: (n) => `"${n}"` },
  mysql: { words: MYSQL, label: "MySQL 8.0", quote: (n) => `\`${n}\`` },
  sqlite: { words: SQLITE, label: "SQLite", quote: (n) => `"${n}"` },
};

function isReserved(ctx: OperationContext, name: string): boolean {
  return LISTS[ctx.target.database].words.has(name.toLowerCase());
}

/** RS905 (opt-in): a column or table named with a reserved key word of the target database. */
export const namingColumnWithReservedKeyword: Rule = {
  meta: {
    code: "RS905",
    name: "naming-column-with-reserved-keyword",
    severity: "warning",
    databases: ["postgresql", "mysql", "sqlite"],
    optIn: true,
    claims: [],
    hazards: ["H64"],
    docs: {
      summary: "A column or table named with a reserved key word of the database (opt-in)",
      what: "Flags the column names (after Django's naming: `db_column`, or the field name with `_id` for a foreign key) and table names (`db_table`, the default `<app>_<model>`, explicit many-to-many `db_table`) that `CreateModel`, `AddField`, `AlterField`, `RenameField`, `RenameModel` and `AlterModelTable` give a managed model, when the name is a reserved key word of the target database: PostgreSQL 15's reserved key words, MySQL 8.0's reserved words, or the SQLite key words that break unquoted. A foreign key `user` is stored as `user_id` and is not flagged.",
      why: "Django quotes every identifier, so the ORM works, but everything else that reads the table does not: raw SQL, `RunSQL` in later migrations, database views, reporting and BI tools, ETL jobs and `psql` sessions must quote the name every time or fail with a syntax error. Some key words do not even fail: on PostgreSQL `SELECT user FROM library_book` returns the session user, not the column.",
      recipe: [
        "Keep the Python name and store it under another column: `models.IntegerField(db_column=\"sort_order\")`, or another table with `Meta.db_table`.",
        "For an existing column, renaming it is itself a rolling-deploy hazard: leave it and quote it in raw SQL.",
      ],
      severityReason: "Warning: a naming problem for other consumers of the schema, not a deploy failure.",
      bad: `migrations.AddField(
    model_name="book",
    name="order",
    field=models.IntegerField(null=True),
)`,
      good: `migrations.AddField(
    model_name="book",
    name="order",
    field=models.IntegerField(db_column="sort_order", null=True),
)`,
    },
  },
  operationKinds: ["CreateModel", "AddField", "AlterField", "RenameField", "RenameModel", "AlterModelTable"],
  operation(ctx) {
    const { op } = ctx;
    if (op.unknown || ctx.effect === "state") return;
    switch (op.kind) {
      case "CreateModel":
        return createModel(ctx);
      case "AddField":
      case "AlterField":
        return addOrAlterField(ctx);
      case "RenameField":
        return renameField(ctx);
      case "RenameModel":
        return renameModel(ctx);
      case "AlterModelTable":
        return alterModelTable(ctx);
    }
  },
};

function reportColumn(ctx: OperationContext, range: SourceRange, model: { name: string; key: string }, table: string, field: FieldState, column: string, isNew: boolean): void {
  const list = LISTS[ctx.target.database];
  const other = `${model.key}_${column}`;
  const steps = isNew && field.call
    ? [
        `1. Keep the Python name \`${field.name}\` and store it under another column:\n${
          ctx.op.kind === "CreateModel"
            ? code(`(${py(field.name)}, ${fieldWith(field.call, { db_column: py(other) })}),`)
            : addFieldSnippet(model.key, field.name, fieldWith(field.call, { db_column: py(other) }))
        }`,
      ]
    : [`1. Renaming an existing column is itself a rolling-deploy hazard: keep \`${column}\` and quote it (\`${list.quote(column)}\`) wherever SQL outside Django reads it; pick a non-reserved name the next time.`];
  ctx.report({
    range,
    message: `Column \`${column}\` of \`${model.name}\` (table \`${table}\`) is a reserved word in ${list.label}.`,
    help: [
      `Django quotes it, but raw SQL, later \`RunSQL\`, views and reporting tools must write \`${list.quote(column)}\` every time or fail with a syntax error${ctx.target.database === "postgresql" && ["user", "current_user", "session_user", "current_role", "current_date", "current_time", "current_timestamp", "localtime", "localtimestamp", "current_catalog", "current_schema", "null", "true", "false", "all"].includes(column.toLowerCase()) ? ` (or, worse, silently read the key word: \`SELECT ${column} FROM ${table}\` does not return the column)` : ""}.`,
      ...steps,
    ],
  });
}

function reportTable(ctx: OperationContext, range: SourceRange, model: string, table: string, explicit: boolean): void {
  const list = LISTS[ctx.target.database];
  ctx.report({
    range,
    message: `Table \`${table}\` of \`${model}\` is a reserved word in ${list.label}.`,
    help: [
      `Django quotes it, but raw SQL, later \`RunSQL\`, views and reporting tools must write \`${list.quote(table)}\` every time or fail with a syntax error.`,
      `1. ${explicit ? "Choose another `db_table`" : "Pin a non-reserved table name"}: \`options={"db_table": ${py(explicit ? `${ctx.migration.app}_${table}` : `${table}s`)}}\` (\`class Meta: db_table = ...\` in the model).`,
    ],
  });
}

function createModel(ctx: OperationContext): void {
  const { op } = ctx;
  const options = dictOf(op.args.options);
  if (literalBool(options.managed) === false || literalBool(options.proxy) === true) return;
  const name = literalString(op.args.name);
  if (!name) return;
  const key = name.toLowerCase();
  const explicit = literalString(options.db_table);
  const table = explicit ?? defaultTableName(ctx.migration.app, key);
  if (isReserved(ctx, table)) reportTable(ctx, options.db_table?.range ?? op.range, name, table, explicit !== null);
  for (const { name: fieldName, call } of createdFields(op.args.fields)) {
    checkField(ctx, { name, key }, table, fieldFromCall(fieldName, call, ctx.migration.app, key, null), call.range, true);
  }
}

function checkField(ctx: OperationContext, model: { name: string; key: string }, table: string, field: FieldState, range: SourceRange, isNew: boolean): void {
  const column = columnOf(field);
  if (column !== null && isReserved(ctx, column)) reportColumn(ctx, range, model, table, field, column, isNew);
  const m2mTable = field.relation?.kind === "m2m" && !field.relation.through ? field.relation.dbTable : null;
  if (m2mTable && isReserved(ctx, m2mTable)) reportTable(ctx, field.kwargs.db_table?.range ?? range, `${model.name}.${field.name}`, m2mTable, true);
}

function addOrAlterField(ctx: OperationContext): void {
  const { op } = ctx;
  const model = ctx.model(literalString(op.args.model_name));
  const name = literalString(op.args.name);
  if (!model || !name || !op.args.field || !ctx.hasTable(model)) return;
  const after = fieldFromCall(name, op.args.field, model.app, model.key, null);
  if (op.kind === "AlterField") {
    const before = model.fields.get(name);
    // Only a change of name is new: an unchanged column was reported when it was added.
    if (!before || columnOf(before) === columnOf(after)) return;
  }
  checkField(ctx, model, ctx.tableOf(model), after, op.args.field.range, op.kind === "AddField");
}

function renameField(ctx: OperationContext): void {
  const { op } = ctx;
  const model = ctx.model(literalString(op.args.model_name));
  const oldName = literalString(op.args.old_name);
  const newName = literalString(op.args.new_name);
  if (!model || !oldName || !newName || !ctx.hasTable(model)) return;
  const field = model.fields.get(oldName);
  // A pinned db_column keeps the column: the rename is state-only.
  if (!field || field.dbColumn || field.relation?.kind === "m2m") return;
  const column = columnOf({ ...field, name: newName });
  if (column !== null && isReserved(ctx, column)) reportColumn(ctx, op.range, model, ctx.tableOf(model), { ...field, name: newName }, column, false);
}

function renameModel(ctx: OperationContext): void {
  const { op } = ctx;
  const model = ctx.model(literalString(op.args.old_name));
  const newName = literalString(op.args.new_name);
  if (!model || !newName || !ctx.hasTable(model) || model.dbTable) return;
  const table = defaultTableName(model.app, newName.toLowerCase());
  if (isReserved(ctx, table)) reportTable(ctx, op.range, newName, table, false);
}

function alterModelTable(ctx: OperationContext): void {
  const { op } = ctx;
  const model = ctx.model(literalString(op.args.name));
  const table = literalString(op.args.table);
  if (!model || !table || !ctx.hasTable(model)) return;
  if (isReserved(ctx, table)) reportTable(ctx, op.args.table?.range ?? op.range, model.name, table, true);
}
