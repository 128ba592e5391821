/**
 * The result cache: an unchanged tree with unchanged settings restores the previous run; any
 * change of a migration, an `apps.py`, the file set or a setting recomputes it; recent changes
 * are not stored (racy); a corrupt slot is ignored. Nothing here is timed.
 */
import fs, { appendFileSync, cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, utimesSync, writeFileSync } from "node:fs";
import { syncBuiltinESMExports } from "node:module";
import os from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { beforeEach, describe, expect, it, vi } from "vitest";
import { codeStampOf, ResultCache } from "../../src/cache/result-cache.js";
import { fileStamps } from "../../src/cache/file-stamp.js";
import { analyze, type LintOptions } from "../../src/engine/lint.js";
import { rules } from "../../rules/index.js";
import { runCli } from "../support/run-cli.js";

const REPO = path.resolve(import.meta.dirname, "../..");
const DEFAULT_RULES = rules.filter((r) => !r.meta.optIn);
const DEFAULT_NAMES = DEFAULT_RULES.map((r) => r.meta.name);

let project: string;
let cacheDir: string;

beforeEach(() => {
  const tmp = mkdtempSync(path.join(os.tmpdir(), "rollsafe-results-"));
  project = path.join(tmp, "project");
  cacheDir = path.join(tmp, "cache");
  cpSync(path.join(REPO, "fixtures/example-project"), project, { recursive: true });
});

/** One cached run; `computed` says whether the analysis ran. */
async function run(options: LintOptions = {}, cache = new ResultCache(cacheDir, { racyMs: null })) {
  let computed = 0;
  const outcome = await cache.run(["."], { cwd: project, ...options }, options.rules ?? DEFAULT_RULES, async (walked) => {
    computed++;
    // As the CLI does: a miss starts from the walk the key was made from.
    const analysis = await analyze(["."], { cwd: project, ...options, ...(walked ? { walked } : {}) });
    return { result: analysis.result, extra: { migrations: analysis.graph.nodes.size } };
  });
  return { ...outcome, computed };
}

function lines(result: Awaited<ReturnType<typeof run>>["result"]): string[] {
  return result.diagnostics.map((d) => `${d.file}:${d.line} ${d.rule} ${d.severity}`);
}

