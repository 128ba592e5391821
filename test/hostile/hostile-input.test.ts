/**
 * Hostile filesystem and command-line input, through the real CLI: each gives one clear line and
 * the right exit code, and the rest of the run goes on.
 */
import { spawnSync } from "node:child_process";
import { chmodSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { describe, expect, it } from "vitest";
import { BIN, REPO, runCli } from "../support/run-cli.js";

const STACK = /\n\s+at /;
const LIBRARY = path.join(REPO, "fixtures/example-project/library");

/** A temp project holding a copy of the example project's `library` app (4 errors). */
function project(): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), "rollsafe-hostile-"));
  cpSync(LIBRARY, path.join(dir, "library"), { recursive: true });
  return dir;
}

function json(stdout: string): { diagnostics: { rule: string; file: string; message: string; line: number }[]; summary: { migrations: number; errors: number } } {
  return JSON.parse(stdout);
}

function noStack(run: { stdout: string; stderr: string }): void {
  expect(run.stderr).not.toMatch(STACK);
  expect(run.stdout).not.toMatch(STACK);
}

describe("hostile filesystem input", () => {
  it("a path that does not exist: one stderr line, exit 2, the other paths are still checked", () => {
    const dir = project();
    const run = runCli(["check", "no/such/place", "library", "--format", "json", "--no-cache"], { cwd: dir });
    expect(run.code).toBe(2);
    expect(run.stderr).toBe("rollsafe: no/such/place: no such file or directory\n");
    expect(json(run.stdout).summary.migrations).toBe(6);
    expect(json(run.stdout).summary.errors).toBe(4);
  });

  it("a file that cannot be read (permissions): one io-error, the rest is checked", () => {
    const dir = project();
    const file = path.join(dir, "library/migrations/0007_secret.py");
    writeFileSync(file, readFileSync(path.join(LIBRARY, "migrations/0006_author_display_name.py")));
    chmodSync(file, 0o000);
    const args = ["check", "library", "--format", "json", "--no-cache"];
    let run;
    if (process.getuid?.() === 0) {
      // Root reads a mode-000 file anyway, so as root this runs the CLI as `nobody`, for whom the
      // permission bits do apply. It proves the EACCES path; it needs runuser (util-linux).
      expect(existsSync("/usr/sbin/runuser") || existsSync("/sbin/runuser"), "runuser is needed to drop root for this test").toBe(true);
      chmodSync(dir, 0o755);
      const result = spawnSync("runuser", ["-u", "nobody", "--", process.execPath, BIN, ...args], { cwd: dir, encoding: "utf8", env: { ...process.env, NO_COLOR: "1", HOME: "/tmp" } });
      run = { code: result.status ?? -1, stdout: result.stdout, stderr: result.stderr };
    } else {
      run = runCli(args, { cwd: dir });
    }
    noStack(run);
    expect(run.code).toBe(1);
    const doc = json(run.stdout);
    const io = doc.diagnostics.filter((d) => d.rule === "io-error");
    expect(io).toEqual([expect.objectContaining({ file: "library/migrations/0007_secret.py", message: "cannot read the file: permission denied" })]);
    expect(doc.summary.errors).toBe(5);
  });

  it("a dangling symlink named like a migration: one io-error, the rest is checked", () => {
    const dir = project();
    symlinkSync("/nonexistent/rollsafe-target.py", path.join(dir, "library/migrations/0007_gone.py"));
    const run = runCli(["check", "library", "--format", "json", "--no-cache"], { cwd: dir });
    noStack(run);
    expect(run.code).toBe(1);
    const io = json(run.stdout).diagnostics.filter((d) => d.rule === "io-error");
    expect(io.map((d) => [d.file, d.message])).toEqual([["library/migrations/0007_gone.py", "cannot read the file: it does not exist (a dangling symlink?)"]]);
  });

  it("a symlink loop inside the scanned tree: one line per link, the walk terminates", () => {
    const dir = project();
    symlinkSync("0007_b.py", path.join(dir, "library/migrations/0007_a.py"));
    symlinkSync("0007_a.py", path.join(dir, "library/migrations/0007_b.py"));
    // A directory loop too: library/up -> .. (the walk must not descend forever).
    symlinkSync("..", path.join(dir, "library/up"));
    const run = runCli(["check", ".", "--format", "json", "--no-cache"], { cwd: dir });
    noStack(run);
    expect(run.code).toBe(1);
    const doc = json(run.stdout);
    const io = doc.diagnostics.filter((d) => d.rule === "io-error").map((d) => `${d.file}: ${d.message}`);
    expect(io).toEqual(["library/migrations/0007_a.py: cannot read the file: symlink loop", "library/migrations/0007_b.py: cannot read the file: symlink loop"]);
    expect(doc.summary.migrations).toBe(6);
  });

  it("a symlink loop given as the argument: one io-error line", () => {
    const dir = project();
    symlinkSync("0007_b.py", path.join(dir, "library/migrations/0007_a.py"));
    symlinkSync("0007_a.py", path.join(dir, "library/migrations/0007_b.py"));
    const run = runCli(["check", "library/migrations/0007_a.py", "--no-cache"], { cwd: dir });
    noStack(run);
    expect(run.code).toBe(1);
    expect(run.stdout).toContain("error[RS002 io-error]: library/migrations/0007_a.py: too many levels of symbolic links (a symlink loop)");
  });

  it("a directory named x.py inside migrations/ is skipped like Django does; named as an argument it is one line", () => {
    const dir = project();
    mkdirSync(path.join(dir, "library/migrations/0007_x.py"));
    const walk = runCli(["check", "library", "--format", "json", "--no-cache"], { cwd: dir });
    noStack(walk);
    expect(walk.code).toBe(1);
    expect(json(walk.stdout).summary.migrations).toBe(6);
    const direct = runCli(["check", "library/migrations/0007_x.py", "library/migrations/0002_book_isbn.py", "--format", "json", "--no-cache"], { cwd: dir });
    noStack(direct);
    expect(direct.code).toBe(1);
    const doc = json(direct.stdout);
    expect(doc.diagnostics.filter((d) => d.rule === "io-error").map((d) => d.message)).toEqual(["library/migrations/0007_x.py: is a directory, not a migration file; skipped"]);
    expect(doc.diagnostics.some((d) => d.rule === "adding-not-nullable-column")).toBe(true);
  });

  it("paths with spaces and non-ASCII names are reported as they are, in every format", () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), "rollsafe hostile é-"));
    const app = path.join(dir, "my app ünïcødé");
    cpSync(LIBRARY, app, { recursive: true });
    const run = runCli(["check", ".", "--format", "json", "--no-cache"], { cwd: dir });
    noStack(run);
    expect(run.code).toBe(1);
    const files = [...new Set(json(run.stdout).diagnostics.map((d) => d.file))];
    expect(files.every((f) => f.startsWith("my app ünïcødé/migrations/"))).toBe(true);
    const github = runCli(["check", ".", "--format", "github", "--no-cache"], { cwd: dir });
    // Findings are annotations on the files; a note of the run (the Django version its headers give) is a notice.
    expect(github.stdout.split("\n").filter(Boolean).every((l) => /^::(error|warning) file=my app ünïcødé\/migrations\//.test(l) || l.startsWith("::notice title=rollsafe::"))).toBe(true);
    const text = runCli(["check", "my app ünïcødé", "--no-cache"], { cwd: dir });
    expect(text.stdout).toContain("--> my app ünïcødé/migrations/0002_book_isbn.py:13:9");
  });
});

