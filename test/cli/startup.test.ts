/**
 * What the bundled CLI loads before it knows whether to analyse: a run the result cache answers,
 * `--version` and `--help` need the settings, the walk and the cache, never the engine, the
 * rules, the parser or the SQL parser (which were two thirds of the bundle's start-up).
 */
import { spawnSync } from "node:child_process";
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { describe, expect, it } from "vitest";
import { BIN, REPO, runCli } from "../support/run-cli.js";

const BUNDLE = path.join(REPO, "dist/bundle");

/** The modules an ES module file loads before it runs: its static imports, transitively. */
function staticClosure(entry: string): Map<string, string> {
  const loaded = new Map<string, string>();
  const visit = (file: string) => {
    if (loaded.has(file)) return;
    const text = readFileSync(file, "utf8");
    loaded.set(file, text);
    // `import {...} from "./x.js"` and `import "./x.js"`, not `import("./x.js")`.
    for (const [, specifier] of text.matchAll(/^\s*import\s+(?:[^"'();]*?\s+from\s+)?["']([^"']+)["'];?$/gm)) {
      if (specifier?.startsWith("./")) visit(path.join(path.dirname(file), specifier));
      else if (specifier) loaded.set(specifier, "");
    }
  };
  visit(entry);
  return loaded;
}

/** Script text that loads dist/bundle/cli.cjs as the launcher does (without its code cache), as `m.exports`. */
const LOAD_CLI_CJS = `const { Script } = require("node:vm"); const Module = require("node:module"); const f = ${JSON.stringify(path.join(BUNDLE, "cli.cjs"))};
  const m = { exports: {} }; new Script(Module.wrap(require("node:fs").readFileSync(f, "utf8")), { filename: f }).runInThisContext()(m.exports, Module.createRequire(f), m, f, require("node:path").dirname(f));`;

/** Runs `body` in a new temporary directory, removed afterwards. */
function inTempDir(prefix: string, body: (dir: string) => void): void {
  const dir = mkdtempSync(path.join(tmpdir(), prefix));
  try {
    body(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A generated project of 120 migrations in two apps (`bench/generate-corpus.mjs`), as `dir`/big. */
function generatedProject(dir: string): string {
  const big = path.join(dir, "big");
  expect(spawnSync(process.execPath, [path.join(REPO, "bench/generate-corpus.mjs"), "--out", big, "--apps", "2", "--migrations", "60", "--seed", "3"]).status).toBe(0);
  return big;
}

describe("start-up of the bundled CLI", () => {
  it("is built (npm ci and npm test build it)", () => {
    expect(existsSync(path.join(BUNDLE, "cli.js"))).toBe(true);
  });

  it("loads the settings, the walk and the result cache, and no engine, rule, parser or SQL parser", () => {
    const closure = staticClosure(path.join(BUNDLE, "cli.js"));
    const text = [...closure.values()].join("\n");
    // What a warm run needs is there...
    expect(text).toMatch(/\bfunction discover\(/);
    expect(text).toMatch(/\bfunction resolveRun\(/);
    expect(text).toMatch(/\bvar ResultCache = class\b|\bclass ResultCache\b/);
    // ...and what only an analysis needs is not.
    expect(text).not.toMatch(/\bfunction analyze\(/);
    expect(text).not.toMatch(/\bvar droppingColumn = /);
    expect(text).not.toMatch(/\bfunction parseMigrationSource\(|\bfunction lightTree\(/);
    for (const native of ["tree-sitter", "tree-sitter-python", "libpg-query"]) expect(closure.has(native), native).toBe(false);
    // The engine is one dynamic import away.
    expect(text).toMatch(/import\("\.\/lint-[\w-]+\.js"\)/);
    // Under half of the bundle's code (it was all of it).
    const bundleBytes = readdirSync(BUNDLE)
      .filter((f) => f.endsWith(".js"))
      .reduce((sum, f) => sum + readFileSync(path.join(BUNDLE, f), "utf8").length, 0);
    expect(text.length / bundleBytes).toBeLessThan(0.5);
  });
});

describe("start-up of a check the result cache answers", () => {
  it("is a CommonJS entry and bundle with the settings, the walk and the cache, and nothing else", () => {
    const pkg = JSON.parse(readFileSync(path.join(REPO, "package.json"), "utf8")) as { bin: Record<string, string> };
    expect(pkg.bin.rollsafe).toBe("bin/rollsafe.cjs");
    const text = readFileSync(path.join(BUNDLE, "warm.cjs"), "utf8");
    expect(text).toMatch(/\bmodule\.exports\b/);
    expect(text).toMatch(/\bfunction cachedCheck\(/);
    expect(text).toMatch(/\bfunction discover\(/);
    // No commander (it loads child_process), engine, rules, reporters, parser or SQL parser.
    expect(text).not.toMatch(/require\("(node:)?child_process"\)|require\("commander"\)|\bclass CommanderError\b/);
    expect(text).not.toMatch(/\bfunction analyze\(|\bvar droppingColumn = |\bfunction renderTextChunks\(/);
    for (const native of ["tree-sitter", "tree-sitter-python", "libpg-query"]) expect(text).not.toContain(`require("${native}")`);
  });
});

describe("V8's code cache of the CommonJS bundles", () => {
  it.each(["warm.cjs", "cli.cjs"])("%s: made by the build, after the bundle, and this node accepts it", async (name) => {
    const bundle = path.join(BUNDLE, name);
    const cache = `${bundle}.v8`;
    expect(statSync(cache).mtimeMs).toBeGreaterThanOrEqual(statSync(bundle).mtimeMs);
    const { Script } = await import("node:vm");
    const Module = (await import("node:module")).default;
    // The same wrapper the launcher compiles (bin/rollsafe.cjs); a refused cache would only cost time.
    const script = new Script(Module.wrap(readFileSync(bundle, "utf8")), { filename: bundle, cachedData: readFileSync(cache) });
    expect(script.cachedDataRejected).toBe(false);
  });

  it("parse-worker.cjs: made by the build, after the bundle, and accepted with the flags a worker starts with", () => {
    const bundle = path.join(BUNDLE, "parse-worker.cjs");
    expect(statSync(`${bundle}.v8`).mtimeMs).toBeGreaterThanOrEqual(statSync(bundle).mtimeMs);
    // A worker starts after the CLI's main() has turned WebAssembly tier-up off (src/util/wasm-tiering.ts),
    // and V8 checks a cache against the process's flags: the cache is made with them, and refused without.
    const probe = (flags: string[]) =>
      spawnSync(
        process.execPath,
        [
          "-e",
          `for (const f of ${JSON.stringify(flags)}) require("node:v8").setFlagsFromString(f);
           const { Script } = require("node:vm"); const Module = require("node:module"); const fs = require("node:fs"); const f = ${JSON.stringify(bundle)};
           process.stdout.write(String(new Script(Module.wrap(fs.readFileSync(f, "utf8")), { filename: f, cachedData: fs.readFileSync(f + ".v8") }).cachedDataRejected));`,
        ],
        { encoding: "utf8" },
      ).stdout;
    expect(probe(["--no-wasm-tier-up", "--no-wasm-dynamic-tiering"])).toBe("false");
    expect(probe([])).toBe("true");
  });

  it("starts its parse workers from parse-worker.cjs, and their report is the one a single thread makes", () => {
    inTempDir("rollsafe-worker-bundle-", (dir) => {
      writeFileSync(path.join(dir, "manage.py"), "");
      for (let a = 0; a < 5; a++) {
        const migrations = path.join(dir, `app${a}`, "migrations");
        mkdirSync(migrations, { recursive: true });
        writeFileSync(path.join(dir, `app${a}`, "__init__.py"), "");
        writeFileSync(path.join(migrations, "__init__.py"), "");
        for (let i = 1; i <= 50; i++) {
          const previous = i === 1 ? "" : `("app${a}", "${String(i - 1).padStart(4, "0")}_step")`;
          const operation = i === 1 ? `migrations.CreateModel(name="Thing", fields=[("id", models.AutoField(primary_key=True))])` : `migrations.AddField(model_name="thing", name="f${i}", field=models.IntegerField())`;
          writeFileSync(path.join(migrations, `${String(i).padStart(4, "0")}_step.py`), `from django.db import migrations, models\n\n\nclass Migration(migrations.Migration):\n    dependencies = [${previous}]\n    operations = [${operation}]\n`);
        }
      }
      // Records, on the main thread, what each worker was started from.
      const probe = path.join(dir, "probe.cjs");
      const log = path.join(dir, "workers.log");
      writeFileSync(
        probe,
        `const threads = require("node:worker_threads");
         if (threads.isMainThread) {
           const Original = threads.Worker;
           threads.Worker = class extends Original {
             constructor(what, options) {
               require("node:fs").appendFileSync(${JSON.stringify(log)}, (options?.eval ? "eval " + options.workerData.bundle : String(what)) + "\\n");
               super(what, options);
             }
           };
         }\n`,
      );
      const args = ["check", ".", "--no-config", "--no-cache", "--format", "json", "--timings"];
      const alone = runCli([...args, "--jobs", "1"], { cwd: dir });
      // With four threads, workers parse from 200 files.
      const shared = runCli([...args, "--jobs", "4"], { cwd: dir, env: { NODE_OPTIONS: `--require ${probe}` } });
      expect(shared.stderr).toMatch(/read and parse .*\(250 files, 250 parsed on [2-4] threads\)/);
      const started = readFileSync(log, "utf8").trim().split("\n");
      expect(started.length).toBeGreaterThan(0);
      for (const line of started) expect(line).toBe(`eval ${path.join(BUNDLE, "parse-worker.cjs")}`);
      expect(shared.stdout).toBe(alone.stdout);
      expect(JSON.parse(shared.stdout).diagnostics.length).toBeGreaterThan(100);
    });
  });

  it.each(["warm.cjs", "cli.cjs", "parse-worker.cjs"])("%s is ASCII, so node reads it as one byte per character on the fast path", (name) => {
    // esbuild escapes non-ASCII characters in strings but not in regular expressions; one such
    // character made the 1.2 MB CLI a two-byte string that took 9 ms to decode on every run.
    const bytes = readFileSync(path.join(BUNDLE, name));
    const at = bytes.findIndex((b) => b >= 0x80);
    expect(at, at >= 0 ? bytes.subarray(Math.max(0, at - 80), at + 20).toString("utf8") : "").toBe(-1);
  });
});

describe("the commands that analyse, from one CommonJS bundle of the whole CLI", () => {
  it("is the launcher's choice for check, state and plan only, and is at least as new as the ES module bundle", () => {
    const launcher = readFileSync(path.join(REPO, "bin/rollsafe.cjs"), "utf8");
    expect(launcher).toMatch(/const ANALYSES = new Set\(\["check", "state", "plan"\]\)/);
    expect(statSync(path.join(BUNDLE, "cli.cjs")).mtimeMs).toBeGreaterThanOrEqual(statSync(path.join(BUNDLE, "cli.js")).mtimeMs);
    const text = readFileSync(path.join(BUNDLE, "cli.cjs"), "utf8");
    expect(text).toMatch(/\bfunction analyze\(/);
    expect(text).toMatch(/\bfunction main\(/);
  });

  it("writes what the ES module bundle writes, with the PostgreSQL parser and the files found from its own module", () => {
    const run = (how: string, project: string, format: string) => {
      const load = how === "cjs" ? `${LOAD_CLI_CJS} Promise.resolve(m.exports)` : `import(${JSON.stringify(pathToFileURL(path.join(BUNDLE, "cli.js")).href)})`;
      const argv = JSON.stringify(["node", "rollsafe", "check", ".", "--no-config", "--no-cache", "--format", format]);
      const result = spawnSync(process.execPath, ["-e", `${load}.then((cli) => cli.main(${argv}, null)).then((code) => { process.exitCode = code; })`], {
        cwd: path.join(REPO, project),
        encoding: "utf8",
        env: { ...process.env, NO_COLOR: "1", GITHUB_ACTIONS: "" },
      });
      expect(result.stderr).toBe("");
      return { code: result.status, stdout: result.stdout };
    };
    // SARIF reads rollsafe's version from the package beside its module; a RunSQL needs libpg-query.
    for (const [project, format] of [
      ["fixtures/example-project", "sarif"],
      ["fixtures/rules/runsql-renaming-table/bad/rename-and-set-schema", "json"],
    ] as const) {
      const esm = run("esm", project, format);
      expect(esm.stdout.length).toBeGreaterThan(1000);
      expect(run("cjs", project, format)).toEqual(esm);
      if (format === "json") {
        expect(esm.stdout).toContain('"rule": "runsql-renaming-table"');
        expect(esm.stdout).not.toContain("runsql-unparsable");
      }
    }
  });
});

describe("node's modules a run loads", () => {
  it("leaves out node:child_process (and node:dgram behind it) unless git runs for --base", () => {
    const loaded = (args: string[]) => {
      const script = `${LOAD_CLI_CJS}
        m.exports.main(${JSON.stringify(["node", "rollsafe", ...args])}, null).then((code) => { process.stderr.write(JSON.stringify({ code, modules: process.moduleLoadList })); });`;
      const result = spawnSync(process.execPath, ["-e", script], { cwd: REPO, encoding: "utf8", env: { ...process.env, NO_COLOR: "1", GITHUB_ACTIONS: "" } });
      return JSON.parse(result.stderr.slice(result.stderr.indexOf('{"code"'))) as { code: number; modules: string[] };
    };
    // node:net is left out of this test: writing to a pipe (stdout here) loads it.
    const builtins = (modules: string[]) => modules.filter((m) => /^NativeModule (child_process|dgram)$/.test(m));
    const plain = loaded(["check", "fixtures/example-project", "--no-config", "--no-cache", "--format", "json"]);
    expect(plain.code).toBe(1);
    expect(builtins(plain.modules)).toEqual([]);
    // --help goes through commander, which requires node:child_process for executable subcommands.
    expect(builtins(loaded(["--help"]).modules)).toEqual([]);
    const changed = loaded(["check", "fixtures/example-project", "--no-config", "--no-cache", "--format", "json", "--base", "HEAD"]);
    expect(changed.code).toBe(0);
    expect(builtins(changed.modules)).toContain("NativeModule child_process");
  });
});

describe("stdout of a run the result cache answers", () => {
  // Making node's stream for stdout loads node:net (a pipe) or node:tty (a terminal): 3-5 ms of
  // a warm run. The stored report is copied with fs.writeSync to a pipe, a file or the null device.
  it("is written without node's stream to a pipe, a file or the null device, and is the same report", () => {
    inTempDir("rollsafe-stdout-", (dir) => {
      const probe = path.join(dir, "probe.cjs");
      const loaded = path.join(dir, "loaded.json");
      writeFileSync(
        probe,
        `process.on("exit", () => require("node:fs").writeFileSync(${JSON.stringify(loaded)}, JSON.stringify(process.moduleLoadList.filter((m) => /^NativeModule (net|tty|stream)$/.test(m)))));\n`,
      );
      const project = path.join(REPO, "fixtures/example-project");
      const args = ["check", ".", "--no-config", "--cache-dir", path.join(dir, "cache")];
      const reference = runCli([...args.slice(0, 3), "--no-cache"], { cwd: project });
      expect(reference.code).toBe(1);
      expect(reference.stdout).toContain("dropping-column");
      // Fill the cache (a run within two seconds of a change is not stored: none here).
      expect(runCli(args, { cwd: project }).code).toBe(1);
      const env = { ...process.env, NODE_OPTIONS: `--require ${probe}`, NO_COLOR: "1", GITHUB_ACTIONS: "" };
      const piped = spawnSync(process.execPath, [BIN, ...args], { cwd: project, encoding: "utf8", env });
      expect(piped.status).toBe(1);
      expect(piped.stdout).toBe(reference.stdout);
      expect(JSON.parse(readFileSync(loaded, "utf8"))).toEqual([]);
      const file = path.join(dir, "report.txt");
      const fd = openSync(file, "w");
      const toFile = spawnSync(process.execPath, [BIN, ...args], { cwd: project, env, stdio: ["ignore", fd, "pipe"] });
      closeSync(fd);
      expect(toFile.status).toBe(1);
      expect(readFileSync(file, "utf8")).toBe(reference.stdout);
      expect(JSON.parse(readFileSync(loaded, "utf8"))).toEqual([]);
      const ignored = spawnSync(process.execPath, [BIN, ...args], { cwd: project, env, stdio: ["ignore", "ignore", "pipe"] });
      expect(ignored.status).toBe(1);
      expect(JSON.parse(readFileSync(loaded, "utf8"))).toEqual([]);
    });
  });

  it("falls back to node's stream when a non-blocking pipe is full, and loses nothing", () => {
    const python = ["/usr/bin/python3", "python3"].find((p) => spawnSync(p, ["-c", ""]).status === 0);
    if (!python) throw new Error("this test needs python3 (to hand rollsafe a non-blocking pipe)");
    inTempDir("rollsafe-nonblocking-", (dir) => {
      const big = generatedProject(dir);
      const args = ["check", ".", "--no-config", "--format", "sarif", "--cache-dir", path.join(dir, "cache")];
      const whole = runCli(args, { cwd: big });
      expect(whole.code).toBe(1);
      expect(whole.stdout.length).toBeGreaterThan(1 << 19); // far more than a pipe holds (64 KB)
      // Python makes its stdout (the pipe to the slow reader) non-blocking and becomes rollsafe.
      const exec = `import os, sys; os.set_blocking(1, False); os.execv(sys.argv[1], sys.argv[1:])`;
      const command = [python, "-c", exec, process.execPath, BIN, ...args].map((a) => `'${a.replace(/'/g, "'\\''")}'`).join(" ");
      const slow = spawnSync("sh", ["-c", `${command}; echo "status $?" >&2) | (sleep 0.5; cat)`.replace(/^/, "(")], {
        cwd: big,
        encoding: "utf8",
        timeout: 30000,
        maxBuffer: 64 * 1024 * 1024,
        env: { ...process.env, NO_COLOR: "1", GITHUB_ACTIONS: "" },
    });
    expect(slow.stderr).toBe("status 1\n");
    expect(slow.stdout.length).toBe(whole.stdout.length);
    expect(slow.stdout === whole.stdout).toBe(true);
    });
  });
});

describe("an exception nothing catches", () => {
  it("is one line and exit 2, not node's stack trace and exit 1 (which reads as findings)", () => {
    inTempDir("rollsafe-uncaught-", (dir) => {
      // Thrown from an event handler (a turn of the loop the parse takes every 50 files).
      const boom = path.join(dir, "boom.cjs");
      writeFileSync(boom, 'if (require("node:worker_threads").isMainThread) setImmediate(() => { throw new Error("boom from an event handler\\nsecond line"); });\n');
      const big = generatedProject(dir);
      const run = runCli(["check", ".", "--no-config", "--no-cache", "--jobs", "1"], { cwd: big, env: { NODE_OPTIONS: `--require ${boom}` } });
      expect(run.stderr).toBe("rollsafe: internal error: boom from an event handler\n");
      expect(run.code).toBe(2);
    });
  });
});

describe("the launcher's exit", () => {
  // A ref'd timer that something in the process left behind (a preloaded module here; V8's
  // scheduled marking in a real run) must not hold the exit once the run's output is written.
  it("exits with the run's code once the run is over, without waiting for the event loop, and loses no output", () => {
    const dir = mkdtempSync(path.join(tmpdir(), "rollsafe-exit-"));
    try {
      const hold = path.join(dir, "hold.cjs");
      writeFileSync(hold, 'setTimeout(() => process.stderr.write("held\\n"), 20000);\n');
      // runCli's time limit (60 s) outlasts the timer: a run that waits for it prints "held".
      const held = { NODE_OPTIONS: `--require ${hold}`, ROLLSAFE_CACHE_DIR: path.join(dir, "cache") };
      const project = path.join(REPO, "fixtures/example-project");
      const reference = runCli(["check", ".", "--no-config", "--no-cache", "--format", "sarif"], { cwd: project });
      expect(reference.code).toBe(1);
      // Cold, then answered by the result cache (warm.cjs), then a usage error.
      for (const args of [["check", ".", "--no-config", "--format", "sarif"], ["check", ".", "--no-config", "--format", "sarif"]]) {
        const result = runCli(args, { cwd: project, env: held });
        expect(result.stderr).not.toContain("held");
        expect(result.code).toBe(1);
        expect(result.stdout).toBe(reference.stdout);
      }
      // A report of over 512 KB into a pipe read slowly: the exit waits until all of it has left.
      const big = generatedProject(dir);
      const whole = runCli(["check", ".", "--no-config", "--no-cache", "--format", "sarif"], { cwd: big });
      expect(whole.stdout.length).toBeGreaterThan(1 << 19); // far more than a pipe holds (64 KB)
      // Analysed (cold), then the stored report copied by the cached check (warm), each twice.
      const cacheDir = path.join(dir, "big-cache");
      for (const cache of ["--no-cache", `--cache-dir=${cacheDir}`, `--cache-dir=${cacheDir}`, "--no-cache"]) {
        const slow = spawnSync("sh", ["-c", `"${process.execPath}" "${BIN}" check . --no-config ${cache} --format sarif | (sleep 0.5; cat)`], {
          cwd: big,
          encoding: "utf8",
          timeout: 15000,
          maxBuffer: 64 * 1024 * 1024,
          env: { ...process.env, NODE_OPTIONS: `--require ${hold}`, NO_COLOR: "1", GITHUB_ACTIONS: "" },
        });
        expect(slow.signal).toBeNull();
        expect(slow.stderr).not.toContain("held");
        expect(slow.stdout.length).toBe(whole.stdout.length);
        expect(slow.stdout === whole.stdout, cache).toBe(true);
      }
      const usage = runCli(["check", "--format", "nope"], { cwd: project, env: held });
      expect(usage.stderr).not.toContain("held");
      expect(usage.code).toBe(2);
      expect(usage.stderr).toContain("unknown --format");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
