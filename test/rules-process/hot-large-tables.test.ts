/**
 * The table-list rules under targets the fixtures do not vary: advice with and without runner
 * timeouts, the project's marker style, the rules staying silent without configuration, and the
 * docs renderers showing `docs.config`.
 */
import { cpSync, mkdtempSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { lint } from "../../src/index.js";
import type { Target } from "../../src/engine/rule-types.js";
import { rules } from "../../rules/index.js";
import { explainRule, ruleMarkdown } from "../../src/explain.js";
import { FIXTURES } from "../support/fixture-cases.js";

function project(files: Record<string, string>): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), "rollsafe-tables-"));
  cpSync(path.join(FIXTURES, "docs-setup"), dir, { recursive: true });
  for (const [name, body] of Object.entries(files)) writeFileSync(path.join(dir, "library/migrations", name), body);
  return dir;
}

const migration = (ops: string[], extra = "") =>
  `from django.db import migrations, models\n\n\nclass Migration(migrations.Migration):\n${extra}    dependencies = [("library", "0001_initial")]\n    operations = [\n${ops.map((o) => `        ${o},`).join("\n")}\n    ]\n`;

const ADD_ISBN = 'migrations.AddField("book", "isbn", models.CharField(max_length=20, null=True))';
const SET_TIMEOUT = "migrations.RunSQL(\"SET LOCAL lock_timeout = '3s'\", reverse_sql=migrations.RunSQL.noop)";
const INDEX_PAGES = 'migrations.AddIndex("book", models.Index(fields=["pages"], name="library_book_pages_idx"))';

const HOT = "altering-hot-table";
const LARGE = "running-slow-operation-on-large-table-before-deploy";

async function findings(files: Record<string, string>, target: Partial<Target>, rule: string) {
  const dir = project(files);
  const result = await lint([dir], { cwd: dir, target });
  return result.diagnostics.filter((d) => d.rule === rule);
}

const tables = (hot: string[], large: string[] = []): Target["tables"] => ({ partitioned: [], hot, large });

