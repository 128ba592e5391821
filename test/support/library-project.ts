/**
 * Small projects for rule tests: the standard `library` app (the setup migration every fixture
 * case starts from, with `Author` and `Book`) and a second migration the test writes.
 */
import { cpSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll } from "vitest";
import { RULE_FIXTURES } from "./fixture-cases.js";

/**
 * A maker of such projects, in a temporary directory removed after the test file: each call copies
 * the setup and writes `source` as `library/migrations/0002_fk.py`, and returns the project's
 * directory.
 */
export function libraryProjects(prefix: string): (source: string) => string {
  const root = mkdtempSync(path.join(tmpdir(), `rollsafe-${prefix}-`));
  afterAll(() => rmSync(root, { recursive: true, force: true }));
  let counter = 0;
  return (source) => {
    const dir = path.join(root, `case${counter++}`);
    cpSync(path.join(RULE_FIXTURES, "adding-foreign-key-constraint/bad/fk"), dir, { recursive: true });
    writeFileSync(path.join(dir, "library/migrations/0002_fk.py"), source);
    return dir;
  };
}
