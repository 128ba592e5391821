/**
 * reversing-migration-drops-data on an AlterField whose reversal changes the column back to
 * another kind (wger weight 0004, gym 0002 and 0004): Django casts with `USING col::type` on
 * PostgreSQL when the data types differ (`_using_sql`, Django 4.2), and the cast loses or refuses
 * what the new type holds.
 */
import { describe, expect, it } from "vitest";
import { analyze } from "../../src/engine/lint.js";
import { appProjects, migrationSource } from "../support/library-project.js";

const projects = appProjects("reversal-casts");

async function messages(from: string, to: string, database: "postgresql" | "mysql" = "postgresql"): Promise<string[]> {
  const dir = projects("shop", {
    "0001_initial": migrationSource("shop", null, [`migrations.CreateModel(name="Entry", fields=[("id", models.AutoField(primary_key=True, serialize=False)), ("value", ${from})])`]),
    "0002_retype": migrationSource("shop", "0001_initial", [`migrations.AlterField("entry", "value", ${to})`]),
  });
  const { result } = await analyze(["shop/migrations/0002_retype.py"], { cwd: dir, ruleNames: ["reversing-migration-drops-data"], target: { database } });
  return result.diagnostics.map((d) => d.message);
}

describe("a reversal that casts the column back to another kind", () => {
  it("drops the time of a timestamp, refuses text that is no number, rounds a decimal", async () => {
    expect(await messages("models.DateField()", "models.DateTimeField()")).toEqual([
      "Reversing this `AlterField` changes `shop_entry.value` from `timestamp with time zone` back to `date`, which drops the time of day of every value written since.",
    ]);
    expect(await messages("models.IntegerField()", "models.CharField(max_length=10)")).toEqual([
      "Reversing this `AlterField` changes `shop_entry.value` from `varchar(10)` back to `integer`, which fails on the first value written since that is no valid `integer`.",
    ]);
    expect(await messages("models.IntegerField()", "models.DecimalField(max_digits=12, decimal_places=2)")).toEqual([
      "Reversing this `AlterField` changes `shop_entry.value` from `numeric(12, 2)` back to `integer`, which rounds every value written since to a whole number (and fails on one out of range).",
    ]);
  });

  it("is quiet when the cast back keeps the values, and off PostgreSQL", async () => {
    expect(await messages("models.CharField(max_length=10)", "models.IntegerField()")).toEqual([]);
    expect(await messages("models.DateField()", "models.DateTimeField()", "mysql")).toEqual([]);
  });
});
