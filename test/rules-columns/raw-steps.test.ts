/**
 * What earlier RunSQL did, as the state-only rules read it (`rawStepsMay`): a statement on the
 * column's table counts, one on another table does not, an unreadable statement counts anywhere,
 * and steps added after a first question count for later ones (the steps are indexed once, as
 * they come, rather than walked for every question).
 */
import { cpSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { lint } from "../../src/index.js";
import { FIXTURES } from "../support/fixture-cases.js";

const RULE = "pointing-field-at-missing-column";
const temporary: string[] = [];
afterAll(() => {
  for (const dir of temporary) rmSync(dir, { recursive: true, force: true });
});

/** Migrations 0002, 0003... of the docs-setup project, each with one operation. */
async function flagged(operations: string[]): Promise<string[]> {
  const dir = mkdtempSync(path.join(os.tmpdir(), "rollsafe-raw-steps-"));
  temporary.push(dir);
  cpSync(path.join(FIXTURES, "docs-setup"), dir, { recursive: true });
  operations.forEach((op, i) => {
    const name = `${String(i + 2).padStart(4, "0")}_step`;
    const previous = i === 0 ? "0001_initial" : `${String(i + 1).padStart(4, "0")}_step`;
    const body = `from django.db import migrations, models\n\n\nclass Migration(migrations.Migration):\n    dependencies = [("library", "${previous}")]\n    operations = [\n        ${op},\n    ]\n`;
    writeFileSync(path.join(dir, "library/migrations", `${name}.py`), body);
  });
  const result = await lint([dir], { cwd: dir });
  return result.diagnostics.filter((d) => d.rule === RULE).map((d) => path.basename(d.file));
}

const sql = (text: string) => `migrations.RunSQL(${JSON.stringify(text)}, reverse_sql=migrations.RunSQL.noop)`;
const stateOnly = (name: string) =>
  `migrations.SeparateDatabaseAndState(state_operations=[migrations.AddField("book", "${name}", models.CharField(max_length=13, null=True))])`;

describe("state-only operations after raw SQL", () => {
  it("counts a statement on the column's table, not one on another table", async () => {
    expect(await flagged([sql("ALTER TABLE library_author ADD COLUMN isbn varchar(13) NULL"), stateOnly("isbn")])).toEqual(["0003_step.py"]);
    expect(await flagged([sql("ALTER TABLE library_book ADD COLUMN isbn varchar(13) NULL"), stateOnly("isbn")])).toEqual([]);
    expect(await flagged([sql("ALTER TABLE other.library_book ADD COLUMN isbn varchar(13) NULL"), stateOnly("isbn")])).toEqual(["0003_step.py"]);
  });

  it("reads steps added after a first question for the later ones", async () => {
    const found = await flagged([
      stateOnly("isbn"),
      sql("ALTER TABLE library_book ADD COLUMN ean varchar(13) NULL"),
      stateOnly("ean"),
      stateOnly("asin"),
      sql("ALTER TABLE library_book RENAME COLUMN old_upc TO upc"),
      stateOnly("upc"),
    ]);
    expect(found).toEqual(["0002_step.py", "0005_step.py"]);
  });

  it("counts a statement whose effect cannot be read, whatever its table", async () => {
    expect(await flagged([sql("DO $$ BEGIN PERFORM 1; END $$"), stateOnly("isbn")])).toEqual([]);
  });
});
