/**
 * The result cache: a re-run over an unchanged tree, with unchanged settings and an unchanged
 * rollsafe, prints the findings of the previous run without reading a migration.
 *
 * Findings depend on every migration of the involved apps (state is replayed through all of
 * them), so the cache holds whole runs, not files: one slot per working directory, checked paths
 * and settings (a single-file pre-commit run and a full run, or two `--select`s, do not evict
 * each other). A slot is valid while its key matches. The key is the text of:
 *
 * - rollsafe's version, the size and mtime of every module of its compiled code, and the
 *   installed versions of the packages whose code changes a report (the parsers, chalk);
 * - every setting that reaches the analysis (target, rules, severities, `start-after`, excludes,
 *   custom operations, `AUTH_USER_MODEL`, the report filter's outcome) and the configuration
 *   file's content;
 * - for every migration file of the involved apps and every app's `apps.py`: the path, size,
 *   mtime, ctime and inode, like ruff's cache and git's index. A change of content changes the
 *   ctime even when the mtime is put back.
 *
 * The key's text is stored beside the slot (`<slot>.key`) with a token, and compared whole: a
 * run the cache answers then needs no hash of it (hashing meant loading `node:crypto`, which was
 * 5 of the 135 ms of a warm run over Debian's Django apps; see src/util/hash128.ts). The slot and
 * the reports rendered from it carry the token, and a run whose key text differs writes a new
 * token with it, so a file written for another key is never read as this one's.
 *
 * Like git's "racily clean" entries, a run whose newest input changed less than two seconds
 * before it started is not stored: a file could change again within the filesystem's timestamp
 * granularity without a visible difference. Runs with discovery problems are not stored either.
 */
import { closeSync, mkdirSync, openSync, readdirSync, readFileSync, readSync, renameSync, rmSync, statSync, writeSync, type Stats } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { LintResult, LintSummary, RuleMeta } from "../model/types.js";
import { discover, type Discovery } from "../discover/find-apps.js";
import type { LintOptions } from "../engine/lint.js";
import { changedMs, RACY_MS, stampOf, type FileStamps } from "./file-stamp.js";
import type { Rule } from "../engine/rule-types.js";
import { PARSER_PACKAGES, packageVersions, rollsafeVersion } from "./package-info.js";
import { KeyHash } from "../util/hash128.js";
import { asciiJsonPieces, readJsonText } from "./ascii-json.js";
import { childPath, resolveFrom } from "../util/paths.js";
import { tempPath, writeFileAtomically } from "./write-blocks.js";
import { collectCacheGarbage, LAST_SLOT_FILE, touch } from "./cache-gc.js";
import { isSerialised, jsonChunks } from "../reporters/json-chunks.js";

/** What a cached run restores: the result (without rule metadata) and extra report data. */
export interface CachedRun<Extra> {
  result: LintResult;
  extra: Extra;
}

/** Bump when the stored shape changes. */
const RESULT_SCHEMA_VERSION = 2;

const here = path.dirname(fileURLToPath(import.meta.url));
let codeStamp: string | null = null;

/** The packages whose code changes a stored report: the parsers (the findings) and chalk (the colours). */
const REPORT_PACKAGES = [...PARSER_PACKAGES, "chalk"] as const;

/**
 * Size and mtime of every module of rollsafe that can run from `moduleDir` (the directory of
 * this module): dist/bundle/ from the bundle (the CLI and the parse worker are bundled, so
 * nothing else under dist/ is loaded), dist/src and dist/rules from the compiled modules, src/
 * and rules/ under vitest. Also the installed versions of REPORT_PACKAGES, as resolved from
 * there: an `npm update` changes them alone.
 */
export function codeStampOf(moduleDir: string): string {
  const lines = [`${rollsafeVersion()}\n`, packageVersions(REPORT_PACKAGES, moduleDir)];
  const visit = (dir: string): void => {
    let entries;
    try {
      entries = readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1));
    } catch {
      return;
    }
    for (const entry of entries) {
      const full = childPath(dir, entry.name);
      if (entry.isDirectory()) visit(full);
      else if (/\.([mc]?js|ts)$/.test(entry.name)) {
        const stat = statSync(full, { throwIfNoEntry: false });
        if (stat) lines.push(`${full}\0${stat.size}\0${stat.mtimeMs}\n`);
      }
    }
  };
  if (path.basename(moduleDir) === "bundle") visit(moduleDir);
  else {
    // dist/src/cache and src/cache: their src/ and the rules/ beside it.
    visit(path.resolve(moduleDir, ".."));
    visit(path.resolve(moduleDir, "../../rules"));
  }
  return lines.join("");
}

