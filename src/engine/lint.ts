/**
 * The programmatic API: discover -> read and parse -> graph -> replay state -> rules ->
 * diagnostics. Returns plain data; printing is the reporters' job.
 */
import path from "node:path";
import { inferAuthUserModel } from "../model/auth-user-model.js";
import type { AppInfo, Diagnostic, LintResult, Operation, RuleMeta, Severity, SourceRange, SyntaxErrorRange, DeployStage } from "../model/types.js";
import { discover, labelApps, type Discovery } from "../discover/find-apps.js";
import { LOOP_BUILDERS, type ParsedMigration } from "../parse/parse-migration.js";
import type { LoadedFile } from "../workers/read-migration.js";
import { loadMigrations } from "../workers/load-migrations.js";
import type { FileStamps } from "../cache/file-stamp.js";
import { ParseCache } from "../cache/parse-cache.js";
import { cacheKey } from "../cache/cache-key.js";
import { rollsafeVersion } from "../cache/package-info.js";
import { buildGraph, type MigrationGraph } from "../graph/migration-graph.js";
import { ProjectState, type RawDatabaseStep } from "../state/project-state.js";
import { columnOf, notePrimaryKeyToFields, setAuthUserModel, setIndexNameLength } from "../state/model-state.js";
import { rules as allRules, findRule } from "../../rules/index.js";
import type { Effect, Finding, OperationContext, Rule, Target } from "./rule-types.js";
import { missingSqlFacts, prepareSqlParser, readableForwardStatements, runSqlFacts } from "./sql-facts-for-operation.js";
import type { SqlStatementFact } from "../sql/sql-facts.js";
import { recordPartitionedTables, schemaEditorChanges, touchesPartitions, type PartitionFact } from "./partitioned-tables.js";
import { materializeNewMigrations } from "../fix/new-migrations.js";
import { FileSuppressions, hasSuppressionComments, MISSING_SUPPRESSION_REASON } from "./suppressions.js";
import { thirdPartyEffect, type OperationCatalog } from "../model/third-party-operations.js";
import { baselinePaths } from "../config/start-after.js";
import { DEFAULT_TARGET } from "./defaults.js";
import { collectBetweenPhases } from "./collect-garbage.js";
import { resolveHelperCalls } from "./helper-modules.js";
import { declaredStage, deployStages } from "./deploy-stages.js";
import { oncePer } from "../util/collections.js";
import { leavesBase } from "../util/paths.js";
import { flatten } from "../util/intern.js";
import { setAdviceImports } from "../advice/snippets.js";

/** Options of `lint()`. */
export interface LintOptions {
  /** Paths relative paths in the output are relative to (default: `process.cwd()`). */
  cwd?: string;
  target?: Partial<Target>;
  /** Absolute path prefixes to leave out. */
  exclude?: string[];
  /** Migration packages outside `<app>/migrations` (`MIGRATION_MODULES`): absolute directory -> app label. */
  migrationModules?: ReadonlyMap<string, string>;
  /** Rules to run (default: all that are not opt-in). */
  rules?: Rule[];
  /** Rules to run by name, in this order, when `rules` is not given (the settings name them). */
  ruleNames?: readonly string[];
  /** `AUTH_USER_MODEL` (default `auth.User`). */
  authUserModel?: string;
  /** Files larger than this are reported instead of parsed (bytes). */
  maxFileSize?: number;
  /** Called once per file read, for progress display. */
  onProgress?: (done: number, total: number) => void;
  /**
   * Reports only the files this accepts (absolute paths), e.g. those changed since a git ref;
   * state still comes from every migration of the involved apps. The reported migrations are
   * then taken as one release's: a table a pre-deploy one created is new to a later one.
   */
  reportFilter?: (absPath: string) => boolean;
  /** Per-rule severity overrides, by rule name (configuration `severity`). */
  severity?: Record<string, Severity>;
  /** Migrations not reported (configuration `exclude` and `exclude-apps`); they still build the state. */
  notReported?: (migration: { path: string; app: string }) => boolean;
  /** Per app label, the last migration already deployed: it and its ancestors are not reported. */
  startAfter?: Record<string, string>;
  /** The configuration file, named in errors about `startAfter`. */
  configFile?: string;
  /** Custom operations declared in the configuration (`[tool.rollsafe.operations]`). */
  operations?: OperationCatalog;
  /** The parse cache directory (`--cache-dir`); absent: nothing is cached. */
  cacheDir?: string;
  /** Parse threads (`--jobs`, default: the number of cores). */
  jobs?: number;
  /**
   * The walk of `paths` already made with these options (`discover` with `labelCache: false`, by
   * the result cache's key): used instead of walking the tree again, and its apps are labelled here.
   */
  walked?: Discovery;
  /** The parse cache's stamps of `walked`'s migration files, from stats taken with it (`loadMigrations`' `stamps`). */
  fileStamps?: FileStamps;
  /**
   * Collect garbage between the phases of a large run (`collect-garbage.ts`). The CLI sets it; a
   * program that calls `lint()` keeps its own collector's pace.
   */
  collectGarbage?: boolean;
}

