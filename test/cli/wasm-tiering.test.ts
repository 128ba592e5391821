import { describe, expect, it } from "vitest";
import { choosesWebAssemblyTiering } from "../../src/util/wasm-tiering.js";

describe("the CLI runs the PostgreSQL parser's WebAssembly on V8's baseline compiler", () => {
  it("unless node was started with a flag that chooses how WebAssembly tiers", () => {
    for (const flag of ["--no-wasm-tier-up", "--wasm-tier-up", "--wasm_tier_up", "--nowasm-tier-up", "--no-wasm-dynamic-tiering", "--wasm-dynamic-tiering", "--liftoff", "--no-liftoff", "--liftoff-only"]) {
      expect(choosesWebAssemblyTiering([flag], undefined), `${flag} on the command line`).toBe(true);
      expect(choosesWebAssemblyTiering([], `--max-old-space-size=4096 ${flag}`), `${flag} in NODE_OPTIONS`).toBe(true);
    }
  });

  it("and sets its own flags otherwise, other V8 and node flags notwithstanding", () => {
    expect(choosesWebAssemblyTiering([], undefined)).toBe(false);
    expect(choosesWebAssemblyTiering(["--enable-source-maps", "--max-old-space-size=4096"], "--require ./x.cjs --wasm-tiering-budget=5000")).toBe(false);
    expect(choosesWebAssemblyTiering(["--liftoffx"], "")).toBe(false);
  });
});
