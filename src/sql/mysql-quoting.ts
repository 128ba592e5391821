import { afterComment } from "./sql-comments.js";

/**
 * MySQL's quoting, respelled for PostgreSQL's parser.
 *
 * rollsafe reads raw SQL with PostgreSQL's parser. SQL written for MySQL (and accepted by SQLite)
 * often quotes identifiers with backticks, writes strings in double quotes, and escapes quotes in
 * strings with a backslash; PostgreSQL rejects all three, so such SQL was never checked (DMOJ's
 * `UPDATE \`judge_comment\` ...`). This module rewrites them into what PostgreSQL reads the same
 * way, character for character (the text keeps its length, so every offset still points at what
 * the user wrote):
 *
 * - `` `name` `` becomes `"name"` (an identifier);
 * - `"text"` becomes `'text'` (a string, as MySQL's default `sql_mode` reads it), when it holds no
 *   single quote or backslash;
 * - `\'` inside a single-quoted string becomes `''`.
 *
 * Returns null when the SQL has none of these, or when one cannot be respelled at the same length
 * (an identifier holding a double quote, a string that would need escaping).
 */
export function postgresSpellingOfMysqlQuoting(sql: string): string | null {
  const out = sql.split("");
  let changed = false;
  let i = 0;
  while (i < sql.length) {
    const char = sql[i];
    const skipped = afterComment(sql, i);
    if (skipped !== i) {
      i = skipped;
    } else if (char === "`") {
      const end = sql.indexOf("`", i + 1);
      if (end === -1 || sql.slice(i + 1, end).includes('"')) return null;
      out[i] = '"';
      out[end] = '"';
      changed = true;
      i = end + 1;
    } else if (char === "'") {
      // MySQL: a backslash escapes the next character, and '' is a quote.
      let j = i + 1;
      for (; j < sql.length; j++) {
        if (sql[j] === "\\") {
          if (sql[j + 1] === "'") {
            out[j] = "'";
            changed = true;
          }
          j++;
        } else if (sql[j] === "'") {
          if (sql[j + 1] !== "'") break;
          j++;
        }
      }
      if (j >= sql.length) return null;
      i = j + 1;
    } else if (char === '"') {
      let j = i + 1;
      while (j < sql.length && sql[j] !== '"') j++;
      if (j >= sql.length) return null;
      const body = sql.slice(i + 1, j);
      if (!body.includes("'") && !body.includes("\\") && sql[j + 1] !== '"') {
        out[i] = "'";
        out[j] = "'";
        changed = true;
      }
      i = j + 1;
    } else {
      i++;
    }
  }
  return changed ? out.join("") : null;
}