export { DEFAULT_DJANGO, DEFAULT_TARGET } from "./defaults.js";

/** The rules a run uses: `rules`, else those of `ruleNames`, else every rule that is not opt-in. */
export function activeRulesOf(options: Pick<LintOptions, "rules" | "ruleNames">): Rule[] {
  if (options.rules) return options.rules;
  if (!options.ruleNames) return allRules.filter((r) => !r.meta.optIn);
  const byName = new Map(allRules.map((r) => [r.meta.name, r] as const));
  return options.ruleNames.map((name) => {
    const rule = byName.get(name);
    if (!rule) throw new Error(`no rule named \`${name}\``);
    return rule;
  });
}

/** The result of reading one file. */
export type { LoadedFile } from "../workers/read-migration.js";


/** Display paths already worked out, per working directory (a run reports many findings per file). */
const displayPaths = new Map<string, { inside: string; known: Map<string, string> }>();

/** A path as reports show it: relative to cwd with `/`, or absolute when outside cwd. */
export function displayPath(cwd: string, file: string): string {
  let paths = displayPaths.get(cwd);
  if (!paths) {
    const resolved = path.resolve(cwd);
    displayPaths.set(cwd, (paths = { inside: resolved.endsWith(path.sep) ? resolved : resolved + path.sep, known: new Map() }));
  }
  let shown = paths.known.get(file);
  if (shown === undefined) paths.known.set(file, (shown = computeDisplayPath(cwd, paths.inside, file)));
  return shown;
}

/** A `.` or `..` segment, an empty one, or a trailing `/`: a path `path.relative` would normalise. */
const NOT_NORMAL = /(?:^|\/)\.{1,2}(?:\/|$)|\/\/|\/$/;

function computeDisplayPath(cwd: string, inside: string, file: string): string {
  // A normalised path under cwd (every file a walk of cwd finds): the rest of it, as
  // path.relative gives it without resolving both paths again (a fifth of a finding's cost).
  if (path.sep === "/" && file.length > inside.length && file.startsWith(inside) && !NOT_NORMAL.test(file)) return file.slice(inside.length);
  const rel = path.relative(cwd, file);
  if (rel === "" || leavesBase(rel)) return file.split(path.sep).join("/");
  return rel.split(path.sep).join("/");
}

const WHOLE_FILE: SourceRange = { line: 1, column: 1, endLine: 1, endColumn: 1, startOffset: 0, endOffset: 0 };

/** Runs rollsafe over `paths` and returns the findings. */
export async function lint(paths: string[], options: LintOptions = {}): Promise<LintResult> {
  return (await analyze(paths, options)).result;
}

/** What a full analysis produces: the findings, and the state after the last migration. */
export interface Analysis {
  result: LintResult;
  graph: MigrationGraph<ParsedMigration>;
  /** Django's model state after every migration. */
  state: ProjectState;
  /** The target the rules ran with (defaults and detected marker style filled in). */
  target: Target;
  /** Whether a migration's findings were reported in this run (the pending migrations). */
  isReported: (migration: ParsedMigration) => boolean;
  /** The stage a migration runs at, as the project's runner applies it (see deploy-stages). */
  stageOf: (migration: ParsedMigration) => DeployStage;
}

