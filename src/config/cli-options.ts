/**
 * The command-line flags that configure a run (`check`, `state`, `config`), and the
 * `rollsafe config` report of what a run would use.
 */
import path from "node:path";
import { Option, type Command } from "commander";
import type { Target } from "../engine/rule-types.js";
import { DEFAULT_TARGET } from "../engine/defaults.js";
import type { ResolvedRun, RunOptionValues } from "./resolve-options.js";
import { FORMATS } from "../reporters/index.js";
import { leavesBase } from "../util/paths.js";

/** Adds `--select`, `--ignore`, `--database`, `--postgres-version`, `--django`, `--fail-on`, `--config`, `--no-config`, `--cache-dir`, `--no-cache`, `--jobs`. */
export function withRunOptions(command: Command): Command {
  return command
    .option("--select <rules>", "run only these rules (comma-separated codes or names; ALL adds the opt-in rules)")
    .option("--ignore <rules>", "do not run these rules (comma-separated codes or names)")
    .addOption(new Option("--database <engine>", "target database: postgresql, mysql or sqlite"))
    .option("--postgres-version <major>", "target PostgreSQL major version (default 15)")
    .option("--django <version>", "target Django version, e.g. 4.2 (default: detected from requirements, else 5.2)")
    .addOption(new Option("--fail-on <level>", "exit 1 when a finding at this level exists: error, warning or never"))
    .option("--config <file>", "read the configuration from this file (rollsafe.toml or pyproject.toml)")
    .option("--no-config", "ignore configuration files")
    .option("--cache-dir <dir>", "where to cache parsed migrations (default: .rollsafe_cache at the project root, or $ROLLSAFE_CACHE_DIR)")
    .option("--no-cache", "do not read or write the parse cache")
    .option("--jobs <n>", "parse on this many threads (default: the number of cores)");
}

/** The values commander parses for `check` (`checkCommand`). */
export interface CheckValues extends RunOptionValues {
  format: string;
  output?: string;
  base?: string;
  diff?: boolean;
  fix?: boolean;
  unsafeFixes?: boolean;
  timings?: boolean;
}

/**
 * Adds the `check` command, its arguments and its options to `program`; the caller adds the
 * action. src/cached-check.ts reads a subset of the same command line without commander, and a
 * test holds the two to the same values.
 */
export function checkCommand(program: Command): Command {
  return withRunOptions(program
    .command("check")
    .description("check migrations for operations unsafe during a rolling deploy")
    .argument("[paths...]", "files or directories to check", ["."]))
    .addOption(new Option("-f, --format <format>", `output format (${FORMATS.join(", ")})`).default("text"))
    .option("-o, --output <file>", "write the report to a file instead of stdout")
    .option("--base <ref>", "report only migrations added or changed since the merge-base of HEAD and this git ref")
    .option("--diff", "print each fixable finding's rewrite as a unified diff instead of the report")
    .option("--fix", "apply the safe fixes, then report what is left")
    .option("--unsafe-fixes", "with --fix, also apply fixes that need the same change in models.py")
    .option("--timings", "after the report, print to stderr where the run's time went, by phase and by rule");
}

/** What `rollsafe config` prints: the resolved settings and where each came from. */
export function describeRun(run: ResolvedRun, cwd: string): Record<string, unknown> {
  const target: Target = { ...DEFAULT_TARGET, ...(run.options.target ?? {}) } as Target;
  const rel = (file: string) => {
    const r = path.relative(cwd, file);
    return r && !leavesBase(r) ? r.split(path.sep).join("/") : file;
  };
  const origin = run.djangoOrigin;
  return {
    config: run.config ? rel(run.config.file) : null,
    database: target.database,
    postgresVersion: target.postgresVersion,
    django: `${run.django[0]}.${run.django[1]}`,
    djangoSource:
      origin.from === "requirements"
        ? { from: rel(origin.source.file), requirement: origin.source.requirement }
        : origin.from === "config"
          ? { from: rel(origin.file) }
          : { from: origin.from === "flag" ? "--django" : "default (newest LTS)" },
    defaultStage: target.defaultStage,
    timeoutsSetByRunner: (target as Target & { timeoutsSetByRunner?: boolean }).timeoutsSetByRunner ?? false,
    partitionedTables: target.tables.partitioned,
    hotTables: target.tables.hot,
    largeTables: target.tables.large,
    failOn: run.failOn,
    rules: [...(run.options.ruleNames ?? [])],
    severity: run.options.severity ?? {},
    exclude: run.config?.exclude ?? [],
    excludeApps: run.config?.excludeApps ?? [],
    startAfter: run.options.startAfter ?? {},
    authUserModel: run.options.authUserModel ?? "unset: the project's user model if its migrations show one, else auth.User",
    operations: Object.fromEntries([...(run.options.operations ?? new Map()).entries()].map(([name, e]) => [name, { sameAs: e.sameAs, state: e.state, database: e.database, unsafe: e.unsafe ?? false }])),
  };
}
