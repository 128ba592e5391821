/**
 * Partitioned tables: what rollsafe learns from `RunSQL` (and the configuration), and the
 * per-partition recipe the index rules give instead of CONCURRENTLY on the parent, which
 * PostgreSQL 15 refuses ("cannot create index on partitioned table ... concurrently").
 */
import { cpSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { lint } from "../../src/index.js";
import { createIndexDefinition } from "../../src/engine/partitioned-tables.js";
import { partitionIndexName } from "../../src/advice/snippets.js";
import { RULE_FIXTURES } from "../support/fixture-cases.js";

const RS212 = "adding-index-concurrently-on-partitioned-table";
const RS201 = "adding-index-non-concurrently";
const RS607 = "runsql-adding-index-non-concurrently";
const RS215 = "removing-index-concurrently-on-partitioned-table";
const RS208 = "removing-index-non-concurrently";

const temporary: string[] = [];
afterAll(() => {
  for (const dir of temporary) rmSync(dir, { recursive: true, force: true });
});

function caseDir(rule: string, kind: "bad" | "good", name: string): string {
  return path.join(RULE_FIXTURES, rule, kind, name);
}

/** A copy of RS212's `created-by-runsql-with-state` case (library_event partitioned, partitions 2024 and 2025) with `files` added. */
function eventProject(files: Record<string, string>): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), "rollsafe-partitioned-"));
  temporary.push(dir);
  cpSync(caseDir(RS212, "bad", "created-by-runsql-with-state"), dir, { recursive: true });
  rmSync(path.join(dir, "library/migrations/0003_event_kind_idx.py"));
  for (const [name, source] of Object.entries(files)) writeFileSync(path.join(dir, "library/migrations", name), source);
  return dir;
}

function migration(operations: string, options: { atomic?: boolean; after?: string } = {}): string {
  return [
    "from django.contrib.postgres.operations import AddIndexConcurrently",
    "from django.db import migrations, models",
    "",
    "",
    "class Migration(migrations.Migration):",
    options.atomic === false ? "    atomic = False\n" : "",
    `    dependencies = [("library", "${options.after ?? "0002_event"}")]`,
    "",
    "    operations = [",
    operations,
    "    ]",
    "",
  ].join("\n");
}

/** The target with `partitioned-tables` set (`lint()` takes options, not the case's rollsafe.toml). */
function partitioned(...tables: string[]) {
  return { target: { tables: { partitioned: tables, hot: [], large: [] } } };
}

async function diagnostics(dir: string, options: Parameters<typeof lint>[1] = {}) {
  return (await lint([dir], { cwd: dir, ...options })).diagnostics;
}

