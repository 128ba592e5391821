/**
 * The command-line front: arguments -> `lint()` -> reporter -> exit code.
 * Exit codes: 0 no errors, 1 errors (or findings at the `--fail-on` level), 2 usage, config or
 * internal failure. Known user errors print one line, never a stack trace.
 */
import { closeSync, lstatSync, openSync, promises as fs, writeSync } from "node:fs";
import path from "node:path";
import { Command, CommanderError, Option } from "commander";
import type { analyze, LintOptions } from "./engine/lint.js";
import { FORMATS, renderChunks, type Format } from "./reporters/index.js";
import { sanitizeLine } from "./reporters/sanitize-text.js";
import { ConfigError } from "./config/config-error.js";
import { checkCommand, describeRun, withRunOptions, type CheckValues } from "./config/cli-options.js";
import { exitCodeFor, resolveRun, runFlags, type RunOptionValues } from "./config/resolve-options.js";
import { changedFilter, changedSince, GitError } from "./git/changed-files.js";
import { createProgress } from "./progress.js";
import type { ReleasePlan } from "./plan/release-plan.js";
import type { ReportFileWriter } from "./cache/result-cache.js";
import { WRITE_BLOCK_CHARS } from "./cache/write-blocks.js";
import { rollsafeVersion } from "./cache/package-info.js";
import { cannotWrite, guardStdout, openResultCache, reportVariant, storedReport, streamOutput, STDOUT_FD, stdoutForColor, stdoutKind, UsageError, wantsColor, type PreparedCheck } from "./cached-check.js";

export { UsageError, wantsColor };
import type { LintResult } from "./model/types.js";
import { runWebAssemblyOnBaselineCompiler } from "./util/wasm-tiering.js";
import type { RunTimings } from "./util/run-timings.js";

// The engine, the rules, the fixes and the plan load only when a command needs them: a run the
// result cache answers, `--version` and `--help` load none of them (a third of the start-up).
const engine = () => import("./engine/lint.js");
const ruleRegistry = () => import("../rules/index.js");

/**
 * Analyses (unless `--fix` did already) and plans the releases. A function of its own so that
 * nothing in the command keeps the analysis (every parsed model and the replayed state) alive
 * while the report is rendered: only the findings, the sources and the plan go on.
 */
async function checkedRun(analysis: Awaited<ReturnType<typeof analyze>> | null, paths: string[], options: LintOptions): Promise<{ result: LintResult; extra: { plan: ReleasePlan } }> {
  const done = analysis ?? (await (await engine()).analyze(paths, options));
  const started = options.timings?.clock() ?? 0;
  const { buildReleasePlan } = await import("./plan/release-plan.js");
  const plan = buildReleasePlan(done);
  options.timings?.lap("finish", started);
  return { result: done.result, extra: { plan } };
}

/**
 * Writes a report, given as pieces, to stdout or `--output` (and to `copy`, the result cache's
 * file, when given) in blocks as it is rendered: a large report is never built as one string.
 */
async function writeOutput(pieces: readonly string[] | Generator<string>, output: string | undefined, copy: ReportFileWriter | null = null): Promise<void> {
  let fd: number | null = null;
  if (output) {
    try {
      fd = openSync(output, "w");
    } catch (error) {
      copy?.abort();
      throw cannotWrite(output, error);
    }
  }
  // `--output`, or a stdout that is a regular file (`rollsafe check > report.json`), is written
  // with fs.writeSync: node's stream for such a stdout is synchronous anyway but turns every
  // string into a Buffer first, which cost more than the write (about 0.4 s for the 94 MB report
  // of 20,000 migrations), and an asynchronous file handle costs a thread-pool round trip per
  // block. Pipes and terminals keep the stream, which waits for a slow reader.
  const direct = fd ?? (stdoutKind() === "file" ? STDOUT_FD : null);
  const flush = async (block: string) => {
    copy?.write(block);
    if (direct !== null) {
      writeSync(direct, block);
    } else if (!process.stdout.write(block)) {
      // A slow reader: wait rather than queue the rest of the report in memory.
      await new Promise<void>((resolve) => process.stdout.once("drain", resolve));
    }
  };
  try {
    let block = "";
    for (const piece of pieces) {
      block += piece;
      if (block.length >= WRITE_BLOCK_CHARS) {
        await flush(block);
        block = "";
      }
    }
    if (block) await flush(block);
    if (fd !== null) {
      // A failed close can mean lost data (NFS): it is an error like a failed write.
      const open = fd;
      fd = null;
      closeSync(open);
    }
    copy?.commit();
  } catch (error) {
    copy?.abort();
    if (fd !== null) {
      try {
        closeSync(fd);
      } catch {
        // The write already failed; that is the error to report.
      }
    }
    throw output ? cannotWrite(output, error) : error;
  }
}

