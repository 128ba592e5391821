/**
 * `atomic` a migration inherits from its base class: Sentry's `CheckedMigration` (in
 * `sentry/new_migrations/migrations.py`) sets `atomic = False`, and every Sentry migration
 * subclasses it; a project may also define the base in the migration's own file. Python's class
 * attributes are inherited, so Django runs such a migration without a transaction.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { analyze } from "../../src/engine/lint.js";
import { libraryProjects } from "../support/library-project.js";

const project = libraryProjects("inherited-atomic");

const BASE_MODULE = `from django.db.migrations import Migration


class CheckedMigration(Migration):
    # Long backfills must not hold their row locks until the end.
    atomic = False
    checked = True


class StrictMigration(CheckedMigration):
    checked = True


class PlainMigration(Migration):
    checked = False
`;

/** A migration of `library` that builds an index concurrently, its class written as `header`. */
function concurrentIndex(imports: string, header: string, body = ""): string {
  return `from django.db import migrations
${imports}

${header}
    dependencies = [("library", "0001_initial")]
${body}
    operations = [
        migrations.RunSQL(
            "CREATE INDEX CONCURRENTLY IF NOT EXISTS library_book_pages_idx ON library_book (pages)",
            reverse_sql="DROP INDEX CONCURRENTLY IF EXISTS library_book_pages_idx",
        ),
    ]
`;
}

async function check(source: string, withBaseModule = true) {
  const dir = project(source);
  if (withBaseModule) {
    mkdirSync(path.join(dir, "tracker/new_migrations"), { recursive: true });
    writeFileSync(path.join(dir, "tracker/__init__.py"), "");
    writeFileSync(path.join(dir, "tracker/new_migrations/__init__.py"), "");
    writeFileSync(path.join(dir, "tracker/new_migrations/migrations.py"), BASE_MODULE);
  }
  const { result, graph } = await analyze(["."], { cwd: dir, ruleNames: ["runsql-concurrently-in-atomic-migration"] });
  const migration = graph.plan.find((m) => m.name === "0002_fk");
  return { findings: result.diagnostics.map((d) => d.rule), atomic: migration?.atomic, inputs: result.inputs ?? [] };
}

describe("atomic inherited from the Migration class's base", () => {
  it("from a class of a module of the project (Sentry's CheckedMigration), through its bases there", async () => {
    const direct = await check(concurrentIndex("from tracker.new_migrations.migrations import CheckedMigration", "class Migration(CheckedMigration):"));
    expect(direct).toMatchObject({ findings: [], atomic: false });
    expect(direct.inputs.some((file) => file.endsWith(path.join("tracker", "new_migrations", "migrations.py")))).toBe(true);
    const dotted = await check(concurrentIndex("import tracker.new_migrations.migrations", "class Migration(tracker.new_migrations.migrations.StrictMigration):"));
    expect(dotted).toMatchObject({ findings: [], atomic: false });
  });

  it("from a class of the migration's own file", async () => {
    const header = "class NonAtomic(migrations.Migration):\n    atomic = False\n\n\nclass Migration(NonAtomic):";
    expect(await check(concurrentIndex("", header), false)).toMatchObject({ findings: [], atomic: false });
  });

  it("is overridden by the class's own atomic, and is Django's default when no base sets it", async () => {
    const own = await check(concurrentIndex("from tracker.new_migrations.migrations import CheckedMigration", "class Migration(CheckedMigration):", "    atomic = True\n"));
    expect(own).toMatchObject({ findings: ["runsql-concurrently-in-atomic-migration"], atomic: true });
    const plain = await check(concurrentIndex("from tracker.new_migrations.migrations import PlainMigration", "class Migration(PlainMigration):"));
    expect(plain).toMatchObject({ findings: ["runsql-concurrently-in-atomic-migration"], atomic: true });
    // A base rollsafe cannot find (a package outside the project) keeps the default.
    const missing = await check(concurrentIndex("from elsewhere.migrations import CheckedMigration", "class Migration(CheckedMigration):"), false);
    expect(missing).toMatchObject({ findings: ["runsql-concurrently-in-atomic-migration"], atomic: true });
  });
});
