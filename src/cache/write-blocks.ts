import { closeSync, mkdirSync, openSync, renameSync, rmSync, writeSync } from "node:fs";
import path from "node:path";

/**
 * Large text (reports, result-cache slots, parse-cache shards) is written in blocks of this many
 * characters. The block stays below V8's large-object size (a two-byte string of 32 Ki characters
 * is 64 KB): every larger string gets fresh pages of its own, and the page faults made gathering
 * 1 MiB blocks cost several times the write itself (a 94 MB report: about 0.5 s against 0.1 s).
 */
export const WRITE_BLOCK_CHARS = 1 << 15;

/** Writes `pieces` to an open file in blocks of about `WRITE_BLOCK_CHARS` characters (`write` is for tests). */
export function writePieces(fd: number, pieces: Iterable<string>, write: (fd: number, text: string) => unknown = writeSync): void {
  let block = "";
  for (const piece of pieces) {
    block += piece;
    if (block.length >= WRITE_BLOCK_CHARS) {
      write(fd, block);
      block = "";
    }
  }
  if (block) write(fd, block);
}

/** What a temporary file's name adds to the file it becomes (`tempPath`), as a regular expression's source. */
export const TEMP_SUFFIX = String.raw`\.\d+\.[0-9a-z]+\.tmp`;

/** The temporary file a cache file is written through: `<file>.<pid>.<random>.tmp`, renamed into place. */
export function tempPath(file: string): string {
  return `${file}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
}

/**
 * Writes a cache file through a temporary file (`tempPath`) and a rename, so a reader never sees
 * half a file; in blocks when given pieces. False when it could not; never throws (an
 * unwritable cache only leaves the run uncached).
 */
export function writeFileAtomically(file: string, text: string | Iterable<string>): boolean {
  // Synchronous: the run waits for it either way, and `fs.promises` adds thread-pool round trips.
  const tmp = tempPath(file);
  let fd: number | null = null;
  try {
    mkdirSync(path.dirname(file), { recursive: true });
    fd = openSync(tmp, "w");
    writePieces(fd, typeof text === "string" ? [text] : text);
    closeSync(fd);
    fd = null;
    renameSync(tmp, file);
    return true;
  } catch {
    try {
      if (fd !== null) closeSync(fd);
      rmSync(tmp, { force: true });
    } catch {
      // Nothing to clean up, or nowhere to clean it up.
    }
  }
  return false;
}
