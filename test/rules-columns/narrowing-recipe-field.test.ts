/**
 * narrowing-column's first step keeps the column's size and enforces the new limit in Python: with
 * the migration's new field at the old size, so its other changes stay (PeeringDB 0053: a package's
 * URLField(blank=True, max_length=255) made models.URLField(verbose_name="Website")), and with the
 * old field when the column changes kind (text to varchar).
 */
import { describe, expect, it } from "vitest";
import { analyze } from "../../src/engine/lint.js";
import { libraryProjects } from "../support/library-project.js";

const project = libraryProjects("narrowing-recipe");

async function firstStep(field: string): Promise<string> {
  const dir = project(`from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("library", "0001_initial")]
    operations = [
        migrations.AlterField("book", "title", ${field}),
    ]
`);
  const { result } = await analyze(["."], { cwd: dir, ruleNames: ["narrowing-column"], target: { django: [4, 2] } });
  return result.diagnostics[0]?.help.find((h) => h.startsWith("1. ")) ?? "";
}

describe("narrowing-column's step that keeps the column", () => {
  it("keeps the new field's other changes, at the old size", async () => {
    const step = await firstStep('models.URLField(max_length=100, verbose_name="Website")');
    expect(step).toContain('field=models.URLField(verbose_name="Website", max_length=200, validators=[django.core.validators.MaxLengthValidator(100)])');
    expect(step).toContain("the migration needs `import django.core.validators`");
  });

  it("keeps the old field when the column changes kind (text to varchar)", async () => {
    const dir = project(`from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("library", "0001_initial")]
    operations = [
        migrations.AddField("book", "notes", models.TextField(null=True)),
    ]
`);
    const { writeFileSync } = await import("node:fs");
    writeFileSync(
      `${dir}/library/migrations/0003_notes.py`,
      `from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("library", "0002_fk")]
    operations = [
        migrations.AlterField("book", "notes", models.CharField(max_length=50, null=True, verbose_name="Notes")),
    ]
`,
    );
    const { result } = await analyze(["library/migrations/0003_notes.py"], { cwd: dir, ruleNames: ["narrowing-column"], target: { django: [4, 2] } });
    const step = result.diagnostics[0]?.help.find((h) => h.startsWith("1. ")) ?? "";
    expect(step).toContain("field=models.TextField(null=True, validators=[django.core.validators.MaxLengthValidator(50)])");
  });
});
