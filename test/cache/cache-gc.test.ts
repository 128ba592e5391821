/**
 * The cache stays bounded: a run that stores a new result key drops the result slots beyond the
 * most recently used ones, this version's shards no run read for a month (and the stamps files
 * of shards gone), other versions' directories unused for a week, and temporary files of runs
 * that died. Only names rollsafe
 * writes are removed, and other versions only from a directory that carries rollsafe's
 * `.gitignore`.
 */
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, utimesSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { collectCacheGarbage, IGNORE_FILE_MARKER, LAST_SLOT_FILE, MAX_RESULT_SLOTS, UNUSED_SHARD_DAYS, UNUSED_VERSION_DAYS } from "../../src/cache/cache-gc.js";
import { rollsafeVersion } from "../../src/cache/package-info.js";
import { REPO, runCli } from "../support/run-cli.js";

const DAY = 24 * 60 * 60 * 1000;
const NOW = Date.parse("2026-06-01T12:00:00Z");
const VERSION = "1.4.0";

let tmp: string;

beforeAll(() => {
  tmp = mkdtempSync(path.join(os.tmpdir(), "rollsafe-gc-"));
});

afterAll(() => {
  rmSync(tmp, { recursive: true, force: true });
});

/** Writes a file whose mtime is `at`. */
function put(file: string, at: number, text = "x"): void {
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, text);
  utimesSync(file, at / 1000, at / 1000);
}

const hex = (n: number, width = 32) => n.toString(16).padStart(width, "0");

/** A fresh cache directory with rollsafe's `.gitignore` (or without). */
function cacheDir(name: string, ours = true): string {
  const dir = path.join(tmp, name);
  mkdirSync(dir, { recursive: true });
  if (ours) writeFileSync(path.join(dir, ".gitignore"), `${IGNORE_FILE_MARKER}\n*\n`);
  return dir;
}

describe("collectCacheGarbage", () => {
  it(`keeps the ${MAX_RESULT_SLOTS} result slots used last, with their reports, and drops the rest`, () => {
    const dir = cacheDir("slots");
    const results = path.join(dir, VERSION, "results");
    const slots = MAX_RESULT_SLOTS + 5;
    for (let i = 0; i < slots; i++) {
      // Slot i was used i hours ago; its slot and report were written long before (a hit writes neither).
      put(path.join(results, `${hex(i)}.key`), NOW - i * 3_600_000);
      put(path.join(results, `${hex(i)}.json`), NOW - 90 * DAY);
      put(path.join(results, `${hex(i)}.${hex(7, 16)}.out`), NOW - 90 * DAY);
    }
    // A slot whose key file is missing (a run died between writes): the oldest of all.
    put(path.join(results, `${hex(999)}.json`), NOW);
    collectCacheGarbage(dir, VERSION, NOW);
    const left = new Set(readdirSync(results));
    for (let i = 0; i < slots; i++) {
      for (const name of [`${hex(i)}.key`, `${hex(i)}.json`, `${hex(i)}.${hex(7, 16)}.out`]) expect(left.has(name), `${name} (used ${i} h ago)`).toBe(i < MAX_RESULT_SLOTS);
    }
    expect(left.has(`${hex(999)}.json`)).toBe(false);
    expect(left.size).toBe(MAX_RESULT_SLOTS * 3);
  });

  it("leaves the result slots alone while there are few, whatever their age", () => {
    const dir = cacheDir("few-slots");
    const results = path.join(dir, VERSION, "results");
    put(path.join(results, `${hex(1)}.key`), NOW - 400 * DAY);
    put(path.join(results, `${hex(1)}.json`), NOW - 400 * DAY);
    collectCacheGarbage(dir, VERSION, NOW);
    expect(readdirSync(results).sort()).toEqual([`${hex(1)}.json`, `${hex(1)}.key`]);
  });

  it(`drops this version's shards no run read for ${UNUSED_SHARD_DAYS} days, the stamps files of shards gone, and temporary files over an hour old`, () => {
    const dir = cacheDir("shards");
    const version = path.join(dir, VERSION);
    put(path.join(version, `${hex(1)}.json`), NOW - (UNUSED_SHARD_DAYS + 1) * DAY);
    put(path.join(version, `${hex(2)}.json`), NOW - (UNUSED_SHARD_DAYS - 1) * DAY);
    // A stamps file goes with its shard, whatever its own age.
    put(path.join(version, `${hex(1)}.stamps.json`), NOW - 60_000);
    put(path.join(version, `${hex(2)}.stamps.json`), NOW - (UNUSED_SHARD_DAYS + 9) * DAY);
    put(path.join(version, `${hex(8)}.stamps.json`), NOW - 60_000);
    put(path.join(version, `${hex(9)}.stamps.json.1234.0a1b2c3d.tmp`), NOW - 2 * 3_600_000);
    put(path.join(version, `${hex(3)}.json.1234.0a1b2c3d.tmp`), NOW - 2 * 3_600_000);
    put(path.join(version, `${hex(4)}.json.1234.0a1b2c3d.tmp`), NOW - 60_000);
    put(path.join(version, "results", `${hex(5)}.key.1234.k3x9.tmp`), NOW - 2 * 3_600_000);
    put(path.join(version, "results", `${hex(6)}.${hex(1, 16)}.out.1234.k3x9.tmp`), NOW - 60_000);
    // The memo of the last settings' slot stays; its stale temporary file goes.
    put(path.join(version, "results", LAST_SLOT_FILE), NOW - 900 * DAY);
    put(path.join(version, "results", `${LAST_SLOT_FILE}.1234.k3x9.tmp`), NOW - 2 * 3_600_000);
    // Not a name rollsafe writes: never removed, however old.
    put(path.join(version, "notes.txt"), NOW - 900 * DAY);
    collectCacheGarbage(dir, VERSION, NOW);
    expect(readdirSync(version).sort()).toEqual([`${hex(2)}.json`, `${hex(2)}.stamps.json`, `${hex(4)}.json.1234.0a1b2c3d.tmp`, "notes.txt", "results"]);
    expect(readdirSync(path.join(version, "results")).sort()).toEqual([`${hex(6)}.${hex(1, 16)}.out.1234.k3x9.tmp`, LAST_SLOT_FILE].sort());
  });

  it(`drops another version's directory once nothing in it was used for ${UNUSED_VERSION_DAYS} days`, () => {
    const dir = cacheDir("versions");
    put(path.join(dir, VERSION, `${hex(1)}.json`), NOW);
    // Unused for a month: its shard and its result key both old.
    put(path.join(dir, "1.2.0", `${hex(1)}.json`), NOW - 30 * DAY);
    put(path.join(dir, "1.2.0", `${hex(1)}.stamps.json`), NOW - 30 * DAY);
    put(path.join(dir, "1.2.0", "results", `${hex(2)}.key`), NOW - 30 * DAY);
    put(path.join(dir, "1.2.0", "results", LAST_SLOT_FILE), NOW - 30 * DAY);
    // Its shards old, but a result key used yesterday (warm runs read no shard): still in use.
    put(path.join(dir, "1.3.0-beta.1", `${hex(1)}.json`), NOW - 30 * DAY);
    put(path.join(dir, "1.3.0-beta.1", "results", `${hex(2)}.key`), NOW - DAY);
    // Old, but holding a file rollsafe does not write: not ours to remove.
    put(path.join(dir, "1.1.0", `${hex(1)}.json`), NOW - 30 * DAY);
    put(path.join(dir, "1.1.0", "keep-me.py"), NOW - 30 * DAY);
    // Not a version's name.
    put(path.join(dir, "project", `${hex(1)}.json`), NOW - 30 * DAY);
    collectCacheGarbage(dir, VERSION, NOW);
    expect(readdirSync(dir).sort()).toEqual([".gitignore", "1.1.0", "1.3.0-beta.1", VERSION, "project"].sort());
    expect(readdirSync(path.join(dir, "1.1.0")).sort()).toEqual([`${hex(1)}.json`, "keep-me.py"]);
  });

  it("removes no other directory from a cache directory without rollsafe's .gitignore", () => {
    const dir = cacheDir("foreign", false);
    put(path.join(dir, "1.2.0", `${hex(1)}.json`), NOW - 30 * DAY);
    collectCacheGarbage(dir, VERSION, NOW);
    expect(existsSync(path.join(dir, "1.2.0", `${hex(1)}.json`))).toBe(true);
  });

  it("never throws on a cache directory that is missing or is a file", () => {
    expect(() => collectCacheGarbage(path.join(tmp, "missing"), VERSION, NOW)).not.toThrow();
    put(path.join(tmp, "a-file"), NOW);
    expect(() => collectCacheGarbage(path.join(tmp, "a-file"), VERSION, NOW)).not.toThrow();
  });
});