function parseFormat(value: string): Format {
  if (!(FORMATS as readonly string[]).includes(value)) {
    throw new UsageError(`unknown --format \`${value}\` (expected one of: ${FORMATS.join(", ")})`);
  }
  return value as Format;
}

/** Runs the CLI and resolves to the exit code. */
export async function main(argv: string[], prepared: PreparedCheck | null = null): Promise<number> {
  // Node's start-up and the loading of rollsafe end here (`--timings`).
  const startedAt = performance.now();
  guardStdout();
  runWebAssemblyOnBaselineCompiler();
  let exitCode = 0;
  const program = new Command();
  program
    .name("rollsafe")
    .description("Zero-downtime safety checks for Django migrations, read statically.")
    .version(rollsafeVersion(), "-V, --version")
    .exitOverride()
    .configureOutput({
      writeErr: (text) => process.stderr.write(text),
      outputError: (text, write) => write(`rollsafe: ${text.replace(/^error: /, "")}`),
    });

  checkCommand(program)
    .action(async (paths: string[], opts: CheckValues) => {
      const format = parseFormat(opts.format);
      const timings = opts.timings ? new (await import("./util/run-timings.js")).RunTimings(startedAt) : null;
      // --diff promises to show rewrites without applying them; with --fix it silently wrote files.
      if (opts.fix && opts.diff) throw new UsageError("--fix and --diff cannot be used together (--diff shows the fixes without applying them)");
      // What a cached check of the same command line worked out before it could not answer
      // (bin/rollsafe.cjs): the settings, the paths and the cache's handle, with the walk.
      const ready = prepared?.argv === argv ? prepared : null;
      const run = ready?.run ?? resolveRun(paths, runFlags(opts));
      const existing = ready ? { found: ready.found, missing: false } : existingPaths(paths);
      if (opts.base) run.options.reportFilter = changedFilter(await changedSince(opts.base, process.cwd()));
      const progress = createProgress(process.stderr);
      run.options.onProgress = (done, total) => progress.update(done, total);
      if (timings) run.options.timings = timings;
      let lap = timings?.lap("options", startedAt) ?? 0;
      const fixed = opts.fix ? await (await import("./fix/fix-loop.js")).runFixLoop(existing.found, run.options, { unsafe: opts.unsafeFixes }) : null;
      // The fix loop's analyses counted their own phases.
      if (timings && fixed) lap = timings.clock();
      const color = format === "text" && !opts.output && wantsColor(stdoutForColor);
      // The result cache (not for --fix, which writes, nor --diff, which reads the files): an
      // unchanged tree prints the report rendered last time, or renders the stored run.
      const { cache, handle } = ready ?? (fixed || opts.diff ? { cache: null, handle: null } : await openResultCache(run, existing.found));
      const variant = reportVariant(format, color);
      const rendered = await storedReport(cache, handle, variant);
      if (rendered) {
        progress.done();
        if (timings) {
          lap = timings.lap("options", lap);
          timings.answered("result cache held this report from an earlier run");
        }
        await streamOutput(rendered.file, rendered.start, opts.output);
        timings?.lap("report", lap);
        exitCode = rendered.internal || existing.missing ? 2 : exitCodeFor(run.failOn, rendered.summary);
        await noMigrationsHint(rendered.summary, existing.found);
        writeTimings(timings);
        return;
      }
      // The release plan is part of the JSON report; it is kept with a cached result.
      let checked: { result: LintResult; extra: { plan: ReleasePlan } } | null =
        cache && handle ? await cache.read<{ plan: ReleasePlan }>(handle, (await engine()).activeRulesOf(run.options).map((r) => r.meta)) : null;
      if (checked) timings?.answered("result cache held the findings of an earlier run");
      if (timings) lap = timings.lap("options", lap);
      if (!checked) {
        checked = await checkedRun(fixed?.analysis ?? null, existing.found, handle ? { ...run.options, walked: handle.walked ?? undefined, fileStamps: handle.stamps?.() } : run.options);
        if (timings) lap = timings.clock();
        if (cache && handle) await cache.write(handle, checked);
      }
      progress.done();
      const { result } = checked;
      if (fixed) {
        const { displayPath } = await engine();
        for (const file of fixed.written) process.stderr.write(`rollsafe: fixed ${sanitizeLine(displayPath(process.cwd(), file))}\n`);
        process.stderr.write(`rollsafe: applied ${fixed.fixed} fix${fixed.fixed === 1 ? "" : "es"}${fixed.skipped.length ? `; ${fixed.skipped.length} left (${sanitizeLine(fixed.skipped[0]?.reason ?? "")})` : ""}\n`);
      }
      const internal = result.diagnostics.some((d) => d.rule === "internal-error");
      const report = opts.diff
        ? [await (await import("./fix/apply-fixes.js")).renderFixDiffs(result.diagnostics, process.cwd())]
        : await renderChunks(format, result, { color, ...(format === "json" ? { extra: { plan: checked.extra.plan } } : {}) });
      // The rendered report is stored for the next unchanged run as it is written.
      await writeOutput(report, opts.output, cache && handle ? cache.renderedWriter(handle, variant, { summary: result.summary, internal }) : null);
      await appendStepSummary(result);
      timings?.lap("report", lap);
      exitCode = internal || existing.missing ? 2 : exitCodeFor(run.failOn, result.summary);
      await noMigrationsHint(result.summary, existing.found);
      writeTimings(timings);
    });

  program
    .command("rules")
    .description("list the rules")
    .action(async () => {
      const { rules } = await ruleRegistry();
      const width = Math.max(...rules.map((r) => r.meta.name.length));
      for (const rule of rules) {
        const { code, name, severity, docs, optIn } = rule.meta;
        process.stdout.write(`${code}  ${name.padEnd(width)}  ${severity.padEnd(7)}  ${docs.summary}${optIn && !/\(opt-in\)$/.test(docs.summary) ? " (opt-in)" : ""}\n`);
      }
    });

  program
    .command("explain")
    .description("print a rule's documentation")
    .argument("<rule>", "rule code (RS101) or name (dropping-column)")
    .action(async (name: string) => {
      const rule = (await ruleRegistry()).findRule(name);
      if (!rule) throw new UsageError(`unknown rule \`${sanitizeLine(name)}\` (see \`rollsafe rules\`)`);
      process.stdout.write((await import("./explain.js")).explainRule(rule.meta));
    });

  withRunOptions(program
    .command("state")
    .description("print the model state rebuilt from the migrations")
    .argument("[paths...]", "files or directories", ["."]))
    .addOption(new Option("-f, --format <format>", "output format").choices(["json"]).default("json"))
    .option("-o, --output <file>", "write to a file instead of stdout")
    .action(async (paths: string[], opts: { output?: string } & RunOptionValues) => {
      const { state } = await (await engine()).analyze(paths, resolveRun(paths, runFlags(opts)).options);
      const { dumpState, dumpStateChunks } = await import("./state/dump-state.js");
      await writeOutput(dumpStateChunks(dumpState(state)), opts.output);
    });

  withRunOptions(program
    .command("plan")
    .description("print the release plan of the pending migrations: before and after the new code goes live, and whether a maintenance window is needed")
    .argument("[paths...]", "files or directories", ["."]))
    .option("--base <ref>", "plan only migrations added or changed since the merge-base of HEAD and this git ref")
    .addOption(new Option("-f, --format <format>", "output format").choices(["text", "json"]).default("text"))
    .option("-o, --output <file>", "write the plan to a file instead of stdout")
    .action(async (paths: string[], opts: { format: "text" | "json"; output?: string; base?: string } & RunOptionValues) => {
      const existing = existingPaths(paths);
      const { runPlan } = await import("./commands/plan.js");
      const planned = await runPlan(existing.found, resolveRun(paths, runFlags(opts)).options, { format: opts.format, base: opts.base });
      await writeOutput(planned.pieces, opts.output);
      exitCode = planned.internalError || existing.missing ? 2 : 0;
    });

  withRunOptions(program
    .command("config")
    .description("print the configuration a check would use, and where the Django version comes from")
    .argument("[paths...]", "files or directories", ["."]))
    .action((paths: string[], opts: RunOptionValues) => {
      process.stdout.write(`${JSON.stringify(describeRun(resolveRun(paths, runFlags(opts)), process.cwd()), null, 2)}\n`);
    });

  try {
    // `--config` and `--no-config` set one option, so the later one silently won.
    const flags = argv.slice(2, argv.includes("--") ? argv.indexOf("--") : undefined);
    if (flags.includes("--no-config") && flags.some((a) => a === "--config" || a.startsWith("--config="))) {
      throw new UsageError("--config and --no-config cannot be used together");
    }
    await program.parseAsync(argv);
    return exitCode;
  } catch (error) {
    if (error instanceof CommanderError) {
      // --help and --version exit through here with code 0.
      return error.exitCode === 0 ? 0 : 2;
    }
    if (error instanceof GitError) {
      process.stderr.write(`rollsafe: ${sanitizeLine(error.message)}\n`);
      return 2;
    }
    if (error instanceof UsageError || error instanceof ConfigError) {
      process.stderr.write(`rollsafe: ${error instanceof ConfigError ? sanitizeLine(error.message) : error.message}\n`);
      return 2;
    }
    process.stderr.write(`rollsafe: internal error: ${sanitizeLine(error instanceof Error ? error.message : String(error))}\n`);
    return 2;
  }
}

