/**
 * `rollsafe check` answered by the result cache, before the command-line parser, the engine or
 * the reporters load. bin/rollsafe.cjs runs `cachedCheck` from a small CommonJS bundle
 * (dist/bundle/warm.cjs) first: node starts a CommonJS entry faster than an ES module one, and a
 * re-run over an unchanged tree needs only the settings, the walk, the key and the stored report.
 *
 * It reads a subset of the command line on its own (`parseCheckArgv`): anything else, and any
 * problem to report (a missing path, a configuration error, an unknown format), goes to the full
 * CLI, which says it. A run the cache cannot answer hands what it has worked out (`PreparedCheck`)
 * to the CLI, so the tree is walked once either way.
 */
import { closeSync, existsSync, fstatSync, openSync, readSync, statSync, writeSync, type Stats } from "node:fs";
import { ruleCatalog } from "../rules/catalog.js";
import { ResultCache, type RunHandle, type StoredReport } from "./cache/result-cache.js";
import { exitCodeFor, resolveRun, runFlags, type ResolvedRun, type RunOptionValues } from "./config/resolve-options.js";
import { FORMATS } from "./reporters/index.js";

/** The `check` values `parseCheckArgv` reads: those of `checkCommand` (cli-options.ts) it handles. */
export interface CachedCheckValues extends RunOptionValues {
  format: string;
  output?: string;
}

/** A `check` command line the cached check reads: the paths and the option values, as commander gives them. */
export interface CachedCheckArgs {
  paths: string[];
  opts: CachedCheckValues;
}

/** Options taking a value, by flag, and the key commander stores the value under. */
const VALUE_OPTIONS = new Map<string, keyof CachedCheckValues>([
  ["-f", "format"],
  ["--format", "format"],
  ["-o", "output"],
  ["--output", "output"],
  ["--select", "select"],
  ["--ignore", "ignore"],
  ["--database", "database"],
  ["--postgres-version", "postgresVersion"],
  ["--django", "django"],
  ["--fail-on", "failOn"],
  ["--config", "config"],
  ["--cache-dir", "cacheDir"],
  ["--jobs", "jobs"],
]);

/**
 * Reads `rollsafe check [paths] [options]` when it uses only paths and the options above (as
 * `--name value`, `--name=value` or `-f value`), `--no-config`, each option at most once and no
 * value that starts with a dash. Anything else (`--base`, `--fix`, `--diff`, `--no-cache`,
 * `--help`, `--`, combined short flags, another command) is null: the full CLI reads it.
 */
export function parseCheckArgv(argv: readonly string[]): CachedCheckArgs | null {
  const args = argv.slice(2);
  if (args[0] !== "check") return null;
  const opts: CachedCheckValues = { format: "text" };
  const seen = new Set<string>();
  const paths: string[] = [];
  for (let i = 1; i < args.length; i++) {
    const arg = args[i] as string;
    if (arg === "--no-config") {
      if (seen.has("config")) return null;
      seen.add("config");
      opts.config = false;
      continue;
    }
    const equals = arg.startsWith("--") ? arg.indexOf("=") : -1;
    const flag = equals > 0 ? arg.slice(0, equals) : arg;
    const key = VALUE_OPTIONS.get(flag);
    if (key) {
      const value = equals > 0 ? arg.slice(equals + 1) : args[++i];
      if (value === undefined || value.startsWith("-") || seen.has(key)) return null;
      seen.add(key);
      (opts as unknown as Record<string, string>)[key] = value;
      continue;
    }
    if (arg.startsWith("-") || arg === "") return null;
    paths.push(arg);
  }
  return { paths: paths.length > 0 ? paths : ["."], opts };
}

/** What a cached check worked out before the cache could not answer: the CLI goes on from it. */
export interface PreparedCheck {
  /** The command line it was worked out for (the CLI uses it only for the same array). */
  argv: readonly string[];
  run: ResolvedRun;
  /** The paths to check, all of which exist. */
  found: string[];
  cache: ResultCache | null;
  handle: RunHandle | null;
}

/** The result cache of a run and the run's handle in it (null when the run cannot be cached). */
export async function openResultCache(run: ResolvedRun, found: string[]): Promise<{ cache: ResultCache | null; handle: RunHandle | null }> {
  const cache = run.options.cacheDir ? new ResultCache(run.options.cacheDir) : null;
  const ruleNames = run.options.ruleNames ?? ruleCatalog.filter((r) => !r.optIn).map((r) => r.name);
  return { cache, handle: cache ? await cache.lookup(found, run.options, ruleNames) : null };
}

