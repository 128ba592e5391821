/**
 * Reads and parses every migration file once: the bytes are read (and hashed when a cache is
 * used), cached models are reused, and the rest is parsed, on worker threads when there are
 * enough files to pay for starting them. Results come back in the input order, so the output
 * does not depend on the number of workers or on which file finished first.
 */
import { availableParallelism } from "node:os";
import type { MigrationFileRef } from "../discover/find-apps.js";
import type { OperationCatalog } from "../model/third-party-operations.js";
import type { ParsedMigration } from "../parse/parse-migration.js";
import { statSync } from "node:fs";
import { contentHash, type ParseCache } from "../cache/parse-cache.js";
import { fileStamps, stampedSize, type FileStamps } from "../cache/file-stamp.js";
import { decodePythonSource } from "../parse/source-text.js";
import { attachLoadedSqlFacts, attachSqlFacts, missingSqlFacts } from "../engine/sql-facts-for-operation.js";
import { DEFAULT_MAX_FILE_SIZE, loadMigrationFile, readMigrationBytes, type LoadedFile } from "./read-migration.js";

/**
 * Below this many files to parse, starting workers (each loads tree-sitter, and the main thread
 * rebuilds every model a worker sends) costs more than it saves. Measured on two cores, where
 * one worker joins the main thread, cold runs of the CLI: 520 and 780 files took the same time
 * either way, for 15% more CPU with the worker; 1,040 files 0.975 s with it against 1.03 s
 * without (ten alternating runs each), for 10% more CPU and 9 MB more peak RSS. That holds with
 * the worker's code cache (parse-worker.cjs, made by the build): without it, 1,040 files took
 * the same time either way. With more cores, more workers share the parsing; that was last
 * measured at 200.
 */
function minFilesForWorkers(jobs: number): number {
  return jobs === 2 ? 1000 : 200;
}

/** Files parsed on the main thread between turns of the event loop. */
const YIELD_EVERY = 50;

/** Files read at the same time. */
const READ_CONCURRENCY = 16;

export interface LoadOptions {
  maxFileSize?: number;
  operations?: OperationCatalog;
  cache?: ParseCache | null;
  /** Parse threads (default: the number of cores); 1 parses on the main thread. */
  jobs?: number;
  onProgress?: (done: number, total: number) => void;
  /** Called with each file as soon as it is loaded (in no particular order). */
  onLoaded?: (file: LoadedFile) => void;
  /**
   * The files' stamps (`fileStamp`), taken already (by the result cache's key), by path:
   * the parse cache trusts a file whose stamp is the one it kept. A file without one is read.
   * Without them, the files are stat'ed here.
   */
  stamps?: FileStamps;
  /** Told, once every file is loaded, how many were parsed (and on how many threads) and how many the cache answered. */
  onCounts?: (counts: LoadCounts) => void;
}

/** How a load went: files parsed (the rest came from the cache or could not be read), on how many threads, and files the cache answered. */
export interface LoadCounts {
  parsed: number;
  threads: number;
  cached: number;
}

/** A file to parse: read already (and not found in the cache), or not read yet (no cache). */
interface Pending {
  index: number;
  bytes: Buffer | null;
  hash: string | null;
  /** The file's stat for the cache (`fileStamp`), when it may be trusted next time. */
  stamp: string | null;
}

/** The default `--jobs`: the cores node may use. */
export function defaultJobs(): number {
  return Math.max(1, availableParallelism());
}

