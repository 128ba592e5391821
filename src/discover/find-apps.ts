/**
 * Finds Django apps (directories holding a `migrations/` package) and their migration files
 * under the paths given on the command line.
 */
import { existsSync, readdirSync, realpathSync, statSync, type Dirent, type Stats } from "node:fs";
import path from "node:path";
import type { AppInfo } from "../model/types.js";
import type { AppLabelCache } from "../parse/parse-app-config.js";
import { childPath } from "../util/paths.js";

/** Reading a label parses `apps.py`: the parser loads only when a walk names its apps (not for the result cache's key). */
const appConfig = () => import("../parse/parse-app-config.js");

/** Directory names never descended into (they hold other people's code, build output or translations). */
const SKIPPED_DIRS = new Set([
  ".git",
  ".hg",
  ".svn",
  "node_modules",
  "__pycache__",
  "site-packages",
  "dist-packages",
  ".venv",
  "venv",
  ".tox",
  ".nox",
  ".mypy_cache",
  ".ruff_cache",
  ".pytest_cache",
  ".rollsafe_cache",
  // gettext's catalogue directory (`locale/<language>/LC_MESSAGES/django.po`): half the
  // directories of a translated project, and never a Python package.
  "LC_MESSAGES",
]);

/**
 * Directories that by Django's conventions hold files, not code: translation catalogues
 * (`locale/<language>/LC_MESSAGES/`, `LOCALE_PATHS`), templates (an app's `templates/`, `DIRS`),
 * static files (an app's `static/`, `STATICFILES_DIRS`, a `STATIC_ROOT` named `staticfiles`) and
 * uploads (a `MEDIA_ROOT` named `media`). In Debian's Django apps, the trees under `templates/`
 * and `static/` were 96 of the 363 directories the walk listed; a project's collected static
 * files or uploads can be far more than its code.
 */
const FILE_TREES = new Set(["locale", "templates", "static", "staticfiles", "media"]);

/**
 * Whether the walk leaves out a directory: one named as in FILE_TREES that is not a Python
 * package (no `__init__.py`), so no app inside it can be imported. A package of that name (an
 * app, or apps inside it) is walked as usual, and so is a path given on the command line.
 */
function isFileTree(dir: string, name: string): boolean {
  return FILE_TREES.has(name) && !existsSync(childPath(dir, "__init__.py"));
}

/** A problem met while walking the tree; becomes one clear line, and the walk goes on. */
export interface DiscoveryProblem {
  path: string;
  message: string;
}

/** A migration file on disk. */
export interface MigrationFileRef {
  path: string;
  app: AppInfo;
  name: string;
}

export interface Discovery {
  apps: AppInfo[];
  files: MigrationFileRef[];
  /** Absolute paths of the files to report (all files under the given paths). */
  reportPaths: Set<string>;
  problems: DiscoveryProblem[];
  /**
   * What the result depends on besides the files found, in the order the walk met it: every
   * directory it listed, every directory it left out for not being a package (a new
   * `__init__.py` would make it one), and every symbolic link whose target's type it asked. An
   * entry added, removed or renamed in a directory changes the directory's mtime, so while
   * these paths' stats stay the same the walk would give the same result (the result cache's
   * key keeps them, and an unchanged tree is recognised without walking it).
   */
  watched: string[];
}

export interface DiscoverOptions {
  /** Glob-free path prefixes (absolute) to leave out. */
  exclude?: string[];
  /**
   * Labels read from `apps.py` in earlier runs (the parse cache). `false`: no label is read, each
   * app is named after its directory until {@link labelApps} names it (the result cache's key
   * needs only the walk).
   */
  labelCache?: AppLabelCache | false;
  /**
   * Migration packages Django loads from elsewhere than `<app>/migrations` (the configuration's
   * `migration-modules`, as `MIGRATION_MODULES` maps them): absolute directory -> app label.
   */
  migrationModules?: ReadonlyMap<string, string>;
}

/** Django's loader ignores module names starting with `_` or `~` (see `MigrationLoader.load_disk`). */
function isMigrationModule(name: string): boolean {
  return name.endsWith(".py") && !name.startsWith("_") && !name.startsWith("~") && name.length > 3;
}

function errorText(error: unknown): string {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  switch (code) {
    case "ENOENT":
      return "no such file or directory";
    case "EACCES":
    case "EPERM":
      return "permission denied";
    case "ELOOP":
      return "too many levels of symbolic links (a symlink loop)";
    case "ENOTDIR":
      return "not a directory";
    default:
      return error instanceof Error ? error.message : String(error);
  }
}

/**
 * Walks the given paths and returns the apps, their migration files and the files to report.
 * Explicit files pull in their whole app (state needs every migration), but only they are reported.
 *
 * The file system calls are synchronous on purpose: `fs.promises` costs a thread-pool round trip
 * per call, and a walk is thousands of small calls in a row (5,000 migrations: 250 ms async,
 * 60 ms sync). Each migrations directory is listed once, during the walk or after it.
 */