describe("altering-hot-table", () => {
  it("says nothing without hot-tables", async () => {
    expect(await findings({ "0002_isbn.py": migration([ADD_ISBN]) }, {}, HOT)).toEqual([]);
  });

  it("advises an extension model with the real names, and a lock_timeout when nothing sets one", async () => {
    const [d] = await findings({ "0002_isbn.py": migration([ADD_ISBN]) }, { tables: tables(["library.Book"]) }, HOT);
    expect(d?.message).toBe(
      "`AddField` takes ACCESS EXCLUSIVE on hot table `library_book`: while the request waits for running queries, every query of the table (reads included) queues behind it.",
    );
    const help = d!.help.join("\n");
    expect(help).toContain('name="BookExtension"');
    expect(help).toContain('("isbn", models.CharField(max_length=20, null=True))');
    expect(help).toContain("SET LOCAL lock_timeout = '2s'");
  });

  it("does not suggest setting lock_timeout when the runner sets it", async () => {
    const [d] = await findings({ "0002_isbn.py": migration([ADD_ISBN]) }, { tables: tables(["library.Book"]), timeoutsSetByRunner: true }, HOT);
    const help = d!.help.join("\n");
    expect(help).not.toContain("SET LOCAL lock_timeout");
    expect(help).toContain("the runner's `lock_timeout` bounds the wait");
  });

  it("does not suggest setting lock_timeout when the migration already sets it", async () => {
    const [d] = await findings({ "0002_isbn.py": migration([SET_TIMEOUT, ADD_ISBN]) }, { tables: tables(["library.Book"]) }, HOT);
    const help = d!.help.join("\n");
    expect(help).not.toContain("SET LOCAL lock_timeout = '2s'");
    expect(help).toContain("the `lock_timeout` this migration sets bounds the wait");
  });

  it("reads the lock_timeout as it is at each operation, inside SeparateDatabaseAndState too", async () => {
    // Worked out once per migration (a walk per operation made thousands of them quadratic).
    const field = (name: string) => `migrations.AddField("book", "${name}", models.IntegerField(null=True))`;
    const separate = `migrations.SeparateDatabaseAndState(database_operations=[${field("edition")}, ${SET_TIMEOUT}, ${field("volume")}], state_operations=[${field("edition")}, ${field("volume")}])`;
    const found = await findings({ "0002_isbn.py": migration([ADD_ISBN, separate, field("series")]) }, { tables: tables(["library.Book"]) }, HOT);
    const bounded = (d: (typeof found)[number]) => d.help.join("\n").includes("the `lock_timeout` this migration sets bounds the wait");
    // isbn, then edition and volume on the SeparateDatabaseAndState's line (the timeout between them), then series.
    const first = found[0]?.line ?? 0;
    expect(found.map((d) => [d.line - first, bounded(d)])).toEqual([
      [0, false],
      [1, false],
      [1, true],
      [2, true],
    ]);
    expect(found[1]!.column).toBeLessThan(found[2]!.column);
  });

  it("reports a foreign key to settings.AUTH_USER_MODEL when auth.User is hot, and advises db_constraint=False", async () => {
    const op = 'migrations.AddField("book", "owner", models.ForeignKey(null=True, on_delete=models.SET_NULL, to=settings.AUTH_USER_MODEL))';
    const body = `from django.conf import settings\n${migration([op])}`;
    const [d] = await findings({ "0002_owner.py": body }, { tables: tables(["auth.User"]) }, HOT);
    expect(d?.message).toContain("SHARE ROW EXCLUSIVE on hot table `auth_user`");
    expect(d!.help.join("\n")).toContain("`db_constraint=False`");
  });

  it("finds the table of a RunSQL DROP INDEX or REINDEX INDEX through the index the state puts on it", async () => {
    const indexed = `from django.db import migrations, models\n\n\nclass Migration(migrations.Migration):\n    dependencies = [("library", "0002_index")]\n    operations = [\n        migrations.SeparateDatabaseAndState(\n            state_operations=[migrations.RemoveIndex("book", "library_book_pages_idx")],\n            database_operations=[migrations.RunSQL('DROP INDEX "library_book_pages_idx"', reverse_sql=migrations.RunSQL.noop)],\n        ),\n        migrations.RunSQL("REINDEX INDEX library_book_title_idx", reverse_sql=migrations.RunSQL.noop),\n    ]\n`;
    const files = {
      "0002_index.py": migration([INDEX_PAGES, 'migrations.AddIndex("book", models.Index(fields=["title"], name="library_book_title_idx"))']),
      "0003_drop.py": indexed,
    };
    const found = (await findings(files, { tables: tables(["library.Book"]) }, HOT)).filter((d) => d.file.endsWith("0003_drop.py"));
    expect(found.map((d) => d.message)).toEqual([
      "`RunSQL` `DROP INDEX library_book_pages_idx` takes ACCESS EXCLUSIVE on hot table `library_book`: while the request waits for running queries, every query of the table (reads included) queues behind it.",
      "`RunSQL` `REINDEX INDEX library_book_title_idx` takes SHARE on hot table `library_book`: while the request waits for running queries, every INSERT, UPDATE and DELETE on the table queues behind it.",
    ]);
    // Concurrent forms and indexes the state does not know take no lock worth reporting, or none it can place.
    const quiet = indexed.replace('DROP INDEX "library_book_pages_idx"', 'DROP INDEX CONCURRENTLY "library_book_pages_idx"').replace("REINDEX INDEX library_book_title_idx", "REINDEX INDEX unknown_idx");
    expect((await findings({ ...files, "0003_drop.py": quiet }, { tables: tables(["library.Book"]) }, HOT)).filter((d) => d.file.endsWith("0003_drop.py"))).toEqual([]);
  });

  it("places RenameModel's foreign-key rebuilds on the tables that point at the model", async () => {
    const files = {
      "0002_shelf.py": migration([
        'migrations.CreateModel("Shelf", [("id", models.BigAutoField(primary_key=True))])',
        'migrations.AddField("book", "shelf", models.ForeignKey(null=True, on_delete=models.SET_NULL, to="library.shelf"))',
      ]),
      "0003_rename.py": migration(['migrations.AlterModelTable("shelf", "library_shelf")', 'migrations.RenameModel("Shelf", "Rack")']).replace('"0001_initial"', '"0002_shelf"'),
    };
    const found = (await findings(files, { tables: tables(["library.Book"]) }, HOT)).filter((d) => d.file.endsWith("0003_rename.py"));
    expect(found.map((d) => d.message)).toEqual([
      // DROP CONSTRAINT takes ACCESS EXCLUSIVE on both tables (pg_locks on PostgreSQL 15).
      "`RenameModel` takes ACCESS EXCLUSIVE on hot table `library_book`: while the request waits for running queries, every query of the table (reads included) queues behind it.",
    ]);
    const unconstrained = { ...files, "0002_shelf.py": files["0002_shelf.py"].replace("to=\"library.shelf\")", "to=\"library.shelf\", db_constraint=False)") };
    expect((await findings(unconstrained, { tables: tables(["library.Book"]) }, HOT)).filter((d) => d.file.endsWith("0003_rename.py"))).toEqual([]);
  });

  it("is PostgreSQL-only", async () => {
    expect(await findings({ "0002_isbn.py": migration([ADD_ISBN]) }, { tables: tables(["library.Book"]), database: "mysql" }, HOT)).toEqual([]);
  });
});

