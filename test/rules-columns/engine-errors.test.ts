/**
 * Findings quote the error and the lock of the target database, not PostgreSQL's everywhere
 * (MySQL's errors checked on MariaDB 10.11, SQLite's with Django 4.2).
 */
import { readdirSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { lint } from "../../src/index.js";
import type { Target } from "../../src/engine/rule-types.js";
import { RULE_FIXTURES } from "../support/fixture-cases.js";

/** The text of every finding of `rule` over one of its fixture cases, on `database`. */
async function textOf(rule: string, fixture: string, database: Target["database"], django?: Target["django"]): Promise<string> {
  const dir = path.join(RULE_FIXTURES, rule, fixture);
  const result = await lint([dir], { cwd: dir, target: { database, ...(django ? { django } : {}) }, ruleNames: [rule] });
  const findings = result.diagnostics.filter((d) => d.rule === rule);
  expect(findings.length).toBeGreaterThan(0);
  return findings.map((d) => [d.message, ...d.help].join("\n")).join("\n");
}

describe("errors and locks per database", () => {
  it("an INSERT that leaves out a NOT NULL column", async () => {
    const fixture = "bad/post-deploy-remove";
    expect(await textOf("removing-not-null-column-from-state", fixture, "postgresql")).toContain(`violates not-null constraint`);
    const mysql = await textOf("removing-not-null-column-from-state", fixture, "mysql");
    expect(mysql).toMatch(/"Field '\w+' doesn't have a default value"/);
    expect(mysql).not.toContain("violates not-null");
    expect(await textOf("removing-not-null-column-from-state", fixture, "sqlite")).toMatch(/"NOT NULL constraint failed: library_\w+\.\w+"/);
  });
  it("an INSERT or UPDATE that writes NULL into a NOT NULL column", async () => {
    const fixture = "bad/state-only-null";
    expect(await textOf("making-field-nullable-only-in-state", fixture, "postgresql")).toMatch(/of relation "library_\w+" violates not-null constraint/);
    expect(await textOf("making-field-nullable-only-in-state", fixture, "mysql")).toMatch(/"Column '\w+' cannot be null"/);
    expect(await textOf("making-field-nullable-only-in-state", fixture, "sqlite")).toMatch(/"NOT NULL constraint failed: library_\w+\.\w+"/);
  });
  it("a DELETE a kept foreign key constraint rejects, and the lock its drop takes", async () => {
    const postgres = await textOf("removing-foreign-key-with-constraint", "bad/nullable-state-only", "postgresql");
    expect(postgres).toContain(`"violates foreign key constraint"`);
    expect(postgres).toContain("ACCESS EXCLUSIVE");
    const mysql = await textOf("removing-foreign-key-with-constraint", "bad/nullable-state-only", "mysql");
    expect(mysql).toContain(`"Cannot delete or update a parent row: a foreign key constraint fails"`);
    expect(mysql).not.toContain("ACCESS EXCLUSIVE");
    // Checked with Django 4.2 on SQLite: the delete through the state without the field.
    expect(await textOf("removing-foreign-key-with-constraint", "bad/nullable-state-only", "sqlite")).toContain(`"FOREIGN KEY constraint failed"`);
  });
  it("the lock TRUNCATE takes", async () => {
    expect(await textOf("runsql-truncating-table", "bad/truncate-and-cascade", "postgresql")).toContain("TRUNCATE takes an ACCESS EXCLUSIVE lock");
    const mysql = await textOf("runsql-truncating-table", "bad/truncate-and-cascade", "mysql");
    expect(mysql).toContain("TRUNCATE takes an exclusive metadata lock");
    expect(mysql).not.toContain("ACCESS EXCLUSIVE");
  });
  it("a TRUNCATE the target refuses: SQLite has none, MySQL's takes no CASCADE", async () => {
    const sqlite = await textOf("runsql-truncating-table", "bad/truncate-and-cascade", "sqlite");
    expect(sqlite).toContain("fails on SQLite: SQLite has no TRUNCATE");
    const mysql = await textOf("runsql-truncating-table", "bad/truncate-and-cascade", "mysql");
    expect(mysql).toContain("`TRUNCATE library_author CASCADE` fails on MySQL: MySQL's TRUNCATE takes no CASCADE");
    // The join table no key references: emptied, not refused.
    expect(mysql).toContain("`TRUNCATE library_book_tags` deletes every row");
  });
  it("a backfill in the transaction of a schema change: SQLite's lock is the database's", async () => {
    const fixture = `bad/${readdirSync(path.join(RULE_FIXTURES, "mixing-backfill-with-schema-changes", "bad"))[0] as string}`;
    expect(await textOf("mixing-backfill-with-schema-changes", fixture, "postgresql")).toMatch(/ACCESS EXCLUSIVE|SHARE/);
    const sqlite = await textOf("mixing-backfill-with-schema-changes", fixture, "sqlite");
    expect(sqlite).toContain("the database's write lock");
    expect(sqlite).not.toMatch(/EXCLUSIVE|SHARE/);
  });
  it("a concurrent index operation off PostgreSQL: the plain operation, also where the migration is atomic", async () => {
    const rule = "running-concurrent-operation-in-transaction";
    expect(await textOf(rule, "bad/atomic", "postgresql")).toContain("Add `atomic = False` to the migration");
    const sqlite = await textOf(rule, "bad/atomic", "sqlite");
    expect(sqlite).toContain("`atomic = False` only leads to the TypeError");
    expect(sqlite).toContain("Use `migrations.AddIndex`");
    expect(sqlite).not.toContain("Add `atomic = False`");
  });
  it("making a column NOT NULL: MySQL rebuilds the table in place, writes going on", async () => {
    expect(await textOf("setting-column-not-null", "bad/basic", "postgresql")).toContain("NOT NULL scans `library_book` under an exclusive lock");
    const mysql = await textOf("setting-column-not-null", "bad/basic", "mysql");
    expect(mysql).toContain("NOT NULL rebuilds `library_book`");
    expect(mysql).not.toMatch(/exclusive lock|the lock lasts/);
  });
  it("changing a primary key's type: MySQL copies while blocking writes, and the recipe is an online schema change", async () => {
    const fixture = readdirSync(path.join(RULE_FIXTURES, "changing-primary-key-type", "bad"))[0] as string;
    const postgres = await textOf("changing-primary-key-type", `bad/${fixture}`, "postgresql");
    expect(postgres).toContain("under exclusive locks");
    expect(postgres).toContain("CREATE UNIQUE INDEX CONCURRENTLY");
    const mysql = await textOf("changing-primary-key-type", `bad/${fixture}`, "mysql");
    expect(mysql).toContain("while blocking writes");
    expect(mysql).toContain("gh-ost");
    expect(mysql).not.toMatch(/CONCURRENTLY|USING INDEX|exclusive lock/);
  });
  it("renaming a model with a pinned table: MySQL copies each referencing table to add its foreign key back (addons-server abuse 0043)", async () => {
    const rule = "renaming-model-rebuilds-foreign-keys";
    // Django 4.2: 5.0 leaves the foreign keys alone (the fixture's own configuration says 4.2).
    expect(await textOf(rule, "bad/pinned-table", "postgresql", [4, 2])).toContain("PostgreSQL drops each constraint, which takes ACCESS EXCLUSIVE");
    const mysql = await textOf(rule, "bad/pinned-table", "mysql", [4, 2]);
    expect(mysql).toContain("runs only with ALGORITHM=COPY");
    expect(mysql).toContain("SeparateDatabaseAndState");
    expect(mysql).not.toContain("ACCESS EXCLUSIVE");
  });
  it("a RunSQL adding a NOT NULL column without a default to a table with rows", async () => {
    const fixture = `bad/${readdirSync(path.join(RULE_FIXTURES, "runsql-adding-required-column", "bad"))[0] as string}`;
    expect(await textOf("runsql-adding-required-column", fixture, "postgresql")).toContain("contains null values");
    const mysql = await textOf("runsql-adding-required-column", fixture, "mysql");
    expect(mysql).toContain("MySQL fills the column with its type's implicit value");
    expect(mysql).not.toMatch(/NOT VALID|contains null values|PostgreSQL/);
    expect(await textOf("runsql-adding-required-column", fixture, "sqlite")).toContain("Cannot add a NOT NULL column with default value NULL");
  });
  it("widening an integer key later", async () => {
    const rule = "creating-model-with-integer-primary-key";
    expect(await textOf(rule, "bad/auto-field", "postgresql")).toContain("under ACCESS EXCLUSIVE locks");
    expect(await textOf(rule, "bad/auto-field", "mysql")).toContain("copying each while it blocks writes");
  });
  it("a rollback that restores NOT NULL, unique, foreign key and check constraints over the new release's rows", async () => {
    const rule = "reversing-migration-drops-data";
    // The reversal of an AddField quotes the statement as Django writes it (an `order` column would need the quotes).
    expect(await textOf(rule, "bad/added-column-and-table", "postgresql")).toMatch(/runs `ALTER TABLE "library_\w+" DROP COLUMN "\w+" CASCADE`/);
    expect(await textOf(rule, "bad/added-column-and-table", "mysql")).toMatch(/runs `ALTER TABLE `library_\w+` DROP COLUMN `\w+``/);
    const fixture = "bad/relaxed-constraints";
    const postgres = await textOf(rule, fixture, "postgresql");
    expect(postgres).toContain("runs `ALTER TABLE library_book ALTER COLUMN title SET NOT NULL`");
    expect(postgres).toContain(`"column "title" of relation "library_book" contains null values"`);
    expect(postgres).toContain(`"could not create unique index"`);
    expect(postgres).toContain(`"check constraint ... is violated by some row"`);
    // Each checked with Django 4.2 on MariaDB 10.11 (verify/mysql_facts.py) and on SQLite.
    const mysql = await textOf(rule, fixture, "mysql");
    expect(mysql).toContain("runs `ALTER TABLE library_book MODIFY title ... NOT NULL`");
    expect(mysql).toContain(`"Data truncated for column 'title' at row 1"`);
    expect(mysql).toContain(`"Duplicate entry ... for key"`);
    expect(mysql).toContain(`"Cannot add or update a child row: a foreign key constraint fails"`);
    expect(mysql).toContain("a missing `Author`");
    expect(mysql).not.toMatch(/ALTER COLUMN|contains null values|could not create unique index|is violated by some row/);
    const sqlite = await textOf(rule, fixture, "sqlite");
    expect(sqlite).toContain(`"NOT NULL constraint failed: new__library_book.title"`);
    expect(sqlite).toContain(`"UNIQUE constraint failed: new__library_author.email"`);
    expect(sqlite).toContain(`"CHECK constraint failed"`);
    expect(sqlite).not.toMatch(/ALTER COLUMN|ADD CONSTRAINT \.\.\.|contains null values|could not create unique index/);
  });
});
