/**
 * Whether Django's schema editor alters a field, and what it changes: `_field_should_be_altered`
 * and the foreign-key part of `_alter_field` (django/db/backends/base/schema.py, 4.2). Rules that
 * compare a field before and after an operation share it, so they agree on what is a change.
 */
import type { PyValue } from "../model/types.js";
import type { Database } from "./rule-types.js";
import { pyValue } from "../advice/snippets.js";
import { FIELD_NON_DB_ATTRS } from "../model/django-operations.js";
import { columnOf, hasUnknownOptions, literalString, referencesPrimaryKey, type FieldState } from "../state/model-state.js";

const NON_DB_ATTRS = new Set(FIELD_NON_DB_ATTRS);

/**
 * Options compared by what they mean, not as written. Django compares the two fields'
 * `deconstruct()`, which leaves out an option at its default (`null=False`, a ForeignKey's
 * `db_index=True`) and names the target model by its lower-cased label, whatever the migration
 * wrote (`"Writer"`, `"library.Writer"`) and after a `RenameModel` repointed it. `undefined`: the
 * meaning is not known statically, so the option is compared as written.
 */
const MEANING: Record<string, (field: FieldState) => unknown> = {
  to: (f) => f.relation?.to ?? undefined,
  // No `to_field` and one naming the target's primary key are the same option to Django.
  to_field: (f) => (!f.relation ? undefined : referencesPrimaryKey(f) ? "" : (literalString(f.kwargs.to_field) ?? undefined)),
  db_constraint: (f) => f.relation?.dbConstraint,
  null: (f) => f.null ?? undefined,
  unique: (f) => f.unique,
  db_index: (f) => f.dbIndex,
  primary_key: (f) => f.primaryKey,
  max_length: (f) => f.maxLength ?? undefined,
  default: (f) => (f.hasDefault ? pyValue(f.default) : null),
  db_default: (f) => (f.hasDbDefault ? pyValue(f.dbDefault) : null),
};

/**
 * Options `Field.deconstruct()` leaves out when they are at these defaults (its `possibles`, and
 * `parent_link` of a relation): written out or not, Django compares the same keywords (django-filer
 * 0010 spells out `auto_created=False` on a parent link, 0015 drops it again: both "(no-op)").
 */
const DECONSTRUCT_DEFAULTS: Readonly<Record<string, string>> = {
  auto_created: "False",
  serialize: "True",
  parent_link: "False",
  db_tablespace: "None",
  db_comment: "None",
  unique_for_date: "None",
  unique_for_month: "None",
  unique_for_year: "None",
};

function writtenDiffers(key: string, a: PyValue | undefined, b: PyValue | undefined): boolean {
  const written = (value: PyValue | undefined) => (value === undefined ? DECONSTRUCT_DEFAULTS[key] : pyValue(value));
  return written(a) !== written(b);
}

/**
 * The class path a field's `deconstruct` gives, as far as it tells fields apart: Django's own
 * classes by name (`django.db.models.fields.related.ForeignKey` and `models.ForeignKey` are one),
 * another class by where it is imported from. A project's subclass of `ForeignKey` (authentik's
 * `InheritanceForeignKey`) makes the same column as `ForeignKey`, but Django compares the paths.
 */
function classPath(field: FieldState): string {
  const qualified = field.qualified;
  return !qualified || qualified.startsWith("django.") ? `django:${qualified.slice(qualified.lastIndexOf(".") + 1)}` : qualified;
}

/**
 * Django's `_field_should_be_altered(before, after, ignore)`: the options whose change makes the
 * schema editor alter the field (`type` for the Django class whose column it makes, `class` for
 * another class making the same column, `column` for the column name, which covers
 * `db_column`). Empty: Django leaves the field alone, and `sqlmigrate` prints "(no-op)".
 */
export function alteredOptions(before: FieldState, after: FieldState, ignore: readonly string[] = []): string[] {
  // Options unpacked from a value rollsafe cannot read (`**app_settings.OPTIONS`): not known to differ.
  if (hasUnknownOptions(before.call, after.call)) return [];
  const changed: string[] = [];
  if (before.type !== after.type) changed.push("type");
  else if (classPath(before) !== classPath(after)) changed.push("class");
  if (columnOf(before) !== columnOf(after)) changed.push("column");
  for (const key of new Set([...Object.keys(before.kwargs), ...Object.keys(after.kwargs), ...Object.keys(MEANING)])) {
    if (NON_DB_ATTRS.has(key) || ignore.includes(key)) continue;
    const meaning = MEANING[key];
    const a = meaning?.(before);
    const b = meaning?.(after);
    // A target named by a setting rollsafe cannot read (`to=settings.X_MODEL`) is the same model
    // to Django's comparison whenever the setting names it: not known to differ (OpenWISP config 0040).
    if (key === "to" && before.relation && after.relation && (a === undefined) !== (b === undefined)) continue;
    const differs = a === undefined || b === undefined ? writtenDiffers(key, before.kwargs[key], after.kwargs[key]) : a !== b;
    if (differs) changed.push(key);
  }
  return changed;
}

/**
 * Whether Django drops the foreign-key constraint of `before` (and adds one back when `after`
 * keeps it, validating every row): `_alter_field` does so for a constrained foreign key whenever
 * `_field_should_be_altered(ignore={"db_comment"})`, even for a change no other SQL needs (a new
 * `default`, a renamed column).
 */
export function dropsForeignKey(before: FieldState, after: FieldState): boolean {
  const relation = before.relation;
  if (!relation || relation.kind === "m2m" || !relation.dbConstraint) return false;
  return alteredOptions(before, after, ["db_comment"]).length > 0;
}

