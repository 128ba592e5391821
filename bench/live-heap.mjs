#!/usr/bin/env node
/**
 * What a full analysis keeps on the JavaScript heap, which peak RSS hides under the garbage
 * collector's timing and the process's own memory (see docs/performance.md, session 25).
 *
 *   node --expose-gc bench/live-heap.mjs [--rules none] <cwd> <path>...
 *
 * Runs rollsafe's analysis through the library, as `check` runs it without the report (no cache,
 * the CLI's collections between phases), collects garbage while the analysis is still held, and
 * prints one JSON line in bytes: `live` (the heap the analysis keeps, less the heap before it),
 * `committed` (V8's heap), `external` (memory outside the heap that V8 is told of; the PostgreSQL
 * parser's WebAssembly memory counts there), `rss`. With `--rules none` no rule runs: the
 * parsed models and the replayed state alone; the difference is the findings and what the rules
 * keep.
 */
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

const args = process.argv.slice(2);
const noRules = args[0] === "--rules" && args[1] === "none";
const [cwd, ...paths] = noRules ? args.slice(2) : args;
if (typeof globalThis.gc !== "function" || !cwd || paths.length === 0) {
  process.stderr.write("usage: node --expose-gc bench/live-heap.mjs [--rules none] <cwd> <path>...\n");
  process.exit(2);
}

const collect = () => {
  globalThis.gc();
  globalThis.gc();
  return process.memoryUsage();
};

const { analyze } = await import(pathToFileURL(path.join(REPO, "dist/src/index.js")).href);
const before = collect().heapUsed;
const analysis = await analyze(paths, { cwd, collectGarbage: true, ...(noRules ? { rules: [] } : {}) });
const after = collect();
process.stdout.write(
  `${JSON.stringify({
    live: after.heapUsed - before,
    committed: after.heapTotal,
    external: after.external,
    rss: after.rss,
    findings: analysis.result.diagnostics.length,
  })}\n`,
);
