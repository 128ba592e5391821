/**
 * Model state as Django's `ProjectState` holds it, plus the database names Django derives from it
 * (`Options.db_table`, `Field.column`, `ManyToManyField.m2m_db_table`).
 */
import { createHash } from "node:crypto";
import type { ForcedKeywords, Operation, PyValue, SourceRange } from "../model/types.js";
import { fieldParams } from "../model/django-operations.js";
import { modelSettingDefault } from "../model/model-settings.js";

/** Where something was last defined, for "related" locations in findings. */
export interface Origin {
  migration: string;
  file: string;
  range: SourceRange;
}

/** A relation target. */
export interface RelationInfo {
  kind: "fk" | "o2o" | "m2m";
  /** `app.model` lower-cased, or null when the target is not static. */
  to: string | null;
  dbConstraint: boolean;
  /** Explicit `through` model (`app.model`), for M2M. */
  through: string | null;
  /** Explicit M2M `db_table`. */
  dbTable: string | null;
}

/** One field of a model in state. */
export interface FieldState {
  name: string;
  /** Field class name as written (`CharField`, `ForeignKey`, `MyCustomField`). */
  type: string;
  /** Fully qualified class, when known (`django.db.models.CharField`). */
  qualified: string;
  /** Explicit `db_column`, or null. */
  dbColumn: string | null;
  /** `True`/`False`, or null when the value is not a literal. */
  null: boolean | null;
  hasDefault: boolean;
  default: PyValue | null;
  hasDbDefault: boolean;
  dbDefault: PyValue | null;
  unique: boolean;
  /**
   * The name of the constraint that makes the column unique (its PRIMARY KEY or UNIQUE
   * constraint) as PostgreSQL holds it, which depends on how it was made: inline in CREATE TABLE
   * or ADD COLUMN, PostgreSQL names it (`<table>_pkey`, `<table>_<column>_key`); added by an
   * `AlterField`, Django does (`..._pk`, `..._uniq`). Renames keep it. Null when the field has
   * none, or when no operation rollsafe follows made it (an unmanaged table).
   */
  uniqueConstraint: string | null;
  dbIndex: boolean;
  primaryKey: boolean;
  maxLength: number | null;
  maxDigits: number | null;
  decimalPlaces: number | null;
  relation: RelationInfo | null;
  /** `GeneratedField`: stored (`db_persist=True`) or virtual. */
  generated: { stored: boolean } | null;
  /** Every keyword as written (positional ones mapped), for rules that need more. */
  kwargs: Record<string, PyValue>;
  /** The field call itself. */
  call: PyValue | null;
  origin: Origin | null;
  /**
   * The migration whose `AddField` added the column (kept through later renames and alterations),
   * when one did: a column added by the migration being checked is one the old release never used.
   */
  addedIn?: string;
  /**
   * The column the field had when `migration` began, when an operation of that migration moved it
   * (a `RenameField`, an `AlterField` that changes `db_column` or makes a foreign key of a plain
   * field): a later `AlterField` that moves it back (ArchiveBox crawls 0014: `persona_id` renamed
   * to `persona`, then `db_column="persona_id"`) renames nothing the old release sees.
   */
  columnBefore?: { migration: string; column: string | null };
  /**
   * The tables the field's FOREIGN KEY constraint was named after (`<table>_<column>_<hash>_fk_<ref
   * table>_<ref column>`), when one of them was renamed since without Django making the constraint
   * again: PostgreSQL keeps a constraint's name through `ALTER TABLE ... RENAME`, and Django finds
   * the constraint it drops by introspection (Baserow core 0046-0048). Absent: the current tables.
   */
  fkNamedFor?: { table: string; refTable: string };
}

/** One model in state. */
export interface ModelState {
  app: string;
  /** Model name as written in CreateModel. */
  name: string;
  /** Lower-cased name: Django's `model_name`. */
  key: string;
  fields: Map<string, FieldState>;
  /** Explicit `db_table`, or null for the default `<app_label>_<model_name>`. */
  dbTable: string | null;
  managed: boolean;
  proxy: boolean;
  /** Base model references (`app.model`, lower-cased) from `bases`. */
  bases: string[];
  uniqueTogether: string[][];
  indexTogether: string[][];
  indexes: IndexState[];
  constraints: ConstraintState[];
  /**
   * The table the indexes Django named for the model (`<table>_<column>_<hash>`, `_like`, `_idx`,
   * `_uniq`) were named after, when its table was renamed since, with the fields and sets they
   * were made for: `ALTER TABLE ... RENAME` keeps index names, and they stay taken in the schema
   * (EvaP evaluation 0091-0092). Absent: the current table.
   */
  indexesNamedFor?: { table: string; fields: string[]; together: string[][] };
  /**
   * The names Django gave the `unique_together` constraints and `index_together` indexes when it
   * made them (`_uniq`/`_idx` of the table and the columns then), by `togetherKey`: a later
   * `RenameField` keeps them (Django finds them by their columns; Funkwhale federation 0014).
   */
  togetherNames?: Record<string, string>;
  /**
   * The `CreateModel`'s `fields` could not all be read (a name or a call instead of a list, a
   * `*` spread, an entry without a literal name): fields rollsafe does not know may exist.
   */
  fieldsIncomplete?: boolean;
  /** Migration id that created it. */
  createdIn: string;
  origin: Origin | null;
}

export interface IndexState {
  name: string;
  fields: string[];
  unique: boolean;
  hasCondition: boolean;
  value: PyValue;
}

export interface ConstraintState {
  name: string;
  kind: "unique" | "check" | "exclusion" | "other";
  fields: string[];
  hasCondition: boolean;
  value: PyValue;
  /** Added by `AddConstraintNotValid` and not validated since (`ValidateConstraint`): PostgreSQL does not rely on it. */
  notValid?: true;
}

