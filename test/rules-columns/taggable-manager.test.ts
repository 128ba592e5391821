/**
 * django-taggit's `TaggableManager` is a many-to-many relation through taggit's tagged-item model:
 * it has no column, so removing it drops nothing (Read the Docs builds 0008 had a false
 * dropping-column error with a DROP COLUMN recipe).
 */
import { describe, expect, it } from "vitest";
import { analyze } from "../../src/engine/lint.js";
import { libraryProjects } from "../support/library-project.js";

const project = libraryProjects("taggable-manager");

describe("TaggableManager", () => {
  it("has no column: adding and removing it touches no column of the table", async () => {
    const dir = project(`import taggit.managers
from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("library", "0001_initial")]
    operations = [
        migrations.AddField("book", "labels", taggit.managers.TaggableManager(help_text="A list of tags.", blank=True)),
        migrations.AddField("book", "tags2", taggit.managers.TaggableManager(to="taggit.Tag", through="taggit.TaggedItem")),
        migrations.RemoveField("book", "labels"),
        migrations.RemoveField("book", "tags2"),
    ]
`);
    const { result } = await analyze(["."], { cwd: dir, ruleNames: ["dropping-column", "adding-not-nullable-column", "reversing-migration-drops-data"] });
    expect(result.diagnostics.map((d) => `${d.rule} ${d.line}`)).toEqual([]);
  });
});
