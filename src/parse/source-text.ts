/**
 * Turning a file's bytes into text that is safe to parse, and offsets into 1-based lines and
 * columns. Every position in rollsafe goes through `LineIndex`, at this one edge.
 */

/** Why a file's bytes could not be turned into Python source. */
export class UndecodableSource extends Error {
  constructor(
    message: string,
    /** 1-based line of the first bad byte, when known. */
    readonly line: number,
    readonly column: number,
  ) {
    super(message);
  }
}

const CODING_COOKIE = /^[ \t\f]*#.*?coding[:=][ \t]*([-\w.]+)/;

/** Python codec names that the WHATWG `TextDecoder` spells differently. */
const PYTHON_ENCODING_ALIASES: Record<string, string> = {
  "latin-1": "iso-8859-1",
  latin1: "iso-8859-1",
  l1: "iso-8859-1",
  "iso8859-1": "iso-8859-1",
  "iso-8859-15": "iso-8859-15",
  "iso8859-15": "iso-8859-15",
  cp1252: "windows-1252",
  "windows-1252": "windows-1252",
  ascii: "utf-8",
  "us-ascii": "utf-8",
};

/** Encodings from PEP 263 cookies that mean UTF-8. */
const UTF8_NAMES = new Set(["utf-8", "utf8", "utf_8", "u8", "utf-8-sig"]);

/**
 * Decodes a Python source file the way CPython does: a UTF-8 BOM is dropped, a PEP 263 coding
 * cookie on line 1 or 2 selects the encoding, and anything else must be valid UTF-8.
 * Throws `UndecodableSource` for binary files and invalid bytes.
 */
export function decodePythonSource(bytes: Uint8Array): string {
  return universalNewlines(decodeText(bytes));
}

/**
 * CPython reads a lone `\r` as a line break (universal newlines, inside strings too: their value
 * holds a `\n`); tree-sitter-python skips it as whitespace, so `import a.b\rc` read as valid and
 * every line after one was numbered one less. Made a `\n`: the same length, so every offset holds.
 */
export function universalNewlines(text: string): string {
  return text.includes("\r") ? text.replace(/\r(?!\n)/g, "\n") : text;
}

function decodeText(bytes: Uint8Array): string {
  const nul = bytes.indexOf(0);
  if (nul >= 0) {
    const { line, column } = positionOfByte(bytes, nul);
    throw new UndecodableSource("binary file: contains a NUL byte", line, column);
  }
  let start = 0;
  if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) start = 3;
  const body = bytes.subarray(start);
  const found = codingCookie(body);
  const declared = found ? found.name.replace(/_/g, "-") : null;
  // With a BOM the cookie must say UTF-8 as CPython spells it (`utf-8`, `utf_8`, `utf-8-…`, any
  // case; not `utf8` or `u8`): anything else is CPython's "encoding problem: … with BOM".
  if (start === 3 && found && declared && !/^utf-8(?:$|-)/.test(declared)) {
    throw new UndecodableSource(`encoding problem: the coding declaration says \`${found.name}\` after a UTF-8 BOM`, found.line, 1);
  }
  const encoding = declared ? (PYTHON_ENCODING_ALIASES[declared] ?? declared) : null;
  if (encoding && !UTF8_NAMES.has(encoding)) {
    let decoder: TextDecoder;
    try {
      decoder = new TextDecoder(encoding, { fatal: true, ignoreBOM: true });
    } catch {
      throw new UndecodableSource(`unknown source encoding \`${encoding}\` in the coding declaration`, 1, 1);
    }
    try {
      return decoder.decode(body);
    } catch {
      throw new UndecodableSource(`bytes that are not valid ${encoding}`, 1, 1);
    }
  }
  try {
    // `ignoreBOM`: the BOM is dropped above, once; TextDecoder would drop a second one too, which
    // CPython reads as a character ("invalid non-printable character U+FEFF").
    return new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(body);
  } catch {
    // CPython's tokenizer never decodes a comment: a stray Latin-1 byte there is imported
    // fine (checked on 3.11, with and without a UTF-8 cookie), so only bytes elsewhere count.
    const bad = invalidUtf8OutsideComments(body);
    if (bad === null) return new TextDecoder("utf-8", { ignoreBOM: true }).decode(body);
    const { line, column } = positionOfByte(body, bad);
    throw new UndecodableSource(
      `not valid UTF-8: byte 0x${(body[bad] ?? 0).toString(16).padStart(2, "0")} at line ${line}`,
      line,
      column,
    );
  }
}

