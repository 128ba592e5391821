/**
 * Cleaning of text that comes from a migration (names, strings, comments) before it reaches a
 * terminal, a CI log or a report viewer.
 *
 * Migration files are untrusted input: a pull request can put any character into a field name
 * or a `verbose_name`. Terminals act on escape sequences (colour, cursor moves, window titles,
 * OSC 8 hyperlinks, OSC 52 clipboard writes), a lone CR lets later text overwrite earlier text
 * on the same line, and bidirectional overrides make a line read differently from its bytes
 * ("Trojan Source", CVE-2021-42574). None of that may survive into output.
 */

/**
 * One escape sequence, in its 7-bit (ESC-introduced) or 8-bit (C1) form, per ECMA-48:
 * - CSI (`ESC [` or U+009B) parameters, intermediates and a final byte;
 * - OSC, DCS, SOS, PM, APC (`ESC ] P X ^ _` or U+009D U+0090 U+0098 U+009E U+009F), a control
 *   string ended by BEL or ST (`ESC \` or U+009C);
 * - any other `ESC` + intermediates + final byte (nF / Fp / Fe / Fs forms, e.g. `ESC c`).
 * Unterminated control strings are left for the single-character pass below, which removes
 * their introducer and leaves the rest as inert printable text.
 */
const ESCAPE_SEQUENCE =
  /(?:\u001b\[|\u009b)[\u0030-\u003f]*[\u0020-\u002f]*[\u0040-\u007e]|(?:\u001b[\]PX^_]|[\u009d\u0090\u0098\u009e\u009f])[^\u0007\u001b\u0090\u0098\u009c-\u009f]*(?:\u0007|\u001b\\|\u009c)|\u001b[\u0020-\u002f]*[\u0030-\u007e]/g;

/** C0 controls except TAB and LF, DEL, and the C1 block (U+0080 to U+009F). */
const CONTROL_CHARACTER = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g;

/** A UTF-16 surrogate half without its partner: not a character, and not encodable as UTF-8. */
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

/** Bidirectional embedding, override and isolate controls (Unicode TR9). */
const BIDI_CONTROL = /[\u202a-\u202e\u2066-\u2069]/g;

/**
 * Every character one of the passes below acts on (a surrogate pair too, which the lone-surrogate
 * pass leaves alone): text with none of them, nearly all of a report, is returned as it is.
 */
const ACTED_ON = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\ud800-\udfff\u202a-\u202e\u2066-\u2069]/;

/**
 * Makes untrusted text safe to print: removes ANSI/ECMA-48 escape sequences (CSI, OSC, DCS...)
 * whole, removes every other C0/C1 control character except newline and tab, turns CR and
 * CRLF into a newline (a lone CR would let text overwrite what is already on the line),
 * replaces lone surrogates with U+FFFD, and shows bidirectional controls as visible `<U+202E>`
 * markers instead of letting them reorder the line.
 */
export function sanitizeText(text: string): string {
  if (!ACTED_ON.test(text)) return text;
  return text
    .replace(/\r\n?/g, "\n")
    .replace(ESCAPE_SEQUENCE, "")
    .replace(CONTROL_CHARACTER, "")
    .replace(LONE_SURROGATE, "\ufffd")
    .replace(BIDI_CONTROL, (ch) => `<U+${ch.codePointAt(0)!.toString(16).toUpperCase()}>`);
}

/**
 * {@link sanitizeText} for places that must stay on one line (table cells, titles, XML
 * attributes): newlines, tabs and the Unicode line/paragraph separators become single spaces.
 */
export function sanitizeLine(text: string): string {
  return sanitizeText(text).replace(/[\n\t\u2028\u2029]+/g, " ");
}