describe("through the CLI", () => {
  let project: string;
  let cache: string;
  const version = rollsafeVersion().replace(/[^\w.+-]/g, "_");

  beforeAll(async () => {
    project = path.join(tmp, "cli-project");
    cpSync(path.join(REPO, "fixtures/example-project"), project, { recursive: true });
    cache = path.join(tmp, "cli-cache");
    // Files changed within two seconds are not trusted, and a run over them is not stored.
    await new Promise((resolve) => setTimeout(resolve, 2100));
  });

  const check = (...args: string[]) => runCli(["check", ".", "--cache-dir", cache, ...args], { cwd: project });

  it("a hit marks its slot as used, a miss that stores drops an old version's directory", () => {
    // An old version's directory, unused for a month.
    const old = path.join(cache, "0.0.1");
    put(path.join(old, `${hex(1)}.json`), Date.now() - 30 * DAY);
    const first = check();
    expect([0, 1]).toContain(first.code);
    expect(existsSync(old)).toBe(false);
    const results = path.join(cache, version, "results");
    const [key] = readdirSync(results).filter((name) => name.endsWith(".key"));
    expect(key).toBeDefined();
    const keyFile = path.join(results, key as string);
    const shards = readdirSync(path.join(cache, version)).filter((name) => name.endsWith(".json"));
    expect(shards.length).toBeGreaterThan(0);
    // Back-date the key and the shards; a hit (the same report) touches the key only.
    const monthAgo = Date.now() - 30 * DAY;
    for (const file of [keyFile, ...shards.map((name) => path.join(cache, version, name))]) utimesSync(file, monthAgo / 1000, monthAgo / 1000);
    const hit = check();
    expect(hit.stdout).toBe(first.stdout);
    expect(statSync(keyFile).mtimeMs).toBeGreaterThan(Date.now() - 60_000);
    for (const name of shards) expect(statSync(path.join(cache, version, name)).mtimeMs).toBeLessThan(monthAgo + 1000);
    // A run that misses (other settings) reads the shards, which marks them as used; the month-old
    // ones were not dropped in between.
    const other = check("--select", "adding-index-non-concurrently");
    expect([0, 1]).toContain(other.code);
    for (const name of shards) expect(statSync(path.join(cache, version, name)).mtimeMs).toBeGreaterThan(Date.now() - 60_000);
  });
});
