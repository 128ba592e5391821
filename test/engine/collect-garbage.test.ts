/** Full collections between the phases of a large run (`src/engine/collect-garbage.ts`). */
import { setImmediate as nextTurn } from "node:timers/promises";
import { describe, expect, it } from "vitest";
import path from "node:path";
import { collectBetweenPhases } from "../../src/engine/collect-garbage.js";
import { resolveRun } from "../../src/config/resolve-options.js";
import { REPO } from "../support/run-cli.js";

describe("collectBetweenPhases", () => {
  it("leaves a small heap alone", () => {
    expect(collectBetweenPhases(Number.MAX_SAFE_INTEGER)).toBe(false);
  });

  it("collects what nothing refers to any more, without exposing gc to the program", async () => {
    let garbage: object | null = { payload: new Array(1000).fill("x") };
    const ref = new WeakRef(garbage);
    garbage = null;
    // A WeakRef keeps its target alive until the end of the job that made it.
    await nextTurn();
    expect(collectBetweenPhases(0)).toBe(true);
    expect(ref.deref()).toBeUndefined();
    expect((globalThis as { gc?: unknown }).gc).toBeUndefined();
    // The collector is made once and works again.
    expect(collectBetweenPhases(0)).toBe(true);
  });

  it("is asked for by the CLI's settings; a program calling lint() keeps its own collector's pace", () => {
    const dir = path.join(REPO, "fixtures/example-project");
    expect(resolveRun([dir], {}, dir).options.collectGarbage).toBe(true);
  });
});
