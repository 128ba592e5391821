/**
 * The column rules on non-default targets (MySQL, SQLite, PostgreSQL 10, older Django), and the
 * classification of type changes that decides between in-place, rewrite and narrowing.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { lint } from "../../src/index.js";
import type { Target } from "../../src/engine/rule-types.js";
import { citextIndexRebuild, classifyTypeChange } from "../../rules/changing-column-type.js";
import { perRowCallable } from "../../rules/adding-column-with-callable-default.js";
import { RULE_FIXTURES } from "../support/fixture-cases.js";

const SETUP = readFileSync(path.join(RULE_FIXTURES, "changing-column-type/bad/integer-to-bigint/library/migrations/0001_initial.py"), "utf8");
const root = mkdtempSync(path.join(tmpdir(), "rollsafe-columns-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

let counter = 0;
/** A project of the standard setup plus `migrations` (file name without `.py` -> source); its directory. */
function projectWith(migrations: Record<string, string>): string {
  const dir = path.join(root, `case${counter++}`);
  const folder = path.join(dir, "library", "migrations");
  mkdirSync(folder, { recursive: true });
  writeFileSync(path.join(dir, "library", "__init__.py"), "");
  writeFileSync(path.join(folder, "__init__.py"), "");
  writeFileSync(path.join(folder, "0001_initial.py"), SETUP);
  for (const [name, source] of Object.entries(migrations)) writeFileSync(path.join(folder, `${name}.py`), source);
  return dir;
}

/** Lints a project made of the standard setup plus one `0002` with `operations`. */
async function lintOps(operations: string, target: Partial<Target> = {}, header = "") {
  const dir = projectWith({
    "0002_change": `import uuid\nimport django.db.models.deletion\nfrom django.db import migrations, models\n\n\nclass Migration(migrations.Migration):\n${header}    dependencies = [("library", "0001_initial")]\n\n    operations = [\n${operations}\n    ]\n`,
  });
  const result = await lint([dir], { cwd: dir, target });
  return result.diagnostics;
}

/** A field added in one migration and removed in the next, on Django 5.0: the findings of the removal. */
async function lintTwo(field: string) {
  const module = (deps: string, operation: string) =>
    `import uuid\nimport django.utils.timezone\nfrom django.db import migrations, models\n\n\nclass Migration(migrations.Migration):\n    dependencies = [("library", "${deps}")]\n\n    operations = [\n        ${operation},\n    ]\n`;
  const dir = projectWith({
    "0002_add": module("0001_initial", `migrations.AddField("author", "extra", ${field})`),
    "0003_remove": module("0002_add", 'migrations.RemoveField("author", "extra")'),
  });
  const result = await lint([dir], { cwd: dir, target: { django: [5, 0] }, ruleNames: ["dropping-column"] });
  return result.diagnostics.filter((d) => d.file.endsWith("0003_remove.py"));
}

/** Lints a project made with `projectWith`, on the default target. */
async function lintProject(dir: string) {
  return (await lint([dir], { cwd: dir })).diagnostics;
}

const rulesOf = (diags: { rule: string; severity: string }[]) => diags.map((d) => `${d.rule}:${d.severity}`).sort();

