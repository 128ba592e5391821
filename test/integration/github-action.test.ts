/**
 * The composite action (`action.yml`) run here the way the runner runs it: its `run:` steps in
 * order with bash (`bash --noprofile --norc -eo pipefail`), `${{ inputs.* }}` / `${{ github.* }}`
 * expressions replaced by test values, in a GitHub-like environment (GITHUB_WORKSPACE,
 * GITHUB_STEP_SUMMARY, GITHUB_OUTPUT, GITHUB_BASE_REF, GITHUB_ACTIONS=true). `uses:` steps
 * (actions/setup-node, actions/cache) are skipped: node 20 is already here, and the cache steps
 * are checked as data. The action's own checkout is a
 * clone of this repository at HEAD, so its `npm ci` never touches this working tree.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { REPO } from "../support/run-cli.js";

interface ActionStep {
  name?: string;
  id?: string;
  uses?: string;
  run?: string;
  shell?: string;
  env?: Record<string, string>;
  "working-directory"?: string;
}
interface Action {
  inputs: Record<string, { default?: string }>;
  outputs: Record<string, { value: string }>;
  runs: { using: string; steps: ActionStep[] };
}

const PYTHON = existsSync("/usr/bin/python3") ? "/usr/bin/python3" : "python3";
const hasYaml = spawnSync(PYTHON, ["-c", "import yaml"]).status === 0;

/** action.yml as data (PyYAML, installed with pre-commit by scripts/install-pre-commit.sh). */
function loadAction(): Action {
  const json = execFileSync(PYTHON, ["-c", "import json, sys, yaml; print(json.dumps(yaml.safe_load(open(sys.argv[1]))))", path.join(REPO, "action.yml")], { encoding: "utf8" });
  return JSON.parse(json) as Action;
}

const GIT_ENV = { GIT_AUTHOR_NAME: "t", GIT_AUTHOR_EMAIL: "t@example.com", GIT_COMMITTER_NAME: "t", GIT_COMMITTER_EMAIL: "t@example.com", GIT_CONFIG_NOSYSTEM: "1" };
const git = (cwd: string, ...args: string[]) => execFileSync("git", args, { cwd, encoding: "utf8", env: { ...process.env, ...GIT_ENV } });

interface StepResult {
  stdout: string;
  stderr: string;
  status: number;
}

/** Runs the action's steps; stops at the first failing step, like the runner. */
function runAction(
  action: Action,
  inputs: Record<string, string>,
  github: Record<string, string>,
  runner: Record<string, string>,
  baseEnv: NodeJS.ProcessEnv,
  scratch: string,
  skip: (step: ActionStep) => boolean,
): { steps: Map<string, StepResult>; outputs: Record<string, string> } {
  const stepOutputs: Record<string, Record<string, string>> = {};
  const expression = (text: string): string =>
    text.replace(/\$\{\{\s*([^}]*?)\s*\}\}/g, (_, expr: string) => {
      const [scope, ...rest] = expr.split(".");
      const key = rest.join(".");
      if (scope === "inputs") {
        if (key in inputs) return inputs[key] as string;
        const def = action.inputs[key]?.default;
        if (def === undefined) throw new Error(`unknown input ${key}`);
        return expression(def);
      }
      if (scope === "github" && key in github) return github[key] as string;
      if (scope === "runner" && key in runner) return runner[key] as string;
      if (scope === "steps" && rest[1] === "outputs") return stepOutputs[rest[0] as string]?.[rest.slice(2).join(".")] ?? "";
      throw new Error(`the test does not know the expression \`${expr}\``);
    });
  const results = new Map<string, StepResult>();
  action.runs.steps.forEach((step, i) => {
    if (step.uses || !step.run || skip(step)) return;
    if (step.shell !== "bash") throw new Error(`step ${step.name}: shell must be bash`);
    const script = path.join(scratch, `step-${i}.sh`);
    writeFileSync(script, expression(step.run));
    const output = path.join(scratch, `output-${i}`);
    writeFileSync(output, "");
    const env: NodeJS.ProcessEnv = { ...baseEnv, GITHUB_OUTPUT: output };
    for (const [k, v] of Object.entries(step.env ?? {})) env[k] = expression(v);
    const cwd = expression(step["working-directory"] ?? "${{ github.workspace }}");
    const r = spawnSync("bash", ["--noprofile", "--norc", "-eo", "pipefail", script], { cwd, env, encoding: "utf8", timeout: 20 * 60_000 });
    const result = { stdout: r.stdout, stderr: r.stderr, status: r.status ?? -1 };
    results.set(step.id ?? step.name ?? String(i), result);
    stepOutputs[step.id ?? String(i)] = Object.fromEntries(
      readFileSync(output, "utf8")
        .split("\n")
        .filter((l) => l.includes("="))
        .map((l) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1)]),
    );
    if (result.status !== 0 && step.id !== "check") throw new Error(`step ${step.name} failed (${result.status}):\n${r.stdout}\n${r.stderr}`);
  });
  const outputs = Object.fromEntries(Object.entries(action.outputs).map(([k, v]) => [k, expression(v.value)]));
  return { steps: results, outputs };
}

