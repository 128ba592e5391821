/**
 * Findings on SQL a `RunPython`'s function runs itself name the `RunPython`, not a `RunSQL` the
 * migration does not have.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { lint } from "../../src/index.js";
import { RULE_FIXTURES } from "../support/fixture-cases.js";

const SETUP = readFileSync(path.join(RULE_FIXTURES, "changing-column-type/bad/integer-to-bigint/library/migrations/0001_initial.py"), "utf8");
const root = mkdtempSync(path.join(tmpdir(), "rollsafe-executed-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** A `library` app under `dir` with the setup migration and `name` holding `source`; the migrations folder. */
function libraryApp(dir: string, name: string, source: string): string {
  const migrations = path.join(dir, "library", "migrations");
  mkdirSync(migrations, { recursive: true });
  writeFileSync(path.join(dir, "library", "__init__.py"), "");
  writeFileSync(path.join(migrations, "__init__.py"), "");
  writeFileSync(path.join(migrations, "0001_initial.py"), SETUP);
  writeFileSync(path.join(migrations, name), source);
  return migrations;
}

describe("findings on SQL a RunPython runs", () => {
  it("name the RunPython", async () => {
    libraryApp(
      root,
      "0002_change.py",
      `from django.db import migrations

STATEMENTS = [
    "ALTER TABLE library_book ADD COLUMN flag integer NULL",
    "CREATE INDEX library_book_flag_idx ON library_book (flag)",
]


def forwards(apps, schema_editor):
    for statement in STATEMENTS:
        schema_editor.execute(statement)


def fill(apps, schema_editor):
    apps.get_model("library", "Book").objects.update(pages=1)


class Migration(migrations.Migration):
    dependencies = [("library", "0001_initial")]

    operations = [
        migrations.RunPython(forwards, migrations.RunPython.noop),
        migrations.RunPython(fill, migrations.RunPython.noop),
    ]
`,
    );
    const { diagnostics } = await lint([root], { cwd: root });
    const message = (rule: string) => diagnostics.find((d) => d.rule === rule)?.message;
    expect(message("running-slow-operation-under-exclusive-lock")).toMatch(/^This RunPython runs `CREATE INDEX library_book_flag_idx ON library_book`/);
    expect(message("mixing-backfill-with-schema-changes")).toContain("while DDL a `RunPython` runs on `library_book` earlier");
    expect(diagnostics.some((d) => d.message.includes("RunSQL") && d.line === 11)).toBe(false);
  });

  it("are read from a decorated function too (wger's `@postgres_only`), and a lock timeout's finding names the RunPython", async () => {
    const dir = path.join(root, "decorated");
    libraryApp(
      dir,
      "0002_sync.py",
      `from django.db import migrations

from library.utils import postgres_only


@postgres_only
def forwards(apps, schema_editor):
    schema_editor.execute("CREATE TRIGGER book_sync AFTER INSERT ON library_book FOR EACH ROW EXECUTE FUNCTION sync_fn()")


class Migration(migrations.Migration):
    dependencies = [("library", "0001_initial")]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
`,
    );
    const { diagnostics } = await lint([dir], { cwd: dir, ruleNames: ["running-ddl-without-lock-timeout", "runsql-creating-trigger"] });
    expect(diagnostics.map((d) => `${d.rule}: ${d.message}`)).toEqual([
      "running-ddl-without-lock-timeout: A `RunPython`'s CREATE TRIGGER on `library_book` takes a table lock in `0002_sync`, and no `lock_timeout` is set before it.",
      "runsql-creating-trigger: `CREATE TRIGGER book_sync ON library_book` takes a SHARE ROW EXCLUSIVE lock on `Book` (table `library_book`), blocking its writes while it waits.",
    ]);
  });

  it("take no lock worth a timeout on a table the migration itself created (pulpcore 0101)", async () => {
    const dir = path.join(root, "new-table");
    libraryApp(
      dir,
      "0002_domain.py",
      `from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("library", "0001_initial")]

    operations = [
        migrations.CreateModel(name="Domain", fields=[("id", models.BigAutoField(primary_key=True)), ("name", models.SlugField(unique=True))]),
        migrations.RunSQL(
            "CREATE TRIGGER protect_default BEFORE DELETE ON library_domain FOR EACH ROW EXECUTE FUNCTION protect_default()",
            "DROP TRIGGER protect_default ON library_domain",
        ),
    ]
`,
    );
    const { diagnostics } = await lint([dir], { cwd: dir, ruleNames: ["running-ddl-without-lock-timeout"] });
    expect(diagnostics).toEqual([]);
  });

  it("names the table a raw foreign key references, which it locks too (Label Studio)", async () => {
    const dir = path.join(root, "raw-foreign-key");
    libraryApp(
      dir,
      "0002_book_author_fk.py",
      `from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("library", "0001_initial")]

    operations = [
        migrations.RunSQL(
            'ALTER TABLE library_book ADD CONSTRAINT book_author_fk FOREIGN KEY (author_id) REFERENCES library_author (id) NOT VALID',
            "ALTER TABLE library_book DROP CONSTRAINT book_author_fk",
        ),
    ]
`,
    );
    const { diagnostics } = await lint([dir], { cwd: dir, ruleNames: ["running-ddl-without-lock-timeout"] });
    expect(diagnostics.map((d) => d.message)).toEqual([
      "`RunSQL` ADD CONSTRAINT on `library_book` (and on `library_author`, which it references) takes a table lock in `0002_book_author_fk`, and no `lock_timeout` is set before it.",
    ]);
  });

  it("says when it cannot read SQL the function builds at run time (Funkwhale music 0045), and an ignore on the RunPython covers it", async () => {
    const dir = path.join(root, "built");
    const source = (marker: string) => `from django.db import migrations


def setup_triggers(apps, schema_editor):
    with schema_editor.connection.cursor() as cursor:
        for table in ["library_book", "library_author"]:
            cursor.execute("DROP TRIGGER IF EXISTS sync ON {table}".format(table=table))


class Migration(migrations.Migration):
    dependencies = [("library", "0001_initial")]

    operations = [
${marker}        migrations.RunPython(setup_triggers, migrations.RunPython.noop),
    ]
`;
    const migrations = libraryApp(dir, "0002_triggers.py", source(""));
    const rules = ["runsql-unverifiable", "unused-suppression"];
    const { diagnostics } = await lint([dir], { cwd: dir, ruleNames: rules });
    expect(diagnostics.map((d) => `${d.line} ${d.rule}`)).toEqual(["7 runsql-unverifiable"]);
    writeFileSync(path.join(migrations, "0002_triggers.py"), source("        # rollsafe: ignore[runsql-unverifiable] drops our own sync triggers by name\n"));
    expect((await lint([dir], { cwd: dir, ruleNames: rules })).diagnostics).toEqual([]);
  });
});


describe("the lock an index operation takes, in words", () => {
  it("says CONCURRENTLY only on PostgreSQL (PeeringDB 0102 on MySQL)", async () => {
    const dir = path.join(root, "index-words");
    libraryApp(
      dir,
      "0002_idx.py",
      `from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("library", "0001_initial")]

    operations = [
        migrations.AddIndex("book", models.Index(fields=["title"], name="book_title_idx")),
    ]
`,
    );
    const message = async (database: "postgresql" | "mysql") =>
      (await lint([dir], { cwd: dir, ruleNames: ["running-ddl-without-lock-timeout"], target: { database } })).diagnostics.map((d) => d.message)[0];
    expect(await message("postgresql")).toContain("`AddIndex` (building an index without CONCURRENTLY) on `library_book`");
    expect(await message("mysql")).toContain("`AddIndex` (building an index) on `library_book`");
  });
});