describe("adding-index-concurrently-on-partitioned-table advice", () => {
  it("gives the per-partition recipe with the real parent, partition and index names", async () => {
    const found = (await diagnostics(caseDir(RS212, "bad", "created-by-runsql-with-state"))).filter((d) => d.rule === RS212);
    expect(found).toHaveLength(1);
    const [d] = found;
    expect(d?.message).toContain("`event_kind_idx` on `library_event`");
    const help = d?.help.join("\n") ?? "";
    expect(help).toContain('cannot create index on partitioned table "library_event" concurrently');
    expect(help).toContain(`'CREATE INDEX IF NOT EXISTS "event_kind_idx" ON ONLY "library_event" ("kind")'`);
    expect(help).toContain(`reverse_sql='DROP INDEX IF EXISTS "event_kind_idx"'`);
    for (const partition of ["library_event_2024", "library_event_2025"]) {
      expect(help).toContain(`'CREATE INDEX CONCURRENTLY IF NOT EXISTS "${partition}_event_kind_idx" ON "${partition}" ("kind")'`);
      expect(help).toContain(`'ALTER INDEX "event_kind_idx" ATTACH PARTITION "${partition}_event_kind_idx"'`);
    }
    expect(help).toContain("migrations.AddIndex(");
    expect(help).toContain("atomic = False");
    expect(help).not.toContain("<partition>");
    expect(d?.related?.[0]).toMatchObject({ file: "library/migrations/0002_event.py", line: 24 });
  });

  it("uses `<partition>` placeholders when the configuration says the table is partitioned", async () => {
    const [d] = (await diagnostics(caseDir(RS212, "bad", "config-listed-model"), partitioned("library.Book"))).filter((x) => x.rule === RS212);
    const help = d?.help.join("\n") ?? "";
    expect(help).toContain("`partitioned-tables` as `library.Book`");
    expect(help).toContain(`ON ONLY "library_book" ("pages")`);
    expect(help).toContain(`'CREATE INDEX CONCURRENTLY IF NOT EXISTS "<partition>_book_pages_idx" ON <partition> ("pages")'`);
    expect(help).toContain("inhparent = 'library_book'::regclass");
  });

  it("keeps the RunSQL index definition (method, WHERE) for every partition", async () => {
    const [d] = (await diagnostics(caseDir(RS212, "bad", "runsql-on-runsql-table"))).filter((x) => x.rule === RS212);
    const help = d?.help.join("\n") ?? "";
    expect(help).toContain(`ON ONLY "audit_log" USING btree (actor) WHERE actor IS NOT NULL`);
  });

  it("knows a table partitioned in a migration that is not reported (start-after baseline)", async () => {
    const dir = eventProject({
      "0003_event_kind_idx.py": migration('        AddIndexConcurrently(model_name="event", index=models.Index(fields=["kind"], name="event_kind_idx")),', { atomic: false }),
    });
    const found = await diagnostics(dir, { startAfter: { library: "0002_event" } });
    expect(found.map((d) => d.rule)).toEqual([RS212]);
  });

  it("follows renames and drops of the partitioned table, and partitions added by ATTACH PARTITION", async () => {
    const dir = eventProject({
      "0003_reshape.py": migration(
        [
          "        migrations.RunSQL(",
          "            sql=[",
          '                "CREATE TABLE library_event_old (id bigint NOT NULL, created date NOT NULL, kind varchar(20) NOT NULL)",',
          "                \"ALTER TABLE library_event ATTACH PARTITION library_event_old FOR VALUES FROM ('2000-01-01') TO ('2024-01-01')\",",
          '                "ALTER TABLE library_event DETACH PARTITION library_event_2024",',
          '                "ALTER TABLE library_event RENAME TO library_events",',
          "            ],",
          "            reverse_sql=migrations.RunSQL.noop,",
          "        ),",
          '        migrations.AlterModelTable(name="event", table="library_events"),',
        ].join("\n"),
      ),
      "0004_event_kind_idx.py": migration('        AddIndexConcurrently(model_name="event", index=models.Index(fields=["kind"], name="event_kind_idx")),', {
        atomic: false,
        after: "0003_reshape",
      }),
    });
    const found = (await diagnostics(dir)).filter((d) => d.rule === RS212);
    expect(found).toHaveLength(1);
    const help = found[0]?.help.join("\n") ?? "";
    expect(help).toContain(`ON ONLY "library_events"`);
    expect(help).toContain(`ON "library_event_old"`);
    expect(help).toContain(`ON "library_event_2025"`);
    expect(help).not.toContain(`ON "library_event_2024"`);
  });

  it("each operation of one migration sees the partitions as they are just before it, nested ones included", async () => {
    // The partitions are read incrementally, operation by operation (a migration of thousands of
    // indexes was quadratic): statements and schema editor renames between the operations count.
    const dir = eventProject({
      "0003_reshape.py": migration(
        [
          '        AddIndexConcurrently(model_name="event", index=models.Index(fields=["kind"], name="event_a_idx")),',
          "        migrations.RunSQL(",
          "            sql=[",
          '                "CREATE TABLE library_event_old (id bigint NOT NULL, created date NOT NULL, kind varchar(20) NOT NULL)",',
          "                \"ALTER TABLE library_event ATTACH PARTITION library_event_old FOR VALUES FROM ('2000-01-01') TO ('2024-01-01')\",",
          '                "CREATE INDEX CONCURRENTLY event_b_idx ON library_event (kind)",',
          '                "ALTER TABLE library_event DETACH PARTITION library_event_2024",',
          "            ],",
          "            reverse_sql=migrations.RunSQL.noop,",
          "        ),",
          '        migrations.AlterModelTable(name="event", table="library_events"),',
          '        AddIndexConcurrently(model_name="event", index=models.Index(fields=["kind"], name="event_c_idx")),',
          "        migrations.SeparateDatabaseAndState(",
          '            database_operations=[AddIndexConcurrently(model_name="event", index=models.Index(fields=["created"], name="event_d_idx"))],',
          "        ),",
        ].join("\n"),
        { atomic: false },
      ),
    });
    const found = (await diagnostics(dir)).filter((d) => d.rule === RS212);
    const byIndex = new Map(found.map((d) => [/event_[a-d]_idx/.exec(d.message)?.[0], d.help.join("\n")] as const));
    expect([...byIndex.keys()].sort()).toEqual(["event_a_idx", "event_b_idx", "event_c_idx", "event_d_idx"]);
    const partitionsIn = (help: string) => [...new Set([...help.matchAll(/\bON "(library_event_\w+)"/g)].map((m) => m[1]))].sort();
    expect(partitionsIn(byIndex.get("event_a_idx") ?? "")).toEqual(["library_event_2024", "library_event_2025", "library_event_default"]);
    expect(partitionsIn(byIndex.get("event_b_idx") ?? "")).toEqual(["library_event_2024", "library_event_2025", "library_event_default", "library_event_old"]);
    for (const name of ["event_c_idx", "event_d_idx"]) {
      const help = byIndex.get(name) ?? "";
      expect(help).toContain('ON ONLY "library_events"');
      expect(partitionsIn(help)).toEqual(["library_event_2025", "library_event_default", "library_event_old"]);
    }
  });

  it("does not apply to MySQL or SQLite", async () => {
    for (const database of ["mysql", "sqlite"] as const) {
      const found = await diagnostics(caseDir(RS212, "bad", "created-by-runsql-with-state"), { target: { database } });
      expect(found.filter((d) => d.rule === RS212)).toEqual([]);
    }
  });
});

