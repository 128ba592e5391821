/**
 * A primary key widened in place (PeeringDB 0112: a varchar key from 100 to 150 characters):
 * Django's `_alter_field` drops the foreign keys pointing at it because the type's text changes,
 * alters their columns and adds them back validated (`drop_foreign_keys`, Django 4.2).
 */
import { describe, expect, it } from "vitest";
import { analyze } from "../../src/engine/lint.js";
import { appProjects, migrationSource } from "../support/library-project.js";

const projects = appProjects("widened-key");

const initial = (constraint: boolean) =>
  migrationSource("keys", null, [
    'migrations.CreateModel(name="ApiKey", fields=[("id", models.CharField(max_length=100, primary_key=True, serialize=False))])',
    `migrations.CreateModel(name="ApiPermission", fields=[("id", models.AutoField(primary_key=True, serialize=False)), ("api_key", models.ForeignKey(on_delete=models.CASCADE, to="keys.apikey"${constraint ? "" : ", db_constraint=False"}))])`,
  ]);
const widen = migrationSource("keys", "0001_initial", ['migrations.AlterField("apikey", "id", models.CharField(max_length=150, primary_key=True, serialize=False))']);

async function findings(constraint: boolean, database: "postgresql" | "mysql" = "postgresql") {
  const dir = projects("keys", { "0001_initial": initial(constraint), "0002_widen": widen });
  const { result } = await analyze(["keys/migrations/0002_widen.py"], { cwd: dir, ruleNames: ["changing-primary-key-type"], target: { database } });
  return result.diagnostics;
}

describe("a primary key widened in place", () => {
  it("is reported when a constrained foreign key points at it", async () => {
    const [pg] = await findings(true);
    expect(pg?.message).toBe(
      "Changing primary key `ApiKey.id` from `varchar(100)` to `varchar(150)` drops and re-adds the foreign key of `keys_apipermission.api_key_id` (ApiPermission.api_key), checking every row of `keys_apipermission` while reads and writes of it wait.",
    );
    expect(pg?.help.join("\n")).toContain("`db_constraint=False`");
    const [mysql] = await findings(true, "mysql");
    expect(mysql?.message).toContain("in a table copy that blocks writes");
  });

  it("is not reported without a constrained foreign key to it", async () => {
    expect(await findings(false)).toEqual([]);
  });
});
