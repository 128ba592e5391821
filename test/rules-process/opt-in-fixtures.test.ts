/**
 * Fixtures of opt-in rules carry a `rollsafe.toml` that selects the rule, and run here through
 * the configuration, the way `rollsafe check` runs them: the marked findings exactly, or none.
 */
import { existsSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { lint } from "../../src/index.js";
import { resolveRun } from "../../src/config/resolve-options.js";
import { rules } from "../../rules/index.js";
import { expectedFindings, fixtureCases, RULE_FIXTURES } from "../support/fixture-cases.js";

const OPT_IN = new Set(["running-ddl-without-lock-timeout", "missing-stage-marker", "adding-index-with-many-columns", "creating-model-with-integer-primary-key"]);
const cases = fixtureCases().filter((c) => OPT_IN.has(c.rule));

describe("opt-in rule fixtures (run through their rollsafe.toml)", () => {
  it("covers every opt-in rule of this area with a bad and a good case", () => {
    for (const name of OPT_IN) {
      expect(rules.find((r) => r.meta.name === name)?.meta.optIn, name).toBe(true);
      expect(cases.filter((c) => c.rule === name).map((c) => c.kind).sort(), name).toEqual(expect.arrayContaining(["bad", "good"]));
    }
  });

  for (const c of cases) {
    it(`${c.rule} ${c.kind}/${c.name}`, async () => {
      expect(existsSync(path.join(c.dir, "rollsafe.toml")), "the case selects its rule in rollsafe.toml").toBe(true);
      const run = resolveRun([c.dir], {}, c.dir);
      expect(run.options.ruleNames).toContain(c.rule);
      const result = await lint([c.dir], run.options);
      const actual = result.diagnostics.map((d) => `${d.file}:${d.line} ${d.rule}`).sort();
      const expected = c.kind === "good" ? [] : expectedFindings(c.dir);
      if (c.kind === "bad") expect(expected.some((e) => e.endsWith(` ${c.rule}`))).toBe(true);
      expect(actual, result.diagnostics.map((d) => `${d.line}: ${d.message}`).join("\n")).toEqual(expected);
    });

    it(`${c.rule} ${c.kind}/${c.name} is clean under the default rules`, async () => {
      const result = await lint([c.dir], { cwd: c.dir });
      expect(result.diagnostics.map((d) => `${d.line} ${d.rule}: ${d.message}`)).toEqual([]);
    });
  }

  it("names an index's plain column references by their column, not as expressions", async () => {
    const dir = path.join(RULE_FIXTURES, "adding-index-with-many-columns/bad/four-fields");
    const result = await lint([dir], resolveRun([dir], {}, dir).options);
    expect(result.diagnostics.map((d) => d.message)).toEqual([
      "Index `book_wide_idx` covers 4 columns (`expression 1`, `pages`, `author`, `subtitle`); queries use mostly its leading ones.",
    ]);
  });
});