function rollsafeCodeStamp(): string {
  codeStamp ??= codeStampOf(here);
  return codeStamp;
}

function statLine(file: string, stat: Stats | undefined): string {
  return stat ? `${file}\0${stat.size}\0${stat.mtimeMs}\0${stat.ctimeMs}\0${stat.ino}\n` : `${file}\0-\n`;
}

function fileHash(file: string): string | null {
  try {
    return new KeyHash().update(readFileSync(file)).digest();
  } catch {
    return null;
  }
}

/** The settings that reach the analysis, in a stable text. */
function settingsText(paths: string[], options: LintOptions, ruleNames: readonly string[]): string {
  return JSON.stringify(
    {
      schema: RESULT_SCHEMA_VERSION,
      paths,
      cwd: options.cwd ?? process.cwd(),
      target: options.target ?? {},
      rules: ruleNames,
      severity: options.severity ?? {},
      startAfter: options.startAfter ?? {},
      configFile: options.configFile ?? null,
      // Its content too: settings that reach the run only as functions (`exclude-apps`) are in it.
      config: options.configFile ? fileHash(options.configFile) : null,
      authUserModel: options.authUserModel ?? null,
      maxFileSize: options.maxFileSize ?? null,
      exclude: options.exclude ?? [],
      operations: options.operations ? [...options.operations.entries()] : [],
    },
    (_key, value: unknown) => (typeof value === "function" ? String(value) : value instanceof Map ? [...value.entries()] : value),
  );
}

/** The start of a run's key: the code and the settings. */
function keyHead(settings: string): string {
  return `${rollsafeCodeStamp()}\0\0${settings}\n`;
}

/**
 * Key lines of paths stat'ed now (`statLine`), the paths among them that are not regular files
 * (they get no stamp), and the newest change among them. No stat is kept: 20,000 stats (then
 * `BigIntStats`) alive through the loop cost a warm run over 20,200 migrations 150 ms of garbage collection;
 * the stamps are made from the lines when a run misses (`stampsOfKey`). Synchronous: a
 * thread-pool round trip per file costs more than the stat itself.
 */
class StatLines {
  readonly lines: string[] = [];
  readonly notFiles = new Set<string>();
  newestMs = 0;

  add(file: string): void {
    this.lines.push(this.line(file));
  }

  /** The stat line of `file` now, counted in (not kept). */
  line(file: string): string {
    const stat = statSync(file, { throwIfNoEntry: false });
    if (stat && !stat.isFile()) this.notFiles.add(file);
    if (stat && changedMs(stat) > this.newestMs) this.newestMs = changedMs(stat);
    return statLine(file, stat);
  }

  static of(paths: readonly string[]): StatLines {
    const made = new StatLines();
    for (const file of paths) made.add(file);
    return made;
  }
}

/**
 * Calls `each` with the path and the bounds of every line of a stored key from `from` on (the
 * path is `report` for a report line), until it returns false; false then, or when a line is
 * not a key line.
 */
function eachKeyLine(text: string, from: number, each: (path: string, at: number, end: number) => boolean): boolean {
  for (let at = from; at < text.length; ) {
    const end = text.indexOf("\n", at);
    const name = text.indexOf("\0", at);
    if (end < 0 || name < 0 || name > end || !each(text.slice(at, name), at, end + 1)) return false;
    at = end + 1;
  }
  return true;
}

/**
 * The parse cache's stamps (`fileStamp`) of the files a key's text lists from `from` on, made from
 * their stat lines (`statLine` writes the same numbers): none for a path in `notFiles`, a missing
 * file, or one changed within the racy window before `takenAtMs`. Made once, when asked (a run
 * that misses).
 */