/**
 * The tables of Django's contrib models (Django 4.2's `db_table`s, the default name for auth's),
 * whose migrations a project's run seldom includes: a foreign key to `settings.AUTH_USER_MODEL`
 * left as `auth.User`, or to a `ContentType`, still names its table in advice.
 */
const CONTRIB_TABLES: Readonly<Record<string, string>> = {
  "auth.user": "auth_user",
  "auth.group": "auth_group",
  "auth.permission": "auth_permission",
  "contenttypes.contenttype": "django_content_type",
  "sites.site": "django_site",
  "admin.logentry": "django_admin_log",
  "redirects.redirect": "django_redirect",
  "flatpages.flatpage": "django_flatpage",
};

/** The table of a contrib model that is not in the run's state (its primary key is `id`), or null. */
export function contribTable(key: string): string | null {
  return CONTRIB_TABLES[key.toLowerCase()] ?? null;
}

/** Field calls whose `to_field` names their target's primary key (see `notePrimaryKeyToFields`). */
const primaryKeyToFields = new WeakSet<object>();

/**
 * Records the field calls of `operations` (a migration's, read against `modelByKey`, the state
 * before it) whose `to_field` names the target model's primary key: `ForeignKey.deconstruct`
 * leaves such a `to_field` out, so Django sees no change when a migration adds or drops it
 * (pulpcore 0010's `to_field='pulp_id'` on foreign keys to models whose key is `pulp_id`:
 * `sqlmigrate` prints "(no-op)").
 */
export function notePrimaryKeyToFields(operations: readonly Operation[], app: string, modelByKey: (key: string) => ModelState | undefined): void {
  const note = (call: Extract<PyValue, { kind: "call" }>, modelKey: string | null) => {
    if (!modelKey || call.kwargs.to_field === undefined) return;
    const toField = literalString(call.kwargs.to_field);
    // `id` is always the primary key (Django's check models.E004 refuses an `id` that is not),
    // also of a model outside the run (Misago's `to_field="id"` on foreign keys to its user).
    if (toField === "id") {
      primaryKeyToFields.add(call);
      return;
    }
    const field = toField === null ? null : fieldFromCall("", call, app, modelKey, null);
    const target = field?.relation?.to ? modelByKey(field.relation.to) : undefined;
    if (target && primaryKeyOf(target)?.name === toField) primaryKeyToFields.add(call);
  };
  for (const { call, created, op } of fieldCalls(operations)) if (call.kwargs.to_field !== undefined) note(call, fieldCallModel(op, created));
}

/**
 * Every field call of the operations, with the operation it belongs to: `AddField`/
 * `AlterField`'s `field`, and (`created`) a `CreateModel`'s `fields`, also inside a
 * `SeparateDatabaseAndState`.
 */
export function* fieldCalls(ops: readonly Operation[]): Generator<{ call: Extract<PyValue, { kind: "call" }>; created: boolean; op: Operation }> {
  for (const op of ops) {
    if (op.databaseOperations) yield* fieldCalls(op.databaseOperations);
    if (op.stateOperations) yield* fieldCalls(op.stateOperations);
    const field = op.args.field;
    if (field?.kind === "call") yield { call: field, created: false, op };
    if (op.args.fields) for (const { call } of createdFields(op.args.fields)) if (call.kind === "call") yield { call, created: true, op };
  }
}

/** The key of the model a field call of `fieldCalls` belongs to (asked only when needed: most callers never do). */
function fieldCallModel(op: Operation, created: boolean): string | null {
  return literalString(created ? op.args.name : op.args.model_name)?.toLowerCase() ?? null;
}

/** Whether a field's `to_field` is absent or names its target's primary key: the key it references is the primary key. */
export function referencesPrimaryKey(field: FieldState): boolean {
  const toField = field.kwargs.to_field;
  return toField === undefined || toField.kind === "none" || (field.call !== null && primaryKeyToFields.has(field.call));
}

/**
 * The table of a model the run's state does not have, by its `app.model` key (`auth.User` behind
 * `settings.AUTH_USER_MODEL`, the parent of a proxy in an app left out): a contrib model's table
 * (`contenttypes.ContentType` is `django_content_type`), else Django's default name.
 */
export function outsideTable(key: string): string {
  const dot = key.indexOf(".");
  return contribTable(key) ?? defaultTableName(key.slice(0, dot), key.slice(dot + 1).toLowerCase());
}

/**
 * A validated CHECK constraint of the model that says `field IS NOT NULL`
 * (`CheckConstraint(condition=Q(<field>__isnull=False))`, `check=` before Django 5.1), added with
 * `AddConstraint` or with `AddConstraintNotValid` and then `ValidateConstraint`; null when none.
 */
export function validatedNotNullCheck(model: ModelState, field: string): string | null {
  for (const c of model.constraints) {
    if (c.kind !== "check" || c.notValid || c.value.kind !== "call") continue;
    const q = c.value.kwargs.condition ?? c.value.kwargs.check;
    if (q?.kind !== "call" || !/(^|\.)Q$/.test(q.qualified) || q.args.length > 0 || q.hasSplat) continue;
    const entries = Object.entries(q.kwargs);
    if (entries.length === 1 && entries[0]?.[0] === `${field}__isnull` && entries[0][1].kind === "bool" && !entries[0][1].value) return c.name;
  }
  return null;
}

/** The names the model's columns' UNIQUE constraints have taken (PostgreSQL names a new one around them). */
export function uniqueConstraintNames(model: ModelState): Set<string> {
  return new Set([...model.fields.values()].flatMap((f) => (f.uniqueConstraint ? [f.uniqueConstraint] : [])));
}

/** PostgreSQL's identifier limit (`NAMEDATALEN - 1`), which Django's backend reports. */
export const MAX_NAME_LENGTH = 63;

