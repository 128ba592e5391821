/**
 * changing-primary-key-type lists the columns Django alters with the key. `migrate` builds the
 * state it alters from every applied migration, not only those before this one in the plan, so a
 * database that applied another app's foreign key in an earlier release has that column changed
 * too, even when the plan (a fresh database's order) runs the other app later. Checked with
 * Django 4.2 on PostgreSQL 15: `books_book.author_id` and `books_book_fans.author_id` are altered
 * to bigint, their constraints dropped and re-added.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { lint } from "../../src/index.js";

const root = mkdtempSync(path.join(tmpdir(), "rollsafe-pk-elsewhere-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const AUTHOR = `from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True
    dependencies = []
    operations = [
        migrations.CreateModel(name="Author", fields=[("id", models.AutoField(primary_key=True)), ("name", models.CharField(max_length=100))]),
    ]
`;

const WIDEN = `from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("accounts", "0001_initial")]
    operations = [
        migrations.AlterField("author", "id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
    ]
`;

const book = (dependency: string) => `from django.db import migrations, models
from django.db.models import deletion


class Migration(migrations.Migration):
    initial = True
    dependencies = [("accounts", "${dependency}")]
    operations = [
        migrations.CreateModel(name="Book", fields=[
            ("id", models.AutoField(primary_key=True)),
            ("writer", models.ForeignKey(deletion.CASCADE, to="accounts.author", db_column="writer")),
            ("fans", models.ManyToManyField(to="accounts.Author", related_name="liked")),
        ]),
    ]
`;

let counter = 0;
function project(bookDependsOn: string): string {
  const dir = path.join(root, `case${counter++}`);
  const write = (file: string, text: string) => {
    mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
    writeFileSync(path.join(dir, file), text);
  };
  for (const app of ["accounts", "books"]) write(`${app}/migrations/__init__.py`, "");
  write("accounts/migrations/0001_initial.py", AUTHOR);
  write("accounts/migrations/0002_widen.py", WIDEN);
  write("books/migrations/0001_initial.py", book(bookDependsOn));
  return dir;
}

async function finding(dir: string, paths = ["."]) {
  const result = await lint(paths, { cwd: dir, ruleNames: ["changing-primary-key-type"] });
  expect(result.diagnostics).toHaveLength(1);
  const [d] = result.diagnostics;
  return { message: d?.message ?? "", help: d?.help.join("\n") ?? "" };
}

describe("changing-primary-key-type and the foreign keys of migrations that do not depend on it", () => {
  it("lists another app's columns that the plan runs later, as a database that applied them sees them", async () => {
    const { message, help } = await finding(project("0001_initial"));
    expect(message).toBe("Changing primary key `Author.id` from `integer` to `bigint` rewrites 3 tables (`accounts_author`, `books_book`, `books_book_fans`) under exclusive locks.");
    expect(help).toContain("On a database that already applied them, Django also changes the referencing columns of migrations that run later in the plan but do not depend on this one");
    expect(help).toContain("`books_book.writer` (Book.writer), `books_book_fans.author_id` (Book.fans), dropping their foreign keys first");
  });

  it("says other apps' keys change too in a run of the changed file alone (pre-commit), which reads its app only", async () => {
    const { message, help } = await finding(project("0001_initial"), ["accounts/migrations/0002_widen.py"]);
    expect(message).toContain("rewrites `accounts_author`");
    expect(help).toContain("no foreign key in the migrations read points at `Author`, but any in other apps or made outside migrations must change too.");
  });

  it("leaves out a migration that depends on the change: it creates its columns with the new type", async () => {
    const { message, help } = await finding(project("0002_widen"));
    expect(message).toBe("Changing primary key `Author.id` from `integer` to `bigint` rewrites `accounts_author` under exclusive locks.");
    expect(help).not.toContain("books_book");
  });
});
