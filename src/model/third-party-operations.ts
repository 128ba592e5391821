/**
 * Third-party migration operations rollsafe knows, and the custom operations a project declares
 * in its configuration (`[tool.rollsafe.operations]`). Each maps to what it really does to
 * Django's model state and to the database, so the state replay and the rules see the truth
 * instead of an "unknown operation".
 *
 * Sources (read from each project's code):
 * - django-pg-migration-tools (`django_pg_migration_tools.operations`): the `Safer*` operations
 *   subclass Django's and override `database_forwards` with idempotent, lock-aware SQL: indexes
 *   `CONCURRENTLY` with `lock_timeout = 0`, unique constraints `USING INDEX` a concurrently built
 *   index, check and NOT NULL constraints `NOT VALID` then `VALIDATE`, foreign keys as a NULL
 *   column + concurrent index + `NOT VALID` constraint. They refuse to run inside a transaction.
 *   The `SaferRemove*` operations drop like Django's (only when the object exists).
 * - django-add-default-value: `AddDefaultValue(model_name, name, value)` has an empty
 *   `state_forwards` and runs `ALTER COLUMN ... SET DEFAULT` (a catalog-only change).
 * - django-migration-linter: `IgnoreMigration()` is a no-op marker for that linter.
 * - Sentry (`sentry.new_migrations.monkey`): `SafeRemoveField` / `SafeDeleteModel` take
 *   `deletion_action=DeletionAction.MOVE_TO_PENDING` (removed from state only; the column or
 *   table stays) or `DeletionAction.DELETE` (dropped from the database, already gone from state).
 *   `SafeRunSQL` is `RunSQL` with Sentry's checks.
 * - PostHog (`posthog.migration_helpers`): `SafeAddIndexConcurrently` /
 *   `SafeRemoveIndexConcurrently` subclass Django's concurrent operations (timeouts disabled,
 *   invalid leftovers rebuilt).
 * - django-pgtrigger (`pgtrigger.migrations`, read in Debian's python3-django-pgtrigger 4.14):
 *   `AddTrigger(model_name, trigger)` records the trigger in the model's `triggers` option and
 *   runs the trigger's install SQL (`CREATE OR REPLACE FUNCTION`, then `CREATE TRIGGER`: a brief
 *   SHARE ROW EXCLUSIVE lock on the table, no scan); `RemoveTrigger(model_name, name)` runs
 *   `DROP TRIGGER` (a brief ACCESS EXCLUSIVE lock). Neither changes a field or a table.
 * - django-postgres-extra (`psqlextra.backend.migrations.operations`): `PostgresCreatePartitionedModel`
 *   is `CreateModel` with `partitioning_options`, its `database_forwards` creating the table
 *   partitioned; `PostgresDeletePartitionedModel` is `DeleteModel`. Its partition operations
 *   (`PostgresAddRangePartition`...) stay unknown.
 */
import type { PyValue, ThirdPartyOperation } from "./types.js";
import { DJANGO_OPERATIONS, POSTGRES_OPERATIONS } from "./django-operations.js";

/** How a catalog entry resolves for one call: the descriptor, or why it cannot be read. */
export type ThirdPartyResolution =
  | { ok: true; info: ThirdPartyOperation; params: readonly string[] }
  | { ok: false; reason: string; stateKnown?: true };

/** One entry of the catalog: fixed facts, optionally refined by the call's arguments. */
export interface OperationEntry {
  source: string;
  sameAs: string | null;
  state: ThirdPartyOperation["state"];
  database: ThirdPartyOperation["database"];
  nonAtomic?: boolean;
  /** Creates the model's table partitioned (see `ThirdPartyOperation.partitioned`). */
  partitioned?: true;
  /** Reverses in a way of its own (see `ThirdPartyOperation.ownBackwards`). */
  ownBackwards?: true;
  note: string;
  /** Declared `unsafe` in the configuration: always reported as an operation rollsafe cannot verify. */
  unsafe?: boolean;
  /** Positional parameter names; default: those of `sameAs`. */
  params?: readonly string[];
  /**
   * Decides facts that depend on an argument (Sentry's `deletion_action`), or says why a call
   * cannot be verified; `stateKnown` when its state change is still `sameAs`'s.
   */
  refine?: (args: Record<string, PyValue>) => Partial<Pick<ThirdPartyOperation, "state" | "database" | "note">> | { unknown: string; stateKnown?: true };
}

/** Qualified class -> what it does. */
export type OperationCatalog = ReadonlyMap<string, OperationEntry>;

/** Whether `name` is a built-in operation `same-as` may name. */
export function isBuiltinOperationName(name: string): boolean {
  return Object.hasOwn(DJANGO_OPERATIONS, name) || Object.hasOwn(POSTGRES_OPERATIONS, name);
}

/** Positional parameters of a built-in operation. */
export function builtinParams(name: string): readonly string[] {
  return DJANGO_OPERATIONS[name] ?? POSTGRES_OPERATIONS[name] ?? [];
}

