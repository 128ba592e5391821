/**
 * Issue 7's "no work twice": in one run each file is read once and parsed once, and each SQL
 * text goes through the PostgreSQL parser once. Counted in the process itself: the reads by
 * wrapping node:fs (ES module imports see the wrappers through `syncBuiltinESMExports`), the
 * parses by wrapping tree-sitter's and libpg-query's parse functions, which rollsafe loads with
 * `require` and so finds on the module objects wrapped here.
 *
 * One thread (`jobs: 1`): with parse workers the main thread reads every file and a worker parses
 * it, which `test/cache/parse-cache.test.ts` covers by comparing their output.
 */
import fs, { mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { createRequire, syncBuiltinESMExports } from "node:module";
import os from "node:os";
import path from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { analyze, type LintOptions } from "../../src/engine/lint.js";
import { render } from "../../src/reporters/index.js";
import { fileStamp, type FileStamps } from "../../src/cache/file-stamp.js";

const require = createRequire(import.meta.url);
const TreeSitter = require("tree-sitter") as { prototype: { parse: (this: unknown, input: unknown, ...rest: unknown[]) => unknown } };
const pgQuery = require("libpg-query") as { parseSync: (text: string) => unknown };

/** Per path or text, how many times it was read or parsed since the last `reset`. */
class Tally {
  readonly counts = new Map<string, number>();

  add(key: string): void {
    this.counts.set(key, (this.counts.get(key) ?? 0) + 1);
  }

  of(key: string): number {
    return this.counts.get(key) ?? 0;
  }

  /** The keys counted more than once, with their counts (expected: none). */
  twice(): Record<string, number> {
    return Object.fromEntries([...this.counts].filter(([, n]) => n > 1));
  }
}

let reads = new Tally();
let pythonParses = new Tally();
let sqlParses = new Tally();

const original = { openSync: fs.openSync, readFileSync: fs.readFileSync, parse: TreeSitter.prototype.parse, parseSync: pgQuery.parseSync };

let tmp: string;
let project: string;

const SHOP = ["0001_initial.py", "0002_events.py", "0003_order_status.py", "0004_order_note.py"];
const BILLING = ["0001_initial.py", "0002_invoice_order.py"];
const migrationPath = (app: string, name: string) => path.join(project, app, "migrations", name);
const allMigrations = () => [...SHOP.map((n) => migrationPath("shop", n)), ...BILLING.map((n) => migrationPath("billing", n))];

function write(file: string, text: string): void {
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, text);
}

const HEAD = "from django.db import migrations, models\n\n\nclass Migration(migrations.Migration):\n";

beforeAll(() => {
  tmp = mkdtempSync(path.join(os.tmpdir(), "rollsafe-once-"));
  project = path.join(tmp, "project");
  for (const app of ["shop", "billing"]) {
    write(path.join(project, app, "__init__.py"), "");
    write(path.join(project, app, "migrations", "__init__.py"), "");
  }
  write(path.join(project, "billing", "apps.py"), 'from django.apps import AppConfig\n\n\nclass BillingConfig(AppConfig):\n    name = "billing"\n    label = "billing"\n');
  write(
    migrationPath("shop", SHOP[0] as string),
    `${HEAD}    initial = True\n    operations = [\n        migrations.CreateModel("Order", [("id", models.BigAutoField(primary_key=True)), ("total", models.IntegerField())]),\n    ]\n`,
  );
  write(
    migrationPath("shop", SHOP[1] as string),
    `${HEAD}    dependencies = [("shop", "0001_initial")]\n    operations = [\n        migrations.RunSQL(\n            ["CREATE TABLE shop_event (id bigint, at date) PARTITION BY RANGE (at)", "CREATE INDEX shop_event_at ON shop_event (at)"],\n            "DROP TABLE shop_event",\n        ),\n    ]\n`,
  );
  write(
    migrationPath("shop", SHOP[2] as string),
    `${HEAD}    dependencies = [("shop", "0002_events")]\n    operations = [\n        migrations.SeparateDatabaseAndState(\n            database_operations=[migrations.RunSQL("ALTER TABLE shop_order ADD COLUMN status varchar(20)")],\n            state_operations=[migrations.AddField("Order", "status", models.CharField(max_length=20, null=True))],\n        ),\n        migrations.RunSQL("UPDATE shop_order SET status = 'new'"),\n    ]\n`,
  );
  write(
    migrationPath("shop", SHOP[3] as string),
    `${HEAD}    dependencies = [("shop", "0003_order_status")]\n    operations = [\n        migrations.AddField("Order", "note", models.TextField()),\n        migrations.AddIndex("Order", models.Index(fields=["total"], name="shop_order_total")),\n    ]\n`,
  );
  write(
    migrationPath("billing", BILLING[0] as string),
    `${HEAD}    initial = True\n    dependencies = [("shop", "0001_initial")]\n    operations = [\n        migrations.CreateModel("Invoice", [("id", models.BigAutoField(primary_key=True))]),\n    ]\n`,
  );
  write(
    migrationPath("billing", BILLING[1] as string),
    `${HEAD}    dependencies = [("billing", "0001_initial"), ("shop", "0004_order_note")]\n    operations = [\n        migrations.AddField("Invoice", "order", models.ForeignKey("shop.Order", on_delete=models.CASCADE, null=True)),\n        migrations.RunPython(migrations.RunPython.noop),\n    ]\n`,
  );
});

