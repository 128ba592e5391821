#!/usr/bin/env node
/**
 * `npm run bench`: the performance benchmark of issue 7. Measures, in one run and on one machine,
 * the parse limit (bench/parse-limit.mjs), the node + tree-sitter start-up floor, and rollsafe's
 * own full, warm and single-file runs, then writes the table to bench/RESULTS.md with every figure
 * also given as a ratio to the limit or the floor, so the results survive a noisy machine.
 *
 *   node bench/run.mjs [--sizes 1000,5000,20000] [--reps N] [--quick] [--real] [--out FILE]
 *
 * It builds nothing: rollsafe must already be compiled into dist/ (`npm run build`). Without it,
 * the limit and floor are still measured and the report says the CLI is missing.
 */
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { corpusSpecFor, ensureCorpus, generateProject, existingCorpus } from "./generate-corpus.mjs";
import { findMigrationFiles } from "./parse-limit.mjs";
import { LARGE_SHAPES, writeLargeMigration } from "./large-migrations.mjs";
import { cpuReading, hasGnuTime, linearFit, median, otherCpuShare, runMeasured } from "./measure.mjs";
import { parseTimings, renderPhases } from "./phases.mjs";

const BENCH_DIR = path.dirname(fileURLToPath(import.meta.url));
const REPO = path.resolve(BENCH_DIR, "..");
const CACHE = path.join(BENCH_DIR, ".cache");
const CLI_BIN = path.join(REPO, "bin", "rollsafe.cjs");
const CLI_DIST = path.join(REPO, "dist", "src", "cli.js");
const PARSE_LIMIT = path.join(BENCH_DIR, "parse-limit.mjs");
const FLOOR = path.join(BENCH_DIR, "floor-process.mjs");
const LIVE_HEAP = path.join(BENCH_DIR, "live-heap.mjs");
const SINGLE_APP_MIGRATIONS = 500;
/** Operations (statements, for one RunSQL) in the large single migrations, smallest first. */
const LARGE_SIZES = [2500, 5000, 10000];

/** The targets of issue 7. */
const TARGETS = {
  coldToLimit: 1.2,
  coldToLimitParallel: 1.0,
  warmToCold: 0.25,
  singleToFloor: 1.5,
  rssMb: 300,
  // The benchmark's own reading of "grows linearly": the cost per added file between the two
  // largest sizes is at most 1.25× the cost per added file between the two smallest.
  marginalGrowth: 1.25,
};

class BenchError extends Error {}

function parseArgs(argv) {
  const opts = { sizes: null, reps: null, quick: false, real: false, out: null };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = () => {
      const v = argv[++i];
      if (v === undefined) throw new BenchError(`${arg} needs a value`);
      return v;
    };
    if (arg === "--sizes") {
      opts.sizes = value().split(",").map((s) => Number(s.trim().replace(/_/g, "")));
      if (opts.sizes.some((n) => !Number.isInteger(n) || n < 50)) throw new BenchError("--sizes takes integers >= 50, e.g. --sizes 1000,5000");
    } else if (arg === "--reps") {
      opts.reps = Number(value());
      if (!Number.isInteger(opts.reps) || opts.reps < 1) throw new BenchError("--reps takes a positive integer");
    } else if (arg === "--quick") opts.quick = true;
    else if (arg === "--real") opts.real = true;
    else if (arg === "--out") opts.out = path.resolve(value());
    else if (arg === "--render") opts.render = path.resolve(value());
    else if (arg === "--help" || arg === "-h") opts.help = true;
    else throw new BenchError(`unknown option ${arg} (see --help)`);
  }
  opts.sizes ??= opts.quick ? [250, 1000] : [1000, 5000, 20000];
  opts.sizes.sort((a, b) => a - b);
  opts.out ??= opts.quick ? path.join(CACHE, "RESULTS-quick.md") : path.join(BENCH_DIR, "RESULTS.md");
  return opts;
}

/** Repetitions for a corpus size: fewer for the big ones, where noise matters less. */
function repsFor(opts, corpus) {
  if (opts.reps) return opts.reps;
  if (opts.quick) return 2;
  // Debian's few hundred files take about a second a repetition (limit, cold and warm), and its
  // warm run is near node's own start-up, where the machine's jitter weighs most.
  if (!corpus.synthetic) return 15;
  return (corpus.targetFiles ?? 1000) <= 2000 ? 5 : 3;
}

function log(line) {
  process.stderr.write(`bench: ${line}\n`);
}

// ---------------------------------------------------------------------------------------------
// rollsafe

/** What the compiled CLI supports, read from its help text. */
function detectCli() {
  if (!fs.existsSync(CLI_DIST)) {
    return { ok: false, reason: "dist/src/cli.js is missing: run `npm run build` (npx tsc -p tsconfig.json) first" };
  }
  for (const args of [["check", "--help"], ["--help"]]) {
    const probe = spawnSync(process.execPath, [CLI_BIN, ...args], { encoding: "utf8", cwd: REPO });
    const text = `${probe.stdout ?? ""}${probe.stderr ?? ""}`;
    if (probe.status === 0 && /check/.test(text + args.join(" "))) {
      return {
        ok: true,
        noCache: /--no-cache\b/.test(text),
        cacheDir: /--cache-dir\b/.test(text),
        format: /--format\b/.test(text),
        jobs: /--jobs\b/.test(text),
        timings: /--timings\b/.test(text),
      };
    }
  }
  const probe = spawnSync(process.execPath, [CLI_BIN, "--help"], { encoding: "utf8", cwd: REPO });
  const first = `${probe.stderr ?? ""}${probe.stdout ?? ""}`.trim().split("\n")[0] ?? "";
  return { ok: false, reason: `\`rollsafe --help\` failed (exit ${probe.status}): ${first}` };
}

/**
 * Runs `rollsafe check` once. `cache` is "off" (cold: --no-cache, or an emptied cache dir when
 * the CLI has no such flag), "fresh" (empty cache that this run fills) or "warm" (reuse it).
 */
