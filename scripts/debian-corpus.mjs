#!/usr/bin/env node
/**
 * Downloads and extracts the Debian packages that ship Django apps with migrations: the real-world
 * corpus of issue 5. Each package is fetched with `apt-get download`, unpacked with `dpkg -x`, and
 * kept under a cache directory keyed by its version, so a second run does no work.
 *
 *   node scripts/debian-corpus.mjs [--cache-dir DIR] [--json]
 *
 * The cache directory defaults to `.cache/debian-corpus/` at the repository root; the
 * `ROLLSAFE_CORPUS_DIR` environment variable or `--cache-dir` override it. The versions are the
 * ones apt would install with bookworm-backports preferred, so the extracted `python3-django` is
 * the same Django 4.2 that `scripts/install-django.sh` installs.
 *
 *   node scripts/debian-corpus.mjs --list-packages   (the package names, one a line)
 *
 * Programmatic use (tests, bench/): `ensureDebianCorpus({ cacheDir })`.
 */
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, readdir, rm, stat, writeFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

const run = promisify(execFile);

/** The repository root (this file lives in `scripts/`). */
const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

/** Default cache location, relative to the repository root. */
export const DEFAULT_CACHE_DIR = path.join(REPO_ROOT, ".cache", "debian-corpus");

/**
 * The corpus: the Debian packages whose Django apps ship migrations. That is every
 * `python3-django-*` and `python3-djangorestframework*` package of bookworm with an app that has a
 * `migrations/` package (found by downloading all 172 of them, documentation packages aside, on
 * 2026-12-04), Django itself from bookworm-backports, and `python3-social-django`.
 * `python3-django-postgres-extra` is left out: its `migrations` packages are library code, not an
 * app's migrations. scripts/install-django.sh reads this list (`--list-packages`) to install the
 * Python dependencies their migrations import.
 */
export const CORPUS_PACKAGES = [
  "python3-django",
  "python3-django-allauth",
  "python3-django-axes",
  "python3-django-captcha",
  "python3-django-cas-server",
  "python3-django-celery-beat",
  "python3-django-celery-results",
  "python3-django-constance",
  "python3-django-contrib-comments",
  "python3-django-guardian",
  "python3-django-health-check",
  "python3-django-hyperkitty",
  "python3-django-impersonate",
  "python3-django-invitations",
  "python3-django-mailman3",
  "python3-django-oauth-toolkit",
  "python3-django-organizations",
  "python3-django-otp",
  "python3-django-postorius",
  "python3-django-push-notifications",
  "python3-django-q",
  "python3-django-recurrence",
  "python3-django-registration",
  "python3-django-rest-hooks",
  "python3-django-reversion",
  "python3-django-rq",
  "python3-django-sitetree",
  "python3-django-tagging",
  "python3-django-taggit",
  "python3-django-tastypie",
  "python3-django-templated-email",
  "python3-django-uwsgi-ng",
  "python3-django-waffle",
  "python3-djangorestframework",
  "python3-djangorestframework-api-key",
  "python3-djangorestframework-simplejwt",
  "python3-social-django",
];

/**
 * Django projects Debian ships (found with `apt-file search` for `migrations/0001_*.py`): their
 * migrations go through rollsafe in the corpus test (`ensureDebianCorpus({ projects: true })`),
 * but they are neither the benchmark's real corpus (the issue names Django's apps and the
 * `python3-django-*` ones) nor loaded by Django in the state comparison, whose dependencies would
 * pull in their whole stacks (about 140 more packages, GTK's among them). rollsafe's rebuilt state
 * was compared with Django 4.2's by hand on 2026-12-04 for debusine (db, signing), mini-buildd,
 * ara and graphite-web's loadable apps: the same. wims-lti is left out (its one migration lives
 * outside dist-packages).
 */
export const PROJECT_PACKAGES = [
  "autoradio",
  "freedombox",
  "graphite-web",
  "lava-server",
  "omnidb-common",
  "python3-ara",
  "python3-debusine-server",
  "python3-debusine-signing",
  "python3-mini-buildd",
  "python3-sorl-thumbnail",
];

/** Where Debian puts Python 3 modules inside a package. */
const DIST_PACKAGES = path.join("usr", "lib", "python3", "dist-packages");

/** Written into an extraction directory once `dpkg -x` has finished, so a half-done one is redone. */
const COMPLETE_MARKER = ".rollsafe-extracted";

/** A user-facing failure: printed as one line by the command-line entry point. */
export class CorpusError extends Error {
  /** @param {string} message */
  constructor(message) {
    super(message);
    this.name = "CorpusError";
  }
}

/**
 * @typedef {object} CorpusApp
 * @property {string} module Dotted Python module of the app package, e.g. `django.contrib.auth`.
 * @property {string} dir Absolute path of the app package directory.
 * @property {string} migrationsDir Absolute path of its `migrations/` directory.
 */

