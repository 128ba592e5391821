/**
 * Copy-pasteable Django snippets for the advice, filled with the user's real names. Rules compose
 * their numbered steps from these so that every recipe spells operations the same way.
 */
import { createHash } from "node:crypto";
import type { DeployStage, PyValue } from "../model/types.js";
import type { Target } from "../engine/rule-types.js";
import { className, fieldClassOf, relationKind } from "../state/model-state.js";

/** A Python string literal: double quotes, or single quotes when that avoids escapes. */
export function py(value: string): string {
  const json = JSON.stringify(value).replace(/\\u([0-9a-f]{4})/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)));
  if (value.includes('"') && !value.includes("'")) return `'${json.slice(1, -1).replace(/\\"/g, '"')}'`;
  return json;
}

/**
 * A quoted SQL identifier as `database` reads it: backquotes on MySQL (whose default `sql_mode`
 * reads double quotes as a string), double quotes elsewhere.
 */
export function sqlIdent(name: string, database: Target["database"] = "postgresql"): string {
  return database === "mysql" ? `\`${name.replace(/`/g, "``")}\`` : `"${name.replace(/"/g, '""')}"`;
}

/** The error a query on a column that is gone gets, as `database` words it. */
export function missingColumnError(column: string, database: Target["database"]): string {
  if (database === "mysql") return `Unknown column '${column}' in 'field list'`;
  if (database === "sqlite") return `no such column: ${column}`;
  return `column "${column}" does not exist`;
}

/** The error a query on a table that is gone gets, as `database` words it. */
export function missingTableError(table: string, database: Target["database"]): string {
  if (database === "mysql") return `Table '<database>.${table}' doesn't exist`;
  if (database === "sqlite") return `no such table: ${table}`;
  return `relation "${table}" does not exist`;
}

/**
 * The statement that drops a column no release uses any more. PostgreSQL's `IF EXISTS` lets the
 * migration run again where the column is gone; MySQL and SQLite have no `IF EXISTS` there
 * (MariaDB has, MySQL 8 has not).
 */
export function dropColumnStatement(table: string, column: string, database: Target["database"]): string {
  const ifExists = database === "postgresql" ? " IF EXISTS" : "";
  return `ALTER TABLE ${sqlIdent(table, database)} DROP COLUMN${ifExists} ${sqlIdent(column, database)}`;
}

/** The statement that drops tables no release uses any more: SQLite's `DROP TABLE` takes one table, so one statement each there. */
export function dropTablesStatement(tables: readonly string[], database: Target["database"]): string {
  if (database === "sqlite") return tables.map((t) => `DROP TABLE IF EXISTS ${sqlIdent(t, database)};`).join(" ");
  return `DROP TABLE IF EXISTS ${tables.map((t) => sqlIdent(t, database)).join(", ")}`;
}

/**
 * Python source for a value read from a migration. Values are rendered from the model rather
 * than sliced from a file, because state can carry a field from an earlier migration's file.
 */
export function pyValue(value: PyValue | null | undefined): string {
  if (!value) return "None";
  switch (value.kind) {
    case "str":
      return py(value.value);
    case "bytes":
      return `b${py(value.value)}`;
    case "int":
    case "float":
      return value.text;
    case "bool":
      return value.value ? "True" : "False";
    case "none":
      return "None";
    case "name":
      return value.name;
    case "list":
      return `[${value.items.map(pyValue).join(", ")}]`;
    case "tuple":
      return value.items.length === 1 ? `(${pyValue(value.items[0])},)` : `(${value.items.map(pyValue).join(", ")})`;
    case "set":
      // `{}` is an empty dict in Python.
      return value.items.length === 0 ? "set()" : `{${value.items.map(pyValue).join(", ")}}`;
    case "dict":
      return `{${value.entries.map((e) => `${pyValue(e.key)}: ${pyValue(e.value)}`).join(", ")}}`;
    case "call":
      return `${value.callee}(${[...value.args.map(pyValue), ...Object.entries(value.kwargs).map(([k, v]) => `${k}=${pyValue(v)}`)].join(", ")})`;
    case "opaque":
      return value.text;
  }
}

/** Names as a message lists them: each in backticks, separated by commas. */
export function codeList(names: readonly string[]): string {
  return names.map((n) => `\`${n}\``).join(", ");
}

/** A fenced block for help text. */
export function code(lines: string): string {
  return "```python\n" + lines + "\n```";
}

export function sqlCode(lines: string): string {
  return "```sql\n" + lines + "\n```";
}

/** Whether the target Django version has a feature introduced in `major.minor`. */
export function djangoHas(target: Target, major: number, minor: number): boolean {
  const [a, b] = target.django;
  return a > major || (a === major && b >= minor);
}

/** How to mark a migration post-deploy, in the style the project already uses. */
export function postDeployMarker(style: "syzygy" | "safemigrate" | "sentry" | null): string {
  switch (style) {
    case "syzygy":
      return "`stage = Stage.POST_DEPLOY` (django-syzygy)";
    case "safemigrate":
      return "`safe = Safe.after_deploy()` (django-safemigrate)";
    case "sentry":
      return "`is_post_deployment = True`";
    default:
      return "post-deploy (`safe = Safe.after_deploy()` with django-safemigrate, `stage = Stage.POST_DEPLOY` with django-syzygy, or run it only after the new release is live)";
  }
}

