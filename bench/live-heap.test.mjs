// Checks of the benchmark's live-heap figure (bench/live-heap.mjs). Nothing here is timed.
import { spawnSync } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const SCRIPT = path.join(REPO, "bench/live-heap.mjs");
const PROJECT = path.join(REPO, "fixtures/example-project");

const liveHeap = (...args) => spawnSync(process.execPath, ["--expose-gc", SCRIPT, ...args], { encoding: "utf8" });

describe("live-heap", () => {
  it("measures the analysis with its findings, and without the rules the same models and state with none", () => {
    const all = liveHeap(PROJECT, ".");
    const none = liveHeap("--rules", "none", PROJECT, ".");
    expect(all.status, all.stderr).toBe(0);
    expect(none.status, none.stderr).toBe(0);
    const withRules = JSON.parse(all.stdout);
    const without = JSON.parse(none.stdout);
    // The example project has findings (its README command exits 1), and a run without rules none.
    expect(withRules.findings).toBeGreaterThan(0);
    expect(without.findings).toBe(0);
    expect(withRules.live).toBeGreaterThan(without.live);
    expect(without.live).toBeGreaterThan(0);
    expect(withRules.committed).toBeGreaterThanOrEqual(withRules.live);
  });

  it("refuses to run without gc() or without paths, in one line", () => {
    const noGc = spawnSync(process.execPath, [SCRIPT, PROJECT, "."], { encoding: "utf8" });
    expect(noGc.status).toBe(2);
    expect(noGc.stderr.trim().split("\n")).toHaveLength(1);
    expect(liveHeap(PROJECT).status).toBe(2);
  });
});