describe("hostile Python", () => {
  /** A migration whose last statement sits at indentation level `levels` (the class body is level 1). */
  const indented = (levels: number, tabs = false) => {
    const indent = (level: number) => (tabs ? "\t".repeat(level) : " ".repeat(level <= 2 ? 4 * level : 8 + (level - 2)));
    return [
      "from django.db import migrations",
      "",
      "class Migration(migrations.Migration):",
      `${indent(1)}def __init__(self, *args, **kwargs):`,
      `${indent(2)}super().__init__(*args, **kwargs)`,
      ...Array.from({ length: levels - 2 }, (_, i) => `${indent(i + 2)}if args:`),
      `${indent(levels)}self.dependencies.append(("library", "0001_initial"))`,
      `${indent(1)}operations = []`,
      "",
    ].join("\n");
  };

  it("indentation CPython refuses is one parse error, without running tree-sitter's scanner into its abort", () => {
    // From about 500 levels, tree-sitter-python's scanner failed an assertion that killed the
    // process (no report at all). CPython refuses a 100th level (line 104 here, as compile() says).
    const dir = project();
    writeFileSync(path.join(dir, "library/migrations/0099_deep.py"), indented(600));
    writeFileSync(path.join(dir, "library/apps.py"), `from django.apps import AppConfig\n\nclass LibraryConfig(AppConfig):\n${Array.from({ length: 600 }, (_, i) => `${" ".repeat(i + 4)}if x:`).join("\n")}\n${" ".repeat(604)}label = "books"\n`);
    const run = runCli(["check", ".", "--no-cache", "--format", "json"], { cwd: dir });
    noStack(run);
    expect(run.code).toBe(1);
    const deep = json(run.stdout).diagnostics.filter((d) => d.file === "library/migrations/0099_deep.py");
    expect(deep.map((d) => `${d.rule}:${d.line} ${d.message}`)).toEqual([
      "parse-error:104 Syntax error: too many levels of indentation (CPython allows 99); this file is not valid Python.",
    ]);
  });

  it("99 levels, tabs, and lines inside brackets or strings are counted as CPython counts them", () => {
    const dir = project();
    // 99 levels: CPython compiles it.
    writeFileSync(path.join(dir, "library/migrations/0099_deep.py"), indented(99));
    // Tabs advance to the next multiple of 8: 100 tab-indented levels are refused too.
    writeFileSync(path.join(dir, "library/migrations/0100_tabs.py"), indented(100, true));
    // 150 ever deeper lines inside brackets and a string are continuation lines, not levels.
    const staircase = Array.from({ length: 150 }, (_, i) => `${" ".repeat(i + 8)}${i},`).join("\n");
    writeFileSync(
      path.join(dir, "library/migrations/0101_staircase.py"),
      `from django.db import migrations\n\nNUMBERS = [\n${staircase}\n]\nTEXT = """\n${staircase}\n"""\n\nclass Migration(migrations.Migration):\n    dependencies = [("library", "0001_initial")]\n    operations = []\n`,
    );
    const run = runCli(["check", ".", "--no-cache", "--format", "json"], { cwd: dir });
    noStack(run);
    const parseErrors = json(run.stdout).diagnostics.filter((d) => d.rule === "parse-error");
    expect(parseErrors.map((d) => `${d.file}:${d.line}`)).toEqual(["library/migrations/0100_tabs.py:104"]);
  });

  it("module constants that double each other are read in bounded time and memory, with and without a cache", () => {
    // Each read of a constant used to read its definition again: 2^59 reads (a hang), and the
    // strings, lists and operation lists they joined would not have fit in memory either.
    const dir = project();
    const chain = (name: string, first: string, next: (previous: string) => string) => [
      `${name}0 = ${first}`,
      ...Array.from({ length: 59 }, (_, i) => `${name}${i + 1} = ${next(`${name}${i}`)}`),
    ];
    const lines = [
      "from django.db import migrations",
      "",
      ...chain("S", "'SELECT 1;'", (p) => `${p} + ${p}`),
      ...chain("L", '[("library", "0001_initial")]', (p) => `${p} + ${p}`),
      ...chain("N", "['x']", (p) => `[${p}, ${p}, ${p}]`),
      ...chain("O", "[migrations.RunSQL('SELECT 1', migrations.RunSQL.noop)]", (p) => `${p} + ${p}`),
      "",
      "class Migration(migrations.Migration):",
      "    dependencies = L59",
      "    operations = [",
      "        migrations.RunSQL(S59, migrations.RunSQL.noop),",
      "        migrations.RunSQL(N59, migrations.RunSQL.noop),",
      "    ]",
      "",
      "class Other:",
      "    operations = O59",
      "",
    ];
    writeFileSync(path.join(dir, "library/migrations/0099_doubling.py"), lines.join("\n"));
    writeFileSync(path.join(dir, "library/migrations/0100_doubling_operations.py"), lines.join("\n").replace("class Other:\n    operations = O59", "").replace("    operations = [", "    operations = O59 + ["));
    for (const cache of [["--no-cache"], ["--cache-dir", path.join(dir, "cache")]]) {
      // A hang is killed by the timeout: no status then.
      const run = spawnSync(process.execPath, [BIN, "check", ".", "--format", "json", ...cache], { cwd: dir, encoding: "utf8", timeout: 60_000, env: { ...process.env, NO_COLOR: "1" } });
      noStack(run);
      expect(run.status, run.stderr).toBe(1);
      const findings = json(run.stdout).diagnostics.filter((d) => d.file.includes("doubling"));
      const seen = findings.map((d) => `${d.file}:${d.line} ${d.rule}`);
      // The 4 MiB cap on a joined string: S59 is not read as SQL.
      expect(seen).toContain("library/migrations/0099_doubling.py:247 runsql-unverifiable");
      expect(seen).toContain("library/migrations/0100_doubling_operations.py:246 unknown-operation");
      expect(findings.find((d) => d.file.endsWith("0100_doubling_operations.py") && d.rule === "unknown-operation")?.message).toContain("joins more than 10000 lists");
      expect(findings.map((d) => d.rule)).not.toContain("internal-error");
    }
  });
});

