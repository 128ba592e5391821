/**
 * Operations a migration adds only on some databases (KoboToolbox logger 0017: an
 * `AlterUniqueTogether` under `if not settings.USE_POSTGRESQL:`) are replayed only there: on
 * PostgreSQL that migration never drops the unique constraint itself.
 */
import { describe, expect, it } from "vitest";
import { lint } from "../../src/index.js";
import { libraryProjects } from "../support/library-project.js";

const project = libraryProjects("vendor-branches");

const SOURCE = `from django.conf import settings
from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("library", "0001_initial")]

    operations = []
    if not settings.USE_POSTGRESQL:
        operations.append(migrations.AlterModelTable(name="book", table="library_volume"))
    operations.append(migrations.RemoveField(model_name="book", name="subtitle"))
`;

describe("operations under a test of the database", () => {
  it("are checked only on the databases that run them", async () => {
    const dir = project(SOURCE);
    const rules = ["renaming-table", "dropping-column"];
    const on = async (database: "postgresql" | "mysql") =>
      (await lint([dir], { cwd: dir, ruleNames: rules, target: { database } })).diagnostics.filter((d) => d.file.endsWith("0002_fk.py")).map((d) => `${d.rule} ${d.message.match(/`(library_\w+)`/)?.[1]}`);
    // On PostgreSQL the table keeps its name, so the column is dropped from library_book.
    expect(await on("postgresql")).toEqual(["dropping-column library_book"]);
    expect(await on("mysql")).toEqual(["renaming-table library_book", "dropping-column library_volume"]);
  });
});

describe("operations under a condition rollsafe cannot evaluate", () => {
  // evennia comms 0013: AddFields under `if _table_exists(...)`, for very old databases only.
  it("are checked as if it holds, as warnings that name it", async () => {
    const dir = project(`from django.db import connection, migrations, models


def _table_exists(name):
    return name in connection.introspection.table_names()


class Migration(migrations.Migration):
    dependencies = [("library", "0001_initial")]

    operations = [migrations.AddField("book", "isbn", models.CharField(max_length=20, null=True))]
    if _table_exists("legacy_books"):
        operations += [migrations.RemoveField(model_name="book", name="subtitle")]
`);
    const found = (await lint([dir], { cwd: dir, ruleNames: ["dropping-column"] })).diagnostics.filter((d) => d.file.endsWith("0002_fk.py"));
    expect(found.map((d) => [d.rule, d.severity, d.help[0]])).toEqual([
      ["dropping-column", "warning", 'Only when `_table_exists("legacy_books")`: the migration adds this operation under that condition, which rollsafe cannot evaluate, and checks it as if the condition holds.'],
    ]);
  });
});
