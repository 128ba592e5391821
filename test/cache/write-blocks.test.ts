/** `writePieces`: what reaches the file is the pieces joined, whatever their sizes, in blocks of about WRITE_BLOCK_CHARS. */
import { closeSync, mkdtempSync, openSync, readFileSync, writeSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { WRITE_BLOCK_CHARS, writePieces } from "../../src/cache/write-blocks.js";

describe("writePieces", () => {
  it("writes the pieces joined, in blocks no larger than a block plus one piece, non-ASCII included", () => {
    const pieces: string[] = [];
    for (let i = 0; i < 400; i++) pieces.push(i % 37 === 0 ? "é😀".repeat(i * 13) : `piece ${i} `.repeat(i % 11), i % 101 === 0 ? "" : "\n");
    pieces.push("x".repeat(WRITE_BLOCK_CHARS * 3));
    const file = path.join(mkdtempSync(path.join(os.tmpdir(), "rollsafe-blocks-")), "out.txt");
    const fd = openSync(file, "w");
    const writes: number[] = [];
    writePieces(fd, pieces, (target, text) => {
      writes.push(text.length);
      return writeSync(target, text);
    });
    closeSync(fd);
    expect(readFileSync(file, "utf8")).toBe(pieces.join(""));
    expect(writes.length).toBeGreaterThan(2);
    const largest = Math.max(...pieces.map((p) => p.length));
    expect(writes.every((n) => n > 0 && n < WRITE_BLOCK_CHARS + largest)).toBe(true);
  });

  it("writes nothing for no pieces or only empty ones", () => {
    const writes: string[] = [];
    writePieces(-1, [], (_fd, text) => writes.push(text));
    writePieces(-1, ["", ""], (_fd, text) => writes.push(text));
    expect(writes).toEqual([]);
  });
});