export async function discover(paths: string[], options: DiscoverOptions = {}): Promise<Discovery> {
  const problems: DiscoveryProblem[] = [];
  const appsByDir = new Map<string, AppInfo>();
  const reportPaths = new Set<string>();
  const visited = new Set<string>();
  // A set: a link to a directory is asked for its type and then listed, a linked migration met twice.
  const watched = new Set<string>();
  const exclude = (options.exclude ?? []).map((p) => path.resolve(p));
  const isExcluded = (p: string) => exclude.some((e) => p === e || p.startsWith(e + path.sep));
  /** Listings of migrations directories read during the walk, reused for the file list. */
  const listings = new Map<string, Dirent[]>();

  // The configured packages by their real path as well, so a walk through a link finds them.
  const modules = new Map<string, string>();
  for (const [dir, label] of options.migrationModules ?? []) {
    modules.set(dir, label);
    try {
      modules.set(realpathSync.native(dir), label);
    } catch {
      // A package that went away since the configuration was read: the walk does not meet it.
    }
  }
  const configuredLabels = new Set(modules.values());
  /** The configured package `dir` is (given path or real path), as the app it holds. */
  function moduleApp(dir: string, real: string | null): AppInfo | null {
    const label = modules.get(dir) ?? (real === null ? undefined : modules.get(real));
    if (label === undefined || !existsSync(path.join(dir, "__init__.py"))) return null;
    const key = `${dir}${path.sep}`;
    const existing = appsByDir.get(key);
    if (existing) return existing;
    // The app's own directory is not known from MIGRATION_MODULES; the package's parent stands for it.
    const app: AppInfo = { label, dir: path.dirname(dir), migrationsDir: dir, labelSource: "configuration" };
    appsByDir.set(key, app);
    return app;
  }

  async function addApp(appDir: string): Promise<AppInfo | null> {
    const existing = appsByDir.get(appDir);
    if (existing) return existing;
    const migrationsDir = path.join(appDir, "migrations");
    if (!existsSync(path.join(migrationsDir, "__init__.py"))) return null;
    const { label, source } =
      options.labelCache === false ? { label: path.basename(appDir), source: "directory" as const } : await (await appConfig()).readAppLabel(appDir, options.labelCache);
    // An app whose migrations Django loads from a configured package: its `migrations/` is not
    // loaded. (A walk that reads no labels keeps it: the result cache's key may watch more files.)
    if (options.labelCache !== false && configuredLabels.has(label)) return null;
    const app: AppInfo = { label, dir: appDir, migrationsDir, labelSource: source };
    appsByDir.set(appDir, app);
    return app;
  }

  /** `isFileTree`, watching the directory it leaves out. */
  function leftOut(dir: string, name: string): boolean {
    if (!isFileTree(dir, name)) return false;
    watched.add(dir);
    return true;
  }

  /**
   * Walks `dir`. `real` is its real path when known: a plain subdirectory's is its parent's real
   * path and its name, so only the given roots and symlinked directories need a `realpath`
   * (one per directory cost a third of a warm run over Debian's Django packages, whose
   * `locale/` trees hold thousands of directories).
   */
  async function walk(dir: string, isRoot: boolean, known: string | null = null): Promise<void> {
    let real: string;
    try {
      real = known ?? realpathSync.native(dir);
    } catch (error) {
      problems.push({ path: dir, message: errorText(error) });
      return;
    }
    if (visited.has(real)) return;
    visited.add(real);
    if (!isRoot && isExcluded(dir)) return;
    const configured = modules.size > 0 ? moduleApp(dir, real) : null;
    const isMigrations = configured !== null || path.basename(dir) === "migrations";
    let entries: Dirent[];
    try {
      // Only a migrations directory's files matter; elsewhere (thousands of `locale/` directories
      // in a large tree) only the subdirectories, sorted so the walk's order is the same every time.
      entries = isMigrations ? sortedEntries(dir) : subdirectories(dir);
    } catch (error) {
      problems.push({ path: dir, message: errorText(error) });
      return;
    }
    watched.add(dir);
    if (isMigrations && entries.some((e) => e.name === "__init__.py") && looksLikeMigrationsPackage(entries.map((e) => e.name))) {
      const app = configured ?? (await addApp(path.dirname(dir)));
      if (app) {
        if (app.migrationsDir === dir) listings.set(dir, entries);
        for (const entry of entries) {
          const full = childPath(dir, entry.name);
          if (isMigrationModule(entry.name) && !isExcluded(full) && isFile(full, entry, watched)) reportPaths.add(full);
        }
      }
    }
    for (const entry of entries) {
      if (SKIPPED_DIRS.has(entry.name)) continue;
      if (entry.isDirectory()) {
        const full = childPath(dir, entry.name);
        if (!isExcluded(full) && !leftOut(full, entry.name)) await walk(full, false, childPath(real, entry.name));
      } else if (entry.isSymbolicLink()) {
        const full = childPath(dir, entry.name);
        watched.add(full);
        if (isDirectory(full, problems) && !isExcluded(full) && !leftOut(full, entry.name)) await walk(full, false);
      }
    }
  }

  for (const given of paths) {
    const abs = path.resolve(given);
    let stat: Stats;
    try {
      stat = statSync(abs);
    } catch (error) {
      problems.push({ path: given, message: errorText(error) });
      continue;
    }
    if (stat.isDirectory()) {
      // Named like a migration module but a directory: Django skips it, and so would the walk, silently.
      if (isMigrationModule(path.basename(abs))) {
        problems.push({ path: given, message: "is a directory, not a migration file; skipped" });
        continue;
      }
      await walk(abs, true);
      continue;
    }
    const migrationsDir = path.dirname(abs);
    const configuredApp = modules.size > 0 ? moduleApp(migrationsDir, safeRealpath(migrationsDir)) : null;
    if (configuredApp && isMigrationModule(path.basename(abs))) {
      reportPaths.add(abs);
      continue;
    }
    if (path.basename(migrationsDir) !== "migrations" || !isMigrationModule(path.basename(abs))) {
      if (abs.endsWith(".py")) problems.push({ path: given, message: "not a migration file (not in a `migrations/` package), skipped" });
      else problems.push({ path: given, message: "not a Python file, skipped" });
      continue;
    }
    const app = await addApp(path.dirname(migrationsDir));
    if (!app) {
      problems.push({ path: given, message: "its `migrations/` directory has no `__init__.py`, so Django does not load it; skipped" });
      continue;
    }
    reportPaths.add(abs);
  }

  // Every app involved contributes all of its migrations to the state.
  const apps = [...appsByDir.values()].sort((a, b) => (a.dir < b.dir ? -1 : a.dir > b.dir ? 1 : 0));
  const files: MigrationFileRef[] = [];
  for (const app of apps) {
    let entries = listings.get(app.migrationsDir);
    try {
      if (!entries) {
        entries = sortedEntries(app.migrationsDir);
        watched.add(app.migrationsDir);
      }
    } catch (error) {
      problems.push({ path: app.migrationsDir, message: errorText(error) });
      continue;
    }
    for (const entry of entries) {
      const full = childPath(app.migrationsDir, entry.name);
      if (!isMigrationModule(entry.name) || !isFile(full, entry, watched)) continue;
      files.push({ path: full, app, name: entry.name.slice(0, -3) });
    }
  }
  return { apps, files, reportPaths, problems, watched: [...watched] };
}