async function runRollsafe(cli, { cwd, paths, cache, cacheDir, format = "json", extra = [] }) {
  const args = [CLI_BIN, "check", ...paths, ...extra];
  if (format === "json" && cli.format) args.push("--format", "json");
  if (cli.cacheDir) args.push("--cache-dir", cacheDir);
  // A cold run with --no-cache leaves the cache alone (the warm runs between the cold ones use it);
  // without the flag, the cache is emptied and the cold run fills it again.
  if (cache === "fresh" || (cache === "off" && !cli.noCache)) fs.rmSync(cacheDir, { recursive: true, force: true });
  if (cache === "off" && cli.noCache) args.push("--no-cache");
  const stdoutFile = path.join(CACHE, "last-rollsafe-output.txt");
  const result = await runMeasured(process.execPath, args, { cwd, stdoutFile });
  const report = readReport(stdoutFile, format);
  result.findings = report.findings;
  result.internalErrors = report.internalErrors;
  // Exit 2 with a complete report means internal-error diagnostics: the run did its work, so it
  // is timed, and the results say so. Exit 2 without a report is a failed run.
  const completed = result.exitCode === 0 || result.exitCode === 1 || (result.exitCode === 2 && report.complete);
  if (!completed) {
    const line = result.stderr.trim().split("\n").find((l) => l.trim()) ?? `signal ${result.signal}`;
    throw new BenchError(`rollsafe check exited ${result.exitCode} in ${path.relative(REPO, cwd) || "."}: ${line}`);
  }
  return result;
}

/**
 * What the run wrote: for JSON, the number of diagnostics and of internal errors among them; for
 * text, only whether anything was written.
 */
function readReport(file, format) {
  const text = fs.existsSync(file) ? fs.readFileSync(file, "utf8") : "";
  if (format !== "json") return { complete: text.trim().length > 0, findings: null, internalErrors: null };
  try {
    const data = JSON.parse(text);
    const list = Array.isArray(data) ? data : ["diagnostics", "findings", "results"].map((k) => data?.[k]).find(Array.isArray);
    if (!list) return { complete: true, findings: null, internalErrors: null };
    return { complete: true, findings: list.length, internalErrors: list.filter((d) => d?.rule === "internal-error").length };
  } catch {
    return { complete: false, findings: null, internalErrors: null };
  }
}

/** The directory rollsafe caches into when it runs in `cwd` without --cache-dir. */
function defaultCacheDir(cwd) {
  return path.join(cwd, ".rollsafe_cache");
}

// ---------------------------------------------------------------------------------------------
// Measurements

async function measureLimit(roots, { walk = false } = {}) {
  const out = path.join(CACHE, "last-parse-limit.json");
  const args = [PARSE_LIMIT, ...(walk ? ["--walk"] : []), ...roots];
  const result = await runMeasured(process.execPath, args, { stdoutFile: out });
  if (result.exitCode !== 0) throw new BenchError(`parse-limit failed: ${result.stderr.trim().split("\n")[0]}`);
  result.inner = JSON.parse(fs.readFileSync(out, "utf8"));
  return result;
}

async function measureFloor(reps) {
  const floor = [];
  const bare = [];
  for (let i = 0; i < reps; i++) {
    floor.push(await runMeasured(process.execPath, [FLOOR]));
    bare.push(await runMeasured(process.execPath, ["-e", "0"]));
  }
  return { floor: summarise(floor), bareNode: summarise(bare) };
}

/** Medians of the figures of repeated runs. */
function summarise(runs) {
  return {
    runs: runs.length,
    wallMs: median(runs.map((r) => r.wallMs)),
    cpuMs: median(runs.map((r) => r.cpuMs)),
    maxRssKb: Math.max(...runs.map((r) => r.maxRssKb)),
    minWallMs: Math.min(...runs.map((r) => r.wallMs)),
    maxWallMs: Math.max(...runs.map((r) => r.wallMs)),
    approximate: runs.some((r) => r.approximate),
  };
}

/**
 * One corpus: one run that fills an empty cache, then the limit, the cold rollsafe run and the
 * warm re-run over the unchanged tree take turns (so drift hits all three alike), then the runs
 * after an edit.
 */