describe("index rules on a partitioned table advise the per-partition recipe", () => {
  it("adding-index-non-concurrently: real partition names, no AddIndexConcurrently and no fix", async () => {
    const found = (await diagnostics(caseDir(RS201, "bad", "partitioned-by-runsql"))).filter((d) => d.rule === RS201);
    expect(found).toHaveLength(1);
    const [d] = found;
    const help = d?.help.join("\n") ?? "";
    expect(help).toContain("`library_event` is partitioned");
    expect(help).toContain(`ON ONLY "library_event" ("kind")`);
    expect(help).toContain(`'CREATE INDEX CONCURRENTLY IF NOT EXISTS "library_event_0_event_kind_idx" ON "library_event_0" ("kind")'`);
    expect(help).toContain(`'ALTER INDEX "event_kind_idx" ATTACH PARTITION "library_event_1_event_kind_idx"'`);
    expect(help).not.toContain("AddIndexConcurrently(");
    expect(d?.fix).toBeUndefined();
  });

  it("adding-index-non-concurrently: an ordinary table still gets AddIndexConcurrently and its fix", async () => {
    const [d] = (await diagnostics(caseDir(RS201, "bad", "partitioned-config-listed"), partitioned())).filter(
      (x) => x.rule === RS201,
    );
    expect(d?.help.join("\n")).toContain("AddIndexConcurrently(");
    expect(d?.fix).toBeDefined();
  });

  it("adding-index-non-concurrently: db_index builds both of Django's indexes per partition", async () => {
    const found = (await diagnostics(caseDir(RS201, "bad", "partitioned-config-listed"), partitioned("library_book"))).filter((d) => d.rule === RS201);
    const help = found.find((d) => d.message.includes("Book.subtitle"))?.help.join("\n") ?? "";
    expect(help).toContain(`ON ONLY "library_book" ("subtitle")`);
    expect(help).toContain(`ON ONLY "library_book" ("subtitle" varchar_pattern_ops)`);
    expect(help).toContain(`ATTACH PARTITION "<partition>_library_book_subtitle_88a5a8a7_like"`);
    expect(help).not.toContain(`CONCURRENTLY IF NOT EXISTS "library_book_subtitle_88a5a8a7" ON "library_book"`);
  });

  it("runsql-adding-index-non-concurrently: the statement's own definition, per partition", async () => {
    const dir = eventProject({
      "0003_event_kind_idx.py": migration(
        [
          "        migrations.RunSQL(",
          "            \"CREATE INDEX library_event_kind_idx ON library_event USING btree (kind) WHERE kind <> ''\",",
          '            reverse_sql="DROP INDEX library_event_kind_idx",',
          "        ),",
        ].join("\n"),
      ),
    });
    const found = (await diagnostics(dir)).filter((d) => d.rule === RS607);
    expect(found).toHaveLength(1);
    const help = found[0]?.help.join("\n") ?? "";
    expect(help).toContain("PostgreSQL refuses CONCURRENTLY there");
    // Python string literals in the snippet: the SQL's double quotes are escaped.
    expect(help).toContain(String.raw`ON ONLY \"library_event\" USING btree (kind) WHERE kind <> ''`);
    expect(help).toContain(String.raw`\"library_event_2025_library_event_kind_idx\" ON \"library_event_2025\" USING btree (kind) WHERE kind <> ''`);
    expect(help).not.toContain(`CREATE INDEX CONCURRENTLY library_event_kind_idx ON library_event`);
  });
});

/** RS215's `created-by-runsql` case (library_event partitioned, event_kind_idx attached per partition) with its 0004 replaced. */
function droppingProject(source: string): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), "rollsafe-partitioned-drop-"));
  temporary.push(dir);
  cpSync(caseDir(RS215, "bad", "created-by-runsql"), dir, { recursive: true });
  writeFileSync(path.join(dir, "library/migrations/0004_remove_event_kind_idx.py"), source);
  return dir;
}

