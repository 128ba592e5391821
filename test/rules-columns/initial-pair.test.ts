/**
 * `makemigrations` splits an app's first migration in two when its foreign keys need another
 * app's tables first (0001_initial creates the tables, 0002_initial adds the relations), and
 * RapidPro's reset squashes are such pairs too (flows 0387/0388, both `initial = True`). Both run
 * only on a database that has neither table, so the second one's AddFields change tables no
 * release has used: nothing to report (RapidPro: 320 of 384 errors; IETF datatracker doc 0002).
 */
import { describe, expect, it } from "vitest";
import { lint } from "../../src/index.js";
import { appProjects, migrationSource } from "../support/library-project.js";

const projects = appProjects("initial-pair");
const create = 'migrations.CreateModel(name="Flow", fields=[("id", models.BigAutoField(primary_key=True, serialize=False)), ("name", models.CharField(max_length=64))])';
const addFields = ['migrations.AddField("flow", "org", models.IntegerField(default=0))', 'migrations.AddField("flow", "parent", models.ForeignKey(on_delete=models.CASCADE, to="flows.flow"))'];

/** The app's two migrations; `initial` marks them as makemigrations does. */
async function findings(first: boolean, second: boolean) {
  const mark = (source: string, initial: boolean) => (initial ? source.replace("class Migration(migrations.Migration):\n", "class Migration(migrations.Migration):\n    initial = True\n") : source);
  const dir = projects("flows", {
    "0001_initial": mark(migrationSource("flows", null, [create]), first),
    "0002_more": mark(migrationSource("flows", "0001_initial", addFields), second),
  });
  return (await lint([dir], { cwd: dir })).diagnostics.map((d) => d.rule).sort();
}

describe("an initial migration after the app's first", () => {
  it("changes tables no release has used", async () => {
    expect(await findings(true, true)).toEqual([]);
  });

  it("is checked as usual when either of the two is not initial", async () => {
    const expected = ["adding-foreign-key-constraint", "adding-not-nullable-column", "adding-not-nullable-column"];
    expect(await findings(true, false)).toEqual(expected);
    expect(await findings(false, true)).toEqual(expected);
  });
});
