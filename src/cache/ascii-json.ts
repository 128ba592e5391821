import { Buffer, isAscii } from "node:buffer";
import { readFileSync } from "node:fs";

/**
 * The cache's JSON files are written in ASCII: every character past U+007F is escaped (`\u00e9`).
 *
 * A file with a single non-ASCII character has to be decoded as UTF-8 into a two-byte string,
 * which costs far more than the read: a 3.5 MB shard of 500 migrations holding 95 non-ASCII
 * characters (a `verbose_name`, a help text) took 25–44 ms to decode, against under 5 ms read as
 * Latin-1 once those characters are escaped, and `JSON.parse` reads the one-byte string no
 * slower. JSON outside its strings is ASCII, so escaping any code unit past U+007F, wherever it
 * stands, gives a document that parses to the same value (`JSON.stringify` already escapes lone
 * surrogates, and a pair escaped unit by unit parses back to the same pair).
 */
const NON_ASCII = /[^\x00-\x7f]/g;

function escapeUnit(unit: string): string {
  return `\\u${unit.charCodeAt(0).toString(16).padStart(4, "0")}`;
}

/** JSON text with every non-ASCII code unit escaped; the same string when it is ASCII already. */
export function asciiJson(text: string): string {
  // Every code unit past U+007F takes more than one byte in UTF-8, so text is ASCII exactly when
  // its UTF-8 length is its length: counted natively, three times faster than a regex test
  // (which scanned the 331 MB of shards written at 20,000 migrations at about 1.5 ms a MB).
  return Buffer.byteLength(text, "utf8") === text.length ? text : text.replace(NON_ASCII, escapeUnit);
}

/** `asciiJson` over a document given in pieces. */
export function* asciiJsonPieces(pieces: Iterable<string>): Generator<string> {
  for (const piece of pieces) yield asciiJson(piece);
}

/**
 * A JSON file's text: read as Latin-1 when its bytes are all ASCII (what rollsafe writes, and
 * the same text), else decoded as UTF-8 (a file an older rollsafe wrote, or someone else did).
 */
export function readJsonText(file: string): string {
  const bytes = readFileSync(file);
  return isAscii(bytes) ? bytes.toString("latin1") : bytes.toString("utf8");
}
