/**
 * The parse cache, in the style of ruff's: the parsed migration model of each file, keyed by a
 * hash of the file's bytes, so an unchanged file is never parsed twice.
 *
 * Layout: `<cache dir>/<rollsafe version>/<hash of app dir + cache key>.json`, one shard per app
 * (state needs every migration of an app, so an app is always loaded whole, and a single-file run
 * reads one small shard rather than the whole project's). The cache key covers the parser's
 * schema version and the configuration that changes what the parser produces, so a changed
 * version or configuration reads other shards. Shards are written atomically (temporary file +
 * rename); a missing, corrupt or foreign shard is treated as empty and rewritten; a cache
 * directory that cannot be written leaves the run uncached, silently.
 *
 * Like git's index and ruff's cache, an entry also keeps the file's stat (size, mtime, ctime,
 * inode) when the file was last read, and a file whose stat is the same is not read again: its
 * model comes back with a `source` read only if something asks for it (a report's code frame, a
 * fix, a rule on a reported migration). Only a stat older than two seconds before the run is
 * kept, so a file that changes again within the filesystem's timestamp granularity is never
 * trusted ("racily clean" in git's terms); content changes move the ctime, which cannot be set
 * back. A pre-commit run after editing one migration of a 500-migration app read and hashed the
 * other 499 files (about 30 ms of 340).
 *
 * A file read again because its stat changed (a checkout, a copy, a `touch`) but whose content
 * the shard has takes its new stat without a rewrite of the shard (which serialises every model
 * of the app): the new stats go to a small file beside it, `<shard>.stamps.json`, which later
 * runs read with the shard. Without it every run after a checkout read and hashed those files
 * again until enough migrations changed for a rewrite (39 ms of a 395 ms pre-commit run after
 * an edit in the 500-migration app). A rewrite of the shard takes the stats in and drops the file.
 */
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { writeFileAtomically } from "./write-blocks.js";
import { IGNORE_FILE_MARKER, stampsFileOf, touch } from "./cache-gc.js";
import { asciiJson, asciiJsonPieces, readJsonText } from "./ascii-json.js";
import type { ParsedMigration } from "../parse/parse-migration.js";
import type { AppLabelCache } from "../parse/parse-app-config.js";
import { decodePythonSource, sourceMentionsPartition } from "../parse/source-text.js";

/** Marks a shard as ours (a foreign JSON file with the same name is ignored). */
const SHARD_FORMAT = "rollsafe-parse-cache";
/** Marks a shard's file of newer stats (`stampsFileOf`). */
const STAMPS_FORMAT = "rollsafe-parse-stamps";

/** A cached parse: the content hash of the file and the model without its source text. */
interface FileEntry {
  /** sha256 of the file's bytes. */
  h: string;
  /** The app label the file was parsed with (part of every id in the model). */
  app: string;
  /** The parsed model, `source` removed (it is decoded again from the bytes read anyway). */
  m: Omit<ParsedMigration, "source">;
  /** The file's stat when it was read (`fileStamp`), when it was old enough to trust. */
  s?: string;
  /** Whether the source mentions partitioning (`mentionsPartition`), for a model trusted by its stat. */
  p?: boolean;
}

interface ShardFile {
  format: typeof SHARD_FORMAT;
  key: string;
  appDir: string;
  /** The app's `apps.py`: hash of its bytes (null: no file) and the static label read from it. */
  appsPy: { h: string | null; label: string | null } | null;
  files: Record<string, FileEntry>;
}

/** A file's stat taken after its shard was written, for the entry with content hash `h`. */
type NewerStamp = Required<Pick<FileEntry, "h" | "s" | "p">>;

/** `<shard>.stamps.json`: the stats files were read with since the shard was written. */
interface StampsFile {
  format: typeof STAMPS_FORMAT;
  key: string;
  files: Record<string, NewerStamp>;
}

class Shard {
  /** Entries read from disk (with the newer stats of the stamps file); consulted only when the content hash matches. */
  readonly old: Map<string, FileEntry>;
  /** The entries seen in this run, by file name (JSON text when new): what the next write keeps. */
  readonly next = new Map<string, string | FileEntry>();
  /** Stats newer than the shard's own, by file name: what its stamps file keeps. */
  readonly newer: Map<string, NewerStamp>;
  /** Whether this run took a stat the shard and its stamps file lack. */
  restamped = false;
  appsPy: ShardFile["appsPy"];
  /** Must be written: new, or its apps.py label changed. */
  dirty = false;
  /** Files parsed (not found) in this run. */
  stored = 0;