/**
 * The stored report for this output variant, or null. Under GitHub Actions with a step summary
 * the run happens anyway: the summary is written from the result.
 */
export async function storedReport(cache: ResultCache | null, handle: RunHandle | null, variant: string, env: NodeJS.ProcessEnv = process.env): Promise<StoredReport | null> {
  const stepSummary = env.GITHUB_ACTIONS === "true" && Boolean(env.GITHUB_STEP_SUMMARY);
  return cache && handle && !stepSummary ? cache.readRendered(handle, variant) : null;
}

/** The output variant a report is stored under: its format and whether it is coloured. */
export function reportVariant(format: string, color: boolean): string {
  return `${format}\0${color ? "color" : "plain"}`;
}

/** Whether to colour output written to a stream: FORCE_COLOR wins, then NO_COLOR, then TTY. */
export function wantsColor(stream: { isTTY?: boolean }, env: NodeJS.ProcessEnv = process.env): boolean {
  const force = env.FORCE_COLOR;
  if (force !== undefined && force !== "") return force !== "0" && force !== "false";
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== "") return false;
  return Boolean(stream.isTTY);
}

/** A user mistake: printed as one line, exit 2. */
export class UsageError extends Error {}

/** The one line for an `--output` that cannot be opened or written. */
export function cannotWrite(output: string | undefined, error: unknown): UsageError {
  return new UsageError(`cannot write --output ${output}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
}

/** Stdout's descriptor. Used directly, not through `process.stdout.fd`, which builds node's stream for it (and loads node's streams). */
export const STDOUT_FD = 1;

/**
 * What stdout is, from one fstat and without making node's stream for it: making the stream
 * loads node's streams (`net` for a pipe, `tty` for a terminal: 3-5 ms of a warm run, and more
 * of its memory than the rest of the run). `null` is the null device (`> /dev/null`, or a parent
 * that ignores the output), `closed` a stdout fstat cannot read; a character device other than
 * the null device may be a terminal (`other`). Found once per process: the colour decision and
 * the copy of the report both ask.
 */
type StdoutKind = "file" | "null" | "pipe" | "closed" | "other";

let knownStdoutKind: StdoutKind | null = null;

export function stdoutKind(): StdoutKind {
  knownStdoutKind ??= findStdoutKind();
  return knownStdoutKind;
}

function findStdoutKind(): StdoutKind {
  let stat: Stats;
  try {
    stat = fstatSync(STDOUT_FD);
  } catch {
    return "closed";
  }
  if (stat.isFile()) return "file";
  // Windows' consoles and pipes are the stream's to handle.
  if (process.platform === "win32") return "other";
  if (stat.isCharacterDevice()) return isNullDevice(stat) ? "null" : "other";
  // Node writes to a pipe synchronously on Linux anyway; a blocking write is the same there and
  // elsewhere (a non-blocking pipe falls back to the stream, see `streamOutput`).
  if (stat.isFIFO() || stat.isSocket()) return "pipe";
  return "other";
}

function isNullDevice(stat: Stats): boolean {
  try {
    const device = statSync("/dev/null");
    return device.isCharacterDevice() && device.rdev === stat.rdev && device.ino === stat.ino && device.dev === stat.dev;
  } catch {
    return false;
  }
}

/**
 * Stdout as `wantsColor` reads it: a file, the null device, a pipe or a closed stdout is not a
 * terminal, and node's stream is made (and asked) only for another character device.
 */
export const stdoutForColor: { readonly isTTY: boolean } = {
  get isTTY(): boolean {
    return stdoutKind() === "other" && Boolean(process.stdout.isTTY);
  },
};

let stdoutGuarded = false;

/**
 * `rollsafe ... | head` closes stdout early: stop quietly instead of dying on an unhandled EPIPE
 * (and say what else went wrong, exit 2).
 */
export function guardStdout(): void {
  if (stdoutGuarded) return;
  stdoutGuarded = true;
  process.stdout.on("error", (error: NodeJS.ErrnoException) => {
    if (error.code !== "EPIPE") process.stderr.write(`rollsafe: cannot write the output: ${error.code ?? error.message}\n`);
    process.exit(error.code === "EPIPE" ? (typeof process.exitCode === "number" ? process.exitCode : 0) : 2);
  });
}

/**
 * Copies a stored report (from byte `start` of `file`) to stdout or `--output`, a block at a time:
 * with `fs.writeSync` to `--output` and to a stdout that is a regular file, the null device or a
 * pipe, through node's stream to a terminal (`stdoutKind`). A pipe whose reader is gone ends the
 * copy quietly (`| head`); one that would block a non-blocking write (a parent's non-blocking
 * pipe) takes the stream for the rest, which waits for the reader. Never the whole report in memory.
 */
export async function streamOutput(file: string, start: number, output: string | undefined): Promise<void> {
  let out: number | null = null;
  try {
    out = output ? openSync(output, "w") : null;
  } catch (error) {
    throw cannotWrite(output, error);
  }
  const kind = out === null ? stdoutKind() : "file";
  let direct = out ?? (kind === "file" || kind === "null" || kind === "pipe" ? STDOUT_FD : null);
  if (direct === null) guardStdout();
  const source = openSync(file, "r");
  try {
    const block = Buffer.allocUnsafe(1 << 16);
    for (let position = start; ; ) {
      const read = readSync(source, block, 0, block.length, position);
      if (read === 0) break;
      position += read;
      let written = 0;
      if (direct !== null) {
        try {
          while (written < read) written += writeSync(direct, block, written, read - written);
        } catch (error) {
          const code = (error as NodeJS.ErrnoException).code;
          if (out !== null || kind !== "pipe" || (code !== "EPIPE" && code !== "EAGAIN")) throw error;
          // The reader is gone: it has all it wanted.
          if (code === "EPIPE") break;
          direct = null;
          guardStdout();
        }
      }
      if (direct === null && !process.stdout.write(Buffer.from(block.subarray(written, read)))) {
        await new Promise<void>((resolve) => process.stdout.once("drain", resolve));
      }
    }
    if (out !== null) {
      const open = out;
      out = null;
      closeSync(open);
    }
  } catch (error) {
    if (output) throw cannotWrite(output, error);
    throw error;
  } finally {
    closeSync(source);
    if (out !== null) closeSync(out);
  }
}

/**
 * Whether every path exists (the CLI reports those that do not). `existsSync` makes no stat
 * object: half the time of `lstatSync` on a fresh process (0.6 against 1.3 ms for Debian's 49
 * apps). It follows links, so a dangling one goes to the CLI, which says what it is.
 */
function allExist(paths: readonly string[]): boolean {
  return paths.every((p) => existsSync(p));
}

/**
 * Answers `argv` from the result cache: the exit code once the stored report is written; else
 * what was worked out (a `PreparedCheck`), or null when the command line or the settings are the
 * full CLI's to read.
 */
export async function cachedCheck(argv: readonly string[]): Promise<number | PreparedCheck | null> {
  const parsed = parseCheckArgv(argv);
  if (!parsed || !(FORMATS as readonly string[]).includes(parsed.opts.format)) return null;
  let run: ResolvedRun;
  let prepared: PreparedCheck;
  let rendered: StoredReport | null;
  const { format, output } = parsed.opts;
  try {
    // A configuration error, or anything unexpected before a byte is written: the CLI says it.
    run = resolveRun(parsed.paths, runFlags(parsed.opts));
    if (!allExist(parsed.paths)) return null;
    prepared = { argv, run, found: parsed.paths, ...(await openResultCache(run, parsed.paths)) };
    // `wantsColor` reads stdout only for a text report to stdout, as the CLI does.
    const color = format === "text" && !output && wantsColor(stdoutForColor);
    rendered = await storedReport(prepared.cache, prepared.handle, reportVariant(format, color));
  } catch {
    return null;
  }
  // A run that found no migration file leaves its hint to the CLI (noMigrationsHint).
  if (!rendered || rendered.summary.files === 0) return prepared;
  try {
    await streamOutput(rendered.file, rendered.start, output);
  } catch (error) {
    // Part of the report may be out: say what failed rather than start again.
    const message = error instanceof UsageError ? error.message : `cannot write the output: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`;
    process.stderr.write(`rollsafe: ${message}\n`);
    return 2;
  }
  return rendered.internal ? 2 : exitCodeFor(run.failOn, rendered.summary);
}