function stampsOfKey(text: string, from: number, notFiles: ReadonlySet<string>, takenAtMs: number): () => FileStamps {
  let made: FileStamps | null = null;
  return () => {
    if (made) return made;
    const stamps = new Map<string, string>();
    eachKeyLine(text, from, (file, at, end) => {
      if (file === "report" || notFiles.has(file)) return true;
      const fields = text.slice(at + file.length + 1, end - 1).split("\0");
      if (fields.length !== 4) return true;
      const [size, mtimeMs, ctimeMs, ino] = fields.map(Number) as [number, number, number, number];
      const stamp = stampOf({ size, mtimeMs, ctimeMs, ino }, takenAtMs);
      if (stamp) stamps.set(file, stamp);
      return true;
    });
    return (made = stamps);
  };
}

/**
 * The key a walk would make now, found without walking the tree when the stored key's walk still
 * holds. Beside its text a key keeps the stat of every directory, link and left-out directory
 * the walk's result depends on (`Discovery.watched`, see `walkStamps`): when each has the same
 * stat now, a walk would find the same files, so the text is the stored one with each file's
 * stat line made anew. A stat per line instead of listing every directory (a third of a warm
 * run over Debian's apps). The `report` lines are the walk's outcome and come along unchanged;
 * a run with a report filter (`--base`, whose answer from git can change alone) is not made this
 * way. Null when the walk does not hold (or the text is not this run's code and settings).
 * `same`: the text is the stored one (the lines are compared in place until one differs, and
 * only then is a new text made).
 */
function keyFromStoredWalk(stored: StoredKey, head: string, takenAtMs: number): { text: string; same: boolean; newestMs: number; stamps: () => FileStamps } | null {
  const { walk, text } = stored;
  if (walk === null || !text.startsWith(head)) return null;
  // Compared in place, line by line: a warm run does this for every directory of the tree.
  if (!eachKeyLine(walk, 0, (dir, at) => walk.startsWith(statLine(dir, statSync(dir, { throwIfNoEntry: false })), at))) return null;
  const now = new StatLines();
  // The text so far, once a line differs: the stored lines before it, then each line made now.
  let made: string[] | null = null;
  const complete = eachKeyLine(text, head.length, (file, at, end) => {
    if (file === "report") made?.push(text.slice(at, end));
    else {
      const line = now.line(file);
      if (made) made.push(line);
      else if (!text.startsWith(line, at)) made = [text.slice(0, at), line];
    }
    return true;
  });
  if (!complete) return null;
  const key = made ? (made as string[]).join("") : text;
  // The stamps of every file (the parse cache asks for the migrations among them), as a walk's key gives them.
  return { text: key, same: made === null, newestMs: now.newestMs, stamps: stampsOfKey(key, head.length, now.notFiles, takenAtMs) };
}

/**
 * The stat lines of what a walk's result depends on besides the files (`Discovery.watched`), or
 * null when one of them changed within the racy window before `takenAtMs` (a second change
 * within the file system's timestamp granularity could go unseen, as for the files).
 */
function walkStamps(watched: readonly string[], takenAtMs: number, racyMs: number | null): string | null {
  const { lines, newestMs } = StatLines.of(watched);
  return racyMs !== null && newestMs >= takenAtMs - racyMs ? null : lines.join("");
}

/** The key of a run (its text, after `head`, the code and settings: `keyHead`), or null when the run must not be cached (discovery problems). */
async function runKey(
  absolute: string[],
  head: string,
  options: LintOptions,
  takenAtMs: number,
  racyMs: number | null,
): Promise<{ text: string; walk: string | null; newestMs: number; discovery: Discovery; stamps: () => FileStamps } | null> {
  // The walk only: `apps.py` is in the key by its stat, and its label is read if the run happens.
  const discovery = await discover(absolute, { exclude: options.exclude, migrationModules: options.migrationModules, labelCache: false });
  if (discovery.problems.length > 0) return null;
  const reported = [...discovery.reportPaths].filter((p) => (options.reportFilter ? options.reportFilter(p) : true));
  const notReported = options.notReported;
  const files = discovery.files.map((f) => f.path);
  const appsPy = discovery.apps.map((a) => path.join(a.dir, "apps.py"));
  const { lines, notFiles, newestMs } = StatLines.of([...files, ...appsPy]);
  const key = [head, ...lines];
  const byPath = new Map(discovery.files.map((f) => [f.path, f] as const));
  for (const p of reported.sort()) {
    const ref = byPath.get(p);
    if (notReported && ref && notReported({ path: p, app: ref.app.label })) continue;
    key.push(`report\0${p}\n`);
  }
  const text = key.join("");
  return { text, walk: walkStamps(discovery.watched, takenAtMs, racyMs), newestMs, discovery, stamps: stampsOfKey(text, head.length, notFiles, takenAtMs) };
}