/** Runs the whole pipeline and keeps the intermediate products (`rollsafe state` needs them). */
export async function analyze(paths: string[], options: LintOptions = {}): Promise<Analysis> {
  const cwd = options.cwd ?? process.cwd();
  const activeRules = activeRulesOf(options);
  const metaByName = new Map(allRules.map((r) => [r.meta.name, r.meta] as const));
  const diagnostics: Diagnostic[] = [];
  const cache = options.cacheDir ? new ParseCache(path.resolve(cwd, options.cacheDir), rollsafeVersion(), cacheKey(options.operations)) : null;
  let discovery: Discovery;
  if (options.walked) {
    discovery = options.walked;
    await labelApps(discovery, cache ?? undefined);
  } else {
    discovery = await discover(paths.map((p) => path.resolve(cwd, p)), { exclude: options.exclude, migrationModules: options.migrationModules, ...(cache ? { labelCache: cache } : {}) });
  }
  if (options.reportFilter) for (const p of [...discovery.reportPaths]) if (!options.reportFilter(p)) discovery.reportPaths.delete(p);
  const notReported = options.notReported;
  if (notReported) for (const f of discovery.files) if (notReported({ path: f.path, app: f.app.label })) discovery.reportPaths.delete(f.path);
  // Suppression comments of reported files, consulted by `emit` (the one place they apply).
  const suppressions = new Map<string, { migration: ParsedMigration; index: FileSuppressions }>();

  // Squashes whose replaced files are gone: when their findings matter (see `isSquash`).
  const squashNotes = new Map<string, string>();
  const emit = (meta: RuleMeta | undefined, file: string, migration: string | null, range: SourceRange, finding: Omit<Finding, "range">) => {
    if (!meta) return;
    if (suppressions.get(file)?.index.suppresses(meta.name, range.line)) return;
    const note = migration === null ? undefined : squashNotes.get(migration);
    diagnostics.push({
      code: meta.code,
      rule: meta.name,
      severity: options.severity?.[meta.name] ?? finding.severity ?? meta.severity,
      file: displayPath(cwd, file),
      line: range.line,
      column: range.column,
      endLine: range.endLine,
      endColumn: range.endColumn,
      message: flatten(finding.message),
      help: note === undefined ? finding.help.map(flatten) : [...finding.help.map(flatten), note],
      migration,
      ...(finding.related?.length ? { related: finding.related } : {}),
      ...(finding.fix ? { fix: finding.fix } : {}),
      absPath: file,
    });
  };
  const enabled = new Set(activeRules.map((r) => r.meta.name));
  const emitBuiltin = (name: string, file: string, migration: string | null, range: SourceRange, message: string, help: string[] = []) => {
    if (enabled.has(name)) emit(metaByName.get(name), file, migration, range, { message, help });
  };

  for (const problem of discovery.problems) {
    emitBuiltin("io-error", path.resolve(cwd, problem.path), null, WHOLE_FILE, `${displayPath(cwd, path.resolve(cwd, problem.path))}: ${problem.message}`);
  }
  leaveOutDuplicateLabels(discovery, cwd, emitBuiltin);

  // Read and parse every file of every involved app (state needs them all). With a parse cache,
  // each thread reads the SQL of the RunSQLs it parses and the cache keeps it with the model, so
  // a run with nothing new to parse never loads the PostgreSQL parser. A model without its SQL
  // (no cache, or the parser could not load) starts the load here, while the rest of the files
  // are read, and the replay reads the SQL a rule asks for (or reports that it cannot).
  let sqlParserLoad: Promise<void> | null = null;
  const onLoaded = (file: LoadedFile) => {
    if (!sqlParserLoad && file.ok && missingSqlFacts(file.migration)) sqlParserLoad = prepareSqlParser([file.migration]);
  };
  const loaded = await loadMigrations(discovery.files, {
    maxFileSize: options.maxFileSize,
    operations: options.operations,
    cache,
    jobs: options.jobs,
    onProgress: options.onProgress,
    onLoaded,
    stamps: options.fileStamps,
  });
  await cache?.save();
  if (options.collectGarbage) collectBetweenPhases();

  const migrations: ParsedMigration[] = [];
  for (const file of loaded) {
    const reported = discovery.reportPaths.has(file.ref.path);
    if (!file.ok) {
      if (reported) {
        const range = { ...WHOLE_FILE, line: file.line, column: file.column, endLine: file.line, endColumn: file.column };
        emitBuiltin(file.rule, file.ref.path, `${file.ref.app.label}.${file.ref.name}`, range, file.message);
      }
      continue;
    }
    const m = file.migration;
    migrations.push(m);
    if (!reported) continue;
    if (hasSuppressionComments(m)) suppressions.set(m.path, { migration: m, index: new FileSuppressions(m, (name) => findRule(name)?.meta.name) });
    if (m.syntaxErrors.length > 0) {
      const first = m.syntaxErrors[0] as SyntaxErrorRange;
      emitBuiltin(
        "parse-error",
        m.path,
        m.id,
        first,
        `Syntax error: ${first.message}; this file is not valid Python${m.syntaxErrors.length > 1 ? ` (${m.syntaxErrors.length} error locations)` : ""}.`,
        ["Django cannot load this migration, so `migrate` fails. `python -m py_compile` on the file shows the same error.", "Operations that could still be read are checked; the rest cannot be."],
      );
    }
    if (!m.hasMigrationClass && m.syntaxErrors.length === 0) {
      emitBuiltin("missing-migration-class", m.path, m.id, WHOLE_FILE, `\`${m.id}\` has no \`Migration\` class, so Django's loader raises BadMigrationError.`, [
        "Rename helper modules to start with `_` (Django skips them), or move them out of `migrations/`.",
      ]);
    }
  }

  // Operations built by helper functions and classes of the project's own modules.
  const inputs = resolveHelperCalls(migrations, { maxFileSize: options.maxFileSize, operations: options.operations, display: (file) => displayPath(cwd, file) });
  if (inputs.length > 0 && !sqlParserLoad) {
    const missing = migrations.filter(missingSqlFacts);
    if (missing.length > 0) sqlParserLoad = prepareSqlParser(missing);
  }

  // settings.AUTH_USER_MODEL: the configured model, else the project's own user model if its
  // migrations show one, else Django's default.
  const inferredUser = options.authUserModel ? null : inferAuthUserModel(migrations);
  const authUserModel = options.authUserModel ?? inferredUser?.model ?? "auth.User";
  const notes: string[] = [];
  if (inferredUser) {
    notes.push(
      `settings.AUTH_USER_MODEL read as \`${inferredUser.model}\`, the project's user model (\`${inferredUser.migration}\` creates it with AbstractBaseUser's fields); set \`auth-user-model = "app_label.Model"\` in the configuration if it is another.`,
    );
  }
  setAuthUserModel(authUserModel);
  const graph = buildGraph(migrations, { authUserModel });
  if (options.startAfter) {
    const baseline = baselinePaths(migrations, options.startAfter, options.configFile);
    for (const p of baseline) discovery.reportPaths.delete(p);
    for (let i = diagnostics.length - 1; i >= 0; i--) if (baseline.has(diagnostics[i]?.absPath ?? "")) diagnostics.splice(i, 1);
  }
  const target = resolveTarget(options.target, migrations);
  setIndexNameLength(target.database);
  const isReported = (m: ParsedMigration) => discovery.reportPaths.has(m.path) && !isSquash(m, graph);
  for (const m of migrations) {
    if (m.replaces.length === 0 || !isReported(m)) continue;
    const n = m.replaces.length;
    squashNotes.set(
      m.id,
      `\`${m.name}\` squashes ${n} migration${n === 1 ? "" : "s"} no longer on disk: Django runs it only on a database that applied none of ${n === 1 ? "it" : "them"} (one that applied ${n === 1 ? "it" : "them all"} has it recorded as applied), so this matters where such a database holds data, such as an install upgrading across the whole squashed range.`,
    );
  }
  for (const problem of graph.problems) {
    const m = graph.nodes.get(problem.migration)?.migration ?? migrations.find((x) => x.id === problem.migration);
    if (m && discovery.reportPaths.has(m.path)) emitBuiltin(problem.kind, m.path, m.id, problem.range, `${problem.message}.`);
  }

  // Every loaded file went through onLoaded: the load has started if any RunSQL lacks its facts.
  await sqlParserLoad;
  const stages = deployStages(graph, target);
  const stageOf = (m: ParsedMigration): DeployStage => stages.get(m.id) ?? declaredStage(m, target);
  // With --base, the reported migrations are the branch's, deployed together: a table one of them
  // created before the deploy is one the old release never had. (start-after's baseline may be
  // many releases old: the migrations after it are not one release.)
  const pendingKnown = options.reportFilter !== undefined;
  const state = replay(graph, activeRules, target, stageOf, cwd, isReported, pendingKnown, emit, emitBuiltin);
  if (options.collectGarbage) collectBetweenPhases();

  for (const rule of activeRules) {
    if (!rule.project) continue;
    try {
      rule.project({
        graph,
        target,
        state,
        isReported,
        stageOf,
        report: (m, finding) => emit(rule.meta, m.path, m.id, finding.range, finding),
      });
    } catch (error) {
      emitBuiltin("internal-error", discovery.apps[0]?.dir ?? cwd, null, WHOLE_FILE, `rule \`${rule.meta.name}\` failed: ${(error as Error).message}`);
    }
  }

  const allDefaultRulesRan = allRules.every((r) => r.meta.optIn || enabled.has(r.meta.name));
  for (const { migration: m, index } of suppressions.values()) {
    if (!isReported(m)) continue;
    for (const p of index.problems(enabled, allDefaultRulesRan, enabled.has(MISSING_SUPPRESSION_REASON))) emitBuiltin(p.rule, m.path, m.id, p.range, p.message, p.help);
  }

  materializeNewMigrations(diagnostics, graph, target);
  diagnostics.sort(compareDiagnostics);
  const reportedMigrations = migrations.filter((m) => discovery.reportPaths.has(m.path)).length;
  const withFindings = new Set(diagnostics.map((d) => d.absPath));
  const sources = new Map(migrations.filter((m) => withFindings.has(m.path)).map((m) => [displayPath(cwd, m.path), m.source] as const));
  const result: LintResult = {
    diagnostics,
    summary: {
      files: discovery.reportPaths.size,
      migrations: reportedMigrations,
      errors: diagnostics.filter((d) => d.severity === "error").length,
      warnings: diagnostics.filter((d) => d.severity === "warning").length,
    },
    rules: activeRules.map((r) => r.meta),
    cwd,
    sources,
    ...(inputs.length > 0 ? { inputs } : {}),
    ...(notes.length > 0 ? { notes } : {}),
  };
  return { result, graph, state, target, isReported, stageOf };
}