/** Loads every file; never throws for a bad file (it becomes a failure entry). */
export async function loadMigrations(files: readonly MigrationFileRef[], options: LoadOptions = {}): Promise<LoadedFile[]> {
  const { cache, operations } = options;
  const loaded: LoadedFile[] = new Array(files.length);
  const pending: Pending[] = [];
  let done = 0;
  // A file can be counted twice when a worker dies and the main thread parses everything again.
  const progress = () => options.onProgress?.((done = Math.min(done + 1, files.length)), files.length);
  const loadedOne = (file: LoadedFile) => {
    options.onLoaded?.(file);
    progress();
  };
  const shards = cache ? new ShardWriter(files, cache) : null;
  let cachedCount = 0;

  if (cache) {
    // The cache needs each file's hash before it can tell what to parse: read everything first,
    // but the files whose stat is the one the cache kept.
    const stamps = options.stamps ?? stampFiles(files);
    const maxFileSize = options.maxFileSize ?? DEFAULT_MAX_FILE_SIZE;
    /** A file settled without parsing: found in the cache, or failed to read. */
    const settled = (index: number, file: LoadedFile) => {
      loaded[index] = file;
      loadedOne(file);
      shards?.settle(index);
    };
    let next = 0;
    const readers = Array.from({ length: Math.min(READ_CONCURRENCY, files.length) }, async () => {
      while (next < files.length) {
        const index = next++;
        const ref = files[index] as MigrationFileRef;
        // A file now over the size limit is read (and reported), whatever the cache holds.
        const given = stamps.get(ref.path) ?? null;
        const stamp = given !== null && stampedSize(given) <= maxFileSize ? given : null;
        const cached = { path: ref.path, appDir: ref.app.dir, app: ref.app.label, name: ref.name };
        const trusted = stamp ? await cache.trusted(cached, stamp) : undefined;
        if (trusted) {
          cachedCount++;
          settled(index, { ok: true, ref, migration: trusted });
          continue;
        }
        const read = await readMigrationBytes(ref, options.maxFileSize);
        if (!read.ok) {
          settled(index, read);
          continue;
        }
        const hash = contentHash(read.bytes);
        const hit = await cache.lookup(cached, hash, () => decodeOrNull(read.bytes), stamp);
        if (hit) {
          cachedCount++;
          settled(index, { ok: true, ref, migration: hit });
          continue;
        }
        pending.push({ index, bytes: read.bytes, hash, stamp });
      }
    });
    await Promise.all(readers);
  } else {
    // Without a cache, each file is read by the thread that parses it, when its batch comes up:
    // parsing starts at once, and the workers' share is read in parallel.
    for (let index = 0; index < files.length; index++) pending.push({ index, bytes: null, hash: null, stamp: null });
  }

  // Each parsed model is stored as it comes, so that an app's shard is written (and its JSON let
  // go) once the app is done, not held for every app until the end: at 20,200 files that JSON
  // is about 330 MB. With a parse cache, the SQL of every RunSQL is read before the model is
  // stored; a model parsed before the PostgreSQL parser had loaded (its loading starts at the
  // first RunSQL, on each thread) waits for it below. Without a cache the SQL is left to the
  // replay, which reads only what a rule asks for: a single-file run does not read the SQL of
  // the other 499 migrations of its app.
  const pendingAt = new Map(pending.map((p) => [p.index, p] as const));
  const waitingForSql: { index: number; migration: ParsedMigration }[] = [];
  const parsedOne = (file: LoadedFile, index: number, json?: string) => {
    loaded[index] = file;
    loadedOne(file);
    if (!shards) return;
    const cached = pendingAt.get(index);
    if (!cached?.hash || !file.ok) shards.settle(index);
    else if (missingSqlFacts(file.migration)) waitingForSql.push({ index, migration: file.migration });
    else shards.store(index, cached, file.migration, json);
  };

  const jobs = Math.max(1, Math.floor(options.jobs ?? defaultJobs()));
  let threads: number | null = null;
  if (jobs > 1 && pending.length >= minFilesForWorkers(jobs) && cloneable(operations)) {
    const { parseOnWorkers } = await import("./parse-pool.js");
    threads = await parseOnWorkers(
      pending.map((p) => ({ index: p.index, ref: files[p.index] as MigrationFileRef, bytes: p.bytes })),
      { jobs, operations, maxFileSize: options.maxFileSize, onFile: parsedOne, keepJson: Boolean(cache) },
    );
  }
  if (threads === null) {
    for (let i = 0; i < pending.length; i++) {
      const p = pending[i] as Pending;
      const file = loadMigrationFile(files[p.index] as MigrationFileRef, p.bytes, options.maxFileSize, operations);
      if (file.ok && cache) attachLoadedSqlFacts(file.migration);
      parsedOne(file, p.index);
      // node-tree-sitter frees a tree's native memory in a finalizer that runs from the event
      // loop, and V8 does not count that memory: without a turn of the loop now and then, a
      // long run holds every tree it parsed.
      if (i % YIELD_EVERY === YIELD_EVERY - 1) await new Promise((resolve) => setImmediate(resolve));
    }
  }
  for (const { index, migration } of waitingForSql) {
    await attachSqlFacts(migration);
    // The worker's JSON lacks the facts: the model is serialised again.
    shards?.store(index, pendingAt.get(index) as Pending, migration);
  }
  await shards?.finished();
  options.onCounts?.({ parsed: pending.length, threads: threads ?? 1, cached: cachedCount });
  return loaded;
}