/** The PEP 263 coding cookie (lowercased) and its line, or null. */
function codingCookie(bytes: Uint8Array): { name: string; line: number } | null {
  // Only the first two lines may carry the cookie (PEP 263); they are ASCII by definition.
  let end = 0;
  let lines = 0;
  while (end < bytes.length && end < 400) {
    if (bytes[end] === 0x0a && ++lines === 2) break;
    end++;
  }
  const head = Buffer.from(bytes.subarray(0, end)).toString("latin1").split(/\r?\n|\r/);
  for (const [index, line] of head.slice(0, 2).entries()) {
    const match = CODING_COOKIE.exec(line);
    if (match?.[1]) return { name: match[1].toLowerCase(), line: index + 1 };
    // A non-comment, non-blank first line ends the search (PEP 263).
    if (!/^\s*(#.*)?$/.test(line)) break;
  }
  return null;
}

/** The length of the valid UTF-8 sequence at `i` (1 for ASCII), or 0 when it is not valid UTF-8. */
function utf8SequenceLength(bytes: Uint8Array, i: number): number {
  const b = bytes[i] ?? 0;
  if (b < 0x80) return 1;
  const need = b >= 0xc2 && b <= 0xdf ? 1 : b >= 0xe0 && b <= 0xef ? 2 : b >= 0xf0 && b <= 0xf4 ? 3 : -1;
  if (need < 0) return 0;
  for (let k = 1; k <= need; k++) {
    const c = bytes[i + k];
    if (c === undefined || (c & 0xc0) !== 0x80) return 0;
  }
  // Overlong and surrogate encodings, which TextDecoder refuses too.
  const second = bytes[i + 1] ?? 0;
  if ((b === 0xe0 && second < 0xa0) || (b === 0xed && second > 0x9f) || (b === 0xf0 && second < 0x90) || (b === 0xf4 && second > 0x8f)) return 0;
  return need + 1;
}

const HASH = 0x23;
const BACKSLASH = 0x5c;
const NEWLINE = 0x0a;
const RETURN = 0x0d;

/**
 * The offset of the first byte that is not valid UTF-8 outside a comment, or null when every
 * invalid byte is inside one. A byte-level scan of Python's lexical structure: comments run from
 * a `#` outside a string to the end of the line; strings (any prefix, single or triple quotes)
 * end at their closing quote, a backslash escaping the next byte.
 */
export function invalidUtf8OutsideComments(bytes: Uint8Array): number | null {
  let i = 0;
  while (i < bytes.length) {
    const b = bytes[i] as number;
    if (b === HASH) {
      while (i < bytes.length && bytes[i] !== NEWLINE && bytes[i] !== RETURN) i++;
      continue;
    }
    if (b === 0x22 || b === 0x27) {
      const triple = bytes[i + 1] === b && bytes[i + 2] === b;
      i += triple ? 3 : 1;
      while (i < bytes.length) {
        const c = bytes[i] as number;
        if (c === BACKSLASH) {
          i += 2;
          continue;
        }
        if (c === b && (!triple || (bytes[i + 1] === b && bytes[i + 2] === b))) {
          i += triple ? 3 : 1;
          break;
        }
        // A one-line string ends at the line's end (unterminated: a syntax error either way).
        if (!triple && (c === NEWLINE || c === RETURN)) break;
        const length = utf8SequenceLength(bytes, i);
        if (length === 0) return i;
        i += length;
      }
      continue;
    }
    const length = utf8SequenceLength(bytes, i);
    if (length === 0) return i;
    i += length;
  }
  return null;
}

function positionOfByte(bytes: Uint8Array, offset: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < offset; i++) {
    if (bytes[i] === 0x0a) {
      line++;
      lineStart = i + 1;
    }
  }
  return { line, column: offset - lineStart + 1 };
}

/** Maps string offsets to 1-based lines and UTF-16 columns. */
export class LineIndex {
  private readonly starts: number[];

  constructor(readonly text: string) {
    const starts = [0];
    for (let i = text.indexOf("\n"); i >= 0; i = text.indexOf("\n", i + 1)) starts.push(i + 1);
    this.starts = starts;
  }

  /**
   * 1-based line and column of a string offset. An offset between a CRLF's `\r` and `\n` (where
   * a token that runs to the end of a line ends, like a comment: tree-sitter's `#.*` takes the
   * `\r`) is at the `\r`: the two are one line break, as in every editor and in CPython.
   */
  position(offset: number): { line: number; column: number } {
    if (offset > 0 && this.text.charCodeAt(offset) === 0x0a && this.text.charCodeAt(offset - 1) === 0x0d) offset--;
    let lo = 0;
    let hi = this.starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if ((this.starts[mid] ?? 0) <= offset) lo = mid;
      else hi = mid - 1;
    }
    return { line: lo + 1, column: offset - (this.starts[lo] ?? 0) + 1 };
  }

  /** The text of a 1-based line, without its line break. */
  lineText(line: number): string {
    const start = this.starts[line - 1];
    if (start === undefined) return "";
    const next = this.starts[line];
    const end = next === undefined ? this.text.length : next - 1;
    return this.text.slice(start, end).replace(/\r$/, "");
  }

  /** Offset of the start of a 1-based line. */
  lineStart(line: number): number {
    return this.starts[Math.max(0, Math.min(line - 1, this.starts.length - 1))] ?? 0;
  }

  get lineCount(): number {
    return this.starts.length;
  }
}

/**
 * Whether a migration's source mentions partitioning at all ("partition", any case): the replay
 * follows partitioned tables only through migrations that do. The parse cache keeps the answer
 * with each model, so that a model it trusts by the file's stat need not read the source.
 */
export function sourceMentionsPartition(source: string): boolean {
  return /partition/i.test(source);
}
