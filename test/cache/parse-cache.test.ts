/**
 * The parse cache and the parse workers, through the real CLI over a generated 240-migration
 * project (enough files for workers to start) plus unit checks of the cache's invalidation.
 * Nothing here is timed: `npm run bench` measures speed.
 */
import { spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync, appendFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BIN, REPO, type CliRun } from "../support/run-cli.js";
import { ParseCache, contentHash } from "../../src/cache/parse-cache.js";
import { cacheKey, MODULES_DIGEST_FILE, modulesDigest } from "../../src/cache/cache-key.js";
import { defaultCacheDir, packageVersions, PARSER_PACKAGES } from "../../src/cache/package-info.js";
import { parseMigrationSource } from "../../src/parse/parse-migration.js";

let project: string;
let tmp: string;

/** Every `.json` shard of the parse cache under a cache directory (not the result cache's slots). */
function shards(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, encoding: "utf8" })
    .filter((f) => f.endsWith(".json") && !f.split(path.sep).includes("results"))
    .map((f) => path.join(dir, f));
}

/** Like `support/run-cli`'s runner, with room for a 240-migration SARIF report (over 1 MB). */
function runCli(args: string[], options: { cwd: string; env?: Record<string, string | undefined> }): CliRun {
  const env: Record<string, string | undefined> = { ...process.env, NO_COLOR: "1", FORCE_COLOR: undefined, GITHUB_ACTIONS: undefined, ...options.env };
  for (const key of Object.keys(env)) if (env[key] === undefined) delete env[key];
  const result = spawnSync(process.execPath, [BIN, ...args], { cwd: options.cwd, env: env as NodeJS.ProcessEnv, encoding: "utf8", timeout: 120_000, maxBuffer: 64 * 1024 * 1024 });
  if (result.error) throw result.error;
  return { code: result.status ?? -1, stdout: result.stdout, stderr: result.stderr };
}

function check(args: string[], cwd = project): CliRun {
  return runCli(["check", ".", ...args], { cwd, env: { ROLLSAFE_CACHE_DIR: undefined } });
}

beforeAll(() => {
  tmp = mkdtempSync(path.join(os.tmpdir(), "rollsafe-cache-"));
  project = path.join(tmp, "project");
  const gen = spawnSync(process.execPath, [path.join(REPO, "bench/generate-corpus.mjs"), "--out", project, "--apps", "3", "--migrations", "80", "--seed", "7"], { encoding: "utf8" });
  if (gen.status !== 0) throw new Error(`corpus generator failed: ${gen.stderr}`);
  // Hand-written migrations next to the generated apps: renames, removals, squash-free history.
  cpSync(path.join(REPO, "fixtures/example-project"), path.join(project, "example"), { recursive: true });
});

afterAll(() => {
  rmSync(tmp, { recursive: true, force: true });
});