function dropMigration(operations: string, atomic: boolean): string {
  return [
    "from django.contrib.postgres.operations import RemoveIndexConcurrently",
    "from django.db import migrations, models",
    "",
    "",
    "class Migration(migrations.Migration):",
    atomic ? "" : "    atomic = False\n",
    '    dependencies = [("library", "0003_event_kind_idx")]',
    "",
    "    operations = [",
    operations,
    "    ]",
    "",
  ].join("\n");
}

describe("dropping an index of a partitioned table", () => {
  it("RemoveIndexConcurrently: says PostgreSQL refuses it and gives the bounded plain drop with the real names", async () => {
    const found = (await diagnostics(caseDir(RS215, "bad", "created-by-runsql"))).filter((d) => d.rule === RS215);
    expect(found).toHaveLength(1);
    const [d] = found;
    // Imported under an alias and called with positional arguments: named as Django names it.
    expect(d?.message).toContain("`RemoveIndexConcurrently` cannot drop `event_kind_idx` from `library_event`");
    const help = d?.help.join("\n") ?? "";
    expect(help).toContain('cannot drop partitioned index "event_kind_idx" concurrently');
    expect(help).toContain("a `RunSQL` in `library.0002_event` created it partitioned");
    expect(help).toContain(`migrations.RunSQL("SET LOCAL lock_timeout = '5s'", migrations.RunSQL.noop),`);
    expect(help).toContain('migrations.RemoveIndex(model_name="event", name="event_kind_idx"),');
    // The replacement runs in a transaction, so SET LOCAL holds for it.
    expect(help).not.toContain("atomic = False  #");
    expect(d?.related?.[0]?.file).toBe("library/migrations/0002_event.py");
  });

  it("reads the table through db_table and the configuration, and the operation through its import path", async () => {
    const found = (await diagnostics(caseDir(RS215, "bad", "config-listed-third-party"), partitioned("library.Book"))).filter((d) => d.rule === RS215);
    expect(found.map((d) => d.message)).toEqual([
      "`SaferRemoveIndexConcurrently` cannot drop `book_title_idx` from `catalog_books`: the table is partitioned, and PostgreSQL refuses `DROP INDEX CONCURRENTLY` on a partitioned index, so the migration fails.",
      "`SafeRemoveIndexConcurrently` cannot drop `book_pages_idx` from `catalog_books`: the table is partitioned, and PostgreSQL refuses `DROP INDEX CONCURRENTLY` on a partitioned index, so the migration fails.",
    ]);
    expect(found[0]?.help.join("\n")).toContain("the configuration lists it in `partitioned-tables` as `library.Book`");
    // Listing the table by name works as well; another table listed does not make this one partitioned.
    expect((await diagnostics(caseDir(RS215, "bad", "config-listed-third-party"), partitioned("catalog_books"))).filter((d) => d.rule === RS215)).toHaveLength(2);
    expect((await diagnostics(caseDir(RS215, "bad", "config-listed-third-party"), partitioned("library_book"))).filter((d) => d.rule === RS215)).toHaveLength(0);
  });

  it("RunSQL DROP INDEX CONCURRENTLY: keeps the state side and drops without CONCURRENTLY", async () => {
    const found = (await diagnostics(caseDir(RS215, "bad", "runsql-drop-index-concurrently"))).filter((d) => d.rule === RS215);
    expect(found).toHaveLength(1);
    const help = found[0]?.help.join("\n") ?? "";
    expect(help).toContain("'DROP INDEX IF EXISTS \"event_kind_idx\"'");
    expect(help).toContain("state_operations=[");
    expect(help).toContain('name="event_kind_idx",');
    expect(help).not.toContain("'DROP INDEX CONCURRENTLY");
  });

  it("an unquoted, schema-qualified or differently written name resolves the same; other schemas and unknown indexes do not", async () => {
    const drop = (sql: string) => dropMigration(`        migrations.RunSQL(${JSON.stringify(sql)}, reverse_sql=migrations.RunSQL.noop),`, false);
    for (const sql of ["DROP INDEX CONCURRENTLY event_kind_idx", "drop index concurrently if exists public.EVENT_KIND_IDX"]) {
      expect((await diagnostics(droppingProject(drop(sql)))).filter((d) => d.rule === RS215), sql).toHaveLength(1);
    }
    for (const sql of ["DROP INDEX CONCURRENTLY audit.event_kind_idx", "DROP INDEX CONCURRENTLY library_event_2024_event_kind_idx", "DROP INDEX event_kind_idx"]) {
      expect((await diagnostics(droppingProject(drop(sql)))).filter((d) => d.rule === RS215), sql).toHaveLength(0);
    }
  });

  it("is not reported for a state-only removal or on another database", async () => {
    const stateOnly = dropMigration(
      [
        "        migrations.SeparateDatabaseAndState(",
        '            state_operations=[RemoveIndexConcurrently(model_name="event", name="event_kind_idx")],',
        "        ),",
      ].join("\n"),
      false,
    );
    expect((await diagnostics(droppingProject(stateOnly))).filter((d) => d.rule === RS215)).toHaveLength(0);
    const dir = caseDir(RS215, "bad", "created-by-runsql");
    expect((await diagnostics(dir, { target: { database: "mysql", tables: { partitioned: [], hot: [], large: [] } } } as Parameters<typeof lint>[1])).filter((d) => d.rule === RS215)).toHaveLength(0);
  });

  it("removing-index-non-concurrently advises the bounded plain drop there, not RemoveIndexConcurrently", async () => {
    const found = (await diagnostics(caseDir(RS208, "bad", "partitioned-table"), partitioned("library.Book"))).filter((d) => d.rule === RS208);
    expect(found).toHaveLength(1);
    const help = found[0]?.help.join("\n") ?? "";
    expect(help).toContain("PostgreSQL refuses `DROP INDEX CONCURRENTLY` (and so `RemoveIndexConcurrently`) on a partitioned index");
    expect(help).toContain(`migrations.RunSQL("SET LOCAL lock_timeout = '5s'", migrations.RunSQL.noop),`);
    expect(help).not.toContain("import RemoveIndexConcurrently");
    // On an ordinary table the concurrent recipe stays.
    const ordinary = (await diagnostics(caseDir(RS208, "bad", "partitioned-table"))).filter((d) => d.rule === RS208);
    expect(ordinary[0]?.help.join("\n")).toContain("import RemoveIndexConcurrently");
  });

  it("altering-hot-table: no concurrent recipe for a hot table that is partitioned", async () => {
    const hotAndPartitioned = { target: { tables: { partitioned: ["library.Book"], hot: ["library.Book"], large: [] } } };
    const dir = caseDir(RS208, "bad", "partitioned-table");
    const hot = (await diagnostics(dir, hotAndPartitioned)).filter((d) => d.rule === "altering-hot-table");
    expect(hot).toHaveLength(1);
    const help = hot[0]?.help.join("\n") ?? "";
    expect(help).not.toContain("RemoveIndexConcurrently");
    expect(help).toContain("bound the wait");
    // Not partitioned: the concurrent drop is the first step.
    const ordinary = (await diagnostics(dir, { target: { tables: { partitioned: [], hot: ["library.Book"], large: [] } } })).filter((d) => d.rule === "altering-hot-table");
    expect(ordinary[0]?.help.join("\n")).toContain("Drop the index with `RemoveIndexConcurrently`");
    // An index built on it: partition by partition, not AddIndexConcurrently.
    const adding = droppingProject(
      dropMigration('        migrations.AddIndex(model_name="event", index=models.Index(fields=["created"], name="event_created_idx")),', true),
    );
    const built = (await diagnostics(adding, { target: { tables: { partitioned: [], hot: ["library_event"], large: [] } } })).filter((d) => d.rule === "altering-hot-table");
    expect(built).toHaveLength(1);
    expect(built[0]?.help.join("\n")).toContain("`library_event` is partitioned, and PostgreSQL refuses `CREATE INDEX CONCURRENTLY` on it");
    expect(built[0]?.help.join("\n")).not.toContain("AddIndexConcurrently");
  });

  it("removing-index-non-concurrently is quiet once a lock_timeout bounds the drop, and only then", async () => {
    const plain = (operations: string, atomic: boolean) => dropMigration(operations, atomic);
    const remove = '        migrations.RemoveIndex(model_name="event", name="event_kind_idx"),';
    const timeout = (statement: string) => `        migrations.RunSQL(${JSON.stringify(statement)}, migrations.RunSQL.noop),`;
    const rs208 = async (source: string, options: Parameters<typeof lint>[1] = {}) => (await diagnostics(droppingProject(source), options)).filter((d) => d.rule === RS208).length;
    expect(await rs208(plain(remove, true))).toBe(1);
    expect(await rs208(plain(`${timeout("SET LOCAL lock_timeout = '5s'")}\n${remove}`, true))).toBe(0);
    // SET LOCAL outside a transaction does nothing; a session SET does; a zero timeout is none.
    expect(await rs208(plain(`${timeout("SET LOCAL lock_timeout = '5s'")}\n${remove}`, false))).toBe(1);
    expect(await rs208(plain(`${timeout("SET lock_timeout = '5s'")}\n${remove}`, false))).toBe(0);
    expect(await rs208(plain(`${timeout("SET LOCAL lock_timeout = 0")}\n${remove}`, true))).toBe(1);
    // Set after the drop: too late.
    expect(await rs208(plain(`${remove}\n${timeout("SET LOCAL lock_timeout = '5s'")}`, true))).toBe(1);
  });

  it("removing-index-non-concurrently on an ordinary table: a unique constraint drop is quiet under a lock_timeout, an index drop still gets the concurrent recipe", async () => {
    const stateOnly = (operation: string) => `        migrations.SeparateDatabaseAndState(state_operations=[${operation}]),`;
    const setup = [
      stateOnly('migrations.AddConstraint(model_name="book", constraint=models.UniqueConstraint(fields=["title"], name="book_title_uniq"))'),
      stateOnly('migrations.AlterUniqueTogether(name="book", unique_together={("title", "pages")})'),
      stateOnly('migrations.AddIndex(model_name="book", index=models.Index(fields=["pages"], name="book_pages_idx"))'),
    ].join("\n");
    const drops = [
      '        migrations.RemoveConstraint(model_name="book", name="book_title_uniq"),',
      '        migrations.AlterUniqueTogether(name="book", unique_together=set()),',
      '        migrations.RemoveIndex(model_name="book", name="book_pages_idx"),',
    ].join("\n");
    const timeout = `        migrations.RunSQL("SET LOCAL lock_timeout = '5s'", migrations.RunSQL.noop),`;
    const rs208 = async (operations: string) => (await diagnostics(droppingProject(dropMigration(operations, true)))).filter((d) => d.rule === RS208).map((d) => d.message);
    expect(await rs208(`${setup}\n${drops}`)).toHaveLength(3);
    const bounded = await rs208(`${setup}\n${timeout}\n${drops}`);
    expect(bounded).toHaveLength(1);
    expect(bounded[0]).toContain("`book_pages_idx`");
  });
});

