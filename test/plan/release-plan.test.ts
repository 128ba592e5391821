/**
 * `rollsafe plan` and the plan facts: pre/post-deploy phases from stage markers and contract
 * steps, ordering notes, the maintenance window, and the JSON a deploy pipeline reads.
 */
import path from "node:path";
import { describe, expect, it } from "vitest";
import { analyze } from "../../src/engine/lint.js";
import { buildReleasePlan, renderPlanJsonChunks, renderPlanText, renderPlanTextChunks } from "../../src/plan/release-plan.js";
import { dumpState, dumpStateChunks } from "../../src/state/dump-state.js";
import { rules as allRules } from "../../rules/index.js";
import { runCli, REPO } from "../support/run-cli.js";
import { appProjects, migrationSource } from "../support/library-project.js";

const EXAMPLE = path.join(REPO, "fixtures/example-project");
const EXCLUSION = path.join(REPO, "fixtures/integration/exclusion");

describe("release plan", () => {
  it("puts marked and contract steps after the release, the rest before", async () => {
    const plan = buildReleasePlan(await analyze(["."], { cwd: EXAMPLE }));
    expect(plan.postDeploy.map((s) => [s.migration, s.marked])).toEqual([
      ["library.0003_remove_book_subtitle", false],
      ["store.0004_delete_coupon", true],
    ]);
    expect(plan.postDeploy[0]?.reason).toMatch(/^contract step \(RemoveField book\.subtitle\)/);
    expect(plan.preDeploy.map((s) => s.migration)).toContain("library.0002_book_isbn");
    expect(plan.rollingDeploySafe).toBe(false);
    expect(plan.requiresDowntime).toBe(false);
    // 0004..0006 depend on the contract step, so `migrate` cannot hold it back on its own: one
    // note names the one that depends on it directly and those that do through it (tournesol: 62 notes before).
    expect(plan.notes).toEqual([
      "`library.0003_remove_book_subtitle` is post-deploy, but pre-deploy `library.0004_rename_title_headline` depends on it, and 2 more pre-deploy migrations do through other migrations (`library.0005_alter_book_pages`, `library.0006_author_display_name`): `migrate` would apply `library.0003_remove_book_subtitle` before the new release is live. Move the dependency, or split the migrations.",
    ]);
  });

  it("text output (snapshot)", async () => {
    const run = runCli(["plan", "fixtures/example-project"]);
    expect(run.code).toBe(0);
    expect(run.stderr).toBe("");
    await expect(run.stdout).toMatchFileSnapshot("./__snapshots__/example-project.plan.txt");
  });

  it("check --format json carries the same facts as plan --format json", () => {
    const plan = JSON.parse(runCli(["plan", "--format", "json", "fixtures/example-project"]).stdout) as { version: number; plan: unknown };
    const check = JSON.parse(runCli(["check", "--format", "json", "fixtures/example-project"]).stdout) as { plan: unknown };
    expect(plan.version).toBe(1);
    expect(check.plan).toEqual(plan.plan);
  });

  it("asks for a maintenance window for a blocking lock with no online recipe", async () => {
    const rules = allRules.filter((r) => !r.meta.optIn);
    expect(rules.find((r) => r.meta.name === "adding-exclusion-constraint")?.meta.noOnlineRecipe).toBe(true);
    const plan = buildReleasePlan(await analyze(["."], { cwd: EXCLUSION, rules }));
    expect(plan.requiresDowntime).toBe(true);
    expect(plan.maintenance.map((m) => [m.migration, m.rule])).toEqual([["library.0002_book_no_overlap", "adding-exclusion-constraint"]]);
    expect(plan.postDeploy.map((s) => [s.migration, s.reason])).toEqual([["library.0003_book_isbn", "marked post-deploy (django-safemigrate)"]]);
    const text = renderPlanText(plan);
    expect(text).toContain("Maintenance window: NEEDED.");
    expect(text).toContain("library.0002_book_no_overlap (library/migrations/0002_book_no_overlap.py:15)");
  });

  it("without the flag, the same lock is a rolling-deploy error but no maintenance window", async () => {
    const rules = allRules.filter((r) => !r.meta.optIn).map((r) => ({ ...r, meta: { ...r.meta, noOnlineRecipe: false } }));
    const plan = buildReleasePlan(await analyze(["."], { cwd: EXCLUSION, rules }));
    expect(plan.requiresDowntime).toBe(false);
    expect(plan.rollingDeploySafe).toBe(false);
  });

  it("plan and state documents are written a step (a table) at a time, laid out as JSON.stringify does", async () => {
    const analysis = await analyze(["."], { cwd: EXAMPLE });
    const plan = buildReleasePlan(analysis);
    const json = [...renderPlanJsonChunks(plan)];
    expect(json.join("")).toBe(`${JSON.stringify({ version: 1, plan }, null, 2)}\n`);
    expect(json.length).toBeGreaterThan(plan.preDeploy.length + plan.postDeploy.length);
    const text = [...renderPlanTextChunks(plan)];
    expect(text.length).toBeGreaterThan(plan.preDeploy.length + plan.postDeploy.length);
    // Whole lines per piece (so each can be sanitised on its own).
    for (const piece of text) expect(piece.endsWith("\n")).toBe(true);
    const dump = dumpState(analysis.state);
    const state = [...dumpStateChunks(dump)];
    expect(state.join("")).toBe(`${JSON.stringify(dump, null, 2)}\n`);
    expect(state.length).toBeGreaterThan(dump.tables.length);
  });

  it("an empty set of pending migrations says so", async () => {
    expect(renderPlanText(buildReleasePlan(await analyze(["."], { cwd: EXAMPLE, reportFilter: () => false })))).toBe("No pending migrations: nothing to plan.\n");
  });
});

