/**
 * A model moved to another app the way Django documents it: the old app renames the table and
 * deletes the model from its state only; the new app creates it in its state on that table, with
 * the same foreign keys (CVAT moved its quality models from `engine` to `quality_control` so).
 * The new release still has the model and Django still cascades through its keys, so
 * removing-foreign-key-with-constraint has nothing to report; the rename itself is renaming-table's.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { lint } from "../../src/index.js";

const root = mkdtempSync(path.join(tmpdir(), "rollsafe-moved-model-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const OLD_APP = `from django.db import migrations, models
import django.db.models.deletion


class Migration(migrations.Migration):
    initial = True
    dependencies = []
    operations = [
        migrations.CreateModel(name="Task", fields=[("id", models.AutoField(primary_key=True))]),
        migrations.CreateModel(name="Report", fields=[
            ("id", models.AutoField(primary_key=True)),
            ("task", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, to="engine.task")),
        ]),
    ]
`;

const MOVE = `from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("engine", "0001_initial")]
    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[migrations.AlterModelTable("Report", "quality_control_report")],
            state_operations=[migrations.DeleteModel("Report")],
        ),
    ]
`;

const newApp = (options: string) => `from django.db import migrations, models
import django.db.models.deletion


class Migration(migrations.Migration):
    initial = True
    dependencies = [("engine", "0002_move_report")]
    operations = [
        migrations.SeparateDatabaseAndState(state_operations=[
            migrations.CreateModel(name="Report", fields=[
                ("id", models.AutoField(primary_key=True)),
                ("task", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, to="engine.task")),
            ]${options}),
        ]),
    ]
`;

let counter = 0;
/** The two apps; with `newFirst`, the new app's migration comes first and the old app's move depends on it. */
function projectWith(newAppMigration: string | null, newFirst = false): string {
  const dir = path.join(root, `case${counter++}`);
  const write = (file: string, text: string) => {
    mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
    writeFileSync(path.join(dir, file), text);
  };
  for (const app of ["engine", "quality_control"]) {
    write(`${app}/__init__.py`, "");
    write(`${app}/migrations/__init__.py`, "");
  }
  write("engine/migrations/0001_initial.py", OLD_APP);
  write("engine/migrations/0002_move_report.py", newFirst ? MOVE.replace('dependencies = [("engine", "0001_initial")]', 'dependencies = [("engine", "0001_initial"), ("quality_control", "0001_initial")]') : MOVE);
  if (newAppMigration !== null) {
    write("quality_control/migrations/0001_initial.py", newFirst ? newAppMigration.replace('("engine", "0002_move_report")', '("engine", "0001_initial")') : newAppMigration);
  }
  return dir;
}

async function rules(dir: string, paths = ["."]) {
  const result = await lint(paths, { cwd: dir, ruleNames: ["removing-foreign-key-with-constraint", "renaming-table"] });
  return result.diagnostics.map((d) => `${d.rule} ${path.basename(d.file)}`);
}

describe("a model moved to another app", () => {
  it("keeps its foreign keys in the new release: only the table rename is reported", async () => {
    const dir = projectWith(newApp(', options={"db_table": "quality_control_report"}'));
    expect(await rules(dir)).toEqual(["renaming-table 0002_move_report.py"]);
  });

  it("is seen from a run of the commit's two files (pre-commit), which reports neither the new app's migration", async () => {
    const dir = projectWith(newApp(', options={"db_table": "quality_control_report"}'));
    const files = ["engine/migrations/0002_move_report.py", "quality_control/migrations/0001_initial.py"];
    expect(await rules(dir, files)).toEqual(["renaming-table 0002_move_report.py"]);
  });

  it("is taken over by the new app's default table name too", async () => {
    expect(await rules(projectWith(newApp("")))).toEqual(["renaming-table 0002_move_report.py"]);
  });

  it("is still reported when no later model takes the table over", async () => {
    const both = ["removing-foreign-key-with-constraint 0002_move_report.py", "renaming-table 0002_move_report.py"];
    expect((await rules(projectWith(null))).sort()).toEqual(both);
    expect((await rules(projectWith(newApp(', options={"db_table": "another_table"}')))).sort()).toEqual(both);
  });
});

describe("a model moved to another app whose migration comes first", () => {
  it("is not a state-only model without a table, nor a deletion that strands its keys (peering-manager bgp 0003, peering 0108)", async () => {
    // The new app's state-only model, first; the old app renames the table after it.
    const dir = projectWith(newApp(', options={"db_table": "quality_control_report"}'), true);
    const result = await lint(["."], { cwd: dir, ruleNames: ["removing-foreign-key-with-constraint", "renaming-table", "pointing-model-at-missing-table"] });
    expect(result.diagnostics.map((d) => `${d.rule} ${path.basename(d.file)}`)).toEqual(["renaming-table 0002_move_report.py"]);
  });

  it("still says a state-only model has no table when no migration ever makes it", async () => {
    const dir = projectWith(newApp(', options={"db_table": "nowhere"}'));
    const result = await lint(["."], { cwd: dir, ruleNames: ["pointing-model-at-missing-table"] });
    expect(result.diagnostics.map((d) => d.message)).toEqual(["This state-only `CreateModel` adds model `Report`, but no operation ever created table `nowhere`."]);
  });
});

describe("a model moved to another app, changed later in the migration that takes its table over", () => {
  it("is no new table: the changes after the state-only CreateModel are checked (GlitchTip events 0001)", async () => {
    const dir = projectWith(
      newApp(', options={"db_table": "quality_control_report"}').replace(
        "        ]),\n    ]\n",
        '        ]),\n        migrations.AddField("report", "score", models.IntegerField()),\n    ]\n',
      ),
    );
    const result = await lint(["."], { cwd: dir, ruleNames: ["adding-not-nullable-column"] });
    expect(result.diagnostics.map((d) => `${path.basename(d.file)}: ${d.message}`)).toEqual([
      "0001_initial.py: Adding NOT NULL field `Report.score` without a database default breaks the old release's INSERTs into `quality_control_report`.",
    ]);
  });
});

