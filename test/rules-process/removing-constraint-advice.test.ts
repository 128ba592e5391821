/**
 * removing-constraint's first step searches for what each kind of constraint is relied on for:
 * de-duplication for a unique constraint, not for a CHECK (RapidPro flows 0398).
 */
import { describe, expect, it } from "vitest";
import { lint } from "../../src/index.js";
import { libraryProjects } from "../support/library-project.js";

const project = libraryProjects("removing-constraint-advice");

async function helpFor(constraint: string): Promise<string> {
  const dir = project(`from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("library", "0001_initial")]
    operations = [
        migrations.AddConstraint("book", ${constraint}),
    ]
`);
  const { writeFileSync } = await import("node:fs");
  writeFileSync(
    `${dir}/library/migrations/0003_drop.py`,
    `from django.db import migrations\n\n\nclass Migration(migrations.Migration):\n    dependencies = [("library", "0002_fk")]\n    operations = [migrations.RemoveConstraint("book", "c")]\n`,
  );
  const found = (await lint([dir], { cwd: dir, ruleNames: ["removing-constraint"] })).diagnostics.filter((d) => d.file.endsWith("0003_drop.py"));
  expect(found).toHaveLength(1);
  return found[0]?.help.join("\n") ?? "";
}

describe("removing-constraint's advice", () => {
  it("looks for de-duplication only around a unique constraint", async () => {
    expect(await helpFor('models.UniqueConstraint(fields=["title"], name="c")')).toContain("`get_or_create`");
    const check = await helpFor('models.CheckConstraint(check=models.Q(pages__gte=0), name="c")');
    expect(check).not.toContain("get_or_create");
    expect(check).toContain("`Model.clean()`");
  });
});
