/**
 * The fuzz driver shared by `npm run fuzz` (fuzz/run.mjs) and the CI slice
 * (test/fuzz/fuzz-slice.test.ts): runs cases through the built pipeline in child processes (with a watchdog),
 * runs some through the real CLI, checks the properties and saves a reproducer per failure.
 */
import { fork, spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, cpSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { createInterface } from "node:readline";
import { generateCase, loadSeeds, sweepCases } from "./cases.mjs";
import { checkCliRun, checkDiagnosticShape, checkRendered, checkVerdict } from "./properties.mjs";

/** CPython verdicts that rollsafe deliberately does not share. */
const DELIBERATE_DIFFERENCES = [
  // `except A, B:` is valid since Python 3.14 (PEP 758); Django 6 runs on 3.14.
  /multiple exception types must be parenthesized/,
  // CPython's compiler recursion limit (a 1 MB `1 + 1 + ...` line, a 5,000-long attribute chain)
  // depends on the interpreter's C stack and build, not on the grammar; not a syntax error.
  /^RecursionError/,
];

/** The Python interpreter to use as the oracle, or null. Debian's own first (the pyenv shim may be absent in CI). */
export function findPython() {
  for (const candidate of ["/usr/bin/python3", "python3"]) {
    const probe = spawnSync(candidate, ["-c", "import sys; print(sys.version_info[0])"], { encoding: "utf8" });
    if (probe.status === 0 && probe.stdout.trim() === "3") return candidate;
  }
  return null;
}

/** A long-lived CPython process answering "does this file compile?". */
class CPythonOracle {
  constructor(python, script) {
    this.child = spawn(python, [script], { stdio: ["pipe", "pipe", "inherit"] });
    this.queue = [];
    createInterface({ input: this.child.stdout }).on("line", (line) => this.queue.shift()?.(JSON.parse(line)));
  }
  ask(file) {
    return new Promise((resolve) => {
      this.queue.push((answer) => {
        if (!answer.ok) answer.deliberate = DELIBERATE_DIFFERENCES.some((re) => re.test(answer.message));
        resolve(answer);
      });
      this.child.stdin.write(`${file}\n`);
    });
  }
  close() {
    this.child.stdin.end();
  }
}

/**
 * One child process running `lint()`, replaced when the watchdog kills it or it dies. A process
 * rather than a worker thread: terminating a thread in the middle of tree-sitter's parse (which
 * calls back into JavaScript for the text) aborts the whole process, the fuzzer with it; a
 * process is killed alone, and one that aborts is a failing case like any other.
 */
class LintWorker {
  constructor(distIndex, heapMb) {
    this.distIndex = distIndex;
    this.heapMb = heapMb;
    this.start();
  }
  start() {
    this.child = fork(new URL("./worker.mjs", import.meta.url), [this.distIndex], {
      execArgv: [`--max-old-space-size=${this.heapMb}`],
      serialization: "advanced",
      stdio: ["ignore", "inherit", "inherit", "ipc"],
    });
    this.pending = null;
    const child = this.child;
    this.ready = new Promise((resolve) => {
      child.once("message", resolve);
    });
    child.on("message", (msg) => {
      if (msg.ready) return;
      const pending = this.pending;
      this.pending = null;
      pending?.resolve(msg);
    });
    // A failed send is followed by the exit below.
    child.on("error", () => {});
    child.on("exit", (code, signal) => {
      // Killed by `stop()`: already replaced.
      if (this.child !== child) return;
      const pending = this.pending;
      this.pending = null;
      if (pending) pending.resolve({ ok: false, error: `worker died: ${signal ? `signal ${signal}` : `exit code ${code}`}`, crashed: true });
      else this.start();
    });
  }
  async run(message, timeoutMs) {
    await this.ready;
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.pending = null;
        this.stop();
        this.start();
        resolve({ ok: false, error: `hang: no answer within ${timeoutMs / 1000} s`, hang: true });
      }, timeoutMs);
      this.pending = {
        resolve: (msg) => {
          clearTimeout(timer);
          if (msg.crashed) this.start();
          resolve(msg);
        },
      };
      this.child.send(message);
    });
  }
  /** Kills the process (a hang, or the end of the run). */
  stop() {
    const child = this.child;
    this.child = null;
    child?.kill("SIGKILL");
  }
}