/** Writes `--timings`' table to stderr, if asked for. */
function writeTimings(timings: RunTimings | null): void {
  if (timings) process.stderr.write(timings.render());
}

/**
 * One line on stderr when directories held no migration file at all: a project whose migrations
 * Django loads from elsewhere (`MIGRATION_MODULES`, DefectDojo's `dojo/db_migrations`) would
 * otherwise pass with "Checked 0 migrations". When the tree holds such directories, the line names
 * them and the configuration that reads them. The exit code does not change.
 */
async function noMigrationsHint(summary: { files: number }, found: string[]): Promise<void> {
  if (summary.files > 0 || found.length === 0) return;
  const { otherMigrationPackages } = await import("./discover/other-migration-packages.js");
  const others = otherMigrationPackages(found);
  const where = found.map((p) => sanitizeLine(p)).join(", ");
  if (others.length === 0) {
    process.stderr.write(
      `rollsafe: no migration file found under ${where} (rollsafe reads \`migrations\` packages; migrations Django loads from another package, through MIGRATION_MODULES, need \`migration-modules\` in the configuration)\n`,
    );
    return;
  }
  const dirs = others.map((o) => sanitizeLine(path.relative(process.cwd(), o.dir) || ".")).join(", ");
  const table = others.map((o) => `${o.label} = ${JSON.stringify(o.module)}`).join(", ");
  process.stderr.write(
    `rollsafe: no migration file found under ${where} (rollsafe reads \`migrations\` packages), but ${dirs} ${others.length === 1 ? "holds" : "hold"} migrations: if MIGRATION_MODULES maps ${others.length === 1 ? "an app" : "apps"} to ${others.length === 1 ? "it" : "them"}, add \`migration-modules = { ${sanitizeLine(table)} }\` to rollsafe.toml (or under [tool.rollsafe] in pyproject.toml), with the app labels of your settings\n`,
  );
}

