/** Runs the real CLI (`bin/rollsafe.cjs`, over the built `dist/`) the way users do. */
import { spawnSync } from "node:child_process";
import { closeSync, openSync, readFileSync } from "node:fs";
import path from "node:path";

export const REPO = path.resolve(import.meta.dirname, "../..");
export const BIN = path.join(REPO, "bin/rollsafe.cjs");

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs `rollsafe <args>` in `cwd` (default: the repository root) with colour off and no CI vars.
 * `stdoutFile`: stdout is that regular file (as `> file` makes it), read back as `stdout`.
 */
export function runCli(args: string[], options: { cwd?: string; env?: Record<string, string | undefined>; input?: string; stdoutFile?: string } = {}): CliRun {
  const env: Record<string, string | undefined> = { ...process.env, NO_COLOR: "1", FORCE_COLOR: undefined, GITHUB_ACTIONS: undefined, ...options.env };
  for (const key of Object.keys(env)) if (env[key] === undefined) delete env[key];
  const fd = options.stdoutFile ? openSync(options.stdoutFile, "w") : null;
  try {
    const result = spawnSync(process.execPath, [BIN, ...args], {
      cwd: options.cwd ?? REPO,
      env: env as NodeJS.ProcessEnv,
      encoding: "utf8",
      input: options.input,
      timeout: 60_000,
      ...(fd !== null ? { stdio: [options.input === undefined ? "ignore" : "pipe", fd, "pipe"] } : {}),
    });
    const stdout = options.stdoutFile ? readFileSync(options.stdoutFile, "utf8") : result.stdout;
    return { code: result.status ?? -1, stdout, stderr: result.stderr };
  } finally {
    if (fd !== null) closeSync(fd);
  }
}