/** Describes a stage for messages. */
export function stageName(stage: DeployStage): string {
  return stage === "post" ? "post-deploy" : stage === "always" ? "any-time" : "pre-deploy";
}

/** `SeparateDatabaseAndState` that removes a field from state only. */
export function stateOnlyRemoveField(modelKey: string, field: string): string {
  return code(
    [
      "migrations.SeparateDatabaseAndState(",
      "    state_operations=[",
      `        migrations.RemoveField(model_name=${py(modelKey)}, name=${py(field)}),`,
      "    ],",
      "    database_operations=[],",
      ")",
    ].join("\n"),
  );
}

/** `SeparateDatabaseAndState` that deletes a model from state only. */
export function stateOnlyDeleteModel(modelName: string, removedFields: readonly string[] = []): string {
  const deletion = `migrations.DeleteModel(name=${py(modelName)})`;
  if (removedFields.length === 0) {
    return code(["migrations.SeparateDatabaseAndState(", `    state_operations=[${deletion}],`, "    database_operations=[],", ")"].join("\n"));
  }
  // The removals of its fields first, as the migration has them (Django's order for relations).
  const key = modelName.toLowerCase();
  return code(
    [
      "migrations.SeparateDatabaseAndState(",
      "    state_operations=[",
      ...removedFields.map((field) => `        migrations.RemoveField(model_name=${py(key)}, name=${py(field)}),`),
      `        ${deletion},`,
      "    ],",
      "    database_operations=[],",
      ")",
    ].join("\n"),
  );
}

/**
 * The online schema change tools for a MySQL table: gh-ost does not support tables with foreign
 * keys (either side), pt-online-schema-change does (`--alter-foreign-keys-method`).
 */
export function onlineSchemaChangeTools(foreignKeys: boolean): string {
  return foreignKeys ? "pt-online-schema-change with `--alter-foreign-keys-method` (gh-ost does not support tables with foreign keys)" : "gh-ost, pt-online-schema-change";
}

/** The later, post-deploy drop of a column. */
export function dropColumnSql(table: string, column: string, database: Target["database"]): string {
  return code(
    [
      "migrations.RunSQL(",
      `    ${py(dropColumnStatement(table, column, database))},`,
      "    reverse_sql=migrations.RunSQL.noop,",
      ")",
    ].join("\n"),
  );
}

/**
 * The later drop of a column by Django's own schema editor, for a field the state no longer has:
 * an inner `SeparateDatabaseAndState` puts the field back into the state the database operations
 * see, and the `RemoveField` after it drops the column. For SQLite, whose `ALTER TABLE` cannot
 * drop a unique, indexed or foreign-key column, Django rebuilds the table where it must.
 */
export function schemaEditorDropField(modelKey: string, field: string, fieldCall: string): string {
  return code(
    [
      "migrations.SeparateDatabaseAndState(",
      "    database_operations=[",
      "        migrations.SeparateDatabaseAndState(",
      `            state_operations=[migrations.AddField(model_name=${py(modelKey)}, name=${py(field)}, field=${fieldCall})],`,
      "        ),",
      `        migrations.RemoveField(model_name=${py(modelKey)}, name=${py(field)}),`,
      "    ],",
      ")",
    ].join("\n"),
  );
}

/** The later, post-deploy drop of tables. */
export function dropTablesSql(tables: readonly string[], database: Target["database"]): string {
  return code(
    [
      "migrations.RunSQL(",
      `    ${py(dropTablesStatement(tables, database))},`,
      "    reverse_sql=migrations.RunSQL.noop,",
      ")",
    ].join("\n"),
  );
}

/** A field call with extra/overridden keyword arguments, keeping the rest as written. */
export function fieldWith(call: PyValue | null, overrides: Record<string, string>, drop: string[] = []): string {
  if (!call || call.kind !== "call") return `models.Field(${Object.entries(overrides).map(([k, v]) => `${k}=${v}`).join(", ")})`;
  const parts: string[] = [];
  for (const arg of call.args) parts.push(pyValue(arg));
  for (const [name, value] of Object.entries(call.kwargs)) {
    if (name in overrides || drop.includes(name)) continue;
    parts.push(`${name}=${pyValue(value)}`);
  }
  for (const [name, value] of Object.entries(overrides)) parts.push(`${name}=${value}`);
  // A foreign key of a migration written before Django 2.0 has no `on_delete` (CASCADE then):
  // Django 2.0+ requires it, so the copy says what the field has always done.
  const kind = relationKind(fieldClassOf(call));
  if ((kind === "fk" || kind === "o2o") && call.args.length < 2 && !("on_delete" in call.kwargs) && !("on_delete" in overrides) && !call.hasSplat) parts.push("on_delete=models.CASCADE");
  // NullBooleanField is gone from Django 4.0 except in historical migrations (new code using it
  // fails the fields.E903 check): the copy is the BooleanField(null=True) it has been since 2.1,
  // the same column.
  if (className(call) === "NullBooleanField" && call.callee.endsWith("NullBooleanField")) {
    if (!("null" in call.kwargs) && !("null" in overrides)) parts.push("null=True");
    return `${call.callee.slice(0, -"NullBooleanField".length)}BooleanField(${parts.join(", ")})`;
  }
  return `${call.callee}(${parts.join(", ")})`;
}