function startCounting(): void {
  reads = new Tally();
  pythonParses = new Tally();
  sqlParses = new Tally();
  // node's readFileSync opens through fs.openSync: a read counts once, wherever it starts.
  let inReadFile = false;
  const count = (file: fs.PathOrFileDescriptor) => {
    if (!inReadFile && typeof file === "string" && file.startsWith(project)) reads.add(file);
  };
  fs.openSync = function (this: unknown, file: fs.PathLike, ...rest: unknown[]) {
    count(file as string);
    return (original.openSync as (...a: unknown[]) => number).call(this, file, ...rest);
  } as typeof fs.openSync;
  fs.readFileSync = function (this: unknown, file: fs.PathOrFileDescriptor, ...rest: unknown[]) {
    count(file);
    inReadFile = true;
    try {
      return (original.readFileSync as (...a: unknown[]) => unknown).call(this, file, ...rest);
    } finally {
      inReadFile = false;
    }
  } as typeof fs.readFileSync;
  syncBuiltinESMExports();
  TreeSitter.prototype.parse = function (this: unknown, input: unknown, ...rest: unknown[]) {
    if (typeof input === "string") pythonParses.add(input);
    return original.parse.call(this, input, ...rest);
  };
  pgQuery.parseSync = (text: string) => {
    sqlParses.add(text);
    return original.parseSync(text);
  };
}

afterEach(() => {
  fs.openSync = original.openSync;
  fs.readFileSync = original.readFileSync;
  syncBuiltinESMExports();
  TreeSitter.prototype.parse = original.parse;
  pgQuery.parseSync = original.parseSync;
});

afterAll(() => {
  rmSync(tmp, { recursive: true, force: true });
});

/** A run and its text report (code frames read the sources of files with findings). */
async function run(options: LintOptions): Promise<string> {
  const { result } = await analyze([project], { cwd: project, jobs: 1, ...options });
  return render("text", result, { color: false });
}

/** The stamps a run a minute from now takes: every file is older than the two-second racy window. */
function stampsAMinuteLater(): FileStamps {
  const takenAtMs = Date.now() + 60_000;
  const stamps = new Map<string, string>();
  for (const file of allMigrations()) {
    const stamp = fileStamp(statSync(file), takenAtMs);
    if (stamp) stamps.set(file, stamp);
  }
  return stamps;
}

describe("no work twice (issue 7)", () => {
  it("reads and parses each file once in a run without a cache, and each SQL text once", async () => {
    startCounting();
    const report = await run({});
    expect(report).toContain("0004_order_note.py");
    for (const file of allMigrations()) expect(reads.of(file), file).toBe(1);
    expect(reads.of(path.join(project, "billing", "apps.py"))).toBe(1);
    expect(reads.twice()).toEqual({});
    // Every migration and the apps.py, each parsed once.
    expect(pythonParses.counts.size).toBe(allMigrations().length + 1);
    expect(pythonParses.twice()).toEqual({});
    // The RunSQL texts (forward and reverse) are parsed, and none of them twice.
    expect(sqlParses.counts.size).toBeGreaterThanOrEqual(4);
    expect(sqlParses.twice()).toEqual({});
  });

  it("does the same while filling a cache, and a run the cache answers reads only the sources its report shows", async () => {
    const cacheDir = path.join(tmp, "cache-fill");
    startCounting();
    const cold = await run({ cacheDir, fileStamps: stampsAMinuteLater() });
    for (const file of allMigrations()) expect(reads.of(file), file).toBe(1);
    expect(reads.twice()).toEqual({});
    expect(pythonParses.counts.size).toBe(allMigrations().length + 1);
    expect(pythonParses.twice()).toEqual({});
    expect(sqlParses.twice()).toEqual({});

    // Every file trusted by its stat: nothing parsed, and a migration's source read only for a
    // code frame of the report, once.
    startCounting();
    const warm = await run({ cacheDir, fileStamps: stampsAMinuteLater() });
    expect(warm).toBe(cold);
    expect(pythonParses.counts.size).toBe(0);
    expect(sqlParses.counts.size).toBe(0);
    expect(reads.twice()).toEqual({});
    const shown = allMigrations().filter((file) => cold.includes(path.relative(project, file)));
    expect(shown.length).toBeGreaterThan(0);
    for (const file of allMigrations()) expect(reads.of(file), file).toBe(shown.includes(file) ? 1 : 0);
  });

  it("after an edit, reads and parses the edited migration once and parses no other", async () => {
    const cacheDir = path.join(tmp, "cache-edit");
    await run({ cacheDir, fileStamps: stampsAMinuteLater() });
    const edited = migrationPath("shop", SHOP[2] as string);
    fs.appendFileSync(edited, "# edited\n");
    startCounting();
    const report = await run({ cacheDir, fileStamps: stampsAMinuteLater() });
    expect(report).toContain(path.relative(project, edited));
    expect(reads.of(edited)).toBe(1);
    expect(reads.twice()).toEqual({});
    expect([...pythonParses.counts.keys()]).toEqual([fs.readFileSync(edited, "utf8")]);
    expect(pythonParses.twice()).toEqual({});
    // Its SQL facts came with the parse: two RunSQL texts, each parsed once.
    expect(sqlParses.counts.size).toBe(2);
    expect(sqlParses.twice()).toEqual({});
  });
});
