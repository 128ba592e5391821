/**
 * With `--base`, the reported migrations are the branch's, deployed together. A table one of them
 * created before the deploy is new to the later ones too: the old release never had it, and no
 * release has written to it yet (Funkwhale federation 0007/0008: one makemigrations run split in
 * two migrations, then required foreign keys added to the new tables: seven false errors).
 */
import { writeFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { lint } from "../../src/index.js";
import { libraryProjects } from "../support/library-project.js";

const project = libraryProjects("pending-release");

const SECOND = `from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("library", "0002_fk")]
    operations = [
        migrations.AddField("loan", "book", models.ForeignKey(on_delete=models.CASCADE, to="library.book", default=1)),
        migrations.AddField("loan", "days", models.IntegerField()),
    ]
`;

function releaseProject(thirdMarker = ""): string {
  const dir = project(`from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("library", "0001_initial")]
    operations = [
        migrations.CreateModel(name="Loan", fields=[("id", models.BigAutoField(primary_key=True))]),
    ]
`);
  writeFileSync(path.join(dir, "library", "migrations", "0003_loan_fields.py"), thirdMarker ? SECOND.replace("class Migration(migrations.Migration):\n", `class Migration(migrations.Migration):\n    ${thirdMarker}\n`) : SECOND);
  return dir;
}

const RULES = ["adding-not-nullable-column", "adding-foreign-key-constraint"];
const pending = (file: string) => /000[23]_/.test(path.basename(file));

describe("a table created earlier in the same release", () => {
  it("is new to the release's later migrations when --base says which migrations are the branch's", async () => {
    const dir = releaseProject();
    expect((await lint([dir], { cwd: dir, ruleNames: RULES, reportFilter: pending })).diagnostics).toEqual([]);
  });

  it("is not without --base: the migrations read may span releases", async () => {
    const dir = releaseProject();
    const rules = (await lint([dir], { cwd: dir, ruleNames: RULES })).diagnostics.map((d) => `${path.basename(d.file)} ${d.rule}`);
    expect(rules).toContain("0003_loan_fields.py adding-not-nullable-column");
  });

  it("is not to a post-deploy migration: the new release has written to it by then", async () => {
    const dir = releaseProject("is_post_deployment = True");
    const { diagnostics } = await lint([dir], { cwd: dir, ruleNames: ["adding-foreign-key-constraint"], reportFilter: pending, target: { markerStyle: "sentry" } });
    expect(diagnostics.map((d) => path.basename(d.file))).toContain("0003_loan_fields.py");
  });
});