/** Django's `django.db.backends.utils.truncate_name`, with the 4-character md5 digest. */
export function truncateName(identifier: string, length = MAX_NAME_LENGTH, hashLength = 4): string {
  if (identifier.length <= length) return identifier;
  const digest = createHash("md5").update(identifier).digest("hex").slice(0, hashLength);
  return `${identifier.slice(0, length - hashLength)}${digest}`;
}

/**
 * The longest name `_create_index_name` makes on the run's database: `max_name_length()`, 63 on
 * PostgreSQL, 64 on MySQL, and none on SQLite (Django then takes 200). Set once per run.
 */
let indexNameLength = 63;

/** Sets the longest index and constraint name for the run's database (see `indexNameLength`). */
export function setIndexNameLength(database: string): void {
  indexNameLength = database === "mysql" ? 64 : database === "sqlite" ? 200 : 63;
}

/**
 * Django's `BaseDatabaseSchemaEditor._create_index_name` with the run's database's limit:
 * `<table>_<columns>_<md5(table + columns)[:8]><suffix>`, shortened the same way when too long.
 * Gives the real names of field indexes (`""`, `"_like"`), `"_uniq"`, `"_idx"`, `"_check"` and
 * foreign keys (`"_fk_<to_table>_<to_column>"`) (evennia objects 0007 on MySQL: a 64-character
 * foreign-key name that PostgreSQL's limit would have shortened).
 */
export function djangoIndexName(table: string, columns: string[], suffix = "", maxLength = indexNameLength): string {
  const digest = createHash("md5").update([table, ...columns].join("")).digest("hex").slice(0, 8);
  let hashSuffix = `${digest}${suffix}`;
  const full = `${table}_${columns.join("_")}_${hashSuffix}`;
  if (full.length <= maxLength) return full;
  if (hashSuffix.length > maxLength / 3) hashSuffix = hashSuffix.slice(0, Math.floor(maxLength / 3));
  const other = Math.floor((maxLength - hashSuffix.length) / 2) - 1;
  let name = `${table.slice(0, other)}_${columns.join("_").slice(0, other)}_${hashSuffix}`;
  if (name[0] === "_" || /^[0-9]/.test(name)) name = `D${name.slice(0, -1)}`;
  return name;
}

/**
 * The name Django gives an index declared without one (`Index.set_name_with_model`): at most 30
 * characters, `<table[:11]>_<first column[:7]>_<md5(table + columns + suffix)[:6]>_<suffix>`; a
 * column in descending order counts as `-<column>` in the digest.
 */
