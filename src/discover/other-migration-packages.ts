/**
 * Directories that hold Django migrations under another name than `migrations/`, for the hint of
 * a run that found no migration file: a project whose settings map an app to another package
 * (`MIGRATION_MODULES = {"dojo": "dojo.db_migrations"}`, DefectDojo) is otherwise checked as empty.
 * Only that run pays for this walk.
 */
import { readdirSync, readFileSync, type Dirent } from "node:fs";
import path from "node:path";

/** A directory of migrations, as the configuration would name it. */
export interface OtherMigrationPackage {
  /** The directory, as given under its root. */
  dir: string;
  /** Its dotted module, from the outermost package above it (`dojo.db_migrations`). */
  module: string;
  /** The app label Django most likely gives it: the name of the package that holds it. */
  label: string;
}

/** Directories no project keeps its migrations in, and that can be large. */
const SKIPPED = new Set(["node_modules", "__pycache__", "site-packages", "dist-packages", "static", "media", "locale"]);
const MIGRATION_FILE = /^\d{4}_\w+\.py$/;
/** The walk stops after this many directories: a hint is not worth a long wait. */
const MAX_DIRECTORIES = 20_000;

/** Up to `limit` directories under `roots` not named `migrations` whose numbered modules define a `Migration` class. */
export function otherMigrationPackages(roots: readonly string[], limit = 5): OtherMigrationPackage[] {
  const found: OtherMigrationPackage[] = [];
  const pending = [...roots];
  let visited = 0;
  while (pending.length > 0 && found.length < limit && visited < MAX_DIRECTORIES) {
    const dir = pending.shift() as string;
    visited++;
    let entries: Dirent[];
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      continue;
    }
    // Symbolic links are not followed: a loop of them would never end.
    for (const entry of entries) if (entry.isDirectory() && !entry.name.startsWith(".") && !SKIPPED.has(entry.name)) pending.push(path.join(dir, entry.name));
    if (path.basename(dir) === "migrations") continue;
    const numbered = entries.filter((e) => e.isFile() && MIGRATION_FILE.test(e.name));
    if (!numbered.some((e) => definesMigration(path.join(dir, e.name)))) continue;
    found.push({ dir, module: dottedModule(dir), label: path.basename(path.dirname(dir)) });
  }
  return found;
}

/** Whether the start of a file defines `class Migration(...)`. */
function definesMigration(file: string): boolean {
  try {
    return /^class Migration\b/m.test(readFileSync(file, "latin1").slice(0, 200_000));
  } catch {
    return false;
  }
}

/** The dotted module of `dir`: its name and those of the packages (`__init__.py`) above it. */
function dottedModule(dir: string): string {
  const parts = [path.basename(dir)];
  let parent = path.dirname(dir);
  while (parent !== path.dirname(parent) && hasInit(parent)) {
    parts.unshift(path.basename(parent));
    parent = path.dirname(parent);
  }
  return parts.join(".");
}

function hasInit(dir: string): boolean {
  try {
    return readdirSync(dir).includes("__init__.py");
  } catch {
    return false;
  }
}