async function measureCorpus(corpus, cli, reps) {
  const row = { name: corpus.name, files: 0, bytes: 0, limit: null, walk: null, cold: null, fill: null, warm: null, error: null };
  log(`${corpus.name}: warming the page cache`);
  const first = await measureLimit(corpus.limitRoots);
  row.files = first.inner.files;
  row.bytes = first.inner.bytes;
  row.syntaxErrorFiles = first.inner.syntaxErrorFiles;
  const limitRuns = [];
  const coldRuns = [];
  const warmRuns = [];
  const cacheDir = cli.ok && cli.cacheDir ? path.join(CACHE, `rollsafe-cache-${corpus.name}`) : defaultCacheDir(corpus.cwd);
  // The cache is filled first, so that each repetition then takes the limit, a cold run and a
  // warm run in turn: the machine's speed drifts within minutes, and a ratio of runs made side by
  // side holds where one of runs made minutes apart does not (session 21: five cold runs in a
  // slow stretch, then five warm runs, put Debian's warm run at 0.19x the cold one; 25 alternating
  // runs by hand gave 0.27x).
  if (cli.ok) {
    try {
      log(`${corpus.name}: rollsafe filling an empty cache`);
      row.fill = summarise([await runRollsafe(cli, { cwd: corpus.cwd, paths: corpus.paths, cache: "fresh", cacheDir })]);
    } catch (error) {
      row.error = error.message;
    }
  }
  for (let i = 0; i < reps; i++) {
    log(`${corpus.name}: limit ${i + 1}/${reps}`);
    limitRuns.push(await measureLimit(corpus.limitRoots));
    if (cli.ok && !row.error) {
      try {
        log(`${corpus.name}: rollsafe cold ${i + 1}/${reps}`);
        coldRuns.push(await runRollsafe(cli, { cwd: corpus.cwd, paths: corpus.paths, cache: "off", cacheDir }));
        log(`${corpus.name}: rollsafe warm ${i + 1}/${reps}`);
        warmRuns.push(await runRollsafe(cli, { cwd: corpus.cwd, paths: corpus.paths, cache: "warm", cacheDir }));
      } catch (error) {
        row.error = error.message;
      }
    }
  }
  row.limit = summarise(limitRuns);
  row.limit.inner = {
    loadMs: median(limitRuns.map((r) => r.inner.loadMs)),
    findMs: median(limitRuns.map((r) => r.inner.findMs)),
    readMs: median(limitRuns.map((r) => r.inner.readMs)),
    parseMs: median(limitRuns.map((r) => r.inner.parseMs)),
  };
  log(`${corpus.name}: parse + tree walk`);
  const walk = await measureLimit(corpus.limitRoots, { walk: true });
  row.walk = { wallMs: walk.wallMs, walkMs: walk.inner.walkMs, nodes: walk.inner.nodes, parseMs: walk.inner.parseMs };
  if (cli.ok && !row.error) {
    log(`${corpus.name}: live heap after the analysis, with and without the rules`);
    row.heap = measureLiveHeap(corpus);
    if (cli.timings) {
      log(`${corpus.name}: rollsafe cold with --timings`);
      try {
        const timed = await runRollsafe(cli, { cwd: corpus.cwd, paths: corpus.paths, cache: "off", cacheDir, extra: ["--timings"] });
        row.phases = parseTimings(timed.stderr) ?? { error: "no --timings table on stderr" };
      } catch (error) {
        row.phases = { error: error.message };
      }
    }
    row.cold = summarise(coldRuns);
    row.findings = coldRuns[0]?.findings ?? null;
    row.internalErrors = coldRuns[0]?.internalErrors ?? null;
    row.exitCodes = [...new Set(coldRuns.map((r) => r.exitCode))];
    row.warm = summarise(warmRuns);
    row.warmFindings = warmRuns[0]?.findings ?? null;
    try {
      const edited = findMigrationFiles(corpus.limitRoots[0]).filter((f) => /\/\d{4}_[^/]*\.py$/.test(f)).sort().at(-1);
      if (edited) {
        log(`${corpus.name}: rollsafe warm after editing one migration`);
        row.edited = await editedRuns(cli, { cwd: corpus.cwd, paths: corpus.paths, cacheDir, file: edited, reps });
      }
    } catch (error) {
      row.error = error.message;
    }
  }
  return row;
}

/**
 * The heap the analysis keeps at its end (bench/live-heap.mjs), with every default rule and with
 * none; untimed. A run that fails gives its first line of stderr as `error` (the report says so), which leaves the rest standing.
 */
function measureLiveHeap(corpus) {
  const once = (rules) => {
    const args = ["--expose-gc", LIVE_HEAP, ...(rules ? [] : ["--rules", "none"]), corpus.cwd, ...corpus.paths];
    const child = spawnSync(process.execPath, args, { encoding: "utf8", maxBuffer: 1 << 20 });
    if (child.status !== 0) return { error: (child.stderr || `exit ${child.status}`).trim().split("\n")[0] };
    return JSON.parse(child.stdout);
  };
  return { all: once(true), none: once(false) };
}

/**
 * Warm runs right after an edit of one migration (a new comment line each time), so the result
 * cache misses and the run re-parses that file and replays from the parse cache: what a
 * developer's next check after changing a migration costs. The file's bytes are restored after.
 */
async function editedRuns(cli, { cwd, paths, cacheDir, file, reps, format }) {
  const original = fs.readFileSync(file);
  const runs = [];
  try {
    for (let i = 0; i < reps; i++) {
      fs.writeFileSync(file, Buffer.concat([original, Buffer.from(`\n# bench: edited ${Date.now()} ${i}\n`)]));
      runs.push(await runRollsafe(cli, { cwd, paths, cache: "warm", cacheDir, ...(format ? { format } : {}) }));
    }
  } finally {
    fs.writeFileSync(file, original);
  }
  return summarise(runs);
}

/** `rollsafe check <newest migration>` in the 500-migration app, warm, as pre-commit runs it. */
async function measureSingleFile(cli, dir, reps) {
  const migrations = findMigrationFiles(path.join(dir)).filter((f) => /\/\d{4}_[^/]*\.py$/.test(f));
  const target = migrations.at(-1);
  const rel = path.relative(dir, target);
  const result = { file: rel, appMigrations: migrations.length, cold: null, warm: null, error: null };
  if (!cli.ok) return result;
  const cacheDir = cli.cacheDir ? path.join(CACHE, "rollsafe-cache-single") : defaultCacheDir(dir);
  try {
    log(`single file: ${rel}, cold`);
    const cold = [];
    for (let i = 0; i < Math.max(2, Math.ceil(reps / 2)); i++) cold.push(await runRollsafe(cli, { cwd: dir, paths: [rel], cache: "off", cacheDir, format: "text" }));
    result.cold = summarise(cold);
    // Prime the cache the way a developer's earlier runs would have: a full check, then this file.
    await runRollsafe(cli, { cwd: dir, paths: ["."], cache: "fresh", cacheDir, format: "text" });
    await runRollsafe(cli, { cwd: dir, paths: [rel], cache: "warm", cacheDir, format: "text" });
    const warm = [];
    for (let i = 0; i < reps; i++) {
      log(`single file: warm ${i + 1}/${reps}`);
      warm.push(await runRollsafe(cli, { cwd: dir, paths: [rel], cache: "warm", cacheDir, format: "text" }));
    }
    result.warm = summarise(warm);
    log("single file: warm after editing it");
    result.edited = await editedRuns(cli, { cwd: dir, paths: [rel], cacheDir, file: target, reps, format: "text" });
    result.exitCodes = [...new Set([...cold, ...warm].map((r) => r.exitCode))];
  } catch (error) {
    result.error = error.message;
  }
  return result;
}

/**
 * One large migration per shape and size (`bench/large-migrations.mjs`): the limit over the
 * app's migration files and a cold `rollsafe check` in text (the format that shows a code frame
 * for every finding) alternate, and the sizes take turns. Growth is read from the cost per added operation, as `growth` reads it per added file.
 */