export function djangoModelIndexName(table: string, columns: string[], suffix = "idx"): string {
  const bare = table.includes('"') ? (table.split(".").pop() ?? table).replace(/"/g, "") : table;
  const digest = createHash("md5").update([bare, ...columns, suffix].join("")).digest("hex").slice(0, 6);
  const name = `${bare.slice(0, 11)}_${(columns[0] ?? "").replace(/^-/, "").slice(0, 7)}_${digest}_${suffix}`;
  return name[0] === "_" || /^[0-9]/.test(name) ? `D${name.slice(1)}` : name;
}

/** An identifier as PostgreSQL stores it: cut to 63 bytes, at a character boundary (`truncate_identifier`). */
function pgIdentifier(name: string): Buffer {
  const bytes = Buffer.from(name);
  return bytes.length <= MAX_NAME_LENGTH ? bytes : clipBytes(bytes, MAX_NAME_LENGTH);
}

/** The longest prefix of `bytes` of at most `length` bytes that ends on a UTF-8 character boundary (`pg_mbcliplen`). */
function clipBytes(bytes: Buffer, length: number): Buffer {
  let end = length;
  while (end > 0 && end < bytes.length && ((bytes[end] ?? 0) & 0xc0) === 0x80) end--;
  return bytes.subarray(0, end);
}

/**
 * The name PostgreSQL chooses for a constraint written without one (`ChooseRelationName` with
 * `makeObjectName`): `<table>_<column>_<label>` (`<table>_<label>` without a column), the longer
 * of table and column shortened first until it fits in 63 bytes; on a clash with a name in
 * `taken`, the label is numbered (`key1`, `key2`...). Django's CREATE TABLE and ADD COLUMN write
 * `PRIMARY KEY` and `UNIQUE` inline, so PostgreSQL names them `<table>_pkey` and
 * `<table>_<column>_key`.
 */
export function postgresConstraintName(table: string, column: string | null, label: string, taken: ReadonlySet<string> = new Set()): string {
  const name1 = pgIdentifier(table);
  const name2 = column === null ? null : pgIdentifier(column);
  for (let pass = 0; ; pass++) {
    const suffix = pass === 0 ? label : `${label}${pass}`;
    const available = MAX_NAME_LENGTH - (name2 ? 1 : 0) - (suffix.length + 1);
    let length1 = name1.length;
    let length2 = name2?.length ?? 0;
    while (length1 + length2 > available) {
      if (length1 > length2) length1--;
      else length2--;
    }
    const name = `${clipBytes(name1, length1).toString()}${name2 ? `_${clipBytes(name2, length2).toString()}` : ""}_${suffix}`;
    if (!taken.has(name)) return name;
  }
}

/** Whether any of the field calls (a field's, and the one altering it) unpacks arguments rollsafe cannot read (`**OPTIONS` of a setting, `*args`). */
export function hasUnknownOptions(...calls: (PyValue | null | undefined)[]): boolean {
  return calls.some((call) => call?.kind === "call" && call.hasSplat);
}

/**
 * The two columns of the join table Django creates for a many-to-many field without `through`
 * (`create_many_to_many_intermediary_model`): `<source>_id` and `<target>_id`, by model name, or
 * `from_<name>_id` and `to_<name>_id` when the names are the same (a field pointing at its own
 * model, or at a model of the same name in another app: Django compares the names alone).
 */
export function autoJoinColumns(sourceKey: string, targetKey: string): { from: string; to: string } {
  return sourceKey === targetKey ? { from: `from_${sourceKey}_id`, to: `to_${targetKey}_id` } : { from: `${sourceKey}_id`, to: `${targetKey}_id` };
}

/** The model key (lowercased name) of a relation's `app_label.model` target. */
export function targetKeyOf(to: string): string {
  return to.slice(to.lastIndexOf(".") + 1).toLowerCase();
}

/** The table a model's rows live in (proxies resolve to their concrete parent by the caller). */
export function defaultTableName(app: string, key: string): string {
  return truncateName(`${app}_${key}`);
}

/** Whether a `CreateModel` makes a proxy or an unmanaged model, for which Django creates (and drops) no table. */
export function createsNoTable(op: Operation): boolean {
  const options = dictOf(op.args.options);
  return literalBool(options.proxy) === true || literalBool(options.managed) === false;
}

/**
 * The table a `CreateModel` gives its model: its literal `db_table`, or Django's default name.
 * Null for a proxy, for a `db_table` rollsafe cannot read (a setting, a call), and with `managed`
 * for an unmanaged model too (Django creates no table for it).
 */
export function createModelTable(op: Operation, app: string, managed = false): string | null {
  const options = dictOf(op.args.options);
  if (managed ? createsNoTable(op) : literalBool(options.proxy) === true) return null;
  const name = literalString(op.args.name);
  if (!name) return null;
  if (options.db_table && literalString(options.db_table) === null) return null;
  return literalString(options.db_table) ?? defaultTableName(app, name.toLowerCase());
}

/**
 * Field classes with no column of their own: `ForeignObject` joins on columns other fields have
 * (its `db_type` is None, so `add_field` and `remove_field` emit nothing; Arches 11726), and
 * contenttypes' `GenericRelation`, a `ForeignObject` too; Django 5.2's `CompositePrimaryKey` names
 * the columns of other fields and has none of its own (djangoproject.com tracdb 0003's `pk`).
 */
const COLUMNLESS_FIELDS = new Set(["ForeignObject", "GenericRelation", "CompositePrimaryKey"]);

/** Whether a field has no column and no join table: nothing in the database (a `ForeignObject`). */
export function isColumnless(field: Pick<FieldState, "type">): boolean {
  return COLUMNLESS_FIELDS.has(field.type);
}

/** The column a field occupies, or null for fields without a column (M2M, `ForeignObject`; generated are columns). */
export function columnOf(field: FieldState): string | null {
  if (field.relation?.kind === "m2m" || COLUMNLESS_FIELDS.has(field.type)) return null;
  if (field.dbColumn) return field.dbColumn;
  return field.relation ? `${field.name}_id` : field.name;
}

/**
 * An AutoField, BigAutoField or SmallAutoField: the database numbers the rows itself (an identity
 * column, `serial` before Django 4.1), so a row inserted without it still gets a distinct value.
 */
export function isAutoIncrement(field: FieldState): boolean {
  return field.type === "AutoField" || field.type === "BigAutoField" || field.type === "SmallAutoField";
}

/**
 * The model's first field for which `test` holds, in field order, without copying the fields
 * (rules ask per operation, and a model can have thousands).
 */
export function findField(model: ModelState, test: (field: FieldState) => boolean): FieldState | undefined {
  for (const field of model.fields.values()) if (test(field)) return field;
  return undefined;
}

/** The model's primary key field, when its fields declare one. */
export function primaryKeyOf(model: ModelState): FieldState | undefined {
  return findField(model, (f) => f.primaryKey);
}

/** Literal helpers. */
export function literalBool(value: PyValue | undefined): boolean | null {
  if (!value) return null;
  if (value.kind === "bool") return value.value;
  if (value.kind === "none") return false;
  if (value.kind === "int") return value.value !== 0;
  // Python's truth of the other literals: Django tests `if self.null`, so AWX's `null='True'` is
  // nullable (and `null='False'` too, as in Python).
  if (value.kind === "str" || value.kind === "bytes") return value.value.length > 0;
  if (value.kind === "list" || value.kind === "tuple" || value.kind === "set") return value.items.length > 0;
  if (value.kind === "dict") return value.entries.length > 0;
  return null;
}

/**
 * A string literal's value; a bytes literal's too: migrations written under Python 2 say
 * `db_column=b'expiration_datetime'`, `to=b'case_id'` (edX course_modes 0005, commcare-hq), where
 * `b''` is `str`, and the databases they built have those names.
 */
export function literalString(value: PyValue | undefined): string | null {
  if (!value) return null;
  return value.kind === "str" || value.kind === "bytes" ? value.value : null;
}

export function literalInt(value: PyValue | undefined): number | null {
  if (!value) return null;
  return value.kind === "int" ? value.value : null;
}

/** A `NOT_PROVIDED` sentinel or its absence. */
/** The literal a field class's `__init__` forces as `default`, as a value of the call's range. */
function forcedDefault(value: number | boolean | null, range: SourceRange): PyValue {
  if (value === null) return { kind: "none", range };
  if (typeof value === "boolean") return { kind: "bool", value, range };
  return { kind: "int", value, text: String(value), range };
}

function isProvided(value: PyValue | undefined): boolean {
  if (!value) return false;
  return !(value.kind === "name" && (value.name === "NOT_PROVIDED" || value.name.endsWith(".NOT_PROVIDED")));
}

/** Resolves a model reference string (`"app.Model"`, `"Model"`, `"self"`) to `app.model`. */
export function resolveModelReference(ref: string, app: string, selfKey: string): string {
  if (ref === "self") return `${app}.${selfKey}`;
  if (ref.includes(".")) {
    const [refApp, model] = ref.split(".", 2);
    return `${refApp}.${(model ?? "").toLowerCase()}`;
  }
  return `${app}.${ref.toLowerCase()}`;
}

/** The swappable user model assumed where migrations say `settings.AUTH_USER_MODEL`. */
let authUserModel = "auth.user";

/** Sets the model `settings.AUTH_USER_MODEL` resolves to (`app_label.Model`). */
export function setAuthUserModel(value: string): void {
  authUserModel = resolveModelReference(value, "auth", "user");
}

function relationTarget(value: PyValue | undefined, app: string, selfKey: string): string | null {
  if (!value) return null;
  if (value.kind === "str") return resolveModelReference(value.value, app, selfKey);
  if (value.kind === "name" && /(^|\.)AUTH_USER_MODEL$/.test(value.name)) return authUserModel;
  // swapper's `get_model_name("app", "Model")`: the app's own model unless a setting swaps it.
  if (value.kind === "call" && /(^|\.)get_model_name$/.test(value.qualified) && value.args.length === 2) {
    const [label, model] = value.args.map(literalString);
    if (label && model) return resolveModelReference(`${label}.${model}`, app, selfKey);
  }
  const setting = value.kind === "name" ? modelSettingDefault(value.qualified) : null;
  return setting ? resolveModelReference(setting, app, selfKey) : null;
}

/** The kind of relation a field class makes, by the end of its name (`FlexibleForeignKey` too), or null. */
export function relationKind(qualifiedType: string): RelationInfo["kind"] | null {
  // A project's class rollsafe cannot read further is typed by its qualified name.
  const type = qualifiedType.slice(qualifiedType.lastIndexOf(".") + 1);
  // django-taggit's manager: a many-to-many relation through its tagged-item model, no column.
  if (type.endsWith("ManyToManyField") || type === "TaggableManager") return "m2m";
  if (type.endsWith("OneToOneField") || type === "ParentalKey") return "o2o";
  if (type.endsWith("ForeignKey")) return "fk";
  return null;
}

/** The model django-taggit's `TaggableManager` goes through when the call names none. */
const TAGGIT_THROUGH = "taggit.taggeditem";

/** Field classes Django indexes by default (`db_index=True` in their `__init__`). */
const INDEXED_BY_DEFAULT = new Set(["SlugField"]);

/**
 * GeoDjango's geometry and raster fields (`django.contrib.gis.db.models`): `spatial_index=True` by
 * default, which PostGIS's schema editor indexes like `db_index` (`_field_should_be_indexed`), with
 * a GiST index named `<table>_<column>_<hash>_id`.
 */
const SPATIAL_FIELDS = new Set([
  "GeometryField",
  "PointField",
  "LineStringField",
  "PolygonField",
  "MultiPointField",
  "MultiLineStringField",
  "MultiPolygonField",
  "GeometryCollectionField",
  "RasterField",
]);

/** Whether a field is one of GeoDjango's spatial fields with its spatial index on (`spatial_index`, True by default). */
export function hasSpatialIndex(field: Pick<FieldState, "type" | "kwargs">): boolean {
  return SPATIAL_FIELDS.has(field.type) && literalBool(field.kwargs.spatial_index) !== false;
}

/**
 * The Django field class a call of a project's own field class makes its column as, by call
 * (`BoundedBigIntegerField(...)` → `BigIntegerField`), as `resolveHelperCalls` read it in the
 * class's module; a field's `type` is that class.
 */
const projectFieldClasses = new WeakMap<object, string>();

/** `default=` values naming a project function that returns one literal (read in its module by `resolveHelperCalls`). */
const constantDefaults = new WeakSet<object>();

/** Records that the `default=` value `value` names a function returning one literal value. */
export function setConstantDefault(value: PyValue): void {
  constantDefaults.add(value);
}

/** Whether a `default=` value names a project function read to return one literal value. */
export function isConstantDefault(value: PyValue): boolean {
  return constantDefaults.has(value);
}

/** Calls of a project's field class whose `__init__` forces keyword arguments (`NullCharField`'s `null=True`), with them. */
const forcedKeywordsOf = new WeakMap<object, ForcedKeywords>();

/** Calls of a project's field class whose `db_type` returns one literal, with it. */
const declaredDbTypes = new WeakMap<object, string>();

/** Records that the field call `call` makes a column as Django's field class `type` does, with the keywords its `__init__` forces (and the literal its `db_type` returns, for a class that decides its column). */
export function setProjectFieldClass(call: PyValue, type: string, forced: ForcedKeywords = {}, dbType?: string): void {
  projectFieldClasses.set(call, type);
  if (Object.keys(forced).length > 0) forcedKeywordsOf.set(call, forced);
  if (dbType !== undefined) declaredDbTypes.set(call, dbType);
}

/** A project field class read in its module whose base is in no module of the run (`resolveHelperCalls`' `fieldClassAt`). */
export interface UnreadFieldBase {
  /** The module the last class read is in, as reports show it. */
  file: string;
  /** That class's name. */
  name: string;
  /** The base it derives from, as its module imports it. */
  base: string;
}

const unreadFieldBases = new WeakMap<object, UnreadFieldBase>();

export function setUnreadFieldBase(call: PyValue, unread: UnreadFieldBase): void {
  unreadFieldBases.set(call, unread);
}

/** Where a field's class leaves the modules rollsafe reads, when it read the class but not a base of it. */
export function unreadFieldBase(field: Pick<FieldState, "call">): UnreadFieldBase | null {
  return field.call !== null ? (unreadFieldBases.get(field.call) ?? null) : null;
}

/** Whether the project field class a field is called by was read in its module and followed to a Django class (`setProjectFieldClass`). */
export function followedFieldClass(field: Pick<FieldState, "call">): boolean {
  return field.call !== null && projectFieldClasses.has(field.call);
}

/** The column type a project field class's `db_type` returns for every connection (Kolibri's DateTimeTzField: "varchar"), or null. */
export function declaredDbType(field: Pick<FieldState, "call">): string | null {
  return field.call !== null ? (declaredDbTypes.get(field.call) ?? null) : null;
}

/**
 * Field classes of packages that share a name with one of Django's but make another column, by
 * qualified name, with the Django class whose column they make: the JSON fields written before
 * Django 3.1 keep JSON as text (`class JSONField(JSONFieldMixin, models.TextField)`), so moving
 * to `models.JSONField` is a text -> jsonb change, not no change at all.
 */
const PACKAGE_FIELD_CLASSES: Readonly<Record<string, string>> = {
  "jsonfield.JSONField": "TextField",
  "jsonfield.fields.JSONField": "TextField",
  "jsonfield.JSONCharField": "CharField",
  "jsonfield.fields.JSONCharField": "CharField",
  "django_extensions.db.fields.json.JSONField": "TextField",
  "annoying.fields.JSONField": "TextField",
  // Rich-text and other common package fields, by the Django class they subclass (a string
  // field with `blank=True` fills a new column's rows with '': akvo rsr 0178's RichTextField).
  "ckeditor.fields.RichTextField": "TextField",
  "ckeditor_uploader.fields.RichTextUploadingField": "TextField",
  "tinymce.models.HTMLField": "TextField",
  "tinymce.HTMLField": "TextField",
  "markdownx.models.MarkdownxField": "TextField",
  "phonenumber_field.modelfields.PhoneNumberField": "CharField",
  "django_countries.fields.CountryField": "CharField",
  "colorfield.fields.ColorField": "CharField",
  "model_utils.fields.StatusField": "CharField",
  "model_utils.fields.MonitorField": "DateTimeField",
  "model_utils.fields.AutoCreatedField": "DateTimeField",
  "model_utils.fields.AutoLastModifiedField": "DateTimeField",
  "django_extensions.db.fields.CreationDateTimeField": "DateTimeField",
  "django_extensions.db.fields.ModificationDateTimeField": "DateTimeField",
  "django_extensions.db.fields.AutoSlugField": "SlugField",
  "sorl.thumbnail.fields.ImageField": "ImageField",
  "sorl.thumbnail.ImageField": "ImageField",
  "easy_thumbnails.fields.ThumbnailerImageField": "ImageField",
  // django-versatileimagefield (Funkwhale music 0012, users 0011): an ImageField subclass.
  "versatileimagefield.fields.VersatileImageField": "ImageField",
};

/** The field class a call makes (`className`), or the Django class a project field class (or a known package's) reaches. */
export function fieldClassOf(call: Extract<PyValue, { kind: "call" }>): string {
  return projectFieldClasses.get(call) ?? PACKAGE_FIELD_CLASSES[call.qualified] ?? className(call);
}

/**
 * Which of `auto_now` / `auto_now_add` a date or time field sets (Django fills a new column's
 * existing rows with one `timezone.now()` for either), or null.
 */
export function autoTimestamp(field: FieldState): "auto_now" | "auto_now_add" | null {
  if (literalBool(field.kwargs.auto_now) === true) return "auto_now";
  return literalBool(field.kwargs.auto_now_add) === true ? "auto_now_add" : null;
}

/** The class a field's call names (`BoundedPositiveIntegerField`), as Django's state records it; its type when it has no call. */
export function declaredClass(field: FieldState): string {
  return field.call?.kind === "call" ? className(field.call) : field.type;
}

/** A field's class for messages: `` `CharField` ``, or a project's class with Django's it makes its column as (`` `BoundedPositiveIntegerField` (a `PositiveIntegerField`) ``). */
export function fieldClassText(field: FieldState): string {
  return field.call?.kind === "call" ? callClassText(field.call) : `\`${field.type}\``;
}

/** `fieldClassText` for a field's call. */
export function callClassText(call: Extract<PyValue, { kind: "call" }>): string {
  const declared = className(call);
  const type = fieldClassOf(call);
  return declared === type || isOwnFieldClass(type) ? `\`${declared}\`` : `\`${declared}\` (${/^[AEIOU]/.test(type) ? "an" : "a"} \`${type}\`)`;
}

/** Whether a field's type is a project's class whose column rollsafe cannot know (typed by its qualified name). */
export function isOwnFieldClass(type: string): boolean {
  return type.includes(".");
}

/** Builds a field's state from its call (`models.CharField(max_length=20)`). */
export function fieldFromCall(
  name: string,
  call: PyValue,
  app: string,
  modelKey: string,
  origin: Origin | null,
): FieldState {
  if (call.kind !== "call") {
    return {
      name,
      type: "Unknown",
      qualified: "",
      dbColumn: null,
      null: null,
      hasDefault: false,
      default: null,
      hasDbDefault: false,
      dbDefault: null,
      unique: false,
      uniqueConstraint: null,
      dbIndex: false,
      primaryKey: false,
      maxLength: null,
      maxDigits: null,
      decimalPlaces: null,
      relation: null,
      generated: null,
      kwargs: {},
      call,
      origin,
    };
  }
  const type = fieldClassOf(call);
  // Positional arguments by the class the call names: a project's class has its own `__init__`.
  const params = fieldParams(className(call));
  // Keyword arguments only (the usual call): the call's own record, which nothing changes.
  let kwargs = call.kwargs;
  if (call.args.length > 0) {
    kwargs = {};
    call.args.forEach((value, i) => {
      const param = params[i];
      if (param) kwargs[param] = value;
    });
    Object.assign(kwargs, call.kwargs);
  }
  // A class rollsafe cannot place that names a `to` model without `on_delete`, which every
  // ForeignKey and OneToOneField takes since Django 2.0: a many-to-many relation (BookWyrm's
  // `TagField(ManyToManyField)`, with its module outside the tree), a join table and no column.
  const kind = relationKind(type) ?? (kwargs.to !== undefined && kwargs.on_delete === undefined ? "m2m" : null);
  // What the class's `__init__` forces wins over the call (BookWyrm's UsernameField: max_length=150, unique=True).
  const forced = forcedKeywordsOf.get(call) ?? {};
  const flag = (key: "primary_key" | "unique" | "db_index" | "null"): boolean | null => (forced[key] !== undefined ? forced[key] === true : literalBool(kwargs[key]));
  const primaryKey = flag("primary_key") === true;
  const relation: RelationInfo | null = kind
    ? {
        kind,
        to: relationTarget(kwargs.to, app, modelKey),
        dbConstraint: literalBool(kwargs.db_constraint) !== false,
        through: kwargs.through?.kind === "str" ? resolveModelReference(kwargs.through.value, app, modelKey) : type === "TaggableManager" ? TAGGIT_THROUGH : null,
        dbTable: literalString(kwargs.db_table),
      }
    : null;
  const unique = flag("unique") === true || kind === "o2o" || primaryKey;
  const explicitIndex = flag("db_index");
  // ForeignKey and SlugField default to db_index=True; M2M fields have no column to index.
  // OneToOneField inherits ForeignKey's db_index=True (its unique constraint makes it redundant in SQL).
  const dbIndex = kind === "m2m" ? false : (explicitIndex ?? (kind === "fk" || kind === "o2o" || INDEXED_BY_DEFAULT.has(type))) || hasSpatialIndex({ type, kwargs });
  // NullBooleanField (removed in Django 4.0, still in old migrations) forces null=True in its __init__.
  // So does a project's class whose `__init__` sets `kwargs["null"] = True` (django-oscar's NullCharField).
  const nullValue = type === "NullBooleanField" ? true : forced.null === undefined && kwargs.null === undefined ? false : flag("null");
  return {
    name,
    type,
    qualified: call.qualified,
    dbColumn: literalString(kwargs.db_column),
    null: nullValue,
    // A default the class's `__init__` sets (KoboToolbox's LazyDefaultBooleanField: `default=None`,
    // its `deconstruct` writes the lazy one back into the migration) is the one the column gets.
    hasDefault: forced.default !== undefined || isProvided(kwargs.default),
    default: forced.default !== undefined ? forcedDefault(forced.default, call.range) : isProvided(kwargs.default) ? (kwargs.default ?? null) : null,
    hasDbDefault: isProvided(kwargs.db_default),
    dbDefault: isProvided(kwargs.db_default) ? (kwargs.db_default ?? null) : null,
    unique,
    uniqueConstraint: null,
    dbIndex,
    primaryKey,
    maxLength: typeof forced.max_length === "number" ? forced.max_length : literalInt(kwargs.max_length),
    maxDigits: typeof forced.max_digits === "number" ? forced.max_digits : literalInt(kwargs.max_digits),
    decimalPlaces: typeof forced.decimal_places === "number" ? forced.decimal_places : literalInt(kwargs.decimal_places),
    relation,
    generated: type === "GeneratedField" ? { stored: literalBool(kwargs.db_persist) === true } : null,
    kwargs,
    call,
    origin,
  };
}

/**
 * The field Django's `Options._prepare` adds to a model with `Meta.order_with_respect_to`
 * (django/db/models/fields/proxy.py): an `OrderWrt`, an IntegerField named `_order` (its column
 * too), NOT NULL, without a default. The migration state's `ModelState.fields` never lists it;
 * every model rendered from that state has it, so its table has the column.
 */
export const ORDER_FIELD = "_order";

/** The column type of `_order`: an IntegerField's, `integer` on PostgreSQL, MySQL and SQLite. */
export const ORDER_COLUMN_TYPE = "integer";

/**
 * Whether an `order_with_respect_to` value turns the ordering on: Django tests the option's truth,
 * so `None` and `""` leave it off. A value that is not a literal (a constant) is taken to name a
 * field, as it always does in practice.
 */
export function ordersWithRespectTo(value: PyValue | undefined): boolean {
  if (!value || value.kind === "none") return false;
  return value.kind !== "str" || value.value !== "";
}

/** The `_order` field of a model ordered with respect to another field (see `ORDER_FIELD`). */
export function orderField(origin: Origin): FieldState {
  const call: PyValue = { kind: "call", callee: "models.OrderWrt", qualified: "django.db.models.OrderWrt", args: [], kwargs: {}, hasSplat: false, range: origin.range };
  // No relation, so the app and model the call is read in play no part.
  return fieldFromCall(ORDER_FIELD, call, "", "", origin);
}

/** Whether a field is the `_order` Django adds for `order_with_respect_to` (not one the model declares). */
export function isOrderField(field: FieldState): boolean {
  return field.name === ORDER_FIELD && field.type === "OrderWrt";
}

/**
 * What setting `order_with_respect_to` to `value` does to the model's `_order` field.
 * `AlterOrderWithRespectTo.database_forwards` adds or drops the column only when the option goes
 * from off to on or back (moving it to another field changes nothing); a field the model declares
 * under that name is left alone.
 */
export function orderFieldChange(model: ModelState, value: PyValue | undefined): "add" | "remove" | null {
  const current = model.fields.get(ORDER_FIELD);
  if (ordersWithRespectTo(value)) return current ? null : "add";
  return current && isOrderField(current) ? "remove" : null;
}

/**
 * The field with option `key` set to `value`, in its options and in its call as written (in place
 * of a positional argument when the call passes it so).
 */
export function withOption(field: FieldState, key: string, value: PyValue): FieldState {
  let call = field.call;
  if (call?.kind === "call") {
    const position = call.kwargs[key] === undefined ? fieldParams(className(call)).indexOf(key) : -1;
    call =
      position >= 0 && position < call.args.length
        ? { ...call, args: call.args.map((arg, i) => (i === position ? value : arg)) }
        : { ...call, kwargs: { ...call.kwargs, [key]: value } };
  }
  return { ...field, kwargs: { ...field.kwargs, [key]: value }, call };
}

/** Index state from `models.Index(fields=[...], name=...)`. */
export function indexFromValue(value: PyValue): IndexState {
  const kwargs = value.kind === "call" ? value.kwargs : {};
  return {
    name: literalString(kwargs.name) ?? "",
    fields: stringList(kwargs.fields),
    unique: false,
    hasCondition: kwargs.condition !== undefined && kwargs.condition.kind !== "none",
    value,
  };
}

/**
 * The class a call makes: the last part of its qualified name, so that an import alias
 * (`from django.db.models import ForeignKey as FK`, then `FK(...)`) names the class Django sees;
 * the callee as written when its import is not known.
 */
export function className(call: { callee: string; qualified: string }): string {
  const name = call.qualified || call.callee;
  return name.slice(name.lastIndexOf(".") + 1);
}

/** Whether `value` is a call of the class `name` (by `className`). */
export function callOf(value: PyValue | null | undefined, name: string): value is Extract<PyValue, { kind: "call" }> {
  return value?.kind === "call" && className(value) === name;
}

/** Constraint state from `models.UniqueConstraint(...)`, `models.CheckConstraint(...)`, ... */
export function constraintFromValue(value: PyValue): ConstraintState {
  const kwargs = value.kind === "call" ? value.kwargs : {};
  const type = value.kind === "call" ? className(value) : "";
  const kind: ConstraintState["kind"] = type.endsWith("UniqueConstraint")
    ? "unique"
    : type.endsWith("CheckConstraint")
      ? "check"
      : type.endsWith("ExclusionConstraint")
        ? "exclusion"
        : "other";
  return {
    name: literalString(kwargs.name) ?? "",
    kind,
    fields: stringList(kwargs.fields),
    hasCondition: kwargs.condition !== undefined && kwargs.condition.kind !== "none" && kind !== "check",
    value,
  };
}

/** `["a", "b"]` / `("a", "b")` -> strings; anything else -> []. */
export function stringList(value: PyValue | undefined): string[] {
  if (!value || (value.kind !== "list" && value.kind !== "tuple")) return [];
  return value.items.flatMap((item) => (item.kind === "str" ? [item.value] : []));
}

/** The items of a list or tuple literal; [] for anything else. */
export function listItems(value: PyValue | undefined): PyValue[] {
  return value && (value.kind === "list" || value.kind === "tuple") ? value.items : [];
}

/**
 * The `(name, field)` pairs of a `CreateModel`'s `fields` (a list or tuple of 2-item tuples or
 * lists), with a literal name; items of any other form are skipped.
 */
export function createdFields(fields: PyValue | undefined): { name: string; call: PyValue; range: SourceRange }[] {
  const out: { name: string; call: PyValue; range: SourceRange }[] = [];
  for (const item of listItems(fields)) {
    if ((item.kind !== "tuple" && item.kind !== "list") || item.items.length < 2) continue;
    const name = literalString(item.items[0]);
    const call = item.items[1];
    if (name && call) out.push({ name, call, range: item.range });
  }
  return out;
}

/**
 * Whether every entry of a `CreateModel`'s `fields` reads as a `(name, field)` pair, given how
 * many `createdFields` read.
 */
export function allFieldsRead(fields: PyValue | undefined, read: number): boolean {
  if (fields === undefined) return true;
  return (fields.kind === "list" || fields.kind === "tuple") && read === fields.items.length;
}

/** A dict literal's string-keyed entries (`options={...}` of `CreateModel`); {} for anything else. */
export function dictOf(value: PyValue | undefined): Record<string, PyValue> {
  const out: Record<string, PyValue> = {};
  if (value?.kind !== "dict") return out;
  for (const { key, value: v } of value.entries) if (key.kind === "str") out[key.value] = v;
  return out;
}

/**
 * The sets of `next` that `current` lacks, compared as ordered tuples, the way Django's schema
 * editor compares `unique_together`/`index_together` (a reordered set is a new index).
 */
export function togetherAdded(current: readonly string[][], next: readonly string[][]): string[][] {
  const old = new Set(current.map((t) => t.join(",")));
  return next.filter((t) => !old.has(t.join(",")));
}

/** `unique_together` is a tuple of tuples, or a single tuple of names (Django normalises it). */
export function togetherList(value: PyValue | undefined): string[][] {
  if (!value || (value.kind !== "list" && value.kind !== "tuple" && value.kind !== "set")) return [];
  if (value.items.every((item) => item.kind === "str")) return value.items.length ? [stringList({ ...value, kind: "list" })] : [];
  return value.items.map((item) => stringList(item));
}

/** The key of a `unique_together` or `index_together` set in `ModelState.togetherNames`. */
export function togetherKey(unique: boolean, set: readonly string[]): string {
  return `${unique ? "unique" : "index"}:${set.join(",")}`;
}

/**
 * The name of a `unique_together` constraint or `index_together` index of `model`: the one Django
 * gave it when it made it (`togetherNames`), else the name it would give it on `table` now.
 */
export function togetherName(model: ModelState, unique: boolean, set: readonly string[], table: string, columns: string[]): string {
  return model.togetherNames?.[togetherKey(unique, set)] ?? djangoIndexName(table, columns, unique ? "_uniq" : "_idx");
}

/** Deep-enough copy for copy-on-write state. */
export function cloneModel(model: ModelState): ModelState {
  return {
    ...model,
    fields: new Map(model.fields),
    bases: [...model.bases],
    uniqueTogether: model.uniqueTogether.map((t) => [...t]),
    indexTogether: model.indexTogether.map((t) => [...t]),
    ...(model.togetherNames ? { togetherNames: { ...model.togetherNames } } : {}),
    indexes: [...model.indexes],
    constraints: [...model.constraints],
  };
}
