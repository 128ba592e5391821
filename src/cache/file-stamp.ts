/**
 * A file's stat as the parse cache keeps it, to trust an unchanged file without reading it (git's
 * index, ruff's cache). A module of its own, without `node:crypto`: the result cache's key makes
 * the stamps from the stats it takes anyway, on the start-up path of every run.
 *
 * Stats are node's plain ones, not `bigint: true`: a `BigIntStats` makes fourteen BigInts and
 * four Dates, and a warm run over Debian's Django apps takes some 730 stats, so they cost it about
 * 3 ms (a fifth of its stats' time). The times are then milliseconds as doubles, which tell
 * apart changes about a quarter of a microsecond apart today (the double's precision at the
 * epoch's current distance), far below the racy window that guards recent changes.
 */
import type { Stats } from "node:fs";

/**
 * How recently a file may have changed and still be trusted by its stat (git's "racily clean"
 * window): one that changed within it could change again within the filesystem's timestamp
 * granularity without a visible difference. The result cache does not store a run whose newest
 * input is that recent, for the same reason.
 */
export const RACY_MS = 2000;

/** Stamps of migration files by path ({@link fileStamp}); a file changed too recently has none. */
export type FileStamps = ReadonlyMap<string, string>;

/**
 * A file's stamp (size, mtime, ctime and inode), or null when the file must not be trusted by
 * it: not a regular file, or changed (mtime or ctime) within {@link RACY_MS} before `takenAtMs`
 * (the wall clock, `Date.now()`, just before the stat was taken).
 */
export function fileStamp(stat: Stats | undefined, takenAtMs: number): string | null {
  return stat?.isFile() ? stampOf(stat, takenAtMs) : null;
}

/** What a stamp is made of: a regular file's stat, or the same numbers read back from a result-cache key. */
export interface StampFields {
  size: number;
  mtimeMs: number;
  ctimeMs: number;
  ino: number;
}

/** The stamp of a regular file's stat fields, or null when it changed within {@link RACY_MS} before `takenAtMs`. */
export function stampOf(stat: StampFields, takenAtMs: number): string | null {
  if (changedMs(stat) >= takenAtMs - RACY_MS) return null;
  return `${stat.size}:${stat.mtimeMs}:${stat.ctimeMs}:${stat.ino}`;
}

/** When a file last changed: the later of its mtime and ctime (a content change moves the ctime even when the mtime is put back). */
export function changedMs(stat: Pick<StampFields, "mtimeMs" | "ctimeMs">): number {
  return stat.mtimeMs > stat.ctimeMs ? stat.mtimeMs : stat.ctimeMs;
}

/** The stamps of `paths` from their stats (`stats[i]` is that of `paths[i]`), taken at `takenAtMs`. */
export function fileStamps(paths: readonly string[], stats: readonly (Stats | undefined)[], takenAtMs: number): FileStamps {
  const stamps = new Map<string, string>();
  paths.forEach((file, i) => {
    const stamp = fileStamp(stats[i], takenAtMs);
    if (stamp) stamps.set(file, stamp);
  });
  return stamps;
}

/** The file size a stamp records. */
export function stampedSize(stamp: string): number {
  return Number(stamp.slice(0, stamp.indexOf(":")));
}