/**
 * Apps that share a label cannot be installed together (Django raises `ImproperlyConfigured`),
 * and in one run their migrations would share one graph (a migration named the same in both
 * hiding the other) and one model state. The app whose directory comes first keeps the label;
 * each other one is left out of the run and reported on its first reported migration (apps of
 * different projects in one repository are checked one project at a time).
 */
function leaveOutDuplicateLabels(discovery: Discovery, cwd: string, emitBuiltin: EmitBuiltin): void {
  // Each left-out app, with the app that keeps its label (`discover` lists apps by directory).
  const byLabel = new Map<string, AppInfo>();
  const leftOut = new Map<AppInfo, AppInfo>();
  for (const app of discovery.apps) {
    const kept = byLabel.get(app.label);
    if (kept) leftOut.set(app, kept);
    else byLabel.set(app.label, app);
  }
  if (leftOut.size === 0) return;
  const firstReported = new Map<AppInfo, string>();
  discovery.files = discovery.files.filter((file) => {
    if (!leftOut.has(file.app)) return true;
    const first = firstReported.get(file.app);
    if (discovery.reportPaths.delete(file.path) && (first === undefined || file.path < first)) firstReported.set(file.app, file.path);
    return false;
  });
  discovery.apps = discovery.apps.filter((app) => !leftOut.has(app));
  for (const [app, kept] of leftOut) {
    const first = firstReported.get(app);
    if (!first) continue;
    const here = displayPath(cwd, app.dir);
    const there = displayPath(cwd, kept.dir);
    emitBuiltin(
      "duplicate-app-label",
      first,
      null,
      WHOLE_FILE,
      `App \`${here}\` has the label \`${app.label}\`, as \`${there}\` has: Django cannot install both, so rollsafe checks \`${there}\` and leaves this app's migrations out.`,
      [
        `With both in INSTALLED_APPS, \`django.setup()\` raises \`ImproperlyConfigured: Application labels aren't unique, duplicates: ${app.label}\`. A label is the \`label\` of the app's \`AppConfig\`, else the last part of its module name.`,
        `If the two apps belong to different projects, check each project on its own (\`rollsafe check <project directory>\`).`,
        `If both are installed in one project, give one of them its own \`label\` in its \`AppConfig\` (before its first deploy: the label names its tables and its rows in \`django_migrations\`).`,
      ],
    );
  }
}

