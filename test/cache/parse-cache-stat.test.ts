/**
 * The parse cache trusts a file whose stat (size, mtime, ctime, inode) is the one it kept when it
 * last read the file, as git's index and ruff's cache do: such a file is not read again, and its
 * model's source is read only when something asks for it. Only stats older than two seconds
 * before the run are kept ("racily clean" files are always read), and a content change is seen
 * even when the mtime is put back, by the ctime.
 */
import { appendFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, unlinkSync, utimesSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ParseCache } from "../../src/cache/parse-cache.js";
import { discover, type MigrationFileRef } from "../../src/discover/find-apps.js";
import { loadMigrations } from "../../src/workers/load-migrations.js";
import { fileStamp, type FileStamps } from "../../src/cache/file-stamp.js";
import type { LoadedFile } from "../../src/workers/read-migration.js";
import type { ParsedMigration } from "../../src/parse/parse-migration.js";
import { REPO, runCli } from "../support/run-cli.js";

let tmp: string;
let project: string;
let files: MigrationFileRef[];

const PARTITIONED = "0002_events.py";

beforeAll(async () => {
  tmp = mkdtempSync(path.join(os.tmpdir(), "rollsafe-stat-"));
  project = path.join(tmp, "project");
  const dir = path.join(project, "shop", "migrations");
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(project, "shop", "__init__.py"), "");
  writeFileSync(path.join(dir, "__init__.py"), "");
  writeFileSync(
    path.join(dir, "0001_initial.py"),
    'from django.db import migrations, models\n\n\nclass Migration(migrations.Migration):\n    initial = True\n    operations = [\n        migrations.CreateModel("Order", [("id", models.BigAutoField(primary_key=True)), ("total", models.IntegerField())]),\n    ]\n',
  );
  writeFileSync(
    path.join(dir, PARTITIONED),
    'from django.db import migrations\n\n\nclass Migration(migrations.Migration):\n    dependencies = [("shop", "0001_initial")]\n    operations = [\n        migrations.RunSQL("CREATE TABLE shop_event (id bigint, at date) PARTITION BY RANGE (at)", "DROP TABLE shop_event"),\n    ]\n',
  );
  writeFileSync(
    path.join(dir, "0003_order_note.py"),
    'from django.db import migrations, models\n\n\nclass Migration(migrations.Migration):\n    dependencies = [("shop", "0002_events")]\n    operations = [\n        migrations.AddField("Order", "note", models.TextField(default="")),\n    ]\n',
  );
  files = (await discover([project])).files;
});

afterAll(() => {
  rmSync(tmp, { recursive: true, force: true });
});

/** A parse cache that counts the files it trusted by their stat and the ones it looked up by content. */
class CountingCache extends ParseCache {
  trustedFiles = 0;
  lookedUp = 0;

  override async trusted(...args: Parameters<ParseCache["trusted"]>): ReturnType<ParseCache["trusted"]> {
    const hit = await super.trusted(...args);
    if (hit) this.trustedFiles++;
    return hit;
  }

  override async lookup(...args: Parameters<ParseCache["lookup"]>): ReturnType<ParseCache["lookup"]> {
    this.lookedUp++;
    return super.lookup(...args);
  }
}

/** The files' stamps now, as of a run at `takenAtMs` (none for a file changed within two seconds of it). */
function stampsAt(takenAtMs: number, of: readonly MigrationFileRef[] = files): FileStamps {
  const stamps = new Map<string, string>();
  for (const f of of) {
    const stamp = fileStamp(statSync(f.path), takenAtMs);
    if (stamp) stamps.set(f.path, stamp);
  }
  return stamps;
}

/** A run a minute from now: every file's last change is older than two seconds. */
const aMinuteLater = (of: readonly MigrationFileRef[] = files) => stampsAt(Date.now() + 60_000, of);

