/**
 * RS406: `RunPython(atomic=False)` in a migration Django runs in one transaction (Django 4.2's
 * `Migration.apply` gives an operation a transaction of its own, or none, only when the
 * migration is not atomic; checked with `connection.in_atomic_block` on SQLite, which rolls back
 * DDL as PostgreSQL does). The advice depends on what else the migration does.
 */
import { describe, expect, it } from "vitest";
import { lint } from "../../src/index.js";
import { libraryProjects } from "../support/library-project.js";

const project = libraryProjects("non-atomic-runpython");

const FILL = `
def fill_titles(apps, schema_editor):
    Book = apps.get_model("library", "Book")
    for book in Book.objects.filter(title="").iterator():
        book.title = "Untitled"
        book.save(update_fields=["title"])
`;

function migration(operations: string[], classBody = ""): string {
  return `from django.db import migrations, models
${FILL}

class Migration(migrations.Migration):${classBody}
    dependencies = [("library", "0001_initial")]
    operations = [
${operations.map((o) => `        ${o},`).join("\n")}
    ]
`;
}

async function findings(source: string, database?: "mysql" | "sqlite") {
  const dir = project(source);
  const result = await lint([dir], { cwd: dir, ruleNames: ["running-non-atomic-runpython-in-atomic-migration"], ...(database ? { target: { database } } : {}) });
  return result.diagnostics.map((d) => ({ line: d.line, message: d.message, first: d.help[1] }));
}

const NON_ATOMIC = 'migrations.RunPython(fill_titles, migrations.RunPython.noop, atomic=False)';

describe("running-non-atomic-runpython-in-atomic-migration", () => {
  it("says to make the migration non-atomic when the RunPython is all it does", async () => {
    const found = await findings(migration([NON_ATOMIC, "migrations.RunPython(migrations.RunPython.noop, migrations.RunPython.noop)"]));
    expect(found).toEqual([
      {
        line: 13,
        message: "`RunPython(fill_titles, ...)` passes `atomic=False`, but `0002_fk` is atomic: Django still runs it inside the migration's one transaction.",
        first: "1. Add `atomic = False` to the `Migration` class: each statement then commits on its own (wrap a batch in `transaction.atomic()` to commit it as one).",
      },
    ]);
  });

  it("says to move it out when the migration changes the schema too", async () => {
    const found = await findings(
      migration(['migrations.AddField("book", "slug", models.SlugField(null=True))', NON_ATOMIC, 'migrations.AlterField("book", "title", models.CharField(max_length=300))']),
    );
    expect(found.map((f) => f.first)).toEqual([
      "1. Move the `RunPython` to a migration of its own with `atomic = False` on the `Migration` class, and keep the other 2 operations here: without a transaction, a failure half-way through them leaves the ones before it applied.",
    ]);
  });

  it("reads the third positional argument and a false integer, also nested in SeparateDatabaseAndState", async () => {
    const found = await findings(
      migration(["migrations.RunPython(fill_titles, None, 0)", "migrations.SeparateDatabaseAndState(database_operations=[migrations.RunPython(fill_titles, atomic=False)])"]),
    );
    expect(found.map((f) => f.message)).toEqual([
      "`RunPython(fill_titles, ...)` passes `atomic=0`, but `0002_fk` is atomic: Django still runs it inside the migration's one transaction.",
      "`RunPython(fill_titles, ...)` passes `atomic=False`, but `0002_fk` is atomic: Django still runs it inside the migration's one transaction.",
    ]);
    // Both ask for no transaction: they move together, nothing stays behind.
    expect(found.every((f) => f.first?.startsWith("1. Add `atomic = False`"))).toBe(true);
  });

  it("leaves out Django's default, a true value, a non-atomic migration, a computed atomic, and MySQL", async () => {
    expect(await findings(migration(["migrations.RunPython(fill_titles, atomic=None)", "migrations.RunPython(fill_titles, atomic=True)"]))).toEqual([]);
    expect(await findings(migration([NON_ATOMIC], "\n    atomic = False"))).toEqual([]);
    expect(await findings(migration([NON_ATOMIC], '\n    atomic = __import__("os").environ.get("ATOMIC") == "1"'))).toEqual([]);
    expect(await findings(migration([NON_ATOMIC]), "mysql")).toEqual([]);
    expect(await findings(migration([NON_ATOMIC]), "sqlite")).toHaveLength(1);
  });
});