describe("result cache", () => {
  it("restores an unchanged run exactly: findings, summary, sources, rule metadata and extra data", async () => {
    const first = await run();
    expect(first).toMatchObject({ hit: false, computed: 1 });
    expect(first.result.diagnostics.length).toBeGreaterThan(0);
    const second = await run();
    expect(second).toMatchObject({ hit: true, computed: 0 });
    expect(second.result.diagnostics).toEqual(first.result.diagnostics);
    expect(second.result.summary).toEqual(first.result.summary);
    expect(second.result.sources).toEqual(first.result.sources);
    expect(second.result.rules.map((r) => r.code)).toEqual(first.result.rules.map((r) => r.code));
    expect(second.extra).toEqual(first.extra);
  });

  it("remembers the last settings' slot, and a memo that is not theirs only costs a miss", async () => {
    await run();
    const results = readdirSync(cacheDir, { recursive: true, encoding: "utf8" });
    const memoName = results.find((f) => f.endsWith("last-slot")) as string;
    const memoFile = path.join(cacheDir, memoName);
    const memo = readFileSync(memoFile, "utf8");
    const slot = memo.slice(0, 32);
    // The memo is the slot of the stored key, then the settings.
    expect(results.filter((f) => f.endsWith(".key")).map((f) => path.basename(f))).toEqual([`${slot}.key`]);
    expect(memo.slice(32, 33)).toBe("\n");
    expect(JSON.parse(memo.slice(33))).toMatchObject({ cwd: project, paths: [project] });
    expect(await run()).toMatchObject({ hit: true, computed: 0 });
    // Other settings: hashed, stored in a slot of their own, and remembered in turn.
    expect(await run({ severity: { "dropping-column": "warning" } })).toMatchObject({ hit: false, computed: 1 });
    expect(readFileSync(memoFile, "utf8").slice(0, 32)).not.toBe(slot);
    expect(await run()).toMatchObject({ hit: true, computed: 0 });
    // A memo naming another slot for these settings: that slot's key is not theirs, so a miss, then hits again.
    writeFileSync(memoFile, `${"0".repeat(32)}${memo.slice(32)}`);
    expect(await run()).toMatchObject({ hit: false, computed: 1 });
    expect(await run()).toMatchObject({ hit: true, computed: 0 });
    // A torn memo is passed over.
    writeFileSync(memoFile, memo.slice(0, 40));
    expect(await run()).toMatchObject({ hit: true, computed: 0 });
  });

  it("writes the slot as the same JSON document as one JSON.stringify would (it is written a finding at a time)", async () => {
    const first = await run();
    const slots = readdirSync(path.join(cacheDir), { recursive: true, encoding: "utf8" }).filter((f) => f.endsWith(".json"));
    expect(slots).toHaveLength(1);
    const stored = JSON.parse(readFileSync(path.join(cacheDir, slots[0] as string), "utf8")) as { key: string; result: Record<string, unknown>; extra: unknown };
    const { rules: _rules, sources, ...rest } = first.result;
    expect(stored.result).toEqual(JSON.parse(JSON.stringify({ ...rest, sources: [...(sources ?? new Map()).entries()] })));
    expect(stored.extra).toEqual(first.extra);
    // A run without extra data stores none and reads back the same.
    const bare = new ResultCache(path.join(cacheDir, "bare"), { racyMs: null });
    const compute = async () => ({ result: (await analyze(["."], { cwd: project })).result, extra: undefined });
    await bare.run(["."], { cwd: project }, DEFAULT_RULES, compute);
    const again = await bare.run(["."], { cwd: project }, DEFAULT_RULES, compute);
    expect(again.hit).toBe(true);
    expect(again.extra).toBeUndefined();
    expect(again.result.diagnostics).toEqual(first.result.diagnostics);
  });

  it("a miss starts from the key's walk, whose apps it labels from apps.py: the same run as a fresh discovery", async () => {
    writeFileSync(path.join(project, "library/apps.py"), 'from django.apps import AppConfig\n\n\nclass LibraryConfig(AppConfig):\n    name = "library"\n    label = "lending"\n');
    const handle = await new ResultCache(cacheDir, { racyMs: null }).lookup(["."], { cwd: project }, DEFAULT_NAMES);
    const walked = handle?.walked;
    expect(walked?.apps.find((a) => a.dir.endsWith("library"))).toMatchObject({ label: "library", labelSource: "directory" });
    const reused = await analyze(["."], { cwd: project, walked });
    expect(walked?.apps.find((a) => a.dir.endsWith("library"))).toMatchObject({ label: "lending", labelSource: "apps.py" });
    const fresh = await analyze(["."], { cwd: project });
    expect(reused.result.diagnostics.some((d) => d.migration?.startsWith("lending."))).toBe(true);
    expect(reused.result).toEqual(fresh.result);
    expect([...reused.graph.nodes.keys()]).toEqual([...fresh.graph.nodes.keys()]);
  });

  it("recomputes when a migration's content changes, even at the same size", async () => {
    const file = path.join(project, "library/migrations/0003_remove_book_subtitle.py");
    await run();
    const text = readFileSync(file, "utf8");
    // Same length, different bytes: only the ctime (and mtime) tell.
    writeFileSync(file, text.replace("subtitle", "SUBTITLE"));
    const after = await run();
    expect(after).toMatchObject({ hit: false, computed: 1 });
  });

  it("recomputes when a migration is added or an apps.py changes", async () => {
    await run();
    const added = path.join(project, "library/migrations/0099_extra.py");
    writeFileSync(added, "from django.db import migrations\n\n\nclass Migration(migrations.Migration):\n    dependencies = []\n    operations = []\n");
    expect((await run()).hit).toBe(false);
    expect((await run()).hit).toBe(true);
    appendFileSync(path.join(project, "library/apps.py"), "\n# touched\n");
    expect((await run()).hit).toBe(false);
  });

  it("keys on the settings: severity, rules and target each recompute", async () => {
    const base = await run();
    const rule = base.result.diagnostics[0]?.rule as string;
    const downgraded = await run({ severity: { [rule]: "warning" } });
    expect(downgraded.hit).toBe(false);
    expect(downgraded.result.diagnostics.find((d) => d.rule === rule)?.severity).toBe("warning");
    const one = DEFAULT_RULES.filter((r) => r.meta.name === rule);
    const selected = await run({ rules: one });
    expect(selected.hit).toBe(false);
    expect(new Set(selected.result.diagnostics.map((d) => d.rule))).toEqual(new Set([rule]));
    expect((await run({ target: { database: "mysql" } })).hit).toBe(false);
    // And each slot is still valid afterwards.
    expect((await run({ severity: { [rule]: "warning" } })).hit).toBe(true);
  });

  it("recomputes when the configuration file's content changes (exclude-apps reaches the run as a function)", async () => {
    const config = path.join(project, "rollsafe.toml");
    writeFileSync(config, "exclude-apps = []\n");
    expect((await run({ configFile: config })).hit).toBe(false);
    expect((await run({ configFile: config })).hit).toBe(true);
    writeFileSync(config, 'exclude-apps = ["store"]\n');
    expect((await run({ configFile: config })).hit).toBe(false);
  });

  it("does not store a run whose inputs changed within the racy window", async () => {
    const cache = new ResultCache(cacheDir);
    expect((await run({}, cache)).hit).toBe(false);
    expect((await run({}, cache)).computed).toBe(1);
  });

  it("reads no slot or report for a key it has not stored, and only the head of a slot whose key no longer matches", async () => {
    const cache = new ResultCache(cacheDir, { racyMs: null });
    const storedRun = await cache.lookup(["."], { cwd: project }, DEFAULT_NAMES);
    await run();
    const file = path.join(project, "library/migrations/0003_remove_book_subtitle.py");
    writeFileSync(file, readFileSync(file, "utf8").replace("subtitle", "SUBTITLE"));
    const handle = await cache.lookup(["."], { cwd: project }, DEFAULT_NAMES);
    expect(handle).toMatchObject({ keyStored: false });
    const slot = readFileSync(handle?.file as string, "utf8");
    expect(slot.startsWith('{"key":"')).toBe(true);
    // After an edit the key is new: no stored slot or report can carry its token, so none is opened.
    const opened: string[] = [];
    const openSync = fs.openSync;
    fs.openSync = ((target: fs.PathLike, ...rest: unknown[]) => {
      opened.push(String(target));
      return (openSync as (...a: unknown[]) => number)(target, ...rest);
    }) as typeof fs.openSync;
    syncBuiltinESMExports();
    try {
      expect(await cache.read(handle as NonNullable<typeof handle>, DEFAULT_RULES.map((r) => r.meta))).toBeNull();
      expect(await cache.readRendered(handle as NonNullable<typeof handle>, "text\0plain")).toBeNull();
      expect(opened).toEqual([]);
    } finally {
      fs.openSync = openSync;
      syncBuiltinESMExports();
    }
    // A handle made before the run stored its key names that key's token but not its slot's
    // (another run stored it since): only the slot's head is read to find out.
    expect(storedRun).toMatchObject({ keyStored: false });
    const raced = { ...(storedRun as NonNullable<typeof storedRun>), key: "another-token", keyStored: true };
    const parse = vi.spyOn(JSON, "parse");
    try {
      expect(await cache.read(raced, DEFAULT_RULES.map((r) => r.meta))).toBeNull();
      expect(parse.mock.calls.some(([text]) => typeof text === "string" && text.length >= slot.length)).toBe(false);
    } finally {
      parse.mockRestore();
    }
    // The stale slot is replaced by the new run, which the next run reads back whole.
    expect((await run()).computed).toBe(1);
    expect((await run()).hit).toBe(true);
  });

  it("keeps the key's text beside the slot, and reads a slot only under the token stored with that text", async () => {
    await run();
    const dir = path.join(cacheDir, readdirSync(cacheDir)[0] as string, "results");
    const keyFile = path.join(dir, readdirSync(dir).find((f) => f.endsWith(".key")) as string);
    const [header, ...rest] = readFileSync(keyFile, "utf8").split("\n");
    const text = rest.join("\n");
    // The text names every input file with its stat, and the settings.
    expect(text).toContain(path.join(project, "library/migrations/0003_remove_book_subtitle.py"));
    expect(text).toContain(JSON.stringify(project));
    // The same text under another token (another run stored it since): the slot written under
    // the first token is not read, and the run stores itself again.
    writeFileSync(keyFile, `rollsafe result key another-token\n${text}`);
    expect(await run()).toMatchObject({ hit: false, computed: 1 });
    expect(await run()).toMatchObject({ hit: true, computed: 0 });
    // Another text under the same token (a different tree): not read either.
    // (It stored itself under the token it found with its text.)
    expect(header).not.toBe("rollsafe result key another-token");
    expect(readFileSync(keyFile, "utf8")).toBe(`rollsafe result key another-token\n${text}`);
    writeFileSync(keyFile, `rollsafe result key another-token\n${text.replace("0003_remove_book_subtitle", "0003_other")}`);
    expect(await run()).toMatchObject({ hit: false, computed: 1 });
  });

  it("ignores a corrupt slot and rewrites it", async () => {
    await run();
    const dir = path.join(cacheDir, readdirSync(cacheDir)[0] as string, "results");
    for (const slot of readdirSync(dir)) writeFileSync(path.join(dir, slot), "{ not json");
    const again = await run();
    expect(again).toMatchObject({ hit: false, computed: 1 });
    expect(lines(again.result).length).toBeGreaterThan(0);
    expect((await run()).hit).toBe(true);
  });
});

