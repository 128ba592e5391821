/**
 * A column dropped and added back under the same name in one migration (akvo rsr 0175:
 * `piwik_id` removed, then added as a uuid) is a type change by drop and re-add. The state-only
 * removal dropping-column advises keeps the old column, so the AddField after it would fail
 * ("column ... already exists"): the recipe gives the new field a column of its own, and no fix
 * rewrites the removal alone.
 */
import { describe, expect, it } from "vitest";
import { lint } from "../../src/index.js";
import { appProjects, migrationSource } from "../support/library-project.js";

const projects = appProjects("readded-column");

async function finding(operations: string[]) {
  const dir = projects("shop", {
    "0001_initial": migrationSource("shop", null, ['migrations.CreateModel(name="Site", fields=[("id", models.AutoField(primary_key=True, serialize=False)), ("piwik_id", models.PositiveIntegerField(null=True))])']),
    "0002_change": migrationSource("shop", "0001_initial", operations),
  });
  return (await lint([dir], { cwd: dir, ruleNames: ["dropping-column"] })).diagnostics;
}

describe("a column dropped and added back in the same migration", () => {
  it("gives the new field a column of its own, and offers no fix of the removal alone", async () => {
    const [d] = await finding(['migrations.RemoveField("site", "piwik_id")', 'migrations.AddField("site", "piwik_id", models.UUIDField(null=True))']);
    const help = d?.help.join("\n") ?? "";
    expect(help).toContain("The `AddField` of `piwik_id` later in this migration puts a new `piwik_id` column in place of this one");
    expect(help).toContain('field=models.UUIDField(null=True, db_column="piwik_id_new"),');
    expect(d?.fix).toBeUndefined();
  });

  it("says nothing of it when the AddField is of another column", async () => {
    const [other] = await finding(['migrations.RemoveField("site", "piwik_id")', 'migrations.AddField("site", "tracker", models.UUIDField(null=True))']);
    expect(other?.help.join("\n")).not.toContain("in place of this one");
    expect(other?.fix).toBeDefined();
  });
});