/** Writes a case as a small Django app: `<root>/<app>/migrations/{__init__.py, siblings, target}`. */
function writeCaseTree(root, c, bytes) {
  const migrations = path.join(root, c.appName, "migrations");
  mkdirSync(migrations, { recursive: true });
  writeFileSync(path.join(migrations, "__init__.py"), "");
  if (c.appsPy) writeFileSync(path.join(root, c.appName, "apps.py"), c.appsPy);
  for (const s of c.siblings) writeFileSync(path.join(migrations, s.name), s.bytes);
  writeFileSync(path.join(migrations, c.fileName), bytes);
  return { target: path.join(migrations, c.fileName), display: `${c.appName}/migrations/${c.fileName}` };
}

/**
 * Runs a fuzz campaign and resolves to `{ failures, stats }`.
 *
 * @param {object} o
 * @param {string} o.repo repository root (holds fixtures/, bin/, dist/)
 * @param {number} o.seed run seed
 * @param {number} o.cases number of random in-process cases
 * @param {number} [o.cliCases] number of random cases run through the real CLI
 * @param {string[]} [o.sweep] seed files (relative paths) to truncate at every token boundary
 * @param {number[]} [o.only] run only these in-process case numbers (reproduction)
 * @param {number[]} [o.onlyCli] run only these CLI case numbers (reproduction)
 * @param {string[]} [o.forced] mutators the first cases go through, in order (default: all)
 * @param {string} o.failuresDir where reproducers go
 * @param {string|null} [o.python] CPython for the oracle (null: no oracle)
 * @param {number} [o.workers] worker processes / concurrent CLI runs
 * @param {number} [o.caseTimeoutMs] watchdog per case
 * @param {number} [o.maxRssMb] memory bound (resident set) for the process and each CLI run
 * @param {(line: string) => void} [o.log]
 */