describe("parse cache through the CLI", () => {
  it("gives a warm run the same output as a cold one, in every format, and keeps the cache out of git", () => {
    const cacheDir = path.join(tmp, "cache-formats");
    for (const format of ["json", "text", "sarif", "github", "junit"]) {
      rmSync(cacheDir, { recursive: true, force: true });
      const cold = check(["--format", format, "--no-cache"]);
      const filling = check(["--format", format, "--cache-dir", cacheDir]);
      expect(shards(cacheDir).length).toBeGreaterThan(0);
      const warm = check(["--format", format, "--cache-dir", cacheDir]);
      expect(cold.code).toBe(1);
      expect(cold.stderr).toBe("");
      for (const run of [filling, warm]) {
        expect(run.stdout, format).toBe(cold.stdout);
        expect(run.code).toBe(cold.code);
        expect(run.stderr).toBe("");
      }
    }
    expect(readFileSync(path.join(cacheDir, ".gitignore"), "utf8")).toMatch(/^\*$/m);
  });

  it("writes nothing with --no-cache, and by default caches next to the configuration file", () => {
    const dir = path.join(tmp, "default-location");
    cpSync(project, dir, { recursive: true });
    check(["--no-cache"], dir);
    expect(existsSync(path.join(dir, ".rollsafe_cache"))).toBe(false);
    writeFileSync(path.join(dir, "rollsafe.toml"), 'database = "postgresql"\n');
    const sub = path.join(dir, "accounts");
    const run = runCli(["check", "."], { cwd: sub, env: { ROLLSAFE_CACHE_DIR: undefined } });
    expect(run.stderr).toBe("");
    expect(shards(path.join(dir, ".rollsafe_cache")).length).toBe(1);
    expect(existsSync(path.join(sub, ".rollsafe_cache"))).toBe(false);
    const viaEnv = path.join(tmp, "env-cache");
    runCli(["check", "."], { cwd: sub, env: { ROLLSAFE_CACHE_DIR: viaEnv } });
    expect(shards(viaEnv).length).toBe(1);
  });

  it("re-parses a changed migration and re-reads a changed apps.py label", () => {
    const dir = path.join(tmp, "changes");
    cpSync(project, dir, { recursive: true });
    const cacheDir = path.join(tmp, "cache-changes");
    const before = check(["--format", "json", "--cache-dir", cacheDir], dir);
    const migrations = path.join(dir, "accounts/migrations");
    const last = readdirSync(migrations).filter((f) => /^\d{4}_.*\.py$/.test(f)).sort().at(-1) as string;
    // A suppression comment naming no known rule: a new finding, and nothing else moves.
    appendFileSync(path.join(migrations, last), "\n# rollsafe: ignore[not-a-rule] testing the cache\n");
    const edited = check(["--format", "json", "--cache-dir", cacheDir], dir);
    expect(edited.stdout).toBe(check(["--format", "json", "--no-cache"], dir).stdout);
    expect(edited.stdout).not.toBe(before.stdout);
    expect(edited.stdout).toContain("not-a-rule");

    writeFileSync(path.join(dir, "billing/apps.py"), 'from django.apps import AppConfig\n\n\nclass BillingConfig(AppConfig):\n    name = "billing"\n    label = "invoicing"\n');
    const relabelled = check(["--format", "json", "--cache-dir", cacheDir], dir);
    expect(relabelled.stdout).toBe(check(["--format", "json", "--no-cache"], dir).stdout);
    expect(relabelled.stdout).toContain('"invoicing.');
    expect(edited.stdout).not.toContain('"invoicing.');
  });

  it("ignores a corrupt or foreign cache and rewrites it", () => {
    const cacheDir = path.join(tmp, "cache-corrupt");
    const cold = check(["--format", "json", "--no-cache"]);
    check(["--cache-dir", cacheDir]);
    // The result cache would answer the next run without reading a shard: leave only the shards.
    for (const entry of readdirSync(cacheDir, { withFileTypes: true })) {
      if (entry.isDirectory()) rmSync(path.join(cacheDir, entry.name, "results"), { recursive: true, force: true });
    }
    const files = shards(cacheDir);
    files.forEach((file, i) => writeFileSync(file, i % 3 === 0 ? "{not json" : i % 3 === 1 ? '{"format":"something-else","files":{}}' : '{"format":"rollsafe-parse-cache","key":"x","files":null}'));
    const run = check(["--format", "json", "--cache-dir", cacheDir]);
    expect(run.stderr).toBe("");
    expect(run.stdout).toBe(cold.stdout);
    for (const file of files) expect(JSON.parse(readFileSync(file, "utf8")).format).toBe("rollsafe-parse-cache");
    // An empty shard file (a write cut short before the rename existed) is just as harmless.
    writeFileSync(files[0] as string, "");
    expect(check(["--format", "json", "--cache-dir", cacheDir]).stdout).toBe(cold.stdout);
  });

  it("runs uncached, silently, when the cache directory cannot be created", () => {
    const blocker = path.join(tmp, "not-a-directory");
    writeFileSync(blocker, "a file where the cache directory would go\n");
    const cold = check(["--format", "json", "--no-cache"]);
    const run = check(["--format", "json", "--cache-dir", path.join(blocker, "cache")]);
    expect(run.stderr).toBe("");
    expect(run.code).toBe(cold.code);
    expect(run.stdout).toBe(cold.stdout);
    expect(readFileSync(blocker, "utf8")).toBe("a file where the cache directory would go\n");
  });

  it("gives the same output on one thread and on several", () => {
    // Two threads start a worker from 1,000 files (`minFilesForWorkers`); three from 200.
    const one = check(["--format", "json", "--no-cache", "--jobs", "1"]);
    const two = check(["--format", "json", "--no-cache", "--jobs", "3"]);
    const four = check(["--format", "text", "--no-cache", "--jobs", "4"]);
    expect(one.stderr).toBe("");
    expect(two.stdout).toBe(one.stdout);
    expect(four.stdout).toBe(check(["--format", "text", "--no-cache", "--jobs", "1"]).stdout);
    // Workers fill the cache with the JSON they send back; a warm run reads it identically.
    const cacheDir = path.join(tmp, "cache-jobs");
    check(["--format", "json", "--cache-dir", cacheDir, "--jobs", "3"]);
    expect(check(["--format", "json", "--cache-dir", cacheDir, "--jobs", "1"]).stdout).toBe(one.stdout);
    // Each app's shard is written as the app's models come back: the same shards as one thread writes.
    const oneThread = path.join(tmp, "cache-one-thread");
    check(["--format", "json", "--cache-dir", oneThread, "--jobs", "1"]);
    const contents = (dir: string) => shards(dir).map((f) => [path.relative(dir, f), readFileSync(f, "utf8")]).sort();
    expect(contents(oneThread)).toEqual(contents(cacheDir));
  });

  it("reports unreadable and undecodable files the same on one thread and on several", () => {
    // Without a cache each file is read as its batch is handed out, on the way to a worker too.
    const dir = path.join(tmp, "project-bad-files");
    cpSync(project, dir, { recursive: true });
    const migrations = path.join(dir, readdirSync(dir).find((name) => existsSync(path.join(dir, name, "migrations"))) as string, "migrations");
    symlinkSync(path.join(migrations, "missing-target.py"), path.join(migrations, "0500_dangling.py"));
    writeFileSync(path.join(migrations, "0501_latin1.py"), Buffer.from('from django.db import migrations\nNAME = "caf\xe9"\n', "latin1"));
    const one = check(["--format", "json", "--no-cache", "--jobs", "1"], dir);
    const two = check(["--format", "json", "--no-cache", "--jobs", "3"], dir);
    expect(two.stdout).toBe(one.stdout);
    const rules = (JSON.parse(one.stdout) as { diagnostics: { rule: string; file: string }[] }).diagnostics.filter((d) => /050[01]_/.test(d.file)).map((d) => d.rule);
    expect(rules).toEqual(expect.arrayContaining(["io-error", "parse-error"]));
  });

  it("loses nothing when a worker dies while another is parsing: the others finish their batches, the main thread the rest", () => {
    // The first worker dies right after its second reply (an uncaught exception). The pool used
    // to terminate the other workers at once, in the middle of a parse: tree-sitter calls back
    // into JavaScript for the text, and such a worker aborted the process (exit 134, no report).
    const killer = path.join(tmp, "kill-first-worker.cjs");
    writeFileSync(
      killer,
      `const { isMainThread, threadId, parentPort } = require("node:worker_threads");
if (!isMainThread && threadId === 1) {
  const post = parentPort.postMessage.bind(parentPort);
  let replies = 0;
  parentPort.postMessage = (message) => {
    post(message);
    if (++replies === 2) setImmediate(() => { throw new Error("killed by the test"); });
  };
}
`,
    );
    // Enough files that the other workers are busy when it dies (the abort came in about one run
    // of four over these 1,000 files, and in none over the 250 of the shared project).
    const large = path.join(tmp, "project-1000");
    expect(spawnSync(process.execPath, [path.join(REPO, "bench/generate-corpus.mjs"), "--out", large, "--apps", "10", "--migrations", "100", "--seed", "5"]).status).toBe(0);
    const one = check(["--format", "json", "--no-cache", "--jobs", "1"], large);
    expect(one.code).toBe(1);
    for (const jobs of ["3", "4", "3", "4"]) {
      const run = runCli(["check", ".", "--format", "json", "--no-cache", "--jobs", jobs], { cwd: large, env: { ROLLSAFE_CACHE_DIR: undefined, NODE_OPTIONS: `--require ${killer}` } });
      expect(run.stderr, `--jobs ${jobs}`).toBe("");
      expect(run.code).toBe(1);
      expect(run.stdout === one.stdout, `--jobs ${jobs}`).toBe(true);
    }
  });

  it("rejects a bad --jobs in one line", () => {
    const run = check(["--jobs", "0"]);
    expect(run.code).toBe(2);
    expect(run.stderr).toBe("rollsafe: --jobs must be a number of threads from 1 to 256, not `0`\n");
  });
});

