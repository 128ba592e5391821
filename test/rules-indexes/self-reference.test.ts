/**
 * A foreign key to its own model (a tree's parent, zulip's user groups) locks one table: the
 * findings name it once, not as "`t` and `t`".
 */
import { describe, expect, it } from "vitest";
import { lint } from "../../src/index.js";
import { libraryProjects } from "../support/library-project.js";

const project = libraryProjects("self-reference");

describe("adding-foreign-key-constraint on a self-reference", () => {
  it("names the table once", async () => {
    const dir = project(`import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("library", "0001_initial")]
    operations = [
        migrations.AddField("author", "mentor", models.ForeignKey(null=True, on_delete=django.db.models.deletion.SET_NULL, to="library.author")),
        migrations.AddField("author", "parent", models.ForeignKey(null=True, on_delete=django.db.models.deletion.SET_NULL, to="library.author", db_index=False, default=1)),
    ]
`);
    const found = (await lint([dir], { cwd: dir, ruleNames: ["adding-foreign-key-constraint"] })).diagnostics;
    expect(found.length).toBeGreaterThan(0);
    for (const d of found) {
      const text = [d.message, ...d.help].join("\n");
      expect(text).not.toContain("`library_author` and `library_author`");
      expect(text).not.toContain("writes to both");
    }
  });
});
