/**
 * Shared by the corpus and state-diff tests: the real CLI, the Debian corpus, and Python's own
 * verdict on which migration files are valid.
 */
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { readdir } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
// @ts-ignore -- a plain ESM script without type declarations; the shapes are declared below.
import { ensureDebianCorpus as ensureDebianCorpusUntyped, PROJECT_PACKAGES as PROJECT_PACKAGES_UNTYPED } from "../../scripts/debian-corpus.mjs";

/** The repository root. */
export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");

/** Debian's Python, the one that sees the apt-installed Django. */
export const DEBIAN_PYTHON = "/usr/bin/python3";

/** A Django app with migrations inside an extracted Debian package. */
export interface CorpusApp {
  module: string;
  dir: string;
  migrationsDir: string;
}

/** One extracted Debian package (see scripts/debian-corpus.mjs). */
export interface CorpusPackage {
  name: string;
  version: string;
  root: string;
  sitePackages: string;
  apps: CorpusApp[];
}

/**
 * Downloads (once) and extracts the corpus; see scripts/debian-corpus.mjs. `projects`: also the
 * Django projects Debian ships (PROJECT_PACKAGES), not only its apps.
 */
export async function loadCorpus(options: { projects?: boolean } = {}): Promise<CorpusPackage[]> {
  const corpus = (await ensureDebianCorpusUntyped({ projects: options.projects ?? false })) as { packages: CorpusPackage[] };
  return corpus.packages;
}

/** The Django projects among the corpus packages (scripts/debian-corpus.mjs): each is checked alone. */
export const PROJECT_PACKAGES: ReadonlySet<string> = new Set(PROJECT_PACKAGES_UNTYPED as string[]);

/** What one CLI run produced. */
export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `node bin/rollsafe.cjs ARGS` from the repository root; never throws on an exit code. */
export async function runRollsafe(args: string[]): Promise<CliRun> {
  if (!existsSync(path.join(REPO_ROOT, "dist", "src", "cli.js"))) {
    throw new Error("dist/src/cli.js is missing: build rollsafe first (npx tsc -p tsconfig.json)");
  }
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      [path.join(REPO_ROOT, "bin", "rollsafe.cjs"), ...args],
      { cwd: REPO_ROOT, maxBuffer: 512 * 1024 * 1024, env: { ...process.env, NO_COLOR: "1", FORCE_COLOR: "0" } },
      (error, stdout, stderr) => {
        if (error && typeof error.code !== "number") {
          reject(error);
          return;
        }
        resolve({ code: error ? Number(error.code) : 0, stdout, stderr });
      },
    );
  });
}

/**
 * The migration modules Django's MigrationLoader would load from a `migrations/` package: every
 * `.py` module whose name does not start with `_` or `~` (django/db/migrations/loader.py).
 */
export async function migrationModules(migrationsDir: string): Promise<string[]> {
  const entries = await readdir(migrationsDir, { withFileTypes: true });
  return entries
    .filter((entry) => entry.isFile() && entry.name.endsWith(".py") && !/^[_~]/.test(entry.name))
    .map((entry) => path.join(migrationsDir, entry.name))
    .sort();
}

/**
 * Which files Python itself accepts: compiles each with `compile()` (nothing is executed or
 * written). Returns the set of files that do NOT compile, with Python's message.
 */
export async function pythonSyntaxErrors(files: string[]): Promise<Map<string, string>> {
  const program = [
    "import json, sys",
    "bad = {}",
    "for name in json.load(sys.stdin):",
    "    try:",
    "        with open(name, 'rb') as handle:",
    "            compile(handle.read(), name, 'exec', dont_inherit=True)",
    "    except (SyntaxError, ValueError) as error:",
    "        bad[name] = '%s: %s' % (type(error).__name__, error)",
    "json.dump(bad, sys.stdout)",
  ].join("\n");
  const stdout = await new Promise<string>((resolve, reject) => {
    const child = execFile(DEBIAN_PYTHON, ["-c", program], { maxBuffer: 64 * 1024 * 1024 }, (error, out, err) => {
      if (error) reject(new Error(`${DEBIAN_PYTHON} could not check the corpus: ${err.trim() || error.message}`));
      else resolve(out);
    });
    child.stdin?.end(JSON.stringify(files));
  });
  return new Map(Object.entries(JSON.parse(stdout) as Record<string, string>));
}

/** A line that looks like a JavaScript or Python stack frame. */
export const STACK_TRACE_LINE = /^\s+at .+(:\d+:\d+\)?|\(native\))$|^Traceback \(most recent call last\):$/m;
