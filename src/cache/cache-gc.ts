/**
 * Keeps the cache directory from growing without bound.
 *
 * Nothing in the cache is ever updated in place for another key: a new rollsafe version writes
 * a directory of its own, a changed configuration (custom operations) writes new parse-cache
 * shards beside the old ones, and every set of checked paths and settings has its own result
 * slot (a pre-commit run gets one per set of staged migrations, each holding the text of its
 * files and its rendered reports). Left alone, a cache that CI restores and saves, or a
 * developer's over a year of commits, only grows. So a run that stores a new result key also
 * drops what no run has used for a while:
 *
 * - result slots beyond the {@link MAX_RESULT_SLOTS} most recently used (a hit touches the
 *   slot's key file, so its mtime is its last use);
 * - parse-cache shards of this version not read for {@link UNUSED_SHARD_DAYS} days (a read
 *   touches the shard), and the file of newer stats beside a shard that is gone;
 * - other versions' directories nothing in which was used for {@link UNUSED_VERSION_DAYS} days,
 *   when the cache directory carries rollsafe's `.gitignore` and the directory holds only what
 *   rollsafe writes (so a `--cache-dir` pointed at the wrong place loses nothing);
 * - temporary files left by a run that was killed while writing, after an hour.
 *
 * Only names rollsafe writes are ever removed. It never throws: a cache that cannot be listed
 * or cleaned is left as it is.
 */
import { readdirSync, readFileSync, rmSync, statSync, utimesSync } from "node:fs";
import path from "node:path";
import { listIn } from "../util/collections.js";
import { TEMP_SUFFIX } from "./write-blocks.js";

/** Result slots kept: a full run, the pre-commit runs of recent commits, a few settings each. */
export const MAX_RESULT_SLOTS = 32;
/** Another version's directory is dropped once nothing in it was used for this long. */
export const UNUSED_VERSION_DAYS = 7;
/** A shard of this version is dropped once no run read it for this long. */
export const UNUSED_SHARD_DAYS = 30;
/** A temporary file this old belongs to a run that died while writing it. */
const STALE_TEMP_MS = 60 * 60 * 1000;

const DAY_MS = 24 * 60 * 60 * 1000;

/** What the file of a parse-cache shard's newer stats adds to the shard's name (see `stampsFileOf`). */
const STAMPS_SUFFIX = ".stamps.json";

/** The file of a parse-cache shard's newer stats: `<shard>.stamps.json` beside `<shard>.json` (see `ParseCache`). */
export function stampsFileOf(shardFile: string): string {
  return shardFile.slice(0, -".json".length) + STAMPS_SUFFIX;
}

/** The first line of the `.gitignore` rollsafe writes in a cache directory (see `writeIgnoreFile`). */
export const IGNORE_FILE_MARKER = "# Automatically created by rollsafe.";

/**
 * Names rollsafe writes: a shard (32 hex digits) or its stamps file (`STAMPS_SUFFIX`), a result
 * key, slot or report, or a temporary file of one (`tempPath`).
 */
const SHARD_NAME = String.raw`[0-9a-f]{32}(?:\.stamps)?\.json`;
/** The file beside the result slots that remembers the slot of the last settings stored (see `ResultCache`). */
export const LAST_SLOT_FILE = "last-slot";

const RESULT_NAME = String.raw`(?:([0-9a-f]{32})\.(?:key|json|[0-9a-f]{16}\.out)|${LAST_SLOT_FILE})`;
const SHARD = new RegExp(`^${SHARD_NAME}$`);
const RESULT = new RegExp(`^${RESULT_NAME}$`);
const SHARD_TEMP = new RegExp(`^${SHARD_NAME}${TEMP_SUFFIX}$`);
const RESULT_TEMP = new RegExp(`^${RESULT_NAME}${TEMP_SUFFIX}$`);
/** A version directory's name: rollsafe's version with anything but `[\w.+-]` replaced (see `ParseCache`). */
const VERSION = /^\d+\.\d+\.\d+[\w.+-]*$/;

/** Marks a cache file as used now (a hit, a read shard); never throws. */
export function touch(file: string, now = Date.now()): void {
  try {
    utimesSync(file, now / 1000, now / 1000);
  } catch {
    // A read-only cache: it is still read, and only pruned sooner.
  }
}

