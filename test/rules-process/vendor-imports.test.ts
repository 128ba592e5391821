/**
 * An operation class imported differently on each database, with `atomic` set to a test of the
 * database (Label Studio tasks 0045): on PostgreSQL the migration builds the index concurrently
 * outside a transaction, on SQLite it builds a plain index in one. Neither is a hazard, whichever
 * branch the file writes first.
 */
import { describe, expect, it } from "vitest";
import { analyze } from "../../src/engine/lint.js";
import { libraryProjects } from "../support/library-project.js";

const project = libraryProjects("vendor-imports");

const migration = (flag: string, first: string, second: string) => `from django.conf import settings
from django.db import migrations, models

IS_SQLITE = settings.DJANGO_DB == settings.DJANGO_DB_SQLITE
IS_POSTGRES = not IS_SQLITE

if ${flag}:
    ${first}
else:
    ${second}


class Migration(migrations.Migration):
    atomic = IS_SQLITE
    dependencies = [("library", "0001_initial")]

    operations = [
        AddIndex(model_name="book", index=models.Index(fields=["title"], name="book_title_idx")),
    ]
`;
const plain = "from django.db.migrations import AddIndex";
const concurrent = "from django.contrib.postgres.operations import AddIndexConcurrently as AddIndex";
const rules = ["adding-index-non-concurrently", "running-concurrent-operation-in-transaction", "building-index-concurrently-without-if-not-exists"];

describe("an index operation imported per database", () => {
  for (const [flag, first, second] of [
    ["IS_SQLITE", plain, concurrent],
    ["IS_POSTGRES", concurrent, plain],
  ] as const) {
    it(`is read on each database as its branch imports it (\`if ${flag}:\` first)`, async () => {
      const dir = project(migration(flag, first, second));
      const onPostgres = await analyze(["."], { cwd: dir, ruleNames: rules });
      // AddIndexConcurrently in a migration that is not atomic on PostgreSQL: only the IF NOT EXISTS warning.
      expect(onPostgres.result.diagnostics.map((d) => `${d.rule}: ${d.message}`)).toEqual([
        "building-index-concurrently-without-if-not-exists: `AddIndexConcurrently` builds `book_title_idx` on `library_book` without `IF NOT EXISTS`: after a failed build, the retry fails on the INVALID index left behind.",
      ]);
      const onSqlite = await analyze(["."], { cwd: dir, ruleNames: rules, target: { database: "sqlite" } });
      expect(onSqlite.result.diagnostics).toEqual([]);
    });
  }

  it("still says a computed atomic cannot be evaluated when it does not test the database", async () => {
    const dir = project(migration("IS_SQLITE", plain, concurrent).replace("atomic = IS_SQLITE", "atomic = settings.ATOMIC_MIGRATIONS"));
    const { result } = await analyze(["."], { cwd: dir, ruleNames: rules });
    expect(result.diagnostics.map((d) => d.rule)).toContain("running-concurrent-operation-in-transaction");
    expect(result.diagnostics.find((d) => d.rule === "running-concurrent-operation-in-transaction")?.message).toContain("sets `atomic = settings.ATOMIC_MIGRATIONS`, which rollsafe cannot evaluate");
  });
});