describe("running-slow-operation-on-large-table-before-deploy", () => {
  it("says nothing without large-tables", async () => {
    expect(await findings({ "0002_idx.py": migration([INDEX_PAGES]) }, {}, LARGE)).toEqual([]);
  });

  it("advises the project's own post-deploy marker", async () => {
    const [d] = await findings({ "0002_idx.py": migration([INDEX_PAGES]) }, { tables: tables([], ["library.Book"]), markerStyle: "sentry" }, LARGE);
    expect(d?.message).toBe("`AddIndex` builds index `library_book_pages_idx` on large table `library_book` in `0002_idx`, which runs before the deploy.");
    expect(d!.help[1]).toContain("is_post_deployment = True");
  });

  it("moves only the slow operation when the migration holds others", async () => {
    const [d] = await findings({ "0002_idx.py": migration([ADD_ISBN, INDEX_PAGES]) }, { tables: tables([], ["library_book"]), markerStyle: "syzygy" }, LARGE);
    expect(d!.help[1]).toContain("the rest of `0002_idx` stays pre-deploy");
    expect(d!.help[1]).toContain("stage = Stage.POST_DEPLOY");
    expect(d!.help[1]).toContain('dependencies = [("library", "0002_idx")]');
  });

  it("says nothing in a post-deploy migration", async () => {
    const files = { "0002_idx.py": migration([INDEX_PAGES], "    is_post_deployment = True\n") };
    expect(await findings(files, { tables: tables([], ["library.Book"]) }, LARGE)).toEqual([]);
  });
});

describe("docs.config", () => {
  const meta = rules.find((r) => r.meta.name === HOT)!.meta;
  const plain = rules.find((r) => r.meta.name === "dropping-column")!.meta;

  it("is shown before the examples, and only for rules that have it", () => {
    const page = ruleMarkdown(meta);
    expect(page).toContain('## With this configuration\n\nThe examples assume this `rollsafe.toml`:\n\n```toml\nhot-tables = ["library.Book"]\n```\n\n## Example');
    expect(explainRule(meta)).toContain('With this configuration (rollsafe.toml)\n    hot-tables = ["library.Book"]\n\nFlagged');
    expect(ruleMarkdown(plain)).not.toContain("With this configuration");
    expect(explainRule(plain)).not.toContain("With this configuration");
  });
});
