import v8 from "node:v8";
import vm from "node:vm";

/**
 * A full garbage collection between the phases of a large run, when the heap holds more than
 * `LARGE_HEAP_BYTES`.
 *
 * V8 sets its next old-space limit from the live heap at its last full collection, and a large
 * cold run has one early (about 130 MB live at 20,000 migrations, while the files are parsed),
 * then none: the parse's garbage and the replay's grow to the limit beside the live models, and
 * the peak RSS is that limit, not what is live. Collecting once the models are loaded and once
 * the replay is done (where the garbage of each phase is dead) lowers the limit the next phase
 * grows to. Each collection costs a pass over the live heap (150–300 ms at 20,000 migrations),
 * so runs whose heap stays small (a pre-commit run, a project of a few thousand migrations)
 * never pay it. Only the CLI asks for it (`LintOptions.collectGarbage`): a program that calls
 * `lint()` keeps its own collector's pace.
 *
 * `gc()` is exposed the way Jest's `--logHeapUsage` does it: the flag is set for the time it
 * takes to make one new context, whose global `gc` is kept, and then cleared again.
 */
const LARGE_HEAP_BYTES = 200 * 1024 * 1024;

let collect: (() => void) | null | undefined;

function collector(): (() => void) | null {
  if (collect !== undefined) return collect;
  try {
    v8.setFlagsFromString("--expose-gc");
    const gc: unknown = vm.runInNewContext("gc");
    collect = typeof gc === "function" ? (gc as () => void) : null;
  } catch {
    collect = null;
  } finally {
    v8.setFlagsFromString("--no-expose-gc");
  }
  return collect;
}

/**
 * Collects garbage now when the heap holds at least `threshold` bytes (see above); does nothing
 * otherwise. Returns whether it collected.
 */
export function collectBetweenPhases(threshold = LARGE_HEAP_BYTES): boolean {
  if (v8.getHeapStatistics().used_heap_size < threshold) return false;
  const gc = collector();
  gc?.();
  return gc !== null;
}