describe("an unchanged tree, recognised without walking it", () => {
  const lookup = (options: LintOptions = {}) => new ResultCache(cacheDir, { racyMs: null }).lookup(["."], { cwd: project, ...options }, DEFAULT_NAMES);
  /** A Django app with one migration at `dir` (a package, with a `migrations` package). */
  const app = (dir: string, model: string) => {
    mkdirSync(path.join(dir, "migrations"), { recursive: true });
    writeFileSync(path.join(dir, "__init__.py"), "");
    writeFileSync(path.join(dir, "migrations/__init__.py"), "");
    writeFileSync(
      path.join(dir, "migrations/0001_initial.py"),
      `from django.db import migrations, models\n\n\nclass Migration(migrations.Migration):\n    initial = True\n    operations = [migrations.CreateModel("${model}", [("id", models.AutoField(primary_key=True))])]\n`,
    );
  };
  /** After a change: the run is recomputed from a walk, its result a fresh run's, and found unchanged again. */
  const seen = async () => {
    expect((await lookup())?.walked).not.toBeNull();
    const after = await run();
    expect(after).toMatchObject({ hit: false, computed: 1 });
    expect(after.result).toEqual((await analyze(["."], { cwd: project })).result);
    expect((await lookup())?.walked).toBeNull();
    expect((await run()).hit).toBe(true);
  };

  it("finds the stored key by a stat of what it lists, and it is the text a walk makes", async () => {
    await run();
    const unchanged = await lookup();
    expect(unchanged).toMatchObject({ walked: null, stamps: null, keyStored: true });
    // A report filter (--base: git's answer can change alone) always walks, and makes the same text.
    const walked = await lookup({ reportFilter: () => true });
    expect(walked?.walked).not.toBeNull();
    expect(walked?.keyText).toBe(unchanged?.keyText);
    expect(walked?.keyStored).toBe(true);
    // Beside the text, the key keeps the stat of each directory the walk listed.
    expect(unchanged?.keyWalk).toContain(`${path.join(project, "library")}\0`);
    expect(unchanged?.keyWalk).toContain(`${path.join(project, "library/migrations")}\0`);
    expect(unchanged?.keyText).not.toContain(`${path.join(project, "library")}\0`);
  });

  it("makes the key of an edited migration from the stored walk, without walking, and the run is a fresh one's", async () => {
    // Past the two seconds in which a file's stat is not trusted (the parse cache's stamps).
    await sleep(2100);
    await run();
    const file = path.join(project, "library/migrations/0003_remove_book_subtitle.py");
    // Written in place: its directory does not change, so the stored walk holds.
    writeFileSync(file, readFileSync(file, "utf8").replace("subtitle", "SUBTITLE"));
    const edited = await lookup();
    expect(edited).toMatchObject({ walked: null, keyStored: false });
    // The text a walk makes, and the parse cache's stamps of the files with it.
    const walked = await lookup({ reportFilter: () => true });
    expect(edited?.keyText).toBe(walked?.keyText);
    const stamps = edited?.stamps?.() ?? new Map();
    expect(stamps.has(path.join(project, "library/migrations/0001_initial.py"))).toBe(true);
    expect(stamps.has(file)).toBe(false);
    // Made from the key's lines, they are what fileStamp makes of each file's stat now.
    const listed = [...(walked?.walked?.files.map((f) => f.path) ?? []), ...(walked?.walked?.apps.map((a) => path.join(a.dir, "apps.py")) ?? [])];
    expect(listed.length).toBeGreaterThan(10);
    const expected = fileStamps(listed, listed.map((f) => statSync(f, { throwIfNoEntry: false })), Date.now());
    expect(stamps).toEqual(expected);
    expect(walked?.stamps?.()).toEqual(expected);
    const after = await run();
    expect(after).toMatchObject({ hit: false, computed: 1 });
    expect(after.result).toEqual((await analyze(["."], { cwd: project })).result);
    expect((await run()).hit).toBe(true);
  });

  it("walks when a directory changed, and a change outside the migrations is still a hit, found without a walk next time", async () => {
    await run();
    // A report written beside the apps, a new module in an app: the same migrations.
    writeFileSync(path.join(project, "report.txt"), "x");
    writeFileSync(path.join(project, "library/views.py"), "");
    const walked = await lookup();
    expect(walked?.walked).not.toBeNull();
    expect(walked?.keyStored).toBe(true);
    expect(await run()).toMatchObject({ hit: true, computed: 0 });
    expect((await lookup())?.walked).toBeNull();
  });

  it("keeps no directory stamps made within two seconds of a change (racily clean, as for the files)", async () => {
    await sleep(2100);
    const cache = () => new ResultCache(cacheDir);
    // The migrations are old enough to store the run; the project's directory changed just now.
    writeFileSync(path.join(project, "notes.txt"), "x");
    expect((await run({}, cache())).computed).toBe(1);
    const fresh = await cache().lookup(["."], { cwd: project }, DEFAULT_NAMES);
    expect(fresh).toMatchObject({ keyStored: true, keyWalk: null });
    expect(fresh?.walked).not.toBeNull();
    await sleep(2100);
    // Old enough now: the walk's stamps are kept, and the next run need not walk.
    expect((await cache().lookup(["."], { cwd: project }, DEFAULT_NAMES))?.keyWalk).not.toBeNull();
    expect((await cache().lookup(["."], { cwd: project }, DEFAULT_NAMES))?.walked).toBeNull();
    expect((await run({}, cache())).hit).toBe(true);
  });

  it("sees a new app anywhere in the tree, and a migration removed", async () => {
    await run();
    app(path.join(project, "library/nested/deeper"), "Deep");
    await seen();
    const removed = path.join(project, "library/nested/deeper/migrations/0001_initial.py");
    const { unlinkSync } = await import("node:fs");
    unlinkSync(removed);
    await seen();
  });

  it("sees a left-out file tree become a package, with an app inside", async () => {
    // `templates` without __init__.py is not walked; with one it is, and the app in it counts.
    app(path.join(project, "templates/plugin"), "Plugin");
    await run();
    const before = (await run()).result.summary.migrations;
    writeFileSync(path.join(project, "templates/__init__.py"), "");
    await seen();
    expect((await run()).result.summary.migrations).toBe(before + 1);
  });

  it("sees the directory behind a symbolic link replaced, the link itself unchanged", async () => {
    const { renameSync, symlinkSync } = await import("node:fs");
    const outside = mkdtempSync(path.join(os.tmpdir(), "rollsafe-linked-"));
    app(path.join(outside, "target"), "First");
    symlinkSync(path.join(outside, "target"), path.join(project, "linked"));
    await run();
    const before = (await run()).result.summary.migrations;
    // The link's directory does not change; what it points to is another directory, with two apps.
    renameSync(path.join(outside, "target"), path.join(outside, "old"));
    app(path.join(outside, "target"), "Second");
    app(path.join(outside, "target/extra"), "Third");
    await seen();
    expect((await run()).result.summary.migrations).toBe(before + 1);
  });
});