/** The length of a slot's name: `KeyHash`'s 32 hex digits. */
const SLOT_DIGITS = 32;

/** The first line of a stored key: this, a space and the token. */
const KEY_HEADER = "rollsafe result key";
/** The line before a stored key's walk stamps: this, a space and their number of lines. */
const WALK_HEADER = "walk";

/** A key as stored: its token, its text, and the stamps of its walk (`walkStamps`; null: none kept). */
interface StoredKey {
  token: string;
  text: string;
  walk: string | null;
}

/**
 * The key stored at `file`, or null. The file is the header line, then (when kept) `walk N` and
 * the walk's N stamp lines, then the text.
 */
function readStoredKey(file: string): StoredKey | null {
  let stored: string;
  try {
    stored = readJsonText(file);
  } catch {
    return null;
  }
  const newline = stored.indexOf("\n");
  const header = newline < 0 ? "" : stored.slice(0, newline);
  if (!header.startsWith(`${KEY_HEADER} `)) return null;
  const token = header.slice(KEY_HEADER.length + 1);
  let at = newline + 1;
  if (!stored.startsWith(`${WALK_HEADER} `, at)) return { token, text: stored.slice(at), walk: null };
  const end = stored.indexOf("\n", at);
  const count = Number(stored.slice(at + WALK_HEADER.length + 1, end));
  if (end < 0 || !Number.isInteger(count) || count < 0) return null;
  const walkStart = end + 1;
  at = walkStart;
  for (let i = 0; i < count; i++) {
    const next = stored.indexOf("\n", at);
    if (next < 0) return null;
    at = next + 1;
  }
  return { token, text: stored.slice(at), walk: stored.slice(walkStart, at) };
}

/** The pieces of a stored key (see `readStoredKey`). */
function keyPieces(token: string, text: string, walk: string | null): string[] {
  const head = `${KEY_HEADER} ${token}\n`;
  if (walk === null) return [head, text];
  let lines = 0;
  for (let i = walk.indexOf("\n"); i >= 0; i = walk.indexOf("\n", i + 1)) lines++;
  return [head, `${WALK_HEADER} ${lines}\n`, walk, text];
}

/** A token for a key text being stored: unique to this process and moment. */
function newToken(): string {
  return `${Date.now().toString(36)}.${process.pid.toString(36)}.${Math.random().toString(36).slice(2, 10)}`;
}

/** The result cache of one cache directory. */
export class ResultCache {
  private readonly dir: string;
  /** The name of this version's directory in the cache directory. */
  private readonly version: string;
  private readonly racyMs: number | null;

  /** `racyMs`: how recent a change makes a run unsafe to store (tests set it to null: never). */
  constructor(
    private readonly cacheDir: string,
    { racyMs = RACY_MS }: { racyMs?: number | null } = {},
  ) {
    this.version = rollsafeVersion().replace(/[^\w.+-]/g, "_");
    this.dir = path.join(cacheDir, this.version, "results");
    this.racyMs = racyMs;
  }

  /**
   * The slot of a run's settings: the hash of their text, taken from the memo of the last
   * settings a run stored a key for (`LAST_SLOT_FILE`: the slot, a line break and the settings)
   * when it holds these settings (`remembered`). Hashing their few kilobytes costs a fresh process
   * about 2 ms (the loop runs unoptimised); the memo is one small read and a comparison. A memo
   * that is not whole, or another's, is passed over: the slot's key is compared with the whole
   * settings anyway, so a wrong slot could only miss.
   */
  private slotOf(settings: string): { slot: string; remembered: boolean } {
    try {
      const memo = readFileSync(childPath(this.dir, LAST_SLOT_FILE), "utf8");
      const slot = memo.slice(0, SLOT_DIGITS);
      if (memo.length === SLOT_DIGITS + 1 + settings.length && memo[SLOT_DIGITS] === "\n" && memo.endsWith(settings) && /^[0-9a-f]+$/.test(slot)) return { slot, remembered: true };
    } catch {
      // No memo yet.
    }
    return { slot: new KeyHash().update(settings).digest(), remembered: false };
  }

