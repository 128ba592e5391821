/**
 * The SQL of a `RunSQL` is read by the thread that parses the file and cached with its model
 * (`Operation.sqlFacts`): a run whose models all come from the parse cache never loads the
 * PostgreSQL parser, and finds exactly what a run that reads the SQL itself finds.
 */
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it, vi } from "vitest";
import { lint } from "../../src/index.js";
import { modelJson } from "../../src/cache/parse-cache.js";
import { attachSqlFacts, hasRunSql, runSqlFacts, runSqlOperations } from "../../src/engine/sql-facts-for-operation.js";
import type { Operation } from "../../src/model/types.js";
import { parseMigrationSource } from "../../src/parse/parse-migration.js";
import { REPO } from "../support/run-cli.js";

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "rollsafe-sqlfacts-"));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** Every migration file under the fixtures. */
function fixtureMigrations(): string[] {
  return (fs.readdirSync(path.join(REPO, "fixtures"), { recursive: true, encoding: "utf8" }) as string[])
    .filter((f) => /(^|\/)migrations\/[^/]+\.py$/.test(f) && !f.endsWith("__init__.py"))
    .map((f) => path.join(REPO, "fixtures", f));
}

const runSqlOps = (ops: Operation[]): Operation[] => [...runSqlOperations(ops)].filter((op) => !op.unknown);

describe("SQL facts on the model", () => {
  it("are what the replay would read, and JSON gives them back exactly", async () => {
    let checked = 0;
    for (const file of fixtureMigrations()) {
      let source: string;
      try {
        source = fs.readFileSync(file, "utf8");
      } catch {
        continue;
      }
      const migration = parseMigrationSource(source, { path: file, app: "app", name: path.basename(file, ".py") });
      if (!hasRunSql(migration)) continue;
      // The facts the replay reads itself, from a second parse of the same text.
      const lazy = parseMigrationSource(source, { path: file, app: "app", name: path.basename(file, ".py") });
      await attachSqlFacts(migration);
      const ops = runSqlOps(migration.operations);
      const lazyOps = runSqlOps(lazy.operations);
      ops.forEach((op, i) => {
        expect(op.sqlFacts, file).toBeDefined();
        expect(op.sqlFacts, file).toStrictEqual(runSqlFacts(lazyOps[i] as Operation, lazy));
        expect(JSON.parse(JSON.stringify(op.sqlFacts)), file).toStrictEqual(op.sqlFacts);
        checked++;
      });
      const json = modelJson(migration);
      expect(json, `${file}: a model with SQL facts is cacheable`).not.toBeNull();
    }
    expect(checked).toBeGreaterThan(100);
  });
});

describe("SQL facts in the parse cache", () => {
  it("let a run over cached models skip the PostgreSQL parser and find the same", async () => {
    const project = path.join(tmp, "project");
    const gen = spawnSync(process.execPath, [path.join(REPO, "bench/generate-corpus.mjs"), "--out", project, "--apps", "3", "--migrations", "60", "--seed", "5"], { encoding: "utf8" });
    expect(gen.status, gen.stderr).toBe(0);
    // A hand-written app whose RunSQL drops a model's table: a finding that needs the SQL read.
    fs.cpSync(path.join(REPO, "fixtures/rules/runsql-dropping-table/bad/model-table/library"), path.join(project, "library"), { recursive: true });
    const cacheDir = path.join(tmp, "cache");
    // Fresh module instances for each run, as in separate processes: the parser the first test
    // loaded is not loaded for them. Filling, the parser loads at the first RunSQL, while files
    // go on being parsed; the ones parsed before it is ready get their SQL read at the end.
    const fresh = async () => {
      vi.resetModules();
      const index = (await import("../../src/index.js")) as typeof import("../../src/index.js");
      const sql = (await import("../../src/sql/analyze-sql.js")) as typeof import("../../src/sql/analyze-sql.js");
      expect(sql.isSqlParserLoaded()).toBe(false);
      return { lint: index.lint, sql };
    };
    const filling = await fresh();
    const filled = await filling.lint([project], { cwd: project, cacheDir, jobs: 1 });
    expect(filling.sql.isSqlParserLoaded()).toBe(true);
    const shards = (fs.readdirSync(cacheDir, { recursive: true, encoding: "utf8" }) as string[]).filter((f) => f.endsWith(".json"));
    expect(shards.some((f) => fs.readFileSync(path.join(cacheDir, f), "utf8").includes('"sqlFacts":'))).toBe(true);

    const warming = await fresh();
    const warm = await warming.lint([project], { cwd: project, cacheDir, jobs: 1 });
    expect(warming.sql.isSqlParserLoaded(), "every model came from the cache with its SQL read").toBe(false);
    expect(warm.diagnostics.length).toBeGreaterThan(0);
    expect(warm.diagnostics.some((d) => d.rule === "runsql-dropping-table")).toBe(true);
    expect(warm.diagnostics).toEqual(filled.diagnostics);
    const cold = await lint([project], { cwd: project });
    expect(cold.diagnostics).toEqual(filled.diagnostics);
  }, 120_000);
});