function compareDiagnostics(a: Diagnostic, b: Diagnostic): number {
  if (a.file !== b.file) return a.file < b.file ? -1 : 1;
  return a.line - b.line || a.column - b.column || (a.code < b.code ? -1 : a.code > b.code ? 1 : 0) || (a.message < b.message ? -1 : a.message > b.message ? 1 : 0);
}

/**
 * A squashed migration whose replaced migrations are still on disk, or a replaced one: not
 * reported. With the replaced migrations on disk, a database that applied them marks the squash
 * applied and one that applied none runs it as their sum, so their findings would be the squash's
 * again. Once they are deleted (Django's advice after the transition), the squash is an ordinary
 * migration: a database that never applied what it replaces runs it (django-oscar ships such
 * squashes to projects that upgrade), and it is reported like any other.
 */
function isSquash(m: ParsedMigration, graph: MigrationGraph<ParsedMigration>): boolean {
  if (graph.replacedBy.has(m.id)) return true;
  if (m.replaces.length === 0) return false;
  const onDisk = replacedOnDisk(graph);
  return m.replaces.some((r) => onDisk.has(`${r.app}.${r.name}`));
}

/** The ids of the replaced migrations whose files are on disk, once per graph (every migration of the replay asks). */
const replacedOnDisk = oncePer((graph: MigrationGraph<ParsedMigration>) => new Set(graph.replaced.map((r) => r.id)));

