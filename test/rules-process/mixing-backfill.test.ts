/**
 * mixing-backfill-with-schema-changes over whole migrations: which schema change each backfill
 * is held against (the nearest before it, else the first after it), through SeparateDatabaseAndState,
 * tables created in the same migration and RunSQL DDL, and which operations count as one (those
 * that lock an existing table when they run). The rule follows the migration operation by
 * operation, so a migration of thousands of backfills is not walked once per backfill.
 */
import { cpSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { lint } from "../../src/index.js";
import { FIXTURES } from "../support/fixture-cases.js";

const RULE = "mixing-backfill-with-schema-changes";
const temporary: string[] = [];
afterAll(() => {
  for (const dir of temporary) rmSync(dir, { recursive: true, force: true });
});

const migration = (previous: string, ops: string[]) =>
  [
    "from django.db import migrations, models",
    "",
    "",
    "def forwards(apps, schema_editor):",
    '    apps.get_model("library", "Book").objects.filter(subtitle__isnull=True).update(subtitle="")',
    "",
    "",
    "class Migration(migrations.Migration):",
    `    dependencies = [("library", "${previous}")]`,
    "    operations = [",
    ...ops.map((op) => `        ${op},`),
    "    ]",
    "",
  ].join("\n");

const sql = (text: string) => `migrations.RunSQL("${text}", reverse_sql=migrations.RunSQL.noop)`;

async function diagnostics(files: Record<string, string>, database: "postgresql" | "sqlite" = "postgresql") {
  const dir = mkdtempSync(path.join(os.tmpdir(), "rollsafe-backfill-"));
  temporary.push(dir);
  cpSync(path.join(FIXTURES, "docs-setup"), dir, { recursive: true });
  for (const [name, body] of Object.entries(files)) writeFileSync(path.join(dir, "library/migrations", name), body);
  const result = await lint([dir], { cwd: dir, target: { database } });
  return result.diagnostics.filter((d) => d.rule === RULE);
}

async function findings(files: Record<string, string>, database: "postgresql" | "sqlite" = "postgresql") {
  return (await diagnostics(files, database)).map((d) => ({ file: path.basename(d.file), line: d.line, severity: d.severity, message: d.message }));
}

/** The advice of the one finding of a migration of `ops`. */
async function adviceFor(ops: string[]): Promise<string> {
  const found = await diagnostics({ "0002_mixed.py": migration("0001_initial", ops) });
  expect(found).toHaveLength(1);
  return (found[0]?.help ?? []).join("\n");
}

describe(RULE, () => {
  it("says a RunPython that only executes SQL it cannot read runs SQL, not that it backfills (Funkwhale music 0044's triggers)", async () => {
    const source = `from django.db import connection, migrations, models

TABLES = {"library.Book": "book_sync"}


def setup_triggers(apps, schema_editor):
    cursor = connection.cursor()
    for label, name in TABLES.items():
        model = apps.get_model(*label.split("."))
        cursor.execute("CREATE TRIGGER {} BEFORE UPDATE ON {} FOR EACH ROW EXECUTE FUNCTION sync()".format(name, model._meta.db_table))


class Migration(migrations.Migration):
    dependencies = [("library", "0001_initial")]
    operations = [
        migrations.AddField("book", "isbn", models.CharField(max_length=20, null=True)),
        migrations.RunPython(setup_triggers, migrations.RunPython.noop),
    ]
`;
    const found = await findings({ "0002_triggers.py": source });
    expect(found.map((f) => f.message)).toEqual([
      "`RunPython` (SQL only) runs SQL rollsafe cannot read, which may write rows, while `AddField` on `Book` earlier in this atomic migration still holds its lock.",
    ]);
  });

  it("holds each backfill against the nearest schema change before it (counting the others), else the first after it", async () => {
    const found = await findings({
      "0002_mixed.py": migration("0001_initial", [
        sql("UPDATE library_book SET pages = 0 WHERE pages IS NULL"),
        'migrations.CreateModel(name="Crate", fields=[("id", models.BigAutoField(primary_key=True))])',
        'migrations.AddField("crate", "label", models.CharField(max_length=20, null=True))',
        'migrations.AddField("book", "isbn", models.CharField(max_length=20, null=True))',
        "migrations.RunPython(forwards, migrations.RunPython.noop)",
        `migrations.SeparateDatabaseAndState(database_operations=[${sql("ALTER TABLE library_author ADD COLUMN born integer NULL")}])`,
        sql("DELETE FROM library_author WHERE name = ''"),
      ]),
      "0003_later.py": migration("0002_mixed", [
        sql("INSERT INTO library_author (name) VALUES ('anonymous')"),
        `migrations.SeparateDatabaseAndState(database_operations=[${sql("ALTER TABLE library_author ADD COLUMN died integer NULL")}])`,
        'migrations.AddField("crate", "floor", models.IntegerField(null=True))',
        "migrations.RunPython(forwards, migrations.RunPython.noop)",
      ]),
    });
    // Operations start on line 11 of each file.
    expect(found).toEqual([
      { file: "0002_mixed.py", line: 11, severity: "warning", message: "`RunSQL` UPDATE backfills data in the same atomic migration as `AddField` on `Book`, which runs after it." },
      { file: "0002_mixed.py", line: 15, severity: "error", message: "`RunPython` backfills data while `AddField` on `Book` earlier in this atomic migration still holds its lock." },
      // Kolibri logger 0002: each backfill follows the AlterField of its own table, which is the one to name.
      { file: "0002_mixed.py", line: 17, severity: "error", message: "`RunSQL` DELETE deletes rows while `RunSQL` DDL on `library_author` earlier in this atomic migration still holds its lock (as does the schema change before it)." },
      { file: "0003_later.py", line: 11, severity: "warning", message: "`RunSQL` INSERT backfills data in the same atomic migration as `RunSQL` DDL on `library_author`, which runs after it." },
      { file: "0003_later.py", line: 14, severity: "error", message: "`RunPython` backfills data while `AddField` on `Crate` earlier in this atomic migration still holds its lock (as does the schema change before it)." },
    ]);
  });

  it("does not hold a RunSQL with both DDL and DML against its own DDL", async () => {
    const found = await findings({
      "0002_both.py": migration("0001_initial", [
        sql("ALTER TABLE library_book ADD COLUMN isbn varchar(20) NULL; UPDATE library_book SET isbn = ''"),
        'migrations.AddField("author", "born", models.IntegerField(null=True))',
        "migrations.RunPython(forwards, migrations.RunPython.noop)",
      ]),
    });
    expect(found).toEqual([
      { file: "0002_both.py", line: 11, severity: "warning", message: "`RunSQL` UPDATE backfills data in the same atomic migration as `AddField` on `Author`, which runs after it." },
      { file: "0002_both.py", line: 13, severity: "error", message: "`RunPython` backfills data while `AddField` on `Author` earlier in this atomic migration still holds its lock (as does the schema change before it)." },
    ]);
  });

  // Checked with `sqlmigrate` and pg_locks on PostgreSQL 15 and Django 4.2: none of these takes a
  // lock on library_book or library_author before the backfill (the join table's foreign keys are
  // added when the migration ends); on SQLite, a changed default remakes the table and a renamed
  // index is dropped and built again.
  const lockless = [
    'migrations.AlterField("book", "title", models.CharField(max_length=200, help_text="As printed", choices=[("a", "A")], blank=True))',
    'migrations.AlterField("book", "pages", models.IntegerField(null=True, default=0))',
    'migrations.AlterModelOptions(name="book", options={"ordering": ["title"]})',
    'migrations.AddField("book", "editors", models.ManyToManyField(to="library.author", related_name="edited_books"))',
    "migrations.RunPython(forwards, migrations.RunPython.noop)",
  ];

  it("counts only operations that lock the table when they run, on PostgreSQL", async () => {
    expect(await findings({ "0002_lockless.py": migration("0001_initial", lockless) })).toEqual([]);
  });

  it("counts the table SQLite remakes for a changed default, not for Python-only options", async () => {
    const [title, pages, , editors, backfill] = lockless as [string, string, string, string, string];
    const found = await findings({ "0002_title.py": migration("0001_initial", [title, editors, backfill]), "0003_pages.py": migration("0002_title", [pages, backfill]) }, "sqlite");
    expect(found).toEqual([
      { file: "0003_pages.py", line: 12, severity: "error", message: "`RunPython` backfills data while `AlterField` on `Book` earlier in this atomic migration still holds its lock." },
    ]);
  });

  it("does not hold a RunPython that only reads against a later change, but does against an earlier one (Kiwi TCMS management 0013)", async () => {
    const reading = [
      "import logging",
      "",
      "from django.db import migrations, models",
      "",
      "logger = logging.getLogger(__name__)",
      "",
      "",
      "def log_titles(apps, schema_editor):",
      '    Book = apps.get_model("library", "Book")',
      '    titles = list(Book.objects.order_by("id").values_list("title", flat=True))',
      '    with open("/tmp/titles.json", "w") as out:',
      '        out.write(", ".join(titles[:10]))',
      '    logger.info("%d titles", len(titles))',
      "",
      "",
      "class Migration(migrations.Migration):",
      '    dependencies = [("library", "0001_initial")]',
      "    operations = [",
    ];
    const before = [...reading, "        migrations.RunPython(log_titles, migrations.RunPython.noop),", '        migrations.AddField("book", "note", models.TextField(null=True)),', "    ]", ""].join("\n");
    expect(await findings({ "0002_read.py": before })).toEqual([]);
    // Its reads keep an earlier change's lock held just the same.
    const after = [...reading, '        migrations.AddField("book", "note", models.TextField(null=True)),', "        migrations.RunPython(log_titles, migrations.RunPython.noop),", "    ]", ""].join("\n");
    expect((await findings({ "0002_read.py": after })).map((f) => f.severity)).toEqual(["error"]);
  });

  it("does not take a RunPython that only defines a function and a trigger through a cursor for a backfill (Arches 11042)", async () => {
    const source = [
      "from django.db import connection, migrations, models",
      "",
      "",
      "def add_trigger(apps, schema_editor):",
      "    with connection.cursor() as cursor:",
      '        cursor.execute("""',
      "            CREATE FUNCTION check_note() RETURNS trigger AS $$",
      "            BEGIN",
      "                RETURN NEW;",
      "            END;",
      "            $$ LANGUAGE plpgsql;",
      "            CREATE TRIGGER note_check BEFORE INSERT OR UPDATE ON library_book FOR EACH ROW EXECUTE FUNCTION check_note();",
      '        """)',
      "",
      "",
      "class Migration(migrations.Migration):",
      '    dependencies = [("library", "0001_initial")]',
      "    operations = [",
      '        migrations.AddField("book", "note", models.TextField(null=True)),',
      "        migrations.RunPython(add_trigger, migrations.RunPython.noop),",
      "    ]",
      "",
    ].join("\n");
    expect(await findings({ "0002_trigger.py": source })).toEqual([]);
  });

  it("says nothing when every schema change is on a table the migration creates, or concurrent", async () => {
    const found = await findings({
      "0002_new.py": migration("0001_initial", [
        'migrations.CreateModel(name="Crate", fields=[("id", models.BigAutoField(primary_key=True))])',
        "migrations.RunPython(forwards, migrations.RunPython.noop)",
        'migrations.AddField("crate", "label", models.CharField(max_length=20, null=True))',
        sql("CREATE INDEX CONCURRENTLY library_book_pages ON library_book (pages)"),
      ]),
    });
    expect(found).toEqual([]);
  });

  it("keeps a backfill before a change that asks something of the rows (NOT NULL, unique, a constraint) before it, not after the deploy", async () => {
    const needing = {
      'migrations.AlterField("book", "subtitle", models.CharField(max_length=200))': "NOT NULL on `subtitle`",
      'migrations.AlterField("book", "title", models.CharField(max_length=200, unique=True))': "the unique constraint on `title`",
      'migrations.AddConstraint("book", models.CheckConstraint(check=models.Q(pages__gte=0), name="pages_gte_0"))': "the check constraint `pages_gte_0`",
      'migrations.AlterUniqueTogether("book", {("title", "author")})': "the unique constraint of `unique_together`",
    };
    const backfill = "migrations.RunPython(forwards, migrations.RunPython.noop)";
    for (const [change, needs] of Object.entries(needing)) {
      const advice = await adviceFor([backfill, change]);
      expect(advice).toContain(`(${needs}, which fails on`);
      expect(advice).not.toContain("post-deploy");
    }
    // A type change whose cast may fail on the values the backfill rewrites (saleor's text -> jsonb).
    const cast = await adviceFor([backfill, 'migrations.AlterField("book", "subtitle", models.JSONField(null=True))']);
    expect(cast).toContain("(the change of `subtitle` from `varchar(200)` to `jsonb`, which fails on any value that does not convert)");
    // Django's recipe for a new unique field: the backfill sits between the AddField whose lock it
    // is held against and the AlterField that needs it.
    const between = await adviceFor([
      'migrations.AddField("book", "isbn", models.CharField(max_length=20, null=True))',
      backfill,
      'migrations.AlterField("book", "isbn", models.CharField(max_length=20, unique=True))',
    ]);
    expect(between).toContain("A later change asks something of the rows already there (NOT NULL on `isbn`, which fails on any NULL left)");
    expect(between).not.toContain("post-deploy");
    // A change that asks nothing of the rows keeps the advice to run the backfill after the deploy.
    expect(await adviceFor([backfill, 'migrations.AddField("book", "isbn", models.CharField(max_length=20, null=True))'])).toContain("run it post-deploy if the table is large");
  });

  it("names every other table the migration's schema changes hold, such as the one a dropped foreign key references (allianceauth authentication 0015)", async () => {
    const advice = await adviceFor([
      'migrations.RemoveField("book", "author")',
      "migrations.RunPython(forwards, migrations.RunPython.noop)",
    ]);
    expect(advice).toContain("the ACCESS EXCLUSIVE lock on `library_book` taken for dropping column `author_id` is held until COMMIT");
    expect(advice).toContain("The migration also holds ACCESS EXCLUSIVE on `library_author` (dropping the foreign key of `Book.author`): every read and write of that table waits as long.");
  });

  it("names an earlier, stronger lock on the same table (Funkwhale music 0044)", async () => {
    const advice = await adviceFor([
      'migrations.AddField("book", "isbn", models.CharField(max_length=20, null=True))',
      'migrations.AddIndex("book", models.Index(fields=["pages"], name="book_pages_idx"))',
      "migrations.RunPython(forwards, migrations.RunPython.noop)",
    ]);
    expect(advice).toContain("the SHARE lock on `library_book` taken for building an index without CONCURRENTLY is held until COMMIT");
    expect(advice).toContain("The migration also holds ACCESS EXCLUSIVE on `library_book` (adding column `isbn`): every read and write of that table waits as long.");
  });

  it("is silent on a RunPython whose function calls nothing (Funkwhale music 0011: a disabled step that only returns)", async () => {
    const body = migration("0001_initial", ['migrations.AddField("book", "isbn", models.CharField(max_length=20, null=True))', "migrations.RunPython(disabled, migrations.RunPython.noop)"]).replace(
      "class Migration",
      'def disabled(apps, schema_editor):\n    """Kept so the graph stays the same."""\n    return\n    # Book = apps.get_model("library", "Book")\n\n\nclass Migration',
    );
    expect(await findings({ "0002_mixed.py": body })).toEqual([]);
  });

  it("is silent on a RunPython that only writes the time to the console or a log (IETF datatracker doc 0015's timestamps)", async () => {
    const stamp = 'import sys, time, logging\n\nlogger = logging.getLogger(__name__)\n\n\ndef timestamp(apps, schema_editor):\n    sys.stderr.write("\\n %s" % time.strftime("%Y-%m-%d %H:%M:%S"))\n    logger.info("step at %s", time.time())\n\n\nclass Migration';
    const body = migration("0001_initial", ['migrations.AddField("book", "isbn", models.CharField(max_length=20, null=True))', "migrations.RunPython(timestamp, timestamp)"]).replace("class Migration", stamp);
    expect(await findings({ "0002_mixed.py": body })).toEqual([]);
    // One call that may reach the database makes it a backfill again.
    const touching = body.replace('    logger.info("step at %s", time.time())', '    logger.info("step at %s", time.time())\n    apps.get_model("library", "Book").objects.update(pages=0)');
    expect(await findings({ "0002_mixed.py": touching })).toHaveLength(1);
  });

  it("holds a RunSQL's data move against its own LOCK TABLE before it (galaxy_ng 0012)", async () => {
    const both = sql("LOCK TABLE library_book IN ACCESS EXCLUSIVE MODE; UPDATE library_book SET pages = 0 WHERE pages IS NULL;");
    expect((await findings({ "0002_mixed.py": migration("0001_initial", [both]) })).map((f) => f.message)).toEqual([
      "`RunSQL` UPDATE backfills data while its own `LOCK TABLE` on `library_book` earlier in this atomic migration still holds its lock.",
    ]);
    // The data move before the lock is not under it.
    const after = sql("UPDATE library_book SET pages = 0 WHERE pages IS NULL; LOCK TABLE library_book IN ACCESS EXCLUSIVE MODE;");
    expect(await findings({ "0002_mixed.py": migration("0001_initial", [after]) })).toEqual([]);
  });
});
