/**
 * Recipes for cases a sweep of real migrations found wrong (adding-foreign-key-constraint,
 * renaming-model-rebuilds-foreign-keys, adding-unique-constraint with removing-index-non-concurrently).
 *
 * A NOT NULL foreign key added without a default (authentik core 0002's
 * `Provider.authorization_flow`): `ADD COLUMN ... NOT NULL` fails on a table with rows before the
 * constraint matters (PostgreSQL 15: "contains null values"), so adding-foreign-key-constraint's
 * recipe adds the column nullable, and makes it NOT NULL after a backfill. A renamed foreign key
 * on MySQL: RENAME COLUMN keeps the constraint (Tandoor 0035).
 */
import { writeFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { analyze } from "../../src/engine/lint.js";
import { libraryProjects } from "../support/library-project.js";
import { autoJoinColumns, djangoIndexName } from "../../src/state/model-state.js";

const project = libraryProjects("foreign-key-recipes");

describe("a NOT NULL foreign key added without a default", () => {
  it("is added nullable in the recipe, then made NOT NULL through a validated CHECK", async () => {
    const dir = project(`import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("library", "0001_initial")]

    operations = [
        migrations.AddField("book", "editor", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name="+", to="library.author")),
    ]
`);
    const { result } = await analyze(["."], { cwd: dir, ruleNames: ["adding-foreign-key-constraint", "adding-not-nullable-column"] });
    expect(result.diagnostics.map((d) => d.rule).sort()).toEqual(["adding-foreign-key-constraint", "adding-not-nullable-column"]);
    const help = result.diagnostics.find((d) => d.rule === "adding-foreign-key-constraint")?.help.join("\n") ?? "";
    expect(help).toContain('`ADD COLUMN` itself fails ("column "editor_id" contains null values"');
    expect(help).not.toContain("The constraint itself costs no scan");
    expect(help).toContain('to="library.author", db_index=False, null=True)');
    expect(help).toContain('ALTER TABLE "library_book" ALTER COLUMN "editor_id" SET NOT NULL;');
  });
});

describe("a foreign key renamed on MySQL", () => {
  it("is renamed alone, with RENAME COLUMN and its reverse, not a placeholder", async () => {
    const dir = project(`from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("library", "0001_initial")]

    operations = [
        migrations.RenameField(model_name="book", old_name="author", new_name="writer"),
    ]
`);
    const { result } = await analyze(["."], { cwd: dir, ruleNames: ["adding-foreign-key-constraint"], target: { database: "mysql" } });
    const help = result.diagnostics[0]?.help.join("\n") ?? "";
    // Tandoor 0035: the MySQL advice was "<the ALTER TABLE statement sqlmigrate shows ...>" with a no-op reverse.
    expect(help).toContain('"ALTER TABLE `library_book` RENAME COLUMN `author_id` TO `writer_id`;"');
    expect(help).toContain('reverse_sql="ALTER TABLE `library_book` RENAME COLUMN `writer_id` TO `author_id`;"');
    expect(help).not.toContain("sqlmigrate shows");
  });
});

describe("a model renamed with its table kept", () => {
  it("is renamed in state only, unless an auto-created many-to-many join table has a column named after it", async () => {
    const rename = async (setup: string) => {
      const dir = project(`from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("library", "0001_initial")]

    operations = [
        ${setup}
        migrations.AlterModelTable(name="author", table="library_author"),
        migrations.RenameModel(old_name="Author", new_name="Writer"),
    ]
`);
      // Django 4.2 (5.0 alters none of the foreign keys).
      const { result } = await analyze(["."], { cwd: dir, ruleNames: ["renaming-model-rebuilds-foreign-keys"], target: { django: [4, 2] } });
      return result.diagnostics[0]?.help.join("\n") ?? "";
    };
    // Book.tags is a ManyToManyField to Author: its join table's `author_id` becomes `writer_id`.
    expect(await rename("")).not.toContain("state only");
    const withoutJoin = await rename('migrations.RemoveField(model_name="book", name="tags"),');
    expect(withoutJoin).toContain("Rename the model in state only");
    expect(withoutJoin).toMatch(/state_operations=\[\n\s*migrations.RenameModel\(\n\s*old_name="Author",/);
  });
});

describe("db_index turned into unique", () => {
  it("is one finding, whose recipe builds the unique index and then drops the plain one", async () => {
    const dir = project(`from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("library", "0001_initial")]

    operations = [
        migrations.AlterField("book", "pages", models.IntegerField(null=True, db_index=True)),
    ]
`);
    writeFileSync(
      path.join(dir, "library/migrations/0003_unique.py"),
      `from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("library", "0002_fk")]

    operations = [
        migrations.AlterField("book", "pages", models.IntegerField(null=True, unique=True)),
    ]
`,
    );
    const { result } = await analyze(["."], { cwd: dir, ruleNames: ["adding-unique-constraint", "removing-index-non-concurrently"] });
    const found = result.diagnostics.filter((d) => d.file.endsWith("0003_unique.py"));
    // seahub organizations 0003: each rule's recipe left out the other's SQL.
    expect(found.map((d) => d.rule)).toEqual(["adding-unique-constraint"]);
    const help = found[0]?.help.join("\n") ?? "";
    const build = help.indexOf('CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS "library_book_pages_');
    const drop = help.indexOf('DROP INDEX CONCURRENTLY IF EXISTS "library_book_pages_69a0530f";');
    expect(build).toBeGreaterThan(0);
    expect(drop).toBeGreaterThan(build);
  });
});

describe("a narrowing that makes the column NOT NULL too", () => {
  it("keeps the column as it is in its first step and names the rest of the change as its own step", async () => {
    const dir = project(`from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("library", "0001_initial")]

    operations = [
        migrations.AlterField("book", "subtitle", models.CharField(max_length=100)),
    ]
`);
    const { result } = await analyze(["."], { cwd: dir, ruleNames: ["narrowing-column", "setting-column-not-null"] });
    expect(result.diagnostics.map((d) => d.rule).sort()).toEqual(["narrowing-column", "setting-column-not-null"]);
    const help = result.diagnostics.find((d) => d.rule === "narrowing-column")?.help.join("\n") ?? "";
    // Misago users 0029: the first step quietly undid the move to NOT NULL.
    expect(help).toContain("the rest of this change (null) is its own step");
    expect(help).toContain("field=models.CharField(max_length=200, null=True, validators=[django.core.validators.MaxLengthValidator(100)]),");
  });
});

describe("a deferrable unique constraint", () => {
  it("stays deferrable in the recipe, whichever way the migration names Deferrable.DEFERRED", async () => {
    for (const deferrable of ["models.Deferrable.DEFERRED", 'models.Deferrable["DEFERRED"]']) {
      const dir = project(`from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("library", "0001_initial")]

    operations = [
        migrations.AddConstraint("book", models.UniqueConstraint(fields=["title", "author"], name="book_title_author_uniq", deferrable=${deferrable})),
    ]
`);
      const { result } = await analyze(["."], { cwd: dir, ruleNames: ["adding-unique-constraint"] });
      // Arches 10555: without the clause, USING INDEX makes a constraint that is checked at once.
      expect({ deferrable, help: result.diagnostics[0]?.help.join("\n") }).toMatchObject({ help: expect.stringContaining('UNIQUE USING INDEX "book_title_author_uniq" DEFERRABLE INITIALLY DEFERRED;') });
    }
  });
});

describe("the reorder advice of running-slow-operation-under-exclusive-lock", () => {
  it("does not move an operation past another that works on the same constraint", async () => {
    const dir = project(`from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("library", "0001_initial")]

    operations = [
        migrations.AddConstraint("book", models.UniqueConstraint(fields=["title"], name="book_title_uniq")),
        migrations.AddConstraint("author", models.UniqueConstraint(fields=["name"], name="author_name_uniq")),
    ]
`);
    writeFileSync(
      path.join(dir, "library/migrations/0003_recreate.py"),
      `from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("library", "0002_fk")]

    operations = [
        migrations.RemoveConstraint("book", "book_title_uniq"),
        migrations.RemoveConstraint("author", "author_name_uniq"),
        migrations.AddConstraint("book", models.UniqueConstraint(fields=["title", "subtitle"], name="book_title_uniq")),
        migrations.AddConstraint("author", models.UniqueConstraint(fields=["name", "id"], name="author_name_uniq")),
    ]
`,
    );
    const { result } = await analyze(["."], { cwd: dir, ruleNames: ["running-slow-operation-under-exclusive-lock"] });
    const advice = result.diagnostics.filter((d) => d.file.endsWith("0003_recreate.py")).map((d) => `${d.line}: ${d.help.find((h) => h.startsWith("2. ")) ?? ""}`);
    // Arches 10555: moving the RemoveConstraint of line 8 after line 11 would put it after the
    // AddConstraint of line 10, which makes the same name again: the migration would fail.
    expect(advice).toEqual([
      "10: 2. Or run it first: move the operation on line 9 after it, so the ACCESS EXCLUSIVE lock on `library_author` is taken just before COMMIT.",
      "11: 2. Do not move the operation on line 8 after it instead: the operation on line 10, in between, works on the same constraint or index and depends on the order. Give each its own migration.",
    ]);
  });
});

describe("the reorder advice when the table is locked twice", () => {
  it("does not offer to move the first lock when a later operation locks the table again (Label Studio tasks 0005)", async () => {
    const dir = project(`from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("library", "0001_initial")]

    operations = [
        migrations.AddField("book", "isbn", models.CharField(max_length=20, null=True)),
        migrations.RenameField("book", "pages", "page_count"),
        migrations.AddIndex("book", models.Index(fields=["title", "page_count"], name="book_title_pages_idx")),
    ]
`);
    const { result } = await analyze(["."], { cwd: dir, ruleNames: ["running-slow-operation-under-exclusive-lock"] });
    const advice = result.diagnostics.filter((d) => d.line === 10).map((d) => d.help.find((h) => h.startsWith("2. ")));
    expect(advice).toEqual(["2. Moving the operation on line 8 after it would not help: the operation on line 9 takes ACCESS EXCLUSIVE on `library_book` too, before this one. Give this AddIndex its own migration."]);
  });
});

describe("DROP TRIGGER in a RunSQL", () => {
  it("takes ACCESS EXCLUSIVE on its table, so it wants a lock timeout (Arches 11848; pg_locks on PostgreSQL 15)", async () => {
    const dir = project(`from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("library", "0001_initial")]

    operations = [
        migrations.RunSQL("DROP TRIGGER IF EXISTS book_audit ON library_book;", migrations.RunSQL.noop),
    ]
`);
    const { result } = await analyze(["."], { cwd: dir, ruleNames: ["running-ddl-without-lock-timeout"] });
    expect(result.diagnostics.map((d) => d.message)).toEqual([expect.stringContaining("`RunSQL` DROP TRIGGER on `library_book` takes a table lock")]);
  });
});

describe("the reversal of a removed conditional unique constraint", () => {
  it("names the unique index Django re-creates, not ADD CONSTRAINT (Arches 10555)", async () => {
    const dir = project(`from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("library", "0001_initial")]

    operations = [
        migrations.AddConstraint("book", models.UniqueConstraint(fields=["title"], condition=models.Q(pages__gt=0), name="book_title_uniq")),
        migrations.AddConstraint("book", models.UniqueConstraint(fields=["title", "author"], name="book_title_author_uniq")),
    ]
`);
    writeFileSync(
      path.join(dir, "library", "migrations", "0003_relax.py"),
      `from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("library", "0002_fk")]

    operations = [
        migrations.RemoveConstraint("book", "book_title_uniq"),
        migrations.RemoveConstraint("book", "book_title_author_uniq"),
    ]
`,
    );
    const { result } = await analyze(["library/migrations/0003_relax.py"], { cwd: dir, ruleNames: ["reversing-migration-drops-data"] });
    const [conditional, plain] = result.diagnostics.map((d) => d.help.join("\n"));
    expect(result.diagnostics).toHaveLength(2);
    expect(conditional).toContain("as a unique index with `CREATE UNIQUE INDEX ... ON library_book`");
    expect(conditional).not.toContain("ADD CONSTRAINT");
    expect(plain).toContain("`ALTER TABLE library_book ADD CONSTRAINT ...`");
  });
});

describe("a many-to-many field pointed at another model", () => {
  const alter = (to: string, extra = "") => `from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("library", "0001_initial")]

    operations = [
        migrations.CreateModel(name="Tag", fields=[("id", models.BigAutoField(primary_key=True))]),${extra}
        migrations.AlterField("book", "tags", models.ManyToManyField(to="${to}", related_name="tagged_books")),
    ]
`;

  it("renames the join table's column after the new model (Kitsune questions 0019; sqlmigrate on PostgreSQL 15)", async () => {
    const { result } = await analyze(["."], { cwd: project(alter("library.tag")), ruleNames: ["renaming-column"] });
    expect(result.diagnostics.map((d) => d.message)).toEqual([
      "Pointing many-to-many field `Book.tags` at `Tag` renames column `author_id` to `tag_id` of join table `library_book_tags` while the old release still uses it.",
    ]);
    const help = result.diagnostics[0]?.help.join("\n") ?? "";
    expect(help).toContain("drops the foreign key to `library_author` and adds one to `library_tag`, validated");
    expect(help).toContain("add a new many-to-many field on `Book` pointing at `Tag`");
  });

  it("renames both columns when the field comes to point at its own model (from_/to_, by model name)", async () => {
    const { result } = await analyze(["."], { cwd: project(alter("library.book")), ruleNames: ["renaming-column"] });
    expect(result.diagnostics.map((d) => d.message)).toEqual([
      "Pointing many-to-many field `Book.tags` at `Book` renames columns `book_id` to `from_book_id` and `author_id` to `to_book_id` of join table `library_book_tags` while the old release still uses them.",
    ]);
  });

  it("is not reported when the field gains a through model (Django refuses to add `through` in an AlterField: no rename)", async () => {
    const through = `
        migrations.CreateModel(name="BookTag", fields=[("id", models.BigAutoField(primary_key=True)), ("book", models.ForeignKey("library.book", models.CASCADE)), ("tag", models.ForeignKey("library.tag", models.CASCADE))]),`;
    const source = alter("library.tag", through).replace('related_name="tagged_books")', 'related_name="tagged_books", through="library.BookTag")');
    const { result } = await analyze(["."], { cwd: project(source), ruleNames: ["renaming-column"] });
    expect(result.diagnostics).toEqual([]);
  });
});

describe("autoJoinColumns", () => {
  it("names the columns by model name alone, as Django does (a.Tag to b.Tag: from_tag_id, to_tag_id, checked with Django 4.2)", () => {
    expect(autoJoinColumns("book", "author")).toEqual({ from: "book_id", to: "author_id" });
    expect(autoJoinColumns("tag", "tag")).toEqual({ from: "from_tag_id", to: "to_tag_id" });
  });
});

describe("a foreign key made nullable", () => {
  it("is not an instant change: Django drops its constraint and adds it back (treeherder model 0020; sqlmigrate on PostgreSQL 15)", async () => {
    const dir = project(`import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("library", "0001_initial")]

    operations = [
        migrations.AlterField("book", "author", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, to="library.author", null=True)),
        migrations.AlterField("book", "title", models.CharField(max_length=200, null=True)),
    ]
`);
    const { result } = await analyze(["."], { cwd: dir, ruleNames: ["making-column-nullable", "adding-foreign-key-constraint"] });
    const help = (line: number) => result.diagnostics.find((d) => d.rule === "making-column-nullable" && d.line === line)?.help[0] ?? "";
    expect(help(9)).toContain("drops NOT NULL instantly, though Django also drops the foreign key constraint and adds it back, checking every row");
    expect(help(10)).toContain("The schema change itself is instant");
    expect(result.diagnostics.filter((d) => d.rule === "adding-foreign-key-constraint").map((d) => d.line)).toEqual([9]);
  });
});

describe("a nullable foreign key made NOT NULL with a default", () => {
  it("is filled first, then made NOT NULL in a non-atomic migration whose VALIDATE does not run under the ADD's lock (treeherder perf 0009)", async () => {
    const dir = project(`import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("library", "0001_initial")]

    operations = [
        migrations.AddField("book", "editor", models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, to="library.author", null=True, related_name="+")),
    ]
`);
    const write = (name: string, text: string) => writeFileSync(path.join(dir, "library", "migrations", name), text);
    const alter = `migrations.AlterField("book", "editor", models.ForeignKey(default=1, on_delete=django.db.models.deletion.PROTECT, to="library.author", related_name="+"))`;
    write("0003_not_null.py", `import django.db.models.deletion\nfrom django.db import migrations, models\n\n\nclass Migration(migrations.Migration):\n    dependencies = [("library", "0002_fk")]\n\n    operations = [\n        ${alter},\n    ]\n`);
    const { result } = await analyze(["library/migrations/0003_not_null.py"], { cwd: dir, ruleNames: ["adding-foreign-key-constraint"] });
    const help = result.diagnostics[0]?.help.join("\n") ?? "";
    expect(help).toContain('`UPDATE "library_book" SET "editor_id" = 1 WHERE "editor_id" IS NULL`');
    const blocks = [...help.matchAll(/```python\n([\s\S]*?)\n```/g)].map((m) => m[1] ?? "");
    const recipe = (blocks.at(-1) ?? "").replace("dependencies = [...]  # the previous migration of the app", 'dependencies = [("library", "0002_fk")]');
    expect(recipe).toContain("atomic = False");
    // Following it leaves nothing to report: no re-added key, no VALIDATE under the ADD's lock.
    write("0003_not_null.py", recipe);
    const after = await analyze(["library/migrations/0003_not_null.py"], { cwd: dir });
    expect(after.result.diagnostics.filter((d) => d.severity === "error").map((d) => d.rule)).toEqual([]);
  });
});

describe("running-ddl-without-lock-timeout on MySQL", () => {
  const migration = (first: string) => `from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("library", "0001_initial")]

    operations = [${first}
        migrations.AddField("book", "isbn", models.CharField(max_length=20, null=True)),
    ]
`;
  const run = async (first: string) => (await analyze(["."], { cwd: project(migration(first)), ruleNames: ["running-ddl-without-lock-timeout"], target: { database: "mysql" } })).result.diagnostics;

  it("asks for lock_wait_timeout: every ALTER TABLE queues the table's queries behind its metadata lock (DMOJ)", async () => {
    const [finding] = await run("");
    expect(finding?.message).toBe("`AddField` (adding column `isbn`) on `library_book` takes a metadata lock on the table in `0002_fk`, and no `lock_wait_timeout` is set before it.");
    expect(finding?.help.join("\n")).toContain('migrations.RunSQL("SET SESSION lock_wait_timeout = 5", reverse_sql=migrations.RunSQL.noop),');
    // PostgreSQL's setting does nothing on MySQL.
    expect(await run(`\n        migrations.RunSQL("SET lock_timeout = '5s'", migrations.RunSQL.noop),`)).toHaveLength(1);
  });

  it.each(["SET SESSION lock_wait_timeout = 5", "SET lock_wait_timeout = 5", "SET LOCAL lock_wait_timeout = 5"])("is satisfied by %s", async (statement) => {
    expect(await run(`\n        migrations.RunSQL("${statement}", migrations.RunSQL.noop),`)).toEqual([]);
  });
});

describe("fields and SQL rollsafe can only partly read", () => {
  it("checks the SQL a RunPython runs on the target's vendor only (patchwork 0043)", async () => {
    const source = `from django.db import connection, migrations


def forwards(apps, schema_editor):
    if connection.vendor == "mysql":
        schema_editor.execute("CREATE INDEX library_book_pages_idx ON library_book (pages)")
    else:
        schema_editor.execute("CREATE INDEX CONCURRENTLY IF NOT EXISTS library_book_pages_idx ON library_book (pages)")


class Migration(migrations.Migration):
    atomic = False
    dependencies = [("library", "0001_initial")]

    operations = [
        migrations.RunPython(forwards, migrations.RunPython.noop),
    ]
`;
    const run = async (database: "postgresql" | "mysql") =>
      (await analyze(["."], { cwd: project(source), ruleNames: ["runsql-adding-index-non-concurrently", "building-index-concurrently-without-if-not-exists"], target: { database } })).result.diagnostics;
    expect(await run("postgresql")).toEqual([]);
  });

  it("judges no option of a field unpacked from a setting (OpenWISP config 0014, 0019, 0026)", async () => {
    const source = `from django.db import migrations, models
from library import app_settings


class Migration(migrations.Migration):
    dependencies = [("library", "0001_initial")]

    operations = [
        migrations.AddField("book", "hardware_id", models.CharField(**app_settings.HARDWARE_ID_OPTIONS)),
        migrations.AlterField("book", "hardware_id", models.CharField(max_length=32, null=True, blank=True)),
    ]
`;
    const { result } = await analyze(["."], { cwd: project(source) });
    expect(result.diagnostics.filter((d) => d.severity === "error").map((d) => d.rule)).toEqual([]);
  });

  it("does not take a target named by a setting for another model (OpenWISP config 0040: only on_delete changed)", async () => {
    const source = `import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("library", "0001_initial")]

    operations = [
        migrations.AlterField("book", "author", models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, to=settings.LIBRARY_AUTHOR_MODEL)),
        migrations.AlterField("book", "author", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, to=swapper.get_model_name("library", "Author"))),
    ]
`.replace("from django.db import migrations, models", "import swapper\nfrom django.db import migrations, models");
    const { result } = await analyze(["."], { cwd: project(source), ruleNames: ["adding-foreign-key-constraint", "running-slow-operation-under-exclusive-lock"] });
    expect(result.diagnostics).toEqual([]);
  });
});

describe("runsql-renaming-table on a many-to-many field's join table", () => {
  it("is an error, as for a model's table: the old release uses the relation (pretalx submission 0078)", async () => {
    const dir = project(`from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("library", "0001_initial")]

    operations = [
        migrations.RunSQL("ALTER TABLE library_book_tags RENAME TO library_booktag", migrations.RunSQL.noop),
    ]
`);
    const [finding] = (await analyze(["."], { cwd: dir, ruleNames: ["runsql-renaming-table"] })).result.diagnostics;
    expect(finding?.severity).toBe("error");
    expect(finding?.help.join("\n")).toContain("it is the join table of `Book.tags`");
  });
});

describe("unique_together over a column added nullable in the same migration", () => {
  it("cannot fail on duplicates: the column is NULL in every existing row (pretalx submission 0089)", async () => {
    const dir = project(`from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("library", "0001_initial")]

    operations = [
        migrations.AddField("book", "identifier", models.CharField(max_length=20, null=True)),
        migrations.AlterUniqueTogether(name="book", unique_together={("title", "identifier")}),
    ]
`);
    const run = async (database: "postgresql" | "mysql") => (await analyze(["."], { cwd: dir, ruleNames: ["adding-unique-constraint"], target: { database } })).result.diagnostics;
    const [pg] = await run("postgresql");
    expect(pg?.message).toBe("Adding `unique_together` (title, identifier) builds a unique index on `library_book` under an ACCESS EXCLUSIVE lock (reads and writes blocked).");
    expect(pg?.help.join("\n")).toContain("`identifier`, added in this migration, is NULL in every existing row");
    expect(pg?.help.join("\n")).not.toContain("remove existing ones");
    expect(await run("mysql")).toEqual([]);
  });
});

describe("adding-foreign-key-constraint's locks", () => {
  const migration = (atomic: boolean, ops: string) => `import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
${atomic ? "" : "    atomic = False\n"}    dependencies = [("library", "0001_initial")]

    operations = [
        migrations.CreateModel(name="Shelf", fields=[("id", models.BigAutoField(primary_key=True))]),
${ops}
    ]
`;
  const retarget = `        migrations.AlterField("book", "author", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, to="library.shelf")),`;
  const add = `        migrations.AddField("book", "editor", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, to="library.author", null=True, related_name="+")),`;
  const run = async (atomic: boolean, ops: string) => (await analyze(["."], { cwd: project(migration(atomic, ops)), ruleNames: ["adding-foreign-key-constraint"] })).result.diagnostics.map((d) => d.message);

  it("names the old target's table as the one the drop locks, when the key moves to another model (patchwork 0042)", async () => {
    expect(await run(true, retarget)).toEqual([
      "Altering foreign key `Book.author` drops constraint `library_book_author_id_d9a3b67e_fk_library_author_id` and adds `library_book_author_id_d9a3b67e_fk_library_shelf_id`, checking every row of `library_book` while reads and writes of `library_book` and `library_author` are blocked.",
    ]);
  });

  it("holds only the validation's and the index build's locks with atomic = False, which block writes, not reads (patchwork 0043)", async () => {
    const [readd] = await run(false, retarget);
    // `library_shelf` is made in the same migration: no one writes to it yet (umap 0022).
    expect(readd).toContain("while writes to `library_book` are blocked.");
    expect(await run(false, add)).toEqual(["Adding foreign key `Book.editor` builds its index `library_book_editor_id_03910eb0` under a SHARE lock on `library_book`, so writes to `library_book` wait for the build."]);
  });
});

describe("a foreign key added on MySQL", () => {
  it("is a table copy, not a check of every row, that the headline names (Shuup)", async () => {
    const dir = project(`import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("library", "0001_initial")]

    operations = [
        migrations.AddField("book", "editor", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, to="library.author", null=True, related_name="+")),
    ]
`);
    const [finding] = (await analyze(["."], { cwd: dir, ruleNames: ["adding-foreign-key-constraint"], target: { database: "mysql" } })).result.diagnostics;
    expect(finding?.message).toMatch(/^Adding foreign key `Book.editor` adds constraint `library_book_editor_id_\w+_fk_library_author_id`, which makes MySQL copy `library_book` \(ALGORITHM=COPY\) while writes to `library_book` and `library_author` are blocked\.$/);
  });
});

describe("a primary key turned into a unique field", () => {
  it("cannot fail on duplicates: the lock is the finding (AWX main 0180)", async () => {
    const dir = project(`from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("library", "0001_initial")]

    operations = [
        migrations.CreateModel(name="Metric", fields=[("hostname", models.CharField(max_length=512, primary_key=True, serialize=False))]),
    ]
`);
    writeFileSync(
      path.join(dir, "library", "migrations", "0003_unique.py"),
      `from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("library", "0002_fk")]

    operations = [
        migrations.AlterField(model_name="metric", name="hostname", field=models.CharField(max_length=512, unique=True)),
        migrations.AddField(model_name="metric", name="id", field=models.AutoField(auto_created=True, primary_key=True, serialize=False)),
    ]
`,
    );
    const run = async (database: "postgresql" | "mysql") =>
      (await analyze(["library/migrations/0003_unique.py"], { cwd: dir, ruleNames: ["adding-unique-constraint"], target: { database } })).result.diagnostics;
    const [pg] = await run("postgresql");
    expect(pg?.message).toBe("Making `Metric.hostname` unique builds a unique index on `library_metric` under an ACCESS EXCLUSIVE lock (reads and writes blocked).");
    expect(pg?.help.join("\n")).toContain("`hostname` was the primary key, so its values are already distinct");
    expect(await run("mysql")).toEqual([]);
  });
});

describe("a foreign key moved to a table the same migration creates", () => {
  it("says the validation fails on every row that points somewhere unless the table is filled first (AWX main 0189)", async () => {
    const dir = project(`import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("library", "0001_initial")]

    operations = [
        migrations.CreateModel(name="Writer", fields=[("id", models.BigAutoField(primary_key=True))]),
        migrations.AlterField("book", "author", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, to="library.writer")),
    ]
`);
    const [finding] = (await analyze(["."], { cwd: dir, ruleNames: ["adding-foreign-key-constraint"] })).result.diagnostics;
    expect(finding?.help[0]).toBe(
      '`library_writer` is created empty earlier in this migration: adding the constraint fails on every row of `library_book` whose `author_id` is not NULL ("violates foreign key constraint"), unless a step before this one fills `library_writer` with those ids. A NOT VALID constraint would only move the failure to its VALIDATE.',
    );
  });
});

describe("an index built after an earlier operation took ACCESS EXCLUSIVE on the table", () => {
  it("says reads wait too, as running-slow-operation-under-exclusive-lock does on the same line (Label Studio data_manager 0011)", async () => {
    const dir = project(`from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("library", "0001_initial")]

    operations = [
        migrations.AddField("book", "order", models.IntegerField(null=True)),
        migrations.AddIndex("book", models.Index(fields=["title"], name="book_title_idx")),
        migrations.AddIndex("author", models.Index(fields=["name"], name="author_name_idx")),
    ]
`);
    const { result } = await analyze(["."], { cwd: dir });
    const [book, author] = result.diagnostics.filter((d) => d.rule === "adding-index-non-concurrently");
    expect(book?.message).toBe(
      "`AddIndex` builds `book_title_idx` on `library_book` without CONCURRENTLY, blocking reads and writes (the ACCESS EXCLUSIVE lock taken earlier for adding column `order` is still held) during the build.",
    );
    expect(book?.help[0]).toContain("here reads wait too");
    expect(book?.help[0]).not.toContain("reads go on");
    // Another table: only the build's own SHARE lock.
    expect(author?.message).toBe("`AddIndex` builds `author_name_idx` on `library_author` without CONCURRENTLY, blocking writes to `library_author` during the build.");
    expect(author?.help[0]).toContain("reads go on");
    // The same words when running-slow-operation-under-exclusive-lock, which counts the held locks, is not selected; its findings stay out.
    const alone = await analyze(["."], { cwd: dir, ruleNames: ["adding-index-non-concurrently"] });
    expect(alone.result.diagnostics.map((d) => d.rule)).toEqual(["adding-index-non-concurrently", "adding-index-non-concurrently"]);
    expect(alone.result.diagnostics.map((d) => d.message)).toEqual([book?.message, author?.message]);
  });
});

describe("an AlterField that drops unique=True and keeps db_index=True (OSF 0223)", () => {
  it("builds only the plain index (Django keeps the _like one), under the ACCESS EXCLUSIVE lock the same AlterField takes", async () => {
    const dir = project(`from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("library", "0001_initial")]

    operations = [
        migrations.AddField("author", "code", models.CharField(db_index=True, max_length=50, null=True, unique=True)),
    ]
`);
    writeFileSync(
      path.join(dir, "library/migrations/0003_code.py"),
      `from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("library", "0002_fk")]

    operations = [
        migrations.AlterField("author", "code", models.CharField(db_index=True, max_length=100, null=True)),
    ]
`,
    );
    const { result } = await analyze(["."], { cwd: dir, ruleNames: ["adding-index-non-concurrently"] });
    const found = result.diagnostics.filter((d) => d.file.endsWith("0003_code.py"));
    expect(found).toHaveLength(1);
    // postgresql/schema.py _alter_field: a _like index only when neither db_index nor unique was set, or unique is new.
    expect(found[0]?.message).toMatch(/^Altering `Author.code` with `db_index=True` builds `library_author_code_[0-9a-f]{8}` on `library_author` without CONCURRENTLY, blocking reads and writes \(its ACCESS EXCLUSIVE lock for /);
    const help = found[0]?.help.join("\n") ?? "";
    expect(help).not.toContain("_like");
    expect(help).toContain("the same `AlterField` takes ACCESS EXCLUSIVE on `library_author` first");
  });
});

describe("renaming-table's advice for a model that foreign keys point at", () => {
  it("renames in state only before Django 5.0, which rebuilds the keys even with the table pinned; a plain pinned rename from 5.0", async () => {
    const dir = project(`from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("library", "0001_initial")]

    operations = [
        migrations.RemoveField(model_name="book", name="tags"),
        migrations.RenameModel(old_name="Author", new_name="Writer"),
    ]
`);
    const first = async (django: [number, number]) => {
      const { result } = await analyze(["."], { cwd: dir, ruleNames: ["renaming-table"], target: { django } });
      return result.diagnostics[0]?.help.find((h) => h.startsWith("1. ")) ?? "";
    };
    expect(await first([4, 2])).toContain("a plain `RenameModel` would still drop and re-create, validating every row, the foreign key of `Book.author`");
    const five = await first([5, 0]);
    expect(five).toContain("`RenameModel` then emits no SQL for the table.");
    expect(five).not.toContain("SeparateDatabaseAndState");
  });
});

describe("a positive integer column added with a default", () => {
  it("is not said to be NULL in every row while its CHECK is validated", async () => {
    const help = async (field: string) => {
      const dir = project(`from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("library", "0001_initial")]

    operations = [
        migrations.AddField("book", "copies", ${field}),
    ]
`);
      const { result } = await analyze(["."], { cwd: dir, ruleNames: ["adding-check-constraint"] });
      return result.diagnostics.map((d) => d.help[0]).join("\n");
    };
    // Django adds the column with `DEFAULT 0 NOT NULL CHECK ("copies" >= 0)`: every row holds 0.
    expect(await help("models.PositiveSmallIntegerField(default=0)")).toContain("even for a new column that holds its default in every row, PostgreSQL validates");
    expect(await help("models.PositiveSmallIntegerField(db_default=0)")).toContain("even for a new column that holds its `db_default` in every row");
    expect(await help("models.PositiveSmallIntegerField(null=True, default=None)")).toContain("even for a new column that is NULL in every row");
    expect(await help("models.PositiveSmallIntegerField(null=True)")).toContain("even for a new column that is NULL in every row");
  });
});

describe("an index removed after its column", () => {
  it("is not reported once the column is dropped, only when the drop comes first and reaches the database (Misago threads 0040)", async () => {
    const findings = async (operations: string) => {
      const dir = project(`from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("library", "0001_initial")]

    operations = [
        migrations.SeparateDatabaseAndState(state_operations=[migrations.AddIndex("book", models.Index(fields=["pages"], name="book_pages_idx"))]),
${operations}
    ]
`);
      const { result } = await analyze(["."], { cwd: dir, ruleNames: ["removing-index-non-concurrently"] });
      return result.diagnostics.map((d) => d.line);
    };
    const remove = `        migrations.RemoveIndex(model_name="book", name="book_pages_idx"),`;
    const drop = `        migrations.RemoveField(model_name="book", name="pages"),`;
    expect(await findings(`${drop}\n${remove}`)).toEqual([]);
    expect(await findings(`${remove}\n${drop}`)).toEqual([9]);
    // Dropped from the state only: the column and its index are still there.
    expect(await findings(`        migrations.SeparateDatabaseAndState(state_operations=[migrations.RemoveField("book", "pages")]),\n${remove}`)).toEqual([10]);
    // Renamed, not dropped: the index follows the column.
    expect(await findings(`        migrations.RenameField("book", "pages", "page_count"),\n${remove}`)).toEqual([10]);
  });
});

describe("a model a migration creates in the state only", () => {
  it("sits on a table that existed before, unless the migration's SQL creates it or rollsafe cannot read all it runs", async () => {
    const findings = async (database: string, extra = "") => {
      const dir = project(`from django.db import migrations, models


def noop(apps, schema_editor):
    pass


class Migration(migrations.Migration):
    dependencies = [("library", "0001_initial")]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[${database}],
            state_operations=[
                migrations.CreateModel(
                    name="Legacy",
                    fields=[("id", models.AutoField(primary_key=True, serialize=False)), ("code", models.CharField(max_length=32))],
                    options={"db_table": "legacy_codes"},
                ),
            ],
        ),${extra}
        migrations.AddIndex(model_name="legacy", index=models.Index(fields=["code"], name="legacy_code_idx")),
    ]
`);
      const { result } = await analyze(["."], { cwd: dir, ruleNames: ["adding-index-non-concurrently"] });
      return result.diagnostics.map((d) => d.message);
    };
    // Nothing the migration runs makes `legacy_codes`: it was there, with its rows.
    expect(await findings("")).toEqual(["`AddIndex` builds `legacy_code_idx` on `legacy_codes` without CONCURRENTLY, blocking writes to `legacy_codes` during the build."]);
    // Its own SQL creates the table: new and empty.
    expect(await findings(`migrations.RunSQL("CREATE TABLE legacy_codes (id serial PRIMARY KEY, code varchar(32) NOT NULL)", "DROP TABLE legacy_codes")`)).toEqual([]);
    // A RunPython may have created it: not claimed.
    expect(await findings("", "\n        migrations.RunPython(noop, noop),")).toEqual([]);
  });
});

describe("a field added and removed again in one migration", () => {
  it("builds no index: Django's remove_field discards the deferred CREATE INDEX (pretalx event 0002's squash)", async () => {
    const rules = ["adding-foreign-key-constraint", "adding-index-non-concurrently", "running-slow-operation-under-exclusive-lock", "reversing-migration-drops-data"];
    const findings = async (operations: string) => {
      const dir = project(`import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("library", "0001_initial")]

    operations = [
        migrations.AddField("author", "nickname", models.CharField(max_length=20, null=True)),
${operations}
    ]
`);
      const { result } = await analyze(["."], { cwd: dir, ruleNames: rules });
      return result.diagnostics.map((d) => `${d.line} ${d.rule}`);
    };
    const addFk = `        migrations.AddField("book", "editor", models.ForeignKey(null=True, on_delete=django.db.models.deletion.CASCADE, related_name="+", to="library.author")),`;
    const addIndexed = `        migrations.AddField("book", "code", models.CharField(max_length=20, null=True, db_index=True)),`;
    const drop = (name: string) => `        migrations.RemoveField("book", "${name}"),`;
    // Only the author's column, which stays, is left to reverse.
    expect(await findings(`${addFk}\n${addIndexed}\n${drop("editor")}\n${drop("code")}`)).toEqual(["9 reversing-migration-drops-data"]);
    // Kept: the foreign key and its index are built, under the earlier lock on library_author too.
    expect(await findings(`${addFk}\n${addIndexed}`)).toEqual(
      expect.arrayContaining(["10 adding-foreign-key-constraint", "11 adding-index-non-concurrently", "10 reversing-migration-drops-data", "11 reversing-migration-drops-data"]),
    );
    // Removed before it is added again: the second AddField's index is built.
    expect(await findings(`${addIndexed}\n${drop("code")}\n${addIndexed}`)).toEqual(expect.arrayContaining(["12 adding-index-non-concurrently"]));
  });
});

describe("a unique_together set whose field was renamed since it was made", () => {
  it("is dropped under the name Django gave it then (Funkwhale federation 0014)", async () => {
    const dir = project(`from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("library", "0001_initial")]

    operations = [
        migrations.AlterUniqueTogether("book", {("title", "pages")}),
        migrations.AlterIndexTogether("book", {("subtitle", "pages")}),
        migrations.RenameField("book", "pages", "page_count"),
        migrations.AlterUniqueTogether("book", set()),
        migrations.AlterIndexTogether("book", set()),
    ]
`);
    const { result } = await analyze(["."], { cwd: dir, ruleNames: ["removing-index-non-concurrently"] });
    const messages = result.diagnostics.map((d) => d.message).join("\n");
    // Django finds them by their columns; PostgreSQL kept the names of the column `pages`.
    expect(messages).toContain(`\`${djangoIndexName("library_book", ["title", "pages"], "_uniq")}\``);
    expect(messages).not.toContain(djangoIndexName("library_book", ["title", "page_count"], "_uniq"));
    const help = result.diagnostics.map((d) => d.help.join("\n")).join("\n");
    expect(help).toContain(`DROP INDEX CONCURRENTLY IF EXISTS "${djangoIndexName("library_book", ["subtitle", "pages"], "_idx")}"`);
  });
});

describe("a nullable foreign key made NOT NULL", () => {
  it("is made NOT NULL after the deploy in adding-foreign-key-constraint's recipe too, as setting-column-not-null's says (Tandoor cookbook 0138)", async () => {
    const dir = project(`import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("library", "0001_initial")]

    operations = [
        migrations.AddField("book", "editor", models.ForeignKey(null=True, on_delete=django.db.models.deletion.CASCADE, related_name="+", to="library.author")),
    ]
`);
    writeFileSync(
      path.join(dir, "library/migrations/0003_editor_required.py"),
      `import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("library", "0002_fk")]

    operations = [
        migrations.AlterField("book", "editor", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name="+", to="library.author")),
    ]
`,
    );
    const { result } = await analyze(["library/migrations/0003_editor_required.py"], { cwd: dir, ruleNames: ["adding-foreign-key-constraint", "setting-column-not-null"] });
    const fk = result.diagnostics.find((d) => d.rule === "adding-foreign-key-constraint")?.help.join("\n") ?? "";
    expect(fk).toContain("After the deploy, in a migration marked post-deploy");
    expect(fk).toContain("`setting-column-not-null` gives the same steps with Django's operations");
    expect(result.diagnostics.map((d) => d.rule).sort()).toEqual(["adding-foreign-key-constraint", "setting-column-not-null"]);
  });
});

describe("a field added, renamed and made a foreign key in one migration", () => {
  it("pins the column where the rename left it, not where the field began (wger measurements 0004)", async () => {
    const dir = project(`from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("library", "0001_initial")]

    operations = [
        migrations.AddField("book", "editor_tmp", models.BigIntegerField(null=True)),
        migrations.RenameField("book", "editor_tmp", "editor"),
        migrations.AlterField("book", "editor", models.ForeignKey(null=True, on_delete=models.CASCADE, related_name="+", to="library.author")),
    ]
`);
    const { result } = await analyze(["."], { cwd: dir, ruleNames: ["adding-index-non-concurrently", "adding-foreign-key-constraint"] });
    const text = result.diagnostics.map((d) => [d.message, ...d.help].join("\n")).join("\n");
    expect(text).not.toContain("editor_tmp");
    expect(text).toContain('db_column="editor"');
    expect(text).toContain(`ON "library_book" ("editor")`);
  });
});