/**
 * Stores parsed models in the parse cache and writes each app's shard once all of the app's
 * files are settled (found in the cache, stored, or failed to load). A file settles once: when
 * a worker dies and the main thread parses everything again, what was stored stays stored.
 */
class ShardWriter {
  private readonly settled: Uint8Array;
  private readonly left = new Map<string, number>();
  private readonly writes: Promise<void>[] = [];

  constructor(
    private readonly files: readonly MigrationFileRef[],
    private readonly cache: ParseCache,
  ) {
    this.settled = new Uint8Array(files.length);
    for (const file of files) this.left.set(file.app.dir, (this.left.get(file.app.dir) ?? 0) + 1);
  }

  /** Stores a parsed file under the hash (and stamp) it was read with. */
  store(index: number, read: Pending, migration: ParsedMigration, json?: string): void {
    if (this.settled[index]) return;
    const ref = this.files[index] as MigrationFileRef;
    this.writes.push(this.cache.store({ appDir: ref.app.dir, name: ref.name }, read.hash as string, migration, json, read.stamp).then(() => this.settle(index)));
  }

  settle(index: number): void {
    if (this.settled[index]) return;
    this.settled[index] = 1;
    const dir = (this.files[index] as MigrationFileRef).app.dir;
    const left = (this.left.get(dir) as number) - 1;
    this.left.set(dir, left);
    if (left === 0) this.writes.push(this.cache.saveApp(dir));
  }

  /** Waits for every store and write started so far (a store's write starts when it settles). */
  async finished(): Promise<void> {
    for (let seen = 0; seen < this.writes.length; ) {
      const batch = this.writes.slice(seen);
      seen = this.writes.length;
      await Promise.all(batch);
    }
  }
}

/** Stamps every file (for a caller that has not), synchronously: a thread-pool round trip costs more than a stat. */
function stampFiles(files: readonly MigrationFileRef[]): FileStamps {
  const takenAtMs = Date.now();
  const paths = files.map((f) => f.path);
  // An unreadable file gets no stat, so no stamp: it is read (and reported) below.
  const stats = paths.map((file) => {
    try {
      return statSync(file, { throwIfNoEntry: false });
    } catch {
      return undefined;
    }
  });
  return fileStamps(paths, stats, takenAtMs);
}

function decodeOrNull(bytes: Uint8Array): string | null {
  try {
    return decodePythonSource(bytes);
  } catch {
    return null;
  }
}

/** Whether the configured operations can be posted to a worker (functions cannot). */
function cloneable(operations: OperationCatalog | undefined): boolean {
  if (!operations) return true;
  for (const entry of operations.values()) for (const value of Object.values(entry)) if (typeof value === "function") return false;
  return true;
}
