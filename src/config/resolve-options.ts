/**
 * Configuration + command-line flags -> the options of one run (`lint()` options and the exit
 * code policy). Flags override the configuration key by key.
 */
import path from "node:path";
import type { Severity } from "../model/types.js";
import type { Database, Target } from "../engine/rule-types.js";
import type { LintOptions } from "../engine/lint.js";
import { DEFAULT_DJANGO } from "../engine/defaults.js";
import { ruleCatalog } from "../../rules/catalog.js";
import { findRuleEntry } from "../../rules/rule-entry.js";
import { ConfigError } from "./config-error.js";
import { DATABASES, findConfigFile, loadConfigFile, parseDjangoVersion, parsePostgresVersion, type FailOn, type RollsafeConfig } from "./load-config.js";
import { detectDjangoVersion, type DjangoVersionSource } from "./django-version.js";
import { matchesGlob } from "./glob.js";
import { defaultCacheDir } from "../cache/package-info.js";
import { leavesBase } from "../util/paths.js";

/** The flags that configure a run, as typed on the command line. */
export interface RunFlags {
  config?: string;
  /** `--no-config` (commander sets `config: false`). */
  noConfig?: boolean;
  select?: string;
  ignore?: string;
  database?: string;
  postgresVersion?: string;
  django?: string;
  failOn?: string;
  /** `--no-cache`: neither read nor write the parse cache. */
  noCache?: boolean;
  cacheDir?: string;
  jobs?: string;
}

/**
 * The options commander parsed for `withRunOptions` (in cli-options.ts). Here, not there, so that
 * the cached check (src/cached-check.ts) maps them without loading commander.
 */
export type RunOptionValues = Omit<RunFlags, "config" | "noConfig" | "noCache"> & {
  /** A path, or `false` after `--no-config`. */
  config?: string | boolean;
  /** `false` after `--no-cache`. */
  cache?: boolean;
};

/** Commander's values -> `RunFlags`. */
export function runFlags(values: RunOptionValues): RunFlags {
  return {
    ...(typeof values.config === "string" ? { config: values.config } : {}),
    ...(values.config === false ? { noConfig: true } : {}),
    ...(values.select !== undefined ? { select: values.select } : {}),
    ...(values.ignore !== undefined ? { ignore: values.ignore } : {}),
    ...(values.database !== undefined ? { database: values.database } : {}),
    ...(values.postgresVersion !== undefined ? { postgresVersion: values.postgresVersion } : {}),
    ...(values.django !== undefined ? { django: values.django } : {}),
    ...(values.failOn !== undefined ? { failOn: values.failOn } : {}),
    ...(values.cache === false ? { noCache: true } : {}),
    ...(values.cacheDir !== undefined ? { cacheDir: values.cacheDir } : {}),
    ...(values.jobs !== undefined ? { jobs: values.jobs } : {}),
  };
}

/** Where the Django version of the run comes from. */
export type DjangoOrigin =
  | { from: "flag" }
  | { from: "config"; file: string }
  | { from: "requirements"; source: DjangoVersionSource }
  | { from: "default" };

/** Everything a command needs to run. */
export interface ResolvedRun {
  options: LintOptions;
  failOn: FailOn;
  config: RollsafeConfig | null;
  django: [number, number];
  djangoOrigin: DjangoOrigin;
}

const SUPPRESSION_REASON_RULE = "missing-suppression-reason";

function ruleName(codeOrName: string): string | undefined {
  return findRuleEntry(ruleCatalog, codeOrName)?.name;
}

/** Splits `--select a,b` and resolves each rule; `ALL` is allowed where `allowAll`. */
function ruleList(flag: string, value: string, allowAll: boolean): string[] {
  const names: string[] = [];
  for (const part of value.split(",").map((p) => p.trim()).filter(Boolean)) {
    if (allowAll && part.toUpperCase() === "ALL") {
      names.push("ALL");
      continue;
    }
    const name = ruleName(part);
    if (!name) throw new ConfigError(`${flag}: unknown rule \`${part}\` (\`rollsafe rules\` lists them)`);
    names.push(name);
  }
  if (names.length === 0) throw new ConfigError(`${flag} needs at least one rule`);
  return names;
}