/**
 * An `AlterField` that pins `field` to its current `column` (`db_column`), then the `RenameField`
 * to `newName`: only the Python attribute is renamed, and Django emits no SQL. Unfenced, one
 * operation a line.
 */
export function pinnedRenameSource(modelKey: string, field: string, call: PyValue | null, column: string, newName: string): string {
  return [
    `migrations.AlterField(model_name=${py(modelKey)}, name=${py(field)}, field=${fieldWith(call, { db_column: py(column) })}),`,
    `migrations.RenameField(model_name=${py(modelKey)}, old_name=${py(field)}, new_name=${py(newName)}),`,
  ].join("\n");
}

/** `migrations.AlterField(...)` for a field with overrides. */
export function alterFieldSnippet(modelKey: string, field: string, fieldCall: string): string {
  return code(alterFieldSource(modelKey, field, fieldCall));
}

/** The source of `migrations.AlterField(...)`, unfenced (for a list of operations). */
export function alterFieldSource(modelKey: string, field: string, fieldCall: string): string {
  return `migrations.AlterField(\n    model_name=${py(modelKey)},\n    name=${py(field)},\n    field=${fieldCall},\n)`;
}

/**
 * An `AlterField` that only changes Python-side options Django keeps no trace of in the database
 * (`default`, `auto_now`), and why it is written the way it is. `_field_should_be_altered` does
 * not ignore `default`, so `_alter_field` runs: nothing on a plain PostgreSQL or MySQL column, but
 * a foreign key's constraint is dropped and re-added (every row validated), and SQLite remakes the
 * table. Those get the change in Django's state only, which is all it is.
 */
export function defaultOnlyAlterField(modelKey: string, field: string, fieldCall: string, options: { foreignKey: boolean; database: Target["database"]; what: string }): { text: string; why: string } {
  const { foreignKey, database, what } = options;
  if (!foreignKey && database !== "sqlite") return { text: alterFieldSnippet(modelKey, field, fieldCall), why: `an \`AlterField\` that only changes ${what} emits no SQL` };
  return {
    text: code(separateDatabaseAndState([alterFieldSource(modelKey, field, fieldCall)], [])),
    why: `${foreignKey ? `an \`AlterField\` of a foreign key drops and re-adds its constraint, validating every row, even when only ${what} changes` : `SQLite remakes the table for an \`AlterField\` even when only ${what} changes`}, and the database keeps nothing of it, so make the change in Django's state only`,
  };
}

/**
 * The `AlterField` that drops a relation's foreign-key constraint and nothing else
 * (`db_constraint=False`; for a `ManyToManyField`, both of its join table's).
 */
export function dropForeignKeySnippet(modelKey: string, field: { name: string; call: PyValue | null }): string {
  return alterFieldSnippet(modelKey, field.name, fieldWith(field.call, { db_constraint: "False" }));
}

/** `migrations.AddField(...)` for a field with overrides. */
export function addFieldSnippet(modelKey: string, field: string, fieldCall: string): string {
  return code(`migrations.AddField(\n    model_name=${py(modelKey)},\n    name=${py(field)},\n    field=${fieldCall},\n)`);
}

/**
 * The database expression for a Python default, when one is known: a literal (and a literal
 * `timedelta`) stays as is, `timezone.now` becomes `Now()`; callables without a database twin
 * return null.
 */
export function dbDefaultFor(value: PyValue | null): string | null {
  if (!value) return null;
  switch (value.kind) {
    case "str":
    case "bytes":
    case "int":
    case "float":
    case "bool":
    case "none":
      return pyValue(value);
    case "name":
      if (/(^|\.)(timezone\.)?now$/.test(value.qualified) || /django\.utils\.timezone\.now$/.test(value.qualified)) {
        return "django.db.models.functions.Now()";
      }
      return null;
    case "call":
      // A literal timedelta: Value() of it is a DurationField constant on every backend.
      return literalTimedelta(value) === null ? null : pyValue(value);
    default:
      return null;
  }
}

export { djangoIndexName, djangoModelIndexName } from "../state/model-state.js";

/** Field classes whose PostgreSQL column is `varchar` (Django's `data_types`), or `text`. */
const VARCHAR_FIELDS = new Set([
  "CharField",
  "SlugField",
  "EmailField",
  "URLField",
  "FileField",
  "ImageField",
  "FilePathField",
  "CommaSeparatedIntegerField",
]);

/**
 * The operator class of the extra `<index>_like` index Django's PostgreSQL schema editor builds
 * for an indexed or unique varchar/text column (`_create_like_index_sql`), or null when it builds
 * none. Fields with a `db_collation` may be non-deterministic, for which Django skips it: "maybe".
 */
export function likeIndexOpclass(field: { type: string; relation: unknown; kwargs: Record<string, PyValue> }): {
  opclass: "varchar_pattern_ops" | "text_pattern_ops";
  certain: boolean;
} | null {
  if (field.relation) return null;
  const opclass = VARCHAR_FIELDS.has(field.type) ? "varchar_pattern_ops" : field.type === "TextField" ? "text_pattern_ops" : null;
  if (!opclass) return null;
  return { opclass, certain: field.kwargs.db_collation === undefined };
}

