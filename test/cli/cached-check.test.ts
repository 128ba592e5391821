/**
 * The cached check that bin/rollsafe.cjs runs before the CLI (src/cached-check.ts): it reads the
 * command lines it handles exactly as commander does, answers an unchanged tree from the result
 * cache, and leaves everything else (and every problem to report) to the CLI, handing over what
 * it worked out. Nothing here is timed.
 */
import { closeSync, cpSync, existsSync, mkdtempSync, openSync, readFileSync, writeFileSync } from "node:fs";
import { spawnSync } from "node:child_process";
import os from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { Command } from "commander";
import { beforeAll, describe, expect, it } from "vitest";
import { cachedCheck, parseCheckArgv, type PreparedCheck } from "../../src/cached-check.js";
import { main } from "../../src/cli.js";
import { checkCommand, type CheckValues } from "../../src/config/cli-options.js";
import { runFlags } from "../../src/config/resolve-options.js";
import { BIN, REPO, runCli } from "../support/run-cli.js";

/** What commander makes of `rollsafe <args>` with the CLI's own `check` definition, or "error". */
function commanderReads(args: string[]): { paths: string[]; opts: CheckValues } | "error" | "other" {
  const program = new Command().exitOverride().configureOutput({ writeErr: () => undefined, writeOut: () => undefined });
  let read: { paths: string[]; opts: CheckValues } | "other" = "other";
  checkCommand(program).action((paths: string[], opts: CheckValues) => {
    read = { paths, opts: { ...opts } };
  });
  program.command("rules").action(() => undefined);
  try {
    program.parse(["node", "rollsafe", ...args]);
  } catch {
    return "error";
  }
  return read;
}

/** The part of the values a run depends on: what the cached check hands to `resolveRun`, and the output. */
function meaning(read: { paths: string[]; opts: CheckValues }) {
  return { paths: read.paths, format: read.opts.format, output: read.opts.output, flags: runFlags(read.opts) };
}

const TOKENS = [
  ".", "app/migrations/0002_x.py", "-f", "json", "--format", "text", "--format=json", "--format=", "-fjson", "-o", "out.txt",
  "--output=out.txt", "--select", "RS101,dropping-column", "--ignore=RS102", "--database", "mysql", "--postgres-version", "13",
  "--django=4.2", "--fail-on", "warning", "--config", "rollsafe.toml", "--no-config", "--cache-dir", "/tmp/c", "--jobs", "2",
  "--no-cache", "--base", "main", "--diff", "--fix", "--unsafe-fixes", "--timings", "--", "-", "-x", "--unknown", "", "--select=-RS1", "-h", "--version",
];

