/**
 * What a parse cache is valid for, and where it lives by default.
 *
 * The key covers everything that changes the parsed model of unchanged bytes: rollsafe's version,
 * a schema version for the cached data, a fingerprint of the parser's own code (so a development
 * build or a patched install never reads models an older parser wrote) and the configuration's
 * custom operations, the one setting the parser reads.
 */
import { createHash } from "node:crypto";
import { createRequire } from "node:module";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { OperationCatalog } from "../model/third-party-operations.js";
import { contentHash } from "./parse-cache.js";

/** Bump when the shape of the cached data changes without a parser change. */
export const CACHE_SCHEMA_VERSION = 3;

/** The cache directory's name, at the project root (like ruff's `.ruff_cache`). */
export const CACHE_DIR_NAME = ".rollsafe_cache";

const here = path.dirname(fileURLToPath(import.meta.url));

/** rollsafe's version from its package.json (searched upwards: dist/ and src/ sit at different depths). */
export function rollsafeVersion(): string {
  if (version !== null) return version;
  for (let dir = here; ; dir = path.dirname(dir)) {
    try {
      const pkg = JSON.parse(readFileSync(path.join(dir, "package.json"), "utf8")) as { name?: string; version?: string };
      if (pkg.name === "rollsafe" && pkg.version) return (version = pkg.version);
    } catch {
      // Not here; keep going up.
    }
    if (path.dirname(dir) === dir) return (version = "0.0.0");
  }
}

/** rollsafeVersion(), read once per process. */
let version: string | null = null;

/**
 * A hash of the modules that turn bytes into a model (parse/, model/ and the reader, and the SQL
 * reading in sql/ and engine/ whose facts a model carries) and of the PostgreSQL parser's
 * version. Their content, not their mtime: every build rewrites every file.
 */
function parserFingerprint(): string {
  const hash = createHash("sha256").update(`libpg-query ${sqlParserVersion()}\n`);
  const modules = [path.join(here, "../parse"), path.join(here, "../model"), path.join(here, "../workers"), path.join(here, "../sql"), path.join(here, "../engine")];
  // In the esbuild bundle (dist/bundle/) the parser is inside the bundle's own files.
  const dirs = modules.some((dir) => existsSync(dir)) ? modules : [here];
  for (const dir of dirs) {
    let names: string[];
    try {
      names = readdirSync(dir).sort();
    } catch {
      continue;
    }
    for (const name of names) {
      if (!/\.(js|ts)$/.test(name) || name.endsWith(".d.ts")) continue;
      try {
        hash.update(`${name}\0`).update(readFileSync(path.join(dir, name)));
      } catch {
        // Vanished while listing: nothing to fingerprint.
      }
    }
  }
  return hash.digest("hex");
}

/** The installed libpg-query's version (its package.json, next to the module it loads), or "none". */
function sqlParserVersion(): string {
  try {
    const main = createRequire(import.meta.url).resolve("libpg-query");
    for (let dir = path.dirname(main); path.dirname(dir) !== dir; dir = path.dirname(dir)) {
      const file = path.join(dir, "package.json");
      if (!existsSync(file)) continue;
      const pkg = JSON.parse(readFileSync(file, "utf8")) as { name?: string; version?: string };
      if (pkg.name === "libpg-query") return pkg.version ?? "unknown";
    }
  } catch {
    // Not installed: models then carry no SQL facts.
  }
  return "none";
}

/** The configuration's custom operations, in a stable text (functions by their source). */
function operationsText(operations: OperationCatalog | undefined): string {
  if (!operations) return "";
  const entries = [...operations.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return JSON.stringify(entries, (_key, value: unknown) => (typeof value === "function" ? String(value) : value));
}

/** The cache key of a run: a hash of the schema version, the parser's code and the parsing options. */
export function cacheKey(operations: OperationCatalog | undefined): string {
  return contentHash(`${CACHE_SCHEMA_VERSION}\n${rollsafeVersion()}\n${parserFingerprint()}\n${operationsText(operations)}`);
}

/**
 * The default cache directory: `.rollsafe_cache` next to the configuration file, else at the git
 * root of the first checked path, else in the working directory.
 */
export function defaultCacheDir(configFile: string | null | undefined, firstPath: string, cwd: string): string {
  if (configFile) return path.join(path.dirname(configFile), CACHE_DIR_NAME);
  let dir = path.resolve(cwd, firstPath);
  try {
    if (!statSync(dir).isDirectory()) dir = path.dirname(dir);
  } catch {
    dir = path.dirname(dir);
  }
  for (;;) {
    try {
      statSync(path.join(dir, ".git"));
      return path.join(dir, CACHE_DIR_NAME);
    } catch {
      // Not a git root; go up.
    }
    const parent = path.dirname(dir);
    if (parent === dir) return path.join(cwd, CACHE_DIR_NAME);
    dir = parent;
  }
}