describe("classifyTypeChange", () => {
  const v = (length: number | null) => ({ base: "varchar", length });
  const n = (precision: number, scale: number) => ({ base: "numeric", precision, scale });
  it("knows PostgreSQL's catalog-only changes (checked on PostgreSQL 15 with relfilenode)", () => {
    expect(classifyTypeChange(v(100), v(200), "postgresql")).toBe("in-place");
    expect(classifyTypeChange(v(100), v(null), "postgresql")).toBe("in-place");
    expect(classifyTypeChange(v(100), { base: "text" }, "postgresql")).toBe("in-place");
    expect(classifyTypeChange(n(5, 2), n(7, 2), "postgresql")).toBe("in-place");
  });
  it("treats scale changes and integer growth as rewrites", () => {
    expect(classifyTypeChange(n(5, 2), n(7, 3), "postgresql")).toBe("rewrite");
    expect(classifyTypeChange({ base: "integer" }, { base: "bigint" }, "postgresql")).toBe("rewrite");
    expect(classifyTypeChange({ base: "date" }, { base: "timestamp with time zone" }, "postgresql")).toBe("rewrite");
  });
  it("calls every loss of capacity narrowing", () => {
    expect(classifyTypeChange(v(100), v(50), "postgresql")).toBe("narrowing");
    expect(classifyTypeChange({ base: "text" }, v(300), "postgresql")).toBe("narrowing");
    expect(classifyTypeChange(n(5, 2), n(4, 2), "postgresql")).toBe("narrowing");
    expect(classifyTypeChange(n(5, 2), n(5, 1), "postgresql")).toBe("narrowing");
    expect(classifyTypeChange({ base: "bigint" }, { base: "integer" }, "postgresql")).toBe("narrowing");
  });
  it("follows MySQL's varchar length-byte boundary (63 characters in utf8mb4)", () => {
    expect(classifyTypeChange(v(20), v(63), "mysql")).toBe("in-place");
    expect(classifyTypeChange(v(63), v(64), "mysql")).toBe("rewrite");
    expect(classifyTypeChange(v(100), v(300), "mysql")).toBe("in-place");
    expect(classifyTypeChange(v(100), { base: "longtext" }, "mysql")).toBe("rewrite");
    expect(classifyTypeChange(n(5, 2), n(7, 2), "mysql")).toBe("rewrite");
  });
  it("says SQLite remakes the table for any type change", () => {
    expect(classifyTypeChange(v(100), v(200), "sqlite")).toBe("rewrite");
  });
  it("keeps citext's rows to and from text, and narrows it to varchar(n) (PostgreSQL 15, pg_relation_filenode)", () => {
    const citext = { base: "citext" };
    expect(classifyTypeChange(v(100), citext, "postgresql")).toBe("in-place");
    expect(classifyTypeChange({ base: "text" }, citext, "postgresql")).toBe("in-place");
    expect(classifyTypeChange(citext, { base: "text" }, "postgresql")).toBe("in-place");
    expect(classifyTypeChange(citext, v(null), "postgresql")).toBe("in-place");
    expect(classifyTypeChange(citext, v(100), "postgresql")).toBe("narrowing");
    expect(classifyTypeChange(citext, { base: "integer" }, "postgresql")).toBe("rewrite");
    expect(citextIndexRebuild(v(100), citext)).toBe(true);
    expect(citextIndexRebuild(citext, { base: "text" })).toBe(true);
    expect(citextIndexRebuild(citext, v(100))).toBe(false);
    expect(citextIndexRebuild(v(100), v(200))).toBe(false);
    expect(citextIndexRebuild({ ...v(100), dimensions: 1 }, { ...citext, dimensions: 1 })).toBe(false);
  });
});

describe("citext columns", () => {
  const header = "from django.contrib.postgres.fields import CICharField, CITextField\n";
  it("reports the index rebuilds of a change to or from citext, not an unindexed one", async () => {
    const dir = projectWith({
      "0002_unique": `from django.db import migrations, models\n\n\nclass Migration(migrations.Migration):\n    dependencies = [("library", "0001_initial")]\n\n    operations = [\n        migrations.AlterField("author", "name", models.CharField(max_length=100, unique=True)),\n    ]\n`,
      "0003_citext": `${header}from django.contrib.postgres.operations import CITextExtension\nfrom django.db import migrations, models\n\n\nclass Migration(migrations.Migration):\n    dependencies = [("library", "0002_unique")]\n\n    operations = [\n        CITextExtension(),\n        migrations.AlterField("author", "name", CICharField(max_length=100, unique=True)),\n        migrations.AlterField("book", "subtitle", CITextField(null=True)),\n    ]\n`,
    });
    const diags = (await lintProject(dir)).filter((d) => d.file.endsWith("0003_citext.py"));
    expect(rulesOf(diags)).toEqual(["changing-column-collation:error"]);
    expect(diags[0]?.message).toBe("Changing `Author.name` from `varchar(100)` to `citext` rebuilds an index of `library_author` under an ACCESS EXCLUSIVE lock, blocking reads and writes.");
    const help = diags[0]?.help.join("\n") ?? "";
    expect(help).toContain("library_author_name_ab7b0c91_uniq");
    expect(help).toContain("Django drops `library_author_name_ab7b0c91_like` first");
    expect(help).toContain("differ only by case as equal");
  });
  it("narrows citext to a varchar(n): the CICharField replacement Django 4.2 recommends rewrites the table and cuts longer values", async () => {
    const dir = projectWith({
      "0002_citext": `${header}from django.db import migrations\n\n\nclass Migration(migrations.Migration):\n    dependencies = [("library", "0001_initial")]\n\n    operations = [\n        migrations.AlterField("book", "subtitle", CICharField(max_length=200, null=True)),\n    ]\n`,
      "0003_collation": `from django.db import migrations, models\n\n\nclass Migration(migrations.Migration):\n    dependencies = [("library", "0002_citext")]\n\n    operations = [\n        migrations.AlterField("book", "subtitle", models.CharField(max_length=200, null=True, db_collation="case_insensitive")),\n    ]\n`,
    });
    const diags = (await lintProject(dir)).filter((d) => d.file.endsWith("0003_collation.py"));
    expect(rulesOf(diags)).toEqual(["narrowing-column:error"]);
    expect(diags[0]?.message).toContain("citext");
    const help = diags[0]?.help.join("\n") ?? "";
    expect(help).not.toContain("may change");
    expect(help).not.toContain("as its own finding says");
    // The way out of citext without a rewrite: a varchar without max_length, binary-coercible with it.
    expect(help).toContain('field=models.CharField(null=True, db_collation="case_insensitive", validators=[django.core.validators.MaxLengthValidator(200)])');
  });
});