export async function runFuzz(o) {
  const log = o.log ?? (() => {});
  const seeds = loadSeeds(o.repo);
  const distIndex = path.join(o.repo, "dist/src/index.js");
  if (!existsSync(distIndex)) throw new Error("dist/ is missing: run `npm run build` first");
  const workers = o.workers ?? Math.max(1, Math.min(4, os.cpus().length));
  const caseTimeoutMs = o.caseTimeoutMs ?? 120_000;
  const maxRssMb = o.maxRssMb ?? 2048;
  const oracle = o.python ? new CPythonOracle(o.python, path.join(o.repo, "fuzz/cpython_oracle.py")) : null;
  const scratch = mkdtempSync(path.join(os.tmpdir(), "rollsafe-fuzz-"));
  const failures = [];
  const stats = { inProcess: 0, cli: 0, byMutator: {}, byLabel: {}, peakRssMb: 0, slowestMs: 0, slowest: "", oracle: o.python ?? "none" };

  const fail = (c, kind, problems, tree) => {
    const id = `${kind}-seed-${o.seed}-case-${c.index}${c.sweepOf ? `-${path.basename(c.sweepOf, ".py")}` : ""}`;
    const dir = path.join(o.failuresDir, id);
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    cpSync(tree, path.join(dir, "tree"), { recursive: true });
    const rerun = kind === "cli" ? `--cli-case ${c.index}` : c.sweepOf ? `--sweep ${c.sweepOf}` : `--case ${c.index}`;
    writeFileSync(
      path.join(dir, "REPRODUCE.txt"),
      [
        `mutator: ${c.mutator}`,
        `seed file: ${c.seedFile}`,
        `label: ${c.label}`,
        `note: ${c.note}`,
        "",
        "problems:",
        ...problems.map((p) => `- ${p}`),
        "",
        `cd ${path.join(dir, "tree")} && node ${path.join(o.repo, "bin/rollsafe.cjs")} check . --format json`,
        `npm run fuzz -- --seed ${o.seed} ${rerun}`,
        "",
      ].join("\n"),
    );
    failures.push({ kind, index: c.index, mutator: c.mutator, note: c.note, problems, reproducer: dir });
    log(`FAIL ${kind} case ${c.index} (${c.mutator}: ${c.note.slice(0, 80)}): ${problems[0]?.split("\n")[0]}\n  reproducer: ${dir}`);
  };

  const count = (c) => {
    stats.byMutator[c.mutator] = (stats.byMutator[c.mutator] ?? 0) + 1;
    stats.byLabel[c.label] = (stats.byLabel[c.label] ?? 0) + 1;
  };

  // ---- in-process cases
  const pool = Array.from({ length: workers }, () => new LintWorker(distIndex, Math.max(512, maxRssMb)));
  const queue = [];
  const forced = o.forced ? { forced: o.forced } : {};
  if (o.only) for (const i of o.only) queue.push(() => generateCase(seeds, o.seed, i, forced));
  else for (let i = 0; i < o.cases; i++) queue.push(() => generateCase(seeds, o.seed, i, forced));
  for (const rel of o.sweep ?? []) {
    const seed = seeds.find((s) => s.rel === rel);
    if (!seed) throw new Error(`--sweep: no seed file ${rel}`);
    for (const c of sweepCases(seed)) queue.push(() => ({ ...c, sweepOf: rel }));
  }
  const total = queue.length;
  let nextCase = 0;
  let done = 0;
  const runInProcess = async (worker) => {
    while (nextCase < queue.length) {
      const c = queue[nextCase]();
      queue[nextCase++] = null;
      count(c);
      const root = mkdtempSync(path.join(scratch, "c"));
      const { target, display } = writeCaseTree(path.join(root, "tree"), c, c.bytes);
      let originalRoot = null;
      if (c.label === "same-as-seed") {
        originalRoot = path.join(root, "original");
        writeCaseTree(originalRoot, c, c.original);
      }
      const cpython = oracle && c.label === "any" ? await oracle.ask(target) : null;
      const formats = c.index % 10 === 0 ? ["json", "text", "github", "sarif", "junit", "gitlab", "markdown"] : ["json"];
      const timeout = c.bytes.length > 1_000_000 ? caseTimeoutMs * 3 : caseTimeoutMs;
      const answer = await worker.run({ id: c.index, root: path.join(root, "tree"), originalRoot, formats }, timeout);
      const problems = [];
      if (!answer.ok) problems.push(answer.error);
      else {
        const { outcome, original } = answer;
        problems.push(...checkDiagnosticShape(outcome.diagnostics));
        problems.push(...checkVerdict(c, display, outcome.diagnostics, cpython, original?.diagnostics));
        for (const [format, r] of Object.entries(outcome.renders)) {
          if (!r.ok) problems.push(`render ${format} threw: ${r.error}`);
          else problems.push(...checkRendered(format, r.text, outcome.diagnostics.length));
        }
        if (answer.ms > stats.slowestMs) {
          stats.slowestMs = Math.round(answer.ms);
          stats.slowest = `${c.mutator} (${c.note.slice(0, 60)})`;
        }
      }
      if (answer.rss) stats.peakRssMb = Math.max(stats.peakRssMb, Math.round(answer.rss / 1048576));
      if (answer.rss && answer.rss / 1048576 > maxRssMb) problems.push(`resident memory ${Math.round(answer.rss / 1048576)} MiB over the ${maxRssMb} MiB bound`);
      if (problems.length > 0) fail(c, "inproc", problems, path.join(root, "tree"));
      rmSync(root, { recursive: true, force: true });
      stats.inProcess++;
      if (++done % 500 === 0) log(`  ${done}/${total} in-process cases, ${failures.length} failures, peak RSS ${stats.peakRssMb} MiB`);
    }
  };
  try {
    await Promise.all(pool.map((w) => runInProcess(w)));
  } finally {
    for (const w of pool) w.stop();
  }

  // ---- real CLI cases
  const cliFormats = ["json", "text", "github", "sarif", "junit"];
  const timeBin = existsSync("/usr/bin/time") ? "/usr/bin/time" : null;
  const cliSeed = (o.seed ^ 0x5eed) >>> 0;
  let nextCli = 0;
  const cliIndices = o.onlyCli ?? Array.from({ length: o.cliCases ?? 0 }, (_, i) => i);
  const runCliCases = async () => {
    while (nextCli < cliIndices.length) {
      const index = cliIndices[nextCli++];
      const c = generateCase(seeds, cliSeed, index, forced);
      count(c);
      const root = mkdtempSync(path.join(scratch, "cli"));
      const tree = path.join(root, "tree");
      const { target, display } = writeCaseTree(tree, c, c.bytes);
      const format = cliFormats[index % cliFormats.length];
      const cpython = oracle && c.label === "any" && format === "json" ? await oracle.ask(target) : null;
      const run = await spawnCli(o.repo, tree, ["check", ".", "--format", format], timeBin ? path.join(root, "rss") : null, caseTimeoutMs * (c.bytes.length > 1_000_000 ? 3 : 1));
      const problems = checkCliRun(run);
      if (!run.timedOut) {
        if (run.code === 0 || run.code === 1) problems.push(...checkRendered(format, run.stdout, format === "json" || format === "sarif" ? safeCount(run.stdout, format) : (run.stdout.match(/^::/gm) ?? []).length));
        if (format === "json") {
          try {
            const doc = JSON.parse(run.stdout);
            problems.push(...checkDiagnosticShape(doc.diagnostics));
            problems.push(...checkVerdict(c, display, doc.diagnostics, cpython, null));
            const errors = doc.diagnostics.filter((d) => d.severity === "error").length;
            if ((errors > 0 ? 1 : 0) !== run.code) problems.push(`exit code ${run.code} with ${errors} errors`);
          } catch {
            // checkRendered already reported invalid JSON.
          }
        }
        if (format === "text" && /\u001b/.test(run.stdout)) problems.push("text output without a TTY contains an escape character");
      }
      if (run.maxRssKb !== null) {
        stats.peakRssMb = Math.max(stats.peakRssMb, Math.round(run.maxRssKb / 1024));
        if (run.maxRssKb / 1024 > maxRssMb) problems.push(`CLI resident memory ${Math.round(run.maxRssKb / 1024)} MiB over the ${maxRssMb} MiB bound`);
      }
      if (problems.length > 0) fail(c, "cli", problems, tree);
      rmSync(root, { recursive: true, force: true });
      stats.cli++;
    }
  };
  await Promise.all(Array.from({ length: workers }, () => runCliCases()));
  oracle?.close();
  rmSync(scratch, { recursive: true, force: true });
  return { failures, stats };
}