describe("proxy and unmanaged models", () => {
  // evennia objects 0005 and the like: Django creates and drops no table for them (sqlmigrate
  // prints "(no-op)"), so deleting one is no contract step and changes nothing a stage is about.
  const shop = appProjects("plan-proxy");
  const dir = shop("shop", {
    "0001_initial": migrationSource("shop", null, ['migrations.CreateModel(name="Item", fields=[("id", models.BigAutoField(primary_key=True, serialize=False))])']),
    "0002_proxies": migrationSource("shop", "0001_initial", [
      'migrations.CreateModel(name="SpecialItem", fields=[], options={"proxy": True}, bases=("shop.item",))',
      'migrations.CreateModel(name="Legacy", fields=[("id", models.BigAutoField(primary_key=True, serialize=False))], options={"managed": False})',
    ]),
    "0003_delete": migrationSource("shop", "0002_proxies", ['migrations.DeleteModel(name="SpecialItem")', 'migrations.DeleteModel(name="Legacy")']),
  });

  it("are no contract step, and need no stage marker", async () => {
    const analysis = await analyze(["."], { cwd: dir, ruleNames: ["missing-stage-marker"] });
    const plan = buildReleasePlan(analysis);
    expect(plan.postDeploy).toEqual([]);
    expect(plan.preDeploy.map((s) => s.migration)).toEqual(["shop.0001_initial", "shop.0002_proxies", "shop.0003_delete"]);
    expect(analysis.result.diagnostics).toEqual([]);
  });
});

describe("a migration that mixes a contract step with an expand step", () => {
  // djangoproject.com accounts 0005: a column dropped and a table the new release needs created
  // in one migration. Post-deploy, the new release would run without the table: split it.
  const accounts = appProjects("plan-mixed");
  const dir = accounts("accounts", {
    "0001_initial": migrationSource("accounts", null, ['migrations.CreateModel(name="Profile", fields=[("id", models.BigAutoField(primary_key=True, serialize=False)), ("trac_username", models.CharField(max_length=150))])']),
    "0002_mixed": migrationSource("accounts", "0001_initial", [
      'migrations.RemoveField(model_name="profile", name="trac_username")',
      'migrations.CreateModel(name="TracAccount", fields=[("id", models.BigAutoField(primary_key=True, serialize=False))])',
    ]),
  });

  it("is to be split, not marked post-deploy whole", async () => {
    const plan = buildReleasePlan(await analyze(["."], { cwd: dir }));
    expect(plan.postDeploy.map((s) => s.reason)).toEqual([
      "contract step (RemoveField profile.trac_username) mixed with an expand step the new release needs (CreateModel TracAccount): split it, the expand operations into a migration before the deploy and the contract ones into one marked post-deploy",
    ]);
  });
});

describe("a migration that mixes a contract step with a rename", () => {
  // normandy recipes 0005, umap 0032: a rename breaks whichever release runs while it applies, so
  // it is no expand step to move before the deploy.
  const apps = appProjects("plan-rename");
  const dir = apps("shop", {
    "0001_initial": migrationSource("shop", null, [
      'migrations.CreateModel(name="Item", fields=[("id", models.BigAutoField(primary_key=True, serialize=False)), ("a", models.IntegerField(null=True)), ("b", models.IntegerField(null=True)), ("c", models.IntegerField(null=True, db_column="c"))])',
    ]),
    "0002_mixed": migrationSource("shop", "0001_initial", [
      'migrations.RemoveField(model_name="item", name="a")',
      'migrations.RenameField(model_name="item", old_name="b", new_name="bb")',
    ]),
    "0003_pinned": migrationSource("shop", "0002_mixed", [
      'migrations.RemoveField(model_name="item", name="bb")',
      'migrations.RenameField(model_name="item", old_name="c", new_name="cc")',
    ]),
  });

  it("says the rename breaks either release unless it keeps the column; a pinned one goes unmentioned", async () => {
    const plan = buildReleasePlan(await analyze(["."], { cwd: dir }));
    expect(plan.postDeploy.map((s) => s.reason)).toEqual([
      "contract step (RemoveField item.a): it removes what the old release uses, so it must wait until the new release is live; mark it post-deploy; its rename (RenameField item.b -> bb) breaks whichever release runs while it applies, before the deploy or after it: keep the column or table under its name, as `renaming-column` and `renaming-table` advise, so the rename changes only the state",
      "contract step (RemoveField item.bb): it removes what the old release uses, so it must wait until the new release is live; mark it post-deploy",
    ]);
  });
});

describe("a model made unmanaged before it is deleted", () => {
  // tournesol faq 0007/0008: AlterModelOptions(managed=False), then DeleteModel: no SQL, no contract
  // step. backoffice 0010-0012: deleted while unmanaged, made again managed later; read in plan order.
  const apps = appProjects("plan-unmanaged-later");
  const dir = apps("shop", {
    "0001_initial": migrationSource("shop", null, ['migrations.CreateModel(name="Entry", fields=[("id", models.BigAutoField(primary_key=True, serialize=False))])']),
    "0002_unmanaged": migrationSource("shop", "0001_initial", ['migrations.AlterModelOptions(name="entry", options={"managed": False})']),
    "0003_delete": migrationSource("shop", "0002_unmanaged", ['migrations.DeleteModel(name="Entry")']),
    "0004_again": migrationSource("shop", "0003_delete", ['migrations.CreateModel(name="Entry", fields=[("id", models.BigAutoField(primary_key=True, serialize=False))])']),
  });

  it("is no contract step, even when a later migration makes the model again with a table", async () => {
    const plan = buildReleasePlan(await analyze(["."], { cwd: dir }));
    expect(plan.postDeploy).toEqual([]);
    expect(plan.notes).toEqual([]);
  });
});