function resolveTarget(partial: Partial<Target> | undefined, migrations: ParsedMigration[]): Target {
  const counts = new Map<string, number>();
  for (const m of migrations) if (m.stage) counts.set(m.stage.source, (counts.get(m.stage.source) ?? 0) + 1);
  let style: Target["markerStyle"] = null;
  let best = 0;
  for (const [source, count] of [...counts.entries()].sort()) {
    if (source !== "config" && count > best) {
      best = count;
      style = source as Target["markerStyle"];
    }
  }
  return { ...DEFAULT_TARGET, markerStyle: style, ...stripUndefined(partial ?? {}) };
}

function stripUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}

type Emit = (meta: RuleMeta | undefined, file: string, migration: string | null, range: SourceRange, finding: Omit<Finding, "range">) => void;
type EmitBuiltin = (name: string, file: string, migration: string | null, range: SourceRange, message: string, help?: string[]) => void;

/**
 * For each operation kind, the indexes (in rule order) of the rules whose `operation` wants it:
 * those that declare the kind in `operationKinds` and those that declare none. Most rules look
 * at one or two kinds: an AlterField meets 28 of the 76 operation rules, a CreateModel 17.
 */
function operationRulesByKind(rules: readonly Rule[]): (kind: string) => readonly number[] {
  const byKind = new Map<string, number[]>();
  return (kind) => {
    let list = byKind.get(kind);
    if (!list) {
      list = [];
      for (let i = 0; i < rules.length; i++) if (!rules[i]?.operationKinds || rules[i]?.operationKinds?.includes(kind)) list.push(i);
      byKind.set(kind, list);
    }
    return list;
  };
}

/** The help line of a finding on an operation a function or a loop makes (`Operation.builtBy`). */
function builtHelp(builtBy: string, hadFix: boolean): string {
  const there = LOOP_BUILDERS.has(builtBy) ? `${builtBy}, once for each item: change its body` : `${builtBy}: change that function`;
  return `This operation is made by ${there}, or write the operations out in the migration${hadFix ? " (rollsafe's automatic fix cannot edit it)" : ""}.`;
}

/**
 * A `RunSQL`'s raw database step, read when a rule asks. Made outside the replay's loop: a
 * closure there would keep the loop's whole scope (the migration's reporters, its visit function)
 * alive with the database state, for every migration with a `RunSQL`.
 */
function rawSqlStep(op: Operation, migration: ParsedMigration): RawDatabaseStep {
  let read: SqlStatementFact[] | null | undefined;
  return { app: migration.app, statements: () => (read === undefined ? (read = readableForwardStatements(runSqlFacts(op, migration))) : read) };
}

/** The statements of a step rollsafe cannot read (an unknown operation): a function made once, for the same reason. */
const unreadableStatements = (): null => null;

/** The help line of a finding on what a `RunPython`'s function runs itself (`Operation.executes`). */
function executedHelp(op: Operation, hadFix: boolean): string {
  const what = op.kind === "RunSQL" ? "This SQL runs" : op.kind === "AddIndex" ? "This index is built" : "This index is dropped";
  const instead = `${op.kind === "AddIndex" ? "an" : "a"} \`${op.kind}\` operation of its own`;
  return `${what} through ${op.executedBy}, which the \`RunPython\` calls: change it there, or move it to ${instead}${hadFix ? " (rollsafe's automatic fix cannot edit it)" : ""}.`;
}

/**
 * Replays every migration in plan order. Rules see each operation with the state before it;
 * then the operation is applied. State changes incrementally: one pass, no re-replay per file.
 */
