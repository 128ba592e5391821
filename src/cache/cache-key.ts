/**
 * What a parse cache is valid for.
 *
 * The key covers everything that changes the parsed model of unchanged bytes: rollsafe's version,
 * a schema version for the cached data, a fingerprint of the parser's own code (so a development
 * build or a patched install never reads models an older parser wrote) and the configuration's
 * custom operations, the one setting the parser reads.
 */
import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { OperationCatalog } from "../model/third-party-operations.js";
import { contentHash } from "./parse-cache.js";
import { PARSER_PACKAGES, packageVersions, rollsafeVersion } from "./package-info.js";

/** Bump when the shape of the cached data changes without a parser change. */
export const CACHE_SCHEMA_VERSION = 3;

const here = path.dirname(fileURLToPath(import.meta.url));

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