/**
 * @typedef {object} CorpusPackage
 * @property {string} name Debian package name.
 * @property {string} version Debian version, e.g. `3:4.2.21-1~bpo12+1`.
 * @property {string} root Absolute path of the extracted package (the `dpkg -x` target).
 * @property {string} sitePackages Absolute path of `usr/lib/python3/dist-packages` inside `root`.
 * @property {CorpusApp[]} apps The Django apps in the package that have a `migrations/` package.
 */

/**
 * Makes sure every corpus package is downloaded and extracted, and describes the result.
 *
 * @param {{ cacheDir?: string, packages?: string[], projects?: boolean, log?: (line: string) => void }} [options]
 *   `projects`: also the Django projects of PROJECT_PACKAGES (when `packages` is not given).
 * @returns {Promise<{ cacheDir: string, packages: CorpusPackage[] }>}
 */
export async function ensureDebianCorpus(options = {}) {
  const cacheDir = path.resolve(options.cacheDir ?? process.env.ROLLSAFE_CORPUS_DIR ?? DEFAULT_CACHE_DIR);
  const names = options.packages ?? (options.projects ? [...CORPUS_PACKAGES, ...PROJECT_PACKAGES] : CORPUS_PACKAGES);
  const log = options.log ?? (() => {});
  const debDir = path.join(cacheDir, "debs");
  const extractDir = path.join(cacheDir, "extracted");
  await mkdir(debDir, { recursive: true });
  await mkdir(extractDir, { recursive: true });

  await requireCommand("apt-cache", "apt-cache not found: the Debian corpus needs apt (Debian or Ubuntu)");
  await requireCommand("dpkg", "dpkg not found: the Debian corpus needs dpkg to extract packages");

  const versions = await candidateVersions(names);

  const rootOf = (name) => path.join(extractDir, `${name}_${fileSafeVersion(versions.get(name))}`);
  const missing = names.filter((name) => !existsSync(path.join(rootOf(name), COMPLETE_MARKER)));

  if (missing.length > 0) {
    const debs = await downloadDebs(missing, versions, debDir, log);
    for (const name of missing) {
      const root = rootOf(name);
      log(`extracting ${name} ${versions.get(name)}`);
      await rm(root, { recursive: true, force: true });
      await mkdir(root, { recursive: true });
      await runTool("dpkg", ["-x", debs.get(name), root]);
      await writeFile(path.join(root, COMPLETE_MARKER), `${name} ${versions.get(name)}\n`);
    }
  }

  const packages = [];
  for (const name of names) {
    const root = rootOf(name);
    const sitePackages = path.join(root, DIST_PACKAGES);
    packages.push({
      name,
      version: versions.get(name),
      root,
      sitePackages,
      apps: existsSync(sitePackages) ? await findMigrationApps(sitePackages) : [],
    });
  }
  return { cacheDir, packages };
}

/**
 * The versions apt would install, preferring bookworm-backports where it has the package (as
 * `scripts/install-django.sh` does with `-t bookworm-backports`). One `apt-cache` call for all.
 *
 * @returns {Promise<Map<string, string>>}
 */
async function candidateVersions(names) {
  const { stdout } = await runTool("apt-cache", ["-o", "APT::Default-Release=bookworm-backports", "policy", ...names]);
  const versions = new Map();
  let current = null;
  for (const line of stdout.split("\n")) {
    const header = /^(\S+):$/.exec(line);
    if (header) current = header[1];
    const candidate = /^\s+Candidate:\s*(\S+)/.exec(line);
    if (candidate && current && candidate[1] !== "(none)") versions.set(current, candidate[1]);
  }
  const unknown = names.filter((name) => !versions.has(name));
  if (unknown.length > 0) {
    throw new CorpusError(
      `apt knows no installable version of ${unknown.join(", ")}: run \`apt-get update\` (or scripts/install-django.sh) first`,
    );
  }
  return versions;
}

/** Downloads `name=version` for each package into `debDir` and returns package -> .deb path. */
async function downloadDebs(names, versions, debDir, log) {
  const debs = new Map();
  const wanted = [];
  for (const name of names) {
    const file = path.join(debDir, debFileName(name, versions.get(name)));
    debs.set(name, file);
    if (!(await isNonEmptyFile(file))) wanted.push(name);
  }
  if (wanted.length === 0) return debs;

  await requireCommand("apt-get", "apt-get not found: the Debian corpus needs apt (Debian or Ubuntu)");
  log(`downloading ${wanted.join(" ")}`);
  // apt-get download writes into the current directory. As root, apt drops to the `_apt` user to
  // fetch, and warns when that user cannot write the target; fetching as root avoids the warning.
  const sandbox = process.getuid?.() === 0 ? ["-o", "APT::Sandbox::User=root"] : [];
  await runTool("apt-get", [...sandbox, "-q", "download", ...wanted.map((name) => `${name}=${versions.get(name)}`)], {
    cwd: debDir,
  });

  const present = new Set(await readdir(debDir));
  for (const name of wanted) {
    const base = path.basename(debs.get(name));
    if (present.has(base)) continue;
    // The architecture part of the name is not known in advance (`all` or the host's).
    const prefix = debFileName(name, versions.get(name)).replace(/_all\.deb$/, "_");
    const found = [...present].find((file) => file.startsWith(prefix) && file.endsWith(".deb"));
    if (!found) throw new CorpusError(`apt-get download did not produce a .deb for ${name} ${versions.get(name)}`);
    debs.set(name, path.join(debDir, found));
  }
  return debs;
}