async function measureLarge(cli, reps) {
  const rows = [];
  for (const shape of LARGE_SHAPES) {
    const sizes = LARGE_SIZES.map((operations) => ({ operations, bytes: 0, limit: null, cold: null, findings: null, error: null }));
    const runs = sizes.map(() => ({ dir: "", migrationsDir: "", limit: [], cold: [] }));
    for (const [i, entry] of sizes.entries()) {
      const run = runs[i];
      run.dir = path.join(CACHE, `large-${shape.name}-${entry.operations}`);
      try {
        run.migrationsDir = writeLargeMigration(run.dir, shape.name, entry.operations);
        await measureLimit([run.migrationsDir]);
      } catch (error) {
        entry.error = error.message;
      }
    }
    // The sizes take turns in each repetition, so that a machine slowing down during the bench (a
    // burstable CPU running out of credit) weighs on every size alike, not on the largest alone.
    for (let rep = 0; rep < reps; rep++) {
      for (const [i, entry] of sizes.entries()) {
        if (entry.error) continue;
        const run = runs[i];
        log(`large ${shape.name} × ${entry.operations}: ${rep + 1}/${reps}`);
        try {
          run.limit.push(await measureLimit([run.migrationsDir]));
          if (cli.ok) run.cold.push(await runRollsafe(cli, { cwd: run.dir, paths: ["."], cache: "off", cacheDir: path.join(CACHE, "rollsafe-cache-large"), format: "text" }));
        } catch (error) {
          entry.error = error.message;
        }
      }
    }
    for (const [i, entry] of sizes.entries()) {
      const run = runs[i];
      if (run.limit.length) {
        entry.bytes = run.limit[0].inner.bytes;
        entry.limit = summarise(run.limit);
      }
      if (run.cold.length) entry.cold = summarise(run.cold);
    }
    // The growth is worked out when the table is written (`largeGrowth`), from the saved figures.
    rows.push({ name: shape.name, label: shape.label, sizes });
  }
  return rows;
}

/**
 * The growth of one large-migration shape: the cost per added operation, last step over first
 * (start-up cancels out), 1 when linear and 2 when quadratic, for rollsafe and for the limit,
 * from each size's median run. A first step smaller than the spread between the runs of one size
 * says nothing (`noise`: that spread). Session 21: run-sql's middle size came out fast and flagged
 * a linear shape at 6.09x, from a first step of 30 ms beside a spread of 175 ms (by hand, three
 * runs each: 0.83, 0.97 and 1.25 s). Worked out by renderReport, for a run and for --render alike.
 */
function largeGrowth(sizes) {
  const steps = (pick) => growth(sizes, pick, (e) => e.operations).marginalRatio;
  const spread = Math.max(0, ...sizes.map((e) => (e.cold ? e.cold.maxWallMs - e.cold.minWallMs : 0)));
  const firstStep = sizes[1]?.cold && sizes[0]?.cold ? sizes[1].cold.wallMs - sizes[0].cold.wallMs : NaN;
  return {
    growth: steps((e) => e.cold?.wallMs),
    limitGrowth: steps((e) => e.limit?.wallMs),
    noise: Number.isFinite(firstStep) && firstStep < spread ? spread : null,
  };
}

// ---------------------------------------------------------------------------------------------
// Corpora

function prepareSynthetic(files) {
  const spec = { ...corpusSpecFor(files), seed: 7 };
  const dir = path.join(CACHE, `corpus-${files}`);
  if (!existingCorpus(dir, spec)) log(`generating ${spec.apps} apps × ${spec.migrations} migrations into ${path.relative(REPO, dir)}`);
  const manifest = ensureCorpus(dir, spec);
  return { name: `synthetic-${files}`, label: `synthetic, ${spec.apps} apps × ${spec.migrations}`, cwd: dir, paths: ["."], limitRoots: [dir], synthetic: true, targetFiles: manifest.files };
}

function prepareSingleApp() {
  const spec = { apps: 1, migrations: SINGLE_APP_MIGRATIONS, seed: 11 };
  const dir = path.join(CACHE, `single-${SINGLE_APP_MIGRATIONS}`);
  if (!existingCorpus(dir, spec)) {
    log(`generating one app with ${SINGLE_APP_MIGRATIONS} migrations into ${path.relative(REPO, dir)}`);
    generateProject({ out: dir, ...spec });
  }
  return dir;
}

async function prepareDebian() {
  const script = path.join(REPO, "scripts", "debian-corpus.mjs");
  if (!fs.existsSync(script)) throw new BenchError("scripts/debian-corpus.mjs is missing: the real corpus cannot be fetched");
  const { ensureDebianCorpus } = await import(pathToFileURL(script).href);
  log("fetching the Debian corpus (apt-get download + dpkg -x, cached)");
  const corpus = await ensureDebianCorpus({ log: (line) => log(`debian: ${line}`) });
  const apps = corpus.packages.flatMap((pkg) => pkg.apps ?? []);
  if (apps.length === 0) throw new BenchError("the Debian corpus holds no Django apps with migrations");
  return {
    name: "debian",
    label: `Debian packages (${corpus.packages.length} packages, ${apps.length} apps)`,
    cwd: corpus.cacheDir,
    paths: apps.map((app) => path.relative(corpus.cacheDir, app.dir)),
    limitRoots: apps.map((app) => app.migrationsDir),
    synthetic: false,
    packages: corpus.packages.map((p) => `${p.name} ${p.version}`),
  };
}

// ---------------------------------------------------------------------------------------------
// Report

const ms = (v) => (Number.isFinite(v) ? (v >= 10000 ? `${(v / 1000).toFixed(1)} s` : v >= 1000 ? `${(v / 1000).toFixed(2)} s` : `${Math.round(v)} ms`) : "–");
const mb = (kb) => (Number.isFinite(kb) ? `${Math.round(kb / 1024)} MB` : "–");
const ratio = (a, b) => (Number.isFinite(a) && Number.isFinite(b) && b > 0 ? a / b : NaN);
const x = (v) => (Number.isFinite(v) ? `${v.toFixed(2)}×` : "–");
const int = (n) => (Number.isFinite(n) ? n.toLocaleString("en-US") : "–");

/** A share (0-1) as a whole percentage. */
function percent(share) {
  return `${(share * 100).toFixed(0)}%`;
}

