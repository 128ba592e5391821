/**
 * What a parse cache is valid for, and where it lives by default.
 *
 * The key covers everything that changes the parsed model of unchanged bytes: rollsafe's version,
 * a schema version for the cached data, a fingerprint of the parser's own code (so a development
 * build or a patched install never reads models an older parser wrote) and the configuration's
 * custom operations, the one setting the parser reads.
 */
import { createHash } from "node:crypto";
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
 * reading in sql/ and engine/ whose facts a model carries, and util/ they share) and of the installed versions of the
 * parsers they call (PARSER_PACKAGES): an `npm update` of the grammar changes the trees of
 * unchanged bytes. The modules by content, not mtime: every build rewrites every file.
 */
function parserFingerprint(moduleDir: string): string {
  const hash = createHash("sha256").update(packageVersions(PARSER_PACKAGES, moduleDir));
  const modules = ["../parse", "../model", "../workers", "../sql", "../engine", "../util"].map((dir) => path.join(moduleDir, dir));
  // In the esbuild bundle (dist/bundle/) the parser is inside the bundle's own files.
  const dirs = modules.some((dir) => existsSync(dir)) ? modules : [moduleDir];
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

/** The packages that turn a migration's bytes into a model: the Python parser, its grammar, PostgreSQL's parser. */
export const PARSER_PACKAGES = ["tree-sitter", "tree-sitter-python", "libpg-query"] as const;

/**
 * The installed version of each package, one `name version` line each: from the package.json of
 * the `node_modules/<name>` that node's resolution of a bare name finds first, going up from
 * `from` (a directory). "none" for a package that is not installed. Read directly rather than
 * through `require.resolve`, which cost a warm run 5 ms for four packages.
 */
export function packageVersions(names: readonly string[], from: string = here): string {
  return names.map((name) => `${name} ${packageVersion(from, name)}\n`).join("");
}

function packageVersion(from: string, name: string): string {
  for (let dir = path.resolve(from); ; dir = path.dirname(dir)) {
    const file = path.join(dir, "node_modules", name, "package.json");
    if (existsSync(file)) {
      try {
        return (JSON.parse(readFileSync(file, "utf8")) as { version?: string }).version ?? "unknown";
      } catch {
        return "unknown";
      }
    }
    // Not installed (libpg-query is optional to the parse: models then carry no SQL facts).
    if (path.dirname(dir) === dir) return "none";
  }
}

/** The configuration's custom operations, in a stable text (functions by their source). */
function operationsText(operations: OperationCatalog | undefined): string {
  if (!operations) return "";
  const entries = [...operations.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return JSON.stringify(entries, (_key, value: unknown) => (typeof value === "function" ? String(value) : value));
}

/**
 * The cache key of a run: a hash of the schema version, the parser's code and the parsing
 * options. `moduleDir`: the directory of this module (tests point it elsewhere).
 */
export function cacheKey(operations: OperationCatalog | undefined, moduleDir: string = here): string {
  return contentHash(`${CACHE_SCHEMA_VERSION}\n${rollsafeVersion()}\n${parserFingerprint(moduleDir)}\n${operationsText(operations)}`);
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