describe("adding-unique-constraint on a partitioned table", () => {
  const RS202 = "adding-unique-constraint";
  const unique = (operations: string) => dropMigration(operations, true);

  it("builds each partition's unique constraint concurrently, then the parent's, which adopts them (PostgreSQL 15 refuses CONCURRENTLY and USING INDEX on the parent)", async () => {
    const dir = droppingProject(
      unique('        migrations.AddConstraint(model_name="event", constraint=models.UniqueConstraint(fields=["kind", "created"], name="event_kind_created_uniq")),'),
    );
    const found = (await diagnostics(dir)).filter((d) => d.rule === RS202);
    expect(found).toHaveLength(1);
    const help = found[0]?.help.join("\n") ?? "";
    expect(help).toContain("PostgreSQL refuses `CREATE INDEX CONCURRENTLY` and `ADD CONSTRAINT ... USING INDEX` on a partitioned table");
    expect(help).toContain("include every partitioning column");
    for (const partition of ["library_event_2024", "library_event_2025"]) {
      expect(help).toContain(`'CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS "${partition}_event_kind_created_uniq" ON "${partition}" ("kind", "created")'`);
      expect(help).toContain(`'ALTER TABLE "${partition}" ADD CONSTRAINT "${partition}_event_kind_created_uniq" UNIQUE USING INDEX "${partition}_event_kind_created_uniq"'`);
    }
    expect(help).toContain(`'ALTER TABLE "library_event" ADD CONSTRAINT "event_kind_created_uniq" UNIQUE ("kind", "created")'`);
    expect(help).toContain(`reverse_sql='ALTER TABLE "library_event" DROP CONSTRAINT IF EXISTS "event_kind_created_uniq"'`);
    expect(help).not.toContain('ON "library_event" (');
    expect(help).not.toContain('UNIQUE USING INDEX "event_kind_created_uniq"');
    expect(found[0]?.related?.some((r) => r.file === "library/migrations/0002_event.py")).toBe(true);
  });

  it("a conditional unique constraint is a unique index: ON ONLY the parent, then per partition", async () => {
    const dir = droppingProject(
      unique(
        '        migrations.AddConstraint(model_name="event", constraint=models.UniqueConstraint(fields=["kind", "created"], condition=models.Q(id__gt=0), name="event_kind_created_uniq")),',
      ),
    );
    const help = (await diagnostics(dir)).find((d) => d.rule === RS202)?.help.join("\n") ?? "";
    expect(help).toContain(`CREATE UNIQUE INDEX IF NOT EXISTS "event_kind_created_uniq" ON ONLY "library_event"`);
    expect(help).toContain(`'ALTER INDEX "event_kind_created_uniq" ATTACH PARTITION "library_event_2025_event_kind_created_uniq"'`);
    expect(help).not.toContain("UNIQUE USING INDEX");
  });

  it("with the table listed in the configuration: <partition> placeholders; an ordinary table keeps USING INDEX", async () => {
    const dir = droppingProject(unique('        migrations.AlterUniqueTogether(name="author", unique_together={("name",)}),'));
    const asConfigured = (await diagnostics(dir, partitioned("library_author"))).find((d) => d.rule === RS202)?.help.join("\n") ?? "";
    expect(asConfigured).toContain("SELECT inhrelid::regclass FROM pg_inherits WHERE inhparent = 'library_author'::regclass");
    expect(asConfigured).toContain(`'ALTER TABLE <partition> ADD CONSTRAINT "<partition>_library_author_name_`);
    expect(asConfigured).toContain(`'ALTER TABLE "library_author" ADD CONSTRAINT "library_author_name_`);
    const ordinary = (await diagnostics(dir)).find((d) => d.rule === RS202)?.help.join("\n") ?? "";
    expect(ordinary).toContain('UNIQUE USING INDEX "library_author_name_');
    expect(ordinary).not.toContain("partition");
  });
});