function models(loaded: LoadedFile[]): ParsedMigration[] {
  return loaded.map((file) => {
    if (!file.ok) throw new Error(`${file.ref.path}: ${file.message}`);
    return file.migration;
  });
}

/** A model as plain data (its source read), without the flag only a trusted model carries. */
function plain(migration: ParsedMigration): Omit<ParsedMigration, "mentionsPartition"> {
  const { mentionsPartition: _flag, ...rest } = migration;
  return rest;
}

type Entry = { s?: string; p?: boolean };

/** The entries of every parse-cache shard under `cacheDir`, by file name (`<shard>:<name>` with `qualified`). */
function shardEntries(cacheDir: string, { qualified = false } = {}): Record<string, Entry> {
  const found: Record<string, Entry> = {};
  for (const file of readdirSync(cacheDir, { recursive: true, encoding: "utf8" })) {
    if (!file.endsWith(".json") || file.split(path.sep).includes("results")) continue;
    const shard = JSON.parse(readFileSync(path.join(cacheDir, file), "utf8")) as { files: Record<string, Entry> };
    for (const [name, entry] of Object.entries(shard.files)) found[qualified ? `${file}:${name}` : name] = entry;
  }
  return found;
}

/** Each shard's inode: a write renames a new file into place (a read only touches its mtime). */
function shardInodes(cacheDir: string): number[] {
  const versionDir = path.join(cacheDir, "1.0.0");
  return readdirSync(versionDir)
    .filter((f) => !f.endsWith(".stamps.json"))
    .map((f) => statSync(path.join(versionDir, f)).ino);
}

/** The stamps files beside the shards (the stats taken since a shard was written), by file name. */
function newerStamps(cacheDir: string): Record<string, { h: string; s: string; p: boolean }> {
  const versionDir = path.join(cacheDir, "1.0.0");
  const found: Record<string, { h: string; s: string; p: boolean }> = {};
  for (const file of readdirSync(versionDir).filter((f) => f.endsWith(".stamps.json"))) {
    Object.assign(found, (JSON.parse(readFileSync(path.join(versionDir, file), "utf8")) as { files: typeof found }).files);
  }
  return found;
}