const PG_TOOLS = "django-pg-migration-tools";
const PG_TOOLS_MODULE = "django_pg_migration_tools.operations";

const pgTools: [string, Omit<OperationEntry, "source">][] = [
  ["SaferAddIndexConcurrently", { sameAs: "AddIndexConcurrently", state: "same", database: "same", nonAtomic: true, note: "builds the index with CREATE INDEX CONCURRENTLY IF NOT EXISTS" }],
  ["SaferRemoveIndexConcurrently", { sameAs: "RemoveIndexConcurrently", state: "same", database: "same", nonAtomic: true, note: "drops the index with DROP INDEX CONCURRENTLY IF EXISTS" }],
  [
    "SaferAddUniqueConstraint",
    {
      sameAs: "AddConstraint",
      params: ["model_name", "constraint", "raise_if_exists"],
      state: "same",
      database: "safe",
      nonAtomic: true,
      note: "builds a unique index concurrently, then adds the constraint USING INDEX",
    },
  ],
  ["SaferRemoveUniqueConstraint", { sameAs: "RemoveConstraint", state: "same", database: "same", nonAtomic: true, note: "drops the unique constraint if it exists" }],
  ["SaferAddCheckConstraint", { sameAs: "AddConstraint", state: "same", database: "safe", nonAtomic: true, note: "adds the check constraint NOT VALID, then validates it" }],
  ["SaferRemoveCheckConstraint", { sameAs: "RemoveConstraint", state: "same", database: "same", nonAtomic: true, note: "drops the check constraint if it exists" }],
  [
    "SaferAlterFieldSetNotNull",
    { sameAs: "AlterField", state: "same", database: "safe", nonAtomic: true, note: "sets NOT NULL through a validated NOT VALID check constraint, without a scan under ACCESS EXCLUSIVE" },
  ],
  [
    "SaferAddFieldForeignKey",
    { sameAs: "AddField", state: "same", database: "safe", nonAtomic: true, note: "adds a nullable column, its index concurrently, and the foreign key NOT VALID, then validates it" },
  ],
  [
    "SaferAddFieldOneToOne",
    { sameAs: "AddField", state: "same", database: "safe", nonAtomic: true, note: "adds a nullable column, its unique index concurrently, and the foreign key NOT VALID, then validates it" },
  ],
  ["SaferRemoveFieldForeignKey", { sameAs: "RemoveField", state: "same", database: "same", nonAtomic: true, note: "drops the foreign key column if it exists" }],
];

/** Sentry's `deletion_action`: `MOVE_TO_PENDING` is state-only, `DELETE` database-only. */
function sentryDeletion(what: string) {
  return (args: Record<string, PyValue>) => {
    const action = args.deletion_action;
    const name = action?.kind === "name" ? action.name.slice(action.name.lastIndexOf(".") + 1) : null;
    if (name === "MOVE_TO_PENDING") {
      return { state: "same" as const, database: "none" as const, note: `removes the ${what} from Django's state only; the database keeps it until a later \`DeletionAction.DELETE\`` };
    }
    if (name === "DELETE") {
      return { state: "none" as const, database: "same" as const, note: `drops the ${what} that an earlier \`DeletionAction.MOVE_TO_PENDING\` removed from Django's state` };
    }
    return { unknown: "has a `deletion_action` rollsafe cannot read (expected `DeletionAction.MOVE_TO_PENDING` or `DeletionAction.DELETE`)" };
  };
}

/** A django-postgres-extra operation under each path migrations import it by: the package, its `operations`, and the class's own module. */
function psqlextraEntries(className: string, file: string, entry: Pick<OperationEntry, "sameAs" | "partitioned" | "note">): [string, OperationEntry][] {
  const base = "psqlextra.backend.migrations";
  return [base, `${base}.operations`, `${base}.operations.${file}`].map((module) => [`${module}.${className}`, { source: "django-postgres-extra", state: "same", database: "same", ...entry }]);
}

