/**
 * contrib.postgres's ArrayField is its base field's type as an array (mathesar 0008 turned an
 * `ArrayField(IntegerField)` into a JSONField, and narrowed an array of varchars). PostgreSQL 15:
 * any change of an array's element type rewrites the table (`varchar(50)[]` to `varchar(100)[]`
 * too, unlike a plain varchar), and there is no cast between an array and a scalar type other
 * than text (`cannot cast type integer[] to jsonb`, whatever the rows; Django 4.2 writes
 * `USING "column_order"::jsonb`).
 */
import { describe, expect, it } from "vitest";
import { lint } from "../../src/index.js";
import { appProjects, migrationSource } from "../support/library-project.js";

const projects = appProjects("array-field-types");
const ARRAY = "django.contrib.postgres.fields.ArrayField";
const initial = migrationSource(
  "grid",
  null,
  [
    `migrations.CreateModel(name="Settings", fields=[("id", models.BigAutoField(primary_key=True, serialize=False)), ("order", ${ARRAY}(base_field=models.IntegerField(), null=True)), ("tags", ${ARRAY}(models.CharField(max_length=50), default=list))])`,
  ],
  "import django.contrib.postgres.fields\n",
);

async function findings(operation: string) {
  const dir = projects("grid", {
    "0001_initial": initial,
    "0002_change": migrationSource("grid", "0001_initial", [operation], "import django.contrib.postgres.fields\n"),
  });
  return (await lint([dir], { cwd: dir, ruleNames: ["changing-column-type", "narrowing-column", "runsql-altering-column-type"] })).diagnostics;
}

describe("ArrayField column types", () => {
  it("says an array turned into JSON fails, and leaves out the rewrite it never gets to", async () => {
    const [d] = await findings('migrations.AlterField("settings", "order", models.JSONField(null=True))');
    expect(d?.rule).toBe("changing-column-type");
    expect(d?.message).toBe("Changing `Settings.order` from `integer[]` to `jsonb` fails: PostgreSQL has no cast between them.");
    expect(d?.help[0]).toContain('fails with "cannot cast type integer[] to jsonb" whatever the rows');
    expect(d?.help.join("\n")).not.toContain("rewrites every row");
  });

  it("reports every other element change as a rewrite, and a shorter element as narrowing", async () => {
    const widened = await findings(`migrations.AlterField("settings", "tags", ${ARRAY}(models.CharField(max_length=100), default=list))`);
    expect(widened.map((d) => [d.rule, d.message])).toEqual([["changing-column-type", "Changing `Settings.tags` from `varchar(50)[]` to `varchar(100)[]` rewrites `grid_settings` while blocking reads and writes."]]);
    const bigger = await findings(`migrations.AlterField("settings", "order", ${ARRAY}(base_field=models.BigIntegerField(), null=True))`);
    expect(bigger.map((d) => d.message)).toEqual(["Changing `Settings.order` from `integer[]` to `bigint[]` rewrites `grid_settings` while blocking reads and writes."]);
    const narrowed = await findings(`migrations.AlterField("settings", "tags", ${ARRAY}(models.CharField(max_length=10), default=list))`);
    expect(narrowed.map((d) => d.rule)).toEqual(["narrowing-column"]);
    // Length() and MaxLengthValidator measure the array, not its elements: no such recipe.
    expect(narrowed[0]?.help.join("\n")).not.toContain("Length(");
    expect(narrowed[0]?.help.join("\n")).not.toContain("MaxLengthValidator");
    // An array to text has a cast: a rewrite, not a failure.
    const text = await findings('migrations.AlterField("settings", "tags", models.TextField(default=""))');
    expect(text[0]?.message).toContain("from `varchar(50)[]` to `text` rewrites");
    expect(await findings(`migrations.AlterField("settings", "tags", ${ARRAY}(models.CharField(max_length=50), default=list, blank=True))`)).toEqual([]);
  });

  it("reads the array type for raw SQL too (mathesar 0008's ALTER ... TYPE jsonb USING array_to_json)", async () => {
    const sql = (statement: string) => `migrations.RunSQL(${JSON.stringify(statement)}, reverse_sql=migrations.RunSQL.noop)`;
    const [json] = await findings(sql("ALTER TABLE grid_settings ALTER COLUMN \"order\" TYPE jsonb USING array_to_json(\"order\")::jsonb"));
    expect(json?.severity).toBe("error");
    expect(json?.message).toContain("(`Settings.order` is int4[])");
    const [longer] = await findings(sql("ALTER TABLE grid_settings ALTER COLUMN tags TYPE varchar(100)[]"));
    expect(longer?.message).toContain("(`Settings.tags` is varchar(50)[])");
    expect(await findings(sql("ALTER TABLE grid_settings ALTER COLUMN tags TYPE varchar(50)[]"))).toEqual([]);
  });
});
