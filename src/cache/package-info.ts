/**
 * Facts about rollsafe's installation that the caches key on and find their place by: its
 * version, the installed versions of the packages whose code changes a report, and the default
 * cache directory. Apart from cache-key.ts so that a run the result cache answers (the cached
 * check, src/cached-check.ts) loads no hashing module (see src/util/hash128.ts).
 */
import { existsSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { childPath } from "../util/paths.js";

/** The cache directory's name, at the project root (like ruff's `.ruff_cache`). */
export const CACHE_DIR_NAME = ".rollsafe_cache";

const here = path.dirname(fileURLToPath(import.meta.url));

/** rollsafe's version from its package.json (searched upwards: dist/ and src/ sit at different depths). */
export function rollsafeVersion(): string {
  if (version !== null) return version;
  for (let dir = here; ; dir = path.dirname(dir)) {
    try {
      const pkg = JSON.parse(readFileSync(childPath(dir, "package.json"), "utf8")) as { name?: string; version?: string };
      if (pkg.name === "rollsafe" && pkg.version) return (version = pkg.version);
    } catch {
      // Not here; keep going up.
    }
    if (path.dirname(dir) === dir) return (version = "0.0.0");
  }
}

/** rollsafeVersion(), read once per process. */
let version: string | null = null;

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
    const file = childPath(childPath(childPath(dir, "node_modules"), name), "package.json");
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
