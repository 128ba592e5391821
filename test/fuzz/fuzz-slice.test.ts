/**
 * The fixed-seed fuzz slice that runs in CI (`npm test`): 2,000 mutated migrations through the
 * built pipeline (child processes under a watchdog), every token-boundary truncation of
 * one real migration, and 150 runs of the real CLI. The properties are in fuzz/properties.mjs:
 * no exception, no internal error, exit 0 or 1, no stack trace, valid reports, and every
 * unparsable file reported as a `parse-error` with a location. A failure names its reproducer
 * directory and the `npm run fuzz -- --seed ... --case ...` command that replays it.
 */
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
// @ts-expect-error plain ES module without type declarations
import { findPython, runFuzz } from "../../fuzz/engine.mjs";
// @ts-expect-error plain ES module without type declarations
import { MUTATORS } from "../../fuzz/cases.mjs";
import { REPO } from "../support/run-cli.js";

const SEED = 20_250_101;

interface Failure {
  kind: string;
  index: number;
  mutator: string;
  problems: string[];
  reproducer: string;
}

describe("fuzz slice (fixed seed)", () => {
  it(
    "survives 2,000 in-process cases, a full truncation sweep and 150 CLI runs",
    async () => {
      const python = findPython();
      const log: string[] = [];
      // The 3 MiB file of 31,000 AddField operations stays in `npm run fuzz` only: state replay is
      // quadratic in the operations on one model, so it takes about a minute (reported to the lead).
      const forced = Object.keys(MUTATORS).filter((name) => name !== "big-valid-file");
      const { failures, stats } = (await runFuzz({
        repo: REPO,
        seed: SEED,
        cases: 2000,
        cliCases: 150,
        forced,
        sweep: ["fixtures/example-project/library/migrations/0001_initial.py"],
        failuresDir: path.join(os.tmpdir(), "rollsafe-fuzz-slice-failures"),
        python,
        caseTimeoutMs: 120_000,
        maxRssMb: 1536,
        log: (line: string) => log.push(line),
      })) as { failures: Failure[]; stats: { inProcess: number; cli: number; byLabel: Record<string, number>; oracle: string } };
      console.log(`fuzz slice: seed ${SEED}, ${stats.inProcess} in-process + ${stats.cli} CLI cases, oracle ${stats.oracle}, labels ${JSON.stringify(stats.byLabel)}`);
      const summary = failures.map((f) => `${f.kind} case ${f.index} (${f.mutator}): ${f.problems.join(" | ").slice(0, 400)}\n  reproducer: ${f.reproducer}`);
      expect(summary).toEqual([]);
      expect(stats.inProcess).toBeGreaterThanOrEqual(2000);
      expect(stats.cli).toBe(150);
      expect(stats.byLabel.invalid).toBeGreaterThan(100);
      expect(stats.byLabel["too-large"]).toBeGreaterThanOrEqual(1);
    },
    30 * 60_000,
  );
});
