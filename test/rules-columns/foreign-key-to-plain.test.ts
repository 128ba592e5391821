/**
 * A foreign key turned into a plain field (wagtail 0080: `WorkflowState.page` to a CharField) or
 * a plain field turned into one: Django renames the column (`author_id` <-> `author`) and drops
 * the constraint without adding one back (or adds one). Checked with sqlmigrate on Django 4.2.
 */
import { describe, expect, it } from "vitest";
import { analyze } from "../../src/engine/lint.js";
import { libraryProjects } from "../support/library-project.js";

const project = libraryProjects("fk-to-plain");

async function messages(operation: string): Promise<string[]> {
  const dir = project(`from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("library", "0001_initial")]

    operations = [
        ${operation},
        migrations.AddIndex("author", models.Index(fields=["name"], name="library_author_name_idx")),
    ]
`);
  const { result } = await analyze(["."], { cwd: dir, ruleNames: ["renaming-column", "running-slow-operation-under-exclusive-lock"] });
  return result.diagnostics.map((d) => d.message);
}

describe("a foreign key turned into a plain field, and back", () => {
  it("names the change that renames the column, and the foreign key as dropped only", async () => {
    const found = await messages('migrations.AlterField("book", "author", models.CharField(max_length=100))');
    expect(found).toContain("Turning foreign key `Book.author` into a `CharField` renames column `library_book.author_id` to `author` while the old release still uses it.");
    const lock = found.find((m) => m.includes("library_author"));
    expect(lock).toContain("for dropping the foreign key of `Book.author`");
    expect(lock).not.toContain("re-adding");
  });

  it("a plain field turned into a foreign key", async () => {
    const found = await messages('migrations.AlterField("book", "pages", models.ForeignKey("library.author", models.CASCADE, null=True, related_name="+"))');
    expect(found).toContain("Turning `Book.pages` into a foreign key renames column `library_book.pages` to `pages_id` while the old release still uses it.");
  });
});
