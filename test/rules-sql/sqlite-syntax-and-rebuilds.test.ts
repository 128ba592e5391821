/**
 * SQL written for SQLite (ArchiveBox's `PRAGMA table_info(...)` before an `ALTER TABLE`, and
 * `AUTOINCREMENT` in its table rebuilds) is read with `PRAGMA` and `AUTOINCREMENT` respelled at the
 * same offsets, so the SQL rules check it; on a PostgreSQL target runsql-unparsable still says that
 * PostgreSQL rejects it. And a `DROP TABLE` a later statement makes good (ArchiveBox crawls 0002's
 * copy, drop and rename; OSF 0183's drop and `CREATE TABLE ... AS SELECT`) is a rebuild, not a
 * table the code loses.
 */
import { describe, expect, it } from "vitest";
import { lint } from "../../src/index.js";
import { postgresSpellingOfSqliteSyntax } from "../../src/sql/sqlite-syntax.js";
import type { Target } from "../../src/engine/rule-types.js";
import { libraryProjects } from "../support/library-project.js";

const project = libraryProjects("sqlite-syntax");

describe("postgresSpellingOfSqliteSyntax", () => {
  it("respells a statement's PRAGMA as SELECT and AUTOINCREMENT as blanks, at the same length", () => {
    const sql = "PRAGMA table_info(library_book); CREATE TABLE t (id integer PRIMARY KEY autoincrement, note text DEFAULT 'pragma AUTOINCREMENT')";
    const respelled = postgresSpellingOfSqliteSyntax(sql);
    expect(respelled).toBe("SELECT table_info(library_book); CREATE TABLE t (id integer PRIMARY KEY              , note text DEFAULT 'pragma AUTOINCREMENT')");
    expect(respelled).toHaveLength(sql.length);
  });

  it("leaves strings, quoted names, comments and a PRAGMA that does not start a statement", () => {
    expect(postgresSpellingOfSqliteSyntax(`SELECT "autoincrement", 'PRAGMA x' FROM t -- PRAGMA y`)).toBeNull();
    expect(postgresSpellingOfSqliteSyntax("SELECT pragma FROM t")).toBeNull();
    expect(postgresSpellingOfSqliteSyntax("/* c */ PRAGMA foreign_keys")).toBe("/* c */ SELECT foreign_keys");
  });
});

async function findings(operations: string, database: Target["database"], atomic = true) {
  const dir = project(`from django.db import migrations


def rebuild(apps, schema_editor):
    cursor = schema_editor.connection.cursor()
    cursor.execute("PRAGMA table_info(library_author)")
    cursor.execute("CREATE TABLE library_author_new (id integer PRIMARY KEY AUTOINCREMENT, name varchar(100) NOT NULL)")
    cursor.execute("INSERT INTO library_author_new (id, name) SELECT id, name FROM library_author")
    cursor.execute("DROP TABLE library_author")
    cursor.execute("ALTER TABLE library_author_new RENAME TO library_author")


class Migration(migrations.Migration):${atomic ? "" : "\n    atomic = False"}
    dependencies = [("library", "0001_initial")]
    operations = [
        ${operations},
    ]
`);
  const result = await lint([dir], { cwd: dir, target: { database }, ruleNames: ["runsql-unparsable", "runsql-dropping-table"] });
  return result.diagnostics.map((d) => ({ rule: d.rule, severity: d.severity, message: d.message, help: d.help.join("\n") }));
}

describe("SQLite's own SQL and hand-made table rebuilds", () => {
  it("on SQLite: no parse warning, and the copy-drop-rename is a rebuild under the write lock", async () => {
    const found = await findings("migrations.RunPython(rebuild, migrations.RunPython.noop)", "sqlite");
    expect(found.map((f) => `${f.rule}:${f.severity}`)).toEqual(["runsql-dropping-table:warning"]);
    expect(found[0]?.message).toBe(
      "`DROP TABLE library_author` and the `ALTER TABLE library_author_new RENAME TO library_author` after it rebuild the table of model `Author`: the running release's writes wait for the migration's write lock until it commits.",
    );
    expect(found[0]?.help).toContain("`.schema library_author`");
  });

  it("on PostgreSQL: PostgreSQL rejects the SQLite syntax, and the rebuild holds ACCESS EXCLUSIVE and may miss rows written during the copy", async () => {
    const found = await findings("migrations.RunPython(rebuild, migrations.RunPython.noop)", "postgresql");
    expect(found.map((f) => f.rule)).toEqual(["runsql-unparsable", "runsql-unparsable", "runsql-dropping-table"]);
    expect(found[0]?.message).toBe('PostgreSQL cannot run this `sql`: it reports `syntax error at or near "PRAGMA"`; the SQL is written for SQLite.');
    expect(found[2]?.message).toContain("`library_author` is locked against reads and writes from the DROP until the migration commits");
    expect(found[2]?.help).toContain("LOCK TABLE ... IN EXCLUSIVE MODE");
  });

  it("without the migration's transaction, the running release finds no table between the two: an error", async () => {
    const found = await findings("migrations.RunPython(rebuild, migrations.RunPython.noop)", "sqlite", false);
    expect(found.map((f) => `${f.rule}:${f.severity}`)).toEqual(["runsql-dropping-table:error"]);
    expect(found[0]?.help).toContain('"no such table: library_author"');
  });

  it("a DROP that nothing makes good is still the table the code loses", async () => {
    const found = await findings('migrations.RunSQL("DROP TABLE library_author", migrations.RunSQL.noop)', "postgresql");
    expect(found.map((f) => f.message)).toEqual(["`DROP TABLE library_author` drops the table of model `Author`, which the code still uses."]);
  });
});
