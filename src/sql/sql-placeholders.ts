/**
 * DB-API placeholder handling for the SQL of a Django `RunSQL`.
 *
 * Django runs `RunSQL` SQL given with params as `cursor.execute(sql, params)`: psycopg then reads
 * `%s` and `%(name)s` as placeholders and `%%` as one literal `%`. Without params Django calls
 * `cursor.execute(sql)` and every `%` is literal, so this module is only used when params exist.
 *
 * PostgreSQL never sees the placeholders: psycopg (2, and 3's client-side cursor that Django uses
 * by default) sends each parameter rendered as a literal. This module builds the text PostgreSQL
 * would see, with each placeholder replaced by the literal `''`, and keeps a map back to offsets in
 * the original string so facts and errors point at what the user wrote.
 */

/** SQL prepared for the parser, with a way back to offsets in the original string. */
export interface PreparedSql {
  /** The text to parse. */
  text: string;
  /** Maps a UTF-16 offset in `text` to the UTF-16 offset in the original SQL. */
  toOriginal(offset: number): number;
}

/** A placeholder psycopg would refuse, with its offset in the original SQL. */
export interface PlaceholderError {
  message: string;
  offset: number;
}

/** One replaced span: `[start, end)` in the prepared text and in the original. */
interface ReplacedSpan {
  preparedStart: number;
  preparedEnd: number;
  originalStart: number;
  originalEnd: number;
}

/**
 * The literal a placeholder becomes. An empty string literal is accepted by PostgreSQL's grammar
 * wherever psycopg can put a rendered parameter: expressions, `VALUES`, `DEFAULT`, `LIMIT` and the
 * value of `SET` (where `NULL` or a bare number would not always be).
 */
const PLACEHOLDER_LITERAL = "''";

/**
 * What a placeholder after `IN` becomes: psycopg renders a tuple parameter as a parenthesised
 * list (`IN %s` with `(("a", "b"),)` is `IN ('a', 'b')`, zulip's analytics 0019), the only
 * parameter that makes `IN %s` valid SQL.
 */
const IN_LIST_LITERAL = "('')";

/** Text that ends with the keyword `IN` (`WHERE x IN `, `NOT IN `). */
const ENDS_WITH_IN = /(^|[^\w$])in\s*$/i;

/** The identity mapping, for SQL that is parsed as written. */
export function unchangedSql(sql: string): PreparedSql {
  return { text: sql, toOriginal: (offset) => offset };
}

/**
 * Replaces DB-API placeholders the way psycopg formats a query with parameters: `%s` and
 * `%(name)s` become a literal, `%%` becomes `%`. psycopg 3 also accepts the `%b`/`%t` forms, so
 * they are read as placeholders too. Any other `%` sequence is an error psycopg would raise
 * ("unsupported format character", "incomplete placeholder"), as is mixing `%s` with `%(name)s`.
 */
export function replacePlaceholders(sql: string): PreparedSql | PlaceholderError {
  const spans: ReplacedSpan[] = [];
  let prepared = "";
  let copiedUpTo = 0;
  let positional: number | null = null;
  let named: number | null = null;

  const replace = (start: number, end: number, replacement: string): void => {
    prepared += sql.slice(copiedUpTo, start);
    if (replacement === PLACEHOLDER_LITERAL && ENDS_WITH_IN.test(prepared.slice(-40))) replacement = IN_LIST_LITERAL;
    const preparedStart = prepared.length;
    prepared += replacement;
    spans.push({ preparedStart, preparedEnd: prepared.length, originalStart: start, originalEnd: end });
    copiedUpTo = end;
  };

  let i = sql.indexOf("%");
  while (i !== -1) {
    const next = sql[i + 1];
    if (next === "%") {
      replace(i, i + 2, "%");
      i = sql.indexOf("%", i + 2);
      continue;
    }
    if (next === "s" || next === "b" || next === "t") {
      positional ??= i;
      replace(i, i + 2, PLACEHOLDER_LITERAL);
      i = sql.indexOf("%", i + 2);
      continue;
    }
    if (next === "(") {
      const close = sql.indexOf(")", i + 2);
      if (close === -1) {
        return { message: "incomplete placeholder: '%(' without ')'", offset: i };
      }
      const format = sql[close + 1];
      if (format !== "s" && format !== "b" && format !== "t") {
        return {
          message: `placeholder '${sql.slice(i, close + 1)}' must be followed by 's' (as in '%(name)s')`,
          offset: i,
        };
      }
      named ??= i;
      replace(i, close + 2, PLACEHOLDER_LITERAL);
      i = sql.indexOf("%", close + 2);
      continue;
    }
    if (next === undefined) {
      return { message: "incomplete placeholder: '%' at the end of the SQL (write '%%' for a literal %)", offset: i };
    }
    return {
      message: `unsupported format character '${next}' after '%' (write '%%' for a literal % when params are given)`,
      offset: i,
    };
  }
  if (positional !== null && named !== null) {
    return {
      message: "placeholders '%s' and '%(name)s' cannot be mixed in one query",
      offset: Math.max(positional, named),
    };
  }
  prepared += sql.slice(copiedUpTo);

  const toOriginal = (offset: number): number => {
    let shift = 0;
    for (const span of spans) {
      if (offset < span.preparedStart) break;
      if (offset < span.preparedEnd) return span.originalStart;
      shift = span.originalEnd - span.preparedEnd;
    }
    return offset + shift;
  };
  return { text: prepared, toOriginal };
}
