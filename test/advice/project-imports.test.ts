/**
 * Advice modules import the names of the user's code they copy as the migration imports them:
 * Sentry's operations use `sentry.db.models.fields.foreignkey.FlexibleForeignKey(...)` and
 * `sentry.db.models.indexes.IndexWithPostgresNameLimits(...)`, others a field class or `Q`
 * imported by name. A recipe module without those imports fails with NameError when pasted.
 */
import { describe, expect, it } from "vitest";
import { analyze } from "../../src/engine/lint.js";
import { moduleImports, setAdviceImports } from "../../src/advice/snippets.js";
import { libraryProjects } from "../support/library-project.js";

const project = libraryProjects("project-imports");

/** The import lines of the advice's migration modules (the code blocks with a Migration class). */
function adviceImports(help: string[]): string[] {
  const blocks = help.join("\n").match(/```python\n([\s\S]*?)\nclass Migration/g) ?? [];
  return blocks.flatMap((block) => block.split("\n").filter((line) => /^(from|import) /.test(line)));
}

describe("advice modules import the migration's own names", () => {
  it("a module path the code goes through, and a class imported by name (aliased too)", async () => {
    const dir = project(`from django.db import migrations, models
import library.indexes
from library.fields import LooseForeignKey as FK


class Migration(migrations.Migration):
    dependencies = [("library", "0001_initial")]

    operations = [
        migrations.AddIndex(
            model_name="book",
            index=library.indexes.ShortNameIndex(fields=["pages"], name="library_book_pages_idx"),
        ),
        migrations.AddField(
            model_name="book",
            name="editor",
            field=FK(on_delete=models.CASCADE, to="library.author", null=True),
        ),
    ]
`);
    const { result } = await analyze(["."], { cwd: dir, ruleNames: ["adding-index-non-concurrently", "adding-foreign-key-constraint"] });
    const index = result.diagnostics.find((d) => d.rule === "adding-index-non-concurrently" && d.line === 10);
    expect(adviceImports(index?.help ?? [])).toContain("import library.indexes");
    const fk = result.diagnostics.find((d) => d.rule === "adding-foreign-key-constraint" && d.line === 14);
    expect(adviceImports(fk?.help ?? [])).toContain("from library.fields import LooseForeignKey as FK");
  });

  it("only names the migration imports, relative imports as written", () => {
    setAdviceImports({ migrations: "django.db.migrations", models: "django.db.models", Q: "django.db.models.Q", up: "..utils.up", here: ".here", sentry: "sentry" });
    try {
      expect(moduleImports('migrations.RunPython(up)\nmodels.CheckConstraint(check=Q(pages__gte=0) & here.Rule(), name="x")\nsentry.db.models.fields.bounded.BoundedBigIntegerField()\nother.Thing()')).toEqual([
        "from . import here",
        "from ..utils import up",
        "from django.db.models import Q",
        "import sentry.db.models.fields.bounded",
      ]);
    } finally {
      setAdviceImports(null);
    }
    // Between migrations nothing is imported but what makemigrations would.
    expect(moduleImports("Q(pages__gte=0)\nsentry.db.models.Thing()")).toEqual([]);
  });
});
