/**
 * renaming-column follows a column through the rest of its migration: renamed back before the
 * migration commits (commcare-hq form_processor 0044: a foreign key turned into a CharField
 * renames `case_id` to `case`, and a RenameField brings `case_id` back), no other session sees a
 * rename on PostgreSQL or SQLite (sqlmigrate: two RENAME COLUMNs in one transaction; the column is
 * unchanged after it). MySQL commits each DDL statement, so the old release can meet the
 * intermediate name there. A chain of renames is one finding, on the first.
 */
import { describe, expect, it } from "vitest";
import { lint } from "../../src/index.js";
import type { Target } from "../../src/engine/rule-types.js";
import { libraryProjects } from "../support/library-project.js";

const project = libraryProjects("renamed-back");

async function renames(operations: string, database: Target["database"] = "postgresql"): Promise<string[]> {
  const dir = project(`from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("library", "0001_initial")]
    operations = [
${operations}
    ]
`);
  const { diagnostics } = await lint([dir], { cwd: dir, ruleNames: ["renaming-column"], target: { database } });
  return diagnostics.map((d) => d.message);
}

const BACK = `        migrations.AlterField("book", "author", models.CharField(max_length=255, db_index=True)),
        migrations.RenameField("book", "author", "author_id"),`;

describe("a column renamed back in the same migration", () => {
  it("is no rename on PostgreSQL and SQLite, where one transaction holds both", async () => {
    expect(await renames(BACK)).toEqual([]);
    expect(await renames(BACK, "sqlite")).toEqual([]);
  });

  it("is still one on MySQL, which commits each rename", async () => {
    expect(await renames(BACK, "mysql")).toEqual(["Turning foreign key `Book.author` into a `CharField` renames column `library_book.author_id` to `author` while the old release still uses it."]);
  });

  it("a chain of renames is one finding, on the first", async () => {
    const chain = `        migrations.RenameField("book", "title", "heading"),
        migrations.RenameField("book", "heading", "headline"),`;
    expect(await renames(chain)).toEqual(["Renaming field `Book.title` renames column `library_book.title` to `heading` while the old release still uses it."]);
  });
});