  /**
   * Computes the key of a run (a directory walk and a stat per input file). Null when the run
   * must not be cached (discovery problems, an unreadable tree).
   */
  async lookup(paths: string[], options: LintOptions, ruleNames: readonly string[]): Promise<RunHandle | null> {
    const startedWall = Date.now();
    const cwd = options.cwd ?? process.cwd();
    const absolute = paths.map((p) => resolveFrom(cwd, p));
    const settings = settingsText(absolute, options, ruleNames);
    const { slot, remembered } = this.slotOf(settings);
    // Stored with the next key stored: the memo of these settings' slot, unless it holds them already.
    const slotMemo = remembered ? null : `${slot}\n${settings}`;
    const keyFile = childPath(this.dir, `${slot}.key`);
    const file = childPath(this.dir, `${slot}.json`);
    const storable = (newestMs: number) => this.racyMs === null || newestMs < startedWall - this.racyMs;
    const stored = readStoredKey(keyFile);
    try {
      const head = keyHead(settings);
      const known = stored && !options.reportFilter ? keyFromStoredWalk(stored, head, startedWall) : null;
      if (stored && known) {
        // The walk holds: the same directories, so the stored stamps stay true for the new text too.
        const base = { file, storable: storable(known.newestMs), walked: null, keyFile, keyText: known.text, keyWalk: stored.walk, startedMs: startedWall, slotMemo };
        return known.same ? { ...base, key: stored.token, stamps: null, keyStored: true } : { ...base, key: newToken(), stamps: known.stamps, keyStored: false };
      }
      const key = await runKey(absolute, head, options, startedWall, this.racyMs);
      if (!key) return null;
      const same = stored !== null && stored.text === key.text;
      // The same inputs, walked because a directory changed (a new file beside the migrations):
      // keep the walk's new stamps, so that the next run need not walk.
      if (same && key.walk !== null && key.walk !== stored.walk) writeFileAtomically(keyFile, keyPieces(stored.token, key.text, key.walk));
      return {
        key: same ? stored.token : newToken(),
        file,
        storable: storable(key.newestMs),
        walked: key.discovery,
        stamps: key.stamps,
        keyFile,
        keyText: key.text,
        keyWalk: key.walk,
        keyStored: same,
        startedMs: startedWall,
        slotMemo,
      };
    } catch {
      return null;
    }
  }

  /** The stored run of this handle, or null. `rules`: the metadata of the run's rules (the result's `rules`). */
  async read<Extra>(handle: RunHandle, rules: readonly RuleMeta[]): Promise<CachedRun<Extra> | null> {
    if (!handle.keyStored) return null;
    const run = await readSlot<Extra>(handle.file, handle.key, rules);
    if (run) touch(handle.keyFile);
    return run;
  }

  /** Stores the handle's key text with its token, once, before anything is stored under the token; false when it cannot be. */
  private storeKey(handle: RunHandle): boolean {
    if (handle.keyStored) return true;
    handle.keyStored = writeFileAtomically(handle.keyFile, keyPieces(handle.key, handle.keyText, handle.keyWalk));
    if (handle.keyStored && handle.slotMemo !== null) writeFileAtomically(childPath(this.dir, LAST_SLOT_FILE), handle.slotMemo);
    // A new key is a run that missed: the time to drop what no run has used for a while.
    if (handle.keyStored) collectCacheGarbage(this.cacheDir, this.version);
    return handle.keyStored;
  }

  /** Stores a run (nothing when its inputs changed too recently). */
  async write(handle: RunHandle, run: CachedRun<unknown>): Promise<void> {
    // The helper modules the analysis read: known only now, so their stat lines end the key (a
    // key made from the stored walk stats them again; a walk's key, without them, misses once).
    const inputs = run.result.inputs ?? [];
    if (inputs.length > 0 && !handle.keyStored) {
      const lines = StatLines.of(inputs);
      handle.keyText += lines.lines.join("");
      if (this.racyMs !== null && lines.newestMs >= handle.startedMs - this.racyMs) handle.storable = false;
    }
    if (handle.storable && this.storeKey(handle)) await writeSlot(handle.file, handle.key, run);
  }

