/**
 * `operationKinds` lets the engine skip a rule for operations it cannot report on. A rule that
 * declares kinds must do nothing for the others, or declaring them would silently lose findings.
 * This replays every fixture project and a generated corpus twice, with the declared kinds and
 * with every rule called for every operation, and requires the same findings, in the same order.
 */
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { lint } from "../../src/index.js";
import { resolveRun } from "../../src/config/resolve-options.js";
import { rules } from "../../rules/index.js";
import type { Rule } from "../../src/engine/rule-types.js";
import type { Target } from "../../src/model/types.js";

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

/** The same rules, each called for every operation. */
const everyKind: Rule[] = rules.map((rule) => {
  const { operationKinds: _kinds, ...rest } = rule;
  return rest;
});

/** Every directory that holds a project: each rule case, and each other fixture project. */
function fixtureProjects(): string[] {
  const dirs: string[] = [];
  const rulesDir = path.join(REPO, "fixtures/rules");
  for (const rule of fs.readdirSync(rulesDir)) {
    for (const kind of ["bad", "good"]) {
      const dir = path.join(rulesDir, rule, kind);
      if (!fs.existsSync(dir)) continue;
      for (const name of fs.readdirSync(dir)) dirs.push(path.join(dir, name));
    }
  }
  for (const group of ["config", "integration", "docs-setup"]) {
    for (const name of fs.readdirSync(path.join(REPO, "fixtures", group))) dirs.push(path.join(REPO, "fixtures", group, name));
  }
  dirs.push(path.join(REPO, "fixtures/example-project"));
  return dirs;
}

/** Every finding with everything a report shows, in emission order. */
async function findings(dir: string, ruleSet: Rule[], target?: Partial<Target>): Promise<string[]> {
  const run = resolveRun([dir], {}, dir);
  const options = { ...run.options, cwd: dir, rules: ruleSet, ...(target ? { target: { ...run.options.target, ...target } } : {}) };
  const result = await lint([dir], options);
  return result.diagnostics.map((d) => JSON.stringify(d));
}

describe("operationKinds", () => {
  it("is declared by most operation rules, with known operation kinds only", () => {
    const declared = rules.filter((r) => r.operation && r.operationKinds);
    expect(declared.length).toBeGreaterThan(50);
    for (const rule of declared) {
      expect(rule.operationKinds?.length, rule.meta.name).toBeGreaterThan(0);
      for (const kind of rule.operationKinds ?? []) expect(kind, rule.meta.name).toMatch(/^[A-Z][A-Za-z]+$/);
    }
  });

  const projects = fixtureProjects();
  it("covers the fixture projects", () => {
    expect(projects.length).toBeGreaterThan(200);
  });

  for (const target of [undefined, { database: "mysql" }, { database: "sqlite" }, { defaultStage: "post" }] as (Partial<Target> | undefined)[]) {
    it(`changes no finding in any fixture project (${target ? JSON.stringify(target) : "each project's own target"})`, async () => {
      let compared = 0;
      for (const dir of projects) {
        const declared = await findings(dir, rules, target);
        expect(declared, path.relative(REPO, dir)).toEqual(await findings(dir, everyKind, target));
        compared += declared.length;
      }
      expect(compared).toBeGreaterThan(100);
    }, 240_000);
  }

  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "rollsafe-kinds-"));
  afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it("changes no finding in a generated project with every kind of operation", async () => {
    const project = path.join(tmp, "project");
    const gen = spawnSync(process.execPath, [path.join(REPO, "bench/generate-corpus.mjs"), "--out", project, "--apps", "4", "--migrations", "120", "--seed", "3"], { encoding: "utf8" });
    expect(gen.status, gen.stderr).toBe(0);
    const declared = await findings(project, rules);
    expect(declared.length).toBeGreaterThan(100);
    expect(declared).toEqual(await findings(project, everyKind));
  }, 120_000);
});