/** `migrations.RunSQL(sql, reverse_sql=...)` lines, indented by `indent` spaces. */
export function runSqlLines(sql: string, reverseSql: string | null, indent = 0): string {
  const pad = " ".repeat(indent);
  return [
    `${pad}migrations.RunSQL(`,
    `${pad}    ${py(sql)},`,
    `${pad}    reverse_sql=${reverseSql === null ? "migrations.RunSQL.noop" : py(reverseSql)},`,
    `${pad}),`,
  ].join("\n");
}

/** `ALTER TABLE ... ALTER COLUMN ... SET NOT NULL` (or `DROP NOT NULL` when `nullable`) as a `RunSQL`, with the opposite as its reverse. */
export function nullabilityRunSql(table: string, column: string, nullable: boolean): string {
  const alter = `ALTER TABLE ${sqlIdent(table)} ALTER COLUMN ${sqlIdent(column)}`;
  const [forward, reverse] = nullable ? ["DROP NOT NULL", "SET NOT NULL"] : ["SET NOT NULL", "DROP NOT NULL"];
  return runSqlLines(`${alter} ${forward};`, `${alter} ${reverse};`);
}

/** A literal default as a PostgreSQL constant (`'text'`, `42`, `true`), or null when it is not a plain literal. */
export function sqlConstant(value: PyValue | null): string | null {
  switch (value?.kind) {
    case "str":
      return `'${value.value.replace(/'/g, "''")}'`;
    case "int":
    case "float":
      return Number.isFinite(value.value) ? value.text : null;
    case "bool":
      return value.value ? "true" : "false";
    default:
      return null;
  }
}

/**
 * The PostgreSQL default that matches a container default (`default=list`, `default=dict`, a
 * literal list or dict) of a JSON, array or hstore column: the value Django wrote into the
 * existing rows (`ADD COLUMN ... DEFAULT ARRAY['draft', ...]`; PostHog adds such columns with
 * `DEFAULT '[]'::jsonb` in SQL). A JSON column takes any literal (JSON of Python's value, as
 * `JSONField.get_db_prep_value` dumps it); an array column a list of constants; hstore only `{}`.
 * Null otherwise, and for `None` (Django stores SQL NULL).
 */
export function containerDefault(value: PyValue | null, fieldType: string): string | null {
  const empty =
    value?.kind === "name" && (value.name === "list" || value.name === "dict")
      ? value.name
      : (value?.kind === "list" || value?.kind === "tuple") && value.items.length === 0
        ? "list"
        : value?.kind === "dict" && value.entries.length === 0
          ? "dict"
          : null;
  if (/JSONField$/.test(fieldType)) {
    const json = empty === "list" ? "[]" : empty === "dict" ? "{}" : value && value.kind !== "none" ? jsonOf(value) : null;
    return json === null ? null : `'${json.replace(/'/g, "''")}'::jsonb`;
  }
  if (/ArrayField$/.test(fieldType)) {
    if (empty === "list") return "'{}'";
    if (value?.kind !== "list" && value?.kind !== "tuple") return null;
    const items = value.items.map(sqlConstant);
    return items.every((item) => item !== null) ? `ARRAY[${items.join(", ")}]` : null;
  }
  if (/HStoreField$/.test(fieldType) && empty === "dict") return "''::hstore";
  return null;
}

/** JSON text of a Python literal (what `json.dumps` writes, up to spacing), or null when it is not one. */
function jsonOf(value: PyValue): string | null {
  switch (value.kind) {
    case "str":
      return JSON.stringify(value.value);
    case "int":
    case "float":
      return Number.isFinite(value.value) ? String(value.value) : null;
    case "bool":
      return value.value ? "true" : "false";
    case "none":
      return "null";
    case "list":
    case "tuple": {
      const items = value.items.map(jsonOf);
      return items.every((item) => item !== null) ? `[${items.join(", ")}]` : null;
    }
    case "dict": {
      const entries = value.entries.map(({ key, value: v }) => (key.kind === "str" ? [JSON.stringify(key.value), jsonOf(v)] : [null, null]));
      return entries.every(([k, v]) => k !== null && v !== null) ? `{${entries.map(([k, v]) => `${k}: ${v}`).join(", ")}}` : null;
    }
    default:
      return null;
  }
}

/** Microseconds in each of `datetime.timedelta`'s arguments, in its positional order. */
const TIMEDELTA_UNITS: readonly (readonly [string, number])[] = [
  ["days", 86_400_000_000],
  ["seconds", 1_000_000],
  ["microseconds", 1],
  ["milliseconds", 1_000],
  ["minutes", 60_000_000],
  ["hours", 3_600_000_000],
  ["weeks", 604_800_000_000],
];

/**
 * A `datetime.timedelta(...)` of number literals as Python normalises it (seconds 0–86399,
 * microseconds 0–999999, the sign in the days), or null for anything else.
 */
