/**
 * The contract between the engine and a rule module: a rule is metadata (`meta`) plus small
 * visitor functions that receive operations already resolved against the model state.
 */
import type {
  DeployStage,
  Fix,
  Operation,
  RelatedLocation,
  RuleMeta,
  Severity,
  SourceRange,
  StageMarker,
} from "../model/types.js";
import type { ParsedMigration } from "../parse/parse-migration.js";
import type { FieldState, ModelState } from "../state/model-state.js";
import type { ProjectState } from "../state/project-state.js";
import type { MigrationGraph } from "../graph/migration-graph.js";
import type { RunSqlFacts } from "./sql-facts-for-operation.js";
import type { SchemaEditorChanges } from "./partitioned-tables.js";

export type Database = "postgresql" | "mysql" | "sqlite";

/** The deployment target the advice is written for. */
export interface Target {
  database: Database;
  /** PostgreSQL major version (default 15). */
  postgresVersion: number;
  /** Django version as [major, minor] (default: the newest LTS). */
  django: [number, number];
  /** The stage assumed for migrations without a marker. */
  defaultStage: DeployStage;
  /** The migration runner sets `lock_timeout`/`statement_timeout` (config `timeouts-set-by-runner`). */
  timeoutsSetByRunner: boolean;
  /** The stage-marker convention the project already uses, for advice. */
  markerStyle: "syzygy" | "safemigrate" | "sentry" | null;
  /**
   * Tables the project names in its configuration (`partitioned-tables`, `hot-tables`,
   * `large-tables`). Each entry is a table name or an `app_label.ModelName`; match them with
   * `tableListed` (src/engine/table-lists.ts).
   */
  tables: TableLists;
}

/** The configured table lists (empty when not configured). */
export interface TableLists {
  partitioned: readonly string[];
  hot: readonly string[];
  large: readonly string[];
}

/** What a rule reports; the engine turns it into a `Diagnostic`. */
export interface Finding {
  range: SourceRange;
  message: string;
  help: string[];
  related?: RelatedLocation[];
  fix?: Fix;
  /** Overrides the rule's default severity for this finding. */
  severity?: Severity;
  /**
   * A rule whose finding at the same place says what this one does: when that rule reports
   * there, this finding is left out (running-slow-operation-under-exclusive-lock's index build on
   * the table it holds locked, which adding-index-non-concurrently's finding names).
   */
  coveredBy?: string;
}

/** Which side of the database/state split an operation changes. */
export type Effect = "both" | "database" | "state";

/** Everything a rule may know about one operation. */
export interface OperationContext {
  op: Operation;
  migration: ParsedMigration;
  /** The stage the migration runs in (its marker, or the configured default). */
  stage: DeployStage;
  stageMarker: StageMarker | null;
  /** `database` inside `SeparateDatabaseAndState.database_operations`, `state` for state-only. */
  effect: Effect;
  /** The enclosing `SeparateDatabaseAndState` or `RunSQL`, if any. */
  parent: Operation | null;
  /** Django's model state before the operation (for database-only operations: as Django evolves it). */
  state: ProjectState;
  /** The app labels whose migrations this run reads (every app of the graph). */
  appsInRun: ReadonlySet<string>;
  /**
   * Apps whose history the run cannot rebuild whole: a migration depends on one of theirs that does
   * not exist, so their models may be missing from the state (reported by missing-dependency).
   */
  appsIncomplete: ReadonlySet<string>;
  /** The physical schema before the operation (differs after state-only changes). */
  db: ProjectState;
  target: Target;
  /** Resolves a model name in the operation's app. */
  model(name: string | null): ModelState | undefined;
  /** Whether the model's table was created earlier in this same migration (so it is empty and unused). */
  isNewTable(model: ModelState): boolean;
  /** Whether Django emits DDL for the model (managed, not a proxy). */
  hasTable(model: ModelState): boolean;
  tableOf(model: ModelState): string;
  columnOf(field: FieldState): string | null;
  /** `Relative/path.py:line` of an origin, for related locations. */
  relatedAt(origin: { file: string; range: SourceRange }, message: string): RelatedLocation;
  /** The parsed SQL of a `RunSQL` in this migration (parsed once, cached); null for other operations. */
  sql(op: Operation): RunSqlFacts | null;
  /** The renames and drops Django's schema editor made for the operations before this one in the migration (only while a partitioned table may be involved). */
  schemaChanges: SchemaEditorChanges;
  report(finding: Finding): void;
}

/** Context for rules that look at a whole migration. */
export interface MigrationContext {
  migration: ParsedMigration;
  stage: DeployStage;
  stageMarker: StageMarker | null;
  target: Target;
  /** The parsed SQL of a `RunSQL` in this migration (parsed once, cached); null for other operations. */
  sql(op: Operation): RunSqlFacts | null;
  report(finding: Finding): void;
}

/** Context for rules that look at the graph. */
export interface ProjectContext {
  graph: MigrationGraph<ParsedMigration>;
  target: Target;
  /** Django's model state after the whole plan (the replay's end). */
  state: ProjectState;
  /** Whether findings in this migration are reported in this run. */
  isReported(migration: ParsedMigration): boolean;
  stageOf(migration: ParsedMigration): DeployStage;
  report(migration: ParsedMigration, finding: Finding): void;
}

/** A rule module's export. */
export interface Rule {
  meta: RuleMeta;
  /**
   * The operation kinds (`op.kind`) that `operation` can report on: the engine calls it for
   * these only (like an ESLint visitor keyed by node type). Omitted: every operation. A rule
   * that declares kinds must do nothing for the others; `test/engine/operation-kinds.test.ts`
   * replays every fixture both ways to hold the rules to it.
   */
  operationKinds?: readonly string[];
  /**
   * Rules whose replay bookkeeping this rule reads (e.g. the ACCESS EXCLUSIVE locks a migration
   * holds so far). When one of them is not selected, the engine still runs its `operation` and
   * drops what it reports, so this rule's findings do not depend on the selection.
   */
  uses?: readonly Rule[];
  operation?(ctx: OperationContext): void;
  migration?(ctx: MigrationContext): void;
  project?(ctx: ProjectContext): void;
}
