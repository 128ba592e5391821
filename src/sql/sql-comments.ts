/**
 * Where the SQL comment at `i` ends (after its newline, or after its `*\/`; the text's end when it
 * is not closed), or `i` itself when no comment starts there. For the same-length respellings of
 * other dialects (`mysql-quoting.ts`, `sqlite-syntax.ts`), which leave comments alone.
 */
export function afterComment(sql: string, i: number): number {
  if (sql[i] === "-" && sql[i + 1] === "-") {
    const end = sql.indexOf("\n", i);
    return end === -1 ? sql.length : end + 1;
  }
  if (sql[i] === "/" && sql[i + 1] === "*") {
    const end = sql.indexOf("*/", i + 2);
    return end === -1 ? sql.length : end + 2;
  }
  return i;
}
