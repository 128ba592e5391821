/**
 * `NullBooleanField` (removed in Django 4.0, still in the migrations of older projects: Open edX's
 * certificates 0012) forces `null=True` in its `__init__`, whatever the call says: adding one
 * never breaks the old release's INSERTs.
 */
import { describe, expect, it } from "vitest";
import { analyze } from "../../src/engine/lint.js";
import { libraryProjects } from "../support/library-project.js";

const project = libraryProjects("null-boolean");

describe("NullBooleanField", () => {
  it("is nullable whatever its call says", async () => {
    const dir = project(`from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("library", "0001_initial")]
    operations = [
        migrations.AddField("book", "in_print", models.NullBooleanField(default=None)),
        migrations.AddField("book", "signed", models.NullBooleanField()),
    ]
`);
    const { result, state } = await analyze(["."], { cwd: dir, ruleNames: ["adding-not-nullable-column"] });
    expect(result.diagnostics).toEqual([]);
    expect(state.model("library", "book")?.fields.get("signed")?.null).toBe(true);
  });
});