/**
 * Drops what no run used for a while (see the module's comment) from the cache directory
 * `cacheDir`, whose directory for this version is `version`. Never throws.
 */
export function collectCacheGarbage(cacheDir: string, version: string, now = Date.now()): void {
  const versionDir = path.join(cacheDir, version);
  pruneResults(path.join(versionDir, "results"), now);
  pruneShards(versionDir, now);
  if (!isOurCacheDir(cacheDir)) return;
  for (const name of list(cacheDir)) {
    if (name === version || !VERSION.test(name)) continue;
    const dir = path.join(cacheDir, name);
    const lastUse = versionLastUse(dir);
    if (lastUse !== null && now - lastUse > UNUSED_VERSION_DAYS * DAY_MS) remove(dir, true);
  }
}

/** Keeps the {@link MAX_RESULT_SLOTS} slots whose key was used last, and drops stale temporary files. */
function pruneResults(dir: string, now: number): void {
  const slots = new Map<string, string[]>();
  for (const name of list(dir)) {
    const slot = RESULT.exec(name)?.[1];
    if (slot) listIn(slots, slot).push(name);
    else if (RESULT_TEMP.test(name)) removeIfOlder(path.join(dir, name), now - STALE_TEMP_MS);
  }
  if (slots.size <= MAX_RESULT_SLOTS) return;
  // A slot without a key file (a run that died between writes) counts as the oldest.
  const used = [...slots.keys()].map((slot) => ({ slot, at: mtimeOf(path.join(dir, `${slot}.key`)) ?? 0 }));
  used.sort((a, b) => b.at - a.at || (a.slot < b.slot ? -1 : 1));
  for (const { slot } of used.slice(MAX_RESULT_SLOTS)) for (const name of slots.get(slot) ?? []) remove(path.join(dir, name), false);
}

/**
 * Drops this version's shards no run read for {@link UNUSED_SHARD_DAYS} days, the stamps files
 * of shards that are gone, and stale temporary files.
 */
function pruneShards(dir: string, now: number): void {
  const names = list(dir);
  const stampsFiles = new Set(names.filter((name) => SHARD.test(name) && name.endsWith(STAMPS_SUFFIX)));
  for (const name of names) {
    if (SHARD_TEMP.test(name)) removeIfOlder(path.join(dir, name), now - STALE_TEMP_MS);
    else if (SHARD.test(name) && !stampsFiles.has(name)) removeIfOlder(path.join(dir, name), now - UNUSED_SHARD_DAYS * DAY_MS);
  }
  // A stamps file goes with its shard (after the shards, so that one dropped just now counts).
  for (const name of stampsFiles) {
    if (mtimeOf(path.join(dir, `${name.slice(0, -STAMPS_SUFFIX.length)}.json`)) === null) remove(path.join(dir, name), false);
  }
}

/**
 * When a version directory was last used: the newest mtime of its shards and result files (or
 * of the directory itself when empty). Null when it holds anything rollsafe does not write.
 */
function versionLastUse(dir: string): number | null {
  let last: number | null = null;
  for (const name of list(dir)) {
    const full = path.join(dir, name);
    if (name === "results") {
      for (const inner of list(full)) {
        if (!RESULT.test(inner) && !RESULT_TEMP.test(inner)) return null;
        last = Math.max(last ?? 0, mtimeOf(path.join(full, inner)) ?? 0);
      }
    } else if (SHARD.test(name) || SHARD_TEMP.test(name)) {
      last = Math.max(last ?? 0, mtimeOf(full) ?? 0);
    } else return null;
  }
  return last ?? mtimeOf(dir);
}

/** Whether `dir` holds the `.gitignore` rollsafe writes into the cache directories it makes. */
function isOurCacheDir(dir: string): boolean {
  try {
    return readFileSync(path.join(dir, ".gitignore"), "utf8").startsWith(IGNORE_FILE_MARKER);
  } catch {
    return false;
  }
}

function list(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

function mtimeOf(file: string): number | null {
  try {
    return statSync(file).mtimeMs;
  } catch {
    return null;
  }
}

function removeIfOlder(file: string, before: number): void {
  const mtime = mtimeOf(file);
  if (mtime !== null && mtime < before) remove(file, false);
}

function remove(target: string, recursive: boolean): void {
  try {
    rmSync(target, { recursive, force: true });
  } catch {
    // Taken by another run, or not ours to remove: left as it is.
  }
}
