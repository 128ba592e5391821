/**
 * When the parse cache's shards are written: each app's as soon as its files are loaded, so the
 * JSON of every parsed model is not held for the whole project until the end of the load.
 */
import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ParseCache } from "../../src/cache/parse-cache.js";
import { discover } from "../../src/discover/find-apps.js";
import { loadMigrations } from "../../src/workers/load-migrations.js";

let tmp: string;
let project: string;

/** A migration adding one field, depending on the one before it. */
function migrationText(app: string, n: number): string {
  const dependency = n === 1 ? "" : `("${app}", "${String(n - 1).padStart(4, "0")}_step"),`;
  return `from django.db import migrations, models\n\n\nclass Migration(migrations.Migration):\n    dependencies = [${dependency}]\n    operations = [\n        migrations.AddField("Item", "f${n}", models.IntegerField(null=True)),\n    ]\n`;
}

beforeAll(() => {
  tmp = mkdtempSync(path.join(os.tmpdir(), "rollsafe-shards-"));
  project = path.join(tmp, "project");
  for (const app of ["alpha", "beta", "gamma"]) {
    const dir = path.join(project, app, "migrations");
    mkdirSync(dir, { recursive: true });
    writeFileSync(path.join(project, app, "__init__.py"), "");
    writeFileSync(path.join(dir, "__init__.py"), "");
    for (let n = 1; n <= 120; n++) writeFileSync(path.join(dir, `${String(n).padStart(4, "0")}_step.py`), migrationText(app, n));
  }
  // A file that cannot be decoded settles its app like any other.
  writeFileSync(path.join(project, "beta", "migrations", "0121_latin1.py"), Buffer.from('NAME = "caf\xe9"\n', "latin1"));
});

afterAll(() => {
  rmSync(tmp, { recursive: true, force: true });
});

/** A parse cache that records, for each shard it writes, how many files had been loaded by then. */
class WatchedCache extends ParseCache {
  loadedSoFar = 0;
  readonly writes: { appDir: string; loaded: number }[] = [];

  override async saveApp(appDir: string): Promise<void> {
    this.writes.push({ appDir, loaded: this.loadedSoFar });
    await super.saveApp(appDir);
  }
}

/** Each shard's inode: a write renames a new file into place (a read only touches its mtime). */
function shardFiles(dir: string): Map<string, number> {
  const versionDir = path.join(dir, "1.0.0");
  return new Map(readdirSync(versionDir).filter((f) => f.endsWith(".json")).map((f) => [f, statSync(path.join(versionDir, f)).ino] as const));
}

describe("parse cache shards during a load", () => {
  it("writes each app's shard once its files are loaded, before the later apps are, and nothing is left for save()", async () => {
    const cacheDir = path.join(tmp, "cache-order");
    const { files } = await discover([project]);
    const cache = new WatchedCache(cacheDir, "1.0.0", "k");
    const loaded = await loadMigrations(files, { cache, jobs: 1, onLoaded: () => cache.loadedSoFar++ });
    expect(loaded).toHaveLength(361);
    expect(loaded.filter((f) => !f.ok)).toHaveLength(1);
    expect(cache.writes.map((w) => path.basename(w.appDir))).toEqual(["alpha", "beta", "gamma"]);
    // alpha's 120 files were stored well before beta's and gamma's 241 were parsed.
    expect((cache.writes[0] as { loaded: number }).loaded).toBeLessThan(241);
    expect((cache.writes[1] as { loaded: number }).loaded).toBeLessThan(361);
    const written = shardFiles(cacheDir);
    expect(written.size).toBe(3);
    await cache.save();
    expect(shardFiles(cacheDir)).toEqual(written);

    // The next run finds every decodable file and rewrites no shard.
    const again = new WatchedCache(cacheDir, "1.0.0", "k");
    const reloaded = await loadMigrations(files, { cache: again, jobs: 1 });
    expect(reloaded.map((f) => (f.ok ? f.migration.operations.length : f.rule))).toEqual(loaded.map((f) => (f.ok ? f.migration.operations.length : f.rule)));
    await again.save();
    expect(shardFiles(cacheDir)).toEqual(written);
  });
});
