/**
 * What the bundled CLI loads before it knows whether to analyse: a run the result cache answers,
 * `--version` and `--help` need the settings, the walk and the cache, never the engine, the
 * rules, the parser or the SQL parser (which were two thirds of the bundle's start-up).
 */
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { REPO } from "../support/run-cli.js";

const BUNDLE = path.join(REPO, "dist/bundle");

/** The modules an ES module file loads before it runs: its static imports, transitively. */
function staticClosure(entry: string): Map<string, string> {
  const loaded = new Map<string, string>();
  const visit = (file: string) => {
    if (loaded.has(file)) return;
    const text = readFileSync(file, "utf8");
    loaded.set(file, text);
    // `import {...} from "./x.js"` and `import "./x.js"`, not `import("./x.js")`.
    for (const [, specifier] of text.matchAll(/^\s*import\s+(?:[^"'();]*?\s+from\s+)?["']([^"']+)["'];?$/gm)) {
      if (specifier?.startsWith("./")) visit(path.join(path.dirname(file), specifier));
      else if (specifier) loaded.set(specifier, "");
    }
  };
  visit(entry);
  return loaded;
}

describe("start-up of the bundled CLI", () => {
  it("is built (npm ci and npm test build it)", () => {
    expect(existsSync(path.join(BUNDLE, "cli.js"))).toBe(true);
  });

  it("loads the settings, the walk and the result cache, and no engine, rule, parser or SQL parser", () => {
    const closure = staticClosure(path.join(BUNDLE, "cli.js"));
    const text = [...closure.values()].join("\n");
    // What a warm run needs is there...
    expect(text).toMatch(/\bfunction discover\(/);
    expect(text).toMatch(/\bfunction resolveRun\(/);
    expect(text).toMatch(/\bvar ResultCache = class\b|\bclass ResultCache\b/);
    // ...and what only an analysis needs is not.
    expect(text).not.toMatch(/\bfunction analyze\(/);
    expect(text).not.toMatch(/\bvar droppingColumn = /);
    expect(text).not.toMatch(/\bfunction parseMigrationSource\(|\bfunction lightTree\(/);
    for (const native of ["tree-sitter", "tree-sitter-python", "libpg-query"]) expect(closure.has(native), native).toBe(false);
    // The engine is one dynamic import away.
    expect(text).toMatch(/import\("\.\/lint-[\w-]+\.js"\)/);
    // Under half of the bundle's code (it was all of it).
    const bundleBytes = readdirSync(BUNDLE)
      .filter((f) => f.endsWith(".js"))
      .reduce((sum, f) => sum + readFileSync(path.join(BUNDLE, f), "utf8").length, 0);
    expect(text.length / bundleBytes).toBeLessThan(0.5);
  });
});

describe("start-up of a check the result cache answers", () => {
  it("is a CommonJS entry and bundle with the settings, the walk and the cache, and nothing else", () => {
    const pkg = JSON.parse(readFileSync(path.join(REPO, "package.json"), "utf8")) as { bin: Record<string, string> };
    expect(pkg.bin.rollsafe).toBe("bin/rollsafe.cjs");
    const text = readFileSync(path.join(BUNDLE, "warm.cjs"), "utf8");
    expect(text).toMatch(/\bmodule\.exports\b/);
    expect(text).toMatch(/\bfunction cachedCheck\(/);
    expect(text).toMatch(/\bfunction discover\(/);
    // No commander (it loads child_process), engine, rules, reporters, parser or SQL parser.
    expect(text).not.toMatch(/require\("(node:)?child_process"\)|require\("commander"\)|\bclass CommanderError\b/);
    expect(text).not.toMatch(/\bfunction analyze\(|\bvar droppingColumn = |\bfunction renderTextChunks\(/);
    for (const native of ["tree-sitter", "tree-sitter-python", "libpg-query"]) expect(text).not.toContain(`require("${native}")`);
  });
});

describe("V8's code cache of the cached check", () => {
  it("is made by the build, after the bundle, and this node accepts it", async () => {
    const bundle = path.join(BUNDLE, "warm.cjs");
    const cache = `${bundle}.v8`;
    expect(statSync(cache).mtimeMs).toBeGreaterThanOrEqual(statSync(bundle).mtimeMs);
    const { Script } = await import("node:vm");
    const Module = (await import("node:module")).default;
    // The same wrapper the launcher compiles (bin/rollsafe.cjs); a refused cache would only cost time.
    const script = new Script(Module.wrap(readFileSync(bundle, "utf8")), { filename: bundle, cachedData: readFileSync(cache) });
    expect(script.cachedDataRejected).toBe(false);
  });
});
