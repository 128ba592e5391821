/**
 * changing-column-type on SQLite, for a varchar's length or varchar to text (kolibri auth 0010):
 * SQLite stores them all with TEXT affinity and checks no length, so the recipe is a state-only
 * change, not a new column (whose steps spoke of MySQL's online schema change tools).
 */
import { describe, expect, it } from "vitest";
import { lint } from "../../src/index.js";
import { libraryProjects } from "../support/library-project.js";

const project = libraryProjects("sqlite-text-change");

async function help(operation: string) {
  const dir = project(`from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("library", "0001_initial")]
    operations = [${operation}]
`);
  const found = (await lint([dir], { cwd: dir, ruleNames: ["changing-column-type"], target: { database: "sqlite" } })).diagnostics;
  return found.map((d) => d.help.join("\n"));
}

describe("a text column's type on SQLite", () => {
  it("changes in Django's state only", async () => {
    const [longer] = await help('migrations.AlterField("book", "title", models.CharField(max_length=300))');
    expect(longer).toContain("SQLite does not enforce a varchar's length");
    expect(longer).toContain("migrations.SeparateDatabaseAndState(");
    expect(longer).not.toContain("MySQL");
    const [text] = await help('migrations.AlterField("book", "title", models.TextField())');
    expect(text).toContain("SQLite does not enforce a varchar's length");
  });

  it("keeps the new-column recipe when the AlterField changes more than the type, or the type is not text", async () => {
    const [nullable] = await help('migrations.AlterField("book", "title", models.CharField(max_length=300, null=True))');
    expect(nullable).not.toContain("SQLite does not enforce");
    const [number] = await help('migrations.AlterField("book", "title", models.IntegerField(default=0))');
    expect(number).not.toContain("SQLite does not enforce");
  });
});