const entries: [string, OperationEntry][] = [
  ...pgTools.flatMap(([name, entry]): [string, OperationEntry][] => [[`${PG_TOOLS_MODULE}.${name}`, { source: PG_TOOLS, ...entry }]]),
  ...["django_add_default_value.AddDefaultValue", "django_add_default_value.add_default_value.AddDefaultValue"].map((q): [string, OperationEntry] => [
    q,
    {
      source: "django-add-default-value",
      sameAs: null,
      params: ["model_name", "name", "value"],
      state: "none",
      database: "safe",
      note: "sets a database-level DEFAULT on the column (a catalog-only ALTER COLUMN ... SET DEFAULT)",
    },
  ]),
  ...["django_migration_linter.IgnoreMigration", "django_migration_linter.operations.IgnoreMigration"].map((q): [string, OperationEntry] => [
    q,
    { source: "django-migration-linter", sameAs: null, params: ["reason"], state: "none", database: "none", note: "is a no-op marker for django-migration-linter (it does not silence rollsafe)" },
  ]),
  [
    "sentry.new_migrations.monkey.fields.SafeRemoveField",
    { source: "sentry", sameAs: "RemoveField", state: "same", database: "same", note: "removes the field", refine: sentryDeletion("column") },
  ],
  [
    "sentry.new_migrations.monkey.models.SafeDeleteModel",
    { source: "sentry", sameAs: "DeleteModel", state: "same", database: "same", note: "deletes the model", refine: sentryDeletion("table") },
  ],
  ["sentry.new_migrations.monkey.special.SafeRunSQL", { source: "sentry", sameAs: "RunSQL", state: "same", database: "same", note: "runs SQL like `RunSQL`" }],
  [
    "posthog.migration_helpers.SafeAddIndexConcurrently",
    { source: "posthog", sameAs: "AddIndexConcurrently", state: "same", database: "same", nonAtomic: true, note: "builds the index CONCURRENTLY with timeouts disabled" },
  ],
  [
    "pgtrigger.migrations.AddTrigger",
    {
      source: "django-pgtrigger",
      sameAs: null,
      params: ["model_name", "trigger"],
      state: "none",
      database: "safe",
      note: "installs a PostgreSQL trigger (CREATE TRIGGER: a brief SHARE ROW EXCLUSIVE lock, no scan)",
    },
  ],
  [
    "pgtrigger.migrations.RemoveTrigger",
    { source: "django-pgtrigger", sameAs: null, params: ["model_name", "name"], state: "none", database: "safe", note: "drops a PostgreSQL trigger (DROP TRIGGER: a brief ACCESS EXCLUSIVE lock)" },
  ],
  // django-postgres-extra: subclasses of CreateModel / DeleteModel whose database side makes or
  // drops the table as a native partitioned table (GlitchTip's IssueEvent and IssueTag).
  ...psqlextraEntries("PostgresCreatePartitionedModel", "create_partitioned_model", { sameAs: "CreateModel", partitioned: true, note: "creates the model's table partitioned (CREATE TABLE ... PARTITION BY)" }),
  ...psqlextraEntries("PostgresDeletePartitionedModel", "delete_partitioned_model", { sameAs: "DeleteModel", note: "drops the model's partitioned table and its partitions" }),
  [
    "posthog.migration_helpers.SafeRemoveIndexConcurrently",
    { source: "posthog", sameAs: "RemoveIndexConcurrently", state: "same", database: "same", nonAtomic: true, note: "drops the index CONCURRENTLY with timeouts disabled" },
  ],
];

/** The third-party operations rollsafe knows without configuration. */
export const KNOWN_OPERATIONS: OperationCatalog = new Map(entries);

/**
 * Looks a qualified callee up in the project's custom operations, then in the known ones.
 * A custom key may be a full dotted path or a bare class name (matching any module).
 */
export function lookupOperation(qualified: string, custom?: OperationCatalog): OperationEntry | undefined {
  const className = qualified.slice(qualified.lastIndexOf(".") + 1);
  return custom?.get(qualified) ?? custom?.get(className) ?? KNOWN_OPERATIONS.get(qualified);
}

/** Resolves a call of a catalogued operation to its descriptor and positional parameters. */
export function resolveThirdParty(qualified: string, entry: OperationEntry, args: Record<string, PyValue>): ThirdPartyResolution {
  let state = entry.state;
  let database = entry.database;
  let note = entry.note;
  if (entry.refine) {
    const refined = entry.refine(args);
    if ("unknown" in refined) return { ok: false, reason: refined.unknown, ...(refined.stateKnown ? { stateKnown: true as const } : {}) };
    state = refined.state ?? state;
    database = refined.database ?? database;
    note = refined.note ?? note;
  }
  const info: ThirdPartyOperation = { qualified, source: entry.source, sameAs: entry.sameAs, state, database, note };
  if (entry.nonAtomic) info.nonAtomic = true;
  if (entry.partitioned) info.partitioned = true;
  if (entry.ownBackwards) info.ownBackwards = true;
  return { ok: true, info, params: entry.params ?? (entry.sameAs ? builtinParams(entry.sameAs) : []) };
}

/**
 * Which side rules see for a third-party operation, and which states the replay changes:
 * - like the built-in on both sides: `both`;
 * - database only (Sentry's DELETE): `database`;
 * - state only, or the database side done safely by the package: `state`, so lock and rewrite
 *   rules stay quiet while state checks (e.g. removing a NOT NULL column from state) still run.
 */
export function thirdPartyEffect(info: ThirdPartyOperation): { effect: "both" | "database" | "state"; applyState: boolean; applyDatabase: boolean } {
  const applyState = info.sameAs !== null && info.state === "same";
  const applyDatabase = info.sameAs !== null && info.database !== "none";
  if (info.database === "same") return { effect: applyState ? "both" : "database", applyState, applyDatabase };
  return { effect: "state", applyState, applyDatabase };
}
