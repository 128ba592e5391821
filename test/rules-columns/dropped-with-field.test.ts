/**
 * A field removed from the state while the same migration's SQL drops its column: the column does
 * not stay behind when the migration runs before the new release (no NOT NULL column or foreign
 * key left for it to trip on), but it does until a post-deploy migration runs.
 */
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { lint } from "../../src/index.js";
import { RULE_FIXTURES } from "../support/fixture-cases.js";
import { libraryProjects } from "../support/library-project.js";

const CASE = path.join(RULE_FIXTURES, "runsql-dropping-column/bad/not-null-and-foreign-key-columns");
const root = mkdtempSync(path.join(tmpdir(), "rollsafe-dropped-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const project = libraryProjects("renamed");

async function rulesOf(postDeploy: boolean): Promise<string[]> {
  const dir = path.join(root, postDeploy ? "post" : "pre");
  cpSync(CASE, dir, { recursive: true });
  const file = path.join(dir, "library/migrations/0002_drop_columns.py");
  if (postDeploy) writeFileSync(file, readFileSync(file, "utf8").replace("class Migration(migrations.Migration):\n", "class Migration(migrations.Migration):\n    is_post_deployment = True\n"));
  const result = await lint([dir], { cwd: dir });
  return result.diagnostics.map((d) => `${d.line} ${d.rule}`).sort();
}

describe("a column the migration's SQL drops with its field", () => {
  it("before the deploy: only the drop itself is reported", async () => {
    expect(await rulesOf(false)).toEqual(["12 runsql-dropping-column", "17 runsql-dropping-column"]);
  });
  it("after the deploy: the column stays while the new release runs, NOT NULL and constrained", async () => {
    // One line further down: the post-deploy marker.
    expect(await rulesOf(true)).toEqual([
      "13 runsql-dropping-column",
      "15 removing-foreign-key-with-constraint",
      "15 removing-not-null-column-from-state",
      "18 runsql-dropping-column",
      "20 removing-not-null-column-from-state",
    ]);
  });
});

describe("a field renamed earlier in the migration, then removed", () => {
  it("names the column the old release uses, and leaves the rename out of the recipe", async () => {
    const dir = project(
      [
        "from django.db import migrations",
        "",
        "",
        "class Migration(migrations.Migration):",
        '    dependencies = [("library", "0001_initial")]',
        "    operations = [",
        // netbox's form: renamed to free the name, then dropped. Followed back through two renames.
        '        migrations.RenameField("book", "subtitle", "_subtitle"),',
        '        migrations.RenameField("book", "_subtitle", "__subtitle"),',
        '        migrations.RemoveField("book", "__subtitle"),',
        '        migrations.RenameField("book", "author", "_author"),',
        '        migrations.RemoveField("book", "_author"),',
        "    ]",
        "",
      ].join("\n"),
    );
    const found = (await lint([dir], { cwd: dir, ruleNames: ["dropping-column"] })).diagnostics;
    expect(found.map((d) => d.message)).toEqual([
      "Removing field `Book.__subtitle` drops column `__subtitle` from `library_book` (the old release's `subtitle`, renamed earlier in this migration) while the old release still uses it.",
      "Removing field `Book._author` drops column `_author_id` from `library_book` (the old release's `author_id`, renamed earlier in this migration) while the old release still uses it.",
    ]);
    const help = found[0]?.help.join("\n") ?? "";
    expect(help).toContain('`column "subtitle" does not exist`');
    expect(help).toContain('migrations.RemoveField(model_name="book", name="subtitle")');
    expect(help).toContain('DROP COLUMN IF EXISTS "subtitle"');
    // The fix edits the RemoveField alone, which would leave the renames in place: none offered.
    expect(found[0]?.fix).toBeUndefined();
  });
});
