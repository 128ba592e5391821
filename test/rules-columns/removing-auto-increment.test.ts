/**
 * removing-auto-increment (umap 0018): Django 4.2's PostgreSQL schema editor drops the identity
 * (and a serial column's sequence) when an auto field becomes a plain one; the harness shows the
 * old release's INSERT failing on PostgreSQL 15. The advice depends on what else the field change does.
 */
import { describe, expect, it } from "vitest";
import { lint } from "../../src/index.js";
import { libraryProjects } from "../support/library-project.js";

const project = libraryProjects("removing-auto-increment");

async function findingsOf(operation: string, database: "postgresql" | "mysql" | "sqlite" = "postgresql") {
  const dir = project(`from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("library", "0001_initial")]
    operations = [
        ${operation},
    ]
`);
  const result = await lint([dir], { cwd: dir, ruleNames: ["removing-auto-increment"], target: { database } });
  return result.diagnostics.map((d) => [d.message, ...d.help].join("\n"));
}

describe("removing-auto-increment", () => {
  it("keeps the type: the change goes to the state, the identity is dropped after the deploy", async () => {
    const [help] = await findingsOf('migrations.AlterField("author", "id", models.BigIntegerField(primary_key=True, serialize=False))');
    expect(help).toContain("Changing `Author.id` from `BigAutoField` to `BigIntegerField` drops the identity of `library_author.id`: the old release's INSERTs, which leave it to the database, fail.");
    expect(help).toContain('violates not-null constraint"');
    expect(help).toContain('migrations.AlterField(model_name="author", name="id", field=models.BigIntegerField(primary_key=True, serialize=False)),');
    expect(help).toContain(`'ALTER TABLE "library_author" ALTER COLUMN "id" DROP IDENTITY IF EXISTS; ALTER TABLE "library_author" ALTER COLUMN "id" DROP DEFAULT; DROP SEQUENCE IF EXISTS "library_author_id_seq";'`);
  });

  it("an AlterField that also moves the column: the identity and the state-only change stay on the column as it is (TabbyCat's question_ptr)", async () => {
    const [help] = await findingsOf('migrations.AlterField("book", "id", models.OneToOneField(on_delete=models.CASCADE, parent_link=True, primary_key=True, serialize=False, to="library.author"))');
    expect(help).toContain("drops the identity of `library_book.id`");
    expect(help).toContain('ALTER COLUMN "id_id" DROP IDENTITY IF EXISTS` (after renaming `id` to `id_id`)');
    expect(help).toContain('db_column="id"');
    expect(help).toContain(`'ALTER TABLE "library_book" ALTER COLUMN "id" DROP IDENTITY IF EXISTS;`);
  });

  it("a type change too: no state-only snippet, which would leave the old type in the database", async () => {
    const [help] = await findingsOf('migrations.AlterField("author", "id", models.IntegerField(primary_key=True, serialize=False))');
    expect(help).toContain("the column's type changes too, `bigint` to `integer`: see `changing-primary-key-type`");
    expect(help).not.toContain("SeparateDatabaseAndState");
  });

  it("no longer the key and nullable: NULL ids, and the migration fails while the key constraint is there", async () => {
    const [help] = await findingsOf('migrations.AlterField("author", "id", models.BigIntegerField(null=True))');
    expect(help).toContain("the old release's INSERTs, which leave it to the database, store NULL.");
    expect(help).toContain("Django drops `library_author`'s primary key constraint too");
    expect(help).toContain('PostgreSQL refuses ("column "id" is in a primary key")');
  });

  it("leaves out auto to auto, plain to plain, and other databases", async () => {
    expect(await findingsOf('migrations.AlterField("author", "id", models.AutoField(primary_key=True, serialize=False))')).toEqual([]);
    expect(await findingsOf('migrations.AlterField("book", "pages", models.BigIntegerField(null=True))')).toEqual([]);
    expect(await findingsOf('migrations.AlterField("author", "id", models.BigIntegerField(primary_key=True, serialize=False))', "sqlite")).toEqual([]);
  });
});
