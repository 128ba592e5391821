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
  return createHash("sha256").update(packageVersions(PARSER_PACKAGES, moduleDir)).update("\0").update(modulesDigest(moduleDir)).digest("hex");
}

/**
 * The file in which the build writes `modulesDigest` of the bundle (`scripts/build-dist.mjs`),
 * so that a run need not read and hash the bundle's 1.2 MB again (8-15 ms of every run that
 * parses). The build empties dist/bundle/ before it bundles, so the file never outlives the
 * modules it describes.
 */
export const MODULES_DIGEST_FILE = "modules.sha256";

/** The hash of the parser's modules, by name and content (the build's, in a bundle). */
export function modulesDigest(moduleDir: string, options: { fresh?: boolean } = {}): string {
  const modules = ["../parse", "../model", "../workers", "../sql", "../engine", "../util"].map((dir) => path.join(moduleDir, dir));
  // In the esbuild bundle (dist/bundle/) the parser is inside the bundle's own files.
  const bundled = !modules.some((dir) => existsSync(dir));
  if (bundled && !options.fresh) {
    try {
      const stored = readFileSync(path.join(moduleDir, MODULES_DIGEST_FILE), "latin1").trim();
      if (/^[0-9a-f]{64}$/.test(stored)) return stored;
    } catch {
      // Not written by a build: hashed here.
    }
  }
  const hash = createHash("sha256");
  for (const dir of bundled ? [moduleDir] : modules) {
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