describe("parse cache: files trusted by their stat", () => {
  it("keeps the stat of files old enough, then reads none of them, with the same models", async () => {
    const cacheDir = path.join(tmp, "cache-trust");
    const first = models(await loadMigrations(files, { cache: new ParseCache(cacheDir, "1.0.0", "k"), stamps: aMinuteLater() }));
    const entries = shardEntries(cacheDir);
    expect(Object.keys(entries).sort()).toEqual(["0001_initial", "0002_events", "0003_order_note"]);
    for (const entry of Object.values(entries)) expect(entry.s).toMatch(/^\d+:\d+(\.\d+)?:\d+(\.\d+)?:\d+$/);
    expect(Object.fromEntries(Object.entries(entries).map(([name, e]) => [name, e.p]))).toEqual({ "0001_initial": false, "0002_events": true, "0003_order_note": false });

    const cache = new CountingCache(cacheDir, "1.0.0", "k");
    const second = models(await loadMigrations(files, { cache, stamps: aMinuteLater() }));
    expect(cache.trustedFiles).toBe(files.length);
    expect(cache.lookedUp).toBe(0);
    // The replay's one question to every migration's source, answered without reading it.
    expect(second.map((m) => m.mentionsPartition)).toEqual(first.map((m) => /partition/i.test(m.source)));
    expect(second.map(plain)).toEqual(first.map(plain));
  });

  it("reads a file whose content changed even when its size and mtime were put back (the ctime moved)", async () => {
    const cacheDir = path.join(tmp, "cache-ctime");
    const target = files.find((f) => f.name === "0003_order_note") as MigrationFileRef;
    // A whole second, which utimes sets exactly.
    const hourAgo = Math.floor(Date.now() / 1000) - 3600;
    utimesSync(target.path, hourAgo, hourAgo);
    await loadMigrations(files, { cache: new ParseCache(cacheDir, "1.0.0", "k"), stamps: aMinuteLater() });
    const before = statSync(target.path);
    const text = readFileSync(target.path, "utf8");
    const edited = text.replace('"note"', '"memo"');
    expect(edited.length).toBe(text.length);
    try {
      writeFileSync(target.path, edited);
      utimesSync(target.path, hourAgo, hourAgo);
      expect(statSync(target.path).mtimeMs).toBe(before.mtimeMs);
      expect(statSync(target.path).size).toBe(before.size);
      const cache = new CountingCache(cacheDir, "1.0.0", "k");
      const loaded = models(await loadMigrations(files, { cache, stamps: aMinuteLater() }));
      expect(cache.trustedFiles).toBe(files.length - 1);
      const op = loaded.find((m) => m.name === "0003_order_note")?.operations[0];
      expect(op?.kind === "AddField" && op.args).toBeTruthy();
      expect(JSON.stringify(op)).toContain('"memo"');
      expect(JSON.stringify(op)).not.toContain('"note"');
    } finally {
      writeFileSync(target.path, text);
    }
  });

  it("keeps no stat of a file changed within two seconds of the run, and keeps a later one beside the shard, not in a rewrite of it", async () => {
    const cacheDir = path.join(tmp, "cache-racy");
    const newest = files.map((f) => statSync(f.path)).reduce((a, s) => Math.max(a, s.ctimeMs, s.mtimeMs), 0);
    const racy = () => stampsAt(newest + 1_000);
    await loadMigrations(files, { cache: new ParseCache(cacheDir, "1.0.0", "k"), stamps: racy() });
    expect(racy().size).toBe(0);
    for (const entry of Object.values(shardEntries(cacheDir))) expect(entry.s).toBeUndefined();
    const again = new CountingCache(cacheDir, "1.0.0", "k");
    await loadMigrations(files, { cache: again, stamps: racy() });
    expect(again.trustedFiles).toBe(0);
    expect(again.lookedUp).toBe(files.length);
    // Old enough now: found by content, and the new stats go beside the shard instead of into a
    // rewrite of it (a fresh checkout gives every file a new inode and ctime: rewriting would
    // serialise every model of the app again).
    const inodes = shardInodes(cacheDir);
    await new Promise((resolve) => setTimeout(resolve, 20));
    const later = new CountingCache(cacheDir, "1.0.0", "k");
    await loadMigrations(files, { cache: later, stamps: aMinuteLater() });
    expect(later.trustedFiles).toBe(0);
    expect(later.lookedUp).toBe(files.length);
    expect(shardInodes(cacheDir)).toEqual(inodes);
    const taken = aMinuteLater();
    expect(Object.fromEntries(Object.entries(newerStamps(cacheDir)).map(([name, e]) => [name, e.s]))).toEqual(
      Object.fromEntries(files.map((f) => [f.name, taken.get(f.path)])),
    );
    // The next run trusts every file by those stats, and writes nothing.
    const stampsInode = readdirSync(path.join(cacheDir, "1.0.0")).filter((f) => f.endsWith(".stamps.json")).map((f) => statSync(path.join(cacheDir, "1.0.0", f)).ino);
    const next = new CountingCache(cacheDir, "1.0.0", "k");
    const models = await loadMigrations(files, { cache: next, stamps: aMinuteLater() });
    expect(next.trustedFiles).toBe(files.length);
    expect(next.lookedUp).toBe(0);
    expect(models.map((m) => (m.ok ? m.migration.mentionsPartition : null))).toEqual(files.map((f) => f.name === PARTITIONED.slice(0, -3)));
    expect(shardInodes(cacheDir)).toEqual(inodes);
    expect(readdirSync(path.join(cacheDir, "1.0.0")).filter((f) => f.endsWith(".stamps.json")).map((f) => statSync(path.join(cacheDir, "1.0.0", f)).ino)).toEqual(stampsInode);
  });

  it("takes the newer stats into the shard when it is rewritten, and trusts none kept for other content", async () => {
    const cacheDir = path.join(tmp, "cache-newer");
    await loadMigrations(files, { cache: new ParseCache(cacheDir, "1.0.0", "k"), stamps: aMinuteLater() });
    // Every file's stat changes (a checkout): read once, then kept beside the shard.
    for (const f of files) utimesSync(f.path, new Date(Date.now() - 120_000), new Date(Date.now() - 120_000));
    await loadMigrations(files, { cache: new ParseCache(cacheDir, "1.0.0", "k"), stamps: aMinuteLater() });
    expect(Object.keys(newerStamps(cacheDir)).sort()).toEqual(files.map((f) => f.name).sort());

    // A stat kept for other content (the hash no longer the shard's) is not trusted.
    const versionDir = path.join(cacheDir, "1.0.0");
    const stampsFile = path.join(versionDir, readdirSync(versionDir).find((f) => f.endsWith(".stamps.json")) as string);
    const kept = JSON.parse(readFileSync(stampsFile, "utf8")) as { files: Record<string, { h: string }> };
    (kept.files["0001_initial"] as { h: string }).h = "0".repeat(64);
    writeFileSync(stampsFile, JSON.stringify(kept));
    const checked = new CountingCache(cacheDir, "1.0.0", "k");
    await loadMigrations(files, { cache: checked, stamps: aMinuteLater() });
    expect(checked.trustedFiles).toBe(files.length - 1);
    expect(checked.lookedUp).toBe(1);

    // A rewrite (here, the app's label changed) keeps every stat in the shard and drops the file.
    const rewriting = new CountingCache(cacheDir, "1.0.0", "k");
    await rewriting.setLabel(path.join(project, "shop"), null, "shop");
    await loadMigrations(files, { cache: rewriting, stamps: aMinuteLater() });
    expect(existsSync(stampsFile)).toBe(false);
    const taken = aMinuteLater();
    expect(Object.fromEntries(Object.entries(shardEntries(cacheDir)).map(([name, e]) => [name, e.s]))).toEqual(Object.fromEntries(files.map((f) => [f.name, taken.get(f.path)])));
    const after = new CountingCache(cacheDir, "1.0.0", "k");
    await loadMigrations(files, { cache: after, stamps: aMinuteLater() });
    expect(after.trustedFiles).toBe(files.length);
  });

  it("ignores a corrupt or foreign stamps file", async () => {
    const cacheDir = path.join(tmp, "cache-stamps-corrupt");
    await loadMigrations(files, { cache: new ParseCache(cacheDir, "1.0.0", "k"), stamps: aMinuteLater() });
    for (const f of files) utimesSync(f.path, new Date(Date.now() - 180_000), new Date(Date.now() - 180_000));
    await loadMigrations(files, { cache: new ParseCache(cacheDir, "1.0.0", "k"), stamps: aMinuteLater() });
    const versionDir = path.join(cacheDir, "1.0.0");
    const stampsFile = path.join(versionDir, readdirSync(versionDir).find((f) => f.endsWith(".stamps.json")) as string);
    for (const text of ["{not json", JSON.stringify({ format: "rollsafe-parse-stamps", key: "other", files: {} }), "null", JSON.stringify({ format: "rollsafe-parse-stamps", key: "k", files: { "0001_initial": { h: 1 } } })]) {
      writeFileSync(stampsFile, text);
      const cache = new CountingCache(cacheDir, "1.0.0", "k");
      const loaded = models(await loadMigrations(files, { cache, stamps: aMinuteLater() }));
      expect(cache.lookedUp).toBe(files.length);
      expect(loaded.map((m) => m.name)).toEqual(files.map((f) => f.name));
    }
  });

  it("reads and reports a trusted file that is now over the size limit", async () => {
    const cacheDir = path.join(tmp, "cache-size");
    await loadMigrations(files, { cache: new ParseCache(cacheDir, "1.0.0", "k"), stamps: aMinuteLater() });
    const cache = new CountingCache(cacheDir, "1.0.0", "k");
    const loaded = await loadMigrations(files, { cache, stamps: aMinuteLater(), maxFileSize: 16 });
    expect(cache.trustedFiles).toBe(0);
    expect(loaded.map((f) => (f.ok ? "ok" : f.message))).toEqual(files.map(() => expect.stringMatching(/over the 0 MiB limit/)));
  });

  it("reads a trusted model's source when first asked, and gives an empty one for a file gone since", async () => {
    const dir = path.join(tmp, "gone");
    cpSync(project, dir, { recursive: true });
    const own = (await discover([dir])).files;
    const cacheDir = path.join(tmp, "cache-gone");
    await loadMigrations(own, { cache: new ParseCache(cacheDir, "1.0.0", "k"), stamps: aMinuteLater(own) });
    const loaded = models(await loadMigrations(own, { cache: new ParseCache(cacheDir, "1.0.0", "k"), stamps: aMinuteLater(own) }));
    const [initial, events] = loaded as [ParsedMigration, ParsedMigration];
    unlinkSync(initial.path);
    expect(initial.source).toBe("");
    expect(events.source).toBe(readFileSync(events.path, "utf8"));
  });
});