export function literalTimedelta(value: PyValue | null): { days: number; seconds: number; microseconds: number } | null {
  if (value?.kind !== "call" || value.qualified !== "datetime.timedelta" || value.hasSplat || value.args.length > TIMEDELTA_UNITS.length) return null;
  let total = 0;
  const given = [...value.args.map((arg, i) => [TIMEDELTA_UNITS[i]?.[0] ?? "", arg] as const), ...Object.entries(value.kwargs)];
  for (const [name, arg] of given) {
    const unit = TIMEDELTA_UNITS.find(([n]) => n === name)?.[1];
    if (unit === undefined || (arg.kind !== "int" && arg.kind !== "float") || !Number.isFinite(arg.value)) return null;
    total += arg.value * unit;
  }
  // Python rounds the total to a whole microsecond, half to even.
  const floor = Math.floor(total);
  const micros = total - floor === 0.5 ? (floor % 2 === 0 ? floor : floor + 1) : Math.round(total);
  if (!Number.isSafeInteger(micros)) return null;
  const days = Math.floor(micros / 86_400_000_000);
  const rest = micros - days * 86_400_000_000;
  return { days, seconds: Math.floor(rest / 1_000_000), microseconds: rest % 1_000_000 };
}

/**
 * A `DurationField`'s literal `timedelta` default as the PostgreSQL interval Django writes for it
 * (psycopg2 adapts a timedelta as `'<days> days <seconds>.<micro> seconds'::interval`), or null.
 */
function intervalConstant(value: PyValue | null): string | null {
  const delta = literalTimedelta(value);
  return delta === null ? null : `'${delta.days} days ${delta.seconds}.${String(delta.microseconds).padStart(6, "0")} seconds'::interval`;
}

/**
 * The step that gives a column added by `AddField` its database default in the same migration
 * (PostgreSQL, before Django 5.0's `db_default`): an atomic migration commits both together, and
 * SET DEFAULT changes only the catalog. Null when the default is not a plain literal.
 */
export function setDefaultStep(table: string, column: string, value: PyValue | null, fieldType?: string): string | null {
  const now = value?.kind === "name" && /(^|\.)(timezone\.)?now$/.test(value.qualified);
  const constant = (fieldType === undefined ? null : containerDefault(value, fieldType)) ?? sqlConstant(value) ?? (now ? "now()" : null) ?? (fieldType === "DurationField" ? intervalConstant(value) : null);
  if (constant === null) return null;
  const alter = `ALTER TABLE ${sqlIdent(table)} ALTER COLUMN ${sqlIdent(column)}`;
  return `Keep this \`AddField\`, and right after it, in the same (atomic) migration, give the column the same default in the database: both commit together, so the old release's INSERTs get ${constant} (SET DEFAULT changes only the catalog):\n${code(runSqlLines(`${alter} SET DEFAULT ${constant};`, `${alter} DROP DEFAULT;`))}`;
}

/** `CREATE [UNIQUE] INDEX CONCURRENTLY IF NOT EXISTS` (partial with `where`) and its reverse, for a `RunSQL`. */
export function createIndexConcurrentlySql(
  name: string,
  table: string,
  columns: string[],
  options: { unique?: boolean; opclass?: string; where?: string | null; using?: string; expression?: string } = {},
): { sql: string; reverse: string } {
  const cols = options.expression ?? columns.map((c) => `${sqlIdent(c)}${options.opclass ? ` ${options.opclass}` : ""}`).join(", ");
  return {
    sql: `CREATE ${options.unique ? "UNIQUE " : ""}INDEX CONCURRENTLY IF NOT EXISTS ${sqlIdent(name)} ON ${sqlIdent(table)}${options.using ? ` USING ${options.using}` : ""} (${cols})${options.where ? ` WHERE ${options.where}` : ""};`,
    reverse: `DROP INDEX CONCURRENTLY IF EXISTS ${sqlIdent(name)};`,
  };
}

/** Whitespace right before a line end or the end of the text: where `\s+$` (multiline) can match. */
const BEFORE_LINE_END = /\s(?=[\n\r\u2028\u2029]|$)/;

/**
 * `text.replace(/\s+$/gm, "")`: trailing whitespace and blank lines removed. The test first
 * skips the replace (which backtracks over every run of indentation) when nothing can match.
 */
function trimLineEnds(text: string): string {
  return BEFORE_LINE_END.test(text) ? text.replace(/\s+$/gm, "") : text;
}