describe("perRowCallable", () => {
  const name = (n: string) => ({ kind: "name" as const, name: n, qualified: n, range: { line: 1, column: 1, endLine: 1, endColumn: 1, startOffset: 0, endOffset: 0 } });
  it("flags generators and project functions, not constants or empty constructors", () => {
    expect(perRowCallable(name("uuid.uuid4"))).toBe("uuid.uuid4");
    expect(perRowCallable(name("django.utils.timezone.now"))).toBe("django.utils.timezone.now");
    expect(perRowCallable(name("library.models.make_code"))).toBe("library.models.make_code");
    expect(perRowCallable(name("dict"))).toBeNull();
    expect(perRowCallable(name("library.DEFAULT_RANK"))).toBeNull();
  });
});

describe("type changes per engine", () => {
  const widen = `        migrations.AlterField("book", "title", models.CharField(max_length=300)),`;
  const bigint = `        migrations.AlterField("book", "pages", models.BigIntegerField(null=True)),`;
  it("PostgreSQL: varchar growth is silent, int -> bigint is an error", async () => {
    expect(await lintOps(widen)).toEqual([]);
    expect(rulesOf(await lintOps(bigint))).toEqual(["changing-column-type:error"]);
  });
  it("MySQL: growth across the 255-byte boundary copies the table; gh-ost advice", async () => {
    const diags = await lintOps(widen, { database: "mysql" });
    expect(rulesOf(diags)).toEqual([]); // 200 -> 300 stays in the 2-byte class
    const across = await lintOps(`        migrations.AlterField("author", "name", models.CharField(max_length=50)),\n        migrations.AlterField("author", "name", models.CharField(max_length=64)),`, { database: "mysql" });
    expect(rulesOf(across)).toEqual(["changing-column-type:error", "narrowing-column:error"]);
    const copy = across.find((d) => d.rule === "changing-column-type");
    expect(copy?.message).toContain("copies");
    expect(copy?.help.join("\n")).toContain("gh-ost");
  });
  it("SQLite: a remake is a warning, and narrowing is not enforced there", async () => {
    expect(rulesOf(await lintOps(bigint, { database: "sqlite" }))).toEqual(["changing-column-type:warning"]);
    const narrow = await lintOps(`        migrations.AlterField("book", "title", models.CharField(max_length=50)),`, { database: "sqlite" });
    expect(rulesOf(narrow)).toEqual(["changing-column-type:warning"]);
  });
  it("narrowing advice uses `check=` before Django 5.1 and `condition=` after", async () => {
    const op = `        migrations.AlterField("book", "title", models.CharField(max_length=50)),`;
    const old = (await lintOps(op, { django: [4, 2] }))[0];
    const recent = (await lintOps(op, { django: [5, 2] }))[0];
    expect(old?.help.join("\n")).toContain("CheckConstraint(check=LessThanOrEqual(Length(\"title\"), 50)");
    expect(recent?.help.join("\n")).toContain("CheckConstraint(condition=LessThanOrEqual(Length(\"title\"), 50)");
  });
});