  /**
   * A report rendered earlier from the stored run, for one output variant (format and colour):
   * the file and the byte offset where the report starts, with the summary the exit code needs.
   * A hit streams it to the output without parsing the run or holding the report in memory.
   */
  async readRendered(handle: RunHandle, variant: string): Promise<StoredReport | null> {
    if (!handle.keyStored) return null;
    const file = renderedFile(handle, variant);
    try {
      // The header is one JSON line: the key and the summary, well under 4 KiB.
      const head = readHead(file, 4096);
      const newline = head?.indexOf(10) ?? -1;
      if (!head || newline < 0) return null;
      const header = JSON.parse(head.subarray(0, newline).toString("utf8")) as { key: string; summary: LintSummary; internal: boolean };
      if (header.key !== handle.key || typeof header.summary?.errors !== "number") return null;
      // The slot's last use, by which the cache keeps its most used slots (src/cache/cache-gc.ts).
      touch(handle.keyFile);
      return { file, start: newline + 1, summary: header.summary, internal: header.internal === true };
    } catch {
      return null;
    }
  }

  /**
   * Stores a report as it is rendered, piece by piece (through a temporary file renamed into
   * place on `commit`), so a large report is never held whole. Null when the run may not be
   * stored or the cache cannot be written; a write that fails later drops the file silently.
   */
  renderedWriter(handle: RunHandle, variant: string, meta: ReportMeta): ReportFileWriter | null {
    if (!handle.storable || !this.storeKey(handle)) return null;
    const file = renderedFile(handle, variant);
    const tmp = tempPath(file);
    let fd: number | null = null;
    /** Gives the file up; never throws (the cache is best effort). */
    const drop = () => {
      try {
        if (fd !== null) closeSync(fd);
        fd = null;
        rmSync(tmp, { force: true });
      } catch {
        // Nothing to clean up, or nowhere to clean it up.
      }
    };
    try {
      mkdirSync(path.dirname(file), { recursive: true });
      fd = openSync(tmp, "w");
      writeSync(fd, `${JSON.stringify({ key: handle.key, summary: meta.summary, internal: meta.internal })}\n`);
    } catch {
      drop();
      return null;
    }
    return {
      write(text) {
        if (fd === null) return;
        try {
          writeSync(fd, text);
        } catch {
          drop();
        }
      },
      commit() {
        if (fd === null) return;
        try {
          closeSync(fd);
          fd = null;
          renameSync(tmp, file);
        } catch {
          drop();
        }
      },
      abort: drop,
    };
  }

  /**
   * Returns the cached run for these paths and options, or runs `compute` and stores its outcome
   * when the inputs allow. `rules` are the rules the run uses (the result's rule metadata).
   * `compute` gets the walk the key was made from (null when the run cannot be cached), to pass
   * to `analyze` as `walked`.
   */
  async run<Extra>(
    paths: string[],
    options: LintOptions,
    rules: readonly Rule[],
    compute: (walked: Discovery | null) => Promise<CachedRun<Extra>>,
  ): Promise<CachedRun<Extra> & { hit: boolean }> {
    const handle = await this.lookup(paths, options, rules.map((r) => r.meta.name));
    const cached = handle ? await this.read<Extra>(handle, rules.map((r) => r.meta)) : null;
    if (cached) return { ...cached, hit: true };
    const computed = await compute(handle?.walked ?? null);
    if (handle) await this.write(handle, computed);
    return { ...computed, hit: false };
  }
}

/** A run's place in the cache: its key, its slot file, and whether it may be stored. */
export interface RunHandle {
  key: string;
  file: string;
  storable: boolean;
  /**
   * The walk the key was made from (apps not yet labelled): a run that misses the cache starts
   * from it instead of walking the tree again. Valid only for the same paths and options. Null
   * when the key was made from the stored key's walk, without walking (the analysis walks).
   */
  walked: Discovery | null;
  /**
   * The parse cache's stamps of the key's files, made from the stats the key was made from
   * (once; the stats are let go then). For a run the cache does not answer: null when the
   * stored key was found unchanged.
   */
  stamps: (() => FileStamps) | null;
  /**
   * Where the key's text is stored, the text, its walk's stamps, and whether it is stored with
   * this handle's token (false: the token is new, so no stored run or report carries it yet).
   */
  keyFile: string;
  keyText: string;
  keyWalk: string | null;
  keyStored: boolean;
  /** When the lookup started (wall clock, ms): an input changed since then makes the run unsafe to store. */
  startedMs: number;
  /** What the memo of the last settings' slot becomes when this run's key is stored (`slotOf`), or null when it holds them already. */
  slotMemo: string | null;
}