function safeCount(stdout, format) {
  try {
    const doc = JSON.parse(stdout);
    return format === "json" ? doc.diagnostics.length : doc.runs[0].results.length;
  } catch {
    return -1;
  }
}

/** Spawns the real CLI in `cwd`; with `rssFile`, under /usr/bin/time to measure its peak memory. */
function spawnCli(repo, cwd, args, rssFile, timeoutMs) {
  const bin = path.join(repo, "bin/rollsafe.cjs");
  const [cmd, argv] = rssFile ? ["/usr/bin/time", ["-f", "%M", "-o", rssFile, process.execPath, bin, ...args]] : [process.execPath, [bin, ...args]];
  const env = { ...process.env, NO_COLOR: "1" };
  delete env.FORCE_COLOR;
  delete env.GITHUB_ACTIONS;
  return new Promise((resolve) => {
    const child = spawn(cmd, argv, { cwd, env, stdio: ["ignore", "pipe", "pipe"] });
    const out = [];
    const err = [];
    child.stdout.on("data", (b) => out.push(b));
    child.stderr.on("data", (b) => err.push(b));
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill("SIGKILL");
    }, timeoutMs);
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      let maxRssKb = null;
      if (rssFile && existsSync(rssFile)) {
        const text = readFileSync(rssFile, "utf8");
        const kb = Number(text.trim().split("\n").pop());
        if (Number.isFinite(kb)) maxRssKb = kb;
        if (/terminated by signal/.test(text) && !signal) signal = text.match(/signal (\d+)/)?.[0] ?? "a signal";
      }
      resolve({
        code: code ?? -1,
        signal,
        timedOut,
        stdout: Buffer.concat(out).toString("utf8"),
        stderr: Buffer.concat(err).toString("utf8"),
        maxRssKb,
      });
    });
  });
}
