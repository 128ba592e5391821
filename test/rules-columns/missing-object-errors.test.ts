/**
 * dropping-column and dropping-table quote the error the old release's queries get, as the target
 * database words it (PostgreSQL, MySQL 8 and SQLite differ; Open edX runs MySQL).
 */
import { describe, expect, it } from "vitest";
import { lint } from "../../src/index.js";
import { libraryProjects } from "../support/library-project.js";

const project = libraryProjects("missing-object-errors");

const SOURCE = `from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("library", "0001_initial")]
    operations = [
        migrations.RemoveField("book", "subtitle"),
        migrations.DeleteModel("author"),
    ]
`;

describe("the old release's error, as the database words it", () => {
  it.each([
    ["postgresql", 'column "subtitle" does not exist', 'relation "library_author" does not exist'],
    ["mysql", "Unknown column 'subtitle' in 'field list'", "Table '<database>.library_author' doesn't exist"],
    ["sqlite", "no such column: subtitle", "no such table: library_author"],
  ] as const)("on %s", async (database, column, table) => {
    const dir = project(SOURCE);
    const found = (await lint([dir], { cwd: dir, target: { database }, ruleNames: ["dropping-column", "dropping-table"] })).diagnostics;
    const help = (rule: string) => found.find((d) => d.rule === rule)?.help.join("\n") ?? "";
    expect(help("dropping-column")).toContain(`\`${column}\``);
    expect(help("dropping-table")).toContain(`\`${table}\``);
  });
});

describe("a removed many-to-many field", () => {
  it.each([
    ["postgresql", 'relation "library_book_tags" does not exist'],
    ["mysql", "Table '<database>.library_book_tags' doesn't exist"],
  ] as const)("breaks the old release's uses of its join table, not a column of the model's table, on %s (Ralph networks 0012, Kitsune questions 0016)", async (database, error) => {
    const dir = project(`from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("library", "0001_initial")]
    operations = [
        migrations.RemoveField("book", "tags"),
    ]
`);
    const [finding] = (await lint([dir], { cwd: dir, target: { database }, ruleNames: ["dropping-column"] })).diagnostics;
    const help = finding?.help.join("\n") ?? "";
    expect(finding?.message).toContain("drops the join table `library_book_tags`");
    expect(help).toContain(`\`${error}\``);
    expect(help).toContain("A many-to-many field has no column in `library_book`");
    expect(help).not.toContain("selects every field");
    expect(help).not.toMatch(/column "tags"|Unknown column 'tags'/);
  });
});