/** A report file being written (see `ResultCache.renderedWriter`). */
export interface ReportFileWriter {
  write(text: string): void;
  /** Puts the finished file in place. */
  commit(): void;
  /** Drops the file (the report was not completely written). */
  abort(): void;
}

/** A stored report: where its text starts in the file, with what the exit code depends on. */
export interface StoredReport {
  file: string;
  start: number;
  summary: LintSummary;
  internal: boolean;
}

/** What the exit code of a stored report depends on. */
export interface ReportMeta {
  summary: LintSummary;
  internal: boolean;
}

function renderedFile(handle: RunHandle, variant: string): string {
  return handle.file.replace(/\.json$/, `.${new KeyHash().update(variant).digest().slice(0, 16)}.out`);
}

interface Slot {
  key: string;
  result: Omit<LintResult, "rules" | "sources"> & { sources: [string, string][] };
  extra: unknown;
}

async function readSlot<Extra>(file: string, key: string, rules: readonly RuleMeta[]): Promise<CachedRun<Extra> | null> {
  try {
    // A slot starts with its key (`slotPieces` writes it first). After an edit the key differs,
    // and a large run's slot (110 MB at 20,000 migrations) is not worth reading to find out.
    if (!startsWith(file, `{"key":${JSON.stringify(key)},`)) return null;
    const slot = JSON.parse(readJsonText(file)) as Slot;
    if (slot.key !== key || !Array.isArray(slot.result?.diagnostics)) return null;
    const { sources, ...rest } = slot.result;
    return { result: { ...rest, rules: [...rules], sources: new Map(sources) }, extra: slot.extra as Extra };
  } catch {
    return null;
  }
}

/** Whether the file's first bytes are `prefix` (ASCII); false when it cannot be read. */
function startsWith(file: string, prefix: string): boolean {
  return readHead(file, prefix.length)?.toString("latin1") === prefix;
}

/** Up to `length` bytes from the start of a file (fewer when it is shorter), or null when it cannot be read. */
function readHead(file: string, length: number): Buffer | null {
  let fd: number | null = null;
  try {
    fd = openSync(file, "r");
    const head = Buffer.alloc(length);
    return head.subarray(0, readSync(fd, head, 0, length, 0));
  } catch {
    return null;
  } finally {
    if (fd !== null) closeSync(fd);
  }
}

async function writeSlot(file: string, key: string, run: CachedRun<unknown>): Promise<void> {
  writeFileAtomically(file, asciiJsonPieces(slotPieces(key, run)));
}

/**
 * The slot's JSON (`JSON.stringify` of a `Slot`) in pieces, a finding and a source at a time: a
 * large run's slot (its findings and the text of every file with one) is never one string.
 */
function* slotPieces(key: string, run: CachedRun<unknown>): Generator<string> {
  const { rules: _rules, sources, diagnostics, ...rest } = run.result;
  yield `{"key":${JSON.stringify(key)},"result":{"diagnostics":[`;
  for (let i = 0; i < diagnostics.length; i++) yield `${i ? "," : ""}${JSON.stringify(diagnostics[i])}`;
  yield '],"sources":[';
  let first = true;
  for (const entry of sources ?? new Map<string, string>()) {
    yield `${first ? "" : ","}${JSON.stringify(entry)}`;
    first = false;
  }
  yield "]";
  for (const [name, value] of Object.entries(rest)) {
    const text = JSON.stringify(value) as string | undefined;
    if (text !== undefined) yield `,${JSON.stringify(name)}:${text}`;
  }
  // The release plan (25 MB of JSON at 20,000 migrations) a step at a time as well.
  if (!isSerialised(run.extra)) {
    yield "}}";
    return;
  }
  yield '},"extra":';
  yield* jsonChunks(run.extra, 0, 3, true);
  yield "}";
}
