/**
 * A model deleted with its relations removed first, as `makemigrations` writes it: one finding on
 * the delete, whose state-only deletion takes the removals in; the join table's removal keeps its
 * own finding.
 */
import path from "node:path";
import { describe, expect, it } from "vitest";
import { lint } from "../../src/index.js";
import { RULE_FIXTURES } from "../support/fixture-cases.js";
import { appProjects, migrationSource } from "../support/library-project.js";

describe("dropping-table after the removals of the model's fields", () => {
  it("names the removals and puts them into the state-only deletion, in the migration's order", async () => {
    const dir = path.join(RULE_FIXTURES, "dropping-table/bad/relations-removed-first");
    const { diagnostics } = await lint([dir], { cwd: dir });
    const byRule = (rule: string) => diagnostics.filter((d) => d.rule === rule);
    const [drop] = byRule("dropping-table");
    // The message stays what it is without them (baselines and suppressions match it).
    expect(drop?.message).toBe("Deleting model `Book` drops table `library_book` while the old release still uses it.");
    const step = drop?.help.find((h) => h.includes("state-only deletion")) ?? "";
    expect(step).toContain("and the `RemoveField`s of `author`, `subtitle`, `tags` before it");
    // The removal written positionally (`RemoveField("Book", "subtitle")`) is read as Django reads it.
    const lines = step.split("\n").map((l) => l.trim());
    const first = lines.indexOf("state_operations=[");
    expect(lines.slice(first, first + 6)).toEqual([
      "state_operations=[",
      'migrations.RemoveField(model_name="book", name="author"),',
      'migrations.RemoveField(model_name="book", name="subtitle"),',
      'migrations.RemoveField(model_name="book", name="tags"),',
      'migrations.DeleteModel(name="Book"),',
      "],",
    ]);
    // The join table is the removal's own: reported there, with its later drop.
    expect(byRule("dropping-column").map((d) => [d.line, d.message])).toEqual([[13, "Removing field `Book.tags` drops the join table `library_book_tags` while the old release still uses it."]]);
  });
});

describe("a squash whose replaced files are gone", () => {
  it("is reported, with a note on when Django runs it (pretalx's squashes)", async () => {
    const dir = path.join(RULE_FIXTURES, "dropping-column/bad/squash-without-replaced-files");
    const { diagnostics } = await lint([dir], { cwd: dir });
    const drop = diagnostics.find((d) => d.rule === "dropping-column");
    expect(drop?.help.at(-1)).toBe(
      "`0002_squashed_0004_drop_pages` squashes 3 migrations no longer on disk: Django runs it only on a database that applied none of them (one that applied them all has it recorded as applied), so this matters where such a database holds data, such as an install upgrading across the whole squashed range.",
    );
    // Its other findings say it in one sentence (CVAT's engine squash: the note on each of 87).
    const both = (await lint([dir], { cwd: dir, ruleNames: ["dropping-column", "reversing-migration-drops-data"] })).diagnostics;
    const notes = both.filter((d) => d.migration === drop?.migration).map((d) => d.help.at(-1));
    expect(notes[0]).toBe(drop?.help.at(-1));
    expect(notes.length).toBeGreaterThan(1);
    expect(notes.slice(1)).toEqual(notes.slice(1).map(() => "`0002_squashed_0004_drop_pages` squashes 3 migrations no longer on disk: this matters only where a database that applied none of them holds data (see its first finding)."));
    // An ordinary migration has no such note.
    const basic = path.join(RULE_FIXTURES, "dropping-column/bad/basic");
    expect((await lint([basic], { cwd: basic })).diagnostics.every((d) => !d.help.some((h) => h.includes("squashes")))).toBe(true);
  });
});

describe("an index or constraint dropped just before its table", () => {
  // makemigrations empties unique_together before DeleteModel (dit-helpdesk rules_of_origin 0016):
  // the DROP TABLE takes the same lock and removes the constraint anyway, and dropping-table
  // reports it; removing-index-non-concurrently and removing-constraint add nothing.
  const projects = appProjects("dropped-with-table");

  it("is left to dropping-table", async () => {
    const dir = projects("shop", {
      "0001_initial": migrationSource("shop", null, [
        'migrations.CreateModel(name="Shelf", fields=[("id", models.BigAutoField(primary_key=True, serialize=False)), ("a", models.IntegerField()), ("b", models.IntegerField())], options={"unique_together": {("a", "b")}, "indexes": [models.Index(fields=["a"], name="shelf_a_idx")]})',
      ]),
      "0002_drop": migrationSource("shop", "0001_initial", [
        'migrations.AlterUniqueTogether(name="shelf", unique_together=set())',
        'migrations.RemoveIndex(model_name="shelf", name="shelf_a_idx")',
        'migrations.DeleteModel(name="Shelf")',
      ]),
    });
    const { diagnostics } = await lint([dir], { cwd: dir, ruleNames: ["removing-index-non-concurrently", "removing-constraint", "dropping-table"] });
    expect(diagnostics.map((d) => d.rule)).toEqual(["dropping-table"]);
  });
});
