#!/usr/bin/env node
// Builds dist/ from the TypeScript sources after `npm install` / `npm ci` (the `postinstall`
// script). It is not a `prepare` script on purpose: `npm pack` runs `prepare` and prints its
// banner on stdout, and pre-commit (`language: node`) reads the tarball name from that stdout
// (pre-commit/pre-commit#3460), so a `prepare` script breaks the hook's installation.
// In an installed package (pre-commit's `npm install -g` of the packed tarball, or a registry
// install) TypeScript is absent and dist/ is already there: nothing to do.
//
// After tsc, esbuild bundles the CLI into dist/bundle/ (lazy modules such as the reporters stay
// separate chunks). Node then loads a few files instead of ~150 ES modules, which halves the
// start-up a pre-commit run pays on every commit. Three CommonJS bundles run with V8's code
// cache: warm.cjs holds only what a run the result cache answers needs, cli.cjs the whole CLI
// for the commands that analyse, parse-worker.cjs a parse worker. bin/rollsafe.cjs uses the
// bundle only while it is at least as new as dist/src/cli.js, so a bare `tsc` never runs stale
// code. Without esbuild (a production install) dist/src is used as it is.
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const built = existsSync(path.join(root, "dist/src/cli.js"));
let tsc;
try {
  tsc = createRequire(path.join(root, "package.json")).resolve("typescript/bin/tsc");
} catch {
  tsc = null;
}
if (!tsc || !existsSync(path.join(root, "tsconfig.json"))) {
  if (built) process.exit(0);
  process.stderr.write("rollsafe: cannot build dist/: TypeScript is not installed (install with dev dependencies: npm ci)\n");
  process.exit(1);
}
const result = spawnSync(process.execPath, [tsc, "-p", "tsconfig.json"], { cwd: root, stdio: ["ignore", "inherit", "inherit"] });
if (result.status !== 0) process.exit(result.status ?? 1);
process.exit(await bundle());

/**
 * commander requires node:child_process (which loads node:net and node:dgram) for subcommands
 * that run other executables, which rollsafe defines none of: 5-8 ms of every start-up. Its
 * require gets a module whose `spawn` loads the real one on first call.
 */
function lazyChildProcess() {
  return { name: "lazy-child-process", setup };
  function setup(build) {
    build.onResolve({ filter: /^(node:)?child_process$/ }, (args) =>
      args.namespace !== "lazy-child-process" && /[\\/]node_modules[\\/]commander[\\/]/.test(args.importer)
        ? { path: "child_process", namespace: "lazy-child-process" }
        : { path: "node:child_process", external: true },
    );
    build.onLoad({ filter: /.*/, namespace: "lazy-child-process" }, () => ({
      contents: 'let real; module.exports = { spawn: (...args) => (real ??= require("node:child_process")).spawn(...args) };',
      loader: "js",
    }));
  }
}

