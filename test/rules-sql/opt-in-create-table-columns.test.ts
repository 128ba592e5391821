/**
 * The `tableColumns` fact of CREATE TABLE, which the opt-in column-type rules
 * (`runsql-adding-json-column`, `runsql-using-discouraged-column-type`) read.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { analyzeSql, loadSqlParser, type SqlStatementFact } from "../../src/sql/analyze-sql.js";

beforeAll(async () => {
  await loadSqlParser();
});

function only(sql: string): SqlStatementFact {
  const result = analyzeSql(sql);
  if (!result.ok) throw new Error(result.error);
  expect(result.statements).toHaveLength(1);
  return result.statements[0] as SqlStatementFact;
}

describe("CREATE TABLE columns", () => {
  it("lists each column with its catalog type, serial, identity and primary key", () => {
    const fact = only(
      "CREATE TABLE t (id serial PRIMARY KEY, code character(8), due timestamp without time zone, seen timestamptz, doc json, n bigint GENERATED ALWAYS AS IDENTITY, flag \"char\")",
    );
    expect(fact.kind).toBe("create-table");
    expect(fact.tableColumns.map((c) => [c.name, c.dataType?.name, c.serial, c.identity, c.primaryKey])).toEqual([
      ["id", "serial", true, false, true],
      ["code", "bpchar", false, false, false],
      ["due", "timestamp", false, false, false],
      ["seen", "timestamptz", false, false, false],
      ["doc", "json", false, false, false],
      ["n", "int8", false, true, false],
      ["flag", "char", false, false, false],
    ]);
    expect(fact.tableColumns[1]?.dataType?.modifiers).toEqual([8]);
  });

  it("folds a table-level PRIMARY KEY into its columns", () => {
    const fact = only("CREATE TABLE t (a integer, b integer, c text, PRIMARY KEY (a, b))");
    expect(fact.tableColumns.map((c) => [c.name, c.primaryKey])).toEqual([
      ["a", true],
      ["b", true],
      ["c", false],
    ]);
  });

  it("is empty for other statements and for CREATE TABLE AS", () => {
    expect(only("ALTER TABLE t ADD COLUMN x json").tableColumns).toEqual([]);
    expect(only("CREATE TABLE t AS SELECT 1 AS x").tableColumns).toEqual([]);
  });
});
