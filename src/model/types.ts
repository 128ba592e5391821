/**
 * The data model shared by every stage of the pipeline:
 *
 *   files -> parse -> MigrationFile -> graph + state replay -> rules -> Diagnostic -> reporter
 *
 * Nothing here depends on tree-sitter: the parser converts its nodes into these plain objects.
 */

import type { RunSqlFacts } from "../engine/sql-facts-for-operation.js";

/**
 * A source range. Lines and columns are 1-based; columns count UTF-16 code units (what editors,
 * GitHub and SARIF's default `utf16CodeUnits` column kind use), so a non-ASCII `verbose_name`
 * never shifts an annotation. Offsets index the decoded source string (0-based, end exclusive).
 */
/** A syntax error: where, and what is wrong there (one line, like CPython's message). */
export interface SyntaxErrorRange extends SourceRange {
  message: string;
}

export interface SourceRange {
  line: number;
  column: number;
  endLine: number;
  endColumn: number;
  startOffset: number;
  endOffset: number;
}

/**
 * A Python expression read statically. Literals keep their value; calls and dotted names are
 * kept structurally; anything else is an explicit opaque expression with its source text.
 */
export type PyValue =
  | { kind: "str"; value: string; range: SourceRange }
  | { kind: "bytes"; value: string; range: SourceRange }
  | { kind: "int"; value: number; text: string; range: SourceRange }
  | { kind: "float"; value: number; text: string; range: SourceRange }
  | { kind: "bool"; value: boolean; range: SourceRange }
  | { kind: "none"; range: SourceRange }
  | { kind: "list"; items: PyValue[]; range: SourceRange }
  | { kind: "tuple"; items: PyValue[]; range: SourceRange }
  | { kind: "set"; items: PyValue[]; range: SourceRange }
  | { kind: "dict"; entries: { key: PyValue; value: PyValue }[]; range: SourceRange }
  | {
      kind: "call";
      /** The callee as written, e.g. `models.CharField`. */
      callee: string;
      /** The callee with import aliases resolved to a full dotted path where known. */
      qualified: string;
      args: PyValue[];
      kwargs: Record<string, PyValue>;
      /** `*args`/`**kwargs` splats make the argument list incomplete. */
      hasSplat: boolean;
      range: SourceRange;
    }
  | { kind: "name"; name: string; qualified: string; range: SourceRange }
  | { kind: "opaque"; text: string; range: SourceRange };

/** The keyword arguments of a field that a project's field class may force in its `__init__`. */
export type ForcedKeyword = "max_length" | "max_digits" | "decimal_places" | "unique" | "null" | "db_index" | "primary_key" | "default";

/**
 * Keyword arguments a field class's `__init__` sets to a literal whatever the migration's call
 * says (django-oscar's `NullCharField`: `kwargs['null'] = kwargs['blank'] = True`; BookWyrm's
 * `UsernameField`: `super().__init__(max_length=150, unique=True)`), by name.
 */
export type ForcedKeywords = Partial<Record<ForcedKeyword, number | boolean | null>>;

/** Deploy stage declared by a marker in the migration (syzygy, safemigrate or Sentry). */
export type DeployStage = "pre" | "post" | "always";

/** Where the stage came from, shown in messages. */
export interface StageMarker {
  stage: DeployStage;
  source: "syzygy" | "safemigrate" | "sentry" | "config";
  text: string;
  range: SourceRange;
}