describe("adding-foreign-key-constraint on a partitioned table", () => {
  const RS205 = "adding-foreign-key-constraint";
  const addAuthor = (field: string) =>
    dropMigration(
      [
        "        migrations.AddField(",
        '            model_name="event",',
        '            name="author",',
        `            field=${field},`,
        "        ),",
      ].join("\n"),
      true,
    );

  it("adds and validates the constraint per partition, then the parent's under a lock timeout (PostgreSQL 15 refuses NOT VALID on the parent)", async () => {
    const dir = droppingProject(addAuthor('models.ForeignKey(null=True, on_delete=models.CASCADE, to="library.author")'));
    const found = (await diagnostics(dir)).filter((d) => d.rule === RS205);
    expect(found).toHaveLength(1);
    const help = found[0]?.help.join("\n") ?? "";
    expect(help).toContain("PostgreSQL refuses a NOT VALID foreign key and CREATE INDEX CONCURRENTLY on a partitioned table");
    const fk = "library_event_author_id_b8f00a1e_fk_library_author_id";
    for (const partition of ["library_event_2024", "library_event_2025"]) {
      expect(help).toMatch(new RegExp(`'ALTER TABLE "${partition}" ADD CONSTRAINT "${partition}_[a-z0-9_]+" FOREIGN KEY \\("author_id"\\) REFERENCES "library_author" \\("id"\\) DEFERRABLE INITIALLY DEFERRED NOT VALID;'`));
      expect(help).toMatch(new RegExp(`'ALTER TABLE "${partition}" VALIDATE CONSTRAINT "${partition}_[a-z0-9_]+";'`));
      expect(help).toContain(`ON "${partition}" ("author_id")`);
    }
    expect(help).toContain(`'ALTER TABLE "library_event" ADD CONSTRAINT "${fk}" FOREIGN KEY ("author_id") REFERENCES "library_author" ("id") DEFERRABLE INITIALLY DEFERRED;'`);
    expect(help).toContain("briefly takes ACCESS EXCLUSIVE on `library_author`");
    expect(help).toContain(`migrations.RunSQL("SET LOCAL lock_timeout = '5s'", migrations.RunSQL.noop),`);
    expect(help).not.toContain('ALTER TABLE "library_event" ADD CONSTRAINT "library_event_author_id_b8f00a1e_fk_library_author_id" FOREIGN KEY ("author_id") REFERENCES "library_author" ("id") DEFERRABLE INITIALLY DEFERRED NOT VALID');
    expect(help).not.toContain('VALIDATE CONSTRAINT "library_event_author');
  });

  it("partition constraint names stay within 63 bytes and are distinct per partition", async () => {
    const dir = droppingProject(addAuthor('models.ForeignKey(null=True, on_delete=models.CASCADE, to="library.author")'));
    const help = (await diagnostics(dir)).find((d) => d.rule === RS205)?.help.join("\n") ?? "";
    const names = [...help.matchAll(/VALIDATE CONSTRAINT "([^"]+)"/g)].map((m) => m[1] ?? "");
    // One per partition: 2024, 2025 and the DEFAULT partition.
    expect(names).toHaveLength(3);
    expect(new Set(names).size).toBe(3);
    for (const name of names) expect(Buffer.byteLength(name)).toBeLessThanOrEqual(63);
  });

  it("a one-to-one field gets each partition's unique constraint, then the parent's; db_constraint turned on gets the per-partition steps", async () => {
    const o2o = droppingProject(addAuthor('models.OneToOneField(null=True, on_delete=models.CASCADE, to="library.author")'));
    const help = (await diagnostics(o2o)).find((d) => d.rule === RS205)?.help.join("\n") ?? "";
    expect(help).toContain(`UNIQUE USING INDEX "library_event_2024_`);
    expect(help).not.toContain(`ON "library_event" ("author_id")`);
    const enable = droppingProject(
      dropMigration(
        [
          '        migrations.AddField(model_name="event", name="author", field=models.ForeignKey(null=True, on_delete=models.CASCADE, to="library.author", db_constraint=False)),',
          '        migrations.AlterField(model_name="event", name="author", field=models.ForeignKey(null=True, on_delete=models.CASCADE, to="library.author")),',
        ].join("\n"),
        true,
      ),
    );
    const enabled = (await diagnostics(enable)).filter((d) => d.rule === RS205 && d.message.startsWith("Turning on"));
    expect(enabled).toHaveLength(1);
    const enableHelp = enabled[0]?.help.join("\n") ?? "";
    expect(enableHelp).toContain("Keep the change in state only, with no SQL yet");
    expect(enableHelp).toContain('VALIDATE CONSTRAINT "library_event_2025_');
  });

  it("an ordinary table keeps the single NOT VALID + VALIDATE recipe", async () => {
    const dir = droppingProject(
      dropMigration('        migrations.AddField(model_name="book", name="editor", field=models.ForeignKey(null=True, default=1, on_delete=models.CASCADE, to="library.author")),', true),
    );
    const help = (await diagnostics(dir)).find((d) => d.rule === RS205)?.help.join("\n") ?? "";
    expect(help).toContain("NOT VALID;");
    expect(help).toContain('VALIDATE CONSTRAINT "library_book_editor_id_');
    expect(help).not.toContain("partition");
  });
});