describe("primary key change", () => {
  it("drops the old primary key by the name it was created with, which a table rename keeps", async () => {
    // PostgreSQL 15: after CREATE TABLE library_author and a RenameModel, pg_constraint still
    // says library_author_pkey.
    const diags = await lintOps(`        migrations.RenameModel("Author", "Writer"),
        migrations.AlterField("writer", "name", models.CharField(max_length=100, primary_key=True, serialize=False)),`);
    const help = diags.find((d) => d.rule === "changing-primary-key")?.help.join("\n") ?? "";
    expect(help).toContain('ALTER TABLE "library_writer" DROP CONSTRAINT "library_author_pkey", ADD CONSTRAINT');
    expect(help).not.toContain("check the real name");
  });
});

describe("a foreign key pointed at another field", () => {
  const ops = `        migrations.AddField("author", "code", models.CharField(max_length=10, null=True, unique=True)),
        migrations.AlterField("book", "author", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, to="library.author", to_field="code")),`;

  it("changes the column to the target field's type", async () => {
    const diags = await lintOps(ops);
    expect(diags.find((d) => d.rule === "changing-column-type")?.message).toBe("Changing `Book.author` from `bigint` to `varchar(10)` rewrites `library_book` while blocking reads and writes.");
  });

  it("drops the constraint named for the old target and adds one named for the new", async () => {
    // Django 4.2's sqlmigrate on PostgreSQL 15: DROP CONSTRAINT "..._fk_library_author_id", then
    // ADD CONSTRAINT "..._fk_library_author_code" ... REFERENCES "library_author" ("code").
    const diags = await lintOps(ops);
    const found = diags.find((d) => d.rule === "adding-foreign-key-constraint");
    expect(found?.message).toBe(
      "Altering foreign key `Book.author` drops constraint `library_book_author_id_d9a3b67e_fk_library_author_id` and adds `library_book_author_id_d9a3b67e_fk_library_author_code`, checking every row of `library_book` while reads and writes of `library_book` and `library_author` are blocked.",
    );
    // The old constraint cannot stay: the recipe swaps it for the new one, NOT VALID.
    expect(found?.help.join("\n")).toContain(`'ALTER TABLE "library_book" DROP CONSTRAINT "library_book_author_id_d9a3b67e_fk_library_author_id";'`);
  });
});

describe("primary key type change", () => {
  it("names every referencing column found in state", async () => {
    const diags = await lintOps(`        migrations.AlterField("author", "id", models.AutoField(primary_key=True, serialize=False)),`);
    expect(rulesOf(diags)).toEqual(["changing-primary-key-type:error"]);
    const text = [diags[0]?.message, ...(diags[0]?.help ?? [])].join("\n");
    expect(text).toContain("`library_book.author_id` (Book.author)");
    expect(text).toContain("`library_book_tags.author_id` (Book.tags)");
  });
  it("is not reported on SQLite", async () => {
    expect(await lintOps(`        migrations.AlterField("author", "id", models.AutoField(primary_key=True, serialize=False)),`, { database: "sqlite" })).toEqual([]);
  });
});