describe("hostile nesting and expansion", () => {
  it("a `+` chain of 5,000 lists is read without recursion; an expression nested too deep to read is one parse error, and the run goes on", () => {
    // Both are thousands of levels deep (CPython's compiler refuses them with a RecursionError);
    // the second used to end the whole run with "internal error: Maximum call stack size exceeded".
    const dir = project();
    const lists = Array.from({ length: 5000 }, () => "[migrations.RunSQL('SELECT 1', migrations.RunSQL.noop)]").join(" + ");
    writeFileSync(path.join(dir, "library/migrations/0099_chain.py"), `from django.db import migrations\n\nclass Migration(migrations.Migration):\n    dependencies = [("library", "0006_author_display_name")]\n    operations = ${lists}\n`);
    writeFileSync(
      path.join(dir, "library/migrations/0100_deep.py"),
      `from django.db import migrations\n\nX = ${Array.from({ length: 20000 }, () => "a").join(".")}\n\nclass Migration(migrations.Migration):\n    operations = [migrations.RunSQL(X)]\n`,
    );
    for (const cache of [["--no-cache"], ["--jobs", "1", "--no-cache"]]) {
      const run = runCli(["check", ".", "--format", "json", ...cache], { cwd: dir });
      noStack(run);
      expect(run.code).toBe(1);
      const report = json(run.stdout);
      expect(report.diagnostics.filter((d) => d.file.endsWith("0100_deep.py")).map((d) => `${d.rule}:${d.line} ${d.message}`)).toEqual([
        "parse-error:1 cannot read: its code nests too deeply to be read (CPython's compiler stops too, with a RecursionError, a few thousand levels deep)",
      ]);
      expect(report.diagnostics.filter((d) => d.file.endsWith("0099_chain.py")).map((d) => d.rule)).toEqual([]);
      // The example project's own findings are all still there.
      expect(report.diagnostics.filter((d) => d.rule === "internal-error")).toEqual([]);
      expect(report.summary.errors).toBeGreaterThanOrEqual(5);
    }
  });

  it("list comprehensions joined by the thousand make operations within the module's reading budget", () => {
    const dir = project();
    const items = Array.from({ length: 1000 }, (_, i) => i).join(", ");
    const comprehensions = Array.from({ length: 9999 }, () => "[migrations.RunSQL('SELECT 1', migrations.RunSQL.noop) for x in L]").join(" + ");
    writeFileSync(path.join(dir, "library/migrations/0099_many.py"), `from django.db import migrations\n\nL = [${items}]\n\nclass Migration(migrations.Migration):\n    dependencies = [("library", "0001_initial")]\n    operations = ${comprehensions}\n`);
    // A hang is killed by the timeout: no status then.
    const run = spawnSync(process.execPath, [BIN, "check", ".", "--format", "json", "--no-cache"], { cwd: dir, encoding: "utf8", timeout: 60_000, maxBuffer: 256 * 1024 * 1024, env: { ...process.env, NO_COLOR: "1" } });
    noStack(run);
    expect(run.status, run.stderr).toBe(1);
    const unknown = json(run.stdout).diagnostics.filter((d) => d.file.endsWith("0099_many.py") && d.rule === "unknown-operation");
    // 9,999 × 1,000 operations would be ten million: past the budget, each comprehension is one unknown operation.
    expect(unknown.length).toBeGreaterThan(9000);
    expect(unknown[0]?.message).toBe("Cannot verify this operation: operations made by a list comprehension in a module that makes more operations than rollsafe reads.");
  });
});