/** Shows a path relative to cwd when it is inside it. */
function shownPath(cwd: string, file: string): string {
  const rel = path.relative(cwd, file);
  return rel && !leavesBase(rel) ? rel : file;
}

/** Loads the configuration a run uses: `--config`, else the nearest one, unless `--no-config`. */
export function loadRunConfig(paths: string[], flags: RunFlags, cwd: string): RollsafeConfig | null {
  if (flags.noConfig) {
    if (flags.config) throw new ConfigError("--config and --no-config cannot be used together");
    return null;
  }
  const resolveRule = (name: string) => ruleName(name);
  if (flags.config) {
    const file = path.resolve(cwd, flags.config);
    return loadConfigFile(file, resolveRule, flags.config);
  }
  const file = findConfigFile(path.resolve(cwd, paths[0] ?? "."));
  return file ? loadConfigFile(file, resolveRule, shownPath(cwd, file)) : null;
}

/** Merges configuration and flags into the options of a run. */
export function resolveRun(paths: string[], flags: RunFlags, cwd: string = process.cwd()): ResolvedRun {
  const config = loadRunConfig(paths, flags, cwd);

  // Rules: flags replace the configuration's lists; a rule the flags select is not ignored.
  const select = flags.select !== undefined ? ruleList("--select", flags.select, true) : config?.select;
  const flagIgnore = flags.ignore !== undefined ? ruleList("--ignore", flags.ignore, false) : undefined;
  if (flags.select !== undefined && flagIgnore) {
    const both = (select ?? []).find((r) => flagIgnore.includes(r));
    if (both) throw new ConfigError(`--select and --ignore both name \`${both}\``);
  }
  const ignore = flagIgnore ?? (config?.ignore ?? []).filter((r) => flags.select === undefined || !select?.includes(r));
  const severity = config?.severity ?? {};
  // By name, in the registry's order: the rule modules load only if the run analyses.
  let active: string[];
  if (select) {
    active = ruleCatalog.filter((r) => select.includes("ALL") || select.includes(r.name)).map((r) => r.name);
  } else {
    active = ruleCatalog.filter((r) => !r.optIn).map((r) => r.name);
  }
  if (config?.requireSuppressionReason && !active.includes(SUPPRESSION_REASON_RULE)) active.push(SUPPRESSION_REASON_RULE);
  active = active.filter((name) => !ignore.includes(name) && severity[name] !== "off");
  const severityOverrides: Record<string, Severity> = {};
  for (const [name, level] of Object.entries(severity)) if (level !== "off") severityOverrides[name] = level;

  // Target: flags, then configuration, then detection (Django) or defaults.
  const target: Partial<Target> = {};
  const database = flags.database ?? config?.database;
  if (database !== undefined) {
    if (!(DATABASES as readonly string[]).includes(database)) throw new ConfigError(`--database must be one of ${DATABASES.join(", ")}, not \`${database}\``);
    target.database = database as Database;
  }
  if (flags.postgresVersion !== undefined) {
    const version = parsePostgresVersion(flags.postgresVersion);
    if (version === null) throw new ConfigError(`--postgres-version must be a PostgreSQL major version such as 15 (10 or later), not \`${flags.postgresVersion}\``);
    target.postgresVersion = version;
  } else if (config?.postgresVersion !== undefined) {
    target.postgresVersion = config.postgresVersion;
  }
  if (config?.defaultStage) target.defaultStage = config.defaultStage;
  if (config?.timeoutsSetByRunner !== undefined) target.timeoutsSetByRunner = config.timeoutsSetByRunner;
  if (config?.partitionedTables || config?.hotTables || config?.largeTables) {
    target.tables = { partitioned: config.partitionedTables ?? [], hot: config.hotTables ?? [], large: config.largeTables ?? [] };
  }

  let django: [number, number];
  let djangoOrigin: DjangoOrigin;
  if (flags.django !== undefined) {
    const version = parseDjangoVersion(flags.django);
    if (!version) throw new ConfigError(`--django must be a Django version such as 4.2, not \`${flags.django}\``);
    django = version;
    djangoOrigin = { from: "flag" };
  } else if (config?.django) {
    django = config.django;
    djangoOrigin = { from: "config", file: config.file };
  } else {
    const start = path.resolve(cwd, paths[0] ?? ".");
    const source = detectDjangoVersion(start, config ? path.dirname(config.file) : null);
    if (source) {
      django = source.version;
      djangoOrigin = { from: "requirements", source };
    } else {
      django = DEFAULT_DJANGO;
      djangoOrigin = { from: "default" };
    }
  }
  target.django = django;

  const failOnText = flags.failOn ?? config?.failOn ?? "error";
  if (!["error", "warning", "never"].includes(failOnText)) throw new ConfigError(`--fail-on must be one of error, warning, never, not \`${failOnText}\``);

  let jobs: number | undefined;
  if (flags.jobs !== undefined) {
    jobs = /^\d+$/.test(flags.jobs.trim()) ? Number(flags.jobs) : NaN;
    if (!(jobs >= 1 && jobs <= 256)) throw new ConfigError(`--jobs must be a number of threads from 1 to 256, not \`${flags.jobs}\``);
  }
  const cacheDir = flags.noCache
    ? undefined
    : flags.cacheDir !== undefined
      ? path.resolve(cwd, flags.cacheDir)
      : process.env.ROLLSAFE_CACHE_DIR
        ? path.resolve(cwd, process.env.ROLLSAFE_CACHE_DIR)
        : defaultCacheDir(config?.file, paths[0] ?? ".", cwd);

  const options: LintOptions = {
    cwd,
    ...(cacheDir ? { cacheDir } : {}),
    ...(jobs !== undefined ? { jobs } : {}),
    target,
    ruleNames: active,
    severity: severityOverrides,
    notReported: notReportedPredicate(config),
    ...(config?.startAfter ? { startAfter: config.startAfter, configFile: shownPath(cwd, config.file) } : {}),
    ...(config?.operations ? { operations: config.operations } : {}),
    ...(config?.authUserModel ? { authUserModel: config.authUserModel } : {}),
    ...(config?.migrationModules ? { migrationModules: config.migrationModules } : {}),
    // Nothing says which Django the project runs: its migrations' headers may (see lint).
    ...(djangoOrigin.from === "default" ? { djangoFromMigrations: true } : {}),
    collectGarbage: true,
  };
  return { options, failOn: failOnText as FailOn, config, django, djangoOrigin };
}

/** Files under `exclude` globs (relative to the configuration's directory) or in `exclude-apps`. */
function notReportedPredicate(config: RollsafeConfig | null): ((m: { path: string; app: string }) => boolean) | undefined {
  if (!config) return undefined;
  const apps = new Set(config.excludeApps ?? []);
  const globs = config.exclude ?? [];
  if (apps.size === 0 && globs.length === 0) return undefined;
  const root = path.dirname(config.file);
  return (m) => {
    if (apps.has(m.app)) return true;
    const rel = path.relative(root, m.path).split(path.sep).join("/");
    if (rel.startsWith("../") || path.isAbsolute(rel)) return false;
    return globs.some((glob) => matchesGlob(rel, glob));
  };
}

/** The exit code for a finished run: 1 when a finding at or above `failOn` exists. */
export function exitCodeFor(failOn: FailOn, summary: { errors: number; warnings: number }): 0 | 1 {
  if (failOn === "never") return 0;
  if (failOn === "warning") return summary.errors + summary.warnings > 0 ? 1 : 0;
  return summary.errors > 0 ? 1 : 0;
}
