/**
 * A model moved to another app the documented way, its relations removed from the state first
 * (TabbyCat adjfeedback 0017 to registration 0001): the old app renames the table and deletes the
 * model in state, the new app creates it in state on that table. The new release still has every
 * field, so no state-only removal breaks its INSERTs or deletes.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { lint } from "../../src/index.js";

const root = mkdtempSync(path.join(tmpdir(), "rollsafe-moved-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

function write(dir: string, app: string, name: string, source: string): void {
  mkdirSync(path.join(dir, app, "migrations"), { recursive: true });
  writeFileSync(path.join(dir, app, "__init__.py"), "");
  writeFileSync(path.join(dir, app, "migrations", "__init__.py"), "");
  writeFileSync(path.join(dir, app, "migrations", `${name}.py`), source);
}

const INITIAL = `import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True
    dependencies = []
    operations = [
        migrations.CreateModel(name="Owner", fields=[("id", models.AutoField(primary_key=True, serialize=False))]),
        migrations.CreateModel(name="Question", fields=[
            ("id", models.AutoField(primary_key=True, serialize=False)),
            ("text", models.CharField(max_length=100)),
            ("owner", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, to="old.owner")),
        ]),
    ]
`;

const MOVE = (deleteModel: boolean) => `from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("old", "0001_initial")]
    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[migrations.AlterModelTable(name="question", table="new_question")],
            state_operations=[
                migrations.RemoveField(model_name="question", name="owner"),
                migrations.RemoveField(model_name="question", name="text"),
${deleteModel ? '                migrations.DeleteModel(name="Question"),\n' : ""}            ],
        ),
    ]
`;

const CREATE = `import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True
    dependencies = [("old", "0002_move")]
    operations = [
        migrations.SeparateDatabaseAndState(state_operations=[
            migrations.CreateModel(name="Question", fields=[
                ("id", models.AutoField(primary_key=True, serialize=False)),
                ("text", models.CharField(max_length=100)),
                ("owner", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, to="old.owner")),
            ]),
        ]),
    ]
`;

const rules = ["removing-not-null-column-from-state", "removing-foreign-key-with-constraint"];

describe("a model moved to another app with its fields removed first", () => {
  it("reports no state-only removal of its fields", async () => {
    const dir = path.join(root, "moved");
    write(dir, "old", "0001_initial", INITIAL);
    write(dir, "old", "0002_move", MOVE(true));
    write(dir, "new", "0001_initial", CREATE);
    expect((await lint([dir], { cwd: dir, ruleNames: rules })).diagnostics).toEqual([]);
  });

  it("still reports the removals when the model stays in the state", async () => {
    const dir = path.join(root, "kept");
    write(dir, "old", "0001_initial", INITIAL);
    write(dir, "old", "0002_move", MOVE(false));
    const found = (await lint([dir], { cwd: dir, ruleNames: rules })).diagnostics.map((d) => `${d.line} ${d.rule}`).sort();
    expect(found).toEqual(["10 removing-foreign-key-with-constraint", "10 removing-not-null-column-from-state", "11 removing-not-null-column-from-state"]);
  });
});
