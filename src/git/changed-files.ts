/**
 * Changed-only mode (`--base REF`): the files a branch adds or modifies since it left `REF`.
 *
 * The comparison point is the merge-base of HEAD and REF (what a pull request shows), and the
 * other side is the working tree: committed changes, staged and unstaged edits, and untracked
 * files that git does not ignore. In CI the checkout is clean, so this is exactly the committed
 * change set; locally it also shows a migration `makemigrations` has just written. Renames and
 * copies are followed (`-M`/`-C`): a renamed migration is a new module name to Django, so it is
 * reported under its new path. Deleted files have nothing to report.
 */
import { realpathSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";

// node:child_process (with node:net and node:dgram behind it) is loaded when git runs: 5-8 ms of
// the start-up of every run without --base.
const require = createRequire(import.meta.url);

/** A git problem the user can fix: printed as one line, exit 2. */
export class GitError extends Error {}

interface GitResult {
  stdout: string;
  stderr: string;
  code: number;
}

function git(args: string[], cwd: string): Promise<GitResult> {
  const { execFile } = require("node:child_process") as typeof import("node:child_process");
  return new Promise((resolve, reject) => {
    execFile("git", args, { cwd, maxBuffer: 256 * 1024 * 1024, encoding: "utf8", env: { ...process.env, GIT_OPTIONAL_LOCKS: "0", LC_ALL: "C" } }, (error, stdout, stderr) => {
      if (error && (error as NodeJS.ErrnoException).code === "ENOENT") {
        reject(new GitError("--base needs git, and no `git` executable was found on PATH"));
        return;
      }
      const code = error ? (typeof error.code === "number" ? error.code : 1) : 0;
      resolve({ stdout, stderr, code });
    });
  });
}

function firstLine(text: string): string {
  return text.trim().split("\n")[0]?.replace(/^(fatal|error): /, "") ?? "";
}

/** What changed on this branch: absolute real paths, and the merge-base commit. */
export interface ChangedFiles {
  mergeBase: string;
  /** The repository's top-level directory (real path). */
  root: string;
  /** Absolute real paths of added, modified, renamed, copied or untracked files. */
  files: Set<string>;
}

/** Splits `git diff --name-status -z` output into the paths on the new side. */
export function parseNameStatus(output: string): string[] {
  const fields = output.split("\0");
  const paths: string[] = [];
  for (let i = 0; i < fields.length; ) {
    const status = fields[i++];
    if (!status) continue;
    const kind = status[0];
    if (kind === "R" || kind === "C") {
      i++; // the old path
      const next = fields[i++];
      if (next) paths.push(next);
    } else {
      const file = fields[i++];
      if (file && kind !== "D") paths.push(file);
    }
  }
  return paths;
}

/** Lists the files changed since the merge-base of HEAD and `base`, as seen from `cwd`. */
export async function changedSince(base: string, cwd: string): Promise<ChangedFiles> {
  const top = await git(["rev-parse", "--show-toplevel"], cwd);
  if (top.code !== 0) throw new GitError(`--base needs a git repository, and ${cwd} is not inside one`);
  const root = realpathSync(top.stdout.trim());
  if (base.startsWith("-")) throw new GitError(`unknown git ref \`${base}\` for --base`);
  const ref = await git(["rev-parse", "--verify", "--quiet", "--end-of-options", `${base}^{commit}`], cwd);
  if (ref.code !== 0) {
    throw new GitError(`unknown git ref \`${base}\` for --base (in a shallow CI checkout, fetch it first, e.g. \`git fetch origin ${base}\` or \`fetch-depth: 0\`)`);
  }
  const head = await git(["rev-parse", "--verify", "--quiet", "HEAD^{commit}"], cwd);
  let mergeBase: string;
  if (head.code !== 0) {
    throw new GitError("--base needs at least one commit on the current branch (HEAD does not point to a commit)");
  } else {
    const mb = await git(["merge-base", ref.stdout.trim(), "HEAD"], cwd);
    if (mb.code !== 0) {
      throw new GitError(`HEAD and \`${base}\` have no common ancestor (in a shallow clone, fetch more history, e.g. \`fetch-depth: 0\`)${mb.stderr.trim() ? `: ${firstLine(mb.stderr)}` : ""}`);
    }
    mergeBase = mb.stdout.trim();
  }
  // Against the working tree: committed, staged and unstaged changes together.
  const diff = await git(["-c", "core.quotepath=off", "diff", "--name-status", "-z", "-M", "-C", "--no-ext-diff", "--no-textconv", mergeBase, "--"], root);
  if (diff.code !== 0) throw new GitError(`git diff failed: ${firstLine(diff.stderr)}`);
  const untracked = await git(["ls-files", "-z", "--others", "--exclude-standard"], root);
  if (untracked.code !== 0) throw new GitError(`git ls-files failed: ${firstLine(untracked.stderr)}`);
  const files = new Set<string>();
  for (const rel of [...parseNameStatus(diff.stdout), ...untracked.stdout.split("\0").filter(Boolean)]) files.add(path.join(root, rel));
  return { mergeBase, root, files };
}

/**
 * A `reportFilter` for `lint()` accepting the changed files. Paths are compared after resolving
 * symlinks, because git reports paths under the real top-level directory.
 */
export function changedFilter(changed: ChangedFiles): (absPath: string) => boolean {
  return (absPath) => {
    if (changed.files.has(absPath)) return true;
    try {
      return changed.files.has(realpathSync(absPath));
    } catch {
      return false;
    }
  };
}
