import v8 from "node:v8";

/** V8 flags that choose how WebAssembly is compiled; a process started with one of them keeps its own. */
const WASM_TIER_FLAGS = /--(?:no-?)?(?:wasm[-_]tier[-_]up|wasm[-_]dynamic[-_]tiering|liftoff(?:[-_]only)?)(?:=|\s|$)/;

/**
 * Has V8 run the process's WebAssembly (the PostgreSQL parser, libpg_query) on its baseline
 * compiler, Liftoff, without moving hot functions up to the optimizing compiler. For the CLI's
 * process only: a program that calls `lint()` keeps its own settings.
 *
 * libpg_query's grammar is one huge function, and V8's default tiering sends it to TurboFan on
 * background threads soon after it first runs: a compilation that costs more than it gives back
 * to a linter, which parses a few thousand short statements at most, and that competes with the
 * parse of the migrations for the cores. Measured on node 20 with 2 cores, a process that loads
 * the module and parses one statement: 0.45 s of CPU and 80 MB peak RSS with tiering, 0.27 s and
 * 59 MB without; 2,000 statements: 0.9 s and 113 MB against 0.35 s and 61 MB (the parse itself
 * 204-227 against 99-108 ms); 20,000 statements still parse faster without (590-605 against
 * 419-435 ms). A cold check of 1,040 synthetic migrations: 1.67 s and 170 MB against 1.46 s and
 * 135 MB. V8 reads the flags when a function turns hot, not once when the module compiles, so
 * they stay set for the run; the build makes cli.cjs's code cache with the default flags, which
 * the launcher has when it loads the bundle (scripts/build-dist.mjs). A process started with one
 * of these flags (`node --no-wasm-tier-up`, NODE_OPTIONS) keeps it.
 */
export function runWebAssemblyOnBaselineCompiler(): void {
  if (choosesWebAssemblyTiering(process.execArgv, process.env.NODE_OPTIONS)) return;
  v8.setFlagsFromString("--no-wasm-tier-up");
  v8.setFlagsFromString("--no-wasm-dynamic-tiering");
}

/** Whether node's own arguments or NODE_OPTIONS set how WebAssembly tiers (then left alone). */
export function choosesWebAssemblyTiering(execArgv: readonly string[], nodeOptions: string | undefined): boolean {
  return [...execArgv, nodeOptions ?? ""].some((arg) => WASM_TIER_FLAGS.test(arg));
}
