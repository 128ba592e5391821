/**
 * changing-column-collation: which indexes a collation change rebuilds, and the warning about
 * non-deterministic collations only where the collation may be one.
 */
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { lint } from "../../src/index.js";
import { RULE_FIXTURES } from "../support/fixture-cases.js";

const CASE = path.join(RULE_FIXTURES, "changing-column-collation/bad/indexed-columns");
const root = mkdtempSync(path.join(tmpdir(), "rollsafe-collation-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

let counter = 0;
async function findings(collation: string) {
  const dir = path.join(root, `case${counter++}`);
  cpSync(CASE, dir, { recursive: true });
  const file = path.join(dir, "library/migrations/0002_collations.py");
  writeFileSync(file, readFileSync(file, "utf8").replaceAll('db_collation="C"', `db_collation="${collation}"`));
  const result = await lint([dir], { cwd: dir, ruleNames: ["changing-column-collation"] });
  return result.diagnostics.filter((d) => d.rule === "changing-column-collation");
}

describe("changing-column-collation", () => {
  it("names every index the change rebuilds: the unique constraint, the field index, their _like twins, Meta.indexes", async () => {
    const found = await findings("C");
    expect(found.map((d) => d.help[0]?.match(/holding the lock: (.*)\. Reads/)?.[1])).toEqual([
      "`library_book_code_key`, `library_book_code_b5f77c04_like`",
      "`library_book_title_fccd0c46`, `library_book_title_fccd0c46_like`",
      "`book_slug_idx`",
    ]);
  });
  it("warns about case-insensitive uniqueness only for a collation that may be non-deterministic", async () => {
    const builtin = await findings("C");
    expect(builtin[0]?.help.join("\n")).not.toContain("non-deterministic");
    const icu = await findings("en-US-x-icu");
    expect(icu[0]?.help.join("\n")).not.toContain("non-deterministic");
    const custom = await findings("case_insensitive");
    expect(custom[0]?.help.join("\n")).toContain("If `case_insensitive` is non-deterministic");
    // Only a unique index is affected.
    expect(custom[1]?.help.join("\n")).not.toContain("non-deterministic");
  });
});