describe("django-pg-migration-tools operations on a partitioned table", () => {
  it("SaferAddUniqueConstraint and SaferAddFieldForeignKey fail there; state-only they are left alone; an ordinary table is fine", async () => {
    const dir = caseDir(RS212, "bad", "safer-constraint-operations");
    const found = (await diagnostics(dir, partitioned("library_book"))).filter((d) => d.rule === RS212);
    expect(found.map((d) => d.message)).toEqual([
      "`SaferAddUniqueConstraint` fails on `library_book`: the table is partitioned, and PostgreSQL refuses its `CREATE UNIQUE INDEX CONCURRENTLY` and `ADD CONSTRAINT ... USING INDEX` on a partitioned table.",
      "`SaferAddFieldForeignKey` fails on `library_book`: the table is partitioned, and PostgreSQL refuses its `CREATE INDEX CONCURRENTLY` of the column's index and its `NOT VALID` foreign key on a partitioned table.",
    ]);
    expect(found[0]?.help.join("\n")).toContain("Write it with Django's own `AddConstraint` instead: rollsafe's `adding-unique-constraint`");
    expect(found[1]?.help.join("\n")).toContain("`adding-foreign-key-constraint`");
    // Not partitioned: these operations are the safe recipe, and nothing is reported.
    expect(await diagnostics(dir, partitioned())).toEqual([]);
    // In state_operations they run no SQL.
    const stateOnly = droppingProject(
      [
        "from django.db import migrations, models",
        "from django_pg_migration_tools.operations import SaferAddUniqueConstraint",
        "",
        "",
        "class Migration(migrations.Migration):",
        "    atomic = False",
        '    dependencies = [("library", "0003_event_kind_idx")]',
        "    operations = [",
        "        migrations.SeparateDatabaseAndState(",
        '            state_operations=[SaferAddUniqueConstraint(model_name="event", constraint=models.UniqueConstraint(fields=["kind", "created"], name="event_kind_created_uniq"))],',
        "        ),",
        "    ]",
        "",
      ].join("\n"),
    );
    expect((await diagnostics(stateOnly)).filter((d) => d.rule === RS212)).toEqual([]);
  });
});

describe("recipe names", () => {
  it("reads what follows ON <table> in CREATE INDEX", () => {
    expect(createIndexDefinition('CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS "a b" ON ONLY "public"."t" USING gin (x) WHERE y;')).toBe("USING gin (x) WHERE y");
    expect(createIndexDefinition("create index on t(x)")).toBe("(x)");
    expect(createIndexDefinition("CREATE INDEX i ON")).toBeNull();
  });

  it("keeps partition index names within PostgreSQL's 63 bytes", () => {
    expect(partitionIndexName("library_event_2024", "event_kind_idx")).toBe("library_event_2024_event_kind_idx");
    const long = partitionIndexName("library_event_with_a_very_long_partition_name_2024_q1", "event_kind_and_created_idx");
    expect(Buffer.byteLength(long)).toBeLessThanOrEqual(63);
    expect(long).toMatch(/^library_event_with_a_very_long_partition_name_2024_q1_[0-9a-f]{8}$/);
  });
});
