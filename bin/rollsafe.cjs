#!/usr/bin/env node
// Thin launcher: the compiled CLI lives in dist/ (built by `npm ci` through the `postinstall`
// script). dist/bundle/ (esbuild) starts faster; it is used only while it is at least as new as
// dist/src/cli.js, so a build with a bare `tsc` never runs a stale bundle.
//
// CommonJS on purpose: node starts a CommonJS entry faster than an ES module one, and node 20
// offers V8's code cache for scripts only. A `check` that the result cache answers (an unchanged
// tree) is served from dist/bundle/warm.cjs alone. A command that analyses (check, state, plan)
// runs the whole CLI from dist/bundle/cli.cjs with its code cache, and a check the result cache
// could not answer hands it what it worked out; the other commands load the ES module bundle,
// whose lazy chunks start them sooner than one file of the whole CLI.
"use strict";
const { isAscii } = require("node:buffer");
const { readFileSync, statSync } = require("node:fs");
const path = require("node:path");
const { pathToFileURL } = require("node:url");

const fail = (error) => {
  const message = error instanceof Error ? error.message.split("\n")[0] : String(error);
  process.stderr.write(`rollsafe: internal error: ${message}\n`);
  process.exitCode = 2;
};

const file = (relative) => path.resolve(__dirname, relative);
const mtime = (relative) => statSync(file(relative), { throwIfNoEntry: false })?.mtimeMs ?? null;
const bundled = mtime("../dist/bundle/cli.js");
const compiled = mtime("../dist/src/cli.js");
const useBundle = bundled !== null && (compiled === null || bundled >= compiled);
const entry = useBundle ? "../dist/bundle/cli.js" : "../dist/src/cli.js";
const ANALYSES = new Set(["check", "state", "plan"]);
// Without its code cache (a build that could not run the example project) the one-file CLI
// compiles slower than the ES module bundle's lazy chunks: it is taken only with it.
const analysisBundle =
  useBundle && ANALYSES.has(process.argv[2]) && (mtime("../dist/bundle/cli.cjs") ?? -Infinity) >= bundled && (mtime("../dist/bundle/cli.cjs.v8") ?? -Infinity) >= mtime("../dist/bundle/cli.cjs")
    ? "../dist/bundle/cli.cjs"
    : null;

/**
 * Loads a CommonJS bundle (warm.cjs, cli.cjs) as `require` would, with V8's code cache that the
 * build made (`<bundle>.v8`) when it is at least as new as the bundle. V8 itself refuses a cache
 * of another V8 or other flags.
 */
function loadBundle(bundle) {
  const { Script } = require("node:vm");
  const Module = require("node:module");
  const made = mtime(`${bundle}.v8`);
  let cachedData;
  if (made !== null && made >= mtime(bundle)) {
    try {
      cachedData = readFileSync(`${bundle}.v8`);
    } catch {
      // Compiled as usual.
    }
  }
  // The bundles are ASCII (test/cli/startup.test.ts): read as Latin-1, the same text is made
  // without UTF-8's decoding (4 ms of the 1.2 MB CLI on a fresh process).
  const bytes = readFileSync(bundle);
  const source = isAscii(bytes) ? bytes.latin1Slice(0, bytes.length) : bytes.toString("utf8");
  const script = new Script(Module.wrap(source), { filename: bundle, cachedData });
  const module = { exports: {} };
  script.runInThisContext()(module.exports, Module.createRequire(bundle), module, bundle, path.dirname(bundle));
  return module.exports;
}

async function start() {
  let prepared = null;
  if (useBundle && process.argv[2] === "check" && !process.argv.includes("--no-cache") && mtime("../dist/bundle/warm.cjs") !== null) {
    const outcome = await loadBundle(file("../dist/bundle/warm.cjs")).cachedCheck(process.argv);
    if (typeof outcome === "number") return outcome;
    prepared = outcome;
  }
  let cli;
  try {
    cli = analysisBundle ? loadBundle(file(analysisBundle)) : await import(pathToFileURL(file(entry)).href);
  } catch (error) {
    if (error && error.code === "ERR_MODULE_NOT_FOUND" && String(error.message).includes("dist/src/cli.js")) {
      process.stderr.write("rollsafe: not built yet: run `npm ci` (or `npm run build`) first\n");
      return 2;
    }
    throw error;
  }
  return cli.main(process.argv, prepared);
}

/**
 * Exits as soon as the run is over. Left to itself, node first runs the tasks V8 scheduled on the
 * way: a run that analyses ends with an incremental marking of the old generation to finish,
 * 15-40 ms of a run that is about to free everything. Every write the run makes is awaited
 * before `main` returns except those to stdout and stderr, which a pipe may still hold (a reader
 * slower than the report, a pipe on macOS): the exit then waits until they have left. Only the
 * streams the run made are asked (asking for one makes it, and a warm run to a file never does).
 */
const streams = new Set();
const watchedAll = ["stdout", "stderr"].every((name) => {
  const described = Object.getOwnPropertyDescriptor(process, name);
  if (!described || typeof described.get !== "function" || !described.configurable) return false;
  Object.defineProperty(process, name, {
    ...described,
    get() {
      const stream = described.get.call(process);
      streams.add(stream);
      return stream;
    },
  });
  return true;
});

function exitPromptly(code) {
  process.exitCode = code;
  if (!watchedAll) return;
  const pending = [...streams].filter((stream) => stream.writableLength > 0);
  if (pending.length === 0) return process.exit(code);
  // An empty write's callback comes once everything written before it has left.
  let left = pending.length;
  for (const stream of pending) stream.write("", () => --left === 0 && process.exit(code));
}

// An exception no code of the run catches (one thrown from an event handler) is the same one
// line as any other internal error, never node's stack trace.
process.on("uncaughtException", (error) => {
  fail(error);
  process.exit(2);
});

start().then(exitPromptly, fail);