  constructor(
    readonly file: string,
    readonly appDir: string,
    data: ShardFile | null,
    newer: Record<string, NewerStamp>,
  ) {
    this.old = new Map(Object.entries(data?.files ?? {}));
    this.newer = new Map();
    for (const [name, stamp] of Object.entries(newer)) {
      const entry = this.old.get(name);
      if (entry?.h !== stamp.h) continue;
      this.old.set(name, { ...entry, s: stamp.s, p: stamp.p });
      this.newer.set(name, stamp);
    }
    this.appsPy = data?.appsPy ?? null;
    if (!data) this.dirty = true;
  }
}

/** The sha256 of some bytes, hex. */
export function contentHash(bytes: Uint8Array | string): string {
  return createHash("sha256").update(bytes).digest("hex");
}

/** A parse cache over one cache directory and key. All methods are safe to call concurrently. */
export class ParseCache implements AppLabelCache {
  private readonly shards = new Map<string, Promise<Shard>>();
  private readonly versionDir: string;
  /** Whether the cache's directories exist or could be made (null: not tried yet). */
  private writable: boolean | null = null;

  /**
   * @param dir the cache directory (created on the first write)
   * @param version rollsafe's version: one sub-directory per version
   * @param key everything else that invalidates a parse (schema version, parsing options)
   */
  constructor(
    readonly dir: string,
    version: string,
    readonly key: string,
  ) {
    this.versionDir = path.join(dir, version.replace(/[^\w.+-]/g, "_"));
  }

  private shard(appDir: string): Promise<Shard> {
    let shard = this.shards.get(appDir);
    if (!shard) {
      const file = path.join(this.versionDir, `${contentHash(`${appDir}\0${this.key}`).slice(0, 32)}.json`);
      shard = readShard(file, appDir, this.key);
      this.shards.set(appDir, shard);
    }
    return shard;
  }

  /** The cached label of an app's `apps.py` with these bytes (null bytes: no apps.py). */
  async label(appDir: string, bytes: Uint8Array | null): Promise<{ label: string | null } | undefined> {
    const shard = await this.shard(appDir);
    const h = bytes ? contentHash(bytes) : null;
    return shard.appsPy && shard.appsPy.h === h ? { label: shard.appsPy.label } : undefined;
  }

  /** Records the label read from an app's `apps.py`. */
  async setLabel(appDir: string, bytes: Uint8Array | null, label: string | null): Promise<void> {
    const shard = await this.shard(appDir);
    shard.appsPy = { h: bytes ? contentHash(bytes) : null, label };
    shard.dirty = true;
  }

  /**
   * The cached model of a file with this content hash, or undefined. `source` is the file's
   * decoded text, put back into the model.
   */
  async lookup(file: CachedFile, hash: string, source: () => string | null, stamp: string | null = null): Promise<ParsedMigration | undefined> {
    const shard = await this.shard(file.appDir);
    const entry = entryFor(shard, file);
    if (!entry || entry.h !== hash) return undefined;
    const text = source();
    if (text === null) return undefined;
    // The file was read because its stat changed (a checkout, a `touch`): the entry takes the
    // new one, which the shard's stamps file keeps until the shard's next rewrite.
    if ((stamp ?? undefined) === entry.s) shard.next.set(file.name, entry);
    else if (stamp === null) shard.next.set(file.name, { h: entry.h, app: entry.app, m: entry.m });
    else {
      const p = sourceMentionsPartition(text);
      shard.next.set(file.name, { h: entry.h, app: entry.app, m: entry.m, s: stamp, p });
      shard.newer.set(file.name, { h: entry.h, s: stamp, p });
      shard.restamped = true;
    }
    return { ...entry.m, source: text } as ParsedMigration;
  }

  /**
   * The cached model of a file whose stat is `stamp` (`fileStamp`) as when it was read, or
   * undefined. Its source is read from the file when first asked for.
   */
  async trusted(file: CachedFile, stamp: string): Promise<ParsedMigration | undefined> {
    const shard = await this.shard(file.appDir);
    const entry = entryFor(shard, file);
    if (!entry || entry.s !== stamp || typeof entry.p !== "boolean") return undefined;
    shard.next.set(file.name, entry);
    return withSourceOnDemand(entry.m, entry.p);
  }

