/**
 * Strings the run keeps: one copy of each short one, and long ones in one piece.
 */

/** Longer strings are rarely repeated (help texts, SQL): they are kept as they are. */
const MAX_LENGTH = 96;
/** Beyond this many different strings the table starts over (a long-lived process that reads many projects). */
const MAX_ENTRIES = 100_000;

let table = new Map<string, string>();

/**
 * The one copy of `text` (equal to it), made on first use. The parsed models repeat short
 * strings: names, dotted paths and literal strings (`"django.db.models.CharField"`,
 * `"created_at"`, `"CASCADE"`). A model holds a few hundred thousand of them over a large
 * project, and without this each is its own string (a slice of its file's text, or a
 * concatenation made by the reader), though a few thousand differ.
 */
export function intern(text: string): string {
  if (text.length > MAX_LENGTH) return text;
  const known = table.get(text);
  if (known !== undefined) return known;
  if (table.size >= MAX_ENTRIES) table = new Map();
  // A copy of its own: `text` may be a slice that would keep its whole file's text alive.
  const own = text.length < 13 ? text : `${text}\0`.slice(0, -1);
  table.set(own, own);
  return own;
}

/**
 * Whatever `Number()` reads; kept so that the conversion in {@link flatten} is not optimised away
 * as unused.
 */
let lastRead = 0;

/**
 * `text` in one piece. A string built by `+` or a template is a tree of its parts until
 * something reads it whole, and a finding's advice, built from dozens of parts, takes about
 * twice its length that way; the findings of a large run are kept until the report. Reading it
 * as a number makes V8 flatten it (what the `flatstr` package does).
 */
export function flatten(text: string): string {
  lastRead = Number(text) || lastRead;
  return text;
}
