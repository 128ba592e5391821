/**
 * A file's stat as the parse cache keeps it, to trust an unchanged file without reading it (git's
 * index, ruff's cache). A module of its own, without `node:crypto`: the result cache's key makes
 * the stamps from the stats it takes anyway, on the start-up path of every run.
 */
import type { BigIntStats } from "node:fs";

/** How long before a run a file must have last changed for its stat to be kept (git's racy window). */
const RACY_NS = 2_000_000_000n;

/**
 * A file's stamp (size, mtime, ctime and inode), or null when the file must not be trusted by
 * it: not a regular file, or changed (mtime or ctime) less than two seconds before `takenAtNs`
 * (the wall clock, in ns, just before the stat was taken), so that it could change again within
 * the filesystem's timestamp granularity without a visible difference.
 */
export function fileStamp(stat: BigIntStats | undefined, takenAtNs: bigint): string | null {
  if (!stat?.isFile()) return null;
  const changed = stat.mtimeNs > stat.ctimeNs ? stat.mtimeNs : stat.ctimeNs;
  if (changed >= takenAtNs - RACY_NS) return null;
  return `${stat.size}:${stat.mtimeNs}:${stat.ctimeNs}:${stat.ino}`;
}

/** The file size a stamp records. */
export function stampedSize(stamp: string): number {
  return Number(stamp.slice(0, stamp.indexOf(":")));
}
