/**
 * `atomic` as Django takes it: the truth of the value (`schema_editor(atomic=...)`), from a literal
 * or a module constant; a value computed when the migration loads (Label Studio's
 * `atomic = IS_SQLITE`) is not guessed at where it decides an error.
 */
import { describe, expect, it } from "vitest";
import { lint } from "../../src/index.js";
import { libraryProjects } from "../support/library-project.js";

const project = libraryProjects("computed-atomic");

function migration(header: string, atomic: string): string {
  return `from django.conf import settings
from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import migrations, models
${header}

class Migration(migrations.Migration):
    atomic = ${atomic}
    dependencies = [("library", "0001_initial")]
    operations = [
        AddIndexConcurrently("book", models.Index(fields=["title"], name="book_title_idx")),
    ]
`;
}

async function concurrentFindings(source: string) {
  const dir = project(source);
  return (await lint([dir], { cwd: dir, ruleNames: ["running-concurrent-operation-in-transaction"] })).diagnostics.map((d) => `${d.severity}: ${d.message}`);
}

describe("atomic", () => {
  it("is the truth of a literal or of a module constant bound to one", async () => {
    expect(await concurrentFindings(migration("", "0"))).toEqual([]);
    expect(await concurrentFindings(migration("\nNON_ATOMIC = False\n", "NON_ATOMIC"))).toEqual([]);
    expect(await concurrentFindings(migration("", "None"))).toEqual([]);
    expect(await concurrentFindings(migration("\nATOMIC = True\n", "ATOMIC"))).toEqual([
      "error: `AddIndexConcurrently` cannot run inside a transaction, and `0002_fk` is atomic: `migrate` fails here.",
    ]);
  });

  it("computed when the migration loads is a warning naming the expression, not a certain failure", async () => {
    expect(await concurrentFindings(migration("", 'settings.MIGRATIONS_ATOMIC'))).toEqual([
      "warning: `AddIndexConcurrently` cannot run inside a transaction, and `0002_fk` sets `atomic = settings.MIGRATIONS_ATOMIC`, which rollsafe cannot evaluate: `migrate` fails here unless it is false on PostgreSQL.",
    ]);
  });

  it("set to a test of the database holds on the databases it names (Label Studio's `atomic = IS_SQLITE`)", async () => {
    const isSqlite = '\nIS_SQLITE = settings.DATABASES["default"]["ENGINE"].endswith("sqlite3")\n';
    expect(await concurrentFindings(migration(isSqlite, "IS_SQLITE"))).toEqual([]);
    expect(await concurrentFindings(migration(isSqlite, "not IS_SQLITE"))).toEqual([
      "error: `AddIndexConcurrently` cannot run inside a transaction, and `0002_fk` is atomic: `migrate` fails here.",
    ]);
  });
});
