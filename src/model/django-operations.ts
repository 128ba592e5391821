/**
 * Django's built-in migration operations and their constructor signatures, used to map positional
 * arguments to names. Signatures follow `django/db/migrations/operations/*.py` and
 * `django/contrib/postgres/operations.py` (Django 3.0 to 5.2).
 */

/** Parameter names, in positional order, of `django.db.migrations` operations. */
export const DJANGO_OPERATIONS: Record<string, readonly string[]> = {
  CreateModel: ["name", "fields", "options", "bases", "managers"],
  DeleteModel: ["name"],
  RenameModel: ["old_name", "new_name"],
  AlterModelTable: ["name", "table"],
  AlterModelTableComment: ["name", "table_comment"],
  AlterUniqueTogether: ["name", "unique_together"],
  AlterIndexTogether: ["name", "index_together"],
  AlterOrderWithRespectTo: ["name", "order_with_respect_to"],
  AlterModelOptions: ["name", "options"],
  AlterModelManagers: ["name", "managers"],
  AddField: ["model_name", "name", "field", "preserve_default"],
  RemoveField: ["model_name", "name"],
  AlterField: ["model_name", "name", "field", "preserve_default"],
  RenameField: ["model_name", "old_name", "new_name"],
  AddIndex: ["model_name", "index"],
  RemoveIndex: ["model_name", "name"],
  RenameIndex: ["model_name", "new_name", "old_name", "old_fields"],
  AddConstraint: ["model_name", "constraint"],
  RemoveConstraint: ["model_name", "name"],
  AlterConstraint: ["model_name", "name", "constraint"],
  SeparateDatabaseAndState: ["database_operations", "state_operations"],
  RunSQL: ["sql", "reverse_sql", "state_operations", "hints", "elidable"],
  RunPython: ["code", "reverse_code", "atomic", "hints", "elidable"],
};

/** Parameter names of `django.contrib.postgres.operations`. */
export const POSTGRES_OPERATIONS: Record<string, readonly string[]> = {
  CreateExtension: ["name"],
  BloomExtension: [],
  BtreeGinExtension: [],
  BtreeGistExtension: [],
  CITextExtension: [],
  CryptoExtension: [],
  HStoreExtension: [],
  TrigramExtension: [],
  UnaccentExtension: [],
  CreateCollation: ["name", "locale", "provider", "deterministic"],
  RemoveCollation: ["name", "locale", "provider", "deterministic"],
  AddIndexConcurrently: ["model_name", "index"],
  RemoveIndexConcurrently: ["model_name", "name"],
  AddConstraintNotValid: ["model_name", "constraint"],
  ValidateConstraint: ["model_name", "name"],
};

/** Module paths under which Django exposes its migration operations. */
const DJANGO_OPERATION_MODULES = [
  "django.db.migrations",
  "django.db.migrations.operations",
  "django.db.migrations.operations.base",
  "django.db.migrations.operations.fields",
  "django.db.migrations.operations.models",
  "django.db.migrations.operations.special",
];

const POSTGRES_OPERATION_MODULES = ["django.contrib.postgres.operations"];

/** Resolves a qualified callee to a built-in operation, or null. */
export function builtinOperation(
  qualified: string,
): { kind: string; origin: "django" | "postgres"; params: readonly string[] } | null {
  const dot = qualified.lastIndexOf(".");
  if (dot < 0) return null;
  const module = qualified.slice(0, dot);
  const kind = qualified.slice(dot + 1);
  if (DJANGO_OPERATION_MODULES.includes(module) && Object.hasOwn(DJANGO_OPERATIONS, kind)) {
    return { kind, origin: "django", params: DJANGO_OPERATIONS[kind] ?? [] };
  }
  if (POSTGRES_OPERATION_MODULES.includes(module) && Object.hasOwn(POSTGRES_OPERATIONS, kind)) {
    return { kind, origin: "postgres", params: POSTGRES_OPERATIONS[kind] ?? [] };
  }
  return null;
}

/**
 * Positional parameter order of model fields. `Field.__init__` starts with
 * `verbose_name, name, primary_key, max_length, unique, blank, null, db_index, rel, default`;
 * relation fields take `to` (and `on_delete`) first.
 */
const FIELD_BASE_PARAMS = [
  "verbose_name",
  "name",
  "primary_key",
  "max_length",
  "unique",
  "blank",
  "null",
  "db_index",
  "rel",
  "default",
  "editable",
  "serialize",
  "unique_for_date",
  "unique_for_month",
  "unique_for_year",
  "choices",
  "help_text",
  "db_column",
  "db_tablespace",
  "auto_created",
  "validators",
  "error_messages",
  "db_comment",
  "db_default",
];

const FIELD_PARAMS: Record<string, readonly string[]> = {
  ForeignKey: ["to", "on_delete", "related_name", "related_query_name", "limit_choices_to", "parent_link", "to_field", "db_constraint"],
  OneToOneField: ["to", "on_delete", "to_field"],
  ManyToManyField: ["to", "related_name", "related_query_name", "limit_choices_to", "symmetrical", "through", "through_fields", "db_constraint", "db_table", "swappable"],
  DecimalField: ["verbose_name", "name", "max_digits", "decimal_places"],
  DateField: ["verbose_name", "name", "auto_now", "auto_now_add"],
  DateTimeField: ["verbose_name", "name", "auto_now", "auto_now_add"],
  TimeField: ["verbose_name", "name", "auto_now", "auto_now_add"],
  FileField: ["verbose_name", "name", "upload_to", "storage"],
  ImageField: ["verbose_name", "name", "width_field", "height_field"],
  FilePathField: ["verbose_name", "name", "path", "match", "recursive", "allow_files", "allow_folders"],
  GenericIPAddressField: ["verbose_name", "name", "protocol", "unpack_ipv4"],
  ArrayField: ["base_field", "size"],
};

/** Positional parameter names for a field class (by its class name). */
export function fieldParams(className: string): readonly string[] {
  return FIELD_PARAMS[className] ?? FIELD_BASE_PARAMS;
}

/**
 * Operations that alter an existing table, with the argument that names the model. Shared by the
 * rules that ask "does this migration also change the schema of an existing table?".
 */
export const TABLE_ALTERING_OPERATIONS: Readonly<Record<string, string>> = {
  AddField: "model_name",
  AlterField: "model_name",
  RemoveField: "model_name",
  RenameField: "model_name",
  AddIndex: "model_name",
  RemoveIndex: "model_name",
  RenameIndex: "model_name",
  AddConstraint: "model_name",
  AddConstraintNotValid: "model_name",
  RemoveConstraint: "model_name",
  AlterUniqueTogether: "name",
  AlterIndexTogether: "name",
  AlterModelTable: "name",
  AlterOrderWithRespectTo: "name",
  RenameModel: "old_name",
  DeleteModel: "name",
};

/**
 * Django's `Field.non_db_attrs` (4.2): field options that never change the database, so an
 * `AlterField` that changes only these emits no SQL (`db_column` is compared by the column name
 * it gives, not as an option).
 */
export const FIELD_NON_DB_ATTRS: readonly string[] = [
  "blank",
  "choices",
  "db_column",
  "editable",
  "error_messages",
  "help_text",
  "limit_choices_to",
  "on_delete",
  "related_name",
  "related_query_name",
  "validators",
  "verbose_name",
];