async function bundle() {
  let esbuild;
  try {
    esbuild = await import(createRequire(path.join(root, "package.json")).resolve("esbuild"));
  } catch {
    return 0;
  }
  const outdir = path.join(root, "dist/bundle");
  rmSync(outdir, { recursive: true, force: true });
  try {
    await esbuild.build({
      absWorkingDir: root,
      entryPoints: { cli: "dist/src/cli.js" },
      outdir,
      bundle: true,
      splitting: true,
      format: "esm",
      platform: "node",
      target: "node20",
      // Native and WebAssembly packages load their binaries relative to themselves.
      external: ["tree-sitter", "tree-sitter-python", "libpg-query"],
      // CommonJS dependencies (commander) call require(); give the ES module bundle one.
      banner: { js: 'import { createRequire as __rollsafeRequire } from "node:module"; const require = __rollsafeRequire(import.meta.url);' },
      plugins: [lazyChildProcess()],
      logLevel: "warning",
    });
    // Three CommonJS bundles compiled with V8's code cache (which node 20 offers for scripts, not
    // for ES modules): bin/rollsafe.cjs loads the cached check (src/cached-check.ts), which
    // answers an unchanged tree without loading the CLI, and the whole CLI in one file for the
    // commands that analyse (check, state, plan); the parse pool starts its workers from the
    // third (src/workers/parse-pool.ts). Their modules find the package from their own file, as
    // the ES module bundle's do.
    const commonJs = (entry, file) =>
      esbuild.build({
        absWorkingDir: root,
        entryPoints: [entry],
        outfile: path.join(outdir, file),
        bundle: true,
        format: "cjs",
        platform: "node",
        target: "node20",
        external: ["tree-sitter", "tree-sitter-python", "libpg-query"],
        define: { "import.meta.url": "__rollsafeModuleUrl" },
        banner: { js: 'const __rollsafeModuleUrl = require("node:url").pathToFileURL(__filename).href;' },
        plugins: [lazyChildProcess()],
        logLevel: "warning",
      });
    await commonJs("dist/src/cached-check.js", "warm.cjs");
    await commonJs("dist/src/cli.js", "cli.cjs");
    // The parse worker in one file too, which the parse pool starts with its code cache.
    await commonJs("dist/src/workers/parse-worker.js", "parse-worker.cjs");
    // The parser's part of the parse cache's key, worked out once here instead of by every run
    // (src/cache/cache-key.ts).
    const { MODULES_DIGEST_FILE, modulesDigest } = await import(pathToFileURL(path.join(root, "dist/src/cache/cache-key.js")).href);
    writeFileSync(path.join(outdir, MODULES_DIGEST_FILE), `${modulesDigest(outdir, { fresh: true })}\n`);
    // What each runs before its cache is taken: a check of the example project with an empty
    // cache directory (the cached check declines it) and one without a cache (a whole analysis).
    // warm.cjs: a check the result cache answers (the cache filled by the CLI first), then one
    // it declines (an empty cache directory), so that both paths are in its code cache.
    const cachedCheck = (fixture, cacheDir) => `cachedCheck(["node", "rollsafe", "check", ${JSON.stringify(fixture)}, "--no-config", "--cache-dir", ${JSON.stringify(cacheDir)}])`;
    writeCodeCache(path.join(outdir, "warm.cjs"), (fixture, cacheDir) => `${cachedCheck(fixture, cacheDir)}.then(() => module.exports.${cachedCheck(fixture, `${cacheDir}-empty`)})`, (fixture, cacheDir) =>
      spawnSync(process.execPath, [path.join(root, "bin/rollsafe.cjs"), "check", fixture, "--no-config", "--cache-dir", cacheDir], { cwd: path.dirname(cacheDir), stdio: "ignore", timeout: 60_000 }),
    );
    writeCodeCache(path.join(outdir, "cli.cjs"), (fixture) => `main(["node", "rollsafe", "check", ${JSON.stringify(fixture)}, "--no-config", "--no-cache"], null)`);
    // parse-worker.cjs: the example project's migrations parsed, as a worker parses a batch. A
    // worker starts with the flags the CLI's main() has set by then (WebAssembly tier-up off), so
    // its cache is made with them.
    const { discover } = await import(pathToFileURL(path.join(root, "dist/src/discover/find-apps.js")).href);
    const { files } = await discover([path.join(root, "fixtures/example-project")]);
    const tasks = files.map((ref, index) => ({ index, ref, bytes: null }));
    writeCodeCache(path.join(outdir, "parse-worker.cjs"), () => `parseBatch(${JSON.stringify(tasks)})`, () => {}, ["--no-wasm-tier-up", "--no-wasm-dynamic-tiering"]);
  } catch (error) {
    rmSync(outdir, { recursive: true, force: true });
    process.stderr.write(`rollsafe: bundling dist/ failed (${String(error?.message ?? error).split("\n")[0]}); dist/src is used unbundled\n`);
  }
  return 0;
}

/**
 * V8's code cache for a CommonJS bundle (`<bundle>.v8`), which bin/rollsafe.cjs (or the parse
 * pool) hands to V8 when it is at least as new as the bundle: a run then skips compiling the
 * functions it calls (warm.cjs: about 5 ms of a 150 ms run; cli.cjs: 30-40 ms of a cold run over
 * Debian's Django apps, 500 ms; parse-worker.cjs: a worker's first batch 20 ms sooner). The cache
 * is made after `call(fixture, cacheDir)`, an expression on the bundle's exports (a promise or a
 * value), has run over the example project (after `prepare(fixture, cacheDir)`), so it holds
 * those functions compiled, and with `flags` set: V8 refuses a cache made by another V8 or with
 * other flags, and the loader then compiles as usual. Best effort: no cache, no harm.
 */
function writeCodeCache(bundle, call, prepare = () => {}, flags = ["--wasm-tier-up", "--wasm-dynamic-tiering"]) {
  const fixture = path.join(root, "fixtures/example-project");
  if (!existsSync(fixture)) return;
  const scratch = mkdtempSync(path.join(os.tmpdir(), "rollsafe-code-cache-"));
  prepare(fixture, path.join(scratch, "cache"));
  const make = `
    const { Script } = require("node:vm");
    const Module = require("node:module");
    const fs = require("node:fs");
    const path = require("node:path");
    const file = process.argv[1];
    const script = new Script(Module.wrap(fs.readFileSync(file, "utf8")), { filename: file });
    const module = { exports: {} };
    script.runInThisContext()(module.exports, Module.createRequire(file), module, file, path.dirname(file));
    Promise.resolve(module.exports.${call(fixture, path.join(scratch, "cache"))}).then(() => {
      // V8 checks a cache against the flags of the process that made it. The CLI's main() turns
      // WebAssembly tier-up off (src/util/wasm-tiering.ts) after the launcher has loaded the
      // CLI's bundles, so theirs are made with the default flags (made with main()'s, they would
      // be refused at every start), and the parse worker's with main()'s.
      for (const flag of ${JSON.stringify(flags)}) require("node:v8").setFlagsFromString(flag);
      fs.writeFileSync(file + ".v8", script.createCachedData());
    });`;
  try {
    spawnSync(process.execPath, ["-e", make, bundle], { cwd: scratch, stdio: "ignore", timeout: 60_000 });
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}