const temps: string[] = [];
afterAll(() => {
  for (const t of temps) rmSync(t, { recursive: true, force: true });
});

const REMOVE = (name: string, dep: string) => `from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [("library", "${dep}")]

    operations = [
        migrations.RemoveField(model_name="book", name="${name}"),
    ]
`;

describe.skipIf(!hasYaml)("GitHub Action (action.yml)", () => {
  let actionPath = "";
  let workspace = "";
  let action: Action;

  beforeAll(() => {
    action = loadAction();
    const root = mkdtempSync(path.join(os.tmpdir(), "rollsafe-action-"));
    temps.push(root);
    actionPath = path.join(root, "action");
    // The commit first: a clone made afterwards always contains it.
    const head = git(REPO, "rev-parse", "HEAD").trim();
    git(root, "clone", "-q", REPO, actionPath);
    git(actionPath, "checkout", "-q", head);
    // The PR's repository: main has an already-merged unsafe migration; the PR adds another.
    workspace = path.join(root, "workspace");
    mkdirSync(path.join(workspace, "library/migrations"), { recursive: true });
    writeFileSync(path.join(workspace, "library/__init__.py"), "");
    writeFileSync(path.join(workspace, "library/migrations/__init__.py"), "");
    writeFileSync(path.join(workspace, "library/migrations/0001_initial.py"), readFileSync(path.join(REPO, "fixtures/rules/dropping-column/bad/basic/library/migrations/0001_initial.py")));
    writeFileSync(path.join(workspace, "library/migrations/0002_remove_subtitle.py"), REMOVE("subtitle", "0001_initial"));
    git(workspace, "init", "-q", "-b", "main");
    git(workspace, "add", ".");
    git(workspace, "commit", "-qm", "main");
    git(workspace, "checkout", "-qb", "pr");
    writeFileSync(path.join(workspace, "library/migrations/0003_remove_pages.py"), REMOVE("pages", "0002_remove_subtitle"));
    git(workspace, "add", ".");
    git(workspace, "commit", "-qm", "pr");
  }, 5 * 60_000);

  let installed = false;
  function run(inputs: Record<string, string>) {
    const scratch = mkdtempSync(path.join(os.tmpdir(), "rollsafe-action-run-"));
    temps.push(scratch);
    const summary = path.join(scratch, "summary.md");
    writeFileSync(summary, "");
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      ...GIT_ENV,
      GITHUB_ACTIONS: "true",
      CI: "true",
      GITHUB_WORKSPACE: workspace,
      GITHUB_ACTION_PATH: actionPath,
      GITHUB_STEP_SUMMARY: summary,
      GITHUB_BASE_REF: "main",
      GITHUB_EVENT_NAME: "pull_request",
    };
    delete env.NO_COLOR;
    delete env.FORCE_COLOR;
    // The install step runs once (the first run); later runs reuse the action's checkout.
    const runnerTemp = path.join(scratch, "runner-temp");
    mkdirSync(runnerTemp);
    const result = runAction(action, inputs, { action_path: actionPath, workspace, base_ref: "main" }, { temp: runnerTemp, os: "Linux" }, env, scratch, (step) => installed && step.name === "Install rollsafe");
    installed = true;
    // The summary is Markdown with HTML entities (`_` is `&#95;`): compare plain text.
    return { ...result, runnerTemp, summary: readFileSync(summary, "utf8").replace(/&#95;/g, "_") };
  }

  it("annotates only the PR's migration, writes the summary and the SARIF report, and fails the step", () => {
    const { steps, outputs, summary } = run({ format: "sarif" });
    const check = steps.get("check") as StepResult;
    expect(check.status, check.stderr).toBe(1);
    const annotations = check.stdout.split("\n").filter((l) => l.startsWith("::"));
    expect(annotations).toHaveLength(1);
    expect(annotations[0]).toMatch(/^::error file=library\/migrations\/0003_remove_pages\.py,line=9,endLine=9,col=9,endColumn=\d+,title=RS101 dropping-column::Removing field `Book\.pages`/);
    expect(summary).toContain("0003_remove_pages.py");
    expect(summary).not.toContain("0002_remove_subtitle.py");
    expect(summary.match(/dropping-column/g)?.length).toBeGreaterThan(0);
    expect(outputs["exit-code"]).toBe("1");
    expect(outputs["report-file"]).toBe("rollsafe.sarif");
    const sarif = JSON.parse(readFileSync(path.join(workspace, "rollsafe.sarif"), "utf8")) as { version: string; runs: { results: { ruleId: string; locations: { physicalLocation: { artifactLocation: { uri: string } } }[] }[] }[] };
    expect(sarif.version).toBe("2.1.0");
    expect(sarif.runs[0]?.results.map((r) => [r.ruleId, r.locations[0]?.physicalLocation.artifactLocation.uri])).toEqual([["RS101", "library/migrations/0003_remove_pages.py"]]);
  }, 20 * 60_000);

  it("fail-on never keeps the step green; an empty base-ref checks everything", () => {
    const { steps, outputs, summary } = run({ "fail-on": "never", "base-ref": "" });
    const check = steps.get("check") as StepResult;
    expect(check.status).toBe(0);
    expect(outputs["exit-code"]).toBe("0");
    expect(check.stdout.split("\n").filter((l) => l.startsWith("::error"))).toHaveLength(2);
    expect(summary).toContain("0002_remove_subtitle.py");
  }, 10 * 60_000);

  it("keeps the parse cache in the runner's temporary directory, restored before the check and saved after it even when it fails", () => {
    const { steps, runnerTemp } = run({});
    expect((steps.get("check") as StepResult).status).toBe(1);
    // The key's prefix names the runner's OS, rollsafe's version and the hash of its bundle.
    const version = (JSON.parse(readFileSync(path.join(actionPath, "package.json"), "utf8")) as { version: string }).version;
    const code = readFileSync(path.join(actionPath, "dist/bundle/modules.sha256"), "utf8").slice(0, 16);
    const keyStep = action.runs.steps.find((s) => s.id === "cache-key") as ActionStep;
    const output = readFileSync(path.join(path.dirname(runnerTemp), `output-${action.runs.steps.indexOf(keyStep)}`), "utf8");
    expect(output).toBe(`prefix=rollsafe-Linux-${version}-${code}-\n`);
    // The check ran with its cache there (shards and the run's result), and left none in the workspace.
    const cacheDir = path.join(runnerTemp, "rollsafe-cache");
    const versionDir = path.join(cacheDir, readdirSync(cacheDir).find((name) => name !== ".gitignore") as string);
    expect(readdirSync(versionDir).filter((name) => /^[0-9a-f]{32}\.json$/.test(name)).length).toBeGreaterThan(0);
    expect(readdirSync(path.join(versionDir, "results")).some((name) => name.endsWith(".key"))).toBe(true);
    expect(existsSync(path.join(workspace, ".rollsafe_cache"))).toBe(false);

    // The steps the runner runs (not run here): restore before the check, save after it.
    const ids = action.runs.steps.map((s) => s.id ?? s.name);
    const restore = action.runs.steps.find((s) => s.uses?.startsWith("actions/cache/restore@")) as ActionStep & { if?: string; with: Record<string, string> };
    const save = action.runs.steps.find((s) => s.uses?.startsWith("actions/cache/save@")) as ActionStep & { if?: string; with: Record<string, string> };
    expect(ids.indexOf("cache-key")).toBeLessThan(ids.indexOf("cache"));
    expect(ids.indexOf("cache")).toBeLessThan(ids.indexOf("check"));
    expect(ids.indexOf("check")).toBeLessThan(ids.indexOf(save.name as string));
    const check = action.runs.steps.find((s) => s.id === "check") as ActionStep;
    for (const step of [restore, save]) expect(step.with.path).toBe(check.env?.ROLLSAFE_CACHE_DIR);
    expect(restore.id).toBe("cache");
    expect(restore.if).toBe("inputs.cache == 'true'");
    expect(restore.with.key).toBe("${{ steps.cache-key.outputs.prefix }}${{ hashFiles('**/migrations/**/*.py') }}");
    expect(restore.with["restore-keys"]?.trim()).toBe("${{ steps.cache-key.outputs.prefix }}");
    // Saved after a failed check (a run with findings), not after a cancelled job, and not when
    // the exact key was restored (nothing new to keep).
    expect(save.if).toBe("${{ !cancelled() && inputs.cache == 'true' && steps.cache.outputs.cache-hit != 'true' }}");
    expect(save.with.key).toBe("${{ steps.cache.outputs.cache-primary-key }}");
    expect(action.inputs.cache?.default).toBe("true");
  }, 10 * 60_000);
});
