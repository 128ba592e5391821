/** The cache's JSON files are ASCII (`src/cache/ascii-json.ts`): same values, cheaper to decode. */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { isAscii } from "node:buffer";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { asciiJson, asciiJsonPieces, readJsonText } from "../../src/cache/ascii-json.js";

const values: unknown[] = [
  "plain",
  "Café — naïve",
  { verbose_name: "Überprüfung", help: ["日本語", "emoji 😀 pair", "tab\t\"quote\"\\"] },
  ["\u0080", "\u07ff", "\u0800", "\uffff", "\u2028\u2029"],
  "lone \ud800 high and \udfff low surrogates",
  { "clé": 1, nested: { "ключ": [true, null, 1.5] } },
];

describe("ASCII JSON", () => {
  it("escapes every non-ASCII code unit and parses back to the same value", () => {
    for (const value of values) {
      const text = asciiJson(JSON.stringify(value, null, 2));
      expect(isAscii(Buffer.from(text, "utf8"))).toBe(true);
      expect(JSON.parse(text)).toEqual(value);
    }
  });

  it("escapes raw surrogates too, paired or lone (JSON text someone else wrote)", () => {
    for (const raw of ['"\ud83d\ude00"', '"\ud800 lone"', '"low \udfff"']) {
      const text = asciiJson(raw);
      expect(text).toMatch(/^[\x00-\x7f]*$/);
      expect(JSON.parse(text)).toBe(JSON.parse(raw));
    }
  });

  it("leaves ASCII text as it is", () => {
    const text = JSON.stringify({ a: "b", c: [1, 2] });
    expect(asciiJson(text)).toBe(text);
  });

  it("escapes a document given in pieces, wherever the pieces split it", () => {
    const text = JSON.stringify(values);
    const pieces = [text.slice(0, 17), text.slice(17, 40), text.slice(40)];
    expect(JSON.parse([...asciiJsonPieces(pieces)].join(""))).toEqual(values);
  });

  it("reads ASCII files and UTF-8 files (written by an older rollsafe) to the same text", () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), "rollsafe-ascii-"));
    const utf8 = path.join(dir, "utf8.json");
    const ascii = path.join(dir, "ascii.json");
    const text = JSON.stringify(values);
    writeFileSync(utf8, text, "utf8");
    writeFileSync(ascii, asciiJson(text), "utf8");
    expect(readJsonText(utf8)).toBe(text);
    expect(readJsonText(ascii)).toBe(asciiJson(text));
    expect(JSON.parse(readJsonText(ascii))).toEqual(JSON.parse(readJsonText(utf8)));
    expect(readFileSync(ascii).length).toBe(asciiJson(text).length);
    rmSync(dir, { recursive: true, force: true });
  });
});