describe("hostile configuration and flags", () => {
  it("a malformed pyproject.toml with a [tool.rollsafe] table: one line with its location, exit 2", () => {
    const dir = project();
    writeFileSync(path.join(dir, "pyproject.toml"), '[tool.rollsafe]\nselect = ["RS101",\n');
    const run = runCli(["check", "library"], { cwd: dir });
    noStack(run);
    expect(run.code).toBe(2);
    expect(run.stdout).toBe("");
    expect(run.stderr.split("\n").filter(Boolean)).toHaveLength(1);
    expect(run.stderr).toMatch(/^rollsafe: pyproject\.toml:\d+:\d+: invalid TOML/);
  });

  it("a pyproject.toml whose rollsafe values have the wrong type: one line, exit 2", () => {
    const dir = project();
    writeFileSync(path.join(dir, "pyproject.toml"), "[tool.rollsafe]\nselect = 5\n");
    const run = runCli(["check", "library"], { cwd: dir });
    expect(run.code).toBe(2);
    expect(run.stderr).toBe("rollsafe: pyproject.toml: `tool.rollsafe.select` must be an array of strings, not 5\n");
  });

  it("--config naming a malformed or missing file: one line, exit 2", () => {
    const dir = project();
    writeFileSync(path.join(dir, "bad.toml"), "select = [\x00]\n");
    const bad = runCli(["check", "library", "--config", "bad.toml"], { cwd: dir });
    noStack(bad);
    expect(bad.code).toBe(2);
    expect(bad.stderr.split("\n").filter(Boolean)).toHaveLength(1);
    const missing = runCli(["check", "library", "--config", "nope.toml"], { cwd: dir });
    noStack(missing);
    expect(missing.code).toBe(2);
    expect(missing.stderr.split("\n").filter(Boolean)).toHaveLength(1);
    expect(missing.stderr).toContain("nope.toml");
  });

  it("an unknown rule in --select: one line, exit 2, nothing on stdout", () => {
    const run = runCli(["check", "fixtures/example-project", "--select", "RS101,no-such-rule"]);
    expect(run.code).toBe(2);
    expect(run.stdout).toBe("");
    expect(run.stderr).toBe("rollsafe: --select: unknown rule `no-such-rule` (`rollsafe rules` lists them)\n");
  });

  it("conflicting flags: one line, exit 2, and no file is touched", () => {
    const both = runCli(["check", "fixtures/example-project", "--select", "RS101", "--ignore", "dropping-column"]);
    expect(both.code).toBe(2);
    expect(both.stderr).toBe("rollsafe: --select and --ignore both name `dropping-column`\n");

    const dir = project();
    const before = snapshotTree(dir);
    const fixDiff = runCli(["check", "library", "--fix", "--diff", "--no-cache"], { cwd: dir });
    expect(fixDiff.code).toBe(2);
    expect(fixDiff.stderr).toBe("rollsafe: --fix and --diff cannot be used together (--diff shows the fixes without applying them)\n");
    expect(snapshotTree(dir)).toEqual(before);

    // One option underneath: whichever came last used to win silently.
    for (const args of [["--config", "rollsafe.toml", "--no-config"], ["--no-config", "--config=rollsafe.toml"]]) {
      const run = runCli(["check", "fixtures/example-project", ...args]);
      expect(run.code, args.join(" ")).toBe(2);
      expect(run.stderr).toBe("rollsafe: --config and --no-config cannot be used together\n");
    }
    // A path that merely looks like the flag, after `--`, is a path.
    expect(runCli(["check", "--no-config", "--", "--config"]).stderr).not.toContain("cannot be used together");
  });

  it("bad values for numeric and enumerated flags: one line each, exit 2", () => {
    for (const args of [["--jobs", "0"], ["--jobs", "many"], ["--fail-on", "bogus"], ["--format", "xml"]]) {
      const run = runCli(["check", "fixtures/example-project", ...args]);
      expect(run.code, args.join(" ")).toBe(2);
      expect(run.stdout, args.join(" ")).toBe("");
      expect(run.stderr.split("\n").filter(Boolean), args.join(" ")).toHaveLength(1);
      noStack(run);
    }
  });

  it("a closed stdout (rollsafe ... | head) ends quietly, without a stack trace", () => {
    const result = spawnSync("sh", ["-c", `"${process.execPath}" "${BIN}" check fixtures/example-project --no-cache | head -c 10 >/dev/null; "${process.execPath}" "${BIN}" rules | head -n 1 >/dev/null`], {
      cwd: REPO,
      encoding: "utf8",
      env: { ...process.env, NO_COLOR: "1" },
    });
    expect(result.stderr).not.toMatch(STACK);
    expect(result.stderr).not.toContain("EPIPE");
  });

  it("a report served from the result cache into a closed pipe ends quietly too, larger than the pipe's buffer", async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), "rollsafe-epipe-"));
    const project = path.join(dir, "project");
    cpSync(path.join(REPO, "fixtures/example-project"), project, { recursive: true });
    // Files changed (ctime included) in the last two seconds make a run racy, and a racy run is not stored.
    await sleep(2_100);
    const args = `check "${project}" --no-config --format sarif --cache-dir "${path.join(dir, "cache")}"`;
    const stored = spawnSync(process.execPath, [BIN, "check", project, "--no-config", "--format", "sarif", "--cache-dir", path.join(dir, "cache")], { encoding: "utf8", maxBuffer: 16 << 20 });
    expect(stored.stdout.length).toBeGreaterThan(128 * 1024);
    expect(readdirSync(path.join(dir, "cache"), { recursive: true, encoding: "utf8" }).some((f) => f.split(path.sep).includes("results"))).toBe(true);
    const result = spawnSync("bash", ["-c", `"${process.execPath}" "${BIN}" ${args} | head -c 10 >/dev/null; echo "status \${PIPESTATUS[0]}" >&2`], {
      encoding: "utf8",
      env: { ...process.env, NO_COLOR: "1" },
    });
    expect(result.stderr).toMatch(/^status [01]\n$/);
    rmSync(dir, { recursive: true, force: true });
  });
});