  /**
   * Stores a freshly parsed model. `json` is `JSON.stringify` of the model without `source` when
   * the caller has it already (a worker sends it). Models that JSON cannot carry exactly (a float
   * literal too large for a double becomes `Infinity`) are not cached.
   */
  async store(file: { appDir: string; name: string }, hash: string, migration: ParsedMigration, json?: string, stamp: string | null = null): Promise<void> {
    const shard = await this.shard(file.appDir);
    const text = json ?? modelJson(migration);
    shard.stored++;
    if (text === null) return;
    const stat = stamp ? `,"s":${JSON.stringify(stamp)},"p":${sourceMentionsPartition(migration.source)}` : "";
    shard.next.set(file.name, `{"h":${JSON.stringify(hash)},"app":${JSON.stringify(migration.app)}${stat},"m":${text}}`);
  }

  /**
   * Writes one app's shard if it changed, as soon as every file of the app is settled (found or
   * stored), and lets go of it: it holds the JSON of every model the run parsed for the app, as
   * large as the models themselves, which the rest of the run does not need. A later call for
   * the app reads the shard again.
   */
  async saveApp(appDir: string): Promise<void> {
    const shard = this.shards.get(appDir);
    if (!shard) return;
    this.shards.delete(appDir);
    await this.write([await shard]);
  }

  /** Writes every shard still held that changed, and lets go of them. */
  async save(): Promise<void> {
    const shards = await Promise.all(this.shards.values());
    this.shards.clear();
    await this.write(shards);
  }

  /**
   * Rewrites the shards whose changes are worth it, and writes the newer stats of the others
   * (their stamps file). Never throws: an unwritable cache only makes the next run slower.
   */
  private async write(shards: Shard[]): Promise<void> {
    const rewrite = shards.filter((s) => s.dirty || mustRewrite(s));
    const restamp = shards.filter((s) => !rewrite.includes(s) && s.restamped);
    if (rewrite.length === 0 && restamp.length === 0) return;
    this.writable ??= makeCacheDir(this.dir, this.versionDir);
    if (!this.writable) return;
    await Promise.all(rewrite.map((shard) => writeShard(shard, this.key)));
    // A rewritten shard holds every stat its stamps file kept.
    for (const shard of rewrite) removeStamps(shard.file);
    for (const shard of restamp) writeStamps(shard, this.key);
  }
}

/** A migration file as the cache finds it: its shard (the app's directory), name, path and app label. */
interface CachedFile {
  path: string;
  appDir: string;
  app: string;
  name: string;
}

/** The shard's entry for a file, if it was parsed with the same path and app label. */
function entryFor(shard: Shard, file: CachedFile): FileEntry | undefined {
  const entry = shard.old.get(file.name);
  return entry && entry.app === file.app && entry.m.path === file.path ? entry : undefined;
}

/**
 * A cached model whose `source` is read from its file (and kept) when something first asks for
 * it. A file that cannot be read or decoded by then (deleted or rewritten during the run) gives
 * an empty source: the model is the one of the file as it was when its stat was taken. The
 * getter stays (turning it into a data property on first use would make V8 move each such
 * model's properties into a dictionary, and the replay reads them all the time).
 */
function withSourceOnDemand(model: Omit<ParsedMigration, "source">, mentionsPartition: boolean): ParsedMigration {
  const file = model.path;
  let text: string | undefined;
  return {
    ...model,
    mentionsPartition,
    get source(): string {
      text ??= readSource(file);
      return text;
    },
  };
}

function readSource(file: string): string {
  try {
    return decodePythonSource(readFileSync(file));
  } catch {
    // Gone or changed beyond decoding since the run began: no text to show.
    return "";
  }
}

/** Creates the cache's directories (and its `.gitignore`); false when it cannot. */
function makeCacheDir(dir: string, versionDir: string): boolean {
  try {
    mkdirSync(versionDir, { recursive: true });
    writeIgnoreFile(dir);
    return true;
  } catch {
    return false;
  }
}

/**
 * Whether a shard's changes are worth rewriting it. Rewriting serialises every model of the app
 * (50 ms for 500 migrations), while a file the shard lacks costs one parse (about 1 ms) on the
 * next run: a pre-commit run after adding or editing a migration or two leaves the shard as it
 * is, and it is rewritten once enough files have changed (or been deleted).
 */
function mustRewrite(shard: Shard): boolean {
  let removed = 0;
  for (const name of shard.old.keys()) if (!shard.next.has(name)) removed++;
  return shard.stored + removed >= Math.max(REWRITE_AFTER_FILES, Math.ceil(shard.next.size * REWRITE_AFTER_SHARE));
}

