/**
 * The meta-test: every rule has a unique code and name, a module named after it, complete docs,
 * bad and good fixtures, and docs examples that behave as documented (the bad example yields
 * exactly one finding of the rule, the good example none at all).
 */
import { cpSync, existsSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { findRule, rules } from "../rules/index.js";
import { ruleCatalog } from "../rules/catalog.js";
import { findRuleEntry } from "../rules/rule-entry.js";
import { lint } from "../src/index.js";
import { resolveRun } from "../src/config/resolve-options.js";
import { FIXTURES, fixtureCases } from "./support/fixture-cases.js";

/** Rules the engine reports for conditions no fixture can hold (I/O failures, crashing rules). */
const ENGINE_ONLY = new Set(["io-error", "internal-error"]);
/**
 * Rules about the project's layout (two apps), which no single migration file can show: their
 * docs examples are not run; their fixtures are.
 */
const LAYOUT_ONLY = new Set(["duplicate-app-label"]);

const REPO = path.resolve(import.meta.dirname, "..");
const cases = fixtureCases();

/**
 * Wraps a docs snippet into migration 0002 after the standard `library` setup migration, with the
 * rule's `docs.config` as the project's `rollsafe.toml` when it has one.
 */
function docsProject(snippet: string, config?: string): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), "rollsafe-docs-"));
  cpSync(path.join(FIXTURES, "docs-setup"), dir, { recursive: true });
  if (config !== undefined) writeFileSync(path.join(dir, "rollsafe.toml"), config);
  const body = snippet.includes("class Migration") || snippet.startsWith("# whole file")
    ? snippet
    : [
        "import django.contrib.postgres.operations",
        "from django.contrib.postgres.operations import AddConstraintNotValid, AddIndexConcurrently, RemoveIndexConcurrently, ValidateConstraint",
        "from django.db import migrations, models",
        "",
        "",
        "class Migration(migrations.Migration):",
        "",
        '    dependencies = [("library", "0001_initial")]',
        "",
        "    operations = [",
        ...snippet.split("\n").map((line) => (line ? `        ${line}` : line)),
        "    ]",
        "",
      ].join("\n");
  writeFileSync(path.join(dir, "library/migrations/0002_example.py"), body.endsWith("\n") ? body : `${body}\n`);
  return dir;
}

/** Lints a docs project; with `docs.config`, resolved like the CLI (and the fixture harness) does. */
function lintDocs(dir: string, config: string | undefined, extra: Parameters<typeof lint>[1] = {}) {
  const options = config === undefined ? {} : resolveRun([dir], {}, dir).options;
  return lint([dir], { ...options, ...extra, cwd: dir });
}

describe("rule registry", () => {
  it("has unique codes and names, in the RS### / kebab-case forms", () => {
    const codes = rules.map((r) => r.meta.code);
    const names = rules.map((r) => r.meta.name);
    expect(new Set(codes).size).toBe(codes.length);
    expect(new Set(names).size).toBe(names.length);
    for (const { meta } of rules) {
      expect(meta.code).toMatch(/^RS\d{3}$/);
      expect(meta.name).toMatch(/^[a-z]+(-[a-z0-9]+)*$/);
    }
  });

  it("keeps every rule in a module named after it", () => {
    const files = new Set(readdirSync(path.join(REPO, "rules")).map((f) => f.replace(/\.ts$/, "")));
    for (const { meta } of rules) {
      expect(files.has(meta.name), meta.name).toBe(true);
      expect(readFileSync(path.join(REPO, "rules", `${meta.name}.ts`), "utf8")).toContain(`"${meta.code}"`);
    }
  });

  it("lists every rule in rules/catalog.ts, in the registry's order (generated, not stale: run `npm run docs`)", () => {
    expect(ruleCatalog).toEqual(rules.map(({ meta }) => ({ code: meta.code, name: meta.name, optIn: Boolean(meta.optIn) })));
  });

  it("finds a rule by code or name, in any case, trimmed", () => {
    for (const { meta } of rules) {
      for (const query of [meta.code, meta.code.toLowerCase(), meta.name, ` ${meta.name.toUpperCase()} `]) {
        expect(findRuleEntry(ruleCatalog, query)?.name, query).toBe(meta.name);
        expect(findRule(query)?.meta, query).toBe(meta);
      }
    }
    expect(findRuleEntry(ruleCatalog, "RS999")).toBeUndefined();
    expect(findRule("no-such-rule")).toBeUndefined();
  });

  for (const { meta } of rules) {
    describe(`${meta.code} ${meta.name}`, () => {
      it("has complete docs", () => {
        const { docs } = meta;
        for (const key of ["summary", "what", "why", "severityReason"] as const) expect(docs[key].trim().length, key).toBeGreaterThan(10);
        expect(docs.recipe.length).toBeGreaterThan(0);
        expect(meta.databases.length).toBeGreaterThan(0);
        if (!ENGINE_ONLY.has(meta.name)) {
          expect(docs.bad.trim(), "bad example").not.toBe("");
          expect(docs.good.trim(), "good example").not.toBe("");
        }
      });

      if (ENGINE_ONLY.has(meta.name)) return;

      it("has bad and good fixtures", () => {
        const mine = cases.filter((c) => c.rule === meta.name);
        expect(mine.some((c) => c.kind === "bad"), "a bad fixture").toBe(true);
        expect(mine.some((c) => c.kind === "good"), "a good fixture").toBe(true);
      });

      if (LAYOUT_ONLY.has(meta.name)) return;

      it("reports its bad docs example exactly once", async () => {
        const dir = docsProject(meta.docs.bad, meta.docs.config);
        const result = await lintDocs(dir, meta.docs.config, meta.optIn ? { rules: [rules.find((r) => r.meta.name === meta.name)!] } : {});
        const found = result.diagnostics.map((d) => `${d.rule}: ${d.message}`);
        expect(found.filter((f) => f.startsWith(`${meta.name}:`)), found.join("\n")).toHaveLength(1);
        if (!meta.optIn) expect(found, "no other finding").toHaveLength(1);
      });

      it("reports nothing on its good docs example", async () => {
        const dir = docsProject(meta.docs.good, meta.docs.config);
        const result = await lintDocs(dir, meta.docs.config);
        expect(result.diagnostics.map((d) => `${d.rule}: ${d.message}`)).toEqual([]);
      });
    });
  }

  it("documents every rule in docs/rules (generated, not stale: run `npm run docs`)", async () => {
    const { ruleMarkdown } = await import("../src/explain.js");
    const dir = path.join(REPO, "docs/rules");
    for (const { meta } of rules) {
      const page = path.join(dir, `${meta.name}.md`);
      expect(existsSync(page), `${meta.name}.md is missing`).toBe(true);
      expect(readFileSync(page, "utf8"), `${meta.name}.md is stale`).toBe(ruleMarkdown(meta));
    }
  });
});
