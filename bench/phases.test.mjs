// The benchmark's reading of `rollsafe check --timings`, held to what the real CLI writes.
import { spawnSync } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { parseTimings, renderPhases } from "./phases.mjs";

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

describe("parseTimings", () => {
  it("reads every phase, the total and the slowest rules of the CLI's table", () => {
    const run = spawnSync(process.execPath, [path.join(REPO, "bin/rollsafe.cjs"), "check", "fixtures/example-project", "--no-cache", "--format", "json", "--timings"], { cwd: REPO, encoding: "utf8" });
    expect(run.status).toBe(1);
    const read = parseTimings(run.stderr);
    expect(read).not.toBeNull();
    expect(read.answered).toBe(false);
    expect(read.phases.map((p) => p.label)).toEqual(expect.arrayContaining(["node start-up, loading rollsafe", "read and parse", "replay: model state", "replay: rules", "write the report and the result cache"]));
    expect(read.phases.find((p) => p.label === "read and parse").detail).toBe("(12 files, 12 parsed)");
    const sum = read.phases.reduce((s, p) => s + p.ms, 0);
    expect(Math.abs(sum - read.total)).toBeLessThanOrEqual(read.phases.length);
    expect(read.peakRssMb).toBeGreaterThan(10);
    expect(read.rules).toHaveLength(10);
    for (const rule of read.rules) {
      expect(rule.name).toMatch(/^[a-z][a-z-]+$/);
      expect(rule.share).toBeGreaterThanOrEqual(0);
    }
    expect(read.rules[0].ms).toBeGreaterThanOrEqual(read.rules[9].ms);
    expect(read.rulesTotal).toBeCloseTo(read.phases.find((p) => p.label === "replay: rules").ms, 0);
  });

  it("is null without a table, and notes a run the result cache answered", () => {
    expect(parseTimings("Checked 3 migrations: no problems found.\n")).toBeNull();
    const read = parseTimings(
      "Timings (wall clock):\n  node start-up, loading rollsafe  60 ms\n  settings and result cache  8.0 ms\n  total  69 ms\nPeak memory (RSS, every thread): 47 MB\nThe result cache held this report from an earlier run: nothing was analysed. Add --no-cache to time an analysis.\n",
    );
    expect(read).toEqual({ phases: [{ label: "node start-up, loading rollsafe", ms: 60, detail: "" }, { label: "settings and result cache", ms: 8, detail: "" }], total: 69, peakRssMb: 47, rules: [], rulesTotal: null, answered: true });
  });
});

describe("renderPhases", () => {
  it("makes a column per corpus with each phase's share, the parse against the limit, and the slowest rules", () => {
    const timings = (parse, rules) => ({
      phases: [
        { label: "read and parse", ms: parse, detail: "" },
        { label: "replay: rules", ms: rules, detail: "" },
      ],
      total: parse + rules,
      rules: [{ name: "dropping-column", ms: rules, share: 100 }],
      rulesTotal: rules,
      answered: false,
    });
    const lines = renderPhases([
      { name: "small", limitMs: 100, timings: timings(250, 750) },
      { name: "big", limitMs: 1000, timings: timings(2500, 1500) },
      { name: "broken", timings: null, error: "exit 2" },
    ]);
    expect(lines).toContain("| phase | small | big |");
    expect(lines).toContain("| read and parse | 250 ms (25%) | 2.50 s (63%) |");
    expect(lines).toContain("| **total** | **1.00 s** | **4.00 s** |");
    expect(lines).toContain("| read and parse ÷ the limit | 2.50× | 2.50× |");
    expect(lines).toContain("| slowest rules | dropping-column 750 ms | dropping-column 1.50 s |");
    expect(lines).toContain("> **broken:** the run with --timings failed: exit 2");
    expect(renderPhases([{ name: "none", timings: null }])).toEqual([]);
  });
});
