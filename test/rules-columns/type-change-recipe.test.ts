/**
 * changing-column-type's expand/contract recipe: the new column gets what the field asks of it
 * (NOT NULL, unique, an index) before the state-only switch says it has them (Pontoon insights
 * 0025, RapidPro flows 0405: the recipe left a nullable column without its UNIQUE).
 */
import { describe, expect, it } from "vitest";
import { lint } from "../../src/index.js";
import { appProjects, libraryProjects, migrationSource } from "../support/library-project.js";

const appProject = appProjects("type-change");

const project = libraryProjects("type-change-recipe");

async function recipe(field: string): Promise<string> {
  const dir = project(
    `from django.db import migrations, models\n\n\nclass Migration(migrations.Migration):\n    dependencies = [("library", "0001_initial")]\n    operations = [\n        migrations.AlterField("book", "pages", ${field}),\n    ]\n`,
  );
  const found = (await lint([dir], { cwd: dir, ruleNames: ["changing-column-type"] })).diagnostics;
  expect(found).toHaveLength(1);
  return found[0]?.help.join("\n") ?? "";
}

describe("the new column of a type change", () => {
  it("is made NOT NULL and unique (with its _like index) before the switch", async () => {
    const help = await recipe("models.CharField(max_length=10, unique=True)");
    expect(help).toContain("make `pages_new` NOT NULL, unique as the field asks");
    expect(help).toContain(`'ALTER TABLE "library_book" ALTER COLUMN "pages_new" SET NOT NULL;'`);
    expect(help).toMatch(/CHECK \("pages_new" IS NOT NULL\) NOT VALID/);
    expect(help).toMatch(/CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS "library_book_pages_new_\w+_uniq" ON "library_book" \("pages_new"\)/);
    expect(help).toMatch(/UNIQUE USING INDEX/);
    expect(help).toMatch(/"library_book_pages_new_\w+_like" ON "library_book" \("pages_new" varchar_pattern_ops\)/);
    // The switch comes after it.
    expect(help.indexOf("SET NOT NULL")).toBeLessThan(help.indexOf("Switch the model to the new column"));
  });

  it("asks nothing of a nullable column without an index", async () => {
    expect(await recipe("models.CharField(max_length=10, null=True)")).not.toContain("as the field asks");
  });
});

describe("on MySQL", () => {
  it("offers gh-ost only for tables without foreign keys, which it does not support (addons-server ratings 0011)", async () => {
    const dir = project(
      `from django.db import migrations, models\n\n\nclass Migration(migrations.Migration):\n    dependencies = [("library", "0001_initial")]\n    operations = [\n        migrations.AlterField("book", "pages", models.CharField(max_length=10, null=True)),\n        migrations.AlterField("author", "name", models.IntegerField(default=0)),\n    ]\n`,
    );
    const found = (await lint([dir], { cwd: dir, ruleNames: ["changing-column-type"], target: { database: "mysql" } })).diagnostics;
    const book = found.find((d) => d.message.includes("Book.pages"))?.help.join("\n") ?? "";
    const author = found.find((d) => d.message.includes("Author.name"))?.help.join("\n") ?? "";
    // library_book has a foreign key to library_author; library_author is referenced by it.
    expect(book).toContain("pt-online-schema-change with `--alter-foreign-keys-method` (gh-ost does not support tables with foreign keys)");
    expect(author).toContain("gh-ost does not support tables with foreign keys");
    expect(book).toMatch(/\n\d\. Or, instead of these steps, run this change with an online schema-change tool/);
  });
});

describe("django.contrib.postgres column types", () => {
  it("HStoreField to JSONField rewrites the table (GlitchTip performance 0005)", async () => {
    const dir = appProject("perf", {
      "0001_initial": migrationSource("perf", null, ['migrations.CreateModel(name="Span", fields=[("id", models.BigAutoField(primary_key=True)), ("data", django.contrib.postgres.fields.hstore.HStoreField())])'], "import django.contrib.postgres.fields.hstore\n"),
      "0002_json": migrationSource("perf", "0001_initial", ['migrations.AlterField("span", "data", models.JSONField())']),
    });
    const { diagnostics } = await lint([dir], { cwd: dir, ruleNames: ["changing-column-type"] });
    expect(diagnostics.map((d) => d.message)).toEqual(["Changing `Span.data` from `hstore` to `jsonb` rewrites `perf_span` while blocking reads and writes."]);
  });
});