describe("parse cache invalidation", () => {
  const file = { path: "/p/shop/migrations/0001_initial.py", appDir: "/p/shop", app: "shop", name: "0001_initial" };
  const source = "from django.db import migrations\n\n\nclass Migration(migrations.Migration):\n    operations = []\n";
  const migration = () => parseMigrationSource(source, { path: file.path, app: file.app, name: file.name });

  async function filled(dir: string, version: string, key: string): Promise<void> {
    const cache = new ParseCache(dir, version, key);
    await cache.store(file, contentHash(source), migration());
    await cache.save();
  }

  it("hits only for the same bytes, version, key and app label", async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), "rollsafe-cache-unit-"));
    await filled(dir, "1.0.0", "k1");
    const hash = contentHash(source);
    const hit = await new ParseCache(dir, "1.0.0", "k1").lookup(file, hash, () => source);
    expect(hit).toEqual(migration());
    expect(await new ParseCache(dir, "1.0.0", "k1").lookup(file, contentHash(`${source}\n`), () => source)).toBeUndefined();
    expect(await new ParseCache(dir, "1.0.1", "k1").lookup(file, hash, () => source)).toBeUndefined();
    expect(await new ParseCache(dir, "1.0.0", "k2").lookup(file, hash, () => source)).toBeUndefined();
    expect(await new ParseCache(dir, "1.0.0", "k1").lookup({ ...file, app: "store" }, hash, () => source)).toBeUndefined();
    rmSync(dir, { recursive: true, force: true });
  });

  it("writes its shards in ASCII and reads back non-ASCII models, and shards an older rollsafe wrote in UTF-8", async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), "rollsafe-cache-unit-"));
    const text = 'from django.db import migrations, models\n\n\nclass Migration(migrations.Migration):\n    operations = [\n        migrations.AddField("Caf\u00e9", "na\u00efve", models.CharField(max_length=3, verbose_name="\u65e5\u672c \ud83d\ude00")),\n    ]\n';
    const model = parseMigrationSource(text, { path: file.path, app: file.app, name: file.name });
    const cache = new ParseCache(dir, "1.0.0", "k1");
    await cache.store(file, contentHash(text), model);
    await cache.save();
    const [shard] = shards(dir);
    const bytes = readFileSync(shard as string);
    expect(bytes.every((b) => b < 0x80)).toBe(true);
    expect(await new ParseCache(dir, "1.0.0", "k1").lookup(file, contentHash(text), () => text)).toEqual(model);
    // The same shard as an older rollsafe wrote it, in UTF-8.
    writeFileSync(shard as string, JSON.stringify(JSON.parse(bytes.toString("latin1"))), "utf8");
    expect(readFileSync(shard as string).some((b) => b >= 0x80)).toBe(true);
    expect(await new ParseCache(dir, "1.0.0", "k1").lookup(file, contentHash(text), () => text)).toEqual(model);
    rmSync(dir, { recursive: true, force: true });
  });

  it("rewrites an app's shard once enough of its files changed, not for every edit", async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), "rollsafe-cache-unit-"));
    const names = Array.from({ length: 100 }, (_, i) => `${String(i + 1).padStart(4, "0")}_m`);
    const fileOf = (name: string) => ({ ...file, path: `/p/shop/migrations/${name}.py`, name });
    const textOf = (name: string, edit: number) => `${source}# ${name} ${edit}\n`;
    const parsed = (name: string, edit: number) => parseMigrationSource(textOf(name, edit), { path: fileOf(name).path, app: "shop", name });
    /** One run over the app: every file looked up, the misses parsed and stored; true when the shard was written. */
    const run = async (edits: Map<string, number>, present = names): Promise<{ misses: number; written: boolean }> => {
      // Inodes: a write renames a new file into place, a read only touches the shard's mtime.
      const shardsBefore = readdirSync(path.join(dir, "1.0.0")).map((f) => statSync(path.join(dir, "1.0.0", f)).ino);
      const cache = new ParseCache(dir, "1.0.0", "k");
      let misses = 0;
      for (const name of present) {
        const text = textOf(name, edits.get(name) ?? 0);
        if (await cache.lookup(fileOf(name), contentHash(text), () => text)) continue;
        misses++;
        await cache.store(fileOf(name), contentHash(text), parsed(name, edits.get(name) ?? 0));
      }
      await new Promise((resolve) => setTimeout(resolve, 20));
      await cache.save();
      const shardsAfter = readdirSync(path.join(dir, "1.0.0")).map((f) => statSync(path.join(dir, "1.0.0", f)).ino);
      return { misses, written: JSON.stringify(shardsAfter) !== JSON.stringify(shardsBefore) };
    };
    mkdirSync(path.join(dir, "1.0.0"), { recursive: true });
    expect(await run(new Map())).toEqual({ misses: 100, written: true });
    expect(await run(new Map())).toEqual({ misses: 0, written: false });
    // Two edited files: parsed again on each run (about a millisecond each) until enough change.
    const two = new Map([[names[3] as string, 1], [names[50] as string, 1]]);
    expect(await run(two)).toEqual({ misses: 2, written: false });
    expect(await run(two)).toEqual({ misses: 2, written: false });
    const eight = new Map(names.slice(0, 8).map((n) => [n, 2] as const));
    expect(await run(eight)).toEqual({ misses: 8, written: true });
    expect(await run(eight)).toEqual({ misses: 0, written: false });
    // Deleted files count too.
    expect(await run(eight, names.slice(0, 92))).toEqual({ misses: 0, written: true });
    rmSync(dir, { recursive: true, force: true });
  });

  it("changes the key with the configured custom operations", () => {
    const entry = { source: "config", sameAs: "AddField", state: "same", database: "same", note: "" } as const;
    const a = cacheKey(new Map([["myproject.ops.AddFieldSafely", entry]]));
    expect(cacheKey(new Map([["myproject.ops.AddFieldSafely", entry]]))).toBe(a);
    expect(cacheKey(new Map([["myproject.ops.AddFieldSafely", { ...entry, sameAs: "RemoveField" }]]))).not.toBe(a);
    expect(cacheKey(undefined)).not.toBe(a);
  });

  it("changes the key with the installed version of the parsers (an npm update of the grammar)", () => {
    const root = mkdtempSync(path.join(os.tmpdir(), "rollsafe-key-"));
    const moduleDir = path.join(root, "dist/bundle");
    mkdirSync(moduleDir, { recursive: true });
    writeFileSync(path.join(moduleDir, "cli.js"), "x");
    const install = (name: string, version: string) => {
      mkdirSync(path.join(root, "node_modules", name), { recursive: true });
      writeFileSync(path.join(root, "node_modules", name, "package.json"), JSON.stringify({ name, version }));
    };
    for (const name of PARSER_PACKAGES) install(name, "1.0.0");
    const before = cacheKey(undefined, moduleDir);
    expect(cacheKey(undefined, moduleDir)).toBe(before);
    install("tree-sitter-python", "1.0.1");
    expect(cacheKey(undefined, moduleDir)).not.toBe(before);
    rmSync(root, { recursive: true, force: true });
  });

  it("takes the bundle's module hash from the build, and hashes the modules where the build wrote none", () => {
    const root = mkdtempSync(path.join(os.tmpdir(), "rollsafe-key-"));
    try {
      const moduleDir = path.join(root, "dist/bundle");
      mkdirSync(moduleDir, { recursive: true });
      writeFileSync(path.join(moduleDir, "cli.js"), "x");
      const hashed = modulesDigest(moduleDir);
      expect(modulesDigest(moduleDir, { fresh: true })).toBe(hashed);
      const before = cacheKey(undefined, moduleDir);
      writeFileSync(path.join(moduleDir, "cli.js"), "y");
      expect(cacheKey(undefined, moduleDir)).not.toBe(before);
      // The build's file wins over the modules; one that is not a hash is ignored.
      writeFileSync(path.join(moduleDir, MODULES_DIGEST_FILE), `${hashed}\n`);
      expect(modulesDigest(moduleDir)).toBe(hashed);
      expect(cacheKey(undefined, moduleDir)).toBe(before);
      writeFileSync(path.join(moduleDir, MODULES_DIGEST_FILE), "not a hash\n");
      expect(modulesDigest(moduleDir)).toBe(modulesDigest(moduleDir, { fresh: true }));
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  it("is the hash of the built bundle's modules as they are now (npm run build wrote it)", () => {
    const bundle = path.join(REPO, "dist/bundle");
    const stored = readFileSync(path.join(bundle, MODULES_DIGEST_FILE), "latin1").trim();
    expect(stored).toMatch(/^[0-9a-f]{64}$/);
    expect(modulesDigest(bundle, { fresh: true })).toBe(stored);
  });

  it("reads a package's version where node's resolution finds it first, going up", () => {
    const root = mkdtempSync(path.join(os.tmpdir(), "rollsafe-versions-"));
    const put = (dir: string, name: string, version: string) => {
      mkdirSync(path.join(root, dir, "node_modules", name), { recursive: true });
      writeFileSync(path.join(root, dir, "node_modules", name, "package.json"), JSON.stringify({ name, version }));
    };
    // Hoisted into the project, and one nested in rollsafe's own node_modules, which wins.
    put("", "tree-sitter", "0.25.1");
    put("", "chalk", "5.6.2");
    put("node_modules/rollsafe", "chalk", "5.0.0");
    mkdirSync(path.join(root, "node_modules/rollsafe/node_modules/broken"), { recursive: true });
    writeFileSync(path.join(root, "node_modules/rollsafe/node_modules/broken/package.json"), "{");
    const bundle = path.join(root, "node_modules/rollsafe/dist/bundle");
    mkdirSync(bundle, { recursive: true });
    expect(packageVersions(["tree-sitter", "chalk", "libpg-query", "broken"], bundle)).toBe("tree-sitter 0.25.1\nchalk 5.0.0\nlibpg-query none\nbroken unknown\n");
    // The real installation: every parser package is there, with a version.
    expect(packageVersions(PARSER_PACKAGES)).toMatch(/^tree-sitter \d+\.\d+\.\d+\ntree-sitter-python \d+\.\d+\.\d+\nlibpg-query \d+\.\d+\.\d+\n$/);
    rmSync(root, { recursive: true, force: true });
  });

  it("puts the default cache next to the configuration, else at the git root", () => {
    expect(defaultCacheDir("/p/rollsafe.toml", "app", "/p/sub")).toBe("/p/.rollsafe_cache");
    expect(defaultCacheDir(null, "test/cache", REPO)).toBe(path.join(REPO, ".rollsafe_cache"));
  });
});