/** A migration module skeleton holding `operations`, with `atomic = False` when asked. */
export function migrationModule(operations: string[], options: { atomic: boolean; imports?: string[]; note?: string }): string {
  const given = options.imports ?? [];
  return code(
    [
      ...given,
      ...moduleImports(operations.join("\n")).filter((line) => !given.includes(line)),
      "from django.db import migrations, models",
      "",
      "",
      "class Migration(migrations.Migration):",
      ...(options.atomic ? [] : [`    atomic = False${options.note ? `  # ${options.note}` : ""}`]),
      "    dependencies = [...]  # the previous migration of the app",
      "    operations = [",
      ...operations.map((o) => trimLineEnds(o.replace(/^/gm, "        "))),
      "    ]",
    ].join("\n"),
  );
}

/** Modules a migration refers to by their dotted path, as makemigrations imports them (`import django.db.models.deletion`). */
const DOTTED_MODULES = new Set(["django", "uuid", "datetime", "decimal"]);

/**
 * The imports of the migration whose operations the rules are reading (name -> qualified name, as
 * `ParsedMigration.imports` holds them), set by the replay for each migration: the user's own
 * operations copied into advice use the names the migration imports (`FlexibleForeignKey`,
 * `sentry.db.models.indexes...`), and an advice module imports them as the migration does.
 */
let adviceImports: Readonly<Record<string, string>> | null = null;

/** Sets the imports advice modules take their names from (null: none, between migrations). */
export function setAdviceImports(imports: Readonly<Record<string, string>> | null): void {
  adviceImports = imports;
}

/** Names every advice module binds itself. */
const TEMPLATE_NAMES = new Set(["migrations", "models"]);

/** The import line that binds `name` as the migration binds it (`qualified`: `a.b.Name`, `.x`, or a module). */
function importLineFor(name: string, qualified: string, dotted: string): string {
  if (qualified === name) {
    // `import a.b.c` binds `a`: the module path the code goes through, less the attribute it reads.
    const path = dotted.replace(/\.[^.]+$/, "");
    return `import ${path === "" ? name : path}`;
  }
  // `from ..utils import x` is `..utils.x`; `from . import x` is `.x`.
  const [, dots = "", rest = ""] = /^(\.*)(.*)$/.exec(qualified) ?? [];
  const dot = rest.lastIndexOf(".");
  const target = rest.slice(dot + 1);
  const alias = target === name ? "" : ` as ${name}`;
  if (dot < 0) return dots ? `from ${dots} import ${target}${alias}` : `import ${rest} as ${name}`;
  return `from ${dots}${rest.slice(0, dot)} import ${target}${alias}`;
}

/**
 * The import lines a migration module needs for the names its operations use besides
 * `migrations` and `models`: `settings` (`from django.conf import settings`), and dotted
 * references such as `django.db.models.deletion.CASCADE` or `uuid.uuid4` (`import
 * django.db.models.deletion`, `import uuid`), as the user's own operations, copied into advice,
 * write them, the names they use that the migration imports (see `setAdviceImports`), and
 * Django's `timezone` (`from django.utils import timezone`) when the migration binds no such name.
 * Strings and comments are left out of the search.
 */
export function moduleImports(source: string): string[] {
  const code = source.replace(/("""|\'\'\'|"|')(?:\\.|(?!\1)[^\\])*?\1/gs, '""').replace(/#[^\n]*/g, "");
  const lines = new Set<string>();
  for (const match of code.matchAll(/(?<![\w.])([A-Za-z_]\w*)((?:\.[A-Za-z_]\w*)*)/g)) {
    const head = match[1] as string;
    const rest = match[2] as string;
    if (head === "settings" && rest !== "") lines.add("from django.conf import settings");
    else if (head === "django" && rest !== "") lines.add(`import ${`${head}${rest}`.replace(/\.[^.]+$/, "")}`);
    else if (DOTTED_MODULES.has(head) && rest !== "") lines.add(`import ${head}`);
    else {
      // A name the migration imports (a field class of the project, `Q`, a module it goes through).
      const qualified = adviceImports?.[head];
      if (qualified !== undefined && !TEMPLATE_NAMES.has(head) && Object.hasOwn(adviceImports ?? {}, head)) lines.add(importLineFor(head, qualified, `${head}${rest}`));
      // Django's `timezone`, which advice writes (`timezone.now()`) where the migration never imported it.
      else if (head === "timezone" && rest !== "") lines.add("from django.utils import timezone");
    }
  }
  const moduleOf = (line: string) => line.replace(/^(from|import) /, "");
  return [...lines].sort((a, b) => (moduleOf(a) < moduleOf(b) ? -1 : 1));
}

/** `SeparateDatabaseAndState` source with the given (already rendered) inner operations. */
export function separateDatabaseAndState(stateOperations: string[], databaseOperations: string[]): string {
  const inner = (ops: string[]) => ops.map((o) => o.replace(/^/gm, "        ")).join("\n");
  // An empty side is left out: Django's default for both is no operations.
  const side = (name: string, ops: string[]) => (ops.length === 0 ? [] : [`    ${name}=[`, inner(ops), "    ],"]);
  return ["migrations.SeparateDatabaseAndState(", ...side("state_operations", stateOperations), ...side("database_operations", databaseOperations), "),"].join("\n");
}

/** `migrations.RunSQL(...)` with its reverse (`RunSQL.noop` when null). */
export function runSqlSnippet(sql: string, reverseSql: string | null): string {
  return code(
    [
      "migrations.RunSQL(",
      `    sql=${py(sql)},`,
      `    reverse_sql=${reverseSql === null ? "migrations.RunSQL.noop" : py(reverseSql)},`,
      ")",
    ].join("\n"),
  );
}

/** A migration class holding `operations` that runs outside a transaction (`atomic = False`). */
export function nonAtomicMigration(operations: string[], extra: string[] = []): string {
  return code(
    [
      "class Migration(migrations.Migration):",
      "    atomic = False",
      ...extra.map((line) => `    ${line}`),
      "",
      "    operations = [",
      ...operations.map((op) => op.split("\n").map((line) => `        ${line}`).join("\n") + ","),
      "    ]",
    ].join("\n"),
  );
}

/** The SQL-level expand step that makes a lock wait fail fast instead of queueing traffic. */
export function lockTimeoutSql(timeout = "5s"): string {
  return `SET LOCAL lock_timeout = '${timeout}'`;
}

/** The operation that makes a lock wait give up after 5 s, first in an atomic migration. */
export const LOCK_TIMEOUT_OPERATION = `migrations.RunSQL(${py(lockTimeoutSql("5s"))}, migrations.RunSQL.noop),`;

/** The error an INSERT that leaves out a NOT NULL column without default gets, per engine. */
export function notNullViolation(database: Target["database"], table: string, column: string): string {
  switch (database) {
    case "mysql":
      return `"Field '${column}' doesn't have a default value" (in strict mode; without it MySQL silently stores '' or 0)`;
    case "sqlite":
      return `"NOT NULL constraint failed: ${table}.${column}"`;
    default:
      return `"null value in column "${column}" violates not-null constraint"`;
  }
}

/** The error an INSERT or UPDATE that writes NULL into a NOT NULL column gets, per engine (MySQL's checked on MariaDB 10.11). */
export function explicitNullViolation(database: Target["database"], table: string, column: string): string {
  switch (database) {
    case "mysql":
      return `"Column '${column}' cannot be null"`;
    case "sqlite":
      return `"NOT NULL constraint failed: ${table}.${column}"`;
    default:
      return `"null value in column "${column}" of relation "${table}" violates not-null constraint"`;
  }
}

/** The error a DELETE of a row a foreign key constraint still references gets, per engine. */
export function foreignKeyViolation(database: Target["database"]): string {
  switch (database) {
    case "mysql":
      return `"Cannot delete or update a parent row: a foreign key constraint fails"`;
    case "sqlite":
      return `"FOREIGN KEY constraint failed"`;
    default:
      return `"violates foreign key constraint"`;
  }
}

/** The error a UNIQUE constraint or index gets from two rows of one value, per engine. */
export function uniqueViolation(database: Target["database"]): string {
  switch (database) {
    case "mysql":
      return `"Duplicate entry ... for key"`;
    case "sqlite":
      return `"UNIQUE constraint failed"`;
    default:
      return `"could not create unique index"`;
  }
}

/**
 * The name of one partition's index in the per-partition recipe: `<partition>_<index>`, cut to
 * PostgreSQL's 63 bytes with a hash suffix when longer (PostgreSQL would truncate it silently).
 */
export function partitionIndexName(partition: string, index: string): string {
  const full = `${partition}_${index}`;
  if (Buffer.byteLength(full) <= 63) return full;
  const digest = createHash("md5").update(full).digest("hex").slice(0, 8);
  let head = full.slice(0, 54);
  while (Buffer.byteLength(head) > 54) head = head.slice(0, -1);
  return `${head.replace(/_+$/, "")}_${digest}`;
}

/** An index to build on a partitioned table without blocking writes (see {@link partitionedIndexOperations}). */
export interface PartitionedIndexPlan {
  /** The partitioned parent table. */
  parent: string;
  /** The parent's index name. */
  index: string;
  /** What follows `ON <table>` in `CREATE INDEX`: `("kind", "created" DESC)`, `USING gin (...) WHERE ...`; null: unknown. */
  definition: string | null;
  unique: boolean;
  /** The partitions known; empty: a `<partition>` placeholder, to repeat for each partition. */
  partitions: string[];
}

/**
 * The `RunSQL` operations that build an index on a partitioned table without CONCURRENTLY on the
 * parent (which PostgreSQL refuses): `CREATE INDEX ... ON ONLY <parent>` makes an INVALID parent
 * index without reading rows (a brief SHARE lock on the parent alone), then per partition
 * `CREATE INDEX CONCURRENTLY` (SHARE UPDATE EXCLUSIVE: reads and writes go on) and
 * `ALTER INDEX ... ATTACH PARTITION`; the parent's index turns valid once every partition's is
 * attached. Every statement is safe to re-run (`IF NOT EXISTS`; attaching twice is a no-op).
 * Checked on PostgreSQL 15. Each is its own `RunSQL`: several statements in one string run as
 * one transaction, where CONCURRENTLY is refused.
 */
export function partitionedIndexOperations(plan: PartitionedIndexPlan): string[] {
  const unique = plan.unique ? "UNIQUE " : "";
  const definition = plan.definition ?? "(...)";
  const out = [
    "# The parent's index: created INVALID, reads no rows (DROP INDEX on it also drops the partitions' indexes).",
    runSqlLines(`CREATE ${unique}INDEX IF NOT EXISTS ${sqlIdent(plan.index)} ON ONLY ${sqlIdent(plan.parent)} ${definition}`, `DROP INDEX IF EXISTS ${sqlIdent(plan.index)}`),
  ];
  for (const p of partitionTargets(plan.partitions, plan.index)) {
    out.push(
      p.placeholder ? repeatForEveryPartition(plan.parent, "these two ") : `# Partition ${p.partition}: build concurrently, then attach.`,
      runSqlLines(`CREATE ${unique}INDEX CONCURRENTLY IF NOT EXISTS ${p.child} ON ${p.table} ${definition}`, null),
      runSqlLines(`ALTER INDEX ${sqlIdent(plan.index)} ATTACH PARTITION ${p.child}`, null),
    );
  }
  return out;
}

/** One partition in a per-partition recipe: its name, how SQL names it, and the quoted name of its copy of the parent's object. */
export interface PartitionTarget {
  partition: string;
  /** The partitions are not known: one round with `<partition>` placeholders, to repeat for each. */
  placeholder: boolean;
  table: string;
  child: string;
}

/**
 * The partitions a per-partition recipe goes through, each with the name of its copy of the
 * parent's `name` (kept within PostgreSQL's 63 bytes); a single `<partition>` placeholder round
 * when the partitions are not known (the table is partitioned by configuration).
 */
export function partitionTargets(partitions: readonly string[], name: string): PartitionTarget[] {
  if (partitions.length === 0) return [{ partition: "<partition>", placeholder: true, table: "<partition>", child: `"<partition>_${name}"` }];
  return partitions.map((partition) => ({ partition, placeholder: false, table: sqlIdent(partition), child: sqlIdent(partitionIndexName(partition, name)) }));
}

/** The comment that asks to repeat a placeholder round for each partition, with the query that lists them. */
export function repeatForEveryPartition(parent: string, what = ""): string {
  return `# Repeat ${what}for every partition (SELECT inhrelid::regclass FROM pg_inherits WHERE inhparent = '${parent}'::regclass).`;
}

/**
 * `RunSQL` operations that add a UNIQUE constraint to a partitioned table without building its
 * index under a lock: PostgreSQL refuses `CREATE INDEX CONCURRENTLY` and `ADD CONSTRAINT ... USING
 * INDEX` on the parent, but not on a partition. Each partition gets its unique index concurrently
 * and then its constraint from it; the parent's `ADD CONSTRAINT` then adopts the partitions'
 * constraints (checked on PostgreSQL 15: no index is built, the partitions' become its children).
 */
export function partitionedUniqueConstraintOperations(plan: { parent: string; partitions: string[]; name: string; columns: string[]; deferrable: string | null }): string[] {
  const columns = `(${plan.columns.map((c) => sqlIdent(c)).join(", ")})`;
  const deferrable = plan.deferrable ? ` DEFERRABLE INITIALLY ${plan.deferrable}` : "";
  const out: string[] = [];
  for (const p of partitionTargets(plan.partitions, plan.name)) {
    out.push(
      p.placeholder
        ? repeatForEveryPartition(plan.parent, "these two ")
        : `# Partition ${p.partition}: build the unique index concurrently, then make it the partition's constraint (brief lock, no scan).`,
      runSqlLines(`CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS ${p.child} ON ${p.table} ${columns}`, null),
      runSqlLines(`ALTER TABLE ${p.table} ADD CONSTRAINT ${p.child} UNIQUE USING INDEX ${p.child}${deferrable}`, null),
    );
  }
  out.push(
    "# The parent's constraint adopts the partitions' constraints: it builds no index and reads no rows.",
    runSqlLines(`ALTER TABLE ${sqlIdent(plan.parent)} ADD CONSTRAINT ${sqlIdent(plan.name)} UNIQUE ${columns}${deferrable}`, `ALTER TABLE ${sqlIdent(plan.parent)} DROP CONSTRAINT IF EXISTS ${sqlIdent(plan.name)}`),
  );
  return out;
}

/**
 * A whole `atomic = False` migration holding {@link partitionedIndexOperations}, inside
 * `SeparateDatabaseAndState` when Django's state must record the index (`stateOperations`,
 * already rendered, e.g. `migrations.AddIndex(...),`).
 */
export function partitionedIndexMigration(plan: PartitionedIndexPlan, stateOperations: string[]): string {
  const operations = partitionedIndexOperations(plan);
  return migrationModule(stateOperations.length > 0 ? [separateDatabaseAndState(stateOperations, operations)] : operations, {
    atomic: false,
    note: "CREATE INDEX CONCURRENTLY cannot run in a transaction",
  });
}

/**
 * The steps (without numbers) of building an index on a partitioned table, for the rules whose
 * usual advice, `CREATE INDEX CONCURRENTLY` on the table, PostgreSQL refuses there.
 */
export function partitionedIndexSteps(plan: PartitionedIndexPlan, stateOperations: string[]): string[] {
  const steps = [
    `Build the index partition by partition, in a migration of its own with \`atomic = False\`: \`CREATE INDEX ... ON ONLY\` gives \`${plan.parent}\` an INVALID index without reading any rows (a brief SHARE lock on the parent alone), then each partition's index is built CONCURRENTLY (SHARE UPDATE EXCLUSIVE: reads and writes go on) and attached; the parent's index turns valid when the last partition's index is attached${stateOperations.length > 0 ? ". `SeparateDatabaseAndState` keeps the index in Django's state" : ""}:\n${partitionedIndexMigration(plan, stateOperations)}`,
  ];
  if (plan.definition === null) {
    steps.push("Fill in the column list `(...)`: `python manage.py sqlmigrate <app> <migration>` prints the `CREATE INDEX` Django would run; copy what follows `ON <table>`.");
  }
  steps.push(
    plan.partitions.length > 0
      ? `The migrations create the partitions ${plan.partitions.map((p) => `\`${p}\``).join(", ")} of \`${plan.parent}\`; check \`pg_inherits\` for partitions made outside them, and give a partition that is itself partitioned the same steps one level down. Partitions created later get the index automatically.`
      : `Repeat the two per-partition statements for every partition of \`${plan.parent}\` (\`SELECT inhrelid::regclass FROM pg_inherits WHERE inhparent = '${plan.parent}'::regclass\` lists them); a partition that is itself partitioned needs the same steps one level down. Partitions created later get the index automatically.`,
  );
  return steps;
}