/** One operation in `Migration.operations`, with positional arguments mapped to their names. */
export interface Operation {
  /**
   * The canonical operation class name (`AddField`, `AddIndexConcurrently`, ...), or the class
   * name as written for operations rollsafe does not know.
   */
  kind: string;
  /** Where the class comes from: Django's migrations, contrib.postgres, or something else. */
  origin: "django" | "postgres" | "third-party" | "unknown";
  /** The callee as written. */
  callee: string;
  /** Arguments by parameter name (positional ones mapped through the operation's signature). */
  args: Record<string, PyValue>;
  range: SourceRange;
  /** Nested operations of `SeparateDatabaseAndState` (and `RunSQL(state_operations=...)`). */
  databaseOperations?: Operation[];
  stateOperations?: Operation[];
  /**
   * The function or helper-module class that built this operation, as messages name it (`make_x`,
   * `make_x` from `app/migrations/_utils.py`): its ranges are all the call's, so no fix edits it.
   */
  builtBy?: string;
  /**
   * On a `RunPython`: the SQL its function (defined in the migration) runs itself, with a string
   * literal, through `schema_editor.execute(...)` or a cursor it opens, each as a `RunSQL` whose
   * range is the `execute` call and whose reverse is the `RunPython`'s (read as `RunSQL.noop`),
   * and the indexes it adds or removes with `schema_editor.add_index`/`remove_index`, as
   * `AddIndex`/`RemoveIndex`. The replay shows them to the rules right after the `RunPython`, on
   * the database side only.
   */
  executes?: Operation[];
  /** On an operation of `executes`: how it runs, as messages name it (`` `schema_editor.execute` in `forwards` ``). */
  executedBy?: string;
  /**
   * On an operation of `executes`: the database vendors it runs on, when the function runs it only
   * under a test of `connection.vendor` (`if connection.vendor == "mysql":`, an early `return` when
   * it is not "postgresql"); absent when it runs on every database.
   */
  vendors?: string[];
  /**
   * Set for an operation the class body (or `__init__`) adds under an `if` rollsafe cannot
   * evaluate: the condition, as written. The replay applies it; its findings are warnings that
   * say they hold only under the condition.
   */
  condition?: string;
  /**
   * Set for `*make_operations(...)` in an operation list, or a call that makes the whole list
   * (`operations = make_operations(...)`), read as one unknown operation: the call (`callee`,
   * `args`), whose function's operations take its place when they can be read.
   */
  spread?: true;
  /** Set for a custom operation whose call unpacks arguments with `*` or `**` (its arguments are not all known). */
  unpacked?: true;
  /** Set when the entry could not be read statically (not a call, a splat, a helper call...). */
  unknown?: { reason: string; text: string };
  /**
   * With `unknown`, when only the database side is unread: the built-in operation whose state
   * change it makes, its arguments mapped by that operation's signature (a subclass of
   * `AddField` that overrides only `database_forwards`, as `AddFieldIfNotExists` does). The
   * replay changes both states as that operation does, so later operations find what it made;
   * rules see it as unknown.
   */
  behavesAs?: string;
  /** Leading comments directly above the operation (used for suppressions). */
  comments: { text: string; line: number }[];
  /** The index of this operation within its list (top-level or nested). */
  index: number;
  /** Set for a known third-party operation or a custom one declared in the configuration. */
  thirdParty?: ThirdPartyOperation;
  /**
   * A `RunSQL`'s SQL as PostgreSQL's parser reads it, worked out by the thread that parsed the
   * file and cached with the model (`attachSqlFacts`); absent when the parser was not available
   * then, and the replay reads the SQL itself.
   */
  sqlFacts?: RunSqlFacts;
}

/**
 * What a known third-party operation (or a custom one from `[tool.rollsafe.operations]`) does;
 * see `src/model/third-party-operations.ts`. The operation's `kind` is then `sameAs` when set.
 */
export interface ThirdPartyOperation {
  /** The qualified class, e.g. `django_pg_migration_tools.operations.SaferAddFieldForeignKey`. */
  qualified: string;
  /** The package rollsafe knows it from, or `config`. */
  source: string;
  /** The built-in operation it behaves like, or null. */
  sameAs: string | null;
  /** Django's model state changes like `sameAs` (`same`), or not at all (`none`). */
  state: "same" | "none";
  /** The database changes like `sameAs`, safely (no blocking lock or rewrite), or not at all. */
  database: "same" | "safe" | "none";
  /** It refuses to run inside a transaction (the migration needs `atomic = False`). */
  nonAtomic?: boolean;
  /** It creates its model's table partitioned (`PARTITION BY`: django-postgres-extra). */
  partitioned?: true;
  /** Its reversal is its own (`database_backwards` overridden): not the built-in's (kolibri auth 0019). */
  ownBackwards?: true;
  /** What it does, in one sentence, for messages. */
  note: string;
}

/** A dependency tuple as written in `dependencies`/`run_before`. */
export interface DependencyRef {
  app: string;
  /** Migration name, or `__first__` / `__latest__`. */
  name: string;
  /** True for `swappable_dependency(settings.X)`. */
  swappable?: string;
  range: SourceRange;
}