describe("the stamp of rollsafe's own code in the key", () => {
  it("covers the modules that can run: the bundle alone from dist/bundle, src/ and rules/ from compiled or source modules", () => {
    const root = mkdtempSync(path.join(os.tmpdir(), "rollsafe-stamp-"));
    const files = ["dist/bundle/cli.js", "dist/bundle/chunk-A.js", "dist/bundle/warm.cjs", "dist/src/cli.js", "dist/src/cache/result-cache.js", "dist/rules/r.js", "src/cache/result-cache.ts", "rules/r.ts", "src/notes.md"];
    for (const file of files) {
      mkdirSync(path.dirname(path.join(root, file)), { recursive: true });
      writeFileSync(path.join(root, file), "x");
    }
    const stamps = () => ["dist/bundle", "dist/src/cache", "src/cache"].map((dir) => codeStampOf(path.join(root, dir)));
    /** Which of the three stamps change when `file` gets a new mtime. */
    const changedBy = (file: string, seconds: number): boolean[] => {
      const before = stamps();
      utimesSync(path.join(root, file), seconds, seconds);
      return stamps().map((stamp, i) => stamp !== before[i]);
    };
    expect(stamps()).toEqual(stamps());
    expect(changedBy("dist/bundle/chunk-A.js", 1_000)).toEqual([true, false, false]);
    // The CommonJS bundle of the cached check (bin/rollsafe.cjs) keys the same slots.
    expect(changedBy("dist/bundle/warm.cjs", 1_500)).toEqual([true, false, false]);
    // The bundle does not load dist/src or dist/rules: the bundled run's key ignores them.
    expect(changedBy("dist/src/cli.js", 2_000)).toEqual([false, true, false]);
    expect(changedBy("dist/rules/r.js", 3_000)).toEqual([false, true, false]);
    expect(changedBy("rules/r.ts", 4_000)).toEqual([false, false, true]);
    expect(changedBy("src/cache/result-cache.ts", 5_000)).toEqual([false, false, true]);
    // Only modules count.
    expect(changedBy("src/notes.md", 6_000)).toEqual([false, false, false]);
    // And the installed parsers and chalk, wherever the stamp is taken from (an npm update).
    for (const [name, version] of [["tree-sitter-python", "0.25.1"], ["chalk", "5.6.3"], ["libpg-query", "18.2.0"]]) {
      const before = stamps();
      mkdirSync(path.join(root, "node_modules", name), { recursive: true });
      writeFileSync(path.join(root, "node_modules", name, "package.json"), JSON.stringify({ name, version }));
      expect(stamps().map((stamp, i) => stamp !== before[i])).toEqual([true, true, true]);
    }
    const before = stamps();
    mkdirSync(path.join(root, "node_modules/commander"), { recursive: true });
    writeFileSync(path.join(root, "node_modules/commander/package.json"), JSON.stringify({ name: "commander", version: "14.0.4" }));
    expect(stamps()).toEqual(before);
  });
});