/** apt's file name for a package: the epoch colon is URL-encoded. Most Python packages are `all`. */
function debFileName(name, version) {
  return `${name}_${version.replace(/:/g, "%3a")}_all.deb`;
}

/** A version usable as part of a directory name on any filesystem. */
function fileSafeVersion(version) {
  return version.replace(/[^A-Za-z0-9.+~-]/g, "_");
}

/**
 * Every directory under `sitePackages` that holds `migrations/__init__.py`: the Django apps with
 * migrations. Test suites shipped inside packages are skipped: they are not installable apps.
 *
 * @returns {Promise<CorpusApp[]>}
 */
async function findMigrationApps(sitePackages) {
  const apps = [];
  async function walk(dir, moduleParts) {
    const entries = await readdir(dir, { withFileTypes: true });
    const names = new Set(entries.map((entry) => entry.name));
    if (moduleParts.length > 0 && names.has("migrations") && (await isMigrationsPackage(path.join(dir, "migrations")))) {
      apps.push({ module: moduleParts.join("."), dir, migrationsDir: path.join(dir, "migrations") });
    }
    for (const entry of entries) {
      if (!entry.isDirectory() || entry.name === "migrations" || entry.name === "__pycache__") continue;
      if (entry.name === "tests" || entry.name === "test" || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(entry.name)) continue;
      await walk(path.join(dir, entry.name), [...moduleParts, entry.name]);
    }
  }
  await walk(sitePackages, []);
  return apps.sort((a, b) => a.module.localeCompare(b.module));
}

/**
 * A `migrations/` package with at least one numbered migration module. This leaves out Django's
 * own migration framework, `django/db/migrations/`, which has an `__init__.py` but no migrations.
 */
async function isMigrationsPackage(dir) {
  if (!existsSync(path.join(dir, "__init__.py"))) return false;
  const files = await readdir(dir);
  return files.some((file) => /^\d{4}_\w*\.py$/.test(file));
}

async function isNonEmptyFile(file) {
  try {
    const info = await stat(file);
    return info.isFile() && info.size > 0;
  } catch {
    return false;
  }
}

async function requireCommand(command, message) {
  try {
    await run("sh", ["-c", `command -v ${command}`]);
  } catch {
    throw new CorpusError(message);
  }
}

/** Runs a tool; on failure, throws a CorpusError with the tool's last stderr line. */
async function runTool(command, args, options = {}) {
  try {
    return await run(command, args, { maxBuffer: 64 * 1024 * 1024, env: { ...process.env, LC_ALL: "C" }, ...options });
  } catch (error) {
    const stderr = String(error.stderr ?? "")
      .split("\n")
      .map((line) => line.trim())
      .filter((line) => line && !line.startsWith("W:"));
    const detail = stderr.at(-1) ?? error.message;
    throw new CorpusError(`${command} ${args.filter((arg) => !arg.startsWith("APT::")).join(" ")} failed: ${detail}`);
  }
}

function parseArgs(argv) {
  const options = { json: false, cacheDir: undefined };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === "--json") options.json = true;
    else if (arg === "--cache-dir") {
      options.cacheDir = argv[++i];
      if (!options.cacheDir) throw new CorpusError("--cache-dir needs a directory");
    } else if (arg.startsWith("--cache-dir=")) options.cacheDir = arg.slice("--cache-dir=".length);
    else if (arg === "--list-packages") options.listPackages = true;
    else if (arg === "--projects") options.projects = true;
    else if (arg === "--help" || arg === "-h") options.help = true;
    else throw new CorpusError(`unknown argument: ${arg}`);
  }
  return options;
}

async function main() {
  try {
    const options = parseArgs(process.argv.slice(2));
    if (options.help) {
      process.stdout.write("usage: node scripts/debian-corpus.mjs [--cache-dir DIR] [--projects] [--json | --list-packages]\n");
      return 0;
    }
    if (options.listPackages) {
      process.stdout.write(`${CORPUS_PACKAGES.join("\n")}\n`);
      return 0;
    }
    const corpus = await ensureDebianCorpus({
      cacheDir: options.cacheDir,
      projects: options.projects,
      log: (line) => process.stderr.write(`debian-corpus: ${line}\n`),
    });
    // A reader that stops early (`| head`) is not an error.
    process.stdout.on("error", (error) => process.exit(error.code === "EPIPE" ? 0 : 2));
    const output = options.json
      ? `${JSON.stringify(corpus, null, 2)}\n`
      : corpus.packages.map((pkg) => `${pkg.root}\n`).join("");
    process.stdout.write(output);
    return 0;
  } catch (error) {
    process.stderr.write(`debian-corpus: ${error instanceof Error ? error.message : String(error)}\n`);
    return 2;
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  process.exitCode = await main();
}