/** Everything read from one migration file. */
export interface MigrationFile {
  /** Absolute path. */
  path: string;
  /** App label (from apps.py `label` or the app directory name). */
  app: string;
  /** Module name without `.py`, e.g. `0002_auto`. */
  name: string;
  /** `app.name`. */
  id: string;
  /** Whether a `Migration` class was found. */
  hasMigrationClass: boolean;
  classRange: SourceRange | null;
  dependencies: DependencyRef[];
  runBefore: DependencyRef[];
  replaces: DependencyRef[];
  initial: boolean | null;
  /** `atomic` attribute (the class's own, else one its bases in the file set); Django's default is True. */
  atomic: boolean;
  /** Where the `Migration` class itself sets `atomic` (null: it does not). */
  atomicRange: SourceRange | null;
  /**
   * The expression the class sets `atomic` to when its value is computed as the migration loads
   * (`IS_SQLITE`): `atomic` is then Django's default, true, as a guess. Absent otherwise.
   */
  atomicComputed?: string;
  /**
   * The vendors on which `atomic` is true, when the class sets it to a test of the database
   * (`atomic = IS_SQLITE`, `atomic = not USE_POSTGRESQL`; see the parser's `vendorCondition`): the
   * engine sets `atomic` for the run's target from it. Absent otherwise.
   */
  atomicOn?: string[];
  /**
   * The `Migration` class's base when it comes from another module and is not Django's
   * (`sentry.new_migrations.migrations.CheckedMigration`), qualified as the file imports it: the
   * base may set `atomic` there (`resolveHelperCalls` reads it). Absent otherwise.
   */
  migrationBase?: string;
  stage: StageMarker | null;
  /** `None` when `operations` itself could not be read. */
  operations: Operation[];
  operationsUnknown: { reason: string; range: SourceRange } | null;
  /** Parse problems (syntax errors) with their locations and what is wrong there. */
  syntaxErrors: SyntaxErrorRange[];
  /** File-level comments, used for file-level suppressions. */
  fileComments: { text: string; line: number }[];
  /** Names imported in the file: local alias -> qualified dotted path. */
  imports: Record<string, string>;
  /** The raw source, for code frames and fixes. */
  source: string;
  /**
   * Whether the source mentions "partition" (any case), set on a model the parse cache trusted
   * by the file's stat: its `source` is read only when something asks for it, and the replay
   * asks this of every migration. Absent: the source is searched.
   */
  mentionsPartition?: boolean;
}

/** An app found on disk. */
export interface AppInfo {
  label: string;
  /** Absolute path of the app package directory (the one holding `migrations/`). */
  dir: string;
  migrationsDir: string;
  /** Where the label came from. */
  labelSource: "apps.py" | "directory" | "configuration";
}

export type Severity = "error" | "warning";

/** A secondary location that explains a finding ("the field was made NOT NULL here"). */
export interface RelatedLocation {
  file: string;
  line: number;
  column: number;
  message: string;
}

/** A text edit on one file: offsets into the decoded source string (see `SourceRange`). */
export interface TextEdit {
  file: string;
  startOffset: number;
  endOffset: number;
  text: string;
}

/** A computed rewrite, possibly creating new files. */
export interface Fix {
  title: string;
  applicability: "safe" | "unsafe" | "display-only";
  edits: TextEdit[];
  newFiles?: { file: string; content: string }[];
  /**
   * Migrations the fix adds after the app's current leaf. A rule cannot see the graph, so it
   * describes them here and the engine turns them into `newFiles` (number, dependency, stage).
   */
  newMigrations?: NewMigrationRequest[];
}

/** A migration a fix creates, before its number and dependencies are known. */
export interface NewMigrationRequest {
  /** App label. */
  app: string;
  /** The migration the fix edits; the new one comes after it. */
  after: string;
  /** Name after the number, e.g. `drop_book_subtitle`. */
  slug: string;
  /** One line explaining the file, written as its first comment. */
  comment: string;
  /** Python source of each operation, without indentation or trailing comma. */
  operations: string[];
  /** Import lines the operations need besides `from django.db import migrations, models`. */
  imports?: string[];
  /** `False` writes `atomic = False`. */
  atomic?: boolean;
  /** `post` marks the migration post-deploy in the project's marker style. */
  stage?: "post";
  /** When the new migration must directly follow `after` (it must be the app's leaf). */
  directlyAfter?: boolean;
}