describe("defaults per target", () => {
  it("PostgreSQL 10 rewrites for any default, PostgreSQL 11+ does not", async () => {
    const op = `        migrations.AddField("book", "language", models.CharField(db_default="en", max_length=5)),`;
    expect(await lintOps(op)).toEqual([]);
    expect(rulesOf(await lintOps(op, { postgresVersion: 10 }))).toEqual(["adding-column-with-volatile-default:error"]);
  });
  it("a Python default on PostgreSQL 10 rewrites too (Django adds it as DEFAULT, then drops it)", async () => {
    const op = `        migrations.AddField("book", "language", models.CharField(default="en", max_length=5, null=True)),`;
    expect(rulesOf(await lintOps(op, { postgresVersion: 10 }))).toEqual(["adding-column-with-volatile-default:error", "adding-nullable-column-with-default:warning"]);
  });
  it("volatile db_default is only a PostgreSQL rule", async () => {
    const op = `        migrations.AddField("book", "seed", models.FloatField(db_default=django.db.models.functions.Random())),`;
    expect(rulesOf(await lintOps(op))).toEqual(["adding-column-with-volatile-default:error"]);
    expect(await lintOps(op, { database: "mysql" })).toEqual([]);
  });
  it("literal default without db_default: db_default advice on Django 5.0+, SET DEFAULT (PostgreSQL) or a post-deploy backfill before", async () => {
    const op = `        migrations.AddField("book", "language", models.CharField(default="en", max_length=5, null=True)),`;
    const recent = (await lintOps(op))[0];
    expect(recent?.help.join("\n")).toContain(`db_default="en"`);
    const old = (await lintOps(op, { django: [4, 2] }))[0];
    expect(old?.help.join("\n")).toContain(`ALTER TABLE \\"library_book\\" ALTER COLUMN \\"language\\" SET DEFAULT 'en';`);
    expect(old?.help.join("\n")).not.toContain("1. Let the database");
    const mysql = (await lintOps(op, { django: [4, 2], database: "mysql" }))[0];
    expect(mysql?.help.join("\n")).toContain("UPDATE `library_book` SET `language` = %s WHERE `language` IS NULL");
  });
  it("not before a post-deploy migration's old release: only the misplaced addition is reported", async () => {
    const op = `        migrations.AddField("book", "language", models.CharField(default="en", max_length=5, null=True)),`;
    // The old release is gone when a post-deploy migration runs, so old-release NULLs cannot happen;
    // adding a column that late is its own problem (the new release already needs it).
    expect((await lintOps(op, {}, "    is_post_deployment = True\n\n")).map((d) => d.rule)).toEqual(["adding-in-post-deploy-migration"]);
  });
  it("a unique callable default is an error", async () => {
    const op = `        migrations.AddField("book", "code", models.UUIDField(default=uuid.uuid4, null=True, unique=True)),`;
    const diags = await lintOps(op);
    expect(diags.find((d) => d.rule === "adding-column-with-callable-default")?.severity).toBe("error");
  });
});

describe("generated and auto columns per engine", () => {
  const stored = `        migrations.AddField("book", "t", models.GeneratedField(expression=models.F("pages"), output_field=models.IntegerField(), db_persist=True)),`;
  const virtual = `        migrations.AddField("book", "t", models.GeneratedField(expression=models.F("pages"), output_field=models.IntegerField(), db_persist=False)),`;
  it("stored generated columns rewrite on PostgreSQL and copy on MySQL; virtual ones do not", async () => {
    expect(rulesOf(await lintOps(stored))).toEqual(["adding-stored-generated-column:error"]);
    const mysql = await lintOps(stored, { database: "mysql" });
    expect(mysql[0]?.help.join("\n")).toContain("db_persist=False");
    expect(await lintOps(virtual, { database: "mysql" })).toEqual([]);
    expect(await lintOps(stored, { database: "sqlite" })).toEqual([]);
  });
});

describe("foreign key removal", () => {
  it("a pre-deploy RemoveField is left to dropping-column", async () => {
    const diags = await lintOps(`        migrations.RemoveField("book", "author"),`);
    // Not removing-foreign-key-with-constraint as well; the NOT NULL column's failing rollback is its own finding.
    expect(diags.map((d) => d.rule)).toEqual(["dropping-column", "reversing-migration-fails"]);
    // dropping-column's expand step drops the constraint and the NOT NULL together.
    expect(diags[0]?.help.join("\n")).toContain("db_constraint=False");
    expect(diags[0]?.help.join("\n")).toContain("null=True");
  });
  it("an auto-increment primary key is filled by the database: no step makes it nullable, and no state-only removal keeps it", async () => {
    // django-q 0003 (Debian's python3-django-q): the AutoField primary key removed, a CharField one
    // added under the same name. Kept in the database, the old `id` would make the AddField fail.
    const diags = await lintOps(`        migrations.RemoveField("book", "id"),
        migrations.AddField("book", "id", models.CharField(max_length=32, primary_key=True, serialize=False)),`);
    const dropping = diags.find((d) => d.rule === "dropping-column");
    expect(dropping?.message).toBe("Removing primary key `Book.id` drops column `id` from `library_book` while the old release still uses it.");
    const help = dropping?.help.join("\n") ?? "";
    expect(help).not.toContain("null=True");
    expect(help).not.toContain("without a database default");
    expect(help).not.toContain("state-only removal");
    expect(help).toContain("maintenance window");
  });
  it("the expand step's db_default is the default's database twin; a Python callable has none (Label Studio data_export 0002)", async () => {
    const dropped = async (field: string) => {
      const found = await lintTwo(field);
      return found.find((d) => d.rule === "dropping-column")?.help.join("\n") ?? "";
    };
    expect(await dropped("models.JSONField(default=list)")).toContain("models.JSONField(default=list, null=True)");
    expect(await dropped("models.UUIDField(default=uuid.uuid4)")).toContain("models.UUIDField(default=uuid.uuid4, null=True)");
    expect(await dropped("models.DateTimeField(default=django.utils.timezone.now)")).toContain("db_default=django.db.models.functions.Now()");
    expect(await dropped('models.CharField(default="en", max_length=5)')).toContain('models.CharField(default="en", max_length=5, db_default="en")');
  });
  it("a FK created with db_constraint=False is not reported", async () => {
    const remove = `        migrations.SeparateDatabaseAndState(state_operations=[migrations.RemoveField("book", "editor")], database_operations=[]),`;
    const add = (constraint: string) =>
      `        migrations.AddField("book", "editor", models.ForeignKey(${constraint}null=True, on_delete=django.db.models.deletion.SET_NULL, to="library.author", related_name="+")),`;
    const without = await lintOps(`${add("db_constraint=False, ")}\n${remove}`);
    expect(without.filter((d) => d.rule === "removing-foreign-key-with-constraint")).toEqual([]);
    const withConstraint = await lintOps(`${add("")}\n${remove}`);
    expect(withConstraint.filter((d) => d.rule === "removing-foreign-key-with-constraint").map((d) => d.severity)).toEqual(["error"]);
  });
});

