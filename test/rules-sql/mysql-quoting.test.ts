/**
 * Raw SQL quoted the MySQL way (backticks, double-quoted strings, backslash-escaped quotes) is read
 * with its quoting respelled, at the same offsets, so the SQL rules check it (DMOJ's
 * `UPDATE \`judge_comment\` ...` and `ALTER TABLE \`...\` DROP COLUMN` were only "cannot parse").
 * PostgreSQL itself rejects that quoting: on a PostgreSQL target runsql-unparsable still says so.
 */
import { describe, expect, it } from "vitest";
import { lint } from "../../src/index.js";
import { postgresSpellingOfMysqlQuoting } from "../../src/sql/mysql-quoting.js";
import type { Target } from "../../src/engine/rule-types.js";
import { libraryProjects } from "../support/library-project.js";

const project = libraryProjects("mysql-quoting");

describe("postgresSpellingOfMysqlQuoting", () => {
  it("respells backticks, double-quoted strings and \\' at the same length", () => {
    const sql = "UPDATE `library_book` SET `title` = \"it\", `subtitle` = 'it\\'s' WHERE `id` > 0 -- `not` \"this\"";
    const respelled = postgresSpellingOfMysqlQuoting(sql);
    expect(respelled).toBe(`UPDATE "library_book" SET "title" = 'it', "subtitle" = 'it''s' WHERE "id" > 0 -- \`not\` "this"`);
    expect(respelled).toHaveLength(sql.length);
  });

  it("leaves SQL without MySQL quoting, and quoting it cannot respell at the same length", () => {
    // In MySQL's default sql_mode a double-quoted text is a string.
    expect(postgresSpellingOfMysqlQuoting(`UPDATE t SET title = "x"`)).toBe(`UPDATE t SET title = 'x'`);
    expect(postgresSpellingOfMysqlQuoting("UPDATE library_book SET title = 'x'")).toBeNull();
    expect(postgresSpellingOfMysqlQuoting('SELECT `a"b` FROM t')).toBeNull();
    expect(postgresSpellingOfMysqlQuoting("SELECT `a FROM t")).toBeNull();
    // A backslash before a backslash escapes it, not the closing quote.
    expect(postgresSpellingOfMysqlQuoting("SELECT 'a\\\\' FROM `t`")).toBe(`SELECT 'a\\\\' FROM "t"`);
  });
});

const migration = (operations: string) => `from django.db import migrations


def populate(apps, schema_editor):
    schema_editor.execute("UPDATE \`library_book\` SET \`pages\` = %s", (1,))


class Migration(migrations.Migration):
    dependencies = [("library", "0001_initial")]

    operations = [
${operations}
    ]
`;

async function rulesOn(source: string, database: Target["database"]) {
  const dir = project(source);
  const result = await lint([dir], { cwd: dir, target: { database, django: [4, 2] }, ruleNames: ["runsql-unparsable", "runsql-dropping-column", "runsql-updating-all-rows"] });
  return result.diagnostics.filter((d) => d.file.endsWith("0002_fk.py"));
}

describe("SQL quoted for MySQL", () => {
  const drop = '        migrations.RunSQL("ALTER TABLE `library_book` DROP COLUMN `subtitle`", migrations.RunSQL.noop),';
  const update = '        migrations.RunSQL("UPDATE `library_book` SET `title` = \\"untitled\\"", migrations.RunSQL.noop),';
  const runPython = "        migrations.RunPython(populate, migrations.RunPython.noop),";

  it.each(["mysql", "sqlite"] as const)("is checked like any SQL on %s, and not reported as unparsable", async (database) => {
    const found = await rulesOn(migration([drop, update, runPython].join("\n")), database);
    expect(found.map((d) => d.rule).sort()).toEqual(["runsql-dropping-column", "runsql-updating-all-rows", "runsql-updating-all-rows"]);
    // Messages quote the statement as written.
    expect(found.find((d) => d.rule === "runsql-dropping-column")?.message).toContain("`subtitle`");
    // The SQL the RunPython executes, with its params, too.
    expect(found.filter((d) => d.rule === "runsql-updating-all-rows").map((d) => d.line)).toEqual([5, 13]);
  });

  it("is still reported on PostgreSQL, which rejects it, and checked too", async () => {
    const found = await rulesOn(migration(drop), "postgresql");
    expect(found.map((d) => d.rule).sort()).toEqual(["runsql-dropping-column", "runsql-unparsable"]);
    const unparsable = found.find((d) => d.rule === "runsql-unparsable");
    expect(unparsable?.message).toBe("PostgreSQL cannot run this `sql`: it reports `syntax error at or near \"`\"`; the SQL is quoted for MySQL.");
    // At the first backtick.
    expect(unparsable?.column).toBe(drop.indexOf("`") + 1);
  });

  it("leaves other MySQL syntax unread, and says it may be valid there, not to fix it", async () => {
    const found = await rulesOn(migration('        migrations.RunSQL("ALTER TABLE `library_book` MODIFY `title` varchar(300) NOT NULL", migrations.RunSQL.noop),'), "mysql");
    expect(found.map((d) => d.rule)).toEqual(["runsql-unparsable"]);
    const help = found[0]?.help.join("\n") ?? "";
    expect(help).toContain("may well be valid MySQL");
    expect(help).not.toContain("fix the statement");
  });

  it("does not send the SQL of a RunPython to sqlmigrate, which cannot print it", async () => {
    const source = migration(runPython).replace("UPDATE `library_book` SET", "UPDATE `library_book` SETT");
    const found = await rulesOn(source, "postgresql");
    const help = found.find((d) => d.rule === "runsql-unparsable")?.help.join("\n") ?? "";
    expect(help).toContain("Run the SQL on a scratch database");
    expect(help).not.toContain("sqlmigrate");
  });
});