/** One finding. The shape of the JSON output (`--format json`) follows this type. */
export interface Diagnostic {
  code: string;
  rule: string;
  severity: Severity;
  /** Path relative to the working directory, with `/` separators. */
  file: string;
  line: number;
  column: number;
  endLine: number;
  endColumn: number;
  message: string;
  /** Why it matters, then the numbered safe steps. */
  help: string[];
  /** `app_label.name`, or null for findings outside a migration. */
  migration: string | null;
  related?: RelatedLocation[];
  fix?: Fix;
  /** Absolute path, for internal use (fixes, code frames); not part of the JSON output. */
  absPath?: string;
}

/** Documentation of a rule, written once and rendered by `explain`, SARIF, docs and help lines. */
export interface RuleDocs {
  /** One line: what the rule flags. */
  summary: string;
  /** What it does: the operations it looks at. */
  what: string;
  /** Why it is bad: which deployed code breaks or which lock is held. */
  why: string;
  /** The safe expand/contract recipe, as numbered steps. */
  recipe: string[];
  /** Why the default severity is what it is. */
  severityReason: string;
  /** A migration excerpt that the rule reports (exactly one finding). */
  bad: string;
  /** The safe version, which the rule does not report. */
  good: string;
  /**
   * The `rollsafe.toml` (TOML text) both examples assume, for rules that only fire with
   * configuration (e.g. `hot-tables`): the meta-test lints the examples with it, and the docs
   * page and `explain` show it before them. Omitted for rules that need no configuration.
   */
  config?: string;
}

/**
 * What a rule claims about a real database, checked by the verification harness (`verify/`):
 * - `old-code-breaks`: the previous release's queries fail after the migration;
 * - `new-code-breaks`: the new release's INSERTs fail while the migration's schema is live;
 * - `blocking-lock`: ACCESS EXCLUSIVE or SHARE (or stronger) is held on a pre-existing table;
 * - `rewrite`: the table is rewritten (its relfilenode changes);
 * - `migration-fails`: PostgreSQL refuses a statement, so `migrate` raises and the deploy stops.
 */
export type RuleClaim = "old-code-breaks" | "new-code-breaks" | "blocking-lock" | "rewrite" | "migration-fails";

/** The public, printable facts of a rule. */
export interface RuleMeta {
  /** Stable code, e.g. `RS101`; a retired code is never reused. */
  code: string;
  /** Kebab-case name that leads with the operation, e.g. `dropping-column`. */
  name: string;
  severity: Severity;
  /** Engines the rule applies to. */
  databases: ("postgresql" | "mysql" | "sqlite")[];
  /** Off unless selected (section D of the hazard catalog). */
  optIn?: boolean;
  claims: RuleClaim[];
  /** When a claim cannot be observed on a small table (e.g. a long scan), why. */
  unobservable?: string;
  /** Hazard catalog ids covered, e.g. `["H01"]`. */
  hazards: string[];
  /**
   * True when no online recipe avoids the blocking lock (e.g. adding an exclusion constraint):
   * `rollsafe plan` then asks for a maintenance window.
   */
  noOnlineRecipe?: boolean;
  docs: RuleDocs;
}

/** Counts printed in the summary line and the JSON `summary`. */
export interface LintSummary {
  files: number;
  migrations: number;
  errors: number;
  warnings: number;
}

/** What `lint()` returns: plain data that every reporter renders. */
export interface LintResult {
  diagnostics: Diagnostic[];
  summary: LintSummary;
  /** Metadata of the rules that ran (for SARIF and help URIs). */
  rules: RuleMeta[];
  /** The working directory the relative paths are relative to. */
  cwd: string;
  /** Source text of reported files by display path, for code frames (not serialised). */
  sources?: Map<string, string>;
  /**
   * Files besides the migrations and `apps.py` that the findings depend on: the helper modules
   * migrations take operations from (absolute paths). The result cache keys a run on them too.
   */
  inputs?: string[];
  /** What the run assumed and says once (not findings), e.g. the user model it inferred. */
  notes?: string[];
}
