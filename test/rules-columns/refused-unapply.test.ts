/**
 * A migration Django refuses to unapply reverses nothing: `Migration.unapply` checks every
 * top-level operation's `reversible` first and raises IrreversibleError for a RunPython without
 * reverse_code or a RunSQL without reverse_sql, so the reversal findings of its other operations
 * would describe SQL that never runs (patchwork 0042 and 0043, beside their own RS401/RS402).
 */
import { describe, expect, it } from "vitest";
import { lint } from "../../src/index.js";
import { appProjects, migrationSource } from "../support/library-project.js";

const projects = appProjects("refused-unapply");
const initial = migrationSource("tracker", null, [
  'migrations.CreateModel(name="Patch", fields=[("id", models.BigAutoField(primary_key=True, serialize=False)), ("name", models.CharField(max_length=30)), ("state", models.IntegerField())])',
]);
const REVERSAL_RULES = ["reversing-migration-drops-data", "reversing-migration-fails"];

async function reversals(last: string, database: "postgresql" | "mysql" = "postgresql") {
  const dir = projects("tracker", {
    "0001_initial": initial,
    "0002_change": migrationSource("tracker", "0001_initial", [
      'migrations.AddField("patch", "archived", models.BooleanField(default=False))',
      'migrations.RemoveField("patch", "state")',
      last,
    ]),
  });
  const found = (await lint([dir], { cwd: dir, ruleNames: [...REVERSAL_RULES, "runpython-without-reverse-code", "runsql-without-reverse-sql"], target: { database } })).diagnostics;
  return found.map((d) => d.rule).sort();
}

describe("the reversal of a migration Django refuses to unapply", () => {
  it("is not reported when a RunPython or RunSQL has no reverse", async () => {
    expect(await reversals("migrations.RunPython(migrations.RunPython.noop)")).toEqual(["runpython-without-reverse-code"]);
    expect(await reversals("migrations.RunPython(migrations.RunPython.noop, None)")).toEqual(["runpython-without-reverse-code"]);
    expect(await reversals('migrations.RunSQL("SELECT 1")')).toEqual(["runsql-without-reverse-sql"]);
    expect(await reversals('migrations.RunSQL("SELECT 1", reverse_sql=None)')).toEqual(["runsql-without-reverse-sql"]);
  });

  it("is reported when every operation has its reverse", async () => {
    const both = ["reversing-migration-drops-data", "reversing-migration-fails"];
    expect(await reversals("migrations.RunPython(migrations.RunPython.noop, migrations.RunPython.noop)")).toEqual(both);
    expect(await reversals('migrations.RunSQL("SELECT 1", migrations.RunSQL.noop)')).toEqual(both);
  });

  it("leaves out an operation class of the migration with a database_backwards of its own (kolibri auth 0019)", async () => {
    const own = (body: string) =>
      `from django.db import migrations, models


class KeepingRemoveField(migrations.RemoveField):
${body}


class Migration(migrations.Migration):
    dependencies = [("tracker", "0001_initial")]
    operations = [KeepingRemoveField("patch", "state")]
`;
    const lintOwn = async (body: string) => {
      const dir = projects("tracker", { "0001_initial": initial, "0002_change": own(body) });
      return (await lint([dir], { cwd: dir, ruleNames: REVERSAL_RULES })).diagnostics.map((d) => d.rule);
    };
    const backwards = "    def database_backwards(self, app_label, schema_editor, from_state, to_state):\n        to_model = to_state.apps.get_model(app_label, self.model_name)\n        schema_editor.add_field(to_model, models.IntegerField(default=0, name=self.name))";
    expect(await lintOwn(backwards)).toEqual([]);
    // One that only calls the base's reverses as the base does.
    expect(await lintOwn("    def database_backwards(self, app_label, schema_editor, from_state, to_state):\n        super().database_backwards(app_label, schema_editor, from_state, to_state)")).toEqual(["reversing-migration-fails"]);
  });
});