/** Default `max_length` of Django's char-based fields (their `__init__` sets it). */
export const CHAR_DEFAULT_LENGTH: Record<string, number | null> = {
  CharField: null,
  SlugField: 50,
  EmailField: 254,
  URLField: 200,
  FileField: 100,
  ImageField: 100,
  FilePathField: 100,
  CommaSeparatedIntegerField: null,
};

/**
 * Whether two fields of different classes make the same varchar column (`URLField(max_length=512)`
 * to `CharField(max_length=512)`, Read the Docs oauth 0019): `_alter_field` finds no type to
 * change and `sqlmigrate` prints "(no-op)". Relations and unknown lengths are not.
 */
function sameVarchar(before: FieldState, after: FieldState): boolean {
  if (before.relation || after.relation || !(before.type in CHAR_DEFAULT_LENGTH) || !(after.type in CHAR_DEFAULT_LENGTH)) return false;
  const length = (field: FieldState) => field.maxLength ?? (field.kwargs.max_length ? null : (CHAR_DEFAULT_LENGTH[field.type] ?? null));
  const a = length(before);
  return a !== null && a === length(after);
}

/**
 * A `ForeignKey` made a `OneToOneField` to the same target, or back: the same key column (the
 * change is its uniqueness, python.org users 0006), not a new type.
 */
function sameKeyColumn(before: FieldState, after: FieldState): boolean {
  const kinds = new Set(["fk", "o2o"]);
  return !!before.relation && !!after.relation && kinds.has(before.relation.kind) && kinds.has(after.relation.kind) && before.relation.to === after.relation.to && columnOf(before) === columnOf(after);
}

/** The options of a many-to-many field that change SQL. */
const M2M_DATABASE_OPTIONS = new Set(["to", "db_table", "through", "db_constraint", "type", "class"]);

/**
 * `NullBooleanField` (removed from models in Django 4.0, still in old migrations) and
 * `BooleanField(null=True)` make the same nullable boolean column: moving from one to the other
 * alters nothing (python.org users 0014: sqlmigrate prints "(no-op)").
 */
function sameBoolean(before: FieldState, after: FieldState): boolean {
  const booleans = new Set(["NullBooleanField", "BooleanField"]);
  return booleans.has(before.type) && booleans.has(after.type) && before.null === after.null && !before.relation && !after.relation;
}

/** Options of model validation, which no database sees. */
const VALIDATION_OPTIONS = ["unique_for_date", "unique_for_month", "unique_for_year"];

const DATE_OPTIONS = ["auto_now", "auto_now_add"];
const FILE_OPTIONS = ["upload_to", "storage"];

/**
 * Options of Django's field classes that only Python reads, by class: a text column has no
 * length, `auto_now` is filled by `pre_save`, `upload_to` names files... Django's schema editor
 * is called for them (`_field_should_be_altered` skips only `non_db_attrs`), but on PostgreSQL
 * emits nothing (`sqlmigrate` prints "(no-op)", `pg_locks` shows no lock).
 */
const PYTHON_ONLY_BY_CLASS: Readonly<Record<string, readonly string[]>> = {
  TextField: ["max_length"],
  DateField: DATE_OPTIONS,
  DateTimeField: DATE_OPTIONS,
  TimeField: DATE_OPTIONS,
  FileField: FILE_OPTIONS,
  ImageField: [...FILE_OPTIONS, "width_field", "height_field"],
  FilePathField: ["path", "match", "recursive", "allow_files", "allow_folders"],
  SlugField: ["allow_unicode"],
  GenericIPAddressField: ["protocol", "unpack_ipv4"],
  JSONField: ["encoder", "decoder"],
};

/**
 * What the schema editor changes in the database for `before` -> `after`. On PostgreSQL (and
 * MySQL): the altered options, less those only Python reads (`PYTHON_ONLY_BY_CLASS`, the
 * `unique_for_*` options) and less `default`, which Django keeps in Python, unless the foreign key
 * is dropped and re-added for it. On SQLite, Django remakes the table (`_remake_table`: CREATE,
 * INSERT ... SELECT, DROP, RENAME) for every option `_field_should_be_altered` lets through, a new
 * `default` included. Empty: no SQL, no lock. Checked with `sqlmigrate` on PostgreSQL 15 and
 * SQLite, Django 4.2.
 */
export function databaseChanges(before: FieldState, after: FieldState, database: Database = "postgresql"): string[] {
  const altered = alteredOptions(before, after);
  // A many-to-many field has no column: only its target, its join table and the constraints of
  // that table's foreign keys are SQL (`_alter_many_to_many`); `null` on it means nothing
  // (python.org events 0005: sqlmigrate prints "(no-op)").
  if (before.relation?.kind === "m2m" && after.relation?.kind === "m2m") return altered.filter((key) => M2M_DATABASE_OPTIONS.has(key));
  if (database === "sqlite") return altered;
  const pythonOnly = before.type === after.type ? (PYTHON_ONLY_BY_CLASS[after.type] ?? []) : [];
  const sameColumn = before.type !== after.type && (sameVarchar(before, after) || sameBoolean(before, after) || sameKeyColumn(before, after));
  const changes = altered.filter((key) => !pythonOnly.includes(key) && !VALIDATION_OPTIONS.includes(key) && !(sameColumn && (key === "type" || key === "max_length")));
  // A new class making the same column, like a new `default`, changes SQL only through the foreign key.
  if ((!changes.includes("default") && !changes.includes("class")) || dropsForeignKey(before, after)) return changes;
  return changes.filter((key) => key !== "default" && key !== "class");
}