describe("adding-not-nullable-column and setting-column-not-null per engine", () => {
  const add = `        migrations.AddField("book", "isbn", models.CharField(default="", max_length=13)),`;
  const setNotNull = `        migrations.AlterField("book", "pages", models.IntegerField()),`;
  it("quotes each engine's own NOT NULL error", async () => {
    const text = async (database: Target["database"]) =>
      (await lintOps(add, { database })).find((d) => d.rule === "adding-not-nullable-column")?.help.join("\n") ?? "";
    expect(await text("postgresql")).toContain(`null value in column "isbn" violates not-null constraint`);
    expect(await text("mysql")).toContain(`Field 'isbn' doesn't have a default value`);
    expect(await text("sqlite")).toContain("NOT NULL constraint failed: library_book.isbn");
  });
  it("describes MySQL's online rebuild and SQLite's remake instead of PostgreSQL's scan", async () => {
    const help = async (database: Target["database"]) =>
      (await lintOps(setNotNull, { database })).find((d) => d.rule === "setting-column-not-null")?.help[0] ?? "";
    expect(await help("postgresql")).toContain("ACCESS EXCLUSIVE");
    expect(await help("mysql")).toContain("MySQL rebuilds `library_book`");
    expect(await help("sqlite")).toContain("remakes `library_book`");
  });
});

