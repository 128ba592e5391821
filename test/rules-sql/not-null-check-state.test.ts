/**
 * runsql-setting-not-null trusts a CHECK (col IS NOT NULL) in the model state only once it is
 * validated: PostgreSQL scans under SET NOT NULL while the constraint is NOT VALID.
 */
import { describe, expect, it } from "vitest";
import { lint } from "../../src/index.js";
import { libraryProjects } from "../support/library-project.js";

const project = libraryProjects("not-null-check");

async function findings(validate: boolean): Promise<string[]> {
  const dir = project(
    [
      "from django.contrib.postgres.operations import AddConstraintNotValid, ValidateConstraint",
      "from django.db import migrations, models",
      "",
      "",
      "class Migration(migrations.Migration):",
      '    dependencies = [("library", "0001_initial")]',
      "    operations = [",
      '        AddConstraintNotValid("book", models.CheckConstraint(check=models.Q(pages__isnull=False), name="book_pages_not_null")),',
      ...(validate ? ['        ValidateConstraint("book", "book_pages_not_null"),'] : []),
      '        migrations.RunSQL("ALTER TABLE library_book ALTER COLUMN pages SET NOT NULL", migrations.RunSQL.noop),',
      "    ]",
      "",
    ].join("\n"),
  );
  return (await lint([dir], { cwd: dir, ruleNames: ["runsql-setting-not-null"] })).diagnostics.map((d) => d.rule);
}

describe("runsql-setting-not-null and a CHECK constraint in the state", () => {
  it("is silent once the constraint is validated, and reports the scan while it is NOT VALID", async () => {
    expect(await findings(true)).toEqual([]);
    expect(await findings(false)).toEqual(["runsql-setting-not-null"]);
  });
});