describe("parse cache: trusted files through the CLI", () => {
  it("gives the report of an uncached run, code frames and suppressions included, before and after a same-size edit", async () => {
    const dir = path.join(tmp, "cli");
    cpSync(path.join(REPO, "fixtures/example-project"), dir, { recursive: true });
    const migrations = readdirSync(dir, { recursive: true, encoding: "utf8" })
      .filter((f) => /migrations[/\\]\d{4}_\w+\.py$/.test(f))
      .map((f) => path.join(dir, f));
    const shop = path.join(dir, "shop/migrations/0004_delete_coupon.py");
    writeFileSync(shop, `${readFileSync(shop, "utf8")}\n# rollsafe: ignore[not-a-rule] testing the cache\n`);
    // Every file last changed an hour ago, and its ctime (set now by utimes) over two seconds old.
    const hourAgo = Math.floor(Date.now() / 1000) - 3600;
    for (const file of migrations) utimesSync(file, hourAgo, hourAgo);
    await new Promise((resolve) => setTimeout(resolve, 2_100));
    const cacheDir = path.join(tmp, "cache-cli");
    const run = (args: string[]) => runCli(["check", ".", "--format", "text", ...args], { cwd: dir });
    const uncached = run(["--no-cache"]);
    expect(uncached.code).toBe(1);
    expect(uncached.stdout).toContain("not-a-rule");
    expect(run(["--cache-dir", cacheDir])).toEqual(uncached);
    const entries = Object.values(shardEntries(cacheDir, { qualified: true }));
    expect(entries).toHaveLength(migrations.length);
    for (const entry of entries) expect(entry.s).toEqual(expect.any(String));
    // An edit of one file: the run analyses again (the result cache cannot answer), trusting the others.
    appendFileSync(path.join(dir, "accounts/migrations/0001_initial.py"), "# edited\n");
    expect(run(["--cache-dir", cacheDir])).toEqual(run(["--no-cache"]));
    // A content change under the same size and mtime: the field's name in every finding on it.
    const isbn = path.join(dir, "library/migrations/0002_book_isbn.py");
    const previous = run(["--cache-dir", cacheDir]);
    writeFileSync(isbn, readFileSync(isbn, "utf8").replace('name="isbn"', 'name="issn"'));
    utimesSync(isbn, hourAgo, hourAgo);
    const renamed = run(["--cache-dir", cacheDir]);
    expect(renamed).toEqual(run(["--no-cache"]));
    expect(renamed.stdout).toContain("`issn`");
    expect(previous.stdout).not.toContain("`issn`");
  }, 30_000);
});
