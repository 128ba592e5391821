/**
 * A file's stat as the parse cache keeps it, to trust an unchanged file without reading it (git's
 * index, ruff's cache). A module of its own, without `node:crypto`: the result cache's key makes
 * the stamps from the stats it takes anyway, on the start-up path of every run.
 */
import type { BigIntStats } from "node:fs";

/**
 * How recently a file may have changed and still be trusted by its stat (git's "racily clean"
 * window): one that changed within it could change again within the filesystem's timestamp
 * granularity without a visible difference. The result cache does not store a run whose newest
 * input is that recent, for the same reason.
 */
export const RACY_MS = 2000;

/** Stamps of migration files by path ({@link fileStamp}); a file changed too recently has none. */
export type FileStamps = ReadonlyMap<string, string>;

/** The wall clock in nanoseconds, as the stats' times are. */
export function wallClockNs(): bigint {
  return BigInt(Date.now()) * 1_000_000n;
}

/**
 * A file's stamp (size, mtime, ctime and inode), or null when the file must not be trusted by
 * it: not a regular file, or changed (mtime or ctime) within {@link RACY_MS} before `takenAtNs`
 * (the wall clock, in ns, just before the stat was taken).
 */
export function fileStamp(stat: BigIntStats | undefined, takenAtNs: bigint): string | null {
  return stat?.isFile() ? stampOf(stat, takenAtNs) : null;
}

/** What a stamp is made of: a regular file's stat, or the same numbers read back from a result-cache key. */
export interface StampFields {
  size: bigint;
  mtimeNs: bigint;
  ctimeNs: bigint;
  ino: bigint;
}

/** The stamp of a regular file's stat fields, or null when it changed within {@link RACY_MS} before `takenAtNs`. */
export function stampOf(stat: StampFields, takenAtNs: bigint): string | null {
  if (changedNs(stat) >= takenAtNs - BigInt(RACY_MS) * 1_000_000n) return null;
  return `${stat.size}:${stat.mtimeNs}:${stat.ctimeNs}:${stat.ino}`;
}

/** When a file last changed: the later of its mtime and ctime (a content change moves the ctime even when the mtime is put back). */
export function changedNs(stat: Pick<StampFields, "mtimeNs" | "ctimeNs">): bigint {
  return stat.mtimeNs > stat.ctimeNs ? stat.mtimeNs : stat.ctimeNs;
}

/** The stamps of `paths` from their stats (`stats[i]` is that of `paths[i]`), taken at `takenAtNs`. */
export function fileStamps(paths: readonly string[], stats: readonly (BigIntStats | undefined)[], takenAtNs: bigint): FileStamps {
  const stamps = new Map<string, string>();
  paths.forEach((file, i) => {
    const stamp = fileStamp(stats[i], takenAtNs);
    if (stamp) stamps.set(file, stamp);
  });
  return stamps;
}

/** The file size a stamp records. */
export function stampedSize(stamp: string): number {
  return Number(stamp.slice(0, stamp.indexOf(":")));
}
