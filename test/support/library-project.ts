/**
 * Small projects for rule tests: the standard `library` app (the setup migration every fixture
 * case starts from, with `Author` and `Book`) and a second migration the test writes.
 */
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
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

/**
 * A maker of one-app projects of the test's own migrations, in a temporary directory removed after
 * the test file: each call writes `app`'s `migrations` package with `migrations` (file name without
 * `.py` -> source) and returns the project's directory.
 */
export function appProjects(prefix: string): (app: string, migrations: Record<string, string>) => string {
  const root = mkdtempSync(path.join(tmpdir(), `rollsafe-${prefix}-`));
  afterAll(() => rmSync(root, { recursive: true, force: true }));
  let counter = 0;
  return (app, migrations) => {
    const dir = path.join(root, `case${counter++}`);
    const folder = path.join(dir, app, "migrations");
    mkdirSync(folder, { recursive: true });
    writeFileSync(path.join(folder, "__init__.py"), "");
    for (const [name, source] of Object.entries(migrations)) writeFileSync(path.join(folder, `${name}.py`), source);
    return dir;
  };
}

/** A migration of `app` after `dependency` (none for an initial one) running `operations` (one per line), with `imports` above Django's. */
export function migrationSource(app: string, dependency: string | null, operations: string[], imports = ""): string {
  return `${imports}from django.db import migrations, models\n\n\nclass Migration(migrations.Migration):\n    dependencies = [${dependency ? `("${app}", "${dependency}")` : ""}]\n    operations = [\n${operations.map((op) => `        ${op},`).join("\n")}\n    ]\n`;
}