/** The real path of `p`, or null when it cannot be resolved. */
function safeRealpath(p: string): string | null {
  try {
    return realpathSync.native(p);
  } catch {
    return null;
  }
}

/** Names the apps of a discovery made with `labelCache: false`, as `discover` would have. */
export async function labelApps(discovery: Discovery, labelCache?: AppLabelCache): Promise<void> {
  const { readAppLabel } = await appConfig();
  for (const app of discovery.apps) {
    // A configured package's label is the configuration's.
    if (app.labelSource === "configuration") continue;
    const { label, source } = await readAppLabel(app.dir, labelCache);
    app.label = label;
    app.labelSource = source;
  }
}

/** A directory's subdirectories and symbolic links (which may lead to one), sorted by name. */
function subdirectories(dir: string): Dirent[] {
  return readdirSync(dir, { withFileTypes: true })
    .filter((e) => e.isDirectory() || e.isSymbolicLink())
    .sort(byName);
}

function byName(a: Dirent, b: Dirent): number {
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}

/** A directory's entries, sorted by name (the order Django's loader does not guarantee, but reports need). */
function sortedEntries(dir: string): Dirent[] {
  return readdirSync(dir, { withFileTypes: true }).sort(byName);
}

/** Whether an entry is a file, or a link to one (the link is then watched, see `Discovery.watched`). */
function isFile(full: string, entry: Dirent, watched: Set<string>): boolean {
  if (entry.isFile()) return true;
  if (!entry.isSymbolicLink()) return false;
  watched.add(full);
  try {
    return statSync(full).isFile();
  } catch {
    // A dangling or looping link is reported when read.
    return true;
  }
}

function isDirectory(full: string, problems: DiscoveryProblem[]): boolean {
  try {
    return statSync(full).isDirectory();
  } catch (error) {
    // A dangling link (to a static asset, say) is not ours to report; a loop is worth a line,
    // unless it is named like a migration module: reading it reports the loop once.
    const code = (error as NodeJS.ErrnoException).code;
    const migrationLink = path.basename(path.dirname(full)) === "migrations" && isMigrationModule(path.basename(full));
    if (code !== "ENOENT" && !(code === "ELOOP" && migrationLink)) problems.push({ path: full, message: errorText(error) });
    return false;
  }
}

/**
 * Whether a `migrations` package holds Django migrations: Django's own `django/db/migrations`
 * and test packages named `migrations` do not, and their modules have no numbered names.
 * Every migration `makemigrations` writes starts with a number (`0001_initial`).
 */
function looksLikeMigrationsPackage(names: string[]): boolean {
  return names.some((name) => /^\d/.test(name) && name.endsWith(".py"));
}
