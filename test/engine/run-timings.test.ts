/**
 * `--timings`: the table of a run's phases and rules (src/util/run-timings.ts), and what the
 * engine counts into it. Timing a run must not change what it finds.
 */
import { cpSync, mkdtempSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { analyze } from "../../src/engine/lint.js";
import { RunTimings } from "../../src/util/run-timings.js";

const EXAMPLE = path.resolve(import.meta.dirname, "../../fixtures/example-project");

/** A clock that moves only when told to. */
function manualClock(start = 0) {
  let now = start;
  return { now: () => now, advance: (ms: number) => (now += ms) };
}

/** The table's rows as label -> milliseconds. */
function rows(table: string): Map<string, number> {
  const found = new Map<string, number>();
  for (const line of table.split("\n")) {
    const match = /^ {2}(\S.*?) {2,}([\d,.]+) ms/.exec(line);
    if (match) found.set(match[1] as string, Number((match[2] as string).replaceAll(",", "")));
  }
  return found;
}

describe("RunTimings", () => {
  it("prints the phases in the order they happen, the time before the command, the rest as other, and the total", () => {
    const clock = manualClock(80);
    const timings = new RunTimings(80, clock.now, () => 300 * 1024);
    let lap = clock.now();
    clock.advance(12);
    lap = timings.lap("discover", lap);
    clock.advance(1500);
    lap = timings.lap("load", lap);
    timings.loaded({ files: 5100, parsed: 5000, cached: 90, failed: 10, threads: 2 });
    clock.advance(40);
    // Time between phases, counted by none of them.
    lap = clock.now();
    clock.advance(300);
    timings.rule("dropping-column", 180);
    timings.rule("adding-index-non-concurrently", 20);
    lap = timings.lap("replay", lap, 200);
    clock.advance(8.04);
    timings.lap("report", lap);
    const table = timings.render();
    expect(table.split("\n")[0]).toBe("Timings (wall clock):");
    const read = rows(table);
    expect([...read.keys()]).toEqual([
      "node start-up, loading rollsafe",
      "find apps and migration files",
      "read and parse",
      "replay: model state",
      "replay: rules",
      "write the report and the result cache",
      "other",
      "total",
      "dropping-column",
      "adding-index-non-concurrently",
    ]);
    expect(read.get("node start-up, loading rollsafe")).toBe(80);
    expect(read.get("replay: model state")).toBe(100);
    expect(read.get("replay: rules")).toBe(200);
    expect(read.get("write the report and the result cache")).toBe(8);
    expect(read.get("other")).toBe(40);
    expect(read.get("total")).toBe(1940);
    expect(table).toContain("1,500 ms  (5,100 files, 5,000 parsed on 2 threads, 90 from the parse cache, 10 unreadable)");
    expect(table).toContain("Slowest rules (of 2, 200 ms in all):");
    expect(table).toMatch(/dropping-column {16}180 ms {3}90\.0%/);
    expect(table).toMatch(/adding-index-non-concurrently {3}20 ms {3}10\.0%/);
    expect(table).toContain("  total                                  1,940 ms\nPeak memory (RSS, every thread): 300 MB\n");
    expect(table).not.toContain("nothing was analysed");
  });

  it("shows a tenth of a millisecond under ten, the ten slowest rules only, and ties by name", () => {
    const clock = manualClock();
    const timings = new RunTimings(0, clock.now);
    for (let i = 0; i < 12; i++) timings.rule(`rule-${String(i).padStart(2, "0")}`, i < 2 ? 0.25 : 5);
    clock.advance(61);
    const table = timings.render();
    expect(table).toContain("Slowest rules (of 12, 51 ms in all):");
    const listed = table.split("Slowest rules")[1]?.trim().split("\n").slice(1).map((l) => l.trim().split(/\s+/)[0]);
    expect(listed).toEqual(["rule-02", "rule-03", "rule-04", "rule-05", "rule-06", "rule-07", "rule-08", "rule-09", "rule-10", "rule-11"]);
    expect(table).toContain("5.0 ms");
    expect(rows(table).get("total")).toBe(61);
  });

  it("says when the result cache answered, lists no rules that took no time, and adds up the analyses of --fix", () => {
    const clock = manualClock();
    const answered = new RunTimings(0, clock.now);
    answered.answered("result cache held this report from an earlier run");
    expect(answered.render()).toContain("The result cache held this report from an earlier run: nothing was analysed. Add --no-cache to time an analysis.");
    expect(answered.render()).not.toContain("Slowest rules");

    const idle = new RunTimings(0, clock.now);
    idle.rule("multiple-leaf-migrations", 0.01);
    expect(idle.render()).not.toContain("Slowest rules");

    const fixed = new RunTimings(0, clock.now);
    fixed.loaded({ files: 3, parsed: 3, cached: 0, failed: 0, threads: 1 });
    fixed.add("load", 4);
    fixed.loaded({ files: 3, parsed: 1, cached: 2, failed: 0, threads: 1 });
    fixed.add("load", 2);
    clock.advance(10);
    const table = fixed.render();
    expect(table.split("\n")[0]).toBe("Timings (wall clock, 2 analyses):");
    expect(table).toContain("6.0 ms  (6 files, 4 parsed, 2 from the parse cache)");
  });
});

describe("an analysis with --timings", () => {
  it("finds the same as without, and counts every rule that ran into the rules' phase", async () => {
    const plain = await analyze([EXAMPLE], { cwd: EXAMPLE });
    const timings = new RunTimings(performance.now());
    const timed = await analyze([EXAMPLE], { cwd: EXAMPLE, timings });
    expect(timed.result.diagnostics).toEqual(plain.result.diagnostics);
    const table = timings.render();
    const read = rows(table);
    for (const phase of ["find apps and migration files", "read and parse", "graph and project modules", "replay: model state", "replay: rules", "sort findings, release plan"]) {
      expect(read.has(phase), phase).toBe(true);
    }
    expect(table).toMatch(/read and parse +[\d.]+ ms {2}\(12 files, 12 parsed\)/);
    // Every rule listed is one of the run's, and the rules that reported are among those timed.
    const ruleNames = new Set(timed.result.rules.map((r) => r.name));
    const listed = table.split("Slowest rules")[1]?.trim().split("\n").slice(1).map((l) => l.trim().split(/\s+/)[0] as string) ?? [];
    expect(listed.length).toBe(10);
    for (const name of listed) expect(ruleNames.has(name), name).toBe(true);
    const timedCount = Number(/Slowest rules \(of (\d+),/.exec(table)?.[1]);
    expect(timedCount).toBeGreaterThanOrEqual(new Set(plain.result.diagnostics.map((d) => d.rule)).size);
    const phases = [...read].filter(([label]) => label !== "total" && !ruleNames.has(label)).reduce((sum, [, ms]) => sum + ms, 0);
    // Rounded to the millisecond (or a tenth), the phases add up to the total.
    expect(Math.abs(phases - (read.get("total") as number))).toBeLessThanOrEqual(read.size);
  });

  it("counts the files the parse cache answered apart from those it could not read, a binary one included", async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), "rollsafe-timings-"));
    cpSync(EXAMPLE, dir, { recursive: true });
    writeFileSync(path.join(dir, "library/migrations/0099_binary.py"), Buffer.from([0x23, 0x20, 0x00, 0x0a]));
    const cacheDir = path.join(dir, ".cache");
    const loadLine = async () => {
      const timings = new RunTimings(performance.now());
      await analyze([dir], { cwd: dir, cacheDir, timings });
      return /read and parse +[\d.,]+ ms {2}(\(.*\))/.exec(timings.render())?.[1];
    };
    expect(await loadLine()).toBe("(13 files, 13 parsed, 1 unreadable)");
    expect(await loadLine()).toBe("(13 files, 1 parsed, 12 from the parse cache, 1 unreadable)");
  });
});