/**
 * Splits the command-line paths into those that exist and those that do not. A missing path is a
 * usage problem: one line on stderr, exit 2 at the end, and the other paths are still checked.
 */
function existingPaths(paths: string[]): { found: string[]; missing: boolean } {
  const found: string[] = [];
  let missing = false;
  for (const p of paths) {
    try {
      // Synchronous: a pre-commit run passes many paths, and each thread-pool round trip costs more than the call.
      lstatSync(p);
      found.push(p);
    } catch {
      process.stderr.write(`rollsafe: ${sanitizeLine(p)}: no such file or directory\n`);
      missing = true;
    }
  }
  return { found, missing };
}

/** Under GitHub Actions, appends the Markdown report to the job summary (`$GITHUB_STEP_SUMMARY`). */
async function appendStepSummary(result: LintResult, env: NodeJS.ProcessEnv = process.env): Promise<void> {
  const file = env.GITHUB_STEP_SUMMARY;
  if (env.GITHUB_ACTIONS !== "true" || !file) return;
  const { renderGithubStepSummary } = await import("./reporters/github.js");
  try {
    await fs.appendFile(file, renderGithubStepSummary(result));
  } catch (error) {
    process.stderr.write(`rollsafe: cannot write the step summary ${sanitizeLine(file)}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}\n`);
  }
}
