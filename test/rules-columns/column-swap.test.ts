/**
 * A column swapped under one name: a field removed, then another renamed onto its name and
 * column (Tabbycat tournaments 0011, draw 0005). dropping-column's state-only removal keeps the
 * column, so the recipe pins the renamed field to its own column: the rename emits no SQL
 * instead of failing with "column already exists" (checked with Django 4.2 on PostgreSQL 15).
 */
import { describe, expect, it } from "vitest";
import { lint } from "../../src/index.js";
import { libraryProjects } from "../support/library-project.js";

const project = libraryProjects("column-swap");

const migration = (operations: string) => `from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("library", "0001_initial")]
    operations = [
${operations}
    ]
`;

describe("dropping-column on a column another field is renamed onto", () => {
  it("pins the renamed field to its column, and following the recipe leaves nothing to report but the later drop", async () => {
    const dir = project(
      migration(`        migrations.AddField("book", "pages_new", models.BigIntegerField(null=True)),
        migrations.RemoveField("book", "pages"),
        migrations.RenameField("book", "pages_new", "pages"),`),
    );
    const rules = ["dropping-column", "renaming-column"];
    const { diagnostics } = await lint([dir], { cwd: dir, ruleNames: rules });
    expect(diagnostics.map((d) => d.rule)).toEqual(["dropping-column"]);
    const [drop] = diagnostics;
    expect(drop?.fix).toBeUndefined();
    const blocks = [...(drop?.help.join("\n") ?? "").matchAll(/```python\n([\s\S]*?)\n```/g)].map((m) => m[1] as string);
    expect(blocks[1]).toBe(
      'migrations.AlterField(model_name="book", name="pages_new", field=models.BigIntegerField(null=True, db_column="pages_new")),\nmigrations.RenameField(model_name="book", old_name="pages_new", new_name="pages"),',
    );
    const followed = project(
      migration(
        [`        migrations.AddField("book", "pages_new", models.BigIntegerField(null=True)),`, `${blocks[0]},`, blocks[1] as string]
          .join("\n")
          .replace(/^(?! {8})/gm, "        "),
      ),
    );
    expect((await lint([followed], { cwd: followed, ruleNames: rules })).diagnostics).toEqual([]);
  });
});

describe("dropping-column on the primary key (Alliance Auth mumble 0007)", () => {
  it("offers no state-only removal, which would keep the old key and make the new one fail", async () => {
    const dir = project(
      migration(`        migrations.RemoveField("author", "id"),
        migrations.AlterField("author", "name", models.CharField(max_length=100, primary_key=True, serialize=False)),`),
    );
    const { diagnostics } = await lint([dir], { cwd: dir, ruleNames: ["dropping-column"] });
    expect(diagnostics.map((d) => d.message)).toEqual(["Removing primary key `Author.id` drops column `id` from `library_author` while the old release still uses it."]);
    const help = diagnostics[0]?.help.join("\n") ?? "";
    expect(help).toContain('"multiple primary keys for table ... are not allowed"');
    expect(help).not.toContain("SeparateDatabaseAndState");
    expect(diagnostics[0]?.fix).toBeUndefined();
  });
});
