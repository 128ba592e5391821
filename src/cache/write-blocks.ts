import { writeSync } from "node:fs";

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