/** A seeded generator (mulberry32), so a failure names a command line that fails again. */
function random(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe("the command lines the cached check reads", () => {
  it("reads what pre-commit, the GitHub Action and the bench pass", () => {
    const lines = [
      ["check"],
      ["check", "shop/migrations/0007_add_sku.py", "billing/migrations/0003_x.py"],
      ["check", ".", "--format", "json", "--cache-dir", "/tmp/cache"],
      ["check", "--format=sarif", "--output", "report.sarif", "src"],
      ["check", "-f", "github", "--config", "ci/rollsafe.toml", "--fail-on=warning", "."],
      ["check", "--no-config", "--select", "RS101,RS102", "--ignore", "RS103", "--database", "postgresql", "--postgres-version", "16", "--django", "4.2", "--jobs", "1", "."],
    ];
    for (const line of lines) {
      const read = commanderReads(line);
      expect(read, line.join(" ")).not.toBe("error");
      const parsed = parseCheckArgv(["node", "rollsafe", ...line]);
      expect(parsed, line.join(" ")).not.toBeNull();
      expect(meaning(parsed as { paths: string[]; opts: CheckValues }), line.join(" ")).toEqual(meaning(read as { paths: string[]; opts: CheckValues }));
    }
  });

  it("reads every command line it accepts as commander does, and leaves the rest to the CLI", () => {
    const next = random(7);
    let accepted = 0;
    let declined = 0;
    for (let n = 0; n < 4000; n++) {
      const line = ["check", ...Array.from({ length: Math.floor(next() * 7) }, () => TOKENS[Math.floor(next() * TOKENS.length)] as string)];
      const parsed = parseCheckArgv(["node", "rollsafe", ...line]);
      const read = commanderReads(line);
      const label = JSON.stringify(line);
      if (parsed === null) {
        declined++;
        continue;
      }
      accepted++;
      expect(read, label).not.toBe("error");
      const values = read as { paths: string[]; opts: CheckValues };
      expect(meaning(parsed as { paths: string[]; opts: CheckValues }), label).toEqual(meaning(values));
      // Nothing it accepts is an option that changes what a run does beyond its settings.
      for (const key of ["base", "diff", "fix", "unsafeFixes", "timings"] as const) expect(values.opts[key], `${label} ${key}`).toBeUndefined();
      expect(values.opts.cache, label).not.toBe(false);
    }
    // Both kinds are common among the lines, so the comparison is not empty.
    expect(accepted).toBeGreaterThan(400);
    expect(declined).toBeGreaterThan(400);
  });

  it("declines other commands, options before the command and conflicting options", () => {
    for (const line of [["rules"], ["--version"], ["--no-color", "check"], ["check", "--config", "a.toml", "--no-config"], ["check", "--format", "json", "-f", "text"], ["check", "--output"]]) {
      expect(parseCheckArgv(["node", "rollsafe", ...line]), line.join(" ")).toBeNull();
    }
  });
});

describe("a check the result cache answers", () => {
  let project: string;
  let cacheDir: string;
  let cold: string;
  /** The command line, with absolute paths so that the in-process check and the CLI share the key. */
  const line = (output: string, ...extra: string[]) => ["check", project, "--no-config", "--format", "json", "--cache-dir", cacheDir, "--output", output, ...extra];

  beforeAll(async () => {
    const tmp = mkdtempSync(path.join(os.tmpdir(), "rollsafe-cached-check-"));
    project = path.join(tmp, "project");
    cacheDir = path.join(tmp, "cache");
    cpSync(path.join(REPO, "fixtures/example-project"), project, { recursive: true });
    cold = runCli(["check", project, "--no-config", "--format", "json", "--no-cache"]).stdout;
    // Past the racy window, so the next run stores its report.
    await sleep(2100);
    const fill = path.join(tmp, "fill.json");
    expect(runCli(line(fill)).code).toBe(1);
    expect(readFileSync(fill, "utf8")).toBe(cold);
  }, 30_000);

  it("writes the stored report and returns the exit code, without the CLI", async () => {
    // Through the CLI (whose bundle keys the cache by its own files): an --output that cannot be
    // written is one line and exit 2, as without the cache.
    const blocked = runCli(line(path.join(project, "no-such-dir", "report.json")));
    expect(blocked.code).toBe(2);
    expect(blocked.stderr).toMatch(/^rollsafe: cannot write --output .*no-such-dir.*: ENOENT\n$/);
    // In this process (whose modules make another key): the CLI's run stores the report, then the cached check serves it.
    const stored = path.join(path.dirname(project), "stored.json");
    expect(await main(["node", "rollsafe", ...line(stored)])).toBe(1);
    expect(readFileSync(stored, "utf8")).toBe(cold);
    const output = path.join(path.dirname(project), "served.json");
    expect(await cachedCheck(["node", "rollsafe", ...line(output)])).toBe(1);
    expect(readFileSync(output, "utf8")).toBe(cold);
  });

  it("leaves what it cannot read or report to the CLI, writing nothing", async () => {
    const output = path.join(path.dirname(project), "declined.json");
    for (const extra of [["--base", "main"], ["--diff"], [path.join(project, "no-such-app")], ["--fail-on", "sometimes"], ["--select", "no-such-rule"]]) {
      expect(await cachedCheck(["node", "rollsafe", ...line(output), ...extra]), extra.join(" ")).toBeNull();
    }
    const yaml = ["node", "rollsafe", "check", project, "--no-config", "--format", "yaml", "--cache-dir", cacheDir, "--output", output];
    expect(await cachedCheck(yaml)).toBeNull();
    expect(existsSync(output)).toBe(false);
  });

  it("hands a changed tree to the CLI with its settings and the cache's handle, and the CLI's report is a fresh run's", async () => {
    const migration = path.join(project, "library/migrations/0002_book_isbn.py");
    writeFileSync(migration, `${readFileSync(migration, "utf8")}\n# edited\n`);
    const output = path.join(path.dirname(project), "changed.json");
    const argv = ["node", "rollsafe", ...line(output)];
    const prepared = (await cachedCheck(argv)) as PreparedCheck;
    expect(typeof prepared).toBe("object");
    expect(prepared.argv).toBe(argv);
    expect(prepared.found).toEqual([project]);
    // Edited in place: the stored walk holds, so the key was made without walking, and the
    // handle carries the files' stamps for the parse cache instead of a walk.
    expect(prepared.handle).toMatchObject({ walked: null, keyStored: false });
    expect(prepared.handle?.keyText).toContain(migration);
    expect(typeof prepared.handle?.stamps).toBe("function");
    expect(existsSync(output)).toBe(false);
    // Through the CLI: the hand-over gives the report a run without the cache gives.
    const fresh = runCli(["check", project, "--no-config", "--format", "json", "--no-cache"]).stdout;
    expect(runCli(line(output)).code).toBe(1);
    expect(readFileSync(output, "utf8")).toBe(fresh);
    // A new migration changes its directory: the key is made from a walk, handed over with it.
    const added = path.join(project, "library/migrations/0099_empty.py");
    writeFileSync(added, "from django.db import migrations\n\n\nclass Migration(migrations.Migration):\n    dependencies = [(\"library\", \"0006_author_display_name\")]\n    operations = []\n");
    const walked = (await cachedCheck(argv)) as PreparedCheck;
    expect(walked.handle?.walked?.files.some((f) => f.path === added)).toBe(true);
    const freshAgain = runCli(["check", project, "--no-config", "--format", "json", "--no-cache"]).stdout;
    expect(runCli(line(output)).code).toBe(1);
    expect(readFileSync(output, "utf8")).toBe(freshAgain);
  });

  it("says once that a path is missing", () => {
    const missing = runCli([...line(path.join(path.dirname(project), "m.json")), path.join(project, "gone")]);
    expect(missing.code).toBe(2);
    expect(missing.stderr.match(/no such file or directory/g)).toHaveLength(1);
  });
});

describe("colour of a text report the result cache answers", () => {
  let tmp: string;
  let project: string;
  const env = (extra: Record<string, string> = {}) => {
    const vars: NodeJS.ProcessEnv = { ...process.env, GITHUB_ACTIONS: "", CI: "", ...extra };
    delete vars.NO_COLOR;
    delete vars.FORCE_COLOR;
    return vars;
  };
  const args = () => [BIN, "check", project, "--no-config", "--cache-dir", path.join(tmp, "cache")];

  beforeAll(async () => {
    tmp = mkdtempSync(path.join(os.tmpdir(), "rollsafe-colour-"));
    project = path.join(tmp, "project");
    cpSync(path.join(REPO, "fixtures/example-project"), project, { recursive: true });
    await sleep(2100);
  }, 30_000);

  it("is plain to a file, without making node's stream for stdout (or loading node's streams)", () => {
    // Records the modules node loaded, at exit, without asking for process.stderr (which makes a stream).
    const preload = path.join(tmp, "modules.cjs");
    writeFileSync(preload, 'process.on("exit", () => require("node:fs").writeSync(2, "\\nMODULES " + JSON.stringify(process.moduleLoadList)));\n');
    const run = () => {
      const file = path.join(tmp, "report.txt");
      const fd = openSync(file, "w");
      try {
        const result = spawnSync(process.execPath, ["-r", preload, ...args()], { env: env(), encoding: "utf8", stdio: ["ignore", fd, "pipe"] });
        return { code: result.status, report: readFileSync(file, "utf8"), modules: JSON.parse(result.stderr.slice(result.stderr.indexOf("MODULES ") + 8)) as string[] };
      } finally {
        closeSync(fd);
      }
    };
    const first = run();
    const warm = run();
    expect(warm.code).toBe(1);
    expect(warm.report).toBe(first.report);
    expect(warm.report).not.toContain("\u001b[");
    expect(warm.report).toBe(runCli(["check", project, "--no-config", "--no-cache"]).stdout);
    // The run the cache answered: no CLI, and no stream for stdout.
    expect(warm.modules.some((m) => m.includes("cli.cjs"))).toBe(false);
    expect(warm.modules.filter((m) => /^NativeModule (stream|internal\/fs\/sync_write_stream|tty)$/.test(m))).toEqual([]);
  });

  it.skipIf(!existsSync("/usr/bin/script"))("is coloured on a terminal, as without the cache", () => {
    // util-linux's script(1) gives the run a pseudo-terminal for stdout.
    const command = [process.execPath, ...args()].map((a) => `'${a.replace(/'/g, "'\\''")}'`).join(" ");
    const onTerminal = () => spawnSync("/usr/bin/script", ["-qec", command, "/dev/null"], { env: env({ TERM: "xterm-256color" }), encoding: "utf8" }).stdout;
    const filled = onTerminal();
    const warm = onTerminal();
    expect(warm).toContain("\u001b[");
    expect(warm).toBe(filled);
  });
});
