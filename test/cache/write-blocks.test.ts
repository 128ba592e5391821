/**
 * `writePieces`: what reaches the file is the pieces joined, whatever their sizes, in blocks of
 * about WRITE_BLOCK_CHARS. `writeFileAtomically`: the whole file or none, and no temporary file left.
 */
import { closeSync, mkdtempSync, openSync, readdirSync, readFileSync, writeFileSync, writeSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { WRITE_BLOCK_CHARS, writeFileAtomically, writePieces } from "../../src/cache/write-blocks.js";

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

describe("writeFileAtomically", () => {
  it("replaces the file whole, making its directory, and leaves no temporary file", () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), "rollsafe-atomic-"));
    const file = path.join(dir, "a", "b", "slot.json");
    expect(writeFileAtomically(file, ["{", '"x":', "1}"])).toBe(true);
    expect(readFileSync(file, "utf8")).toBe('{"x":1}');
    expect(writeFileAtomically(file, "second")).toBe(true);
    expect(readFileSync(file, "utf8")).toBe("second");
    expect(readdirSync(path.dirname(file))).toEqual(["slot.json"]);
  });

  it("returns false, throws nothing and leaves nothing behind when the file cannot be written", () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), "rollsafe-atomic-"));
    // The directory it would need is a file.
    writeFileSync(path.join(dir, "blocked"), "");
    expect(writeFileAtomically(path.join(dir, "blocked", "slot.json"), "text")).toBe(false);
    // A piece that throws halfway: the old file stays, and the temporary one is removed.
    const file = path.join(dir, "slot.json");
    writeFileSync(file, "old");
    function* failing(): Generator<string> {
      yield "x".repeat(WRITE_BLOCK_CHARS * 2);
      throw new Error("serialisation failed");
    }
    expect(writeFileAtomically(file, failing())).toBe(false);
    expect(readFileSync(file, "utf8")).toBe("old");
    expect(readdirSync(dir).sort()).toEqual(["blocked", "slot.json"]);
  });
});