function replay(
  graph: MigrationGraph<ParsedMigration>,
  rules: Rule[],
  target: Target,
  stageOf: (m: ParsedMigration) => DeployStage,
  cwd: string,
  isReported: (m: ParsedMigration) => boolean,
  pendingKnown: boolean,
  emit: Emit,
  emitBuiltin: EmitBuiltin,
): ProjectState {
  const state = new ProjectState();
  const db = new ProjectState();
  const operationRules = rules.filter((r) => r.operation);
  const migrationRules = rules.filter((r) => r.migration);
  const rulesFor = operationRulesByKind(operationRules);
  const appsInRun: ReadonlySet<string> = new Set(graph.plan.map((m) => m.app));
  const appsIncomplete: ReadonlySet<string> = new Set(
    graph.problems.flatMap((p) => (p.kind === "missing-dependency" ? [p.missingApp, graph.nodes.get(p.migration)?.migration.app].filter((a): a is string => a !== undefined) : [])),
  );
  for (const migration of graph.plan) {
    const reported = isReported(migration);
    // Advice modules import the names of the migration's own code that they copy.
    setAdviceImports(reported ? migration.imports : null);
    const stage = stageOf(migration);
    // A table an earlier pending migration of the release created before the deploy (Funkwhale
    // federation 0007/0008, one makemigrations run split in two): neither release has used it yet.
    const createdThisRelease = (id: string): boolean => {
      const creator = graph.nodes.get(id)?.migration;
      return creator !== undefined && isReported(creator) && stage !== "post" && stageOf(creator) !== "post";
    };
    const applyCtx = { app: migration.app, migration: migration.id, file: migration.path };
    const reportCrash = (rule: Rule, error: unknown) =>
      emitBuiltin(
        "internal-error",
        migration.path,
        migration.id,
        migration.classRange ?? WHOLE_FILE,
        `rule \`${rule.meta.name}\` failed on \`${migration.id}\`: ${error instanceof Error ? error.message : String(error)}`,
      );
    const runRule = (rule: Rule, fn: () => void) => {
      try {
        fn();
      } catch (error) {
        reportCrash(rule, error);
      }
    };
    if (reported) {
      for (const rule of migrationRules) {
        runRule(rule, () =>
          rule.migration?.({
            migration,
            stage,
            stageMarker: migration.stage,
            target,
            sql: (op) => runSqlFacts(op, migration),
            report: (finding) => emit(rule.meta, migration.path, migration.id, finding.range, finding),
          }),
        );
      }
    }
    // The renames and drops Django's schema editor makes in this migration, applied to the
    // partitioned tables in order with its RunSQL statements (recordPartitionedTables), and
    // read by rules up to their operation. Only read while a partitioned table may be involved.
    const schemaChanges = new Map<Operation, PartitionFact[]>();
    const followChanges = touchesPartitions(db, migration);
    const schemaChange = (op: Operation, logical: ProjectState) => {
      const after = followChanges ? schemaEditorChanges(op, logical, migration.app) : null;
      return after ? () => schemaChanges.set(op, after(logical)) : null;
    };
    // One reporter per rule and migration, and one context per operation whose `report` is
    // swapped between rules: no per-rule object copies on the hot path.
    const reporters = reported ? operationRules.map((rule) => (finding: Finding) => emit(rule.meta, migration.path, migration.id, finding.range, finding)) : [];
    const visit = (op: Operation, effect: Effect, parent: Operation | null, logical: ProjectState) => {
      if (!reported) return;
      const ctx: OperationContext = {
        report: () => undefined,
        op,
        migration,
        stage,
        stageMarker: migration.stage,
        effect,
        parent,
        state: logical,
        db,
        appsInRun,
        appsIncomplete,
        target,
        model: (name) => (name ? logical.model(migration.app, name) : undefined),
        // A model created in this migration's state on a table the database already has (a model
        // moved from another app: state-only CreateModel, GlitchTip events 0001) is not new there.
        isNewTable: (model) =>
          model.createdIn === migration.id
            ? !db.modelsWithTable(logical.tableOf(model)).some((m) => m.createdIn !== migration.id)
            : pendingKnown && createdThisRelease(model.createdIn) && db.modelsWithTable(logical.tableOf(model)).every((m) => m.createdIn === model.createdIn),
        hasTable: (model) => logical.hasTable(model),
        tableOf: (model) => logical.tableOf(model),
        columnOf,
        relatedAt: (origin, message) => {
          const file = displayPath(cwd, origin.file);
          return { file, line: origin.range.line, column: origin.range.column, message };
        },
        sql: (o) => runSqlFacts(o, migration),
        schemaChanges,
      };
      // An operation a function or a loop built has the call's (or the body's) range: no edit can
      // be placed, and the finding says where the recipe applies.
      const builtBy = op.builtBy ?? parent?.builtBy;
      const madeBy = op.executedBy ? (hadFix: boolean) => executedHelp(op, hadFix) : builtBy === undefined ? null : (hadFix: boolean) => builtHelp(builtBy, hadFix);
      const condition = op.condition ?? parent?.condition;
      for (const i of rulesFor(op.kind)) {
        const rule = operationRules[i] as Rule;
        const base = reporters[i] as OperationContext["report"];
        // Under a condition rollsafe cannot evaluate: a warning that says when it holds.
        const reporter: OperationContext["report"] =
          condition === undefined
            ? base
            : (finding) =>
                base({
                  ...finding,
                  severity: (finding.severity ?? rule.meta.severity) === "error" ? "warning" : finding.severity,
                  help: [`Only when \`${condition}\`: the migration adds this operation under that condition, which rollsafe cannot evaluate, and checks it as if the condition holds.`, ...finding.help],
                });
        ctx.report = madeBy === null ? reporter : (finding) => reporter({ ...finding, help: [...finding.help, madeBy(finding.fix !== undefined)], fix: undefined });
        try {
          rule.operation?.(ctx);
        } catch (error) {
          reportCrash(rule, error);
        }
      }
    };
    // Database steps Django's operations do not describe, read by rules only when they ask.
    const rawStep = (op: Operation) => {
      if (op.kind === "RunSQL" && !op.unknown) db.rawSteps.push(rawSqlStep(op, migration));
      else if (op.unknown) db.rawSteps.push({ app: migration.app, statements: unreadableStatements });
    };
    const problems = (list: { message: string }[], op: Operation) => {
      if (!reported) return;
      for (const p of list) emitBuiltin("unresolved-reference", migration.path, migration.id, op.range, `Cannot resolve this operation: ${p.message}.`, [
        "rollsafe rebuilds the model state from the migrations before this one; the name is missing there, so the operation is not checked.",
      ]);
    };
    for (const op of migration.operations) {
      // An operation the migration adds only on other databases (`if not settings.USE_POSTGRESQL:`).
      if (op.vendors && !op.vendors.includes(target.database)) continue;
      notePrimaryKeyToFields([op], migration.app, (key) => state.modelByKey(key));
      const thirdParty = op.thirdParty && !op.unknown ? thirdPartyEffect(op.thirdParty) : null;
      visit(op, thirdParty?.effect ?? "both", null, state);
      const changed = schemaChange(op, state);
      if (thirdParty && thirdParty.effect !== "both") {
        // A known third-party or configured operation: only the sides it really changes.
        if (thirdParty.applyState) problems(state.apply(op, applyCtx), op);
        if (thirdParty.applyDatabase) {
          db.apply(op, applyCtx);
          changed?.();
        }
        continue;
      }
      rawStep(op);
      // The SQL a RunPython's function executes itself, as Django runs it: after the RunPython
      // starts, in the database only, and only what it runs on the target's vendor.
      for (const executed of op.executes ?? []) {
        if (executed.vendors && !executed.vendors.includes(target.database)) continue;
        visit(executed, "database", op, state);
        rawStep(executed);
      }
      if (op.kind === "SeparateDatabaseAndState" && !op.unknown) {
        // Django applies database_operations to a copy of the state as it was before the operation
        // (a shadow shares the models until it changes one); the common state-only form needs none.
        const shadow = op.databaseOperations?.length ? state.shadow() : state;
        for (const inner of op.databaseOperations ?? []) {
          visit(inner, "database", op, shadow);
          const changedInner = schemaChange(inner, shadow);
          shadow.apply(inner, applyCtx);
          db.apply(inner, applyCtx);
          rawStep(inner);
          changedInner?.();
        }
        for (const inner of op.stateOperations ?? []) {
          visit(inner, "state", op, state);
          problems(state.apply(inner, applyCtx), inner);
        }
        continue;
      }
      if (op.kind === "RunSQL" && op.stateOperations?.length) {
        for (const inner of op.stateOperations) {
          visit(inner, "state", op, state);
          problems(state.apply(inner, applyCtx), inner);
        }
        continue;
      }
      problems(state.apply(op, applyCtx), op);
      db.apply(op, applyCtx);
      changed?.();
    }
    // Partitioned tables made, renamed and dropped by this migration (rules read the current migration's own statements).
    recordPartitionedTables(db, migration, (op) => runSqlFacts(op, migration), schemaChanges);
  }
  setAdviceImports(null);
  return state;
}
