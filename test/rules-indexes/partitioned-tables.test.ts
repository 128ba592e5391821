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
