/**
 * A foreign key to a model none of the migrations rollsafe read creates (its app left out of the
 * run, PostHog 1155 and InvenTree 0115): the finding names Django's default table for it and says
 * so, instead of a placeholder.
 */
import { describe, expect, it } from "vitest";
import { analyze } from "../../src/engine/lint.js";
import { libraryProjects } from "../support/library-project.js";

const project = libraryProjects("fk-unread-model");

describe("a foreign key to a model of an app rollsafe did not read", () => {
  it("names its default table and constraint, and says they are assumed", async () => {
    const dir = project(`from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("library", "0001_initial")]

    operations = [
        migrations.AddField("book", "shelf", models.ForeignKey(on_delete=models.CASCADE, to="stores.Shelf", default=1)),
    ]
`);
    const { result } = await analyze(["."], { cwd: dir, ruleNames: ["adding-foreign-key-constraint"] });
    const [finding] = result.diagnostics;
    expect(finding?.message).toContain("while reads and writes of `library_book` and writes to `stores_shelf` are blocked");
    const text = [finding?.message, ...(finding?.help ?? [])].join("\n");
    expect(text).not.toMatch(/<referenced table>|_fk_\.\.\./);
    expect(text).toContain("`stores.shelf` is not in the migrations rollsafe read");
    expect(text).toContain('REFERENCES "stores_shelf" ("id")');
  });
});