describe("widening-field-only-in-state per engine and against the SQL so far", () => {
  const stateOnly = (field: string) =>
    `        migrations.SeparateDatabaseAndState(state_operations=[migrations.AlterField("book", "title", ${field})]),`;
  const widened = (diags: Awaited<ReturnType<typeof lintOps>>) => diags.filter((d) => d.rule === "widening-field-only-in-state");

  it("names each engine's error, and gives PostgreSQL's SQL only for PostgreSQL", async () => {
    const ops = stateOnly("models.CharField(max_length=300)");
    const [pg] = widened(await lintOps(ops));
    expect(pg?.help.join("\n")).toContain('"value too long for type character varying(200)"');
    expect(pg?.help.join("\n")).toContain('ALTER TABLE "library_book" ALTER COLUMN "title" TYPE varchar(300);');
    const [mysql] = widened(await lintOps(ops, { database: "mysql" }));
    expect(mysql?.help.join("\n")).toContain(`"Data too long for column 'title'"`);
    expect(mysql?.help.join("\n")).toContain("ALTER TABLE ... MODIFY");
    expect(mysql?.help.join("\n")).not.toContain('ALTER TABLE "library_book"');
    // SQLite keeps any length in a varchar column and any integer in an integer one.
    expect(widened(await lintOps(ops, { database: "sqlite" }))).toEqual([]);
  });

  it("names the table a db_table gives, and points integer widening at the rewrite", async () => {
    const diags = widened(
      await lintOps(`        migrations.CreateModel(
            name="Loan",
            fields=[("id", models.BigAutoField(primary_key=True)), ("days", models.SmallIntegerField())],
            options={"db_table": "lending_loans"},
        ),
        migrations.SeparateDatabaseAndState(state_operations=[migrations.AlterField("loan", "days", models.IntegerField())]),`),
    );
    expect(diags.map((d) => d.message)).toEqual(["This state-only `AlterField` widens `Loan.days` to integer, but column `lending_loans.days` stays smallint in the database."]);
    expect(diags[0]?.help.join("\n")).toContain('"smallint out of range"');
    expect(diags[0]?.help.join("\n")).toContain("rewrites the table");
    expect(diags[0]?.help.join("\n")).toContain('ALTER TABLE "lending_loans" ALTER COLUMN "days" TYPE integer;');
  });

  it("points its note at the field's own entry in the CreateModel that defined the column", async () => {
    const [found] = widened(await lintOps(stateOnly("models.CharField(max_length=300)")));
    const line = SETUP.split("\n").findIndex((text) => text.includes('("title", models.CharField(max_length=200))')) + 1;
    expect(line).toBeGreaterThan(0);
    expect(found?.related).toEqual([{ file: "library/migrations/0001_initial.py", line, column: 17, message: "`title` was defined as varchar(200) here" }]);
  });

  it("stays silent when SQL so far changed the column or cannot be read, or the type cannot be known", async () => {
    const earlierSql = (sql: string) => `        migrations.RunSQL(${JSON.stringify(sql)}, reverse_sql=migrations.RunSQL.noop),\n`;
    const widen = stateOnly("models.CharField(max_length=300)");
    expect(widened(await lintOps(earlierSql('ALTER TABLE library_book ALTER COLUMN title TYPE varchar(300)') + widen))).toEqual([]);
    expect(widened(await lintOps(earlierSql("DO $$ BEGIN PERFORM 1; END $$") + widen)).map((d) => d.message)).toEqual([]);
    // SQL about another column does not count.
    expect(widened(await lintOps(earlierSql("ALTER TABLE library_book ALTER COLUMN subtitle TYPE varchar(300)") + widen))).toHaveLength(1);
    expect(widened(await lintOps(stateOnly("models.CharField(max_length=settings.TITLE_LENGTH)"), {}, "    # max_length from a setting\n"))).toEqual([]);
    // Narrower, or the same type with other options: every value fits.
    expect(widened(await lintOps(stateOnly("models.CharField(max_length=100)")))).toEqual([]);
    expect(widened(await lintOps(stateOnly('models.CharField(max_length=200, help_text="Shown on the cover")')))).toEqual([]);
  });
});

describe("state-only rules and SQL whose effect cannot be read", () => {
  it("counts a DO block before a state-only change as possibly having made it", async () => {
    const nullable = `        migrations.SeparateDatabaseAndState(state_operations=[migrations.AlterField("book", "title", models.CharField(max_length=200, null=True))]),`;
    const found = async (before: string) => (await lintOps(before + nullable)).filter((d) => d.rule === "making-field-nullable-only-in-state").length;
    expect(await found("")).toBe(1);
    expect(await found(`        migrations.RunSQL("DO $$ BEGIN EXECUTE 'ALTER TABLE library_book ALTER COLUMN title DROP NOT NULL'; END $$", reverse_sql=migrations.RunSQL.noop),\n`)).toBe(0);
  });
});

describe("renaming-table", () => {
  it("names the join tables Django renames with the table, and the column RenameModel renames in them", async () => {
    const help = async (operation: string) => (await lintOps(operation)).find((d) => d.rule === "renaming-table")?.help[0];
    // Seen on PostgreSQL 15 with Django 4.2 (sqlmigrate): ALTER TABLE "library_book_tags" RENAME TO
    // "library_volume_tags"; ALTER TABLE "library_volume_tags" RENAME COLUMN "book_id" TO "volume_id".
    expect(await help(`        migrations.RenameModel("Book", "Volume"),`)).toContain("The join table is renamed too: `library_book_tags` to `library_volume_tags` (its column `book_id` to `volume_id`).");
    expect(await help(`        migrations.AlterModelTable(name="book", table="volumes"),`)).toContain("The join table is renamed too: `library_book_tags` to `volumes_tags`.");
  });
});
