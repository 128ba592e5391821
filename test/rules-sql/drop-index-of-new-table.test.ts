/**
 * `DROP INDEX IF EXISTS` in the same SQL that creates the table and builds the index again (koku
 * reporting_common 0001: a cache table made idempotently): the index is on a table the migration
 * creates, so there is nothing to lock. The same statement on an existing table's index is still
 * reported.
 */
import { describe, expect, it } from "vitest";
import { lint } from "../../src/index.js";
import { libraryProjects } from "../support/library-project.js";

const project = libraryProjects("drop-index-new-table");

async function findings(sql: string) {
  const dir = project(`from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("library", "0001_initial")]
    operations = [migrations.RunSQL(${JSON.stringify(sql)}, reverse_sql=migrations.RunSQL.noop)]
`);
  return (await lint([dir], { cwd: dir, ruleNames: ["removing-index-non-concurrently"] })).diagnostics.map((d) => d.message);
}

describe("DROP INDEX in raw SQL", () => {
  it("is not reported for an index the same SQL builds again on a table it creates", async () => {
    expect(
      await findings(
        'CREATE TABLE "cache" ("key" varchar(255) PRIMARY KEY, "expires" timestamptz NOT NULL); DROP INDEX IF EXISTS "cache_expires"; CREATE INDEX "cache_expires" ON "cache" ("expires");',
      ),
    ).toEqual([]);
  });

  it("is reported when the index is built again on an existing table", async () => {
    const found = await findings('DROP INDEX IF EXISTS "library_book_pages"; CREATE INDEX "library_book_pages" ON "library_book" ("pages");');
    expect(found).toEqual([expect.stringContaining("drops `library_book_pages` without CONCURRENTLY")]);
  });
});