/** A shard is rewritten once this many of its files (or this share of them) changed. */
const REWRITE_AFTER_FILES = 8;
const REWRITE_AFTER_SHARE = 0.05;

/** An int or float literal whose value JSON wrote as `null`: it was not finite. */
const NON_FINITE_LITERAL = /"kind":"(?:int|float)","value":null/;

/**
 * The JSON of a model without its source, or null when JSON would not give the model back
 * (`JSON.stringify` writes a non-finite number as `null`; only int and float literals hold
 * arbitrary numbers, as `"value"` right after their `"kind"`).
 */
export function modelJson(migration: ParsedMigration): string | null {
  const { source: _source, ...rest } = migration;
  const text = JSON.stringify(rest);
  return text.includes('"value":null') && NON_FINITE_LITERAL.test(text) ? null : text;
}

/**
 * Shards are read and written with synchronous I/O: a run waits for them either way, and
 * `fs.promises` adds thread-pool round trips (a third of a single-file pre-commit run after an
 * edit was the event loop idling on them).
 */
async function readShard(file: string, appDir: string, key: string): Promise<Shard> {
  let data: ShardFile | null = null;
  try {
    const parsed = JSON.parse(readJsonText(file)) as Partial<ShardFile> | null;
    if (parsed && parsed.format === SHARD_FORMAT && parsed.key === key && parsed.appDir === appDir && parsed.files && typeof parsed.files === "object") {
      data = parsed as ShardFile;
      // Its last use, by which the cache drops shards no run reads any more (src/cache/cache-gc.ts).
      touch(file);
    }
  } catch {
    // Missing, unreadable or corrupt: start empty; the next save rewrites it.
  }
  return new Shard(file, appDir, data, data ? readStamps(file, key) : {});
}

/** The newer stats kept beside a shard; none when the file is missing, corrupt or of another key. */
function readStamps(shardFile: string, key: string): Record<string, NewerStamp> {
  try {
    const parsed = JSON.parse(readJsonText(stampsFileOf(shardFile))) as Partial<StampsFile> | null;
    if (!parsed || parsed.format !== STAMPS_FORMAT || parsed.key !== key || !parsed.files || typeof parsed.files !== "object") return {};
    const valid: Record<string, NewerStamp> = {};
    for (const [name, stamp] of Object.entries(parsed.files)) {
      if (typeof stamp?.h === "string" && typeof stamp.s === "string" && typeof stamp.p === "boolean") valid[name] = { h: stamp.h, s: stamp.s, p: stamp.p };
    }
    return valid;
  } catch {
    return {};
  }
}

/** Drops a shard's stamps file, if any; never throws. */
function removeStamps(shardFile: string): void {
  try {
    rmSync(stampsFileOf(shardFile), { force: true });
  } catch {
    // Not ours to remove, or a read-only cache: its stats still hold for the hashes they name.
  }
}

/** Writes the newer stats of a shard's files still in it (the shard itself is left as it is). */
function writeStamps(shard: Shard, key: string): void {
  const files: Record<string, NewerStamp> = {};
  for (const [name, stamp] of [...shard.newer].sort(([a], [b]) => (a < b ? -1 : 1))) if (shard.next.has(name)) files[name] = stamp;
  const text: StampsFile = { format: STAMPS_FORMAT, key, files };
  writeFileAtomically(stampsFileOf(shard.file), asciiJson(JSON.stringify(text)));
}

async function writeShard(shard: Shard, key: string): Promise<void> {
  const names = [...shard.next.keys()].sort();
  const head = JSON.stringify({ format: SHARD_FORMAT, key, appDir: shard.appDir, appsPy: shard.appsPy });
  function* pieces(): Generator<string> {
    yield `${head.slice(0, -1)},"files":{\n`;
    for (let i = 0; i < names.length; i++) {
      const name = names[i] as string;
      const entry = shard.next.get(name);
      yield `${i ? ",\n" : ""}${JSON.stringify(name)}:${typeof entry === "string" ? entry : JSON.stringify(entry)}`;
    }
    yield "}}\n";
  }
  writeFileAtomically(shard.file, asciiJsonPieces(pieces()));
}

/** Like ruff, keeps the cache out of git: a `.gitignore` of `*` inside the cache directory. */
function writeIgnoreFile(dir: string): void {
  const file = path.join(dir, ".gitignore");
  if (!existsSync(file)) writeFileSync(file, `${IGNORE_FILE_MARKER}\n*\n`);
}
