import { afterComment } from "./sql-comments.js";

/**
 * SQLite's own statements and keywords, respelled for PostgreSQL's parser.
 *
 * rollsafe reads raw SQL with PostgreSQL's parser, which rejects what only SQLite has: a `PRAGMA`
 * statement (`PRAGMA table_info(machine_machine)`, the introspection ArchiveBox's data migrations
 * run before an `ALTER TABLE`) and the `AUTOINCREMENT` of a column definition. This rewrites them
 * into what PostgreSQL reads with the same effect on rollsafe's checks, character for character (the
 * text keeps its length, so every offset still points at what the user wrote):
 *
 * - `PRAGMA` at the start of a statement becomes `SELECT`: a pragma reads or sets a connection
 *   setting, and touches no table's rows or schema as rollsafe reads them;
 * - `AUTOINCREMENT` becomes spaces: `integer PRIMARY KEY` is the column without it.
 *
 * Strings, quoted identifiers and comments are left alone. Returns null when there is neither.
 */
export function postgresSpellingOfSqliteSyntax(sql: string): string | null {
  const out = sql.split("");
  let changed = false;
  // Whether the next word starts a statement (only blanks, comments and `;` since the last one).
  let statementStart = true;
  let i = 0;
  while (i < sql.length) {
    const char = sql[i] as string;
    const skipped = afterComment(sql, i);
    if (skipped !== i) {
      i = skipped;
    } else if (char === "'" || char === '"' || char === "`" || char === "[") {
      const close = char === "[" ? "]" : char;
      let j = i + 1;
      for (; j < sql.length; j++) {
        if (sql[j] !== close) continue;
        if (close !== "]" && sql[j + 1] === close) j++;
        else break;
      }
      i = j + 1;
      statementStart = false;
    } else if (/[A-Za-z_]/.test(char)) {
      let j = i + 1;
      while (j < sql.length && /\w/.test(sql[j] as string)) j++;
      const word = sql.slice(i, j).toUpperCase();
      if (word === "PRAGMA" && statementStart) {
        out.splice(i, 6, ..."SELECT");
        changed = true;
      } else if (word === "AUTOINCREMENT") {
        for (let k = i; k < j; k++) out[k] = " ";
        changed = true;
      }
      statementStart = false;
      i = j;
    } else {
      if (char === ";") statementStart = true;
      else if (!/\s/.test(char)) statementStart = false;
      i++;
    }
  }
  return changed ? out.join("") : null;
}