describe("result cache through the CLI", () => {
  it("prints the same report from a cached run, in every format", async () => {
    const args = (format: string) => ["check", ".", "--format", format, "--cache-dir", cacheDir];
    const cold: Record<string, string> = {};
    for (const format of ["json", "text", "sarif", "github"]) cold[format] = runCli(["check", ".", "--format", format, "--no-cache"], { cwd: project }).stdout;
    // Past the racy window, so the next run stores its result.
    await sleep(2100);
    runCli(args("json"), { cwd: project });
    const slots = readdirSync(cacheDir, { recursive: true, encoding: "utf8" }).filter((f) => f.includes("results") && f.endsWith(".json"));
    expect(slots).toHaveLength(1);
    // The first warm run of a format renders the stored run; the second prints the stored report.
    for (const round of [1, 2]) {
      for (const format of Object.keys(cold)) {
        const warm = runCli(args(format), { cwd: project });
        expect(warm.stdout, `${format}, round ${round}`).toBe(cold[format]);
        expect(warm.code).toBe(1);
      }
    }
    // A stored report copied to `--output` and to a stdout that is a regular file (written directly, not through the stream).
    for (const format of Object.keys(cold)) {
      const output = path.join(path.dirname(project), `output.${format}`);
      expect(runCli([...args(format), "--output", output], { cwd: project }).code).toBe(1);
      expect(readFileSync(output, "utf8"), `${format} --output`).toBe(cold[format]);
      expect(runCli(args(format), { cwd: project, stdoutFile: path.join(path.dirname(project), `stdout.${format}`) }).stdout, `${format} > file`).toBe(cold[format]);
    }
    const reports = readdirSync(cacheDir, { recursive: true, encoding: "utf8" }).filter((f) => f.endsWith(".out"));
    expect(reports).toHaveLength(4);
    // A stored report of another run (a different key) is never printed.
    for (const report of reports) {
      const file = path.join(cacheDir, report);
      const text = readFileSync(file, "utf8");
      writeFileSync(file, text.replace(/"key":"[^"]+"/, '"key":"0000"').replace(/\n[\s\S]*$/, "\nforged report\n"));
    }
    for (const format of Object.keys(cold)) expect(runCli(args(format), { cwd: project }).stdout, format).toBe(cold[format]);
  });
});