/** "met (18% under)" / "not met (21% over)" for an at-most target. */
function verdict(value, limit) {
  if (!Number.isFinite(value)) return "not measured";
  const diff = Math.abs(value / limit - 1) * 100;
  return value <= limit ? `**met** (${diff.toFixed(0)}% under)` : `**not met** (${diff.toFixed(0)}% over)`;
}

/** The cost per added file between consecutive sizes, and the fit over all of them. */
function growth(rows, pick, size = (r) => r.files) {
  const points = rows.map((r) => [size(r), pick(r)]).filter(([, y]) => Number.isFinite(y));
  const fit = linearFit(points);
  const marginal = [];
  for (let i = 1; i < points.length; i++) marginal.push((points[i][1] - points[i - 1][1]) / (points[i][0] - points[i - 1][0]));
  // A step that did not cost more (a corpus that adds too little work to show above the noise,
  // such as the limit over one RunSQL of short statements) leaves no ratio to speak of.
  const marginalRatio = marginal.length >= 2 && marginal[0] > 0 && marginal.at(-1) >= 0 ? marginal.at(-1) / marginal[0] : NaN;
  return { points, fit, marginal, marginalRatio };
}

function renderReport({ opts, env, cli, floor, rows, single, large, realError }) {
  const synthetic = rows.filter((r) => r.synthetic);
  const withCli = rows.filter((r) => r.cold);
  const lines = [];
  lines.push("# rollsafe benchmark results", "");
  lines.push(`Written by \`npm run bench\`${opts.quick ? " (`--quick` smoke run)" : ""} on ${env.date}. Figures are medians of repeated runs; every rollsafe time is also given as a ratio to a reference measured in the same run (see [README.md](README.md)).`, "");
  // The load average at the end counts the benchmark's own runs (they keep every core busy), so
  // other processes' CPU time is the reading that says whether the machine was shared; runs
  // written before it was measured fall back to the load average.
  const shared = typeof env.otherCpu === "number" ? env.otherCpu > 0.1 : Math.max(Number(env.loadStart), Number(env.loadEnd)) > env.cores;
  if (shared) {
    lines.push(`> Other processes shared the CPU during this run${typeof env.otherCpu === "number" ? ` (${percent(env.otherCpu)} of the ${env.cores} cores' time)` : ` (the load average exceeded the ${env.cores} cores)`}, so wall-time ratios carry that noise. The CPU-time ratios are the steadier reading.`, "");
  }
  lines.push("| machine | |", "| --- | --- |");
  lines.push(`| cores (\`os.cpus().length\`) | ${env.cores} |`);
  lines.push(`| CPU | ${env.cpu} |`);
  lines.push(`| memory | ${env.memGb} GB |`);
  lines.push(`| OS | ${env.os} |`);
  lines.push(`| node | ${env.node} |`);
  lines.push(`| rollsafe | ${env.rollsafe} (commit ${env.commit}) |`);
  lines.push(`| CPU and peak RSS from | ${env.gnuTime ? "GNU time (wait4 rusage)" : "/proc polling (approximate)"} |`);
  lines.push(`| load average (1 min) at start / end | ${env.loadStart} / ${env.loadEnd} (the end counts the benchmark's own runs) |`);
  if (typeof env.otherCpu === "number") lines.push(`| CPU time used by other processes during the run | ${percent(env.otherCpu)} of the ${env.cores} cores' time |`);
  lines.push(`| cold runs | ${cli.ok ? (cli.noCache ? "`--no-cache`" : "cache directory emptied before each run (the CLI has no `--no-cache`)") : "–"} |`);
  lines.push("");

  if (!cli.ok) lines.push(`> **rollsafe was not measured:** ${cli.reason}.`, "");
  for (const r of rows) if (r.error) lines.push(`> **${r.name}:** ${r.error}`, "");
  for (const r of rows) {
    if (r.internalErrors) lines.push(`> **${r.name}:** rollsafe exited ${r.exitCodes.join("/")} with ${r.internalErrors} \`internal-error\` diagnostics (a rule threw); the runs completed and are timed.`, "");
  }
  if (single?.exitCodes?.includes(2)) lines.push("> **single file:** rollsafe exited 2 (internal-error diagnostics); the runs completed and are timed.", "");
  if (single?.error) lines.push(`> **single file:** ${single.error}`, "");
  if (realError) lines.push(`> **Debian corpus:** ${realError}`, "");

  // Targets.
  lines.push("## Targets (issue 7)", "");
  lines.push("| target | measured | result |", "| --- | --- | --- |");
  const coldRatios = withCli.map((r) => ({ name: r.name, v: ratio(r.cold.wallMs, r.limit.wallMs), cpu: ratio(r.cold.cpuMs, r.limit.cpuMs) }));
  const worstCold = coldRatios.reduce((a, b) => (b.v > (a?.v ?? -Infinity) ? b : a), null);
  lines.push(`| Full run (cold) ≤ ${TARGETS.coldToLimit}× the single-thread parse limit | ${worstCold ? `${x(worstCold.v)} worst (${worstCold.name}); ${coldRatios.map((c) => `${c.name} ${x(c.v)}`).join(", ")}; in CPU time: ${coldRatios.map((c) => `${c.name} ${x(c.cpu)}`).join(", ")}` : "–"} | ${verdict(worstCold?.v, TARGETS.coldToLimit)} |`);
  lines.push(`| Full run (cold) < ${TARGETS.coldToLimitParallel.toFixed(1)}× the limit with all ${env.cores} cores | ${worstCold ? `${x(worstCold.v)} worst` : "–"} | ${verdict(worstCold?.v, TARGETS.coldToLimitParallel)} |`);
  const warmRatios = withCli.filter((r) => r.warm).map((r) => ({ name: r.name, v: ratio(r.warm.wallMs, r.cold.wallMs), cpu: ratio(r.warm.cpuMs, r.cold.cpuMs) }));
  const worstWarm = warmRatios.reduce((a, b) => (b.v > (a?.v ?? -Infinity) ? b : a), null);
  lines.push(`| Warm re-run ≤ ${TARGETS.warmToCold}× the cold run | ${worstWarm ? `${x(worstWarm.v)} worst (${worstWarm.name}); ${warmRatios.map((c) => `${c.name} ${x(c.v)}`).join(", ")}; in CPU time: ${warmRatios.map((c) => `${c.name} ${x(c.cpu)}`).join(", ")}` : "–"} | ${verdict(worstWarm?.v, TARGETS.warmToCold)} |`);
  const singleRatio = single?.warm ? ratio(single.warm.wallMs, floor.floor.wallMs) : NaN;
  lines.push(`| Single file, ${SINGLE_APP_MIGRATIONS}-migration app, warm ≤ ${TARGETS.singleToFloor}× the node + tree-sitter floor | ${single?.warm ? `${ms(single.warm.wallMs)} vs ${ms(floor.floor.wallMs)}: ${x(singleRatio)}; in CPU time ${x(ratio(single.warm.cpuMs, floor.floor.cpuMs))}` : "–"} | ${verdict(singleRatio, TARGETS.singleToFloor)} |`);
  const synthCli = synthetic.filter((r) => r.cold);
  const g = growth(synthCli, (r) => r.cold.wallMs);
  // The limit's own steps, from the same runs: on a machine whose cost per file drifts with the
  // corpus size (page cache, memory), the bare parse is not perfectly linear either.
  const limitGrowth = growth(synthCli, (r) => r.limit.wallMs);
  const limitSteps = Number.isFinite(limitGrowth.marginalRatio) ? `; the limit's own steps ${x(limitGrowth.marginalRatio)} in the same run` : "";
  lines.push(`| Time grows linearly (cost per added file, largest step ÷ smallest step ≤ ${TARGETS.marginalGrowth}) | ${Number.isFinite(g.marginalRatio) ? `${x(g.marginalRatio)}${limitSteps}; fit R² ${g.fit.r2.toFixed(4)}` : "needs 3 sizes"} | ${verdict(g.marginalRatio, TARGETS.marginalGrowth)} |`);
  const big = synthCli.find((r) => r.files >= 20000);
  const bigRss = big ? Math.max(big.cold.maxRssKb, big.warm?.maxRssKb ?? 0, big.fill?.maxRssKb ?? 0) / 1024 : NaN;
  const bigLive = big?.heap && !big.heap.all.error && !big.heap.none.error ? `; the analysis keeps ${mb(big.heap.all.live / 1024)} of live heap, ${mb(big.heap.none.live / 1024)} without the rules (see *Memory* below)` : "";
  lines.push(`| Peak RSS < ${TARGETS.rssMb} MB at 20,000 files | ${big ? `${Math.round(bigRss)} MB${bigLive}` : "20,000-file corpus not run"} | ${verdict(bigRss, TARGETS.rssMb)} |`);
  lines.push("");
  lines.push(
    "*No work twice*, the issue's other requirement, is held by tests rather than timed: in a run each migration file is read once and parsed once, and each SQL text goes through PostgreSQL's parser once (`test/engine/no-work-twice.test.ts` counts the reads and parses of a run without a cache, one filling it, one it answers and one after an edit); the replay applies each migration once, in plan order, which the growth rows below show is linear; the reporters and the SQL parser load only when a run needs them (`test/cli/startup.test.ts`). The replayed state is not kept between runs: a run after an edit replays the app's whole plan (see docs/performance.md, Follow-ups).",
    "",
  );

  // Full runs.
  lines.push("## Full runs (`rollsafe check .`)", "");
  lines.push("| corpus | files | size | limit wall | limit CPU | cold wall | cold CPU | **cold ÷ limit** | cold CPU ÷ limit CPU | first run, filling the cache | warm wall | **warm ÷ cold** | warm after editing one file | edited ÷ cold | peak RSS (limit / cold / filling / warm) | findings |");
  lines.push("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
  for (const r of rows) {
    lines.push(
      `| ${r.label} | ${int(r.files)} | ${(r.bytes / 1048576).toFixed(1)} MB | ${ms(r.limit.wallMs)} | ${ms(r.limit.cpuMs)} | ${ms(r.cold?.wallMs)} | ${ms(r.cold?.cpuMs)} | ${x(ratio(r.cold?.wallMs, r.limit.wallMs))} | ${x(ratio(r.cold?.cpuMs, r.limit.cpuMs))} | ${ms(r.fill?.wallMs)} | ${ms(r.warm?.wallMs)} | ${x(ratio(r.warm?.wallMs, r.cold?.wallMs))} | ${ms(r.edited?.wallMs)} | ${x(ratio(r.edited?.wallMs, r.cold?.wallMs))} | ${mb(r.limit.maxRssKb)} / ${mb(r.cold?.maxRssKb)} / ${mb(r.fill?.maxRssKb)} / ${mb(r.warm?.maxRssKb)} | ${r.findings ?? "–"} |`,
    );
  }
  lines.push("", "*Warm* is a re-run over the unchanged tree: the result cache answers (`src/cache/result-cache.ts`). *Warm after editing one file* changes one migration before each run: the result cache misses, that file is parsed again, every other model comes from the parse cache, and the replay and the rules run in full.");
  lines.push("", `Repetitions per corpus: ${rows.map((r) => `${r.name} ${r.limit.runs}`).join(", ")}. Wall ranges (min–max) of the cold runs: ${withCli.map((r) => `${r.name} ${ms(r.cold.minWallMs)}–${ms(r.cold.maxWallMs)}`).join(", ") || "–"}.`, "");

  // Phases of a cold run.
  lines.push(...renderPhases(rows.filter((r) => r.phases).map((r) => ({ name: r.name, limitMs: r.limit?.wallMs, timings: r.phases.error ? null : r.phases, error: r.phases.error }))));

  // Single file.
  lines.push("## Single-file run (pre-commit)", "");
  lines.push(`\`rollsafe check ${single?.file ?? "<file>"}\` in one app with ${SINGLE_APP_MIGRATIONS} migrations, text output.`, "");
  lines.push("| process | wall | CPU | peak RSS | ratio to the floor |", "| --- | ---: | ---: | ---: | ---: |");
  lines.push(`| \`node -e 0\` (bare node start-up) | ${ms(floor.bareNode.wallMs)} | ${ms(floor.bareNode.cpuMs)} | ${mb(floor.bareNode.maxRssKb)} | ${x(ratio(floor.bareNode.wallMs, floor.floor.wallMs))} |`);
  lines.push(`| **floor**: node + tree-sitter + Python grammar (\`bench/floor-process.mjs\`) | ${ms(floor.floor.wallMs)} | ${ms(floor.floor.cpuMs)} | ${mb(floor.floor.maxRssKb)} | 1.00× |`);
  lines.push(`| rollsafe, single file, no cache | ${ms(single?.cold?.wallMs)} | ${ms(single?.cold?.cpuMs)} | ${mb(single?.cold?.maxRssKb)} | ${x(ratio(single?.cold?.wallMs, floor.floor.wallMs))} |`);
  lines.push(`| **rollsafe, single file, warm** | ${ms(single?.warm?.wallMs)} | ${ms(single?.warm?.cpuMs)} | ${mb(single?.warm?.maxRssKb)} | ${x(singleRatio)} |`);
  lines.push(`| rollsafe, single file, warm, right after editing it | ${ms(single?.edited?.wallMs)} | ${ms(single?.edited?.cpuMs)} | ${mb(single?.edited?.maxRssKb)} | ${x(ratio(single?.edited?.wallMs, floor.floor.wallMs))} |`);
  lines.push("", `Floor and bare node: ${floor.floor.runs} runs each; warm single-file: ${single?.warm?.runs ?? 0} runs.`, "");

  // Growth.
  lines.push("## Growth with the number of files (synthetic corpora)", "");
  lines.push("| files | limit per file | cold per file | warm per file | cold ÷ limit |", "| ---: | ---: | ---: | ---: | ---: |");
  for (const r of synthetic) {
    const per = (v) => (Number.isFinite(v) ? `${((v / r.files) * 1000).toFixed(0)} µs` : "–");
    lines.push(`| ${int(r.files)} | ${per(r.limit.wallMs)} | ${per(r.cold?.wallMs)} | ${per(r.warm?.wallMs)} | ${x(ratio(r.cold?.wallMs, r.limit.wallMs))} |`);
  }
  lines.push("");
  const fitLine = (name, gr) =>
    Number.isFinite(gr.fit.slope)
      ? `| ${name} | ${(gr.fit.slope * 1000).toFixed(0)} µs | ${ms(gr.fit.intercept)} | ${gr.fit.r2.toFixed(4)} | ${gr.marginal.map((m) => `${(m * 1000).toFixed(0)} µs`).join(" → ")} |`
      : `| ${name} | – | – | – | – |`;
  lines.push("Least-squares line wall = intercept + slope × files:", "");
  lines.push("| series | slope (per file) | intercept | R² | cost per added file, step by step |", "| --- | ---: | ---: | ---: | --- |");
  lines.push(fitLine("parse limit", growth(synthetic, (r) => r.limit.wallMs)));
  lines.push(fitLine("rollsafe cold", g));
  lines.push(fitLine("rollsafe warm", growth(synthCli.filter((r) => r.warm), (r) => r.warm.wallMs)));
  lines.push("");

  // Large single migrations.
  if (large?.length) {
    lines.push("## Growth within one large migration", "");
    lines.push(
      `One app: a first migration, and a second of ${LARGE_SIZES.map(int).join(" or ")} operations (for \`run-sql\`, statements of one \`RunSQL\`), written by \`bench/large-migrations.mjs\`. Cold runs, text output. *Growth* is the cost per added operation between the two largest sizes over that between the two smallest, for rollsafe and (in brackets) for the limit: near 1 when the cost grows linearly, 2 when it grows with the square; read like the growth with the number of files (at most ${TARGETS.marginalGrowth.toFixed(2)}). A ratio above that whose first step is smaller than the spread between the runs of one size is not judged.`,
      "",
    );
    lines.push("| shape | operations | size | limit wall | cold wall | cold ÷ limit | peak RSS | growth |", "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
    for (const saved of large) {
      const row = { ...saved, ...largeGrowth(saved.sizes) };
      row.sizes.forEach((e, i) => {
        const last = i === row.sizes.length - 1;
        const judged = !Number.isFinite(row.growth)
          ? "–"
          : row.growth <= TARGETS.marginalGrowth
            ? "linear"
            : row.noise !== null
              ? `not judged: the first step is within the spread of the runs (${ms(row.noise)})`
              : "**grows faster than linear**";
        const growthCell = last ? `${x(row.growth)} (limit ${Number.isFinite(row.limitGrowth) ? x(row.limitGrowth) : "flat within the noise"}): ${judged}` : "";
        lines.push(`| ${i === 0 ? `${row.name}: ${row.label}` : ""} | ${int(e.operations)} | ${(e.bytes / 1048576).toFixed(1)} MB | ${ms(e.limit?.wallMs)} | ${ms(e.cold?.wallMs)} | ${x(ratio(e.cold?.wallMs, e.limit?.wallMs))} | ${mb(e.cold?.maxRssKb)} | ${e.error ? `error: ${e.error}` : growthCell} |`);
      });
    }
    lines.push("");
  }

  // What the heap holds.
  const heaps = rows.filter((r) => r.heap);
  if (heaps.length) {
    lines.push("## Memory: what the analysis keeps", "");
    lines.push(
      "Peak RSS depends on when V8 collects and includes the process's own memory; this is what is live. `bench/live-heap.mjs` runs the analysis through the library (no cache, no report, the CLI's collections between phases) and collects garbage while it still holds the result: *live heap* is what the analysis keeps; *without rules* runs no rule (the parsed models and the replayed state alone), so the difference is the findings and what the rules keep. *External* is memory outside the heap that V8 is told of (the PostgreSQL parser's WebAssembly memory, reserved whole when it loads, counts there though only the pages it touches are resident). *Cold peak RSS* is the CLI's, from the table above.",
      "",
    );
    lines.push("| corpus | files | live heap | without rules | findings and rules | V8 heap committed | external | cold peak RSS |", "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
    for (const r of heaps) {
      const { all, none } = r.heap;
      const failed = all.error ?? none.error;
      lines.push(
        failed
          ? `| ${r.name} | ${int(r.files)} | error: ${failed} | | | | | ${mb(r.cold?.maxRssKb)} |`
          : `| ${r.name} | ${int(r.files)} | ${mb(all.live / 1024)} | ${mb(none.live / 1024)} | ${mb((all.live - none.live) / 1024)} | ${mb(all.committed / 1024)} | ${mb(all.external / 1024)} | ${mb(r.cold?.maxRssKb)} |`,
      );
    }
    lines.push("");
  }

  // Where the limit's time goes.
  lines.push("## Inside the limit", "");
  lines.push("Timed inside `bench/parse-limit.mjs` (medians). *Parse + walk* visits every node with a TreeCursor on top of parsing: not part of the limit, it is what crossing from JavaScript into the tree costs.", "");
  lines.push("| corpus | load tree-sitter | find files | read | parse | tree walk (extra) | nodes |", "| --- | ---: | ---: | ---: | ---: | ---: | ---: |");
  for (const r of rows) {
    lines.push(`| ${r.name} | ${ms(r.limit.inner.loadMs)} | ${ms(r.limit.inner.findMs)} | ${ms(r.limit.inner.readMs)} | ${ms(r.limit.inner.parseMs)} | ${ms(r.walk?.walkMs)} | ${int(r.walk?.nodes)} |`);
  }
  lines.push("");
  const real = rows.find((r) => r.name === "debian");
  if (real?.packages) lines.push("## Debian corpus", "", real.packages.map((p) => `- ${p}`).join("\n"), "");
  return `${lines.join("\n")}\n`;
}

function environment() {
  const git = spawnSync("git", ["rev-parse", "--short", "HEAD"], { cwd: REPO, encoding: "utf8" });
  const dirty = spawnSync("git", ["status", "--porcelain", "--", "src", "rules", "bin"], { cwd: REPO, encoding: "utf8" });
  const pkg = JSON.parse(fs.readFileSync(path.join(REPO, "package.json"), "utf8"));
  return {
    date: new Date().toISOString().replace("T", " ").replace(/\.\d+Z$/, " UTC"),
    cores: os.cpus().length,
    cpu: os.cpus()[0]?.model?.trim() ?? "unknown",
    memGb: (os.totalmem() / 1073741824).toFixed(1),
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    node: process.version,
    rollsafe: pkg.version,
    commit: git.status === 0 ? `${git.stdout.trim()}${dirty.stdout.trim() ? ", with uncommitted changes in src/rules/bin" : ""}` : "unknown",
    gnuTime: hasGnuTime(),
    loadStart: os.loadavg()[0].toFixed(2),
    loadEnd: "–",
  };
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  if (opts.help) {
    process.stdout.write(
      "usage: node bench/run.mjs [--sizes 1000,5000,20000] [--reps N] [--quick] [--real] [--out FILE]\n" +
        "  --quick   smoke run: sizes 250,1000, 2 repetitions, writes bench/.cache/RESULTS-quick.md\n" +
        "  --real    also measure the Debian corpus (scripts/debian-corpus.mjs)\n" +
        "  --render FILE  measure nothing: write the table again from a run's raw figures (bench/.cache/results.json)\n",
    );
    return 0;
  }
  if (opts.render) {
    // The report's wording changed, not the figures: render the same run again.
    const saved = JSON.parse(fs.readFileSync(opts.render, "utf8"));
    fs.writeFileSync(opts.out, renderReport({ opts, ...saved }));
    log(`wrote ${path.relative(process.cwd(), opts.out)} from ${path.relative(process.cwd(), opts.render)}`);
    return 0;
  }
  fs.mkdirSync(CACHE, { recursive: true });
  const env = environment();
  const cpuStart = cpuReading();
  if (!env.gnuTime) log("GNU time not found (apt-get install time): CPU and RSS come from /proc polling");
  const cli = detectCli();
  if (!cli.ok) log(`rollsafe will not be measured: ${cli.reason}`);

  const corpora = opts.sizes.map(prepareSynthetic);
  let realError = null;
  if (opts.real) {
    try {
      corpora.push(await prepareDebian());
    } catch (error) {
      realError = error instanceof Error ? error.message : String(error);
      log(`Debian corpus skipped: ${realError}`);
    }
  }
  const singleDir = prepareSingleApp();

  // The short runs first (the floor, the single-file run, the Debian corpus), then the synthetic
  // corpora from the smallest: on a machine with burstable CPU, minutes of both cores busy with
  // 20,200 files slowed the Debian runs measured after them by up to a third (its limit by 15%).
  log("floor: node + tree-sitter start-up");
  const floor = await measureFloor(opts.quick ? 5 : 10);
  const single = await measureSingleFile(cli, singleDir, opts.quick ? 5 : 10);
  const measured = new Map();
  for (const corpus of [...corpora.filter((c) => !c.synthetic), ...corpora.filter((c) => c.synthetic)]) {
    const reps = repsFor(opts, corpus);
    const row = await measureCorpus(corpus, cli, reps);
    measured.set(corpus, { ...row, label: corpus.label, synthetic: corpus.synthetic, packages: corpus.packages });
  }
  const rows = corpora.map((corpus) => measured.get(corpus));
  const large = await measureLarge(cli, opts.quick ? 1 : 3);

  env.loadEnd = os.loadavg()[0].toFixed(2);
  env.otherCpu = otherCpuShare(cpuStart, cpuReading(), env.cores);
  const report = renderReport({ opts, env, cli, floor, rows, single, large, realError });
  fs.mkdirSync(path.dirname(opts.out), { recursive: true });
  fs.writeFileSync(opts.out, report);
  fs.writeFileSync(path.join(CACHE, "results.json"), `${JSON.stringify({ env, cli, floor, rows, single, large, realError }, null, 2)}\n`);
  log(`wrote ${path.relative(process.cwd(), opts.out)}`);
  process.stdout.write(report);
  return rows.some((r) => r.error) || single.error || large.some((r) => r.sizes.some((e) => e.error)) ? 1 : 0;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error) => {
    process.stderr.write(`bench: ${error instanceof BenchError ? "" : "internal error: "}${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 2;
  },
);
