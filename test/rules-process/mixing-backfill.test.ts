/**
 * mixing-backfill-with-schema-changes over whole migrations: which schema change each backfill
 * is held against (the first before it, else the first after it), through SeparateDatabaseAndState,
 * tables created in the same migration and RunSQL DDL. The rule works out each migration's
 * candidates once (a walk per backfill made a migration of thousands of them quadratic).
 */
import { cpSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { lint } from "../../src/index.js";
import { FIXTURES } from "../support/fixture-cases.js";

const RULE = "mixing-backfill-with-schema-changes";
const temporary: string[] = [];
afterAll(() => {
  for (const dir of temporary) rmSync(dir, { recursive: true, force: true });
});

const migration = (previous: string, ops: string[]) =>
  [
    "from django.db import migrations, models",
    "",
    "",
    "def forwards(apps, schema_editor):",
    "    pass",
    "",
    "",
    "class Migration(migrations.Migration):",
    `    dependencies = [("library", "${previous}")]`,
    "    operations = [",
    ...ops.map((op) => `        ${op},`),
    "    ]",
    "",
  ].join("\n");

const sql = (text: string) => `migrations.RunSQL("${text}", reverse_sql=migrations.RunSQL.noop)`;

async function findings(files: Record<string, string>) {
  const dir = mkdtempSync(path.join(os.tmpdir(), "rollsafe-backfill-"));
  temporary.push(dir);
  cpSync(path.join(FIXTURES, "docs-setup"), dir, { recursive: true });
  for (const [name, body] of Object.entries(files)) writeFileSync(path.join(dir, "library/migrations", name), body);
  const result = await lint([dir], { cwd: dir });
  return result.diagnostics.filter((d) => d.rule === RULE).map((d) => ({ file: path.basename(d.file), line: d.line, severity: d.severity, message: d.message }));
}

describe(RULE, () => {
  it("holds each backfill against the first schema change before it, else the first after it", async () => {
    const found = await findings({
      "0002_mixed.py": migration("0001_initial", [
        sql("UPDATE library_book SET pages = 0 WHERE pages IS NULL"),
        'migrations.CreateModel(name="Crate", fields=[("id", models.BigAutoField(primary_key=True))])',
        'migrations.AddField("crate", "label", models.CharField(max_length=20, null=True))',
        'migrations.AddField("book", "isbn", models.CharField(max_length=20, null=True))',
        "migrations.RunPython(forwards, migrations.RunPython.noop)",
        `migrations.SeparateDatabaseAndState(database_operations=[${sql("ALTER TABLE library_author ADD COLUMN born integer NULL")}])`,
        sql("DELETE FROM library_author WHERE name = ''"),
      ]),
      "0003_later.py": migration("0002_mixed", [
        sql("INSERT INTO library_author (name) VALUES ('anonymous')"),
        `migrations.SeparateDatabaseAndState(database_operations=[${sql("ALTER TABLE library_author ADD COLUMN died integer NULL")}])`,
        'migrations.AddField("crate", "floor", models.IntegerField(null=True))',
        "migrations.RunPython(forwards, migrations.RunPython.noop)",
      ]),
    });
    // Operations start on line 11 of each file.
    expect(found).toEqual([
      { file: "0002_mixed.py", line: 11, severity: "warning", message: "`RunSQL` UPDATE backfills data in the same atomic migration as `AddField` on `Book`, which runs after it." },
      { file: "0002_mixed.py", line: 15, severity: "error", message: "`RunPython` backfills data while `AddField` on `Book` earlier in this atomic migration still holds its lock." },
      { file: "0002_mixed.py", line: 17, severity: "error", message: "`RunSQL` DELETE backfills data while `AddField` on `Book` earlier in this atomic migration still holds its lock." },
      { file: "0003_later.py", line: 11, severity: "warning", message: "`RunSQL` INSERT backfills data in the same atomic migration as `RunSQL` DDL on `library_author`, which runs after it." },
      { file: "0003_later.py", line: 14, severity: "error", message: "`RunPython` backfills data while `RunSQL` DDL on `library_author` earlier in this atomic migration still holds its lock." },
    ]);
  });

  it("says nothing when every schema change is on a table the migration creates, or concurrent", async () => {
    const found = await findings({
      "0002_new.py": migration("0001_initial", [
        'migrations.CreateModel(name="Crate", fields=[("id", models.BigAutoField(primary_key=True))])',
        "migrations.RunPython(forwards, migrations.RunPython.noop)",
        'migrations.AddField("crate", "label", models.CharField(max_length=20, null=True))',
        sql("CREATE INDEX CONCURRENTLY library_book_pages ON library_book (pages)"),
      ]),
    });
    expect(found).toEqual([]);
  });
});