describe("output does not depend on file order or worker count", () => {
  const EXAMPLE = path.join(REPO, "fixtures/example-project");
  const FILES: string[] = [];
  const collect = (d: string) => {
    for (const entry of readdirSync(d, { withFileTypes: true })) {
      const full = path.join(d, entry.name);
      if (entry.isDirectory()) collect(full);
      else FILES.push(path.relative(EXAMPLE, full));
    }
  };
  collect(EXAMPLE);
  FILES.sort();

  /** Copies the example project file by file in the given order (directory order follows creation on most filesystems). */
  function build(order: string[]): string {
    const dir = mkdtempSync(path.join(os.tmpdir(), "rollsafe-order-"));
    for (const rel of order) {
      mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
      writeFileSync(path.join(dir, rel), readFileSync(path.join(EXAMPLE, rel)));
    }
    return dir;
  }

  it("gives byte-identical reports for shuffled creation orders and any --jobs", () => {
    // A fixed shuffle (every third file first), the reverse order, and the sorted order.
    const shuffledOrder = [...FILES.filter((_, i) => i % 3 === 2), ...FILES.filter((_, i) => i % 3 === 0).reverse(), ...FILES.filter((_, i) => i % 3 === 1)];
    const trees = [build(FILES), build([...FILES].reverse()), build(shuffledOrder)];
    for (const format of ["json", "text", "sarif", "junit", "github"]) {
      const outputs = [
        runCli(["check", ".", "--format", format, "--no-cache", "--jobs", "1"], { cwd: trees[0] }),
        runCli(["check", ".", "--format", format, "--no-cache", "--jobs", "4"], { cwd: trees[1] }),
        runCli(["check", ".", "--format", format, "--no-cache", "--jobs", "2"], { cwd: trees[2] }),
        runCli(["check", ".", "--format", format, "--jobs", "3"], { cwd: trees[2] }),
      ];
      for (const run of outputs) expect(run.code, format).toBe(1);
      expect(outputs[0]!.stdout.length).toBeGreaterThan(100);
      for (const run of outputs.slice(1)) expect(run.stdout, format).toBe(outputs[0]!.stdout);
    }
  });
});

function snapshotTree(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string) => {
    for (const entry of readdirSync(d, { withFileTypes: true })) {
      const full = path.join(d, entry.name);
      if (entry.isDirectory()) walk(full);
      else out[path.relative(dir, full)] = readFileSync(full, "base64");
    }
  };
  walk(dir);
  return out;
}
