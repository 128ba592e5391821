/**
 * django-safemigrate's stages: an unmarked migration is `Safe.always()` (the package's default
 * since 5.0), and `safemigrate` delays an `always` migration that depends on a post-deploy one
 * until after the deploy; only a `Safe.before_deploy()` migration behind one is blocked (its
 * `categorize`; Read the Docs has both kinds). With `default-stage = "post"` an unmarked
 * migration is post-deploy, as `Safe.after_deploy` was the default before 5.0.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { analyze, lint } from "../../src/index.js";
import { buildReleasePlan } from "../../src/plan/release-plan.js";

const root = mkdtempSync(path.join(tmpdir(), "rollsafe-safemigrate-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const migration = (marker: string, dependency: string | null, operations: string) => `from django.db import migrations, models
from django_safemigrate import Safe


class Migration(migrations.Migration):
${marker ? `    safe = ${marker}\n` : ""}    dependencies = [${dependency ? `("app", "${dependency}")` : ""}]
    operations = [
        ${operations}
    ]
`;

const FILES: Record<string, string> = {
  "0001_initial.py": migration("Safe.before_deploy()", null, 'migrations.CreateModel(name="Build", fields=[("id", models.BigAutoField(primary_key=True)), ("old", models.TextField(null=True))]),'),
  "0002_remove_old.py": migration("Safe.after_deploy()", "0001_initial", 'migrations.RemoveField(model_name="build", name="old"),'),
  "0003_note.py": migration("", "0002_remove_old", 'migrations.AddField(model_name="build", name="note", field=models.TextField(null=True)),'),
  "0004_always.py": migration("Safe.always()", "0003_note", 'migrations.AlterModelOptions(name="build", options={"ordering": ["id"]}),'),
  "0005_before.py": migration("Safe.before_deploy()", "0004_always", 'migrations.AddField(model_name="build", name="extra", field=models.TextField(null=True)),'),
};

const dir = path.join(root, "project");
mkdirSync(path.join(dir, "app", "migrations"), { recursive: true });
writeFileSync(path.join(dir, "app", "migrations", "__init__.py"), "");
for (const [file, text] of Object.entries(FILES)) writeFileSync(path.join(dir, "app", "migrations", file), text);

const RULES = ["depending-on-post-deploy-migration", "adding-in-post-deploy-migration"];

describe("django-safemigrate's delayed migrations", () => {
  it("blocks only the Safe.before_deploy migration behind a post-deploy one, naming the after_deploy migration", async () => {
    const { diagnostics } = await lint(["."], { cwd: dir, ruleNames: RULES });
    const inversions = diagnostics.filter((d) => d.rule === "depending-on-post-deploy-migration");
    expect(inversions.map((d) => d.message)).toEqual(["`app.0005_before` runs before the deploy but depends on post-deploy `app.0002_remove_old` (through `app.0004_always`, `app.0003_note`)."]);
  });

  it("reports the expand step of an unmarked migration safemigrate delays past the deploy", async () => {
    const { diagnostics } = await lint(["."], { cwd: dir, ruleNames: RULES });
    const late = diagnostics.filter((d) => d.rule === "adding-in-post-deploy-migration");
    expect(late.map((d) => d.message)).toEqual([
      "`AddField` adds column `note` to `app_build` in `0003_note`, which is delayed until after the deploy (unmarked, so `Safe.always()` for django-safemigrate, behind a post-deploy migration it depends on), so the new release runs before it exists.",
    ]);
    expect(late[0]?.help.join("\n")).toContain("marked `Safe.before_deploy()` whose dependencies stop before the post-deploy migration that delays `0003_note`");
  });

  it("puts the delayed migrations after the deploy in the release plan", async () => {
    const plan = buildReleasePlan(await analyze(["."], { cwd: dir, ruleNames: RULES }));
    expect(plan.preDeploy.map((s) => s.migration)).toEqual(["app.0001_initial", "app.0005_before"]);
    expect(plan.postDeploy.map((s) => s.migration)).toEqual(["app.0002_remove_old", "app.0003_note", "app.0004_always"]);
    expect(plan.postDeploy[1]?.reason).toBe("unmarked, so `Safe.always()` (django-safemigrate's default), and it depends on a post-deploy migration: `safemigrate` delays it until after the deploy");
  });

  it("reads an unmarked migration as post-deploy with default-stage = post (Safe.after_deploy, the default before 5.0)", async () => {
    const { diagnostics } = await lint(["."], { cwd: dir, ruleNames: RULES, target: { defaultStage: "post" } });
    expect(diagnostics.filter((d) => d.rule === "adding-in-post-deploy-migration").map((d) => d.message)).toEqual([
      "`AddField` adds column `note` to `app_build` in `0003_note`, which is post-deploy (the configured `default-stage`), so the new release runs before it exists.",
    ]);
  });
});

describe("adding-in-post-deploy-migration's recipe for a NOT NULL column (Read the Docs builds 0011)", () => {
  it("gives the moved column a database default, since the old release's INSERTs leave it out", async () => {
    const project = path.join(root, "not-null");
    mkdirSync(path.join(project, "app", "migrations"), { recursive: true });
    writeFileSync(path.join(project, "app", "migrations", "__init__.py"), "");
    writeFileSync(path.join(project, "app", "migrations", "0001_initial.py"), FILES["0001_initial.py"] as string);
    writeFileSync(
      path.join(project, "app", "migrations", "0002_has_epub.py"),
      migration("Safe.after_deploy()", "0001_initial", 'migrations.AddField(model_name="build", name="has_epub", field=models.BooleanField(default=False)),'),
    );
    const help = async (django: [number, number]) => {
      const { diagnostics } = await lint(["."], { cwd: project, ruleNames: ["adding-in-post-deploy-migration"], target: { django } });
      return diagnostics.map((d) => d.help.join("\n")).join("\n");
    };
    expect(await help([5, 2])).toContain('field=models.BooleanField(default=False, db_default=False))');
    const old = await help([4, 2]);
    expect(old).toContain("add it nullable (or with a database default), as `adding-not-nullable-column` describes.");
    expect(old).not.toContain("db_default=False");
  });
});

describe("mixing-deploy-stages on a column swapped under one name (Read the Docs builds 0040)", () => {
  it("advises a state-only removal, a pinned rename and a post-deploy drop, which Django runs with no rename at all", async () => {
    const project = path.join(root, "swap");
    mkdirSync(path.join(project, "app", "migrations"), { recursive: true });
    writeFileSync(path.join(project, "app", "migrations", "__init__.py"), "");
    writeFileSync(
      path.join(project, "app", "migrations", "0001_initial.py"),
      migration("Safe.before_deploy()", null, 'migrations.CreateModel(name="Build", fields=[("id", models.BigAutoField(primary_key=True)), ("_config", models.JSONField(default=dict, null=True)), ("_config_json", models.JSONField(null=True))]),'),
    );
    writeFileSync(
      path.join(project, "app", "migrations", "0002_swap.py"),
      migration("Safe.after_deploy()", "0001_initial", `migrations.RemoveField(model_name="build", name="_config"),
        migrations.RenameField(model_name="build", old_name="_config_json", new_name="_config"),`),
    );
    const { diagnostics } = await lint(["."], { cwd: project, ruleNames: ["mixing-deploy-stages"] });
    expect(diagnostics.map((d) => d.message)).toEqual([
      "`0002_swap` is marked post-deploy (`safe = Safe.after_deploy()`) but swaps column `app_build._config` for `_config_json` under the same name (`RemoveField` of `build._config`, then `RenameField` renames column `app_build._config_json` to `_config`).",
    ]);
    const help = diagnostics[0]?.help.join("\n") ?? "";
    expect(help).toContain('migrations.AlterField(model_name="build", name="_config_json", field=models.JSONField(null=True, db_column="_config_json")),');
    expect(help).toContain(`migrations.RunSQL('ALTER TABLE "app_build" DROP COLUMN IF EXISTS "_config"', migrations.RunSQL.noop)`);
    expect(help).not.toContain("Move the expand operations");
  });
});
